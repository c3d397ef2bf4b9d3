"""Telemetry (issue 27 items 1-3, 7): core's events as Python log records and OpenTelemetry
spans and metrics (the SDK's in-memory exporters), for calls against the emulator and a
journey: what each says, and that none carries a credential, a claim token, the api_key or
the user_id."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Iterator, List

import pytest
from emulator_fixtures import EU, Emulator
from journey_support import enrolled
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from iproov_sansio import OutcomeUnknownError, telemetry
from iproov_sansio.httpx import Client
from iproov_sansio.journeys import JourneyService
from iproov_sansio.stores import SQLiteStore


@pytest.fixture
def otel() -> Iterator[Any]:
    spans = InMemorySpanExporter()
    tracer = TracerProvider()
    tracer.add_span_processor(SimpleSpanProcessor(spans))
    reader = InMemoryMetricReader()
    telemetry.use_opentelemetry(tracer, MeterProvider(metric_readers=[reader]))
    try:
        yield spans, reader
    finally:
        telemetry.stop_opentelemetry()


def metric_points(reader: InMemoryMetricReader) -> dict:
    points: dict = {}
    data = reader.get_metrics_data()
    for resource in data.resource_metrics if data else []:
        for scope in resource.scope_metrics:
            for metric in scope.metrics:
                points[metric.name] = [(dict(p.attributes), getattr(p, "value", None) or getattr(p, "count", None))
                                       for p in metric.data.data_points]
    return points


def test_a_call_is_a_span_with_a_client_span_per_send_and_its_metrics(emulator: Emulator, otel: Any) -> None:
    spans, reader = otel
    emulator.fault(path="/claim/enrol/token", kind="status", status=503, times=1)
    user = "8c4e2a6f-1b3d-4f7a-9c2e-5d8b0f3a6e19"
    with Client(base_url=emulator.base_url(), **EU) as http:
        token = http.enrol_token(resource="telemetry", user_id=user).token
    done = spans.get_finished_spans()
    call = [s for s in done if s.name == "iproov.call"]
    sends = [s for s in done if s.name == "iproov.send"]
    assert len(call) == 1 and len(sends) == 2, [s.name for s in done]
    assert all(s.parent is not None and s.parent.span_id == call[0].context.span_id for s in sends)
    assert [s.attributes["http.response.status_code"] for s in sends] == [503, 200]
    assert sends[0].attributes["url.template"] == "/claim/enrol/token"
    assert call[0].attributes["iproov.outcome"] == "token_issued"
    assert call[0].attributes["iproov.sends"] == 2
    assert [e.name for e in call[0].events] == ["iproov.retry"]
    points = metric_points(reader)
    assert points["iproov.client.calls"] == [({"iproov.operation": "enrol_token", "iproov.outcome": "token_issued"}, 1)]
    shown = repr([(s.name, dict(s.attributes)) for s in done]) + repr(points)
    for hidden in (EU["secret"], EU["api_key"], EU["oauth_password"], token, user):
        assert hidden not in shown


def test_logs_say_each_send_and_each_journey_outcome_without_a_secret(
    emulator: Emulator, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="iproov_sansio")
    with Client(base_url=emulator.base_url(), **EU) as http:
        svc = JourneyService(http, SQLiteStore(tmp_path / "j.sqlite3"))
        user = enrolled(emulator)
        started = svc.start("verify", user)
        emulator.complete(started["token"], passed=True)
        svc.finish(started["journey_id"], started["token"], "pytest")
        http.get_user(user_id=user)  # the users API: its OAuth token request too
    records: List[logging.LogRecord] = [r for r in caplog.records if hasattr(r, "iproov")]
    by_logger = {r.name for r in records}
    assert by_logger == {"iproov_sansio.client", "iproov_sansio.journeys"}
    sends = [r for r in records if r.iproov_event == "iproov.send"]  # type: ignore[attr-defined]
    assert {r.iproov["url.template"] for r in sends} >= {  # type: ignore[attr-defined]
        "/claim/verify/token", "/claim/verify/validate", "/{api_key}/access_token", "/users/{user_id}"}
    journeys = [r for r in records if r.name == "iproov_sansio.journeys"]
    assert [r.iproov["iproov.outcome"] for r in journeys] == ["issued", "passed"]  # type: ignore[attr-defined]
    assert all(r.levelno == logging.INFO for r in journeys)
    text = "\n".join(f"{r.getMessage()} {r.iproov}" for r in records)  # type: ignore[attr-defined]
    # The OAuth access token the users API call used is a secret too (the emulator lists the
    # ones it issued).
    tokens = [t["access_token"] for t in emulator.control("GET", "/state")["access_tokens"]]
    assert len(tokens) == 1
    for hidden in (EU["secret"], EU["api_key"], EU["oauth_password"], started["token"], user, *tokens):
        assert hidden not in text


def test_the_scenario_checks_fail_on_what_a_scenario_must_not_tell(emulator: Emulator) -> None:
    """A real run (a retry, an OAuth token fetch) checked as test_scenarios.py checks a
    scenario (scenario_telemetry.py), then each kind of mismatch planted in a copy: the same
    check must raise, for that reason."""
    import copy
    import re

    from scenario_telemetry import Capture, Mismatch, check_telemetry

    user = "8c4e2a6f-1b3d-4f7a-9c2e-5d8b0f3a6e19"
    emulator.control("POST", "/users", {"api_key": EU["api_key"], "user_id": user, "status": "Active"})
    emulator.fault(path="/claim/enrol/token", kind="status", status=503, times=1)
    with Capture() as told, Client(base_url=emulator.base_url(), **EU) as http:
        token = http.enrol_token(resource="telemetry", user_id="0f1e2d3c-4b5a-4697-8877-665544332211").token
        http.get_user(user_id=user)
    facts = {"requests": emulator.control("GET", "/requests"), "port": int(emulator.url.rsplit(":", 1)[1]),
             "calls": [("enrol_token", None), ("get_user", None)],
             "needles": [EU["api_key"], EU["secret"], EU["oauth_password"], token, user]}
    otel = told.otel()
    assert check_telemetry(told.lines, otel, **facts) == {"lines": 8, "sends": 4, "spans": 6}  # type: ignore[arg-type]

    def send_span(o: Any) -> Any:
        return next(s for s in o["spans"] if s["name"] == "iproov.send")

    def retried(o: Any) -> Any:
        return next(s for s in o["spans"] if any(e["name"] == "iproov.retry" for e in s["events"]))

    leak = r"^secrets in the telemetry: "
    planted: List[Any] = [
        ("a send line missing", lambda l, o: l.pop(0), r"^3 send lines for the 4 requests", {}),
        ("a call more than was made", lambda l, o: None, r"^calls told: ", {"calls": [*facts["calls"], ("get_user", None)]}),
        ("a failed call told as a result", lambda l, o: None, r"^calls told: ",
         {"calls": [("enrol_token", "server_error"), ("get_user", None)]}),
        ("a send at the wrong level", lambda l, o: l[0].update(level="info"), r"^a send line says too little", {}),
        ("a send without its status", lambda l, o: l[0]["fields"].pop("http.response.status_code"), r"^a send line says too little", {}),
        ("a retry with no next send", lambda l, o: next(x for x in l if x["event"] == "iproov.retry")["fields"].update({"iproov.send": 5}),
         r"^a retry line without its next send", {}),
        ("the API key in a log line", lambda l, o: l[2].update(message=l[2]["message"] + " " + EU["api_key"]), leak, {}),
        ("a send span missing", lambda l, o: o["spans"].remove(send_span(o)), r"^send spans: ", {}),
        ("a send span under no call", lambda l, o: send_span(o).update(parent_span_id=1), r"^a send span is no client span", {}),
        ("a send span of kind internal", lambda l, o: send_span(o).update(kind="internal"), r"^a send span is no client span", {}),
        ("a send span after its call", lambda l, o: send_span(o).update(end_ms=send_span(o)["end_ms"] + 60_000),
         r"^a send span outside its call's", {}),
        ("a retry event missing", lambda l, o: retried(o).update(events=[]), r"^0 retry and 1 token span events for 1 and 1", {}),
        ("a call counted twice", lambda l, o: [p.update(value=p["value"] + 1) for m in o["metrics"] if m["name"] == "iproov.client.calls"
                                               for p in m["points"]], r"^iproov\.client\.calls: ", {}),
        ("a label more", lambda l, o: o["metrics"][0]["points"][0]["attributes"].update({"server.port": 1}), r"labels \{", {}),
        ("a user id as a metric label", lambda l, o: o["metrics"][0]["points"][0]["attributes"].update({"iproov.user": user}), leak, {}),
        ("a claim token in a span event", lambda l, o: retried(o)["events"][0]["attributes"].update(note=token), leak, {}),
    ]
    for what, plant, message, over in planted:
        lines, spans = copy.deepcopy(told.lines), copy.deepcopy(otel)
        plant(lines, spans)
        with pytest.raises(Mismatch) as raised:
            check_telemetry(lines, spans, **{**facts, **over})  # type: ignore[arg-type]
        assert re.search(message, str(raised.value)), f"{what}: {raised.value}"


@pytest.mark.parametrize("level", [None, logging.INFO], ids=["default WARNING", "INFO"])
def test_retries_and_unknown_outcomes_are_logged_below_debug(
    emulator: Emulator, caplog: pytest.LogCaptureFixture, level: Any
) -> None:
    """A logger at WARNING (logging's default) or INFO still hears of an outcome unknown
    (warning) and, at INFO, of a retry: core builds the events at or above the lowest level
    the logger takes (telemetry.wanted), never the debug ones nobody reads."""
    # logging's default is WARNING; set here all the same, since a test before this one may
    # have configured the process's logging (Django's setup does).
    caplog.set_level(level or logging.WARNING, logger="iproov_sansio")
    assert telemetry.wanted() == ("info" if level == logging.INFO else "warning")
    user = "8c4e2a6f-1b3d-4f7a-9c2e-5d8b0f3a6e19"
    emulator.fault(path="/claim/enrol/token", kind="status", status=503, times=1)
    emulator.fault(path="/claim/enrol/validate", kind="status", status=503, times=1)
    with Client(base_url=emulator.base_url(), **EU) as http:
        token = http.enrol_token(resource="telemetry", user_id=user).token
        emulator.complete(token, passed=True)
        with pytest.raises(OutcomeUnknownError):
            http.enrol_validate(user_id=user, token=token, client="pytest")
    records = [r for r in caplog.records if r.name == "iproov_sansio.client"]
    told = [(r.iproov_event, r.levelname) for r in records]  # type: ignore[attr-defined]
    unknown = ("iproov.call", "WARNING")
    assert told == ([("iproov.retry", "INFO"), unknown] if level == logging.INFO else [unknown]), told
    call = records[-1].iproov  # type: ignore[attr-defined]
    assert call["iproov.operation"] == "enrol_validate" and call["iproov.outcome"] == "outcome_unknown"
    assert call["error.type"] == "outcome_unknown" and call["iproov.sends"] == 1
    assert call["server.address"] == "127.0.0.1" and call["server.port"] == int(emulator.url.rsplit(":", 1)[1])
    if level == logging.INFO:
        retry = records[0].iproov  # type: ignore[attr-defined]
        assert retry["iproov.operation"] == "enrol_token" and retry["error.type"] == "server_error"
        assert retry["iproov.send"] == 1 and retry["iproov.retry.delay_ms"] >= 0
    text = "\n".join(f"{r.getMessage()} {r.iproov}" for r in records)  # type: ignore[attr-defined]
    for hidden in (EU["secret"], EU["api_key"], EU["oauth_password"], token, user):
        assert hidden not in text


def test_no_event_is_built_when_nothing_maps_it(caplog: pytest.LogCaptureFixture) -> None:
    """With the client's logger above ERROR and no OpenTelemetry, a call asks core for no
    event at all; with OpenTelemetry on, for every one (each send is a span)."""
    caplog.set_level(logging.CRITICAL, logger="iproov_sansio")
    assert telemetry.wanted() == ""
    caplog.set_level(logging.DEBUG, logger="iproov_sansio")
    assert telemetry.wanted() == "debug"
    caplog.set_level(logging.CRITICAL, logger="iproov_sansio")
    telemetry.use_opentelemetry(TracerProvider(), MeterProvider())
    try:
        assert telemetry.wanted() == "debug"
    finally:
        telemetry.stop_opentelemetry()


def test_a_journey_request_is_a_span_with_its_metrics(emulator: Emulator, otel: Any, tmp_path: Path) -> None:
    """Each journey request (start, finish) is an ``iproov.journey`` span of its own (no
    parent), counted in ``iproov.journeys`` by action and outcome; a journey's attempts are
    recorded in ``iproov.journey.attempts`` once, when it ends (as the Node suite checks:
    telemetry.test.mjs)."""
    spans, reader = otel
    with Client(base_url=emulator.base_url(), **EU) as http:
        svc = JourneyService(http, SQLiteStore(tmp_path / "otel.sqlite3"))
        user = enrolled(emulator)
        emulator.fault(path="/claim/verify/token", kind="status", status=503, times=1)
        started = svc.start("verify", user)
        emulator.complete(started["token"], passed=False, reason="ambiguous_outcome")
        finished = svc.finish(started["journey_id"], started["token"], "telemetry")
    assert finished["passed"] is False
    done = spans.get_finished_spans()
    assert [s.name for s in done] == [
        "iproov.send", "iproov.send", "iproov.call", "iproov.journey", "iproov.send", "iproov.call", "iproov.journey"]
    call, journeys = done[2], [done[3], done[6]]
    assert all(s.parent is None for s in journeys)
    assert [s.attributes["iproov.journey.action"] for s in journeys] == ["start", "finish"]
    assert [s.attributes["iproov.outcome"] for s in journeys] == ["issued", "failed"]
    assert all(s.attributes["iproov.journey.id"] == started["journey_id"] for s in journeys)
    assert journeys[1].attributes["iproov.attempt"] == 1
    assert [e.name for e in call.events] == ["iproov.retry"]
    points = metric_points(reader)
    assert sorted(points["iproov.journeys"], key=repr) == sorted([
        ({"iproov.journey.action": "start", "iproov.outcome": "issued"}, 1),
        ({"iproov.journey.action": "finish", "iproov.outcome": "failed"}, 1),
    ], key=repr)
    assert histogram(reader, "iproov.journey.attempts") == [], "an attempt that leaves another is not the journey's end"
    # The second attempt passes: the journey has ended, its attempts (2) recorded once.
    with Client(base_url=emulator.base_url(), **EU) as http:
        svc = JourneyService(http, SQLiteStore(tmp_path / "otel.sqlite3"))
        again = svc.start("verify", user, started["journey_id"])
        assert again["attempt"] == 2
        emulator.complete(again["token"], passed=True)
        assert svc.finish(again["journey_id"], again["token"], "telemetry")["passed"] is True
    attempts = [(dict(p.attributes), p.count, p.sum) for p in histogram(reader, "iproov.journey.attempts")]
    assert attempts == [({"iproov.outcome": "passed"}, 1, 2)]
    done = spans.get_finished_spans()
    shown = repr([(s.name, dict(s.attributes), [dict(e.attributes or {}) for e in s.events]) for s in done])
    shown += repr(metric_points(reader))
    for hidden in (EU["secret"], EU["api_key"], EU["oauth_password"], started["token"], again["token"], user):
        assert hidden not in shown


def histogram(reader: InMemoryMetricReader, name: str) -> List[Any]:
    data = reader.get_metrics_data()
    return [p for resource in (data.resource_metrics if data else []) for scope in resource.scope_metrics
            for metric in scope.metrics if metric.name == name for p in metric.data.data_points]


def test_opentelemetry_is_imported_only_when_enabled(emulator: Emulator) -> None:
    """Optional dependencies only: a process that logs calls and runs a journey never imports
    ``opentelemetry``; :func:`telemetry.use_opentelemetry` does (a fresh interpreter, since
    this one's tests import the SDK)."""
    import subprocess
    import sys

    code = f"""
import logging, sys
logging.basicConfig(level=logging.DEBUG)
from iproov_sansio.httpx import Client
from iproov_sansio import telemetry
with Client(base_url={emulator.base_url()!r}, api_key={EU['api_key']!r}, secret={EU['secret']!r}) as http:
    http.enrol_token(resource="telemetry", user_id="8c4e2a6f-1b3d-4f7a-9c2e-5d8b0f3a6e19")
print("before", sorted(m for m in sys.modules if m.split(".")[0] == "opentelemetry"))
telemetry.use_opentelemetry()
print("after", "opentelemetry.trace" in sys.modules, "opentelemetry.metrics" in sys.modules)
"""
    child = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert child.returncode == 0, child.stderr
    assert child.stdout == "before []\nafter True True\n", child.stdout
    assert "DEBUG:iproov_sansio.client:iproov enrol_token send 1 answered 200" in child.stderr, child.stderr
