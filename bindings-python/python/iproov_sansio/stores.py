"""Stores for :class:`iproov_sansio.journeys.JourneyService`: :class:`SQLiteStore` (the
embedded default: a file, created on first use), :class:`PostgresStore` (many instances,
``pip install "iproov-sansio[postgres]"``, psycopg 3) and :class:`AsyncPostgresStore` (the
same for :class:`~iproov_sansio.journeys.AsyncJourneyService`).

They run core's statements and nothing else (``_core.store_schema``, written once in
``core/src/service/schema.rs`` for every host): each method is one statement, or one
transaction of statements, over one of core's tables (``journeys``, ``users``). A record is
core's JSON (a dict), kept whole beside the columns that look it up; a write took when its
statement changed one row (an insert over an existing id, or an update over another version,
changes none: compare-and-set). No journey logic lives here.

Opening a store creates the schema when missing (under an advisory lock on PostgreSQL, for
instances starting together), migrates an older one (version 1 -> 2) and refuses a newer one
with ``InvalidStateError``.
"""

from __future__ import annotations

import asyncio
import json
import re
import select
import sqlite3
import threading
from pathlib import Path
from typing import Any, Callable, Dict, Generator, List, Optional, Sequence, Tuple, Union

from . import _core
from ._errors import InvalidStateError

__all__ = ["SCHEMA_VERSION", "AsyncPostgresStore", "PostgresStore", "SQLiteStore"]

Record = Dict[str, Any]
#: One statement and its parameters.
_Stmt = Tuple[str, Tuple[Any, ...]]
#: What one statement gave: the rows it returned and how many rows it changed.
_Done = Tuple[List[Any], int]
#: A store call: its statements (one transaction when there are several) and what makes its
#: answer of what each gave.
_Plan = Tuple[List[_Stmt], Callable[[List[_Done]], Any]]


def _schema(dialect: str) -> Dict[str, Any]:
    schema: Dict[str, Any] = json.loads(_core.store_schema(dialect))
    return schema


#: The schema version core's statements create and read.
SCHEMA_VERSION: int = _schema("sqlite")["version"]


def _percent(sql: str) -> str:
    """Core's ``$1, $2, ...`` as psycopg's ``%s`` (the same list, in order)."""
    numbers = [int(n) for n in re.findall(r"\$(\d+)", sql)]
    if numbers != list(range(1, len(numbers) + 1)):
        raise ValueError(f"placeholders out of order in core's statement: {sql}")
    return re.sub(r"\$\d+", "%s", sql.replace("%", "%%"))


def _record(text: Any) -> Record:
    record: Record = json.loads(text) if isinstance(text, (str, bytes)) else dict(text)
    return record


