// createJourneyHandler (the web-standard handler) over real HTTP: Node's http server through
// toNodeHandler, the journey service on SQLite, the emulator behind it. First the shared
// HTTP-level suite (tests/web/http-suite.json, which Python's iproov_sansio.web walks too),
// then what Python's tests/test_web.py checks beyond it, and the handler called as a worker
// or Hono calls it (a Request in, a Response out, no server). The user comes from the test's
// stand-in for an application's auth (an X-Test-User header read by resolveUser).
import { test, describe, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { setTimeout as sleep } from 'node:timers/promises';
import { api, REPO } from './impl.mjs';
import { SQLiteStore } from '../index.mjs';
import { startEmulator, EU } from './emulator.mjs';

// The adapter is Node's alone: the edge package's run (IPROOV_JS_IMPL) tests its handler
// through this very file.
const { toNodeHandler } = createRequire(import.meta.url)('../node-http.cjs');
const SUITE = JSON.parse(readFileSync(join(REPO, 'tests/web/http-suite.json'), 'utf8'));
const ORIGIN = SUITE.origin;
// Core's code table (code -> {status, message}), as Python's iproov_sansio.web.ERRORS.
const CODES = new Map(Object.entries(api.BROWSER_ERRORS));

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
    log: () => {},
    ...options,
  });
  return serve(t, handler);
}

const substitute = (value, last) => {
  if (typeof value === 'string' && value.startsWith('$') && value.slice(1) in last) return last[value.slice(1)];
  if (Array.isArray(value)) return value.map((v) => substitute(v, last));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, substitute(v, last)]));
  }
  return value;
};

/** An answer as the suite checks it: status, headers, text, JSON (or undefined). */
async function read(response) {
  const text = await response.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, headers: response.headers, text, json };
}

function check(step, answer, elapsedMs, last) {
  const what = `${JSON.stringify(step)}: ${answer.status} ${answer.text}`;
  if ('status' in step) assert.equal(answer.status, step.status, what);
  if ('error' in step) {
    const row = CODES.get(step.error);
    assert.ok(row, `${step.error} is a code of core's table`);
    assert.deepEqual(answer.json, { error: { code: step.error, message: row.message } }, what);
    assert.equal(answer.status, row.status, what);
  }
  if ('json' in step) assert.deepEqual(answer.json, substitute(step.json, last), what);
  if ('keys' in step) assert.deepEqual(Object.keys(answer.json).sort(), [...step.keys].sort(), what);
  for (const [name, value] of Object.entries(substitute(step.fields ?? {}, last))) {
    assert.deepEqual(answer.json?.[name], value, `${what}: ${name}`);
  }
  for (const [name, value] of Object.entries(step.headers ?? {})) assert.equal(answer.headers.get(name), value, `${what}: ${name}`);
  for (const [name, parts] of Object.entries(step.header_contains ?? {})) {
    for (const part of parts) assert.ok((answer.headers.get(name) ?? '').includes(part), `${what}: ${name} has ${part}`);
  }
  for (const part of step.contains ?? []) assert.ok(answer.text.includes(part), `${what}: has ${part}`);
  for (const part of step.absent ?? []) assert.ok(!answer.text.includes(part), `${what}: lacks ${part}`);
  if ('within_ms' in step) assert.ok(elapsedMs < step.within_ms, `${what}: took ${elapsedMs} ms`);
}

