// Types of the Node package's journey stores and their spool file (stores.mjs, spool.mjs;
// re-exported by index.d.ts and index.d.mts). Their drivers are optional peer dependencies:
// better-sqlite3 12.x, pg 8.x.
import type { AuditRecordJson, JourneyRecord, JourneySpool, JourneyStore, JourneyTable, SyncJourneyStore, UserRecord } from './dist/api';

/**
 * A spool file: JSON lines where validated outcomes wait while the store is down, appended
 * durably (fsync), taken whole by one replayer at a time (an atomic rename).
 */
export declare class FileSpool implements JourneySpool {
  /** @param path the file (its directory is made when missing) */
  constructor(path: string);
  /** The file's absolute path. */
  readonly path: string;
  append(lines: string[], durable: boolean): void;
  hasLines(): boolean;
  take(): { text: string; release(options?: { remove?: boolean }): void } | null;
}

/**
 * Journeys in one SQLite file (better-sqlite3), created with its directory on first use;
 * core's schema (version 2, the same as Python's `SQLiteStore`). Safe to share between the
 * processes of one machine. Its spool is `<path>.spool.jsonl` beside it.
 */
export declare class SQLiteStore implements SyncJourneyStore {
  /**
   * @param path default `iproov-journeys.sqlite3` in the working directory
   * @param options `timeoutMs`: how long a write waits for another process's (core's SQLITE_BUSY_TIMEOUT_MS, 10000);
   *   `spool`: the spool file (default `<path>.spool.jsonl`), or `false` for none
   * @throws {InvalidStateError} for a file of a newer schema
   */
  constructor(path?: string, options?: { timeoutMs?: number; spool?: string | false });
  /** The file's absolute path. */
  readonly path: string;
  /** The spool the journey service uses by default. */
  readonly spool: FileSpool | false;
  get(table: JourneyTable, id: string): JourneyRecord | UserRecord | null;
  insert(table: JourneyTable, record: JourneyRecord | UserRecord): boolean;
  update(table: JourneyTable, record: JourneyRecord | UserRecord, expectedVersion: number): boolean;
  appendAudit(journeyId: string, records: AuditRecordJson[]): void;
  journeysOf(userId: string): JourneyRecord[];
  auditOf(journeyId: string): AuditRecordJson[];
  deleteExpired(nowMs: number): number;
  forget(userId: string): { journeys: number; audit_records: number };
  /** Closes the file. */
  close(): void;
}

/** What `PostgresStore` accepts as a pool of yours (a `pg.Pool`). */
export interface PgPoolLike {
  query(sql: string, params?: unknown[]): Promise<{ rows: any[]; rowCount: number | null }>;
  connect(): Promise<{ query(sql: string, params?: unknown[]): Promise<{ rows: any[] }>; release(error?: unknown): void }>;
}

/**
 * Journeys in PostgreSQL (pg), for many instances; core's schema (version 2, the same as
 * Python's `PostgresStore`), so Python and Node instances can share one database. A journey
 * service over it needs a spool: this store's `spool` option, or the service's.
 */
export declare class PostgresStore implements JourneyStore {
  /**
   * @param target a connection URL, a `pg.Pool` config, or a pool (yours to end)
   * @param options `spool`: a local file where validated outcomes wait while the database is
   *   down, or `false` for none
   */
  constructor(target: string | Record<string, unknown> | PgPoolLike, options?: { spool?: string | false });
  /** The spool given, if any. */
  readonly spool: FileSpool | false | undefined;
  /** Waits for the schema (connection and schema errors surface here). */
  ready(): Promise<void>;
  get(table: JourneyTable, id: string): Promise<JourneyRecord | UserRecord | null>;
  insert(table: JourneyTable, record: JourneyRecord | UserRecord): Promise<boolean>;
  update(table: JourneyTable, record: JourneyRecord | UserRecord, expectedVersion: number): Promise<boolean>;
  appendAudit(journeyId: string, records: AuditRecordJson[]): Promise<void>;
  journeysOf(userId: string): Promise<JourneyRecord[]>;
  auditOf(journeyId: string): Promise<AuditRecordJson[]>;
  deleteExpired(nowMs: number): Promise<number>;
  forget(userId: string): Promise<{ journeys: number; audit_records: number }>;
  /** Ends the pool the store made (a pool you passed stays yours). */
  close(): Promise<void>;
}
