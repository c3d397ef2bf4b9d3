"""What the httpx and requests clients share: configuration from arguments or the environment,
core's call driver per client, and the typed methods (generated from core's tables:
``_client_ops.py``). The clients only send (``_loop.py`` drives each call); every decision is
core's driver's.
"""

from __future__ import annotations

import math
import os
from typing import Any, Callable, Dict, Mapping, Optional

from . import _host
from . import telemetry as _telemetry
from ._host import Config
from ._flows import RetryPolicy, TokenManager, TokenStatus
from ._loop import now_ms
from ._client_ops import AsyncOperations as AsyncOperations
from ._client_ops import SyncOperations as SyncOperations
from ._ops import RESULT_TYPES, Result

__all__ = ["DEFAULT_TIMEOUT", "ENV_VARS", "config_from_env"]

#: The clients' ``timeout`` by default: ``None``, each operation's deadline from core (10 s
#: for token and users calls, 20 s for validate, 30 s for photo enrol, 5 s for availability).
DEFAULT_TIMEOUT: Optional[float] = None

#: Config field -> environment variable.
ENV_VARS = {
    "region": "IPROOV_REGION",
    "base_url": "IPROOV_BASE_URL",
    "api_key": "IPROOV_API_KEY",
    "secret": "IPROOV_SECRET",
    "oauth_username": "IPROOV_OAUTH_USERNAME",
    "oauth_password": "IPROOV_OAUTH_PASSWORD",
}


def config_from_env(environ: Optional[Mapping[str, str]] = None, **given: Optional[str]) -> Config:
    """A :class:`Config` from keyword arguments (``region``, ``base_url``, ``api_key``,
    ``secret``, ``oauth_username``, ``oauth_password``, ``user_agent``), each credential not
    given read from its ``IPROOV_*`` variable (empty counts as unset). The target comes from
    the arguments when they name one (``region`` or ``base_url``), else from
    ``IPROOV_REGION`` / ``IPROOV_BASE_URL``."""
    env = os.environ if environ is None else environ
    # The rules are core's (JsonConfig::from_env); only the variables it reads cross over.
    return Config.from_env(
        {k: v for k, v in given.items() if v is not None},
        {var: env[var] for var in ENV_VARS.values() if var in env},
    )


def driver_options(
    timeout: Optional[float], retry: Optional[RetryPolicy], token_manager: Optional[TokenManager]
) -> Dict[str, Any]:
    """Core's ``DriverOptions`` as a dict for a client's arguments: ``timeout`` (seconds)
    becomes ``timeout_ms`` (core checks it when the driver is made: an unusable one raises
    :class:`InvalidInputError` there, not at the first call), ``retry`` its policy and
    ``token_manager`` its token policy (the driver keeps its own token)."""
    options: Dict[str, Any] = {"audit_frames": False}
    if timeout is not None:
        ms = timeout * 1000 if isinstance(timeout, (int, float)) and not isinstance(timeout, bool) else timeout
        options["timeout_ms"] = round(ms) if isinstance(ms, float) and math.isfinite(ms) else ms
    if retry is not None:
        options["retry"] = retry.to_dict()
    if token_manager is not None:
        options["token"] = token_manager.to_dict()["policy"]
    return options


class ClientCore:
    """One client's configuration, core driver and audit hook (shared by every client)."""

    _config: Config
    _driver: _host.Driver
    _driver_options: Dict[str, Any]
    _audit: Optional[Callable[[Dict[str, Any]], None]]
    _timeout: Optional[float]

    def _setup(
        self,
        config: Optional[Config],
        environ: Optional[Mapping[str, str]],
        fields: Dict[str, Optional[str]],
        timeout: Optional[float],
        retry: Optional[RetryPolicy],
        token_manager: Optional[TokenManager],
        audit: Optional[Callable[[Dict[str, Any]], None]],
    ) -> None:
        self._config = config if config is not None else config_from_env(environ, **fields)
        # The options stay with the client: the journey service derives its limits from them
        # (how long a validate or a token request can run: core's ``service_setup``).
        self._driver_options = driver_options(timeout, retry, token_manager)
        self._driver = _host.Driver(self._config, self._driver_options, os.urandom(8))
        self._audit = audit
        self._timeout = timeout

    @property
    def config(self) -> Config:
        return self._config

    def token_status(self, now: Optional[int] = None) -> TokenStatus:
        """The shared OAuth access token's status (never the token itself) at ``now`` (Unix ms)."""
        return TokenStatus.from_dict(self._driver.token_status(now_ms() if now is None else now))

    def _hook(self, extra: Optional[Callable[[Dict[str, Any]], None]]) -> Optional[Callable[[Dict[str, Any]], None]]:
        """The client's audit hook, and ``extra`` (a journey's store) after it."""
        own = self._audit
        if extra is None or own is None:
            return extra if own is None else own

        def both(record: Dict[str, Any]) -> None:
            try:
                own(record)
            finally:
                extra(record)

        return both

    def _start(
        self,
        operation: str,
        input: Dict[str, Any],
        attempt: Optional[int],
        hook: Optional[object],
        max_wait_ms: Optional[int] = None,
    ) -> int:
        """Starts the call; with no ``hook`` for its records, core makes none (``quiet``);
        ``max_wait_ms``: the longest wait before a retry (core's ``CallContext``)."""
        if operation == "enrol_image":
            return self._driver.start_enrol_image(
                input["token"], input["source"], input["image"], input.get("rotation"), attempt, now_ms(),
                _telemetry.wanted(),
            )
        return self._driver.start(operation, input, attempt, now_ms(), hook is None, max_wait_ms, _telemetry.wanted())

    @staticmethod
    def _result(operation: str, value: Dict[str, Any]) -> Result:
        result: Result = RESULT_TYPES[operation]._wrap(value)
        return result

    def _describe(self, kind: str) -> str:
        return f"{kind}(config={self._config!r}, timeout={self._timeout!r})"
