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

export default {
  async test(_controller, env) {
    runAll();
    const { failed } = await runScenarios(api, { emulatorUrl: env.EMULATOR_URL, scenarios, client: 'edge package in workerd' });
    if (failed.length > 0) throw new Error(`${failed.length} scenario(s) failed in workerd`);
    await journey(api, env.EMULATOR_URL);
    await readmeExampleRuns(env);
    trapIsRecovered();
  },
};
