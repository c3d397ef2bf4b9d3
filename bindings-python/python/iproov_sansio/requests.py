"""An iProov client over requests (``pip install iproov-sansio[requests]``). Each call builds
with core, sends with requests, retries as core's advisor says, and parses with core; the
users methods get and reuse OAuth tokens through core's token manager."""

from __future__ import annotations

import threading
import time
from typing import Any, Callable, Dict, Mapping, Optional

import requests
import requests.exceptions as rex

from ._client_base import (
    DEFAULT_TIMEOUT,
    FAILED_BEFORE_SENDING,
    MAY_HAVE_REACHED_SERVER,
    Core,
    Failed,
    Outcome,
    Received,
    SyncOperations,
    config_from_env,
    drive_sync,
    read_capped,
)
from ._core import Config, Request
from ._flows import RetryPolicy, TokenManager

__all__ = ["Client"]


def _sent_nothing(exc: rex.ConnectionError) -> bool:
    """requests wraps urllib3's errors: a connection that was never established (DNS, refused,
    TLS handshake) means the request never left."""
    try:
        from urllib3.exceptions import NameResolutionError, NewConnectionError
    except ImportError:  # pragma: no cover - urllib3 < 2
        from urllib3.exceptions import NewConnectionError

        NameResolutionError = NewConnectionError  # type: ignore[misc,assignment]
    seen: Any = exc
    for _ in range(6):
        reason = getattr(seen, "reason", None)
        if isinstance(seen, (NewConnectionError, NameResolutionError)) or isinstance(reason, (NewConnectionError, NameResolutionError)):
            return True
        seen = seen.args[0] if getattr(seen, "args", None) else None
        if seen is None:
            break
    return isinstance(exc, rex.SSLError)


def _failed(exc: rex.RequestException) -> Failed:
    if isinstance(exc, rex.ConnectTimeout):
        return Failed(exc, FAILED_BEFORE_SENDING, True)
    if isinstance(exc, rex.Timeout):
        return Failed(exc, MAY_HAVE_REACHED_SERVER, True)
    if isinstance(exc, rex.ConnectionError) and _sent_nothing(exc):
        return Failed(exc, FAILED_BEFORE_SENDING, False)
    return Failed(exc, MAY_HAVE_REACHED_SERVER, False)


class Client(SyncOperations):
    """A blocking iProov client over ``requests.Session``.

    Give ``region`` (or ``base_url``) and the credentials, or set ``IPROOV_REGION`` /
    ``IPROOV_BASE_URL``, ``IPROOV_API_KEY``, ``IPROOV_SECRET``, ``IPROOV_OAUTH_USERNAME``,
    ``IPROOV_OAUTH_PASSWORD``; or pass a ready ``config``. ``session`` is your own
    ``requests.Session`` (not closed by this client); ``timeout`` (seconds, default 10)
    applies to every request. Redirects are not followed: core reads every answer.
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
        session: Optional[requests.Session] = None,
        timeout: float = DEFAULT_TIMEOUT,
        retry: Optional[RetryPolicy] = None,
        token_manager: Optional[TokenManager] = None,
        audit: Optional[Callable[[Dict[str, Any]], None]] = None,
        environ: Optional[Mapping[str, str]] = None,
    ) -> None:
        if config is None:
            config = config_from_env(
                environ,
                region=region,
                base_url=base_url,
                api_key=api_key,
                secret=secret,
                oauth_username=oauth_username,
                oauth_password=oauth_password,
                user_agent=user_agent,
            )
        self._core = Core(config, retry, token_manager, audit)
        self._owns_session = session is None
        self._session = session if session is not None else requests.Session()
        self._timeout = timeout
        self._users_lock = threading.Lock()

    @property
    def config(self) -> Config:
        return self._core.config

    def _send(self, request: Request) -> Outcome:
        try:
            response = self._session.request(
                request.method,
                request.url,
                headers=request.headers_dict(),
                data=request.body,
                timeout=self._timeout,
                allow_redirects=False,
                stream=True,
            )
            with response:
                body = read_capped(response.iter_content(chunk_size=65536))
        except rex.RequestException as exc:
            return _failed(exc)
        return Received(response.status_code, list(response.headers.items()), body)

    def _run(self, operation: str, input: Dict[str, Any]) -> Any:
        driver = self._core.call(operation, input)
        if self._core.needs_token(operation):
            with self._users_lock:  # the token manager is driven one call at a time
                return drive_sync(driver, self._send, time.sleep)
        return drive_sync(driver, self._send, time.sleep)

    def close(self) -> None:
        """Closes the session if this client created it."""
        if self._owns_session:
            self._session.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"iproov_sansio.requests.Client(config={self._core.config!r}, timeout={self._timeout!r})"
