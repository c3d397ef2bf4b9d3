"""The binding's own surface: conversions, immutability, redaction, the error tree, the vector
runner itself (a wrong expectation must fail), and what mirrors core (regions, operations)."""

from __future__ import annotations

import json
import pickle
from pathlib import Path
from typing import Any

import pytest

import iproov_sansio as ip
from iproov_sansio import _core, _host
from vectors import Mismatch, Vector, load_vectors, run_vector

CONFIG = ip.Config(
    "eu",
    api_key="32xzb27rikdppxmr3cwa5i8j6leebcrz8awz2o0j",
    secret="sec-069vuffoqdj86dyzj5e8dz84iom0doeoi6se",
    oauth_username="oauth-client-4b7e",
    oauth_password="Pw:7x!q9Z-long",
    access_token="at-5d0c1e8f3a9b47e6a2c4d8f1b3e5a7c9",
)
SECRETS = ("sec-069vuffoqdj86dyzj5e8dz84iom0doeoi6se", "Pw:7x!q9Z-long", "at-5d0c1e8f3a9b47e6a2c4d8f1b3e5a7c9")


def test_config_repr_and_redacted_view_hide_every_secret() -> None:
    for shown in (repr(CONFIG), str(CONFIG), json.dumps(CONFIG.redacted())):
        for secret in SECRETS:
            assert secret not in shown
    assert CONFIG.redacted()["secret"] == "[REDACTED]"
    assert CONFIG.redacted()["api_key"] == CONFIG.api_key
    assert CONFIG.region == "eu" and CONFIG.oauth_username == "oauth-client-4b7e"


def test_requests_show_only_redacted_views() -> None:
    for request in (
        ip.build_enrol_token(CONFIG, user_id="u-1", resource="Login"),
        ip.build_access_token(CONFIG),
        ip.build_get_user(CONFIG, user_id="u-1"),
    ):
        assert request.body is not None
        for secret in SECRETS:
            assert secret not in repr(request)
            assert secret not in json.dumps(request.redacted())
    authorized = ip.build_get_user(CONFIG, user_id="u-1")
    assert dict(authorized.headers)["Authorization"] == f"Bearer {SECRETS[2]}"
    assert ("Authorization", "Bearer [REDACTED]") in [tuple(h) for h in authorized.redacted()["headers"]]


def test_token_manager_requests_and_state_hide_the_token() -> None:
    manager = ip.TokenManager()
    config = {k: v for k, v in CONFIG.redacted().items() if k != "access_token"}
    config.update(secret=SECRETS[0], oauth_password=SECRETS[1])
    step = manager.prepare(config, "get_user", {"user_id": "u-1"}, 1_000)
    assert step.action == "need_token"
    body = json.dumps({"access_token": "at-0123456789abcdef0123", "expires_in": 3600})
    manager.accept_token(config, 200, {"content-type": "application/json"}, body.encode(), 1_000)
    step = manager.prepare(config, "get_user", {"user_id": "u-1"}, 1_001)
    assert step.action == "authorized" and step.uses == 1
    assert ("authorization", "Bearer at-0123456789abcdef0123") in step.request.headers
    for shown in (repr(step), repr(manager), json.dumps(manager.to_dict())):
        assert "at-0123456789abcdef0123" not in shown
    assert manager.to_dict(include_token=True)["token"]["access_token"] == "at-0123456789abcdef0123"
    restored = ip.TokenManager.from_dict(manager.to_dict(include_token=True))
    assert restored.status(1_002).uses == 1


def test_non_json_arguments_are_invalid_input_never_type_errors() -> None:
    cases: Any = [
        lambda: ip.build("enrol_token", CONFIG, {"user_id": object(), "resource": "x"}),
        lambda: ip.build("enrol_token", CONFIG, {1: "x"}),
        lambda: ip.build(42, CONFIG, {}),  # type: ignore[arg-type]
        lambda: ip.build("no_such_operation", CONFIG, {}),
        lambda: ip.build("enrol_token", 7, {}),  # type: ignore[arg-type]
        lambda: ip.parse_enrol_token(CONFIG, "200"),  # type: ignore[arg-type]
        lambda: ip.parse_enrol_token(CONFIG, 70000),
        lambda: ip.parse_enrol_token(CONFIG, 200, headers=[("a",)]),  # type: ignore[list-item]
        lambda: ip.parse_enrol_token(CONFIG, 200, body=12),  # type: ignore[arg-type]
        lambda: ip.build_enrol_image(CONFIG, token="t", source="oid", image=3.5),  # type: ignore[arg-type]
        lambda: ip.Config(region=5),  # type: ignore[arg-type]
        lambda: ip.Config.from_dict({"region": "eu", "nope": 1}),
        lambda: _core.random_user_id(b"short"),
        lambda: ip.Journey("u-1", "sideways"),
        lambda: ip.RetryPolicy().advise("availability", 0, now=0, jitter=0.1),
    ]
    for case in cases:
        with pytest.raises(ip.InvalidInputError) as caught:
            case()
        assert caught.value.code == "invalid_input" and caught.value.field


