"""Every operation, every exception class and the emulator's faults, over real HTTP through
httpx sync, httpx async and requests (each test runs once per client kind)."""

from __future__ import annotations

import logging
import time
import uuid
from typing import Any, Callable, Dict

import httpx
import pytest
import requests

import iproov_sansio as ip
import iproov_sansio.httpx as ip_httpx
import iproov_sansio.requests as ip_requests
from clients import kind, new_client  # noqa: F401 - fixtures
from emulator_fixtures import EU, PNG, Emulator

NewClient = Callable[..., Any]


def kwargs_for(emulator: Emulator, region: str = "eu", **extra: Any) -> Dict[str, Any]:
    return {"base_url": emulator.base_url(region), **EU, **extra}


def fresh_user() -> str:
    return str(uuid.uuid4())


def enrolled_user(client: Any, emulator: Emulator) -> str:
    user_id = fresh_user()
    claim = client.enrol_token(user_id=user_id, resource="Onboarding")
    emulator.complete(claim.token, passed=True)
    assert client.enrol_validate(user_id=user_id, token=claim.token, client="pytest").passed is True
    return user_id


# --- every operation -----------------------------------------------------------------------


def test_every_operation(emulator: Emulator, new_client: NewClient) -> None:
    client = new_client(**kwargs_for(emulator))

    availability = client.availability()
    assert isinstance(availability, ip.Availability) and availability.up is True

    # Capture enrol: token, the capture (the emulator plays the phone), validate.
    user_id = fresh_user()
    claim = client.enrol_token(user_id=user_id, resource="Onboarding", assurance_type="genuine_presence")
    assert isinstance(claim, ip.ClaimToken)
    assert len(claim.token) == 64 and claim.user_id == user_id and claim.pod == "emulator.eu"
    emulator.complete(claim.token, passed=True, frame=True)
    enrolled = client.enrol_validate(user_id=user_id, token=claim.token, client="pytest", activate=True)
    assert isinstance(enrolled, ip.ValidateResult)
    assert enrolled.passed is True and enrolled.type == "enrol" and enrolled.frame
    assert enrolled.to_dict()["token"] == claim.token

    # Verify that fails biometrically: a result, not an error.
    claim = client.verify_token(user_id=user_id, resource="Login")
    emulator.complete(claim.token, passed=False, reason="too_much_movement")
    failed = client.verify_validate(user_id=user_id, token=claim.token, client="pytest")
    assert failed.passed is False and failed.reason == "too_much_movement" and failed.type == "verify"

    # Invalidate a pending verify token.
    claim = client.verify_token(user_id=user_id, resource="Login")
    invalidated = client.invalidate_claim(token=claim.token, reason="user cancelled")
    assert isinstance(invalidated, ip.InvalidateResult) and invalidated.claim_aborted is True

    # Photo enrol of another user.
    photo_user = fresh_user()
    claim = client.enrol_token(user_id=photo_user, resource="Onboarding")
    photo = client.enrol_image(token=claim.token, source="oid", image=PNG)
    assert isinstance(photo, ip.EnrolImageResult) and photo.success is True

    # OAuth token, explicitly.
    token = client.access_token(scope=["user-read"])
    assert isinstance(token, ip.AccessToken) and token.expires_in == 3600 and token.scope == ("user-read",)
    assert token.access_token not in repr(token)

    # The users API: one access token (fetched by core's token manager) for all five calls.
    emulator.control("DELETE", "/requests")
    user = client.get_user(user_id=user_id)
    assert isinstance(user, ip.User) and user.user_id == user_id and user.status == "active"
    assert client.update_user(user_id=user_id, name="Jane").name == "Jane"
    assert client.suspend_user(user_id=user_id).status == "suspended"
    assert client.activate_user(user_id=user_id).status == "active"
    assert client.get_user(user_id=photo_user).status == "active"
    deleted = client.delete_user(user_id=photo_user)
    assert deleted.user_id == photo_user
    assert emulator.count("/access_token") == 1
    assert emulator.count(f"/users/{user_id}") == 2  # get + update (PUT) on the bare path
    assert emulator.total() == 7


def test_token_manager_fetches_a_new_token_after_50_uses(emulator: Emulator, new_client: NewClient) -> None:
    client = new_client(**kwargs_for(emulator))
    user_id = enrolled_user(client, emulator)
    for _ in range(51):
        client.get_user(user_id=user_id)
    assert emulator.count("/access_token") == 2
    assert emulator.count(f"/users/{user_id}") == 51  # never a rejected (51st) use


