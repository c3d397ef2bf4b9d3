"""The journey service under the faults production brings (issue 23), on real SQLite files and
the real PostgreSQL, against the emulator: a store that goes down at each call of a start and
of a finish, PostgreSQL crashed and restarted while finishes run, a process killed between
iProov's answer and the store, an enrol whose validate is lost three ways, and two processes
starting one journey at once."""

from __future__ import annotations

import asyncio
import json
import logging
import signal
import sqlite3
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Dict, List

import pytest
from emulator_fixtures import EU, Emulator
from journey_support import (
    LATER_MS,
    STORE_SECRET,
    Flaky,
    PostgresServer,
    StoreDown,
    Telling,
    enrolled,
    journey_procs,
    make_store,
    postgres_conninfo,
    run_proc,
    run_procs,
    spool_lines,
    wait_for,
)

import iproov_sansio as ip
from iproov_sansio.httpx import AsyncClient, Client
from iproov_sansio.journeys import AsyncJourneyService, JourneyService
from iproov_sansio.stores import SQLiteStore

KINDS = ["sqlite", "postgres"]


def _now() -> int:
    return int(time.time() * 1000)


def _no_store_secret(error: BaseException, caplog: pytest.LogCaptureFixture, spool: Any) -> None:
    assert isinstance(error.__cause__, StoreDown), "the store's exception is the cause"
    shown = [str(error), repr(error), json.dumps(error.to_dict() if isinstance(error, ip.IProovError) else {})]
    shown += [r.getMessage() for r in caplog.records] + [Path(spool).read_text() if Path(spool).exists() else ""]
    assert not [s for s in shown if STORE_SECRET in s or "db.internal" in s]


def _store_calls_of(log: List[str]) -> List[str]:
    return [c for c in log if not c.startswith("call:")]


@pytest.mark.parametrize("kind", KINDS)
def test_a_store_down_at_each_call_of_a_start(
    emulator: Emulator, tmp_path: Path, kind: str, caplog: pytest.LogCaptureFixture
) -> None:
    store, _ = make_store(kind, tmp_path)
    with Client(base_url=emulator.base_url(), **EU) as http:
        log: List[str] = []
        JourneyService(Telling(http, log), Flaky(store, log), spool=tmp_path / "spool.jsonl").start("verify", enrolled(emulator))
        # The store calls of one start, and how many come before the token request.
        before_sending = len(_store_calls_of(log[: log.index("call:verify_token")]))
        calls = _store_calls_of(log)
        assert before_sending >= 3 and len(calls) > before_sending, log
        for n in range(1, len(calls) + 1):
            log = []
            flaky = Flaky(store, log, down_at=n)
            svc = JourneyService(Telling(http, log), flaky, spool=tmp_path / "spool.jsonl")
            user = enrolled(emulator)
            tokens = emulator.count("/claim/verify/token")
            what = f"down at call {n} ({calls[n - 1]})"
            try:
                started = svc.start("verify", user)
            except ip.StoreUnavailableError as error:
                assert error.result is None, what
                _no_store_secret(error, caplog, tmp_path / "spool.jsonl")
                if n <= before_sending:
                    assert emulator.count("/claim/verify/token") == tokens, f"{what}: nothing is sent"
                    flaky.up()
                    continue
                started = None
            else:
                assert n > before_sending, f"{what}: a start needs the store before it sends"
                assert started["attempt"] == 1
            assert emulator.count("/claim/verify/token") == tokens + 1, what
            flaky.up()
            # Back up: the token is the user's journey's (the same one again), or, when the
            # store never took it, the user's claim holds until it lapses: refused at once.
            try:
                again = svc.start("verify", user)
                assert started is None or again["token"] == started["token"], what
            except ip.InvalidStateError as error:
                assert started is None and "in progress" in str(error), what


