"""iproov_sansio.flask over real HTTP: a Flask app with the blueprint, served by werkzeug's
threaded server on 127.0.0.1, the journey service on SQLite, the emulator behind it. The
user comes from a callback over Flask's session (the tests' stand-in login puts the
``X-Test-User`` header's name there). The shared HTTP suite walks it, and the README's example
as written (its own stand-in login, DEV_LOGIN=1 and a ``dev_user`` cookie); then what is
Flask's and what is the blueprint's under and beside its prefix; and the README's example in a
process of its own (flask_example.py)."""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
import sys
import threading
import uuid
from pathlib import Path
from typing import Any, Dict, Iterator

import httpx
import pytest

pytest.importorskip("flask")

from emulator_fixtures import EU, Emulator, refuses  # noqa: E402
from flask import Flask, request, session  # noqa: E402
import flask_example  # noqa: E402
from test_web_suite import ORIGIN, SUITE, dev_login, readme_fastapi_env, walk  # noqa: E402

from iproov_sansio.flask import iproov_blueprint  # noqa: E402
from iproov_sansio.httpx import Client  # noqa: E402
from iproov_sansio.journeys import JourneyService  # noqa: E402
from iproov_sansio.stores import SQLiteStore  # noqa: E402

HERE = Path(__file__).resolve().parent


@contextlib.contextmanager
def serve(app: Flask) -> Iterator[str]:
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_port}"
    try:
        yield url
    finally:
        server.shutdown()
        server.server_close()  # shutdown() ends the loop; the listening socket stays open without this
        thread.join(timeout=30)
        # Stopped and seen gone: its thread ended, its port refusing.
        assert not thread.is_alive(), "werkzeug's server did not stop within 30 s"
        assert refuses(url), f"{url} still accepts connections"


def make_app(service: JourneyService, **options: Any) -> Flask:
    app = Flask(__name__)
    app.secret_key = "test-only-" + "f" * 32

    @app.before_request
    def sign_in() -> None:  # the tests' stand-in for a login: the session holds the user
        session["user_id"] = request.headers.get("X-Test-User")

    app.register_blueprint(iproov_blueprint(service, resolve_user=lambda: session.get("user_id"), **options),
                           url_prefix="/iproov")
    return app


@pytest.fixture
def site(emulator: Emulator, tmp_path: Path) -> Iterator[str]:
    with Client(base_url=emulator.base_url(), **EU) as client:
        service = JourneyService(client, SQLiteStore(tmp_path / "journeys.sqlite3"))
        app = make_app(service, allowed_origins=[ORIGIN], emulator_url=emulator.url, validate_wait_s=60)
        with serve(app) as url:
            yield url


@pytest.mark.parametrize("case", SUITE["cases"], ids=[c["name"] for c in SUITE["cases"]])
def test_the_shared_http_suite(case: Dict[str, Any], emulator: Emulator, site: str) -> None:
    walk(case, emulator, site)


@pytest.fixture
def readme_site(emulator: Emulator, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[str]:
    # What the FastAPI example reads, the Flask one reads too (IPROOV_*, DEV_LOGIN, its directory).
    readme_fastapi_env(monkeypatch, emulator, tmp_path)
    monkeypatch.setenv("FLASK_SECRET_KEY", "test-only-" + "r" * 32)
    with serve(flask_example.readme_app()) as url:
        yield url


@pytest.mark.parametrize("case", SUITE["cases"], ids=[c["name"] for c in SUITE["cases"]])
def test_the_shared_http_suite_on_the_readme_example(case: Dict[str, Any], emulator: Emulator, readme_site: str) -> None:
    # The example allows its own origin only (the default): the browser's requests carry it.
    walk(case, emulator, readme_site, origin=readme_site, sign_in=dev_login)


def test_the_prefix_is_the_blueprints_and_the_rest_flasks(site: str) -> None:
    moved = httpx.get(f"{site}/iproov")
    assert moved.status_code == 308 and moved.headers["location"].endswith("/iproov/")
    assert httpx.get(f"{site}/iproov/").headers["content-security-policy"].startswith("default-src 'self'")
    assert httpx.head(f"{site}/iproov/journey.mjs").status_code == 200
    under = httpx.delete(f"{site}/iproov/deep/er/path")
    assert under.status_code == 404 and under.json()["error"]["code"] == "not_found"
    beside = httpx.get(f"{site}/elsewhere")
    assert beside.status_code == 404 and beside.headers["content-type"].startswith("text/html")  # Flask's own page


def test_the_readme_flask_example(emulator: Emulator, tmp_path: Path) -> None:
    env = {**os.environ, "FLASK_SECRET_KEY": "test-only-" + "s" * 32, "IPROOV_BASE_URL": emulator.base_url(),
           "IPROOV_API_KEY": EU["api_key"], "IPROOV_SECRET": EU["secret"], "IPROOV_EMULATOR_URL": emulator.url,
           "DEV_LOGIN": "1"}
    env.pop("IPROOV_REGION", None)
    process = subprocess.Popen([sys.executable, str(HERE / "flask_example.py")], cwd=tmp_path, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        match = re.match(r"open (http://\S+)/iproov/", line)
        assert match, f"the example did not start: {line}"
        url = match.group(1)
        who = str(uuid.uuid4())
        with httpx.Client(base_url=url, headers={"Origin": url}, timeout=30) as browser:
            assert browser.get("/iproov/").status_code == 200
            signed_out = browser.post("/iproov/token", json={"flow": "enrol"})
            assert signed_out.json()["error"]["code"] == "unauthenticated"
            browser.cookies.set("dev_user", who)  # the README's stand-in login
            started = browser.post("/iproov/token", json={"flow": "enrol"}).json()
            assert emulator.control("GET", f"/claims/{started['token']}")["user_id"] == who
            assert browser.post("/iproov/emulator/complete", json={"token": started["token"], "passed": True}).json() == {
                "completed": True}
            done = browser.post("/iproov/validate", json={"journey_id": started["journey_id"], "token": started["token"]})
            assert done.json()["passed"] is True and done.json()["next"] == "done"
    finally:
        process.kill()
        process.communicate(timeout=10)
    assert match and refuses(match.group(1)), f"the example's port ({line.strip()}) still accepts connections"
    assert (tmp_path / "journeys.sqlite3").exists()