def test_a_rejected_access_token_is_replaced_once(emulator: Emulator, new_client: NewClient) -> None:
    client = new_client(**kwargs_for(emulator))
    user_id = enrolled_user(client, emulator)
    client.get_user(user_id=user_id)
    emulator.fault(path=f"/users/{user_id}", kind="status", status=401, json={"error": "invalid_oauth"})
    assert client.get_user(user_id=user_id).user_id == user_id
    assert emulator.count("/access_token") == 2
    # Twice in a row: surfaced, never a loop.
    emulator.fault(path=f"/users/{user_id}", kind="status", status=401, times=5, json={"error": "invalid_oauth"})
    with pytest.raises(ip.OAuthError) as caught:
        client.get_user(user_id=user_id)
    assert caught.value.code == "invalid_oauth" and caught.value.status == 401
    assert emulator.count(f"/users/{user_id}") == 1 + 2 + 2


# --- every exception class -------------------------------------------------------------------


def test_invalid_input_sends_nothing(emulator: Emulator, new_client: NewClient) -> None:
    client = new_client(**kwargs_for(emulator))
    with pytest.raises(ip.InvalidInputError) as caught:
        client.enrol_token(user_id="jane doe", resource="Onboarding")
    assert caught.value.field == "user_id" and caught.value.status is None
    assert caught.value.to_dict()["code"] == "invalid_input"
    assert emulator.total() == 0


def test_wrong_secret_is_invalid_key(emulator: Emulator, new_client: NewClient) -> None:
    client = new_client(**kwargs_for(emulator, secret="wrong-secret-000000000000000000000000000"))
    with pytest.raises(ip.InvalidKeyError) as caught:
        client.enrol_token(user_id=fresh_user(), resource="Onboarding")
    assert caught.value.code == "invalid_key" and caught.value.status == 401
    assert isinstance(caught.value, ip.ApiError)


def test_region_mismatch_is_invalid_key_naming_the_target(emulator: Emulator, new_client: NewClient) -> None:
    # The EU service provider's key used under the US prefix.
    client = new_client(**kwargs_for(emulator, region="us"))
    with pytest.raises(ip.InvalidKeyError) as caught:
        client.verify_token(user_id=fresh_user(), resource="Login")
    error = caught.value
    assert error.status == 401 and error.code == "invalid_key"
    assert error.base_url == emulator.base_url("us") and error.region is None
    assert "wrong region" in error.message and "eu, us, sg, au, jkt, latam" in error.message
    assert emulator.count("/us/api/v2/claim/verify/token") == 1  # a 401 is final: no retry


def test_rate_limited(emulator: Emulator, new_client: NewClient) -> None:
    client = new_client(**kwargs_for(emulator), retry=ip.RetryPolicy(max_retries=0))
    emulator.fault(path="/claim/enrol/token", kind="status", status=429, headers={"Retry-After": "7"})
    with pytest.raises(ip.RateLimitedError) as caught:
        client.enrol_token(user_id=fresh_user(), resource="Onboarding")
    assert caught.value.status == 429 and caught.value.code == "too_many_requests"
    assert caught.value.retry_after_ms == 7000 and caught.value.retry_after == 7.0


def test_invalid_token(emulator: Emulator, new_client: NewClient) -> None:
    client = new_client(**kwargs_for(emulator))
    with pytest.raises(ip.InvalidTokenError) as caught:
        client.verify_validate(user_id=fresh_user(), token="ab" * 32, client="pytest")
    assert caught.value.status == 400 and caught.value.code == "invalid_token"


def test_oauth_error(emulator: Emulator, new_client: NewClient) -> None:
    client = new_client(**kwargs_for(emulator, oauth_password="not-the-password"))
    with pytest.raises(ip.OAuthError) as caught:
        client.get_user(user_id=fresh_user())
    assert caught.value.code == "invalid_client" and caught.value.status == 400
    assert "not-the-password" not in str(caught.value) and "not-the-password" not in repr(caught.value.to_dict())


def test_server_error(emulator: Emulator, new_client: NewClient) -> None:
    client = new_client(**kwargs_for(emulator))
    emulator.fault(path="/invalidate", kind="status", status=500)
    with pytest.raises(ip.ServerError) as caught:
        client.invalidate_claim(token="cd" * 32, reason="user cancelled")
    assert caught.value.code == "server_error" and caught.value.status == 500
    assert emulator.count("/invalidate") == 1  # invalidate is never repeated


