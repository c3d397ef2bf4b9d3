"""The iproov-emulator wheel's plugin and helpers, against the binary it installed (run by
scripts/emulator-dist.sh in a fresh venv). API requests go over real HTTP (httpx)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import base64
import json
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Dict, List

import httpx
import pytest

from iproov_emulator import Emulator, EmulatorError, find_binary, real_iproov_target, start_emulator

pytest_plugins = ["pytester"]  # the guard's tests run pytest sessions of their own


def token(emulator: Emulator, user_id: str = "user-1", region: str = "eu") -> str:
    sp = emulator.credentials(region)
    response = httpx.post(
        f"{emulator.base_url(region)}/claim/enrol/token",
        json={"api_key": sp.api_key, "secret": sp.secret, "resource": "test", "user_id": user_id},
    )
    assert response.status_code == 200, response.text
    return str(response.json()["token"])


def validate(emulator: Emulator, claim: str, user_id: str = "user-1") -> httpx.Response:
    sp = emulator.credentials("eu")
    return httpx.post(
        f"{emulator.base_url('eu')}/claim/enrol/validate",
        json={"api_key": sp.api_key, "secret": sp.secret, "user_id": user_id, "token": claim, "client": "t"},
    )


def test_the_binary_is_the_one_the_wheel_installed() -> None:
    assert find_binary().parent == Path(sys.executable).parent


def test_credentials_and_environ_come_from_the_emulator(iproov_emulator: Emulator) -> None:
    eu, us = iproov_emulator.credentials("eu"), iproov_emulator.credentials("us")
    assert (eu.name, us.name) == ("eu-default", "us-default")
    assert iproov_emulator.credentials(name="eu-risk").api_key.startswith("euriskkey")
    assert iproov_emulator.base_url("us") == f"{iproov_emulator.url}/us/api/v2"
    assert iproov_emulator.environ("eu")["IPROOV_SECRET"] == eu.secret
    assert iproov_emulator.environ("eu")["IPROOV_REGION"] == ""  # read as unset: no shell region wins
    with pytest.raises(EmulatorError) as error:
        iproov_emulator.credentials("mars")
    assert error.value.code == "unknown_service_provider"


def test_complete_claim_pass_and_fail(iproov_emulator: Emulator) -> None:
    passed = token(iproov_emulator, "user-1")
    iproov_emulator.complete_claim(passed)
    assert validate(iproov_emulator, passed, "user-1").json()["passed"] is True
    failed = token(iproov_emulator, "user-2")
    iproov_emulator.complete_claim(failed, passed=False, reason="ambiguous_outcome")
    answer = validate(iproov_emulator, failed, "user-2").json()
    assert (answer["passed"], answer["reason"]) == (False, "ambiguous_outcome")


def test_a_refused_control_call_is_an_error_with_fields(iproov_emulator: Emulator) -> None:
    with pytest.raises(EmulatorError) as error:
        iproov_emulator.complete_claim("0" * 64)
    assert (error.value.code, error.value.status, error.value.method) == ("unknown_claim", 404, "POST")


def test_add_user(iproov_emulator: Emulator) -> None:
    iproov_emulator.add_user("known-user")
    sp = iproov_emulator.credentials("eu")
    response = httpx.post(
        f"{iproov_emulator.base_url('eu')}/claim/verify/token",
        json={"api_key": sp.api_key, "secret": sp.secret, "resource": "t", "user_id": "known-user"},
    )
    assert response.status_code == 200


def test_faults_status_delay_reset_and_clear(iproov_emulator: Emulator) -> None:
    url = f"{iproov_emulator.base_url('eu')}/availability"
    key = iproov_emulator.credentials("eu").api_key
    iproov_emulator.inject_fault("/availability", status=503, times=2)
    assert [httpx.get(url, params={"api_key": key}).status_code for _ in range(3)] == [503, 503, 200]
    iproov_emulator.inject_fault("/availability", delay_ms=300)
    started = time.monotonic()
    assert httpx.get(url, params={"api_key": key}).status_code == 200
    assert time.monotonic() - started >= 0.3
    iproov_emulator.inject_fault("/availability", reset=True)
    with pytest.raises(httpx.TransportError):
        httpx.get(url, params={"api_key": key})
    iproov_emulator.inject_fault("/availability", status=500)
    iproov_emulator.clear_faults()
    assert httpx.get(url, params={"api_key": key}).status_code == 200
    assert iproov_emulator.request_count("/availability", method="GET") == 6
    assert iproov_emulator.request_count() == 6


def test_a_held_request_waits_until_release_held(iproov_emulator: Emulator) -> None:
    key = iproov_emulator.credentials("eu").api_key
    iproov_emulator.inject_fault("/availability", hold=True)
    with httpx.Client() as client, ThreadPoolExecutor(1) as pool:
        pending = pool.submit(client.get, f"{iproov_emulator.base_url('eu')}/availability", params={"api_key": key})
        deadline = time.monotonic() + 30
        while iproov_emulator.held() == 0:
            assert time.monotonic() < deadline, "the request was never held"
            time.sleep(0.02)
        # A control call is answered while the API call is held.
        assert not pending.done()
        assert iproov_emulator.release_held() == 1
        assert pending.result(timeout=30).status_code == 200
    assert iproov_emulator.held() == 0


def test_rate_limit(iproov_emulator: Emulator) -> None:
    iproov_emulator.set_rate_limit(1)
    token(iproov_emulator, "user-1")
    sp = iproov_emulator.credentials("eu")
    second = httpx.post(
        f"{iproov_emulator.base_url('eu')}/claim/enrol/token",
        json={"api_key": sp.api_key, "secret": sp.secret, "resource": "t", "user_id": "user-2"},
    )
    assert second.status_code == 429 and second.json()["error"] == "too_many_requests"
    iproov_emulator.set_rate_limit(None)
    token(iproov_emulator, "user-3")


def test_mark_down_and_up(iproov_emulator: Emulator) -> None:
    iproov_emulator.mark_down()
    sp = iproov_emulator.credentials("eu")
    down = httpx.post(
        f"{iproov_emulator.base_url('eu')}/claim/enrol/token",
        json={"api_key": sp.api_key, "secret": sp.secret, "resource": "t", "user_id": "u"},
    )
    assert (down.status_code, down.json()["error"]) == (500, "server_error")
    iproov_emulator.mark_up()
    token(iproov_emulator)


def test_advance_clock_expires_a_claim(iproov_emulator: Emulator) -> None:
    claim = token(iproov_emulator)
    assert iproov_emulator.advance_clock(121)["offset_secs"] == 121
    with pytest.raises(EmulatorError) as error:
        iproov_emulator.complete_claim(claim)
    assert (error.value.code, error.value.status) == ("claim_expired", 409)


def test_reset_before_each_test_part_1(iproov_emulator: Emulator) -> None:
    iproov_emulator.advance_clock(60)
    token(iproov_emulator)
    iproov_emulator.inject_fault("/claim/enrol/token", status=503, times=100)


def test_reset_before_each_test_part_2(iproov_emulator: Emulator) -> None:
    # Runs after part 1 (file order): the fixture reset its clock, fault and counts.
    assert iproov_emulator.control("GET", "/clock")["offset_secs"] == 0
    assert iproov_emulator.request_count() == 0
    token(iproov_emulator)


def test_presets_are_listed_and_loaded(iproov_emulator: Emulator) -> None:
    names = {preset["name"] for preset in iproov_emulator.presets()}
    assert {"pass", "fail", "rate_limited", "outage", "region_mismatch", "slow_network"} <= names
    assert iproov_emulator.load_preset("fail", reason="too_much_movement")["preset"] == "fail"
    claim = token(iproov_emulator)
    answer = validate(iproov_emulator, claim).json()
    assert (answer["passed"], answer["reason"]) == (False, "too_much_movement")


def test_an_unknown_preset_is_refused_and_reset_clears_one(iproov_emulator: Emulator) -> None:
    with pytest.raises(EmulatorError) as error:
        iproov_emulator.load_preset("no-such-preset")
    assert (error.value.code, error.value.status) == ("invalid_request", 400)
    iproov_emulator.load_preset("outage")
    sp = iproov_emulator.credentials("eu")
    body = {"api_key": sp.api_key, "secret": sp.secret, "resource": "t", "user_id": "u"}
    assert httpx.post(f"{iproov_emulator.base_url('eu')}/claim/enrol/token", json=body).status_code >= 500
    iproov_emulator.reset()
    assert httpx.post(f"{iproov_emulator.base_url('eu')}/claim/enrol/token", json=body).status_code == 200


def test_a_start_failure_carries_the_emulators_stderr() -> None:
    with pytest.raises(EmulatorError) as error:
        start_emulator(args=["--no-such-flag"])
    assert error.value.code == "start_failed"
    assert error.value.stderr is not None and "unknown argument --no-such-flag" in error.value.stderr


def test_a_missing_binary_is_named(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("IPROOV_EMULATOR_BIN", str(tmp_path / "nothing"))
    with pytest.raises(EmulatorError) as error:
        start_emulator()
    assert error.value.code == "binary_not_found" and "IPROOV_EMULATOR_BIN" in error.value.description
    with pytest.raises(EmulatorError) as error:
        start_emulator(binary=tmp_path)  # a folder: the spawn itself fails
    assert error.value.code == "start_failed"


def test_stop_ends_the_process_and_a_stopped_emulator_is_unreachable() -> None:
    with start_emulator(config={"service_providers": []}) as emulator:
        assert emulator.service_providers == []
    with pytest.raises(EmulatorError) as error:
        emulator.reset()
    assert error.value.code == "unreachable"
    emulator.stop()  # idempotent


@pytest.mark.skipif(sys.platform != "linux", reason="PR_SET_PDEATHSIG is Linux's")
def test_the_emulator_dies_with_a_killed_test_process(tmp_path: Path) -> None:
    script = textwrap.dedent(
        """
        import sys, time
        from iproov_emulator import start_emulator
        emulator = start_emulator()
        print(emulator._process.pid, flush=True)
        time.sleep(60)
        """
    )
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert parent.stdout is not None
    child = int(parent.stdout.readline())
    os.kill(parent.pid, signal.SIGKILL)  # no finalizer, no atexit: only the kernel can help
    parent.wait()
    for _ in range(600):  # polled for up to 30 s, however long a loaded machine takes
        try:
            os.kill(child, 0)
        except ProcessLookupError:
            return
        # A zombie until its new parent (init) reaps it: /proc says which.
        state = Path(f"/proc/{child}/stat").read_text().split()[2] if Path(f"/proc/{child}").exists() else "X"
        if state in ("Z", "X"):
            return
        time.sleep(0.05)
    os.kill(child, signal.SIGKILL)
    pytest.fail("the emulator outlived its killed parent")


# Credentials the emulator never heard of (a real one sent by mistake): masked by where they are.
PLANTED = {
    "path_key": "plantedpathkey000000000000000000000000001",
    "query_key": "plantedquerykey00000000000000000000000002",
    "json_secret": "planted-json-secret-0003",
    "form_secret": "planted-form-client-secret-0004",
    "form_password": "planted form password 0005",
    "basic_password": "planted-basic-password-0006",
    "bearer": "plantedbearertoken0007",
    "multipart_secret": "planted-multipart-secret-0008",
}


def encodings(secret: str) -> List[str]:
    return [
        secret,
        urllib.parse.quote(secret, safe=""),
        urllib.parse.quote_plus(secret),
        base64.b64encode(secret.encode()).decode(),
        base64.b64encode(f"someone:{secret}".encode()).decode(),
        json.dumps(secret),
    ]


def log_lines(emulator: Emulator, seqs: range) -> List[str]:
    """The emulator's request log lines (its stderr) of the requests numbered ``seqs``."""
    for _ in range(1000):  # polled for up to 10 s: a thread of the emulator writes them
        lines = emulator.stderr.splitlines()
        found = [next((l for l in lines if l.startswith(f"journal #{seq} ")), None) for seq in seqs]
        if all(found):
            return [line for line in found if line]
        time.sleep(0.01)
    raise AssertionError(f"no request log line for each of {list(seqs)}: {emulator.stderr}")


