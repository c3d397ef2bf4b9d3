// The leak probe (issue 13, item 9): distinct, recognisable credentials (API secret, OAuth
// password, a configured access token, the access tokens the emulator issues), every error
// kind provoked against the emulator over real fetch (401, 403, 429, 500 HTML, two token
// rejections in a row, the token endpoint's refusal, timeouts, resets, cut and undecodable
// answers, a caller's abort, config checks), iProov (or a proxy) echoing every credential in
// every form, and every string form of every error and audit record scanned for each
// credential: raw, JSON-escaped, percent-encoded (RFC 3986 and form), base64 (alone and inside
// `Basic user:password`). The telemetry of the same run (issue 27 item 7): every log line the
// clients' and a journey service's logger got and, in the Node package, every span, span event
// and metric label (OpenTelemetry's SDK, in memory), scanned for the credentials and the API
// key, the claim tokens and the user ids too.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { api } from './impl.mjs';
import { SQLiteStore } from '../index.mjs';
import { startEmulator } from './emulator.mjs';
import { otelCapture } from './otel-capture.mjs';
import { captureLogger, telemetryTexts } from '../../bindings-js/test/scenario-telemetry.mjs';

/** OpenTelemetry is the Node package's (the edge package under IPROOV_JS_IMPL has none). */
const NODE_PACKAGE = !process.env.IPROOV_JS_IMPL;

const KEY = `leakprobekey${'0'.repeat(28)}`;
const SECRET = 'LeakSecret"7\\/q+w z%Aa1';
const USERNAME = 'leak-probe-oauth';
const PASSWORD = 'LeakPassword"8\\/e+r t%Bb2';
const CONFIGURED = 'LeakConfiguredToken"9/+x%Cc3';
const CREDENTIALS = { apiKey: KEY, secret: SECRET, oauth: { username: USERNAME, password: PASSWORD } };

const b64 = (text) => Buffer.from(text, 'utf8').toString('base64');
/** Every form a credential travels in. */
function forms(value) {
  const out = [value, JSON.stringify(value).slice(1, -1), encodeURIComponent(value), encodeURIComponent(value).replace(/%20/g, '+'), b64(value)];
  return [...new Set(out)];
}
const CLIENT_FORMS = [...forms(SECRET), ...forms(PASSWORD), b64(`${USERNAME}:${PASSWORD}`)];
const ALL_FORMS = [...CLIENT_FORMS, ...forms(CONFIGURED)];

let emu;
before(async () => {
  emu = await startEmulator({
    config: {
      service_providers: [
        { name: 'leak-probe', region: 'eu', api_key: KEY, secret: SECRET, oauth_username: USERNAME, oauth_password: PASSWORD },
      ],
    },
  });
});
after(async () => {
  await emu?.stop();
});

/** What a server or a proxy echoes: every form of the client's credentials and of `tokens`
 * (a client can only redact what it knows: the configured token goes to its own client). */
const echo = (tokens = [], base = CLIENT_FORMS) => `echoed: ${[...base, ...tokens.flatMap(forms)].join(' | ')}`;

async function issuedTokens() {
  return (await emu.control('GET', '/state')).access_tokens.map((t) => t.access_token);
}

async function failure(promise) {
  try {
    await promise;
  } catch (e) {
    return e;
  }
  throw new Error('expected an error, got a result');
}

/** Every string form of a value that a host may log or store. */
function shown(value) {
  const out = [String(value), inspect(value, { depth: 20, showHidden: true }), JSON.stringify(value) ?? ''];
  if (value instanceof Error) out.push(value.message, value.stack ?? '', JSON.stringify(value.toJSON?.() ?? null));
  return out;
}

/** Every string held in a value, at any depth (own properties, and `toJSON()`'s): a form kept
 * verbatim in a field (a JSON-escaped secret in a body excerpt) is escaped once more by
 * JSON.stringify and inspect, where no needle would match it. */
function strings(value, seen = new Set()) {
  if (typeof value === 'string') return [value];
  if (value === null || typeof value !== 'object' || seen.has(value)) return [];
  seen.add(value);
  const out = Object.getOwnPropertyNames(value).flatMap((key) => {
    const field = Object.getOwnPropertyDescriptor(value, key);
    return 'value' in field ? strings(field.value, seen) : [];
  });
  if (typeof value.toJSON === 'function') out.push(...strings(value.toJSON(), seen));
  return out;
}

