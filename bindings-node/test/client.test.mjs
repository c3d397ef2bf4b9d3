// The fetch client against the emulator over real HTTP: every operation, every error class, the
// fault scenarios (429 + Retry-After, 5xx, HTML 502, reset, cut body, timeout, validate
// timeout), OAuth token reuse, region mismatch. Public API only.
import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import { api } from './impl.mjs';
import { createServer } from 'node:net';
import { startEmulator, EU, PNG } from './emulator.mjs';

/** A loopback port nothing listens on (bound, then closed). */
function closedPort() {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

let emu;
before(async () => {
  emu = await startEmulator();
});
after(async () => {
  await emu?.stop();
});
beforeEach(async () => {
  await emu.reset();
});

// Short backoff so that retried scenarios finish quickly; the rules stay core's.
const FAST = { baseDelayMs: 20, maxDelayMs: 40 };

function client(extra = {}) {
  return api.createClient({ baseUrl: emu.region('eu'), ...EU, timeoutMs: 5_000, retryPolicy: FAST, ...extra });
}

async function enrolled(c) {
  const userId = api.randomUserId();
  const claim = await c.enrolToken({ resource: 'Login', userId });
  await emu.complete(claim.token);
  const result = await c.enrolValidate({ userId, token: claim.token, client: 'node-test' });
  assert.equal(result.passed, true);
  return userId;
}

async function rejects(promise, cls, check) {
  let error;
  try {
    await promise;
  } catch (e) {
    error = e;
  }
  assert.ok(error, `expected ${cls.name}, got a result`);
  assert.ok(error instanceof cls, `expected ${cls.name}, got ${error?.name}: ${error?.message}`);
  assert.ok(error instanceof api.IProovError);
  assert.ok(error instanceof Error);
  assert.equal(error.name, cls.name);
  check?.(error);
  return error;
}

test('every operation over real fetch', async () => {
  const c = client();
  const up = await c.availability();
  assert.ok(up instanceof api.Availability);
  assert.equal(up.up, true);

  // enrol (capture), then verify: passed and failed
  const userId = api.randomUserId();
  const enrolClaim = await c.enrolToken({ resource: 'Login', userId, assuranceType: 'genuine_presence' });
  assert.ok(enrolClaim instanceof api.ClaimToken);
  assert.match(enrolClaim.token, /^[0-9a-f]{64}$/);
  assert.equal(enrolClaim.userId, userId);
  assert.equal(enrolClaim.toJSON().user_id, userId);
  await emu.complete(enrolClaim.token);
  const enrolResult = await c.enrolValidate({ userId, token: enrolClaim.token, client: 'node-test' });
  assert.ok(enrolResult instanceof api.ValidateResult);
  assert.equal(enrolResult.passed, true);
  assert.equal(enrolResult.type, 'enrol');

  const verifyClaim = await c.verifyToken({ resource: 'Login', userId });
  await emu.complete(verifyClaim.token, { passed: true, frame: true });
  const verified = await c.verifyValidate({ userId, token: verifyClaim.token, client: 'node-test' });
  assert.equal(verified.passed, true);
  assert.equal(verified.frameAvailable, true);
  assert.equal(typeof verified.frame, 'string');

  const failedClaim = await c.verifyToken({ resource: 'Login', userId });
  await emu.complete(failedClaim.token, { passed: false, reason: 'too_much_movement' });
  const failed = await c.verifyValidate({ user_id: userId, token: failedClaim.token, client: 'node-test' });
  assert.equal(failed.passed, false, 'passed: false is a result, not an error');
  assert.equal(failed.reason, 'too_much_movement');

  // photo enrol
  const photoUser = api.randomUserId();
  const photoClaim = await c.enrolToken({ resource: 'Photo', userId: photoUser });
  const photo = await c.enrolImage({ token: photoClaim.token, source: 'oid', image: PNG });
  assert.ok(photo instanceof api.EnrolImageResult);
  assert.equal(photo.success, true);

  // invalidate a pending claim
  const pending = await c.verifyToken({ resource: 'Login', userId });
  const invalidated = await c.invalidateClaim({ token: pending.token, reason: 'user cancelled' });
  assert.ok(invalidated instanceof api.InvalidateResult);
  assert.equal(invalidated.claimAborted, true);

  // OAuth token (explicit) and the users API (token manager)
  const token = await c.accessToken({ scope: ['user-read'] });
  assert.ok(token instanceof api.AccessToken);
  assert.equal(typeof token.accessToken, 'string');
  assert.ok(!inspect(token).includes(token.accessToken), 'inspect hides the access token');
  assert.ok(!JSON.stringify(token).includes(token.accessToken), 'JSON.stringify hides the access token');
  assert.equal(token.canonical().access_token, token.accessToken, 'canonical() holds it');

  const user = await c.getUser({ userId });
  assert.ok(user instanceof api.User);
  assert.equal(user.status, 'active');
  const renamed = await c.updateUser({ userId, name: 'Jane Roe' });
  assert.equal(renamed.name, 'Jane Roe');
  assert.equal((await c.suspendUser({ userId })).status, 'suspended');
  assert.equal((await c.activateUser({ userId })).status, 'active');
  const deleted = await c.deleteUser({ userId });
  assert.ok(deleted instanceof api.User);
  // a deleted user is unknown: 400 invalid_user_id, as the live service answers GET /users/{unknown}
  await rejects(c.getUser({ userId }), api.ApiError, (e) => assert.equal(e.code, 'invalid_user_id'));

  // one OAuth token served the six users calls: the driver fetched exactly one
  assert.equal(await emu.count('/access_token', 'POST'), 2, 'one explicit + one managed token request');
  const managed = (await emu.control('GET', '/state')).access_tokens.filter((t) => t.access_token !== token.accessToken);
  assert.equal(managed.length, 1);
});

test('the dynamic call() takes vector-format input', async () => {
  const c = client();
  const claim = await c.call('verify_token', { resource: 'Login', user_id: await enrolled(c) });
  assert.ok(claim instanceof api.ClaimToken);
});

test('InvalidInputError: nothing is sent', async () => {
  const c = client();
  await rejects(c.verifyToken({ resource: 'Login', userId: 'has space' }), api.InvalidInputError, (e) => {
    assert.equal(e.field, 'user_id');
    assert.equal(e.status, undefined);
  });
  await rejects(c.getUser({ userId: 'x\n' }), api.InvalidInputError);
  assert.equal((await emu.control('GET', '/requests')).total, 0);
});

test('InvalidKeyError: region mismatch (401) names the configured target and the usual cause', async () => {
  const c = client({ baseUrl: emu.region('us') });
  const e = await rejects(c.verifyToken({ resource: 'Login', userId: 'someone' }), api.InvalidKeyError, (e) => {
    assert.equal(e.status, 401);
    assert.equal(e.code, 'invalid_key');
    assert.equal(e.baseUrl, `${emu.region('us')}/api/v2`);
    assert.match(e.message, /wrong region/);
    assert.match(e.message, /eu, us, sg, au, jkt, latam/);
  });
  assert.ok(e instanceof api.ApiError);
  assert.equal(e.toJSON().kind, 'invalid_key');
  assert.ok(!JSON.stringify(e).includes(EU.secret));
  assert.ok(!inspect(e).includes(EU.secret));
});

test('InvalidKeyError with a region config: the error names the region (fetch routed to the emulator)', async () => {
  // A passed-in fetch that sends https://{region}.rp.secure.iproov.me/api/v2/... to the
  // emulator's /{region}/api/v2/...: the client is configured exactly as in production.
  const routed = (url, init) => fetch(String(url).replace(/^https:\/\/(\w+)\.rp\.secure\.iproov\.me/, `${emu.url}/$1`), init);
  const wrong = api.createClient({ region: 'us', ...EU, fetch: routed });
  await rejects(wrong.verifyToken({ resource: 'Login', userId: 'someone' }), api.InvalidKeyError, (e) => {
    assert.equal(e.region, 'us');
    assert.equal(e.baseUrl, undefined);
    assert.match(e.message, /for region us/);
    assert.match(e.message, /wrong region/);
  });
  const right = api.createClient({ region: 'eu', ...EU, fetch: routed });
  assert.equal((await right.availability()).up, true);
});

test('RateLimitedError keeps Retry-After; a wait over 60 s is not retried', async () => {
  await emu.fault({ path: '/claim/verify/token', kind: 'status', status: 429, headers: { 'Retry-After': '120' } });
  const c = client();
  await rejects(c.verifyToken({ resource: 'Login', userId: 'someone' }), api.RateLimitedError, (e) => {
    assert.equal(e.status, 429);
    assert.equal(e.retryAfterMs, 120_000);
  });
  assert.equal(await emu.count('/claim/verify/token'), 1);
});

test('429 with Retry-After: 1 is retried after the wait', async () => {
  const userId = await enrolled(client());
  await emu.control('DELETE', '/requests');
  await emu.fault({ path: '/claim/verify/token', kind: 'status', status: 429, headers: { 'Retry-After': '1' } });
  const started = Date.now();
  const claim = await client().verifyToken({ resource: 'Login', userId });
  assert.ok(claim.token);
  assert.ok(Date.now() - started >= 950, 'waited for Retry-After');
  assert.equal(await emu.count('/claim/verify/token'), 2);
});

test('InvalidTokenError: unknown token, and a second validate', async () => {
  const c = client();
  const userId = await enrolled(c);
  await rejects(
    c.verifyValidate({ userId, token: 'a'.repeat(64), client: 'node-test' }),
    api.InvalidTokenError,
    (e) => assert.equal(e.status, 400),
  );
  const claim = await c.verifyToken({ resource: 'Login', userId });
  await emu.complete(claim.token);
  await c.verifyValidate({ userId, token: claim.token, client: 'node-test' });
  await rejects(c.verifyValidate({ userId, token: claim.token, client: 'node-test' }), api.InvalidTokenError);
});

test('OAuthError: wrong OAuth password', async () => {
  const c = client({ oauth: { username: EU.oauth.username, password: 'wrong-password' } });
  const e = await rejects(c.getUser({ userId: 'someone' }), api.OAuthError);
  assert.ok(e instanceof api.ApiError);
  assert.ok(!inspect(e).includes('wrong-password'));
  assert.equal(await emu.count('/users/someone'), 0, 'no users call without a token');
});

test('ServerError: a 5xx for an operation that is never repeated', async () => {
  await emu.fault({ path: '/claim/enrol/image', kind: 'status', status: 503 });
  const c = client();
  const claim = await c.enrolToken({ resource: 'Photo', userId: 'photo-user' });
  await rejects(c.enrolImage({ token: claim.token, source: 'eid', image: PNG }), api.ServerError, (e) => {
    assert.equal(e.status, 503);
  });
  assert.equal(await emu.count('/claim/enrol/image'), 1);
});

test('5xx on a token request is retried', async () => {
  const c = client();
  const userId = await enrolled(c);
  await emu.control('DELETE', '/requests');
  await emu.fault({ path: '/claim/verify/token', kind: 'status', status: 503 });
  assert.ok((await c.verifyToken({ resource: 'Login', userId })).token);
  assert.equal(await emu.count('/claim/verify/token'), 2);
});

test('ApiError: other iProov errors, e.g. already_enrolled', async () => {
  const c = client();
  const userId = await enrolled(c);
  await rejects(c.enrolToken({ resource: 'Login', userId }), api.ApiError, (e) => {
    assert.equal(e.code, 'already_enrolled');
    assert.equal(e.kind, 'api');
    assert.ok(!(e instanceof api.InvalidKeyError));
  });
});

test('HTML 502: retried for a token request; DecodeError when it persists', async () => {
  const c = client();
  const userId = await enrolled(c);
  await emu.control('DELETE', '/requests');
  const html = '<html><body><h1>502 Bad Gateway</h1></body></html>';
  await emu.fault({ path: '/claim/verify/token', kind: 'status', status: 502, html });
  assert.ok((await c.verifyToken({ resource: 'Login', userId })).token);
  assert.equal(await emu.count('/claim/verify/token'), 2);

  await emu.fault({ path: '/claim/verify/token', kind: 'status', status: 502, html, times: 3 });
  await rejects(c.verifyToken({ resource: 'Login', userId }), api.DecodeError, (e) => {
    assert.equal(e.status, 502);
  });
  assert.equal(await emu.count('/claim/verify/token'), 5, '2 + 3 attempts (maxRetries 2)');
});

test('retryPolicy.maxRetries holds when maxRetries is not given beside it; maxRetries wins when it is', async () => {
  for (const [options, sent] of [[{ retryPolicy: { ...FAST, maxRetries: 0 } }, 1], [{ retryPolicy: { ...FAST, maxRetries: 0 }, maxRetries: 1 }, 2]]) {
    const c = client(options);
    const userId = await enrolled(c);
    await emu.control('DELETE', '/requests');
    await emu.fault({ path: '/claim/verify/token', kind: 'status', status: 503, times: 5 });
    await rejects(c.verifyToken({ resource: 'Login', userId }), api.ServerError);
    assert.equal(await emu.count('/claim/verify/token'), sent, JSON.stringify(options));
    await emu.control('DELETE', '/faults');
  }
});

test('connection reset: an idempotent call is retried', async () => {
  const c = client();
  const userId = await enrolled(c);
  await c.getUser({ userId });
  await emu.control('DELETE', '/requests');
  await emu.fault({ path: `/users/${userId}`, method: 'GET', kind: 'reset' });
  assert.equal((await c.getUser({ userId })).status, 'active');
  assert.equal(await emu.count(`/users/${userId}`, 'GET'), 2);
});

test('a body cut short is a transport failure, retried for a token request', async () => {
  const c = client();
  const userId = await enrolled(c);
  await emu.control('DELETE', '/requests');
  await emu.fault({ path: '/claim/verify/token', kind: 'cut' });
  assert.ok((await c.verifyToken({ resource: 'Login', userId })).token);
  assert.equal(await emu.count('/claim/verify/token'), 2);
});

test('reset after validate ran: OutcomeUnknownError and never a second validate', async () => {
  const c = client();
  const userId = await enrolled(c);
  const claim = await c.verifyToken({ resource: 'Login', userId });
  await emu.complete(claim.token);
  await emu.control('DELETE', '/requests');
  await emu.fault({ path: '/claim/verify/validate', kind: 'reset', after_handler: true });
  await rejects(c.verifyValidate({ userId, token: claim.token, client: 'node-test' }), api.OutcomeUnknownError, (e) => {
    assert.match(e.message, /do not call validate again/);
    assert.equal(e.operation, 'verify_validate');
  });
  assert.equal(await emu.count('/claim/verify/validate'), 1);
  const state = await emu.control('GET', `/claims/${claim.token}`);
  assert.equal(state.status.state, 'validated', 'iProov did validate: the answer was lost');
});

test('validate timeout: OutcomeUnknownError, and the emulator saw exactly one validate', async () => {
  const setup = client();
  const userId = await enrolled(setup);
  const claim = await setup.verifyToken({ resource: 'Login', userId });
  await emu.complete(claim.token);
  await emu.control('DELETE', '/requests');
  // A deadline every normal answer meets however loaded the machine (the validate must have
  // been sent), and an answer held far past it.
  await emu.fault({ path: '/claim/verify/validate', kind: 'delay', delay_ms: 30_000 });
  const c = client({ timeoutMs: 2_000 });
  await rejects(c.verifyValidate({ userId, token: claim.token, client: 'node-test' }), api.OutcomeUnknownError, (e) => {
    assert.match(e.message, /do not call validate again/);
  });
  // The client gave up before the delayed validate was answered; wait until it has reached the
  // emulator (on a loaded machine it may arrive after the client's deadline).
  const deadline = Date.now() + 30_000;
  while ((await emu.count('/claim/verify/validate')) === 0) {
    assert.ok(Date.now() < deadline, 'the validate never reached the emulator');
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.equal(await emu.count('/claim/verify/validate'), 1);
  assert.equal((await emu.control('GET', '/requests')).total, 1, 'nothing else was sent either');
});

test('a 5xx answer to validate is OutcomeUnknownError too, never repeated', async () => {
  const c = client();
  const userId = await enrolled(c);
  const claim = await c.verifyToken({ resource: 'Login', userId });
  await emu.complete(claim.token);
  await emu.control('DELETE', '/requests');
  await emu.fault({ path: '/claim/verify/validate', kind: 'status', status: 503 });
  await rejects(c.verifyValidate({ userId, token: claim.token, client: 'node-test' }), api.OutcomeUnknownError);
  assert.equal(await emu.count('/claim/verify/validate'), 1);
});

test('TimeoutError: no answer in time (retries exhausted)', async () => {
  // Held at the emulator until released: no answer however slow the machine is.
  await emu.fault({ path: '/claim/verify/token', kind: 'delay', hold: true, times: 2 });
  const c = client({ timeoutMs: 150, maxRetries: 1 });
  await rejects(c.verifyToken({ resource: 'Login', userId: 'someone' }), api.TimeoutError, (e) => {
    assert.equal(e.code, 'timeout');
    assert.ok(e instanceof api.TransportError);
  });
  await emu.release();
});

test('ConnectionError: nothing listens (retried, then given up)', async () => {
  const seen = [];
  const fetchSpy = (url, init) => {
    seen.push(url);
    return fetch(url, init);
  };
  const port = await closedPort();
  const c = api.createClient({ baseUrl: `http://127.0.0.1:${port}/eu`, ...EU, fetch: fetchSpy, retryPolicy: FAST });
  await rejects(c.verifyToken({ resource: 'Login', userId: 'someone' }), api.ConnectionError, (e) => {
    assert.equal(e.code, 'connection_error');
  });
  assert.equal(seen.length, 3, 'the passed-in fetch was used; 1 + 2 retries');
  // a validate that was never sent may be retried too (failed before sending)
  seen.length = 0;
  await rejects(c.verifyValidate({ userId: 'someone', token: 'a'.repeat(64), client: 'x' }), api.ConnectionError);
  assert.equal(seen.length, 3);
});

test('InvalidStateError: a journey driven out of order', () => {
  const journey = new api.Journey({ userId: 'someone', flow: 'verify' });
  assert.throws(() => journey.validated('t'.repeat(64), { passed: true }, Date.now()), api.InvalidStateError);
});

test('OAuth tokens are reused within the policy and renewed after a rejection', async () => {
  const c = client({ tokenPolicy: { maxUses: 2 } });
  const userId = await enrolled(c);
  for (let i = 0; i < 5; i++) assert.equal((await c.getUser({ userId })).status, 'active');
  assert.equal(await emu.count('/access_token', 'POST'), 3, '5 calls, 2 uses per token');

  // The emulator expires the token early (its clock jumps); the next call is refused with
  // 401 invalid_oauth, core drops the token, and the call succeeds with a new one.
  await emu.reset();
  const d = client();
  const other = await enrolled(d);
  await d.getUser({ userId: other });
  await emu.control('POST', '/clock/advance', { seconds: 3_700 });
  assert.equal((await d.getUser({ userId: other })).status, 'active');
  assert.equal(await emu.count('/access_token', 'POST'), 2);
  assert.equal(await emu.count(`/users/${other}`, 'GET'), 3);
});

test('a caller AbortSignal ends the call as AbortedError naming its reason, with an audit record', async () => {
  await emu.fault({ path: '/claim/verify/token', kind: 'delay', hold: true }); // answered only once released
  const records = [];
  const controller = new AbortController();
  const pending = client({ audit: (r) => records.push(r) }).verifyToken({ resource: 'Login', userId: 'someone' }, { signal: controller.signal });
  setTimeout(() => controller.abort(new Error('caller gave up')), 50);
  await rejects(pending, api.AbortedError, (e) => {
    assert.equal(e.code, 'aborted');
    assert.match(e.message, /caller gave up/);
    assert.ok(e instanceof api.TransportError);
  });
  assert.deepEqual(records.map((r) => [r.operation, r.outcome, r.error?.code]), [['verify_token', 'error', 'aborted']]);
  await emu.release();
  // aborted before anything is sent: nothing goes out
  await emu.control('DELETE', '/requests');
  await rejects(client().verifyToken({ resource: 'Login', userId: 'someone' }, { signal: AbortSignal.abort() }), api.AbortedError);
  assert.equal((await emu.control('GET', '/requests')).total, 0);
});

test('a caller abort during a backoff ends the call at once, not after the sleep', async () => {
  // 60 s: the longest Retry-After the default policy waits for rather than giving up.
  await emu.fault({ path: '/claim/verify/token', kind: 'status', status: 429, headers: { 'Retry-After': '60' } });
  const controller = new AbortController();
  const started = Date.now();
  const pending = client().verifyToken({ resource: 'Login', userId: 'someone' }, { signal: controller.signal });
  setTimeout(() => controller.abort(new Error('caller gave up')), 150);
  await rejects(pending, api.AbortedError, (e) => assert.match(e.message, /caller gave up/));
  assert.ok(Date.now() - started < 30_000, 'not after the 60 s Retry-After');
  assert.equal(await emu.count('/claim/verify/token'), 1);
});

test('a call option the client does not take is refused, not ignored', async () => {
  await assert.rejects(client().availability({}, { timeoutMs: 100 }), (e) => e instanceof TypeError && /timeoutMs/.test(e.message));
  assert.equal((await emu.control('GET', '/requests')).total, 0);
});

test('an invalid timeout is refused when the client is made', () => {
  for (const timeoutMs of [0, -1, 600_001, 1.5, 'soon']) {
    assert.throws(() => client({ timeoutMs }), (e) => e instanceof api.InvalidInputError, String(timeoutMs));
  }
  assert.throws(() => client({ tokenPolicy: { maxUses: 0 } }), api.InvalidInputError);
});

test('an audit hook that throws is logged and never replaces the outcome', async () => {
  const logged = [];
  const logger = { error: (...args) => logged.push(args) };
  const c = client({ audit: () => { throw new Error('hook broke'); }, logger });
  const userId = api.randomUserId();
  const claim = await c.enrolToken({ resource: 'Login', userId });
  await emu.complete(claim.token);
  const result = await c.enrolValidate({ userId, token: claim.token, client: 'node-test' });
  assert.equal(result.passed, true, 'validate consumed the token and its result is returned');
  await rejects(c.enrolValidate({ userId, token: claim.token, client: 'node-test' }), api.InvalidTokenError);
  const rejecting = client({ audit: async () => { throw new Error('async hook broke'); }, logger });
  assert.ok((await rejecting.availability()).up);
  // The async hook's rejection is logged once it settles, after the call returned.
  for (const deadline = Date.now() + 30_000; logged.length < 4 && Date.now() < deadline;) await new Promise((r) => setTimeout(r, 5));
  assert.equal(logged.length, 4);
  assert.match(String(logged[0][0]), /audit hook threw/);
  assert.equal(logged[3][1].message, 'async hook broke');
});

test('secrets never show in inspect or JSON of client, config, request, errors, token manager', async () => {
  const c = client();
  const userId = await enrolled(c);
  await c.getUser({ userId });
  const token = (await emu.control('GET', '/state')).access_tokens[0].access_token;
  const secrets = [EU.secret, EU.oauth.password, token];
  const config = new api.Config({ baseUrl: emu.region('eu'), ...EU, accessToken: token });
  const request = api.build('get_user', config, { user_id: userId });
  const service = api.build('verify_token', config, { resource: 'x', user_id: userId });
  const manager = new api.TokenManager(config);
  const prepared = manager.prepare('get_user', { user_id: userId });
  const shown = [
    inspect(c, { depth: 9 }),
    JSON.stringify(c),
    inspect(config, { depth: 9 }),
    JSON.stringify(config),
    `${new api.Secret(EU.secret)}`,
    inspect(new api.Secret(EU.secret)),
    JSON.stringify({ s: new api.Secret(EU.secret) }),
    inspect(request, { depth: 9 }),
    JSON.stringify(request),
    inspect(service, { depth: 9 }),
    JSON.stringify(service),
    inspect(prepared, { depth: 9 }),
    JSON.stringify(prepared),
    inspect(manager, { depth: 9 }),
    JSON.stringify(manager),
  ].join('\n');
  for (const secret of secrets) assert.ok(!shown.includes(secret), `leaked ${secret.slice(0, 6)}...:\n${shown}`);
  assert.match(shown, /\[REDACTED\]/);
  // the request itself still carries what must go on the wire
  assert.equal(request.header('authorization'), `Bearer ${token}`);
  assert.ok(service.bodyText.includes(EU.secret));
});

test('a verify journey with audit records: failed, then passed, against the emulator', async () => {
  const c = client();
  const userId = await enrolled(c);
  const journey = new api.Journey({ userId, flow: 'verify' });
  const records = [];
  for (const passed of [false, true]) {
    const next = journey.next();
    assert.equal(next.next, 'start_attempt');
    const claim = await c.verifyToken({ resource: 'Login', userId });
    journey.tokenIssued(claim);
    records.push(api.auditRecord({ operation: 'verify_token', userId, token: claim.token, attempt: next.attempt, result: claim }));
    await emu.complete(claim.token, passed ? { passed: true } : { passed: false, reason: 'too_much_movement' });
    const result = await c.verifyValidate({ userId, token: claim.token, client: 'node-test' });
    const after = journey.validated(claim.token, result);
    records.push(api.auditRecord({ operation: 'verify_validate', userId, token: claim.token, attempt: next.attempt, result }));
    assert.equal(after.next, passed ? 'done' : 'start_attempt');
  }
  assert.deepEqual(records.map((r) => r.outcome), ['token_issued', 'failed', 'token_issued', 'passed']);
  const text = JSON.stringify(records) + JSON.stringify(journey);
  assert.ok(!text.includes(EU.secret));
  const restored = api.Journey.fromJSON(JSON.parse(JSON.stringify(journey)));
  assert.equal(restored.next().next, 'done');
});

test('the audit option receives core\'s record of every call, results and errors, without secrets', async () => {
  const records = [];
  const c = api.createClient({ baseUrl: emu.region('eu'), ...EU, audit: (record) => records.push(record) });
  const userId = api.randomUserId();
  const claim = await c.enrolToken({ resource: 'Login', userId });
  await assert.rejects(c.verifyValidate({ userId, token: claim.token, client: 'node-test' }), api.InvalidTokenError);
  await c.getUser({ userId }).catch(() => {});
  assert.deepEqual(
    records.map((r) => [r.operation, r.outcome]),
    [
      ['enrol_token', 'token_issued'],
      ['verify_validate', 'error'],
      ['access_token', 'token_obtained'],
      ['get_user', 'error'],
    ],
  );
  assert.equal(records[0].user_id, userId);
  assert.equal(records[1].error.code, 'invalid_token');
  assert.equal(records[3].error.code, 'invalid_user_id');
  const text = JSON.stringify(records);
  for (const secret of [EU.secret, EU.oauth.password]) assert.ok(!text.includes(secret));
});

test('a gzip bomb stops at core\'s cap, counted in decompressed bytes (body_too_large)', async () => {
  const { createServer: createHttpServer } = await import('node:http');
  const { gzipSync } = await import('node:zlib');
  const bomb = gzipSync(Buffer.alloc(40 * 1024 * 1024, 0x20)); // 40 MiB of spaces, ~40 KB on the wire
  let served = 0;
  const server = createHttpServer((req, res) => {
    served += 1;
    res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip', 'content-length': bomb.length });
    res.end(bomb);
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  try {
    const c = api.createClient({ baseUrl: `http://127.0.0.1:${server.address().port}/eu`, ...EU, retryPolicy: FAST });
    await rejects(c.availability(), api.DecodeError, (e) => assert.equal(e.code, 'body_too_large'));
    assert.ok(bomb.length < api.MAX_BODY_BYTES, 'the cap is on the decompressed bytes');
    assert.equal(served, 1);
  } finally {
    server.close();
  }
});
