"""Draws the metrics of a soak run (``bench/soak.py --json FILE``: its ``metrics`` samples) as
an operator's dashboard would: journey requests per second by outcome, the pass rate and the
share of validates whose outcome is unknown, and each call's duration (p50, p99) by
operation. A benchmark script, not a test: it needs matplotlib (``scripts/soak`` installs it
in ``target/plot-venv``).

    python bench/soak_plot.py SOAK.json [OUT.png]    (default: docs/soak-metrics.png)
"""

from __future__ import annotations

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


def series(run: Dict[str, Any]) -> Dict[str, Any]:
    """Per interval: time, rates by outcome, pass rate, unknown share, durations by operation."""
    metrics = run["metrics"]
    bounds = metrics["bounds_ms"]
    out: Dict[str, Any] = {"t": [], "rates": {}, "pass_rate": [], "unknown": [], "durations": {}}
    last = 0.0
    for sample in metrics["samples"]:
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


def plot(run: Dict[str, Any], target: Path) -> None:
    s = series(run)
    figure, (rates, ratios, durations) = plt.subplots(3, 1, figsize=(10, 10), sharex=True)
    figure.suptitle(f"Soak: {run['journeys']:,} enrol journeys through {run['store']}, {run['threads']} threads, "
                    f"seed {run['seed']} ({run['faults']['5xx'] + run['faults']['late']} validates faulted on purpose)",
                    fontsize=11)
    for label, values in s["rates"].items():
        rates.plot(s["t"], values, label=label, linewidth=1)
    rates.set_ylabel("journey requests / s")
    rates.set_title("iproov.journeys by outcome", fontsize=10, loc="left")
    rates.legend(fontsize=8, loc="upper right")

    ratios.plot(s["t"], s["pass_rate"], label="pass rate (passed / (passed + failed))", color="tab:green", linewidth=1)
    ratios.set_ylabel("pass rate %")
    ratios.set_ylim(0, 100)
    other = ratios.twinx()
    other.plot(s["t"], s["unknown"], label="outcome unknown (% of finishes)", color="tab:red", linewidth=1)
    other.set_ylabel("outcome unknown %")
    other.set_ylim(0, max([v for v in s["unknown"] if v is not None] + [5]) * 1.2)
    ratios.set_title("pass rate and outcome_unknown share", fontsize=10, loc="left")
    lines: List[Any] = ratios.get_lines() + other.get_lines()
    ratios.legend(lines, [line.get_label() for line in lines], fontsize=8, loc="lower right")

    styles: Tuple[Tuple[str, str], ...] = (("p50", "-"), ("p99", "--"))
    for i, (operation, d) in enumerate(sorted(s["durations"].items())):
        for quantile_name, style in styles:
            durations.plot(s["t"], d[quantile_name], style, color=f"C{i}", label=f"{operation} {quantile_name}", linewidth=1)
    durations.set_yscale("log")
    durations.set_ylabel("ms (bucket upper bound)")
    durations.set_xlabel("seconds into the run")
    durations.set_title("iproov.client.call.duration by operation", fontsize=10, loc="left")
    durations.legend(fontsize=8, loc="upper right", ncol=2)
    for axis in (rates, ratios, durations):
        axis.grid(alpha=0.3)
    figure.tight_layout()
    target.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(target, dpi=100)
    print(f"{target}: {len(s['t'])} intervals of {run['metrics']['interval_s']} s")


def main() -> None:
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__)
    run = json.loads(Path(sys.argv[1]).read_text(encoding="utf-8"))
    if "metrics" not in run:
        sys.exit(f"{sys.argv[1]} holds no metrics: run bench/soak.py with --json and --metrics-every above 0")
    plot(run, Path(sys.argv[2]) if len(sys.argv) == 3 else ROOT / "docs" / "soak-metrics.png")


if __name__ == "__main__":
    main()
