"""iProov face checks in a Django project: a reusable app (``pip install "iproov-sansio[django]"``).

::

    # settings.py
    INSTALLED_APPS += ["iproov_sansio.django"]
    IPROOV = {"EMULATOR_URL": None}  # every key optional; the credentials from IPROOV_* by default

    # urls.py
    urlpatterns += [path("iproov/", include("iproov_sansio.django.urls"))]

then ``python manage.py migrate``. The page is ``/iproov/``; its routes are
:mod:`iproov_sansio.web`'s, every decision core's. What this app adds:

- **Settings in one dict**, ``IPROOV`` (every key optional): ``REGION`` or ``BASE_URL``,
  ``API_KEY``, ``SECRET``, ``OAUTH_USERNAME``, ``OAUTH_PASSWORD`` (each one missing from its
  ``IPROOV_*`` environment variable, as the clients read them); ``POLICY`` (the journey
  service's limits); ``ALLOWED_ORIGINS`` (default: the request's own origin); ``FLOWS``;
  ``PAGE`` (serve the page, default ``True``); ``SDK_SCRIPT`` and ``ASSETS_URL`` (iProov's Web
  SDK); ``EMULATOR_URL`` (only against the emulator: the page's stand-in); ``VALIDATE_WAIT_S``;
  ``USER_ID`` (a callable, or its dotted path, ``user -> user_id``); ``USER_ID_SECRET``
  (default ``SECRET_KEY``); ``DATABASE`` (the alias, default ``"default"``); ``SPOOL`` (a local
  path; needed for PostgreSQL, default beside an SQLite database file).
- **The user from** ``request.user``: an authenticated user's iProov user_id is
  ``USER_ID(user)``, by default a pseudonymous id (core's HMAC) of the user's pk under
  ``USER_ID_SECRET``: stable, and nothing personal reaches iProov. Changing that secret (a
  rotated ``SECRET_KEY``) orphans every enrolment: set ``USER_ID_SECRET`` to keep it. An
  anonymous user gets 401. Never the browser's word.
- **Django's CSRF honoured**: with ``CsrfViewMiddleware`` installed, a POST passes Django's own
  check (the page sends the ``csrftoken`` cookie back in ``X-CSRFToken``; a refusal is
  Django's CSRF failure view), after core's origin and content-type checks. An origin in
  ``ALLOWED_ORIGINS`` other than the site's own must be in ``CSRF_TRUSTED_ORIGINS`` too.
- **The journeys in the project's database** (SQLite or PostgreSQL) through Django's own
  connection: core's tables, made by this app's migrations with core's statements, and every
  read and write one of core's statements (:class:`~iproov_sansio.django.store.DjangoStore`).
  The views opt out of ``ATOMIC_REQUESTS``, and a write inside a transaction the store did
  not open is refused: the journey service relies on each write being committed when it
  returns (one validate per token across processes, an outcome never lost).
- **A read-only admin** of journeys (with their audit records, without any open token),
  audit records and the users' limit records.
- :func:`~iproov_sansio.django.views.journey_service` gives the service to your own code
  (``history``, ``forget``); ``manage.py iproov_delete_expired`` drops journeys past their
  retention (run it daily).
"""
