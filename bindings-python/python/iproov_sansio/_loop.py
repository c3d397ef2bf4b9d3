"""The loop every Python client runs around core's call driver (``_host.Driver``).

The driver decides everything (what to send and when, retries, the shared OAuth token, the
deadline, the error and its class, the audit records); the loop only sends, sleeps, waits for
the shared token and hands records to the audit hook. The HTTP adapters (``httpx.py``,
``requests.py``) give it one function: send a request within the time the driver gives
(``timeout_ms``, counted from the start of the send: core's driver docs, "Deadlines"; an
adapter checks no clock before sending) and say what happened, as a response or as a name of
core's transport-failure table.
"""

from __future__ import annotations

import asyncio
import logging
import math
import os
import socket
import ssl
import threading
import time
import zlib
from typing import Any, Awaitable, Callable, Dict, Iterable, List, NamedTuple, Optional, Tuple, Union

from . import _host
from . import telemetry as _telemetry
from ._host import MAX_BODY_BYTES, Config, Polled, Request
from ._flows import RetryPolicy, TokenManager

__all__ = [
    "ACCEPT_ENCODING",
    "Answer",
    "Failure",
    "WATCHDOG",
    "AsyncWakeup",
    "BoundedBody",
    "Hook",
    "SendAsync",
    "SendSync",
    "Sent",
    "connect_failure",
    "driver_for",
    "now_ms",
    "run_async",
    "run_sync",
]

_log = logging.getLogger("iproov_sansio")

class Answer(NamedTuple):
    """A send that got a response (the body as read, at most core's cap + 1 bytes)."""

    status: int
    headers: Any
    body: bytes


class Failure(NamedTuple):
    """A send that failed: ``name`` from core's transport table
    (``_host.INFO["transport_failures"]``), ``cause`` the library's words; ``exc`` becomes the
    raised error's ``__cause__``."""

    name: str
    cause: str
    exc: Optional[BaseException] = None


#: What a send gave.
Sent = Union[Answer, Failure]
#: ``send(request, timeout_ms)``: the driver's request and its whole time in ms.
SendSync = Callable[[Request, int], Sent]
SendAsync = Callable[[Request, int], Awaitable[Sent]]
Hook = Optional[Callable[[Dict[str, Any]], None]]


def now_ms() -> int:
    return int(time.time() * 1000)


def driver_for(
    config: Config,
    *,
    timeout: Optional[float],
    retry: Optional[RetryPolicy],
    token_manager: Optional[TokenManager],
    audit_frames: bool = False,
) -> _host.Driver:
    """Core's driver for one client. ``timeout`` (seconds) becomes core's ``timeout_ms``, which
    core checks now: an unusable one raises :class:`InvalidInputError` here, not at the first
    call. ``token_manager`` gives its policy; the driver keeps its own token."""
    options: Dict[str, Any] = {"audit_frames": audit_frames}
    if timeout is not None:
        ms = timeout * 1000 if isinstance(timeout, (int, float)) and not isinstance(timeout, bool) else timeout
        options["timeout_ms"] = round(ms) if isinstance(ms, float) and math.isfinite(ms) else ms
    if retry is not None:
        options["retry"] = retry.to_dict()
    if token_manager is not None:
        options["token"] = token_manager.to_dict()["policy"]
    return _host.Driver(config, options, os.urandom(8))


def _report(hook: Hook, records: Optional[List[Dict[str, Any]]]) -> None:
    """Hands each record to the hook. A hook that raises is logged and the call goes on: the
    call's outcome (a consumed validate above all) must reach the caller."""
    if hook is None or not records:
        return
    for record in records:
        try:
            hook(record)
        except Exception:
            _log.exception("iproov_sansio: the audit hook raised; the call goes on and its outcome stands")


def _report_sent(driver: _host.Driver, call: int, sent: Sent) -> Polled:
    """Reports a send to core; gives the poll after it (one native call)."""
    if isinstance(sent, Answer):
        return driver.on_response(call, sent.status, sent.headers, sent.body, now_ms())
    return driver.on_failure(call, sent.name, sent.cause, now_ms())


