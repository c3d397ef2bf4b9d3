"""What a scenario's client told (issue 27 item 7): its log records (``iproov_sansio.client``
at DEBUG) and its OpenTelemetry spans and metrics (the SDK's in-memory exporter and reader),
checked against the requests the emulator received and the calls the scenario made; and none
of it holding a credential, an access token, a claim token or a user id, in any form. The same
checks as the JS runners' (``bindings-js/test/scenario-telemetry.mjs``)."""

from __future__ import annotations

import base64
import json
import logging
import re
import threading
import urllib.parse
from collections import Counter
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple

from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from iproov_sansio import telemetry

EVENTS = {"iproov.send", "iproov.call", "iproov.retry", "iproov.token", "iproov.journey"}
#: The transport failure of a send that never left (core's table): no request reached iProov.
NEVER_SENT = "aborted_before_sending"
LEVELS = {logging.DEBUG: "debug", logging.INFO: "info", logging.WARNING: "warn", logging.ERROR: "error"}


class Mismatch(AssertionError):
    pass


Line = Dict[str, Any]  # {"level", "message", "event", "fields"}


class Capture(logging.Handler):
    """Every ``iproov_sansio`` record with an event, as a plain line; and, while active, the
    OpenTelemetry spans and metrics of fresh providers."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: List[Line] = []
        self._lock = threading.Lock()
        self.spans = InMemorySpanExporter()
        self.reader = InMemoryMetricReader()
        self._logger = logging.getLogger("iproov_sansio")
        self._level = self._logger.level

    def emit(self, record: logging.LogRecord) -> None:
        if hasattr(record, "iproov_event"):
            line = {"level": LEVELS.get(record.levelno, record.levelname), "message": record.getMessage(),
                    "event": record.iproov_event, "fields": dict(record.iproov)}  # type: ignore[attr-defined]
            with self._lock:
                self.lines.append(line)

    def __enter__(self) -> "Capture":
        self._logger.addHandler(self)
        self._logger.setLevel(logging.DEBUG)
        tracer = TracerProvider()
        tracer.add_span_processor(SimpleSpanProcessor(self.spans))
        telemetry.use_opentelemetry(tracer, MeterProvider(metric_readers=[self.reader]))
        return self

    def __exit__(self, *exc: Any) -> None:
        """Stops capturing (again: a no-op)."""
        if self in self._logger.handlers:
            telemetry.stop_opentelemetry()
            self._logger.removeHandler(self)
            self._logger.setLevel(self._level)

    def otel(self) -> Dict[str, Any]:
        """The spans and metrics in the plain shape the checks read."""
        spans = []
        for span in self.spans.get_finished_spans():
            spans.append({
                "name": span.name,
                "kind": {SpanKind.CLIENT: "client", SpanKind.INTERNAL: "internal"}.get(span.kind, str(span.kind)),
                "span_id": span.context.span_id if span.context else None,
                "parent_span_id": span.parent.span_id if span.parent else None,
                "start_ms": (span.start_time or 0) / 1e6,
                "end_ms": (span.end_time or 0) / 1e6,
                "attributes": dict(span.attributes or {}),
                "events": [{"name": e.name, "attributes": dict(e.attributes or {})} for e in span.events],
                "status": {"code": "error" if span.status.status_code == StatusCode.ERROR else "unset",
                           "message": span.status.description or ""},
            })
        metrics = []
        data = self.reader.get_metrics_data()
        for resource in data.resource_metrics if data else []:
            for scope in resource.scope_metrics:
                for metric in scope.metrics:
                    points = [{"attributes": dict(p.attributes or {}),
                               "value": p.value if hasattr(p, "value") else p.count} for p in metric.data.data_points]
                    metrics.append({"name": metric.name, "unit": metric.unit, "points": points})
        return {"spans": spans, "metrics": metrics}


def forms(value: str) -> List[str]:
    """Every form a secret travels in: raw, JSON-escaped, percent-encoded (RFC 3986 and form), base64."""
    out = {value, json.dumps(value)[1:-1], urllib.parse.quote(value, safe=""), urllib.parse.quote_plus(value),
           base64.b64encode(value.encode()).decode()}
    return sorted(f for f in out if len(f) >= 6)


def _held(value: Any) -> Iterator[str]:
    """Every string in a value, at any depth (keys too): a form kept verbatim in a field would
    be escaped once more by json.dumps, where no needle would match it."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield str(key)
            yield from _held(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _held(item)


def telemetry_texts(lines: Sequence[Line], spans: Sequence[Dict[str, Any]] = (),
                    metrics: Sequence[Dict[str, Any]] = ()) -> List[Tuple[str, str]]:
    """``(where, text)`` for each line, span and metric point, as JSON and each string in it."""
    def every(where: str, value: Any) -> List[Tuple[str, str]]:
        return [(where, text) for text in [json.dumps(value, default=str), *_held(value)]]

    out: List[Tuple[str, str]] = []
    for i, line in enumerate(lines):
        out += every(f"log line {i} ({line['event']})", [line["message"], line["fields"]])
    for span in spans:
        out += every(f"span {span['name']}", [span["name"], span["attributes"], span["events"], span["status"]["message"]])
    for metric in metrics:
        for point in metric["points"]:
            out += every(f"metric {metric['name']}", [metric["name"], point["attributes"]])
    return out


def leaks(texts: Sequence[Tuple[str, str]], needles: Sequence[str]) -> List[Tuple[str, str]]:
    """``(where, needle)`` for each text holding a needle."""
    return [(where, needle) for where, text in texts for needle in needles if needle in text]


def _canonical(value: Dict[str, Any]) -> str:
    return json.dumps(value, sort_keys=True)


def _matches(template: str, path: str) -> bool:
    """Whether a full path (``/eu/api/v2/users/u1``) is an instance of a template (``/users/{user_id}``)."""
    pattern = re.sub(r"\\\{[a-z_]+\\\}", "[^/]+", re.escape(template))
    return re.search(pattern + "$", path) is not None


def _same(where: str, got: Counter, want: Counter) -> None:  # type: ignore[type-arg]
    if got != want:
        raise Mismatch(f"{where}: got {sorted(got.items())}, expected {sorted(want.items())}")


def check_telemetry(lines: Sequence[Line], otel: Optional[Dict[str, Any]], *, requests: Dict[str, Any], port: int,
                    calls: Sequence[Tuple[str, Optional[str]]], needles: Sequence[str]) -> Dict[str, int]:
    """Checks what a scenario's client told; raises :class:`Mismatch` naming the first
    mismatch. ``requests``: the emulator's ``GET /__emulator/requests``; ``calls``:
    ``(operation, error code or None)`` of every call the steps made; ``needles``: every secret
    string (each form is looked for). Gives the counts seen."""
    found = leaks(telemetry_texts(lines, **(otel or {})), [f for n in needles for f in forms(n)])
    if found:
        raise Mismatch("secrets in the telemetry: " + "; ".join(f"{w} holds {n[:6]}..." for w, n in found))
    for line in lines:
        if line["event"] not in EVENTS or not isinstance(line["fields"], dict) or not line["message"]:
            raise Mismatch(f"a log line is not an event: {line}")

    def of(name: str) -> List[Dict[str, Any]]:
        return [{"level": line["level"], **line["fields"]} for line in lines if line["event"] == name]

    sends, call_lines, retries = of("iproov.send"), of("iproov.call"), of("iproov.retry")
    # One send line per request the emulator received (a send that never left aside), by method
    # and path, each with its answer's status (error.type the status from 400 on) or the name of
    # its transport failure.
    sent = [s for s in sends if s.get("error.type") != NEVER_SENT]
    if len(sent) != requests["total"]:
        raise Mismatch(f"{len(sent)} send lines for the {requests['total']} requests the emulator received")
    for key, n in requests["requests"].items():
        method, _, path = key.partition(" ")
        seen = sum(1 for s in sent if s["http.request.method"] == method and _matches(s["url.template"], path))
        if seen != n:
            raise Mismatch(f"{seen} send lines for {key}, which the emulator received {n} times")
    for s in sends:
        status = s.get("http.response.status_code")
        error = s.get("error.type")
        told = (re.fullmatch(r"[a-z_]+", error or "") is not None) if status is None else (
            error == (str(status) if status >= 400 else None))
        if not (s["level"] == "debug" and s["server.address"] == "127.0.0.1" and s["server.port"] == port
                and isinstance(s.get("url.template"), str) and isinstance(s.get("iproov.send"), int)
                and s["iproov.send"] >= 1 and told):
            raise Mismatch(f"a send line says too little or too much: {s}")

    # One call line per call the steps made, with its operation and how it ended.
    def outcome(operation: str, code: Optional[str]) -> str:
        return f"{operation} {code or 'ok'}"

    _same("calls told", Counter(outcome(c["iproov.operation"], c.get("error.type")) for c in call_lines),
          Counter(outcome(op, code) for op, code in calls))
    for c in call_lines:
        error = c.get("error.type")
        if error is not None:
            kind = "outcome_unknown" if error == "outcome_unknown" else "error"
            fits = c["iproov.outcome"] == kind and c["level"] != "debug"
        else:
            fits = c["iproov.outcome"] not in ("error", "outcome_unknown") and c["level"] == "debug"
        if not fits:
            raise Mismatch(f"a call line's outcome and level do not fit: {c}")
    # A call's sends of its own operation are its iproov.sends; the rest are its OAuth token's.
    own = sum(1 for s in sends if s["iproov.operation"] != "access_token")
    told_sends = sum(c["iproov.sends"] for c in call_lines if c["iproov.operation"] != "access_token")
    if own != told_sends:
        raise Mismatch(f"the call lines count {told_sends} sends, the send lines are {own}")
    for r in retries:
        follows = any(s["iproov.operation"] == r["iproov.operation"] and s["iproov.send"] == r["iproov.send"] + 1 for s in sends)
        if r["level"] != "info" or not isinstance(r.get("error.type"), str) or not follows:
            raise Mismatch(f"a retry line without its next send: {r}")

    if otel is not None:
        _check_otel(otel, sends, call_lines, retries, len(of("iproov.token")), calls)
    return {"lines": len(lines), "sends": len(sends), "spans": len(otel["spans"]) if otel else 0}


def _strip(line: Dict[str, Any]) -> str:
    return _canonical({k: v for k, v in line.items() if k != "level"})


def _check_otel(otel: Dict[str, Any], sends: List[Dict[str, Any]], call_lines: List[Dict[str, Any]],
                retries: List[Dict[str, Any]], tokens: int, calls: Sequence[Tuple[str, Optional[str]]]) -> None:
    """The spans and metrics: the same events as the log lines, each send a client span under its call's span."""
    spans, metrics = otel["spans"], otel["metrics"]
    send_spans = [s for s in spans if s["name"] == "iproov.send"]
    call_spans = [s for s in spans if s["name"] == "iproov.call"]
    if len(send_spans) + len(call_spans) != len(spans):
        raise Mismatch(f"spans of other names: {[s['name'] for s in spans]}")
    _same("send spans", Counter(_canonical(s["attributes"]) for s in send_spans), Counter(map(_strip, sends)))
    _same("call spans", Counter(_canonical(s["attributes"]) for s in call_spans), Counter(map(_strip, call_lines)))
    children: Dict[Any, List[Dict[str, Any]]] = {s["span_id"]: [] for s in call_spans}
    by_id = {s["span_id"]: s for s in call_spans}
    for s in send_spans:
        parent = by_id.get(s["parent_span_id"])
        if s["kind"] != "client" or parent is None:
            raise Mismatch(f"a send span is no client span under a call span: {s}")
        if s["start_ms"] < parent["start_ms"] or s["end_ms"] > parent["end_ms"] or s["start_ms"] > s["end_ms"]:
            raise Mismatch(f"a send span outside its call's: {s} {parent}")
        children[parent["span_id"]].append(s["attributes"])
    warned = {_strip(c) for c in call_lines if c["level"] == "warn"}
    retry_events = token_events = 0
    for span in call_spans:
        op = span["attributes"]["iproov.operation"]
        mine = [c for c in children[span["span_id"]] if c["iproov.operation"] == op]
        others = [c for c in children[span["span_id"]] if c["iproov.operation"] != op]
        if span["parent_span_id"] is not None or span["kind"] != "internal":
            raise Mismatch(f"a call span is not a root internal span: {span}")
        if len(mine) != span["attributes"]["iproov.sends"] or any(c["iproov.operation"] != "access_token" for c in others):
            raise Mismatch(f"call span {op} ({span['attributes']['iproov.sends']} sends) has the children {children[span['span_id']]}")
        if (span["status"]["code"] == "error") != (_canonical(span["attributes"]) in warned):
            raise Mismatch(f"call span status {span['status']['code']} for {span['attributes']}")
        for event in span["events"]:
            if event["name"] == "iproov.token":
                token_events += 1
            elif event["name"] == "iproov.retry":
                retry_events += 1
                n = event["attributes"]["iproov.send"]

                def at(k: int) -> Optional[Dict[str, Any]]:
                    return next((c for c in children[span["span_id"]] if c["iproov.operation"] == event["attributes"]["iproov.operation"]
                                 and c["iproov.send"] == k), None)

                failed, following = at(n), at(n + 1)
                if failed is None or "error.type" not in failed or following is None:
                    raise Mismatch(f"a retry event of {op} without its failed send and the next: {event}")
            else:
                raise Mismatch(f"an event {event['name']} on a call span")
    if retry_events != len(retries) or token_events != tokens:
        raise Mismatch(f"{retry_events} retry and {token_events} token span events for {len(retries)} and {tokens} lines")

    # Metrics: calls and their duration by operation and outcome, as the call spans say.
    by_outcome = Counter(f"{s['attributes']['iproov.operation']} {s['attributes']['iproov.outcome']}" for s in call_spans)
    want = ["iproov.client.call.duration", "iproov.client.calls"] if calls else []
    if sorted(m["name"] for m in metrics) != want:
        raise Mismatch(f"metrics {[m['name'] for m in metrics]}, expected {want}")
    for metric in metrics:
        got: Counter = Counter()  # type: ignore[type-arg]
        for point in metric["points"]:
            if sorted(point["attributes"]) != ["iproov.operation", "iproov.outcome"]:
                raise Mismatch(f"{metric['name']} labels {point['attributes']}")
            got[f"{point['attributes']['iproov.operation']} {point['attributes']['iproov.outcome']}"] += point["value"]
        _same(metric["name"], got, by_outcome)
        if metric["name"] == "iproov.client.call.duration" and metric["unit"] != "ms":
            raise Mismatch(f"{metric['name']} in {metric['unit']}")
