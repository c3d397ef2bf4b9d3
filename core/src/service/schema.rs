//! The store's tables and every statement the hosts' stores run, for SQLite and PostgreSQL,
//! written once here (Python's `stores`, Node's and the Durable Object's stores only run them).
//!
//! Schema version 2:
//!
//! ```text
//! iproov_schema(version)
//! iproov_journeys(id PRIMARY KEY, user_id, version, expires_at_ms, record)   -- JourneyRecord
//! iproov_audit(seq, journey_id, record)                                      -- audit records
//! iproov_users(id PRIMARY KEY, version, expires_at_ms, record)               -- UserRecord
//! ```
//!
//! Each record is core's JSON kept whole, with the columns beside it that look it up. A write
//! took when its statement changed one row (the driver's row count: Python sqlite3's and
//! psycopg's `rowcount`, better-sqlite3's `changes`, node-postgres' `rowCount`, and in a
//! Durable Object `SELECT changes()` after it: a cursor's `rowsWritten` counts index entries
//! too): an insert over an existing id and an update over another
//! version change none (compare-and-set). No statement needs more than SQLite 3.8 (no
//! `RETURNING`, no upsert: RHEL 8 and Amazon Linux 2 ship older SQLites than 3.35) or
//! PostgreSQL 9.5. Version 1 (no users table) is migrated by creating it.

use crate::error::Error;
use serde_json::{Value, json};

/// The schema version these statements create and read.
pub const VERSION: u32 = 2;

/// The advisory lock PostgreSQL stores take while they create or migrate the schema (two
/// instances starting at once).
const PG_LOCK: i64 = 7_283_019;

struct Dialect {
    name: &'static str,
    /// The column type of a record (JSON text in SQLite, JSONB in PostgreSQL).
    json: &'static str,
    /// A record's value as text on the way out.
    out: &'static str,
    int: &'static str,
    /// The journeys table's extra insertion-order column (PostgreSQL has no rowid).
    seq: &'static str,
    order: &'static str,
    audit_seq: &'static str,
}

const SQLITE: Dialect = Dialect {
    name: "sqlite",
    json: "TEXT",
    out: "record",
    int: "INTEGER",
    seq: "",
    order: "rowid",
    audit_seq: "seq INTEGER PRIMARY KEY AUTOINCREMENT",
};

const POSTGRES: Dialect = Dialect {
    name: "postgres",
    json: "JSONB",
    out: "record::text AS record",
    int: "BIGINT",
    seq: ", seq BIGSERIAL",
    order: "seq",
    audit_seq: "seq BIGSERIAL PRIMARY KEY",
};

impl Dialect {
    /// The `n`th placeholder (1-based).
    fn p(&self, n: usize) -> String {
        match self.name {
            "sqlite" => "?".to_owned(),
            _ => format!("${n}"),
        }
    }

    /// A record parameter: JSON text, cast where the column is JSONB.
    fn record(&self, n: usize) -> String {
        match self.name {
            "sqlite" => "?".to_owned(),
            _ => format!("${n}::jsonb"),
        }
    }

    fn users_table(&self) -> String {
        format!(
            "CREATE TABLE IF NOT EXISTS iproov_users (id TEXT PRIMARY KEY, version {int} NOT NULL, \
             expires_at_ms {int} NOT NULL, record {json} NOT NULL)",
            int = self.int,
            json = self.json
        )
    }

    fn create(&self) -> Vec<String> {
        vec![
            format!(
                "CREATE TABLE IF NOT EXISTS iproov_journeys (id TEXT PRIMARY KEY, user_id TEXT NOT \
                 NULL, version {int} NOT NULL, expires_at_ms {int} NOT NULL, record {json} NOT \
                 NULL{seq})",
                int = self.int,
                json = self.json,
                seq = self.seq
            ),
            "CREATE INDEX IF NOT EXISTS iproov_journeys_user ON iproov_journeys (user_id)".into(),
            "CREATE INDEX IF NOT EXISTS iproov_journeys_expiry ON iproov_journeys (expires_at_ms)"
                .into(),
            format!(
                "CREATE TABLE IF NOT EXISTS iproov_audit ({}, journey_id TEXT NOT NULL, record {} \
                 NOT NULL)",
                self.audit_seq, self.json
            ),
            "CREATE INDEX IF NOT EXISTS iproov_audit_journey ON iproov_audit (journey_id)".into(),
            self.users_table(),
            "CREATE INDEX IF NOT EXISTS iproov_users_expiry ON iproov_users (expires_at_ms)".into(),
        ]
    }

