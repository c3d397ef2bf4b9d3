"""What the journey fault and limit tests share: both stores on real files and the real
PostgreSQL, a store that goes down on demand, a client that says when it calls iProov, the
PostgreSQL server stopped and started again, and processes of journey_proc.py."""

from __future__ import annotations

import contextlib
import glob
import json
import os
import shlex
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple

import pytest
from emulator_fixtures import EU, Emulator

from iproov_sansio.stores import PostgresStore, SQLiteStore

HERE = Path(__file__).resolve().parent
POSTGRES = os.environ.get("IPROOV_TEST_POSTGRES")
#: What a store's failure says in these tests: nothing of it may reach an error, a log line or
#: the spool (a driver's message may quote its connection string).
STORE_SECRET = "password=pg-Secret-8d2f host=db.internal"
#: Entries become due 13 s after they are spooled (core's DUE_MS); a replay "later" looks
#: this far ahead, well inside the 130 s core keeps a tombstone.
LATER_MS = 60_000


def postgres_conninfo() -> str:
    """IPROOV_TEST_POSTGRES, or the test fails (IPROOV_TEST_REQUIRE_POSTGRES set, as
    scripts/test sets it) or is skipped (a run without PostgreSQL)."""
    if not POSTGRES:
        if os.environ.get("IPROOV_TEST_REQUIRE_POSTGRES"):
            pytest.fail("IPROOV_TEST_REQUIRE_POSTGRES is set but IPROOV_TEST_POSTGRES is not (scripts/postgres.sh)")
        pytest.skip("IPROOV_TEST_POSTGRES is not set (scripts/test starts PostgreSQL and sets it)")
    return POSTGRES


def clear_postgres(conninfo: str) -> None:
    import psycopg

    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS iproov_journeys, iproov_audit, iproov_users, iproov_schema")


def make_store(kind: str, tmp_path: Path) -> Tuple[Any, Dict[str, Any]]:
    """A fresh store of ``kind`` and the arguments journey_proc.py needs for the same one."""
    if kind == "sqlite":
        path = tmp_path / "journeys.sqlite3"
        return SQLiteStore(path), {"store": "sqlite", "db": str(path), "spool": None}
    conninfo = postgres_conninfo()
    clear_postgres(conninfo)
    spool = tmp_path / "spool.jsonl"
    return PostgresStore(conninfo, spool_path=spool), {"store": "postgres", "db": conninfo, "spool": str(spool)}


class StoreDown(RuntimeError):
    """What the flaky store raises."""


class Flaky:
    """A store that goes down at its ``down_at``-th call (1-based) and stays down until
    ``up()``; ``log`` (shared with :class:`Telling`) records every call."""

    METHODS = ("get", "insert", "update", "append_audit", "journeys_of", "audit_of", "delete_expired")

    def __init__(self, store: Any, log: List[str], down_at: Optional[int] = None) -> None:
        self.store = store
        self.log = log
        self.calls = 0
        self.down_at = down_at
        self.down = False

    def up(self) -> None:
        self.down_at = None
        self.down = False

    def __getattr__(self, name: str) -> Any:
        target = getattr(self.store, name)
        if name not in self.METHODS:
            return target

        def call(*args: Any) -> Any:
            self.calls += 1
            self.log.append(f"{name}:{args[0]}" if name in ("get", "insert", "update") else name)
            if self.down_at is not None and self.calls >= self.down_at:
                self.down = True
            if self.down:
                raise StoreDown(f"could not reach the database ({STORE_SECRET})")
            return target(*args)

        return call


class Telling:
    """A client that logs each call it makes (``call:<operation>``) in the store's log."""

    def __init__(self, client: Any, log: List[str]) -> None:
        self.client = client
        self.log = log
        self.config = client.config
        self._driver_options = client._driver_options

    def _run(self, operation: str, *args: Any, **kwargs: Any) -> Any:
        self.log.append(f"call:{operation}")
        return self.client._run(operation, *args, **kwargs)


def enrolled(emulator: Emulator) -> str:
    user = str(uuid.uuid4())
    emulator.control("POST", "/users", {"api_key": EU["api_key"], "user_id": user})
    return user


