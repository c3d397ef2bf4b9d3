"""What the httpx and requests clients share: configuration from arguments or the environment,
core's call driver per client, and the typed methods. The clients only send (``_loop.py``
drives each call); every decision is core's driver's.
"""

from __future__ import annotations

import math
import os
from typing import Any, Callable, Dict, Mapping, Optional, Sequence

from . import _core
from . import telemetry as _telemetry
from ._core import Config
from ._flows import RetryPolicy, TokenManager, TokenStatus
from ._loop import now_ms
from ._ops import RESULT_TYPES, Result
from ._results import (
    AccessToken,
    Availability,
    ClaimToken,
    EnrolImageResult,
    InvalidateResult,
    User,
    ValidateResult,
)

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
    _driver: _core.Driver
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
        self._driver = _core.Driver(self._config, self._driver_options, int.from_bytes(os.urandom(8), "little"))
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


def operation_input(**fields: Any) -> Dict[str, Any]:
    """The call's input with the arguments not given left out (core: absent = not given)."""
    return {k: v for k, v in fields.items() if v is not None}


class SyncOperations:
    """One method per operation, for the synchronous clients (``_run`` drives the call)."""

    def _run(
        self, operation: str, input: Dict[str, Any], attempt: Optional[int] = None
    ) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def enrol_token(
        self,
        *,
        user_id: str,
        resource: str,
        assurance_type: Optional[str] = None,
        risk_profile: Optional[str] = None,
        attempt: Optional[int] = None,
    ) -> ClaimToken:
        """An enrol claim token for a user who is not enrolled yet."""
        return self._run(  # type: ignore[no-any-return]
            "enrol_token",
            operation_input(
                user_id=user_id, resource=resource, assurance_type=assurance_type, risk_profile=risk_profile
            ),
            attempt,
        )

    def verify_token(
        self,
        *,
        user_id: str,
        resource: str,
        assurance_type: Optional[str] = None,
        risk_profile: Optional[str] = None,
        attempt: Optional[int] = None,
    ) -> ClaimToken:
        """A verify claim token for an enrolled, active user."""
        return self._run(  # type: ignore[no-any-return]
            "verify_token",
            operation_input(
                user_id=user_id, resource=resource, assurance_type=assurance_type, risk_profile=risk_profile
            ),
            attempt,
        )

    def enrol_image(
        self, *, token: str, source: str, image: bytes, rotation: Optional[int] = None, attempt: Optional[int] = None
    ) -> EnrolImageResult:
        """Photo enrol: registers a trusted image (PNG, JPEG, JPEG 2000) against an enrol token."""
        return self._run(  # type: ignore[no-any-return]
            "enrol_image", {"token": token, "source": source, "image": image, "rotation": rotation}, attempt
        )

    def enrol_validate(
        self,
        *,
        user_id: str,
        token: str,
        client: str,
        risk_profile: Optional[str] = None,
        activate: Optional[bool] = None,
        attempt: Optional[int] = None,
    ) -> ValidateResult:
        """The enrol outcome, once per token (never retried once it may have reached iProov)."""
        return self._run(  # type: ignore[no-any-return]
            "enrol_validate",
            operation_input(user_id=user_id, token=token, client=client, risk_profile=risk_profile, activate=activate),
            attempt,
        )

    def verify_validate(
        self,
        *,
        user_id: str,
        token: str,
        client: str,
        risk_profile: Optional[str] = None,
        attempt: Optional[int] = None,
    ) -> ValidateResult:
        """The verify outcome, once per token (never retried once it may have reached iProov)."""
        return self._run(  # type: ignore[no-any-return]
            "verify_validate",
            operation_input(user_id=user_id, token=token, client=client, risk_profile=risk_profile),
            attempt,
        )

    def access_token(self, *, scope: Optional[Sequence[str]] = None) -> AccessToken:
        """An OAuth access token (the users methods get and reuse theirs by themselves)."""
        return self._run("access_token", operation_input(scope=None if scope is None else list(scope)))  # type: ignore[no-any-return]

    def activate_user(self, *, user_id: str, date_time: Optional[str] = None) -> User:
        """Activates a user (now, or at ``date_time``)."""
        return self._run("activate_user", operation_input(user_id=user_id, date_time=date_time))  # type: ignore[no-any-return]

    def suspend_user(self, *, user_id: str, date_time: Optional[str] = None) -> User:
        """Suspends a user (now, or at ``date_time``)."""
        return self._run("suspend_user", operation_input(user_id=user_id, date_time=date_time))  # type: ignore[no-any-return]

    def get_user(self, *, user_id: str) -> User:
        """A user's status and dates."""
        return self._run("get_user", {"user_id": user_id})  # type: ignore[no-any-return]

    def update_user(self, *, user_id: str, new_user_id: Optional[str] = None, name: Optional[str] = None) -> User:
        """Renames a user and/or sets its display name."""
        return self._run(  # type: ignore[no-any-return]
            "update_user", operation_input(user_id=user_id, new_user_id=new_user_id, name=name)
        )

    def delete_user(self, *, user_id: str) -> User:
        """Deletes a user."""
        return self._run("delete_user", {"user_id": user_id})  # type: ignore[no-any-return]

    def invalidate_claim(self, *, token: str, reason: str) -> InvalidateResult:
        """Stops the SDK from starting or continuing with a token."""
        return self._run("invalidate_claim", {"token": token, "reason": reason})  # type: ignore[no-any-return]

    def availability(self) -> Availability:
        """Whether iProov's service is up for this key."""
        return self._run("availability", {})  # type: ignore[no-any-return]


