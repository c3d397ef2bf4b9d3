"""Benchmark of the Python binding (a command, not a test):

1. per operation, build and parse through the binding against a pure-Python baseline doing
   the same job (json + re + a dataclass: the same input checks, wire format and result);
2. ``import iproov_sansio`` time (fresh interpreters);
3. client overhead: ``iproov_sansio.httpx.Client`` against a raw httpx call (request + JSON
   decode) to the emulator, over the same ``httpx.Client``.

    python bindings-python/bench/bench.py [--quick] [--json FILE]

Build the wheel in release mode first (scripts/test does). Prints tables for BENCHMARKS.md;
``--json FILE`` also writes the figures as JSON (for scripts/bench).
"""

from __future__ import annotations

import base64
import json
import os
import re
import statistics
import subprocess
import sys
import time
import timeit
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple

import iproov_sansio as ip

REPO = Path(__file__).resolve().parents[2]
QUICK = "--quick" in sys.argv
JSON_FILE = sys.argv[sys.argv.index("--json") + 1] if "--json" in sys.argv else None
RESULTS: Dict[str, Any] = {"host": "python", "quick": QUICK}

API_KEY = "eudefaultkey0000000000000000000000000000"
SECRET = "eudefaultsecret0000000000000000000000000"
CONFIG = ip.Config(
    "eu",
    api_key=API_KEY,
    secret=SECRET,
    oauth_username="eu-default-oauth",
    oauth_password="eu-default-oauth-password",
    access_token="at-0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghij",
)
BASE = "https://eu.rp.secure.iproov.me/api/v2"
UA = "iproov-sansio/0.1.0"
USER = "5f1c2a9e-7b3d-4c8e-9a01-2d6f4b8c0e13"
TOKEN = "9c1f0e7a3b5d42c8e6a1f0b9d8c7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d9"
PNG = b"\x89PNG\r\n\x1a\n" + bytes(2000)

# --- the pure-Python baseline -------------------------------------------------------------------

USER_ID = re.compile(r"[a-zA-Z0-9'\+_@\.-]{1,256}")
TOKEN_RE = re.compile(r"[A-Za-z0-9_-]{1,256}")
RISK = re.compile(r"[a-zA-Z0-9_-]{0,100}")
REASON = re.compile(r"[a-zA-Z0-9_.:=()’'\"/\s]{1,800}")
DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:Z|\+00:00)")


class BaselineError(Exception):
    pass


@dataclass(frozen=True)
class BRequest:
    method: str
    url: str
    headers: Tuple[Tuple[str, str], ...]
    body: bytes


def _check_user(user_id: Any, field: str = "user_id") -> None:
    if not isinstance(user_id, str) or not USER_ID.fullmatch(user_id):
        raise BaselineError(field)


def _json_request(method: str, path: str, body: Dict[str, Any]) -> BRequest:
    return BRequest(
        method, BASE + path, (("User-Agent", UA), ("Content-Type", "application/json")), json.dumps(body, separators=(",", ":")).encode()
    )


def b_claim(path: str, user_id: str, resource: str, assurance_type: Optional[str] = None, risk_profile: Optional[str] = None) -> BRequest:
    if not resource.strip():
        raise BaselineError("resource")
    _check_user(user_id)
    if risk_profile and not RISK.fullmatch(risk_profile):
        raise BaselineError("risk_profile")
    if assurance_type not in (None, "genuine_presence", "liveness"):
        raise BaselineError("assurance_type")
    body: Dict[str, Any] = {"api_key": API_KEY, "secret": SECRET, "resource": resource, "user_id": user_id}
    if assurance_type:
        body["assurance_type"] = assurance_type
    if risk_profile:
        body["risk_profile"] = risk_profile
    return _json_request("POST", path, body)