    /// `INSERT` that skips an existing id (SQLite's `OR IGNORE`, PostgreSQL's `ON CONFLICT`).
    fn insert(&self, table: &str, columns: &str, values: &str) -> String {
        match self.name {
            "sqlite" => format!("INSERT OR IGNORE INTO {table} ({columns}) VALUES ({values})"),
            _ => format!(
                "INSERT INTO {table} ({columns}) VALUES ({values}) ON CONFLICT (id) DO NOTHING"
            ),
        }
    }

    fn statements(&self) -> Value {
        let p = |n| self.p(n);
        let r = |n| self.record(n);
        let stmt = |sql: String, params: &[&str]| json!({"sql": sql, "params": params});
        json!({
            "get": {
                "journeys": stmt(format!("SELECT {} FROM iproov_journeys WHERE id = {}", self.out, p(1)), &["id"]),
                "users": stmt(format!("SELECT {} FROM iproov_users WHERE id = {}", self.out, p(1)), &["id"]),
            },
            "insert": {
                "journeys": stmt(self.insert(
                    "iproov_journeys",
                    "id, user_id, version, expires_at_ms, record",
                    &format!("{}, {}, {}, {}, {}", p(1), p(2), p(3), p(4), r(5)),
                ), &["id", "user_id", "version", "expires_at_ms", "record"]),
                "users": stmt(self.insert(
                    "iproov_users",
                    "id, version, expires_at_ms, record",
                    &format!("{}, {}, {}, {}", p(1), p(2), p(3), r(4)),
                ), &["id", "version", "expires_at_ms", "record"]),
            },
            "update": {
                "journeys": stmt(format!(
                    "UPDATE iproov_journeys SET version = {}, expires_at_ms = {}, record = {} WHERE id \
                     = {} AND version = {}",
                    p(1), p(2), r(3), p(4), p(5)
                ), &["version", "expires_at_ms", "record", "id", "expected_version"]),
                "users": stmt(format!(
                    "UPDATE iproov_users SET version = {}, expires_at_ms = {}, record = {} WHERE id = \
                     {} AND version = {}",
                    p(1), p(2), r(3), p(4), p(5)
                ), &["version", "expires_at_ms", "record", "id", "expected_version"]),
            },
            "append_audit": stmt(format!(
                "INSERT INTO iproov_audit (journey_id, record) VALUES ({}, {})", p(1), r(2)
            ), &["journey_id", "record"]),
            "journeys_of": stmt(format!(
                "SELECT {} FROM iproov_journeys WHERE user_id = {} ORDER BY {}", self.out, p(1), self.order
            ), &["user_id"]),
            "audit_of": stmt(format!(
                "SELECT {} FROM iproov_audit WHERE journey_id = {} ORDER BY seq", self.out, p(1)
            ), &["journey_id"]),
            // In one transaction, in order; the journeys deleted are the rows the one marked
            // `count` changed.
            "delete_expired": [
                stmt(format!(
                    "DELETE FROM iproov_audit WHERE journey_id IN (SELECT id FROM iproov_journeys \
                     WHERE expires_at_ms <= {})", p(1)
                ), &["now_ms"]),
                json!({"sql": format!("DELETE FROM iproov_journeys WHERE expires_at_ms <= {}", p(1)),
                       "params": ["now_ms"], "count": true}),
                stmt(format!("DELETE FROM iproov_users WHERE expires_at_ms <= {}", p(1)), &["now_ms"]),
            ],
            // A user erased, in one transaction, in order; each statement's `count` names what
            // the rows it changed are (the event's `forgotten` fields).
            "forget": [
                json!({"sql": format!(
                    "DELETE FROM iproov_audit WHERE journey_id IN (SELECT id FROM iproov_journeys \
                     WHERE user_id = {})", p(1)
                ), "params": ["user_id"], "count": "audit_records"}),
                json!({"sql": format!("DELETE FROM iproov_journeys WHERE user_id = {}", p(1)),
                       "params": ["user_id"], "count": "journeys"}),
                stmt(format!("DELETE FROM iproov_users WHERE id = {}", p(1)), &["user_id"]),
            ],
        })
    }
}

