"""Issue 13 in the Python clients: one whole deadline per request (a server dripping bytes
cannot hold a call), redirects never followed whatever client is handed in, decompressed
bytes capped while streaming, a failing audit hook never replaces the call's outcome, and a
leak probe: recognisable credentials, every error kind provoked, every string form scanned,
the log records, spans and metric labels of the run too (and the scan run on planted leaks,
so that it can fail)."""

from __future__ import annotations

import base64
import gzip
import json
import logging
import pickle
import socket
import subprocess
import tempfile
import threading
import time
import traceback
import urllib.parse
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Tuple

import httpx
import pytest
import requests as requests_lib
from clients import KINDS, make_client, close_client
from emulator_fixtures import EU, Emulator, _binary, stopped
from scenario_telemetry import Capture, telemetry_texts

import iproov_sansio as ip
import iproov_sansio.httpx

NO_RETRY = ip.RetryPolicy(max_retries=0)


class RawServer:
    """A one-purpose HTTP server on loopback: ``answer(conn)`` writes whatever it likes."""

    def __init__(self, answer: Callable[[socket.socket], None]) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.hits = 0
        self._answer = answer
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.hits += 1
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn: socket.socket) -> None:
        try:
            conn.recv(65536)
            self._answer(conn)
        except OSError:
            pass
        finally:
            conn.close()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/eu"

    def close(self) -> None:
        self.sock.close()


DRIP_BYTES = 400
DRIP_EVERY_S = 0.2


def drip(headers_too: bool) -> Callable[[socket.socket], None]:
    def answer(conn: socket.socket) -> None:
        head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n" % DRIP_BYTES
        if not headers_too:
            conn.sendall(head)
            head = b""
        for byte in head + b" " * DRIP_BYTES:
            conn.sendall(bytes([byte]))
            time.sleep(DRIP_EVERY_S)  # each read gets a byte well within any per-read timeout

    return answer


# requests exposes no socket before the response headers, so its own per-read timeouts apply
# there: the headers case is not made for it.
DRIPS = [(kind, headers_too) for kind in KINDS for headers_too in (False, True) if not (kind == "requests" and headers_too)]


@pytest.mark.parametrize(("kind", "headers_too"), DRIPS,
                         ids=[f"{'headers' if h else 'body'}-{k}" for k, h in DRIPS])
def test_a_dripping_server_cannot_hold_a_call_past_its_deadline(kind: str, headers_too: bool) -> None:
    server = RawServer(drip(headers_too))
    loop = __import__("asyncio").new_event_loop()
    client = make_client(kind, loop, base_url=server.base_url, **EU, timeout=1.0, retry=NO_RETRY)
    try:
        started = time.monotonic()
        with pytest.raises(ip.TimeoutError):
            client.availability()
        took = time.monotonic() - started
        # The drip lasts 80 s or more; ending anywhere near the 1 s deadline, however loaded the
        # machine, shows the deadline ended it (not a per-read timeout, nor the answer's end).
        assert took < DRIP_BYTES * DRIP_EVERY_S / 4, f"{kind}: held for {took:.1f} s with a 1 s deadline"
    finally:
        close_client(client, loop)
        loop.close()
        server.close()


def test_an_async_send_that_never_started_before_its_deadline_was_not_sent() -> None:
    """A validate that waits for httpx's one pooled connection (held by another request) past
    its deadline never left: ``connect_timeout``, retried as nothing was sent, and never
    ``outcome_unknown`` whichever of httpx's pool timeout and the send's own deadline fires
    first (the trace says no request headers went out)."""
    import asyncio

    release = threading.Event()
    server = RawServer(lambda conn: release.wait(60))
    loop = asyncio.new_event_loop()
    http = httpx.AsyncClient(limits=httpx.Limits(max_connections=1))
    records: List[Dict[str, Any]] = []
    client = ip.httpx.AsyncClient(base_url=server.base_url, **EU, timeout=1.0, http_client=http,
                                  retry=ip.RetryPolicy(max_retries=1, base_delay_ms=10), audit=records.append)

    async def scenario() -> BaseException:
        held = asyncio.ensure_future(http.get(f"{server.base_url}/held", timeout=None))
        while server.hits == 0:  # the other request holds the only connection
            await asyncio.sleep(0.01)
        try:
            await client.verify_validate(user_id="u-1", token="a" * 64, client="pytest")
        except ip.IProovError as error:
            return error
        finally:
            release.set()
            await asyncio.gather(held, return_exceptions=True)
        raise AssertionError("the validate gave a result")

    try:
        error = loop.run_until_complete(scenario())
        assert isinstance(error, ip.TimeoutError) and "no connection" in error.message, repr(error)
        assert server.hits == 1, "the validate reached the server"
        assert [r["outcome"] for r in records] == ["error", "error"], records
    finally:
        release.set()
        loop.run_until_complete(http.aclose())
        loop.close()
        server.close()


