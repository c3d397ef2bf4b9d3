// createJourneyHandler (the web-standard handler) over real HTTP: Node's http server through
// toNodeHandler, the journey service on SQLite, the emulator behind it. First the shared
// HTTP-level suite (tests/web/http-suite.json, which Python's iproov_sansio.web walks too),
// then what Python's tests/test_web.py checks beyond it, and the handler called as a worker
// or Hono calls it (a Request in, a Response out, no server). The user comes from the test's
// stand-in for an application's auth (an X-Test-User header read by resolveUser).
import { test, describe, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { setTimeout as sleep } from 'node:timers/promises';
import { api } from './impl.mjs';
import { SQLiteStore } from '../index.mjs';
import { startEmulator, EU } from './emulator.mjs';
import { SUITE, ORIGIN, CODES, QUIET, collectingLogger, read, walk } from './web-suite.mjs';

// The adapter is Node's alone: the edge package's run (IPROOV_JS_IMPL) tests its handler
// through this very file.
const { toNodeHandler } = createRequire(import.meta.url)('../node-http.cjs');

let emu;
const scratch = mkdtempSync(join(tmpdir(), 'iproov-web-'));
let files = 0;
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

/** A journey store's methods (api.d.ts `JourneyStore`). */
const STORE_METHODS = ['get', 'insert', 'update', 'appendAudit', 'journeysOf', 'auditOf', 'deleteExpired', 'forget'];

const testUser = (request) => request.headers.get('x-test-user');

function service(options = {}) {
  const client = api.createClient({ baseUrl: emu.region('eu'), ...EU, ...options, timeoutMs: 10_000 });
  return new api.JourneyService(client, new SQLiteStore(join(scratch, `${++files}`, 'journeys.sqlite3')));
}

/** `handler` on 127.0.0.1 (a free port) through toNodeHandler; `t.after` closes it. */
async function serve(t, handler) {
  const server = createServer(toNodeHandler(handler));
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise((resolve) => server.close(resolve)));
  return `http://127.0.0.1:${server.address().port}`;
}

function site(t, options = {}) {
  const handler = api.createJourneyHandler(options.service ?? service(), {
    basePath: '/iproov',
    resolveUser: testUser,
    allowedOrigins: [ORIGIN],
    emulatorUrl: emu.url,
    validateWaitMs: 60_000,
    logger: QUIET,
    ...options,
  });
  return serve(t, handler);
}

describe('the shared HTTP suite (tests/web/http-suite.json) on Node http', () => {
  for (const { name, steps } of SUITE.cases) {
    test(name, { timeout: 60_000 }, async (t) => {
      // The logger gets each refusal with its code.
      const { logger, logged } = collectingLogger();
      const url = await site(t, { logger });
      await walk(emu, url, steps, { logged });
    });
  }
});

/** An `errors` entry's failure: the package's class of that name made from the JSON. */
function raised(spec) {
  if (spec === null) return new Error('the session store is down');
  const cls = api[spec.class];
  assert.ok(typeof cls === 'function' && (cls === api.IProovError || cls.prototype instanceof api.IProovError), spec.class);
  return new cls(spec.json);
}

describe("the shared HTTP suite's errors (tests/web/http-suite.json) on Node http", () => {
  SUITE.errors.forEach(({ name, raise, error, retry_after: retryAfter }) => {
    test(name, async (t) => {
      const url = await site(t, {
        resolveUser: () => {
          throw raised(raise);
        },
      });
      const answer = await post(url, 'token', { flow: 'enrol' });
      const row = CODES.get(error);
      assert.deepEqual(answer.json, { error: { code: error, message: row.message } }, answer.text);
      assert.equal(answer.status, row.status);
      assert.equal(answer.headers.get('retry-after'), retryAfter);
    });
  });
});

const post = (url, path, body, headers = {}) =>
  fetch(`${url}/iproov/${path}`, {
    method: 'POST',
    headers: { Origin: ORIGIN, 'Content-Type': 'application/json', 'User-Agent': 'Mozilla/5.0 (node test)', ...headers },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(30_000),
  }).then(read);