def b_validate(path: str, user_id: str, token: str, client: str, risk_profile: Optional[str] = None) -> BRequest:
    _check_user(user_id)
    if not TOKEN_RE.fullmatch(token):
        raise BaselineError("token")
    if not client.strip():
        raise BaselineError("client")
    body = {"api_key": API_KEY, "secret": SECRET, "user_id": user_id, "token": token, "client": client}
    if risk_profile:
        body["risk_profile"] = risk_profile
    return _json_request("POST", path, body)


def b_enrol_image(token: str, source: str, image: bytes) -> BRequest:
    if not TOKEN_RE.fullmatch(token):
        raise BaselineError("token")
    if source.lower() not in ("eid", "oid", "selfie"):
        raise BaselineError("source")
    if not image or len(image) > 2_000_000 or not image.startswith(b"\x89PNG\r\n\x1a\n"):
        raise BaselineError("image")
    boundary = "iproov-" + base64.b32encode(os.urandom(10)).decode().lower()
    while boundary.encode() in image:  # the boundary must not occur in the content
        boundary = "iproov-" + base64.b32encode(os.urandom(10)).decode().lower()
    parts = []
    for name, value in (("api_key", API_KEY), ("secret", SECRET), ("rotation", "0"), ("token", token), ("source", source.lower())):
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="image"; filename="image.png"\r\nContent-Type: image/png\r\n\r\n'.encode()
        + image
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return BRequest(
        "POST", BASE + "/claim/enrol/image", (("User-Agent", UA), ("Content-Type", f"multipart/form-data; boundary={boundary}")), b"".join(parts)
    )


def b_access_token(scope: Optional[List[str]] = None) -> BRequest:
    form = [("grant_type", "client_credentials")]
    if scope:
        for s in scope:
            if s not in ("user-read", "user-write", "user-write-status"):
                raise BaselineError("scope")
        form.append(("scope", ",".join(dict.fromkeys(scope))))
    basic = base64.b64encode(b"eu-default-oauth:eu-default-oauth-password").decode()
    return BRequest(
        "POST",
        f"{BASE}/{urllib.parse.quote(API_KEY)}/access_token",
        (("User-Agent", UA), ("Content-Type", "application/x-www-form-urlencoded"), ("Authorization", "Basic " + basic)),
        urllib.parse.urlencode(form).encode(),
    )


def _bearer(request: BRequest) -> BRequest:
    return BRequest(request.method, request.url, request.headers + (("Authorization", "Bearer at-0123"),), request.body)


def b_user_state(user_id: str, suffix: str, date_time: Optional[str] = None) -> BRequest:
    _check_user(user_id)
    body: Dict[str, Any] = {}
    if date_time is not None:
        m = DATE.fullmatch(date_time)
        if not m:
            raise BaselineError("date_time")
        body["date_time"] = f"{date_time[:19]}.{(m.group(7) or '').ljust(3, '0')[:3]}Z"
    return _bearer(_json_request("POST", f"/users/{user_id}{suffix}", body))


def b_user(method: str, user_id: str) -> BRequest:
    _check_user(user_id)
    return _bearer(BRequest(method, f"{BASE}/users/{user_id}", (("User-Agent", UA),), b""))


def b_update(user_id: str, new_user_id: Optional[str] = None, name: Optional[str] = None) -> BRequest:
    _check_user(user_id)
    body: Dict[str, Any] = {}
    if new_user_id is not None:
        _check_user(new_user_id, "new_user_id")
        body["user_id"] = new_user_id
    if name is not None:
        if not name.strip() or len(name) > 256:
            raise BaselineError("name")
        body["name"] = name
    if not body:
        raise BaselineError("new_user_id")
    return _bearer(_json_request("PUT", f"/users/{user_id}", body))


def b_invalidate(token: str, reason: str) -> BRequest:
    if not TOKEN_RE.fullmatch(token):
        raise BaselineError("token")
    if not REASON.fullmatch(reason):
        raise BaselineError("reason")
    return _json_request("POST", f"/claim/{token}/invalidate", {"reason": reason})


def b_availability() -> BRequest:
    return BRequest("GET", f"{BASE}/availability?{urllib.parse.urlencode({'api_key': API_KEY})}", (("User-Agent", UA),), b"")


