"""The README's FastAPI example as written (the root README's and bindings-python/README.md's
one ```python block with ``journey_routes``: the same text), on ``AsyncJourneyService``, with
the tests' stand-in for a login: the ``e2e_user`` cookie's value (or, for the HTTP suite, the
``X-Test-User`` header's) is put where the example's ``current_user`` reads it, as your login
middleware would. ``python fastapi_example.py`` serves it with uvicorn on 127.0.0.1 from the
current directory (its SQLite file lands there) and prints ``open http://127.0.0.1:PORT/iproov/``;
the environment gives the client's IPROOV_* and IPROOV_EMULATOR_URL. Run by test_web.py,
test_web_suite.py and the Chromium tests (tests/web/e2e.test.mjs).

Its routes must run no thread pool: every use of anyio's ``to_thread.run_sync`` (Starlette's
``run_in_threadpool``, FastAPI's for a sync endpoint or dependency) is counted, and
``GET /e2e/threads`` answers ``{"anyio_to_thread": n, "threads": [names]}``;
``POST /e2e/threadpool`` runs one call through Starlette's thread pool, so that a test can see
the count move (the check can fail).
"""

from __future__ import annotations

import re
import threading
from pathlib import Path
from typing import Any, Awaitable, Callable, Dict

README = Path(__file__).resolve().parents[1] / "README.md"

#: Uses of anyio's worker threads in this process since it started.
USES = {"anyio_to_thread": 0}


def readme_block() -> str:
    blocks = re.findall(r"^```python\n(.*?)^```", README.read_text(encoding="utf-8"), flags=re.S | re.M)
    [block] = [b for b in blocks if "journey_routes" in b and "FastAPI" in b]
    return block


def counted(run_sync: Callable[..., Awaitable[Any]], uses: Dict[str, int]) -> Callable[..., Awaitable[Any]]:
    """``anyio.to_thread.run_sync`` (where Starlette's and FastAPI's ``run_in_threadpool`` send
    a blocking call), counting each use in ``uses["anyio_to_thread"]``."""

    async def run(*args: Any, **kwargs: Any) -> Any:
        uses["anyio_to_thread"] += 1
        return await run_sync(*args, **kwargs)

    return run


def readme_app() -> Any:
    """The example's ``app``, with the stand-in login and the ``/e2e`` routes."""
    from fastapi import Request
    from starlette.concurrency import run_in_threadpool
    from starlette.responses import JSONResponse, Response

    scope: Dict[str, Any] = {"__name__": "main"}
    exec(compile(readme_block(), "README.md FastAPI example", "exec"), scope)
    app = scope["app"]

    @app.middleware("http")
    async def sign_in(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        name = request.cookies.get("e2e_user") or request.headers.get("x-test-user")
        if name:
            request.state.iproov_user_id = name
        return await call_next(request)

    @app.get("/e2e/threads")
    async def threads() -> JSONResponse:
        return JSONResponse({**USES, "threads": [t.name for t in threading.enumerate()]})

    @app.post("/e2e/threadpool")
    async def threadpool() -> JSONResponse:
        return JSONResponse({"ran": await run_in_threadpool(lambda: threading.current_thread().name)})

    return app


def main() -> None:
    import uvicorn

    import anyio.to_thread

    anyio.to_thread.run_sync = counted(anyio.to_thread.run_sync, USES)  # type: ignore[assignment]
    config = uvicorn.Config(readme_app(), host="127.0.0.1", port=0, log_level="warning", lifespan="off")

    class Announcing(uvicorn.Server):
        async def startup(self, sockets: Any = None) -> None:
            await super().startup(sockets)
            port = self.servers[0].sockets[0].getsockname()[1]
            print(f"open http://127.0.0.1:{port}/iproov/", flush=True)

    Announcing(config).run()


if __name__ == "__main__":
    main()
