"""The endpoints as a Starlette ``Router`` (:func:`iproov_sansio.web.journey_routes`): Starlette's
request into an :class:`~iproov_sansio.web.Incoming`, the needs of the shared steps answered on
the event loop (an async service) or in Starlette's thread pool (a blocking one), the
:class:`~iproov_sansio.web.Answer` written as it is."""

from __future__ import annotations

import inspect
from typing import Any, Awaitable, Callable, Optional

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route, Router
from starlette.types import Receive, Scope, Send

from ..journeys import AsyncJourneyService
from . import Answer, Incoming, JourneyEndpoints, Need, ResolveUser

# Every route takes every method, so that a wrong one (405) answers core's JSON shape.
_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


def _incoming(request: Request, path: Optional[str]) -> Incoming:
    return Incoming(
        method=request.method,
        path=path,
        origin=request.headers.get("origin"),
        own_origin=f"{request.url.scheme}://{request.headers.get('host', '')}",
        content_type=request.headers.get("content-type"),
        user_agent=request.headers.get("user-agent"),
    )


async def _serve(endpoints: JourneyEndpoints, resolve_user: ResolveUser, request: Request, path: Optional[str]) -> Response:
    on_loop = isinstance(endpoints.service, AsyncJourneyService)
    steps = endpoints.steps(_incoming(request, path))
    sent: Any = None
    error: Optional[BaseException] = None
    while True:
        try:
            need: Need = steps.send(sent) if error is None else steps.throw(error)
        except StopIteration as done:
            answer: Answer = done.value
            return Response(answer.body, status_code=answer.status, headers=answer.headers)
        sent, error = None, None
        try:
            if need.kind == "body":
                body = bytearray()
                async for chunk in request.stream():
                    body += chunk
                    if len(body) >= need.limit:
                        break
                sent = bytes(body[: need.limit])
            elif need.kind == "user":
                sent = resolve_user(request)
                if inspect.isawaitable(sent):
                    sent = await sent
            elif need.kind == "call":
                assert need.fn is not None
                if on_loop and not need.blocking:
                    sent = need.fn(*need.args, **need.kwargs)
                    if inspect.isawaitable(sent):
                        sent = await sent
                else:
                    sent = await run_in_threadpool(need.fn, *need.args, **need.kwargs)
        except Exception as exc:
            error = exc


def router(endpoints: JourneyEndpoints, resolve_user: ResolveUser) -> Router:
    def endpoint(path: str) -> Callable[[Request], Awaitable[Response]]:
        async def serve(request: Request) -> Response:
            return await _serve(endpoints, resolve_user, request, path)

        return serve

    async def no_route(scope: Scope, receive: Receive, send: Send) -> None:
        # No route has the path (its own: the log names it; the table has no such path).
        request = Request(scope, receive)
        response = await _serve(endpoints, resolve_user, request, request.url.path)
        await response(scope, receive, send)

    routes = [Route(path, endpoint(path), methods=_METHODS) for path in endpoints.paths]
    return Router(routes=routes, default=no_route)
