// Journey stores over core's statements (core/src/service/schema.rs, `storeSchema(dialect)`):
// the SQL exists once, in core; these stores only bind each statement's named parameters and
// run it. Shared by the Node package's `SQLiteStore` (better-sqlite3) and `PostgresStore`
// (bindings-node/stores.mjs) and the edge package's `DurableObjectStore` (a Durable Object's
// `ctx.storage.sql`). No journey logic lives here: each method is one statement of core's, or
// one transaction of them.
//
// A write took when its statement changed one row (core's schema docs): an insert over an
// existing id and an update over another version change none (compare-and-set).

/** The tables a store keeps (core's `Table`). */
export const TABLES = Object.freeze(['journeys', 'users']);

/** The methods a store has (see `JourneyStore` in api.d.ts). */
export const STORE_METHODS = Object.freeze(['get', 'insert', 'update', 'appendAudit', 'journeysOf', 'auditOf', 'deleteExpired', 'forget']);

/**
 * A statement's values in the order of its `params` (core names each placeholder): a record's
 * field (`id`, `user_id`, `version`, `expires_at_ms`), `record` (the record as JSON text), or
 * one of `values` (`expected_version`, `journey_id`, `now_ms`, `user_id`, `version`).
 * @param {{sql: string, params: string[]}} statement
 * @param {object} [record] core's record
 * @param {object} [values] the other named values
 * @returns {unknown[]}
 */
export function bind(statement, record, values = {}) {
  return statement.params.map((name) => {
    if (name in values) return values[name];
    if (name === 'record') return JSON.stringify(record);
    return record[name];
  });
}

/** The table's statement of `kind` (`get`, `insert`, `update`); TypeError for an unknown table. */
export function statementOf(schema, kind, table) {
  const statement = TABLES.includes(table) ? schema[kind][table] : undefined;
  if (statement === undefined) throw new TypeError(`no such journey table: ${table} (one of ${TABLES.join(', ')})`);
  return statement;
}

/**
 * Core's schema error for a store whose schema is newer than this build knows (core's
 * `check_version`: its records may hold what this build would drop).
 */
export function newerSchema(found, version) {
  return {
    code: 'invalid_state',
    kind: 'invalid_state',
    message: `the store's schema is version ${found}; this build knows up to ${version}: upgrade iproov-sansio everywhere that shares the store`,
  };
}

/**
 * The statements that bring a store at schema `found` (`null`: none yet) to core's version,
 * as core's `schema()` says: none, `create` then `set_version`; an older one, its migrations
 * in order then `set_version`; the current one, nothing. Throws core's `invalid_state` (made
 * by `fail`) for a newer one.
 * @returns {Array<{sql: string, params: unknown[]}>}
 */
export function openingStatements(schema, found, fail) {
  const setVersion = { sql: schema.set_version.sql, params: bind(schema.set_version, undefined, { version: schema.version }) };
  if (found === null || found === undefined) {
    return [...schema.create.map((sql) => ({ sql, params: [] })), setVersion];
  }
  const at = Number(found);
  if (at > schema.version) throw fail(newerSchema(at, schema.version));
  if (at === schema.version) return [];
  const steps = schema.migrations.filter((m) => m.from >= at).sort((a, b) => a.from - b.from);
  return [...steps.flatMap((m) => m.statements.map((sql) => ({ sql, params: [] }))), setVersion];
}

/** A record column (JSON text, or already parsed by a driver) as an object. */
const parsed = (value) => (typeof value === 'string' ? JSON.parse(value) : value);

/**
 * A journey store over any synchronous SQLite connection, given as `{rows(sql, params) -> row
 * objects, run(sql, params) -> how many rows it changed, tx(fn) -> fn's value, run atomically
 * under the write lock}`, and core's SQLite schema (`storeSchema('sqlite')`, parsed). Opens
 * the schema as core says (creates it, migrates an older one, refuses a newer one). Every
 * method is synchronous (both SQLite APIs it serves are).
 */
export class SqliteJourneyStore {
  #db;
  #schema;

  /**
   * @param {{rows(sql: string, params: unknown[]): object[], run(sql: string, params: unknown[]): number,
   *   tx<T>(fn: () => T): T}} db
   * @param {object} schema core's statements for `sqlite`
   * @param {(json: object) => Error} fail makes the error for core's error JSON
   * @throws {InvalidStateError} (from `fail`) for a store of a newer schema
   */
  constructor(db, schema, fail) {
    this.#db = db;
    this.#schema = schema;
    db.tx(() => {
      db.run(schema.schema_table, []);
      const [row] = db.rows(schema.schema_version, []);
      for (const { sql, params } of openingStatements(schema, row?.version ?? null, fail)) db.run(sql, params);
    });
  }

  /** The record of `table` (`journeys`, `users`) with `id` (core's JSON), or `null`. */
  get(table, id) {
    const [row] = this.#db.rows(statementOf(this.#schema, 'get', table).sql, [id]);
    return row === undefined ? null : parsed(row.record);
  }

