"""Stores for :class:`iproov_sansio.journeys.JourneyService`: :class:`SQLiteStore` (the
embedded default: a file, created on first use) and :class:`PostgresStore` (many instances,
``pip install "iproov-sansio[postgres]"``, psycopg 3). Both keep core's record whole as JSON
with four columns beside it to look it up (id, user_id, version, expires_at_ms), and write it
only over the version they read (compare-and-set). No journey logic lives here.

Schema version 1 (each store creates it when missing and refuses a newer one)::

    iproov_schema(version)
    iproov_journeys(id PRIMARY KEY, user_id, version, expires_at_ms, record)
    iproov_audit(seq, journey_id, record)
"""

from __future__ import annotations

import json
import sqlite3
import threading
from pathlib import Path
from typing import Any, Dict, List, Optional, Union

__all__ = ["SCHEMA_VERSION", "SQLiteStore", "PostgresStore"]

SCHEMA_VERSION = 1


def _check_schema(found: Optional[int]) -> None:
    if found is not None and found > SCHEMA_VERSION:
        raise RuntimeError(
            f"iproov_sansio: the store's schema is version {found}; this package knows up to {SCHEMA_VERSION}"
        )


class SQLiteStore:
    """Journeys in one SQLite file (``path``, created with its directory on first use; WAL
    mode, so readers do not wait for a writer). Safe to share between threads and between
    processes on one machine."""

    def __init__(self, path: Union[str, Path] = "iproov-journeys.sqlite3") -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        with self._tx() as db:
            db.execute("CREATE TABLE IF NOT EXISTS iproov_schema (version INTEGER NOT NULL)")
            row = db.execute("SELECT max(version) FROM iproov_schema").fetchone()
            _check_schema(row[0])
            if row[0] is None:
                db.execute(
                    "CREATE TABLE IF NOT EXISTS iproov_journeys (id TEXT PRIMARY KEY, user_id TEXT NOT NULL,"
                    " version INTEGER NOT NULL, expires_at_ms INTEGER NOT NULL, record TEXT NOT NULL)"
                )
                db.execute("CREATE INDEX IF NOT EXISTS iproov_journeys_user ON iproov_journeys (user_id)")
                db.execute("CREATE INDEX IF NOT EXISTS iproov_journeys_expiry ON iproov_journeys (expires_at_ms)")
                db.execute(
                    "CREATE TABLE IF NOT EXISTS iproov_audit (seq INTEGER PRIMARY KEY AUTOINCREMENT,"
                    " journey_id TEXT NOT NULL, record TEXT NOT NULL)"
                )
                db.execute("CREATE INDEX IF NOT EXISTS iproov_audit_journey ON iproov_audit (journey_id)")
                db.execute("INSERT INTO iproov_schema (version) VALUES (?)", (SCHEMA_VERSION,))

    def _db(self) -> sqlite3.Connection:
        db = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(self.path, timeout=30.0, isolation_level=None, check_same_thread=False)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            self._local.db = db
        return db

    class _Tx:
        def __init__(self, db: sqlite3.Connection) -> None:
            self.db = db

        def __enter__(self) -> sqlite3.Connection:
            self.db.execute("BEGIN IMMEDIATE")
            return self.db

        def __exit__(self, kind: Any, *rest: Any) -> None:
            self.db.execute("ROLLBACK" if kind else "COMMIT")

    def _tx(self) -> "SQLiteStore._Tx":
        return SQLiteStore._Tx(self._db())

    def get(self, journey_id: str) -> Optional[Dict[str, Any]]:
        row = self._db().execute("SELECT record FROM iproov_journeys WHERE id = ?", (journey_id,)).fetchone()
        return None if row is None else dict(json.loads(row[0]))

    def insert(self, record: Dict[str, Any]) -> bool:
        try:
            with self._tx() as db:
                db.execute(
                    "INSERT INTO iproov_journeys (id, user_id, version, expires_at_ms, record) VALUES (?, ?, ?, ?, ?)",
                    (record["id"], record["user_id"], record["version"], record["expires_at_ms"], json.dumps(record)),
                )
        except sqlite3.IntegrityError:
            return False
        return True

    def update(self, record: Dict[str, Any], expected_version: int) -> bool:
        with self._tx() as db:
            cursor = db.execute(
                "UPDATE iproov_journeys SET version = ?, expires_at_ms = ?, record = ? WHERE id = ? AND version = ?",
                (record["version"], record["expires_at_ms"], json.dumps(record), record["id"], expected_version),
            )
            return cursor.rowcount == 1

    def append_audit(self, journey_id: str, records: List[Dict[str, Any]]) -> None:
        if records:
            with self._tx() as db:
                db.executemany(
                    "INSERT INTO iproov_audit (journey_id, record) VALUES (?, ?)",
                    [(journey_id, json.dumps(r)) for r in records],
                )

    def journeys_of(self, user_id: str) -> List[Dict[str, Any]]:
        rows = self._db().execute(
            "SELECT record FROM iproov_journeys WHERE user_id = ? ORDER BY rowid", (user_id,)
        ).fetchall()
        return [dict(json.loads(r[0])) for r in rows]

    def audit_of(self, journey_id: str) -> List[Dict[str, Any]]:
        rows = self._db().execute(
            "SELECT record FROM iproov_audit WHERE journey_id = ? ORDER BY seq", (journey_id,)
        ).fetchall()
        return [dict(json.loads(r[0])) for r in rows]

    def delete_expired(self, now_ms: int) -> int:
        with self._tx() as db:
            db.execute(
                "DELETE FROM iproov_audit WHERE journey_id IN (SELECT id FROM iproov_journeys WHERE expires_at_ms <= ?)",
                (now_ms,),
            )
            return db.execute("DELETE FROM iproov_journeys WHERE expires_at_ms <= ?", (now_ms,)).rowcount

    def __repr__(self) -> str:
        return f"SQLiteStore({str(self.path)!r})"


