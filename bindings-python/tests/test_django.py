"""iproov_sansio.django over real HTTP: the test project (django_project.py) served by Django's
own threaded WSGI server (runserver's) on 127.0.0.1 in this process, the emulator behind it,
the journeys in Django's database (SQLite, and PostgreSQL as a second alias) through Django's
connection, both with ATOMIC_REQUESTS on. The shared HTTP suite (tests/web/http-suite.json)
walks it with Django's CSRF cookie and token; then Django's CSRF, request.user and the
pseudonymous user_id, the read-only admin, the store inside someone else's transaction, the
migrations and checks; and the README's example as written, in a process of its own."""

from __future__ import annotations

import contextlib
import logging
import os
import re
import subprocess
import sys
import threading
import uuid
from pathlib import Path
from typing import Any, Dict, Iterator, Tuple

import httpx
import pytest

pytest.importorskip("django")

from emulator_fixtures import EU, Emulator, refuses  # noqa: E402
from journey_support import POSTGRES, postgres_conninfo  # noqa: E402
from test_web_suite import ORIGIN, SUITE, walk  # noqa: E402

import iproov_sansio as ip  # noqa: E402

HERE = Path(__file__).resolve().parent
CSRF = "a" * 16 + "B" * 16  # a CSRF secret of Django's form: 32 letters and digits
WITH_CSRF = {"Cookie": f"csrftoken={CSRF}", "X-CSRFToken": CSRF}


