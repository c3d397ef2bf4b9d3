// Telemetry in JS (issue 27 item 2): core's events through the `logger` option (pino's
// convention and console's, with real pino and a real Console), the journey service's
// outcomes, a logger that throws, and in the Node package NODE_DEBUG=iproov-sansio and
// OpenTelemetry (the SDK's in-memory exporters), with @opentelemetry/api imported only by
// useOpenTelemetry. The same events as Python's tests/test_telemetry.py. Every client scenario's
// lines and spans are checked by run-scenarios.mjs (bindings-js/test/scenario-telemetry.mjs).
import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { Console } from 'node:console';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { PassThrough } from 'node:stream';
import { fileURLToPath, pathToFileURL } from 'node:url';
import pino from 'pino';
import { api, IMPL } from './impl.mjs';
import { SQLiteStore } from '../index.mjs';
import { startEmulator, EU } from './emulator.mjs';
import { otelCapture } from './otel-capture.mjs';
import { captureLogger, checkTelemetry } from '../../bindings-js/test/scenario-telemetry.mjs';

const here = dirname(fileURLToPath(import.meta.url));
/** The Node package (not the edge package under IPROOV_JS_IMPL): NODE_DEBUG and OpenTelemetry are its own. */
const NODE_PACKAGE = !process.env.IPROOV_JS_IMPL;
const FAST = { baseDelayMs: 5, maxDelayMs: 10 };

let emu;
const scratch = mkdtempSync(join(tmpdir(), 'iproov-telemetry-'));
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

const client = (extra = {}) => api.createClient({ baseUrl: emu.region('eu'), ...EU, retryPolicy: FAST, ...extra });

/** A real pino logger writing JSON lines to memory: `{logger, lines}` (each line parsed). */
function pinoCapture(level) {
  const lines = [];
  const logger = pino({ level, base: null }, { write: (text) => lines.push(JSON.parse(text)) });
  return { logger, lines };
}

/** A user with a validated claim ready: `{userId, token}` for verify_validate. */
async function claimReady(c) {
  const userId = api.randomUserId();
  await emu.seedUser({ api_key: EU.apiKey, user_id: userId, status: 'Active' });
  const { token } = await c.verifyToken({ resource: 'telemetry', userId });
  await emu.complete(token);
  return { userId, token };
}

test('pino gets each event as pino is called: its fields first, at its level, as JSON', async () => {
  const { logger, lines } = pinoCapture('debug');
  const c = client({ logger });
  await emu.fault({ path: '/claim/enrol/token', kind: 'status', status: 503 });
  const userId = api.randomUserId();
  const claim = await c.enrolToken({ resource: 'telemetry', userId });
  const told = lines.map((l) => [l.level, l.iproov_event, l.iproov['iproov.send'] ?? null]);
  // pino's levels: 20 debug, 30 info.
  assert.deepEqual(told, [[20, 'iproov.send', 1], [30, 'iproov.retry', 1], [20, 'iproov.send', 2], [20, 'iproov.call', null]]);
  assert.match(lines[0].msg, /^iproov enrol_token send 1 answered 503 in \d+ ms$/);
  assert.equal(lines[0].iproov['url.template'], '/claim/enrol/token');
  assert.equal(lines[0].iproov['http.response.status_code'], 503);
  assert.equal(lines[0].iproov['error.type'], '503');
  assert.equal(lines[3].iproov['iproov.outcome'], 'token_issued');
  assert.equal(lines[3].iproov['iproov.sends'], 2);
  const text = JSON.stringify(lines);
  for (const hidden of [EU.apiKey, EU.secret, EU.oauth.password, claim.token, userId]) assert.ok(!text.includes(hidden));

  // A validate iProov answered 503 to: outcome unknown, a warning (40).
  const quiet = pinoCapture('info');
  const ready = await claimReady(client());
  await emu.fault({ path: '/claim/verify/validate', kind: 'status', status: 503 });
  await assert.rejects(client({ logger: quiet.logger }).verifyValidate({ ...ready, client: 'telemetry' }), api.OutcomeUnknownError);
  // pino at info: no send lines (isLevelEnabled), the call's warning.
  assert.deepEqual(quiet.lines.map((l) => [l.level, l.iproov_event, l.iproov['iproov.outcome']]), [[40, 'iproov.call', 'outcome_unknown']]);
});

