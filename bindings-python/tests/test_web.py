"""iproov_sansio.web over real HTTP: uvicorn on loopback, the journey service on SQLite, the
emulator behind it. The user comes from the test's stand-in for an application's auth (an
``X-Test-User`` header read by ``resolve_user``), never from the body."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional

import httpx
import pytest
import uvicorn
from emulator_fixtures import EU, Emulator, refuses
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.routing import Mount

import iproov_sansio as ip
from iproov_sansio import _host
from iproov_sansio.httpx import Client
from iproov_sansio.journeys import JourneyService
from iproov_sansio.stores import SQLiteStore
from iproov_sansio.web import ERRORS, browser_error, journey_routes

ROOT = Path(__file__).resolve().parents[2]
ORIGIN = "https://app.example.test"


@contextlib.contextmanager
def serve(app: Any) -> Iterator[str]:
    """``app`` on 127.0.0.1 (any free port) in a thread; yields its URL."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start in 60 s"
        time.sleep(0.01)
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    try:
        yield url
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        sock.close()
        # Stopped and seen gone: its thread ended, its port refusing.
        assert not thread.is_alive(), "uvicorn did not stop within 30 s"
        assert refuses(url), f"{url} still accepts connections"


def resolve_test_user(request: Request) -> Optional[str]:
    return request.headers.get("x-test-user")


class Browser:
    """A browser page of ORIGIN signed in as ``user``: JSON POSTs with its Origin."""

    def __init__(self, url: str, user: Optional[str]) -> None:
        headers = {"Origin": ORIGIN, "User-Agent": "Mozilla/5.0 (pytest)"}
        if user is not None:
            headers["X-Test-User"] = user
        self.http = httpx.Client(base_url=url, headers=headers, timeout=30)

    def post(self, path: str, body: Any, **kw: Any) -> httpx.Response:
        return self.http.post(f"/iproov/{path}", json=body, **kw)


@pytest.fixture
def site(emulator: Emulator, tmp_path: Path) -> Iterator[Dict[str, Any]]:
    with serve_site(emulator, SQLiteStore(tmp_path / "journeys.sqlite3")) as served:
        yield served


@contextlib.contextmanager
def serve_site(emulator: Emulator, store: Any) -> Iterator[Dict[str, Any]]:
    """The journey routes on ``store``, served: ``{"url", "service"}``."""
    client = Client(base_url=emulator.base_url(), **EU)
    service = JourneyService(client, store)
    app = Starlette(routes=[Mount("/iproov", journey_routes(
        service, resolve_user=resolve_test_user, allowed_origins=[ORIGIN], emulator_url=emulator.url,
        validate_wait_s=60))])
    try:
        with serve(app) as url:
            yield {"url": url, "service": service}
    finally:
        client.close()


class CountedReads:
    """``store`` with its journey reads (``get``) counted in ``gets``."""

    def __init__(self, store: Any) -> None:
        self.store = store
        self.gets = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)

    def get(self, *args: Any) -> Any:
        self.gets += 1
        return self.store.get(*args)


def user() -> str:
    return str(uuid.uuid4())


def enrolled(emulator: Emulator) -> str:
    who = user()
    emulator.control("POST", "/users", {"api_key": EU["api_key"], "user_id": who})
    return who


def error_of(response: httpx.Response) -> str:
    body = response.json()
    # Nothing but the code and its fixed message.
    assert body == {"error": {"code": body["error"]["code"], "message": ERRORS[body["error"]["code"]][1]}}
    assert response.status_code == ERRORS[body["error"]["code"]][0]
    return str(body["error"]["code"])


