"""What every error class shares: :class:`IProovError`, core's canonical error dict behind
typed attributes (the families' classes are generated: ``_errors.py``)."""

from __future__ import annotations

import copy
from typing import Any, ClassVar, Dict, Mapping, Optional

__all__ = ["IProovError"]


def _opt_str(data: Mapping[str, Any], key: str) -> Optional[str]:
    value = data.get(key)
    return value if isinstance(value, str) else None


def _opt_int(data: Mapping[str, Any], key: str) -> Optional[int]:
    value = data.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


class IProovError(Exception):
    """Base of every error this package raises.

    ``code`` is the stable code (iProov's ``error`` value for API errors), ``status`` the HTTP
    status where a response was involved, ``message`` a sentence free of secrets, and
    :meth:`to_dict` gives core's canonical error JSON.
    """

    kind: ClassVar[str] = ""

    code: str
    status: Optional[int]
    message: str

    def __init__(self, data: Mapping[str, Any]) -> None:
        self._data: Dict[str, Any] = dict(data)
        self.code = str(self._data.get("code", ""))
        self.status = _opt_int(self._data, "status")
        self.message = str(self._data.get("message", self.code))
        super().__init__(self.message)

    def to_dict(self) -> Dict[str, Any]:
        """Core's canonical JSON of this error (``code``, ``status``?, ``kind``, ``message``, ...)."""
        return copy.deepcopy(self._data)

    @property
    def description(self) -> Optional[str]:
        """iProov's ``error_description``, when it gave one."""
        return _opt_str(self._data, "description")

    @property
    def operation(self) -> Optional[str]:
        """The operation whose response or request failed, when known."""
        return _opt_str(self._data, "operation")

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        status = f", status={self.status}" if self.status is not None else ""
        return f"{type(self).__name__}(code={self.code!r}{status}, message={self.message!r})"

    def __reduce__(self) -> Any:
        return (type(self), (self._data,))
