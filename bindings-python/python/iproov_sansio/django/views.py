"""The Django adapter: Django's request into :class:`~iproov_sansio.web.Incoming`, the shared
steps' needs answered (the body, ``request.user``, Django's CSRF check), the answer written as
it is. Every decision is core's (:mod:`iproov_sansio.web`); the service is made once per
process from ``settings.IPROOV``."""

from __future__ import annotations

import threading
from typing import Any, Callable, Dict, Optional

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.db import DEFAULT_DB_ALIAS
from django.db.transaction import non_atomic_requests
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import CsrfViewMiddleware, get_token
from django.utils.module_loading import import_string
from django.views.decorators.csrf import csrf_exempt

from .._errors import InvalidInputError
from .._ids import pseudonymous_user_id
from ..journeys import JourneyService
from ..web import Incoming, JourneyEndpoints
from .store import DjangoStore

__all__ = ["KEYS", "journey", "journey_service", "user_id"]

#: ``settings.IPROOV``'s keys (the package docs say what each is).
KEYS = frozenset({
    "REGION", "BASE_URL", "API_KEY", "SECRET", "OAUTH_USERNAME", "OAUTH_PASSWORD", "POLICY", "ALLOWED_ORIGINS",
    "FLOWS", "PAGE", "SDK_SCRIPT", "ASSETS_URL", "EMULATOR_URL", "VALIDATE_WAIT_S", "USER_ID", "USER_ID_SECRET",
    "DATABASE", "SPOOL",
})
_CLIENT_KEYS = {"REGION": "region", "BASE_URL": "base_url", "API_KEY": "api_key", "SECRET": "secret",
                "OAUTH_USERNAME": "oauth_username", "OAUTH_PASSWORD": "oauth_password"}
_CSRF = "django.middleware.csrf.CsrfViewMiddleware"

_lock = threading.Lock()
_made: Dict[str, Any] = {}


def _conf() -> Dict[str, Any]:
    conf = getattr(settings, "IPROOV", {})
    unknown = set(conf) - KEYS
    if unknown:
        raise ImproperlyConfigured(f"IPROOV has unknown keys {sorted(unknown)}; the keys: {sorted(KEYS)}")
    return dict(conf)


def _make() -> Dict[str, Any]:
    conf = _conf()
    try:
        from ..httpx import Client
    except ImportError:  # pragma: no cover - the [django] extra installs httpx
        from ..requests import Client  # type: ignore[assignment]
    client = Client(**{arg: conf.get(key) for key, arg in _CLIENT_KEYS.items()})
    store = DjangoStore(conf.get("DATABASE", DEFAULT_DB_ALIAS), spool_path=conf.get("SPOOL"))
    try:
        service = JourneyService(client, store, policy=conf.get("POLICY"))
    except InvalidInputError as error:
        if error.field == "spool":
            raise ImproperlyConfigured("IPROOV['SPOOL']: a local file path for the journey service's spool (one per "
                                       "instance), needed when the database is not an SQLite file") from error
        raise
    endpoints = JourneyEndpoints(
        service, allowed_origins=conf.get("ALLOWED_ORIGINS"), flows=conf.get("FLOWS"), page=conf.get("PAGE", True),
        emulator_url=conf.get("EMULATOR_URL"), validate_wait_s=conf.get("VALIDATE_WAIT_S"),
        sdk_script=conf.get("SDK_SCRIPT"), assets_url=conf.get("ASSETS_URL"))
    named = conf.get("USER_ID")
    of: Optional[Callable[[Any], Optional[str]]] = import_string(named) if isinstance(named, str) else named
    return {"client": client, "service": service, "endpoints": endpoints, "user_id": of,
            "secret": conf.get("USER_ID_SECRET") or settings.SECRET_KEY}


def _get() -> Dict[str, Any]:
    with _lock:
        if not _made:
            _made.update(_make())
        return _made


def _reset(setting: str, **kwargs: Any) -> None:
    if setting in ("IPROOV", "DATABASES", "SECRET_KEY"):
        with _lock:
            if "client" in _made:
                _made["client"].close()
            _made.clear()


setting_changed.connect(_reset)


def journey_service() -> JourneyService:
    """The project's journey service (``settings.IPROOV``), for your own code: ``history``,
    ``forget``, ``delete_expired``. Call it outside ``transaction.atomic``."""
    service: JourneyService = _get()["service"]
    return service


def user_id(request: HttpRequest) -> Optional[str]:
    """The iProov user_id of ``request.user``: ``IPROOV["USER_ID"](user)``, by default core's
    pseudonymous id of the user's pk under ``USER_ID_SECRET``; ``None`` when anonymous."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return None
    made = _get()
    if made["user_id"] is not None:
        named: Optional[str] = made["user_id"](user)
        return named
    return pseudonymous_user_id(made["secret"], str(user.pk))


def _csrf(request: HttpRequest) -> Optional[HttpResponse]:
    """Django's own CSRF check, when the project has it on: ``None``, or its failure view."""
    if _CSRF not in settings.MIDDLEWARE:
        return None
    checked: Optional[HttpResponse] = CsrfViewMiddleware(lambda r: HttpResponse()).process_view(request, _checked, (), {})
    return checked


def _checked(request: HttpRequest) -> HttpResponse:  # pragma: no cover - only named to the CSRF check
    """A view that is not CSRF-exempt, for Django's check (the real one runs it itself)."""
    return HttpResponse()


@csrf_exempt  # Django's CSRF check runs inside, after core's origin check (which answers first)
def journey(request: HttpRequest, rest: str = "") -> HttpResponse:
    """Every path under the mount point: core's route table decides."""
    endpoints: JourneyEndpoints = _get()["endpoints"]
    incoming = Incoming(
        method=request.method or "GET",
        path="/" + rest,
        origin=request.headers.get("Origin"),
        own_origin=f"{request.scheme}://{request.get_host()}",
        content_type=request.META.get("CONTENT_TYPE"),
        user_agent=request.headers.get("User-Agent"),
    )
    answer = endpoints.serve(incoming, read_body=request.read, resolve_user=lambda: user_id(request),
                             guard=lambda: _csrf(request))
    response = HttpResponse(answer.body, status=answer.status)
    for name, value in answer.headers.items():
        response[name] = value
    if incoming.path == "/" and answer.status == 200:
        get_token(request)  # the page's CSRF cookie (CsrfViewMiddleware sets it)
    return response


# Each store write must commit when made: no ATOMIC_REQUESTS transaction, on any database.
for _alias in settings.DATABASES:
    journey = non_atomic_requests(using=_alias)(journey)