def redirect_to(target: RawServer) -> Callable[[socket.socket], None]:
    def answer(conn: socket.socket) -> None:
        conn.sendall(
            b"HTTP/1.1 307 Temporary Redirect\r\nLocation: http://127.0.0.1:%d/steal\r\nContent-Length: 0\r\n\r\n"
            % target.port
        )

    return answer


@pytest.mark.parametrize("kind", KINDS)
def test_a_redirect_is_never_followed_even_by_a_client_that_follows_them(kind: str) -> None:
    thief = RawServer(lambda conn: conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}"))
    server = RawServer(redirect_to(thief))
    loop = __import__("asyncio").new_event_loop()
    own: Dict[str, Any] = {}
    if kind == "httpx":
        own["http_client"] = httpx.Client(follow_redirects=True)
    elif kind == "httpx_async":
        own["http_client"] = httpx.AsyncClient(follow_redirects=True)
    else:
        session = requests_lib.Session()
        session.max_redirects = 5
        own["session"] = session
    client = make_client(kind, loop, base_url=server.base_url, **EU, retry=NO_RETRY, **own)
    try:
        with pytest.raises(ip.DecodeError) as caught:
            client.enrol_token(user_id="u-1", resource="Onboarding")
        assert caught.value.code == "unexpected_status" and caught.value.status == 307
        assert thief.hits == 0, "the JSON body (with the API secret) went to the redirect target"
    finally:
        close_client(client, loop)
        loop.close()
        server.close()
        thief.close()


_BOMB: List[bytes] = []


def bomb() -> bytes:
    """64 MiB of zeros gzipped (~64 KB on the wire), made before memory is traced."""
    if not _BOMB:
        _BOMB.append(gzip.compress(b"\0" * (64 * 1024 * 1024), 9))
    return _BOMB[0]


def gzip_bomb(conn: socket.socket) -> None:
    payload = bomb()
    conn.sendall(
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Encoding: gzip\r\nContent-Length: %d\r\n\r\n"
        % len(payload)
        + payload
    )


@pytest.mark.parametrize("kind", KINDS)
def test_a_gzip_bomb_is_cut_at_the_cap_while_inflating(kind: str) -> None:
    import tracemalloc

    bomb()
    server = RawServer(gzip_bomb)
    loop = __import__("asyncio").new_event_loop()
    client = make_client(kind, loop, base_url=server.base_url, **EU, retry=NO_RETRY)
    try:
        tracemalloc.start()
        with pytest.raises(ip.DecodeError) as caught:
            client.availability()
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        assert caught.value.code == "body_too_large"
        # The cap is 16 MiB: the body may reach it once, plus the copies handed to core.
        assert peak < 48 * 1024 * 1024, f"{kind}: {peak / 2**20:.0f} MiB at the peak"
    finally:
        close_client(client, loop)
        loop.close()
        server.close()


@pytest.mark.parametrize("kind", KINDS)
def test_a_failing_audit_hook_never_replaces_the_outcome(
    kind: str, emulator: Emulator, caplog: pytest.LogCaptureFixture
) -> None:
    def hook(record: Dict[str, Any]) -> None:
        raise RuntimeError("the audit store is down")

    loop = __import__("asyncio").new_event_loop()
    client = make_client(kind, loop, base_url=emulator.base_url(), **EU, audit=hook)
    try:
        user_id = "trust-" + kind
        claim = client.enrol_token(user_id=user_id, resource="Onboarding")
        emulator.complete(claim.token, passed=True)
        with caplog.at_level(logging.ERROR, logger="iproov_sansio"):
            result = client.enrol_validate(user_id=user_id, token=claim.token, client="pytest")
        assert result.passed is True  # the consumed validate's outcome reached the caller
        assert "the audit hook raised" in caplog.text and "the audit store is down" in caplog.text
    finally:
        close_client(client, loop)
        loop.close()