def test_the_journal_and_its_log_mask_every_credential(iproov_emulator: Emulator) -> None:
    base = iproov_emulator.base_url("eu")
    sp = iproov_emulator.credentials("eu")
    mark = iproov_emulator.journal_mark()
    httpx.post(
        f"{base}/{PLANTED['path_key']}/access_token",
        auth=("someone", PLANTED["basic_password"]),
        data={"grant_type": "password", "password": PLANTED["form_password"], "client_secret": PLANTED["form_secret"]},
    )
    httpx.get(f"{base}/availability", params={"api_key": PLANTED["query_key"]})
    httpx.post(
        f"{base}/claim/enrol/token",
        json={"api_key": sp.api_key, "secret": PLANTED["json_secret"], "resource": "r", "user_id": "u"},
    )
    httpx.get(f"{base}/users/u", headers={"Authorization": f"Bearer {PLANTED['bearer']}"})
    httpx.post(
        f"{base}/claim/enrol/image",
        data={"api_key": sp.api_key, "secret": PLANTED["multipart_secret"], "rotation": "0"},
        files={"image": ("face.png", b"\x89PNG\r\n\x1a\n" + b"\0" * 60_000, "image/png")},
    )
    claim = token(iproov_emulator)  # the emulator's own credentials, sent as they should be

    sent = iproov_emulator.requests(since=mark)
    assert len(sent) == 6
    shown = json.dumps(sent)
    logged = "\n".join(log_lines(iproov_emulator, range(mark + 1, mark + 7)))
    for where, text in (("journal", shown), ("log", logged)):
        for secret in [*PLANTED.values(), sp.api_key, sp.secret]:
            for form in encodings(secret):
                assert form not in text, f"the {where} shows {form!r}"
    assert sent[0]["path"].endswith("/***/access_token")
    assert sent[0]["headers"]["authorization"] == "Basic ***"
    assert sent[0]["form"] == {"grant_type": "password", "password": "***", "client_secret": "***"}
    assert sent[1]["query"] == "api_key=***"
    assert sent[2]["json"]["secret"] == "***" and sent[2]["json"]["resource"] == "r"
    assert sent[3]["headers"]["authorization"] == "Bearer ***"
    image = [part for part in sent[4]["multipart"] if part["name"] == "image"][0]
    assert image["bytes"] == 60_008 and len(image["sha256"]) == 64 and "value" not in image
    assert len(json.dumps(sent[4])) < 2048  # a 60 KB image costs its length and digest
    assert sent[5]["json"]["user_id"] == "user-1" and sent[5]["service_provider"] == "eu-default"
    assert claim  # claim tokens are not credentials: the journal keeps them
    assert logged.splitlines()[2].startswith(f"journal #{mark + 3} POST /eu/api/v2/claim/enrol/token (")


