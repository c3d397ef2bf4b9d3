// The journey service on a Durable Object's SQLite storage, inside workerd, against the
// emulator: the same behaviours as Python's tests/test_journeys.py and the Node stores' tests,
// driven the way a worker drives it, then the per-user limits and the store failing from each
// of its calls in turn (no spool on a Durable Object: a validated outcome reaches the caller
// in the error). The test handler calls the object over RPC (as a worker's routes would); the
// object runs `JourneyService` over `DurableObjectStore(ctx.storage)`. Each test uses an object
// of its own (its own database). Every check that fails throws.
import { DurableObject } from 'cloudflare:workers';
import api, { DurableObjectStore } from 'iproov-sansio-edge';

const EU = {
  apiKey: 'eudefaultkey0000000000000000000000000000',
  secret: 'eudefaultsecret0000000000000000000000000',
};

/** An error as an RPC answer: class name, code, message and core's fields, the cause's message. */
function asAnswer(error) {
  if (!(error instanceof api.IProovError)) throw error;
  const { name, code, message, field, limit, retryAfterMs, storeOperation, journeyId, result } = error;
  return { error: { name, code, message, field, limit, retryAfterMs, storeOperation, journeyId, result, cause: error.cause?.message } };
}

/** The users API's OAuth credentials of the emulator's eu service provider (forget at iProov). */
const OAUTH = { username: 'eu-default-oauth', password: 'eu-default-oauth-password' };

/** The store's password in a failing store's error: it must stay in the error's cause. */
const STORE_SECRET = 'pw-Do83LxT1';

/**
 * `store` with its calls counted; from call `from` on (1-based) they throw, until `heal()`.
 */
function failingStore(store, from) {
  const wrapper = { calls: 0, healed: false, spool: store.spool };
  wrapper.heal = () => (wrapper.healed = true);
  for (const method of ['get', 'insert', 'update', 'appendAudit', 'journeysOf', 'auditOf', 'deleteExpired', 'forget']) {
    wrapper[method] = (...args) => {
      wrapper.calls += 1;
      if (!wrapper.healed && wrapper.calls >= from) throw new Error(`SQLITE_FULL (${method}) at sqlite://journeys:${STORE_SECRET}@object`);
      return store[method](...args);
    };
  }
  return wrapper;
}

/** The object under test: the service's methods over RPC, on its own SQLite storage. */
export class JourneyStoreTest extends DurableObject {
  #services = new Map();
  #held;
  #web; // the web handler of health(): its cache lives as long as this object
  #told = []; // the lines of #toldService's logger: {level, message, fields}
  #logged;

  /** A service whose client has a logger (console's convention) keeping every line. */
  #toldService() {
    if (this.#logged === undefined) {
      const logger = Object.fromEntries(['debug', 'info', 'warn', 'error'].map((level) => [level, (message, fields) => this.#told.push({ level, message, fields })]));
      const client = api.createClient({ baseUrl: `${this.env.EMULATOR_URL}/eu`, ...EU, timeoutMs: 5_000, logger });
      this.#logged = new api.JourneyService(client, new DurableObjectStore(this.ctx.storage));
    }
    return this.#logged;
  }

  async startTold(userId) {
    return this.#toldService().start('verify', userId).catch(asAnswer);
  }

  async finishTold(journeyId, token) {
    return this.#toldService().finish(journeyId, token, 'workerd-test').catch(asAnswer);
  }

  /** What the logger got. */
  async told() {
    return this.#told;
  }

  #service(policy) {
    const key = JSON.stringify(policy ?? {});
    let service = this.#services.get(key);
    if (service === undefined) {
      const client = api.createClient({ baseUrl: `${this.env.EMULATOR_URL}/eu`, ...EU, timeoutMs: 5_000 });
      service = new api.JourneyService(client, new DurableObjectStore(this.ctx.storage), { policy });
      this.#services.set(key, service);
    }
    return service;
  }

  async start(userId, journeyId, policy, options) {
    return this.#service(policy).start('verify', userId, journeyId, options).catch(asAnswer);
  }

  /** A start by a service whose clock is `skewMs` ahead. */
  async startLater(userId, skewMs) {
    const client = api.createClient({ baseUrl: `${this.env.EMULATOR_URL}/eu`, ...EU, timeoutMs: 5_000 });
    const service = new api.JourneyService(client, new DurableObjectStore(this.ctx.storage), { clock: () => Date.now() + skewMs });
    return service.start('verify', userId).catch(asAnswer);
  }

  /**
   * The service of the tests whose call the emulator holds (a `hold` fault) until they
   * release it: a call timeout above the emulator's longest hold (60 s).
   */
  #patient() {
    if (this.#held === undefined) {
      const client = api.createClient({ baseUrl: `${this.env.EMULATOR_URL}/eu`, ...EU, timeoutMs: 90_000 });
      this.#held = new api.JourneyService(client, new DurableObjectStore(this.ctx.storage));
    }
    return this.#held;
  }

