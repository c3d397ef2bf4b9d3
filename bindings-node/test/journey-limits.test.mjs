// The journey service's per-user limits (core's policy), on real stores (better-sqlite3 files;
// PostgreSQL from IPROOV_TEST_POSTGRES_URL, a database of this file's own) against the
// emulator, in one process and across two: 200 starts by one user make at most
// `userTokenRequests` token requests, a burst of starts makes one, a reload resumes the
// journey and its count, attempts used up stay used up when the user starts over (a
// LimitExceededError saying when), the service's budget, and the web endpoints' 429.
import { test, describe, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { api } from './impl.mjs';
import { startEmulator, EU } from './emulator.mjs';
import { KINDS, NO_POSTGRES, POSTGRES, child, openStore, privateDatabase, thrown } from './journey-support.mjs';

let emu;
let pg; // this file's database
const scratch = mkdtempSync(join(tmpdir(), 'iproov-journey-limits-'));
before(async () => {
  emu = await startEmulator();
  if (POSTGRES) pg = await privateDatabase('iproov_js_journey_limits');
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

/** A login: a start and, with a token, the phone's pass and the finish. The start's answer or error. */
async function login(service, user) {
  const started = await service.start('verify', user).catch((error) => error);
  if (started instanceof Error || started.token === undefined) return started;
  await emu.complete(started.token, { passed: true });
  const finished = await service.finish(started.journeyId, started.token, 'limits-test');
  assert.equal(finished.next, 'done');
  return started;
}

/** A failed attempt: a start, the phone's failure, the finish. The finish's answer. */
async function failedAttempt(service, user, journeyId) {
  const started = await service.start('verify', user, journeyId);
  assert.equal(typeof started.token, 'string', JSON.stringify(started));
  await emu.complete(started.token, { passed: false, reason: 'too_much_movement' });
  return { started, finished: await service.finish(started.journeyId, started.token, 'limits-test') };
}

for (const kind of KINDS) {
  describe(`limits on ${kind}`, { skip: kind === 'postgres' ? NO_POSTGRES : false }, () => {
    let store;
    beforeEach(() => {
      store = openStore(kind, mkdtempSync(join(scratch, `${kind}-`)), pg);
    });
    const closed = () => store.close();

    test('200 starts by one user make at most userTokenRequests token requests', async (t) => {
      t.after(closed);
      const service = new api.JourneyService(client(), store);
      const { userTokenRequests, tokenWindowMs } = service.policy;
      const user = await enrolled();
      const refused = [];
      for (let i = 0; i < 200; i++) {
        const answer = await login(service, user);
        if (answer instanceof Error) refused.push(answer);
      }
      assert.equal(await emu.count('/claim/verify/token'), userTokenRequests);
      assert.equal(refused.length, 200 - userTokenRequests);
      for (const error of refused) {
        assert.ok(error instanceof api.LimitExceededError, String(error));
        assert.equal(error.limit, 'user_token_requests');
        assert.ok(error.retryAfterMs > 0 && error.retryAfterMs <= tokenWindowMs, String(error.retryAfterMs));
      }
      // Another user is not held back by this one's limit.
      assert.equal(typeof (await login(service, await enrolled())).token, 'string');
    });

    test('200 starts at once by one user make one token request', async (t) => {
      t.after(closed);
      // A call timeout above the emulator's longest hold (60 s), for the held request below.
      const service = new api.JourneyService(client({ timeoutMs: 90_000 }), store);
      const user = await enrolled();
      // The first token request is held at iProov until this test has seen it there, so all
      // 200 starts (made at once, below) were in flight before it could be answered: the other
      // 199 overlapped it (a 300 ms delay left that to the machine's speed). None may end
      // while it is held: they wait for its token rather than failing or asking for their own.
      await emu.fault({ path: '/claim/verify/token', kind: 'delay', hold: true });
      let ended = 0;
      const starts = Array.from({ length: 200 }, () =>
        service.start('verify', user, undefined, { waitMs: 60_000 }).finally(() => ended++),
      );
      await emu.untilHeld(1);
      assert.equal(ended, 0, 'no start ended while the token request was held');
      assert.equal(await emu.release(), 1);
      const answers = await Promise.all(starts);
      assert.equal(await emu.count('/claim/verify/token'), 1);
      assert.equal(new Set(answers.map((a) => a.token)).size, 1, 'every start got the one token');
      assert.equal(new Set(answers.map((a) => a.journeyId)).size, 1);
    });

    test("a reload or a second tab resumes the user's journey and its count", async (t) => {
      t.after(closed);
      const service = new api.JourneyService(client(), store);
      const user = await enrolled();
      const { started, finished } = await failedAttempt(service, user);
      assert.equal(finished.attemptsLeft, 2);
      // The page forgot the journey (a reload): the user's current one comes back.
      const resumed = await service.start('verify', user);
      assert.deepEqual([resumed.journeyId, resumed.attempt, resumed.attemptsLeft], [started.journeyId, 2, 1]);
      const secondTab = await service.start('verify', user);
      assert.deepEqual(secondTab, resumed, 'the open attempt, the same token');
      assert.equal(await emu.count('/claim/verify/token'), 2);
    });

    test('attempts used up, then starting over: LimitExceededError saying when', async (t) => {
      t.after(closed);
      let skew = 0;
      const service = new api.JourneyService(client(), store, { clock: () => Date.now() + skew });
      const { maxAttempts, attemptWindowMs } = service.policy;
      const user = await enrolled();
      let journeyId;
      let last;
      for (let i = 0; i < maxAttempts; i++) {
        const { started, finished } = await failedAttempt(service, user, journeyId);
        journeyId = started.journeyId;
        last = finished;
      }
      assert.equal(last.next, 'exhausted');
      assert.ok(last.retryAfterMs > 0 && last.retryAfterMs <= attemptWindowMs, JSON.stringify(last));
      for (const again of [undefined, journeyId]) {
        const error = await thrown(service.start('verify', user, again));
        assert.ok(error instanceof api.LimitExceededError, String(error));
        assert.equal(error.limit, 'attempts');
        assert.ok(error.retryAfterMs > 0 && error.retryAfterMs <= last.retryAfterMs, `${error.retryAfterMs} vs ${last.retryAfterMs}`);
      }
      assert.equal(await emu.count('/claim/verify/token'), maxAttempts, 'nothing sent for the refusals');
      // Once the window has ended, a new journey with every attempt.
      skew = attemptWindowMs;
      const fresh = await service.start('verify', user);
      assert.deepEqual([fresh.attempt, fresh.attemptsLeft], [1, maxAttempts - 1]);
      assert.notEqual(fresh.journeyId, journeyId);
    });

    test("the service's budget caps token requests over every user", async (t) => {
      t.after(closed);
      const service = new api.JourneyService(client(), store, { policy: { serviceTokenRequests: 2 } });
      assert.equal(typeof (await login(service, await enrolled())).token, 'string');
      assert.equal(typeof (await login(service, await enrolled())).token, 'string');
      const over = await login(service, await enrolled());
      assert.ok(over instanceof api.LimitExceededError, String(over));
      assert.equal(over.limit, 'service_token_requests');
      assert.ok(over.retryAfterMs > 0);
      assert.equal(await emu.count('/claim/verify/token'), 2);
    });

    test('across two processes: one token request for two starts at once, and the limit holds', async (t) => {
      t.after(closed);
      const dir = mkdtempSync(join(scratch, `${kind}-shared-`));
      const shared = { kind, dir, postgres: pg, emulatorUrl: emu.url };
      // Two processes with their clients and stores made, waiting for "go"; `t.after` ends
      // them whatever fails.
      const spawned = async (args) => {
        const procs = [child('journey-limits-child.mjs', args), child('journey-limits-child.mjs', args)];
        t.after(() => Promise.all(procs.map((p) => p.stop())));
        await Promise.all(procs.map((p) => p.line((l) => l === 'ready')));
        return procs;
      };
      const outputsOf = async (procs) => {
        const outs = await Promise.all(procs.map((p) => p.line((l) => l.startsWith('{'), 120_000)));
        for (const p of procs) assert.equal((await p.exited).code, 0);
        return outs.map((l) => JSON.parse(l));
      };
      const run = async (args) => {
        const procs = await spawned(args);
        for (const p of procs) p.send('go');
        return outputsOf(procs);
      };
      // Two starts at once: the first process's token request is held by the emulator, the
      // second is told to go once that request is there, and the request is released once the
      // second has read the store (an overlap by construction, not by the two processes' pace
      // or the machine's speed).
      const user = await enrolled();
      await emu.fault({ path: '/claim/verify/token', kind: 'delay', hold: true });
      const pair = await spawned({ ...shared, user, mode: 'start' });
      pair[0].send('go');
      await emu.untilHeld(1);
      pair[1].send('go');
      await pair[1].line((l) => l === 'read');
      assert.ok(!pair[0].lines.some((l) => l.startsWith('{')), 'the first start ended while its token request was held');
      assert.equal(await emu.release(), 1);
      const [a, b] = await outputsOf(pair);
      assert.ok(b.began < a.ended, `the second start began while the first's token request was out: ${JSON.stringify([a, b])}`);
      assert.equal(a.token, b.token);
      assert.equal(a.journeyId, b.journeyId);
      assert.equal(await emu.count('/claim/verify/token'), 1);
      // 100 logins each by one user: the two together at most userTokenRequests.
      await emu.reset();
      const other = await enrolled();
      const outs = await run({ ...shared, user: other, mode: 'logins', n: 100 });
      const { userTokenRequests } = new api.JourneyService(client(), store).policy;
      const made = await emu.count('/claim/verify/token');
      assert.ok(made <= userTokenRequests, `${made} token requests`);
      assert.equal(new Set(outs.flatMap((o) => o.tokens)).size, made, 'each token request gave a token one of them used');
      // A process that found the other's attempt open got its token: a login, no request.
      assert.equal(outs[0].limited + outs[1].limited, 200 - outs[0].tokens.length - outs[1].tokens.length);
      assert.ok(outs[0].limited + outs[1].limited > 0);
      assert.deepEqual([...new Set(outs.flatMap((o) => o.limits))], ['user_token_requests']);
    });

    test('the web endpoints answer a limit 429 with Retry-After, logged at info with its code', async (t) => {
      t.after(closed);
      const user = await enrolled();
      const service = new api.JourneyService(client(), store);
      const logged = [];
      const handler = api.createJourneyHandler(service, {
        resolveUser: () => user,
        logger: { info: (message, { iproov: f }) => logged.push([f['http.route'], f['error.type'], f['iproov.web.code'], f['http.response.status_code']]), error() {} },
      });
      const post = (path, body) =>
        handler(new Request(`https://app.test/${path}`, {
          method: 'POST',
          headers: { Origin: 'https://app.test', 'Content-Type': 'application/json' },
          body: JSON.stringify(body),
        }));
      let journeyId;
      for (let i = 0; i < service.policy.maxAttempts; i++) {
        const started = await (await post('token', { flow: 'verify', journey_id: journeyId })).json();
        journeyId = started.journey_id;
        await emu.complete(started.token, { passed: false });
        await (await post('validate', { journey_id: journeyId, token: started.token })).json();
      }
      const over = await post('token', { flow: 'verify' });
      assert.equal(over.status, 429);
      assert.ok(Number(over.headers.get('retry-after')) > 0);
      assert.equal((await over.json()).error.code, 'too_many_attempts');
      assert.deepEqual(logged, [['token', 'limit_exceeded', 'too_many_attempts', 429]]);
    });
  });
}

// iProov's 429 with Retry-After (core's service::backoff): the service's next starts of that flow
// are refused with the time left and sent nowhere; another flow's endpoint and an open token are
// not held back; once the time has passed, iProov is asked again.
test('a rate limit holds token requests back until Retry-After', async (t) => {
  const store = openStore('sqlite', mkdtempSync(join(scratch, 'backoff-')));
  t.after(() => store.close());
  const service = new api.JourneyService(client({ maxRetries: 0 }), store);
  const opener = await enrolled();
  const opened = await service.start('verify', opener);
  await emu.fault({ path: '/claim/verify/token', kind: 'status', status: 429, headers: { 'Retry-After': '2' }, times: 1 });
  const first = await thrown(service.start('verify', await enrolled()));
  assert.ok(first instanceof api.RateLimitedError, String(first));
  assert.deepEqual([first.status, first.retryAfterMs], [429, 2000]);
  let held;
  for (let i = 0; i < 20; i++) {
    held = await thrown(service.start('verify', await enrolled()));
    assert.ok(held instanceof api.RateLimitedError, String(held));
    assert.equal(held.status, undefined, 'nothing was sent');
    assert.equal(held.code, 'too_many_requests');
    assert.ok(held.retryAfterMs > 0 && held.retryAfterMs <= 2000, String(held.retryAfterMs));
  }
  assert.equal(await emu.count('/claim/verify/token'), 2); // the open journey's and the refused one
  assert.equal((await service.start('verify', opener)).token, opened.token, 'a reload still resumes');
  assert.equal((await service.start('enrol', api.randomUserId())).attempt, 1);
  await new Promise((resolve) => setTimeout(resolve, held.retryAfterMs)); // the hold's time passes
  assert.equal((await service.start('verify', await enrolled())).attempt, 1);
  assert.equal(await emu.count('/claim/verify/token'), 3);
});
