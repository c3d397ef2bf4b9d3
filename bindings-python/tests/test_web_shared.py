"""What every Python framework adapter shares (iproov_sansio.web.JourneyEndpoints), without a
framework: a journey through its blocking driver against the emulator, every refusal logged
at INFO with its code, the framework's own guard, and the page with iProov's Web SDK (core's
page decision: its Content-Security-Policy, and config naming the script)."""

from __future__ import annotations

import json
import logging
import uuid
from pathlib import Path
from typing import Any, Iterator, List, Optional, Tuple

import pytest
from emulator_fixtures import EU, Emulator
from starlette.testclient import TestClient

import iproov_sansio as ip
from iproov_sansio import _host
from iproov_sansio.httpx import Client
from iproov_sansio.journeys import JourneyService
from iproov_sansio.stores import SQLiteStore
from iproov_sansio.web import ERRORS, Answer, Incoming, JourneyEndpoints, journey_routes

ORIGIN = "https://app.example.test"
SDK = "https://cdn.example.com/iproov/5/iProovMe.js"


@pytest.fixture
def service(emulator: Emulator, tmp_path: Path) -> Iterator[JourneyService]:
    with Client(base_url=emulator.base_url(), **EU) as client:
        yield JourneyService(client, SQLiteStore(tmp_path / "j.sqlite3"))


def call(endpoints: JourneyEndpoints, method: str, path: Optional[str], body: Any = None, *, user: Optional[str] = "u",
         origin: Optional[str] = ORIGIN, content_type: Optional[str] = "application/json",
         guard: Any = None) -> Tuple[Answer, Any]:
    data = json.dumps(body).encode() if body is not None else b""
    reads: List[int] = []

    def read(n: int) -> bytes:
        nonlocal data
        reads.append(n)
        chunk, data = data[:3], data[3:]  # a few bytes at a time, as a socket may give them
        return chunk

    incoming = Incoming(method, path, origin, "http://127.0.0.1:1", content_type, "Mozilla/5.0 (shared)")
    answer = endpoints.serve(incoming, read_body=read, resolve_user=lambda: user, guard=lambda: guard)
    return answer, json.loads(answer.body) if answer.headers.get("Content-Type") == "application/json" and answer.body else None


def test_a_journey_through_the_blocking_driver(emulator: Emulator, service: JourneyService) -> None:
    endpoints = JourneyEndpoints(service, allowed_origins=[ORIGIN], emulator_url=emulator.url)
    who = str(uuid.uuid4())
    answer, started = call(endpoints, "POST", "/token", {"flow": "enrol"}, user=who)
    assert answer.status == 200 and answer.headers["Cache-Control"] == "no-store", answer
    assert set(started) == {"journey_id", "token", "sdk_url", "attempt", "attempts_left"}
    answer, done = call(endpoints, "POST", "/emulator/complete", {"token": started["token"], "passed": True}, user=who)
    assert done == {"completed": True}
    answer, outcome = call(endpoints, "POST", "/validate", {"journey_id": started["journey_id"], "token": started["token"]},
                           user=who)
    assert outcome["passed"] is True and outcome["next"] == "done"
    assert service.history(who)[0]["journey"]["attempts"][0]["state"] == "passed"
    page, _ = call(endpoints, "GET", "/")
    assert page.status == 200 and page.headers["Content-Type"] == "text/html; charset=utf-8"
    assert b'<script type="module" src="journey.mjs">' in page.body
    assert call(endpoints, "HEAD", "/")[0].body == b""
    assert call(endpoints, "GET", "/config")[1] == {"stand_in": True}


def test_every_refusal_is_logged_at_info_with_its_code(
    emulator: Emulator, service: JourneyService, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="iproov_sansio.web")
    endpoints = JourneyEndpoints(service, allowed_origins=[ORIGIN])
    refusals = [
        ("forbidden_origin", call(endpoints, "POST", "/token", {"flow": "enrol"}, origin="https://evil.example")),
        ("unsupported_media_type", call(endpoints, "POST", "/token", {"flow": "enrol"}, content_type="text/plain")),
        ("payload_too_large", call(endpoints, "POST", "/token", {"flow": "enrol", "pad": "x" * 9000})),
        ("unauthenticated", call(endpoints, "POST", "/token", {"flow": "enrol"}, user=None)),
        ("bad_request", call(endpoints, "POST", "/token", {"flow": "delete"})),
        ("not_found", call(endpoints, "GET", "/nope")),
        ("not_found", call(endpoints, "GET", None)),
        ("not_found", call(endpoints, "POST", "/emulator/complete", {"token": "a", "passed": True})),
        ("method_not_allowed", call(endpoints, "GET", "/token")),
        ("not_enrolled", call(endpoints, "POST", "/token", {"flow": "verify"}, user=str(uuid.uuid4()))),
    ]
    logged = [r.getMessage() for r in caplog.records if r.name == "iproov_sansio.web" and r.levelno == logging.INFO]
    assert len(logged) == len(refusals), logged
    for (code, (answer, body)), line in zip(refusals, logged):
        assert body == {"error": {"code": code, "message": ERRORS[code][1]}}, (code, body)
        assert answer.status == ERRORS[code][0]
        assert f"refused: {code}" in line, (code, line)
    assert call(endpoints, "GET", "/token")[0].headers["Allow"] == "POST"
    assert emulator.count("/claim/verify/token") == 1
    assert emulator.count("/claim/enrol/token") == 0