def test_a_journey_through_the_endpoints(emulator: Emulator, site: Dict[str, Any]) -> None:
    who = enrolled(emulator)
    browser = Browser(site["url"], who)
    # A user_id in the body is not what decides: the application's resolve_user does.
    started = browser.post("token", {"flow": "verify", "user_id": "someone-else"})
    assert started.status_code == 200, started.text
    assert started.headers["cache-control"] == "no-store"
    data = started.json()
    assert set(data) == {"journey_id", "token", "sdk_url", "attempt", "attempts_left"}
    assert data["attempt"] == 1 and data["attempts_left"] == 2
    assert emulator.control("GET", f"/claims/{data['token']}")["user_id"] == who
    assert browser.post("emulator/complete", {"token": data["token"], "passed": True}).json() == {"completed": True}
    done = browser.post("validate", {"journey_id": data["journey_id"], "token": data["token"]})
    assert done.status_code == 200, done.text
    assert done.json() == {"journey_id": data["journey_id"], "passed": True, "attempt": 1, "state": "passed",
                           "attempts_left": 2, "next": "done"}
    # The validate carried the browser's User-Agent as the client: what iProov (here the
    # emulator) received.
    assert emulator.control("GET", f"/claims/{data['token']}")["client"] == "Mozilla/5.0 (pytest)"
    audit = site["service"].history(who)[0]["audit"]
    assert [r["operation"] for r in audit] == ["verify_token", "verify_validate"]
    # The journey is over: asking for a token again says so, without a token request.
    again = browser.post("token", {"flow": "verify", "journey_id": data["journey_id"]}).json()
    assert again["next"] == "done" and "token" not in again
    assert emulator.count("/claim/verify/token") == 1


def test_a_failure_then_attempts_run_out(emulator: Emulator, site: Dict[str, Any]) -> None:
    browser = Browser(site["url"], user())
    journey = None
    for attempt in (1, 2, 3):
        body: Dict[str, Any] = {"flow": "enrol"}
        if journey:
            body["journey_id"] = journey
        data = browser.post("token", body).json()
        journey = data["journey_id"]
        assert data["attempt"] == attempt
        browser.post("emulator/complete", {"token": data["token"], "passed": False, "reason": "too_dark"})
        out = browser.post("validate", {"journey_id": journey, "token": data["token"]}).json()
        assert out["passed"] is False and out["reason"] == "too_dark" and out["attempts_left"] == 3 - attempt
        assert out["next"] == ("exhausted" if attempt == 3 else "start_attempt")
    # Named or not (a reload), no new attempt until the journey's window ends: 429 with when.
    for body in ({"flow": "enrol", "journey_id": journey}, {"flow": "enrol"}):
        over = browser.post("token", body)
        assert error_of(over) == "too_many_attempts" and int(over.headers["retry-after"]) > 0
    assert emulator.count("/claim/enrol/token") == 3


def test_a_double_submitted_validate_sends_one_validate(emulator: Emulator, tmp_path: Path) -> None:
    store = CountedReads(SQLiteStore(tmp_path / "journeys.sqlite3"))
    with serve_site(emulator, store) as site:
        browser = Browser(site["url"], enrolled(emulator))
        data = browser.post("token", {"flow": "verify"}).json()
        emulator.complete(data["token"], passed=True)
        # The first validate is held at iProov until this test releases it, and the second is
        # sent once it is there; the release waits until the second has read the journey (the
        # first's thread is in its validate: any read now is the second's). The second met the
        # first in flight, whatever the machine's speed, and waits for its outcome.
        emulator.fault(path="/claim/verify/validate", kind="delay", hold=True)
        body = {"journey_id": data["journey_id"], "token": data["token"]}
        with ThreadPoolExecutor(2) as pool:
            first = pool.submit(browser.post, "validate", body)
            while emulator.control("GET", "/faults")["held"] == 0:
                assert not first.done(), first.result().text
                time.sleep(0.01)
            reads = store.gets
            second = pool.submit(Browser(site["url"], browser.http.headers["x-test-user"]).post, "validate", body)
            deadline = time.monotonic() + 30
            while store.gets == reads:
                assert not second.done(), second.result().text
                assert time.monotonic() < deadline, "the second validate never read the journey"
                time.sleep(0.01)
            assert not first.done() and not second.done(), "a validate was answered while the first was held"
            assert emulator.release() == 1
            answers = [first.result(timeout=30), second.result(timeout=30)]
        assert [a.status_code for a in answers] == [200, 200], [a.text for a in answers]
        # Both get the one stored outcome.
        assert answers[0].json() == answers[1].json()
        assert answers[0].json()["passed"] is True
        assert emulator.count("/claim/verify/validate") == 1
        # A third, later, too.
        assert browser.post("validate", body).json() == answers[0].json()
        assert emulator.count("/claim/verify/validate") == 1