  /** A finish by the patient service (a double submit whose validate is held). */
  async finishHeld(journeyId, token) {
    return this.#patient().finish(journeyId, token, 'workerd-test').catch(asAnswer);
  }

  /**
   * `n` starts at once by one user (each waits for the others' token request), the token
   * request held by the emulator until this object has seen it there: `{answers,
   * endedWhileHeld, released}` (`endedWhileHeld`: the starts that ended before the release).
   */
  async startAtOnce(userId, n) {
    const service = this.#patient();
    let ended = 0;
    const starts = Array.from({ length: n }, () =>
      service
        .start('verify', userId, undefined, { waitMs: 60_000 })
        .catch(asAnswer)
        .finally(() => (ended += 1)),
    );
    const emu = (method, path) => control(this.env.EMULATOR_URL, method, path);
    await untilHeld(emu);
    const endedWhileHeld = ended;
    const { released } = await emu('POST', '/faults/release');
    return { answers: await Promise.all(starts), endedWhileHeld, released };
  }

  /**
   * A start (no `token`) or a finish with the store failing from its call `from` on:
   * `{outcome, calls, lines}` (`lines`: what the service logged at error level).
   */
  async underFault(from, userId, journeyId, token) {
    const client = api.createClient({ baseUrl: `${this.env.EMULATOR_URL}/eu`, ...EU, timeoutMs: 5_000 });
    const store = failingStore(new DurableObjectStore(this.ctx.storage), from);
    const lines = [];
    const service = new api.JourneyService(client, store, { logger: { error: (...parts) => lines.push(parts.map(String).join(' ')) } });
    const run = () => (token === undefined ? service.start('verify', userId) : service.finish(journeyId, token, 'workerd-test'));
    const outcome = await run().catch(asAnswer);
    return { outcome, calls: store.calls, lines };
  }

  async finish(journeyId, token, policy, userId) {
    return this.#service(policy).finish(journeyId, token, 'workerd-test', { userId }).catch(asAnswer);
  }

  /**
   * `n` finishes at once inside one request: they all read the journey before any writes.
   * The validate being held by the emulator (a `hold` fault), the object releases it once the
   * other `n - 1` have their answer: `{outcomes, released}`.
   */
  async finishAtOnce(journeyId, token, n) {
    const service = this.#patient();
    let settled = 0;
    const emu = (method, path) => control(this.env.EMULATOR_URL, method, path);
    let release;
    const finishes = Array.from({ length: n }, () =>
      service
        .finish(journeyId, token, 'workerd-test')
        .catch(asAnswer)
        .finally(() => {
          settled += 1;
          if (settled === n - 1) release = untilHeld(emu).then(() => emu('POST', '/faults/release'));
        }),
    );
    const outcomes = await Promise.all(finishes);
    return { outcomes, released: (await release)?.released };
  }

  async history(userId) {
    return this.#service().history(userId);
  }

  async deleteExpired(policy) {
    return this.#service(policy).deleteExpired();
  }

  /** The stored record itself (tests look at what the store keeps). */
  async stored(journeyId) {
    return new DurableObjectStore(this.ctx.storage).get('journeys', journeyId);
  }

