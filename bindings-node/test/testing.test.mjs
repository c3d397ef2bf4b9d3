// `iproov-sansio/testing` (the package's own export, ESM and CJS) against the emulator binary
// (IPROOV_EMULATOR_BIN: here target/debug's, as the npm package iproov-emulator is not
// installed in this checkout). API requests are real HTTP (fetch).
import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { emulatorBinary } from './emulator.mjs';

process.env.IPROOV_EMULATOR_BIN ??= emulatorBinary();
const { startEmulator, Emulator, EmulatorError, findBinary, realIproovTarget } = await import('iproov-sansio/testing');
const require = createRequire(import.meta.url);
const cjs = require('iproov-sansio/testing');

let emu;
before(async () => {
  emu = await startEmulator();
});
after(async () => {
  await emu?.stop();
});
beforeEach(() => emu.reset());

async function post(path, body, region = 'eu') {
  return fetch(`${emu.baseUrl(region)}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}

async function token(userId = 'user-1', kind = 'enrol') {
  const sp = await emu.credentials('eu');
  const response = await post(`/claim/${kind}/token`, { api_key: sp.apiKey, secret: sp.secret, resource: 't', user_id: userId });
  assert.equal(response.status, 200, await response.clone().text());
  return (await response.json()).token;
}

async function validate(claim, userId = 'user-1') {
  const sp = await emu.credentials('eu');
  return (await post('/claim/enrol/validate', { api_key: sp.apiKey, secret: sp.secret, user_id: userId, token: claim, client: 't' })).json();
}

test('ESM and CJS are one module, and the binary is IPROOV_EMULATOR_BIN', () => {
  assert.equal(cjs.Emulator, Emulator);
  assert.equal(cjs.EmulatorError, EmulatorError);
  assert.equal(findBinary(), process.env.IPROOV_EMULATOR_BIN);
  assert.ok(emu instanceof Emulator);
});

test('credentials and base URLs come from the emulator', async () => {
  const eu = await emu.credentials('eu');
  assert.equal(eu.name, 'eu-default');
  assert.equal(eu.oauth.username, 'eu-default-oauth');
  assert.equal((await emu.credentials('eu', { name: 'eu-risk' })).apiKey.slice(0, 9), 'euriskkey');
  assert.equal(emu.baseUrl('us'), `${emu.url}/us/api/v2`);
  await assert.rejects(emu.credentials('mars'), { name: 'EmulatorError', code: 'unknown_service_provider' });
});

test('completeClaim passes and fails a claim', async () => {
  const passed = await token('user-1');
  await emu.completeClaim(passed);
  assert.equal((await validate(passed, 'user-1')).passed, true);
  const failed = await token('user-2');
  await emu.completeClaim(failed, { passed: false, reason: 'ambiguous_outcome' });
  const answer = await validate(failed, 'user-2');
  assert.deepEqual([answer.passed, answer.reason], [false, 'ambiguous_outcome']);
});

test('a refused control call is an EmulatorError with fields', async () => {
  const error = await emu.completeClaim('0'.repeat(64)).catch((e) => e);
  assert.ok(error instanceof EmulatorError);
  assert.deepEqual([error.code, error.status, error.method], ['unknown_claim', 404, 'POST']);
});

test('addUser enrols a user for verify', async () => {
  await emu.addUser('known-user');
  assert.match(await token('known-user', 'verify'), /^[0-9a-f]{64}$/);
});

test('faults: status, delay, reset, clear; request counts', async () => {
  const { apiKey } = await emu.credentials('eu');
  const availability = () => fetch(`${emu.baseUrl('eu')}/availability?api_key=${apiKey}`);
  await emu.injectFault({ path: '/availability', status: 503, times: 2 });
  const statuses = [];
  for (let i = 0; i < 3; i += 1) statuses.push((await availability()).status);
  assert.deepEqual(statuses, [503, 503, 200]);
  await emu.injectFault({ path: '/availability', delay_ms: 300 });
  const started = performance.now();
  assert.equal((await availability()).status, 200);
  assert.ok(performance.now() - started >= 300);
  await emu.injectFault({ path: '/availability', reset: true });
  await assert.rejects(availability(), TypeError);
  await emu.injectFault({ path: '/availability', status: 500 });
  await emu.clearFaults();
  assert.equal((await availability()).status, 200);
  assert.equal(await emu.requestCount('/availability', { method: 'GET' }), 6);
  assert.equal(await emu.requestCount(), 6);
});

test('a held request waits until releaseHeld()', async () => {
  const { apiKey } = await emu.credentials('eu');
  await emu.injectFault({ path: '/availability', hold: true });
  let answered = false;
  const pending = fetch(`${emu.baseUrl('eu')}/availability?api_key=${apiKey}`).finally(() => (answered = true));
  for (const deadline = Date.now() + 30_000; (await emu.heldCount()) === 0; await new Promise((done) => setTimeout(done, 20))) {
    assert.ok(Date.now() < deadline, 'the request was never held');
  }
  // A control call is answered while the API call is held.
  assert.equal(answered, false);
  assert.equal(await emu.releaseHeld(), 1);
  assert.equal((await pending).status, 200);
  assert.equal(await emu.heldCount(), 0);
});

test('setRateLimit, markDown and markUp', async () => {
  await emu.setRateLimit(1);
  await token('user-1');
  const sp = await emu.credentials('eu');
  const second = await post('/claim/enrol/token', { api_key: sp.apiKey, secret: sp.secret, resource: 't', user_id: 'user-2' });
  assert.equal(second.status, 429);
  await emu.setRateLimit(null);
  await emu.markDown();
  const down = await post('/claim/enrol/token', { api_key: sp.apiKey, secret: sp.secret, resource: 't', user_id: 'user-3' });
  assert.deepEqual([down.status, (await down.json()).error], [500, 'server_error']);
  await emu.markUp();
  await token('user-4');
});

test('advanceClock expires a claim', async () => {
  const claim = await token();
  assert.equal((await emu.advanceClock(121)).offset_secs, 121);
  await assert.rejects(emu.completeClaim(claim), { code: 'claim_expired', status: 409 });
});

test('presets are listed and loaded; an unknown one is refused; reset clears one', async () => {
  const names = new Set((await emu.presets()).map((p) => p.name));
  for (const name of ['pass', 'fail', 'rate_limited', 'outage', 'region_mismatch', 'slow_network']) assert.ok(names.has(name), name);
  assert.equal((await emu.loadPreset('fail', { reason: 'too_much_movement' })).preset, 'fail');
  const answer = await validate(await token());
  assert.deepEqual([answer.passed, answer.reason], [false, 'too_much_movement']);
  await assert.rejects(emu.loadPreset('no-such-preset'), { code: 'invalid_request', status: 400 });
  await emu.reset();
  await emu.completeClaim(await token('user-2'), { passed: true });
});

test('a start failure carries the emulator stderr; a missing binary is named', async () => {
  await assert.rejects(startEmulator({ args: ['--no-such-flag'] }), (error) => {
    assert.equal(error.code, 'start_failed');
    assert.match(error.stderr, /unknown argument --no-such-flag/);
    return true;
  });
  await assert.rejects(startEmulator({ binary: '/nonexistent/iproov-emulator' }), { code: 'start_failed' });
  const saved = process.env.IPROOV_EMULATOR_BIN;
  process.env.IPROOV_EMULATOR_BIN = '/nonexistent/iproov-emulator';
  try {
    assert.throws(() => findBinary(), { code: 'binary_not_found' });
    process.env.IPROOV_EMULATOR_BIN = tmpdir(); // a folder is executable, but no binary
    assert.throws(() => findBinary(), { code: 'binary_not_found' });
  } finally {
    process.env.IPROOV_EMULATOR_BIN = saved;
  }
});

test('stop ends the process; a stopped emulator is unreachable', async () => {
  const other = await startEmulator({ config: { service_providers: [] } });
  assert.deepEqual(await other.serviceProviders(), []);
  await other.stop();
  await assert.rejects(other.reset(), { code: 'unreachable' });
  await other.stop(); // idempotent
});

test('an emulator a script forgot to stop neither keeps Node alive nor outlives it', async () => {
  const script = `
    const { startEmulator } = require(${JSON.stringify(require.resolve('iproov-sansio/testing'))});
    startEmulator().then((emu) => console.log(emu._child.pid));
  `;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d) => {
    out += d;
  });
  const code = await new Promise((resolve) => child.once('exit', resolve));
  assert.equal(code, 0);
  const pid = Number(out.trim());
  assert.ok(pid > 0, out);
  // Gone, or a zombie until its new parent reaps it.
  const gone = () => {
    try {
      return /^\d+ \(.*\) [ZX] /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
    } catch {
      return true;
    }
  };
  // Polled for up to 30 s: it dies when its parent does, however long a loaded machine takes.
  for (let i = 0; i < 600 && !gone(); i += 1) await new Promise((resolve) => setTimeout(resolve, 50));
  assert.ok(gone(), `the emulator (pid ${pid}) outlived the Node process that started it`);
});

// Credentials the emulator never heard of (a real one sent by mistake): masked by where they are.
const PLANTED = {
  pathKey: 'plantedpathkey000000000000000000000000001',
  queryKey: 'plantedquerykey00000000000000000000000002',
  jsonSecret: 'planted-json-secret-0003',
  formSecret: 'planted-form-client-secret-0004',
  formPassword: 'planted form password 0005',
  basicPassword: 'planted-basic-password-0006',
  bearer: 'plantedbearertoken0007',
  multipartSecret: 'planted-multipart-secret-0008',
};

function encodings(secret) {
  return [
    secret,
    encodeURIComponent(secret),
    new URLSearchParams({ x: secret }).toString().slice(2),
    Buffer.from(secret).toString('base64'),
    Buffer.from(`someone:${secret}`).toString('base64'),
    JSON.stringify(secret),
  ];
}

/** The emulator's request log lines (its stderr) of the requests numbered `seqs`. */
async function logLines(emulator, seqs) {
  for (let i = 0; i < 1000; i += 1) {
    // Polled for up to 10 s: a thread of the emulator writes them.
    const lines = emulator.stderr.split('\n');
    const found = seqs.map((seq) => lines.find((line) => line.startsWith(`journal #${seq} `)));
    if (found.every(Boolean)) return found;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`no request log line for each of ${seqs}: ${emulator.stderr}`);
}

