"""iproov_sansio: the iProov REST API v2 for Python.

Every behaviour (input checks, wire formats, parsing, errors, retry and OAuth token rules) is
the Rust core's; this package converts. See README.md for the API.

The sans-IO functions, results and errors load with the package; regions, flows and the
client helpers load on first use (so that ``import iproov_sansio`` stays fast). The HTTP
clients live in ``iproov_sansio.httpx`` and ``iproov_sansio.requests``.
"""

from typing import TYPE_CHECKING, Any

from ._core import DEFAULT_USER_AGENT, MAX_BODY_BYTES, Config, Request, __version__
from ._errors import (
    AbortedError,
    ApiError,
    ConnectionError,
    DecodeError,
    InvalidInputError,
    InvalidKeyError,
    InvalidStateError,
    InvalidTokenError,
    IProovError,
    LimitExceededError,
    OAuthError,
    OutcomeUnknownError,
    RateLimitedError,
    ServerError,
    StoreUnavailableError,
    TimeoutError,
    TransportError,
)
from ._ops import (
    RESULT_TYPES,
    build,
    build_access_token,
    build_activate_user,
    build_availability,
    build_delete_user,
    build_enrol_image,
    build_enrol_token,
    build_enrol_validate,
    build_get_user,
    build_invalidate_claim,
    build_suspend_user,
    build_update_user,
    build_verify_token,
    build_verify_validate,
    parse,
    parse_access_token,
    parse_activate_user,
    parse_availability,
    parse_delete_user,
    parse_enrol_image,
    parse_enrol_token,
    parse_enrol_validate,
    parse_get_user,
    parse_invalidate_claim,
    parse_response,
    parse_suspend_user,
    parse_update_user,
    parse_verify_token,
    parse_verify_validate,
)
from ._results import (
    AccessToken,
    Availability,
    ClaimToken,
    EnrolImageResult,
    Fallback,
    FrameQuality,
    InvalidateResult,
    User,
    ValidateResult,
)

if TYPE_CHECKING:
    from ._client_base import DEFAULT_TIMEOUT, config_from_env
    from ._flows import (
        Advice,
        Journey,
        Next,
        ResponseCheck,
        RetryPolicy,
        TokenManager,
        TokenStatus,
        TokenStep,
        audit_record,
        wire_response,
    )
    from ._ids import (
        Region,
        UserIdWarning,
        check_user_id,
        lint_user_id,
        pseudonymous_user_id,
        random_user_id,
    )

_LAZY = {
    "DEFAULT_TIMEOUT": "._client_base",
    "config_from_env": "._client_base",
    "Advice": "._flows",
    "Journey": "._flows",
    "Next": "._flows",
    "ResponseCheck": "._flows",
    "RetryPolicy": "._flows",
    "TokenManager": "._flows",
    "TokenStatus": "._flows",
    "TokenStep": "._flows",
    "audit_record": "._flows",
    "wire_response": "._flows",
    "Region": "._ids",
    "UserIdWarning": "._ids",
    "check_user_id": "._ids",
    "lint_user_id": "._ids",
    "pseudonymous_user_id": "._ids",
    "random_user_id": "._ids",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'iproov_sansio' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> "list[str]":
    return sorted(__all__)


__all__ = [
    "__version__",
    "DEFAULT_USER_AGENT",
    "MAX_BODY_BYTES",
    "DEFAULT_TIMEOUT",
    "Config",
    "config_from_env",
    "Request",
    "Region",
    "UserIdWarning",
    "check_user_id",
    "lint_user_id",
    "random_user_id",
    "pseudonymous_user_id",
    "IProovError",
    "InvalidInputError",
    "InvalidStateError",
    "ApiError",
    "InvalidKeyError",
    "RateLimitedError",
    "InvalidTokenError",
    "OAuthError",
    "ServerError",
    "DecodeError",
    "OutcomeUnknownError",
    "TransportError",
    "ConnectionError",
    "TimeoutError",
    "AbortedError",
    "LimitExceededError",
    "StoreUnavailableError",
    "Fallback",
    "ClaimToken",
    "EnrolImageResult",
    "FrameQuality",
    "ValidateResult",
    "AccessToken",
    "User",
    "InvalidateResult",
    "Availability",
    "RetryPolicy",
    "Advice",
    "TokenManager",
    "TokenStep",
    "TokenStatus",
    "ResponseCheck",
    "Journey",
    "Next",
    "audit_record",
    "wire_response",
    "RESULT_TYPES",
    "build",
    "parse",
    "parse_response",
    "build_enrol_token",
    "parse_enrol_token",
    "build_verify_token",
    "parse_verify_token",
    "build_enrol_image",
    "parse_enrol_image",
    "build_enrol_validate",
    "parse_enrol_validate",
    "build_verify_validate",
    "parse_verify_validate",
    "build_access_token",
    "parse_access_token",
    "build_activate_user",
    "parse_activate_user",
    "build_suspend_user",
    "parse_suspend_user",
    "build_get_user",
    "parse_get_user",
    "build_update_user",
    "parse_update_user",
    "build_delete_user",
    "parse_delete_user",
    "build_invalidate_claim",
    "parse_invalidate_claim",
    "build_availability",
    "parse_availability",
]
