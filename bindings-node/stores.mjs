// The Node package's journey stores (bundled by scripts/build-js.mjs into dist/stores.cjs):
// `SQLiteStore` (the embedded default: better-sqlite3 12.x, a file created on first use) and
// `PostgresStore` (many instances: node-postgres), with the spool file beside them
// (spool.mjs). Both run core's statements (`storeSchema`, core/src/service/schema.rs), the
// same as Python's stores, so Python and Node instances can share one database. No journey
// logic and no SQL lives here: each method is one of core's statements (or one transaction).
//
// The drivers are optional peer dependencies, loaded (through the package entry's `require`)
// only when a store is made: a service that uses neither installs neither.
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { SqliteJourneyStore, bind, openingStatements, statementOf } from '../bindings-js/stores.mjs';
import { FileSpool } from './spool.mjs';

export { FileSpool };

/** A spool option as a spool: a path, a spool object, or `false` (none). */
function spoolOf(option) {
  if (option === false) return false;
  if (typeof option === 'string') return new FileSpool(option);
  return option;
}

/**
 * The stores over the drivers `load(name)` gives (the package entry's `require`) and core's
 * `schema(dialect)` (parsed `storeSchema`) and `errorFromJSON`.
 * @returns {{SQLiteStore: Function, PostgresStore: Function, FileSpool: typeof FileSpool}}
 */
