"""An iProov client over requests (``pip install iproov-sansio[requests]``), a loop around
core's call driver. This module only sends: each request with its deadline (the watchdog
shuts the connection at the deadline once the answer has started; before that requests'
own connect and read timeouts apply), redirects never followed, the body read with a cap on
its decompressed size, and requests' exceptions named by core's transport table."""

from __future__ import annotations

import threading
from typing import Any, Callable, Dict, Mapping, Optional

import requests
import requests.exceptions as rex
import urllib3.exceptions as urllib3_errors

from ._client_base import DEFAULT_TIMEOUT, ClientCore, SyncOperations
from ._host import Config, Request
from ._flows import RetryPolicy, TokenManager
from ._loop import ACCEPT_ENCODING, WATCHDOG, Answer, BoundedBody, Failure, Sent, connect_failure, run_sync

__all__ = ["Client"]

Audit = Optional[Callable[[Dict[str, Any]], None]]


def _failure(exc: rex.RequestException) -> str:
    """requests' exception (wrapping urllib3's) as a name of core's transport table."""
    if isinstance(exc, rex.ConnectTimeout):
        return "connect_timeout"
    if isinstance(exc, rex.Timeout):
        return "timeout"
    if isinstance(exc, rex.SSLError):
        return "tls"
    if isinstance(exc, (rex.InvalidURL, rex.InvalidSchema, rex.MissingSchema)):
        return "not_written"
    if isinstance(exc, rex.ConnectionError) and _never_connected(exc):
        return connect_failure(exc)
    if isinstance(exc, (rex.ConnectionError, rex.ChunkedEncodingError)):
        return "after_written"
    return "unknown"


def _never_connected(exc: rex.ConnectionError) -> bool:
    """urllib3 says when no connection was made (DNS, refused, unreachable)."""
    from urllib3.exceptions import NewConnectionError

    seen: Any = exc
    for _ in range(6):
        if isinstance(seen, NewConnectionError) or isinstance(getattr(seen, "reason", None), NewConnectionError):
            return True
        seen = seen.args[0] if getattr(seen, "args", None) else None
        if seen is None:
            return False
    return False


def _socket_of(response: requests.Response) -> Any:
    """The connection's socket, to shut at the deadline (urllib3 2 and 1 keep it in
    different places; none found means only requests' own timeouts apply)."""
    raw = response.raw
    connection = getattr(raw, "_connection", None) or getattr(raw, "connection", None)
    sock = getattr(connection, "sock", None)
    if sock is None:
        fp = getattr(getattr(raw, "_fp", None), "fp", None)
        sock = getattr(getattr(fp, "raw", None), "_sock", None)
    return sock


class Client(SyncOperations, ClientCore):
    """A blocking iProov client over ``requests.Session``, safe to share between threads.

    Give ``region`` (or ``base_url``) and the credentials, or set ``IPROOV_REGION`` /
    ``IPROOV_BASE_URL``, ``IPROOV_API_KEY``, ``IPROOV_SECRET``, ``IPROOV_OAUTH_USERNAME``,
    ``IPROOV_OAUTH_PASSWORD``; or pass a ready ``config``. ``session`` is your own
    ``requests.Session`` (not closed by this client; redirects are never followed).
    ``timeout`` (seconds) is each request's deadline; ``None`` keeps core's per-operation
    deadlines. Raises ``InvalidInputError`` at once for an unusable ``timeout``, ``retry`` or
    config. ``audit`` receives core's record of every request sent; if it raises, the error is
    logged (logger ``iproov_sansio``) and the call goes on.
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
        timeout: Optional[float] = DEFAULT_TIMEOUT,
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
        self._setup(config, environ, fields, timeout, retry, token_manager, audit)
        self._owns_session = session is None
        self._session = session if session is not None else requests.Session()
        self._wakeup = threading.Condition()

    def _send(self, request: Request, timeout_ms: int) -> Sent:
        timeout = timeout_ms / 1000.0
        guard = WATCHDOG.arm(timeout_ms)
        headers = request.headers_dict()
        headers["Accept-Encoding"] = ACCEPT_ENCODING
        try:
            response = self._session.request(
                request.method,
                request.url,
                headers=headers,
                data=request.body,
                timeout=(timeout, timeout),
                allow_redirects=False,
                stream=True,
            )
            with response:
                guard.attach(_socket_of(response))
                bounded = BoundedBody(response.headers.get("content-encoding"))
                body = bounded.read_all(response.raw.stream(65536, decode_content=False))
            return Answer(response.status_code, list(response.headers.items()), body)
        except (rex.RequestException, urllib3_errors.HTTPError, OSError) as exc:
            # urllib3's own errors (and the socket's) come from streaming the body.
            name = _failure(exc) if isinstance(exc, rex.RequestException) else "after_written"
            return Failure("timeout" if guard.fired else name, f"{type(exc).__name__}: {exc}", exc)
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
        """Closes the session if this client created it."""
        if self._owns_session:
            self._session.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return self._describe("iproov_sansio.requests.Client")