def test_the_journal_filters_by_path_method_and_since(iproov_emulator: Emulator) -> None:
    assert iproov_emulator.requests() == []
    claim = token(iproov_emulator, "user-1")
    mark = iproov_emulator.journal_mark()
    iproov_emulator.complete_claim(claim)
    assert validate(iproov_emulator, claim, "user-1").json()["passed"] is True
    key = iproov_emulator.credentials("eu").api_key
    httpx.get(f"{iproov_emulator.base_url('eu')}/availability", params={"api_key": key})
    after = iproov_emulator.requests(since=mark)
    assert [(r["method"], r["path"].rsplit("/", 1)[-1]) for r in after] == [("POST", "validate"), ("GET", "availability")]
    validates: List[Dict[str, Any]] = iproov_emulator.requests("/claim/enrol/validate")
    assert [r["json"]["token"] for r in validates] == [claim]
    assert validates[0]["json"]["client"] == "t"
    assert iproov_emulator.requests("/availability", method="POST") == []
    assert len(iproov_emulator.requests(method="get")) == 1
    assert iproov_emulator.journal_mark() == mark + 2
    iproov_emulator.reset()
    assert iproov_emulator.requests() == [] and iproov_emulator.journal_mark() == mark + 2


def test_real_iproov_targets() -> None:
    assert real_iproov_target({}) is None
    assert real_iproov_target({"IPROOV_REGION": ""}) is None
    assert real_iproov_target({"IPROOV_BASE_URL": "http://127.0.0.1:8080/eu/api/v2"}) is None
    assert real_iproov_target({"IPROOV_BASE_URL": "https://iproov.me.example.com/api/v2"}) is None
    assert real_iproov_target({"IPROOV_BASE_URL": "https://notiproov.me/api/v2"}) is None
    assert "IPROOV_REGION=us" in (real_iproov_target({"IPROOV_REGION": "us"}) or "")
    for url in ("https://eu.rp.secure.iproov.me/api/v2", "https://EU.RP.SECURE.IPROOV.ME./api/v2",
                "eu.rp.secure.iproov.me/api/v2", "https://beta.rp.secure.iproov.me"):
        assert "IPROOV_BASE_URL" in (real_iproov_target({"IPROOV_BASE_URL": url}) or ""), url


