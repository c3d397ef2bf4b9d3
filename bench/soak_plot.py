"""Draws the metrics of a soak run (``bench/soak.py --json FILE``: its ``metrics`` samples) as
an operator's dashboard would: journey requests per second by outcome, the pass rate and the
share of validates whose outcome is unknown, and each call's duration (p50, p99) by
operation. A benchmark script, not a test: it needs matplotlib (``scripts/soak`` installs it
in ``target/plot-venv``).

    python bench/soak_plot.py SOAK.json [OUT.png] [--window 10]    (default: docs/soak-metrics.png)
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

import matplotlib

matplotlib.use("Agg")  # no display: a file
import matplotlib.pyplot as plt  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def counter(sample: Dict[str, Any], name: str, **attributes: str) -> float:
    """The sum of a counter's points in one sample whose attributes include ``attributes``."""
    return sum(p["value"] for p in sample["counters"].get(name, [])
               if all(p["attributes"].get(k) == v for k, v in attributes.items()))


def quantile(points: Sequence[Dict[str, Any]], bounds: Sequence[float], q: float) -> Optional[float]:
    """The upper bound of the bucket holding quantile ``q`` of the merged points (None: no data)."""
    counts = [0] * (len(bounds) + 1)
    for p in points:
        counts = [a + b for a, b in zip(counts, p["bucket_counts"])]
    total = sum(counts)
    if total == 0:
        return None
    seen = 0
    for i, n in enumerate(counts):
        seen += n
        if seen >= q * total:
            return float(bounds[i]) if i < len(bounds) else float(bounds[-1])
    return float(bounds[-1])


def windows(samples: Sequence[Dict[str, Any]], seconds: float) -> List[Dict[str, Any]]:
    """The samples (deltas) merged into consecutive windows of about ``seconds`` (a dashboard's
    rate window): counters summed and histograms' counts, sums and buckets added, point by
    point of equal attributes; each window at its last sample's time."""
    out: List[Dict[str, Any]] = []
    current: Optional[Dict[str, Any]] = None
    start = 0.0
    for sample in samples:
        if current is None:
            current = {"t_s": sample["t_s"], "counters": {}, "histograms": {}}
        current["t_s"] = sample["t_s"]
        for name, points in sample["counters"].items():
            merged = current["counters"].setdefault(name, [])
            for p in points:
                same = next((m for m in merged if m["attributes"] == p["attributes"]), None)
                if same is None:
                    merged.append({"attributes": p["attributes"], "value": p["value"]})
                else:
                    same["value"] += p["value"]
        for name, points in sample["histograms"].items():
            merged = current["histograms"].setdefault(name, [])
            for p in points:
                same = next((m for m in merged if m["attributes"] == p["attributes"]), None)
                if same is None:
                    merged.append({"attributes": p["attributes"], "count": p["count"], "sum": p["sum"],
                                   "bucket_counts": list(p["bucket_counts"])})
                else:
                    same["count"] += p["count"]
                    same["sum"] += p["sum"]
                    same["bucket_counts"] = [a + b for a, b in zip(same["bucket_counts"], p["bucket_counts"])]
        if sample["t_s"] - start >= seconds - 1e-9:
            out.append(current)
            current, start = None, sample["t_s"]
    if current is not None:
        out.append(current)
    return out


def series(run: Dict[str, Any], window_s: float) -> Dict[str, Any]:
    """Per window: time, rates by outcome, pass rate, unknown share, durations by operation."""
    metrics = run["metrics"]
    bounds = metrics["bounds_ms"]
    out: Dict[str, Any] = {"t": [], "rates": {}, "pass_rate": [], "unknown": [], "durations": {}}
    last = 0.0
    for sample in windows(metrics["samples"], window_s):
        span = sample["t_s"] - last
        last = sample["t_s"]
        if span <= 0:
            continue
        out["t"].append(sample["t_s"])
        for label, action, outcome in (("started (token issued)", "start", "issued"), ("passed", "finish", "passed"),
                                       ("failed", "finish", "failed"), ("outcome unknown", "finish", "outcome_unknown")):
            n = counter(sample, "iproov.journeys", **{"iproov.journey.action": action, "iproov.outcome": outcome})
            out["rates"].setdefault(label, []).append(n / span)
        passed = counter(sample, "iproov.journeys", **{"iproov.journey.action": "finish", "iproov.outcome": "passed"})
        failed = counter(sample, "iproov.journeys", **{"iproov.journey.action": "finish", "iproov.outcome": "failed"})
        finishes = counter(sample, "iproov.journeys", **{"iproov.journey.action": "finish"})
        unknown = counter(sample, "iproov.journeys", **{"iproov.journey.action": "finish", "iproov.outcome": "outcome_unknown"})
        out["pass_rate"].append(100 * passed / (passed + failed) if passed + failed else None)
        out["unknown"].append(100 * unknown / finishes if finishes else None)
        points = sample["histograms"].get("iproov.client.call.duration", [])
        for operation in sorted({p["attributes"]["iproov.operation"] for p in points} | set(out["durations"])):
            mine = [p for p in points if p["attributes"]["iproov.operation"] == operation]
            d = out["durations"].setdefault(operation, {"p50": [None] * (len(out["t"]) - 1), "p99": [None] * (len(out["t"]) - 1)})
            d["p50"].append(quantile(mine, bounds, 0.5))
            d["p99"].append(quantile(mine, bounds, 0.99))
    return out


