"""The client scenarios (``tests/scenarios/``, format in its README) run through a Python
client against the emulator: set-up and faults through the control API, the calls through
the client's own methods, then the results, errors, audit records and the emulator's request
counts compared with the scenario, and the client's log records, spans and metrics with the
requests the emulator received (``scenario_telemetry.py``)."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import re
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Tuple

import iproov_sansio as ip
from emulator_fixtures import EU, REPO, US, Emulator
from scenario_telemetry import Capture, check_telemetry

SPS: Dict[str, Dict[str, str]] = {
    "eu-default": {"region": "eu", **EU},
    "us-default": {"region": "us", **US},
    "eu-liveness": {
        "region": "eu",
        "api_key": "eulivenesskey000000000000000000000000000",
        "secret": "eulivenesssecret000000000000000000000000",
        "oauth_username": "eu-liveness-oauth",
        "oauth_password": "eu-liveness-oauth-password",
    },
    "eu-risk": {
        "region": "eu",
        "api_key": "euriskkey0000000000000000000000000000000",
        "secret": "eurisksecret0000000000000000000000000000",
        "oauth_username": "eu-risk-oauth",
        "oauth_password": "eu-risk-oauth-password",
    },
}


class Mismatch(AssertionError):
    pass


def load_scenarios() -> List[Dict[str, Any]]:
    """Every scenario under tests/scenarios and $IPROOV_SCENARIOS_DIR, in sorted path order."""
    roots = [REPO / "tests" / "scenarios"]
    extra = os.environ.get("IPROOV_SCENARIOS_DIR")
    if extra:
        roots.append(Path(extra))
    found: List[Dict[str, Any]] = []
    for root in roots:
        for path in sorted(root.rglob("*.json")):
            data = json.loads(path.read_text(encoding="utf-8"))
            items = data["scenarios"] if isinstance(data, dict) and "scenarios" in data else [data]
            found.extend(items)
    return found


_REF = re.compile(r"\$([A-Za-z][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*)")


class Context:
    def __init__(self, sp: Mapping[str, str], base_url: str) -> None:
        self.sp = sp
        self.values: Dict[str, Any] = {
            "user": str(uuid.uuid4()),
            "user2": str(uuid.uuid4()),
            "base_url": base_url,
        }

    def lookup(self, path: str) -> Any:
        head, _, rest = path.partition(".")
        if head == "sp":
            return self.sp[rest]
        value = self.values[head]
        for key in rest.split(".") if rest else []:
            value = value[key]
        return value

    def subst(self, value: Any) -> Any:
        if isinstance(value, str):
            whole = _REF.fullmatch(value)
            if whole:
                return self.lookup(whole.group(1))
            return _REF.sub(lambda m: str(self.lookup(m.group(1))), value)
        if isinstance(value, list):
            return [self.subst(v) for v in value]
        if isinstance(value, dict):
            return {k: self.subst(v) for k, v in value.items()}
        return value


def subset(where: str, actual: Any, expected: Any) -> None:
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            raise Mismatch(f"{where}: expected an object, got {actual!r}")
        for key, value in expected.items():
            if key not in actual:
                raise Mismatch(f"{where}.{key}: missing in {actual!r}")
            subset(f"{where}.{key}", actual[key], value)
    elif actual != expected:
        raise Mismatch(f"{where}: got {actual!r}, expected {expected!r}")


def client_kwargs(emulator: Emulator, scenario: Mapping[str, Any], records: List[Dict[str, Any]]) -> Dict[str, Any]:
    spec = scenario.get("client", {})
    sp = SPS[spec.get("sp", "eu-default")]
    creds = {k: v for k, v in sp.items() if k != "region"}
    creds.update(spec.get("credentials", {}))
    options = spec.get("options", {})
    lock = threading.Lock()
    delay = spec.get("audit_delay") or {}

    def audit(record: Dict[str, Any]) -> None:
        with lock:
            records.append(record)
        if record.get("operation") == delay.get("operation"):
            # A slow hook holds the caller's thread (the event loop, in async): what the poll
            # that handed this record said to do waits for it.
            time.sleep(delay["ms"] / 1000.0)

    kwargs: Dict[str, Any] = {
        "base_url": f"{emulator.url}/{spec.get('region', sp['region'])}",
        **creds,
        "audit": audit,
    }
    if "timeout_ms" in options:
        kwargs["timeout"] = options["timeout_ms"] / 1000.0
    if "retry" in options:
        kwargs["retry"] = ip.RetryPolicy(**options["retry"])
    if "token" in options:
        kwargs["token_manager"] = ip.TokenManager(**options["token"])
    return kwargs


def _call_args(step: Mapping[str, Any], ctx: Context) -> Dict[str, Any]:
    args = dict(ctx.subst(step.get("input", {})))
    if step["call"] == "enrol_image" and isinstance(args.get("image"), dict):
        args["image"] = base64.b64decode(args["image"]["base64"])
    if step.get("attempt") is not None:
        args["attempt"] = step["attempt"]
    return args


def _check_outcome(name: str, outcome: Any, expect: Mapping[str, Any], ctx: Context) -> None:
    expect = ctx.subst(expect)
    if "result" in expect:
        if isinstance(outcome, BaseException):
            raise Mismatch(f"{name}: expected a result, got {outcome!r}")
        subset(name, outcome.to_dict(), expect["result"])
        return
    error = expect["error"]
    if not isinstance(outcome, ip.IProovError):
        raise Mismatch(f"{name}: expected error {error}, got {outcome!r}")
    wanted = error.get("class")
    if wanted and wanted not in {cls.__name__ for cls in type(outcome).__mro__}:
        raise Mismatch(f"{name}: raised {type(outcome).__name__}, expected a {wanted}")
    subset(name, outcome.to_dict(), {k: v for k, v in error.items() if k != "class"})


def run_scenario(emulator: Emulator, scenario: Mapping[str, Any], kind: str) -> Dict[str, int]:
    """Runs one scenario with a client of ``kind`` (``httpx``, ``httpx_async``, ``requests``);
    gives what the telemetry checks saw (``check_telemetry``)."""
    records: List[Dict[str, Any]] = []
    spec = scenario.get("client", {})
    kwargs = client_kwargs(emulator, scenario, records)
    ctx = Context(SPS[spec.get("sp", "eu-default")], f"{kwargs['base_url']}/api/v2")
    calls: List[Tuple[str, Optional[str], Optional[str]]] = []
    with Capture() as told:
        _run_steps(emulator, scenario, kind, kwargs, ctx, calls)
        _check_requests(emulator, scenario, ctx)
        _check_audit(scenario, records, ctx)
    # What the client told, against what the emulator received; no secret, token or user id.
    sp = {**SPS[spec.get("sp", "eu-default")], **spec.get("credentials", {})}
    issued = [t["access_token"] for t in emulator.control("GET", "/state")["access_tokens"]]
    needles = [sp["api_key"], sp["secret"], sp["oauth_password"], f"{sp['oauth_username']}:{sp['oauth_password']}",
               *issued, *(token for _, _, token in calls if token), ctx.values["user"], ctx.values["user2"]]
    return check_telemetry(told.lines, told.otel(), requests=emulator.control("GET", "/requests"),
                           port=int(emulator.url.rsplit(":", 1)[1]), calls=[(op, code) for op, code, _ in calls],
                           needles=[n for n in needles if isinstance(n, str) and n])


def _run_steps(emulator: Emulator, scenario: Mapping[str, Any], kind: str, kwargs: Dict[str, Any], ctx: Context,
               calls: List[Tuple[str, Optional[str], Optional[str]]]) -> None:
    from iproov_sansio import httpx as ip_httpx
    from iproov_sansio import requests as ip_requests

    loop: Optional[asyncio.AbstractEventLoop] = None
    if kind == "httpx":
        client: Any = ip_httpx.Client(**kwargs)
    elif kind == "requests":
        client = ip_requests.Client(**kwargs)
    else:
        loop = asyncio.new_event_loop()
        client = ip_httpx.AsyncClient(**kwargs)
    try:
        for number, step in enumerate(scenario["steps"], start=1):
            where = f"step {number}"
            if "control" in step:
                emulator.control(step["control"], ctx.subst(step["path"]), ctx.subst(step.get("body")))
            elif "sleep_ms" in step:
                threading.Event().wait(step["sleep_ms"] / 1000.0)
            elif "error_json" in step:
                # What this host makes of core's canonical error JSON from elsewhere.
                made = ip.error_from_dict(ctx.subst(step["error_json"]))
                _check_outcome(f"{where} (error_json)", made, step.get("expect", {}), ctx)
            else:
                _run_call(client, loop, step, ctx, where, calls)
    finally:
        if loop is not None:
            loop.run_until_complete(client.aclose())
            loop.close()
        else:
            client.close()


def _run_call(client: Any, loop: Optional[asyncio.AbstractEventLoop], step: Mapping[str, Any], ctx: Context, where: str,
              calls: List[Tuple[str, Optional[str], Optional[str]]]) -> None:
    """One call step, ``concurrent`` times at once; ``calls`` gets ``(operation, error code,
    claim token)`` of each (a cancelled call: the code its audit records say, the scenario's)."""
    method = getattr(client, step["call"])
    args = _call_args(step, ctx)
    n = int(step.get("concurrent", 1))
    abort_ms = step.get("abort_after_ms")
    if loop is None:
        if abort_ms is not None:
            raise AssertionError("a sync client cannot abort a call: test_scenarios.py makes no such case for it")

        def one() -> Any:
            try:
                return method(**args)
            except ip.IProovError as error:
                return error

        if n == 1:
            outcomes = [one()]
        else:
            with ThreadPoolExecutor(max_workers=n) as pool:
                outcomes = list(pool.map(lambda _: one(), range(n)))
    else:

        async def one_async() -> Any:
            try:
                if abort_ms is not None:
                    return await asyncio.wait_for(method(**args), abort_ms / 1000.0)
                return await method(**args)
            except (ip.IProovError, asyncio.TimeoutError) as error:
                return error

        async def all_of() -> List[Any]:
            return list(await asyncio.gather(*(one_async() for _ in range(n))))

        outcomes = loop.run_until_complete(all_of())
    for outcome in outcomes:
        if isinstance(outcome, ip.IProovError):
            calls.append((step["call"], outcome.code, None))
        elif isinstance(outcome, asyncio.TimeoutError):
            calls.append((step["call"], step.get("expect", {}).get("error", {}).get("code"), None))
        else:
            calls.append((step["call"], None, outcome.to_dict().get("token")))
    for i, outcome in enumerate(outcomes):
        name = f"{where} ({step['call']}{f' #{i + 1}' if n > 1 else ''})"
        if abort_ms is not None:
            # asyncio's convention: the caller's cancellation propagates as such; what became of
            # the request is in the audit records, which the scenario checks.
            if not isinstance(outcome, asyncio.TimeoutError):
                raise Mismatch(f"{name}: expected the call to be cancelled, got {outcome!r}")
            continue
        _check_outcome(name, outcome, step.get("expect", {}), ctx)
        if "id" in step and not isinstance(outcome, BaseException):
            ctx.values[step["id"]] = {"result": outcome.to_dict()}


def _check_requests(emulator: Emulator, scenario: Mapping[str, Any], ctx: Context) -> None:
    for key, expected in (scenario.get("requests") or {}).items():
        method, _, suffix = ctx.subst(key).partition(" ")
        seen = emulator.count(suffix, method)
        if seen != expected:
            raise Mismatch(f"requests {method} {suffix}: the emulator saw {seen}, expected {expected}")


def _check_audit(scenario: Mapping[str, Any], records: List[Dict[str, Any]], ctx: Context) -> None:
    expected = scenario.get("audit")
    if expected is not None:
        expected = ctx.subst(expected)
        if len(records) != len(expected):
            shown = [(r.get("operation"), r.get("outcome")) for r in records]
            raise Mismatch(f"audit: {len(records)} records {shown}, expected {len(expected)}")
        for i, (record, want) in enumerate(zip(records, expected)):
            subset(f"audit[{i}]", record, want)
    shown = json.dumps(records)
    for text in ctx.subst(scenario.get("audit_lacks") or []):
        if text in shown:
            raise Mismatch(f"audit: a record holds {text!r}")
