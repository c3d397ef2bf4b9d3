// A journey against the emulator from inside workerd, with the package's client over the
// worker's own fetch: enrol, a failed then a passed verify, the users API, the region-mismatch
// 401 with its hint, and an injected fault that the client's retry advice absorbs.
const EU = {
  apiKey: 'eudefaultkey0000000000000000000000000000',
  secret: 'eudefaultsecret0000000000000000000000000',
  oauth: { username: 'eu-default-oauth', password: 'eu-default-oauth-password' },
};

function check(condition, what) {
  if (!condition) throw new Error(`journey: ${what}`);
  console.log(`workerd journey: ok ${what}`);
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

export async function journey(api, emulator) {
  if (!emulator) throw new Error('IPROOV_EMULATOR_URL is not set');
  await control(emulator, 'POST', '/reset');
  const client = api.createClient({ baseUrl: `${emulator}/eu`, ...EU, timeoutMs: 5000 });
  const userId = api.randomUserId();
  const device = 'workerd-test';

  const enrol = await client.enrolToken({ userId, resource: 'workerd journey' });
  await control(emulator, 'POST', `/claims/${enrol.token}/complete`, { passed: true });
  const enrolled = await client.enrolValidate({ userId, token: enrol.token, client: device });
  check(enrolled.passed === true, 'enrol validate passed');

  const first = await client.verifyToken({ userId, resource: 'workerd journey' });
  await control(emulator, 'POST', `/claims/${first.token}/complete`, { passed: false, reason: 'too_much_movement' });
  const failed = await client.verifyValidate({ userId, token: first.token, client: device });
  check(failed.passed === false && failed.reason === 'too_much_movement', 'a failed verify is a result');

  await control(emulator, 'POST', '/faults', { path: '/claim/verify/token', kind: 'status', status: 503, times: 1 });
  const second = await client.verifyToken({ userId, resource: 'workerd journey' });
  check(second.token !== first.token, 'a 503 on verify token was retried with core\'s advice');
  await control(emulator, 'POST', `/claims/${second.token}/complete`, { passed: true });
  const passed = await client.verifyValidate({ userId, token: second.token, client: device });
  check(passed.passed === true, 'the second attempt passed');

  const user = await client.getUser({ userId });
  check(user.status === 'active', 'OAuth token then get user');

  const wrongRegion = api.createClient({ baseUrl: `${emulator}/us`, ...EU, timeoutMs: 5000 });
  let error;
  try {
    await wrongRegion.verifyToken({ userId, resource: 'workerd journey' });
  } catch (e) {
    error = e;
  }
  check(
    error instanceof api.InvalidKeyError && error.status === 401 && /wrong region/.test(error.message),
    'a key used against the wrong region gives 401 invalid_key with the region hint',
  );
}