  /** Erases `userId` (and at iProov when `atIproov`) through a service whose client has the users API. */
  async forget(userId, atIproov) {
    const client = api.createClient({ baseUrl: `${this.env.EMULATOR_URL}/eu`, ...EU, oauth: OAUTH, timeoutMs: 5_000 });
    return new api.JourneyService(client, new DurableObjectStore(this.ctx.storage)).forget(userId, { atIproov }).catch(asAnswer);
  }

  /**
   * `n` requests of `GET /iproov/health` at once through the web handler (createJourneyHandler)
   * on this object's store (failing from its first call when `storeFails`): each answer's
   * status, Cache-Control and body, and the handler's log lines.
   */
  async health(n, storeFails) {
    const lines = [];
    const logger = Object.fromEntries(['debug', 'info', 'warn', 'error'].map((level) => [level, (...parts) => lines.push(`${level} ${parts.map((p) => (p instanceof Error ? p.message : JSON.stringify(p))).join(' ')}`)]));
    let handler = this.#web;
    if (handler === undefined || storeFails) {
      const store = storeFails ? failingStore(new DurableObjectStore(this.ctx.storage), 1) : new DurableObjectStore(this.ctx.storage);
      const client = api.createClient({ baseUrl: `${this.env.EMULATOR_URL}/eu`, ...EU, timeoutMs: 5_000 });
      handler = api.createJourneyHandler(new api.JourneyService(client, store), { basePath: '/iproov', resolveUser: () => null, logger });
      if (!storeFails) this.#web = handler;
    }
    const answers = await Promise.all(Array.from({ length: n }, async () => {
      const response = await handler(new Request('https://worker.test/iproov/health'));
      return { status: response.status, cacheControl: response.headers.get('cache-control'), body: await response.json() };
    }));
    return { answers, lines };
  }

  /** Core refuses an unusable policy when the service is made. */
  async refusesPolicy() {
    try {
      this.#service({ maxAttempts: 0 });
    } catch (error) {
      return asAnswer(error);
    }
    return {};
  }
}

/**
 * Waits until the emulator holds a request (a `hold` fault; tests/emulator/README.md, "Fault
 * rules"): polled, for up to 60 s.
 */
async function untilHeld(emu) {
  for (const deadline = Date.now() + 60_000; ; await new Promise((done) => setTimeout(done, 20))) {
    const { held } = await emu('GET', '/faults');
    if (held > 0) return held;
    if (Date.now() > deadline) throw new Error('no request held by the emulator after 60 s');
  }
}

function check(condition, what, detail) {
  if (!condition) throw new Error(`journeys on a Durable Object: ${what}${detail === undefined ? '' : `: ${JSON.stringify(detail)}`}`);
}

