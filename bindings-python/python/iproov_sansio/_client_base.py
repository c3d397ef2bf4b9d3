"""What the httpx and requests clients share: configuration from arguments or the environment,
and one sans-IO driver per call that yields "send this" / "sleep this long" and receives what
happened. Every decision in it comes from core: the request (build), the result or error
(parse), retries and backoff (the retry advisor), OAuth tokens (the token manager).

The HTTP libraries only send, sleep and say how a send failed: before the request left
(DNS, connect, TLS) or after it may have reached iProov (timeout or reset after sending).
"""

from __future__ import annotations

import os
from random import random
from time import time
from typing import (
    Any,
    AsyncIterator,
    Callable,
    Dict,
    Generator,
    Iterable,
    Mapping,
    NamedTuple,
    Optional,
    Sequence,
    Union,
)

from . import _core
from ._core import MAX_BODY_BYTES, Config, Request
from ._errors import IProovError
from ._errors import from_dict as error_from_dict
from ._flows import RetryPolicy, TokenManager, audit_record
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

#: Seconds a request may take (connect, write, read) unless the client is told otherwise.
DEFAULT_TIMEOUT = 10.0

#: Config field -> environment variable.
ENV_VARS = {
    "region": "IPROOV_REGION",
    "base_url": "IPROOV_BASE_URL",
    "api_key": "IPROOV_API_KEY",
    "secret": "IPROOV_SECRET",
    "oauth_username": "IPROOV_OAUTH_USERNAME",
    "oauth_password": "IPROOV_OAUTH_PASSWORD",
}

_parse = _core.parse

FAILED_BEFORE_SENDING = "failed_before_sending"
MAY_HAVE_REACHED_SERVER = "may_have_reached_server"

_NEEDS_TOKEN = frozenset(n for n in _core.operations() if _core.operation_info(n)["needs_access_token"])


def config_from_env(environ: Optional[Mapping[str, str]] = None, **given: Optional[str]) -> Config:
    """A :class:`Config` from keyword arguments (``region``, ``base_url``, ``api_key``,
    ``secret``, ``oauth_username``, ``oauth_password``, ``user_agent``), each credential not
    given read from its ``IPROOV_*`` variable (empty counts as unset). The target comes from
    the arguments when they name one (``region`` or ``base_url``), else from
    ``IPROOV_REGION`` / ``IPROOV_BASE_URL``."""
    env = os.environ if environ is None else environ
    fields: Dict[str, str] = {}
    target_given = given.get("region") is not None or given.get("base_url") is not None
    for key, var in ENV_VARS.items():
        value = given.get(key)
        if value is None and not (target_given and key in ("region", "base_url")):
            value = env.get(var) or None
        if value is not None:
            fields[key] = value
    if given.get("user_agent") is not None:
        fields["user_agent"] = str(given["user_agent"])
    return Config.from_dict(fields)


def now_ms() -> int:
    return int(time() * 1000)


def read_capped(chunks: Iterable[bytes]) -> bytes:
    """The body, read until it ends or passes core's cap (MAX_BODY_BYTES): core then answers
    ``body_too_large`` from the first cap + 1 bytes, and a hostile or broken server cannot
    make the client hold an unbounded body."""
    body = bytearray()
    for chunk in chunks:
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            break
    return bytes(body)


async def read_capped_async(chunks: AsyncIterator[bytes]) -> bytes:
    """:func:`read_capped` for an async stream of chunks."""
    body = bytearray()
    async for chunk in chunks:
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            break
    return bytes(body)


class Send(NamedTuple):
    """Send this request and report a :class:`Received` or a :class:`Failed`."""

    request: Request


class Sleep(NamedTuple):
    """Wait this many seconds, then report ``None``."""

    seconds: float


class Received(NamedTuple):
    status: int
    headers: Any
    body: bytes


class Failed(NamedTuple):
    """A send that raised: ``failure`` is FAILED_BEFORE_SENDING or MAY_HAVE_REACHED_SERVER;
    ``timeout`` says which transport error to raise if the advisor gives up."""

    exc: BaseException
    failure: str
    timeout: bool


Action = Union[Send, Sleep]
Outcome = Union[Received, Failed, None]
Driver = Generator[Action, Outcome, Any]