def test_a_fault_during_validate_is_stored_as_outcome_unknown(emulator: Emulator, site: Dict[str, Any]) -> None:
    who = enrolled(emulator)
    browser = Browser(site["url"], who)
    data = browser.post("token", {"flow": "verify"}).json()
    emulator.complete(data["token"], passed=True)
    emulator.fault(path="/claim/verify/validate", kind="status", status=503)
    out = browser.post("validate", {"journey_id": data["journey_id"], "token": data["token"]})
    assert out.status_code == 200
    assert out.json() == {"journey_id": data["journey_id"], "passed": False, "attempt": 1,
                          "state": "outcome_unknown", "attempts_left": 3, "next": "start_attempt"}  # not counted
    stored = site["service"].history(who)[0]["journey"]["attempts"][0]
    assert stored["state"] == "outcome_unknown" and stored["error_code"] == "outcome_unknown"
    # The browser never sees the error code (it stays in the store and the audit).
    assert "error_code" not in out.text


def test_another_users_journey_is_unknown_and_nothing_is_sent(emulator: Emulator, site: Dict[str, Any]) -> None:
    owner = Browser(site["url"], enrolled(emulator))
    data = owner.post("token", {"flow": "verify"}).json()
    emulator.complete(data["token"], passed=True)
    intruder = Browser(site["url"], enrolled(emulator))
    started = time.monotonic()
    assert error_of(intruder.post("validate", {"journey_id": data["journey_id"], "token": data["token"]})) == "journey_conflict"
    assert error_of(intruder.post("token", {"flow": "verify", "journey_id": data["journey_id"]})) == "journey_conflict"
    assert error_of(intruder.post("validate", {"journey_id": str(uuid.uuid4()), "token": data["token"]})) == "journey_conflict"
    # Refused at once: far below validate_wait_s (60), which only a wait could reach.
    assert time.monotonic() - started < 30
    assert emulator.count("/claim/verify/validate") == 0
    assert owner.post("validate", {"journey_id": data["journey_id"], "token": data["token"]}).json()["passed"] is True


def test_requests_a_browser_must_not_make_are_refused(emulator: Emulator, site: Dict[str, Any]) -> None:
    url = site["url"]
    who = enrolled(emulator)
    assert error_of(Browser(url, None).post("token", {"flow": "verify"})) == "unauthenticated"
    browser = Browser(url, who)
    for origin in ("https://evil.example", "null", f"{ORIGIN}.evil.example"):
        assert error_of(browser.post("token", {"flow": "verify"}, headers={"Origin": origin})) == "forbidden_origin"
    no_origin = httpx.post(f"{url}/iproov/token", json={"flow": "verify"}, headers={"X-Test-User": who})
    assert error_of(no_origin) == "forbidden_origin"
    # A cross-site form's content types.
    for media in ("text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"):
        sent = browser.http.post("/iproov/token", content=b'{"flow":"verify"}', headers={"Content-Type": media})
        assert error_of(sent) == "unsupported_media_type"
    assert error_of(browser.http.post("/iproov/token", content=b"{", headers={"Content-Type": "application/json"})) == "bad_request"
    for body in ([], {"flow": "delete"}, {"flow": "verify", "journey_id": 7}, {}):
        assert error_of(browser.post("token", body)) == "bad_request"
    for body in ({"journey_id": "x"}, {"journey_id": "x", "token": 5}):
        assert error_of(browser.post("validate", body)) == "bad_request"
    # A malformed token, or an unknown journey: refused before anything is sent.
    assert error_of(browser.post("validate", {"journey_id": str(uuid.uuid4()), "token": "../../x"})) == "bad_request"
    assert error_of(browser.post("validate", {"journey_id": str(uuid.uuid4()), "token": "ab" * 32})) == "journey_conflict"
    assert error_of(browser.post("token", {"flow": "verify", "pad": "x" * 10_000})) == "payload_too_large"
    assert error_of(browser.post("emulator/complete", {"token": "../reset", "passed": True})) == "bad_request"
    # No CORS: a preflight is not granted.
    preflight = httpx.options(f"{url}/iproov/token", headers={"Origin": "https://evil.example",
                                                             "Access-Control-Request-Method": "POST"})
    assert preflight.status_code == 405 and "access-control-allow-origin" not in preflight.headers
    assert emulator.total() == 0, "nothing reached iProov"


