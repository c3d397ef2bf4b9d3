"""iProov clients over httpx (``pip install iproov-sansio[httpx]``): :class:`Client` and
:class:`AsyncClient`, loops around core's call driver. This module only sends: each request
with a whole deadline (connect, write and every read), redirects never followed whatever
client is handed in, the body read with a cap on its decompressed size, and httpx's
exceptions named by core's transport table."""

from __future__ import annotations

import asyncio
import threading
from typing import Any, Callable, Dict, List, Mapping, Optional, Tuple

import httpx

from ._client_base import DEFAULT_TIMEOUT, AsyncOperations, ClientCore, SyncOperations
from ._host import Config, Request
from ._flows import RetryPolicy, TokenManager
from ._loop import (
    ACCEPT_ENCODING,
    WATCHDOG,
    AsyncWakeup,
    Answer,
    BoundedBody,
    Failure,
    Sent,
    connect_failure,
    run_async,
    run_sync,
)

__all__ = ["Client", "AsyncClient"]

Audit = Optional[Callable[[Dict[str, Any]], None]]


def _failure(exc: httpx.TransportError) -> str:
    """httpx's exception as a name of core's transport table."""
    if isinstance(exc, (httpx.ConnectTimeout, httpx.PoolTimeout)):
        return "connect_timeout"
    if isinstance(exc, httpx.ConnectError):
        return connect_failure(exc)
    if isinstance(exc, (httpx.UnsupportedProtocol, httpx.WriteError, httpx.WriteTimeout)):
        return "not_written"
    if isinstance(exc, httpx.ReadTimeout):
        return "timeout"
    if isinstance(exc, (httpx.ReadError, httpx.RemoteProtocolError)):
        return "after_written"
    return "unknown"