export function makeNodeStores(load, core) {
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
   * processes of a machine (writes wait up to `timeoutMs` for the file's write lock). Its
   * spool is `<path>.spool.jsonl` beside it. Synchronous underneath (better-sqlite3); the
   * methods return plain values.
   */
  class SQLiteStore extends SqliteJourneyStore {
    #db;
    #path;
    #spool;

    /**
     * @param {string} [path] default `iproov-journeys.sqlite3` in the working directory
     * @param {{timeoutMs?: number, spool?: string | false}} [options] `timeoutMs`: how long a
     *   write waits for another process's (core's SQLITE_BUSY_TIMEOUT_MS, 10000); `spool`: the spool file (default
     *   `<path>.spool.jsonl`), or `false` for none
     * @throws {Error} without better-sqlite3 installed
     * @throws {InvalidStateError} for a store of a newer schema
     */
    constructor(path = 'iproov-journeys.sqlite3', { timeoutMs, spool } = {}) {
      const Database = driver('better-sqlite3', 'SQLiteStore');
      const file = resolve(String(path));
      mkdirSync(dirname(file), { recursive: true });
      const schema = core.schema('sqlite');
      const db = new Database(file, { timeout: timeoutMs ?? schema.connection.busy_timeout_ms });
      try {
        // Core's: WAL, so readers do not wait for a writer, and synchronous=FULL, so a
        // committed outcome survives a power cut (NORMAL may lose the last commits).
        for (const pragma of schema.connection.pragmas) db.exec(pragma);
        const statements = new Map();
        const prepared = (sql) => {
          let statement = statements.get(sql);
          if (statement === undefined) statements.set(sql, (statement = db.prepare(sql)));
          return statement;
        };
        super(
          {
            rows: (sql, params) => prepared(sql).all(...params),
            run: (sql, params) => prepared(sql).run(...params).changes,
            // IMMEDIATE: take the write lock at BEGIN, so two processes never both read, then
            // both fail to upgrade.
            tx: (fn) => db.transaction(fn).immediate(),
          },
          schema,
          core.errorFromJSON,
        );
      } catch (error) {
        db.close();
        throw error;
      }
      this.#db = db;
      this.#path = file;
      this.#spool = spoolOf(spool === undefined ? `${file}.spool.jsonl` : spool);
    }

    /** The file's absolute path. */
    get path() {
      return this.#path;
    }

    /** The spool the journey service uses by default (`false`: none). */
    get spool() {
      return this.#spool;
    }

    /** Closes the file; the store is unusable afterwards. */
    close() {
      this.#db.close();
    }
  }

  /**
   * Journeys in PostgreSQL, for many instances of a service. Every method is one of core's
   * statements through a `pg` pool (appendAudit and deleteExpired: one transaction); the
   * compare-and-set of `update` is one `UPDATE ... WHERE version = ...`, and a write took
   * when it changed one row. The schema is opened (under an advisory lock) before the first
   * statement.
   */
  class PostgresStore {
    #pool;
    #own; // a pool this store made (and `close()` ends)
    #ready;
    #schema;
    #spool;

    /**
     * @param {string | object} target a connection URL (`postgresql://user@host:port/db`), a
     *   `pg.Pool` config, or a pool (anything with `query` and `connect`: yours to end). A pool
     *   this store makes has core's defaults under the config's own: `connectionTimeoutMillis`
     *   10 000 (to connect, and to wait for a free connection; pg's own waits forever) and `max` 10
     * @param {{spool?: string | false}} [options] `spool`: a local file where validated
     *   outcomes wait while the database is down (the service needs one, or `spool: false`)
     * @throws {Error} without the `pg` package installed
     */
    constructor(target, { spool } = {}) {
      this.#schema = core.schema('postgres');
      if (typeof target?.query === 'function' && typeof target?.connect === 'function') {
        this.#pool = target;
        this.#own = false;
      } else {
        const { Pool } = driver('pg', 'PostgresStore');
        // Core's defaults, under what the caller's config says: pg's own would wait for a
        // connection forever, and a database host that does not answer must fail the call.
        const { connect_timeout_ms: connectionTimeoutMillis, pool_max: max } = this.#schema.connection;
        this.#pool = new Pool({ connectionTimeoutMillis, max, ...(typeof target === 'string' ? { connectionString: target } : target) });
        this.#own = true;
      }
      // A pool's idle connection that the server drops (a restart, a failover) emits
      // 'error' on the pool; unhandled, it would end the process. The next query reconnects.
      if (this.#own) this.#pool.on('error', () => {});
      this.#spool = spool === undefined ? undefined : spoolOf(spool);
    }

    /** The spool the journey service uses by default (`undefined`: none was given). */
    get spool() {
      return this.#spool;
    }

    /** Opens the schema once, as core says (a failure is tried again by the next call). */
    #init() {
      this.#ready ??= this.#transaction(async (client) => {
        await client.query(this.#schema.lock);
        await client.query(this.#schema.schema_table);
        const found = (await client.query(this.#schema.schema_version)).rows[0]?.version ?? null;
        for (const { sql, params } of openingStatements(this.#schema, found, core.errorFromJSON)) {
          await client.query(sql, params);
        }
      }).catch((error) => {
        this.#ready = undefined;
        throw error;
      });
      return this.#ready;
    }

    /** `fn(client)` in one transaction on one connection of the pool. */
    async #transaction(fn) {
      const client = await this.#pool.connect();
      let broken;
      try {
        await client.query('BEGIN');
        const out = await fn(client);
        await client.query('COMMIT');
        return out;
      } catch (error) {
        broken = await client.query('ROLLBACK').then(() => undefined, (e) => e);
        throw error;
      } finally {
        // A connection whose rollback failed is not given back to the pool.
        client.release(broken);
      }
    }

    async #query(statement, values, record) {
      await this.#init();
      return this.#pool.query(statement.sql, bind(statement, record, values));
    }

    async #rows(statement, values, record) {
      return (await this.#query(statement, values, record)).rows;
    }

    /** Waits for the schema: errors of the connection or schema surface here. */
    async ready() {
      await this.#init();
    }

    /** The record of `table` (`journeys`, `users`) with `id` (core's JSON), or `null`. */
    async get(table, id) {
      const [row] = await this.#rows(statementOf(this.#schema, 'get', table), {}, { id });
      return row === undefined ? null : JSON.parse(row.record);
    }

    /** Stores a new record; `false` when its id exists. */
    async insert(table, record) {
      return (await this.#query(statementOf(this.#schema, 'insert', table), {}, record)).rowCount === 1;
    }

    /** Replaces the record if the stored one has `expectedVersion`; `false` otherwise. */
    async update(table, record, expectedVersion) {
      const statement = statementOf(this.#schema, 'update', table);
      return (await this.#query(statement, { expected_version: expectedVersion }, record)).rowCount === 1;
    }

    /** Appends audit records to the journey's, in order, in one transaction. */
    async appendAudit(journeyId, records) {
      if (records.length === 0) return;
      await this.#init();
      const statement = this.#schema.append_audit;
      await this.#transaction(async (client) => {
        for (const record of records) await client.query(statement.sql, bind(statement, record, { journey_id: journeyId }));
      });
    }

    /** The user's journey records, oldest first. */
    async journeysOf(userId) {
      return (await this.#rows(this.#schema.journeys_of, { user_id: userId })).map((row) => JSON.parse(row.record));
    }

    /** The journey's audit records, in order. */
    async auditOf(journeyId) {
      return (await this.#rows(this.#schema.audit_of, { journey_id: journeyId })).map((row) => JSON.parse(row.record));
    }

    /**
     * Deletes what expired by `nowMs` (core's `delete_expired`, in one transaction); gives how
     * many journeys (the rows the statement core marks `count` changed).
     */
    async deleteExpired(nowMs) {
      await this.#init();
      return this.#transaction(async (client) => {
        let count = 0;
        for (const statement of this.#schema.delete_expired) {
          const { rowCount } = await client.query(statement.sql, bind(statement, undefined, { now_ms: nowMs }));
          if (statement.count) count += rowCount ?? 0;
        }
        return count;
      });
    }

    /** Erases the user's journeys, their audit records and the user's record, in one
     * transaction: `{journeys, audit_records}` (core's `forget` statements). */
    async forget(userId) {
      await this.#init();
      return this.#transaction(async (client) => {
        const gone = {};
        for (const statement of this.#schema.forget) {
          const { rowCount } = await client.query(statement.sql, bind(statement, undefined, { user_id: userId }));
          if (statement.count) gone[statement.count] = rowCount ?? 0;
        }
        return gone;
      });
    }

    /** Ends the pool this store made (a pool you passed stays yours). */
    async close() {
      if (this.#own) await this.#pool.end();
    }

    toString() {
      return 'PostgresStore(<connection not shown>)';
    }
  }

  return { SQLiteStore, PostgresStore, FileSpool };
}
