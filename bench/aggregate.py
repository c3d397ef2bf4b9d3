#!/usr/bin/env python3
"""Gathers every host's benchmark results into one table in BENCHMARKS.md (run by scripts/bench).

    python3 bench/aggregate.py --dir target/bench --since EPOCH --command "scripts/bench" [--quick]

Reads, from --dir: python.json (bindings-python/bench/bench.py --json), node.json
(bindings-node/bench/bench.mjs --json), wasm.json (bindings-wasm/bench/bench.mjs --json),
client.json (bench/client-overhead.mjs --json), meta.json (written by scripts/bench: load
average at the start, time taken), and each host's printed output (*.txt); and criterion's
target/criterion/*/new/{benchmark,estimates}.json written since --since (so a stale result of an
earlier run is never shown as this run's). A missing input leaves its cells as "not run".

Writes the table, the date, machine, tool versions and the exact command between
``<!-- bench:begin -->`` and ``<!-- bench:end -->`` in --out (BENCHMARKS.md), creating the file
with a short intro when it does not exist, and prints the table. A missed goal is marked, never
an error: benchmarks print numbers, tests check behaviour.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import re
import subprocess
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

ROOT = Path(__file__).resolve().parents[1]
BEGIN, END = "<!-- bench:begin -->", "<!-- bench:end -->"
MISS = " ✗"

# Goals, from the issues: [core] 5, [python] 6, [node] 6, [edge] 5.
GOAL_PY_RATIO = 1.0
GOAL_NODE_RATIO, GOAL_NODE_NS = 2.0, 3000.0
GOAL_WASM_RATIO, GOAL_WASM_FRAME = 3.0, 2.0
GOAL_RUST_VALIDATE_NS = 2000.0
GOAL_IMPORT_MS = 30.0
GOAL_CLIENT = 1.05
GOAL_WASM_GZIP = 120 * 1024
GOAL_WASM_START_MS = 5.0

OPS = [
    "enrol_token",
    "verify_token",
    "enrol_image",
    "enrol_validate",
    "verify_validate",
    "access_token",
    "activate_user",
    "suspend_user",
    "get_user",
    "update_user",
    "delete_user",
    "invalidate_claim",
    "availability",
]
FRAME = "verify_validate, 60 KB frame"
CRITERION_NOISE = re.compile(r"\s*(change:|No change|Change within|Performance has|Found \d+ outliers|\d+ \(.*\) (high|low) )")

INTRO = """# Benchmarks

`scripts/bench` builds what it needs (release builds throughout), runs the benchmarks of the
Rust core (criterion), the Python wheel, the Node package and the edge (wasm) package, and
rewrites the section between the markers below with one table. `scripts/bench --quick` is a
short smoke run whose figures are only indicative. A missed goal is marked, never a failure.

How each figure is taken (and what each baseline does): `core/benches/operations.rs`,
`bindings-python/bench/bench.py`, `bindings-node/bench/bench.mjs` (and
`bindings-node/BENCHMARKS.md`), `bindings-wasm/bench/bench.mjs`, `bench/client-overhead.mjs`.
The emulator's own throughput is in `tests/emulator/BENCH.txt`.

