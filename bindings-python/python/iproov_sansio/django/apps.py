"""The app's configuration and its system checks."""

from __future__ import annotations

from typing import Any, List

from django.apps import AppConfig
from django.conf import settings
from django.core import checks

_CSRF = "django.middleware.csrf.CsrfViewMiddleware"


class IProovConfig(AppConfig):
    name = "iproov_sansio.django"
    label = "iproov"
    verbose_name = "iProov"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        checks.register(check_settings)


def check_settings(app_configs: Any = None, **kwargs: Any) -> List[checks.CheckMessage]:
    """``IPROOV``'s keys, and a CSRF cookie the page can send back (when CSRF is on)."""
    from .views import KEYS

    found: List[checks.CheckMessage] = []
    conf = getattr(settings, "IPROOV", {})
    if not isinstance(conf, dict):
        return [checks.Error("IPROOV must be a dict", id="iproov.E001")]
    for key in sorted(set(conf) - KEYS):
        found.append(checks.Error(f"IPROOV has an unknown key {key!r}", hint=f"the keys: {', '.join(sorted(KEYS))}",
                                  id="iproov.E002"))
    csrf_readable = (not settings.CSRF_USE_SESSIONS and not settings.CSRF_COOKIE_HTTPONLY
                     and settings.CSRF_COOKIE_NAME == "csrftoken" and settings.CSRF_HEADER_NAME == "HTTP_X_CSRFTOKEN")
    if conf.get("PAGE", True) and _CSRF in settings.MIDDLEWARE and not csrf_readable:
        found.append(checks.Warning(
            "the iProov page reads Django's CSRF token from the 'csrftoken' cookie and sends it in X-CSRFToken: "
            "with CSRF_USE_SESSIONS, CSRF_COOKIE_HTTPONLY, or another cookie or header name its POSTs fail",
            hint="keep Django's CSRF cookie defaults, or serve your own page (IPROOV['PAGE'] = False)",
            id="iproov.W001"))
    return found
