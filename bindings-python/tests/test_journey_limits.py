"""The journey service's per-user limits (issue 22) on real SQLite files and the real
PostgreSQL, against the emulator: token requests per user bounded whatever the requests end
with, a reload or a second tab resumes the user's journey, and the attempts of a flow are not
reset by starting over; within one process and across two."""

from __future__ import annotations

import logging
import time
import uuid
from pathlib import Path
from typing import Any, Dict, List

import pytest
from emulator_fixtures import EU, Emulator
from journey_support import enrolled, make_store, run_procs

import iproov_sansio as ip
from iproov_sansio.httpx import Client
from iproov_sansio.journeys import JourneyService

KINDS = ["sqlite", "postgres"]
#: No retry: each start makes at most one HTTP request, so the emulator counts token requests.
QUICK: Dict[str, Any] = {"timeout": 2.0, "retry": ip.RetryPolicy(max_retries=0)}


@pytest.mark.parametrize("kind", KINDS)
def test_200_starts_by_one_user_make_one_token_request_while_its_token_is_open(
    emulator: Emulator, tmp_path: Path, kind: str
) -> None:
    store, _ = make_store(kind, tmp_path)
    with Client(base_url=emulator.base_url(), **EU) as http:
        svc = JourneyService(http, store, spool=tmp_path / "spool.jsonl")
        user = enrolled(emulator)
        answers = [svc.start("verify", user) for _ in range(200)]
    assert len({(a["journey_id"], a["token"]) for a in answers}) == 1, "a reload resumes the open token"
    assert emulator.count("/claim/verify/token") == 1


@pytest.mark.parametrize("kind", KINDS)
def test_200_failing_starts_by_one_user_make_at_most_the_policys_token_requests(
    emulator: Emulator, tmp_path: Path, kind: str
) -> None:
    store, _ = make_store(kind, tmp_path)
    emulator.fault(path="/claim/verify/token", kind="status", status=503, times=200)
    with Client(base_url=emulator.base_url(), **EU, **QUICK) as http:
        svc = JourneyService(http, store, spool=tmp_path / "spool.jsonl")
        limit = svc.policy["user_token_requests"]
        assert limit == 10
        user = enrolled(emulator)
        seen: List[str] = []
        for _ in range(200):
            try:
                svc.start("verify", user)
                seen.append("token")
            except ip.LimitExceededError as error:
                assert error.limit == "user_token_requests"
                assert error.retry_after_ms is not None and 0 < error.retry_after_ms <= 3_600_000
                assert error.retry_after == error.retry_after_ms / 1000
                seen.append("limit")
            except ip.ServerError:
                seen.append("server")
    assert seen == ["server"] * limit + ["limit"] * (200 - limit)
    assert emulator.count("/claim/verify/token") == limit
    # Another user is not held back by this one's limit.
    with Client(base_url=emulator.base_url(), **EU) as http:
        emulator.control("DELETE", "/faults")
        assert JourneyService(http, store, spool=tmp_path / "spool.jsonl").start("verify", enrolled(emulator))["attempt"] == 1


@pytest.mark.parametrize("kind", KINDS)
def test_the_token_limit_holds_across_two_processes(emulator: Emulator, tmp_path: Path, kind: str) -> None:
    _, proc = make_store(kind, tmp_path)
    emulator.fault(path="/claim/verify/token", kind="status", status=503, times=200)
    user = enrolled(emulator)
    barrier = tmp_path / "barrier"
    barrier.mkdir()
    do = {"starts": 100, "flow": "verify", "user_id": user}
    outs = run_procs([{**proc, "base_url": emulator.base_url(), "quick": True, "do": do}] * 2, barrier=barrier)
    seen = [o.get("error") for out in outs for o in out]
    # Each start ended with iProov's 503, the limit, or (the other process's request out at
    # that moment) "in progress"; never more token requests than the policy allows, and each
    # one iProov saw reached its caller as iProov's error.
    assert set(seen) <= {"ServerError", "LimitExceededError", "InvalidStateError"}, set(seen)
    made = emulator.count("/claim/verify/token")
    counts = {e: seen.count(e) for e in set(seen)}
    assert 0 < made <= 10 and seen.count("ServerError") == made, (made, counts, outs)
    # One CI run under a load of 14 saw 9 requests for the 10 counted (a count taken by a
    # start that did not ask, not given back: fewer tries for the user, never more; not
    # reproduced since under CPU, fsync and store-timing load; issue 22's note). The
    # messages of the "in progress" refusals are kept in ``outs`` for the next one.
    assert seen.count("LimitExceededError") > 0
    # Once both are done, the user's next start anywhere is over the limit.
    [[last]] = run_procs([{**proc, "base_url": emulator.base_url(), "do": {**do, "starts": 1}}])
    assert last["error"] == "LimitExceededError" and last["limit"] == "user_token_requests"
    assert emulator.count("/claim/verify/token") == 10