def _cause(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


def _headers(request: Request) -> List[Tuple[str, str]]:
    return [*request.headers, ("Accept-Encoding", ACCEPT_ENCODING)]


class Client(SyncOperations, ClientCore):
    """A blocking iProov client over ``httpx.Client``, safe to share between threads.

    Give ``region`` (or ``base_url``) and the credentials, or set ``IPROOV_REGION`` /
    ``IPROOV_BASE_URL``, ``IPROOV_API_KEY``, ``IPROOV_SECRET``, ``IPROOV_OAUTH_USERNAME``,
    ``IPROOV_OAUTH_PASSWORD``; or pass a ready ``config``. ``http_client`` is your own
    ``httpx.Client`` (not closed by this one; its redirect setting is overridden: a redirect is
    never followed). ``timeout`` (seconds) is the whole deadline of each request, connect to
    last byte; ``None`` keeps core's per-operation deadlines. Raises ``InvalidInputError`` at
    once for an unusable ``timeout``, ``retry`` or config. ``audit`` receives core's record of
    every request sent; if it raises, the error is logged (logger ``iproov_sansio``) and the
    call goes on.
    """

    def __init__(
        self,
        region: Optional[str] = None,
        *,
        base_url: Optional[str] = None,
        api_key: Optional[str] = None,
        secret: Optional[str] = None,
        oauth_username: Optional[str] = None,
        oauth_password: Optional[str] = None,
        user_agent: Optional[str] = None,
        config: Optional[Config] = None,
        http_client: Optional[httpx.Client] = None,
        timeout: Optional[float] = DEFAULT_TIMEOUT,
        retry: Optional[RetryPolicy] = None,
        token_manager: Optional[TokenManager] = None,
        audit: Audit = None,
        environ: Optional[Mapping[str, str]] = None,
    ) -> None:
        fields = dict(
            region=region,
            base_url=base_url,
            api_key=api_key,
            secret=secret,
            oauth_username=oauth_username,
            oauth_password=oauth_password,
            user_agent=user_agent,
        )
        self._setup(config, environ, fields, timeout, retry, token_manager, audit)
        self._owns_http = http_client is None
        self._http = http_client if http_client is not None else httpx.Client()
        self._wakeup = threading.Condition()

    def _send(self, request: Request, timeout_ms: int) -> Sent:
        timeout = timeout_ms / 1000.0
        guard = WATCHDOG.arm(timeout_ms)

        def trace(event: str, info: Dict[str, Any]) -> None:
            if event in ("connection.connect_tcp.complete", "connection.start_tls.complete"):
                guard.attach(info["return_value"].get_extra_info("socket"))

        try:
            with self._http.stream(
                request.method,
                request.url,
                headers=_headers(request),
                content=request.body,
                timeout=timeout,
                follow_redirects=False,
                extensions={"trace": trace},
            ) as response:
                stream = response.extensions.get("network_stream")
                if stream is not None:
                    guard.attach(stream.get_extra_info("socket"))
                body = BoundedBody(response.headers.get("content-encoding")).read_all(response.iter_raw())
            return Answer(response.status_code, response.headers.raw, body)
        except httpx.TransportError as exc:
            return Failure("timeout" if guard.fired else _failure(exc), _cause(exc), exc)
        finally:
            guard.disarm()

    def _run(
        self,
        operation: str,
        input: Dict[str, Any],
        attempt: Optional[int] = None,
        hook: Audit = None,
        max_wait_ms: Optional[int] = None,
    ) -> Any:
        records = self._hook(hook)
        call = self._start(operation, input, attempt, records, max_wait_ms)
        return self._result(operation, run_sync(self._driver, call, self._send, self._wakeup, records))

    def close(self) -> None:
        """Closes the httpx client if this client created it."""
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return self._describe("iproov_sansio.httpx.Client")


class AsyncClient(AsyncOperations, ClientCore):
    """An asyncio iProov client over ``httpx.AsyncClient``; same arguments as :class:`Client`.
    Concurrent tasks share one OAuth token (one token request for all of them). A cancelled
    task cancels its call (asyncio's convention); a validate cancelled after it was sent is
    recorded as outcome unknown."""

    def __init__(
        self,
        region: Optional[str] = None,
        *,
        base_url: Optional[str] = None,
        api_key: Optional[str] = None,
        secret: Optional[str] = None,
        oauth_username: Optional[str] = None,
        oauth_password: Optional[str] = None,
        user_agent: Optional[str] = None,
        config: Optional[Config] = None,
        http_client: Optional[httpx.AsyncClient] = None,
        timeout: Optional[float] = DEFAULT_TIMEOUT,
        retry: Optional[RetryPolicy] = None,
        token_manager: Optional[TokenManager] = None,
        audit: Audit = None,
        environ: Optional[Mapping[str, str]] = None,
    ) -> None:
        fields = dict(
            region=region,
            base_url=base_url,
            api_key=api_key,
            secret=secret,
            oauth_username=oauth_username,
            oauth_password=oauth_password,
            user_agent=user_agent,
        )
        self._setup(config, environ, fields, timeout, retry, token_manager, audit)
        self._owns_http = http_client is None
        self._http = http_client if http_client is not None else httpx.AsyncClient()
        self._wakeup = AsyncWakeup()

    async def _exchange(self, request: Request, timeout: float, sending: List[bool]) -> Sent:
        async def trace(event: str, info: Dict[str, Any]) -> None:
            if event.endswith(".send_request_headers.started"):
                sending.append(True)

        try:
            async with self._http.stream(
                request.method,
                request.url,
                headers=_headers(request),
                content=request.body,
                timeout=timeout,
                follow_redirects=False,
                extensions={"trace": trace},
            ) as response:
                bounded = BoundedBody(response.headers.get("content-encoding"))
                async for chunk in response.aiter_raw():
                    bounded.feed(chunk)
                    if bounded.full:
                        break
            return Answer(response.status_code, response.headers.raw, bytes(bounded.body))
        except httpx.TransportError as exc:
            return Failure(_failure(exc), _cause(exc), exc)

    async def _send(self, request: Request, timeout_ms: int) -> Sent:
        timeout = timeout_ms / 1000.0
        sending: List[bool] = []  # the trace's word: the request began to go out
        try:
            # httpx's own timeouts are per phase (a server dripping bytes never trips a read
            # timeout): this one is the send's whole time.
            return await asyncio.wait_for(self._exchange(request, timeout, sending), timeout)
        except asyncio.TimeoutError:
            if sending:
                return Failure("timeout", "no complete answer before the deadline", None)
            return Failure("connect_timeout", "no connection before the deadline", None)

    async def _run(
        self,
        operation: str,
        input: Dict[str, Any],
        attempt: Optional[int] = None,
        hook: Audit = None,
        max_wait_ms: Optional[int] = None,
    ) -> Any:
        records = self._hook(hook)
        call = self._start(operation, input, attempt, records, max_wait_ms)
        return self._result(operation, await run_async(self._driver, call, self._send, self._wakeup, records))

    async def aclose(self) -> None:
        """Closes the httpx client if this client created it."""
        if self._owns_http:
            await self._http.aclose()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        return self._describe("iproov_sansio.httpx.AsyncClient")