class _Plans:
    """Core's statements for one dialect, bound to a call's values."""

    def __init__(self, dialect: str) -> None:
        schema = _schema(dialect)
        if dialect == "postgres":  # every statement with parameters; DDL has none
            _convert(schema)
        self.schema = schema

    def _bind(self, stmt: Dict[str, Any], record: Optional[Record] = None, **values: Any) -> _Stmt:
        def value(name: str) -> Any:
            if name in values:
                return values[name]
            assert record is not None, name
            return json.dumps(record, separators=(",", ":")) if name == "record" else record[name]

        return stmt["sql"], tuple(value(name) for name in stmt["params"])

    def _table(self, what: str, table: str) -> Dict[str, Any]:
        try:
            stmt: Dict[str, Any] = self.schema[what][table]
        except KeyError:
            raise ValueError(f"core's schema has no table {table!r}") from None
        return stmt

    def get(self, table: str, id: str) -> _Plan:
        stmt = self._bind(self._table("get", table), id=id)
        return [stmt], lambda done: _record(done[0][0][0][0]) if done[0][0] else None

    def insert(self, table: str, record: Record) -> _Plan:
        return [self._bind(self._table("insert", table), record)], lambda done: done[0][1] == 1

    def update(self, table: str, record: Record, expected_version: int) -> _Plan:
        stmt = self._bind(self._table("update", table), record, expected_version=expected_version)
        return [stmt], lambda done: done[0][1] == 1

    def append_audit(self, journey_id: str, records: Sequence[Record]) -> _Plan:
        stmts = [self._bind(self.schema["append_audit"], r, journey_id=journey_id) for r in records]
        return stmts, lambda done: None

    def journeys_of(self, user_id: str) -> _Plan:
        stmt = self._bind(self.schema["journeys_of"], user_id=user_id)
        return [stmt], lambda done: [_record(r[0]) for r in done[0][0]]

    def audit_of(self, journey_id: str) -> _Plan:
        stmt = self._bind(self.schema["audit_of"], journey_id=journey_id)
        return [stmt], lambda done: [_record(r[0]) for r in done[0][0]]

    def delete_expired(self, now_ms: int) -> _Plan:
        marked = [bool(s.get("count")) for s in self.schema["delete_expired"]]
        stmts = [self._bind(s, now_ms=now_ms) for s in self.schema["delete_expired"]]
        return stmts, lambda done: sum(changed for (_, changed), count in zip(done, marked) if count)

    def forget(self, user_id: str) -> _Plan:
        names = [s.get("count") for s in self.schema["forget"]]
        stmts = [self._bind(s, user_id=user_id) for s in self.schema["forget"]]
        return stmts, lambda done: {name: changed for (_, changed), name in zip(done, names) if name}

    def open(self) -> Generator[_Stmt, _Done, None]:
        """Opening the schema, as core's ``schema()`` says: gives each statement, takes what
        it gave. Raises ``InvalidStateError`` for a schema newer than this build's."""
        s = self.schema
        if s["lock"]:
            yield s["lock"], ()
        yield s["schema_table"], ()
        found = (yield s["schema_version"], ())[0][0][0]
        if found is not None and found > s["version"]:
            raise InvalidStateError({
                "code": "invalid_state", "kind": "invalid_state",
                "message": f"the store's schema is version {found}; this build knows up to {s['version']}: "
                "upgrade iproov-sansio everywhere that shares the store",
            })
        if found == s["version"]:
            return
        if found is None:
            steps = list(s["create"])
        else:
            steps = [sql for m in s["migrations"] if m["from"] >= found for sql in m["statements"]]
        for sql in steps:
            yield sql, ()
        yield self._bind(s["set_version"], version=s["version"])


def _convert(schema: Dict[str, Any]) -> None:
    for key, value in schema.items():
        if isinstance(value, dict) and "sql" in value:
            value["sql"] = _percent(value["sql"])
        elif isinstance(value, dict):
            _convert(value)
        elif isinstance(value, list):  # statements run in order (delete_expired, forget)
            for stmt in value:
                if isinstance(stmt, dict) and "sql" in stmt:
                    stmt["sql"] = _percent(stmt["sql"])


class _SyncStore:
    """The store interface over ``_execute`` (the statements of a plan, their rows)."""

    _plans: _Plans

    def _execute(self, stmts: List[_Stmt]) -> List[_Done]:  # pragma: no cover - abstract
        raise NotImplementedError

    def _run(self, plan: _Plan) -> Any:
        stmts, answer = plan
        return answer(self._execute(stmts)) if stmts else answer([])

    def get(self, table: str, id: str) -> Optional[Record]:
        """The record of ``id`` in ``table`` (``journeys`` or ``users``), or ``None``."""
        found: Optional[Record] = self._run(self._plans.get(table, id))
        return found

    def insert(self, table: str, record: Record) -> bool:
        """Stores a new record; ``False`` when its id exists."""
        return bool(self._run(self._plans.insert(table, record)))

    def update(self, table: str, record: Record, expected_version: int) -> bool:
        """Replaces the record if the stored one has ``expected_version``; ``False`` otherwise."""
        return bool(self._run(self._plans.update(table, record, expected_version)))

    def append_audit(self, journey_id: str, records: Sequence[Record]) -> None:
        """Appends audit records to the journey's, in one transaction."""
        self._run(self._plans.append_audit(journey_id, records))

    def journeys_of(self, user_id: str) -> List[Record]:
        """The user's journey records, oldest first."""
        found: List[Record] = self._run(self._plans.journeys_of(user_id))
        return found

    def audit_of(self, journey_id: str) -> List[Record]:
        """The journey's audit records, in order."""
        found: List[Record] = self._run(self._plans.audit_of(journey_id))
        return found

    def delete_expired(self, now_ms: int) -> int:
        """Deletes, in one transaction, the journeys (with their audit records) and user
        records whose ``expires_at_ms <= now_ms`` (Unix ms); returns how many journeys."""
        return int(self._run(self._plans.delete_expired(now_ms)))

    def forget(self, user_id: str) -> Dict[str, int]:
        """Erases, in one transaction, the user's journeys, their audit records and the user's
        limits record: ``{"journeys": n, "audit_records": m}``."""
        forgotten: Dict[str, int] = self._run(self._plans.forget(user_id))
        return forgotten