@pytest.mark.parametrize("kind", KINDS)
def test_a_reload_resumes_the_journey_and_keeps_its_count(emulator: Emulator, tmp_path: Path, kind: str) -> None:
    store, proc = make_store(kind, tmp_path)
    with Client(base_url=emulator.base_url(), **EU) as http:
        svc = JourneyService(http, store, spool=tmp_path / "spool.jsonl")
        user = enrolled(emulator)
        first = svc.start("verify", user)
        # Another instance (a second tab on another server) gets the same open token.
        [[other]] = run_procs([{**proc, "base_url": emulator.base_url(),
                                "do": {"starts": 1, "flow": "verify", "user_id": user}}])
        assert other == {"token": first["token"], "journey_id": first["journey_id"]}
        emulator.complete(first["token"], passed=False, reason="too_much_movement")
        failed = svc.finish(first["journey_id"], first["token"], "pytest")
        assert failed["next"] == "start_attempt" and failed["attempts_left"] == 2
        # The page reloaded: no journey id; attempt 2 of the same journey, not a fresh count.
        second = svc.start("verify", user)
        assert second["journey_id"] == first["journey_id"]
        assert second["attempt"] == 2 and second["attempts_left"] == 1
    assert emulator.count("/claim/verify/token") == 2


@pytest.mark.parametrize("kind", KINDS)
def test_starting_over_after_the_last_attempt_is_refused_with_when(emulator: Emulator, tmp_path: Path, kind: str) -> None:
    store, proc = make_store(kind, tmp_path)
    with Client(base_url=emulator.base_url(), **EU) as http:
        svc = JourneyService(http, store, spool=tmp_path / "spool.jsonl", policy={"attempt_window_ms": 600_000})
        user = enrolled(emulator)
        for attempt in (1, 2, 3):
            started = svc.start("verify", user)
            assert started["attempt"] == attempt
            emulator.complete(started["token"], passed=False, reason="eyes_closed")
            out = svc.finish(started["journey_id"], started["token"], "pytest")
        assert out["next"] == "exhausted" and 0 < out["retry_after_ms"] <= 600_000
        # The same window counted down, never a new one: no later refusal names a longer wait
        # than the exhausted answer did (time only passes; no duration is assumed).
        for journey_id in (None, started["journey_id"]):  # start over, or the old journey
            with pytest.raises(ip.LimitExceededError) as refused:
                svc.start("verify", user, journey_id)
            assert refused.value.limit == "attempts"
            assert 0 < (refused.value.retry_after_ms or 0) <= out["retry_after_ms"]
        # Another process (another instance behind the load balancer) says the same.
        [[again]] = run_procs([{**proc, "base_url": emulator.base_url(), "policy": {"attempt_window_ms": 600_000},
                                "do": {"starts": 1, "flow": "verify", "user_id": user}}])
        assert again["error"] == "LimitExceededError" and again["limit"] == "attempts"
        assert 0 < again["retry_after_ms"] <= out["retry_after_ms"]
    assert emulator.count("/claim/verify/token") == 3


def test_a_rate_limit_holds_token_requests_back_until_retry_after(
    emulator: Emulator, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """iProov's 429 with Retry-After: the service's next starts of that flow are refused with
    the time left and sent nowhere; another flow's endpoint and an open token are not held
    back; once the time has passed, iProov is asked again. Each refusal is a warning line of
    outcome ``too_many_requests`` (README, "Operating it": the rate-limit alert)."""
    caplog.set_level(logging.WARNING, logger="iproov_sansio.journeys")
    store, _ = make_store("sqlite", tmp_path)
    with Client(base_url=emulator.base_url(), **EU, **QUICK) as http:
        svc = JourneyService(http, store, spool=tmp_path / "spool.jsonl")
        opener = enrolled(emulator)
        opened = svc.start("verify", opener)
        emulator.fault(path="/claim/verify/token", kind="status", status=429, headers={"Retry-After": "2"}, times=1)
        with pytest.raises(ip.RateLimitedError) as first:
            svc.start("verify", enrolled(emulator))
        assert first.value.status == 429 and first.value.retry_after_ms == 2000
        for _ in range(20):
            with pytest.raises(ip.RateLimitedError) as held:
                svc.start("verify", enrolled(emulator))
            assert held.value.status is None, "nothing was sent"
            assert 0 < (held.value.retry_after_ms or 0) <= 2000 and held.value.code == "too_many_requests"
        assert emulator.count("/claim/verify/token") == 2  # the open journey's and the refused one
        told = [r for r in caplog.records if getattr(r, "iproov_event", None) == "iproov.journey"]
        assert len(told) == 21 and all(r.levelno == logging.WARNING for r in told)
        assert {(r.iproov["iproov.outcome"], r.iproov["error.type"]) for r in told} == {
            ("too_many_requests", "too_many_requests")}
        # The open token is still the user's (a reload); the enrol endpoint is not held back.
        assert svc.start("verify", opener)["token"] == opened["token"]
        assert svc.start("enrol", str(uuid.uuid4()))["attempt"] == 1
        time.sleep(held.value.retry_after_ms / 1000)  # the hold's time passes (no duration asserted)
        assert svc.start("verify", enrolled(emulator))["attempt"] == 1
    assert emulator.count("/claim/verify/token") == 3
