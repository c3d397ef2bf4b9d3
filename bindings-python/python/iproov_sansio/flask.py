"""The journey endpoints and page as a Flask blueprint (``pip install "iproov-sansio[flask]"``)::

    app.register_blueprint(iproov_blueprint(service, resolve_user=lambda: session.get("iproov_user_id")),
                           url_prefix="/iproov")

The routes, their bodies, their errors and every decision are :mod:`iproov_sansio.web`'s (core's);
this module only turns Flask's request into an :class:`~iproov_sansio.web.Incoming` and the
:class:`~iproov_sansio.web.Answer` into Flask's response. Every path under the prefix is the
blueprint's, so what is not a route answers core's 404/405 in its JSON shape (OPTIONS too:
no automatic answer)."""

from __future__ import annotations

from typing import Callable, Iterable, Optional, Sequence

from flask import Blueprint, Response, request

from .journeys import JourneyService
from .web import Incoming, JourneyEndpoints

__all__ = ["iproov_blueprint"]

_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


def iproov_blueprint(
    service: JourneyService,
    *,
    resolve_user: Callable[[], Optional[str]],
    allowed_origins: Optional[Iterable[str]] = None,
    flows: Optional[Sequence[str]] = None,
    page: bool = True,
    emulator_url: Optional[str] = None,
    validate_wait_s: Optional[float] = None,
    sdk_script: Optional[str] = None,
    assets_url: Optional[str] = None,
    name: str = "iproov",
) -> Blueprint:
    """The endpoints (and the page) as a blueprint named ``name``, over a blocking
    :class:`~iproov_sansio.journeys.JourneyService` (each request runs it in the worker that
    serves it: give your WSGI server enough threads for the validates in flight).

    ``resolve_user()`` is called inside the request (Flask's ``session``, ``g`` and
    Flask-Login's ``current_user`` are there): the asking user's iProov user_id, from your own
    login, or ``None`` (the routes answer 401). The other arguments are
    :func:`iproov_sansio.web.journey_routes`'s: ``allowed_origins`` (default: the request's
    own origin, ``request.host_url``'s; behind a proxy that terminates TLS, list the public
    origin or use werkzeug's ``ProxyFix``), ``flows``, ``page``, ``emulator_url`` (only
    against the emulator), ``validate_wait_s``, ``sdk_script`` and ``assets_url`` (iProov's
    Web SDK in the page)."""
    endpoints = JourneyEndpoints(service, allowed_origins=allowed_origins, flows=flows, page=page,
                                 emulator_url=emulator_url, validate_wait_s=validate_wait_s,
                                 sdk_script=sdk_script, assets_url=assets_url)
    blueprint = Blueprint(name, __name__)

    def journey(rest: str = "") -> Response:
        incoming = Incoming(
            method=request.method,
            path="/" + rest,
            origin=request.headers.get("Origin"),
            own_origin=f"{request.scheme}://{request.host}",
            content_type=request.headers.get("Content-Type"),
            user_agent=request.headers.get("User-Agent"),
        )
        answer = endpoints.serve(incoming, read_body=request.stream.read, resolve_user=resolve_user)
        return Response(answer.body, status=answer.status, headers=answer.headers)

    for rule in ("/", "/<path:rest>"):
        blueprint.add_url_rule(rule, "journey", journey, methods=_METHODS, provide_automatic_options=False)
    return blueprint