@dataclass(frozen=True)
class BClaim:
    token: str
    fallback: Optional[Tuple[Dict[str, str], ...]] = None
    primary: Optional[str] = None
    user_id: Optional[str] = None
    pod: Optional[str] = None
    risk_profile: Optional[str] = None


@dataclass(frozen=True)
class BValidate:
    passed: bool
    token: Optional[str] = None
    type: Optional[str] = None
    frame_available: Optional[bool] = None
    frame: Optional[str] = None
    reason: Optional[str] = None
    risk_profile: Optional[str] = None
    assurance_type: Optional[str] = None
    signals: Optional[Dict[str, Any]] = None
    return_frame_quality: Optional[Dict[str, Any]] = None


@dataclass(frozen=True)
class BAccessToken:
    access_token: str
    token_type: Optional[str]
    expires_in: Optional[int]
    scope: Optional[Tuple[str, ...]]


@dataclass(frozen=True)
class BUser:
    user_id: str
    status: str
    name: Optional[str] = None
    activation_date: Optional[str] = None
    suspension_date: Optional[str] = None


@dataclass(frozen=True)
class BFlag:
    value: bool
    extra: Optional[Any] = None


def _load(status: int, body: bytes) -> Dict[str, Any]:
    try:
        data = json.loads(body)
    except ValueError:
        raise BaselineError("decode_error") from None
    if not isinstance(data, dict):
        raise BaselineError("decode_error")
    if status != 200:
        raise BaselineError(str(data.get("error")))
    return data


def _opt(data: Dict[str, Any], key: str, kind: type) -> Any:
    value = data.get(key)
    if value is not None and not isinstance(value, kind):
        raise BaselineError(key)
    return value


def p_claim(status: int, body: bytes) -> BClaim:
    d = _load(status, body)
    token = d.get("token")
    if not isinstance(token, str) or not token:
        raise BaselineError("token")
    fb = d.get("fallback")
    fallback = None if fb is None else tuple({"message": f} if isinstance(f, str) else f for f in fb)
    return BClaim(token, fallback, _opt(d, "primary", str), _opt(d, "user_id", str), _opt(d, "pod", str), _opt(d, "risk_profile", str))


def p_validate(status: int, body: bytes) -> BValidate:
    d = _load(status, body)
    passed = d.get("passed")
    if not isinstance(passed, bool):
        raise BaselineError("passed")
    fa = d.get("frame_available")
    if isinstance(fa, str):
        if fa not in ("true", "false"):
            raise BaselineError("frame_available")
        fa = fa == "true"
    reason = d.get("reason")
    if reason is None and isinstance(d.get("result"), dict):
        reason = d["result"].get("reason")
    return BValidate(
        passed,
        _opt(d, "token", str),
        _opt(d, "type", str),
        fa,
        _opt(d, "frame", str),
        reason,
        _opt(d, "risk_profile", str),
        _opt(d, "assurance_type", str),
        _opt(d, "signals", dict),
        _opt(d, "return_frame_quality", dict),
    )


def p_access_token(status: int, body: bytes) -> BAccessToken:
    d = _load(status, body)
    token = d.get("access_token")
    if not isinstance(token, str) or not token:
        raise BaselineError("access_token")
    expires = d.get("expires_in")
    if isinstance(expires, str):
        expires = int(expires)
    scope = d.get("scope")
    if isinstance(scope, str):
        scope = scope.split()
    return BAccessToken(token, _opt(d, "token_type", str), expires, None if scope is None else tuple(scope))


def p_user(status: int, body: bytes) -> BUser:
    d = _load(status, body)
    user_id, state = d.get("user_id"), d.get("status")
    if not isinstance(user_id, str) or not isinstance(state, str):
        raise BaselineError("user")
    return BUser(user_id, state.lower(), _opt(d, "name", str), _opt(d, "activation_date", str), _opt(d, "suspension_date", str))


