"""Soak of the journey service (a benchmark command, not a test): N enrol journeys against the
release emulator through a store, from several threads of one process, each following a plan
drawn from a fixed seed: the capture passes (70%) or fails (30%), and 5% of the journeys get a
fault on their own validate (half a 503, half an answer later than the client's deadline).

Each fault rule names the journey's token (the emulator's ``body_fields``), so it hits that
journey's validate and no other, whatever else is in flight; the planned outcome of every
journey is therefore known before it runs, and the checks afterwards are exact:

- every journey's caller got its planned state (``passed``, ``failed``, or ``outcome_unknown``
  for the two faults), and the store holds that state, in one attempt, with one token and one
  validate in its audit;
- the emulator saw exactly one token request and one validate request per journey, and every
  validate it answered (a claim it validated) is in the store with the claim's outcome;
- nothing is left for the spool to replay.

Prints journeys per second and the latency each store call adds; exits 1 on any difference.
With ``--json``, the file also holds the package's OpenTelemetry metrics (core's
``iproov.journeys``, ``iproov.client.calls``, ``iproov.client.call.duration`` ...) as read every
``--metrics-every`` seconds (``metrics``: one sample per interval, counters and histograms as
deltas; needs ``opentelemetry-sdk``): ``bench/soak_plot.py`` draws them.

    python bench/soak.py --store sqlite|postgres [--journeys 10000] [--threads 4] [--seed 42] [--json FILE]
                         [--emulator BINARY] [--metrics-every 1.0]

``--store postgres`` reads the libpq connection string from ``IPROOV_TEST_POSTGRES``
(``scripts/soak`` starts PostgreSQL and sets it); its tables are dropped first.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional

import iproov_sansio as ip
from iproov_sansio.httpx import Client
from iproov_sansio.journeys import JourneyService
from iproov_sansio.stores import PostgresStore, SQLiteStore

ROOT = Path(__file__).resolve().parents[1]
EU = {"api_key": "eudefaultkey0000000000000000000000000000", "secret": "eudefaultsecret0000000000000000000000000"}
VALIDATE = "/claim/enrol/validate"
#: The client every journey starts and finishes with: a deadline no healthy call comes near on
#: a loaded machine, so that no journey ends outcome_unknown that was not planned to.
DEADLINE_S = 10.0
#: The journeys planned to get a late answer finish through a client with this deadline; the
#: emulator holds their validate for LATE_MS (the client hangs up first).
LATE_DEADLINE_S = 0.3
LATE_MS = 1000
#: A replay this far ahead sees every spool entry as due (core's DUE_MS is 13 s).
LATER_MS = 60_000


class TimedStore:
    """The store, with every method call timed (the latency the store adds to a journey);
    its other attributes (``spool_path``) as they are."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.times: Dict[str, List[float]] = {}
        self.lock = threading.Lock()

    def __getattr__(self, name: str) -> Any:
        method = getattr(self.inner, name)
        if not callable(method):
            return method

        def timed(*args: Any) -> Any:
            t0 = time.perf_counter()
            try:
                return method(*args)
            finally:
                elapsed = time.perf_counter() - t0
                with self.lock:
                    self.times.setdefault(name, []).append(elapsed)

        return timed


class Counted(logging.Handler):
    """Counts the package's log records by level (the soak's planned faults log a warning
    each; shown in the summary, not line by line)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.levels: Dict[str, int] = {}

    def emit(self, record: logging.LogRecord) -> None:
        self.levels[record.levelname] = self.levels.get(record.levelname, 0) + 1


class MetricSampler:
    """The package's metrics (core's names, through ``iproov_sansio.telemetry``) read from the
    OpenTelemetry SDK every ``every`` seconds as deltas: ``samples`` is ``[{"t_s", "counters":
    {name: [{"attributes", "value"}]}, "histograms": {name: [{"attributes", "count", "sum",
    "bucket_counts"}]}}]``, the histograms' buckets bounded by ``BOUNDS_MS``."""

    #: Bucket bounds of the duration histogram (ms): fine enough for a p99 of a loopback call.
    BOUNDS_MS = [1, 2, 3, 4, 5, 6, 8, 10, 12, 15, 20, 25, 30, 40, 50, 60, 80, 100, 150, 200, 300, 500, 750,
                 1000, 1500, 2000, 5000, 10000]

    def __init__(self, every: float) -> None:
        from opentelemetry import trace
        from opentelemetry.sdk.metrics import Counter, Histogram, MeterProvider
        from opentelemetry.sdk.metrics.export import AggregationTemporality, InMemoryMetricReader
        from opentelemetry.sdk.metrics.view import ExplicitBucketHistogramAggregation

        from iproov_sansio import telemetry

        self.every = every
        self.reader = InMemoryMetricReader(
            preferred_temporality={Counter: AggregationTemporality.DELTA, Histogram: AggregationTemporality.DELTA},
            preferred_aggregation={Histogram: ExplicitBucketHistogramAggregation(self.BOUNDS_MS)},
        )
        telemetry.use_opentelemetry(trace.NoOpTracerProvider(), MeterProvider(metric_readers=[self.reader]))
        self.samples: List[Dict[str, Any]] = []
        self._stop = threading.Event()
        self._t0 = time.perf_counter()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> None:
        self._t0 = time.perf_counter()
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            self._sample()

    def _sample(self) -> None:
        counters: Dict[str, List[Dict[str, Any]]] = {}
        histograms: Dict[str, List[Dict[str, Any]]] = {}
        data = self.reader.get_metrics_data()
        for resource in data.resource_metrics if data else []:
            for scope in resource.scope_metrics:
                for metric in scope.metrics:
                    points: List[Any] = list(metric.data.data_points)
                    for p in points:
                        if hasattr(p, "bucket_counts"):
                            histograms.setdefault(metric.name, []).append(
                                {"attributes": dict(p.attributes), "count": p.count, "sum": p.sum, "bucket_counts": list(p.bucket_counts)})
                        else:
                            counters.setdefault(metric.name, []).append({"attributes": dict(p.attributes), "value": p.value})
        self.samples.append({"t_s": round(time.perf_counter() - self._t0, 3), "counters": counters, "histograms": histograms})

    def stop(self) -> Dict[str, Any]:
        from iproov_sansio import telemetry

        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()
        self._sample()  # the last, partial interval
        telemetry.stop_opentelemetry()
        return {"interval_s": self.every, "bounds_ms": self.BOUNDS_MS, "samples": self.samples}


