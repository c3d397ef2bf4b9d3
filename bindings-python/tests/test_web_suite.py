"""tests/web/http-suite.json walked against iproov_sansio.web on uvicorn: the same HTTP-level
scenarios and application failures (``errors``) the JS handler walks
(bindings-node/test/web.test.mjs), so both hosts answer alike. The file's descriptions say
what each step does. Walked on a Starlette app over the blocking
service (Starlette's thread pool), and on the README's FastAPI example as written
(fastapi_example.py: AsyncJourneyService), where no request may use anyio's thread pool. Each
refusal must be logged at INFO with its code (Django's and Flask's walks check the same)."""

from __future__ import annotations

import json
import logging
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Optional

import anyio.to_thread
import fastapi_example
import httpx
import pytest
from emulator_fixtures import EU, Emulator
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.routing import Mount
from test_web import resolve_test_user, serve

import iproov_sansio
from iproov_sansio.httpx import Client
from iproov_sansio.journeys import JourneyService
from iproov_sansio.stores import SQLiteStore
from iproov_sansio.web import ERRORS, journey_routes

SUITE = json.loads((Path(__file__).resolve().parents[2] / "tests/web/http-suite.json").read_text(encoding="utf-8"))
ORIGIN: str = SUITE["origin"]


def raised(spec: Optional[Dict[str, Any]]) -> Exception:
    """An ``errors`` entry's failure: the package's class of that name made from the JSON."""
    if spec is None:
        return RuntimeError("the session store is down")
    cls = getattr(iproov_sansio, spec["class"])
    assert issubclass(cls, iproov_sansio.IProovError), spec
    error: Exception = cls(spec["json"])
    return error


def resolve_suite_user(request: Request) -> Optional[str]:
    """The suite's user (``X-Test-User``); with ``X-Test-Raise``, the failure of that ``errors`` entry."""
    entry = request.headers.get("x-test-raise")
    if entry is not None:
        raise raised(SUITE["errors"][int(entry)]["raise"])
    return resolve_test_user(request)


@pytest.fixture
def site(emulator: Emulator, tmp_path: Path) -> Iterator[str]:
    client = Client(base_url=emulator.base_url(), **EU)
    service = JourneyService(client, SQLiteStore(tmp_path / "journeys.sqlite3"))
    routes = journey_routes(service, resolve_user=resolve_suite_user, allowed_origins=[ORIGIN],
                            emulator_url=emulator.url, validate_wait_s=60)
    with serve(Starlette(routes=[Mount("/iproov", routes)])) as url:
        yield url
    client.close()


def substitute(value: Any, last: Dict[str, Any]) -> Any:
    if isinstance(value, str) and value.startswith("$") and value[1:] in last:
        return last[value[1:]]
    if isinstance(value, list):
        return [substitute(v, last) for v in value]
    if isinstance(value, dict):
        return {k: substitute(v, last) for k, v in value.items()}
    return value


def what_of(step: Dict[str, Any]) -> str:
    return json.dumps(step)


def check(step: Dict[str, Any], answer: httpx.Response, elapsed_s: float, last: Dict[str, Any]) -> None:
    what = what_of(step)
    if "status" in step:
        assert answer.status_code == step["status"], f"{what}: {answer.status_code} {answer.text}"
    if "error" in step:
        status, message = ERRORS[step["error"]]
        assert answer.json() == {"error": {"code": step["error"], "message": message}}, f"{what}: {answer.text}"
        assert answer.status_code == status, what
    if "json" in step:
        assert answer.json() == substitute(step["json"], last), f"{what}: {answer.text}"
    if "keys" in step:
        assert set(answer.json()) == set(step["keys"]), f"{what}: {answer.text}"
    for name, value in substitute(step.get("fields", {}), last).items():
        assert answer.json().get(name) == value, f"{what}: {name} in {answer.text}"
    for name, value in step.get("headers", {}).items():
        assert answer.headers.get(name) == value, f"{what}: header {name}: {answer.headers.get(name)}"
    for name, parts in step.get("header_contains", {}).items():
        assert all(part in answer.headers.get(name, "") for part in parts), f"{what}: header {name}"
    assert all(part in answer.text for part in step.get("contains", [])), what
    assert not any(part in answer.text for part in step.get("absent", [])), f"{what}: {answer.text}"
    if "within_ms" in step:
        assert elapsed_s * 1000 < step["within_ms"], what