test('console gets each event as console is called: the message first, then the fields', async () => {
  const out = new PassThrough();
  const err = new PassThrough();
  let [stdout, stderr] = ['', ''];
  out.on('data', (d) => (stdout += d));
  err.on('data', (d) => (stderr += d));
  const logger = new Console({ stdout: out, stderr: err, colorMode: false });
  const c = client({ logger });
  await c.enrolToken({ resource: 'telemetry', userId: api.randomUserId() });
  const ready = await claimReady(c);
  await emu.fault({ path: '/claim/verify/validate', kind: 'status', status: 503 });
  await assert.rejects(c.verifyValidate({ ...ready, client: 'telemetry' }), api.OutcomeUnknownError);
  await new Promise((resolve) => setImmediate(resolve));
  // console.debug and console.info write to stdout, console.warn to stderr.
  assert.match(stdout, /^iproov enrol_token send 1 answered 200 in \d+ ms \{\n {2}iproov_event: 'iproov\.send',\n {2}iproov: \{/m);
  assert.match(stdout, /'url\.template': '\/claim\/enrol\/token'/);
  assert.match(stdout, /^iproov enrol_token token_issued after 1 send\(s\), \d+ ms \{/m);
  assert.match(stderr, /^iproov verify_validate outcome_unknown \(outcome_unknown\) after 1 send\(s\), \d+ ms \{\n {2}iproov_event: 'iproov\.call'/m);
  assert.doesNotMatch(stdout + stderr, new RegExp(`${EU.secret}|${EU.apiKey}|${ready.token}|${ready.userId}`));
});

test("the journey service logs each request's outcome, on its own logger or the client's", async () => {
  const { logger, lines } = pinoCapture('info');
  const store = new SQLiteStore(join(scratch, 'journeys.sqlite3'), { spool: false });
  try {
    // The client's logger is the service's by default.
    const svc = new api.JourneyService(client({ logger }), store);
    const userId = api.randomUserId();
    await emu.seedUser({ api_key: EU.apiKey, user_id: userId, status: 'Active' });
    const started = await svc.start('verify', userId);
    await emu.complete(started.token);
    await svc.finish(started.journeyId, started.token, 'telemetry');
    await assert.rejects(svc.finish(started.journeyId, 'ab'.repeat(32), 'telemetry'), api.InvalidStateError);
    const journeys = lines.filter((l) => l.iproov_event === 'iproov.journey');
    assert.deepEqual(
      journeys.map((l) => [l.level, l.iproov['iproov.journey.action'], l.iproov['iproov.outcome']]),
      [[30, 'start', 'issued'], [30, 'finish', 'passed'], [30, 'finish', 'invalid_state']],
    );
    assert.equal(journeys[1].iproov['iproov.journey.id'], started.journeyId);
    assert.equal(journeys[1].iproov['iproov.attempt'], 1);
    assert.match(journeys[1].msg, /^iproov journey finish: passed$/);
    const text = JSON.stringify(lines);
    assert.ok(!text.includes(started.token) && !text.includes(userId), 'no claim token or user id');

    // A logger of the service's own: the journey lines there, the client's calls nowhere.
    const own = pinoCapture('debug');
    const svc2 = new api.JourneyService(client(), store, { logger: own.logger, spool: false });
    await svc2.start('enrol', api.randomUserId());
    assert.deepEqual(own.lines.map((l) => l.iproov_event), ['iproov.journey']);
  } finally {
    store.close();
  }
});

test("the web handler's refusals and failures go through the same logger as the journeys'", async () => {
  // One pino logger on the client: the service's journey lines and the handler's refusals
  // (core's own check, a limit behind an error) reach it, each with its fields; a logger of
  // the handler's own takes the handler's lines only; a logger that throws changes no answer.
  const { logger, lines } = pinoCapture('info');
  const store = new SQLiteStore(join(scratch, 'web.sqlite3'), { spool: false });
  try {
    const svc = new api.JourneyService(client({ logger }), store, { policy: { maxAttempts: 1 } });
    const userId = api.randomUserId();
    const handler = api.createJourneyHandler(svc, { resolveUser: () => userId });
    const post = (path, body, origin = 'https://app.test') =>
      handler(new Request(`https://app.test/${path}`, {
        method: 'POST',
        headers: { Origin: origin, 'Content-Type': 'application/json' },
        body: JSON.stringify(body),
      }));
    assert.equal((await post('token', { flow: 'enrol' }, 'https://evil.test')).status, 403);
    const started = await (await post('token', { flow: 'enrol' })).json();
    await emu.complete(started.token, { passed: false });
    await (await post('validate', { journey_id: started.journey_id, token: started.token })).json();
    assert.equal((await post('token', { flow: 'enrol' })).status, 429);
    const web = lines.filter((l) => l.iproov?.['http.route'] !== undefined);
    assert.deepEqual(
      web.map((l) => [l.level, l.msg.split(' (')[0], l.iproov['iproov.web.code'], l.iproov['http.response.status_code'], l.iproov['error.type']]),
      [[30, 'iproov token: refused forbidden_origin', 'forbidden_origin', 403, undefined],
       [30, 'iproov token: refused too_many_attempts', 'too_many_attempts', 429, 'limit_exceeded']],
    );
    assert.deepEqual(lines.filter((l) => l.iproov_event === 'iproov.journey').map((l) => l.iproov['iproov.outcome']),
      ['issued', 'failed', 'limit_exceeded']);
    assert.ok(!JSON.stringify(lines).includes(started.token) && !JSON.stringify(lines).includes(userId), 'no claim token or user id');

    const own = pinoCapture('info');
    const apart = api.createJourneyHandler(svc, { resolveUser: () => userId, logger: own.logger });
    await apart(new Request('https://app.test/nowhere', { method: 'POST' }));
    assert.deepEqual(own.lines.map((l) => [l.msg, l.iproov['http.route']]), [['iproov POST /nowhere: refused not_found', 'POST /nowhere']]);
    assert.throws(() => api.createJourneyHandler(svc, { resolveUser: () => userId, logger: { info() {} } }), /logger must have an error/);
    const boom = () => {
      throw new Error('the logger is broken');
    };
    const broken = api.createJourneyHandler(svc, { resolveUser: () => userId, logger: { info: boom, error: boom } });
    assert.equal((await broken(new Request('https://app.test/token', { method: 'POST' }))).status, 403);
  } finally {
    store.close();
  }
});

test('a logger that throws changes no outcome', async () => {
  const boom = () => {
    throw new Error('the logger is broken');
  };
  const c = client({ logger: { debug: boom, info: boom, warn: boom, error: boom } });
  await emu.fault({ path: '/claim/enrol/token', kind: 'status', status: 503 });
  const claim = await c.enrolToken({ resource: 'telemetry', userId: api.randomUserId() });
  assert.equal(typeof claim.token, 'string');
  assert.throws(() => client({ logger: { debug() {} } }), /logger must have an error/);
});

test("the scenario checks fail on what the scenarios' telemetry must not be", async () => {
  // A real run (a retry, an OAuth token fetch) checked as run-scenarios.mjs checks a scenario,
  // then each kind of mismatch planted in a copy: the same check must throw.
  const otel = NODE_PACKAGE ? otelCapture(api) : undefined;
  await otel?.begin();
  const { logger, lines } = captureLogger();
  const c = client({ logger });
  const userId = api.randomUserId();
  await emu.seedUser({ api_key: EU.apiKey, user_id: userId, status: 'Active' });
  await emu.fault({ path: '/claim/enrol/token', kind: 'status', status: 503 });
  const claim = await c.enrolToken({ resource: 'telemetry', userId: api.randomUserId() });
  await c.getUser({ userId });
  const captured = await otel?.collect();
  otel?.stop();
  const facts = {
    requests: await emu.control('GET', '/requests'),
    port: Number(new URL(emu.url).port),
    calls: [{ operation: 'enrol_token' }, { operation: 'get_user' }],
    needles: [EU.apiKey, EU.secret, EU.oauth.password, claim.token, userId],
  };
  const copy = () => structuredClone({ lines, otel: captured });
  assert.deepEqual(checkTelemetry(copy(), facts), { lines: 8, sends: 4, spans: NODE_PACKAGE ? 6 : 0 });

  // [what, a change to the told copy, the check's message, facts overridden]
  const none = () => {};
  const LEAK = /^secrets in the telemetry: /;
  const planted = [
    ['a send line missing', (t) => t.lines.splice(0, 1), /^3 send lines for the 4 requests/],
    ['a call more than was made', none, /^calls told: /, { calls: [...facts.calls, { operation: 'get_user' }] }],
    ['a call that failed told as a result', none, /^calls told: /, { calls: [{ operation: 'enrol_token', code: 'server_error' }, facts.calls[1]] }],
    ['a request the client did not tell', none, /^4 send lines for the 5 requests/, { requests: { ...facts.requests, total: facts.requests.total + 1 } }],
    ['a send at the wrong level', (t) => (t.lines[0].level = 'info'), /^a send line says too little/],
    ['a send without its status', (t) => delete t.lines[0].fields.iproov['http.response.status_code'], /^a send line says too little/],
    ['a retry with no next send', (t) => (t.lines.find((l) => l.fields.iproov_event === 'iproov.retry').fields.iproov['iproov.send'] = 5), /^a retry line without its next send/],
    ['the API key, percent-encoded, in a log line', (t) => (t.lines[2].message += ` ${encodeURIComponent(EU.apiKey)}`), LEAK],
    ['a claim token in a log field', (t) => (t.lines[2].fields.iproov.token = claim.token), LEAK],
  ];
  if (NODE_PACKAGE) {
    const sendSpan = (t) => t.otel.spans.find((s) => s.name === 'iproov.send');
    const retried = (t) => t.otel.spans.find((s) => s.events.some((e) => e.name === 'iproov.retry'));
    planted.push(
      ['a send span missing', (t) => t.otel.spans.splice(t.otel.spans.indexOf(sendSpan(t)), 1), /^send spans: /],
      ['a send span under no call', (t) => (sendSpan(t).parentSpanId = 'ffffffffffffffff'), /^a send span is no client span under a call span/],
      ['a send span of kind internal', (t) => (sendSpan(t).kind = 'internal'), /^a send span is no client span under a call span/],
      ['a send span after its call', (t) => (sendSpan(t).endMs += 60_000), /^a send span outside its call's/],
      ['a retry event missing', (t) => (retried(t).events = []), /^0 retry and 1 token span events for 1 and 1 lines/],
      ['a call counted twice', (t) => t.otel.metrics.find((m) => m.name === 'iproov.client.calls').points.forEach((p) => (p.value += 1)), /^iproov\.client\.calls: /],
      ['a label more', (t) => (t.otel.metrics[0].points[0].attributes['server.port'] = 1), /labels \{/],
      ['a user id as a metric label', (t) => (t.otel.metrics[0].points[0].attributes['iproov.user'] = userId), LEAK],
      ['the secret, base64, in a span attribute', (t) => (sendSpan(t).attributes.note = btoa(EU.secret)), LEAK],
      ['the OAuth password, JSON-escaped, in a span event', (t) => (retried(t).events[0].attributes.note = JSON.stringify(EU.oauth.password)), LEAK],
    );
  }
  for (const [what, plant, message, over = {}] of planted) {
    const told = copy();
    plant(told);
    assert.throws(() => checkTelemetry(told, { ...facts, ...over }), (e) => message.test(e.message), `the check passed ${what}`);
  }
});

/** Runs `code` (an ES module) in a child node with `env`; resolves `{code, stdout, stderr}` once it exited. */
function runChild(code, env, args = []) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...args, '--input-type=module', '-e', code], { env: { ...process.env, ...env }, cwd: here });
    let [stdout, stderr] = ['', ''];
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.once('error', reject);
    child.once('exit', (status) => resolve({ status, stdout, stderr }));
  });
}

const ENTRY = pathToFileURL(join(here, '../index.mjs')).href;
/** A child's calls: an enrol token through a client without a logger. */
const CALLS = `
  import api from ${JSON.stringify(ENTRY)};
  const c = api.createClient({ baseUrl: process.env.EMU, apiKey: ${JSON.stringify(EU.apiKey)}, secret: ${JSON.stringify(EU.secret)} });
  await c.enrolToken({ resource: 'telemetry', userId: api.randomUserId() });
`;

if (NODE_PACKAGE) {
  test('NODE_DEBUG=iproov-sansio prints every event on stderr; without it a client with no logger prints nothing', async () => {
    const debug = await runChild(CALLS, { EMU: emu.region('eu'), NODE_DEBUG: 'iproov-sansio' });
    assert.equal(debug.status, 0, debug.stderr);
    assert.match(debug.stderr, /^IPROOV-SANSIO \d+: iproov enrol_token send 1 answered 200 in \d+ ms \{"http\.request\.method":"POST",/m);
    assert.match(debug.stderr, /^IPROOV-SANSIO \d+: iproov enrol_token token_issued after 1 send\(s\)/m);
    assert.ok(!debug.stderr.includes(EU.secret) && !debug.stderr.includes(EU.apiKey));
    assert.equal(debug.stdout, '');
    const plain = await runChild(CALLS, { EMU: emu.region('eu'), NODE_DEBUG: '' });
    assert.deepEqual(plain, { status: 0, stdout: '', stderr: '' });
  });

  test('@opentelemetry/api is imported by useOpenTelemetry only: a process that cannot resolve it makes calls and logs', async () => {
    // A resolve hook that refuses @opentelemetry/* (as if it were not installed).
    const hook = `data:text/javascript,${encodeURIComponent(`
      export async function resolve(specifier, context, next) {
        if (specifier.startsWith('@opentelemetry/')) throw new Error('refused by the test: ' + specifier);
        return next(specifier, context);
      }`)}`;
    const register = `data:text/javascript,${encodeURIComponent(`import { register } from 'node:module'; register(${JSON.stringify(hook)});`)}`;
    const code = `${CALLS}
      const lines = [];
      const logger = { debug: (m) => lines.push(m), info: (m) => lines.push(m), warn: (m) => lines.push(m), error: (m) => lines.push(m) };
      const logged = api.createClient({ baseUrl: process.env.EMU, apiKey: ${JSON.stringify(EU.apiKey)}, secret: ${JSON.stringify(EU.secret)}, logger });
      await logged.enrolToken({ resource: 'telemetry', userId: api.randomUserId() });
      console.log('lines', lines.length);
      await api.useOpenTelemetry().then(() => console.log('imported'), (e) => console.log('refused:', e.message, '|', e.cause.message));
    `;
    const child = await runChild(code, { EMU: emu.region('eu'), NODE_DEBUG: '' }, ['--import', register]);
    assert.equal(child.status, 0, child.stderr);
    assert.match(child.stdout, /^lines 2\nrefused: iproov-sansio: useOpenTelemetry needs @opentelemetry\/api \(npm install @opentelemetry\/api\) \| refused by the test: @opentelemetry\/api\n$/);
  });

  test('OpenTelemetry: a span per call with a client span per send, a span per journey request, and their metrics', async () => {
    const otel = otelCapture(api);
    await otel.begin();
    const store = new SQLiteStore(join(scratch, 'otel.sqlite3'), { spool: false });
    try {
      const svc = new api.JourneyService(client(), store);
      const userId = api.randomUserId();
      await emu.seedUser({ api_key: EU.apiKey, user_id: userId, status: 'Active' });
      await emu.fault({ path: '/claim/verify/token', kind: 'status', status: 503 });
      const started = await svc.start('verify', userId);
      await emu.complete(started.token, { passed: false, reason: 'ambiguous_outcome' });
      const failed = await svc.finish(started.journeyId, started.token, 'telemetry');
      assert.equal(failed.passed, false);
      const { spans, metrics } = await otel.collect();
      assert.deepEqual(spans.map((s) => s.name), ['iproov.send', 'iproov.send', 'iproov.call', 'iproov.journey', 'iproov.send', 'iproov.call', 'iproov.journey']);
      const [send1, send2, call, journey] = spans;
      assert.equal(send1.kind, 'client');
      assert.equal(send1.parentSpanId, call.spanId);
      assert.equal(send2.parentSpanId, call.spanId);
      assert.deepEqual([send1.attributes['http.response.status_code'], send2.attributes['http.response.status_code']], [503, 200]);
      assert.deepEqual(call.events.map((e) => e.name), ['iproov.retry']);
      assert.equal(call.attributes['iproov.outcome'], 'token_issued');
      assert.equal(journey.attributes['iproov.outcome'], 'issued');
      assert.equal(journey.parentSpanId, undefined);
      assert.equal(spans[6].attributes['iproov.outcome'], 'failed');
      const points = Object.fromEntries(metrics.map((m) => [m.name, m.points.map((p) => [p.attributes, p.value])]));
      assert.deepEqual(points['iproov.journeys'], [
        [{ 'iproov.journey.action': 'start', 'iproov.outcome': 'issued' }, 1],
        [{ 'iproov.journey.action': 'finish', 'iproov.outcome': 'failed' }, 1],
      ]);
      assert.equal(points['iproov.journey.attempts'], undefined, "an attempt that leaves another is not the journey's end");
      assert.deepEqual(points['iproov.client.calls'], [
        [{ 'iproov.operation': 'verify_token', 'iproov.outcome': 'token_issued' }, 1],
        [{ 'iproov.operation': 'verify_validate', 'iproov.outcome': 'failed' }, 1],
      ]);
      const text = JSON.stringify({ spans, metrics });
      for (const hidden of [EU.apiKey, EU.secret, started.token, userId]) assert.ok(!text.includes(hidden));

      // The second attempt passes: the journey has ended, and its attempts are recorded once.
      const again = await svc.start('verify', userId, started.journeyId);
      assert.equal(again.attempt, 2);
      await emu.complete(again.token, { passed: true });
      assert.equal((await svc.finish(again.journeyId, again.token, 'telemetry')).passed, true);
      const ended = await otel.collect();
      const attempts = ended.metrics.find((m) => m.name === 'iproov.journey.attempts');
      assert.deepEqual(attempts.points.map((p) => [p.attributes, p.value]), [[{ 'iproov.outcome': 'passed' }, 1]]);

      // Stopped: no more spans.
      otel.stop();
      await client().enrolToken({ resource: 'telemetry', userId: api.randomUserId() });
      assert.equal((await otel.collect()).spans.length, ended.spans.length);
    } finally {
      otel.stop();
      store.close();
    }
  });
} else {
  test(`the edge package (${IMPL}) imports no @opentelemetry module and has no useOpenTelemetry`, () => {
    const dir = dirname(fileURLToPath(new URL(process.env.IPROOV_JS_IMPL, pathToFileURL(`${process.cwd()}/`))));
    const files = readdirSync(dir).filter((f) => f.endsWith('.mjs') || f.endsWith('.js'));
    assert.ok(files.length > 0, `no JS in ${dir}`);
    // An import, a dynamic import or a require of the module (its name in a comment is no import).
    const imports = /(?:\bfrom|\bimport|\brequire)\s*\(?\s*['"`]@opentelemetry\//;
    assert.match("const otel = await import('@opentelemetry/api');", imports, 'the pattern finds an import');
    for (const file of files) assert.doesNotMatch(readFileSync(join(dir, file), 'utf8'), imports, `${file} imports @opentelemetry`);
    assert.equal(api.useOpenTelemetry, undefined);
  });
}
