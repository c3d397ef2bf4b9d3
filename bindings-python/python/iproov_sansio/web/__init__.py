"""Drop-in HTTP endpoints for a browser's iProov journey, over :class:`JourneyService` or
:class:`AsyncJourneyService` (``pip install "iproov-sansio[web]"``, Starlette).
:func:`journey_routes` gives a Starlette ``Router``, an ASGI app that mounts as it is into Starlette or FastAPI
(``app.mount("/iproov", journey_routes(...))``)::

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
          (canceled, error, no_camera, permission_denied, unsupported, multiple_cameras); no
          validate is sent and the next token request gets a new token
    GET  {mount}/          the browser page (static HTML; {mount}/journey.mjs, {mount}/page.css)
    GET  {mount}/config    {"stand_in": bool}: whether the page shows the emulator's stand-in
    GET  {mount}/health    200 {"status": "ok", "iproov": "up", "store": "ok"}, else 503 with
          "degraded" and which part failed (iProov "down" or "unreachable", store "failing");
          kept for core's 10 s, so it cannot be used to hammer iProov
    anything else under {mount}: 404 {"error": {"code": "not_found", ...}}, a wrong method 405
          with ``Allow``
    POST {mount}/emulator/complete  {"token", "passed": bool, "reason"?}  (only with
          ``emulator_url``: the page's stand-in plays the user's phone through the backend)

Every failure is ``{"error": {"code", "message"}}`` with a fixed message per code (see
:data:`ERRORS`): nothing of an exception's own message reaches the browser. The user_id comes
only from ``resolve_user(request)``, the application's own session or auth; ``client`` (sent
with the validate) is the request's User-Agent.

Requests are accepted only with ``Content-Type: application/json`` (a cross-site form or
"simple" request cannot send that without a CORS preflight, which these routes never grant)
and an ``Origin`` header from ``allowed_origins`` (default: the request's own origin). The
routes set no CORS headers.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, Awaitable, Callable, Dict, Iterable, Mapping, Optional, Sequence, Tuple, Union

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route, Router

from .. import _core
from .._errors import IProovError, StoreUnavailableError
from ..journeys import AsyncJourneyService, JourneyService

__all__ = ["ERRORS", "ResolveUser", "browser_error", "journey_routes"]

_log = logging.getLogger("iproov_sansio.web")

#: ``resolve_user(request)``: the user_id of whoever your session or auth says is asking, or
#: ``None`` (the routes answer 401). May be a coroutine function.
ResolveUser = Callable[[Request], Union[Optional[str], Awaitable[Optional[str]]]]

# Every decision below is core's (core/src/web): the routes, the checks, the codes, what the
# browser sees. This module only moves bytes between Starlette and those decisions.
_TABLE: Dict[str, Any] = _core.web_decide("table")

#: What the browser may see of a failure: code -> (HTTP status, fixed message), core's table
#: (``core/src/web/mod.rs``). The codes are stable; the messages are written for a person and
#: carry nothing of the request's state.
ERRORS: Mapping[str, Tuple[int, str]] = {row["code"]: (row["status"], row["message"]) for row in _TABLE["codes"]}

_MAX_BODY: int = _TABLE["max_body_bytes"]
_STATIC = Path(__file__).resolve().parent / "static"


def browser_error(error: BaseException) -> Tuple[str, Optional[int]]:
    """The code (a key of :data:`ERRORS`) the browser gets for ``error``, and a Retry-After
    in seconds where iProov asked for one: core's decision (``core/src/web``, keyed on the
    error's kind and, for the account errors, iProov's code; never on a message). Anything
    that is not an :class:`IProovError` is ``internal_error``."""
    decided = _decide_error(error)
    retry = decided["answer"]["headers"].get("Retry-After")
    return decided["code"], (None if retry is None else int(retry))


def _decide_error(error: BaseException) -> Dict[str, Any]:
    facts: Optional[Dict[str, Any]] = None
    if isinstance(error, IProovError):
        # The class decides (as in every host): its kind, over whatever the dict says.
        facts = error.to_dict()
        facts["kind"] = type(error).kind or facts.get("kind", "")
    return _core.web_decide("error", {"error": facts})


def _respond(answer: Mapping[str, Any]) -> JSONResponse:
    """Core's answer ``{"status", "headers", "body"}`` as it is."""
    return JSONResponse(answer["body"], status_code=answer["status"], headers=dict(answer["headers"]))


class _Refused(Exception):
    def __init__(self, answer: Mapping[str, Any]) -> None:
        super().__init__(answer["status"])
        self.answer = answer


def _own_origin(request: Request) -> str:
    return f"{request.url.scheme}://{request.headers.get('host', '')}"


Service = Union[JourneyService, AsyncJourneyService]


