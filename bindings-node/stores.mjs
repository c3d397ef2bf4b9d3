// The Node package's journey stores (bundled by scripts/build-js.mjs into dist/stores.cjs):
// `SQLiteStore` (the embedded default: better-sqlite3 12.x, a file created on first use) and
// `PostgresStore` (many instances: node-postgres). Both use Python's schema (version 1,
// `iproov_sansio.stores`), so Python and Node instances can share one database. No journey
// logic lives here: each method is one statement (or one transaction of them).
//
// The drivers are optional peer dependencies, loaded (through the package entry's `require`)
// only when a store is made: a service that uses neither installs neither.
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { SCHEMA_VERSION, SqliteJourneyStore, checkSchema } from '../bindings-js/stores.mjs';

/** PostgreSQL statements, the same schema as Python's PostgresStore. */
const POSTGRES = Object.freeze({
  lock: 'SELECT pg_advisory_xact_lock(7283019)', // two instances creating the schema at once
  schemaTable: 'CREATE TABLE IF NOT EXISTS iproov_schema (version INTEGER NOT NULL)',
  schemaVersion: 'SELECT max(version) AS version FROM iproov_schema',
  create: Object.freeze([
    'CREATE TABLE IF NOT EXISTS iproov_journeys (id TEXT PRIMARY KEY, user_id TEXT NOT NULL,' +
      ' version BIGINT NOT NULL, expires_at_ms BIGINT NOT NULL, record JSONB NOT NULL, seq BIGSERIAL)',
    'CREATE INDEX IF NOT EXISTS iproov_journeys_user ON iproov_journeys (user_id)',
    'CREATE INDEX IF NOT EXISTS iproov_journeys_expiry ON iproov_journeys (expires_at_ms)',
    'CREATE TABLE IF NOT EXISTS iproov_audit (seq BIGSERIAL PRIMARY KEY, journey_id TEXT NOT NULL,' +
      ' record JSONB NOT NULL)',
    'CREATE INDEX IF NOT EXISTS iproov_audit_journey ON iproov_audit (journey_id)',
  ]),
  setVersion: 'INSERT INTO iproov_schema (version) VALUES ($1)',
  get: 'SELECT record FROM iproov_journeys WHERE id = $1',
  insert:
    'INSERT INTO iproov_journeys (id, user_id, version, expires_at_ms, record) VALUES ($1, $2, $3, $4, $5)' +
    ' ON CONFLICT (id) DO NOTHING',
  update: 'UPDATE iproov_journeys SET version = $1, expires_at_ms = $2, record = $3 WHERE id = $4 AND version = $5',
  journeysOf: 'SELECT record FROM iproov_journeys WHERE user_id = $1 ORDER BY seq',
  auditOf: 'SELECT record FROM iproov_audit WHERE journey_id = $1 ORDER BY seq',
  // One statement: the journeys go, and their audit records with them.
  deleteExpired:
    'WITH gone AS (DELETE FROM iproov_journeys WHERE expires_at_ms <= $1 RETURNING id),' +
    ' audit AS (DELETE FROM iproov_audit WHERE journey_id IN (SELECT id FROM gone))' +
    ' SELECT count(*)::int AS n FROM gone',
});

/** `INSERT ... VALUES ($1, $2), ($1, $3), ...`: one statement, rows (and `seq`) in order. */
function appendAuditSql(n) {
  const rows = Array.from({ length: n }, (_, i) => `($1, $${i + 2})`);
  return `INSERT INTO iproov_audit (journey_id, record) VALUES ${rows.join(', ')}`;
}

/**
 * The stores over the drivers `load(name)` gives (the package entry's `require`).
 * @returns {{SQLiteStore: Function, PostgresStore: Function}}
 */