class AsyncOperations:
    """One coroutine per operation, for the asynchronous client."""

    async def _run(
        self, operation: str, input: Dict[str, Any], attempt: Optional[int] = None
    ) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    async def enrol_token(
        self,
        *,
        user_id: str,
        resource: str,
        assurance_type: Optional[str] = None,
        risk_profile: Optional[str] = None,
        attempt: Optional[int] = None,
    ) -> ClaimToken:
        """An enrol claim token for a user who is not enrolled yet."""
        return await self._run(  # type: ignore[no-any-return]
            "enrol_token",
            operation_input(
                user_id=user_id, resource=resource, assurance_type=assurance_type, risk_profile=risk_profile
            ),
            attempt,
        )

    async def verify_token(
        self,
        *,
        user_id: str,
        resource: str,
        assurance_type: Optional[str] = None,
        risk_profile: Optional[str] = None,
        attempt: Optional[int] = None,
    ) -> ClaimToken:
        """A verify claim token for an enrolled, active user."""
        return await self._run(  # type: ignore[no-any-return]
            "verify_token",
            operation_input(
                user_id=user_id, resource=resource, assurance_type=assurance_type, risk_profile=risk_profile
            ),
            attempt,
        )

    async def enrol_image(
        self, *, token: str, source: str, image: bytes, rotation: Optional[int] = None, attempt: Optional[int] = None
    ) -> EnrolImageResult:
        """Photo enrol: registers a trusted image (PNG, JPEG, JPEG 2000) against an enrol token."""
        return await self._run(  # type: ignore[no-any-return]
            "enrol_image", {"token": token, "source": source, "image": image, "rotation": rotation}, attempt
        )

    async def enrol_validate(
        self,
        *,
        user_id: str,
        token: str,
        client: str,
        risk_profile: Optional[str] = None,
        activate: Optional[bool] = None,
        attempt: Optional[int] = None,
    ) -> ValidateResult:
        """The enrol outcome, once per token (never retried once it may have reached iProov)."""
        return await self._run(  # type: ignore[no-any-return]
            "enrol_validate",
            operation_input(user_id=user_id, token=token, client=client, risk_profile=risk_profile, activate=activate),
            attempt,
        )

    async def verify_validate(
        self,
        *,
        user_id: str,
        token: str,
        client: str,
        risk_profile: Optional[str] = None,
        attempt: Optional[int] = None,
    ) -> ValidateResult:
        """The verify outcome, once per token (never retried once it may have reached iProov)."""
        return await self._run(  # type: ignore[no-any-return]
            "verify_validate",
            operation_input(user_id=user_id, token=token, client=client, risk_profile=risk_profile),
            attempt,
        )

    async def access_token(self, *, scope: Optional[Sequence[str]] = None) -> AccessToken:
        """An OAuth access token (the users methods get and reuse theirs by themselves)."""
        return await self._run("access_token", operation_input(scope=None if scope is None else list(scope)))  # type: ignore[no-any-return]

    async def activate_user(self, *, user_id: str, date_time: Optional[str] = None) -> User:
        """Activates a user (now, or at ``date_time``)."""
        return await self._run(  # type: ignore[no-any-return]
            "activate_user", operation_input(user_id=user_id, date_time=date_time)
        )

    async def suspend_user(self, *, user_id: str, date_time: Optional[str] = None) -> User:
        """Suspends a user (now, or at ``date_time``)."""
        return await self._run(  # type: ignore[no-any-return]
            "suspend_user", operation_input(user_id=user_id, date_time=date_time)
        )

    async def get_user(self, *, user_id: str) -> User:
        """A user's status and dates."""
        return await self._run("get_user", {"user_id": user_id})  # type: ignore[no-any-return]

    async def update_user(self, *, user_id: str, new_user_id: Optional[str] = None, name: Optional[str] = None) -> User:
        """Renames a user and/or sets its display name."""
        return await self._run(  # type: ignore[no-any-return]
            "update_user", operation_input(user_id=user_id, new_user_id=new_user_id, name=name)
        )

    async def delete_user(self, *, user_id: str) -> User:
        """Deletes a user."""
        return await self._run("delete_user", {"user_id": user_id})  # type: ignore[no-any-return]

    async def invalidate_claim(self, *, token: str, reason: str) -> InvalidateResult:
        """Stops the SDK from starting or continuing with a token."""
        return await self._run(  # type: ignore[no-any-return]
            "invalidate_claim", {"token": token, "reason": reason}
        )

    async def availability(self) -> Availability:
        """Whether iProov's service is up for this key."""
        return await self._run("availability", {})  # type: ignore[no-any-return]