def p_flag(key: str, extra: Optional[str] = None) -> Callable[[int, bytes], BFlag]:
    def parse(status: int, body: bytes) -> BFlag:
        d = _load(status, body)
        value = d.get(key)
        if not isinstance(value, bool):
            raise BaselineError(key)
        return BFlag(value, None if extra is None else d.get(extra))

    return parse


# --- the cases ----------------------------------------------------------------------------------

CLAIM_BODY = json.dumps({"token": TOKEN, "fallback": [], "primary": "iproov", "user_id": USER, "pod": "edge02.eu4"}).encode()
VALIDATE_BODY = json.dumps(
    {
        "passed": True,
        "token": TOKEN,
        "type": "verify",
        "frame_available": True,
        "assurance_type": "genuine_presence",
        "signals": {"anti_spoofing": {"passed": True}, "matching": {"passed": True}},
    }
).encode()
FRAME_BODY = json.dumps({"passed": True, "token": TOKEN, "type": "verify", "frame": base64.b64encode(os.urandom(45_000)).decode()}).encode()
TOKEN_BODY = json.dumps({"access_token": "at-" + "a" * 57, "token_type": "Bearer", "expires_in": 3600, "scope": ["user-read"]}).encode()
USER_BODY = json.dumps({"user_id": USER, "name": "Jane", "status": "Active", "activation_date": "2024-05-01T12:30:00Z"}).encode()
HEADERS = {"content-type": "application/json"}

