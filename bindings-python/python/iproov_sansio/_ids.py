"""Regions, the user_id check and lint, and generated user IDs (random bytes from the OS)."""

from __future__ import annotations

import json
import secrets
from enum import Enum
from typing import Any, Dict, List, NamedTuple

from . import _core
from ._host import _refused

__all__ = [
    "Region",
    "UserIdWarning",
    "check_user_id",
    "lint_user_id",
    "random_user_id",
    "pseudonymous_user_id",
]


class Region(str, Enum):
    """iProov's regional platforms. A service provider's keys work in its own region only."""

    EU = "eu"
    US = "us"
    SG = "sg"
    AU = "au"
    JKT = "jkt"
    LATAM = "latam"

    @classmethod
    def parse(cls, name: str) -> Region:
        """A region from any usual spelling (``eu``, ``EU``, ``Europe``, its host, ...)."""
        return cls(_region(name)["id"])

    @property
    def base_url(self) -> str:
        """The REST base URL, ending in ``/api/v2``."""
        return str(_region(self.value)["base_url"])

    @property
    def streaming_url(self) -> str:
        """The SDK streaming (wss) URL the front end must use with this region's tokens."""
        return str(_region(self.value)["streaming_url"])

    def __str__(self) -> str:
        return self.value


def _region(name: Any) -> Dict[str, Any]:
    region: Dict[str, Any] = json.loads(_core.region(_str(name, "region")))
    return region


def _str(value: Any, field: str) -> str:
    if isinstance(value, str):
        return value
    raise _refused(field, f"must be a str, not {type(value).__name__}")


class UserIdWarning(NamedTuple):
    """Why a user_id looks like personal data (``looks_like_email``, ``looks_like_phone_number``,
    ``looks_sequential``) and what to do instead."""

    code: str
    message: str


def check_user_id(user_id: str) -> None:
    """Raises ``InvalidInputError`` unless ``user_id`` fully matches iProov's pattern."""
    _core.check_user_id("user_id", _str(user_id, "user_id"))


def lint_user_id(user_id: str) -> List[UserIdWarning]:
    """Warnings (never errors) when ``user_id`` looks like personal data or a guessable counter."""
    return [UserIdWarning(w["code"], w["message"]) for w in json.loads(_core.lint_user_id(_str(user_id, "user_id")))]


def random_user_id() -> str:
    """A random, non-identifying user ID (UUID v4 from the OS's secure random source)."""
    return _core.random_user_id(secrets.token_bytes(16))


def pseudonymous_user_id(host_secret: str, internal_key: str) -> str:
    """A stable pseudonymous user ID: HMAC-SHA-256 of your internal key under ``host_secret``
    (at least 16 bytes; keep it stable, changing it orphans every enrolled user)."""
    return _core.pseudonymous_user_id(_str(host_secret, "host_secret"), _str(internal_key, "internal_key"))
