// Journey stores over SQLite's dialect, shared by the Node package's `SQLiteStore`
// (better-sqlite3) and the edge package's `DurableObjectStore` (a Durable Object's
// `ctx.storage.sql`). The schema is Python's (`iproov_sansio.stores`, version 1), so one file
// can serve both languages. Core's record is kept whole as JSON, with four columns beside it to
// look it up (id, user_id, version, expires_at_ms), and written only over the version read
// (compare-and-set). No journey logic lives here.
//
// Schema version 1 (created when missing; a newer one is refused):
//   iproov_schema(version)
//   iproov_journeys(id PRIMARY KEY, user_id, version, expires_at_ms, record)
//   iproov_audit(seq, journey_id, record)

/** The schema version these stores create and read (Python's `stores.SCHEMA_VERSION`). */
export const SCHEMA_VERSION = 1;

/** Throws when a store holds a schema newer than this package knows. */
export function checkSchema(found) {
  if (found !== null && found !== undefined && Number(found) > SCHEMA_VERSION) {
    throw new Error(`iproov-sansio: the store's schema is version ${found}; this package knows up to ${SCHEMA_VERSION}`);
  }
}

/** SQLite statements, the same as Python's SQLiteStore's (RETURNING tells a write that took). */
export const SQLITE = Object.freeze({
  schemaTable: 'CREATE TABLE IF NOT EXISTS iproov_schema (version INTEGER NOT NULL)',
  schemaVersion: 'SELECT max(version) AS version FROM iproov_schema',
  create: Object.freeze([
    'CREATE TABLE IF NOT EXISTS iproov_journeys (id TEXT PRIMARY KEY, user_id TEXT NOT NULL,' +
      ' version INTEGER NOT NULL, expires_at_ms INTEGER NOT NULL, record TEXT NOT NULL)',
    'CREATE INDEX IF NOT EXISTS iproov_journeys_user ON iproov_journeys (user_id)',
    'CREATE INDEX IF NOT EXISTS iproov_journeys_expiry ON iproov_journeys (expires_at_ms)',
    'CREATE TABLE IF NOT EXISTS iproov_audit (seq INTEGER PRIMARY KEY AUTOINCREMENT,' +
      ' journey_id TEXT NOT NULL, record TEXT NOT NULL)',
    'CREATE INDEX IF NOT EXISTS iproov_audit_journey ON iproov_audit (journey_id)',
  ]),
  setVersion: 'INSERT INTO iproov_schema (version) VALUES (?)',
  get: 'SELECT record FROM iproov_journeys WHERE id = ?',
  insert:
    'INSERT INTO iproov_journeys (id, user_id, version, expires_at_ms, record) VALUES (?, ?, ?, ?, ?)' +
    ' ON CONFLICT (id) DO NOTHING RETURNING id',
  update: 'UPDATE iproov_journeys SET version = ?, expires_at_ms = ?, record = ? WHERE id = ? AND version = ? RETURNING id',
  appendAudit: 'INSERT INTO iproov_audit (journey_id, record) VALUES (?, ?)',
  journeysOf: 'SELECT record FROM iproov_journeys WHERE user_id = ? ORDER BY rowid',
  auditOf: 'SELECT record FROM iproov_audit WHERE journey_id = ? ORDER BY seq',
  deleteExpiredAudit: 'DELETE FROM iproov_audit WHERE journey_id IN (SELECT id FROM iproov_journeys WHERE expires_at_ms <= ?)',
  deleteExpired: 'DELETE FROM iproov_journeys WHERE expires_at_ms <= ? RETURNING id',
});

/**
 * A journey store over any SQLite connection, given as `{rows(sql, params) -> row objects,
 * tx(fn) -> fn's value, run atomically under the write lock}`. Creates schema version 1 when
 * missing. Every method is synchronous (both SQLite APIs it serves are).
 */
export class SqliteJourneyStore {
  #db;

  constructor(db) {
    this.#db = db;
    db.tx(() => {
      db.rows(SQLITE.schemaTable, []);
      const [row] = db.rows(SQLITE.schemaVersion, []);
      const found = row?.version ?? null;
      checkSchema(found);
      if (found === null) {
        for (const sql of SQLITE.create) db.rows(sql, []);
        db.rows(SQLITE.setVersion, [SCHEMA_VERSION]);
      }
    });
  }

  /** The record (core's JSON), or `null`. */
  get(journeyId) {
    const [row] = this.#db.rows(SQLITE.get, [journeyId]);
    return row === undefined ? null : JSON.parse(row.record);
  }

  /** Stores a new record; `false` when its id exists. */
  insert(record) {
    const args = [record.id, record.user_id, record.version, record.expires_at_ms, JSON.stringify(record)];
    return this.#db.rows(SQLITE.insert, args).length === 1;
  }

  /** Replaces the record if the stored one has `expectedVersion`; `false` otherwise. */
  update(record, expectedVersion) {
    const args = [record.version, record.expires_at_ms, JSON.stringify(record), record.id, expectedVersion];
    return this.#db.rows(SQLITE.update, args).length === 1;
  }

  /** Appends audit records (objects) to the journey's, in order, in one transaction. */
  appendAudit(journeyId, records) {
    if (records.length === 0) return;
    this.#db.tx(() => {
      for (const record of records) this.#db.rows(SQLITE.appendAudit, [journeyId, JSON.stringify(record)]);
    });
  }

  /** The user's records, oldest first. */
  journeysOf(userId) {
    return this.#db.rows(SQLITE.journeysOf, [userId]).map((row) => JSON.parse(row.record));
  }

  /** The journey's audit records, in order. */
  auditOf(journeyId) {
    return this.#db.rows(SQLITE.auditOf, [journeyId]).map((row) => JSON.parse(row.record));
  }

  /** Deletes the journeys (and their audit records) with `expires_at_ms <= nowMs`; gives how many journeys. */
  deleteExpired(nowMs) {
    return this.#db.tx(() => {
      this.#db.rows(SQLITE.deleteExpiredAudit, [nowMs]);
      return this.#db.rows(SQLITE.deleteExpired, [nowMs]).length;
    });
  }
}

/**
 * Journeys in a Durable Object's SQLite storage, for workers: pass the object's `ctx.storage`
 * (a SQLite-backed class: wrangler's `new_sqlite_classes`, workerd's `enableSql = true`). All
 * requests for the object run in it, one at a time between awaits, so its journeys' writes are
 * serialised there; the compare-and-set still guards a validate against a second request that
 * arrives while the first one's call to iProov is on its way.
 */
export class DurableObjectStore extends SqliteJourneyStore {
  /**
   * @param {{sql: {exec(sql: string, ...bindings: unknown[]): {toArray(): object[]}},
   *   transactionSync<T>(fn: () => T): T}} storage the Durable Object's `ctx.storage`
   * @throws {TypeError} when `storage` has no SQL API (a key-value-backed Durable Object)
   */
  constructor(storage) {
    if (typeof storage?.sql?.exec !== 'function' || typeof storage?.transactionSync !== 'function') {
      throw new TypeError('DurableObjectStore needs a SQLite-backed Durable Object: pass ctx.storage of a class declared with new_sqlite_classes (wrangler) or enableSql (workerd)');
    }
    super({
      rows: (sql, params) => storage.sql.exec(sql, ...params).toArray(),
      tx: (fn) => storage.transactionSync(fn),
    });
  }
}
