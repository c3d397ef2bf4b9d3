// configFromEnv and createClient without a target: the IPROOV_* variables read by core's rules
// (JsonConfig::from_env, as Python's config_from_env), from the env given (a worker's
// bindings) or, in the Node package, process.env; a client from them reaches the emulator.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { api } from './impl.mjs';
import { startEmulator, EU } from './emulator.mjs';

const KEY = '0123456789abcdefghij0123456789abcdefghij';
const SECRET = 'sec-s3cr3t-value-from-env';

let emu;
before(async () => {
  emu = await startEmulator();
});
after(async () => {
  await emu?.stop();
});

test("each field not given comes from its variable; the target from the options when they name one, else from the variables", () => {
  const env = { IPROOV_REGION: 'us', IPROOV_API_KEY: KEY, IPROOV_SECRET: SECRET, IPROOV_OAUTH_USERNAME: 'env-user', IPROOV_OAUTH_PASSWORD: 'env-pass' };
  const fromEnv = api.configFromEnv({}, env);
  assert.ok(fromEnv instanceof api.Config);
  assert.equal(fromEnv.region, 'us');
  assert.equal(fromEnv.apiKey, KEY);
  assert.equal(fromEnv.oauthUsername, 'env-user');
  assert.equal(fromEnv.streamingUrl, 'wss://us.rp.secure.iproov.me/ws');
  // The options' target wins whole: a base URL given is never mixed with the variables' region.
  const tenant = api.configFromEnv({ baseUrl: 'https://tenant.example.com' }, env);
  assert.equal(tenant.region, undefined);
  assert.equal(tenant.baseUrl, 'https://tenant.example.com/api/v2');
  assert.equal(tenant.streamingUrl, 'wss://tenant.example.com/ws');
  assert.equal(tenant.apiKey, KEY, 'the credentials still from the variables');
  // A field given beats its variable (camelCase or snake_case); an empty variable is unset.
  const given = api.configFromEnv({ api_key: 'k'.repeat(40), oauth: { username: 'mine', password: 'p' } }, { ...env, IPROOV_REGION: '', IPROOV_BASE_URL: emu.region('eu') });
  assert.equal(given.apiKey, 'k'.repeat(40));
  assert.equal(given.oauthUsername, 'mine');
  assert.equal(given.baseUrl, `${emu.region('eu')}/api/v2`);
  // Only the variables core reads, and only strings (a worker's env holds other bindings).
  const worker = api.configFromEnv({}, { IPROOV_REGION: 'sg', JOURNEYS: { idFromName() {} }, IPROOV_API_KEY: 7 });
  assert.equal(worker.region, 'sg');
  assert.equal(worker.apiKey, undefined);
  // No target anywhere: core's error, naming the field.
  assert.throws(() => api.configFromEnv({}, {}), (e) => e instanceof api.InvalidInputError && e.field === 'region');
  assert.throws(() => api.configFromEnv({}, { IPROOV_REGION: 'mars' }), api.InvalidInputError);
  assert.throws(() => api.configFromEnv({}, 'IPROOV_REGION=eu'), TypeError);
  // The secrets read from the environment show as [REDACTED], never in clear.
  for (const shown of [inspect(fromEnv), JSON.stringify(fromEnv), String(fromEnv)]) {
    assert.ok(!shown.includes(SECRET) && !shown.includes('env-pass'), shown);
  }
  assert.equal(fromEnv.toJSON().secret, '[REDACTED]');
  assert.equal(fromEnv.toJSON().oauthPassword, '[REDACTED]');
});

test('createClient: no target named, the config from the environment (env given); a target named wins, and credentials not given come from the environment (as Python)', async () => {
  const env = { IPROOV_BASE_URL: emu.region('eu'), IPROOV_API_KEY: EU.apiKey, IPROOV_SECRET: EU.secret };
  const client = api.createClient({ env, timeoutMs: 10_000, maxRetries: 0 });
  assert.equal(client.config.baseUrl, `${emu.region('eu')}/api/v2`);
  assert.deepEqual(client.toJSON().options, { retry: { max_retries: 0 }, token: {}, timeout_ms: 10_000 });
  const claim = await client.enrolToken({ resource: 'Login', userId: api.randomUserId() });
  assert.equal(typeof claim.token, 'string');
  // Named: the target is the options' (not the environment's base URL), the key the environment's.
  const named = api.createClient({ region: 'eu', env });
  assert.equal(named.config.apiKey, EU.apiKey);
  assert.equal(named.config.region, 'eu');
  assert.equal(api.createClient({ region: 'eu', apiKey: 'k'.repeat(40), env }).config.apiKey, 'k'.repeat(40));
  // A whole Config, and the options beside it are the client's; fields beside it are refused.
  const made = api.createClient({ config: api.configFromEnv({}, env), timeoutMs: 5_000 });
  assert.equal(made.config.apiKey, EU.apiKey);
  assert.throws(() => api.createClient({ config: api.configFromEnv({}, env), apiKey: KEY }), TypeError);
  assert.throws(() => api.createClient({ config: { region: 'eu' } }), TypeError);
  assert.throws(() => api.createClient({ env: {} }), (e) => e instanceof api.InvalidInputError && e.field === 'region');
});

// The Node package reads process.env (the edge package has none to fall back on: a worker
// passes its bindings).
// The Node package's own entry only: not made when another implementation runs this suite.
if (!process.env.IPROOV_JS_IMPL) test('the Node package: createClient() and configFromEnv() read process.env', () => {
  const script = `
    const { createClient, configFromEnv } = require(${JSON.stringify(fileURLToPath(new URL('../index.cjs', import.meta.url)))});
    const client = createClient();
    console.log(JSON.stringify([client.config.baseUrl, client.config.apiKey, configFromEnv({ region: 'au' }).region, configFromEnv().apiKey]));
  `;
  const env = { ...process.env, IPROOV_BASE_URL: emu.region('eu'), IPROOV_API_KEY: EU.apiKey, IPROOV_SECRET: EU.secret };
  delete env.IPROOV_REGION;
  const out = JSON.parse(execFileSync(process.execPath, ['-e', script], { env }).toString());
  assert.deepEqual(out, [`${emu.region('eu')}/api/v2`, EU.apiKey, 'au', EU.apiKey]);
});