/** The code of an error answer, after checking it is nothing but core's code and message. */
function errorOf(answer) {
  const code = answer.json?.error?.code;
  assert.deepEqual(answer.json, { error: { code, message: CODES.get(code)?.message } }, answer.text);
  assert.equal(answer.status, CODES.get(code).status);
  return code;
}

describe('createJourneyHandler beyond the shared suite (as tests/test_web.py)', () => {
  test('a wrong secret is a service_error and the browser learns nothing of it; no emulator, no stand-in', async (t) => {
    const logged = [];
    const handler = api.createJourneyHandler(service({ secret: 'not-the-secret' }), {
      basePath: '/iproov',
      resolveUser: testUser,
      allowedOrigins: [ORIGIN],
      logger: { error: (message, fields) => logged.push({ route: fields.iproov['http.route'], code: fields.iproov['error.type'], message }) },
    });
    const url = await serve(t, handler);
    const refused = await post(url, 'token', { flow: 'enrol' }, { 'X-Test-User': api.randomUserId() });
    assert.equal(errorOf(refused), 'service_error');
    assert.ok(!refused.text.includes('invalid_key') && !refused.text.includes('127.0.0.1'), refused.text);
    assert.deepEqual(logged.map(({ route, code }) => ({ route, code })), [{ route: 'token', code: 'invalid_key' }], 'the log gets what the browser does not');
    assert.match(logged[0].message, /^iproov token: service_error \(InvalidKeyError invalid_key\)/);
    assert.deepEqual((await read(await fetch(`${url}/iproov/config`))).json, { stand_in: false });
    const complete = await post(url, 'emulator/complete', { token: 'a'.repeat(64), passed: true }, { 'X-Test-User': 'u' });
    assert.equal(complete.status, 404);
  });

  test('a bad user_id from the application, or a resolveUser that throws, is an internal_error', async (t) => {
    const shared = service();
    const a = await serve(t, api.createJourneyHandler(shared, {
      basePath: '/iproov',
      allowedOrigins: [ORIGIN],
      logger: QUIET,
      // An async resolveUser, and one that gets the handler's context (here: Node's req).
      resolveUser: async (request, req) => {
        await sleep(0);
        assert.equal(typeof req.headers, 'object', 'the context is the Node request');
        const who = request.headers.get('x-test-user');
        return who === 'bad' ? '../x' : who;
      },
    }));
    assert.equal(errorOf(await post(a, 'token', { flow: 'enrol' }, { 'X-Test-User': 'bad' })), 'internal_error');
    const ok = await post(a, 'token', { flow: 'enrol' }, { 'X-Test-User': api.randomUserId() });
    assert.equal(ok.status, 200);
    assert.equal(ok.json.attempt, 1);
    const b = await serve(t, api.createJourneyHandler(shared, {
      basePath: '/iproov',
      allowedOrigins: [ORIGIN],
      logger: QUIET,
      resolveUser: () => {
        throw new Error('the session store is down at db.internal:5432');
      },
    }));
    const crashed = await post(b, 'token', { flow: 'enrol' });
    assert.equal(errorOf(crashed), 'internal_error');
    assert.ok(!crashed.text.includes('db.internal'));
  });

  test('every error class core names has a browser code', async () => {
    const seen = new Set();
    for (const [kind, cls] of Object.entries(api.ERROR_CLASSES)) {
      class Failing extends api.JourneyService {
        async start() {
          throw new cls({ code: kind, kind, message: 'internal detail' });
        }
      }
      const base = service();
      const handler = api.createJourneyHandler(new Failing(api.createClient({ baseUrl: emu.region('eu'), ...EU }), base.store), {
        resolveUser: () => 'u-1',
        logger: QUIET,
      });
      const answer = await read(await handler(new Request('http://app.test/token', {
        method: 'POST',
        headers: { Origin: 'http://app.test', 'Content-Type': 'application/json' },
        body: '{"flow": "enrol"}',
      })));
      const code = errorOf(answer);
      assert.ok(!answer.text.includes('internal detail'));
      seen.add(code);
    }
    for (const code of ['journey_conflict', 'try_again', 'service_error', 'bad_request']) assert.ok(seen.has(code), code);
  });

  test('called as a worker or Hono calls it: a Request in, a Response out; its mount point; methods', async () => {
    const contexts = [];
    const handler = api.createJourneyHandler(service(), {
      basePath: '/iproov/',
      resolveUser: (request, env, ctx) => (contexts.push([env, ctx]), env.user),
    });
    const page = await handler(new Request('https://app.test/iproov/'));
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-security-policy'), /script-src 'self'/);
    assert.ok((await page.text()).includes('<script type="module" src="journey.mjs">'));
    const head = await handler(new Request('https://app.test/iproov/journey.mjs', { method: 'HEAD' }));
    assert.equal(head.status, 200);
    assert.equal(await head.text(), '');
    const bare = await handler(new Request('https://app.test/iproov'));
    assert.equal(bare.status, 307);
    assert.equal(bare.headers.get('location'), '/iproov/');
    assert.equal((await handler(new Request('https://app.test/other/token'))).status, 404);
    assert.equal((await handler(new Request('https://app.test/iproov/emulator/complete', { method: 'POST' }))).status, 404);
    const get = await handler(new Request('https://app.test/iproov/token'));
    assert.equal(get.status, 405);
    assert.equal(get.headers.get('allow'), 'POST');
    assert.equal(get.headers.get('access-control-allow-origin'), null);
    // The request's own origin by default (allowedOrigins unset), and the context reaches resolveUser.
    const user = api.randomUserId();
    const started = await read(await handler(
      new Request('https://app.test/iproov/token', {
        method: 'POST',
        headers: { Origin: 'https://app.test', 'Content-Type': 'application/json' },
        body: JSON.stringify({ flow: 'enrol' }),
      }),
      { user },
      'ctx',
    ));
    assert.equal(started.status, 200, started.text);
    assert.deepEqual(contexts, [[{ user }, 'ctx']]);
    const foreign = await handler(new Request('https://app.test/iproov/token', {
      method: 'POST',
      headers: { Origin: 'https://other.test', 'Content-Type': 'application/json' },
      body: '{}',
    }), { user });
    assert.equal(errorOf(await read(foreign)), 'forbidden_origin');
    assert.throws(() => api.createJourneyHandler({}, { resolveUser: testUser }), TypeError);
    assert.throws(() => api.createJourneyHandler(service(), {}), TypeError);
  });

  test('health: a failing store answers 503 degraded and says nothing of its error; the failure is logged', async () => {
    // As tests/test_web_routes.py: the store's own error (its text may name a path or a
    // password) reaches the log as its class, never the answer.
    const broken = service();
    const failing = {};
    for (const method of STORE_METHODS) failing[method] = (...args) => broken.store[method](...args);
    failing.get = async () => {
      throw new Error('disk I/O error at /var/lib/pw-Hl7Qz2');
    };
    const lines = [];
    const logger = Object.fromEntries(['debug', 'info', 'warn', 'error'].map((level) => [level, (...parts) => lines.push({ level, parts })]));
    const handler = api.createJourneyHandler(new api.JourneyService(broken.client, failing, { spool: false }), { resolveUser: testUser, logger });
    const degraded = await read(await handler(new Request('https://app.test/health')));
    assert.equal(degraded.status, 503);
    assert.deepEqual(degraded.json, { status: 'degraded', iproov: 'up', store: 'failing' });
    assert.equal(degraded.headers.get('cache-control'), 'no-store');
    assert.ok(!degraded.text.includes('disk') && !degraded.text.includes('pw-Hl7Qz2'), degraded.text);
    const told = lines.map(({ level, parts }) => `${level} ${parts[0]} ${JSON.stringify(parts[1]?.iproov ?? {})}`);
    assert.ok(told.some((l) => /health/.test(l) && /store_failing/.test(l)), told.join('\n'));
    // iProov unreachable too: both parts named, still 503.
    const nowhere = api.createClient({ baseUrl: 'http://127.0.0.1:9/eu/api/v2', ...EU, timeoutMs: 2_000 });
    const down = api.createJourneyHandler(new api.JourneyService(nowhere, failing, { spool: false }), { resolveUser: testUser, logger: QUIET });
    const both = await read(await down(new Request('https://app.test/health')));
    assert.equal(both.status, 503);
    assert.deepEqual(both.json, { status: 'degraded', iproov: 'unreachable', store: 'failing' });
  });

  test('health: concurrent requests at a cache miss share one availability call', async () => {
    const handler = api.createJourneyHandler(service(), { resolveUser: testUser, logger: QUIET });
    // The availability call held 300 ms at the emulator: every request arrives while the
    // first one's check is under way (an order the hold makes, not a timing assertion).
    await emu.fault({ path: '/availability', kind: 'delay', delay_ms: 300, times: 1 });
    const mark = await emu.journalMark();
    const answers = await Promise.all(Array.from({ length: 20 }, () => handler(new Request('https://app.test/health')).then(read)));
    assert.deepEqual(new Set(answers.map((a) => a.status)), new Set([200]));
    assert.ok(answers.every((a) => a.json.iproov === 'up' && a.json.store === 'ok'), JSON.stringify(answers[0].json));
    const asked = await emu.requests({ path: '/availability', since: mark });
    assert.equal(asked.length, 1, '20 concurrent health requests, one availability call');
    // Cached: a later request asks nothing.
    assert.equal((await read(await handler(new Request('https://app.test/health')))).status, 200);
    assert.equal((await emu.requests({ path: '/availability', since: mark })).length, 1);
  });

  test("sdkScript: the page's policy is core's for iProov's Web SDK, and config names the script", async () => {
    const real = new api.JourneyService(api.createClient({ region: 'eu', ...EU }), service().store);
    const sdkScript = 'https://cdn.example.com/iproov/iProovMe.js';
    const handler = api.createJourneyHandler(real, { basePath: '/iproov', resolveUser: testUser, sdkScript, assetsUrl: new URL('https://assets.example.com/iproov/') });
    const page = await handler(new Request('https://app.test/iproov/'));
    assert.equal(page.status, 200);
    const policy = page.headers.get('content-security-policy');
    for (const part of [
      "script-src 'self' https://cdn.example.com 'wasm-unsafe-eval'",
      "connect-src 'self' wss://eu.rp.secure.iproov.me https://eu.rp.secure.iproov.me https://assets.example.com",
      "frame-ancestors 'none'",
    ]) {
      assert.ok(policy.includes(part), `${policy} has ${part}`);
    }
    // Only the page's HTML has a policy; its module and stylesheet keep core's headers.
    assert.equal((await handler(new Request('https://app.test/iproov/journey.mjs'))).headers.get('content-security-policy'), null);
    const config = await read(await handler(new Request('https://app.test/iproov/config')));
    assert.deepEqual(config.json, { stand_in: false, sdk_script: sdkScript });
    // Without it: core's own policy, and config names no script.
    const plain = api.createJourneyHandler(real, { resolveUser: testUser });
    assert.match((await plain(new Request('https://app.test/'))).headers.get('content-security-policy'), /script-src 'self'; connect-src 'self'/);
    assert.deepEqual((await read(await plain(new Request('https://app.test/config')))).json, { stand_in: false });
    // What core cannot name in a policy fails when the handler is made, naming the field.
    for (const [options, field] of [
      [{ sdkScript: 'http://cdn.example.com/x.js' }, 'sdk_script'],
      [{ sdkScript: 'https://cdn.example.com/x.js; script-src *' }, 'sdk_script'],
      [{ sdkScript, assetsUrl: 'https://*.example.com' }, 'assets_url'],
    ]) {
      assert.throws(() => api.createJourneyHandler(real, { resolveUser: testUser, ...options }), (e) => e instanceof api.InvalidInputError && e.field === field);
    }
    // The emulator's streaming URL is no wss one: the SDK needs a real iProov service.
    assert.throws(() => api.createJourneyHandler(service(), { resolveUser: testUser, sdkScript }), (e) => e instanceof api.InvalidInputError && e.field === 'sdk_url');
  });

  // (Only for the Node package: the edge package has no Node adapter.)
  if (!process.env.IPROOV_JS_IMPL) {
    test('the Node package exports toNodeHandler', async () => {
      const mod = await import('../index.mjs');
      assert.equal(mod.toNodeHandler, toNodeHandler);
      assert.equal(mod.default.toNodeHandler, toNodeHandler);
    });
  }
});
