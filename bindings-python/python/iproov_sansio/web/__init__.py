"""Drop-in HTTP endpoints for a browser's iProov journey, over :class:`JourneyService` or
:class:`AsyncJourneyService`, in any Python web framework:

- :func:`journey_routes`: a Starlette ``Router`` (``pip install "iproov-sansio[web]"``), an ASGI
  app that mounts as it is into Starlette or FastAPI (``app.mount("/iproov", journey_routes(...))``);
- :mod:`iproov_sansio.django`: a reusable Django app (``pip install "iproov-sansio[django]"``);
- :func:`iproov_sansio.flask.iproov_blueprint`: a Flask blueprint (``pip install "iproov-sansio[flask]"``);
- :class:`JourneyEndpoints`: what they share, framework-free, for any other framework.

The routes::

    POST {mount}/token     {"flow": "enrol" | "verify", "journey_id"?: str}
      200 {"journey_id", "token", "sdk_url", "attempt", "attempts_left"}
          or, when the journey passed, {"journey_id", "passed", "attempts_left", "next",
          "attempt"?, "state"?}  (next: "done")
      429 too_many_attempts with Retry-After: the user's attempts or token requests are
          used up for now (a reload or a new journey does not reset them)
    POST {mount}/validate  {"journey_id": str, "token": str}
      200 {"journey_id", "passed", "reason"?, "attempt", "state", "attempts_left", "next"}
          (next: "done" | "start_attempt" | "exhausted", then "retry_after_ms"; also when the
          store failed after iProov answered: the outcome stands; state "outcome_unknown" or
          "error": the attempt is inconclusive, a new one may start)
    POST {mount}/exit      {"journey_id": str, "token": str, "event": str, "feedback"?: str}
      200 as validate, state "exited": iProov's SDK ended the attempt without a capture
          (canceled, error, no_camera, permission_denied, unsupported); no
          validate is sent and the next token request gets a new token
    GET  {mount}/          the browser page (static HTML; {mount}/journey.mjs, {mount}/page.css),
          its Content-Security-Policy core's (``sdk_script`` widens it for iProov's Web SDK)
    GET  {mount}/config    {"stand_in": bool, "sdk_script"?: str}: whether the page shows the
          emulator's stand-in, and where it loads iProov's Web SDK from
    GET  {mount}/health    200 {"status": "ok", "iproov": "up", "store": "ok"}, else 503 with
          "degraded" and which part failed (iProov "down" or "unreachable", store "failing");
          kept for core's 10 s, so it cannot be used to hammer iProov
    anything else under {mount}: 404 {"error": {"code": "not_found", ...}}, a wrong method 405
          with ``Allow``
    POST {mount}/emulator/complete  {"token", "passed": bool, "reason"?}  (only with
          ``emulator_url``: the page's stand-in plays the user's phone through the backend)

Every failure is ``{"error": {"code", "message"}}`` with a fixed message per code (see
:data:`ERRORS`): nothing of an exception's own message reaches the browser. Every refusal is
logged at INFO (logger ``iproov_sansio.web``) with its code. The user_id comes only from the
application's own session or auth; ``client`` (sent with the validate) is the request's
User-Agent.

Requests are accepted only with ``Content-Type: application/json`` (a cross-site form or
"simple" request cannot send that without a CORS preflight, which these routes never grant)
and an ``Origin`` header from ``allowed_origins`` (default: the request's own origin). The
routes set no CORS headers.

Every decision is core's (``core/src/web``, through ``_host.web_decide``): the routes, the
checks, the codes, what the browser sees, the page's headers. :class:`JourneyEndpoints` asks
core for them and says what it needs of the framework (:class:`Need`: the body, the user, the
framework's own check, a call of the service); an adapter only turns its framework's request
into an :class:`Incoming`, answers those needs and writes the :class:`Answer`.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import (
    TYPE_CHECKING,
    Any,
    Awaitable,
    Callable,
    Dict,
    Generator,
    Iterable,
    Mapping,
    Optional,
    Sequence,
    Tuple,
    Union,
)

from .. import _host
from .._errors import IProovError, StoreUnavailableError
from ..journeys import AsyncJourneyService, JourneyService

if TYPE_CHECKING:
    from starlette.requests import Request
    from starlette.routing import Router

__all__ = ["ERRORS", "Answer", "Incoming", "JourneyEndpoints", "Need", "ResolveUser", "browser_error", "journey_routes"]

_log = logging.getLogger("iproov_sansio.web")

#: ``resolve_user(request)``: the user_id of whoever your session or auth says is asking, or
#: ``None`` (the routes answer 401). May be a coroutine function.
ResolveUser = Callable[["Request"], Union[Optional[str], Awaitable[Optional[str]]]]

_TABLE: Dict[str, Any] = _host.web_decide("table")

#: What the browser may see of a failure: code -> (HTTP status, fixed message), core's table
#: (``core/src/web/mod.rs``). The codes are stable; the messages are written for a person and
#: carry nothing of the request's state.
ERRORS: Mapping[str, Tuple[int, str]] = {row["code"]: (row["status"], row["message"]) for row in _TABLE["codes"]}

_STATIC = Path(__file__).resolve().parent / "static"

Service = Union[JourneyService, AsyncJourneyService]


def browser_error(error: BaseException) -> Tuple[str, Optional[int]]:
    """The code (a key of :data:`ERRORS`) the browser gets for ``error``, and a Retry-After
    in seconds where iProov asked for one: core's decision (``core/src/web``, keyed on the
    ``kind`` of core's canonical error, :meth:`IProovError.to_dict`, and, for the account
    errors, iProov's code; never on a message or on the Python class). Anything that is not an
    :class:`IProovError` is ``internal_error``, and so is one whose dict carries no kind (one
    made by hand rather than by core)."""
    decided = _decide_error(error)
    retry = decided["answer"]["headers"].get("Retry-After")
    return decided["code"], (None if retry is None else int(retry))


def _decide_error(error: BaseException) -> Dict[str, Any]:
    # Core's own error as it made it, as every host passes it: the kind is its, never re-derived.
    facts = error.to_dict() if isinstance(error, IProovError) else None
    return _host.web_decide("error", {"error": facts})


@dataclass(frozen=True)
class Incoming:
    """What the endpoints read of a request, in any framework: ``path`` under the mount point
    (``"/"``, ``"/token"``; ``None`` for one the framework knows is not a route), the
    ``Origin``, the request's own origin (``scheme://host`` as the server sees it), the
    ``Content-Type`` and the ``User-Agent``."""

    method: str
    path: Optional[str]
    origin: Optional[str]
    own_origin: str
    content_type: Optional[str]
    user_agent: Optional[str]


@dataclass(frozen=True)
class Answer:
    """An HTTP answer to write as it is: ``headers`` hold every header (``Content-Type``
    too)."""

    status: int
    headers: Dict[str, str]
    body: bytes


@dataclass(frozen=True)
class Need:
    """What :meth:`JourneyEndpoints.steps` needs of the framework next, and the value it takes
    back (or the exception to throw in):

    - ``body``: the request body, at most ``limit`` bytes (``bytes``);
    - ``user``: the application's user_id for the request, or ``None``;
    - ``guard``: the framework's own check of a POST (Django's CSRF): ``None``, or its refusal
      (answered as core's ``csrf_failed``);
    - ``call``: ``fn(*args, **kwargs)``, a call of the service, its client or its store (await
      it when it gives an awaitable); ``blocking``: a blocking call even beside an async
      service (run it in a worker thread in an async host).
    """

    kind: str
    fn: Optional[Callable[..., Any]] = None
    args: Tuple[Any, ...] = ()
    kwargs: Dict[str, Any] = field(default_factory=dict)
    limit: int = 0
    blocking: bool = False


Steps = Generator[Need, Any, Answer]


def _json(answer: Mapping[str, Any]) -> Answer:
    """Core's answer ``{"status", "headers", "body"}`` as bytes."""
    headers = {"Content-Type": "application/json", **answer["headers"]}
    body = json.dumps(answer["body"], ensure_ascii=False, separators=(",", ":")).encode()
    return Answer(answer["status"], headers, body)


class JourneyEndpoints:
    """The endpoints, framework-free: :meth:`steps` decides a request with core and says what
    it needs of the framework (:class:`Need`); :meth:`serve` runs those steps for a blocking
    framework (WSGI). The arguments are :func:`journey_routes`'s; ``sdk_script`` (an https URL
    of iProov's Web SDK) and ``assets_url`` are checked by core here (``InvalidInputError``).
    """

    def __init__(
        self,
        service: Service,
        *,
        allowed_origins: Optional[Iterable[str]] = None,
        flows: Optional[Sequence[str]] = None,
        page: bool = True,
        emulator_url: Optional[str] = None,
        validate_wait_s: Optional[float] = None,
        sdk_script: Optional[str] = None,
        assets_url: Optional[str] = None,
    ) -> None:
        self.service = service
        self.origins = None if allowed_origins is None else list(allowed_origins)
        # The flows and the double submit's wait default to core's (its table).
        self.flows = list(_TABLE["flows"] if flows is None else flows)
        self.validate_wait_s = _TABLE["validate_wait_ms"] / 1000 if validate_wait_s is None else validate_wait_s
        self.emulator_url = emulator_url.rstrip("/") if emulator_url else None
        self.max_body: int = _TABLE["max_body_bytes"]
        self.sdk_script = sdk_script
        facts = {"sdk_script": sdk_script, "assets_url": assets_url, "sdk_url": ""}
        if sdk_script is not None:
            facts["sdk_url"] = service._client.config.streaming_url
        self._page_headers: Dict[str, str] = _host.web_decide("page", facts)["headers"]
        self._paths: Dict[str, Dict[str, Mapping[str, Any]]] = {}
        for route in _TABLE["routes"]:  # core's table: paths, methods, which need the page or emulator
            if (route["page"] and not page) or (route["emulator"] and not self.emulator_url):
                continue
            self._paths.setdefault(route["path"], {})[route["method"]] = route
        self._health: Tuple[float, Answer] = (0.0, Answer(0, {}, b""))
        self._health_lock = threading.Lock()
        self._health_flight: Optional[Tuple[Any, float, Any]] = None  # (loop, since, task)

    @property
    def paths(self) -> Sequence[str]:
        """The paths served (core's table, less the page's or the emulator's when off)."""
        return list(self._paths)

    def steps(self, incoming: Incoming) -> Steps:
        """The request's answer, as a generator: it yields each :class:`Need` and takes its
        value (``send``) or its exception (``throw``); its return value is the answer."""
        methods = self._paths.get(incoming.path or "")
        if methods is None or incoming.path is None:
            return self._refused(incoming, _host.web_decide("no_route", {"allow": []})["answer"])
        method = "GET" if incoming.method == "HEAD" and "GET" in methods else incoming.method
        route = methods.get(method)
        if route is None:
            return self._refused(incoming, _host.web_decide("no_route", {"allow": list(methods)})["answer"])
        name = route["route"]
        if name == "file":
            return self._file(route, incoming.method == "HEAD")
        if name == "config":
            facts = {"stand_in": self.emulator_url is not None, "sdk_script": self.sdk_script}
            return _json(_host.web_decide("config", facts)["answer"])
        if name == "health":
            return (yield from self._checked_health())
        return (yield from self._post(name, incoming))

    def serve(
        self,
        incoming: Incoming,
        *,
        read_body: Callable[[int], bytes],
        resolve_user: Callable[[], Optional[str]],
        guard: Optional[Callable[[], Any]] = None,
    ) -> Answer:
        """:meth:`steps` run by a blocking framework: ``read_body(n)`` reads up to ``n`` more
        bytes of the body (``b""`` at its end), ``resolve_user()`` names the user,
        ``guard()`` is the framework's own check (``None``: passed)."""
        steps = self.steps(incoming)
        sent: Any = None
        error: Optional[BaseException] = None
        while True:
            try:
                need = steps.send(sent) if error is None else steps.throw(error)
            except StopIteration as done:
                answer: Answer = done.value
                return answer
            sent, error = None, None
            try:
                if need.kind == "body":
                    body = bytearray()
                    while len(body) < need.limit:
                        chunk = read_body(need.limit - len(body))
                        if not chunk:
                            break
                        body += chunk
                    sent = bytes(body)
                elif need.kind == "user":
                    sent = resolve_user()
                elif need.kind == "guard":
                    sent = None if guard is None else guard()
                else:
                    assert need.fn is not None
                    sent = need.fn(*need.args, **need.kwargs)
            except Exception as exc:  # thrown into the steps: they answer with a code
                error = exc

    # ---- the steps --------------------------------------------------------------------------

    def _refused(self, incoming: Incoming, answer: Mapping[str, Any], route: Optional[str] = None) -> Answer:
        where = route or f"{incoming.method} {incoming.path if incoming.path is not None else '(not a route)'}"
        _log.info("iproov %s refused: %s", where, answer["body"]["error"]["code"])
        return _json(answer)

    def _file(self, route: Mapping[str, Any], head: bool) -> Answer:
        headers = {"Content-Type": route["content_type"], **dict(route["headers"])}
        if "Content-Security-Policy" in headers:  # the page's HTML: core's policy for it
            headers.update(self._page_headers)
        return Answer(200, headers, b"" if head else (_STATIC / route["file"]).read_bytes())

    def _post(self, name: str, incoming: Incoming) -> Steps:
        """A POST route: core's checks (origin, content type, size), the framework's guard,
        the user, core's input, the call, core's answer."""
        facts: Dict[str, Any] = {
            "origin": incoming.origin,
            "own_origin": incoming.own_origin,
            "allowed_origins": self.origins,
            "content_type": incoming.content_type,
            "body_bytes": 0,
        }
        checked = _host.web_decide("request", facts)
        if "answer" in checked:
            return self._refused(incoming, checked["answer"], name)
        try:
            body: bytes = yield Need("body", limit=self.max_body + 1)
            facts["body_bytes"] = len(body)
            checked = _host.web_decide("request", facts)
            if "answer" in checked:
                return self._refused(incoming, checked["answer"], name)
            own = yield Need("guard")
            if own is not None:  # the framework's own check (Django's CSRF): core's shape
                return self._refused(incoming, _host.web_decide("refuse", {"code": "csrf_failed"})["answer"], name)
            user = yield Need("user")
            read = _host.web_decide("input", {
                "route": name,
                "user": None if user is None else str(user),
                "body": body.decode("utf-8", "replace"),
                "flows": self.flows,
                "user_agent": incoming.user_agent,
            })
            if "answer" in read:
                return self._refused(incoming, read["answer"], name)
            given: Dict[str, Any] = read["input"]
            if name == "emulator_complete":
                if isinstance(self.service, AsyncJourneyService):  # on the loop, as every call of it
                    status = yield Need("call", self._post_complete_async, (given["token"], given["claim"]))
                else:
                    status = yield Need("call", self._post_complete, (given["token"], given["claim"]), blocking=True)
                decided = _host.web_decide("emulator", {"status": status})["answer"]
                if decided["status"] != 200:
                    return self._refused(incoming, decided, name)
                return _json(decided)
            result = yield self._call(name, given)
            return _json(_host.web_decide("answer", {"answer": result})["answer"])
        except Exception as error:  # every failure answers with a code, never a message
            return self._failed(name, error)

    def _call(self, name: str, given: Dict[str, Any]) -> Need:
        """The service's ``start``, ``finish`` or ``exit`` for a person waiting: no call waits
        long before a retry (``interactive``), and a request in progress on the same journey
        (a double submit, a second tab) is waited for up to ``validate_wait_s`` (the pump
        waits). An exit sends nothing and waits for nothing."""
        service = self.service
        waiting = {"interactive": True, "wait_s": self.validate_wait_s}
        if name == "token":
            return Need("call", service.start, (given["flow"], given["user_id"], given.get("journey_id")), waiting)
        if name == "validate":
            validate = (given["journey_id"], given["token"], given["client"])
            return Need("call", service.finish, validate, {"user_id": given["user_id"], **waiting})
        ended = (given["journey_id"], given["token"], given["event"], given["client"])
        return Need("call", service.exit, ended, {"feedback": given.get("feedback"), "user_id": given["user_id"]})

    def _post_complete(self, token: str, claim: Dict[str, Any]) -> int:
        """The stand-in's pass or fail: the emulator's control API, as the user's phone."""
        assert self.emulator_url is not None
        request = urllib.request.Request(
            f"{self.emulator_url}/__emulator/claims/{token}/complete",
            data=json.dumps(claim).encode(),
            method="POST",
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return int(response.status)
        except urllib.error.HTTPError as error:
            return int(error.code)
        except OSError:
            return 0

    async def _post_complete_async(self, token: str, claim: Dict[str, Any]) -> int:
        """:meth:`_post_complete` for an :class:`AsyncJourneyService` (whose client is httpx's)."""
        import httpx

        assert self.emulator_url is not None
        try:
            async with httpx.AsyncClient(timeout=10) as http:
                response = await http.post(f"{self.emulator_url}/__emulator/claims/{token}/complete", json=claim)
            return response.status_code
        except httpx.HTTPError:
            return 0

    def _checked_health(self) -> Steps:
        """iProov's availability and a read of the store, answered as core says and kept for
        core's ``cache_ms`` (the route is public: it must not let anyone hammer iProov).
        Concurrent requests at a miss share one check (one availability call): threads wait
        for the one under way, tasks await it; a check older than core's cache time is not
        waited for (one that hangs holds the route back no longer than the cache would)."""
        until, answer = self._health
        if time.monotonic() < until:
            return answer
        if isinstance(self.service, AsyncJourneyService):
            shared: Answer = yield Need("call", self._health_on_loop)
        else:
            shared = yield Need("call", self._health_blocking, blocking=True)
        return shared

    def _health_blocking(self) -> Answer:
        """The check of a blocking service, one thread at a time; the others take its answer."""
        joined = self._health_lock.acquire(timeout=_TABLE["health_cache_ms"] / 1000)
        try:
            until, answer = self._health
            if time.monotonic() < until:
                return answer
            client, store = self.service._client, self.service.store
            up: Optional[bool] = None
            try:
                # A bounded call (core's interactive wait): a load balancer is waiting.
                up = bool(client._run("availability", {}, max_wait_ms=_TABLE["health_wait_ms"]).up)
            except Exception as error:
                _health_failed("iproov_unreachable", error)
            try:
                store.get("journeys", "#health")
                store_ok = True
            except Exception as error:
                _health_failed("store_failing", error)
                store_ok = False
            return self._health_decided(up, store_ok)
        finally:
            if joined:
                self._health_lock.release()

    async def _health_on_loop(self) -> Answer:
        """The check of an :class:`AsyncJourneyService`: one task per loop, awaited by every
        request that comes while it runs (shielded: a request that goes away cancels only its
        own wait)."""
        import asyncio

        loop, now = asyncio.get_running_loop(), time.monotonic()
        flight = self._health_flight
        if flight is None or flight[0] is not loop or now - flight[1] >= _TABLE["health_cache_ms"] / 1000:
            flight = (loop, now, loop.create_task(self._health_check_async()))
            self._health_flight = flight
            mine = flight
            flight[2].add_done_callback(lambda _: setattr(self, "_health_flight", None) if self._health_flight is mine else None)
        answer: Answer = await asyncio.shield(flight[2])
        return answer

    async def _health_check_async(self) -> Answer:
        service = self.service
        assert isinstance(service, AsyncJourneyService)
        up: Optional[bool] = None
        try:
            up = bool((await service._client._run("availability", {}, max_wait_ms=_TABLE["health_wait_ms"])).up)
        except Exception as error:
            _health_failed("iproov_unreachable", error)
        try:
            await service._store_call("get", ("journeys", "#health"))  # a blocking store's read off the loop
            store_ok = True
        except Exception as error:
            _health_failed("store_failing", error)
            store_ok = False
        return self._health_decided(up, store_ok)

    def _health_decided(self, up: Optional[bool], store_ok: bool) -> Answer:
        decided = _host.web_decide("health", {"iproov_up": up, "store_ok": store_ok})
        answer = _json(decided["answer"])
        self._health = (time.monotonic() + decided["cache_ms"] / 1000, answer)
        return answer

    def _failed(self, route: str, error: Exception) -> Answer:
        decided = _decide_error(error)
        # The log gets the codes and core's message (which carries no secret); the browser
        # gets only the fixed text of its code. A store's own exception (the cause) may quote
        # a connection string: only its class is logged.
        if isinstance(error, StoreUnavailableError):
            cause = type(error.__cause__).__name__ if error.__cause__ is not None else "none"
            _log.warning("iproov %s: %s (%s, cause %s): %s", route, decided["code"], error.code, cause, error.message)
        elif isinstance(error, IProovError):
            _log.info("iproov %s refused: %s (%s %s): %s", route, decided["code"], type(error).__name__, error.code,
                      error.message)
        else:
            _log.exception("iproov %s failed", route)
        return _json(decided["answer"])


_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING, "error": logging.ERROR}


def _health_failed(code: str, error: Exception) -> None:
    """A health check's failed part, at core's level for it (the table's ``health_levels``),
    logged as a route's failure is (``_failed``): core's error with its code and message
    (which carry no secret); any other (a store's own, whose text may quote a connection
    string) by its class alone."""
    level = _LEVELS[_TABLE["health_levels"][code]]
    if isinstance(error, IProovError):
        _log.log(level, "iproov health: %s (%s %s): %s", code, type(error).__name__, error.code, error.message)
    else:
        _log.log(level, "iproov health: %s (%s)", code, type(error).__name__)


def journey_routes(
    service: Service,
    *,
    resolve_user: ResolveUser,
    allowed_origins: Optional[Iterable[str]] = None,
    flows: Optional[Sequence[str]] = None,
    page: bool = True,
    emulator_url: Optional[str] = None,
    validate_wait_s: Optional[float] = None,
    sdk_script: Optional[str] = None,
    assets_url: Optional[str] = None,
) -> "Router":
    """The journey endpoints (and the page) as a Starlette ``Router``; see the module docs for
    the routes, their bodies and their errors.

    ``resolve_user(request)`` gives the asking user's iProov user_id from your own session or
    auth (sync or async; ``None`` answers 401). ``allowed_origins``: the exact origins
    (``"https://app.example.com"``) whose pages may call the routes; ``None`` accepts only the
    request's own origin (scheme and Host as the server sees them: behind a proxy that
    terminates TLS, list the public origin). ``flows``: the flows the browser may start
    (default: core's, enrol and verify). ``page``: serve the browser page. ``emulator_url``:
    the emulator's root URL (``http://127.0.0.1:PORT``), only when the service points at the
    emulator; it turns on the page's stand-in and its ``emulator/complete`` route.
    ``validate_wait_s``: how long a double-submitted validate waits for the first one's
    outcome before answering 409, in seconds (default: core's, 30 s). ``sdk_script``: the
    https URL of iProov's Web SDK script: the page loads it (``config`` names it) and its
    Content-Security-Policy opens what the SDK needs (its script's origin, the region's
    streaming host, ``assets_url``: where the SDK loads its assets, default iProov's CDN).

    An :class:`AsyncJourneyService` runs on the event loop, and nothing of the routes uses
    Starlette's (anyio's) thread pool: the calls to iProov and the emulator hold no thread
    (a blocking store's statements run as the service runs them, ``asyncio.to_thread``); a
    :class:`JourneyService` runs in Starlette's thread pool (40 threads).
    """
    from ._starlette import router

    endpoints = JourneyEndpoints(service, allowed_origins=allowed_origins, flows=flows, page=page,
                                 emulator_url=emulator_url, validate_wait_s=validate_wait_s,
                                 sdk_script=sdk_script, assets_url=assets_url)
    return router(endpoints, resolve_user)
