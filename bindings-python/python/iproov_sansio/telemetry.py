"""Core's telemetry events (``core/src/telemetry.rs``) mapped onto Python's ``logging`` and,
when enabled, OpenTelemetry. Core decides every event, its fields, level, message and
metrics; this module only maps them.

Loggers: ``iproov_sansio.client`` (a line per send at DEBUG, a retry at INFO, a call's end at
DEBUG or, failed, at INFO or WARNING) and ``iproov_sansio.journeys`` (a journey request's
outcome at INFO, WARNING for an outcome unknown or a limit, ERROR for a store failure). Each
record carries the event's fields as ``record.iproov`` (a dict; OpenTelemetry's HTTP names
and ``iproov.*`` ones) and its name as ``record.iproov_event`` (``iproov.send``,
``iproov.call``, ``iproov.retry``, ``iproov.token``, ``iproov.journey``), never a credential,
claim token, api_key or user_id.

OpenTelemetry (``pip install opentelemetry-api``; nothing is imported until enabled):
:func:`use_opentelemetry` makes each call a span with a client span per send under it, and
records ``iproov.client.calls``, ``iproov.client.call.duration`` (ms), ``iproov.journeys`` and
``iproov.journey.attempts``.
"""

from __future__ import annotations

import logging
from typing import Any, Dict, List, Optional

__all__ = ["emit", "stop_opentelemetry", "use_opentelemetry", "wanted"]

_LOGGERS = {
    "iproov.send": logging.getLogger("iproov_sansio.client"),
    "iproov.call": logging.getLogger("iproov_sansio.client"),
    "iproov.retry": logging.getLogger("iproov_sansio.client"),
    "iproov.token": logging.getLogger("iproov_sansio.client"),
    "iproov.journey": logging.getLogger("iproov_sansio.journeys"),
}
_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING, "error": logging.ERROR}

_WANTED = sorted(_LEVELS.items(), key=lambda item: item[1])  # lowest first

_otel: Optional["_OpenTelemetry"] = None


def wanted() -> str:
    """The lowest level of the events a call should make, by core's name (``"debug"`` ..
    ``"error"``), or ``""`` for none: ``"debug"`` with OpenTelemetry on (every send is a
    span), else the lowest level the client's logger takes (core builds no event below it:
    a send's debug event costs a call a few microseconds, so a logger at WARNING, the
    default, still hears of an outcome unknown or a rate limit and pays for nothing else)."""
    if _otel is not None:
        return "debug"
    logger = _LOGGERS["iproov.call"]
    for name, level in _WANTED:
        if logger.isEnabledFor(level):
            return name
    return ""


def emit(events: List[Dict[str, Any]], pending: Optional[List[Dict[str, Any]]] = None) -> None:
    """Logs each event on its logger at its level, with its fields as ``extra["iproov"]``;
    hands it to OpenTelemetry when enabled. ``pending``: the list one call keeps its sends,
    retries and token fetches in until its own event (core tells a call after its sends), so
    that they become its span's children; one list per call, since calls of one thread (asyncio
    tasks) run interleaved. Never raises: telemetry changes no outcome."""
    for event in events:
        try:
            logger = _LOGGERS.get(event["name"], _LOGGERS["iproov.call"])
            level = _LEVELS.get(event["level"], logging.INFO)
            if logger.isEnabledFor(level):
                extra = {"iproov": dict(event["attributes"]), "iproov_event": event["name"]}
                logger.log(level, "%s", event["message"], extra=extra)
            if _otel is not None:
                _otel.take(event, pending)
        except Exception:  # pragma: no cover - a handler that raises must not end the call
            logging.getLogger("iproov_sansio").debug("telemetry mapping failed", exc_info=True)


class _OpenTelemetry:
    def __init__(self, tracer_provider: Any, meter_provider: Any) -> None:
        from opentelemetry import metrics, trace

        self._trace = trace
        self._tracer = (tracer_provider or trace.get_tracer_provider()).get_tracer("iproov_sansio")
        self._meter = (meter_provider or metrics.get_meter_provider()).get_meter("iproov_sansio")
        self._instruments: Dict[str, Any] = {}

    def take(self, event: Dict[str, Any], pending: Optional[List[Dict[str, Any]]]) -> None:
        name = event["name"]
        if name in ("iproov.send", "iproov.retry", "iproov.token"):
            if pending is not None:
                pending.append(event)
        elif name in ("iproov.call", "iproov.journey"):
            children: List[Dict[str, Any]] = []
            if name == "iproov.call" and pending is not None:
                children, pending[:] = pending[:], []
            self._span(event, children=children)
        for metric in event.get("metrics", []):
            self._record(metric)

    def _span(self, event: Dict[str, Any], children: List[Dict[str, Any]]) -> None:
        trace = self._trace
        start = event.get("start_ms", event["end_ms"]) * 1_000_000
        span = self._tracer.start_span(event["name"], start_time=start, attributes=event["attributes"])
        if event["level"] in ("warning", "error"):
            span.set_status(trace.Status(trace.StatusCode.ERROR, event["attributes"].get("error.type", "")))
        context = trace.set_span_in_context(span)
        for child in children:
            if child["name"] == "iproov.send":
                send = self._tracer.start_span(
                    "iproov.send",
                    context=context,
                    kind=trace.SpanKind.CLIENT,
                    start_time=child.get("start_ms", child["end_ms"]) * 1_000_000,
                    attributes=child["attributes"],
                )
                send.end(end_time=child["end_ms"] * 1_000_000)
            else:
                span.add_event(child["name"], attributes=child["attributes"], timestamp=child["end_ms"] * 1_000_000)
        span.end(end_time=event["end_ms"] * 1_000_000)

    def _record(self, metric: Dict[str, Any]) -> None:
        name, kind = metric["name"], metric["kind"]
        instrument: Any = self._instruments.get(name)
        if instrument is None:
            unit = metric.get("unit", "1")
            if kind == "counter":
                instrument = self._meter.create_counter(name, unit=unit)
            else:
                instrument = self._meter.create_histogram(name, unit=unit)
            self._instruments[name] = instrument
        if kind == "counter":
            instrument.add(metric["value"], attributes=metric["attributes"])
        else:
            instrument.record(metric["value"], attributes=metric["attributes"])


def use_opentelemetry(tracer_provider: Any = None, meter_provider: Any = None) -> None:
    """Maps every later event onto OpenTelemetry (``opentelemetry-api``): spans from the
    given providers (default: the global ones), metrics likewise. Raises ``ImportError``
    when the API is not installed."""
    global _otel
    _otel = _OpenTelemetry(tracer_provider, meter_provider)


def stop_opentelemetry() -> None:
    """Stops mapping events onto OpenTelemetry."""
    global _otel
    _otel = None
