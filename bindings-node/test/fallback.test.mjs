// The wasm fallback: where no native addon matches the platform, the package runs the same
// API on the edge package's wasm build, and says so only when debugging is on. (The whole
// suite also runs with the fallback forced: IPROOV_SANSIO_BACKEND=wasm, in scripts/wasm.sh.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { nodeBackend } from './impl.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const probe = `const a = require('./index.cjs');
const r = a.build('availability', new a.Config({ region: 'eu', apiKey: 'k'.repeat(40) }));
console.log(r.url);`;

function run(dir, env) {
  const out = spawnSync(process.execPath, ['-e', probe], { cwd: dir, env: { ...process.env, ...env }, encoding: 'utf8', timeout: 60_000 });
  assert.equal(out.status, 0, out.stderr);
  assert.equal(out.stdout.trim(), `https://eu.rp.secure.iproov.me/api/v2/availability?api_key=${'k'.repeat(40)}`);
  return out.stderr;
}

// The fallback is built from the edge build, which scripts/test (and scripts/node.sh) make
// before this package: its absence fails here rather than skipping.
test('a platform without an addon gets the wasm build, quietly unless debugging', () => {
  const dir = mkdtempSync(join(tmpdir(), 'iproov-fallback-'));
  try {
    // The package as installed on a platform none of its addons match: no .node file.
    for (const file of ['index.cjs', 'node-http.cjs', 'node-fastify.cjs', 'native.cjs', 'package.json', 'dist']) cpSync(join(root, file), join(dir, file), { recursive: true });
    assert.equal(run(dir, { NODE_DEBUG: '', IPROOV_SANSIO_BACKEND: '' }), '');
    assert.match(run(dir, { NODE_DEBUG: 'iproov-sansio', IPROOV_SANSIO_BACKEND: '' }), /no native addon for linux-x64 .*using the wasm build/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('IPROOV_SANSIO_BACKEND=wasm forces the wasm build where an addon exists', () => {
  assert.match(run(root, { NODE_DEBUG: 'iproov-sansio', IPROOV_SANSIO_BACKEND: 'wasm' }), /IPROOV_SANSIO_BACKEND=wasm: using the wasm build/);
  assert.equal(run(root, { NODE_DEBUG: '', IPROOV_SANSIO_BACKEND: '' }), '');
});

test('this suite runs on the backend IPROOV_SANSIO_BACKEND asks for', async () => {
  // The package itself, whichever implementation the rest of the suite tests.
  await import('../index.mjs');
  const wanted = process.env.IPROOV_SANSIO_BACKEND === 'wasm' ? 'wasm' : 'addon';
  assert.equal(nodeBackend(), wanted);
  // And it works on it: core's own answer through that backend.
  const { default: pkg } = await import('../index.mjs');
  assert.equal(pkg.build('availability', new pkg.Config({ region: 'eu', apiKey: 'k'.repeat(40) })).url, `https://eu.rp.secure.iproov.me/api/v2/availability?api_key=${'k'.repeat(40)}`);
});