class SQLiteStore(_SyncStore):
    """Journeys in one SQLite file (``path``, created with its directory on first use; WAL
    mode, so readers do not wait for a writer, and ``synchronous=FULL``, so a committed
    outcome survives a power cut: core's ``connection`` pragmas). Safe to share between
    threads and between processes on one machine. A writer waits up to ``timeout`` seconds
    (default core's ``SQLITE_BUSY_TIMEOUT_MS``, 10 s) for another's lock, then the call raises
    ``sqlite3.OperationalError`` (the service makes it a ``StoreUnavailableError``).

    ``spool_path`` is where a service keeps its spool by default: ``<path>.spool.jsonl``.
    Core's statements need SQLite 3.8 or later (any Python 3.9 has it).
    """

    def __init__(self, path: Union[str, Path] = "iproov-journeys.sqlite3", *, timeout: Optional[float] = None) -> None:
        self.path = Path(path)
        self.spool_path = self.path.with_name(self.path.name + ".spool.jsonl")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._plans = _Plans("sqlite")
        self._connection: Dict[str, Any] = self._plans.schema["connection"]
        self._timeout = self._connection["busy_timeout_ms"] / 1000 if timeout is None else timeout
        self._local = threading.local()
        db = self._db()
        db.execute("BEGIN IMMEDIATE")
        try:
            steps = self._plans.open()
            sql, params = next(steps)
            while True:
                sql, params = steps.send(_done(db.execute(sql, params)))
        except StopIteration:
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    def _db(self, timeout: Optional[float] = None) -> sqlite3.Connection:
        name = "db" if timeout is None else "nowait"
        db: Optional[sqlite3.Connection] = getattr(self._local, name, None)
        if db is None:
            db = sqlite3.connect(self.path, timeout=self._timeout if timeout is None else timeout,
                                 isolation_level=None, check_same_thread=False)
            for pragma in self._connection["pragmas"]:  # core's: WAL, synchronous=FULL
                db.execute(pragma)
            setattr(self._local, name, db)
        return db

    def call_nowait(self, method: str, args: Tuple[Any, ...]) -> Tuple[bool, Any]:
        """Runs the store method ``method`` (``get``, ``insert``, ``update``, ...) with
        ``args`` on a connection that never waits for another connection's write lock:
        ``(True, its answer)``, or ``(False, None)`` when the file was locked (SQLite's
        ``SQLITE_BUSY``: nothing was done, the call may be made again). What
        :class:`~iproov_sansio.journeys.AsyncJourneyService` runs on its event loop first, so
        that a sub-millisecond statement costs no trip through a worker thread, and only a
        locked file's wait goes to one."""
        stmts, answer = getattr(self._plans, method)(*args)
        db = self._db(0.0)
        try:
            return True, answer(self._execute(stmts, db)) if stmts else answer([])
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) and "busy" not in str(exc):
                raise
            if db.in_transaction:  # a COMMIT refused: nothing of it may stay
                db.execute("ROLLBACK")
            return False, None

    def _execute(self, stmts: List[_Stmt], db: Optional[sqlite3.Connection] = None) -> List[_Done]:
        db = db or self._db()
        if len(stmts) == 1:
            return [_done(db.execute(*stmts[0]))]
        db.execute("BEGIN IMMEDIATE")
        try:
            done = [_done(db.execute(sql, params)) for sql, params in stmts]
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")
        return done

    def __repr__(self) -> str:
        return f"SQLiteStore({str(self.path)!r})"


def _dropped(conn: Any) -> bool:
    """True when the server dropped ``conn``: closed, broken, or (idle between calls, when
    nothing may arrive) its socket is readable, the server's close waiting there (a restart
    or failover). Without this look, the first call on each connection after a restart would
    fail, a store error for a request that never reached the database."""
    if conn.closed or conn.broken:
        return True
    try:
        readable, _, _ = select.select([conn.fileno()], [], [], 0)
    except (OSError, ValueError):
        return True
    return bool(readable)


_POSTGRES = _schema("postgres")["connection"]  # core's connect timeout and pool size