def test_iproov_errors_reach_the_browser_as_codes_only(emulator: Emulator, site: Dict[str, Any], tmp_path: Path) -> None:
    browser = Browser(site["url"], user())
    assert error_of(browser.post("token", {"flow": "verify"})) == "not_enrolled"
    who = enrolled(emulator)
    assert error_of(Browser(site["url"], who).post("token", {"flow": "enrol"})) == "already_enrolled"
    emulator.control("POST", "/users", {"api_key": EU["api_key"], "user_id": who, "status": "Suspended"})
    assert error_of(Browser(site["url"], who).post("token", {"flow": "verify"})) == "account_inactive"
    # Rate limited on the first try and on the client's retries.
    emulator.fault(path="/claim/enrol/token", kind="status", status=429, headers={"Retry-After": "1"}, times=5)
    limited = browser.post("token", {"flow": "enrol"})
    assert error_of(limited) == "try_again" and limited.headers["retry-after"] == "1"
    # A wrong secret (the service's configuration): the browser learns nothing of it.
    wrong = Client(base_url=emulator.base_url(), api_key=EU["api_key"], secret="not-the-secret")
    service = JourneyService(wrong, SQLiteStore(tmp_path / "other.sqlite3"))
    app = Starlette(routes=[Mount("/iproov", journey_routes(service, resolve_user=resolve_test_user, allowed_origins=[ORIGIN]))])
    with serve(app) as url:
        refused = Browser(url, user()).post("token", {"flow": "enrol"})
        assert error_of(refused) == "service_error"
        assert "invalid_key" not in refused.text and "127.0.0.1" not in refused.text
        # Without emulator_url there is no stand-in and no route to the emulator.
        assert httpx.get(f"{url}/iproov/config").json() == {"stand_in": False}
        assert Browser(url, user()).post("emulator/complete", {"token": "a" * 64, "passed": True}).status_code == 404
    wrong.close()


def test_a_bad_user_id_from_the_application_is_a_server_error(emulator: Emulator, tmp_path: Path) -> None:
    client = Client(base_url=emulator.base_url(), **EU)
    service = JourneyService(client, SQLiteStore(tmp_path / "j.sqlite3"))

    async def resolve(request: Request) -> Optional[str]:  # an async resolve_user
        await asyncio.sleep(0)
        return {"bad": "../x", "boom": None}.get(request.headers["x-test-user"], request.headers["x-test-user"])

    def raising(request: Request) -> Optional[str]:
        raise RuntimeError("the session store is down at db.internal:5432")

    app = Starlette(routes=[
        Mount("/a", journey_routes(service, resolve_user=resolve, allowed_origins=[ORIGIN])),
        Mount("/b", journey_routes(service, resolve_user=raising, allowed_origins=[ORIGIN])),
    ])
    headers = {"Origin": ORIGIN}
    with serve(app) as url:
        bad = httpx.post(f"{url}/a/token", json={"flow": "enrol"}, headers={**headers, "X-Test-User": "bad"})
        assert error_of(bad) == "internal_error"
        ok = httpx.post(f"{url}/a/token", json={"flow": "enrol"}, headers={**headers, "X-Test-User": user()})
        assert ok.status_code == 200 and ok.json()["attempt"] == 1
        crashed = httpx.post(f"{url}/b/token", json={"flow": "enrol"}, headers={**headers, "X-Test-User": "x"})
        assert error_of(crashed) == "internal_error" and "db.internal" not in crashed.text
    client.close()