async function control(emulator, method, path, body) {
  const res = await fetch(`${emulator}/__emulator${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`control ${method} ${path}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : undefined;
}

const TESTS = {
  async 'a pass is stored with its audit and no token'({ store, emu, enrolled }) {
    const user = await enrolled();
    const started = await store.start(user);
    check(started.attempt === 1 && started.attemptsLeft === 2, 'first attempt', started);
    check(/^ws:\/\/127\.0\.0\.1:\d+\/eu\/ws$/.test(started.sdkUrl), "the region's SDK URL", started);
    await emu('POST', `/claims/${started.token}/complete`, { passed: true });
    const finished = await store.finish(started.journeyId, started.token);
    check(finished.passed === true && finished.next === 'done', 'passed', finished);
    const history = await store.history(user);
    check(history.length === 1 && history[0].journey.attempts[0].state === 'passed', 'stored as passed', history);
    check(!JSON.stringify(history[0].journey).includes(started.token), 'the token is forgotten once validated');
    check(JSON.stringify(history[0].audit).includes(started.token), 'the audit records keep the token');
    const outcomes = history[0].audit.map((r) => `${r.operation} ${r.outcome} ${r.attempt}`);
    check(outcomes.join(', ') === 'verify_token token_issued 1, verify_validate passed 1', 'the audit records', outcomes);
  },

  async 'a failure then a pass on a new token'({ store, emu, enrolled, count }) {
    const user = await enrolled();
    const first = await store.start(user);
    await emu('POST', `/claims/${first.token}/complete`, { passed: false, reason: 'too_much_movement' });
    const failed = await store.finish(first.journeyId, first.token);
    check(failed.passed === false && failed.reason === 'too_much_movement' && failed.next === 'start_attempt' && failed.attemptsLeft === 2, 'failed', failed);
    const second = await store.start(user, first.journeyId);
    check(second.attempt === 2 && second.token !== first.token, 'a new token', second);
    await emu('POST', `/claims/${second.token}/complete`, { passed: true });
    check((await store.finish(first.journeyId, second.token)).next === 'done', 'then passed');
    check((await count('/claim/verify/validate')) === 2, 'two validates');
  },

  async 'attempts run out'({ store, emu, enrolled, count }) {
    const policy = { maxAttempts: 2 };
    const user = await enrolled();
    let journey;
    let result;
    for (let i = 0; i < 2; i++) {
      const started = await store.start(user, journey, policy);
      journey = started.journeyId;
      await emu('POST', `/claims/${started.token}/complete`, { passed: false });
      result = await store.finish(journey, started.token, policy);
    }
    check(result.next === 'exhausted' && result.retryAfterMs > 0, 'exhausted, saying when', result);
    // Named or not (starting over), no new attempt until the window ends: a limit, with when.
    for (const named of [journey, undefined]) {
      const again = await store.start(user, named, policy);
      check(again.error?.name === 'LimitExceededError' && again.error.limit === 'attempts' && again.error.retryAfterMs > 0, 'no third token', again);
    }
    check((await count('/claim/verify/token')) === 2, 'two token requests');
  },

  async 'asking twice for a token gives the same one'({ store, enrolled, count }) {
    const user = await enrolled();
    const first = await store.start(user);
    const second = await store.start(user, first.journeyId);
    check(JSON.stringify(second) === JSON.stringify(first), 'the same answer, SDK URL included', [first, second]);
    check((await count('/claim/verify/token')) === 1, 'one token request');
  },

  async 'a double submit sends one validate'({ store, emu, enrolled, count }) {
    const user = await enrolled();
    const started = await store.start(user);
    await emu('POST', `/claims/${started.token}/complete`, { passed: true });
    // The validate held at iProov until the other three requests have their answer, whatever
    // the machine's speed.
    await emu('POST', '/faults', { path: '/claim/verify/validate', kind: 'delay', hold: true });
    // Four requests to the object at once: the object runs one until it awaits the validate,
    // which it has written as begun; the others then find it in progress.
    let settled = 0;
    const finishes = Array.from({ length: 4 }, () => store.finishHeld(started.journeyId, started.token).then((outcome) => ((settled += 1), outcome)));
    await untilHeld(emu);
    for (const deadline = Date.now() + 50_000; settled < 3 && Date.now() < deadline; ) await new Promise((done) => setTimeout(done, 20));
    check(settled === 3, 'three requests answered while the validate was held', settled);
    check((await emu('POST', '/faults/release')).released === 1, 'the validate released');
    const outcomes = await Promise.all(finishes);
    check((await count('/claim/verify/validate')) === 1, 'one validate', outcomes);
    const results = outcomes.filter((o) => o.error === undefined);
    check(results.length > 0 && results.every((r) => r.passed === true), 'the submits that got an outcome passed', outcomes);
    const refused = outcomes.filter((o) => o.error !== undefined);
    // The overlap itself: without a submit that met the validate in progress, they ran one after another.
    check(refused.length > 0, 'some submit met the validate in progress', outcomes);
    check(refused.every((o) => o.error.name === 'InvalidStateError' && /in progress/.test(o.error.message)), 'the others: in progress', outcomes);
    check((await store.finish(started.journeyId, started.token)).passed === true, 'a later submit gets the stored outcome');
    check((await count('/claim/verify/validate')) === 1, 'still one validate');
  },

  async 'a double submit within one request sends one validate (compare-and-set)'({ store, emu, enrolled, count }) {
    const user = await enrolled();
    const started = await store.start(user);
    await emu('POST', `/claims/${started.token}/complete`, { passed: true });
    // Held until the other three have their answer (the object releases it).
    await emu('POST', '/faults', { path: '/claim/verify/validate', kind: 'delay', hold: true });
    const { outcomes, released } = await store.finishAtOnce(started.journeyId, started.token, 4);
    check(released === 1, 'the validate was held until the other three had their answer', { outcomes, released });
    check((await count('/claim/verify/validate')) === 1, 'one validate', outcomes);
    const results = outcomes.filter((o) => o.error === undefined);
    check(results.length > 0 && results.every((r) => r.passed === true), 'the outcomes passed', outcomes);
    const refused = outcomes.filter((o) => o.error !== undefined);
    check(refused.length > 0, 'some submit met the validate in progress', outcomes);
    check(refused.every((o) => /in progress/.test(o.error.message)), 'the others: in progress', outcomes);
  },

  async 'a fault during validate is stored as outcome unknown'({ store, emu, enrolled, count }) {
    const user = await enrolled();
    const started = await store.start(user);
    await emu('POST', `/claims/${started.token}/complete`, { passed: true });
    await emu('POST', '/faults', { path: '/claim/verify/validate', kind: 'status', status: 503 });
    const result = await store.finish(started.journeyId, started.token);
    check(result.state === 'outcome_unknown' && result.next === 'start_attempt', 'outcome unknown', result);
    check((await store.history(user))[0].journey.attempts[0].error_code === 'outcome_unknown', 'stored as outcome unknown');
    check((await count('/claim/verify/validate')) === 1, 'never sent again');
  },

  async "a journey is its user's only"({ store, emu, enrolled, count }) {
    const user = await enrolled();
    const started = await store.start(user);
    const other = await store.start(await enrolled(), started.journeyId);
    check(other.error?.name === 'InvalidStateError', "another user's journey", other);
    const unknown = await store.finish(api.randomUserId(), started.token);
    check(unknown.error?.name === 'InvalidStateError', 'an unknown journey', unknown);
    // With the asking user, another user's journey is unknown and nothing is sent.
    await emu('POST', `/claims/${started.token}/complete`, { passed: true });
    const theirs = await store.finish(started.journeyId, started.token, undefined, await enrolled());
    check(theirs.error?.name === 'InvalidStateError' && /no such journey/.test(theirs.error.message), "finishing another user's journey", theirs);
    check((await count('/claim/verify/validate')) === 0, 'nothing sent');
    const own = await store.finish(started.journeyId, started.token, undefined, user);
    check(own.passed === true, 'its own user validates it', own);
  },

  async 'journeys past their retention are deleted'({ store, enrolled }) {
    const policy = { retentionMs: 1 };
    const user = await enrolled();
    const started = await store.start(user, undefined, policy);
    check(typeof started.token === 'string', 'started', started);
    await new Promise((resolve) => setTimeout(resolve, 10));
    check((await store.deleteExpired(policy)) === 1, 'one deleted');
    check((await store.history(user)).length === 0, 'nothing left');
    check((await store.stored(started.journeyId)) === null, 'the record is gone');
  },

  async '200 logins by one user make at most userTokenRequests token requests'({ store, emu, enrolled, count }) {
    const user = await enrolled();
    let limited = 0;
    for (let i = 0; i < 200; i++) {
      const started = await store.start(user);
      if (started.error !== undefined) {
        check(started.error.name === 'LimitExceededError' && started.error.limit === 'user_token_requests' && started.error.retryAfterMs > 0, 'the limit', started);
        limited += 1;
        continue;
      }
      await emu('POST', `/claims/${started.token}/complete`, { passed: true });
      check((await store.finish(started.journeyId, started.token)).next === 'done', 'a login');
    }
    const made = await count('/claim/verify/token');
    check(made === 10 && limited === 190, 'ten token requests (the default userTokenRequests), the rest refused', { made, limited });
  },

  async '200 starts at once make one token request'({ store, emu, enrolled, count }) {
    const user = await enrolled();
    // The first token request is held until the object has seen it there, so all 200 starts
    // were in flight before it could be answered; none may end while it is held.
    await emu('POST', '/faults', { path: '/claim/verify/token', kind: 'delay', hold: true });
    const { answers, endedWhileHeld, released } = await store.startAtOnce(user, 200);
    check(released === 1 && endedWhileHeld === 0, 'every start waited for the held token request', { endedWhileHeld, released });
    check(new Set(answers.map((a) => a.token)).size === 1 && typeof answers[0].token === 'string', 'one token for all', answers.slice(0, 3));
    check((await count('/claim/verify/token')) === 1, 'one token request');
  },

  async "a reload resumes the user's journey and its count"({ store, emu, enrolled, count }) {
    const user = await enrolled();
    const first = await store.start(user);
    await emu('POST', `/claims/${first.token}/complete`, { passed: false });
    check((await store.finish(first.journeyId, first.token)).attemptsLeft === 2, 'one attempt used');
    const resumed = await store.start(user); // the page forgot the journey
    check(resumed.journeyId === first.journeyId && resumed.attempt === 2 && resumed.attemptsLeft === 1, 'the same journey, its count kept', resumed);
    const later = await store.startLater(user, 3_600_000); // the attempts' window is over
    check(later.attempt === 1 && later.journeyId !== first.journeyId, 'a new journey once the window ended', later);
    check((await count('/claim/verify/token')) === 3, 'three token requests');
  },

  async 'the store failing from each call of a finish: nothing sent, or the outcome in the error'({ store, emu, enrolled, count }) {
    const seen = new Set();
    for (let from = 1; ; from++) {
      const user = await enrolled();
      const started = await store.start(user);
      await emu('POST', `/claims/${started.token}/complete`, { passed: true });
      const { outcome, calls, lines } = await store.underFault(from, user, started.journeyId, started.token);
      const validated = (await emu('GET', `/claims/${started.token}`)).status.state === 'validated';
      // The store's error (its password) is only the cause; core's error and the log never show it.
      const shown = (o) => (o.error === undefined ? o : { ...o, error: { ...o.error, cause: undefined } });
      const text = JSON.stringify([shown(outcome), lines]);
      check(!text.includes(STORE_SECRET) && !lines.join(' ').includes(started.token), 'nothing secret in the errors or the log', text);
      if (outcome.error === undefined) {
        check(outcome.passed === true && validated, 'the pass', outcome);
        seen.add('answered');
        if (from > calls) break; // the store never failed: every call had its case
        continue;
      }
      const { error } = outcome;
      check(error.name === 'StoreUnavailableError' && /SQLITE_FULL/.test(error.cause) && typeof error.storeOperation === 'string', 'StoreUnavailableError, the store error its cause', error);
      if (error.result === undefined) {
        check(!validated, `from call ${from}: nothing sent`, outcome);
        const after = await store.finish(started.journeyId, started.token);
        check(after.passed === true, 'once the store is back the user finishes', after);
        seen.add('before');
      } else {
        // No spool on a Durable Object: the outcome reaches the caller, and the log says so.
        check(validated && error.result.passed === true && error.result.next === 'done', 'the outcome in the error', error);
        check(error.result.journeyId === started.journeyId && error.journeyId === started.journeyId, "the error names the journey, its result is the journey's", error);
        check(lines.some((l) => l.includes(started.journeyId) && /no spool/.test(l)), 'logged at error level', lines);
        seen.add('after');
        // The store is back (README "No spool on a Durable Object"). The same token again sends
        // no second validate; the user is not locked out.
        const validates = await count('/claim/verify/validate');
        const again = await store.finish(started.journeyId, started.token);
        const kept = (await store.stored(started.journeyId)).attempts[0].state;
        if (error.storeOperation === 'append_audit') {
          // The outcome was stored, its audit records were not: the journey holds the pass.
          check(kept === 'passed' && again.passed === true && again.next === 'done', 'the stored pass answers', { kept, again });
          seen.add('after, outcome stored');
        } else {
          // The outcome's write failed: the attempt stays validating (in progress meanwhile)
          // until core's staleness limit settles it outcome_unknown; then a start is the
          // journey's next attempt, with a new token.
          check(error.storeOperation === 'update' && kept === 'validating', 'the attempt stays validating', { kept, error });
          check(again.error?.name === 'InvalidStateError' && /in progress/.test(again.error.message), 'the same token meanwhile: in progress', again);
          const later = await store.startLater(user, 15 * 60_000);
          check(later.journeyId === started.journeyId && later.attempt === 2 && typeof later.token === 'string' && later.token !== started.token, 'after the limit, the next attempt', later);
          const settled = (await store.stored(started.journeyId)).attempts[0].state;
          check(settled === 'outcome_unknown', 'settled outcome_unknown, as core says', settled);
          seen.add('after, outcome not stored');
        }
        check((await count('/claim/verify/validate')) === validates, 'no second validate', validates);
      }
    }
    check(['before', 'after', 'answered', 'after, outcome not stored'].every((s) => seen.has(s)), 'failures before sending and after the answer', [...seen]);
  },

  async 'the store failing from each call of a start: nothing sent before it is recorded'({ store, emu, enrolled }) {
    const seen = new Set();
    for (let from = 1; ; from++) {
      const user = await enrolled();
      const { outcome, calls } = await store.underFault(from, user);
      const issued = (await emu('GET', '/state')).claims.filter((c) => c.user_id === user);
      if (outcome.error === undefined) {
        // A failure after the token was recorded (releasing the claim, appending the audit
        // records) leaves the answer standing.
        check(issued.length === 1 && issued[0].token === outcome.token, 'the token', outcome);
        if (from > calls) break; // the store never failed: every call had its case
        continue;
      }
      check(outcome.error.name === 'StoreUnavailableError' && outcome.error.result === undefined, 'StoreUnavailableError', outcome);
      check(issued.length <= 1, 'one token request at most', issued);
      seen.add(issued.length === 0 ? 'before' : 'after');
    }
    check(seen.has('before'), 'failures before sending', [...seen]);
  },

  async "the client's logger gets the service's requests and the calls, nothing secret"({ store, emu, enrolled }) {
    const user = await enrolled();
    const started = await store.startTold(user);
    await emu('POST', `/claims/${started.token}/complete`, { passed: true });
    const finished = await store.finishTold(started.journeyId, started.token);
    check(finished.passed === true, 'passed', finished);
    const lines = await store.told();
    const of = (name, show) => lines.filter((l) => l.fields.iproov_event === name).map((l) => `${l.level} ${show(l.fields.iproov)}`).join(', ');
    const journeys = of('iproov.journey', (f) => `${f['iproov.journey.action']} ${f['iproov.outcome']} ${f['iproov.journey.id'] === started.journeyId}`);
    check(journeys === 'info start issued true, info finish passed true', 'a line per journey request, at info', journeys);
    const sends = of('iproov.send', (f) => `${f['http.request.method']} ${f['url.template']} ${f['http.response.status_code']}`);
    check(sends === 'debug POST /claim/verify/token 200, debug POST /claim/verify/validate 200', 'a line per request sent, at debug', sends);
    const calls = of('iproov.call', (f) => `${f['iproov.operation']} ${f['iproov.outcome']}`);
    check(calls === 'debug verify_token token_issued, debug verify_validate passed', "a line per call's end", calls);
    const text = JSON.stringify(lines);
    check(![started.token, user, EU.secret, EU.apiKey].some((hidden) => text.includes(hidden)), 'no token, user id or credential in a line');
  },

  async 'forget erases the user at iProov, then their journeys and audit records in the object'({ store, emu, enrolled }) {
    // As bindings-node/test/journey-forget.test.mjs on SQLite and PostgreSQL: DurableObjectStore
    // (its forget inherited from SqliteJourneyStore) inside workerd.
    const [user, other] = [await enrolled(), await enrolled()];
    for (const who of [user, other]) {
      const started = await store.start(who);
      await emu('POST', `/claims/${started.token}/complete`, { passed: true });
      check((await store.finish(started.journeyId, started.token)).passed === true, 'passed');
    }
    const [journey] = await store.history(user);
    const forgotten = await store.forget(user, true);
    const { journeys, auditRecords, atIproov } = forgotten;
    check(journeys === 1 && auditRecords === 2 && atIproov === 'deleted' && Object.keys(forgotten).length === 3, 'what was removed where', forgotten);
    check((await store.history(user)).length === 0, "the user's journeys and audit records are gone");
    check((await store.history(other)).length === 1, 'another user keeps theirs');
    check((await store.stored(journey.journey.id)) === null, 'the record is gone');
    const gone = await store.start(user, journey.journey.id);
    check(gone.error?.name === 'InvalidStateError' && gone.error.message === 'no such journey', "the erased user's journey id is unknown", gone);
    check((await store.forget(user, true)).atIproov === 'absent', 'a second forget finds nothing at iProov');
    const local = await store.forget(other, false);
    check(local.atIproov === 'not_asked' && local.journeys === 1, 'only the store when not asked', local);
    const deletes = async (who) => (await emu('GET', `/requests?${new URLSearchParams({ path: `/users/${who}`, method: 'DELETE' })}`)).count;
    const made = [await deletes(user), await deletes(other)];
    // At least the two asked (deleted, then absent: as test_journey_forget.py counts them); none for the other.
    check(made[0] >= 2 && made[1] === 0, 'DELETE /users/{id} for the one asked only', made);
  },

  async 'health answers iProov and the store, cached, and concurrent requests share one availability call'({ store, emu, count }) {
    // The availability call held 300 ms at the emulator: all 20 requests arrive while the
    // first check is under way (an order the hold makes, not a timing assertion).
    await emu('POST', '/faults', { path: '/availability', kind: 'delay', delay_ms: 300, times: 1 });
    const { answers, lines } = await store.health(20, false);
    // (Objects come back over RPC with their keys in another order: compared field by field.)
    const body = (b) => `${b.status} ${b.iproov} ${b.store} ${Object.keys(b).length}`;
    const fine = answers.every((a) => a.status === 200 && a.cacheControl === 'no-store' && body(a.body) === 'ok up ok 3');
    check(fine, 'ok: iProov up, the store read', answers[0]);
    check((await count('/availability')) === 1, '20 at once, one availability call');
    const again = await store.health(1, false);
    check(again.answers[0].status === 200 && (await count('/availability')) === 1, 'cached: a later request does not reach iProov');
    check(lines.length === 0 && again.lines.length === 0, 'nothing logged', lines);
    const degraded = await store.health(1, true);
    const [answer] = degraded.answers;
    check(answer.status === 503 && body(answer.body) === 'degraded up failing 3', 'a failing store: 503 degraded', answer);
    const text = JSON.stringify(degraded);
    check(!JSON.stringify(answer).includes(STORE_SECRET) && !text.includes(EU.secret) && !text.includes(EU.apiKey), 'no secret in the answer or the log', text);
    check(degraded.lines.some((l) => /store_failing/.test(l)), "the store's failure logged with its code", degraded.lines);
  },

  async 'an unusable policy is refused at once'({ store }) {
    const refused = await store.refusesPolicy();
    check(refused.error?.name === 'InvalidInputError' && refused.error.field === 'max_attempts', 'InvalidInputError on max_attempts', refused);
  },
};

/** Runs every test on an object of its own; gives the number passed (throws on the first failure). */
export async function journeyStoreTests(env) {
  const emulator = env.EMULATOR_URL;
  const emu = (method, path, body) => control(emulator, method, path, body);
  const count = async (path) => (await emu('GET', `/requests?${new URLSearchParams({ path })}`)).count;
  const enrolled = async () => {
    const userId = api.randomUserId();
    await emu('POST', '/users', { api_key: EU.apiKey, user_id: userId });
    return userId;
  };
  let passed = 0;
  for (const [name, run] of Object.entries(TESTS)) {
    await emu('POST', '/reset');
    const store = env.JOURNEYS.get(env.JOURNEYS.idFromName(name));
    try {
      await run({ store, emu, enrolled, count });
    } catch (error) {
      throw new Error(`${name}: ${error.message}`, { cause: error });
    }
    console.log(`workerd journeys (Durable Object store): ok ${name}`);
    passed += 1;
  }
  let refused;
  try {
    new DurableObjectStore({ get() {}, put() {} }); // a key-value-backed object's storage
  } catch (error) {
    refused = error;
  }
  check(refused instanceof TypeError && /SQLite-backed/.test(refused.message), 'a storage without SQL is refused', String(refused));
  passed += 1;
  console.log(`workerd journeys (Durable Object store): ${passed} passed`);
  return passed;
}