def test_the_frameworks_own_guard_refuses_in_cores_shape(service: JourneyService, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="iproov_sansio.web")
    endpoints = JourneyEndpoints(service, allowed_origins=[ORIGIN])

    class Refusal:
        status_code = 403

    own = Refusal()
    answer, body = call(endpoints, "POST", "/token", {"flow": "enrol"}, guard=own)
    assert answer.status == 403 and body["error"]["code"] == "csrf_failed"
    assert any("token refused: csrf_failed" in r.getMessage() for r in caplog.records)
    # Core's checks come first: a foreign origin is core's refusal, in core's shape.
    assert call(endpoints, "POST", "/token", {}, origin="https://evil.example", guard=own)[1]["error"]["code"] == "forbidden_origin"


def test_the_page_with_iproovs_sdk_has_cores_policy_and_config_names_the_script(tmp_path: Path) -> None:
    with Client("eu", api_key=EU["api_key"], secret=EU["secret"]) as client:
        service = JourneyService(client, SQLiteStore(tmp_path / "j.sqlite3"))
        with TestClient(journey_routes(service, resolve_user=lambda r: None, sdk_script=SDK)) as web:
            page = web.get("/")
            config = web.get("/config").json()
        expected = _host.web_decide("page", {"sdk_script": SDK, "sdk_url": ip.Region.EU.streaming_url})["headers"]
        assert page.headers["content-security-policy"] == expected["Content-Security-Policy"]
        assert "script-src 'self' https://cdn.example.com 'wasm-unsafe-eval'" in page.headers["content-security-policy"]
        assert "wss://eu.rp.secure.iproov.me" in page.headers["content-security-policy"]
        assert config == {"stand_in": False, "sdk_script": SDK}
        # The assets' origin too; without the SDK the page keeps core's strict policy.
        assets = JourneyEndpoints(service, sdk_script=SDK, assets_url="https://assets.example.com/sdk/")
        assert "worker-src 'self' blob: https://assets.example.com;" in call(assets, "GET", "/")[0].headers["Content-Security-Policy"]
        plain = call(JourneyEndpoints(service), "GET", "/")[0].headers["Content-Security-Policy"]
        assert "script-src 'self';" in plain and "cdn.example.com" not in plain
        # A URL core cannot put in a policy is refused when the routes are made.
        for bad, field in (("http://cdn.example.com/x.js", "sdk_script"), ("https://cdn.example.com/x.js; script-src *", "sdk_script")):
            with pytest.raises(ip.InvalidInputError) as refused:
                journey_routes(service, resolve_user=lambda r: None, sdk_script=bad)
            assert refused.value.field == field
        with pytest.raises(ip.InvalidInputError) as refused:
            JourneyEndpoints(service, sdk_script=SDK, assets_url="ftp://x")
        assert refused.value.field == "assets_url"


def test_a_base_url_gives_its_streaming_host(tmp_path: Path) -> None:
    with Client(base_url="https://us.rp.secure.iproov.me/api/v2", api_key="k" * 40, secret="s" * 40) as client:
        endpoints = JourneyEndpoints(JourneyService(client, SQLiteStore(tmp_path / "j.sqlite3")), sdk_script=SDK)
        assert "wss://us.rp.secure.iproov.me" in call(endpoints, "GET", "/")[0].headers["Content-Security-Policy"]


def test_the_emulator_and_iproovs_sdk_do_not_mix(emulator: Emulator, service: JourneyService) -> None:
    # The emulator's tokens stream nowhere a real SDK could go (http, not wss): core says so.
    with pytest.raises(ip.InvalidInputError) as refused:
        JourneyEndpoints(service, sdk_script=SDK)
    assert refused.value.field == "sdk_url"