def test_plain_api_error(emulator: Emulator, new_client: NewClient) -> None:
    client = new_client(**kwargs_for(emulator))
    with pytest.raises(ip.ApiError) as caught:
        client.verify_token(user_id=fresh_user(), resource="Login")
    assert type(caught.value) is ip.ApiError
    assert caught.value.code == "no_user" and caught.value.status == 400 and caught.value.description


def test_html_502_is_a_decode_error(emulator: Emulator, new_client: NewClient) -> None:
    client = new_client(**kwargs_for(emulator), retry=ip.RetryPolicy(max_retries=0))
    emulator.fault(path="/availability", kind="status", status=502, html="<html><body>Bad Gateway</body></html>")
    with pytest.raises(ip.DecodeError) as caught:
        client.availability()
    assert caught.value.status == 502 and caught.value.code == "decode_error"
    assert "Bad Gateway" in (caught.value.body_excerpt or "")


def test_connection_error(new_client: NewClient) -> None:
    client = new_client(base_url="http://127.0.0.1:9", **EU, retry=ip.RetryPolicy(max_retries=1, base_delay_ms=10))
    with pytest.raises(ip.ConnectionError) as caught:
        client.availability()
    assert caught.value.code == "connection_error" and caught.value.status is None
    assert isinstance(caught.value, ip.TransportError)
    assert caught.value.__cause__ is not None


# A deadline every normal answer meets on any machine, however loaded (the calls before the
# faulted one must succeed, and the faulted one must have been sent), and a held answer no
# deadline here waits out: which of the two ends a call depends on the code, not on speed.
DEADLINE_S = 2.0
HELD_MS = 30_000


def test_timeout_error(emulator: Emulator, new_client: NewClient) -> None:
    client = new_client(**kwargs_for(emulator), timeout=DEADLINE_S, retry=ip.RetryPolicy(max_retries=0))
    emulator.fault(path="/availability", kind="delay", delay_ms=HELD_MS)
    with pytest.raises(ip.TimeoutError) as caught:
        client.availability()
    assert caught.value.code == "timeout" and isinstance(caught.value, ip.TransportError)


def test_validate_timeout_is_outcome_unknown_and_never_repeated(emulator: Emulator, new_client: NewClient) -> None:
    client = new_client(**kwargs_for(emulator), timeout=DEADLINE_S)
    user_id = enrolled_user(client, emulator)
    claim = client.verify_token(user_id=user_id, resource="Login")
    emulator.complete(claim.token, passed=True)
    emulator.fault(path="/claim/verify/validate", kind="delay", delay_ms=HELD_MS)
    with pytest.raises(ip.OutcomeUnknownError) as caught:
        client.verify_validate(user_id=user_id, token=claim.token, client="pytest")
    assert caught.value.code == "outcome_unknown"
    assert "do not call validate again" in caught.value.message
    assert caught.value.operation == "verify_validate"
    # The client gave up before the delayed validate was answered; wait until it has reached
    # the emulator (on a loaded machine it may arrive after the client's deadline).
    deadline = time.monotonic() + 30
    while emulator.count("/claim/verify/validate") == 0:
        assert time.monotonic() < deadline, "the validate never reached the emulator"
        time.sleep(0.02)
    assert emulator.count("/claim/verify/validate") == 1
    # Whether the emulator got to validate it is unknown to the client: that is the point.
    assert emulator.control("GET", f"/claims/{claim.token}")["status"]["state"] in ("completed", "validated")


def test_validate_reset_after_the_handler_is_outcome_unknown(emulator: Emulator, new_client: NewClient) -> None:
    client = new_client(**kwargs_for(emulator))
    user_id = fresh_user()
    claim = client.enrol_token(user_id=user_id, resource="Onboarding")
    emulator.complete(claim.token, passed=True)
    emulator.fault(path="/claim/enrol/validate", kind="reset", after_handler=True)
    with pytest.raises(ip.OutcomeUnknownError):
        client.enrol_validate(user_id=user_id, token=claim.token, client="pytest")
    assert emulator.count("/claim/enrol/validate") == 1


def test_validate_answered_with_5xx_is_outcome_unknown_and_never_repeated(
    emulator: Emulator, new_client: NewClient
) -> None:
    client = new_client(**kwargs_for(emulator))
    user_id = enrolled_user(client, emulator)
    claim = client.verify_token(user_id=user_id, resource="Login")
    emulator.complete(claim.token, passed=True)
    emulator.fault(path="/claim/verify/validate", kind="status", status=503, times=3)
    with pytest.raises(ip.OutcomeUnknownError):
        client.verify_validate(user_id=user_id, token=claim.token, client="pytest")
    assert emulator.count("/claim/verify/validate") == 1


