"""iProov's rate limit through iproov_sansio.web's ASGI routes (issue 22 items 2 and 5): while the
emulator's ``rate_limited`` preset answers every token request 429 with ``Retry-After: 30``, the
first browser's token request gets 503 ``try_again`` with ``Retry-After: 30`` at once (the service
asked iProov once and sleeps through nothing: a browser here gives up after 20 s, less than the
30 s a retry would wait); the next browsers' get the same answer with the time left, and iProov
is not asked again before then (core's ``service::backoff``). Meanwhile other users' validates
are answered. Over real HTTP (uvicorn on loopback), the real emulator and SQLite; the async
service on the event loop and the blocking one in Starlette's thread pool. No timing is asserted
(issue 26): ``bench/rate-limit.mjs`` measures the latency."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Dict, Iterator, List, Tuple

import httpx
import pytest
from emulator_fixtures import EU, Emulator
from starlette.applications import Starlette
from starlette.routing import Mount
from test_web import ORIGIN, resolve_test_user, serve

from iproov_sansio.httpx import AsyncClient, Client
from iproov_sansio.journeys import AsyncJourneyService, JourneyService
from iproov_sansio.stores import SQLiteStore
from iproov_sansio.web import ERRORS, journey_routes

BROWSERS = 24
#: Longer than any answer takes here, shorter than the Retry-After a retry would sleep through.
GIVE_UP_S = 20.0


@pytest.fixture(params=["async", "blocking"])
def site(request: Any, emulator: Emulator, tmp_path: Path) -> Iterator[str]:
    store = SQLiteStore(tmp_path / "journeys.sqlite3")
    if request.param == "async":
        client: Any = AsyncClient(base_url=emulator.base_url(), **EU)
        service: Any = AsyncJourneyService(client, store)
    else:
        client = Client(base_url=emulator.base_url(), **EU)
        service = JourneyService(client, store)
    app = Starlette(routes=[Mount("/iproov", journey_routes(service, resolve_user=resolve_test_user,
                                                           allowed_origins=[ORIGIN], page=False))])
    with serve(app) as url:
        yield url
    if request.param == "blocking":
        client.close()


def post(url: str, path: str, body: Dict[str, Any], user: str) -> httpx.Response:
    headers = {"Origin": ORIGIN, "User-Agent": "Mozilla/5.0 (pytest)", "X-Test-User": user}
    return httpx.post(f"{url}/iproov/{path}", json=body, headers=headers, timeout=GIVE_UP_S)


def test_a_token_request_under_iproovs_rate_limit_is_answered_503_with_retry_after_at_once(
    emulator: Emulator, site: str
) -> None:
    # Other users, whose captures are done before the rate limit starts.
    others: List[Tuple[str, Dict[str, Any]]] = []
    for _ in range(4):
        who = str(uuid.uuid4())
        started = post(site, "token", {"flow": "enrol"}, who)
        assert started.status_code == 200, started.text
        emulator.complete(started.json()["token"], passed=True)
        others.append((who, started.json()))
    emulator.control("PUT", "/preset", {"name": "rate_limited", "retry_after_secs": 30})
    emulator.control("DELETE", "/requests")

    def browser(_: int) -> httpx.Response:
        return post(site, "token", {"flow": "enrol"}, str(uuid.uuid4()))

    def validate(other: Tuple[str, Dict[str, Any]]) -> httpx.Response:
        who, started = other
        return post(site, "validate", {"journey_id": started["journey_id"], "token": started["token"]}, who)

    refused = {"error": {"code": "try_again", "message": ERRORS["try_again"][1]}}
    first = browser(0)
    assert (first.status_code, first.json()) == (503, refused), first.text
    assert first.headers["retry-after"] == "30", "iProov's Retry-After reaches the browser"
    # One iProov token request: answered at once, never retried.
    assert emulator.count("/claim/enrol/token") == 1

    with ThreadPoolExecutor(BROWSERS + len(others)) as pool:
        tokens = [pool.submit(browser, i) for i in range(BROWSERS)]
        validates = [pool.submit(validate, other) for other in others]
        answers = [t.result() for t in tokens]
        validated = [v.result() for v in validates]

    for answer in answers:
        assert (answer.status_code, answer.json()) == (503, refused), answer.text
        assert 1 <= int(answer.headers["retry-after"]) <= 30, "the time left of iProov's Retry-After"
    # Held back until iProov's Retry-After: not one more token request was sent.
    assert emulator.count("/claim/enrol/token") == 1
    # The other users' validates were answered meanwhile (validate is not rate limited).
    for done in validated:
        assert done.status_code == 200 and done.json()["passed"] is True, done.text
    assert emulator.count("/claim/enrol/validate") == len(others)