@pytest.fixture(scope="module")
def django_ready(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The test project set up once in this process (its settings read the environment once)."""
    import django
    from django.conf import settings

    out = tmp_path_factory.mktemp("django")
    if not settings.configured:
        os.environ.update(IPROOV_TEST_DJANGO_MODE="suite", IPROOV_TEST_DJANGO_DIR=str(out),
                          DJANGO_SETTINGS_MODULE="django_project")
        if POSTGRES:
            os.environ["IPROOV_TEST_POSTGRES_DJANGO"] = _fresh_postgres_database(POSTGRES, "django")
    django.setup()
    from django.core.management import call_command

    for alias in settings.DATABASES:
        if alias != "unmigrated":
            call_command("migrate", database=alias, verbosity=0)
    return Path(settings.DATABASES["default"]["NAME"]).parent


def _fresh_postgres_database(conninfo: str, suffix: str) -> str:
    """A new database beside the suite's own, named after it (``<dbname>_<suffix>``), so that
    suites sharing one server (scripts/platforms.sh runs two at once) never race on one name."""
    import psycopg
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    name = f"{conninfo_to_dict(conninfo).get('dbname') or 'postgres'}_{suffix}"
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {name}")
    return make_conninfo(**{**conninfo_to_dict(conninfo), "dbname": name})


@contextlib.contextmanager
def serve() -> Iterator[str]:
    """The project's WSGI app on a free port of 127.0.0.1, Django's threaded server."""
    from django.core.servers.basehttp import ThreadedWSGIServer
    from django.core.wsgi import get_wsgi_application
    from django.test.testcases import QuietWSGIRequestHandler

    server = ThreadedWSGIServer(("127.0.0.1", 0), QuietWSGIRequestHandler, allow_reuse_address=False)
    server.set_app(get_wsgi_application())
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield url
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=30)
        # Stopped and seen gone: its thread ended, its port refusing.
        assert not thread.is_alive(), "Django's server did not stop within 30 s"
        assert refuses(url), f"{url} still accepts connections"


def iproov_settings(emulator: Emulator, tmp_path: Path, **more: Any) -> Dict[str, Any]:
    return {"BASE_URL": emulator.base_url(), "API_KEY": EU["api_key"], "SECRET": EU["secret"],
            "ALLOWED_ORIGINS": [ORIGIN], "EMULATOR_URL": emulator.url, "VALIDATE_WAIT_S": 60,
            "USER_ID": "django_project.username", "SPOOL": str(tmp_path / "spool.jsonl"), **more}


@pytest.fixture(params=["sqlite", "postgres"])
def site(request: pytest.FixtureRequest, django_ready: Path, emulator: Emulator, tmp_path: Path) -> Iterator[str]:
    from django.test import override_settings

    alias = "default" if request.param == "sqlite" else "postgres"
    if alias == "postgres":
        postgres_conninfo()  # skipped (or failed, in CI) without PostgreSQL
    with override_settings(IPROOV=iproov_settings(emulator, tmp_path, DATABASE=alias)), serve() as url:
        yield url


@pytest.mark.parametrize("case", SUITE["cases"], ids=[c["name"] for c in SUITE["cases"]])
def test_the_shared_http_suite(case: Dict[str, Any], emulator: Emulator, site: str) -> None:
    walk(case, emulator, site, WITH_CSRF)


@pytest.fixture
def sqlite_site(django_ready: Path, emulator: Emulator, tmp_path: Path) -> Iterator[str]:
    from django.test import override_settings

    with override_settings(IPROOV=iproov_settings(emulator, tmp_path)), serve() as url:
        yield url


def test_djangos_csrf_check_runs_after_cores_origin_check(
    emulator: Emulator, sqlite_site: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="iproov_sansio.web")
    who = {"X-Test-User": str(uuid.uuid4()), "Origin": ORIGIN}
    with httpx.Client(base_url=sqlite_site, timeout=30) as browser:
        page = browser.get("/iproov/")
        assert page.status_code == 200 and "csrftoken" in browser.cookies  # the page's CSRF cookie
        token = browser.cookies["csrftoken"]
        # Without Django's token: Django's CSRF check refuses, answered in core's shape and logged.
        refused = browser.post("/iproov/token", json={"flow": "enrol"}, headers=who)
        assert refused.status_code == 403 and refused.json()["error"]["code"] == "csrf_failed"
        assert any("token refused: csrf_failed" in r.getMessage() for r in caplog.records)
        wrong = browser.post("/iproov/token", json={"flow": "enrol"}, headers={**who, "X-CSRFToken": "b" * 32})
        assert wrong.status_code == 403 and wrong.json()["error"]["code"] == "csrf_failed"
        assert emulator.total() == 0
        # Core's checks come first, in core's shape: a foreign origin, a form's content type.
        evil = browser.post("/iproov/token", json={"flow": "enrol"}, headers={**who, "Origin": "https://evil.example"})
        assert evil.json()["error"]["code"] == "forbidden_origin"
        form = browser.post("/iproov/token", content=b"flow=enrol",
                            headers={**who, "Content-Type": "application/x-www-form-urlencoded"})
        assert form.json()["error"]["code"] == "unsupported_media_type"
        # With the token the page reads from the cookie, as journey.mjs sends it.
        started = browser.post("/iproov/token", json={"flow": "enrol"}, headers={**who, "X-CSRFToken": token})
        assert started.status_code == 200, started.text
        assert started.json()["attempt"] == 1
        # A signed-out browser with the token: core's 401.
        anonymous = browser.post("/iproov/token", json={"flow": "enrol"}, headers={"Origin": ORIGIN, "X-CSRFToken": token})
        assert anonymous.json()["error"]["code"] == "unauthenticated"


def test_the_user_is_request_user_and_its_id_pseudonymous(emulator: Emulator, django_ready: Path, tmp_path: Path) -> None:
    from django.conf import settings
    from django.contrib.auth.models import User
    from django.test import override_settings

    name = str(uuid.uuid4())
    headers = {**WITH_CSRF, "Origin": ORIGIN, "X-Test-User": name}
    for secret in (None, "another-secret-of-32-bytes-000000"):
        conf = iproov_settings(emulator, tmp_path, USER_ID=None, USER_ID_SECRET=secret)
        with override_settings(IPROOV=conf), serve() as url:
            started = httpx.post(f"{url}/iproov/token", json={"flow": "enrol"}, headers=headers, timeout=30).json()
        pk = User.objects.get(username=name).pk
        expected = ip.pseudonymous_user_id(secret or settings.SECRET_KEY, str(pk))
        assert emulator.control("GET", f"/claims/{started['token']}")["user_id"] == expected
        assert name not in expected


def test_the_admin_shows_journeys_and_audit_records_read_only(emulator: Emulator, sqlite_site: str) -> None:
    from django.contrib.auth.models import User
    from django.test import Client

    headers = {**WITH_CSRF, "Origin": ORIGIN, "X-Test-User": str(uuid.uuid4())}
    started = httpx.post(f"{sqlite_site}/iproov/token", json={"flow": "enrol"}, headers=headers, timeout=30).json()
    admin = User.objects.create_superuser(f"admin-{uuid.uuid4().hex[:8]}", "admin@example.test", "pw")
    client = Client()
    client.force_login(admin)  # a session in the database; its cookie goes over HTTP below
    with httpx.Client(base_url=f"{sqlite_site}/admin/iproov", cookies={"sessionid": client.cookies["sessionid"].value},
                      timeout=30) as staff:
        listed = staff.get("/journey/")
        assert listed.status_code == 200 and started["journey_id"] in listed.text
        assert "Add journey" not in listed.text
        shown = staff.get(f"/journey/{started['journey_id']}/change/")
        assert shown.status_code == 200 and "enrol_token" in shown.text and "token_issued" in shown.text
        assert started["token"] not in shown.text, "core's view of the journey: no open token"
        assert 'name="_save"' not in shown.text
        assert staff.get("/journey/add/").status_code == 403
        assert staff.get(f"/journey/{started['journey_id']}/delete/").status_code == 403
        audit = staff.get("/auditrecord/", params={"q": started["journey_id"]})
        assert audit.status_code == 200 and "enrol_token" in audit.text
        assert staff.get("/userrecord/").status_code == 200


def test_a_write_inside_someone_elses_transaction_is_refused(
    emulator: Emulator, django_ready: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from django.db import transaction
    from django.test import override_settings

    from iproov_sansio.django.store import DjangoStore
    from iproov_sansio.django.views import journey_service

    store = DjangoStore()
    record = {"id": "u-" + uuid.uuid4().hex, "version": 1, "expires_at_ms": 1, "record": {}}
    with transaction.atomic():
        assert store.get("users", record["id"]) is None  # a read is fine
        with pytest.raises(ip.InvalidStateError, match="inside a transaction it did not open"):
            store.insert("users", record)
    assert "non_atomic_requests" in caplog.text
    assert store.insert("users", record) is True
    assert store.get("users", record["id"]) == record
    with override_settings(IPROOV=iproov_settings(emulator, tmp_path)):
        with transaction.atomic(), pytest.raises(ip.StoreUnavailableError) as failed:
            journey_service().start("enrol", str(uuid.uuid4()))
        assert failed.value.result is None  # nothing happened
        assert emulator.total() == 0


def test_migrations_make_cores_tables_and_checks_name_bad_settings(django_ready: Path, tmp_path: Path) -> None:
    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import call_command
    from django.db import connection
    from django.test import override_settings

    from iproov_sansio.django.apps import check_settings
    from iproov_sansio.django.store import DjangoStore
    from iproov_sansio.django.views import journey_service
    from iproov_sansio.stores import SCHEMA_VERSION

    call_command("makemigrations", "iproov", "--check", "--dry-run", verbosity=0)  # the models match
    with connection.cursor() as cursor:
        cursor.execute("SELECT max(version) FROM iproov_schema")
        assert cursor.fetchone()[0] == SCHEMA_VERSION
    assert DjangoStore().spool_path == Path(f"{settings.DATABASES['default']['NAME']}.iproov-spool.jsonl")
    with override_settings(IPROOV={"REGION": "eu", "API_KEY": "k" * 40, "SECRET": "s" * 40, "TYPO": 1}):
        assert [m.id for m in check_settings()] == ["iproov.E002"]
        with pytest.raises(ImproperlyConfigured, match="TYPO"):
            journey_service()
    with override_settings(IPROOV={}, CSRF_COOKIE_HTTPONLY=True):
        assert [m.id for m in check_settings()] == ["iproov.W001"]
    with override_settings(IPROOV={"PAGE": False}, CSRF_COOKIE_HTTPONLY=True):
        assert check_settings() == []
    out = tmp_path / "out.txt"
    with override_settings(IPROOV={"REGION": "eu", "API_KEY": "k" * 40, "SECRET": "s" * 40}), out.open("w") as sink:
        call_command("iproov_delete_expired", stdout=sink)
    assert re.fullmatch(r"deleted \d+ expired journey\(s\)\n", out.read_text())


def test_no_default_spool_beside_a_postgres_database(django_ready: Path) -> None:
    from django.core.exceptions import ImproperlyConfigured
    from django.test import override_settings

    from iproov_sansio.django.views import journey_service

    postgres_conninfo()  # skipped (or failed, in CI) without PostgreSQL
    with override_settings(IPROOV={"REGION": "eu", "API_KEY": "k" * 40, "SECRET": "s" * 40, "DATABASE": "postgres"}):
        with pytest.raises(ImproperlyConfigured, match="SPOOL"):
            journey_service()


def test_an_unmigrated_database_says_to_migrate(django_ready: Path, caplog: pytest.LogCaptureFixture) -> None:
    from django.db import DatabaseError

    from iproov_sansio.django.store import DjangoStore

    with pytest.raises(DatabaseError):
        DjangoStore("unmigrated").get("journeys", "x")
    assert "has manage.py migrate run?" in caplog.text


def start_project(env: Dict[str, str], cwd: Path) -> Tuple["subprocess.Popen[str]", str]:
    """django_project.py in README mode, migrated and served by Django's threaded server."""
    process = subprocess.Popen([sys.executable, str(HERE / "django_project.py")], cwd=cwd, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert process.stdout is not None
    line = process.stdout.readline()
    match = re.match(r"open (http://\S+)/iproov/", line)
    if not match:
        process.kill()
        raise AssertionError(f"the Django project did not start: {line} {process.communicate()[1]}")
    return process, match.group(1)


def test_the_readme_django_example(emulator: Emulator, tmp_path: Path) -> None:
    env = {**os.environ, "IPROOV_TEST_DJANGO_MODE": "readme", "IPROOV_TEST_DJANGO_DIR": str(tmp_path),
           "IPROOV_BASE_URL": emulator.base_url(), "IPROOV_API_KEY": EU["api_key"], "IPROOV_SECRET": EU["secret"],
           "IPROOV_EMULATOR_URL": emulator.url, "PYTHONPATH": str(HERE)}
    for name in ("IPROOV_REGION", "DJANGO_SETTINGS_MODULE", "IPROOV_TEST_POSTGRES_DJANGO"):
        env.pop(name, None)
    process, url = start_project(env, tmp_path)
    try:
        with httpx.Client(base_url=url, timeout=30) as browser:
            assert browser.get("/iproov/").status_code == 200
            csrf = {"Origin": url, "X-CSRFToken": browser.cookies["csrftoken"]}
            signed_out = browser.post("/iproov/token", json={"flow": "enrol"}, headers=csrf)
            assert signed_out.json()["error"]["code"] == "unauthenticated"
            browser.cookies.set("e2e_user", str(uuid.uuid4()))  # the stand-in login
            who = browser.get("/e2e/whoami").text
            assert re.fullmatch(r"[0-9a-f]{64}", who), who  # pseudonymous: core's HMAC of the pk
            csrf["X-CSRFToken"] = browser.cookies["csrftoken"]  # login() rotates it
            assert browser.get("/iproov/config").json() == {"stand_in": True}
            started = browser.post("/iproov/token", json={"flow": "enrol"}, headers=csrf).json()
            assert emulator.control("GET", f"/claims/{started['token']}")["user_id"] == who
            assert browser.post("/iproov/emulator/complete", json={"token": started["token"], "passed": True},
                                headers=csrf).json() == {"completed": True}
            done = browser.post("/iproov/validate", json={"journey_id": started["journey_id"], "token": started["token"]},
                                headers=csrf).json()
            assert done["passed"] is True and done["next"] == "done"
            assert browser.get("/iproov/nope").json()["error"]["code"] == "not_found"
    finally:
        process.kill()
        process.communicate(timeout=10)
    assert refuses(url), f"the project's port ({url}) still accepts connections"
    assert (tmp_path / "db.sqlite3").exists()
    assert [u["status"] for u in emulator.control("GET", "/state")["users"] if u["user_id"] == who] == ["Active"]


@pytest.mark.parametrize("alias", ["default", "postgres"], ids=["sqlite", "postgres"])
def test_forget_erases_a_user_in_djangos_database_and_at_iproov(
    emulator: Emulator, django_ready: Path, tmp_path: Path, alias: str
) -> None:
    """Erasing one user (issue 27 item 6) through the project's service on DjangoStore: at
    iProov first, then the user's journeys and audit records; another user keeps theirs; the
    erased user's journey id answers as unknown (as test_journey_forget.py on the others)."""
    from django.test import override_settings

    from iproov_sansio.django.views import journey_service

    if alias == "postgres":
        postgres_conninfo()  # skipped (or failed, in CI) without PostgreSQL
    oauth = {"OAUTH_USERNAME": EU["oauth_username"], "OAUTH_PASSWORD": EU["oauth_password"]}
    with override_settings(IPROOV=iproov_settings(emulator, tmp_path, DATABASE=alias, **oauth)):
        svc = journey_service()
        user, other = (str(uuid.uuid4()) for _ in range(2))
        for who in (user, other):
            emulator.control("POST", "/users", {"api_key": EU["api_key"], "user_id": who})
            started = svc.start("verify", who)
            emulator.complete(started["token"], passed=True)
            svc.finish(started["journey_id"], started["token"], "pytest")
        [journey] = svc.history(user)
        assert svc.forget(user, at_iproov=True) == {"journeys": 1, "audit_records": 2, "at_iproov": "deleted"}
        assert svc.history(user) == []
        assert len(svc.history(other)) == 1, "another user keeps theirs"
        with pytest.raises(ip.InvalidStateError, match="no such journey"):
            svc.start("verify", user, journey["journey"]["id"])
        assert svc.forget(user, at_iproov=True)["at_iproov"] == "absent"
    assert emulator.count(f"/users/{user}", method="DELETE") == 2