@pytest.mark.parametrize("kind", KINDS)
def test_a_store_down_at_each_call_of_a_finish(
    emulator: Emulator, tmp_path: Path, kind: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    store, _ = make_store(kind, tmp_path)
    spool = tmp_path / "spool.jsonl"
    with Client(base_url=emulator.base_url(), **EU) as http:
        plain = JourneyService(http, store, spool=spool)

        def ready() -> Dict[str, Any]:
            started = plain.start("verify", enrolled(emulator))
            emulator.complete(started["token"], passed=True)
            return started

        log: List[str] = []
        first = ready()
        JourneyService(Telling(http, log), Flaky(store, log), spool=spool).finish(first["journey_id"], first["token"], "pytest")
        before_sending = len(_store_calls_of(log[: log.index("call:verify_validate")]))
        calls = _store_calls_of(log)
        assert calls[:before_sending] == ["get:journeys", "update:journeys"], log
        for n in range(1, len(calls) + 1):
            started = ready()
            journey_id, what = started["journey_id"], f"down at call {n} ({calls[n - 1]})"
            validates = emulator.count("/claim/verify/validate")
            log = []
            flaky = Flaky(store, log, down_at=n)
            svc = JourneyService(Telling(http, log), flaky, spool=spool)
            caplog.clear()
            try:
                done = svc.finish(journey_id, started["token"], "pytest")
            except ip.StoreUnavailableError as error:
                _no_store_secret(error, caplog, spool)
                assert error.journey_id == journey_id
                if n <= before_sending:
                    assert error.result is None, what
                    assert emulator.count("/claim/verify/validate") == validates, f"{what}: nothing is sent"
                    flaky.up()
                    assert svc.finish(journey_id, started["token"], "pytest")["passed"] is True, what
                    continue
                # iProov answered: the outcome reaches the caller, the log and the spool.
                assert error.result is not None and error.result["passed"] is True, what
                assert error.result["next"] == "done"
                lost = [r for r in caplog.records if r.name == "iproov_sansio.journeys" and r.levelno == logging.ERROR]
                assert lost and journey_id in lost[0].getMessage() and "passed=true" in lost[0].getMessage(), what
                assert not [r for r in caplog.records if started["token"] in r.getMessage()], "no token in a log line"
                assert (store.get("journeys", journey_id) or {})["attempts"][0]["state"] == "validating"
            else:
                assert n > before_sending and done["passed"] is True, what
            assert emulator.count("/claim/verify/validate") == validates + 1, what
            # The spool keeps the outcome without the token (the audit records keep it, as the
            # store's audit does), and nothing secret.
            entries = [e for e in spool_lines(spool) if e.get("journey_id") == journey_id]
            assert entries and all(started["token"] not in json.dumps(e.get("outcome")) for e in entries), what
            assert EU["secret"] not in spool.read_text() and STORE_SECRET not in spool.read_text()
            flaky.up()
            assert svc.replay_spool(_now() + LATER_MS) >= 1, what
            stored = store.get("journeys", journey_id) or {}
            assert stored["attempts"][0]["state"] == "passed", what
            audit = [r["operation"] for r in store.audit_of(journey_id)]
            assert audit.count("verify_validate") == 1 and audit.count("verify_token") == 1, (what, audit)
            # A later submit gets the stored pass; nothing is validated twice.
            assert svc.finish(journey_id, started["token"], "pytest")["passed"] is True
            assert emulator.count("/claim/verify/validate") == validates + 1, what


def test_postgres_crashed_and_restarted_while_finishes_run(emulator: Emulator, tmp_path: Path) -> None:
    conninfo = postgres_conninfo()
    server = PostgresServer(conninfo)
    store, _ = make_store("postgres", tmp_path)
    with Client(base_url=emulator.base_url(), **EU) as http:
        svc = JourneyService(http, store, spool=tmp_path / "spool.jsonl")
        journeys = []
        for _ in range(24):
            started = svc.start("verify", enrolled(emulator))
            emulator.complete(started["token"], passed=True)
            journeys.append(started)
        # Each validate is held 1 s at iProov, so that validates are out when the server goes down
        # (6 rounds of 4: the crash, however slow, lands among them).
        emulator.fault(path="/claim/verify/validate", kind="delay", delay_ms=1000, times=24)
        outcomes: Dict[str, Any] = {}

        def finish(started: Dict[str, Any]) -> None:
            try:
                outcomes[started["journey_id"]] = svc.finish(started["journey_id"], started["token"], "pytest")
            except ip.IProovError as error:
                outcomes[started["journey_id"]] = error

        def answered_but_not_stored() -> List[Any]:
            return [o for o in list(outcomes.values()) if isinstance(o, ip.StoreUnavailableError) and o.result is not None]

        with ThreadPoolExecutor(4) as pool:
            running = [pool.submit(finish, s) for s in journeys]
            wait_for("the first validates", lambda: emulator.count("/claim/verify/validate") >= 4)
            server.crash()
            try:
                # Down until a finish whose validate iProov answered has given up on the store
                # (core tries a failing store for 3 s), or every finish has ended.
                wait_for("a validated finish meeting the outage",
                         lambda: bool(answered_but_not_stored()) or all(r.done() for r in running), timeout=20)
            finally:
                server.start()
            for r in running:
                r.result(timeout=60)
        kinds = {type(o).__name__ for o in outcomes.values()}
        assert kinds <= {"dict", "StoreUnavailableError"}, kinds
        assert answered_but_not_stored(), "the outage met no validate iProov had answered"
        svc.replay_spool(_now() + LATER_MS)
        for started in journeys:
            claim = emulator.control("GET", f"/claims/{started['token']}")
            stored = (store.get("journeys", started["journey_id"]) or {})["attempts"][0]
            outcome = outcomes[started["journey_id"]]
            if claim["status"]["state"] == "validated":
                # Every validate the emulator answered is in the store.
                assert stored["state"] == "passed", (stored, outcome)
            else:
                # Never sent: the store failed first; the token is still the user's to use.
                assert isinstance(outcome, ip.StoreUnavailableError) and outcome.result is None
                assert stored["state"] in ("issued", "validating"), stored
            if isinstance(outcome, ip.StoreUnavailableError) and outcome.result is not None:
                assert outcome.result["passed"] is True


@pytest.mark.parametrize("kind", KINDS)
def test_a_process_killed_after_iproovs_answer_loses_nothing(emulator: Emulator, tmp_path: Path, kind: str) -> None:
    store, proc = make_store(kind, tmp_path)
    with Client(base_url=emulator.base_url(), **EU) as http:
        svc = JourneyService(http, store, spool=proc["spool"] or None)
        started = svc.start("verify", enrolled(emulator))
    emulator.complete(started["token"], passed=True)
    arg = {**proc, "base_url": emulator.base_url()}
    killed = run_proc({**arg, "do": {"finish_killed": {"journey_id": started["journey_id"], "token": started["token"]}}})
    assert killed.returncode == -signal.SIGKILL, killed.stderr.decode()
    assert emulator.count("/claim/verify/validate") == 1
    assert emulator.control("GET", f"/claims/{started['token']}")["status"]["state"] == "validated"
    assert (store.get("journeys", started["journey_id"]) or {})["attempts"][0]["state"] == "validating"
    # A new process (a restart) replays the spool the dead one wrote ahead of the store.
    replayed = run_proc({**arg, "do": {"replay": {"ahead_ms": LATER_MS}}})
    assert replayed.returncode == 0 and json.loads(replayed.stdout) == 1, replayed.stderr.decode()
    stored = store.get("journeys", started["journey_id"]) or {}
    assert stored["attempts"][0]["state"] == "passed"
    assert [r["operation"] for r in store.audit_of(started["journey_id"])] == ["verify_token", "verify_validate"]
    assert emulator.count("/claim/verify/validate") == 1


def _fault_validate(emulator: Emulator, fault: str) -> None:
    if fault == "5xx":
        emulator.fault(path="/claim/enrol/validate", kind="status", status=503)
    elif fault == "timeout":  # held past the client's 2 s deadline, then handled
        emulator.fault(path="/claim/enrol/validate", kind="delay", delay_ms=2500)
    else:  # the answer is lost after iProov handled the validate
        emulator.fault(path="/claim/enrol/validate", kind="reset", after_handler=True)


def _enrol_until_done(svc: JourneyService, emulator: Emulator, user: str) -> Dict[str, Any]:
    """The user's enrol carried on as the page would: start (or resume), capture, finish."""
    for _ in range(3):
        started = svc.start("enrol", user)
        if started.get("next") == "done":
            return started
        emulator.complete(started["token"], passed=True)
        done = svc.finish(started["journey_id"], started["token"], "pytest")
        if done["next"] == "done":
            return done
    raise AssertionError("the enrol did not end done in 3 rounds")


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("fault", ["5xx", "timeout", "reset"])
def test_an_inconclusive_enrol_is_finished_by_its_user(emulator: Emulator, tmp_path: Path, fault: str, kind: str) -> None:
    quick = {"timeout": 2.0, "retry": ip.RetryPolicy(max_retries=0)}
    store, _ = make_store(kind, tmp_path)
    for oauth in (True, False):
        creds = dict(EU) if oauth else {"api_key": EU["api_key"], "secret": EU["secret"]}
        with Client(base_url=emulator.base_url(), **creds, **quick) as http:  # type: ignore[arg-type]
            svc = JourneyService(http, store)
            user = str(uuid.uuid4())
            started = svc.start("enrol", user)
            emulator.complete(started["token"], passed=True)
            _fault_validate(emulator, fault)
            out = svc.finish(started["journey_id"], started["token"], "pytest")
            assert out["state"] == "outcome_unknown" and out["next"] == "start_attempt", out
            assert out["attempts_left"] == 3, "a fault not the user's is not counted"
            if oauth:
                done = _enrol_until_done(svc, emulator, user)
                assert done["passed"] is True and done["next"] == "done"
                state = emulator.control("GET", "/state")
                assert [u["status"] for u in state["users"] if u["user_id"] == user] == ["Active"]
                assert svc.history(user)[0]["journey"]["attempts"][0]["settled_by"] == "users_api"
            else:
                with pytest.raises(ip.ApiError) as refused:
                    svc.start("enrol", user)
                assert refused.value.code == "already_enrolled"
                assert "oauth_username" in refused.value.message


@pytest.mark.parametrize("kind", KINDS)
def test_an_inconclusive_enrol_of_a_user_suspended_at_iproov_names_the_operators_action(
    emulator: Emulator, tmp_path: Path, kind: str
) -> None:
    """After an enrol whose validate got a 5xx, an operator suspended the user at iProov: the
    next start reads the user (users API), asks for no token and answers ``inactive_user``
    naming what the operator must do; every later start answers the same."""
    store, _ = make_store(kind, tmp_path)
    quick = {"timeout": 2.0, "retry": ip.RetryPolicy(max_retries=0)}
    with Client(base_url=emulator.base_url(), **EU, **quick) as http:  # type: ignore[arg-type]
        svc = JourneyService(http, store)
        user = str(uuid.uuid4())
        started = svc.start("enrol", user)
        emulator.complete(started["token"], passed=True)
        _fault_validate(emulator, "5xx")
        out = svc.finish(started["journey_id"], started["token"], "pytest")
        assert out["state"] == "outcome_unknown" and out["next"] == "start_attempt", out
        emulator.control("POST", "/users", {"api_key": EU["api_key"], "user_id": user, "status": "Suspended"})
        reads = emulator.count(f"/users/{user}", "GET")
        for _ in range(2):
            with pytest.raises(ip.ApiError) as refused:
                svc.start("enrol", user)
            assert refused.value.code == "inactive_user"
            assert "activate" in refused.value.message and "delete" in refused.value.message
        assert emulator.count(f"/users/{user}", "GET") > reads, "the users API was asked"
        assert emulator.count("/claim/enrol/token") == 1, "nobody gets a second token"
        assert [u["status"] for u in emulator.control("GET", "/state")["users"] if u["user_id"] == user] == ["Suspended"]
        attempts = svc.history(user)[0]["journey"]["attempts"]
        assert [a["state"] for a in attempts] == ["outcome_unknown"]


#: The store calls the service makes outside a pump: the method, which call of the service's
#: goes down (the history's first is ``journeys_of``, its second ``audit_of``), and the service
#: call (sync, or a coroutine for the async service).
OUTSIDE_A_PUMP = [
    ("journeys_of", 1, lambda svc, user: svc.history(user)),
    ("audit_of", 2, lambda svc, user: svc.history(user)),
    ("delete_expired", 1, lambda svc, user: svc.delete_expired()),
]


@pytest.mark.parametrize("kind", KINDS)
def test_history_and_delete_expired_raise_core_class_when_the_store_fails(
    emulator: Emulator, tmp_path: Path, kind: str, caplog: pytest.LogCaptureFixture
) -> None:
    store, _ = make_store(kind, tmp_path)
    with Client(base_url=emulator.base_url(), **EU) as http:
        user = enrolled(emulator)
        JourneyService(http, store, spool=False).start("verify", user)
        for method, down_at, call in OUTSIDE_A_PUMP:
            log: List[str] = []
            flaky = Flaky(store, log, down_at=down_at)
            svc = JourneyService(http, flaky, spool=False)
            with pytest.raises(ip.StoreUnavailableError) as caught:
                call(svc, user)
            error = caught.value
            assert log[-1] == method, log
            assert (error.store_operation, error.journey_id, error.result) == (method, None, None)
            assert error.code == "store_unavailable"
            _no_store_secret(error, caplog, tmp_path / "no-spool")
            flaky.up()
            assert call(svc, user) is not None, f"{method}: back up, it answers"
        assert len(JourneyService(http, store, spool=False).history(user)) == 1


def test_the_async_history_and_delete_expired_raise_core_class_when_the_store_fails(
    emulator: Emulator, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store = SQLiteStore(tmp_path / "journeys.sqlite3")

    async def scenario() -> None:
        async with AsyncClient(base_url=emulator.base_url(), **EU) as client:
            user = enrolled(emulator)
            await AsyncJourneyService(client, store, spool=False).start("verify", user)
            for method, down_at, call in OUTSIDE_A_PUMP:
                log: List[str] = []
                flaky = Flaky(store, log, down_at=down_at)
                svc = AsyncJourneyService(client, flaky, spool=False)
                with pytest.raises(ip.StoreUnavailableError) as caught:
                    await call(svc, user)
                assert log[-1] == method, log
                assert (caught.value.store_operation, caught.value.journey_id) == (method, None)
                _no_store_secret(caught.value, caplog, tmp_path / "no-spool")
                flaky.up()
                assert await call(svc, user) is not None

    asyncio.run(scenario())


@pytest.mark.parametrize("kind", KINDS)
def test_two_processes_starting_one_journey_make_one_token_request(emulator: Emulator, tmp_path: Path, kind: str) -> None:
    _, proc = make_store(kind, tmp_path)
    user = enrolled(emulator)
    # The first process's token request is held by the emulator, the second process is told
    # to go once that request is there, and the request is released once the second has read
    # the store: it met the first's request out (an overlap by construction, not by the two
    # processes' pace or the machine's speed). "timeout": the first's client outlasts any hold.
    emulator.fault(path="/claim/verify/token", kind="delay", hold=True)
    do = {"starts": 1, "flow": "verify", "user_id": user, "wait_s": 60}
    arg = {**proc, "base_url": emulator.base_url(), "timeout": 90.0, "do": do}
    with journey_procs([arg] * 2, tmp_path / "barrier") as (first, second):
        first.go()
        emulator.until_held(1)
        second.go()
        wait_for("the second process read the store", second.has_read)
        assert first.process.poll() is None, "the first start ended while its token request was held"
        assert emulator.release() == 1
        [a], [b] = first.result(), second.result()
    assert emulator.count("/claim/verify/token") == 1, "one token request for both"
    assert "token" in a and a == b, (a, b)


def test_a_locked_sqlite_store_surfaces_as_core_class(emulator: Emulator, tmp_path: Path) -> None:
    """A write lock held past the busy timeout (another process's transaction): the caller
    gets core's StoreUnavailableError, sqlite3's error as its cause, and nothing is sent."""
    store, _ = make_store("sqlite", tmp_path)
    with Client(base_url=emulator.base_url(), **EU) as http:
        fast = JourneyService(http, SQLiteStore(store.path, timeout=0.05))
        user = enrolled(emulator)
        db = sqlite3.connect(store.path, isolation_level=None)
        db.execute("BEGIN EXCLUSIVE")
        try:
            with pytest.raises(ip.StoreUnavailableError) as caught:
                fast.start("verify", user)
            assert type(caught.value.__cause__).__name__ == "OperationalError"
            assert emulator.count("/claim/verify/token") == 0
        finally:
            db.execute("ROLLBACK")
            db.close()
        assert fast.start("verify", user)["attempt"] == 1
