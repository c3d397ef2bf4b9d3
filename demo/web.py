"""The web demo: iproov_sansio.web's endpoints and page in a small Starlette app, on the
journey service with the SQLite store, served on 127.0.0.1 by uvicorn. scripts/demo starts it
(with the emulator); the Chromium tests (tests/web) start it too.

Environment: the client's (IPROOV_BASE_URL or IPROOV_REGION, IPROOV_API_KEY, IPROOV_SECRET);
IPROOV_DEMO_EMULATOR, the emulator's root URL, turns on the page's stand-in; IPROOV_DEMO_DIR
(target/demo) holds journeys.sqlite3; IPROOV_DEMO_PORT (8000; 0 for any free port). Prints
"open http://127.0.0.1:PORT/iproov/" once it listens.
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path
from typing import Awaitable, Callable, Optional

import uvicorn
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Mount, Route

from iproov_sansio import random_user_id
from iproov_sansio.httpx import Client
from iproov_sansio.journeys import JourneyService
from iproov_sansio.stores import SQLiteStore
from iproov_sansio.web import journey_routes

COOKIE = "demo_user"


def make_app() -> Starlette:
    out = Path(os.environ.get("IPROOV_DEMO_DIR", "target/demo"))
    service = JourneyService(Client(), SQLiteStore(out / "journeys.sqlite3"))

    def current_user(request: Request) -> Optional[str]:
        # Your application takes the user from its own session or auth; the demo's "login" is
        # the middleware below.
        return getattr(request.state, "demo_user", None)

    async def sign_in(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        # The demo's stand-in for a login: each browser is a user of its own, a random
        # user_id in an HttpOnly cookie, given on its first visit.
        user = request.cookies.get(COOKIE) or random_user_id()
        request.state.demo_user = user
        response = await call_next(request)
        response.set_cookie(COOKIE, user, httponly=True, samesite="strict", path="/")
        return response

    routes = journey_routes(
        service,
        resolve_user=current_user,
        # None: only the page's own origin (http://127.0.0.1:PORT) may call the routes.
        allowed_origins=None,
        emulator_url=os.environ.get("IPROOV_DEMO_EMULATOR") or None,
    )
    return Starlette(
        routes=[
            Route("/", lambda request: RedirectResponse("/iproov/")),
            Mount("/iproov", routes),
        ],
        middleware=[Middleware(BaseHTTPMiddleware, dispatch=sign_in)],
    )


class _Server(uvicorn.Server):
    async def startup(self, sockets: Optional[list] = None) -> None:
        await super().startup(sockets)
        port = self.servers[0].sockets[0].getsockname()[1]
        print(f"open http://127.0.0.1:{port}/iproov/", flush=True)


def main() -> None:
    port = int(os.environ.get("IPROOV_DEMO_PORT", "8000"))
    config = uvicorn.Config(make_app(), host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    server = _Server(config)
    asyncio.run(server.serve())
    sys.exit(0 if server.started else 1)


if __name__ == "__main__":
    main()
