// The public API's shape and conversions, without a network: ESM/CJS identity, results and
// errors, secrets, user ids, regions, the flow classes, and that the vector runner catches a
// wrong expectation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { api, esm, requireImpl } from './impl.mjs';
import { runVector } from './vectors.mjs';
import { BROWSER_ERROR_CODES, INFO, REGIONS } from '../../bindings-js/generated/host.mjs';

const KEY = '0123456789abcdefghij0123456789abcdefghij';
const config = { region: 'eu', apiKey: KEY, secret: 'sec-s3cr3t-value' };

// Made only for an implementation with a CJS entry (the edge package has none).
const cjs = requireImpl();
if (cjs !== undefined) test('ESM and CJS give the same objects, so instanceof works across them', () => {
  const names = Object.keys(cjs).sort();
  assert.deepEqual(Object.keys(esm).filter((k) => k !== 'default').sort(), names, 'index.mjs exports every name');
  for (const name of names) assert.equal(esm[name], cjs[name], name);
  let error;
  try {
    cjs.build('verify_token', config, { resource: 'x', user_id: 'a b' });
  } catch (e) {
    error = e;
  }
  assert.ok(error instanceof esm.InvalidInputError);
  assert.ok(error instanceof esm.IProovError);
  const result = esm.parse('availability', config, { status: 200, body: '{"up":true}' });
  assert.ok(result instanceof cjs.Availability);
});

/** Core's own info() through the implementation's native backend (napi addon or wasm glue). */
function coreInfo() {
  const native = esm.__native ?? createRequire(import.meta.url)('../native.cjs');
  return JSON.parse(native.info());
}

test("core's constants generated into the JS layer are the native module's own", () => {
  // bindings-js/generated/host.mjs (cargo run -p iproov-codegen) spares the API's creation a
  // native call for each; here they are checked against what this build's module answers.
  const native = esm.__native ?? createRequire(import.meta.url)('../native.cjs');
  assert.deepEqual(INFO, coreInfo());
  assert.deepEqual(REGIONS, JSON.parse(native.regions()));
  assert.deepEqual(BROWSER_ERROR_CODES, JSON.parse(native.webDecide('table', '')).codes);
  assert.equal(api.VERSION, INFO.version);
  assert.deepEqual(api.OPERATIONS, INFO.operations);
  assert.deepEqual(Object.keys(api.BROWSER_ERRORS), BROWSER_ERROR_CODES.map((c) => c.code));
  assert.deepEqual(api.REGIONS.map((r) => r.id), REGIONS.map((r) => r.id));
});

test('the error classes are exactly the ones core names, each extending the parent core names', () => {
  const table = coreInfo().error_classes;
  assert.equal(table.length, 15, 'one row per ErrorKind');
  const parents = new Set(table.map((row) => row.parent));
  for (const name of ['AbortedError', 'TransportError', 'ApiError', 'IProovError']) {
    assert.ok(table.some((row) => row.class === name) || parents.has(name), `core names ${name}`);
  }
  for (const { kind, class: name, parent } of table) {
    const cls = api[name];
    assert.equal(typeof cls, 'function', `the package exports ${name}`);
    assert.equal(cls.name, name);
    assert.equal(cls.prototype.name, name);
    assert.equal(Object.getPrototypeOf(cls), api[parent], `${name} extends ${parent}`);
    assert.ok(cls.prototype instanceof api.IProovError, name);
    assert.equal(api.ERROR_CLASSES[kind], cls, `kind ${kind}`);
    const e = api.errorFromJSON({ code: 'x', kind, message: 'm' });
    assert.ok(e instanceof cls && e instanceof Error, kind);
  }
  assert.ok(new api.AbortedError({ code: 'aborted', kind: 'aborted', message: 'm' }) instanceof api.TransportError);
  assert.ok(api.TimeoutError.prototype instanceof api.TransportError);
  assert.ok(api.ConnectionError.prototype instanceof api.TransportError);
  // A kind this build does not know reads as core reads it: an API error.
  assert.ok(api.errorFromJSON({ code: 'new_code', kind: 'from_the_future', message: 'm' }) instanceof api.ApiError);
  assert.ok(api.IProovError.prototype instanceof Error);
  // The client's methods are core's operation list.
  for (const op of coreInfo().operations) {
    const method = op.replace(/_([a-z])/g, (_, c) => c.toUpperCase());
    assert.equal(typeof api.IProovClient.prototype[method], 'function', method);
  }
});