test('the request journal and its log mask every credential', async () => {
  const base = emu.baseUrl('eu');
  const sp = await emu.credentials('eu');
  const mark = await emu.journalMark();
  const basic = Buffer.from(`someone:${PLANTED.basicPassword}`).toString('base64');
  await fetch(`${base}/${PLANTED.pathKey}/access_token`, {
    method: 'POST',
    headers: { authorization: `Basic ${basic}` },
    body: new URLSearchParams({ grant_type: 'password', password: PLANTED.formPassword, client_secret: PLANTED.formSecret }),
  });
  await fetch(`${base}/availability?api_key=${PLANTED.queryKey}`);
  await post('/claim/enrol/token', { api_key: sp.apiKey, secret: PLANTED.jsonSecret, resource: 'r', user_id: 'u' });
  await fetch(`${base}/users/u`, { headers: { authorization: `Bearer ${PLANTED.bearer}` } });
  const form = new FormData();
  form.set('api_key', sp.apiKey);
  form.set('secret', PLANTED.multipartSecret);
  form.set('rotation', '0');
  const image = new Uint8Array(60_008);
  image.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  form.set('image', new Blob([image], { type: 'image/png' }), 'face.png');
  await fetch(`${base}/claim/enrol/image`, { method: 'POST', body: form });
  const claim = await token('user-1'); // the emulator's own credentials, sent as they should be

  const sent = await emu.requests({ since: mark });
  assert.equal(sent.length, 6);
  const logged = (await logLines(emu, [1, 2, 3, 4, 5, 6].map((n) => mark + n))).join('\n');
  for (const [where, text] of [['journal', JSON.stringify(sent)], ['log', logged]]) {
    for (const secret of [...Object.values(PLANTED), sp.apiKey, sp.secret]) {
      for (const form of encodings(secret)) assert.ok(!text.includes(form), `the ${where} shows ${form}`);
    }
  }
  assert.match(sent[0].path, /\/\*\*\*\/access_token$/);
  assert.equal(sent[0].headers.authorization, 'Basic ***');
  assert.deepEqual(sent[0].form, { grant_type: 'password', password: '***', client_secret: '***' });
  assert.equal(sent[1].query, 'api_key=***');
  assert.deepEqual([sent[2].json.secret, sent[2].json.resource], ['***', 'r']);
  assert.equal(sent[3].headers.authorization, 'Bearer ***');
  const part = sent[4].multipart.find((p) => p.name === 'image');
  assert.deepEqual([part.bytes, part.sha256.length, part.value], [60_008, 64, undefined]);
  assert.ok(JSON.stringify(sent[4]).length < 2048, 'a 60 KB image costs its length and digest');
  assert.deepEqual([sent[5].json.user_id, sent[5].service_provider], ['user-1', 'eu-default']);
  assert.match(claim, /^[0-9a-f]{64}$/);
  assert.ok(logged.split('\n')[2].startsWith(`journal #${mark + 3} POST /eu/api/v2/claim/enrol/token (`));
});

