"""The journey store over Django's own database connection: core's statements (SQLite or
PostgreSQL), run through ``django.db.connections[alias]``, and the schema opened by this app's
migrations with core's statements too."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Dict, List, Optional, Union

from django.core.exceptions import ImproperlyConfigured
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections, transaction
from django.db.backends.base.base import BaseDatabaseWrapper

from .._errors import InvalidStateError
from ..stores import _Done, _Plans, _Stmt, _SyncStore, _done

__all__ = ["DjangoStore", "open_schema"]

_log = logging.getLogger("iproov_sansio.django")
_DIALECTS = {"sqlite": "sqlite", "postgresql": "postgres"}


def _plans(connection: BaseDatabaseWrapper) -> _Plans:
    """Core's statements for the connection's database, with Django's ``%s`` placeholders."""
    dialect = _DIALECTS.get(connection.vendor)
    if dialect is None:
        raise ImproperlyConfigured(f"iproov_sansio.django: the journeys need SQLite or PostgreSQL, not {connection.vendor}")
    plans = _Plans(dialect)  # PostgreSQL's already in psycopg's %s form
    if dialect == "sqlite":
        _qmarks(plans.schema)
    return plans


def _qmarks(value: Any) -> Any:
    """SQLite's ``?`` placeholders as Django's ``%s`` (and a ``%`` as ``%%``), in place."""
    if isinstance(value, dict):
        if "sql" in value and "params" in value:
            sql = value["sql"]
            if sql.count("?") != len(value["params"]):
                raise ValueError(f"core's statement does not have one ? per parameter: {sql}")
            value["sql"] = sql.replace("%", "%%").replace("?", "%s")
        else:
            for item in value.values():
                _qmarks(item)
    elif isinstance(value, list):
        for item in value:
            _qmarks(item)
    return value


def _run(cursor: Any, sql: str, params: Any) -> _Done:
    cursor.execute(sql, params or None)  # no parameters: the statement as it is (DDL)
    return _done(cursor)


def open_schema(connection: BaseDatabaseWrapper) -> None:
    """Creates core's tables, or migrates them to core's schema version (the migrations run
    this; a newer schema raises ``InvalidStateError``). Runs in the migration's transaction."""
    steps = _plans(connection).open()
    with connection.cursor() as cursor:
        try:
            sql, params = next(steps)
            while True:
                sql, params = steps.send(_run(cursor, sql, params))
        except StopIteration:
            pass


class DjangoStore(_SyncStore):
    """Journeys in the Django project's database ``using`` (an alias of ``DATABASES``), through
    Django's connection for the calling thread: each call one of core's statements, or one
    transaction (``transaction.atomic``) of them. SQLite or PostgreSQL; the tables come from
    ``manage.py migrate`` (this app's migrations run core's statements).

    A write is refused (``InvalidStateError``, logged) inside a transaction the store did not
    open (``transaction.atomic``, ``ATOMIC_REQUESTS``, autocommit off): the journey service
    relies on each write being committed when it returns. ``spool_path``: where a service keeps
    its spool; by default beside an SQLite database file, none for PostgreSQL (give one)."""

    def __init__(self, using: str = DEFAULT_DB_ALIAS, *, spool_path: Union[str, Path, None] = None) -> None:
        self.using = using
        connection = connections[using]
        self._plans = _plans(connection)
        name = connection.settings_dict.get("NAME")
        if spool_path is None and connection.vendor == "sqlite" and name and not str(name).startswith((":memory:", "file:")):
            spool_path = f"{name}.iproov-spool.jsonl"
        self.spool_path: Optional[Path] = None if spool_path is None else Path(spool_path)
        self._version_checked = False

    def _execute(self, stmts: List[_Stmt]) -> List[_Done]:
        connection = connections[self.using]
        writes = any(not sql.lstrip().upper().startswith("SELECT") for sql, _ in stmts)
        if writes and (connection.in_atomic_block or not connection.get_autocommit()):
            self._refuse("a journey store write inside a transaction it did not open (transaction.atomic or "
                         "ATOMIC_REQUESTS): the journey service needs each write committed when it returns; call "
                         "it outside the transaction (views: @transaction.non_atomic_requests)")
        if not self._version_checked:
            self._check_version(connection)
        if len(stmts) == 1:
            with connection.cursor() as cursor:
                return [_run(cursor, *stmts[0])]
        with transaction.atomic(using=self.using), connection.cursor() as cursor:
            return [_run(cursor, sql, params) for sql, params in stmts]

    def _check_version(self, connection: BaseDatabaseWrapper) -> None:
        """Once: the tables are core's schema version, as this build's migrations make them."""
        schema: Dict[str, Any] = self._plans.schema
        try:
            with connection.cursor() as cursor:
                found = _run(cursor, schema["schema_version"], None)[0][0][0]
        except DatabaseError as error:  # its message may quote the connection: only its class
            _log.error("iproov_sansio.django: the journey tables cannot be read (%s): has manage.py migrate run?",
                       type(error).__name__)
            raise
        if found != schema["version"]:
            upgrade = "upgrade iproov-sansio here" if found is not None and found > schema["version"] else \
                "run manage.py migrate iproov"
            self._refuse(f"the journey tables are schema version {found}, this build's is {schema['version']}: {upgrade}")
        self._version_checked = True

    @staticmethod
    def _refuse(message: str) -> None:
        _log.error("iproov_sansio.django: %s", message)
        raise InvalidStateError({"code": "invalid_state", "kind": "invalid_state", "message": message})

    def __repr__(self) -> str:
        return f"DjangoStore({self.using!r})"