test('an AccessToken shows its token only through its accessor and canonical()', () => {
  const token = api.parse('access_token', config, { status: 200, body: '{"access_token":"at-visible-9f8e7d6c5b","token_type":"Bearer","expires_in":3600}' });
  assert.ok(token instanceof api.AccessToken);
  assert.equal(token.accessToken, 'at-visible-9f8e7d6c5b');
  assert.equal(token.canonical().access_token, 'at-visible-9f8e7d6c5b');
  for (const text of [JSON.stringify(token), inspect(token, { showHidden: true, depth: 9 }), String(token), JSON.stringify(token.toJSON()), JSON.stringify({ ...token })]) {
    assert.ok(!text.includes('at-visible-9f8e7d6c5b'), text);
  }
  assert.equal(token.toJSON().access_token, '[REDACTED]');
  assert.equal(token.expiresIn, 3600);
});

test('an error carries core canonical JSON and camelCased fields', () => {
  let caught = false;
  try {
    api.parse('verify_token', config, {
      status: 429,
      headers: { 'retry-after': '7' },
      body: '{"error":"too_many_requests","error_description":"slow down"}',
    });
  } catch (err) {
    assert.ok(err instanceof api.RateLimitedError);
    assert.equal(err.retryAfterMs, 7000);
    assert.equal(err.description, 'slow down');
    assert.equal(err.toJSON().retry_after_ms, 7000);
    assert.deepEqual(JSON.parse(JSON.stringify(err)), err.toJSON());
    caught = true;
  }
  assert.ok(caught);
});

test('results: camelCase fields, canonical toJSON, operation', () => {
  const r = api.parse('get_user', config, { status: 200, body: '{"user_id":"u1","name":"N","status":"Active","activation_date":"2024-01-01T00:00:00Z"}' });
  assert.ok(r instanceof api.User);
  assert.equal(r.userId, 'u1');
  assert.equal(r.status, 'active');
  assert.equal(r.activationDate, '2024-01-01T00:00:00Z');
  assert.equal(r.operation, 'get_user');
  assert.deepEqual(r.toJSON(), { user_id: 'u1', name: 'N', status: 'active', activation_date: '2024-01-01T00:00:00Z' });
  const bytes = api.parse('availability', config, { status: 200, headers: [['content-type', 'application/json']], body: new TextEncoder().encode('{"up":false}') });
  assert.equal(bytes.up, false);
  const b64 = api.parse('availability', config, { status: 200, body_base64: Buffer.from('{"up":true}').toString('base64') });
  assert.equal(b64.up, true);
});

test('string bodies are read exactly, one after another, whatever their characters', () => {
  // Short and long, ASCII and not, in a row: each body must be read as it is, whatever the
  // previous one was (a binding may reuse buffers between calls).
  const names = ['N', 'é'.repeat(3000), 'a'.repeat(5000), 'Zoë 🙂 '.repeat(800), 'x'];
  for (const name of names) {
    const body = `{"user_id":"u1","name":${JSON.stringify(name)},"status":"active"}`;
    const user = api.parse('get_user', config, { status: 200, body });
    assert.equal(user.name, name);
  }
});

test('validate results carry large frames whole, escaped or not', () => {
  const frame = Buffer.alloc(45_000, 7).toString('base64');
  const jpeg = `${'A'.repeat(2000)}\n${'B'.repeat(10)}`; // a line break keeps it in core's JSON
  const small = 'c21hbGw=';
  const body = JSON.stringify({ passed: true, token: 't0', type: 'verify', frame: frame.replaceAll('/', '\\/'), frame_jpeg: jpeg, iso_19794_5: small });
  const r = api.parse('verify_validate', config, { status: 200, headers: { 'content-type': 'application/json' }, body });
  assert.ok(r instanceof api.ValidateResult);
  assert.equal(r.passed, true);
  assert.equal(r.frame, frame);
  assert.equal(r.frameJpeg, jpeg);
  assert.equal(r.iso197945, small);
  assert.deepEqual(r.toJSON(), { passed: true, token: 't0', type: 'verify', frame, frame_jpeg: jpeg, iso_19794_5: small });
  const two = api.parse('enrol_validate', config, { status: 200, body: JSON.stringify({ passed: false, token: 't1', frame, frame_jpeg: frame, reason: 'r' }) });
  assert.deepEqual(two.toJSON(), { passed: false, token: 't1', frame, frame_jpeg: frame, reason: 'r' });
});