def plot(run: Dict[str, Any], target: Path, window_s: float) -> None:
    s = series(run, window_s)
    figure, (rates, ratios, durations) = plt.subplots(3, 1, figsize=(10, 10), sharex=True)
    store = {"sqlite": "SQLite", "postgres": "PostgreSQL"}.get(run["store"], run["store"])
    figure.suptitle(f"Soak: {run['journeys']:,} enrol journeys through {store}, {run['threads']} threads, "
                    f"seed {run['seed']}\n({run['faults']['5xx'] + run['faults']['late']} validates faulted on purpose; "
                    f"each point sums a {window_s:g} s window)", fontsize=11)
    for label, values in s["rates"].items():
        rates.plot(s["t"], values, label=label, linewidth=1)
    rates.set_ylabel("journey requests / s")
    rates.set_title("iproov.journeys by outcome", fontsize=10, loc="left")
    rates.set_ylim(0, max([v for values in s["rates"].values() for v in values] + [1]) * 1.3)  # room for the legend
    rates.legend(fontsize=8, loc="upper left", ncol=4)

    ratios.plot(s["t"], s["pass_rate"], label="pass rate (passed / (passed + failed))", color="tab:green", linewidth=1)
    ratios.set_ylabel("pass rate %")
    ratios.set_ylim(0, 115)  # room for the legend above 100 %
    other = ratios.twinx()
    other.plot(s["t"], s["unknown"], label="outcome unknown (% of finishes)", color="tab:red", linewidth=1)
    other.set_ylabel("outcome unknown %")
    other.set_ylim(0, max([v for v in s["unknown"] if v is not None] + [5]) * 1.6)
    ratios.set_title("pass rate and outcome_unknown share", fontsize=10, loc="left")
    lines: List[Any] = ratios.get_lines() + other.get_lines()
    ratios.legend(lines, [line.get_label() for line in lines], fontsize=8, loc="upper left", ncol=2)

    styles: Tuple[Tuple[str, str], ...] = (("p50", "-"), ("p99", "--"))
    for i, (operation, d) in enumerate(sorted(s["durations"].items())):
        for quantile_name, style in styles:
            # Wider lines under narrower ones: equal quantiles of two operations stay visible.
            durations.plot(s["t"], d[quantile_name], style, color=f"C{i}", label=f"{operation} {quantile_name}",
                           linewidth=3 - 1.5 * i / max(1, len(s["durations"]) - 1))
    durations.set_yscale("log")
    durations.set_ylabel("ms (bucket upper bound)")
    durations.set_xlabel("seconds into the run")
    durations.set_title("iproov.client.call.duration by operation", fontsize=10, loc="left")
    durations.set_ylim(top=durations.get_ylim()[1] * 4)  # room for the legend
    durations.legend(fontsize=8, loc="upper left", ncol=4)
    for axis in (rates, ratios, durations):
        axis.grid(alpha=0.3)
    figure.tight_layout()
    target.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(target, dpi=100)
    print(f"{target}: {len(s['t'])} windows of {window_s:g} s from {len(run['metrics']['samples'])} samples "
          f"read every {run['metrics']['interval_s']:g} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("json", help="the soak's JSON (bench/soak.py --json)")
    parser.add_argument("png", nargs="?", default=str(ROOT / "docs" / "soak-metrics.png"))
    parser.add_argument("--window", type=float, default=10.0, help="seconds each point sums (default 10)")
    args = parser.parse_args()
    run = json.loads(Path(args.json).read_text(encoding="utf-8"))
    if "metrics" not in run:
        sys.exit(f"{args.json} holds no metrics: run bench/soak.py with --json and --metrics-every above 0")
    plot(run, Path(args.png), args.window)


if __name__ == "__main__":
    main()