def control(url: str, method: str, path: str, body: Any = None) -> Any:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(f"{url}/__emulator{path}", data=data, method=method,
                                     headers={"Content-Type": "application/json"} if data else {})
    with urllib.request.urlopen(request, timeout=30) as response:
        text = response.read()
    return json.loads(text) if text else None


def p99(samples: List[float]) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] if ordered else 0.0


def make_plan(journeys: int, seed: int) -> List[Dict[str, Any]]:
    """Each journey's capture and fault, and the state its caller must get."""
    rng = random.Random(seed)
    plan = []
    for _ in range(journeys):
        passed, roll = rng.random() >= 0.3, rng.random()
        fault = "5xx" if roll < 0.025 else "late" if roll < 0.05 else None
        state = "outcome_unknown" if fault else "passed" if passed else "failed"
        plan.append({"passed": passed, "fault": fault, "state": state})
    return plan


def open_store(kind: str, tmp: Path) -> Any:
    if kind == "sqlite":
        return SQLiteStore(tmp / "soak.sqlite3")  # its spool beside it
    conninfo = os.environ["IPROOV_TEST_POSTGRES"]
    import psycopg

    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS iproov_journeys, iproov_audit, iproov_users, iproov_schema")
    return PostgresStore(conninfo, spool_path=tmp / "soak.spool.jsonl")