/** `[where, text]` for every string form of the errors (`[what, error]`), audit records and
 * other objects (clients, configs), and every string they hold. */
function textsOf(errors, records, objects) {
  const all = (value) => [...shown(value), ...strings(value)];
  return [
    ...errors.flatMap(([what, e]) => all(e).map((text) => [what, text])),
    ...records.flatMap((r, i) => all(r).map((text) => [`audit[${i}] ${r.operation}:${r.outcome}`, text])),
    ...objects.flatMap((o) => all(o).map((text) => ['client/config', text])),
  ];
}

/** The scan: `[where, needle, text]` for each text holding a needle. */
function leaks(texts, needles) {
  const found = [];
  for (const [where, text] of texts) {
    for (const needle of needles) if (text.includes(needle)) found.push([where, needle, text]);
  }
  return found;
}

test('no credential, in any form, in any string form of any error or audit record, log line, span or metric label', async () => {
  await emu.reset();
  const records = [];
  const errors = [];
  const audit = (r) => records.push(r);
  const fast = { baseDelayMs: 5, maxDelayMs: 10 };
  const { logger, lines } = captureLogger();
  const otel = NODE_PACKAGE ? otelCapture(api) : undefined;
  await otel?.begin();
  const make = (extra = {}) => api.createClient({ baseUrl: emu.region('eu'), ...CREDENTIALS, retryPolicy: fast, audit, logger, ...extra });
  const c = make();
  const expect = async (what, cls, promise, check) => {
    const e = await failure(promise);
    assert.ok(e instanceof cls, `${what}: expected ${cls.name}, got ${e?.name}: ${e?.message}`);
    check?.(e);
    errors.push([what, e]);
    return e;
  };
  const redactedEcho = (e) => assert.match(`${e.description ?? ''}${e.bodyExcerpt ?? ''}${e.message}`, /\[REDACTED\]/, 'the echo arrived, redacted');

  // A user, a managed access token (the first one iProov issues).
  const userId = api.randomUserId();
  await emu.seedUser({ api_key: KEY, user_id: userId, status: 'Active' });
  await c.getUser({ userId });
  const first = await issuedTokens();
  assert.equal(first.length, 1);

  // 401 invalid_key echoed, and the real one: the key against another region.
  await emu.fault({ path: '/claim/enrol/token', kind: 'status', status: 401, json: { error: 'invalid_key', error_description: echo(first) } });
  await expect('401 echo', api.InvalidKeyError, c.enrolToken({ resource: 'R', userId }), redactedEcho);
  await expect('401 region', api.InvalidKeyError, make({ baseUrl: emu.region('us') }).enrolToken({ resource: 'R', userId }));
  // 403: echoed, and the real one (a token without the scope).
  await emu.fault({ path: '/claim/verify/token', kind: 'status', status: 403, json: { error: 'invalid_assurance_type', error_description: echo(first) } });
  await expect('403 echo', api.ApiError, c.verifyToken({ resource: 'R', userId }), redactedEcho);
  await expect('403 scope', api.OAuthError, make({ tokenPolicy: { scope: ['user-read'] } }).suspendUser({ userId }));
  // 429 with a wait too long to retry.
  await emu.fault({ path: '/claim/enrol/token', kind: 'status', status: 429, headers: { 'Retry-After': '120' }, json: { error: 'too_many_requests', error_description: echo(first) } });
  await expect('429', api.RateLimitedError, c.enrolToken({ resource: 'R', userId: api.randomUserId() }), redactedEcho);
  // 500 HTML from a proxy, every attempt.
  await emu.fault({ path: '/claim/enrol/token', kind: 'status', status: 500, times: 3, html: `<html><body>${echo(first)}</body></html>` });
  await expect('500 html', api.DecodeError, c.enrolToken({ resource: 'R', userId: api.randomUserId() }), redactedEcho);
  // Two rejections of the managed token in a row, each echoing it.
  await emu.fault({ path: `/users/${userId}`, method: 'GET', kind: 'status', status: 401, times: 2, json: { error: 'invalid_oauth', error_description: echo(first) } });
  await expect('two rejections', api.OAuthError, c.getUser({ userId }), redactedEcho);
  // The token endpoint refuses, echoing the Basic credentials.
  const fresh = make();
  await emu.fault({ path: '/access_token', kind: 'status', status: 400, json: { error: 'invalid_client', error_description: echo() } });
  await expect('token endpoint', api.OAuthError, fresh.getUser({ userId }), redactedEcho);
  // A configured access token, rejected with an echo.
  const configured = make({ accessToken: CONFIGURED });
  await emu.fault({ path: `/users/${userId}`, method: 'GET', kind: 'status', status: 401, json: { error: 'invalid_oauth', error_description: echo([], ALL_FORMS) } });
  await expect('configured token', api.OAuthError, configured.getUser({ userId }), redactedEcho);
  // Timeouts: a token call (retried, then TimeoutError) and a validate (outcome unknown).
  const slow = make({ timeoutMs: 150 });
  // Held at the emulator until released: no answer in time however slow the machine is.
  await emu.fault({ path: '/claim/enrol/token', kind: 'delay', hold: true, times: 3 });
  await expect('timeout', api.TimeoutError, slow.enrolToken({ resource: 'R', userId: api.randomUserId() }));
  await emu.release();
  const claim = await c.verifyToken({ resource: 'R', userId });
  await emu.complete(claim.token);
  await emu.fault({ path: '/claim/verify/validate', kind: 'delay', hold: true });
  await expect('validate timeout', api.OutcomeUnknownError, slow.verifyValidate({ userId, token: claim.token, client: 'probe' }));
  await emu.release();
  // Resets: retried until exhausted; and after a validate was consumed.
  await emu.fault({ path: `/users/${userId}`, method: 'GET', kind: 'reset', times: 3 });
  await expect('reset', api.ConnectionError, c.getUser({ userId }));
  const claim2 = await c.verifyToken({ resource: 'R', userId });
  await emu.complete(claim2.token);
  await emu.fault({ path: '/claim/verify/validate', kind: 'reset', after_handler: true });
  await expect('reset validate', api.OutcomeUnknownError, c.verifyValidate({ userId, token: claim2.token, client: 'probe' }));
  // Decode errors: a cut body, an undecodable 200 (a validate: outcome unknown), HTML 200.
  await emu.fault({ path: '/claim/enrol/token', kind: 'cut', times: 3, status: 200, json: { token: echo(first), user_id: 'u'.repeat(40) }, send_bytes: 600 });
  await expect('cut', api.ConnectionError, c.enrolToken({ resource: 'R', userId: api.randomUserId() }));
  const claim3 = await c.verifyToken({ resource: 'R', userId });
  await emu.complete(claim3.token);
  await emu.fault({ path: '/claim/verify/validate', kind: 'status', status: 200, json: { passed: echo(first) } });
  await expect('undecodable validate', api.OutcomeUnknownError, c.verifyValidate({ userId, token: claim3.token, client: 'probe' }), redactedEcho);
  await emu.fault({ path: '/claim/enrol/token', kind: 'status', status: 200, html: echo(first) });
  await expect('html 200', api.DecodeError, c.enrolToken({ resource: 'R', userId: api.randomUserId() }), redactedEcho);
  // The caller's abort.
  await emu.fault({ path: '/claim/enrol/token', kind: 'delay', hold: true });
  await expect('abort', api.AbortedError, c.enrolToken({ resource: 'R', userId: api.randomUserId() }, { signal: AbortSignal.timeout(50) }));
  await emu.release();
  // Config checks: a credential with a line break is refused naming the field, not showing it.
  await expect('config', api.InvalidInputError, Promise.resolve().then(() => make({ accessToken: `${CONFIGURED}\n` })), (e) => assert.equal(e.field, 'access_token'));
  await expect('config agent', api.InvalidInputError, Promise.resolve().then(() => make({ userAgent: `x\n${SECRET}` })));
  // A journey through the service (its own lines and spans), and the users API.
  const dir = mkdtempSync(join(tmpdir(), 'iproov-leak-'));
  const store = new SQLiteStore(join(dir, 'journeys.sqlite3'), { spool: false });
  const claims = [claim.token, claim2.token, claim3.token];
  try {
    const svc = new api.JourneyService(c, store);
    const started = await svc.start('verify', userId);
    claims.push(started.token);
    await emu.complete(started.token);
    await svc.finish(started.journeyId, started.token, 'probe');
    await expect('journey replayed token', api.InvalidStateError, svc.finish(started.journeyId, 'ab'.repeat(32), 'probe'));
  } finally {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
  const told = { lines, ...(await otel?.collect()) };
  otel?.stop();

  // Every access token the emulator issued in the run, in every form.
  const tokens = await issuedTokens();
  assert.ok(tokens.length >= 4, `tokens issued: ${tokens.length}`);
  const needles = [...ALL_FORMS, ...tokens.flatMap(forms)];
  const texts = textsOf(errors, records, [c, configured, fresh, c.config, configured.config]);
  assert.ok(records.length >= 25, `audit records: ${records.length}`);
  for (const [where, needle, text] of leaks(texts, needles)) {
    assert.fail(`${where} holds a credential form ${JSON.stringify(needle.slice(0, 8))}...:\n${text.slice(0, 2000)}`);
  }
  // The telemetry holds neither these nor the API key, a claim token or a user id.
  const hidden = [...needles, ...forms(KEY), ...claims.flatMap(forms), ...forms(userId)];
  assert.ok(lines.length >= 60, `log lines: ${lines.length}`);
  assert.ok(lines.some((l) => l.fields.iproov_event === 'iproov.journey'), 'the journey service logged');
  if (NODE_PACKAGE) assert.ok(told.spans.length >= 60 && told.metrics.length === 4, `spans: ${told.spans.length}, metrics: ${told.metrics.length}`);
  for (const [where, needle, text] of leaks(telemetryTexts(told), hidden)) {
    assert.fail(`${where} holds a secret form ${JSON.stringify(needle.slice(0, 8))}...:\n${text.slice(0, 2000)}`);
  }
});

test("no credential in the web handler's log lines: refusals, route failures, health failures", async () => {
  // createJourneyHandler's logger (web.mjs logRoute and the health check): every line's
  // message, fields and the error it carries, in every string form a logger may write.
  await emu.reset();
  const lines = [];
  const logger = Object.fromEntries(['debug', 'info', 'warn', 'error'].map((level) => [level, (...parts) => lines.push([level, parts])]));
  const origin = 'https://app.example.test';
  const dir = mkdtempSync(join(tmpdir(), 'iproov-leak-web-'));
  const store = new SQLiteStore(join(dir, 'journeys.sqlite3'), { spool: false });
  const failing = {};
  for (const method of ['get', 'insert', 'update', 'appendAudit', 'journeysOf', 'auditOf', 'deleteExpired', 'forget']) {
    failing[method] = (...args) => {
      if (failing.down) throw new Error('SQLITE_CANTOPEN: unable to open database file');
      return store[method](...args);
    };
  }
  try {
    const client = api.createClient({ baseUrl: emu.region('eu'), ...CREDENTIALS, retryPolicy: { maxRetries: 0 } });
    const userId = api.randomUserId();
    await emu.seedUser({ api_key: KEY, user_id: userId, status: 'Active' });
    await client.getUser({ userId }); // an access token issued: one more needle
    const tokens = await issuedTokens();
    assert.equal(tokens.length, 1);
    const handler = api.createJourneyHandler(new api.JourneyService(client, failing, { spool: false }), {
      basePath: '/iproov', resolveUser: (request) => request.headers.get('x-user'), allowedOrigins: [origin], logger,
    });
    const post = (body, headers = {}) => handler(new Request('https://app.example.test/iproov/token', {
      method: 'POST', headers: { Origin: origin, 'Content-Type': 'application/json', ...headers }, body,
    }));
    const user = { 'x-user': api.randomUserId() };
    // Refusals of core's checks: a foreign origin, no user, a body that is no JSON, no route.
    assert.equal((await post('{"flow":"enrol"}', { Origin: 'https://evil.test', ...user })).status, 403);
    assert.equal((await post('{"flow":"enrol"}')).status, 401);
    assert.equal((await post('{', user)).status, 400);
    assert.equal((await handler(new Request('https://app.example.test/iproov/nope'))).status, 404);
    // Route failures: iProov refusing the key and a proxy's HTML, both echoing the credentials.
    await emu.fault({ path: '/claim/enrol/token', kind: 'status', status: 401, json: { error: 'invalid_key', error_description: echo(tokens) } });
    assert.ok((await post('{"flow":"enrol"}', user)).status >= 500);
    await emu.fault({ path: '/claim/enrol/token', kind: 'status', status: 500, html: `<html>${echo(tokens)}</html>` });
    assert.ok((await post('{"flow":"enrol"}', user)).status >= 500);
    await emu.control('DELETE', '/faults');
    // The store failing under a route, and health: iProov refusing the key (echoed), the store failing.
    failing.down = true;
    assert.equal((await post('{"flow":"enrol"}', user)).status, 503);
    await emu.fault({ path: '/availability', kind: 'status', status: 401, json: { error: 'invalid_key', error_description: echo(tokens) } });
    const health = await handler(new Request('https://app.example.test/iproov/health'));
    assert.equal(health.status, 503);
    assert.deepEqual(await health.json(), { status: 'degraded', iproov: 'unreachable', store: 'failing' });
    assert.ok(lines.length >= 8, `web log lines: ${lines.length}`);
    assert.ok(lines.some(([, parts]) => parts.some((p) => p?.err instanceof Error)), 'a line carries its error (err): its stack and fields are scanned');
    const needles = [...CLIENT_FORMS, ...forms(KEY), ...tokens.flatMap(forms)];
    const texts = lines.flatMap(([level, parts], i) => parts.flatMap((part) => [...shown(part), ...strings(part)]).map((text) => [`web line ${i} (${level})`, text]));
    for (const [where, needle, text] of leaks(texts, needles)) {
      assert.fail(`${where} holds a secret form ${JSON.stringify(needle.slice(0, 8))}...:\n${text.slice(0, 2000)}`);
    }
  } finally {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the probe sees a leak: the same scan finds each credential form planted unredacted', () => {
  // What the scan above would meet if redaction missed a form: each form planted in an
  // error's description, an audit record's nested field and a config-like object, through
  // the same textsOf and leaks. An issued token stands in as a made-up one.
  const issued = ['leakprobeissuedtoken+/=%1'];
  const needles = [...ALL_FORMS, ...issued.flatMap(forms)];
  for (const needle of needles) {
    const error = Object.assign(new Error('iProov refused the request'), { description: `echoed: ${needle}` });
    const record = { operation: 'get_user', outcome: 'error', error: { detail: { body_excerpt: `<p>${needle}</p>` } } };
    const found = leaks(textsOf([['planted', error]], [record], [{ headers: { authorization: `Basic ${needle}` } }]), needles);
    // Caught in each place, by this form or by another of the same credential (a raw quote
    // planted shows JSON-escaped in JSON's output: that form is a needle too).
    const where = new Set(found.map(([w]) => w));
    assert.deepEqual([...where].sort(), ['audit[0] get_user:error', 'client/config', 'planted'], `the scan missed ${JSON.stringify(needle)}`);
  }
  // And a clean text passes it: the scan does not cry leak at everything.
  assert.deepEqual(leaks(textsOf([['clean', new Error('nothing secret')]], [], []), needles), []);
});

test('the probe sees a leak in the telemetry: each secret form planted in a log line, a span and a metric label', () => {
  const secrets = [...ALL_FORMS, ...forms(KEY), ...forms('ab'.repeat(32)), ...forms('6a1f2c3d-7b4e-4f5a-8c9d-0e1f2a3b4c5d')];
  for (const needle of secrets) {
    const told = {
      lines: [{ level: 'debug', message: `iproov get_user send 1 answered 401 ${needle}`, fields: { iproov_event: 'iproov.send', iproov: {} } }],
      spans: [{ name: 'iproov.call', attributes: { 'url.template': '/users/{user_id}' }, events: [{ name: 'iproov.retry', attributes: { note: needle } }], status: {} }],
      metrics: [{ name: 'iproov.client.calls', points: [{ attributes: { 'iproov.outcome': `x${needle}` } }] }],
    };
    const where = new Set(leaks(telemetryTexts(told), secrets).map(([w]) => w));
    assert.deepEqual([...where].sort(), ['log line 0 (iproov.send)', 'metric iproov.client.calls', 'span iproov.call'], `the scan missed ${JSON.stringify(needle)}`);
  }
  const clean = { lines: [{ message: 'iproov get_user ok', fields: { iproov_event: 'iproov.call', iproov: { 'url.template': '/{api_key}/access_token' } } }], spans: [], metrics: [] };
  assert.deepEqual(leaks(telemetryTexts(clean), secrets), []);
});