def test_invalid_state() -> None:
    journey = ip.Journey(fresh_user(), "verify")
    with pytest.raises(ip.InvalidStateError) as caught:
        journey.validated("ab" * 32, {"passed": True}, 1_000)
    assert caught.value.code == "invalid_state" and caught.value.to_dict()["kind"] == "invalid_state"


# --- faults the clients survive, as core's advisor says ------------------------------------------


def test_429_with_retry_after_is_retried(emulator: Emulator, new_client: NewClient) -> None:
    client = new_client(**kwargs_for(emulator))
    emulator.fault(path="/claim/enrol/token", kind="status", status=429, headers={"Retry-After": "1"})
    started = time.monotonic()
    claim = client.enrol_token(user_id=fresh_user(), resource="Onboarding")
    assert len(claim.token) == 64
    assert time.monotonic() - started >= 1.0  # Retry-After honoured
    assert emulator.count("/claim/enrol/token") == 2


def test_5xx_is_retried_for_token_requests(emulator: Emulator, new_client: NewClient) -> None:
    client = new_client(**kwargs_for(emulator))
    emulator.fault(path="/claim/enrol/token", kind="status", status=503, times=2)
    assert client.enrol_token(user_id=fresh_user(), resource="Onboarding").token
    assert emulator.count("/claim/enrol/token") == 3


def test_5xx_retries_are_bounded(emulator: Emulator, new_client: NewClient) -> None:
    client = new_client(**kwargs_for(emulator), retry=ip.RetryPolicy(base_delay_ms=20))
    emulator.fault(path="/claim/enrol/token", kind="status", status=503, times=10)
    with pytest.raises(ip.ServerError):
        client.enrol_token(user_id=fresh_user(), resource="Onboarding")
    assert emulator.count("/claim/enrol/token") == 3  # 2 retries by default


def test_html_502_then_success_is_retried(emulator: Emulator, new_client: NewClient) -> None:
    client = new_client(**kwargs_for(emulator))
    emulator.fault(path="/availability", kind="status", status=502, html="<html>Bad Gateway</html>")
    assert client.availability().up is True
    assert emulator.count("/availability") == 2


def test_reset_is_retried_for_idempotent_operations(emulator: Emulator, new_client: NewClient) -> None:
    client = new_client(**kwargs_for(emulator))
    emulator.fault(path="/availability", kind="reset")
    assert client.availability().up is True
    assert emulator.count("/availability") == 2


def test_timeout_is_retried_for_idempotent_operations(emulator: Emulator, new_client: NewClient) -> None:
    client = new_client(**kwargs_for(emulator), timeout=DEADLINE_S)
    emulator.fault(path="/availability", kind="delay", delay_ms=HELD_MS)
    assert client.availability().up is True
    assert emulator.count("/availability") == 2


def test_cut_body_is_retried_for_idempotent_operations(emulator: Emulator, new_client: NewClient) -> None:
    client = new_client(**kwargs_for(emulator))
    emulator.fault(path="/availability", kind="cut")
    assert client.availability().up is True
    assert emulator.count("/availability") == 2


def test_non_idempotent_5xx_is_not_retried(emulator: Emulator, new_client: NewClient) -> None:
    client = new_client(**kwargs_for(emulator))
    user_id = enrolled_user(client, emulator)
    emulator.fault(path=f"/users/{user_id}/suspend", kind="status", status=503)
    with pytest.raises(ip.ServerError):
        client.suspend_user(user_id=user_id)
    assert emulator.count(f"/users/{user_id}/suspend") == 1


# --- configuration, sessions, secrets ----------------------------------------------------------


def test_config_from_environment(emulator: Emulator, new_client: NewClient) -> None:
    environ = {
        "IPROOV_BASE_URL": emulator.base_url("eu"),
        "IPROOV_API_KEY": EU["api_key"],
        "IPROOV_SECRET": EU["secret"],
        "IPROOV_OAUTH_USERNAME": EU["oauth_username"],
        "IPROOV_OAUTH_PASSWORD": EU["oauth_password"],
    }
    client = new_client(environ=environ)
    assert client.config.base_url == emulator.base_url("eu")
    assert client.enrol_token(user_id=fresh_user(), resource="Onboarding").token
    assert client.access_token().access_token


def test_region_argument_wins_over_the_environment() -> None:
    config = ip.config_from_env({"IPROOV_BASE_URL": "http://127.0.0.1:1/eu", "IPROOV_API_KEY": "k" * 40}, region="US")
    assert config.region == "us" and config.base_url == "https://us.rp.secure.iproov.me/api/v2"
    assert config.api_key == "k" * 40
    with pytest.raises(ip.InvalidInputError) as caught:
        ip.config_from_env({})
    assert caught.value.field == "region"