/** One case of the shared suite against the site at `url`. */
async function walk(url, steps) {
  const users = { self: api.randomUserId(), other: api.randomUserId() };
  let last = {};
  for (const step of steps) {
    if (step.emulator === 'enrol' || step.emulator === 'suspend') {
      await emu.seedUser({ api_key: EU.apiKey, user_id: users.self, ...(step.emulator === 'suspend' ? { status: 'Suspended' } : {}) });
    } else if (step.emulator === 'complete') {
      await emu.complete(last.token, { passed: true });
    } else if (step.emulator === 'fault') {
      await emu.fault(step.fault);
    } else if (step.emulator === 'client') {
      assert.equal((await emu.control('GET', `/claims/${last.token}`)).client, step.is, JSON.stringify(step));
    } else if ('count' in step) {
      assert.equal(await emu.count(step.count), step.is, JSON.stringify(step));
    } else if ('total' in step) {
      assert.equal((await emu.control('GET', '/requests')).total, step.total, JSON.stringify(step));
    } else {
      const method = ['post', 'get', 'options'].find((m) => m in step);
      const headers = { Origin: ORIGIN, 'User-Agent': 'Mozilla/5.0 (suite)' };
      if (method === 'post') headers['Content-Type'] = 'application/json';
      const who = step.user ?? 'self';
      if (who !== 'none') headers['X-Test-User'] = users[who];
      for (const [name, value] of Object.entries(step.send ?? {})) {
        delete headers[name];
        if (value !== null) headers[name] = value;
      }
      let body = step.content;
      if (body === undefined && 'body' in step) {
        const json = substitute(step.body, last);
        if ('pad_bytes' in step) json.pad = 'x'.repeat(step.pad_bytes);
        body = JSON.stringify(json);
      }
      const send = async () =>
        read(await fetch(`${url}/iproov/${step[method]}`, { method: method.toUpperCase(), headers, body, signal: AbortSignal.timeout(30_000) }));
      const started = Date.now();
      let answers;
      if ('twice' in step) {
        let firstDone = false;
        const first = send().finally(() => (firstDone = true));
        // The first reached iProov, where the fault holds it: the second goes while it runs.
        while ((await emu.count(step.twice)) === 0) {
          assert.ok(!firstDone, `${JSON.stringify(step)}: the first answered before it reached ${step.twice}`);
          await sleep(10);
        }
        answers = await Promise.all([first, send()]);
        assert.deepEqual(answers[0].json, answers[1].json, 'both get the one stored outcome');
      } else {
        answers = [await send()];
      }
      for (const answer of answers) check(step, answer, Date.now() - started, last);
      if (method === 'post' && step.post === 'token' && answers[0].status === 200 && 'token' in answers[0].json) last = answers[0].json;
    }
  }
}

describe('the shared HTTP suite (tests/web/http-suite.json) on Node http', () => {
  for (const { name, steps } of SUITE.cases) {
    test(name, { timeout: 60_000 }, async (t) => {
      const url = await site(t);
      await walk(url, steps);
    });
  }
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
      log: (route, error, isCore) => logged.push({ route, code: error.code, isCore }),
    });
    const url = await serve(t, handler);
    const refused = await post(url, 'token', { flow: 'enrol' }, { 'X-Test-User': api.randomUserId() });
    assert.equal(errorOf(refused), 'service_error');
    assert.ok(!refused.text.includes('invalid_key') && !refused.text.includes('127.0.0.1'), refused.text);
    assert.deepEqual(logged, [{ route: 'token', code: 'invalid_key', isCore: true }], 'the log gets what the browser does not');
    assert.deepEqual((await read(await fetch(`${url}/iproov/config`))).json, { stand_in: false });
    const complete = await post(url, 'emulator/complete', { token: 'a'.repeat(64), passed: true }, { 'X-Test-User': 'u' });
    assert.equal(complete.status, 404);
  });

  test('a bad user_id from the application, or a resolveUser that throws, is an internal_error', async (t) => {
    const shared = service();
    const a = await serve(t, api.createJourneyHandler(shared, {
      basePath: '/iproov',
      allowedOrigins: [ORIGIN],
      log: () => {},
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
      log: () => {},
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
        log: () => {},
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

  // (Only for the Node package: the edge package has no Node adapter.)
  if (!process.env.IPROOV_JS_IMPL) {
    test('the Node package exports toNodeHandler', async () => {
      const mod = await import('../index.mjs');
      assert.equal(mod.toNodeHandler, toNodeHandler);
      assert.equal(mod.default.toNodeHandler, toNodeHandler);
    });
  }
});
