"""AsyncJourneyService over iproov_sansio.httpx.AsyncClient, on SQLite (its statements on the
loop, a worker thread only for a locked file) and on PostgreSQL (AsyncPostgresStore over
psycopg_pool: its cap, a crash and restart), against the emulator; and the ASGI routes
running it on the event loop: held token requests hold no thread, so other users' validates
answer at once, and a long Retry-After from iProov is answered at once, not slept on."""

from __future__ import annotations

import asyncio
import inspect
import logging
import sqlite3
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Dict, List, Set

import pytest
from emulator_fixtures import EU, Emulator
from journey_support import (LATER_MS, STORE_SECRET, Flaky, PostgresServer, StoreDown, clear_postgres, enrolled,
                             postgres_conninfo)
from starlette.applications import Starlette
from starlette.routing import Mount
from test_web import ORIGIN, Browser, resolve_test_user, serve

import iproov_sansio as ip
from iproov_sansio.httpx import AsyncClient
from iproov_sansio.journeys import AsyncJourneyService
from iproov_sansio.stores import AsyncPostgresStore, SQLiteStore
from iproov_sansio.web import journey_routes


class Readers:
    """``store``, noting which asyncio task read a journey (``readers``): how a test sees a
    waiting submit read the journey while its validate is held. Its ``get`` is a coroutine
    function whatever the store's, so that it runs in the task that reads."""

    def __init__(self, store: Any) -> None:
        self.store = store
        self.readers: Set[Any] = set()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)

    async def get(self, *args: Any) -> Any:
        self.readers.add(asyncio.current_task())
        if inspect.iscoroutinefunction(self.store.get):
            return await self.store.get(*args)
        return await asyncio.to_thread(self.store.get, *args)


async def _store(kind: str, tmp_path: Path) -> Any:
    if kind == "sqlite":
        return SQLiteStore(tmp_path / "journeys.sqlite3")
    conninfo = postgres_conninfo()
    clear_postgres(conninfo)
    return await AsyncPostgresStore.open(conninfo, spool_path=tmp_path / "spool.jsonl")


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
def test_an_async_journey_validates_once_and_keeps_the_limits(emulator: Emulator, tmp_path: Path, kind: str) -> None:
    async def scenario() -> None:
        store = await _store(kind, tmp_path)
        async with AsyncClient(base_url=emulator.base_url(), **EU) as client:
            reading = Readers(store)
            svc = AsyncJourneyService(client, reading)
            user = enrolled(emulator)
            first, again = await asyncio.gather(svc.start("verify", user, wait_s=10), svc.start("verify", user, wait_s=10))
            assert first["token"] == again["token"] and emulator.count("/claim/verify/token") == 1
            emulator.complete(first["token"], passed=True)
            # A double submit: the first's validate held at iProov until this test releases it,
            # two more made once it is there, released once both have read the journey (an
            # overlap by construction, whatever the machine's speed); they wait for it. One
            # validate, and all three get its stored outcome.
            emulator.fault(path="/claim/verify/validate", kind="delay", hold=True)
            held = asyncio.ensure_future(svc.finish(first["journey_id"], first["token"], "pytest", wait_s=60))
            deadline = time.monotonic() + 30
            while emulator.control("GET", "/faults")["held"] == 0:
                assert not held.done(), f"the first submit ended before its validate was held: {held.result()}"
                assert time.monotonic() < deadline, "the first validate never reached iProov"
                await asyncio.sleep(0.01)
            waiting = [asyncio.ensure_future(svc.finish(first["journey_id"], first["token"], "pytest", wait_s=60))
                       for _ in range(2)]
            deadline = time.monotonic() + 30
            while not all(task in reading.readers for task in waiting):
                assert time.monotonic() < deadline, "the two later submits never read the journey"
                await asyncio.sleep(0.01)
            assert not any(task.done() for task in (held, *waiting)), "a submit ended while the validate was held"
            assert emulator.release() == 1
            outs = await asyncio.gather(held, *waiting)
            assert [o["passed"] for o in outs] == [True, True, True]
            assert emulator.count("/claim/verify/validate") == 1
            history = await svc.history(user)
            assert [r["operation"] for r in history[0]["audit"]] == ["verify_token", "verify_validate"]
            assert first["token"] not in str(history[0]["journey"])
            # Starting over after a pass: a new journey; its limits are core's.
            assert svc.policy["max_attempts"] == 3
            nxt = await svc.start("verify", user)
            assert nxt["journey_id"] != first["journey_id"] and nxt["attempt"] == 1
            assert await svc.delete_expired() == 0
        if kind == "postgres":
            await store.close()

    asyncio.run(scenario())


