"""Drop-in HTTP endpoints for a browser's iProov journey, over :class:`JourneyService`
(``pip install "iproov-sansio[web]"``, Starlette). :func:`journey_routes` gives a Starlette
``Router``, an ASGI app that mounts as it is into Starlette or FastAPI
(``app.mount("/iproov", journey_routes(...))``)::

    POST {mount}/token     {"flow": "enrol" | "verify", "journey_id"?: str}
      200 {"journey_id", "token", "sdk_url", "attempt", "attempts_left"}
          or, when the journey is over, {"journey_id", "passed", "attempts_left", "next",
          "attempt"?, "state"?, "reason"?}  (next: "done" | "exhausted")
    POST {mount}/validate  {"journey_id": str, "token": str}
      200 {"journey_id", "passed", "reason"?, "attempt", "state", "attempts_left", "next"}
          (next: "done" | "start_attempt" | "exhausted"; state "outcome_unknown" or "error":
          the attempt is inconclusive, a new one may start)
    GET  {mount}/          the browser page (static HTML; {mount}/journey.mjs, {mount}/page.css)
    GET  {mount}/config    {"stand_in": bool}: whether the page shows the emulator's stand-in
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
import math
import re
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, Awaitable, Callable, Dict, Iterable, Mapping, Optional, Sequence, Tuple, Union

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route, Router

from .._errors import (
    ApiError,
    InvalidInputError,
    InvalidStateError,
    IProovError,
    OutcomeUnknownError,
    RateLimitedError,
    ServerError,
    TransportError,
)
from ..journeys import JourneyService

__all__ = ["ERRORS", "ResolveUser", "browser_error", "journey_routes"]

_log = logging.getLogger("iproov_sansio.web")

#: ``resolve_user(request)``: the user_id of whoever your session or auth says is asking, or
#: ``None`` (the routes answer 401). May be a coroutine function.
ResolveUser = Callable[[Request], Union[Optional[str], Awaitable[Optional[str]]]]

#: What the browser may see of a failure: code -> (HTTP status, fixed message). The codes are
#: stable; the messages are written for a person and carry nothing of the request's state.
ERRORS: Mapping[str, Tuple[int, str]] = {
    "bad_request": (400, "The request does not have the fields this endpoint takes."),
    "unauthenticated": (401, "Sign in first."),
    "forbidden_origin": (403, "Requests from this origin are not accepted."),
    "account_inactive": (403, "This account cannot use face verification now."),
    "journey_conflict": (409, "This journey cannot take that step now. Start again."),
    "already_enrolled": (409, "This account has already enrolled."),
    "not_enrolled": (409, "This account has not enrolled yet."),
    "payload_too_large": (413, "The request is too large."),
    "unsupported_media_type": (415, "Send the request as application/json."),
    "internal_error": (500, "Something went wrong on our side."),
    "service_error": (502, "The face verification service refused the request."),
    "try_again": (503, "The face verification service is busy or unreachable. Try again shortly."),
}

# iProov's codes that say something about the account, which the person can act on.
_ACCOUNT_CODES = {
    "already_enrolled": "already_enrolled",
    "no_user": "not_enrolled",
    "inactive_user": "account_inactive",
}

# The fields of the journey service's answers that the browser gets (its error_code, for one,
# stays in the store and the audit records).
_VISIBLE = ("journey_id", "token", "sdk_url", "attempt", "attempts_left", "passed", "reason", "state", "next")

_MAX_BODY = 8 * 1024
_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,256}")
_REASON = re.compile(r"[a-z_]{1,64}")
_STATIC = Path(__file__).resolve().parent / "static"


def _validating(record: Optional[Mapping[str, Any]], user: str) -> bool:
    """Whether the stored journey is ``user``'s and one of its attempts is being validated
    (core's record: ``user_id``, ``attempts[].state``)."""
    if record is None or record.get("user_id") != user:
        return False
    return any(attempt.get("state") == "validating" for attempt in record.get("attempts", []))


def browser_error(error: BaseException) -> Tuple[str, Optional[int]]:
    """The code (a key of :data:`ERRORS`) the browser gets for ``error``, and a Retry-After
    in seconds where iProov asked for one. Keyed on the class core names for each error
    (and iProov's code for the account errors), never on a message."""
    if isinstance(error, InvalidInputError):
        # The resolved user_id is the application's, not the browser's: a bad one is ours.
        return ("internal_error" if error.field == "user_id" else "bad_request"), None
    if isinstance(error, InvalidStateError):
        return "journey_conflict", None
    if isinstance(error, RateLimitedError):
        ms = error.retry_after_ms
        return "try_again", (None if ms is None else max(1, math.ceil(ms / 1000)))
    if isinstance(error, (ServerError, TransportError, OutcomeUnknownError)):
        # A token request is safe to ask again (validate errors never get here: the service
        # stores them as the attempt's outcome).
        return "try_again", None
    if isinstance(error, ApiError) and error.code in _ACCOUNT_CODES:
        return _ACCOUNT_CODES[error.code], None
    if isinstance(error, IProovError):
        # A wrong key, an OAuth failure, an answer that is not iProov's: the service's
        # configuration, nothing the person can change.
        return "service_error", None
    return "internal_error", None


def _error(code: str, retry_after: Optional[int] = None) -> JSONResponse:
    status, message = ERRORS[code]
    headers = {"Cache-Control": "no-store"}
    if retry_after is not None:
        headers["Retry-After"] = str(retry_after)
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status, headers=headers)


