// Every conformance vector (tests/vectors and IPROOV_VECTORS_DIR) through the public API of the
// implementation under test: `build`/`parse` for request/response vectors, `flows` for flow
// vectors. Prints the counts and fails listing every mismatch.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { api, IMPL } from './impl.mjs';
import { loadVectors, runVector, runFlowVector } from './vectors.mjs';

const { all, problems } = loadVectors();

function run(kind, select, runner) {
  let passed = 0;
  const failures = [...problems];
  for (const { file, name, vector } of all) {
    if (!select(vector)) continue;
    try {
      runner(api, vector);
      passed += 1;
    } catch (e) {
      failures.push(`${name} [${file}]: ${e.message}`);
    }
  }
  for (const f of failures) console.error(`FAIL ${f}`);
  console.log(`js ${kind} (${IMPL}): ${passed} passed, ${failures.length} failed`);
  return { passed, failures };
}

test('request/response vectors', () => {
  const { passed, failures } = run('vectors', (v) => v?.flow === undefined, runVector);
  assert.ok(passed > 0, 'no vectors ran');
  assert.deepEqual(failures, []);
});

test('flow vectors', () => {
  const { passed, failures } = run('flow vectors', (v) => v?.flow !== undefined, runFlowVector);
  assert.ok(passed > 0, 'no flow vectors ran');
  assert.deepEqual(failures, []);
});