"""


def load(path: Path) -> Optional[Dict[str, Any]]:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def base_name(op: str) -> str:
    """'enrol_image (2 KB)' -> 'enrol_image'."""
    return op.split(" (")[0].strip()


def us(ns: float) -> str:
    return f"{ns / 1000:.1f} us" if ns >= 10_000 else f"{ns / 1000:.2f} us"


def ratio(x: float) -> str:
    return f"{x:.2f}x" if x < 10 else f"{x:.0f}x"


# --- inputs -----------------------------------------------------------------------------------


def rust_results(criterion: Path, since: float) -> Optional[Dict[str, float]]:
    """Criterion bench title -> ns (slope, else mean), for results written since `since`."""
    out: Dict[str, float] = {}
    if not criterion.is_dir():
        return None
    for bench in criterion.glob("*/new/benchmark.json"):
        estimates = bench.with_name("estimates.json")
        if not estimates.exists() or estimates.stat().st_mtime < since:
            continue
        meta, est = load(bench), load(estimates)
        if not meta or not est:
            continue
        figure = (est.get("slope") or est.get("mean") or {}).get("point_estimate")
        if figure is not None:
            out[meta.get("title") or meta.get("full_id") or bench.parent.parent.name] = float(figure)
    return out or None


def rust_by_op(rust: Dict[str, float]) -> Tuple[Dict[str, float], Optional[float], Dict[str, float]]:
    """(op -> build+parse ns, the 60 KB frame build+parse ns, other benches by title)."""
    ops: Dict[str, float] = {}
    frame = None
    other: Dict[str, float] = {}
    for title, ns in rust.items():
        if "60 KB frame" in title:
            frame = ns
            continue
        m = re.fullmatch(r"(\w+) build\+parse(?: \(no frame\))?", title)
        if m and m.group(1) in OPS:
            ops[m.group(1)] = ns
        else:
            other[title] = ns
    return ops, frame, other


def tool_versions(py: Optional[Dict[str, Any]], node: Optional[Dict[str, Any]]) -> List[str]:
    def run(*cmd: str) -> Optional[str]:
        try:
            out = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=30)
        except (OSError, subprocess.TimeoutExpired):
            return None
        text = (out.stdout or out.stderr).strip().splitlines()
        return text[0].strip() if out.returncode == 0 and text else None

    items = [run("rustc", "--version")]
    lock = (ROOT / "Cargo.lock").read_text() if (ROOT / "Cargo.lock").exists() else ""
    m = re.search(r'name = "criterion"\nversion = "([^"]+)"', lock)
    if m:
        items.append(f"criterion {m.group(1)}")
    if py:
        items.append(f"Python {py.get('python')} (iproov_sansio {py.get('version')})")
    items.append(f"Node {node['node']}" if node else run("node", "--version"))
    wasm_bindgen = run("wasm-bindgen", "--version")
    if wasm_bindgen:
        items.append(wasm_bindgen)
    wasm_opt = run(str(ROOT / "bindings-wasm/node_modules/.bin/wasm-opt"), "--version")
    if wasm_opt:
        items.append(wasm_opt)
    return [i for i in items if i]


def machine() -> str:
    cpu = ""
    mem = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem = f"{int(line.split()[1]) / 1024 / 1024:.0f} GiB"
                break
    except OSError:
        pass
    parts = [f"{os.cpu_count()} cores (nproc)"]
    if mem:
        parts.append(f"{mem} memory")
    if cpu:
        parts.append(cpu)
    parts.append(f"{platform.system()} {platform.release()}")
    return ", ".join(parts)


# --- the table --------------------------------------------------------------------------------


def js_op_cell(row: Optional[Dict[str, Any]], goal_ratio: float, goal_ns: Optional[float]) -> str:
    if row is None:
        return "–"
    cells = []
    for kind in ("build", "parse"):
        ns, base = row.get(f"{kind}_ns"), row.get(f"baseline_{kind}_ns")
        if ns is None or not base:
            cells.append("–")
            continue
        x = ns / base
        missed = x > goal_ratio or (goal_ns is not None and ns >= goal_ns)
        cells.append(f"{us(ns)} {ratio(x)}{MISS if missed else ''}")
    return " · ".join(cells)


def build_table(
    rust: Optional[Dict[str, float]],
    py: Optional[Dict[str, Any]],
    node: Optional[Dict[str, Any]],
    wasm: Optional[Dict[str, Any]],
    workerd: Optional[Dict[str, Any]],
    client: Optional[Dict[str, Any]],
) -> List[str]:
    not_run = "not run"
    rust_ops, rust_frame, rust_other = rust_by_op(rust) if rust else ({}, None, {})
    py_ops = {base_name(r["op"]): r for r in (py or {}).get("ops", []) if "60 KB" not in r["op"]}
    py_frame = next((r for r in (py or {}).get("ops", []) if "60 KB" in r["op"]), None)
    node_ops = {r["op"]: r for r in (node or {}).get("ops", [])}
    wasm_ops = {r["op"]: r for r in (wasm or {}).get("ops", [])}
    workerd_ops = {r["op"]: r for r in (workerd or {}).get("ops", [])}

    lines = [
        "| measure | Rust core<br>build+parse | Python (wheel)<br>build · parse, x baseline "
        "| Node (napi addon)<br>build · parse, x baseline | edge (wasm, in Node)<br>build · parse, x baseline "
        "| edge (wasm, in workerd)<br>build · parse, x baseline | goal |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]

    def cell_or(data: Any, text: str) -> str:
        return text if data is not None else not_run

    for op in OPS:
        r = rust_ops.get(op)
        goal = f"Py ≤{GOAL_PY_RATIO:g}x · Node ≤{GOAL_NODE_RATIO:g}x, <{GOAL_NODE_NS / 1000:g} us · wasm ≤{GOAL_WASM_RATIO:g}x"
        rust_cell = "–" if r is None else us(r)
        if op == "verify_validate":
            goal += f" · Rust <{GOAL_RUST_VALIDATE_NS / 1000:g} us"
            if r is not None and r >= GOAL_RUST_VALIDATE_NS:
                rust_cell += MISS
        lines.append(
            f"| {op} | {rust_cell if rust else not_run} "
            f"| {cell_or(py, js_op_cell(py_ops.get(op), GOAL_PY_RATIO, None))} "
            f"| {cell_or(node, js_op_cell(node_ops.get(op), GOAL_NODE_RATIO, GOAL_NODE_NS))} "
            f"| {cell_or(wasm, js_op_cell(wasm_ops.get(op), GOAL_WASM_RATIO, None))} "
            f"| {cell_or(workerd, js_op_cell(workerd_ops.get(op), GOAL_WASM_RATIO, None))} | {goal} |"
        )

    # The validate response with a 60 KB frame: parse only (Rust: build+parse).
    def frame_cell(ns: Optional[float], against: Optional[float], what: str, goal: float) -> str:
        if ns is None or not against:
            return "–"
        x = ns / against
        return f"parse {us(ns)} {ratio(x)} {what}{MISS if x > goal else ''}"

    nf = (node or {}).get("frame") or {}
    wf = (wasm or {}).get("frame") or {}
    df = (workerd or {}).get("frame") or {}
    lines.append(
        f"| {FRAME} | {('–' if rust_frame is None else us(rust_frame)) if rust else not_run} "
        f"| {cell_or(py, frame_cell((py_frame or {}).get('parse_ns'), (py_frame or {}).get('baseline_parse_ns'), 'baseline', GOAL_PY_RATIO))} "
        f"| {cell_or(node, frame_cell(nf.get('parse_ns'), nf.get('baseline_parse_ns'), 'baseline', GOAL_NODE_RATIO))} "
        f"| {cell_or(wasm, frame_cell(wf.get('parse_ns'), wf.get('json_parse_ns'), '<code>JSON.parse</code>', GOAL_WASM_FRAME))} "
        f"| {cell_or(workerd, frame_cell(df.get('parse_ns'), df.get('json_parse_ns'), '<code>JSON.parse</code>', GOAL_WASM_FRAME))} "
        f"| Py ≤{GOAL_PY_RATIO:g}x · Node ≤{GOAL_NODE_RATIO:g}x · wasm ≤{GOAL_WASM_FRAME:g}x <code>JSON.parse</code> alone |"
    )
    for title, ns in sorted(rust_other.items()):
        lines.append(f"| {title} | {us(ns)} | | | | | – |")

    # Client overhead over a raw HTTP call to the emulator.
    py_client = {r["call"]: r for r in ((py or {}).get("client_overhead") or {}).get("rows", [])}
    impls = (client or {}).get("impls", {})
    js_client = {name: {r["call"]: r for r in impl["rows"]} for name, impl in impls.items()}
    calls = list(py_client) or list(next(iter(js_client.values()), {}))
    for call in calls or ["availability (GET)", "enrol_token (POST)"]:

        def overhead(r: Optional[Dict[str, Any]], raw: str) -> str:
            if r is None:
                return "–"
            missed = r["ratio"] > GOAL_CLIENT
            return f"{r['client_us']:.0f} vs {r['raw_us']:.0f} us {raw}: {r['ratio']:.3f}x{MISS if missed else ''}"

        lines.append(
            f"| client over a raw HTTP call: {call} | "
            f"| {cell_or(py, overhead(py_client.get(call), 'httpx'))} "
            f"| {cell_or(client if 'node' in js_client else None, overhead(js_client.get('node', {}).get(call), 'fetch'))} "
            f"| {cell_or(client if 'wasm' in js_client else None, overhead(js_client.get('wasm', {}).get(call), 'fetch'))} | "
            f"| ≤{GOAL_CLIENT:g}x (Python's goal; none set for JS) |"
        )

    # Import / require, and the edge package's size and start.
    def import_cell(data: Optional[Dict[str, Any]], key: str, how: str) -> str:
        if data is None or key not in data:
            return not_run
        median = data[key]["median"]
        return f"{how} {median:.1f} ms{MISS if median >= GOAL_IMPORT_MS else ''}"

    wstart = (wasm or {}).get("start") or {}
    wasm_import = f"import {wstart['import']['median']:.1f} ms (JS only)" if wstart else not_run
    node_how = ((node or {}).get("require_ms") or {}).get("how", "require")
    lines.append(
        f"| import / require, fresh process (median) | "
        f"| {import_cell(py, 'import_ms', 'import')} | {import_cell(node, 'require_ms', node_how)} | {wasm_import} | "
        f"| Py, Node <{GOAL_IMPORT_MS:g} ms |"
    )
    if wasm:
        size = wasm["size"]
        missed = size["gzip"] > GOAL_WASM_GZIP
        lines.append(
            f"| wasm size, gzip -9 | | | | {size['gzip'] / 1024:.1f} KB ({size['raw'] / 1024:.0f} KB raw){MISS if missed else ''} | "
            f"| ≤{GOAL_WASM_GZIP // 1024} KB |"
        )
        s = wstart
        start = s["start"]["median"]
        lines.append(
            f"| wasm start: instantiate + first call, fresh process (median) | | | "
            f"| {start:.1f} ms ({s['instantiate']['median']:.1f} instantiate + {s['firstCall']['median']:.1f} first call; "
            f"compile {s['compile']['median']:.1f} ms more, which a worker's runtime does when it loads the script)"
            f"{MISS if start >= GOAL_WASM_START_MS else ''} | | <{GOAL_WASM_START_MS:g} ms |"
        )
    else:
        lines.append(f"| wasm size and start | | | | {not_run} | | ≤{GOAL_WASM_GZIP // 1024} KB, <{GOAL_WASM_START_MS:g} ms |")
    return lines


def section(args: argparse.Namespace, table: List[str], versions: List[str], meta: Dict[str, Any], logs: List[Tuple[str, str]]) -> str:
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    mode = "**quick run** (short samples; indicative only)" if args.quick else "full run"
    out = [BEGIN, "", f"Measured {now}, {mode}.", ""]
    out += table
    out += [
        "",
        f"Per operation: cost per call of the public `build` and `parse`, and its ratio to that language's",
        "pure baseline doing the same job by hand (Rust: core itself, build+parse together); the JS",
        "columns share one baseline (`bindings-node/bench/bench.mjs`). Client: the package's client",
        "against a raw call of the same request with the same HTTP stack, alternating, to the release",
        f"emulator on loopback. {MISS.strip()} marks a figure that misses its goal.",
        "",
        f"- machine: {machine()}",
    ]
    if meta.get("loadavg_start"):
        out.append(
            f"- load average (1 min) at the start / end: {meta['loadavg_start']} / {meta.get('loadavg_end', '?')} "
            "(other work on the machine inflates every figure)"
        )
    if meta.get("seconds") is not None:
        out.append(f"- benchmarks took {meta['seconds']} s (after the builds)")
    out.append(f"- tools: {'; '.join(versions)}")
    out.append(f"- command: `{args.command}`")
    if logs:
        out += ["", "<details><summary>Each host's own output</summary>", ""]
        for name, text in logs:
            out += [f"{name}:", "", "```text", text.rstrip(), "```", ""]
        out.append("</details>")
    out += ["", END]
    return "\n".join(out) + "\n"


def write(out_path: Path, text: str) -> None:
    if out_path.exists():
        current = out_path.read_text()
        if BEGIN in current and END in current:
            head, rest = current.split(BEGIN, 1)
            tail = rest.split(END, 1)[1]
            out_path.write_text(head + text.rstrip("\n") + tail)
        else:
            out_path.write_text(current.rstrip("\n") + "\n\n" + text)
    else:
        out_path.write_text(INTRO + text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dir", type=Path, default=ROOT / "target/bench")
    parser.add_argument("--criterion", type=Path, default=ROOT / "target/criterion")
    parser.add_argument("--since", type=float, default=0.0, help="ignore criterion results older than this (epoch s)")
    parser.add_argument("--out", type=Path, default=ROOT / "BENCHMARKS.md")
    parser.add_argument("--command", default="scripts/bench")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()

    rust = rust_results(args.criterion, args.since)
    py, node, wasm, workerd, client = (load(args.dir / f"{n}.json") for n in ("python", "node", "wasm", "workerd", "client"))
    meta = load(args.dir / "meta.json") or {}
    table = build_table(rust, py, node, wasm, workerd, client)
    logs = []
    for name, label in (("rust", "Rust (criterion)"), ("python", "Python"), ("node", "Node"), ("wasm", "edge (wasm)"), ("workerd", "edge (wasm) in workerd"), ("client", "JS client overhead"), ("ratelimit", "Validates under iProov's rate limit (bench/rate-limit.mjs)")):
        path = args.dir / f"{name}.txt"
        if path.exists():
            text = path.read_text()
            if name == "rust":  # criterion's comparison with whatever ran before says nothing here
                text = "\n".join(line for line in text.splitlines() if not CRITERION_NOISE.match(line))
                text = re.sub(r"\n{3,}", "\n\n", text)
            logs.append((label, text))
    text = section(args, table, tool_versions(py, node), meta, logs)
    write(args.out, text)
    print("\n".join(table))
    print(f"\n(written to {args.out})")


if __name__ == "__main__":
    main()
