"""The journey service over both stores (SQLite, PostgreSQL) against the emulator: the same
tests for each store, then validate-once across 8 processes racing through PostgreSQL (their
overlap proved), and a process killed mid-validate."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List

import pytest
from emulator_fixtures import EU, Emulator
from journey_support import wait_for

import iproov_sansio as ip
from iproov_sansio.httpx import Client
from iproov_sansio import journeys as journeys_module
from iproov_sansio.journeys import JourneyService
from iproov_sansio.stores import PostgresStore, SQLiteStore

POSTGRES = os.environ.get("IPROOV_TEST_POSTGRES")
HERE = Path(__file__).resolve().parent


def need_postgres() -> str:
    """The PostgreSQL connection string. Under scripts/test (IPROOV_TEST_REQUIRE_POSTGRES) its
    absence fails the test, as in the JS suite; a developer's bare pytest skips instead."""
    if not POSTGRES:
        if os.environ.get("IPROOV_TEST_REQUIRE_POSTGRES"):
            pytest.fail("IPROOV_TEST_REQUIRE_POSTGRES is set but IPROOV_TEST_POSTGRES is not: start PostgreSQL (scripts/postgres.sh)")
        pytest.skip("IPROOV_TEST_POSTGRES is not set (scripts/test starts PostgreSQL and sets it)")
    return POSTGRES


