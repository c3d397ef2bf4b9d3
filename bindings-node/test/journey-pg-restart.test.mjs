// PostgreSQL crashed (`pg_ctl stop -m immediate`: every backend killed, no checkpoint) and
// restarted while the journey service finishes journeys against the emulator (issue 23 item 7):
// no pass is lost. Every validate the emulator answered is in the store or the spool at once,
// and in the store after the spool is replayed; a finish the outage stopped before it sent
// anything leaves the token to its user, who finishes it once the database is back.
//
// The server is the one behind IPROOV_TEST_POSTGRES_URL (scripts/postgres.sh's cluster on this
// machine), stopped and started with its own pg_ctl, as its owner (the postgres user when the
// test runs as root), with the options it was started with; the test leaves it running. It
// stops the server that other test files share: scripts/node.sh runs this file on its own,
// after the others.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { api } from './impl.mjs';
import { startEmulator, EU } from './emulator.mjs';
import { POSTGRES, SPOOL_DUE_SKEW_MS, openStore, privateDatabase, until } from './journey-support.mjs';

const run = promisify(execFile);
const JOURNEYS = 40;
const WORKERS = 6; // finishes in flight at once
// How long the emulator holds each validate: about 7 rounds of 6, so that validates are out
// when the server goes down, however long the crash takes.
const HELD_MS = 1_000;

let emu;
let pg; // this file's database
let server;
const scratch = mkdtempSync(join(tmpdir(), 'iproov-journey-pg-restart-'));

/** Words of postmaster.opts: `/path/postgres "-D" "/data" "-p" "5432" ...`. */
function words(text) {
  return [...text.matchAll(/"((?:[^"\\]|\\.)*)"|(\S+)/g)].map(([, quoted, bare]) => (quoted ?? bare).replace(/\\(.)/g, '$1'));
}