test('Secret and Config never show secrets', () => {
  const s = new api.Secret('hunter2-very-secret');
  assert.equal(`${s}`, '[REDACTED]');
  assert.equal(String(s), '[REDACTED]');
  assert.equal(JSON.stringify({ s }), '{"s":"[REDACTED]"}');
  assert.ok(!inspect(s).includes('hunter2'));
  assert.equal(s.reveal(), 'hunter2-very-secret');
  const c = new api.Config({ region: 'EU', apiKey: KEY, secret: s, oauth: { username: 'u', password: 'pw-very-secret' }, accessToken: 'at-very-secret' });
  const shown = inspect(c, { depth: 5 }) + JSON.stringify(c);
  for (const secret of ['hunter2', 'pw-very-secret', 'at-very-secret']) assert.ok(!shown.includes(secret), shown);
  assert.equal(c.region, 'eu');
  assert.equal(c.baseUrl, 'https://eu.rp.secure.iproov.me/api/v2');
  assert.equal(c.apiKey, KEY);
  assert.equal(c.oauthUsername, 'u');
  assert.equal(c.userAgent, api.DEFAULT_USER_AGENT);
  const req = api.build('verify_token', c, { resource: 'x', user_id: 'u1' });
  assert.ok(req.bodyText.includes('hunter2-very-secret'), 'the wire body carries the secret');
  assert.ok(!inspect(req).includes('hunter2') && !JSON.stringify(req).includes('hunter2'));
  const init = req.fetchInit();
  assert.equal(init.method, 'POST');
  assert.equal(init.body, req.bodyText);
});

test('config errors are InvalidInputError naming the field', () => {
  assert.throws(() => new api.Config({ region: 'mars' }), (e) => e instanceof api.InvalidInputError && e.field === 'region' && /eu, us, sg, au, jkt, latam/.test(e.message));
  assert.throws(() => new api.Config({ baseUrl: 'http://example.com' }), (e) => e.field === 'base_url');
  assert.throws(() => new api.Config({ region: 'eu', baseUrl: 'https://x.example' }), api.InvalidInputError);
});

test('user ids and regions', () => {
  const id = api.randomUserId();
  assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.notEqual(id, api.randomUserId());
  api.checkUserId(id);
  assert.throws(() => api.checkUserId('a b'), api.InvalidInputError);
  assert.throws(() => api.checkUserId('x\n', 'new_user_id'), (e) => e.field === 'new_user_id');
  assert.deepEqual(api.lintUserId('jane@example.com').map((w) => w.code), ['looks_like_email']);
  assert.deepEqual(api.lintUserId(id), []);
  const p = api.pseudonymousUserId(new api.Secret('0123456789abcdef0123'), 'customer-42');
  assert.equal(p, api.pseudonymousUserId('0123456789abcdef0123', 'customer-42'));
  assert.match(p, /^[0-9a-f]{64}$/);
  assert.throws(() => api.pseudonymousUserId('short', 'x'), (e) => e.field === 'host_secret');
  assert.deepEqual(api.REGIONS.map((r) => r.id), ['eu', 'us', 'sg', 'au', 'jkt', 'latam']);
  assert.equal(api.region('Singapore').streamingUrl, 'wss://sg.rp.secure.iproov.me/ws');
  assert.throws(() => api.region('mars'), api.InvalidInputError);
  assert.equal(api.OPERATIONS.length, 13);
  assert.equal(typeof api.VERSION, 'string');
  assert.equal(api.MAX_BODY_BYTES, 16 * 1024 * 1024);
});