CASES: List[Tuple[str, Callable[[], Any], Callable[[], Any], Callable[[], Any], Callable[[], Any]]] = [
    (
        "enrol_token",
        lambda: ip.build_enrol_token(CONFIG, user_id=USER, resource="Onboarding"),
        lambda: b_claim("/claim/enrol/token", USER, "Onboarding"),
        lambda: ip.parse_enrol_token(CONFIG, 200, HEADERS, CLAIM_BODY),
        lambda: p_claim(200, CLAIM_BODY),
    ),
    (
        "verify_token",
        lambda: ip.build_verify_token(CONFIG, user_id=USER, resource="Login", assurance_type="liveness"),
        lambda: b_claim("/claim/verify/token", USER, "Login", "liveness"),
        lambda: ip.parse_verify_token(CONFIG, 200, HEADERS, CLAIM_BODY),
        lambda: p_claim(200, CLAIM_BODY),
    ),
    (
        "enrol_image (2 KB)",
        lambda: ip.build_enrol_image(CONFIG, token=TOKEN, source="oid", image=PNG),
        lambda: b_enrol_image(TOKEN, "oid", PNG),
        lambda: ip.parse_enrol_image(CONFIG, 200, HEADERS, b'{"success": true, "token": "t", "user_id": "u"}'),
        lambda: p_flag("success")(200, b'{"success": true, "token": "t", "user_id": "u"}'),
    ),
    (
        "enrol_validate",
        lambda: ip.build_enrol_validate(CONFIG, user_id=USER, token=TOKEN, client="Mozilla/5.0"),
        lambda: b_validate("/claim/enrol/validate", USER, TOKEN, "Mozilla/5.0"),
        lambda: ip.parse_enrol_validate(CONFIG, 200, HEADERS, VALIDATE_BODY),
        lambda: p_validate(200, VALIDATE_BODY),
    ),
    (
        "verify_validate",
        lambda: ip.build_verify_validate(CONFIG, user_id=USER, token=TOKEN, client="Mozilla/5.0"),
        lambda: b_validate("/claim/verify/validate", USER, TOKEN, "Mozilla/5.0"),
        lambda: ip.parse_verify_validate(CONFIG, 200, HEADERS, VALIDATE_BODY),
        lambda: p_validate(200, VALIDATE_BODY),
    ),
    (
        "verify_validate (60 KB frame)",
        lambda: ip.build_verify_validate(CONFIG, user_id=USER, token=TOKEN, client="Mozilla/5.0"),
        lambda: b_validate("/claim/verify/validate", USER, TOKEN, "Mozilla/5.0"),
        lambda: ip.parse_verify_validate(CONFIG, 200, HEADERS, FRAME_BODY),
        lambda: p_validate(200, FRAME_BODY),
    ),
    (
        "access_token",
        lambda: ip.build_access_token(CONFIG, scope=["user-read", "user-write"]),
        lambda: b_access_token(["user-read", "user-write"]),
        lambda: ip.parse_access_token(CONFIG, 200, HEADERS, TOKEN_BODY),
        lambda: p_access_token(200, TOKEN_BODY),
    ),
    (
        "activate_user",
        lambda: ip.build_activate_user(CONFIG, user_id=USER, date_time="2024-05-01T12:30:00Z"),
        lambda: b_user_state(USER, "/activate", "2024-05-01T12:30:00Z"),
        lambda: ip.parse_activate_user(CONFIG, 200, HEADERS, USER_BODY),
        lambda: p_user(200, USER_BODY),
    ),
    (
        "suspend_user",
        lambda: ip.build_suspend_user(CONFIG, user_id=USER),
        lambda: b_user_state(USER, "/suspend"),
        lambda: ip.parse_suspend_user(CONFIG, 200, HEADERS, USER_BODY),
        lambda: p_user(200, USER_BODY),
    ),
    (
        "get_user",
        lambda: ip.build_get_user(CONFIG, user_id=USER),
        lambda: b_user("GET", USER),
        lambda: ip.parse_get_user(CONFIG, 200, HEADERS, USER_BODY),
        lambda: p_user(200, USER_BODY),
    ),
    (
        "update_user",
        lambda: ip.build_update_user(CONFIG, user_id=USER, name="Jane"),
        lambda: b_update(USER, name="Jane"),
        lambda: ip.parse_update_user(CONFIG, 200, HEADERS, USER_BODY),
        lambda: p_user(200, USER_BODY),
    ),
    (
        "delete_user",
        lambda: ip.build_delete_user(CONFIG, user_id=USER),
        lambda: b_user("DELETE", USER),
        lambda: ip.parse_delete_user(CONFIG, 200, HEADERS, USER_BODY),
        lambda: p_user(200, USER_BODY),
    ),
    (
        "invalidate_claim",
        lambda: ip.build_invalidate_claim(CONFIG, token=TOKEN, reason="user cancelled"),
        lambda: b_invalidate(TOKEN, "user cancelled"),
        lambda: ip.parse_invalidate_claim(CONFIG, 200, HEADERS, b'{"claim_aborted": true, "user_informed": false}'),
        lambda: p_flag("claim_aborted", "user_informed")(200, b'{"claim_aborted": true, "user_informed": false}'),
    ),
    (
        "availability",
        lambda: ip.build_availability(CONFIG),
        b_availability,
        lambda: ip.parse_availability(CONFIG, 200, HEADERS, b'{"up": true}'),
        lambda: p_flag("up")(200, b'{"up": true}'),
    ),
]


def per_call_us(fn: Callable[[], Any]) -> float:
    """Best of 5 repeats, in microseconds per call."""
    number = 300 if QUICK else 3000
    return min(timeit.repeat(fn, number=number, repeat=5)) / number * 1e6