test('the request journal filters by path, method and since', async () => {
  assert.deepEqual(await emu.requests(), []);
  const claim = await token('user-1');
  const mark = await emu.journalMark();
  await emu.completeClaim(claim);
  assert.equal((await validate(claim, 'user-1')).passed, true);
  const { apiKey } = await emu.credentials('eu');
  await fetch(`${emu.baseUrl('eu')}/availability?api_key=${apiKey}`);
  const after = await emu.requests({ since: mark });
  assert.deepEqual(
    after.map((r) => [r.method, r.path.split('/').at(-1)]),
    [
      ['POST', 'validate'],
      ['GET', 'availability'],
    ],
  );
  const validates = await emu.requests({ path: '/claim/enrol/validate' });
  assert.deepEqual(
    validates.map((r) => [r.json.token, r.json.client]),
    [[claim, 't']],
  );
  assert.deepEqual(await emu.requests({ path: '/availability', method: 'POST' }), []);
  assert.equal((await emu.requests({ method: 'get' })).length, 1);
  assert.equal(await emu.journalMark(), mark + 2);
  await emu.reset();
  assert.deepEqual(await emu.requests(), []);
  assert.equal(await emu.journalMark(), mark + 2);
});

test('the guard: no emulator, no reset while IPROOV_* point at a real iProov region, unless allowLive', async () => {
  assert.equal(realIproovTarget({}), null);
  assert.equal(realIproovTarget({ IPROOV_REGION: '' }), null);
  assert.equal(realIproovTarget({ IPROOV_BASE_URL: 'http://127.0.0.1:8080/eu/api/v2' }), null);
  assert.equal(realIproovTarget({ IPROOV_BASE_URL: 'https://iproov.me.example.com/api/v2' }), null);
  assert.equal(realIproovTarget({ IPROOV_BASE_URL: 'https://notiproov.me/api/v2' }), null);
  assert.match(realIproovTarget({ IPROOV_REGION: 'us' }), /IPROOV_REGION=us/);
  for (const url of [
    'https://eu.rp.secure.iproov.me/api/v2',
    'https://EU.RP.SECURE.IPROOV.ME./api/v2',
    'eu.rp.secure.iproov.me/api/v2',
    'https://beta.rp.secure.iproov.me',
  ]) {
    assert.match(realIproovTarget({ IPROOV_BASE_URL: url }) ?? '', /IPROOV_BASE_URL/, url);
  }
  const saved = { region: process.env.IPROOV_REGION, base: process.env.IPROOV_BASE_URL };
  const restore = () => {
    for (const [name, value] of [
      ['IPROOV_REGION', saved.region],
      ['IPROOV_BASE_URL', saved.base],
    ]) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  };
  let live;
  try {
    delete process.env.IPROOV_BASE_URL;
    process.env.IPROOV_REGION = 'eu';
    await assert.rejects(startEmulator(), (error) => {
      assert.equal(error.code, 'real_iproov');
      assert.match(error.message, /IPROOV_REGION=eu points iProov's clients at its real eu region/);
      assert.match(error.message, /allowLive: true/);
      return true;
    });
    await assert.rejects(emu.reset(), { code: 'real_iproov' }); // a test's beforeEach
    delete process.env.IPROOV_REGION;
    process.env.IPROOV_BASE_URL = 'https://us.rp.secure.iproov.me/api/v2';
    await assert.rejects(emu.reset(), { code: 'real_iproov' });
    live = await startEmulator({ allowLive: true });
    await live.reset();
    process.env.IPROOV_BASE_URL = emu.baseUrl('eu');
    await emu.reset();
  } finally {
    restore();
    await live?.stop();
  }
});
