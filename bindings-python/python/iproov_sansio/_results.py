"""Typed, immutable results, each wrapping (and giving back) core's canonical JSON.

A result keeps the canonical dict core produced; its typed attributes read from it, and
:meth:`to_dict` returns a deep copy. Results cannot be changed after creation.
"""

from __future__ import annotations

import copy
from typing import Any, ClassVar, Dict, Mapping, Optional, Tuple, Type, TypeVar

from ._core import REDACTED
from ._errors import InvalidInputError

__all__ = [
    "Fallback",
    "ClaimToken",
    "EnrolImageResult",
    "FrameQuality",
    "ValidateResult",
    "AccessToken",
    "User",
    "InvalidateResult",
    "Availability",
]

_R = TypeVar("_R", bound="_Result")
_new = object.__new__
_set = object.__setattr__


def _str(raw: Dict[str, Any], key: str) -> Optional[str]:
    return raw.get(key)  # core's canonical JSON: a str or absent


def _bool(raw: Dict[str, Any], key: str) -> Optional[bool]:
    return raw.get(key)  # a bool or absent


def _int(raw: Dict[str, Any], key: str) -> Optional[int]:
    return raw.get(key)  # an int or absent



class _Result:
    """Base of every result: the canonical dict behind typed, read-only attributes."""

    __slots__ = ("_raw",)
    _raw: Dict[str, Any]
    #: Fields that must be present (the rest are optional and absent when not given).
    _required: ClassVar[Tuple[str, ...]] = ()
    #: Fields shown by ``repr`` (large or secret ones are left out).
    _shown: ClassVar[Tuple[str, ...]] = ()

    def __init__(self, data: Mapping[str, Any]) -> None:
        for key in self._required:
            if key not in data:
                raise InvalidInputError(
                    {
                        "code": "invalid_input",
                        "kind": "invalid_input",
                        "field": key,
                        "message": f"invalid {key}: a {type(self).__name__} needs it",
                    }
                )
        _set(self, "_raw", dict(data))

    @classmethod
    def from_dict(cls: Type[_R], data: Mapping[str, Any]) -> _R:
        """The result for a canonical dict (as :meth:`to_dict` gives, or core's parse)."""
        return cls(data)

    @classmethod
    def _wrap(cls: Type[_R], data: Dict[str, Any]) -> _R:
        """Wraps a dict core just produced (no copy, no check: core guarantees the shape)."""
        result = _new(cls)
        _set(result, "_raw", data)
        return result

    def to_dict(self) -> Dict[str, Any]:
        """Core's canonical JSON of this result (absent optional fields are absent)."""
        return copy.deepcopy(self._raw)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable")

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self._raw == other._raw

    __hash__ = None  # type: ignore[assignment]  # results hold lists and dicts

    def __reduce__(self) -> Any:
        return (type(self), (self._raw,))

    def __repr__(self) -> str:
        shown = ", ".join(f"{key}={getattr(self, key)!r}" for key in self._shown if key in self._raw)
        return f"{type(self).__name__}({shown})"


class Fallback(_Result):
    """User-facing fallback information of a claim."""

    __slots__ = ()
    _shown = ("type", "message")

    @property
    def type(self) -> Optional[str]:
        return _str(self._raw, "type")

    @property
    def message(self) -> Optional[str]:
        return _str(self._raw, "message")


class ClaimToken(_Result):
    """A claim token for one attempt (enrol or verify token). Hand ``token`` to the SDK."""

    __slots__ = ()
    _required = ("token",)
    _shown = ("token", "fallback", "primary", "user_id", "pod", "risk_profile", "redirect_domain")

    @property
    def token(self) -> str:
        return self._raw["token"]  # type: ignore[no-any-return]

    @property
    def fallback(self) -> Optional[Tuple[Fallback, ...]]:
        items = self._raw.get("fallback")
        return None if items is None else tuple(Fallback._wrap(dict(f)) for f in items)

    @property
    def primary(self) -> Optional[str]:
        return _str(self._raw, "primary")

    @property
    def user_id(self) -> Optional[str]:
        return _str(self._raw, "user_id")

    @property
    def pod(self) -> Optional[str]:
        return _str(self._raw, "pod")

    @property
    def risk_profile(self) -> Optional[str]:
        return _str(self._raw, "risk_profile")

    @property
    def redirect_domain(self) -> Optional[str]:
        return _str(self._raw, "redirect_domain")


class EnrolImageResult(_Result):
    """The answer to a photo enrol."""

    __slots__ = ()
    _required = ("success",)
    _shown = ("success", "token", "user_id")

    @property
    def success(self) -> bool:
        return self._raw["success"]  # type: ignore[no-any-return]

    @property
    def token(self) -> Optional[str]:
        return _str(self._raw, "token")

    @property
    def user_id(self) -> Optional[str]:
        return _str(self._raw, "user_id")


