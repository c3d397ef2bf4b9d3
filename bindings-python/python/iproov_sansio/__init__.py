"""iproov_sansio: the iProov REST API v2 for Python.

Every behaviour (input checks, wire formats, parsing, errors, retry and OAuth token rules) is
the Rust core's; this package converts. See README.md for the API.

The sans-IO functions, results and errors load with the package; regions, flows and the
client helpers load on first use (so that ``import iproov_sansio`` stays fast). The HTTP
clients live in ``iproov_sansio.httpx`` and ``iproov_sansio.requests``.
"""

from typing import TYPE_CHECKING, Any

from . import _errors, _ops, _results, _sansio
from ._host import DEFAULT_USER_AGENT, MAX_BODY_BYTES, Config, Request, __version__

# The errors, results and per-operation functions are generated from core's tables (each
# module's __all__ is the list): an operation or an error family core adds appears here.
from ._errors import *  # noqa: F403
from ._ops import *  # noqa: F403
from ._results import *  # noqa: F403
from ._sansio import *  # noqa: F403

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
]
__all__ += _errors.__all__
__all__ += _results.__all__
__all__ += _ops.__all__
__all__ += _sansio.__all__
