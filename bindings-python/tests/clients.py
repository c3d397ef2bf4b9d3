"""The three clients behind one blocking facade, so every integration test runs through
httpx sync, httpx async and requests alike."""

from __future__ import annotations

import asyncio
import inspect
from typing import Any, Callable, Iterator, List

import pytest

import iproov_sansio.httpx as ip_httpx
import iproov_sansio.requests as ip_requests

KINDS = ["httpx", "httpx_async", "requests"]


class AsyncFacade:
    """Runs an ``AsyncClient``'s coroutines on one event loop, blocking."""

    def __init__(self, client: ip_httpx.AsyncClient, loop: asyncio.AbstractEventLoop) -> None:
        self.client = client
        self.loop = loop

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self.client, name)
        if inspect.iscoroutinefunction(attr):
            return lambda *a, **kw: self.loop.run_until_complete(attr(*a, **kw))
        return attr

    def __repr__(self) -> str:
        return repr(self.client)


def make_client(kind: str, loop: asyncio.AbstractEventLoop, **kwargs: Any) -> Any:
    if kind == "httpx":
        return ip_httpx.Client(**kwargs)
    if kind == "httpx_async":
        return AsyncFacade(ip_httpx.AsyncClient(**kwargs), loop)
    if kind == "requests":
        return ip_requests.Client(**kwargs)
    raise ValueError(kind)


def close_client(client: Any, loop: asyncio.AbstractEventLoop) -> None:
    if isinstance(client, AsyncFacade):
        loop.run_until_complete(client.client.aclose())
    else:
        client.close()


@pytest.fixture(params=KINDS)
def kind(request: Any) -> str:
    return str(request.param)


@pytest.fixture
def new_client(kind: str) -> Iterator[Callable[..., Any]]:
    """``new_client(**kwargs)``: a client of this test's kind, closed at teardown."""
    loop = asyncio.new_event_loop()
    made: List[Any] = []

    def factory(**kwargs: Any) -> Any:
        client = make_client(kind, loop, **kwargs)
        made.append(client)
        return client

    try:
        yield factory
    finally:
        for client in made:
            close_client(client, loop)
        loop.close()