@pytest.mark.parametrize("case", SUITE["cases"], ids=[c["name"] for c in SUITE["cases"]])
def test_the_shared_http_suite(case: Dict[str, Any], emulator: Emulator, site: str) -> None:
    walk(case, emulator, site)


@pytest.mark.parametrize("index", range(len(SUITE["errors"])), ids=[e["name"] for e in SUITE["errors"]])
def test_the_shared_suites_errors(index: int, site: str) -> None:
    entry = SUITE["errors"][index]
    headers = {"Origin": ORIGIN, "Content-Type": "application/json", "X-Test-Raise": str(index)}
    answer = httpx.post(f"{site}/iproov/token", headers=headers, content=json.dumps({"flow": "enrol"}), timeout=30)
    status, message = ERRORS[entry["error"]]
    assert answer.json() == {"error": {"code": entry["error"], "message": message}}, answer.text
    assert answer.status_code == status
    assert answer.headers.get("retry-after") == entry["retry_after"]


def readme_fastapi_env(monkeypatch: pytest.MonkeyPatch, emulator: Emulator, tmp_path: Path) -> None:
    """What the README's FastAPI example reads: the emulator's EU service through IPROOV_*, the
    emulator's URL (the page's stand-in), DEV_LOGIN (its stand-in login), and a working
    directory for its SQLite file."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("IPROOV_BASE_URL", emulator.base_url("eu"))
    monkeypatch.delenv("IPROOV_REGION", raising=False)
    monkeypatch.setenv("IPROOV_API_KEY", EU["api_key"])
    monkeypatch.setenv("IPROOV_SECRET", EU["secret"])
    monkeypatch.setenv("IPROOV_EMULATOR_URL", emulator.url)
    monkeypatch.setenv("DEV_LOGIN", "1")  # the example's stand-in login, on


def count_thread_pool_uses(monkeypatch: pytest.MonkeyPatch) -> Dict[str, int]:
    """Counts from now on the uses of anyio's thread pool (Starlette's and FastAPI's
    run_in_threadpool), as fastapi_example.py does in its own process, and of asyncio's default
    executor by the example's app (``fastapi_example.USES``, reset here)."""
    uses = fastapi_example.USES
    uses.update(anyio_to_thread=0, asyncio_executor=0)
    monkeypatch.setattr(anyio.to_thread, "run_sync", fastapi_example.counted(anyio.to_thread.run_sync, uses))
    return uses