def _clear_postgres() -> None:
    import psycopg

    with psycopg.connect(POSTGRES or "", autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS iproov_journeys, iproov_audit, iproov_users, iproov_schema")


@pytest.fixture(params=["sqlite", "postgres"])
def store(request: Any, tmp_path: Path) -> Any:
    if request.param == "sqlite":
        return SQLiteStore(tmp_path / "deep" / "journeys.sqlite3")
    url = need_postgres()
    _clear_postgres()
    return PostgresStore(url, spool_path=tmp_path / "spool.jsonl")


@pytest.fixture
def service(emulator: Emulator, store: Any) -> Iterator[Callable[..., JourneyService]]:
    clients: List[Client] = []

    def make(**policy: Any) -> JourneyService:
        client = Client(base_url=emulator.base_url(), **EU)
        clients.append(client)
        return JourneyService(client, store, policy=policy)

    yield make
    for client in clients:
        client.close()


def enrolled(emulator: Emulator) -> str:
    user = str(uuid.uuid4())
    emulator.control("POST", "/users", {"api_key": EU["api_key"], "user_id": user})
    return user


def test_a_pass_is_stored_with_its_audit_and_no_token(emulator: Emulator, service: Any) -> None:
    svc = service()
    user = enrolled(emulator)
    started = svc.start("verify", user)
    assert started["attempt"] == 1 and started["attempts_left"] == 2
    assert started["sdk_url"].startswith("ws://127.0.0.1:")
    emulator.complete(started["token"], passed=True)
    done = svc.finish(started["journey_id"], started["token"], "pytest")
    assert done["passed"] is True and done["next"] == "done"
    history = svc.history(user)
    assert len(history) == 1
    journey = history[0]["journey"]
    assert journey["attempts"][0]["state"] == "passed"
    # The journey forgets the token once validated; the audit records keep it (the guide
    # lists the token for audit).
    assert started["token"] not in json.dumps(journey), "the token is forgotten once validated"
    assert started["token"] in json.dumps(history[0]["audit"])
    outcomes = [(r["operation"], r["outcome"]) for r in history[0]["audit"]]
    assert outcomes == [("verify_token", "token_issued"), ("verify_validate", "passed")]
    assert [r.get("attempt") for r in history[0]["audit"]] == [1, 1]


def test_a_failure_then_a_pass_on_a_new_token(emulator: Emulator, service: Any) -> None:
    svc = service()
    user = enrolled(emulator)
    first = svc.start("verify", user)
    emulator.complete(first["token"], passed=False, reason="too_much_movement")
    failed = svc.finish(first["journey_id"], first["token"], "pytest")
    assert failed == {**failed, "passed": False, "reason": "too_much_movement", "next": "start_attempt", "attempts_left": 2}
    second = svc.start("verify", user, first["journey_id"])
    assert second["attempt"] == 2 and second["token"] != first["token"]
    emulator.complete(second["token"], passed=True)
    assert svc.finish(first["journey_id"], second["token"], "pytest")["next"] == "done"
    assert emulator.count("/claim/verify/validate") == 2


def test_attempts_run_out(emulator: Emulator, service: Any) -> None:
    svc = service(max_attempts=2)
    user = enrolled(emulator)
    journey = None
    for _ in range(2):
        started = svc.start("verify", user, journey)
        journey = started["journey_id"]
        emulator.complete(started["token"], passed=False)
        result = svc.finish(journey, started["token"], "pytest")
    assert result["next"] == "exhausted"
    # Named or not (a reload), the journey takes no new attempt until its window ends.
    for named in (journey, None):
        with pytest.raises(ip.LimitExceededError) as refused:
            svc.start("verify", user, named)
        assert refused.value.limit == "attempts" and (refused.value.retry_after_ms or 0) > 0
    assert emulator.count("/claim/verify/token") == 2


def test_asking_twice_for_a_token_gives_the_same_one(emulator: Emulator, service: Any) -> None:
    svc = service()
    user = enrolled(emulator)
    first = svc.start("verify", user)
    second = svc.start("verify", user, first["journey_id"])
    assert second["token"] == first["token"]
    assert emulator.count("/claim/verify/token") == 1


def test_a_double_submit_sends_one_validate(emulator: Emulator, service: Any) -> None:
    svc = service()
    user = enrolled(emulator)
    started = svc.start("verify", user)
    emulator.complete(started["token"], passed=True)
    # The first submit's validate is held at iProov until this test releases it, and three more
    # are made while it is held: they meet it in progress (an overlap by construction, not by
    # the threads' pace or the machine's speed).
    emulator.fault(path="/claim/verify/validate", kind="delay", hold=True)
    with ThreadPoolExecutor(1) as pool:
        first = pool.submit(svc.finish, started["journey_id"], started["token"], "pytest")
        wait_for("the first validate held at iProov", lambda: emulator.control("GET", "/faults")["held"] == 1 or first.done())
        assert not first.done(), f"the first submit ended before its validate was held: {first.result()}"
        for _ in range(3):
            with pytest.raises(ip.InvalidStateError, match="in progress"):
                svc.finish(started["journey_id"], started["token"], "pytest")
        assert emulator.release() == 1
        assert first.result(timeout=60)["passed"] is True
    assert emulator.count("/claim/verify/validate") == 1
    # Once it is stored, every later submit gets it.
    assert svc.finish(started["journey_id"], started["token"], "pytest")["passed"] is True
    assert emulator.count("/claim/verify/validate") == 1


def test_a_fault_during_validate_is_stored_as_outcome_unknown(emulator: Emulator, service: Any) -> None:
    svc = service()
    user = enrolled(emulator)
    started = svc.start("verify", user)
    emulator.complete(started["token"], passed=True)
    emulator.fault(path="/claim/verify/validate", kind="status", status=503)
    result = svc.finish(started["journey_id"], started["token"], "pytest")
    assert result["state"] == "outcome_unknown" and result["next"] == "start_attempt"
    assert svc.history(user)[0]["journey"]["attempts"][0]["error_code"] == "outcome_unknown"
    assert emulator.count("/claim/verify/validate") == 1


def test_a_journey_is_its_users_only(emulator: Emulator, service: Any) -> None:
    svc = service()
    user = enrolled(emulator)
    started = svc.start("verify", user)
    with pytest.raises(ip.InvalidStateError):
        svc.start("verify", enrolled(emulator), started["journey_id"])
    with pytest.raises(ip.InvalidStateError):
        svc.finish(str(uuid.uuid4()), started["token"], "pytest")
    # With the asking user (as the web endpoints give it), another user's journey is unknown
    # and nothing is sent; its own user validates it.
    emulator.complete(started["token"], passed=True)
    with pytest.raises(ip.InvalidStateError):
        svc.finish(started["journey_id"], started["token"], "pytest", user_id=enrolled(emulator))
    assert emulator.count("/claim/verify/validate") == 0
    done = svc.finish(started["journey_id"], started["token"], "pytest", user_id=user)
    assert done["passed"] is True


def test_journeys_past_their_retention_are_deleted(emulator: Emulator, service: Any) -> None:
    svc = service(retention_ms=1)
    user = enrolled(emulator)
    svc.start("verify", user)
    time.sleep(0.01)
    assert svc.delete_expired() == 1
    assert svc.history(user) == []


def test_an_unusable_policy_is_refused_at_once(emulator: Emulator, store: Any) -> None:
    with Client(base_url=emulator.base_url(), **EU) as client:
        with pytest.raises(ip.InvalidInputError) as caught:
            JourneyService(client, store, policy={"max_attempts": 0})
    assert caught.value.field == "max_attempts"


# --- many processes ---------------------------------------------------------------------------


@contextlib.contextmanager
def workers(args: Dict[str, Any], n: int) -> Iterator[List["subprocess.Popen[bytes]"]]:
    """``n`` journey_worker.py processes, each ready (its client and store made) and waiting
    for a line on its stdin; every one still running at the end is killed and reaped, also
    when an assertion failed."""
    started: List["subprocess.Popen[bytes]"] = []
    try:
        for _ in range(n):
            started.append(subprocess.Popen([sys.executable, str(HERE / "journey_worker.py"), json.dumps(args)],
                                            stdin=subprocess.PIPE, stdout=subprocess.PIPE))
        for process in started:
            assert process.stdout is not None and process.stdout.readline() == b"ready\n"
        yield started
    finally:
        for process in started:
            if process.poll() is None:
                process.kill()
            process.wait(30)
            for stream in (process.stdin, process.stdout):
                if stream is not None:
                    stream.close()


def go(process: "subprocess.Popen[bytes]") -> None:
    assert process.stdin is not None
    process.stdin.write(b"go\n")
    process.stdin.close()


def outcome_of(process: "subprocess.Popen[bytes]") -> Dict[str, str]:
    assert process.stdout is not None
    out = process.stdout.read()
    assert process.wait(120) == 0, out
    return dict(json.loads(out))


def test_eight_processes_racing_validate_each_token_once(emulator: Emulator) -> None:
    url = need_postgres()
    _clear_postgres()
    store = PostgresStore(url)
    journeys = []
    with Client(base_url=emulator.base_url(), **EU) as client:
        svc = JourneyService(client, store, spool=False)
        for _ in range(12):
            started = svc.start("verify", enrolled(emulator))
            emulator.complete(started["token"], passed=True)
            journeys.append([started["journey_id"], started["token"]])
    emulator.control("DELETE", "/requests")
    # "timeout": the workers' client waits out the held validate below (the emulator holds one
    # 60 s at most).
    args = {"base_url": emulator.base_url(), "postgres": url, "journeys": journeys, "timeout": 90.0}
    with workers(args, 8) as racing:
        # The first validate to arrive is held until every other journey's validate has
        # arrived: the other processes go through the journeys in the same order, so each passed
        # the held one meanwhile, and could only meet it in progress (its outcome is stored
        # after the release). The race is a real overlap, which an "in_progress" below proves.
        emulator.fault(path="/claim/verify/validate", kind="delay", hold=True)
        for process in racing:
            go(process)
        emulator.until_held(1)
        wait_for("every other journey's validate at iProov",
                 lambda: emulator.count("/claim/verify/validate") == len(journeys), timeout=50)
        assert emulator.release() == 1
        outputs = [outcome_of(process) for process in racing]
    assert emulator.count("/claim/verify/validate") == len(journeys), "exactly one validate per token"
    seen_in_progress = 0
    for journey_id, _ in journeys:
        seen = [o[journey_id] for o in outputs]
        assert any(s == "passed" for s in seen), seen
        assert all(s in ("passed", "in_progress") for s in seen), seen
        seen_in_progress += seen.count("in_progress")
        stored = store.get("journeys", journey_id)
        assert stored is not None and stored["attempts"][0]["state"] == "passed"
    assert seen_in_progress > 0, "no process ever met another's validate in progress: the race never overlapped"


def test_a_process_killed_mid_validate_leaves_outcome_unknown_and_a_new_attempt(
    emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = need_postgres()
    _clear_postgres()
    store = PostgresStore(url)
    # Core refuses a stale limit shorter than the client's longest validate plus a 10 s
    # margin: a client of 1 s and no retry allows 11 s. Two services here on one store: the
    # default, and 11 s. The victim is a default client (a 20 s validate) held 15 s by the
    # emulator, so nothing but the kill ends its validate: a quick victim would settle it
    # itself after 1 s, a race with the kill on a loaded machine. The victim's limit (its
    # client's) is kept on the attempt and is the one that counts: the 11 s service waits
    # past its own limit and still finds the validate in progress; only once the victim's
    # limit is over (the service's clock moved on by it) is the attempt settled.
    quick = {"timeout": 1.0, "retry": ip.RetryPolicy(max_retries=0)}
    with Client(base_url=emulator.base_url(), **EU, **quick) as client:  # type: ignore[arg-type]
        patient = JourneyService(client, store, spool=False)
        settling = JourneyService(client, store, policy={"stale_validate_ms": 11_000}, spool=False)
        user = enrolled(emulator)
        started = patient.start("verify", user)
        emulator.complete(started["token"], passed=True)
        emulator.fault(path="/claim/verify/validate", kind="delay", delay_ms=15_000)
        args = {"base_url": emulator.base_url(), "postgres": url, "journeys": [[started["journey_id"], started["token"]]]}
        with workers(args, 1) as [victim]:
            go(victim)
            deadline = time.monotonic() + 60
            # Killed once its validate is at the emulator (held there by the delay): the attempt
            # is stored as validating and iProov has the request, whose answer nobody will read.
            while emulator.count("/claim/verify/validate") < 1:
                assert time.monotonic() < deadline, "the worker's validate never reached the emulator"
                time.sleep(0.02)
            assert (store.get("journeys", started["journey_id"]) or {})["attempts"][0]["state"] == "validating"
            victim.kill()
            assert victim.wait(30) == -signal.SIGKILL
        assert store.get("journeys", started["journey_id"])["attempts"][0]["state"] == "validating"  # type: ignore[index]
        with pytest.raises(ip.InvalidStateError, match="in progress"):
            patient.finish(started["journey_id"], started["token"], "pytest")  # within its window: not sent again
        attempt = (store.get("journeys", started["journey_id"]) or {})["attempts"][0]
        assert attempt["stale_validate_ms"] > settling.policy["stale_validate_ms"] == 11_000
        with pytest.raises(ip.InvalidStateError, match="in progress"):
            settling.finish(started["journey_id"], started["token"], "pytest", wait_s=13)  # past its own 11 s
        real_now = journeys_module._now
        monkeypatch.setattr(journeys_module, "_now", lambda: real_now() + attempt["stale_validate_ms"])
        settled = settling.finish(started["journey_id"], started["token"], "pytest")
        assert settled["state"] == "outcome_unknown" and settled["next"] == "start_attempt"
        again = patient.start("verify", user, started["journey_id"])
        assert again["attempt"] == 2 and again["token"] != started["token"]
        assert emulator.count("/claim/verify/validate") == 1