/// How long a write to an SQLite file waits for another connection's lock by default (ms):
/// long enough for any other writer's few statements, short enough that a wedged file fails
/// a request (and its page) within seconds.
pub const SQLITE_BUSY_TIMEOUT_MS: u64 = 10_000;

/// How long a host waits for a PostgreSQL connection by default (ms): to connect, and for a
/// free one of its pool. A database host that does not answer (a failover, a dropped route)
/// then fails the call as `store_unavailable` within seconds instead of hanging it.
pub const POSTGRES_CONNECT_TIMEOUT_MS: u64 = 10_000;

/// The most connections a host's own PostgreSQL pool opens by default: a service's requests
/// each hold one for a few statements, and many instances share the server's limit.
pub const POSTGRES_POOL_MAX: u64 = 10;

/// Every statement of `dialect` (`sqlite` or `postgres`) as JSON:
///
/// ```text
/// {"version": 2, "dialect", "lock": sql | null, "schema_table", "schema_version",
///  "create": [sql], "migrations": [{"from": 1, "statements": [sql]}],
///  "set_version": {"sql", "params": ["version"]},
///  "get" | "insert" | "update": {"journeys": {"sql", "params"}, "users": {...}},
///  "append_audit" | "journeys_of" | "audit_of": {"sql", "params"},
///  "delete_expired": [{"sql", "params", "count"?: true}],
///  "forget": [{"sql", "params", "count"?: "audit_records" | "journeys"}]}
/// ```
///
/// `params` name each placeholder's value in order: a record's field (`id`, `user_id`,
/// `version`, `expires_at_ms`), `record` (the record as JSON text), `expected_version`,
/// `journey_id`, `now_ms`, `version` (the schema's). Placeholders are `?` (SQLite) and `$n`
/// (PostgreSQL; psycopg's `%s` is the same list in order). Records come back as JSON text in
/// a column named `record`. A write took when it changed one row (the module docs);
/// `delete_expired`'s count is the rows its statement marked `"count": true` changed. A store opens with: `lock` (PostgreSQL, in a transaction),
/// `schema_table`, `schema_version` (one row, column `version`); none: `create`, then
/// `set_version` with [`VERSION`]; an older one: its migrations in order, then `set_version`;
/// a newer one: refuse to run ([`check_version`]). `connection`: for SQLite, the `pragmas`
/// to run on each new connection and its default `busy_timeout_ms`; for PostgreSQL, the
/// default `connect_timeout_ms` (to connect, and to wait for a pooled connection) and
/// `pool_max` (the most connections a host's own pool opens).
pub fn schema(dialect: &str) -> Result<Value, Error> {
    let d = match dialect {
        "sqlite" => &SQLITE,
        "postgres" => &POSTGRES,
        _ => return Err(Error::invalid_input("dialect", "sqlite or postgres")),
    };
    let mut out = d.statements();
    if let Value::Object(map) = &mut out {
        map.insert("version".into(), json!(VERSION));
        map.insert("dialect".into(), json!(d.name));
        map.insert(
            "lock".into(),
            match d.name {
                "postgres" => json!(format!("SELECT pg_advisory_xact_lock({PG_LOCK})")),
                _ => Value::Null,
            },
        );
        map.insert(
            "schema_table".into(),
            json!("CREATE TABLE IF NOT EXISTS iproov_schema (version INTEGER NOT NULL)"),
        );
        map.insert(
            "schema_version".into(),
            json!("SELECT max(version) AS version FROM iproov_schema"),
        );
        // How a host opens a connection: for PostgreSQL, its connect and pool-wait timeout and
        // its pool's size (a host's own pool; one the application hands in is its own); for an
        // SQLite file (not a Durable Object's SQL, whose durability is the platform's): WAL,
        // so readers never wait for a writer; synchronous=FULL, so a committed write (a `validating` attempt,
        // which keeps validate one-shot, or an outcome) survives a power cut, where NORMAL
        // may lose the last commits; a writer waits this long for another's lock, then the
        // call fails (store_unavailable: the pump decides).
        map.insert(
            "connection".into(),
            match d.name {
                "sqlite" => {
                    json!({"pragmas": ["PRAGMA journal_mode=WAL", "PRAGMA synchronous=FULL"],
                                   "busy_timeout_ms": SQLITE_BUSY_TIMEOUT_MS})
                }
                _ => json!({"connect_timeout_ms": POSTGRES_CONNECT_TIMEOUT_MS,
                            "pool_max": POSTGRES_POOL_MAX}),
            },
        );
        map.insert("create".into(), json!(d.create()));
        map.insert(
            "migrations".into(),
            json!([{"from": 1, "statements": [d.users_table(),
                "CREATE INDEX IF NOT EXISTS iproov_users_expiry ON iproov_users (expires_at_ms)"]}]),
        );
        map.insert(
            "set_version".into(),
            json!({"sql": format!("INSERT INTO iproov_schema (version) VALUES ({})", d.p(1)),
                   "params": ["version"]}),
        );
    }
    Ok(out)
}

