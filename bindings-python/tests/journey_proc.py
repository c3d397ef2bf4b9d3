"""One process of the journey tests that need several (test_journey_faults.py,
test_journey_limits.py): its own client, store and spool, doing what its JSON argument says,
printing one JSON line of what happened.

    {"base_url", "store": "sqlite" | "postgres", "db": path | conninfo, "spool": path | false,
     "oauth": bool, "quick": bool, "timeout"?: s, "policy"?: {...}, "barrier"?: dir, "do": ...}

``barrier``: the process writes ``<dir>/ready-<pid>`` once its service is made, then waits for
``<dir>/go`` (so that processes act at once, not at their start-up's pace), and writes
``<dir>/read`` once its store has first answered a read (so that a test holding another
process's call at the emulator knows this one has met it). ``do``:

- ``{"starts": n, "flow", "user_id", "wait_s"?}``: n starts; prints each answer's token or
  the error's class, limit and retry_after_ms.
- ``{"finish_killed": {"journey_id", "token"}}``: a finish whose store kills this process
  (SIGKILL) when the outcome is written, after iProov answered (and after the spool has it).
- ``{"replay": {"ahead_ms"}}``: replays the spool as it will be ``ahead_ms`` from now.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any, Dict, List

import iproov_sansio as ip
from iproov_sansio.httpx import Client
from iproov_sansio.journeys import JourneyService
from iproov_sansio.stores import PostgresStore, SQLiteStore

EU = {"api_key": "eudefaultkey0000000000000000000000000000", "secret": "eudefaultsecret0000000000000000000000000"}
OAUTH = {"oauth_username": "eu-default-oauth", "oauth_password": "eu-default-oauth-password"}


class KillOnOutcome:
    """A store that SIGKILLs its process when a journey's outcome is written: iProov has
    answered, the spool holds the outcome, the store does not."""

    def __init__(self, store: Any) -> None:
        self.store = store

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)

    def update(self, table: str, record: Dict[str, Any], expected_version: int) -> bool:
        states = [a["state"] for a in record.get("attempts", [])]
        if table == "journeys" and states and states[-1] not in ("issued", "validating"):
            os.kill(os.getpid(), signal.SIGKILL)
        return bool(self.store.update(table, record, expected_version))


class TellsRead:
    """A store that writes ``marker`` once its first ``get`` has answered."""

    def __init__(self, store: Any, marker: Path) -> None:
        self.store = store
        self.marker = marker

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)

    def get(self, *args: Any) -> Any:
        answer = self.store.get(*args)
        self.marker.touch()
        return answer


def main() -> None:
    args = json.loads(sys.argv[1])
    spool = args.get("spool")
    if args["store"] == "sqlite":
        store: Any = SQLiteStore(args["db"])
    else:
        store = PostgresStore(args["db"])
    creds: Dict[str, Any] = {**EU, **(OAUTH if args.get("oauth") else {})}
    if args.get("quick"):
        creds.update(timeout=2.0, retry=ip.RetryPolicy(max_retries=0))
    if "timeout" in args:
        creds.update(timeout=args["timeout"])
    do = args["do"]
    out: Any = None
    with Client(base_url=args["base_url"], **creds) as client:
        if "finish_killed" in do:
            store = KillOnOutcome(store)
        if args.get("barrier"):
            store = TellsRead(store, Path(args["barrier"]) / "read")
        service = JourneyService(client, store, policy=args.get("policy"), spool=spool)
        if args.get("barrier"):
            barrier = Path(args["barrier"])
            (barrier / f"ready-{os.getpid()}").touch()
            deadline = time.monotonic() + 30
            while not (barrier / "go").exists():
                if time.monotonic() > deadline:
                    raise SystemExit("no go within 30 s")
                time.sleep(0.005)
        if "starts" in do:
            seen: List[Any] = []
            for _ in range(do["starts"]):
                try:
                    started = service.start(do["flow"], do["user_id"], wait_s=do.get("wait_s"))
                    seen.append({"token": started.get("token"), "journey_id": started["journey_id"]})
                except ip.IProovError as error:
                    seen.append({"error": type(error).__name__, "limit": getattr(error, "limit", None),
                                 "retry_after_ms": getattr(error, "retry_after_ms", None),
                                 "message": str(error)})
            out = seen
        elif "finish_killed" in do:
            service.finish(do["finish_killed"]["journey_id"], do["finish_killed"]["token"], "killed")
            out = "not killed"
        elif "replay" in do:
            out = service.replay_spool(int(time.time() * 1000) + do["replay"]["ahead_ms"])
    print(json.dumps(out))


if __name__ == "__main__":
    main()
