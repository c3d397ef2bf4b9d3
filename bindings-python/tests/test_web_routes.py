"""The mounted routes' health and their 404/405 answers (issue 27 item 4, issue 24 item 6):
core's JSON shape for every refusal, and a health answer that asks iProov at most once per
core's cache time. Over Starlette's test client, against the emulator and a real SQLite file."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from emulator_fixtures import EU, Emulator
from starlette.applications import Starlette
from starlette.routing import Mount
from starlette.testclient import TestClient

from iproov_sansio.httpx import Client
from iproov_sansio.journeys import JourneyService
from iproov_sansio.stores import SQLiteStore
from iproov_sansio.web import journey_routes


class BrokenStore(SQLiteStore):
    def get(self, table: str, id: str) -> Any:
        raise OSError("disk I/O error")


def test_health_asks_iproov_once_per_cache_time_and_names_what_failed(emulator: Emulator, tmp_path: Path) -> None:
    with Client(base_url=emulator.base_url(), **EU) as http:
        svc = JourneyService(http, SQLiteStore(tmp_path / "j.sqlite3"))
        with TestClient(journey_routes(svc, resolve_user=lambda r: None)) as web:
            answers = [web.get("/health") for _ in range(5)]
        assert {a.status_code for a in answers} == {200}
        assert answers[0].json() == {"status": "ok", "iproov": "up", "store": "ok"}
        assert answers[0].headers["cache-control"] == "no-store"
        assert emulator.count("/availability") == 1, "cached for core's 10 s"
        broken = JourneyService(http, BrokenStore(tmp_path / "b.sqlite3"), spool=False)
        with TestClient(journey_routes(broken, resolve_user=lambda r: None)) as web:
            degraded = web.get("/health")
        assert degraded.status_code == 503
        assert degraded.json() == {"status": "degraded", "iproov": "up", "store": "failing"}
        assert "disk" not in degraded.text


def test_unknown_paths_and_wrong_methods_answer_the_json_shape(emulator: Emulator, tmp_path: Path) -> None:
    with Client(base_url=emulator.base_url(), **EU) as http:
        svc = JourneyService(http, SQLiteStore(tmp_path / "j.sqlite3"))
        with TestClient(journey_routes(svc, resolve_user=lambda r: "u")) as web:
            missing = web.get("/nope")
            assert missing.status_code == 404
            assert missing.json()["error"]["code"] == "not_found"
            wrong = web.get("/token")
            assert wrong.status_code == 405
            assert wrong.headers["allow"] == "POST"
            assert wrong.json()["error"]["code"] == "method_not_allowed"
            page = web.post("/")
            assert page.status_code == 405 and page.headers["allow"] == "GET, HEAD"
            assert web.head("/").status_code == 200


@pytest.mark.parametrize("kind", ["blocking", "async"])
def test_concurrent_health_requests_at_a_miss_share_one_availability_call(
    emulator: Emulator, tmp_path: Path, kind: str
) -> None:
    """20 requests at once on a cold cache, over a real server (uvicorn): a blocking service's
    in Starlette's worker threads, an async one's as tasks on the loop; the availability call
    held 300 ms at the emulator so that every request arrives while the first check is under
    way (an order the hold makes, not a timing assertion). One availability call."""
    from test_web import serve

    from iproov_sansio.httpx import AsyncClient
    from iproov_sansio.journeys import AsyncJourneyService

    store = SQLiteStore(tmp_path / "j.sqlite3")
    client: Any = Client(base_url=emulator.base_url(), **EU) if kind == "blocking" else AsyncClient(
        base_url=emulator.base_url(), **EU)
    svc: Any = JourneyService(client, store) if kind == "blocking" else AsyncJourneyService(client, store)
    app = Starlette(routes=[Mount("/iproov", journey_routes(svc, resolve_user=lambda r: None))])
    emulator.fault(path="/availability", kind="delay", delay_ms=300, times=1)
    mark = emulator.control("GET", "/journal?limit=0")["last_seq"]
    try:
        with serve(app) as url, ThreadPoolExecutor(20) as pool:
            with httpx.Client(base_url=url, timeout=30) as web:
                answers = list(pool.map(lambda _: web.get("/iproov/health"), range(20)))
                assert {a.status_code for a in answers} == {200}, [a.text for a in answers]
                assert all(a.json() == {"status": "ok", "iproov": "up", "store": "ok"} for a in answers)
                assert len(emulator.requests("/availability", since=mark)) == 1, "20 at once, one availability call"
                assert web.get("/iproov/health").status_code == 200
        assert len(emulator.requests("/availability", since=mark)) == 1, "and cached"
    finally:
        if kind == "blocking":
            client.close()