def test_async_postgres_store_opens_at_most_max_size_connections(tmp_path: Path) -> None:
    """``AsyncPostgresStore(max_size=2)`` (psycopg_pool's AsyncConnectionPool): eight calls at
    once while another session holds a lock they need; the server sees two of the store's
    connections waiting on it, never more (the other calls wait in the pool), and once the
    lock goes every call answers."""
    import psycopg

    conninfo = postgres_conninfo()
    clear_postgres(conninfo)
    name = f"iproov-pool-{uuid.uuid4().hex[:8]}"

    def connections() -> int:
        with psycopg.connect(conninfo, autocommit=True) as conn:
            row = conn.execute("SELECT count(*) FROM pg_stat_activity WHERE application_name = %s", (name,)).fetchone()
        return int(row[0]) if row else 0

    async def scenario() -> None:
        store = await AsyncPostgresStore.open(f"{conninfo} application_name={name}", max_size=2, timeout=30)
        try:
            with psycopg.connect(conninfo) as holder:  # a transaction holding the table
                holder.execute("LOCK TABLE iproov_journeys IN ACCESS EXCLUSIVE MODE")
                calls = [asyncio.ensure_future(store.get("journeys", str(uuid.uuid4()))) for _ in range(8)]
                deadline = time.monotonic() + 30
                while connections() < 2:
                    assert time.monotonic() < deadline, "the calls never reached the server"
                    await asyncio.sleep(0.05)
                for _ in range(10):  # the others stay in the pool, however long they wait
                    assert connections() == 2
                    assert not any(c.done() for c in calls)
                    await asyncio.sleep(0.05)
                holder.rollback()
            assert await asyncio.gather(*calls) == [None] * 8
            assert connections() <= 2
        finally:
            await store.close()
        assert connections() == 0, "close() left connections open"

    asyncio.run(scenario())


def test_async_postgres_store_through_a_postgresql_crash_and_restart(tmp_path: Path) -> None:
    """The pool's idle connection, dropped by a crash (``pg_ctl stop -m immediate``) and a
    restart: the next call answers (the dropped connection is replaced before use, not failed
    on). While the server is down a call fails with psycopg's error within the store's
    ``timeout`` (never hangs); once it is back, the pool's workers reconnect by themselves and
    calls answer again."""
    import psycopg

    conninfo = postgres_conninfo()
    clear_postgres(conninfo)
    server = PostgresServer(conninfo)

    async def scenario() -> None:
        store = await AsyncPostgresStore.open(conninfo, spool_path=tmp_path / "spool.jsonl", timeout=3)
        try:
            assert await store.journeys_of("nobody") == []
            server.crash()
            server.start()
            assert await store.journeys_of("nobody") == []
            assert await store.get("journeys", str(uuid.uuid4())) is None
            server.crash()
            try:
                with pytest.raises(psycopg.OperationalError):
                    await asyncio.wait_for(store.journeys_of("nobody"), timeout=60)
            finally:
                server.start()
            deadline = time.monotonic() + 60
            while True:  # the pool's reconnection backs off exponentially: poll, wide window
                try:
                    assert await store.journeys_of("nobody") == []
                    break
                except psycopg.OperationalError:
                    assert time.monotonic() < deadline, "the pool never reconnected"
        finally:
            await store.close()

    asyncio.run(scenario())


def test_an_async_service_keeps_a_pass_through_a_store_outage(emulator: Emulator, tmp_path: Path) -> None:
    async def scenario() -> None:
        store = SQLiteStore(tmp_path / "journeys.sqlite3")
        log: List[str] = []
        flaky = Flaky(store, log)
        async with AsyncClient(base_url=emulator.base_url(), **EU) as client:
            svc = AsyncJourneyService(client, flaky)
            started = await svc.start("verify", enrolled(emulator))
            emulator.complete(started["token"], passed=True)
            flaky.down_at = flaky.calls + 3  # the outcome's write: after the read and `validating`
            with pytest.raises(ip.StoreUnavailableError) as caught:
                await svc.finish(started["journey_id"], started["token"], "pytest")
            assert caught.value.result is not None and caught.value.result["passed"] is True
            assert isinstance(caught.value.__cause__, StoreDown) and STORE_SECRET not in str(caught.value)
            flaky.up()
            assert await svc.replay_spool(int(time.time() * 1000) + LATER_MS) == 1
            assert (store.get("journeys", started["journey_id"]) or {})["attempts"][0]["state"] == "passed"
            assert emulator.count("/claim/verify/validate") == 1

    asyncio.run(scenario())