class _Endpoints:
    def __init__(
        self,
        service: Service,
        resolve_user: ResolveUser,
        allowed_origins: Optional[Iterable[str]],
        flows: Sequence[str],
        emulator_url: Optional[str],
        validate_wait_s: float,
    ) -> None:
        self.service = service
        self.resolve_user = resolve_user
        self.origins = None if allowed_origins is None else list(allowed_origins)
        self.flows = list(flows)
        self.emulator_url = emulator_url.rstrip("/") if emulator_url else None
        self.validate_wait_s = validate_wait_s
        self._health: Tuple[float, Mapping[str, Any]] = (0.0, {})

    async def _guarded(self, request: Request, route: str) -> Dict[str, Any]:
        """The route's input (core's ``read_input``) after core's origin, content-type, size
        and authentication checks; raises :class:`_Refused` with core's answer."""
        body = bytearray()
        facts: Dict[str, Any] = {
            "origin": request.headers.get("origin"),
            "own_origin": _own_origin(request),
            "allowed_origins": self.origins,
            "content_type": request.headers.get("content-type"),
            "body_bytes": 0,
        }
        checked = _core.web_decide("request", facts)
        if "answer" not in checked:
            async for chunk in request.stream():
                body += chunk
                if len(body) > _MAX_BODY:
                    break
            facts["body_bytes"] = len(body)
            checked = _core.web_decide("request", facts)
        if "answer" in checked:
            raise _Refused(checked["answer"])
        user = self.resolve_user(request)
        if inspect.isawaitable(user):
            user = await user
        read = _core.web_decide("input", {
            "route": route,
            "user": None if user is None else str(user),
            "body": bytes(body).decode("utf-8", "replace"),
            "flows": self.flows,
            "user_agent": request.headers.get("user-agent"),
        })
        if "answer" in read:
            raise _Refused(read["answer"])
        return dict(read["input"])

    async def _serve(self, method: str, *args: Any, **kwargs: Any) -> Dict[str, Any]:
        """The service's ``start`` or ``finish`` for a person waiting: no call waits long
        before a retry (``interactive``), and a request in progress on the same journey (a
        double submit, a second tab) is waited for up to ``validate_wait_s`` (the pump
        waits). An async service runs on the event loop; a blocking one in Starlette's thread
        pool."""
        if method != "exit":  # an exit sends nothing and waits for nothing
            kwargs.update(interactive=True, wait_s=self.validate_wait_s)
        if isinstance(self.service, AsyncJourneyService):
            answer: Dict[str, Any] = await getattr(self.service, method)(*args, **kwargs)
        else:
            answer = await run_in_threadpool(getattr(self.service, method), *args, **kwargs)
        return answer

    async def token(self, request: Request) -> Response:
        try:
            given = await self._guarded(request, "token")
            started = await self._serve("start", given["flow"], given["user_id"], given.get("journey_id"))
            return _respond(_core.web_decide("answer", {"answer": started})["answer"])
        except _Refused as refused:
            return _respond(refused.answer)
        except Exception as error:  # every failure answers with a code, never a message
            return self._failed("token", error)

    async def validate(self, request: Request) -> Response:
        try:
            given = await self._guarded(request, "validate")
            done = await self._serve("finish", given["journey_id"], given["token"], given["client"], user_id=given["user_id"])
            return _respond(_core.web_decide("answer", {"answer": done})["answer"])
        except _Refused as refused:
            return _respond(refused.answer)
        except Exception as error:
            return self._failed("validate", error)

    async def exit(self, request: Request) -> Response:
        """iProov's SDK ended the attempt without a capture: the service ends it."""
        try:
            given = await self._guarded(request, "exit")
            ended = await self._serve("exit", given["journey_id"], given["token"], given["event"], given["client"],
                                      feedback=given.get("feedback"), user_id=given["user_id"])
            return _respond(_core.web_decide("answer", {"answer": ended})["answer"])
        except _Refused as refused:
            return _respond(refused.answer)
        except Exception as error:
            return self._failed("exit", error)

    async def complete(self, request: Request) -> Response:
        """The stand-in's pass or fail: the emulator's control API, as the user's phone."""
        try:
            given = await self._guarded(request, "emulator_complete")
            status = await run_in_threadpool(self._post_complete, given["token"], given["claim"])
            return _respond(_core.web_decide("emulator", {"status": status})["answer"])
        except _Refused as refused:
            return _respond(refused.answer)
        except Exception as error:
            return self._failed("emulator complete", error)

    def _post_complete(self, token: str, claim: Dict[str, Any]) -> int:
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

    async def health(self, request: Request) -> Response:
        """iProov's availability and a read of the store, answered as core says and kept for
        core's ``cache_ms`` (the route is public: it must not let anyone hammer iProov)."""
        loop = asyncio.get_running_loop()
        until, answer = self._health
        if loop.time() < until:
            return _respond(answer)
        client, store = self.service._client, self.service.store
        up: Optional[bool] = None
        try:
            # A bounded call (core's interactive wait): a load balancer is waiting.
            got = client._run("availability", {}, max_wait_ms=_TABLE["health_wait_ms"])
            up = bool((await got if inspect.isawaitable(got) else got).up)
        except Exception:
            _log.info("iproov health: iProov's availability call failed", exc_info=True)
        try:
            got = store.get("journeys", "#health")
            if inspect.isawaitable(got):
                await got
            store_ok = True
        except Exception:
            _log.warning("iproov health: the store failed a read", exc_info=True)
            store_ok = False
        decided = _core.web_decide("health", {"iproov_up": up, "store_ok": store_ok})
        self._health = (loop.time() + decided["cache_ms"] / 1000, decided["answer"])
        return _respond(decided["answer"])

    async def config(self, request: Request) -> Response:
        return _respond(_core.web_decide("config", {"stand_in": self.emulator_url is not None})["answer"])

    def _failed(self, route: str, error: Exception) -> JSONResponse:
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
        return _respond(decided["answer"])