def test_default_timeout_is_cores_per_operation_deadline(emulator: Emulator, new_client: NewClient) -> None:
    assert ip.DEFAULT_TIMEOUT is None
    assert "timeout=None" in repr(new_client(**kwargs_for(emulator)))


@pytest.mark.parametrize("bad", [0, -1, 0.0000001, 601, float("nan"), float("inf"), "10"])
def test_an_unusable_timeout_is_refused_when_the_client_is_made(emulator: Emulator, new_client: NewClient, bad: object) -> None:
    with pytest.raises(ip.InvalidInputError) as caught:
        new_client(**kwargs_for(emulator), timeout=bad)
    assert caught.value.field in ("timeout_ms", "options")


def test_caller_session_is_used_and_left_open(emulator: Emulator, kind: str) -> None:
    seen = []
    if kind == "requests":
        session = requests.Session()
        session.hooks["response"].append(lambda r, *a, **k: seen.append(r.url))
        with ip_requests.Client(**kwargs_for(emulator), session=session) as client:
            assert client.availability().up
        assert session.get(f"{emulator.url}/__emulator/clock").status_code == 200  # still open
        session.close()
    elif kind == "httpx":
        http = httpx.Client(event_hooks={"request": [lambda r: seen.append(str(r.url))]})
        with ip_httpx.Client(**kwargs_for(emulator), http_client=http) as client:
            assert client.availability().up
        assert not http.is_closed
        http.close()
    else:
        import asyncio

        async def scenario() -> None:
            async def hook(r: httpx.Request) -> None:
                seen.append(str(r.url))

            http = httpx.AsyncClient(event_hooks={"request": [hook]})
            async with ip_httpx.AsyncClient(**kwargs_for(emulator), http_client=http) as client:
                assert (await client.availability()).up
            assert not http.is_closed
            await http.aclose()

        asyncio.run(scenario())
    assert "/availability" in seen[0]  # our request went through the caller's session


def test_secrets_never_appear_in_reprs_errors_logs_or_audit(
    emulator: Emulator, new_client: NewClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    records: list = []
    client = new_client(**kwargs_for(emulator), audit=records.append)
    user_id = enrolled_user(client, emulator)
    client.get_user(user_id=user_id)
    token = client.access_token().access_token
    with pytest.raises(ip.ApiError) as caught:
        client.verify_validate(user_id=user_id, token="ef" * 32, client="pytest")
    shown = " ".join(
        [
            repr(client),
            repr(client.config),
            repr(ip.build_access_token(client.config)),
            repr(ip.build_enrol_token(client.config, user_id=user_id, resource="x")),
            str(caught.value),
            repr(caught.value),
            repr(caught.value.to_dict()),
            repr(records),
            caplog.text,
        ]
    )
    for secret in (EU["secret"], EU["oauth_password"], token):
        assert secret not in shown
    assert "[REDACTED]" in shown
    operations = [r["operation"] for r in records]
    assert operations[:2] == ["enrol_token", "enrol_validate"] and "get_user" in operations
    assert records[-1]["outcome"] == "error" and records[-1]["error"]["code"] == "invalid_token"


def test_an_oversized_body_stops_at_the_cap_and_is_body_too_large(new_client: NewClient) -> None:
    """A server that would send 64 MiB: the client reads only core's cap + 1 and reports
    body_too_large (a plain socket server, since the emulator answers with real iProov sizes)."""
    import socket
    import threading

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    port = listener.getsockname()[1]
    sent = []

    def serve() -> None:
        conn, _ = listener.accept()
        with conn:
            conn.recv(65536)
            total = 64 * 1024 * 1024
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n")
            conn.sendall(b"Content-Length: %d\r\n\r\n" % total)
            chunk = b"x" * 65536
            count = 0
            try:
                while count < total:
                    conn.sendall(chunk)
                    count += len(chunk)
            except OSError:
                pass  # the client stopped reading and closed: that is the point
            sent.append(count)

    server = threading.Thread(target=serve, daemon=True)
    server.start()
    client = new_client(base_url=f"http://127.0.0.1:{port}/eu", **EU, retry=ip.RetryPolicy(max_retries=0))
    with pytest.raises(ip.DecodeError) as caught:
        client.availability()
    assert caught.value.code == "body_too_large" and caught.value.status == 200
    server.join(timeout=10)
    listener.close()
    assert sent and sent[0] < 64 * 1024 * 1024, "the client read the whole body"