def _ok(data: Mapping[str, Any]) -> JSONResponse:
    # The answers carry claim tokens: never cached.
    return JSONResponse({k: data[k] for k in _VISIBLE if k in data}, headers={"Cache-Control": "no-store"})


class _Refused(Exception):
    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


class _Endpoints:
    def __init__(
        self,
        service: JourneyService,
        resolve_user: ResolveUser,
        allowed_origins: Optional[Iterable[str]],
        flows: Sequence[str],
        emulator_url: Optional[str],
        validate_wait_s: float,
    ) -> None:
        self.service = service
        self.resolve_user = resolve_user
        self.origins = None if allowed_origins is None else {o.rstrip("/") for o in allowed_origins}
        self.flows = tuple(flows)
        self.emulator_url = emulator_url.rstrip("/") if emulator_url else None
        self.validate_wait_s = validate_wait_s

    async def _guarded(self, request: Request) -> Tuple[str, Dict[str, Any]]:
        """The asking user and the JSON body, after the origin, content-type, size and
        authentication checks; raises :class:`_Refused`."""
        origin = request.headers.get("origin")
        if self.origins is None:
            expected = {f"{request.url.scheme}://{request.headers.get('host', '')}"}
        else:
            expected = self.origins
        if origin is None or origin.rstrip("/") not in expected:
            raise _Refused("forbidden_origin")
        media = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
        if media != "application/json":
            raise _Refused("unsupported_media_type")
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > _MAX_BODY:
                raise _Refused("payload_too_large")
        user = self.resolve_user(request)
        if inspect.isawaitable(user):
            user = await user
        if not user:
            raise _Refused("unauthenticated")
        try:
            data = json.loads(bytes(body))
        except ValueError:
            raise _Refused("bad_request") from None
        if not isinstance(data, dict):
            raise _Refused("bad_request")
        return str(user), data

    async def token(self, request: Request) -> Response:
        try:
            user, body = await self._guarded(request)
            flow = body.get("flow")
            journey_id = body.get("journey_id")
            if flow not in self.flows or not (journey_id is None or isinstance(journey_id, str)):
                raise _Refused("bad_request")
            # The service blocks (the store's driver, the client's socket): run it in
            # Starlette's thread pool rather than keep a second, async service and async
            # stores in step with it. A request holds a thread for one token request.
            started = await run_in_threadpool(self.service.start, flow, user, journey_id)
            return _ok(started)
        except _Refused as refused:
            return _error(refused.code)
        except Exception as error:  # every failure answers with a code, never a message
            return self._failed("token", error)

    async def validate(self, request: Request) -> Response:
        try:
            user, body = await self._guarded(request)
            journey_id, token = body.get("journey_id"), body.get("token")
            if not isinstance(journey_id, str) or not isinstance(token, str):
                raise _Refused("bad_request")
            client = request.headers.get("user-agent", "").strip() or "unknown"
            loop = asyncio.get_running_loop()
            deadline = loop.time() + self.validate_wait_s
            while True:
                try:
                    done = await run_in_threadpool(self.service.finish, journey_id, token, client, user_id=user)
                    return _ok(done)
                except InvalidStateError:
                    # A double submit: the first request is validating this token. Its
                    # outcome is stored once it comes, and a later finish gives it, so wait
                    # for it (sleeping here, holding no thread) rather than refuse. Only then:
                    # an unknown journey, another user's, or one with nothing in flight is
                    # refused at once.
                    record = await run_in_threadpool(self.service.store.get, journey_id)
                    if not _validating(record, user) or loop.time() >= deadline:
                        raise
                    await asyncio.sleep(0.2)
        except _Refused as refused:
            return _error(refused.code)
        except Exception as error:
            return self._failed("validate", error)

    async def complete(self, request: Request) -> Response:
        """The stand-in's pass or fail: the emulator's control API, as the user's phone."""
        try:
            _, body = await self._guarded(request)
            token, passed, reason = body.get("token"), body.get("passed"), body.get("reason")
            if not isinstance(token, str) or not _TOKEN.fullmatch(token) or not isinstance(passed, bool):
                raise _Refused("bad_request")
            if reason is not None and (not isinstance(reason, str) or not _REASON.fullmatch(reason)):
                raise _Refused("bad_request")
            claim: Dict[str, Any] = {"passed": passed}
            if reason is not None and not passed:
                claim["reason"] = reason
            status = await run_in_threadpool(self._post_complete, token, claim)
            if status == 200:
                return JSONResponse({"completed": True}, headers={"Cache-Control": "no-store"})
            # 404 unknown claim, 409 expired or not pending: not this attempt's to finish.
            return _error("journey_conflict" if status in (404, 409) else "try_again")
        except _Refused as refused:
            return _error(refused.code)
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
            return 503

    async def config(self, request: Request) -> Response:
        return JSONResponse({"stand_in": self.emulator_url is not None}, headers={"Cache-Control": "no-store"})

    def _failed(self, route: str, error: Exception) -> JSONResponse:
        code, retry_after = browser_error(error)
        # The log gets the class and code; core's messages carry no secret, but the browser
        # gets only the fixed text of the code.
        if isinstance(error, IProovError):
            _log.warning("iproov %s: %s %s: %s", route, type(error).__name__, error.code, error.message)
        else:
            _log.exception("iproov %s failed", route)
        return _error(code, retry_after)