class PostgresStore:
    """Journeys in PostgreSQL, for many instances of a service: ``conninfo`` is a libpq
    connection string (``"host=... dbname=... user=..."`` or a URL). One connection per
    thread, autocommit: every method is one statement, and the compare-and-set of
    :meth:`update` is one ``UPDATE ... WHERE version = %s``."""

    def __init__(self, conninfo: str) -> None:
        import psycopg

        self._psycopg = psycopg
        self._conninfo = conninfo
        self._local = threading.local()
        with self._conn().transaction():
            db = self._conn()
            db.execute("SELECT pg_advisory_xact_lock(7283019)")  # two instances creating at once
            db.execute("CREATE TABLE IF NOT EXISTS iproov_schema (version INTEGER NOT NULL)")
            row = db.execute("SELECT max(version) FROM iproov_schema").fetchone()
            found = None if row is None else row[0]
            _check_schema(found)
            if found is None:
                db.execute(
                    "CREATE TABLE IF NOT EXISTS iproov_journeys (id TEXT PRIMARY KEY, user_id TEXT NOT NULL,"
                    " version BIGINT NOT NULL, expires_at_ms BIGINT NOT NULL, record JSONB NOT NULL,"
                    " seq BIGSERIAL)"
                )
                db.execute("CREATE INDEX IF NOT EXISTS iproov_journeys_user ON iproov_journeys (user_id)")
                db.execute("CREATE INDEX IF NOT EXISTS iproov_journeys_expiry ON iproov_journeys (expires_at_ms)")
                db.execute(
                    "CREATE TABLE IF NOT EXISTS iproov_audit (seq BIGSERIAL PRIMARY KEY, journey_id TEXT NOT NULL,"
                    " record JSONB NOT NULL)"
                )
                db.execute("CREATE INDEX IF NOT EXISTS iproov_audit_journey ON iproov_audit (journey_id)")
                db.execute("INSERT INTO iproov_schema (version) VALUES (%s)", (SCHEMA_VERSION,))

    def _conn(self) -> Any:
        conn = getattr(self._local, "conn", None)
        if conn is None or conn.closed:
            conn = self._psycopg.connect(self._conninfo, autocommit=True)
            self._local.conn = conn
        return conn

    def _json(self, record: Dict[str, Any]) -> Any:
        from psycopg.types.json import Jsonb

        return Jsonb(record)

    def get(self, journey_id: str) -> Optional[Dict[str, Any]]:
        row = self._conn().execute("SELECT record FROM iproov_journeys WHERE id = %s", (journey_id,)).fetchone()
        return None if row is None else dict(row[0])

    def insert(self, record: Dict[str, Any]) -> bool:
        cursor = self._conn().execute(
            "INSERT INTO iproov_journeys (id, user_id, version, expires_at_ms, record) VALUES (%s, %s, %s, %s, %s)"
            " ON CONFLICT (id) DO NOTHING",
            (record["id"], record["user_id"], record["version"], record["expires_at_ms"], self._json(record)),
        )
        return bool(cursor.rowcount == 1)

    def update(self, record: Dict[str, Any], expected_version: int) -> bool:
        cursor = self._conn().execute(
            "UPDATE iproov_journeys SET version = %s, expires_at_ms = %s, record = %s WHERE id = %s AND version = %s",
            (record["version"], record["expires_at_ms"], self._json(record), record["id"], expected_version),
        )
        return bool(cursor.rowcount == 1)

    def append_audit(self, journey_id: str, records: List[Dict[str, Any]]) -> None:
        if records:
            with self._conn().cursor() as cursor:
                cursor.executemany(
                    "INSERT INTO iproov_audit (journey_id, record) VALUES (%s, %s)",
                    [(journey_id, self._json(r)) for r in records],
                )

    def journeys_of(self, user_id: str) -> List[Dict[str, Any]]:
        rows = self._conn().execute(
            "SELECT record FROM iproov_journeys WHERE user_id = %s ORDER BY seq", (user_id,)
        ).fetchall()
        return [dict(r[0]) for r in rows]

    def audit_of(self, journey_id: str) -> List[Dict[str, Any]]:
        rows = self._conn().execute(
            "SELECT record FROM iproov_audit WHERE journey_id = %s ORDER BY seq", (journey_id,)
        ).fetchall()
        return [dict(r[0]) for r in rows]

    def delete_expired(self, now_ms: int) -> int:
        conn = self._conn()
        with conn.transaction():
            conn.execute(
                "DELETE FROM iproov_audit WHERE journey_id IN (SELECT id FROM iproov_journeys WHERE expires_at_ms <= %s)",
                (now_ms,),
            )
            return int(conn.execute("DELETE FROM iproov_journeys WHERE expires_at_ms <= %s", (now_ms,)).rowcount)

    def __repr__(self) -> str:
        return "PostgresStore(<conninfo not shown>)"