def _static(route: Mapping[str, Any]) -> Callable[[Request], Awaitable[Response]]:
    path = _STATIC / route["file"]
    headers = dict(route["headers"])
    media_type = route["content_type"]

    async def serve(request: Request) -> Response:
        return FileResponse(path, media_type=media_type, headers=headers)

    return serve


def journey_routes(
    service: Service,
    *,
    resolve_user: ResolveUser,
    allowed_origins: Optional[Iterable[str]] = None,
    flows: Optional[Sequence[str]] = None,
    page: bool = True,
    emulator_url: Optional[str] = None,
    validate_wait_s: Optional[float] = None,
) -> Router:
    """The journey endpoints (and the page) as a Starlette ``Router``; see the module docs for
    the routes, their bodies and their errors.

    ``resolve_user(request)`` gives the asking user's iProov user_id from your own session or
    auth (sync or async; ``None`` answers 401). ``allowed_origins``: the exact origins
    (``"https://app.example.com"``) whose pages may call the routes; ``None`` accepts only the
    request's own origin (scheme and Host as the server sees them: behind a proxy that
    terminates TLS, list the public origin). ``flows``: the flows the browser may start (default: core's, enrol and verify).
    ``page``: serve the browser page. ``emulator_url``: the emulator's root URL
    (``http://127.0.0.1:PORT``), only when the service points at the emulator; it turns on
    the page's stand-in and its ``emulator/complete`` route. ``validate_wait_s``: how long a
    double-submitted validate waits for the first one's outcome before answering 409, in
    seconds (default: core's, 30 s).
    """
    # The flows and the double submit's wait default to core's (its table: flows, validate_wait_ms).
    if flows is None:
        flows = _TABLE["flows"]
    if validate_wait_s is None:
        validate_wait_s = _TABLE["validate_wait_ms"] / 1000
    endpoints = _Endpoints(service, resolve_user, allowed_origins, flows, emulator_url, validate_wait_s)
    answer = {
        "token": endpoints.token,
        "validate": endpoints.validate,
        "exit": endpoints.exit,
        "config": endpoints.config,
        "health": endpoints.health,
        "emulator_complete": endpoints.complete,
    }
    by_path: Dict[str, Dict[str, Callable[[Request], Awaitable[Response]]]] = {}
    for route in _TABLE["routes"]:  # core's table: paths, methods, which need the page or emulator
        if (route["page"] and not page) or (route["emulator"] and not emulator_url):
            continue
        endpoint = _static(route) if route["route"] == "file" else answer[route["route"]]
        by_path.setdefault(route["path"], {})[route["method"]] = endpoint
    # One route per path taking every method, so that a wrong method (405) and an unknown path
    # (404) answer core's JSON error shape, not the framework's own page.
    routes = [Route(path, _by_method(methods), methods=_METHODS) for path, methods in by_path.items()]
    return Router(routes=routes, default=_no_route)


_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


def _by_method(methods: Mapping[str, Callable[[Request], Awaitable[Response]]]) -> Callable[[Request], Awaitable[Response]]:
    async def dispatch(request: Request) -> Response:
        endpoint = methods.get("GET" if request.method == "HEAD" and "GET" in methods else request.method)
        if endpoint is None:
            return _respond(_core.web_decide("no_route", {"allow": list(methods)})["answer"])
        return await endpoint(request)

    return dispatch


async def _no_route(scope: Any, receive: Any, send: Any) -> None:
    await _respond(_core.web_decide("no_route", {"allow": []})["answer"])(scope, receive, send)
