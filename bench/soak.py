"""Soak of the journey service (a benchmark command, not a test): N journeys against the
release emulator through a store, passes, failures, timeouts and faults mixed, from several
threads; then every journey's stored outcome is checked against what its caller was told and
the emulator's request counts against the journeys' (no lost or duplicated result, one
validate per token). Prints journeys per second and the latency each store call adds.

    python bench/soak.py --store sqlite|postgres [--journeys 10000] [--threads 4] [--json FILE]

``--store postgres`` reads the libpq connection string from ``IPROOV_TEST_POSTGRES``
(``scripts/soak`` starts PostgreSQL and sets it).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Callable, Dict, List

import urllib.request

import iproov_sansio as ip
from iproov_sansio.httpx import Client
from iproov_sansio.journeys import JourneyService
from iproov_sansio.stores import PostgresStore, SQLiteStore

ROOT = Path(__file__).resolve().parents[1]
EU = {"api_key": "eudefaultkey0000000000000000000000000000", "secret": "eudefaultsecret0000000000000000000000000"}


class TimedStore:
    """A store whose every call is timed (the latency the store adds to a journey)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.times: Dict[str, List[float]] = {}
        self.lock = threading.Lock()

    def __getattr__(self, name: str) -> Callable[..., Any]:
        method = getattr(self.inner, name)

        def timed(*args: Any) -> Any:
            t0 = time.perf_counter()
            try:
                return method(*args)
            finally:
                elapsed = time.perf_counter() - t0
                with self.lock:
                    self.times.setdefault(name, []).append(elapsed)

        return timed


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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--store", choices=["sqlite", "postgres"], required=True)
    parser.add_argument("--journeys", type=int, default=10_000)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--json")
    args = parser.parse_args()

    binary = ROOT / "target" / "release" / "iproov-emulator"
    emulator = subprocess.Popen([str(binary), "--port", "0"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    assert emulator.stdout is not None
    url = emulator.stdout.readline().decode().strip().split("listening on ", 1)[1]
    threading.Thread(target=lambda: [None for _ in emulator.stdout], daemon=True).start()  # type: ignore[union-attr]
    tmp = tempfile.TemporaryDirectory()
    if args.store == "sqlite":
        inner: Any = SQLiteStore(Path(tmp.name) / "soak.sqlite3")
    else:
        conninfo = os.environ["IPROOV_TEST_POSTGRES"]
        import psycopg

        with psycopg.connect(conninfo, autocommit=True) as conn:
            conn.execute("DROP TABLE IF EXISTS iproov_journeys, iproov_audit, iproov_schema")
        inner = PostgresStore(conninfo)
    store = TimedStore(inner)
    told: Dict[str, Dict[str, Any]] = {}
    told_lock = threading.Lock()
    fault_lock = threading.Lock()
    rng = random.Random(42)
    plan = [rng.random() for _ in range(args.journeys)]

    try:
        with Client(base_url=f"{url}/eu", **EU, timeout=0.5) as client:
            service = JourneyService(client, store)

            def journey(i: int) -> None:
                roll = plan[i]
                user = ip.random_user_id()
                started = service.start("enrol", user)
                passed = roll >= 0.3
                control(url, "POST", f"/claims/{started['token']}/complete", {"passed": passed, **({} if passed else {"reason": "too_much_movement"})})
                if roll < 0.05:
                    # A fault on this journey's validate: the emulator's rules apply to the next
                    # matching request, so the rule and the request are made together.
                    kind = {"kind": "status", "status": 503} if roll < 0.025 else {"kind": "delay", "delay_ms": 800}
                    with fault_lock:
                        control(url, "POST", "/faults", {"path": "/claim/enrol/validate", **kind})
                        outcome = service.finish(started["journey_id"], started["token"], "soak")
                else:
                    outcome = service.finish(started["journey_id"], started["token"], "soak")
                with told_lock:
                    told[started["journey_id"]] = outcome

            t0 = time.perf_counter()
            with ThreadPoolExecutor(args.threads) as pool:
                list(pool.map(journey, range(args.journeys)))
            elapsed = time.perf_counter() - t0

        # No lost or duplicated result: the store says what each caller was told, and the
        # emulator saw exactly one validate per journey.
        problems = 0
        states: Dict[str, int] = {}
        for journey_id, outcome in told.items():
            record = inner.get(journey_id)
            state = record["attempts"][0]["state"] if record else "missing"
            states[state] = states.get(state, 0) + 1
            if state != outcome["state"] or len(record["attempts"]) != 1:
                problems += 1
        validates = int(control(url, "GET", "/requests?path=/claim/enrol/validate")["count"])
        tokens = int(control(url, "GET", "/requests?path=/claim/enrol/token")["count"])
        if validates != args.journeys or tokens != args.journeys or len(told) != args.journeys:
            problems += 1
        latency = {
            name: {"calls": len(t), "mean_ms": statistics.mean(t) * 1000, "p99_ms": p99(t) * 1000}
            for name, t in sorted(store.times.items())
        }
        result = {
            "store": args.store,
            "journeys": args.journeys,
            "threads": args.threads,
            "seconds": elapsed,
            "journeys_per_s": args.journeys / elapsed,
            "states": states,
            "emulator": {"enrol_token": tokens, "enrol_validate": validates},
            "store_latency": latency,
            "problems": problems,
        }
        print(f"soak ({args.store}, {args.threads} threads): {args.journeys} journeys in {elapsed:.1f} s, "
              f"{args.journeys / elapsed:.0f} journeys/s; outcomes {states}; emulator saw {tokens} token and "
              f"{validates} validate requests; problems: {problems}")
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