test('RetryPolicy is core advisor', () => {
  const p = new api.RetryPolicy();
  const retry = p.advise({ operation: 'verify_token', attempt: 1, response: { status: 503, headers: {} }, now: 1000, jitter: 0 });
  assert.deepEqual(retry, { action: 'retry_at', atMs: 1250, delayMs: 250 });
  const unknown = p.advise({ operation: 'verify_validate', attempt: 1, failure: 'may_have_reached_server', now: 0, jitter: 0.5 });
  assert.equal(unknown.action, 'outcome_unknown');
  assert.ok(unknown.error instanceof api.OutcomeUnknownError);
  const giveUp = p.advise({ operation: 'verify_token', attempt: 3, response: { status: 503 }, now: 0, jitter: 0 });
  assert.deepEqual(giveUp, { action: 'give_up', reason: 'retries_exhausted' });
  assert.throws(() => p.advise({ operation: 'verify_token', attempt: 0, failure: 'failed_before_sending' }), api.InvalidInputError);
});

test('TokenManager: need a token, then authorized; export hides the token', () => {
  const m = new api.TokenManager({ region: 'eu', apiKey: KEY, oauth: { username: 'u', password: 'pw-1234' } });
  const first = m.prepare('get_user', { user_id: 'u1' }, 1000);
  assert.equal(first.action, 'need_token');
  assert.equal(first.tokenRequest.method, 'POST');
  assert.match(first.tokenRequest.header('authorization'), /^Basic /);
  const status = m.acceptToken({ status: 200, body: '{"access_token":"at-abcdef123456","expires_in":3600}' }, 2000);
  assert.equal(status.hasToken, true);
  const second = m.prepare('get_user', { user_id: 'u1' }, 3000);
  assert.equal(second.action, 'authorized');
  assert.equal(second.request.header('authorization'), 'Bearer at-abcdef123456');
  assert.ok(!JSON.stringify(m).includes('at-abcdef123456'));
  assert.ok(!inspect(m).includes('at-abcdef123456'));
  assert.ok(!inspect(second).includes('at-abcdef123456'));
  const check = m.onResponse({ status: 401, body: '{"error":"invalid_oauth"}' });
  assert.equal(check.action, 'retry_with_new_token');
  const saved = m.export({ includeToken: true });
  const restored = api.TokenManager.restore({ region: 'eu', apiKey: KEY, oauth: { username: 'u', password: 'pw-1234' } }, saved);
  assert.equal(restored.status(3000).hasToken, false);
});

test('Journey serializes and refuses events out of order', () => {
  const j = new api.Journey({ userId: 'u1', flow: 'enrol', maxAttempts: 2 });
  assert.deepEqual(j.next(0), { next: 'start_attempt', attempt: 1, attemptsLeft: 2 });
  j.tokenIssued('tok1', 10);
  const again = api.Journey.fromJSON(JSON.parse(JSON.stringify(j)));
  assert.equal(again.next(20).next, 'await_validate');
  assert.equal(again.userId, 'u1');
  assert.throws(() => again.tokenIssued('tok2', 30), api.InvalidStateError);
  const failed = again.validateFailed('tok1', new api.OutcomeUnknownError({ code: 'outcome_unknown', kind: 'outcome_unknown', message: 'lost' }), 40);
  assert.equal(failed.next, 'start_attempt');
  const rec = api.auditRecord({ operation: 'enrol_validate', userId: 'u1', token: 'tok1', attempt: 1, error: { code: 'outcome_unknown' } }, { now: 50 });
  assert.equal(rec.outcome, 'outcome_unknown');
});

test('the vector runner fails on a wrong expectation (IPROOV_VECTORS_DIR)', () => {
  const vector = {
    name: 'self-check: wrong expectation',
    operation: 'availability',
    config: { region: 'eu', api_key: KEY },
    response: { status: 200, headers: {}, body: '{"up":true}' },
    result: { up: false },
  };
  assert.throws(() => runVector(api, vector), /result\.up/);
  const dir = mkdtempSync(join(tmpdir(), 'iproov-vectors-'));
  writeFileSync(join(dir, 'wrong.json'), JSON.stringify({ vectors: [vector] }));
  const suite = fileURLToPath(new URL('./vectors.test.mjs', import.meta.url));
  const env = { ...process.env, IPROOV_VECTORS_DIR: dir };
  delete env.NODE_TEST_CONTEXT;
  assert.throws(
    () => execFileSync(process.execPath, ['--test', suite], { env, stdio: 'pipe' }),
    (e) => /self-check: wrong expectation/.test(String(e.stderr) + String(e.stdout)),
  );
});