def run_sync(
    driver: _host.Driver, call: int, send: SendSync, wakeup: threading.Condition, hook: Hook
) -> Any:
    """Drives call ``call`` to its end with blocking IO; returns the result dict or raises.
    Polls run under ``wakeup`` so that a wake-up can never fall between a poll that says
    "wait" and the wait itself."""
    cause: Optional[BaseException] = None
    sent: Optional[Sent] = None  # a send to report: its answer and the next poll are one call
    told: List[Dict[str, Any]] = []  # the call's sends until its own event (telemetry.emit)
    try:
        while True:
            with wakeup:
                if sent is None:
                    kind, value, records, wake, events = driver.poll(call, now_ms())
                else:
                    kind, value, records, wake, events = _report_sent(driver, call, sent)
                    sent = None
                if wake:
                    wakeup.notify_all()
                if kind == "wait":
                    wakeup.wait(max(0.0, (value - now_ms()) / 1000.0))
            _report(hook, records)
            if events:
                _telemetry.emit(events, told)
            if kind == "send":
                sent = send(value[0], value[1])
                cause = None if isinstance(sent, Answer) else sent.exc
            elif kind == "sleep":
                time.sleep(max(0.0, (value - now_ms()) / 1000.0))
            elif kind == "done":
                return value
            elif kind == "failed":
                raise value from cause
    except BaseException:
        driver.cancel(call)
        raise


class AsyncWakeup:
    """The asyncio wake-up for calls waiting for the shared token: one event, replaced each
    time it is set (single-threaded, so no wake-up is lost between a poll and its wait)."""

    def __init__(self) -> None:
        self._event: Optional[asyncio.Event] = None

    def event(self) -> asyncio.Event:
        if self._event is None:
            self._event = asyncio.Event()
        return self._event

    def wake(self) -> None:
        if self._event is not None:
            self._event.set()
            self._event = None


async def run_async(driver: _host.Driver, call: int, send: SendAsync, wakeup: AsyncWakeup, hook: Hook) -> Any:
    """Drives call ``call`` with asyncio. A cancelled task (the caller's abort, a timeout of
    its own) is reported to core as ``aborted`` while a send is out, so that its audit record
    says what became of the request; the cancellation then goes on (asyncio's convention)."""
    sending = False
    cause: Optional[BaseException] = None
    sent: Optional[Sent] = None  # a send to report: its answer and the next poll are one call
    told: List[Dict[str, Any]] = []  # the call's sends until its own event (telemetry.emit)
    try:
        while True:
            if sent is None:
                kind, value, records, wake, events = driver.poll(call, now_ms())
            else:
                kind, value, records, wake, events = _report_sent(driver, call, sent)
                sent = None
            if wake:
                wakeup.wake()
            _report(hook, records)
            if events:
                _telemetry.emit(events, told)
            if kind == "send":
                sending = True
                sent = await send(value[0], value[1])
                sending = False
                cause = None if isinstance(sent, Answer) else sent.exc
            elif kind == "sleep":
                await asyncio.sleep(max(0.0, (value - now_ms()) / 1000.0))
            elif kind == "wait":
                try:
                    await asyncio.wait_for(wakeup.event().wait(), max(0.0, (value - now_ms()) / 1000.0))
                except asyncio.TimeoutError:
                    pass
            elif kind == "done":
                return value
            elif kind == "failed":
                raise value from cause
    except asyncio.CancelledError:
        if sending:
            _kind, _value, records, wake, events = driver.on_failure(call, "aborted", "the task was cancelled", now_ms())
            if wake:
                wakeup.wake()
            _report(hook, records)
            if events:
                _telemetry.emit(events, told)
        driver.cancel(call)
        raise
    except BaseException:
        driver.cancel(call)
        raise