def _connect_args(conninfo: str) -> Dict[str, Any]:
    from psycopg.conninfo import conninfo_to_dict

    # A database host that does not answer must fail the call, not hang it (core's default;
    # libpq takes whole seconds).
    if "connect_timeout" in conninfo_to_dict(conninfo):
        return {}
    return {"connect_timeout": max(1, _POSTGRES["connect_timeout_ms"] // 1000)}


class PostgresStore(_SyncStore):
    """Journeys in PostgreSQL, for many instances of a service: ``conninfo`` is a libpq
    connection string (``"host=... dbname=... user=..."`` or a URL). One connection per
    thread, autocommit (a call of several statements is one transaction); a connection the
    server dropped is replaced at the next call. The store's exceptions are psycopg's.

    ``spool_path``: where a service over this store keeps its spool (a local file, one per
    instance; the service refuses to start without one unless given ``spool=``). Nothing of
    ``conninfo`` is shown in the store's ``repr``.

    A connection the server closed (a restart, a failover) is noticed before it is used and
    replaced; a call that meets a failure mid-way raises it (the service decides).
    """

    def __init__(self, conninfo: str, *, spool_path: Union[str, Path, None] = None) -> None:
        import psycopg

        self._psycopg = psycopg
        self._conninfo = conninfo
        self._args = _connect_args(conninfo)
        self.spool_path = None if spool_path is None else Path(spool_path)
        self._local = threading.local()
        self._plans = _Plans("postgres")
        conn = self._conn()
        with conn.transaction():
            steps = self._plans.open()
            try:
                sql, params = next(steps)
                while True:
                    sql, params = steps.send(_done(conn.execute(sql, params or None)))
            except StopIteration:
                pass

    def _conn(self) -> Any:
        conn = getattr(self._local, "conn", None)
        if conn is None or _dropped(conn):
            if conn is not None:
                conn.close()
            conn = self._psycopg.connect(self._conninfo, autocommit=True, **self._args)
            self._local.conn = conn
        return conn

    def _execute(self, stmts: List[_Stmt]) -> List[_Done]:
        conn = self._conn()
        if len(stmts) == 1:
            return [_done(conn.execute(*stmts[0]))]
        with conn.transaction():
            return [_done(conn.execute(sql, params)) for sql, params in stmts]

    def __repr__(self) -> str:
        return "PostgresStore(<conninfo not shown>)"


def _done(cursor: Any) -> _Done:
    """What a statement gave: its rows (none for a write) and the rows it changed."""
    rows = list(cursor.fetchall()) if cursor.description is not None else []
    return rows, int(cursor.rowcount)


class AsyncPostgresStore:
    """:class:`PostgresStore` for asyncio, with the same methods as coroutines, over
    ``psycopg_pool.AsyncConnectionPool`` (package ``psycopg-pool``, in the ``postgres`` extra);
    made with ``await AsyncPostgresStore.open(conninfo, spool_path=..., max_size=10)``, which
    opens the pool and the schema.

    ``max_size``: at most this many connections open at once (default: core's ``pool_max``,
    10; a call beyond them
    waits for one to come back, at most ``timeout`` seconds); one is kept open while idle.
    Each connection is checked before a call gets it (the pool's ``check``: its socket looked
    at, no round trip), so one the server dropped (a restart, a failover) is replaced, not
    failed on; the pool's workers reconnect while the server is down. ``timeout`` (default:
    core's ``connect_timeout_ms``, 10 s): how long a call
    waits for a connection before ``psycopg_pool.PoolTimeout`` (a ``psycopg.OperationalError``:
    the service makes it a ``StoreUnavailableError``), so a database that does not answer fails
    the call, never hangs it. The store's exceptions are psycopg's. Nothing of ``conninfo`` is
    shown in its ``repr``. :meth:`close` closes the pool."""

    def __init__(self, conninfo: str, *, spool_path: Union[str, Path, None] = None, max_size: Optional[int] = None,
                 timeout: Optional[float] = None) -> None:
        """Use :meth:`open`; a store made here opens its pool and the schema at its first call
        (the pool is made on the event loop that runs it)."""
        import psycopg_pool  # noqa: F401  (missing: ImportError here, not at the first call)

        max_size = _POSTGRES["pool_max"] if max_size is None else max_size
        if max_size < 1:
            raise ValueError("max_size must be at least 1")
        self._conninfo = conninfo
        self._args = {**_connect_args(conninfo), "autocommit": True}
        self._max_size = max_size
        self._timeout = _POSTGRES["connect_timeout_ms"] / 1000 if timeout is None else timeout
        self.spool_path = None if spool_path is None else Path(spool_path)
        self._plans = _Plans("postgres")
        self._pool: Any = None
        self._lock: Optional[asyncio.Lock] = None  # made on the loop (Python 3.9 binds one at creation)
        self._opened = False

    @classmethod
    async def open(cls, conninfo: str, *, spool_path: Union[str, Path, None] = None, max_size: Optional[int] = None,
                   timeout: Optional[float] = None) -> "AsyncPostgresStore":
        """A store with its pool and schema opened (created, migrated; a newer one raises
        ``InvalidStateError``; a server that cannot be reached in ``timeout`` seconds,
        ``psycopg_pool.PoolTimeout``)."""
        store = cls(conninfo, spool_path=spool_path, max_size=max_size, timeout=timeout)
        await store._open()
        return store

    async def _open(self) -> None:
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:  # one pool, one schema check, however many first calls
            if self._opened:
                return
            if self._pool is None:
                from psycopg_pool import AsyncConnectionPool

                pool = AsyncConnectionPool(self._conninfo, kwargs=self._args, min_size=1, max_size=self._max_size,
                                           timeout=self._timeout, open=False, check=_check, name="iproov-journeys")
                try:
                    await pool.open(wait=True, timeout=self._timeout)
                except BaseException:
                    await pool.close()  # its workers would go on trying to connect
                    raise
                self._pool = pool
            async with self._pool.connection() as conn:
                async with conn.transaction():
                    steps = self._plans.open()
                    try:
                        sql, params = next(steps)
                        while True:
                            sql, params = steps.send(await _adone(await conn.execute(sql, params or None)))
                    except StopIteration:
                        pass
            self._opened = True

    async def _run(self, plan: _Plan) -> Any:
        if not self._opened:
            await self._open()
        stmts, answer = plan
        if not stmts:
            return answer([])
        async with self._pool.connection() as conn:
            if len(stmts) == 1:
                return answer([await _adone(await conn.execute(*stmts[0]))])
            async with conn.transaction():
                return answer([await _adone(await conn.execute(sql, params)) for sql, params in stmts])

    async def get(self, table: str, id: str) -> Optional[Record]:
        """As :meth:`PostgresStore.get`."""
        found: Optional[Record] = await self._run(self._plans.get(table, id))
        return found

    async def insert(self, table: str, record: Record) -> bool:
        """As :meth:`PostgresStore.insert`."""
        return bool(await self._run(self._plans.insert(table, record)))

    async def update(self, table: str, record: Record, expected_version: int) -> bool:
        """As :meth:`PostgresStore.update`."""
        return bool(await self._run(self._plans.update(table, record, expected_version)))

    async def append_audit(self, journey_id: str, records: Sequence[Record]) -> None:
        """As :meth:`PostgresStore.append_audit`."""
        await self._run(self._plans.append_audit(journey_id, records))

    async def journeys_of(self, user_id: str) -> List[Record]:
        """As :meth:`PostgresStore.journeys_of`."""
        found: List[Record] = await self._run(self._plans.journeys_of(user_id))
        return found

    async def audit_of(self, journey_id: str) -> List[Record]:
        """As :meth:`PostgresStore.audit_of`."""
        found: List[Record] = await self._run(self._plans.audit_of(journey_id))
        return found

    async def delete_expired(self, now_ms: int) -> int:
        """As :meth:`PostgresStore.delete_expired`."""
        return int(await self._run(self._plans.delete_expired(now_ms)))

    async def forget(self, user_id: str) -> Dict[str, int]:
        """As :meth:`PostgresStore.forget`."""
        forgotten: Dict[str, int] = await self._run(self._plans.forget(user_id))
        return forgotten

    async def close(self) -> None:
        """Closes the pool (its connections, once the calls using them are done)."""
        if self._pool is not None:
            await self._pool.close()

    def __repr__(self) -> str:
        return "AsyncPostgresStore(<conninfo not shown>)"


async def _check(conn: Any) -> None:
    """The pool's check before it hands out ``conn``: a connection the server dropped is
    closed and refused (the pool replaces a closed one and hands out another; one left open
    would go back to it)."""
    if _dropped(conn):
        import psycopg

        await conn.close()
        raise psycopg.OperationalError("the server closed the connection")


async def _adone(cursor: Any) -> _Done:
    rows = list(await cursor.fetchall()) if cursor.description is not None else []
    return rows, int(cursor.rowcount)