# --- the leak probe ----------------------------------------------------------------------------

PROBE = {
    "api_key": "leakprobekey0000000000000000000000000000",
    "secret": "sec-LeakProbe/Qm7+Zr2Wx9\"x",
    "oauth_username": "oauth-leakprobe-7c2d",
    "oauth_password": "pw-LeakProbe&Hd4 Lk8Ns1",
}


CLIENT_CREDENTIALS = [("secret", PROBE["secret"]), ("oauth_password", PROBE["oauth_password"]),
                      ("basic", PROBE["oauth_username"] + ":" + PROBE["oauth_password"])]


def forms(value: str) -> List[str]:
    """The forms a credential travels in: raw, JSON-escaped, percent-encoded, base64; and each
    of the first three shown once more through JSON or a Python repr (a JSON body kept in a
    field, then ``json.dumps``'d or ``repr``'d, has its escapes escaped again)."""
    raw = value.encode()
    out = {value, json.dumps(value)[1:-1], urllib.parse.quote(value, safe=""), urllib.parse.quote_plus(value)}
    for shown in list(out):
        out |= {json.dumps(shown)[1:-1], repr(shown)[1:-1], repr(shown.encode())[2:-1]}
    for lead in range(3):
        encoded = base64.b64encode(b"\0" * lead + raw).decode().rstrip("=")
        skip = (0, 2, 3)[lead]
        out.add(encoded[skip : len(encoded) - (1 if (lead + len(raw)) % 3 else 0)])
    return sorted(f for f in out if len(f) >= 6)