def check(store: Any, url: str, plan: List[Dict[str, Any]], runs: List[Optional[Dict[str, Any]]],
          replay: Callable[[int], int]) -> List[str]:
    """Every difference between the plan, what the callers were told, the store and the
    emulator (empty: none)."""
    problems: List[str] = []
    claims = {c["token"]: c for c in control(url, "GET", "/state")["claims"]}
    for i, (want, run) in enumerate(zip(plan, runs)):
        if run is None or "error" in run:
            problems.append(f"journey {i}: {run['error'] if run else 'did not run'}")
            continue
        journey_id, told = run["journey_id"], run["told"]
        record = store.get("journeys", journey_id)
        attempts = record["attempts"] if record else []
        stored = attempts[0]["state"] if attempts else "missing"
        audit = [r["operation"] for r in store.audit_of(journey_id)]
        claim = claims.get(run["token"], {}).get("status", {})
        where = f"journey {i} ({journey_id}, planned {want})"
        if told["state"] != want["state"]:
            problems.append(f"{where}: its caller was told {told['state']}")
        if stored != told["state"] or len(attempts) != 1:
            problems.append(f"{where}: stored {[a['state'] for a in attempts]}, told {told['state']}")
        if audit != ["enrol_token", "enrol_validate"]:
            problems.append(f"{where}: audit {audit}")
        if claim.get("state") == "validated" and want["fault"] != "late":
            # The emulator answered this validate: its outcome is the store's.
            if stored != ("passed" if claim.get("passed") else "failed"):
                problems.append(f"{where}: the emulator validated it ({claim}), the store says {stored}")
        elif claim.get("state") != "validated" and want["fault"] is None:
            problems.append(f"{where}: never validated at the emulator ({claim})")
    tokens = int(control(url, "GET", "/requests?path=/claim/enrol/token")["count"])
    validates = int(control(url, "GET", f"/requests?path={VALIDATE}")["count"])
    if tokens != len(plan) or validates != len(plan):
        problems.append(f"the emulator saw {tokens} token and {validates} validate requests for {len(plan)} journeys")
    leftover = control(url, "GET", "/faults")["faults"]
    if leftover:
        problems.append(f"{len(leftover)} fault rules were never taken")
    replayed = replay(int(time.time() * 1000) + LATER_MS)
    if replayed:
        problems.append(f"{replayed} spooled outcomes were not in the store until replayed")
    return problems


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--store", choices=["sqlite", "postgres"], required=True)
    parser.add_argument("--journeys", type=int, default=10_000)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--json")
    parser.add_argument("--emulator", default=str(ROOT / "target" / "release" / "iproov-emulator"),
                        help="the emulator binary (default: the release build)")
    parser.add_argument("--metrics-every", type=float, default=1.0,
                        help="seconds between two reads of the metrics kept in the JSON (0: none)")
    args = parser.parse_args()
    sampler = MetricSampler(args.metrics_every) if args.json and args.metrics_every > 0 else None
    logged = Counted()
    package_log = logging.getLogger("iproov_sansio")
    package_log.addHandler(logged)
    package_log.setLevel(logging.WARNING)
    package_log.propagate = False

    emulator = subprocess.Popen([args.emulator, "--port", "0"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    assert emulator.stdout is not None
    url = emulator.stdout.readline().decode().strip().split("listening on ", 1)[1]
    threading.Thread(target=lambda: [None for _ in emulator.stdout], daemon=True).start()  # type: ignore[union-attr]
    tmp = tempfile.TemporaryDirectory()
    inner = open_store(args.store, Path(tmp.name))
    store = TimedStore(inner)
    plan = make_plan(args.journeys, args.seed)
    runs: List[Optional[Dict[str, Any]]] = [None] * args.journeys

    try:
        with Client(base_url=f"{url}/eu", **EU, timeout=DEADLINE_S) as client, \
                Client(base_url=f"{url}/eu", **EU, timeout=LATE_DEADLINE_S) as hasty:
            service = JourneyService(client, store)
            # The same store and spool; only the client's deadline differs.
            late = JourneyService(hasty, store, spool=service.spool_path)

            def journey(i: int) -> None:
                want = plan[i]
                try:
                    started = service.start("enrol", ip.random_user_id())
                    token = started["token"]
                    outcome = {"passed": True} if want["passed"] else {"passed": False, "reason": "too_much_movement"}
                    control(url, "POST", f"/claims/{token}/complete", outcome)
                    finisher = service
                    if want["fault"] is not None:
                        # The rule names this journey's token: no other validate can take it.
                        fault = ({"kind": "status", "status": 503} if want["fault"] == "5xx"
                                 else {"kind": "delay", "delay_ms": LATE_MS})
                        control(url, "POST", "/faults", {"path": VALIDATE, "body_fields": {"token": token}, **fault})
                        finisher = late if want["fault"] == "late" else service
                    told = finisher.finish(started["journey_id"], token, "soak")
                    runs[i] = {"journey_id": started["journey_id"], "token": token, "told": told}
                except Exception as exc:  # a journey that raised is a difference, reported below
                    runs[i] = {"error": f"{type(exc).__name__}: {exc}"}

            if sampler is not None:
                sampler.start()
            t0 = time.perf_counter()
            with ThreadPoolExecutor(args.threads) as pool:
                list(pool.map(journey, range(args.journeys)))
            elapsed = time.perf_counter() - t0
            metrics = sampler.stop() if sampler is not None else None
            problems = check(inner, url, plan, runs, service.replay_spool)

        states: Dict[str, int] = {}
        for run in runs:
            state = run["told"]["state"] if run and "told" in run else "error"
            states[state] = states.get(state, 0) + 1
        planned = {"5xx": sum(p["fault"] == "5xx" for p in plan), "late": sum(p["fault"] == "late" for p in plan)}
        latency = {
            name: {"calls": len(t), "mean_ms": statistics.mean(t) * 1000, "p99_ms": p99(t) * 1000}
            for name, t in sorted(store.times.items())
        }
        tokens = int(control(url, "GET", "/requests?path=/claim/enrol/token")["count"])
        validates = int(control(url, "GET", f"/requests?path={VALIDATE}")["count"])
        result = {
            "store": args.store,
            "journeys": args.journeys,
            "threads": args.threads,
            "seed": args.seed,
            "seconds": elapsed,
            "journeys_per_s": args.journeys / elapsed,
            "states": states,
            "faults": planned,
            "log_records": logged.levels,
            "emulator": {"enrol_token": tokens, "enrol_validate": validates},
            "store_latency": latency,
            "problems": problems,
        }
        if metrics is not None:
            result["metrics"] = metrics
        print(f"soak ({args.store}, {args.threads} threads, seed {args.seed}): {args.journeys} journeys in "
              f"{elapsed:.1f} s, {args.journeys / elapsed:.0f} journeys/s; outcomes {states}; faults {planned}; "
              f"emulator saw {tokens} token and {validates} validate requests; log records {logged.levels}; "
              f"differences from the plan: {len(problems)}")
        for problem in problems[:20]:
            print(f"  ! {problem}")
        for name, figures in latency.items():
            print(f"  store.{name:<13} {figures['calls']:>6} calls  mean {figures['mean_ms']:.2f} ms  p99 {figures['p99_ms']:.2f} ms")
        if args.json:
            Path(args.json).write_text(json.dumps(result, indent=2) + "\n")
        sys.exit(1 if problems else 0)
    finally:
        emulator.terminate()
        emulator.wait(10)
        tmp.cleanup()


if __name__ == "__main__":
    main()
