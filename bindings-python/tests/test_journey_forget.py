"""Erasing one user's data (issue 27 item 6, GDPR art. 17) on real SQLite and PostgreSQL,
against the emulator: at iProov first when asked, then the store; the erased user's journey
ids answer as unknown; other users keep theirs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from emulator_fixtures import EU, Emulator
from journey_support import enrolled, make_store

import iproov_sansio as ip
from iproov_sansio.httpx import Client
from iproov_sansio.journeys import JourneyService

#: The eu service provider without its OAuth credentials: no users API.
NO_OAUTH = {k: v for k, v in EU.items() if not k.startswith("oauth_")}


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
def test_forget_erases_the_user_at_iproov_then_in_the_store(emulator: Emulator, tmp_path: Path, kind: str) -> None:
    store, _ = make_store(kind, tmp_path)
    with Client(base_url=emulator.base_url(), **EU) as http:
        svc = JourneyService(http, store, spool=tmp_path / "spool.jsonl")
        user, other = enrolled(emulator), enrolled(emulator)
        for who in (user, other):
            started = svc.start("verify", who)
            emulator.complete(started["token"], passed=True)
            svc.finish(started["journey_id"], started["token"], "pytest")
        [journey] = svc.history(user)
        out = svc.forget(user, at_iproov=True)
        assert out == {"journeys": 1, "audit_records": 2, "at_iproov": "deleted"}
        assert svc.history(user) == []
        assert len(svc.history(other)) == 1, "another user keeps theirs"
        with pytest.raises(ip.InvalidStateError, match="no such journey"):
            svc.start("verify", user, journey["journey"]["id"])
        with pytest.raises(ip.ApiError) as gone:
            http.get_user(user_id=user)
        assert gone.value.code in ("no_user", "invalid_user_id")
        assert svc.forget(user, at_iproov=True)["at_iproov"] == "absent"
    assert emulator.count(f"/users/{user}") >= 2


def test_forget_at_iproov_needs_the_users_api_and_touches_nothing_without_it(emulator: Emulator, tmp_path: Path) -> None:
    store, _ = make_store("sqlite", tmp_path)
    with Client(base_url=emulator.base_url(), **NO_OAUTH) as http:
        svc = JourneyService(http, store, spool=tmp_path / "spool.jsonl")
        user = enrolled(emulator)
        svc.start("verify", user)
        with pytest.raises(ip.InvalidInputError) as refused:
            svc.forget(user, at_iproov=True)
        assert refused.value.field == "at_iproov"
        assert len(svc.history(user)) == 1
        assert svc.forget(user) == {"journeys": 1, "audit_records": 1, "at_iproov": "not_asked"}


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
def test_the_async_service_forgets_on_its_stores(emulator: Emulator, tmp_path: Path, kind: str) -> None:
    """AsyncJourneyService.forget on SQLiteStore (its calls in worker threads) and
    AsyncPostgresStore: the same erasure as the blocking service's, answered alike."""
    import asyncio

    from journey_support import clear_postgres, postgres_conninfo

    from iproov_sansio.httpx import AsyncClient
    from iproov_sansio.journeys import AsyncJourneyService
    from iproov_sansio.stores import AsyncPostgresStore, SQLiteStore

    async def scenario() -> None:
        if kind == "sqlite":
            store: Any = SQLiteStore(tmp_path / "journeys.sqlite3")
        else:
            conninfo = postgres_conninfo()
            clear_postgres(conninfo)
            store = await AsyncPostgresStore.open(conninfo, spool_path=tmp_path / "spool.jsonl")
        async with AsyncClient(base_url=emulator.base_url(), **EU) as http:
            svc = AsyncJourneyService(http, store)
            user, other = enrolled(emulator), enrolled(emulator)
            for who in (user, other):
                started = await svc.start("verify", who)
                emulator.complete(started["token"], passed=True)
                await svc.finish(started["journey_id"], started["token"], "pytest")
            [journey] = await svc.history(user)
            out = await svc.forget(user, at_iproov=True)
            assert out == {"journeys": 1, "audit_records": 2, "at_iproov": "deleted"}
            assert await svc.history(user) == []
            assert len(await svc.history(other)) == 1, "another user keeps theirs"
            with pytest.raises(ip.InvalidStateError, match="no such journey"):
                await svc.start("verify", user, journey["journey"]["id"])
            assert (await svc.forget(user, at_iproov=True))["at_iproov"] == "absent"
            assert await svc.forget(other) == {"journeys": 1, "audit_records": 2, "at_iproov": "not_asked"}
            assert emulator.count(f"/users/{user}", method="DELETE") == 2
            assert emulator.count(f"/users/{other}", method="DELETE") == 0
        if kind == "postgres":
            await store.close()

    asyncio.run(scenario())
