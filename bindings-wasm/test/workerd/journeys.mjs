// The journey service on a Durable Object's SQLite storage, inside workerd, against the
// emulator: the same behaviours as Python's tests/test_journeys.py and the Node stores' tests,
// driven the way a worker drives it. The test handler calls the object over RPC (as a worker's
// routes would); the object runs `JourneyService` over `DurableObjectStore(ctx.storage)`. Each
// test uses an object of its own (its own database). Every check that fails throws.
import { DurableObject } from 'cloudflare:workers';
import api, { DurableObjectStore } from 'iproov-sansio-edge';

const EU = {
  apiKey: 'eudefaultkey0000000000000000000000000000',
  secret: 'eudefaultsecret0000000000000000000000000',
};

/** An error as an RPC answer (what a route would send the browser): class name, code, message, field. */
function asAnswer(error) {
  if (!(error instanceof api.IProovError)) throw error;
  return { error: { name: error.name, code: error.code, message: error.message, field: error.field } };
}

/** The object under test: the service's methods over RPC, on its own SQLite storage. */
export class JourneyStoreTest extends DurableObject {
  #services = new Map();

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

  async start(userId, journeyId, policy) {
    return this.#service(policy).start('verify', userId, journeyId).catch(asAnswer);
  }

  async finish(journeyId, token, policy, userId) {
    return this.#service(policy).finish(journeyId, token, 'workerd-test', { userId }).catch(asAnswer);
  }

  /** `n` finishes at once inside one request: they all read the journey before any writes. */
  async finishAtOnce(journeyId, token, n) {
    const service = this.#service();
    return Promise.all(Array.from({ length: n }, () => service.finish(journeyId, token, 'workerd-test').catch(asAnswer)));
  }

  async history(userId) {
    return this.#service().history(userId);
  }

  async deleteExpired(policy) {
    return this.#service(policy).deleteExpired();
  }

  /** The stored record itself (tests look at what the store keeps). */
  async stored(journeyId) {
    return new DurableObjectStore(this.ctx.storage).get(journeyId);
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
    check(result.next === 'exhausted', 'exhausted', result);
    const again = await store.start(user, journey, policy);
    check(again.next === 'exhausted' && again.token === undefined, 'no third token', again);
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
    await emu('POST', '/faults', { path: '/claim/verify/validate', kind: 'delay', delay_ms: 300 });
    // Four requests to the object at once: the object runs one until it awaits the validate,
    // which it has written as begun; the others then find it in progress.
    const outcomes = await Promise.all(Array.from({ length: 4 }, () => store.finish(started.journeyId, started.token)));
    check((await count('/claim/verify/validate')) === 1, 'one validate', outcomes);
    const results = outcomes.filter((o) => o.error === undefined);
    check(results.length > 0 && results.every((r) => r.passed === true), 'the submits that got an outcome passed', outcomes);
    const refused = outcomes.filter((o) => o.error !== undefined);
    check(refused.every((o) => o.error.name === 'InvalidStateError' && /in progress/.test(o.error.message)), 'the others: in progress', outcomes);
    check((await store.finish(started.journeyId, started.token)).passed === true, 'a later submit gets the stored outcome');
    check((await count('/claim/verify/validate')) === 1, 'still one validate');
  },

  async 'a double submit within one request sends one validate (compare-and-set)'({ store, emu, enrolled, count }) {
    const user = await enrolled();
    const started = await store.start(user);
    await emu('POST', `/claims/${started.token}/complete`, { passed: true });
    await emu('POST', '/faults', { path: '/claim/verify/validate', kind: 'delay', delay_ms: 300 });
    const outcomes = await store.finishAtOnce(started.journeyId, started.token, 4);
    check((await count('/claim/verify/validate')) === 1, 'one validate', outcomes);
    check(outcomes.filter((o) => o.error === undefined).every((r) => r.passed === true), 'the outcomes passed', outcomes);
    check(outcomes.filter((o) => o.error !== undefined).every((o) => /in progress/.test(o.error.message)), 'the others: in progress', outcomes);
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
