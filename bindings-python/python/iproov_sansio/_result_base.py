"""What every result class shares (the classes themselves are generated: ``_results.py``).

A result keeps the canonical dict core produced; its typed attributes read from it, and
:meth:`to_dict` returns a deep copy. Results cannot be changed after creation; a credential
field (``_secret``) shows as ``[REDACTED]`` in ``repr``.
"""

from __future__ import annotations

import copy
from typing import Any, ClassVar, Dict, Mapping, Tuple, Type, TypeVar

from ._host import REDACTED
from ._errors import InvalidInputError

_R = TypeVar("_R", bound="_Result")
_new = object.__new__
_set = object.__setattr__


class _Result:
    """Base of every result: the canonical dict behind typed, read-only attributes."""

    __slots__ = ("_raw",)
    _raw: Dict[str, Any]
    #: Fields that must be present (the rest are optional and absent when not given).
    _required: ClassVar[Tuple[str, ...]] = ()
    #: Fields shown by ``repr``, in order (large ones are left out).
    _shown: ClassVar[Tuple[str, ...]] = ()
    #: Credentials among them: shown as ``[REDACTED]``.
    _secret: ClassVar[Tuple[str, ...]] = ()

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
        shown = ", ".join(
            f"{key}={REDACTED if key in self._secret else repr(getattr(self, key))}"
            for key in self._shown
            if key in self._raw
        )
        return f"{type(self).__name__}({shown})"
