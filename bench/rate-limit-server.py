"""The Python side of bench/rate-limit.mjs: iproov_sansio.web's ASGI routes
(``journey_routes``) over :class:`AsyncJourneyService` (the httpx ``AsyncClient``, the journeys in
a SQLite file of a temporary directory), on uvicorn, one process, one event loop, as an app
would run them. The user is the request's ``X-User`` header (the bench's stand-in for an
application's auth); the package's log records below ERROR are dropped. Prints ``listening on http://127.0.0.1:PORT`` once it serves.

    python bench/rate-limit-server.py --iproov http://127.0.0.1:PORT/eu
"""

from __future__ import annotations

import argparse
import logging
import socket
import tempfile
from pathlib import Path
from typing import Optional

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.routing import Mount

from iproov_sansio.httpx import AsyncClient
from iproov_sansio.journeys import AsyncJourneyService
from iproov_sansio.stores import SQLiteStore
from iproov_sansio.web import journey_routes

ORIGIN = "https://app.example.test"
EU = {"api_key": "eudefaultkey0000000000000000000000000000", "secret": "eudefaultsecret0000000000000000000000000"}


def user_of(request: Request) -> Optional[str]:
    return request.headers.get("x-user")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--iproov", required=True, help="the emulator's region URL (http://127.0.0.1:PORT/eu)")
    args = parser.parse_args()
    # Every refused token request logs a warning (iProov's rate limit); written to stderr line by
    # line they would be most of the work. An app ships them to its log pipeline; here: dropped.
    logging.getLogger("iproov_sansio").setLevel(logging.ERROR)
    with tempfile.TemporaryDirectory() as tmp:
        service = AsyncJourneyService(AsyncClient(base_url=args.iproov, **EU), SQLiteStore(Path(tmp) / "journeys.sqlite3"))
        routes = journey_routes(service, resolve_user=user_of, allowed_origins=[ORIGIN], page=False)
        app = Starlette(routes=[Mount("/iproov", routes)])
        # proto IPPROTO_TCP: asyncio sets TCP_NODELAY only on sockets that say so (a plain
        # socket.socket() has proto 0), as on those uvicorn binds from --host/--port. Without it,
        # each answer's body waits for the ACK of its headers: ~40 ms of delayed ACK per request.
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.bind(("127.0.0.1", 0))
        sock.listen(2048)  # connections wait in the backlog until uvicorn takes the socket
        server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off"))
        print(f"listening on http://127.0.0.1:{sock.getsockname()[1]}", flush=True)
        server.run(sockets=[sock])


if __name__ == "__main__":
    main()