def operations_table() -> None:
    print("## Per operation: binding vs pure-Python baseline (json + re + dataclass), us per call\n")
    print("| operation | build binding | build baseline | ratio | parse binding | parse baseline | ratio |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    worst = 0.0
    RESULTS["ops"] = []
    for name, build, b_build, parse, b_parse in CASES:
        bb, bl, pb, pl = (per_call_us(f) for f in (build, b_build, parse, b_parse))
        worst = max(worst, bb / bl, pb / pl)
        RESULTS["ops"].append(
            {"op": name, "build_ns": bb * 1e3, "baseline_build_ns": bl * 1e3, "parse_ns": pb * 1e3, "baseline_parse_ns": pl * 1e3}
        )
        print(f"| {name} | {bb:.2f} | {bl:.2f} | {bb / bl:.2f}x | {pb:.2f} | {pl:.2f} | {pb / pl:.2f}x |")
    print(f"\nworst ratio: {worst:.2f}x (goal: at most 1.0x)\n")


def import_time() -> None:
    code = "import time; t = time.perf_counter(); import iproov_sansio; print(time.perf_counter() - t)"
    runs = 5 if QUICK else 15
    samples = [float(subprocess.check_output([sys.executable, "-c", code])) * 1000 for _ in range(runs)]
    RESULTS["import_ms"] = {"median": statistics.median(samples), "min": min(samples), "runs": runs}
    print("## import iproov_sansio (fresh interpreter)\n")
    print(f"median {statistics.median(samples):.1f} ms, best {min(samples):.1f} ms over {runs} runs (goal: under 30 ms)\n")


def emulator_binary() -> Path:
    for profile in ("release", "debug"):
        binary = REPO / "target" / profile / "iproov-emulator"
        if binary.exists():
            return binary
    subprocess.run(["cargo", "build", "--release", "-p", "iproov-emulator"], cwd=REPO, check=True)
    return REPO / "target" / "release" / "iproov-emulator"


def _trimmed_mean(samples: List[float]) -> float:
    kept = sorted(samples)[: max(1, int(len(samples) * 0.9))]
    return sum(kept) / len(kept)


def client_overhead() -> None:
    import httpx

    from iproov_sansio.httpx import Client

    binary = emulator_binary()
    process = subprocess.Popen([str(binary), "--port", "0"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    try:
        assert process.stdout is not None
        url = process.stdout.readline().decode().strip().split("listening on ", 1)[1]
        base = f"{url}/eu/api/v2"
        http = httpx.Client()
        client = Client(base_url=base, api_key=API_KEY, secret=SECRET, http_client=http)
        raw_url = f"{base}/availability?api_key={API_KEY}"
        claim_url = f"{base}/claim/verify/token"

        def raw_availability() -> Any:
            response = http.get(raw_url, headers={"User-Agent": UA}, timeout=10.0)
            return response.status_code, response.json()

        claim_body = json.dumps({"api_key": API_KEY, "secret": SECRET, "resource": "Login", "user_id": USER}).encode()

        def raw_enrol_token() -> Any:
            response = http.post(
                claim_url.replace("verify", "enrol"),
                headers={"User-Agent": UA, "Content-Type": "application/json"},
                content=claim_body,
                timeout=10.0,
            )
            return response.status_code, response.json()

        import requests

        from iproov_sansio.requests import Client as RequestsClient

        session = requests.Session()
        rclient = RequestsClient(base_url=base, api_key=API_KEY, secret=SECRET, session=session)

        def raw_requests_availability() -> Any:
            response = session.get(raw_url, headers={"User-Agent": UA}, timeout=10.0)
            return response.status_code, response.json()

        def raw_requests_enrol_token() -> Any:
            response = session.post(
                claim_url.replace("verify", "enrol"),
                headers={"User-Agent": UA, "Content-Type": "application/json"},
                data=claim_body,
                timeout=10.0,
            )
            return response.status_code, response.json()

        pairs = [
            ("availability (GET)", raw_availability, client.availability),
            ("enrol_token (POST)", raw_enrol_token, lambda: client.enrol_token(user_id=USER, resource="Login")),
            ("requests: availability (GET)", raw_requests_availability, rclient.availability),
            (
                "requests: enrol_token (POST)",
                raw_requests_enrol_token,
                lambda: rclient.enrol_token(user_id=USER, resource="Login"),
            ),
        ]
        calls = 1000 if QUICK else 5000
        print(f"## Client overhead vs raw httpx to the emulator ({binary.parent.name} build), us per call\n")
        print("Calls alternate (raw, client, raw, ...) so that load on the machine hits both alike;")
        print("the mean drops the slowest 10% of each (scheduler noise on a shared machine).\n")
        print("| call | raw (httpx or requests) | iproov_sansio client | ratio | median ratio |")
        print("|---|---:|---:|---:|---:|")
        clock = time.perf_counter
        RESULTS["client_overhead"] = {"emulator": binary.parent.name, "calls": calls, "rows": []}
        for name, raw, ours in pairs:
            for _ in range(100):  # warm the pool and both paths
                raw()
                ours()
            raw_t, our_t = [], []
            for _ in range(calls):
                t0 = clock()
                raw()
                t1 = clock()
                ours()
                t2 = clock()
                raw_t.append(t1 - t0)
                our_t.append(t2 - t1)
            r, o = _trimmed_mean(raw_t) * 1e6, _trimmed_mean(our_t) * 1e6
            ratio_median = statistics.median(our_t) / statistics.median(raw_t)
            print(f"| {name} | {r:.0f} | {o:.0f} | {o / r:.3f}x | {ratio_median:.3f}x |")
            RESULTS["client_overhead"]["rows"].append(
                {"call": name, "raw_us": r, "client_us": o, "ratio": o / r, "median_ratio": ratio_median}
            )
        print("\n(goal: at most 1.05x)\n")
        client.close()
        http.close()
        rclient.close()
        session.close()
    finally:
        process.terminate()
        process.wait(timeout=10)


def telemetry_levels() -> None:
    """What core's telemetry events cost a call, by the level of the ``iproov_sansio`` loggers
    (the client asks core only for the events at or above it: telemetry.wanted): enrol_token
    through the httpx client, answered a canned 200 by ``httpx.MockTransport`` (no socket, so
    that a few microseconds are not lost in a round trip's noise), the levels taken in turn
    call by call; us per call, the mean without the slowest 10%, median of 5 rounds of 2000
    calls per level."""
    import logging
    import statistics

    import httpx

    from iproov_sansio.httpx import Client

    body = (b'{"token":"fe628665630a347f9df9e91070c8ea2295292a6ebe7fe100cd0853bbea07c4ea","primary":"iproov",'
            b'"user_id":"5f1c2a9e-7b3d-4c8e-9a01-2d6f4b8c0e13","pod":"edge02.eu4"}')
    answer = {"content-type": "application/json"}
    http = httpx.Client(transport=httpx.MockTransport(lambda r: httpx.Response(200, headers=answer, stream=httpx.ByteStream(body))))
    client = Client(base_url="https://eu.rp.secure.iproov.me/api/v2", api_key=API_KEY, secret=SECRET, http_client=http)
    logger = logging.getLogger("iproov_sansio")
    before = logger.level
    levels = {"CRITICAL (no event)": logging.CRITICAL, "WARNING (the default)": logging.WARNING,
              "INFO": logging.INFO, "DEBUG (no handler)": logging.DEBUG}
    rounds: Dict[str, List[float]] = {name: [] for name in levels}
    try:
        for _ in range(200):
            client.enrol_token(resource="Login", user_id=USER)
        for _ in range(5):
            samples: Dict[str, List[float]] = {name: [] for name in levels}
            for _ in range(2000):
                for name, level in levels.items():
                    logger.setLevel(level)
                    began = time.perf_counter_ns()
                    client.enrol_token(resource="Login", user_id=USER)
                    samples[name].append((time.perf_counter_ns() - began) / 1000)
            for name, taken in samples.items():
                rounds[name].append(_trimmed_mean(taken))
    finally:
        logger.setLevel(before)
        client.close()
    print("## Telemetry levels: an enrol_token call with a canned answer (no socket), us per call\n")
    for name, means in rounds.items():
        print(f"- {name}: {statistics.median(means):.1f} (rounds {', '.join(f'{m:.1f}' for m in means)})")


def main() -> None:
    print(f"iproov_sansio {ip.__version__}, Python {sys.version.split()[0]}, {os.cpu_count()} CPUs\n")
    RESULTS.update(version=ip.__version__, python=sys.version.split()[0])
    operations_table()
    import_time()
    client_overhead()
    if JSON_FILE:
        Path(JSON_FILE).write_text(json.dumps(RESULTS, indent=2) + "\n")


if __name__ == "__main__":
    main()