class BoundedBody:
    """The body as the server meant it (gzip or deflate undone here, so that the cap counts
    decompressed bytes), read until it ends or passes core's cap (``MAX_BODY_BYTES``): core
    then answers ``body_too_large`` from the first cap + 1 bytes. A gzip bomb costs at most
    the cap in memory, never what it inflates to. An encoding other than gzip or deflate is
    passed through as it came (core cannot read it and says so)."""

    def __init__(self, content_encoding: Optional[str]) -> None:
        encoding = (content_encoding or "").strip().lower()
        self._inflate = zlib.decompressobj(47) if encoding in ("gzip", "x-gzip", "deflate") else None
        self._raw_deflate = encoding == "deflate"
        self.body = bytearray()

    @property
    def full(self) -> bool:
        return len(self.body) > MAX_BODY_BYTES

    def feed(self, chunk: bytes) -> None:
        room = MAX_BODY_BYTES + 1 - len(self.body)
        if room <= 0:
            return
        if self._inflate is None:
            self.body += chunk[:room]
            return
        try:
            self.body += self._inflate.decompress(chunk, room)
        except zlib.error:
            if self._raw_deflate and not self.body:
                # Some servers send raw deflate (RFC 1951) for "deflate".
                self._inflate = zlib.decompressobj(-15)
                self._raw_deflate = False
                self.feed(chunk)
            else:
                # Not what the header said: hand core the bytes as they came.
                self._inflate = None
                self.body += chunk[:room]

    def read_all(self, chunks: Iterable[bytes]) -> bytes:
        for chunk in chunks:
            self.feed(chunk)
            if self.full:
                break
        return bytes(self.body)


#: Sent with every request: the encodings BoundedBody can undo while counting.
ACCEPT_ENCODING = "gzip, deflate"


def connect_failure(exc: BaseException) -> str:
    """The transport-table name of a failure to connect, from the exceptions it wraps: a name
    that did not resolve (``dns``), a TLS handshake (``tls``), else a refused or unreachable
    connection (``connection_refused``). All three mean nothing was sent."""
    seen: Optional[BaseException] = exc
    for _ in range(8):
        if seen is None:
            break
        if isinstance(seen, socket.gaierror):
            return "dns"
        if isinstance(seen, ssl.SSLError):
            return "tls"
        seen = seen.__cause__ or seen.__context__ or (seen.args[0] if seen.args and isinstance(seen.args[0], BaseException) else None)
    text = str(exc).lower()
    if "name or service not known" in text or "name resolution" in text or "nodename nor servname" in text:
        return "dns"
    if "ssl" in text or "certificate" in text:
        return "tls"
    return "connection_refused"


class _Guard:
    """One send's deadline on the watchdog (``time.monotonic()`` seconds): its socket, once
    known, is shut down when the deadline passes, which ends any read or write blocked on it
    (a server dripping bytes included)."""

    __slots__ = ("deadline", "sock", "fired", "done")

    def __init__(self, deadline: float) -> None:
        self.deadline = deadline
        self.sock: Optional[socket.socket] = None
        self.fired = False
        self.done = False

    def attach(self, sock: Any) -> None:
        if isinstance(sock, socket.socket):
            self.sock = sock
            if self.fired:
                _shutdown(sock)

    def disarm(self) -> None:
        self.done = True


def _shutdown(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass


class Watchdog:
    """One daemon thread for the process that enforces every sync send's whole deadline
    (connect, write, every read), which per-read socket timeouts cannot. It looks at its
    guards every ``TICK`` seconds rather than being woken for each one: arming costs a list
    append, not a thread switch per request, and a deadline is kept within a tick."""

    TICK = 0.05

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._guards: List[_Guard] = []
        self._thread: Optional[threading.Thread] = None

    def arm(self, timeout_ms: int) -> _Guard:
        """Guards a send that starts now and has ``timeout_ms`` (the driver's) to end."""
        guard = _Guard(time.monotonic() + timeout_ms / 1000.0)
        with self._lock:
            self._guards.append(guard)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="iproov-sansio-deadlines", daemon=True)
                self._thread.start()
        return guard

    def _run(self) -> None:
        while True:
            time.sleep(self.TICK)
            now = time.monotonic()
            with self._lock:
                due = [g for g in self._guards if not g.done and g.deadline <= now]
                self._guards = [g for g in self._guards if not g.done and g.deadline > now]
            for guard in due:
                guard.fired = True
                if guard.sock is not None:
                    _shutdown(guard.sock)


WATCHDOG = Watchdog()