@pytest.fixture
def readme_fastapi_site(emulator: Emulator, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[str]:
    readme_fastapi_env(monkeypatch, emulator, tmp_path)
    with serve(fastapi_example.readme_app()) as url:
        yield url


@pytest.mark.parametrize("case", SUITE["cases"], ids=[c["name"] for c in SUITE["cases"]])
def test_the_shared_http_suite_on_the_readme_fastapi_example_with_no_thread_pool(
    case: Dict[str, Any], emulator: Emulator, readme_fastapi_site: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    uses = count_thread_pool_uses(monkeypatch)
    # The example allows its own origin only (the default): the browser's requests carry it.
    walk(case, emulator, readme_fastapi_site, origin=readme_fastapi_site, sign_in=dev_login)
    # Neither Starlette's thread pool nor asyncio's executor: the SQLite store's statements ran
    # on the loop (its file was never locked here).
    assert uses == {"anyio_to_thread": 0, "asyncio_executor": 0}, "the async routes used a thread pool"
    # The counts count: a blocking call through Starlette's thread pool is one, one through
    # asyncio.to_thread (asyncio's default executor) another.
    assert httpx.post(f"{readme_fastapi_site}/e2e/threadpool").status_code == 200
    assert uses == {"anyio_to_thread": 1, "asyncio_executor": 0}
    assert httpx.post(f"{readme_fastapi_site}/e2e/executor").json() == {"ran": "asyncio_0"}
    assert uses == {"anyio_to_thread": 1, "asyncio_executor": 1}


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.lines: List[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.levelno == logging.INFO:
            self.lines.append(record.getMessage())


def header_login(user: str) -> Dict[str, str]:
    """The tests' own sites' login: an ``X-Test-User`` header."""
    return {"X-Test-User": user}


def dev_login(user: str) -> Dict[str, str]:
    """The README examples' stand-in login (with DEV_LOGIN=1): a ``dev_user`` cookie."""
    return {"Cookie": f"dev_user={user}"}


def walk(case: Dict[str, Any], emulator: Emulator, site: str, extra: Optional[Dict[str, str]] = None,
         origin: str = ORIGIN, sign_in: Callable[[str], Dict[str, str]] = header_login) -> None:
    """One case of the suite against the site at ``site`` (mounted at /iproov), the user named
    by ``sign_in``'s headers (an ``X-Test-User`` header by default); ``extra``: headers every request carries besides (the
    framework's own, e.g. Django's CSRF cookie and token); ``origin``: the page's origin the
    requests carry (the suite's; a site that allows only its own, its own). Each refusal (an
    error answer below 500) must be logged at INFO on ``iproov_sansio.web`` with its code (the
    site serves in this process)."""
    logger = logging.getLogger("iproov_sansio.web")
    records = _Records()
    level = logger.level
    logger.addHandler(records)
    logger.setLevel(logging.INFO)
    try:
        _walk(case, emulator, site, extra, origin, records.lines, sign_in)
    finally:
        logger.removeHandler(records)
        logger.setLevel(level)


def _refusals(lines: List[str], code: str) -> int:
    return sum(1 for line in lines if f"refused: {code}" in line)


def _walk(case: Dict[str, Any], emulator: Emulator, site: str, extra: Optional[Dict[str, str]], origin: str,
          logged: List[str], sign_in: Callable[[str], Dict[str, str]]) -> None:
    users = {"self": str(uuid.uuid4()), "other": str(uuid.uuid4())}
    last: Dict[str, Any] = {}
    for step in case["steps"]:
        action = step.get("emulator")
        if action in ("enrol", "suspend"):
            user: Dict[str, Any] = {"api_key": EU["api_key"], "user_id": users["self"]}
            if action == "suspend":
                user["status"] = "Suspended"
            emulator.control("POST", "/users", user)
        elif action == "complete":
            emulator.complete(last["token"], passed=True)
        elif action == "fault":
            emulator.control("POST", "/faults", step["fault"])
        elif action == "client":
            assert emulator.control("GET", f"/claims/{last['token']}").get("client") == step["is"], json.dumps(step)
        elif "count" in step:
            assert emulator.count(step["count"]) == step["is"], json.dumps(step)
        elif "total" in step:
            assert emulator.total() == step["total"], json.dumps(step)
        else:
            method = next(m for m in ("post", "get", "options") if m in step)
            headers = {"Origin": origin, "User-Agent": "Mozilla/5.0 (suite)", **(extra or {})}
            if method == "post":
                headers["Content-Type"] = "application/json"
            who = step.get("user", "self")
            if who != "none":
                headers.update(sign_in(users[who]))
            for name, value in step.get("send", {}).items():
                headers.pop(name, None)
                if value is not None:
                    headers[name] = value
            content = step.get("content")
            if content is None and "body" in step:
                body = substitute(step["body"], last)
                if "pad_bytes" in step:
                    body["pad"] = "x" * step["pad_bytes"]
                content = json.dumps(body)

            def send() -> httpx.Response:
                return httpx.request(method.upper(), f"{site}/iproov/{step[method]}", headers=headers,
                                     content=content, timeout=30)

            refusal = "error" in step and ERRORS[step["error"]][0] < 500
            before = _refusals(logged, step["error"]) if refusal else 0
            started = time.monotonic()
            if "twice" in step:
                with ThreadPoolExecutor(2) as pool:
                    first = pool.submit(send)
                    seen = emulator.count(step["twice"])
                    while seen == 0:  # the first reached iProov, where the fault holds it
                        assert not first.done(), f"{what_of(step)}: the first answered before it reached {step['twice']}"
                        time.sleep(0.01)
                        seen = emulator.count(step["twice"])
                    second = pool.submit(send)  # while the first is in flight
                    answers: List[httpx.Response] = [first.result(timeout=30), second.result(timeout=30)]
                assert answers[0].json() == answers[1].json(), [a.text for a in answers]
            else:
                answers = [send()]
            elapsed = time.monotonic() - started
            for answer in answers:
                check(step, answer, elapsed, last)
            if refusal:  # logged before the answer was written
                seen = _refusals(logged, step["error"]) - before
                assert seen == len(answers), f"{what_of(step)}: {seen} refusals logged as 'refused: {step['error']}'"
            if method == "post" and step[method] == "token" and answers[0].status_code == 200 and "token" in answers[0].json():
                last = answers[0].json()
