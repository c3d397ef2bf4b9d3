// The journey service under faults, on real stores (better-sqlite3 files; PostgreSQL from
// IPROOV_TEST_POSTGRES_URL, a database of this file's own) against the emulator: a store that
// fails from each of its calls in turn during a start and a finish (before sending: nothing is
// sent and the caller gets StoreUnavailableError; after iProov answered: the outcome is in the
// error, in the spool, and in the store once the spool is replayed), a process killed right
// after the validate's answer reached it (a new process replays its spool), an enrol whose
// validate got a 5xx, a timeout or a reset (finished by the same user), and the spool's
// options. Nothing secret may reach an error, a log line or the spool.
import { test, describe, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { api } from './impl.mjs';
import nodeApi, { FileSpool, PostgresStore, SQLiteStore } from '../index.mjs';
import { startEmulator, EU } from './emulator.mjs';
import {
  KINDS,
  NO_POSTGRES,
  POSTGRES,
  SPOOL_DUE_SKEW_MS,
  STORE_SECRET,
  child,
  failingStore,
  openStore,
  privateDatabase,
  thrown,
} from './journey-support.mjs';

let emu;
let pg; // this file's database
const scratch = mkdtempSync(join(tmpdir(), 'iproov-journey-faults-'));
before(async () => {
  emu = await startEmulator();
  if (POSTGRES) pg = await privateDatabase('iproov_js_journey_faults');
});
after(async () => {
  await emu?.stop();
  rmSync(scratch, { recursive: true, force: true });
});
beforeEach(async () => {
  await emu.reset();
});

function client(extra = {}) {
  return api.createClient({ baseUrl: emu.region('eu'), ...EU, timeoutMs: 5_000, retryPolicy: { baseDelayMs: 20, maxDelayMs: 40 }, ...extra });
}

async function enrolled() {
  const userId = api.randomUserId();
  await emu.seedUser({ api_key: EU.apiKey, user_id: userId });
  return userId;
}

/** A logger that keeps the service's error lines. */
function logger() {
  const lines = [];
  return { lines, error: (...parts) => lines.push(parts.map((p) => (p instanceof Error ? `${p.name}: ${p.message}` : String(p))).join(' ')) };
}

const claim = (token) => emu.control('GET', `/claims/${token}`);
const claimsOf = async (userId) => (await emu.control('GET', '/state')).claims.filter((c) => c.user_id === userId);
const spoolText = (store) => (existsSync(store.spool.path) ? readFileSync(store.spool.path, 'utf8') : '');

/** Nothing secret (the store's password, the API secret and OAuth password, `token` when
 * given) in any of `texts`. */
function noSecrets(texts, token) {
  for (const text of texts) {
    for (const secret of [STORE_SECRET, EU.secret, EU.oauth.password, token].filter(Boolean)) {
      assert.ok(!text.includes(secret), `a secret (${secret.slice(0, 4)}...) in: ${text.slice(0, 300)}`);
    }
  }
}

/** Checks a StoreUnavailableError: core's class, the store's error only as its cause. */
function storeUnavailable(error, journeyId) {
  assert.ok(error instanceof api.StoreUnavailableError, String(error?.stack ?? error));
  assert.equal(error.code, 'store_unavailable');
  assert.equal(typeof error.storeOperation, 'string');
  if (journeyId !== undefined && error.journeyId !== undefined) assert.equal(error.journeyId, journeyId);
  assert.match(String(error.cause?.message), /connection to postgresql/, 'the store error is the cause');
  noSecrets([error.message, JSON.stringify(error.toJSON())]);
}

/**
 * One finish with the store failing from its call `from` on (`once`: only that call): what
 * the caller got is checked against what iProov saw, then the store comes back, the spool is
 * replayed, and the journey must hold the pass. Gives the case's kind: `before` (nothing
 * sent), `after` (the outcome in the error) or `answered`.
 */
async function finishUnderFault(kind, from, once) {
  const dir = mkdtempSync(join(scratch, 'finish-'));
  const store = openStore(kind, dir, pg);
  try {
    const user = await enrolled();
    const healthy = new api.JourneyService(client(), store);
    const started = await healthy.start('verify', user);
    await emu.complete(started.token, { passed: true });
    const faulty = failingStore(store, { from, once });
    const log = logger();
    let skew = 0;
    const service = new api.JourneyService(client(), faulty, { logger: log, clock: () => Date.now() + skew });
    const outcome = await service.finish(started.journeyId, started.token, 'fault-test').then((answer) => ({ answer }), (error) => ({ error }));
    const validated = (await claim(started.token)).status.state === 'validated';
    let kindOf = 'answered';
    if (outcome.error !== undefined) {
      storeUnavailable(outcome.error, started.journeyId);
      if (outcome.error.result === undefined) {
        kindOf = 'before';
        assert.equal(validated, false, `from call ${from}: nothing was sent`);
      } else {
        kindOf = 'after';
        assert.equal(validated, true);
        const { result } = outcome.error;
        assert.deepEqual([result.journeyId, result.passed, result.next], [started.journeyId, true, 'done'], JSON.stringify(result));
        assert.ok(spoolText(store).includes(started.journeyId), 'the outcome is in the spool');
        assert.ok(log.lines.some((l) => l.includes(started.journeyId) && /spool/.test(l)), `logged: ${log.lines}`);
        assert.equal((await store.get('journeys', started.journeyId)).attempts[0].state, 'validating', 'not in the store yet');
      }
    } else {
      assert.equal(outcome.answer.passed, true);
      assert.equal(validated, true);
    }
    // The spool's audit records keep the claim token as the store's audit records do (the
    // guide lists it for audit); log lines never show it.
    noSecrets([spoolText(store)]);
    noSecrets(log.lines, started.token);
    // The store is back: the spool brings what it holds (its entries due: the clock is ahead).
    faulty.heal();
    skew = SPOOL_DUE_SKEW_MS;
    await service.replaySpool();
    const stored = (await store.get('journeys', started.journeyId)).attempts[0].state;
    assert.equal(stored, kindOf === 'before' ? 'issued' : 'passed', `from call ${from} (${kindOf})`);
    // The user's next submit validates the token (before) or gets the pass (a second
    // validate would have been refused, and stored as an error).
    assert.equal((await healthy.finish(started.journeyId, started.token, 'fault-test')).passed, true);
    assert.equal((await store.get('journeys', started.journeyId)).attempts[0].state, 'passed');
    assert.equal((await claim(started.token)).status.state, 'validated');
    const [{ audit }] = await healthy.history(user);
    assert.ok(audit.some((r) => r.operation === 'verify_validate' && r.outcome === 'passed'), 'the validate is audited');
    return kindOf;
  } finally {
    await store.close();
  }
}

/**
 * One start with the store failing from its call `from` on (`once`: only that call). Gives
 * `before` (nothing sent), `after` (a token was issued that the store could not record) or
 * `answered`; then the store comes back and the user must get a token.
 */
async function startUnderFault(kind, from, once) {
  const dir = mkdtempSync(join(scratch, 'start-'));
  const store = openStore(kind, dir, pg);
  try {
    const user = await enrolled();
    const faulty = failingStore(store, { from, once });
    const log = logger();
    let skew = 0;
    const service = new api.JourneyService(client(), faulty, { logger: log, clock: () => Date.now() + skew });
    const outcome = await service.start('verify', user).then((answer) => ({ answer }), (error) => ({ error }));
    const issued = await claimsOf(user);
    let kindOf = 'answered';
    if (outcome.error !== undefined) {
      storeUnavailable(outcome.error);
      assert.equal(outcome.error.result, undefined);
      kindOf = issued.length === 0 ? 'before' : 'after';
    } else {
      assert.deepEqual(issued.map((c) => c.token), [outcome.answer.token]);
    }
    assert.ok(issued.length <= 1, 'one token request at most');
    noSecrets([spoolText(store)]);
    noSecrets(log.lines, issued[0]?.token);
    faulty.heal();
    skew = SPOOL_DUE_SKEW_MS;
    await service.replaySpool();
    // The store is back: the user gets a token (the same one when it was recorded). When
    // nothing was recorded, a claim on the token request that the failing store kept holds
    // until it lapses (core's `until_ms`), and the start is made past it.
    const held = kindOf === 'answered' ? 0 : ((await store.get('users', user))?.verify?.requesting?.until_ms ?? 0);
    const past = new api.JourneyService(client(), store, { clock: () => Math.max(Date.now(), held + 1) });
    const again = await past.start('verify', user);
    assert.equal(typeof again.token, 'string', JSON.stringify(again));
    if (kindOf === 'answered') assert.equal(again.token, outcome.answer.token);
    return kindOf;
  } finally {
    await store.close();
  }
}

/** How many store calls a clean start and a clean finish make (the cases to run). */
async function callsOfCleanRun(kind) {
  const store = openStore(kind, mkdtempSync(join(scratch, 'clean-')), pg);
  try {
    const counted = failingStore(store);
    const service = new api.JourneyService(client(), counted);
    const started = await service.start('verify', await enrolled());
    const startCalls = counted.calls.length;
    await emu.complete(started.token, { passed: true });
    await service.finish(started.journeyId, started.token, 'fault-test');
    return { start: startCalls, finish: counted.calls.length - startCalls };
  } finally {
    await store.close();
  }
}

for (const kind of KINDS) {
  describe(`store faults on ${kind}`, { skip: kind === 'postgres' ? NO_POSTGRES : false }, () => {
    for (const once of [false, true]) {
      const how = once ? 'fails once, at each call in turn' : 'goes down at each call in turn';
      test(`finish: the store ${how}; no pass is lost`, async () => {
        const { finish } = await callsOfCleanRun(kind);
        assert.ok(finish >= 4, `a finish makes ${finish} store calls`);
        // Each case on a journey of its own, all at once (the retries after iProov answered
        // take core's 3 s each).
        const kinds = await Promise.all(Array.from({ length: finish + 1 }, (_, i) => finishUnderFault(kind, i + 1, once)));
        assert.ok(kinds.includes('before'), `some failure came before sending: ${kinds}`);
        assert.ok(kinds.includes(once ? 'answered' : 'after'), `some failure came after iProov answered: ${kinds}`);
        assert.equal(kinds.at(-1), 'answered', 'no failure: the answer');
      });

      test(`start: the store ${how}; nothing is sent before it is recorded as claimed`, async () => {
        const { start } = await callsOfCleanRun(kind);
        assert.ok(start >= 4, `a start makes ${start} store calls`);
        const kinds = await Promise.all(Array.from({ length: start + 1 }, (_, i) => startUnderFault(kind, i + 1, once)));
        assert.ok(kinds.includes('before'), `some failure came before sending: ${kinds}`);
        assert.equal(kinds.at(-1), 'answered');
      });
    }

    test('a process killed right after the validate answered it: a new process replays its spool', async () => {
      const dir = mkdtempSync(join(scratch, 'killed-'));
      const store = openStore(kind, dir, pg);
      let victim;
      let replayer;
      try {
        const user = await enrolled();
        const healthy = new api.JourneyService(client(), store);
        const started = await healthy.start('verify', user);
        await emu.complete(started.token, { passed: true });
        const args = { kind, dir, postgres: pg, baseUrl: emu.region('eu'), journeyId: started.journeyId, token: started.token };
        victim = child('journey-child.mjs', { ...args, mode: 'finish' });
        await victim.line((l) => l === 'answered');
        // iProov validated the token, the outcome is in the spool (written before the store
        // was asked), and the process dies before the store has it.
        assert.ok(spoolText(store).includes(started.journeyId));
        victim.proc.kill('SIGKILL');
        assert.equal((await victim.exited).signal, 'SIGKILL');
        assert.equal((await claim(started.token)).status.state, 'validated');
        assert.equal((await store.get('journeys', started.journeyId)).attempts[0].state, 'validating');
        replayer = child('journey-child.mjs', { ...args, mode: 'replay', skewMs: SPOOL_DUE_SKEW_MS });
        await replayer.line((l) => l === 'replayed');
        assert.equal((await replayer.exited).code, 0);
        assert.equal((await store.get('journeys', started.journeyId)).attempts[0].state, 'passed');
        assert.equal((await healthy.finish(started.journeyId, started.token, 'node-test')).passed, true);
        assert.equal(await emu.count('/claim/verify/validate'), 1, 'one validate');
        assert.equal(spoolText(store).includes(started.journeyId), false, 'the entry left the spool');
      } finally {
        // Whatever failed above, neither child outlives the test.
        await victim?.stop();
        await replayer?.stop();
        await store.close();
      }
    });

    // iProov's answer to the validate is lost three ways; the enrol's user is then Inactive
    // (the handler never ran), or Active (it ran). The journey's next start checks the user
    // through the users API (the client has OAuth credentials) and the user finishes.
    const lost = [
      ['a 5xx', { kind: 'status', status: 500 }, {}],
      // A 2 s deadline every other call meets on a loaded machine; the validate held past it.
      ['a timeout', { kind: 'delay', delay_ms: 3_000 }, { timeoutMs: 2_000 }],
      ['a reset', { kind: 'reset' }, {}],
      ['a reset after iProov handled it', { kind: 'reset', after_handler: true }, {}],
    ];
    for (const [name, rule, options] of lost) {
      test(`an enrol whose validate got ${name} is finished by the same user`, async () => {
        const store = openStore(kind, mkdtempSync(join(scratch, 'enrol-')), pg);
        try {
          const service = new api.JourneyService(client(options), store);
          const user = api.randomUserId();
          const started = await service.start('enrol', user);
          await emu.complete(started.token, { passed: true });
          await emu.fault({ path: '/claim/enrol/validate', ...rule });
          const first = await service.finish(started.journeyId, started.token, 'node-test');
          assert.deepEqual([first.state, first.next], ['outcome_unknown', 'start_attempt'], JSON.stringify(first));
          const next = await service.start('enrol', user); // a reload: the user's current journey
          let done = next;
          if (next.token !== undefined) {
            assert.equal(next.journeyId, started.journeyId);
            await emu.complete(next.token, { passed: true });
            done = await service.finish(next.journeyId, next.token, 'node-test');
          }
          assert.deepEqual([done.passed, done.next], [true, 'done'], JSON.stringify({ next, done }));
          const users = (await emu.control('GET', '/state')).users.filter((u) => u.user_id === user);
          assert.deepEqual(users.map((u) => u.status), ['Active']);
        } finally {
          await store.close();
        }
      });
    }

    test('without OAuth credentials, an inconclusive enrol names what the operator must do', async () => {
      const store = openStore(kind, mkdtempSync(join(scratch, 'no-oauth-')), pg);
      try {
        const service = new api.JourneyService(client({ oauth: undefined }), store);
        const user = api.randomUserId();
        const started = await service.start('enrol', user);
        await emu.complete(started.token, { passed: true });
        await emu.fault({ path: '/claim/enrol/validate', kind: 'reset', after_handler: true });
        assert.equal((await service.finish(started.journeyId, started.token, 'node-test')).state, 'outcome_unknown');
        const refused = await thrown(service.start('enrol', user));
        assert.equal(refused.code, 'already_enrolled', String(refused));
        assert.match(refused.message, /oauth_username/);
      } finally {
        await store.close();
      }
    });

    test('an inconclusive enrol of a user an operator suspended at iProov names the action; no second token', async () => {
      const store = openStore(kind, mkdtempSync(join(scratch, 'suspended-')), pg);
      try {
        const service = new api.JourneyService(client(), store);
        const user = api.randomUserId();
        const started = await service.start('enrol', user);
        await emu.complete(started.token, { passed: true });
        await emu.fault({ path: '/claim/enrol/validate', kind: 'status', status: 500 });
        assert.equal((await service.finish(started.journeyId, started.token, 'node-test')).state, 'outcome_unknown');
        await emu.seedUser({ api_key: EU.apiKey, user_id: user, status: 'Suspended' });
        const reads = await emu.count(`/users/${user}`, 'GET');
        for (let i = 0; i < 2; i += 1) {
          const refused = await thrown(service.start('enrol', user));
          assert.ok(refused instanceof api.ApiError, String(refused));
          assert.equal(refused.code, 'inactive_user', String(refused));
          assert.match(refused.message, /activate/);
          assert.match(refused.message, /delete/);
        }
        assert.ok((await emu.count(`/users/${user}`, 'GET')) > reads, 'the users API was asked');
        assert.equal(await emu.count('/claim/enrol/token'), 1, 'nobody gets a second token');
        const users = (await emu.control('GET', '/state')).users.filter((u) => u.user_id === user);
        assert.deepEqual(users.map((u) => u.status), ['Suspended']);
        const [{ journey }] = await service.history(user);
        assert.deepEqual(journey.attempts.map((a) => a.state), ['outcome_unknown']);
      } finally {
        await store.close();
      }
    });

    // The store calls the service makes outside a pump: which call of the service's fails
    // (a history's first is journeysOf, its second auditOf) and the service call.
    const outside = [
      ['journeys_of', 1, (service, user) => service.history(user)],
      ['audit_of', 2, (service, user) => service.history(user)],
      ['delete_expired', 1, (service) => service.deleteExpired()],
    ];
    for (const [operation, from, run] of outside) {
      test(`a store failing at ${operation} outside a request gives StoreUnavailableError`, async () => {
        const store = openStore(kind, mkdtempSync(join(scratch, 'outside-')), pg);
        try {
          const user = await enrolled();
          await new api.JourneyService(client(), store, { spool: false }).start('verify', user);
          const faulty = failingStore(store, { from });
          const service = new api.JourneyService(client(), faulty, { spool: false });
          const error = await thrown(run(service, user));
          storeUnavailable(error);
          assert.deepEqual([error.storeOperation, error.journeyId, error.result], [operation, undefined, undefined]);
          assert.equal(faulty.calls.length, from, faulty.calls.join());
          faulty.heal();
          assert.notEqual(await run(service, user), undefined, 'back up, it answers');
        } finally {
          await store.close();
        }
      });
    }
  });
}

describe('the spool', () => {
  const memoryStore = () => {
    const rows = new Map();
    return {
      get: (table, id) => rows.get(`${table} ${id}`) ?? null,
      insert: (table, record) => !rows.has(`${table} ${record.id}`) && Boolean(rows.set(`${table} ${record.id}`, record)),
      update: (table, record, expected) => rows.get(`${table} ${record.id}`)?.version === expected && Boolean(rows.set(`${table} ${record.id}`, record)),
      appendAudit: () => {},
      journeysOf: () => [],
      auditOf: () => [],
      deleteExpired: () => 0,
      forget: () => ({ journeys: 0, audit_records: 0 }),
    };
  };

  test('a store with no spool of its own needs one, or spool: false', () => {
    assert.throws(() => new api.JourneyService(client(), memoryStore()), (e) => {
      assert.ok(e instanceof api.InvalidInputError, String(e));
      assert.equal(e.field, 'spool');
      return true;
    });
    assert.ok(new api.JourneyService(client(), memoryStore(), { spool: false }));
    assert.ok(new api.JourneyService(client(), memoryStore(), { spool: new FileSpool(join(scratch, 'own.jsonl')) }));
  });

  test('SQLite keeps it beside its file; PostgreSQL where it is told', { skip: NO_POSTGRES }, async () => {
    const sqlite = new SQLiteStore(join(scratch, 'beside', 'j.sqlite3'));
    assert.equal(sqlite.spool.path, `${sqlite.path}.spool.jsonl`);
    sqlite.close();
    assert.equal(new SQLiteStore(join(scratch, 'none', 'j.sqlite3'), { spool: false }).spool, false);
    const bare = new PostgresStore(pg);
    assert.throws(() => new api.JourneyService(client(), bare), (e) => e instanceof api.InvalidInputError && e.field === 'spool');
    await bare.close();
    const told = new PostgresStore(pg, { spool: join(scratch, 'pg.jsonl') });
    assert.equal(told.spool.path, join(scratch, 'pg.jsonl'));
    await told.close();
  });

  test("the Node package's service takes a path", async () => {
    const store = new SQLiteStore(join(scratch, 'path', 'j.sqlite3'), { spool: false });
    try {
      const path = join(scratch, 'path', 'given.jsonl');
      const nodeClient = nodeApi.createClient({ baseUrl: emu.region('eu'), ...EU, timeoutMs: 5_000 });
      const faulty = failingStore(store, { when: (method, [table, record]) => method === 'update' && table === 'journeys' && record.attempts.some((a) => a.state === 'passed') });
      const service = new nodeApi.JourneyService(nodeClient, faulty, { spool: path, logger: logger() });
      const user = await enrolled();
      const started = await new nodeApi.JourneyService(nodeClient, store).start('verify', user);
      await emu.complete(started.token, { passed: true });
      const error = await thrown(service.finish(started.journeyId, started.token, 'node-test'));
      assert.equal(error.result?.passed, true, String(error));
      assert.ok(readFileSync(path, 'utf8').includes(started.journeyId));
    } finally {
      store.close();
    }
  });

  test('the browser gets the outcome when the store fails after iProov answered', async () => {
    const store = new SQLiteStore(join(scratch, 'web', 'j.sqlite3'));
    try {
      const user = await enrolled();
      const healthy = new api.JourneyService(client(), store);
      const started = await healthy.start('verify', user);
      await emu.complete(started.token, { passed: true });
      const faulty = failingStore(store, { when: (method, [table, record]) => method === 'update' && table === 'journeys' && record.attempts.some((a) => a.state === 'passed') });
      const logged = [];
      const handler = api.createJourneyHandler(new api.JourneyService(client(), faulty, { logger: logger() }), {
        resolveUser: () => user,
        logger: { info: (message, { iproov: f }) => logged.push([f['http.route'], f['error.type'], f['iproov.web.code'], f['http.response.status_code']]), error: (message) => logged.push(message) },
      });
      const response = await handler(new Request('https://app.test/validate', {
        method: 'POST',
        headers: { Origin: 'https://app.test', 'Content-Type': 'application/json' },
        body: JSON.stringify({ journey_id: started.journeyId, token: started.token }),
      }));
      assert.equal(response.status, 200);
      const body = await response.json();
      assert.deepEqual([body.journey_id, body.passed, body.next], [started.journeyId, true, 'done'], JSON.stringify(body));
      assert.deepEqual(logged, [['validate', 'store_unavailable', 'outcome_delivered', 200]]);
    } finally {
      store.close();
    }
  });
});
