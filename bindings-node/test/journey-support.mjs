// What the journey fault and limit tests share (journey-faults.test.mjs,
// journey-limits.test.mjs and their child processes): real stores (better-sqlite3 files, the
// PostgreSQL of IPROOV_TEST_POSTGRES_URL), a store that fails from a given call on, polling.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { SQLiteStore, PostgresStore } from '../index.mjs';

const here = dirname(fileURLToPath(import.meta.url));

export const POSTGRES = process.env.IPROOV_TEST_POSTGRES_URL;
if (!POSTGRES && process.env.IPROOV_TEST_REQUIRE_POSTGRES) {
  throw new Error('IPROOV_TEST_REQUIRE_POSTGRES is set but IPROOV_TEST_POSTGRES_URL is not: start PostgreSQL (scripts/postgres.sh)');
}
/** The `skip` of a PostgreSQL test: only when no database is given and none is required. */
export const NO_POSTGRES = POSTGRES ? false : 'IPROOV_TEST_POSTGRES_URL is not set (scripts/test starts PostgreSQL and sets it)';

/** The stores every test runs on (PostgreSQL only with a database). */
export const KINDS = ['sqlite', 'postgres'];

/**
 * How far a replaying service's clock runs ahead: beyond core's spool `DUE_MS` (13 s, the time
 * a spool entry's writer may still be retrying its store), within `TOMBSTONE_MS` (130 s).
 */
export const SPOOL_DUE_SKEW_MS = 60_000;

/**
 * A database of this test file's own on the PostgreSQL server (dropped and made again), so
 * that test files running at once do not drop each other's tables: its URL.
 */
export async function privateDatabase(name) {
  const { Client } = createRequire(import.meta.url)('pg');
  const db = new Client({ connectionString: POSTGRES });
  await db.connect();
  try {
    await db.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await db.query(`CREATE DATABASE ${name}`);
  } finally {
    await db.end();
  }
  const url = new URL(POSTGRES);
  url.pathname = `/${name}`;
  return url.href;
}

/**
 * A store of `kind` in directory `dir` (its SQLite file and its spool there; PostgreSQL's
 * spool too), PostgreSQL at `postgres`. `close()` it when done.
 */
export function openStore(kind, dir, postgres, options = {}) {
  if (kind === 'sqlite') return new SQLiteStore(join(dir, 'journeys.sqlite3'), options);
  return new PostgresStore(postgres, { spool: join(dir, 'journeys.spool.jsonl'), ...options });
}

/** The methods of a journey store. */
export const METHODS = ['get', 'insert', 'update', 'appendAudit', 'journeysOf', 'auditOf', 'deleteExpired', 'forget'];

/**
 * The text a failing store throws: as a driver's error would, with a connection string and
 * its password, which must never reach the service's error, log lines or spool.
 */
export const STORE_SECRET = 'pw-Vq83LxT0';
const storeFault = (method) => new Error(`connection to postgresql://iproov:${STORE_SECRET}@db.internal:5432/iproov lost (${method})`);

/**
 * `store` with every method counted; from call `from` on (1-based; `Infinity`: never), or from
 * the first call for which `when(method, args)` holds, the calls throw; `once`: only that call
 * throws. `heal()` ends the fault. `calls` lists the methods called, in order.
 */
export function failingStore(store, { from = Infinity, when, once = false } = {}) {
  const wrapper = { calls: [], healed: false, spool: store.spool };
  let down = false;
  wrapper.heal = () => {
    wrapper.healed = true;
  };
  for (const method of METHODS) {
    wrapper[method] = (...args) => {
      wrapper.calls.push(method);
      const starts = wrapper.calls.length === from || (when !== undefined && !down && when(method, args));
      const fails = !wrapper.healed && (starts || (down && !once));
      if (starts) down = true;
      if (fails) throw storeFault(method);
      return store[method](...args);
    };
  }
  return wrapper;
}

/** The rejection of `promise` (fails the test when it resolves). */
export async function thrown(promise) {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  assert.fail('expected an error, got a result');
}

/** Polls `probe` every 20 ms until it gives a truthy value (that value), for `ms` at most. */
export async function until(probe, what, ms = 15_000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value) return value;
    assert.ok(Date.now() < deadline, `waited ${ms} ms for ${what}`);
    await sleep(20);
  }
}

/**
 * A child process running `script` (in this directory) with `args` as JSON: `lines` (its
 * stdout lines so far), `line(predicate)` (the first line that matches, waiting for it),
 * `send(text)`, `exited` ({code, signal}), `stop()` (killed unless it exited; resolves once
 * it is gone: call it in `finally` or `t.after`, so that a failed assertion ends it too).
 */
export function child(script, args) {
  const proc = spawn(process.execPath, [join(here, script), JSON.stringify(args)], { stdio: ['pipe', 'pipe', 'inherit'], env: process.env });
  const lines = [];
  let partial = '';
  const waiting = new Set();
  proc.stdout.on('data', (data) => {
    partial += data;
    const parts = partial.split('\n');
    partial = parts.pop();
    lines.push(...parts);
    for (const wake of waiting) wake();
  });
  const exited = new Promise((resolve) => proc.once('exit', (code, signal) => resolve({ code, signal })));
  const line = (predicate, ms = 60_000) =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => (waiting.delete(check), reject(new Error(`${script}: no such line in ${ms} ms: ${lines.join(' | ')}`))), ms);
      const check = () => {
        const found = lines.find(predicate);
        if (found === undefined) return;
        clearTimeout(timer);
        waiting.delete(check);
        resolve(found);
      };
      waiting.add(check);
      exited.then(() => setImmediate(() => waiting.has(check) && (waiting.delete(check), clearTimeout(timer), reject(new Error(`${script} exited: ${lines.join(' | ')}`)))));
      check();
    });
  /** Kills it (SIGKILL) unless it has exited, and resolves once it is gone. */
  const stop = async () => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
    return exited;
  };
  return { proc, lines, line, exited, stop, send: (text) => proc.stdin.write(`${text}\n`) };
}