/// Refuses a store whose schema is newer than this build knows (`invalid_state`, naming both
/// versions): its records may hold what this build would drop.
pub fn check_version(found: u32) -> Result<(), Error> {
    if found > VERSION {
        return Err(Error::invalid_state(format!(
            "the store's schema is version {found}; this build knows up to {VERSION}: upgrade \
             iproov-sansio everywhere that shares the store"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_match_their_params() {
        for dialect in ["sqlite", "postgres"] {
            let s = schema(dialect).unwrap();
            let mut stmts = vec![
                s["append_audit"].clone(),
                s["journeys_of"].clone(),
                s["audit_of"].clone(),
            ];
            for op in ["get", "insert", "update"] {
                for table in ["journeys", "users"] {
                    stmts.push(s[op][table].clone());
                }
            }
            stmts.extend(s["delete_expired"].as_array().unwrap().iter().cloned());
            stmts.extend(s["forget"].as_array().unwrap().iter().cloned());
            for stmt in stmts {
                let sql = stmt["sql"].as_str().unwrap();
                let n = stmt["params"].as_array().unwrap().len();
                let found = if dialect == "sqlite" {
                    sql.matches('?').count()
                } else {
                    (1..=9).filter(|i| sql.contains(&format!("${i}"))).count()
                };
                assert_eq!(found, n, "{dialect}: {sql}");
            }
        }
        assert_eq!(schema("mysql").unwrap_err().field(), Some("dialect"));
        assert!(check_version(VERSION).is_ok());
        assert_eq!(
            check_version(VERSION + 1).unwrap_err().code(),
            "invalid_state"
        );
    }

    #[test]
    fn each_dialect_says_how_to_connect_and_only_postgres_locks() {
        let (sqlite, postgres) = (schema("sqlite").unwrap(), schema("postgres").unwrap());
        assert!(sqlite["lock"].is_null());
        assert!(
            postgres["lock"]
                .as_str()
                .unwrap()
                .contains("pg_advisory_xact_lock")
        );
        assert_eq!(
            sqlite["connection"]["busy_timeout_ms"],
            SQLITE_BUSY_TIMEOUT_MS
        );
        let pg = &postgres["connection"];
        assert_eq!(pg["connect_timeout_ms"], POSTGRES_CONNECT_TIMEOUT_MS);
        assert_eq!(pg["pool_max"], POSTGRES_POOL_MAX);
    }
}