def spool_lines(path: Path) -> List[Dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


class JourneyProc:
    """A journey_proc.py process; with a ``barrier`` directory of its own, it waits there (once
    its service is made) until :meth:`go`."""

    def __init__(self, arg: Dict[str, Any], barrier: Optional[Path]) -> None:
        self.barrier = barrier
        if barrier is not None:
            barrier.mkdir(parents=True, exist_ok=True)
        arg = {**arg, "barrier": str(barrier) if barrier else None}
        self.process = subprocess.Popen([sys.executable, str(HERE / "journey_proc.py"), json.dumps(arg)],
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    def ready(self) -> bool:
        if self.process.poll() is not None:
            _, err = self.process.communicate()
            raise AssertionError(f"journey_proc.py exited ({self.process.returncode}) before it was ready: {err.decode()}")
        return self.barrier is None or any(self.barrier.glob("ready-*"))

    def go(self) -> None:
        assert self.barrier is not None
        (self.barrier / "go").touch()

    def has_read(self) -> bool:
        """Whether its store has answered a read since it started (journey_proc.py)."""
        assert self.barrier is not None
        return (self.barrier / "read").exists()

    def result(self, timeout: float = 120) -> Any:
        out, err = self.process.communicate(timeout=timeout)
        assert self.process.returncode == 0, err.decode()
        return json.loads(out)


@contextlib.contextmanager
def journey_procs(args: List[Dict[str, Any]], barrier: Optional[Path] = None) -> Iterator[List[JourneyProc]]:
    """journey_proc.py once per argument dict. With ``barrier`` (a directory), each waits in a
    directory of its own under it until its :meth:`JourneyProc.go`, and all are ready (their
    services made) when this yields. Every one still running at the end is killed and reaped,
    also when an assertion failed."""
    made: List[JourneyProc] = []
    try:
        for i, arg in enumerate(args):
            made.append(JourneyProc(arg, barrier / f"proc-{i}" if barrier is not None else None))
        if barrier is not None:
            wait_for("the processes ready", lambda: all(p.ready() for p in made), timeout=60)
        yield made
    finally:
        for proc in made:
            if proc.process.poll() is None:
                proc.process.kill()
            proc.process.wait(timeout=30)
            for stream in (proc.process.stdout, proc.process.stderr):
                if stream is not None:
                    stream.close()


def run_procs(args: List[Dict[str, Any]], barrier: Optional[Path] = None, timeout: float = 120) -> List[Any]:
    """Runs journey_proc.py once per argument dict (at once when ``barrier`` is given: each
    waits until every one is ready), and gives each one's printed JSON."""
    with journey_procs(args, barrier) as procs:
        if barrier is not None:
            for proc in procs:
                proc.go()
        return [proc.result(timeout) for proc in procs]


def run_proc(arg: Dict[str, Any], timeout: float = 60) -> "subprocess.CompletedProcess[bytes]":
    return subprocess.run([sys.executable, str(HERE / "journey_proc.py"), json.dumps(arg)],
                          capture_output=True, timeout=timeout)


class PostgresServer:
    """The server behind IPROOV_TEST_POSTGRES (scripts/postgres.sh's, on this machine),
    stopped and started with pg_ctl as its owner."""

    def __init__(self, conninfo: str) -> None:
        import psycopg

        with psycopg.connect(conninfo, autocommit=True) as conn:
            row = conn.execute("SHOW data_directory").fetchone()
        self.data = Path(row[0]) if row else Path()
        bins = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
        if not bins or not (self.data / "postmaster.opts").exists():
            pytest.fail(f"cannot find pg_ctl and the cluster of {self.data}: the test needs the local server")
        self.pg_ctl = bins[-1]
        argv = shlex.split((self.data / "postmaster.opts").read_text())[1:]
        # The options the server runs with, but its data directory (pg_ctl -D gives it).
        self.options = [a for i, a in enumerate(argv) if a != "-D" and (i == 0 or argv[i - 1] != "-D")]
        self.as_owner = ["runuser", "-u", "postgres", "--"] if os.getuid() == 0 else []

    def _ctl(self, *args: str) -> None:
        subprocess.run([*self.as_owner, self.pg_ctl, "-D", str(self.data), *args], check=True,
                       capture_output=True, timeout=60)

    def crash(self) -> None:
        """``pg_ctl stop -m immediate``: every backend killed, no checkpoint (a crash)."""
        self._ctl("-m", "immediate", "-w", "stop")

    def start(self) -> None:
        log = self.data.parent / "log"
        self._ctl("-l", str(log if log.exists() else self.data / "restart.log"), "-w",
                  "-o", " ".join(shlex.quote(a) for a in self.options), "start")


def wait_for(what: str, check: Callable[[], bool], timeout: float = 30) -> None:
    """Polls ``check`` until it holds (``timeout``: an upper bound, failing the test)."""
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"{what}: not within {timeout} s"
        time.sleep(0.01)