def _static(name: str, media_type: str) -> Callable[[Request], Awaitable[Response]]:
    path = _STATIC / name
    headers = {
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "no-cache",
    }
    if name.endswith(".html"):
        # Scripts only from this origin, fetches only to it; iProov's own SDK needs its hosts
        # added (README: "A real iProov service in the page").
        headers["Content-Security-Policy"] = (
            "default-src 'self'; script-src 'self'; connect-src 'self'; style-src 'self'; "
            "img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
        )

    async def serve(request: Request) -> Response:
        return FileResponse(path, media_type=media_type, headers=headers)

    return serve


def journey_routes(
    service: JourneyService,
    *,
    resolve_user: ResolveUser,
    allowed_origins: Optional[Iterable[str]] = None,
    flows: Sequence[str] = ("enrol", "verify"),
    page: bool = True,
    emulator_url: Optional[str] = None,
    validate_wait_s: float = 30.0,
) -> Router:
    """The journey endpoints (and the page) as a Starlette ``Router``; see the module docs for
    the routes, their bodies and their errors.

    ``resolve_user(request)`` gives the asking user's iProov user_id from your own session or
    auth (sync or async; ``None`` answers 401). ``allowed_origins``: the exact origins
    (``"https://app.example.com"``) whose pages may call the routes; ``None`` accepts only the
    request's own origin (scheme and Host as the server sees them: behind a proxy that
    terminates TLS, list the public origin). ``flows``: the flows the browser may start.
    ``page``: serve the browser page. ``emulator_url``: the emulator's root URL
    (``http://127.0.0.1:PORT``), only when the service points at the emulator; it turns on
    the page's stand-in and its ``emulator/complete`` route. ``validate_wait_s``: how long a
    double-submitted validate waits for the first one's outcome before answering 409.
    """
    endpoints = _Endpoints(service, resolve_user, allowed_origins, flows, emulator_url, validate_wait_s)
    routes = [
        Route("/token", endpoints.token, methods=["POST"]),
        Route("/validate", endpoints.validate, methods=["POST"]),
    ]
    if page:
        routes += [
            Route("/", _static("index.html", "text/html; charset=utf-8"), methods=["GET"]),
            Route("/journey.mjs", _static("journey.mjs", "text/javascript; charset=utf-8"), methods=["GET"]),
            Route("/page.css", _static("page.css", "text/css; charset=utf-8"), methods=["GET"]),
            Route("/config", endpoints.config, methods=["GET"]),
        ]
    if emulator_url:
        routes.append(Route("/emulator/complete", endpoints.complete, methods=["POST"]))
    return Router(routes=routes)