  /** Stores a new record; `false` when its id exists. */
  insert(table, record) {
    const statement = statementOf(this.#schema, 'insert', table);
    return this.#db.run(statement.sql, bind(statement, record)) === 1;
  }

  /** Replaces the record if the stored one has `expectedVersion`; `false` otherwise. */
  update(table, record, expectedVersion) {
    const statement = statementOf(this.#schema, 'update', table);
    return this.#db.run(statement.sql, bind(statement, record, { expected_version: expectedVersion })) === 1;
  }

  /** Appends audit records (objects) to the journey's, in order, in one transaction. */
  appendAudit(journeyId, records) {
    if (records.length === 0) return;
    const statement = this.#schema.append_audit;
    this.#db.tx(() => {
      for (const record of records) this.#db.run(statement.sql, bind(statement, record, { journey_id: journeyId }));
    });
  }

  /** The user's journey records, oldest first. */
  journeysOf(userId) {
    const statement = this.#schema.journeys_of;
    return this.#db.rows(statement.sql, bind(statement, undefined, { user_id: userId })).map((row) => parsed(row.record));
  }

  /** The journey's audit records, in order. */
  auditOf(journeyId) {
    const statement = this.#schema.audit_of;
    return this.#db.rows(statement.sql, bind(statement, undefined, { journey_id: journeyId })).map((row) => parsed(row.record));
  }

  /**
   * Deletes what expired by `nowMs` (core's `delete_expired`, in one transaction: journeys,
   * their audit records, users' records); gives how many journeys (the rows the statement
   * core marks `count` changed).
   */
  deleteExpired(nowMs) {
    return this.#db.tx(() => {
      let count = 0;
      for (const statement of this.#schema.delete_expired) {
        const changed = this.#db.run(statement.sql, bind(statement, undefined, { now_ms: nowMs }));
        if (statement.count) count += changed;
      }
      return count;
    });
  }

  /** Erases the user's journeys, their audit records and the user's record, in one
   * transaction: `{journeys, audit_records}` (core's `forget` statements). */
  forget(userId) {
    return this.#db.tx(() => {
      const gone = {};
      for (const statement of this.#schema.forget) {
        const changed = this.#db.run(statement.sql, bind(statement, undefined, { user_id: userId }));
        if (statement.count) gone[statement.count] = changed;
      }
      return gone;
    });
  }
}

// The edge package's store gets core's schema and error classes from the API made over its
// backend (createApi calls useCore): the store is exported beside the API, not made by it.
let core;

/**
 * Hands this module core's schema and errors (`createApi` does, for the edge package's
 * `DurableObjectStore`): `schema(dialect)` gives `storeSchema`'s JSON parsed,
 * `errorFromJSON(json)` the error of core's class.
 */
export function useCore(given) {
  core ??= given;
}

/**
 * Journeys in a Durable Object's SQLite storage, for workers: pass the object's `ctx.storage`
 * (a SQLite-backed class: wrangler's `new_sqlite_classes`, workerd's `enableSql = true`). All
 * requests for the object run in it, one at a time between awaits, so its journeys' writes are
 * serialised there; the compare-and-set still guards a validate against a second request that
 * arrives while the first one's call to iProov is on its way.
 *
 * No spool (`spool` is `false`): the storage is the object's own transactional SQLite, local to
 * the object, and does not go down apart from it, so there is nowhere more durable to put a
 * validated outcome; should a write fail anyway, the outcome reaches the caller in the error.
 */
export class DurableObjectStore extends SqliteJourneyStore {
  /**
   * @param {{sql: {exec(sql: string, ...bindings: unknown[]): {toArray(): object[]}},
   *   transactionSync<T>(fn: () => T): T}} storage the Durable Object's `ctx.storage`
   * @throws {TypeError} when `storage` has no SQL API (a key-value-backed Durable Object), or
   *   before the package is initialised
   * @throws {InvalidStateError} for a storage whose schema is newer than this build knows
   */
  constructor(storage) {
    if (typeof storage?.sql?.exec !== 'function' || typeof storage?.transactionSync !== 'function') {
      throw new TypeError('DurableObjectStore needs a SQLite-backed Durable Object: pass ctx.storage of a class declared with new_sqlite_classes (wrangler) or enableSql (workerd)');
    }
    if (core === undefined) throw new TypeError('iproov-sansio-edge is not initialized: call init() or initSync() first');
    super(
      {
        rows: (sql, params) => storage.sql.exec(sql, ...params).toArray(),
        // The rows the statement changed, as SQLite counts them (a cursor's `rowsWritten`
        // also counts the index entries written).
        run: (sql, params) => {
          storage.sql.exec(sql, ...params).toArray();
          return storage.sql.exec('SELECT changes() AS changed').one().changed;
        },
        tx: (fn) => storage.transactionSync(fn),
      },
      core.schema('sqlite'),
      core.errorFromJSON,
    );
  }

  /** No spool: see the class's description. */
  get spool() {
    return false;
  }
}
