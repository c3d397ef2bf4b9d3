// The edge package's test worker, run inside workerd by run.mjs. It imports the package as a
// Worker does (the "workerd" export condition, the .wasm as a precompiled module), runs every
// conformance vector, every client scenario (tests/scenarios) and a journey against the
// emulator through the worker's own fetch, and checks that a trapped instance is replaced.
// Any failure throws: workerd exits non-zero.
import api, { __native } from 'iproov-sansio-edge';
import vectors from './vectors.json';
import scenarios from './scenarios.json';
import { runScenarios } from '../../../bindings-js/test/scenarios.mjs';
import { runFlowVector, runVector } from '../../../bindings-node/test/vector-checks.mjs';
import { journey } from './journey.mjs';
import { journeyStoreTests } from './journeys.mjs';

// The Durable Object class of the journey store's tests (config.capnp declares it, SQL enabled).
export { JourneyStoreTest } from './journeys.mjs';

function runAll() {
  let passed = 0;
  const failures = [];
  for (const { file, name, vector } of vectors) {
    try {
      if (vector.flow !== undefined) runFlowVector(api, vector);
      else runVector(api, vector);
      passed += 1;
    } catch (e) {
      failures.push(`${name} [${file}]: ${e.message}`);
    }
  }
  for (const failure of failures) console.error(`FAIL ${failure}`);
  console.log(`workerd vectors: ${passed} passed, ${failures.length} failed`);
  if (failures.length > 0) throw new Error(`${failures.length} vector(s) failed in workerd`);
}

function trapIsRecovered() {
  const config = new api.Config({ region: 'eu', apiKey: 'k', secret: 's3cret-value' });
  const before = api.build('availability', config, {});
  let error;
  try {
    __native.trapForTests();
  } catch (e) {
    error = e;
  }
  if (!(error instanceof api.IProovError) || error.code !== 'wasm_trap') {
    throw new Error(`a trap must surface as IProovError wasm_trap, got ${error}`);
  }
  // The config's credentials lived only in the dead instance: it is refused, never re-made.
  let stale;
  try {
    api.build('availability', config, {});
  } catch (e) {
    stale = e;
  }
  if (!(stale instanceof api.InvalidStateError)) throw new Error(`a config of the trapped instance must give InvalidStateError, got ${stale}`);
  const again = api.build('availability', new api.Config({ region: 'eu', apiKey: 'k', secret: 's3cret-value' }), {});
  if (again.url !== before.url) throw new Error('a config made after the trap does not work');
  console.log('workerd trap: recovered; configs of the trapped instance are refused, new ones work');
}

async function readmeExampleRuns(env) {
  const res = await env.EXAMPLE.fetch('http://example/');
  const body = await res.json();
  if (res.status !== 200 || !/^[0-9a-f]{64}$/.test(body.token)) {
    throw new Error(`README example: ${res.status} ${JSON.stringify(body)}`);
  }
  console.log('workerd README example: ok, a 64-hex claim token from the emulator');
}

/** The README's journey worker: a token from /start, the user's device (the emulator), then
 * /finish: passed, validated once, and a second submit gets the stored outcome. */
async function readmeJourneysRun(env) {
  const reset = await fetch(`${env.EMULATOR_URL}/__emulator/reset`, { method: 'POST' });
  if (!reset.ok) throw new Error(`emulator reset: ${reset.status}`);
  const user = { 'x-user-id': 'f0e1d2c3-b4a5-4968-8776-655443322110' };
  const res = await env.JOURNEYS_EXAMPLE.fetch('http://example/start', { method: 'POST', headers: user });
  const started = await res.json();
  if (res.status !== 200 || !/^[0-9a-f]{64}$/.test(started.token) || !started.sdkUrl) {
    throw new Error(`README journeys example /start: ${res.status} ${JSON.stringify(started)}`);
  }
  const complete = await fetch(`${env.EMULATOR_URL}/__emulator/claims/${started.token}/complete`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ passed: true }),
  });
  if (!complete.ok) throw new Error(`emulator complete: ${complete.status}`);
  const finish = () =>
    env.JOURNEYS_EXAMPLE.fetch('http://example/finish', {
      method: 'POST',
      headers: { ...user, 'content-type': 'application/json' },
      body: JSON.stringify({ journeyId: started.journeyId, token: started.token }),
    });
  const [first, second] = await Promise.all([finish(), finish()]).then((all) => Promise.all(all.map((r) => r.json())));
  const third = await (await finish()).json();
  if (first.passed !== true || third.passed !== true || (second.passed !== true && !/in progress/.test(second.error?.message))) {
    throw new Error(`README journeys example /finish: ${JSON.stringify([first, second, third])}`);
  }
  const validates = await fetch(`${env.EMULATOR_URL}/__emulator/requests?path=%2Fclaim%2Fenrol%2Fvalidate`).then((r) => r.json());
  if (validates.count !== 1) throw new Error(`README journeys example: ${validates.count} validates, not 1`);
  console.log('workerd README journeys example: ok, passed, one validate for three submits');
}

export default {
  async test(_controller, env) {
    runAll();
    const { failed } = await runScenarios(api, { emulatorUrl: env.EMULATOR_URL, scenarios, client: 'edge package in workerd' });
    if (failed.length > 0) throw new Error(`${failed.length} scenario(s) failed in workerd`);
    await journey(api, env.EMULATOR_URL);
    await journeyStoreTests(env);
    await readmeExampleRuns(env);
    await readmeJourneysRun(env);
    trapIsRecovered();
  },
};