export function makeNodeStores(load) {
  function driver(name, store) {
    try {
      return load(name);
    } catch (error) {
      if (error?.code === 'MODULE_NOT_FOUND') {
        const version = name === 'better-sqlite3' ? 'better-sqlite3@12' : name;
        throw new Error(`iproov-sansio: ${store} needs the "${name}" package: npm install ${version}`, { cause: error });
      }
      throw error;
    }
  }

  /**
   * Journeys in one SQLite file, for one machine: `path` is created with its directory on
   * first use (WAL mode, so readers do not wait for a writer). Safe to share between the
   * processes of a machine (writes wait up to `timeoutMs` for the file's write lock).
   * Synchronous underneath (better-sqlite3); the methods return plain values.
   */
  class SQLiteStore extends SqliteJourneyStore {
    #db;
    #path;

    /**
     * @param {string} [path] default `iproov-journeys.sqlite3` in the working directory
     * @param {{timeoutMs?: number}} [options] how long a write waits for another process's (30000)
     * @throws {Error} without better-sqlite3 installed, or for a store of a newer schema
     */
    constructor(path = 'iproov-journeys.sqlite3', { timeoutMs = 30_000 } = {}) {
      const Database = driver('better-sqlite3', 'SQLiteStore');
      const file = resolve(String(path));
      mkdirSync(dirname(file), { recursive: true });
      const db = new Database(file, { timeout: timeoutMs });
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      const statements = new Map();
      const prepared = (sql) => {
        let statement = statements.get(sql);
        if (statement === undefined) statements.set(sql, (statement = db.prepare(sql)));
        return statement;
      };
      try {
        super({
          rows: (sql, params) => {
            const statement = prepared(sql);
            if (statement.reader) return statement.all(...params);
            statement.run(...params);
            return [];
          },
          // IMMEDIATE: take the write lock at BEGIN, so two processes never both read, then
          // both fail to upgrade.
          tx: (fn) => db.transaction(fn).immediate(),
        });
      } catch (error) {
        db.close();
        throw error;
      }
      this.#db = db;
      this.#path = file;
    }

    /** The file's absolute path. */
    get path() {
      return this.#path;
    }

    /** Closes the file; the store is unusable afterwards. */
    close() {
      this.#db.close();
    }
  }

  /**
   * Journeys in PostgreSQL, for many instances of a service. Every method is one statement
   * through a `pg` pool; the compare-and-set of `update` is one `UPDATE ... WHERE version =
   * $5`. The schema is created (under an advisory lock) before the first statement.
   */
  class PostgresStore {
    #pool;
    #own; // a pool this store made (and `close()` ends)
    #ready;

    /**
     * @param {string | object} target a connection URL (`postgresql://user@host:port/db`), a
     *   `pg.Pool` config, or a pool (anything with `query` and `connect`: yours to end)
     * @throws {Error} without the `pg` package installed
     */
    constructor(target) {
      if (typeof target?.query === 'function' && typeof target?.connect === 'function') {
        this.#pool = target;
        this.#own = false;
      } else {
        const { Pool } = driver('pg', 'PostgresStore');
        this.#pool = new Pool(typeof target === 'string' ? { connectionString: target } : target);
        this.#own = true;
      }
    }

    /** Creates the schema once (a failure is retried by the next call). */
    #init() {
      this.#ready ??= (async () => {
        const client = await this.#pool.connect();
        try {
          await client.query('BEGIN');
          await client.query(POSTGRES.lock);
          await client.query(POSTGRES.schemaTable);
          const found = (await client.query(POSTGRES.schemaVersion)).rows[0]?.version ?? null;
          checkSchema(found);
          if (found === null) {
            for (const sql of POSTGRES.create) await client.query(sql);
            await client.query(POSTGRES.setVersion, [SCHEMA_VERSION]);
          }
          await client.query('COMMIT');
        } catch (error) {
          await client.query('ROLLBACK').catch(() => {});
          throw error;
        } finally {
          client.release();
        }
      })().catch((error) => {
        this.#ready = undefined;
        throw error;
      });
      return this.#ready;
    }

    async #query(sql, params) {
      await this.#init();
      return this.#pool.query(sql, params);
    }

    /** Waits for the schema: errors of the connection or schema surface here. */
    async ready() {
      await this.#init();
    }

    /** The record (core's JSON), or `null`. */
    async get(journeyId) {
      const { rows } = await this.#query(POSTGRES.get, [journeyId]);
      return rows.length === 0 ? null : rows[0].record;
    }

    /** Stores a new record; `false` when its id exists. */
    async insert(record) {
      const args = [record.id, record.user_id, record.version, record.expires_at_ms, JSON.stringify(record)];
      return (await this.#query(POSTGRES.insert, args)).rowCount === 1;
    }

    /** Replaces the record if the stored one has `expectedVersion`; `false` otherwise. */
    async update(record, expectedVersion) {
      const args = [record.version, record.expires_at_ms, JSON.stringify(record), record.id, expectedVersion];
      return (await this.#query(POSTGRES.update, args)).rowCount === 1;
    }

    /** Appends audit records to the journey's, in order (one statement). */
    async appendAudit(journeyId, records) {
      if (records.length === 0) return;
      await this.#query(appendAuditSql(records.length), [journeyId, ...records.map((r) => JSON.stringify(r))]);
    }

    /** The user's records, oldest first. */
    async journeysOf(userId) {
      return (await this.#query(POSTGRES.journeysOf, [userId])).rows.map((row) => row.record);
    }

    /** The journey's audit records, in order. */
    async auditOf(journeyId) {
      return (await this.#query(POSTGRES.auditOf, [journeyId])).rows.map((row) => row.record);
    }

    /** Deletes the journeys (and their audit records) with `expires_at_ms <= nowMs`; gives how many journeys. */
    async deleteExpired(nowMs) {
      return (await this.#query(POSTGRES.deleteExpired, [nowMs])).rows[0].n;
    }

    /** Ends the pool this store made (a pool you passed stays yours). */
    async close() {
      if (this.#own) await this.#pool.end();
    }

    toString() {
      return 'PostgresStore(<connection not shown>)';
    }
  }

  return { SQLiteStore, PostgresStore };
}
