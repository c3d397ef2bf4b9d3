"""A Django project for the tests: this module is its settings and its URLconf
(``DJANGO_SETTINGS_MODULE=django_project``), and ``python django_project.py`` migrates its
database and serves it with Django's own threaded WSGI server (runserver's) on 127.0.0.1,
printing ``open http://127.0.0.1:PORT/iproov/``.

Environment:

- ``IPROOV_TEST_DJANGO_DIR``: where its SQLite database (``db.sqlite3``) lives (default: the
  current directory);
- ``IPROOV_TEST_DJANGO_MODE``: ``suite`` (test_django.py in-process: the user from an
  ``X-Test-User`` header, also its iProov user_id; ``ATOMIC_REQUESTS`` on; a ``postgres``
  database alias on ``IPROOV_TEST_POSTGRES_DJANGO`` when set, an ``unmigrated`` one), or ``readme`` (bindings-python/README.md's Django
  example as written, its settings block executed here and its urls block below; the user
  signed in by an ``e2e_user`` cookie, Django's real session login; ``GET /e2e/whoami``: the
  signed-in user's iProov user_id, for the tests to know it).
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path
from typing import Any, Callable, Dict, List

HERE = Path(__file__).resolve().parent
README = HERE.parent / "README.md"
MODE = os.environ.get("IPROOV_TEST_DJANGO_MODE", "readme")
DIR = Path(os.environ.get("IPROOV_TEST_DJANGO_DIR", "."))


def readme_block(first_line: str) -> str:
    """The README's ```python block whose first line starts with ``first_line``."""
    blocks = re.findall(r"^```python\n(.*?)^```", README.read_text(encoding="utf-8"), flags=re.S | re.M)
    [block] = [b for b in blocks if re.match(re.escape(first_line) + r"\b", b)]
    return block


def postgres_database(conninfo: str) -> Dict[str, Any]:
    from psycopg.conninfo import conninfo_to_dict

    info = conninfo_to_dict(conninfo)
    return {"ENGINE": "django.db.backends.postgresql", "NAME": info["dbname"], "USER": info.get("user", ""),
            "HOST": info.get("host", ""), "PORT": info.get("port", ""), "PASSWORD": info.get("password", "")}


# ---- settings --------------------------------------------------------------------------------

SECRET_KEY = "test-only-" + "k" * 50
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
USE_TZ = True
ROOT_URLCONF = "django_project"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
]
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_project.TestLogin",
    "django.contrib.messages.middleware.MessageMiddleware",
]
TEMPLATES = [{
    "BACKEND": "django.template.backends.django.DjangoTemplates",
    "APP_DIRS": True,
    "OPTIONS": {"context_processors": [
        "django.template.context_processors.request",
        "django.contrib.auth.context_processors.auth",
        "django.contrib.messages.context_processors.messages",
    ]},
}]
DATABASES: Dict[str, Any] = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": str(DIR / "db.sqlite3")}}
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"stderr": {"class": "logging.StreamHandler"}},
    "loggers": {"iproov_sansio": {"handlers": ["stderr"], "level": "INFO"},
                "django.request": {"handlers": ["stderr"], "level": "ERROR"}},
}

if MODE == "suite":
    INSTALLED_APPS.append("iproov_sansio.django")
    if os.environ.get("IPROOV_TEST_POSTGRES_DJANGO"):
        DATABASES["postgres"] = postgres_database(os.environ["IPROOV_TEST_POSTGRES_DJANGO"])
    # The journey views opt out of a transaction per request (their writes commit as made).
    for database in DATABASES.values():
        database["ATOMIC_REQUESTS"] = True
    DATABASES["unmigrated"] = {"ENGINE": "django.db.backends.sqlite3", "NAME": str(DIR / "unmigrated.sqlite3")}
    # The suite's page is https://app.example.test: Django's CSRF must trust it as core does.
    CSRF_TRUSTED_ORIGINS = ["https://app.example.test"]
    IPROOV: Dict[str, Any] = {}
else:
    exec(compile(readme_block("# settings.py"), "README.md Django settings", "exec"), globals())


class TestLogin:
    """The tests' stand-in for a login. ``suite``: ``request.user`` is the user named by the
    ``X-Test-User`` header (no session). ``readme``: the user named by the ``e2e_user``
    cookie, signed in with Django's own ``login`` (a session) on the first request."""

    def __init__(self, get_response: Callable[[Any], Any]) -> None:
        self.get_response = get_response

    def __call__(self, request: Any) -> Any:
        from django.contrib.auth import login
        from django.contrib.auth.models import User

        if MODE == "suite":
            name = request.headers.get("X-Test-User")
            if name:
                request.user = User.objects.get_or_create(username=name)[0]
        else:
            name = request.COOKIES.get("e2e_user")
            if name and not request.user.is_authenticated:
                login(request, User.objects.get_or_create(username=name)[0])
        return self.get_response(request)


def username(user: Any) -> str:
    """``IPROOV["USER_ID"]`` in the suite: the header's name, which the suite enrols at the emulator."""
    return str(user.username)


# ---- URLconf ---------------------------------------------------------------------------------


def whoami(request: Any) -> Any:
    from django.http import HttpResponse

    from iproov_sansio.django.views import user_id

    return HttpResponse(user_id(request) or "", content_type="text/plain")


def _urls() -> List[Any]:
    from django.contrib import admin
    from django.urls import include, path

    urlpatterns = [path("admin/", admin.site.urls), path("e2e/whoami", whoami)]
    if MODE == "suite":
        urlpatterns.append(path("iproov/", include("iproov_sansio.django.urls")))
    else:
        scope: Dict[str, Any] = {"urlpatterns": urlpatterns}
        exec(compile(readme_block("# urls.py"), "README.md Django urls", "exec"), scope)
        urlpatterns = scope["urlpatterns"]
    return urlpatterns


def __getattr__(name: str) -> Any:  # the URLconf's urlpatterns, made once apps are ready
    if name == "urlpatterns":
        return _urls()
    raise AttributeError(name)


# ---- serving ---------------------------------------------------------------------------------


def serve() -> None:
    """Migrates, then serves on a free port of 127.0.0.1 until killed."""
    import django
    from django.core.management import call_command
    from django.core.servers.basehttp import ThreadedWSGIServer
    from django.core.wsgi import get_wsgi_application
    from django.test.testcases import QuietWSGIRequestHandler

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "django_project")
    django.setup()
    call_command("migrate", verbosity=0)
    server = ThreadedWSGIServer(("127.0.0.1", 0), QuietWSGIRequestHandler, allow_reuse_address=False)
    server.set_app(get_wsgi_application())
    print(f"open http://127.0.0.1:{server.server_address[1]}/iproov/", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    sys.path.insert(0, str(HERE))
    serve()