def test_parse_accepts_every_header_and_body_shape() -> None:
    body = b'{"up": true}'
    for headers in ({"Content-Type": "application/json"}, [("Content-Type", "application/json")], None):
        for payload in (body, bytearray(body), memoryview(body), body.decode()):
            assert ip.parse_availability(CONFIG, 200, headers, payload).up is True  # type: ignore[arg-type]


def test_results_are_immutable_and_round_trip() -> None:
    result = ip.parse_verify_validate(
        CONFIG,
        200,
        None,
        b'{"passed": false, "token": "t", "type": "verify", "frame_available": "true",'
        b' "result": {"reason": "too_much_movement"}, "signals": {"a": {"b": 1}},'
        b' "return_frame_quality": {"blur": "Good"}, "unknown": 1}',
    )
    assert result.passed is False and result.reason == "too_much_movement" and result.frame_available is True
    assert result.return_frame_quality is not None and result.return_frame_quality.blur == "Good"
    with pytest.raises(AttributeError):
        result.passed = True  # type: ignore[misc]
    signals = result.signals
    assert signals is not None
    signals["a"]["b"] = 2
    assert result.to_dict()["signals"] == {"a": {"b": 1}}
    assert ip.ValidateResult.from_dict(result.to_dict()) == result
    assert pickle.loads(pickle.dumps(result)) == result
    with pytest.raises(ip.InvalidInputError):
        ip.ValidateResult.from_dict({"token": "t"})


def test_access_token_repr_hides_the_token() -> None:
    token = ip.parse_access_token(CONFIG, 200, None, b'{"access_token": "at-abcdef0123456789", "scope": "user-read user-write"}')
    assert token.access_token == "at-abcdef0123456789" and token.scope == ("user-read", "user-write")
    assert "at-abcdef0123456789" not in repr(token) and "[REDACTED]" in repr(token)


def test_error_tree() -> None:
    api = [ip.InvalidKeyError, ip.RateLimitedError, ip.InvalidTokenError, ip.OAuthError, ip.ServerError]
    for cls in api:
        assert issubclass(cls, ip.ApiError)
    for cls in (ip.ConnectionError, ip.TimeoutError):
        assert issubclass(cls, ip.TransportError)
    for cls in api + [ip.ApiError, ip.InvalidInputError, ip.DecodeError, ip.OutcomeUnknownError, ip.InvalidStateError]:
        assert issubclass(cls, ip.IProovError)
    error = ip.TimeoutError.__new__(ip.TimeoutError)
    assert isinstance(error, Exception)
    made = _host.error_from_json(_core.transport_error("timeout", "read timed out"))
    assert isinstance(made, ip.TimeoutError) and made.code == "timeout" and made.status is None
    copied = pickle.loads(pickle.dumps(made))
    assert type(copied) is ip.TimeoutError and copied.to_dict() == made.to_dict()
    assert isinstance(_host.error_from_json(_core.transport_error("connect", "refused")), ip.ConnectionError)


def test_every_core_error_kind_has_its_class() -> None:
    # Each vector error's kind maps to the class core names for it (ErrorKind::class_name).
    names = {
        "invalid_input": "InvalidInputError",
        "invalid_key": "InvalidKeyError",
        "rate_limited": "RateLimitedError",
        "invalid_token": "InvalidTokenError",
        "oauth": "OAuthError",
        "server": "ServerError",
        "api": "ApiError",
        "decode": "DecodeError",
        "outcome_unknown": "OutcomeUnknownError",
        "connection": "ConnectionError",
        "timeout": "TimeoutError",
        "invalid_state": "InvalidStateError",
    }
    for kind, name in names.items():
        assert type(ip._errors.from_dict({"kind": kind, "code": "x"})).__name__ == name