/** The server behind `url`: its data directory, pg_ctl, and the options it runs with. */
async function localServer(url) {
  const { Client } = createRequire(import.meta.url)('pg');
  const db = new Client({ connectionString: url });
  await db.connect();
  let data;
  try {
    data = (await db.query('SHOW data_directory')).rows[0].data_directory;
  } finally {
    await db.end();
  }
  const versions = existsSync('/usr/lib/postgresql') ? readdirSync('/usr/lib/postgresql') : [];
  const ctl = versions
    .sort((a, b) => Number(a) - Number(b))
    .map((v) => `/usr/lib/postgresql/${v}/bin/pg_ctl`)
    .filter((path) => existsSync(path))
    .at(-1);
  assert.ok(ctl && existsSync(join(data, 'postmaster.opts')), `pg_ctl and the cluster of ${data}: the test needs the local server`);
  const argv = words(readFileSync(join(data, 'postmaster.opts'), 'utf8')).slice(1);
  // The options the server runs with, but its data directory (pg_ctl -D gives it); pg_ctl
  // hands `-o` to a shell, hence the quoting.
  const options = argv.filter((a, i) => a !== '-D' && argv[i - 1] !== '-D').map((a) => `'${a.replace(/'/g, `'\\''`)}'`);
  const asOwner = process.getuid?.() === 0 ? ['runuser', '-u', 'postgres', '--'] : [];
  const pgCtl = (...args) => {
    const [file, ...rest] = [...asOwner, ctl, '-D', data, ...args];
    return run(file, rest, { timeout: 60_000 });
  };
  const log = existsSync(join(dirname(data), 'log')) ? join(dirname(data), 'log') : join(data, 'restart.log');
  return {
    /** A crash: every backend killed at once, no checkpoint. */
    crash: () => pgCtl('-m', 'immediate', '-w', 'stop'),
    start: () => pgCtl('-l', log, '-w', '-o', options.join(' '), 'start'),
    running: () => pgCtl('status').then(() => true, () => false),
  };
}

before(async () => {
  // No PostgreSQL, no test: it fails rather than skips (scripts/postgres.sh starts one).
  assert.ok(POSTGRES, 'IPROOV_TEST_POSTGRES_URL is not set: start PostgreSQL (scripts/postgres.sh)');
  emu = await startEmulator();
  pg = await privateDatabase('iproov_js_journey_pg_restart');
  server = await localServer(POSTGRES);
});
after(async () => {
  // Whatever happened, the server the other tests share is left running.
  if (server && !(await server.running())) await server.start();
  await emu?.stop();
  rmSync(scratch, { recursive: true, force: true });
});

const client = () => api.createClient({ baseUrl: emu.region('eu'), ...EU, timeoutMs: 5_000 });

test('PostgreSQL crashed and restarted while finishes run: every validate iProov answered reaches the store', async () => {
  const dir = mkdtempSync(join(scratch, 'restart-'));
  const store = openStore('postgres', dir, pg);
  const logged = [];
  const logger = { error: (...parts) => logged.push(parts.map(String).join(' ')) };
  try {
    const service = new api.JourneyService(client(), store, { logger });
    const journeys = [];
    for (let i = 0; i < JOURNEYS; i += 1) {
      const userId = api.randomUserId();
      await emu.seedUser({ api_key: EU.apiKey, user_id: userId });
      const started = await service.start('verify', userId);
      await emu.complete(started.token, { passed: true });
      journeys.push(started);
    }
    await emu.fault({ path: '/claim/verify/validate', kind: 'delay', delay_ms: HELD_MS, times: JOURNEYS });

    // Finishes run WORKERS at a time while the server goes down and comes back.
    const outcomes = new Map();
    let next = 0;
    const worker = async () => {
      while (next < journeys.length) {
        const started = journeys[next];
        next += 1;
        try {
          outcomes.set(started.journeyId, { answer: await service.finish(started.journeyId, started.token, 'node-test') });
        } catch (error) {
          outcomes.set(started.journeyId, { error });
        }
      }
    };
    const running = Promise.all(Array.from({ length: WORKERS }, worker));
    let settled = false;
    running.finally(() => {
      settled = true;
    });
    await until(async () => (await emu.count('/claim/verify/validate')) >= 4, 'the first validates at the emulator');
    await server.crash();
    try {
      // Down until a finish whose validate iProov answered has given up on the store (core
      // tries a failing store for 3 s), or every finish has ended.
      await until(() => settled || [...outcomes.values()].some((o) => o.error?.result !== undefined), 'a finish meeting the outage', 20_000);
    } finally {
      await server.start();
    }
    await running;

    assert.equal(outcomes.size, JOURNEYS);
    const errors = [...outcomes.values()].filter((o) => o.error !== undefined).map((o) => o.error);
    for (const error of errors) assert.ok(error instanceof api.StoreUnavailableError, String(error?.stack ?? error));
    assert.ok(errors.length > 0, 'the crash met no finish');
    // The case the test is for: a validate iProov answered whose outcome the store refused.
    assert.ok(errors.some((e) => e.result !== undefined), 'the outage met no validate iProov had answered');
    const spooled = existsSync(store.spool.path) ? readFileSync(store.spool.path, 'utf8') : '';
    const claims = new Map((await emu.control('GET', '/state')).claims.map((c) => [c.token, c.status]));
    const validated = journeys.filter((s) => claims.get(s.token)?.state === 'validated');
    assert.ok(validated.length >= 4, `${validated.length} validates answered`);
    // Every validate iProov answered is in the store or the spool (written there before the
    // store was asked), and its caller has the pass: in the answer, or in the error's result.
    for (const started of validated) {
      const stored = (await store.get('journeys', started.journeyId)).attempts[0].state;
      assert.ok(stored === 'passed' || spooled.includes(started.journeyId), `${started.journeyId}: ${stored}, not in the spool`);
      const { answer, error } = outcomes.get(started.journeyId);
      assert.equal((answer ?? error.result)?.passed, true, JSON.stringify({ answer, error: String(error) }));
    }
    for (const error of errors.filter((e) => e.result !== undefined)) {
      assert.ok(spooled.includes(error.result.journeyId), 'an outcome the store refused is in the spool');
      assert.ok(logged.some((line) => line.includes(error.result.journeyId)), `logged: ${logged.join(' | ')}`);
    }

    // After the replay (the entries due: this service's clock runs ahead), every one is in the store.
    await new api.JourneyService(client(), store, { logger, clock: () => Date.now() + SPOOL_DUE_SKEW_MS }).replaySpool();
    for (const started of journeys) {
      const stored = (await store.get('journeys', started.journeyId)).attempts[0].state;
      const { answer, error } = outcomes.get(started.journeyId);
      if (claims.get(started.token)?.state === 'validated') {
        assert.equal(stored, 'passed', started.journeyId);
      } else {
        // Never sent: the store failed first, and the caller was told nothing happened.
        assert.equal(answer, undefined);
        assert.equal(error.result, undefined);
        assert.ok(['issued', 'validating'].includes(stored), stored);
      }
    }
    // The token of a finish stopped before sending is still its user's: finished now, it passes.
    await emu.control('DELETE', '/faults');
    for (const started of journeys.filter((s) => claims.get(s.token)?.state !== 'validated')) {
      if ((await store.get('journeys', started.journeyId)).attempts[0].state !== 'issued') continue;
      assert.equal((await service.finish(started.journeyId, started.token, 'node-test')).passed, true);
    }
    // One validate per token, never a second: every validate the emulator saw validated its
    // claim, and each of those is a pass in the store.
    const now = new Map((await emu.control('GET', '/state')).claims.map((c) => [c.token, c.status]));
    const done = journeys.filter((s) => now.get(s.token)?.state === 'validated');
    assert.equal(await emu.count('/claim/verify/validate'), done.length);
    for (const started of done) assert.equal((await store.get('journeys', started.journeyId)).attempts[0].state, 'passed');
  } finally {
    await store.close();
  }
});