def test_sqlite_statements_run_on_the_loop_and_a_locked_file_waits_in_a_thread(emulator: Emulator, tmp_path: Path) -> None:
    """SQLiteStore.call_nowait: a write finds the file locked by another connection and does
    nothing, ``(False, None)``; the async service then waits for the lock in a worker
    thread, the event loop serving others meanwhile, and its start completes once the lock
    is released."""
    store = SQLiteStore(tmp_path / "journeys.sqlite3")
    record = {"id": "u-nowait", "version": 1, "expires_at_ms": 1}
    holder = sqlite3.connect(store.path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        assert store.call_nowait("insert", ("users", record)) == (False, None)
    finally:
        holder.execute("ROLLBACK")
    assert store.call_nowait("insert", ("users", record)) == (True, True)
    assert store.call_nowait("get", ("users", "u-nowait"))[1]["id"] == "u-nowait"

    async def scenario() -> None:
        async with AsyncClient(base_url=emulator.base_url(), **EU) as client:
            svc = AsyncJourneyService(client, store)
            user = enrolled(emulator)
            holder.execute("BEGIN EXCLUSIVE")
            start = asyncio.ensure_future(svc.start("verify", user))
            ticks = 0
            while ticks < 20:  # the loop turns while the start waits for the lock
                await asyncio.sleep(0.01)
                ticks += 1
            assert not start.done(), "the start waits for the lock"
            holder.execute("ROLLBACK")
            assert (await asyncio.wait_for(start, 30))["attempt"] == 1

    asyncio.run(scenario())
    assert emulator.count("/claim/verify/token") == 1


def test_a_new_async_service_replays_what_a_dead_one_spooled(emulator: Emulator, tmp_path: Path) -> None:
    """The spool is replayed at the first request of a new service (crash recovery)."""
    async def scenario() -> None:
        store = SQLiteStore(tmp_path / "journeys.sqlite3")
        entry = {"id": "e-1", "journey_id": "gone", "audit": [], "at_ms": 1}
        store.spool_path.write_text(f"{__import__('json').dumps(entry)}\n")
        async with AsyncClient(base_url=emulator.base_url(), **EU) as client:
            svc = AsyncJourneyService(client, store)
            assert store.spool_path.read_text() != ""
            await svc.start("verify", enrolled(emulator))
            # Due and for a journey that is gone: replayed (dropped, said so), the file emptied.
            assert not store.spool_path.exists() or store.spool_path.read_text() == ""

    asyncio.run(scenario())


@pytest.fixture
def async_site(emulator: Emulator, tmp_path: Path) -> Any:
    client = AsyncClient(base_url=emulator.base_url(), **EU)
    service = AsyncJourneyService(client, SQLiteStore(tmp_path / "journeys.sqlite3"))
    app = Starlette(routes=[Mount("/iproov", journey_routes(
        service, resolve_user=resolve_test_user, allowed_origins=[ORIGIN], emulator_url=emulator.url,
        validate_wait_s=10))])
    with serve(app) as url:
        yield {"url": url, "service": service}


def test_the_routes_run_an_async_service(emulator: Emulator, async_site: Dict[str, Any]) -> None:
    browser = Browser(async_site["url"], enrolled(emulator))
    data = browser.post("token", {"flow": "verify"}).json()
    assert data["attempt"] == 1
    assert browser.post("emulator/complete", {"token": data["token"], "passed": True}).json() == {"completed": True}
    done = browser.post("validate", {"journey_id": data["journey_id"], "token": data["token"]})
    assert done.status_code == 200 and done.json()["passed"] is True and done.json()["next"] == "done"


def test_held_token_requests_do_not_delay_other_users_validates(emulator: Emulator, async_site: Dict[str, Any]) -> None:
    url = async_site["url"]
    ready = Browser(url, enrolled(emulator))
    data = ready.post("token", {"flow": "verify"}).json()
    emulator.complete(data["token"], passed=True)
    # 80 users' token requests held 10 s at iProov: more than Starlette's thread pool (40
    # threads), which a blocking service would fill before the validate gets one. Their
    # browsers are made first (each makes its TLS context: seconds for 80 on a loaded machine),
    # so that the requests reach iProov well inside the hold.
    browsers = [Browser(url, str(uuid.uuid4())) for _ in range(80)]
    emulator.fault(path="/claim/enrol/token", kind="delay", delay_ms=10_000, times=80)
    with ThreadPoolExecutor(80) as pool:
        held = [pool.submit(browser.post, "token", {"flow": "enrol"}) for browser in browsers]
        deadline = time.monotonic() + 30
        while emulator.count("/claim/enrol/token") < 40:
            assert time.monotonic() < deadline, "the held token requests did not reach the emulator"
            time.sleep(0.01)
        done = ready.post("validate", {"journey_id": data["journey_id"], "token": data["token"]})
        # An order, not a duration: the validate was answered while every token request was
        # still held (behind a full thread pool it would have waited for held ones to end).
        answered_before = [h for h in held if h.done()]
        assert done.status_code == 200 and done.json()["passed"] is True
        assert answered_before == [], f"a validate waited for {len(answered_before)} held token requests to end"
        assert all(h.result(timeout=30).status_code == 200 for h in held)


def test_a_long_retry_after_is_answered_at_once(
    emulator: Emulator, async_site: Dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="iproov_sansio.web")
    emulator.fault(path="/claim/enrol/token", kind="status", status=429, headers={"Retry-After": "30"}, times=5)
    began = time.monotonic()
    answer = Browser(async_site["url"], str(uuid.uuid4())).post("token", {"flow": "enrol"})
    # Far below the 30 s a retry would sleep first, however loaded the machine.
    assert time.monotonic() - began < 20, "not slept on"
    assert answer.status_code == 503 and answer.headers["retry-after"] == "30"
    assert answer.json()["error"]["code"] == "try_again"
    assert emulator.count("/claim/enrol/token") == 1
    # The refusal is logged at INFO with its code.
    refusals = [r for r in caplog.records if r.name == "iproov_sansio.web" and r.levelno == logging.INFO]
    assert refusals and "try_again" in refusals[0].getMessage() and "too_many_requests" in refusals[0].getMessage()