def test_the_generated_error_classes_are_cores() -> None:
    # _errors.py is generated from core's tables; the native module reads the same table.
    table = [(c["kind"], c["class"], c["parent"]) for c in _host.INFO["error_classes"]]
    assert len(table) == 15
    for kind, name, parent in table:
        made = ip.error_from_dict({"kind": kind, "code": "x"})
        assert type(made).__name__ == name and type(made).__mro__[1].__name__ == parent
        assert getattr(ip, name) is type(made)
    # Core's one rule for a kind this version does not know (or none): ApiError, as in JS.
    assert type(ip.error_from_dict({"kind": "from_a_newer_core", "code": "x"})) is ip.ApiError
    assert type(ip.error_from_dict({"code": "x", "message": "no kind"})) is ip.ApiError


def test_regions_and_operations_mirror_core() -> None:
    assert [r.value for r in ip.Region] == [r["id"] for r in json.loads(_core.regions())]
    assert ip.Region.parse("Latin America") is ip.Region.LATAM
    assert ip.Region.EU.base_url == "https://eu.rp.secure.iproov.me/api/v2"
    assert ip.Region.SG.streaming_url == "wss://sg.rp.secure.iproov.me/ws"
    assert sorted(ip.RESULT_TYPES) == sorted(_host.INFO["operations"])
    for name in _host.INFO["operations"]:
        assert callable(getattr(ip, f"build_{name}")) and callable(getattr(ip, f"parse_{name}"))


def test_user_ids() -> None:
    generated = ip.random_user_id()
    ip.check_user_id(generated)
    assert len(generated) == 36 and generated[14] == "4"
    assert ip.pseudonymous_user_id("0123456789abcdef0123", "customer-42") == ip.pseudonymous_user_id(
        "0123456789abcdef0123", "customer-42"
    )
    assert [w.code for w in ip.lint_user_id("jane@example.com")] == ["looks_like_email"]
    assert ip.lint_user_id(generated) == []
    with pytest.raises(ip.InvalidInputError):
        ip.check_user_id("jane doe")


def test_journey_round_trips_through_json() -> None:
    journey = ip.Journey("u-1", "enrol", max_attempts=2)
    assert journey.next(0).next == "start_attempt"
    journey.token_issued("ab" * 32, 10)
    saved = json.loads(json.dumps(journey.to_dict()))
    resumed = ip.Journey.from_dict(saved)
    nxt = resumed.validated("ab" * 32, {"passed": True, "type": "enrol"}, 20)
    assert nxt.next == "done" and nxt.attempt == 1
    with pytest.raises(ip.InvalidInputError):
        ip.Journey.from_dict({"user_id": "u-1"})


def test_audit_record_redacts() -> None:
    record = ip.audit_record(
        "verify_validate",
        1_714_566_600_000,
        config=CONFIG,
        user_id="u-1",
        attempt=1,
        result={"passed": True, "token": "t", "frame": "iVBOR"},
    )
    assert record["outcome"] == "passed" and record["at"] == "2024-05-01T12:30:00.000Z"
    assert "frame" not in record["result"]


def test_the_runner_fails_a_wrong_expectation(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    good = {
        "name": "extra: availability parses",
        "operation": "availability",
        "config": {"region": "eu", "api_key": "k" * 40},
        "response": {"status": 200, "headers": {}, "body": '{"up": true}'},
        "result": {"up": True},
    }
    bad = dict(good, name="extra: a deliberately wrong expectation", result={"up": False})
    (tmp_path / "extra.json").write_text(json.dumps({"vectors": [good, bad]}))
    monkeypatch.setenv("IPROOV_VECTORS_DIR", str(tmp_path))
    extra = [v for v in load_vectors() if v.name.startswith("extra:")]
    assert [v.name for v in extra] == [good["name"], bad["name"]]
    run_vector(extra[0])
    with pytest.raises(Mismatch):
        run_vector(extra[1])
    with pytest.raises(Mismatch):
        run_vector(Vector("flow", tmp_path, {"flow": "retry", "steps": [{"action": "advise", "now": 0, "input": {"operation": "availability", "attempt": 1, "jitter": 0.0, "failure": "failed_before_sending"}, "expect": {"action": "give_up"}}]}))