def test_the_page_is_served_with_its_module(emulator: Emulator, site: Dict[str, Any]) -> None:
    page = httpx.get(f"{site['url']}/iproov/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    csp = page.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "connect-src 'self'" in csp
    assert '<script type="module" src="journey.mjs">' in page.text
    module = httpx.get(f"{site['url']}/iproov/journey.mjs")
    assert module.headers["content-type"].startswith("text/javascript") and "import.meta.url" in module.text
    assert httpx.get(f"{site['url']}/iproov/page.css").status_code == 200
    assert httpx.get(f"{site['url']}/iproov/config").json() == {"stand_in": True}


def test_every_error_class_core_names_has_a_browser_code() -> None:
    classes = {cls.__name__: cls for cls in ip.IProovError.__subclasses__()}
    pending = list(classes.values())
    while pending:
        cls = pending.pop()
        classes[cls.__name__] = cls
        pending.extend(cls.__subclasses__())
    seen = set()
    for kind, name in [(c["kind"], c["class"]) for c in _host.INFO["error_classes"]]:
        error = classes[name]({"code": kind, "kind": kind, "message": "internal detail"})
        code, _ = browser_error(error)
        assert code in ERRORS, name
        seen.add(code)
    assert browser_error(ValueError("x")) == ("internal_error", None)
    assert {"journey_conflict", "try_again", "service_error", "bad_request"} <= seen


def test_the_readme_fastapi_example(emulator: Emulator, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The README's FastAPI example as written (fastapi_example.py; its stand-in login a cookie,
    on with DEV_LOGIN=1), on the async service: a journey through the page's own routes, with no thread pool used."""
    import fastapi_example
    from test_web_suite import count_thread_pool_uses, readme_fastapi_env

    readme_fastapi_env(monkeypatch, emulator, tmp_path)
    block = fastapi_example.readme_block()
    assert 12 <= len([line for line in block.splitlines() if line.strip()]) <= 18, "about 15 lines"
    assert "AsyncJourneyService(AsyncClient()" in block and "allowed_origins" not in block
    uses = count_thread_pool_uses(monkeypatch)
    who = user()
    with serve(fastapi_example.readme_app()) as url:
        headers = {"Origin": url, "User-Agent": "Mozilla/5.0 (readme)"}
        with httpx.Client(base_url=f"{url}/iproov/", headers=headers, timeout=30) as browser:
            assert browser.post("token", json={"flow": "enrol"}).json()["error"]["code"] == "unauthenticated"
            browser.cookies.set("dev_user", who)  # the README's stand-in login
            # Off unless DEV_LOGIN=1: the cookie alone names nobody.
            monkeypatch.delenv("DEV_LOGIN")
            assert browser.post("token", json={"flow": "enrol"}).json()["error"]["code"] == "unauthenticated"
            monkeypatch.setenv("DEV_LOGIN", "1")
            # The allowed origin defaults to the app's own: another one is refused.
            other = browser.post("token", json={"flow": "enrol"}, headers={"Origin": "https://app.example.com"})
            assert other.json()["error"]["code"] == "forbidden_origin"
            assert browser.get("config").json() == {"stand_in": True}
            data = browser.post("token", json={"flow": "enrol"}).json()
            assert browser.post("emulator/complete", json={"token": data["token"], "passed": True}).json() == {
                "completed": True}
            done = browser.post("validate", json={"journey_id": data["journey_id"], "token": data["token"]}).json()
            assert done["passed"] is True and done["next"] == "done"
            assert browser.get("").status_code == 200
            assert browser.get("health").json()["status"] == "ok"
    assert uses == {"anyio_to_thread": 0, "asyncio_executor": 0}, "the async routes used a thread pool"
    assert (tmp_path / "journeys.sqlite3").exists()
    state = emulator.control("GET", "/state")
    assert [u["status"] for u in state["users"] if u["user_id"] == who] == ["Active"]
    assert emulator.control("GET", f"/claims/{data['token']}")["client"] == "Mozilla/5.0 (readme)"
