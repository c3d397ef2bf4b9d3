"""The sans-IO API: one build and one parse function per operation, and the dynamic pair.

A build function returns a :class:`Request` to send with any HTTP client; a parse function
takes what came back (status, headers, body bytes) and returns a typed result or raises the
typed error. Nothing here opens a socket.
"""

from __future__ import annotations

from typing import Any, Dict, Mapping, Optional, Sequence, Tuple, Type, Union

from . import _core
from ._core import Config, Request
from ._results import (
    AccessToken,
    Availability,
    ClaimToken,
    EnrolImageResult,
    InvalidateResult,
    User,
    ValidateResult,
)

__all__ = [
    "Headers",
    "Result",
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

#: Response headers: a mapping (httpx/requests headers objects included) or (name, value)
#: pairs of str or of raw bytes (httpx's ``headers.raw``).
Headers = Union[Mapping[str, str], Sequence[Tuple[str, str]], Sequence[Tuple[bytes, bytes]], None]
#: Any typed result.
Result = Union[
    ClaimToken, EnrolImageResult, ValidateResult, AccessToken, User, InvalidateResult, Availability
]
#: ConfigLike: a Config, or a dict in the vector format.
ConfigLike = Union[Config, Mapping[str, Any]]

#: The result type each operation's parse gives.
RESULT_TYPES: Dict[str, Type[Any]] = {
    "enrol_token": ClaimToken,
    "verify_token": ClaimToken,
    "enrol_image": EnrolImageResult,
    "enrol_validate": ValidateResult,
    "verify_validate": ValidateResult,
    "access_token": AccessToken,
    "activate_user": User,
    "suspend_user": User,
    "get_user": User,
    "update_user": User,
    "delete_user": User,
    "invalidate_claim": InvalidateResult,
    "availability": Availability,
}

_parse = _core.parse


def build(operation: str, config: ConfigLike, input: Optional[Mapping[str, Any]] = None) -> Request:
    """Builds ``operation``'s request from vector-format ``config`` and ``input`` dicts."""
    return _core.build(operation, config, input)


def parse_response(
    operation: str,
    config: ConfigLike,
    status: int,
    headers: Headers = None,
    body: bytes = b"",
) -> Result:
    """Parses a response of ``operation`` into its typed result (or raises the typed error)."""
    data = _parse(operation, config, status, headers, body)
    result: Result = RESULT_TYPES[operation]._wrap(data)
    return result


def parse(operation: str, config: ConfigLike, response: Mapping[str, Any]) -> Result:
    """Parses a vector-format response dict (``status``, ``headers``, ``body`` or ``body_base64``)."""
    body: Union[bytes, str] = b""
    if response.get("body") is not None:
        body = response["body"]
    elif response.get("body_base64") is not None:
        import base64

        body = base64.b64decode(response["body_base64"])
    return parse_response(operation, config, response.get("status"), response.get("headers"), body)  # type: ignore[arg-type]


# --- claim tokens -------------------------------------------------------------------------


def build_enrol_token(
    config: ConfigLike,
    *,
    user_id: str,
    resource: str,
    assurance_type: Optional[str] = None,
    risk_profile: Optional[str] = None,
) -> Request:
    """``POST /claim/enrol/token`` for a user who is not enrolled yet."""
    return _core.build(
        "enrol_token",
        config,
        {
            "user_id": user_id,
            "resource": resource,
            "assurance_type": assurance_type,
            "risk_profile": risk_profile,
        },
    )


def parse_enrol_token(config: ConfigLike, status: int, headers: Headers = None, body: bytes = b"") -> ClaimToken:
    """Reads the enrol token answer."""
    return ClaimToken._wrap(_parse("enrol_token", config, status, headers, body))


def build_verify_token(
    config: ConfigLike,
    *,
    user_id: str,
    resource: str,
    assurance_type: Optional[str] = None,
    risk_profile: Optional[str] = None,
) -> Request:
    """``POST /claim/verify/token`` for an enrolled, active user."""
    return _core.build(
        "verify_token",
        config,
        {
            "user_id": user_id,
            "resource": resource,
            "assurance_type": assurance_type,
            "risk_profile": risk_profile,
        },
    )


def parse_verify_token(config: ConfigLike, status: int, headers: Headers = None, body: bytes = b"") -> ClaimToken:
    """Reads the verify token answer."""
    return ClaimToken._wrap(_parse("verify_token", config, status, headers, body))


# --- photo enrol --------------------------------------------------------------------------


def build_enrol_image(
    config: ConfigLike,
    *,
    token: str,
    source: str,
    image: bytes,
    rotation: Optional[int] = None,
) -> Request:
    """Multipart ``POST /claim/enrol/image`` (PNG, JPEG or JPEG 2000, at most 2 MB)."""
    return _core.build_enrol_image_bytes(config, token=token, source=source, image=image, rotation=rotation)


def parse_enrol_image(
    config: ConfigLike, status: int, headers: Headers = None, body: bytes = b""
) -> EnrolImageResult:
    """Reads the photo enrol answer."""
    return EnrolImageResult._wrap(_parse("enrol_image", config, status, headers, body))


# --- validate -----------------------------------------------------------------------------


def build_enrol_validate(
    config: ConfigLike,
    *,
    user_id: str,
    token: str,
    client: str,
    risk_profile: Optional[str] = None,
    activate: Optional[bool] = None,
) -> Request:
    """``POST /claim/enrol/validate``. Send it once per token: never retry it."""
    return _core.build(
        "enrol_validate",
        config,
        {
            "user_id": user_id,
            "token": token,
            "client": client,
            "risk_profile": risk_profile,
            "activate": activate,
        },
    )


def parse_enrol_validate(
    config: ConfigLike, status: int, headers: Headers = None, body: bytes = b""
) -> ValidateResult:
    """Reads the enrol validate answer (``passed=False`` is a result)."""
    return ValidateResult._wrap(_parse("enrol_validate", config, status, headers, body))


def build_verify_validate(
    config: ConfigLike,
    *,
    user_id: str,
    token: str,
    client: str,
    risk_profile: Optional[str] = None,
) -> Request:
    """``POST /claim/verify/validate``. Send it once per token: never retry it."""
    return _core.build(
        "verify_validate",
        config,
        {"user_id": user_id, "token": token, "client": client, "risk_profile": risk_profile},
    )


def parse_verify_validate(
    config: ConfigLike, status: int, headers: Headers = None, body: bytes = b""
) -> ValidateResult:
    """Reads the verify validate answer (``passed=False`` is a result)."""
    return ValidateResult._wrap(_parse("verify_validate", config, status, headers, body))


# --- OAuth --------------------------------------------------------------------------------


def build_access_token(config: ConfigLike, *, scope: Optional[Sequence[str]] = None) -> Request:
    """``POST /{api_key}/access_token`` (Basic auth with the OAuth credentials)."""
    return _core.build("access_token", config, {"scope": None if scope is None else list(scope)})


def parse_access_token(config: ConfigLike, status: int, headers: Headers = None, body: bytes = b"") -> AccessToken:
    """Reads the access token answer."""
    return AccessToken._wrap(_parse("access_token", config, status, headers, body))


# --- users (need config.access_token; the clients use the token manager) -------------------


def build_activate_user(config: ConfigLike, *, user_id: str, date_time: Optional[str] = None) -> Request:
    """``POST /users/{user_id}/activate``."""
    return _core.build("activate_user", config, {"user_id": user_id, "date_time": date_time})


def parse_activate_user(config: ConfigLike, status: int, headers: Headers = None, body: bytes = b"") -> User:
    """Reads the activate answer."""
    return User._wrap(_parse("activate_user", config, status, headers, body))


def build_suspend_user(config: ConfigLike, *, user_id: str, date_time: Optional[str] = None) -> Request:
    """``POST /users/{user_id}/suspend``."""
    return _core.build("suspend_user", config, {"user_id": user_id, "date_time": date_time})


def parse_suspend_user(config: ConfigLike, status: int, headers: Headers = None, body: bytes = b"") -> User:
    """Reads the suspend answer."""
    return User._wrap(_parse("suspend_user", config, status, headers, body))


def build_get_user(config: ConfigLike, *, user_id: str) -> Request:
    """``GET /users/{user_id}``."""
    return _core.build("get_user", config, {"user_id": user_id})


def parse_get_user(config: ConfigLike, status: int, headers: Headers = None, body: bytes = b"") -> User:
    """Reads the get user answer."""
    return User._wrap(_parse("get_user", config, status, headers, body))


def build_update_user(
    config: ConfigLike,
    *,
    user_id: str,
    new_user_id: Optional[str] = None,
    name: Optional[str] = None,
) -> Request:
    """``PUT /users/{user_id}`` with a new user_id, a display name, or both."""
    return _core.build(
        "update_user", config, {"user_id": user_id, "new_user_id": new_user_id, "name": name}
    )


def parse_update_user(config: ConfigLike, status: int, headers: Headers = None, body: bytes = b"") -> User:
    """Reads the update answer."""
    return User._wrap(_parse("update_user", config, status, headers, body))


def build_delete_user(config: ConfigLike, *, user_id: str) -> Request:
    """``DELETE /users/{user_id}``."""
    return _core.build("delete_user", config, {"user_id": user_id})


def parse_delete_user(config: ConfigLike, status: int, headers: Headers = None, body: bytes = b"") -> User:
    """Reads the delete answer."""
    return User._wrap(_parse("delete_user", config, status, headers, body))


# --- invalidate, availability ---------------------------------------------------------------


def build_invalidate_claim(config: ConfigLike, *, token: str, reason: str) -> Request:
    """``POST /claim/{token}/invalidate``."""
    return _core.build("invalidate_claim", config, {"token": token, "reason": reason})


def parse_invalidate_claim(
    config: ConfigLike, status: int, headers: Headers = None, body: bytes = b""
) -> InvalidateResult:
    """Reads the invalidate answer."""
    return InvalidateResult._wrap(_parse("invalidate_claim", config, status, headers, body))


def build_availability(config: ConfigLike) -> Request:
    """``GET /availability?api_key=...``."""
    return _core.build("availability", config, None)


def parse_availability(config: ConfigLike, status: int, headers: Headers = None, body: bytes = b"") -> Availability:
    """Reads the availability answer."""
    return Availability._wrap(_parse("availability", config, status, headers, body))
