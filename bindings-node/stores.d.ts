// Types of the Node package's journey stores (stores.mjs; re-exported by index.d.ts and
// index.d.mts). Their drivers are optional peer dependencies: better-sqlite3 12.x, pg 8.x.
import type { AuditRecordJson, JourneyRecord, JourneyStore, SyncJourneyStore } from './dist/api';

/**
 * Journeys in one SQLite file (better-sqlite3), created with its directory on first use;
 * schema version 1, the same as Python's `SQLiteStore`. Safe to share between the processes of
 * one machine.
 */
export declare class SQLiteStore implements SyncJourneyStore {
  /**
   * @param path default `iproov-journeys.sqlite3` in the working directory
   * @param options `timeoutMs`: how long a write waits for another process's (30000)
   */
  constructor(path?: string, options?: { timeoutMs?: number });
  /** The file's absolute path. */
  readonly path: string;
  get(journeyId: string): JourneyRecord | null;
  insert(record: JourneyRecord): boolean;
  update(record: JourneyRecord, expectedVersion: number): boolean;
  appendAudit(journeyId: string, records: AuditRecordJson[]): void;
  journeysOf(userId: string): JourneyRecord[];
  auditOf(journeyId: string): AuditRecordJson[];
  deleteExpired(nowMs: number): number;
  /** Closes the file. */
  close(): void;
}

/** What `PostgresStore` accepts as a pool of yours (a `pg.Pool`). */
export interface PgPoolLike {
  query(sql: string, params?: unknown[]): Promise<{ rows: any[]; rowCount: number | null }>;
  connect(): Promise<{ query(sql: string, params?: unknown[]): Promise<{ rows: any[] }>; release(): void }>;
}

/**
 * Journeys in PostgreSQL (pg), for many instances; schema version 1, the same as Python's
 * `PostgresStore`, so Python and Node instances can share one database.
 */
export declare class PostgresStore implements JourneyStore {
  /** @param target a connection URL, a `pg.Pool` config, or a pool (yours to end) */
  constructor(target: string | Record<string, unknown> | PgPoolLike);
  /** Waits for the schema (connection and schema errors surface here). */
  ready(): Promise<void>;
  get(journeyId: string): Promise<JourneyRecord | null>;
  insert(record: JourneyRecord): Promise<boolean>;
  update(record: JourneyRecord, expectedVersion: number): Promise<boolean>;
  appendAudit(journeyId: string, records: AuditRecordJson[]): Promise<void>;
  journeysOf(userId: string): Promise<JourneyRecord[]>;
  auditOf(journeyId: string): Promise<AuditRecordJson[]>;
  deleteExpired(nowMs: number): Promise<number>;
  /** Ends the pool the store made (a pool you passed stays yours). */
  close(): Promise<void>;
}