class Core:
    """One client's configuration, retry advisor, token manager and audit hook, and the
    driver of every call. Shared by the sync and async clients."""

    def __init__(
        self,
        config: Config,
        retry: Optional[RetryPolicy],
        tokens: Optional[TokenManager],
        audit: Optional[Callable[[Dict[str, Any]], None]],
    ) -> None:
        self.config = config
        self.retry = retry if retry is not None else RetryPolicy()
        self.tokens = tokens if tokens is not None else TokenManager()
        self.audit = audit

    @staticmethod
    def needs_token(operation: str) -> bool:
        return operation in _NEEDS_TOKEN

    def call(self, operation: str, input: Dict[str, Any]) -> Driver:
        """The whole call: build, send (with the advised retries), parse; the users API through
        the token manager. Returns the typed result or raises the typed error."""
        try:
            if self.needs_token(operation):
                result = yield from self._managed(operation, input)
            else:
                if operation == "enrol_image":
                    request = _core.build_enrol_image_bytes(self.config, **input)
                else:
                    request = _core.build(operation, self.config, input)
                received = yield from self.exchange(operation, request)
                result = self.parse(operation, received)
        except IProovError as error:
            self._audit(operation, input, error=error)
            raise
        self._audit(operation, input, result=result)
        return result

    def parse(self, operation: str, received: Received) -> Result:
        result: Result = RESULT_TYPES[operation]._wrap(
            _parse(operation, self.config, received.status, received.headers, received.body)
        )
        return result

    def exchange(self, operation: str, request: Request) -> Generator[Action, Outcome, Received]:
        """Sends ``request`` until core's retry advisor says to stop; returns the response to
        parse. (The advisor is called directly, without wrapping its answer: this runs on every
        call.)"""
        advise = self.retry._advisor.advise
        attempt = 1
        while True:
            outcome = yield Send(request)
            if isinstance(outcome, Received):
                advice = advise(operation, attempt, now_ms(), random(), outcome.status, outcome.headers, None)
            elif isinstance(outcome, Failed):
                advice = advise(operation, attempt, now_ms(), random(), None, None, outcome.failure)
            else:  # pragma: no cover - the runners always report an outcome
                raise RuntimeError("the transport reported nothing")
            action = advice["action"]
            if action == "retry_at":
                yield Sleep(advice["delay_ms"] / 1000.0)
                attempt += 1
                continue
            if action == "outcome_unknown":
                cause = outcome.exc if isinstance(outcome, Failed) else None
                raise error_from_dict(advice["error"]) from cause
            if isinstance(outcome, Failed):  # give_up on a transport failure
                make = _core.timeout_error if outcome.timeout else _core.connection_error
                raise make(f"{type(outcome.exc).__name__}: {outcome.exc}") from outcome.exc
            return outcome

    def _managed(self, operation: str, input: Dict[str, Any]) -> Driver:
        """A users call: the token manager authorizes it (fetching a token when it says so) and
        says whether a rejection is retried with a new token (once) or surfaced."""
        while True:
            step = self.tokens.prepare(self.config, operation, input, now_ms())
            if step.action == "need_token":
                received = yield from self.exchange("access_token", step.request)
                self.tokens.accept_token(self.config, received.status, received.headers, received.body, now_ms())
                continue
            received = yield from self.exchange(operation, step.request)
            check = self.tokens.on_response(received.status, received.headers, received.body)
            if check.action == "retry_with_new_token":
                continue
            if check.error is not None:
                raise check.error
            return self.parse(operation, received)

    def _audit(self, operation: str, input: Mapping[str, Any], **outcome: Any) -> None:
        if self.audit is None:
            return
        record = audit_record(
            operation,
            now_ms(),
            config=self.config,
            user_id=input.get("user_id"),
            token=input.get("token"),
            **outcome,
        )
        self.audit(record)


def operation_input(**fields: Any) -> Dict[str, Any]:
    """The call's input with the arguments not given left out (core: absent = not given)."""
    return {k: v for k, v in fields.items() if v is not None}


