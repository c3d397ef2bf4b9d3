// The journey service over both Node stores (SQLite through better-sqlite3, PostgreSQL through
// pg) against the emulator: the same tests as Python's tests/test_journeys.py for each store,
// then validate-once across 8 Node processes racing through PostgreSQL (their overlap proved),
// and a process killed mid-validate. PostgreSQL comes from scripts/postgres.sh
// (IPROOV_TEST_POSTGRES_URL); without it the PostgreSQL tests are skipped, unless
// IPROOV_TEST_REQUIRE_POSTGRES is set (scripts/test sets it), which makes its absence a failure.
import { test, describe, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { createRequire } from 'node:module';
import { api } from './impl.mjs';
import { SQLiteStore, PostgresStore } from '../index.mjs';
import { startEmulator, EU } from './emulator.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const POSTGRES = process.env.IPROOV_TEST_POSTGRES_URL;
if (!POSTGRES && process.env.IPROOV_TEST_REQUIRE_POSTGRES) {
  throw new Error('IPROOV_TEST_REQUIRE_POSTGRES is set but IPROOV_TEST_POSTGRES_URL is not: start PostgreSQL (scripts/postgres.sh)');
}
const NO_POSTGRES = POSTGRES ? false : 'IPROOV_TEST_POSTGRES_URL is not set (scripts/test starts PostgreSQL and sets it)';
const { Client: PgClient } = createRequire(import.meta.url)('pg');

let emu;
const scratch = mkdtempSync(join(tmpdir(), 'iproov-journeys-'));
before(async () => {
  emu = await startEmulator();
});
after(async () => {
  await emu?.stop();
  rmSync(scratch, { recursive: true, force: true });
});
beforeEach(async () => {
  await emu.reset();
});

/** Drops the journey tables: every PostgreSQL test starts from an empty database. */
async function clearPostgres() {
  const db = new PgClient({ connectionString: POSTGRES });
  await db.connect();
  try {
    await db.query('DROP TABLE IF EXISTS iproov_journeys, iproov_audit, iproov_users, iproov_schema');
  } finally {
    await db.end();
  }
}

let files = 0;
/** A fresh store of `kind`; `close()` it when done. */
async function openStore(kind) {
  if (kind === 'sqlite') return new SQLiteStore(join(scratch, `deep-${++files}`, 'journeys.sqlite3'));
  await clearPostgres();
  return new PostgresStore(POSTGRES, { spool: join(scratch, `deep-${++files}`, 'spool.jsonl') });
}

function client(extra = {}) {
  return api.createClient({ baseUrl: emu.region('eu'), ...EU, timeoutMs: 5_000, retryPolicy: { baseDelayMs: 20, maxDelayMs: 40 }, ...extra });
}

/** A user the emulator knows as enrolled (verify needs one). */
async function enrolled() {
  const userId = api.randomUserId();
  await emu.seedUser({ api_key: EU.apiKey, user_id: userId });
  return userId;
}

async function thrown(promise) {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  assert.fail('expected an error, got a result');
}

for (const kind of ['sqlite', 'postgres']) {
  describe(`journeys on ${kind}`, { skip: kind === 'postgres' ? NO_POSTGRES : false }, () => {
    let store;
    beforeEach(async () => {
      store = await openStore(kind);
    });
    // The store's own cleanup, after each test's assertions.
    const done = async () => store?.close();
    const service = (policy) => new api.JourneyService(client(), store, { policy });

    test('a pass is stored with its audit and no token', async (t) => {
      t.after(done);
      const audited = [];
      const svc = new api.JourneyService(client({ audit: (r) => audited.push(r) }), store);
      const user = await enrolled();
      const started = await svc.start('verify', user);
      assert.equal(started.attempt, 1);
      assert.equal(started.attemptsLeft, 2);
      assert.match(started.sdkUrl, /^ws:\/\/127\.0\.0\.1:/);
      await emu.complete(started.token, { passed: true });
      const finished = await svc.finish(started.journeyId, started.token, 'node-test');
      assert.equal(finished.passed, true);
      assert.equal(finished.next, 'done');
      const history = await svc.history(user);
      assert.equal(history.length, 1);
      const { journey, audit } = history[0];
      assert.equal(journey.attempts[0].state, 'passed');
      // The journey forgets the token once validated; the audit records keep it (the guide
      // lists the token for audit).
      assert.ok(!JSON.stringify(journey).includes(started.token), 'the token is forgotten once validated');
      assert.ok(JSON.stringify(audit).includes(started.token));
      assert.deepEqual(audit.map((r) => [r.operation, r.outcome]), [['verify_token', 'token_issued'], ['verify_validate', 'passed']]);
      assert.deepEqual(audit.map((r) => r.attempt), [1, 1]);
      // The client's own audit hook still saw every record.
      assert.deepEqual(audited, audit);
    });

    test('a failure then a pass on a new token', async (t) => {
      t.after(done);
      const svc = service();
      const user = await enrolled();
      const first = await svc.start('verify', user);
      await emu.complete(first.token, { passed: false, reason: 'too_much_movement' });
      const failed = await svc.finish(first.journeyId, first.token, 'node-test');
      assert.deepEqual(
        { passed: failed.passed, reason: failed.reason, next: failed.next, attemptsLeft: failed.attemptsLeft },
        { passed: false, reason: 'too_much_movement', next: 'start_attempt', attemptsLeft: 2 },
      );
      const second = await svc.start('verify', user, first.journeyId);
      assert.equal(second.attempt, 2);
      assert.notEqual(second.token, first.token);
      await emu.complete(second.token, { passed: true });
      assert.equal((await svc.finish(first.journeyId, second.token, 'node-test')).next, 'done');
      assert.equal(await emu.count('/claim/verify/validate'), 2);
    });

    test('attempts run out', async (t) => {
      t.after(done);
      const svc = service({ maxAttempts: 2 });
      const user = await enrolled();
      let journey;
      let result;
      for (let i = 0; i < 2; i++) {
        const started = await svc.start('verify', user, journey);
        journey = started.journeyId;
        await emu.complete(started.token, { passed: false });
        result = await svc.finish(journey, started.token, 'node-test');
      }
      assert.equal(result.next, 'exhausted');
      // A new token is refused until the attempts' window ends (a limit, with when).
      const again = await thrown(svc.start('verify', user, journey));
      assert.ok(again instanceof api.LimitExceededError, String(again));
      assert.equal(again.limit, 'attempts');
      assert.ok(again.retryAfterMs > 0, String(again.retryAfterMs));
      assert.equal(await emu.count('/claim/verify/token'), 2);
    });

    test('asking twice for a token gives the same one', async (t) => {
      t.after(done);
      const svc = service();
      const user = await enrolled();
      const first = await svc.start('verify', user);
      const second = await svc.start('verify', user, first.journeyId);
      assert.deepEqual(second, first, 'the same token, attempt and SDK URL');
      assert.equal(await emu.count('/claim/verify/token'), 1);
    });

    test('a double submit sends one validate', async (t) => {
      t.after(done);
      // A call timeout above the emulator's longest hold (60 s): the held validate is answered
      // whenever this test releases it, however slow the machine.
      const svc = new api.JourneyService(client({ timeoutMs: 90_000 }), store);
      const user = await enrolled();
      const started = await svc.start('verify', user);
      await emu.complete(started.token, { passed: true });
      // The first validate is held at iProov until the other three submits have their answer:
      // they all meet it in progress, whatever the machine's speed.
      await emu.fault({ path: '/claim/verify/validate', kind: 'delay', hold: true });
      // Four reads at once first, so that a pool holds four open connections and the four
      // submits below read the journey at the same time (not one after another's write).
      await Promise.all(Array.from({ length: 4 }, () => store.get('journeys', started.journeyId)));
      let settled = 0;
      const submits = Array.from({ length: 4 }, () =>
        svc
          .finish(started.journeyId, started.token, 'node-test')
          .catch((error) => error)
          .finally(() => settled++),
      );
      await emu.untilHeld(1);
      for (const deadline = Date.now() + 50_000; settled < 3 && Date.now() < deadline; ) await sleep(20);
      assert.equal(settled, 3, 'three submits answered while the first validate was held');
      assert.equal(await emu.release(), 1);
      const outcomes = await Promise.all(submits);
      assert.equal(await emu.count('/claim/verify/validate'), 1);
      const results = outcomes.filter((o) => !(o instanceof Error));
      assert.ok(results.length > 0 && results.every((r) => r.passed === true), JSON.stringify(outcomes));
      const refused = outcomes.filter((o) => o instanceof Error);
      // The overlap itself: some submit met the first's validate in progress (without one, the
      // submits ran one after another and this test would prove nothing about a double submit).
      assert.ok(refused.length > 0, `no submit met the validate in progress: ${JSON.stringify(outcomes)}`);
      for (const error of refused) {
        assert.ok(error instanceof api.InvalidStateError, String(error));
        assert.match(error.message, /in progress/);
      }
      // Once it is stored, every later submit gets it.
      assert.equal((await svc.finish(started.journeyId, started.token, 'node-test')).passed, true);
      assert.equal(await emu.count('/claim/verify/validate'), 1);
    });

    test('a fault during validate is stored as outcome unknown', async (t) => {
      t.after(done);
      const svc = service();
      const user = await enrolled();
      const started = await svc.start('verify', user);
      await emu.complete(started.token, { passed: true });
      await emu.fault({ path: '/claim/verify/validate', kind: 'status', status: 503 });
      const result = await svc.finish(started.journeyId, started.token, 'node-test');
      assert.equal(result.state, 'outcome_unknown');
      assert.equal(result.next, 'start_attempt');
      assert.equal((await svc.history(user))[0].journey.attempts[0].error_code, 'outcome_unknown');
      assert.equal(await emu.count('/claim/verify/validate'), 1);
    });

    test("a journey is its user's only", async (t) => {
      t.after(done);
      const svc = service();
      const user = await enrolled();
      const started = await svc.start('verify', user);
      assert.ok((await thrown(svc.start('verify', await enrolled(), started.journeyId))) instanceof api.InvalidStateError);
      assert.ok((await thrown(svc.finish(api.randomUserId(), started.token, 'node-test'))) instanceof api.InvalidStateError);
      // With the asking user (as web routes give it), another user's journey is unknown and
      // nothing is sent; its own user validates it.
      await emu.complete(started.token, { passed: true });
      const other = await thrown(svc.finish(started.journeyId, started.token, 'node-test', { userId: await enrolled() }));
      assert.ok(other instanceof api.InvalidStateError && /no such journey/.test(other.message), String(other));
      assert.equal(await emu.count('/claim/verify/validate'), 0);
      assert.equal((await svc.finish(started.journeyId, started.token, 'node-test', { userId: user })).passed, true);
      assert.equal(svc.store, store);
    });

    test('journeys past their retention are deleted', async (t) => {
      t.after(done);
      const svc = service({ retentionMs: 1 });
      const user = await enrolled();
      await svc.start('verify', user);
      await sleep(10);
      assert.equal(await svc.deleteExpired(), 1);
      assert.deepEqual(await svc.history(user), []);
    });

    test('an unusable policy is refused at once', async (t) => {
      t.after(done);
      assert.throws(() => new api.JourneyService(client(), store, { policy: { maxAttempts: 0 } }), (error) => {
        assert.ok(error instanceof api.InvalidInputError, String(error));
        assert.equal(error.field, 'max_attempts');
        return true;
      });
    });

    test('a store of a newer schema is refused', async (t) => {
      t.after(done);
      assert.equal(await store.get('journeys', 'x'), null); // the schema exists now
      if (kind === 'sqlite') {
        const Database = createRequire(import.meta.url)('better-sqlite3');
        const db = new Database(store.path);
        db.prepare('INSERT INTO iproov_schema (version) VALUES (3)').run();
        db.close();
        assert.throws(() => new SQLiteStore(store.path), /schema is version 3/);
      } else {
        const db = new PgClient({ connectionString: POSTGRES });
        await db.connect();
        await db.query('INSERT INTO iproov_schema (version) VALUES (3)');
        await db.end();
        const newer = new PostgresStore(POSTGRES);
        await assert.rejects(newer.get('journeys', 'x'), /schema is version 3/);
        await newer.close();
      }
    });
  });
}

describe('the service refuses what it cannot use', () => {
  test('a store lacking a method, a client of another kind', () => {
    const store = { get() {}, insert() {}, update() {} };
    assert.throws(() => new api.JourneyService(client(), store), { name: 'TypeError', message: /appendAudit, journeysOf, auditOf, deleteExpired/ });
    assert.throws(() => new api.JourneyService({ config: {}, call() {} }, {}), TypeError);
  });
});

// --- many processes ---------------------------------------------------------------------------

/**
 * Starts `n` journey-worker.mjs processes and waits until each is ready (its client and store
 * made) and waiting for "go" on its stdin. Each is `{child, exited, go}`; `exited` resolves
 * {code, signal, out}. `t.after` kills and reaps every one still running, also when an
 * assertion failed.
 */
async function workers(t, args, n) {
  const made = Array.from({ length: n }, () => {
    const child = spawn(process.execPath, [join(here, 'journey-worker.mjs'), JSON.stringify(args)], { stdio: ['pipe', 'pipe', 'inherit'] });
    let out = '';
    let markReady;
    const ready = new Promise((resolve) => (markReady = resolve));
    child.stdout.on('data', (d) => {
      out += d;
      if (out.startsWith('ready\n')) markReady();
    });
    const exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => resolve({ code, signal, out: out.replace(/^ready\n/, '') }));
    });
    return { child, exited, ready, go: () => child.stdin.end('go\n') };
  });
  t.after(async () => {
    for (const { child, exited } of made) {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    }
  });
  await Promise.race([
    Promise.all(made.map((w) => w.ready)),
    Promise.all(made.map((w) => w.exited)).then(() => assert.fail('the workers exited before they were ready')),
  ]);
  return made;
}

