"""The stores open core's schema as core's ``schema()`` says: created when missing, a version 1
store (this package's before the journey pump) migrated to 2 with its journeys kept, a newer
one refused; on a real SQLite file and the real PostgreSQL."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any, Callable, List, Tuple

import pytest
from emulator_fixtures import EU, Emulator
from journey_support import clear_postgres, enrolled, postgres_conninfo

import iproov_sansio as ip
from iproov_sansio.httpx import Client
from iproov_sansio.journeys import JourneyService
from iproov_sansio.stores import SCHEMA_VERSION, PostgresStore, SQLiteStore

# Version 1 as this package created it (iproov_users came with version 2).
V1 = {
    "sqlite": [
        "CREATE TABLE iproov_schema (version INTEGER NOT NULL)",
        "CREATE TABLE iproov_journeys (id TEXT PRIMARY KEY, user_id TEXT NOT NULL, version INTEGER NOT NULL,"
        " expires_at_ms INTEGER NOT NULL, record TEXT NOT NULL)",
        "CREATE TABLE iproov_audit (seq INTEGER PRIMARY KEY AUTOINCREMENT, journey_id TEXT NOT NULL, record TEXT NOT NULL)",
        "INSERT INTO iproov_schema (version) VALUES (1)",
    ],
    "postgres": [
        "CREATE TABLE iproov_schema (version INTEGER NOT NULL)",
        "CREATE TABLE iproov_journeys (id TEXT PRIMARY KEY, user_id TEXT NOT NULL, version BIGINT NOT NULL,"
        " expires_at_ms BIGINT NOT NULL, record JSONB NOT NULL, seq BIGSERIAL)",
        "CREATE TABLE iproov_audit (seq BIGSERIAL PRIMARY KEY, journey_id TEXT NOT NULL, record JSONB NOT NULL)",
        "INSERT INTO iproov_schema (version) VALUES (1)",
    ],
}


def _v1_record(user: str) -> dict:  # type: ignore[type-arg]
    return {"id": "j-v1", "version": 3, "flow": "verify", "user_id": user, "resource": "r", "max_attempts": 3,
            "expires_at_ms": 4_102_444_800_000, "retention_ms": 2_592_000_000, "token_ttl_ms": 120_000,
            "created_at_ms": 1_700_000_000_000, "updated_at_ms": 1_700_000_000_000,
            "attempts": [{"number": 1, "token_sha256": "ab" * 32, "state": "failed", "issued_at_ms": 1_700_000_000_000,
                          "ended_at_ms": 1_700_000_001_000, "reason": "too_much_movement"}]}


def _sqlite(tmp_path: Path) -> Tuple[Callable[[str, Tuple[Any, ...]], List[Any]], Callable[[], Any]]:
    path = tmp_path / "j.sqlite3"

    def run(sql: str, params: Tuple[Any, ...] = ()) -> List[Any]:
        with sqlite3.connect(path) as db:
            return db.execute(sql, params).fetchall()

    return run, lambda: SQLiteStore(path)


def _postgres(tmp_path: Path) -> Tuple[Callable[[str, Tuple[Any, ...]], List[Any]], Callable[[], Any]]:
    import psycopg

    conninfo = postgres_conninfo()
    clear_postgres(conninfo)

    def run(sql: str, params: Tuple[Any, ...] = ()) -> List[Any]:
        with psycopg.connect(conninfo, autocommit=True) as conn:
            cursor = conn.execute(sql.replace("?", "%s"), params or None)
            return list(cursor.fetchall()) if cursor.description else []

    return run, lambda: PostgresStore(conninfo, spool_path=tmp_path / "spool.jsonl")


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
def test_a_version_1_store_is_migrated_and_keeps_its_journeys(emulator: Emulator, tmp_path: Path, kind: str) -> None:
    run, open_store = _sqlite(tmp_path) if kind == "sqlite" else _postgres(tmp_path)
    for sql in V1[kind]:
        run(sql, ())
    user = enrolled(emulator)
    run("INSERT INTO iproov_journeys (id, user_id, version, expires_at_ms, record) VALUES (?, ?, ?, ?, ?)",
        ("j-v1", user, 3, 4_102_444_800_000, json.dumps(_v1_record(user))))
    store = open_store()
    assert run("SELECT max(version) FROM iproov_schema", ()) == [(SCHEMA_VERSION,)] == [(2,)]
    with Client(base_url=emulator.base_url(), **EU) as http:
        svc = JourneyService(http, store)
        [kept] = svc.history(user)
        assert kept["journey"]["attempts"][0]["reason"] == "too_much_movement"
        # The users table is there: a start keeps the user's limits in it.
        started = svc.start("verify", user)
        assert started["attempt"] == 1 and store.get("users", user) is not None
    # Opening again changes nothing.
    open_store()
    assert run("SELECT count(*) FROM iproov_schema", ()) == [(2,)]


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
def test_a_newer_store_is_refused(tmp_path: Path, kind: str) -> None:
    run, open_store = _sqlite(tmp_path) if kind == "sqlite" else _postgres(tmp_path)
    open_store()
    run("INSERT INTO iproov_schema (version) VALUES (?)", (SCHEMA_VERSION + 1,))
    with pytest.raises(ip.InvalidStateError) as refused:
        open_store()
    assert f"version {SCHEMA_VERSION + 1}" in refused.value.message and "upgrade" in refused.value.message


def test_sqlite_connections_take_cores_settings(tmp_path: Path) -> None:
    """Core's ``connection`` for SQLite: WAL, synchronous=FULL (2), its busy timeout by default."""
    from iproov_sansio import _core
    from iproov_sansio.stores import SQLiteStore

    wanted = json.loads(_core.store_schema("sqlite"))["connection"]
    assert wanted["pragmas"] == ["PRAGMA journal_mode=WAL", "PRAGMA synchronous=FULL"]
    store = SQLiteStore(tmp_path / "j.sqlite3")
    for db in (store._db(), store._db(0.0)):
        assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        assert db.execute("PRAGMA synchronous").fetchone() == (2,)
    assert store._timeout == wanted["busy_timeout_ms"] / 1000 == 10.0
    assert SQLiteStore(tmp_path / "k.sqlite3", timeout=0.5)._timeout == 0.5