class SyncOperations:
    """One method per operation, for the synchronous clients (``_run`` drives the call)."""

    def _run(self, operation: str, input: Dict[str, Any]) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def enrol_token(
        self,
        *,
        user_id: str,
        resource: str,
        assurance_type: Optional[str] = None,
        risk_profile: Optional[str] = None,
    ) -> ClaimToken:
        """An enrol claim token for a user who is not enrolled yet."""
        return self._run(  # type: ignore[no-any-return]
            "enrol_token",
            operation_input(
                user_id=user_id, resource=resource, assurance_type=assurance_type, risk_profile=risk_profile
            ),
        )

    def verify_token(
        self,
        *,
        user_id: str,
        resource: str,
        assurance_type: Optional[str] = None,
        risk_profile: Optional[str] = None,
    ) -> ClaimToken:
        """A verify claim token for an enrolled, active user."""
        return self._run(  # type: ignore[no-any-return]
            "verify_token",
            operation_input(
                user_id=user_id, resource=resource, assurance_type=assurance_type, risk_profile=risk_profile
            ),
        )

    def enrol_image(self, *, token: str, source: str, image: bytes, rotation: Optional[int] = None) -> EnrolImageResult:
        """Photo enrol: registers a trusted image (PNG, JPEG, JPEG 2000) against an enrol token."""
        return self._run(  # type: ignore[no-any-return]
            "enrol_image", {"token": token, "source": source, "image": image, "rotation": rotation}
        )

    def enrol_validate(
        self,
        *,
        user_id: str,
        token: str,
        client: str,
        risk_profile: Optional[str] = None,
        activate: Optional[bool] = None,
    ) -> ValidateResult:
        """The enrol outcome, once per token (never retried once it may have reached iProov)."""
        return self._run(  # type: ignore[no-any-return]
            "enrol_validate",
            operation_input(user_id=user_id, token=token, client=client, risk_profile=risk_profile, activate=activate),
        )

    def verify_validate(
        self, *, user_id: str, token: str, client: str, risk_profile: Optional[str] = None
    ) -> ValidateResult:
        """The verify outcome, once per token (never retried once it may have reached iProov)."""
        return self._run(  # type: ignore[no-any-return]
            "verify_validate",
            operation_input(user_id=user_id, token=token, client=client, risk_profile=risk_profile),
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

    async def _run(self, operation: str, input: Dict[str, Any]) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    async def enrol_token(
        self,
        *,
        user_id: str,
        resource: str,
        assurance_type: Optional[str] = None,
        risk_profile: Optional[str] = None,
    ) -> ClaimToken:
        """An enrol claim token for a user who is not enrolled yet."""
        return await self._run(  # type: ignore[no-any-return]
            "enrol_token",
            operation_input(
                user_id=user_id, resource=resource, assurance_type=assurance_type, risk_profile=risk_profile
            ),
        )

    async def verify_token(
        self,
        *,
        user_id: str,
        resource: str,
        assurance_type: Optional[str] = None,
        risk_profile: Optional[str] = None,
    ) -> ClaimToken:
        """A verify claim token for an enrolled, active user."""
        return await self._run(  # type: ignore[no-any-return]
            "verify_token",
            operation_input(
                user_id=user_id, resource=resource, assurance_type=assurance_type, risk_profile=risk_profile
            ),
        )

    async def enrol_image(
        self, *, token: str, source: str, image: bytes, rotation: Optional[int] = None
    ) -> EnrolImageResult:
        """Photo enrol: registers a trusted image (PNG, JPEG, JPEG 2000) against an enrol token."""
        return await self._run(  # type: ignore[no-any-return]
            "enrol_image", {"token": token, "source": source, "image": image, "rotation": rotation}
        )

    async def enrol_validate(
        self,
        *,
        user_id: str,
        token: str,
        client: str,
        risk_profile: Optional[str] = None,
        activate: Optional[bool] = None,
    ) -> ValidateResult:
        """The enrol outcome, once per token (never retried once it may have reached iProov)."""
        return await self._run(  # type: ignore[no-any-return]
            "enrol_validate",
            operation_input(user_id=user_id, token=token, client=client, risk_profile=risk_profile, activate=activate),
        )

    async def verify_validate(
        self, *, user_id: str, token: str, client: str, risk_profile: Optional[str] = None
    ) -> ValidateResult:
        """The verify outcome, once per token (never retried once it may have reached iProov)."""
        return await self._run(  # type: ignore[no-any-return]
            "verify_validate",
            operation_input(user_id=user_id, token=token, client=client, risk_profile=risk_profile),
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


def drive_sync(driver: Driver, send: Callable[[Request], Outcome], sleep: Callable[[float], None]) -> Any:
    """Runs a driver with blocking IO."""
    outcome: Outcome = None
    try:
        action = next(driver)
        while True:
            if isinstance(action, Send):
                outcome = send(action.request)
            else:
                sleep(action.seconds)
                outcome = None
            action = driver.send(outcome)
    except StopIteration as done:
        return done.value


def redacted_repr(kind: str, config: Config, timeout: float) -> str:
    return f"{kind}(config={config!r}, timeout={timeout!r})"