class FrameQuality(_Result):
    """Image-quality signals of a validate (``not_available``, ``Good``, ``Acceptable``, ``Poor``)."""

    __slots__ = ()
    _shown = ("blur", "pose", "lighting")

    @property
    def blur(self) -> Optional[str]:
        return _str(self._raw, "blur")

    @property
    def pose(self) -> Optional[str]:
        return _str(self._raw, "pose")

    @property
    def lighting(self) -> Optional[str]:
        return _str(self._raw, "lighting")


class ValidateResult(_Result):
    """The authoritative outcome of a validate. ``passed=False`` is a result, not an error."""

    __slots__ = ()
    _required = ("passed",)
    _shown = ("passed", "token", "type", "frame_available", "reason", "risk_profile", "assurance_type")

    @property
    def passed(self) -> bool:
        return self._raw["passed"]  # type: ignore[no-any-return]

    @property
    def token(self) -> Optional[str]:
        return _str(self._raw, "token")

    @property
    def type(self) -> Optional[str]:
        """``enrol`` or ``verify``."""
        return _str(self._raw, "type")

    @property
    def frame_available(self) -> Optional[bool]:
        return _bool(self._raw, "frame_available")

    @property
    def frame(self) -> Optional[str]:
        """The captured frame, base64 PNG (left out of ``repr``)."""
        return _str(self._raw, "frame")

    @property
    def frame_jpeg(self) -> Optional[str]:
        return _str(self._raw, "frame_jpeg")

    @property
    def iso_19794_5(self) -> Optional[str]:
        return _str(self._raw, "iso_19794_5")

    @property
    def reason(self) -> Optional[str]:
        return _str(self._raw, "reason")

    @property
    def risk_profile(self) -> Optional[str]:
        return _str(self._raw, "risk_profile")

    @property
    def assurance_type(self) -> Optional[str]:
        return _str(self._raw, "assurance_type")

    @property
    def signals(self) -> Optional[Dict[str, Any]]:
        """The signals object, verbatim (a copy)."""
        signals = self._raw.get("signals")
        return None if signals is None else copy.deepcopy(signals)

    @property
    def return_frame_quality(self) -> Optional[FrameQuality]:
        quality = self._raw.get("return_frame_quality")
        return None if quality is None else FrameQuality._wrap(dict(quality))


class AccessToken(_Result):
    """An OAuth access token. Its ``repr`` never shows the token."""

    __slots__ = ()
    _required = ("access_token",)
    _shown = ("token_type", "expires_in", "scope")

    @property
    def access_token(self) -> str:
        return self._raw["access_token"]  # type: ignore[no-any-return]

    @property
    def token_type(self) -> Optional[str]:
        return _str(self._raw, "token_type")

    @property
    def expires_in(self) -> Optional[int]:
        return _int(self._raw, "expires_in")

    @property
    def scope(self) -> Optional[Tuple[str, ...]]:
        scope = self._raw.get("scope")
        return None if scope is None else tuple(scope)

    def __repr__(self) -> str:
        return "AccessToken(access_token=" + REDACTED + ", " + super().__repr__()[len("AccessToken(") :]


class User(_Result):
    """A user as iProov reports it; ``status`` is lowercase (``active``, ``suspended``, ...)."""

    __slots__ = ()
    _required = ("user_id", "status")
    _shown = ("user_id", "status", "name", "suspension_date", "activation_date")

    @property
    def user_id(self) -> str:
        return self._raw["user_id"]  # type: ignore[no-any-return]

    @property
    def status(self) -> str:
        return self._raw["status"]  # type: ignore[no-any-return]

    @property
    def name(self) -> Optional[str]:
        return _str(self._raw, "name")

    @property
    def suspension_date(self) -> Optional[str]:
        return _str(self._raw, "suspension_date")

    @property
    def activation_date(self) -> Optional[str]:
        return _str(self._raw, "activation_date")


class InvalidateResult(_Result):
    """The answer to invalidate."""

    __slots__ = ()
    _required = ("claim_aborted",)
    _shown = ("claim_aborted", "user_informed")

    @property
    def claim_aborted(self) -> bool:
        return self._raw["claim_aborted"]  # type: ignore[no-any-return]

    @property
    def user_informed(self) -> Optional[bool]:
        return _bool(self._raw, "user_informed")


class Availability(_Result):
    """Whether iProov's service is up for this key."""

    __slots__ = ()
    _required = ("up",)
    _shown = ("up",)

    @property
    def up(self) -> bool:
        return self._raw["up"]  # type: ignore[no-any-return]
