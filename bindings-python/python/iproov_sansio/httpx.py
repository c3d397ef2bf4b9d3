"""iProov clients over httpx (``pip install iproov-sansio[httpx]``): :class:`Client` and
:class:`AsyncClient`. Each call builds with core, sends with httpx, retries as core's advisor
says, and parses with core; the users methods get and reuse OAuth tokens through core's
token manager."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any, Callable, Dict, Mapping, Optional

import httpx

from ._client_base import (
    DEFAULT_TIMEOUT,
    FAILED_BEFORE_SENDING,
    MAY_HAVE_REACHED_SERVER,
    AsyncOperations,
    Core,
    Failed,
    Outcome,
    Received,
    Send,
    SyncOperations,
    config_from_env,
    drive_sync,
    read_capped,
    read_capped_async,
)
from ._core import Config, Request
from ._flows import RetryPolicy, TokenManager

__all__ = ["Client", "AsyncClient"]

# Exceptions raised before any byte of the request left: iProov never saw it.
_BEFORE_SENDING = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.UnsupportedProtocol)


def _failed(exc: httpx.TransportError) -> Failed:
    before = isinstance(exc, _BEFORE_SENDING)
    return Failed(exc, FAILED_BEFORE_SENDING if before else MAY_HAVE_REACHED_SERVER, isinstance(exc, httpx.TimeoutException))


def _core_for(
    config: Optional[Config],
    environ: Optional[Mapping[str, str]],
    retry: Optional[RetryPolicy],
    token_manager: Optional[TokenManager],
    audit: Optional[Callable[[Dict[str, Any]], None]],
    fields: Dict[str, Optional[str]],
) -> Core:
    if config is None:
        config = config_from_env(environ, **fields)
    return Core(config, retry, token_manager, audit)


class Client(SyncOperations):
    """A blocking iProov client over ``httpx.Client``.

    Give ``region`` (or ``base_url``) and the credentials, or set ``IPROOV_REGION`` /
    ``IPROOV_BASE_URL``, ``IPROOV_API_KEY``, ``IPROOV_SECRET``, ``IPROOV_OAUTH_USERNAME``,
    ``IPROOV_OAUTH_PASSWORD``; or pass a ready ``config``. ``http_client`` is your own
    ``httpx.Client`` (it is not closed by this one); ``timeout`` (seconds, default 10) applies
    to every request.
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
        timeout: float = DEFAULT_TIMEOUT,
        retry: Optional[RetryPolicy] = None,
        token_manager: Optional[TokenManager] = None,
        audit: Optional[Callable[[Dict[str, Any]], None]] = None,
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
        self._core = _core_for(config, environ, retry, token_manager, audit, fields)
        self._owns_http = http_client is None
        self._http = http_client if http_client is not None else httpx.Client()
        self._timeout = timeout
        self._users_lock = threading.Lock()

    @property
    def config(self) -> Config:
        return self._core.config

    def _send(self, request: Request) -> Outcome:
        try:
            with self._http.stream(
                request.method,
                request.url,
                headers=request.headers,
                content=request.body,
                timeout=self._timeout,
            ) as response:
                body = read_capped(response.iter_bytes())
        except httpx.TransportError as exc:
            return _failed(exc)
        return Received(response.status_code, response.headers.raw, body)

    def _run(self, operation: str, input: Dict[str, Any]) -> Any:
        driver = self._core.call(operation, input)
        if self._core.needs_token(operation):
            with self._users_lock:  # the token manager is driven one call at a time
                return drive_sync(driver, self._send, _sleep)
        return drive_sync(driver, self._send, _sleep)

    def close(self) -> None:
        """Closes the httpx client if this client created it."""
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"iproov_sansio.httpx.Client(config={self._core.config!r}, timeout={self._timeout!r})"


def _sleep(seconds: float) -> None:
    time.sleep(seconds)


class AsyncClient(AsyncOperations):
    """An asyncio iProov client over ``httpx.AsyncClient``; same arguments as :class:`Client`."""

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
        timeout: float = DEFAULT_TIMEOUT,
        retry: Optional[RetryPolicy] = None,
        token_manager: Optional[TokenManager] = None,
        audit: Optional[Callable[[Dict[str, Any]], None]] = None,
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
        self._core = _core_for(config, environ, retry, token_manager, audit, fields)
        self._owns_http = http_client is None
        self._http = http_client if http_client is not None else httpx.AsyncClient()
        self._timeout = timeout
        self._users_lock: Optional[asyncio.Lock] = None

    @property
    def config(self) -> Config:
        return self._core.config

    async def _send(self, request: Request) -> Outcome:
        try:
            async with self._http.stream(
                request.method,
                request.url,
                headers=request.headers,
                content=request.body,
                timeout=self._timeout,
            ) as response:
                body = await read_capped_async(response.aiter_bytes())
        except httpx.TransportError as exc:
            return _failed(exc)
        return Received(response.status_code, response.headers.raw, body)

    async def _drive(self, operation: str, input: Dict[str, Any]) -> Any:
        driver = self._core.call(operation, input)
        outcome: Outcome = None
        try:
            action = next(driver)
            while True:
                if isinstance(action, Send):
                    outcome = await self._send(action.request)
                else:
                    await asyncio.sleep(action.seconds)
                    outcome = None
                action = driver.send(outcome)
        except StopIteration as done:
            return done.value

    async def _run(self, operation: str, input: Dict[str, Any]) -> Any:
        if self._core.needs_token(operation):
            if self._users_lock is None:
                self._users_lock = asyncio.Lock()
            async with self._users_lock:  # the token manager is driven one call at a time
                return await self._drive(operation, input)
        return await self._drive(operation, input)

    async def aclose(self) -> None:
        """Closes the httpx client if this client created it."""
        if self._owns_http:
            await self._http.aclose()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        return f"iproov_sansio.httpx.AsyncClient(config={self._core.config!r}, timeout={self._timeout!r})"

