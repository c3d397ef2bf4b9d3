"""The README's FastAPI example as written (the root README's and bindings-python/README.md's
one ```python block with ``journey_routes``: the same text), on ``AsyncJourneyService``, its
user from the example's own stand-in login (``DEV_LOGIN=1`` and a ``dev_user`` cookie): this
file adds no login. ``python fastapi_example.py`` serves it with uvicorn on 127.0.0.1 from the
current directory (its SQLite file lands there) and prints ``open http://127.0.0.1:PORT/iproov/``;
the environment gives the client's IPROOV_*, IPROOV_EMULATOR_URL and DEV_LOGIN. Run by
test_web.py, test_web_suite.py and the Chromium tests (tests/web/e2e.test.mjs).

Its routes must run no thread pool: every use of anyio's ``to_thread.run_sync`` (Starlette's
``run_in_threadpool``, FastAPI's for a sync endpoint or dependency) is counted, and so is every
call handed to asyncio's default executor (``loop.run_in_executor(None, ...)``,
``asyncio.to_thread``: where the async service sends a blocking store's calls, and the SQLite
store's only while its file is locked). ``GET /e2e/threads`` answers ``{"anyio_to_thread": n,
"asyncio_executor": m, "threads": [names]}``; ``POST /e2e/threadpool`` runs one call through
Starlette's thread pool and ``POST /e2e/executor`` one through ``asyncio.to_thread``, so that a
test can see each count move (the checks can fail).
"""

from __future__ import annotations

import asyncio
import re
import threading
import weakref
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Awaitable, Callable, Dict

README = Path(__file__).resolve().parents[1] / "README.md"

#: Uses of anyio's worker threads and of asyncio's default executor in this process since it
#: started (or since a test reset them).
USES = {"anyio_to_thread": 0, "asyncio_executor": 0}


class CountingExecutor(ThreadPoolExecutor):
    """asyncio's default executor (its threads named as asyncio names them), counting each call
    submitted in ``USES["asyncio_executor"]``."""

    def __init__(self) -> None:
        super().__init__(thread_name_prefix="asyncio")

    def submit(self, *args: Any, **kwargs: Any) -> Any:
        USES["asyncio_executor"] += 1
        return super().submit(*args, **kwargs)


def counting_default_executor(app: Any) -> Any:
    """``app`` (ASGI), with a :class:`CountingExecutor` as the default executor of the event
    loop that serves it, put in place before its first request."""
    loops: "weakref.WeakSet[asyncio.AbstractEventLoop]" = weakref.WeakSet()

    async def serve(scope: Any, receive: Any, send: Any) -> None:
        loop = asyncio.get_running_loop()
        if loop not in loops:
            loops.add(loop)
            loop.set_default_executor(CountingExecutor())
        await app(scope, receive, send)

    return serve


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
    """The example's ``app``, with the ``/e2e`` routes, its loop's default executor counted."""
    from starlette.concurrency import run_in_threadpool
    from starlette.responses import JSONResponse

    scope: Dict[str, Any] = {"__name__": "main"}
    exec(compile(readme_block(), "README.md FastAPI example", "exec"), scope)
    app = scope["app"]

    @app.get("/e2e/threads")
    async def threads() -> JSONResponse:
        return JSONResponse({**USES, "threads": [t.name for t in threading.enumerate()]})

    @app.post("/e2e/threadpool")
    async def threadpool() -> JSONResponse:
        return JSONResponse({"ran": await run_in_threadpool(lambda: threading.current_thread().name)})

    @app.post("/e2e/executor")
    async def executor() -> JSONResponse:
        return JSONResponse({"ran": await asyncio.to_thread(lambda: threading.current_thread().name)})

    return counting_default_executor(app)


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
