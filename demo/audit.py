"""The demo's audit store: core's audit records in a local SQLite file (Python's sqlite3).

    python demo/audit.py load HOST FILE.jsonl ...   # store JSON-lines records as HOST's
    python demo/audit.py show                       # a table per host

The Python host stores its records itself, from the client's ``audit=`` hook
(demo/journey.py); the Node and edge hosts write JSON lines that ``load`` stores. The file is
$IPROOV_DEMO_DIR/audit.sqlite3 (default target/demo/). Records are core's, stored as they are:
they never hold a secret.
"""

from __future__ import annotations

import json
import os
import sqlite3
import sys
from typing import Any, Dict, Iterable, List, Optional

HOSTS = ("python", "node", "worker")

SCHEMA = """
CREATE TABLE IF NOT EXISTS audit_records (
    id         INTEGER PRIMARY KEY,
    host       TEXT NOT NULL,          -- python, node, worker
    at         TEXT NOT NULL,          -- core's RFC 3339 time of the record
    operation  TEXT NOT NULL,          -- core's operation name
    outcome    TEXT NOT NULL,          -- token_issued, passed, failed, ok, error, ...
    user_id    TEXT,
    attempt    INTEGER,
    error_code TEXT,
    status     INTEGER,
    record     TEXT NOT NULL           -- core's audit record, as JSON
)
"""


def db_path() -> str:
    return os.path.join(os.environ.get("IPROOV_DEMO_DIR") or "target/demo", "audit.sqlite3")


def open_db(path: Optional[str] = None) -> sqlite3.Connection:
    path = path or db_path()
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    db = sqlite3.connect(path)
    # WAL with synchronous=NORMAL: each record is committed without an fsync per commit (safe
    # against the process dying; the usual setting for an application's SQLite log).
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute(SCHEMA)
    return db


def store(db: sqlite3.Connection, host: str, record: Dict[str, Any]) -> None:
    """Stores one audit record of ``host``."""
    error = record.get("error") or {}
    db.execute(
        "INSERT INTO audit_records (host, at, operation, outcome, user_id, attempt, error_code, status, record)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            host,
            record["at"],
            record["operation"],
            record["outcome"],
            record.get("user_id"),
            record.get("attempt"),
            error.get("code"),
            error.get("status"),
            json.dumps(record, sort_keys=True),
        ),
    )
    db.commit()


def forget(db: sqlite3.Connection, host: str) -> None:
    """Drops ``host``'s records (each run of a host replaces its own)."""
    db.execute("DELETE FROM audit_records WHERE host = ?", (host,))
    db.commit()


def load(db: sqlite3.Connection, host: str, path: str) -> int:
    forget(db, host)
    count = 0
    with open(path, encoding="utf-8") as lines:
        for line in lines:
            if line.strip():
                store(db, host, json.loads(line))
                count += 1
    return count


def _detail(record: Dict[str, Any]) -> str:
    error = record.get("error")
    if error:
        return f"{error.get('code')} ({error.get('status', '-')})"
    result = record.get("result") or {}
    if "passed" in result:
        return "passed" if result["passed"] else f"not passed: {result.get('reason')}"
    if "status" in result:
        return f"user {result['status']}"
    if "token" in result:
        return f"token {result['token'][:8]}…"
    if "token_type" in result:
        return f"{result['token_type']}, {result.get('expires_in')} s"
    return ""


def _table(rows: List[List[str]], header: List[str]) -> Iterable[str]:
    widths = [max(len(str(r[i])) for r in [header] + rows) for i in range(len(header))]
    yield "  ".join(h.ljust(w) for h, w in zip(header, widths)).rstrip()
    yield "  ".join("-" * w for w in widths)
    for row in rows:
        yield "  ".join(str(c).ljust(w) for c, w in zip(row, widths)).rstrip()


def show(db: sqlite3.Connection) -> None:
    print(f"audit records in {db_path()} (table audit_records: core's record as JSON, plus columns to query)")
    for host in HOSTS:
        rows = db.execute(
            "SELECT at, operation, outcome, attempt, user_id, record FROM audit_records WHERE host = ? ORDER BY id",
            (host,),
        ).fetchall()
        print(f"\n-- {host}: {len(rows)} audit records")
        if not rows:
            continue
        table = [
            [at[11:23], operation, outcome, "-" if attempt is None else attempt, (user or "-")[:8], _detail(json.loads(rec))]
            for at, operation, outcome, attempt, user, rec in rows
        ]
        for line in _table(table, ["time", "operation", "outcome", "attempt", "user", "detail"]):
            print(f"   {line}")


def main(argv: List[str]) -> int:
    if len(argv) >= 1 and argv[0] == "load" and len(argv) % 2 == 1:
        db = open_db()
        for host, path in zip(argv[1::2], argv[2::2]):
            print(f"    {load(db, host, path)} {host} audit records from {path} → {db_path()}")
        db.close()
        return 0
    if argv == ["show"]:
        db = open_db()
        show(db)
        db.close()
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