def strings(value: Any) -> List[str]:
    """Every string a value holds, at any depth: a form kept verbatim in a field (a JSON-escaped
    secret in a body excerpt) is escaped once more by ``json.dumps`` and ``repr``, where no
    form would match it."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in strings(v)]
    if isinstance(value, (list, tuple)):
        return [s for v in value for s in strings(v)]
    return []


def texts_of(errors: List[BaseException], records: List[Dict[str, Any]], objects: List[Any]) -> List[str]:
    """Every string form of the errors, audit records and other objects (clients, configs) a
    host may log or store, and every string they hold."""
    shown: List[str] = []
    for error in errors:
        shown += [str(error), repr(error)]
        shown += traceback.format_exception(type(error), error, error.__traceback__)
        if isinstance(error, ip.IProovError):
            shown += [json.dumps(error.to_dict()), repr(pickle.loads(pickle.dumps(error)).to_dict())]
            shown += strings(error.to_dict())
    for record in records:
        shown += [json.dumps(record), repr(record)] + strings(record)
    shown += [repr(o) for o in objects]
    return shown


def leaks(texts: List[str], credentials: List[Tuple[str, str]]) -> List[str]:
    """The scan: what each text holding a form of a credential holds (empty: no leak)."""
    return [f"the {name} as {form!r} in: {text[:300]}"
            for text in texts for name, value in credentials for form in forms(value) if form in text]


@pytest.fixture(scope="module")
def probe_emulator() -> Iterator[str]:
    """An emulator whose only service provider has recognisable credentials."""
    config = {
        "service_providers": [
            {"name": "leak-probe", "region": "eu", "api_key": PROBE["api_key"], "secret": PROBE["secret"],
             "oauth_username": PROBE["oauth_username"], "oauth_password": PROBE["oauth_password"]}
        ]
    }
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "probe.json"
        path.write_text(json.dumps(config))
        process = subprocess.Popen([str(_binary()), "--port", "0", "--config", str(path)], stdout=subprocess.PIPE)
        assert process.stdout is not None
        first = process.stdout.readline().decode().strip()
        threading.Thread(target=lambda: [None for _ in process.stdout], daemon=True).start()  # type: ignore[union-attr]
        url = first[len("listening on ") :]
        try:
            yield url
        finally:
            stopped(process, url)


def scan(texts: List[Tuple[str, str]], credentials: List[Tuple[str, str]]) -> List[str]:
    """Each leak: ``where: the <name> as <form>`` for every text (``(where, text)``) holding a
    form of a credential (``(name, value)``)."""
    return [f"{where}: the {name} as {form!r}" for where, text in texts for name, value in credentials
            for form in forms(value) if form in text]


def _control(url: str, method: str, path: str, body: Any = None) -> Any:
    response = requests_lib.request(method, f"{url}/__emulator{path}", json=body, timeout=10)
    assert response.status_code < 300, response.text
    return response.json() if response.content else None


@pytest.mark.parametrize("kind", KINDS)
def test_no_credential_leaks_through_any_error_or_record(kind: str, probe_emulator: str) -> None:
    url = probe_emulator
    _control(url, "POST", "/reset")
    records: List[Dict[str, Any]] = []
    loop = __import__("asyncio").new_event_loop()
    client = make_client(
        # A deadline every normal answer meets however loaded the machine; the delayed one is
        # held far past it.
        kind, loop, base_url=f"{url}/eu", **PROBE, audit=records.append, timeout=2.0,
        retry=ip.RetryPolicy(max_retries=0),
    )
    echo = f"secret={PROBE['secret']} basic={base64.b64encode((PROBE['oauth_username'] + ':' + PROBE['oauth_password']).encode()).decode()}"
    errors: List[BaseException] = []
    user = {"user_id": "leak-user", "resource": "Onboarding"}

    def provoke(fault: Any, call: Callable[[], Any]) -> None:
        if fault is not None:
            _control(url, "POST", "/faults", fault)
        try:
            call()
        except ip.IProovError as error:
            errors.append(error)
        _control(url, "DELETE", "/faults")

    told = Capture().__enter__()
    try:
        _control(url, "POST", "/users", {"api_key": PROBE["api_key"], "user_id": "leak-user"})
        client.get_user(user_id="leak-user")
        client.access_token()  # a second token, handed to the caller
        cases = [
            ({"path": "/claim/enrol/token", "kind": "status", "status": 401, "json": {"error": "invalid_key", "error_description": echo}}, lambda: client.enrol_token(**user)),
            ({"path": "/claim/enrol/token", "kind": "status", "status": 403, "json": {"error": "invalid_assurance_type", "error_description": echo}}, lambda: client.enrol_token(**user)),
            ({"path": "/claim/enrol/token", "kind": "status", "status": 429, "json": {"error": "too_many_requests", "error_description": echo}}, lambda: client.enrol_token(**user)),
            ({"path": "/claim/enrol/token", "kind": "status", "status": 500, "html": f"<html>{echo}</html>"}, lambda: client.enrol_token(**user)),
            ({"path": "/users/leak-user", "kind": "status", "status": 401, "times": 2, "json": {"error": "invalid_oauth", "error_description": echo}}, lambda: client.get_user(user_id="leak-user")),
            ({"path": "/claim/enrol/token", "kind": "delay", "delay_ms": 30000}, lambda: client.enrol_token(**user)),
            ({"path": "/claim/enrol/token", "kind": "reset"}, lambda: client.enrol_token(**user)),
            ({"path": "/claim/enrol/token", "kind": "cut", "json": {"token": echo}, "send_bytes": 20}, lambda: client.enrol_token(**user)),
            ({"path": "/access_token", "kind": "status", "status": 400, "json": {"error": "invalid_client", "error_description": echo}}, lambda: client.access_token()),
            (None, lambda: client.verify_validate(user_id="leak-user", token="ab" * 32, client="pytest")),
        ]
        for fault, call in cases:
            provoke(fault, call)
        told.__exit__()
        assert len(errors) == len(cases), [repr(e) for e in errors]
        texts = texts_of(errors, records, [client, client.config, client.token_status()])
        tokens = [t["access_token"] for t in _control(url, "GET", "/state")["access_tokens"]]
        assert len(tokens) >= 2
        credentials = CLIENT_CREDENTIALS + [("access token", token) for token in tokens]
        found = leaks(texts, credentials)
        assert not found, f"{kind}: " + "\n".join(found)
        assert {e.code for e in errors} >= {"invalid_key", "too_many_requests", "decode_error", "invalid_oauth", "timeout", "invalid_client"}
        # The telemetry: neither these nor the API key, the claim token or the user id.
        otel = told.otel()
        assert len(told.lines) >= 20 and len(otel["spans"]) >= 20 and otel["metrics"], (len(told.lines), otel)
        hidden = credentials + [("api_key", PROBE["api_key"]), ("claim token", "ab" * 32), ("user id", "leak-user")]
        assert scan(telemetry_texts(told.lines, **otel), hidden) == [], kind
    finally:
        told.__exit__()
        close_client(client, loop)
        loop.close()


def test_the_probe_sees_a_leak_each_credential_planted_in_each_encoding() -> None:
    """What the probe above would meet if redaction missed a form, run through the same
    texts_of and leaks: each credential (an issued access token made up) encoded here
    independently of forms(), as it would travel (raw; JSON-escaped in an echoed JSON body;
    percent-encoded in a query and in a form body; base64 as a Basic header and inside a longer
    base64 text at each of the three byte offsets), planted in an error's fields, an audit
    record's nested field and an object's repr: the scan finds each in each place."""
    credentials = CLIENT_CREDENTIALS + [("access token", 'at-LeakProbe/Issued+Token"9%')]
    for name, value in credentials:
        encodings = {
            "raw": value,
            "json body": json.dumps({"error": "invalid_key", "error_description": value}),
            "query": f"/api/v2/claim?{urllib.parse.urlencode({'secret': value})}",
            "form body": urllib.parse.urlencode({"grant_type": "client_credentials", "password": value}),
            "percent-encoded": urllib.parse.quote(value, safe=""),
            "basic": "Basic " + base64.b64encode(value.encode()).decode(),
        }
        for offset in range(3):
            blob = b"x" * offset + value.encode() + b"\0tail"
            encodings[f"base64 at offset {offset}"] = base64.b64encode(blob).decode()
        for how, planted in encodings.items():
            error = ip._errors.from_dict({"kind": "api", "code": "invalid_key", "status": 401,
                                          "message": "iProov refused the request",
                                          "description": f"echoed: {planted}", "body_excerpt": planted})
            record = {"operation": "get_user", "outcome": "error", "error": {"detail": {"body_excerpt": planted}}}

            class Shown:
                def __repr__(self) -> str:
                    return f"Client(headers={{'authorization': {planted!r}}})"

            for where, texts in (("an error", texts_of([error], [], [])), ("an audit record", texts_of([], [record], [])),
                                 ("a repr", texts_of([], [], [Shown()]))):
                assert leaks(texts, credentials), f"the scan missed the {name} planted {how} in {where}: {planted!r}"
    # And a clean text passes it: the scan does not cry leak at everything.
    clean = ip._errors.from_dict({"kind": "api", "code": "invalid_key", "message": "secret=[REDACTED]"})
    assert leaks(texts_of([clean], [{"operation": "x", "outcome": "error"}], [object()]), credentials) == []


def test_the_telemetry_scan_finds_each_form_planted() -> None:
    """The telemetry scan of the probe above, run on what it would meet if a host's mapping
    let a value through: each form of each credential and the API key planted in a log line, a
    span attribute, a span event and a metric label is found in each place; a clean line
    passes it."""
    credentials = CLIENT_CREDENTIALS + [("api_key", PROBE["api_key"]), ("access token", "leakprobeissuedtoken+/=%1")]
    for name, value in credentials:
        for form in forms(value):
            lines = [{"level": "debug", "message": f"iproov get_user send 1 answered 401 {form}", "event": "iproov.send", "fields": {}}]
            spans: List[Dict[str, Any]] = [{"name": "iproov.send", "attributes": {"url.template": form}, "events": [], "status": {"message": ""}},
                     {"name": "iproov.call", "attributes": {}, "events": [{"name": "iproov.retry", "attributes": {"x": form}}],
                      "status": {"message": ""}}]
            metrics = [{"name": "iproov.client.calls", "points": [{"attributes": {"iproov.outcome": form}}]}]
            where = {found.split(":")[0] for found in scan(telemetry_texts(lines, spans, metrics), credentials)}
            assert where == {"log line 0 (iproov.send)", "span iproov.send", "span iproov.call",
                             "metric iproov.client.calls"}, f"the scan missed the {name} as {form!r}: {where}"
    assert scan(telemetry_texts([{"message": "iproov get_user ok", "event": "iproov.call",
                                  "fields": {"url.template": "/{api_key}/access_token"}}]), credentials) == []


class _Lines(logging.Handler):
    """Every record of the package's loggers as a handler would write it: the message, its
    ``iproov`` fields and the traceback of ``exc_info`` (logging.Formatter's own)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.texts: List[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.texts.append(f"{record.name} {logging.Formatter().format(record)} {getattr(record, 'iproov', '')}")


def test_no_credential_leaks_through_the_web_handlers_log_lines(probe_emulator: str, tmp_path: Path) -> None:
    """The mounted routes' log (the ``iproov_sansio.web`` logger and the rest of the package's):
    refusals of core's checks, route failures with iProov echoing the credentials back, logged
    exceptions (``exc_info``: their tracebacks written out), and health failures (iProov
    refusing the key with the credentials echoed; the store failing with a connection string
    in its error). No line holds a form of a credential, an access token, the API key or the
    store's password."""
    from journey_support import STORE_SECRET
    from starlette.testclient import TestClient

    from iproov_sansio.journeys import JourneyService
    from iproov_sansio.stores import SQLiteStore
    from iproov_sansio.web import journey_routes

    url = probe_emulator
    _control(url, "POST", "/reset")
    echo = f"secret={PROBE['secret']} basic={base64.b64encode((PROBE['oauth_username'] + ':' + PROBE['oauth_password']).encode()).decode()}"
    origin = "https://app.example.test"

    class FailingStore(SQLiteStore):
        failing = False

        def get(self, table: str, id: str) -> Any:
            if self.failing:
                raise OSError(f"could not connect: {STORE_SECRET}")
            return super().get(table, id)

    lines = _Lines()
    package = logging.getLogger("iproov_sansio")
    level = package.level
    package.addHandler(lines)
    package.setLevel(logging.DEBUG)
    try:
        with iproov_sansio.httpx.Client(base_url=f"{url}/eu", **PROBE, timeout=5.0,
                                        retry=ip.RetryPolicy(max_retries=0)) as client:
            store = FailingStore(tmp_path / "j.sqlite3")
            svc = JourneyService(client, store, spool=False)
            def resolve_user(request: Any) -> Any:
                if request.headers.get("x-user") == "raise":  # the application's own failure: logged with its traceback
                    raise RuntimeError("the session store is down")
                return request.headers.get("x-user")

            routes = journey_routes(svc, resolve_user=resolve_user, allowed_origins=[origin])
            user = {"Origin": origin, "x-user": "4b1f7e0c-9d2a-4c3b-8e5f-6a7b8c9d0e1f"}
            with TestClient(routes) as web:
                # Refusals of core's checks: a foreign origin, no user, a body that is no JSON,
                # no such path, a wrong method.
                assert web.post("/token", json={"flow": "enrol"}, headers={"Origin": "https://evil.test"}).status_code == 403
                assert web.post("/token", json={"flow": "enrol"}, headers={"Origin": origin}).status_code == 401
                assert web.post("/token", content=b"{", headers={**user, "Content-Type": "application/json"}).status_code == 400
                assert web.get("/nope").status_code == 404 and web.get("/token").status_code == 405
                assert web.post("/token", json={"flow": "enrol"}, headers={**user, "x-user": "raise"}).status_code == 500
                # Route failures: iProov refuses the key, then answers HTML, echoing the credentials.
                for fault in ({"status": 401, "json": {"error": "invalid_key", "error_description": echo}},
                              {"status": 500, "html": f"<html>{echo}</html>"}):
                    _control(url, "POST", "/faults", {"path": "/claim/enrol/token", "kind": "status", **fault})
                    assert web.post("/token", json={"flow": "enrol"}, headers=user).status_code >= 500
                    _control(url, "DELETE", "/faults")
                # The store failing under a route (its error quotes a connection string).
                store.failing = True
                assert web.post("/token", json={"flow": "enrol"}, headers=user).status_code == 503
                # Health: iProov refusing the key (credentials echoed) and the store failing.
                _control(url, "POST", "/faults", {"path": "/availability", "kind": "status", "status": 401,
                                                  "json": {"error": "invalid_key", "error_description": echo}})
                health = web.get("/health")
                assert health.status_code == 503
                assert health.json() == {"status": "degraded", "iproov": "unreachable", "store": "failing"}
                _control(url, "DELETE", "/faults")
    finally:
        package.removeHandler(lines)
        package.setLevel(level)
    web_lines = [t for t in lines.texts if t.startswith("iproov_sansio.web")]
    assert len(web_lines) >= 9, lines.texts  # each refusal, failure and health part
    assert any("Traceback" in t for t in lines.texts), "a logged exception's traceback is scanned too"
    hidden = CLIENT_CREDENTIALS + [("api_key", PROBE["api_key"]), ("store password", STORE_SECRET)]
    hidden += [("access token", t["access_token"]) for t in _control(url, "GET", "/state")["access_tokens"]]
    assert scan([(f"log line {i}", t) for i, t in enumerate(lines.texts)], hidden) == []