describe('validate once across processes (PostgreSQL)', { skip: NO_POSTGRES }, () => {
  test('eight processes racing validate each token once', async (t) => {
    await clearPostgres();
    const store = new PostgresStore(POSTGRES, { spool: false });
    t.after(() => store.close());
    const svc = new api.JourneyService(client(), store);
    const journeys = [];
    for (let i = 0; i < 12; i++) {
      const started = await svc.start('verify', await enrolled());
      await emu.complete(started.token, { passed: true });
      journeys.push([started.journeyId, started.token]);
    }
    await emu.control('DELETE', '/requests');
    // A call timeout above the emulator's longest hold (60 s), for the held validate below.
    const racing = await workers(t, { baseUrl: emu.region('eu'), postgres: POSTGRES, journeys, timeoutMs: 90_000 }, 8);
    // The first validate to arrive is held until every other journey's validate has arrived:
    // the other processes go through the journeys in the same order, so each of them passed
    // the held one meanwhile, and could only meet it in progress (its outcome is stored after
    // the release). The race is a real overlap, which an "in_progress" below proves.
    await emu.fault({ path: '/claim/verify/validate', kind: 'delay', hold: true });
    for (const worker of racing) worker.go();
    await emu.untilHeld(1);
    const others = Date.now() + 50_000;
    while ((await emu.count('/claim/verify/validate')) < journeys.length && Date.now() < others) await sleep(20);
    assert.equal(await emu.release(), 1, 'the first validate was held until the others had arrived');
    const outputs = [];
    for (const { exited } of racing) {
      const { code, out } = await exited;
      assert.equal(code, 0, out);
      outputs.push(JSON.parse(out));
    }
    assert.equal(await emu.count('/claim/verify/validate'), journeys.length, 'exactly one validate per token');
    let inProgress = 0;
    for (const [journeyId] of journeys) {
      const seen = outputs.map((o) => o[journeyId]);
      assert.ok(seen.includes('passed'), JSON.stringify(seen));
      assert.ok(seen.every((s) => s === 'passed' || s === 'in_progress'), JSON.stringify(seen));
      inProgress += seen.filter((s) => s === 'in_progress').length;
      assert.equal((await store.get('journeys', journeyId)).attempts[0].state, 'passed');
    }
    assert.ok(inProgress > 0, "no process ever met another's validate in progress: the race never overlapped");
  });

  test('a process killed mid-validate leaves outcome unknown and a new attempt', async (t) => {
    await clearPostgres();
    const store = new PostgresStore(POSTGRES, { spool: join(scratch, 'killed-mid-validate.spool.jsonl') });
    t.after(() => store.close());
    const patient = new api.JourneyService(client(), store);
    const user = await enrolled();
    const started = await patient.start('verify', user);
    await emu.complete(started.token, { passed: true });
    await emu.fault({ path: '/claim/verify/validate', kind: 'delay', delay_ms: 5000 });
    const [victim] = await workers(t, { baseUrl: emu.region('eu'), postgres: POSTGRES, journeys: [[started.journeyId, started.token]] }, 1);
    victim.go();
    const state = async () => (await store.get('journeys', started.journeyId)).attempts[0].state;
    // Killed once the validate is written as begun and has reached iProov (the emulator holds
    // its answer for 5 s): the worst moment, when iProov may have validated.
    const deadline = Date.now() + 60_000;
    while ((await state()) !== 'validating' || (await emu.count('/claim/verify/validate')) === 0) {
      assert.ok(Date.now() < deadline, 'the worker never sent the validate');
      await sleep(20);
    }
    victim.child.kill('SIGKILL');
    const { signal } = await victim.exited;
    assert.equal(signal, 'SIGKILL');
    assert.equal(await state(), 'validating');
    // Within its window: in progress, never sent again.
    const early = await thrown(patient.finish(started.journeyId, started.token, 'node-test'));
    assert.ok(early instanceof api.InvalidStateError && /in progress/.test(early.message), String(early));
    // Once core's staleness limit has passed (a service whose clock is that far ahead): the
    // limit of the instance that began the validate (the victim's), kept on the attempt.
    const limit = (await store.get('journeys', started.journeyId)).attempts[0].stale_validate_ms;
    assert.ok(Number.isInteger(limit) && limit > 0, `the victim's limit on the attempt: ${limit}`);
    const later = new api.JourneyService(client(), store, { clock: () => Date.now() + limit });
    const settled = await later.finish(started.journeyId, started.token, 'node-test');
    assert.equal(settled.state, 'outcome_unknown');
    assert.equal(settled.next, 'start_attempt');
    const again = await patient.start('verify', user, started.journeyId);
    assert.equal(again.attempt, 2);
    assert.notEqual(again.token, started.token);
    assert.equal(await emu.count('/claim/verify/validate'), 1);
  });
});