GUARDED_TESTS = """
import os
import pytest

def test_reads_the_environment():
    assert True

@pytest.mark.iproov_live
def test_opted_in():
    assert True

@pytest.fixture
def at_the_emulator(monkeypatch, iproov_emulator):
    for name, value in iproov_emulator.environ().items():
        monkeypatch.setenv(name, value)

def test_pointed_at_the_emulator_by_a_fixture(at_the_emulator):
    assert os.environ["IPROOV_BASE_URL"].startswith("http://127.0.0.1:")
"""


def test_the_guard_refuses_a_test_pointed_at_iproov(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    pytester.makepyfile(test_guarded=GUARDED_TESTS)
    monkeypatch.delenv("IPROOV_BASE_URL", raising=False)
    monkeypatch.setenv("IPROOV_REGION", "eu")
    result = pytester.runpytest("-p", "no:cacheprovider", "-rf")
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(["*refused to run test_guarded.py::test_reads_the_environment: IPROOV_REGION=eu*"])
    result.stdout.fnmatch_lines(["*@pytest.mark.iproov_live*"])

    monkeypatch.delenv("IPROOV_REGION")
    monkeypatch.setenv("IPROOV_BASE_URL", "https://us.rp.secure.iproov.me/api/v2")
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=2, failed=1)
    result = pytester.runpytest("-p", "no:cacheprovider", "--iproov-allow-live")
    result.assert_outcomes(passed=3)
    monkeypatch.setenv("IPROOV_BASE_URL", "http://127.0.0.1:9/eu/api/v2")
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=3)
