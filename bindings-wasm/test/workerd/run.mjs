// Runs the edge package's tests inside workerd: bundles worker.mjs as a Worker build would
// (export conditions "workerd"/"worker", the .wasm left as a module import), writes every
// vector (tests/vectors and IPROOV_VECTORS_DIR) and every client scenario (tests/scenarios
// and IPROOV_SCENARIOS_DIR) to JSON modules, starts the emulator, and runs
// `workerd test config.capnp`. Exits with workerd's status.
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadVectors } from '../../../bindings-node/test/vectors.mjs';
import { startEmulator } from '../../../bindings-node/test/emulator.mjs';
import { loadScenarios } from '../../../bindings-js/test/run-scenarios.mjs';
import { bundleWorker, prepareBuildDir, workerdBinary } from '../../scripts/workerd.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const packageRoot = join(here, '../..');
const out = join(here, '.build');

prepareBuildDir(out);
await bundleWorker(out, 'worker.mjs', { entryPoints: [join(here, 'worker.mjs')] }, ['./vectors.json', './scenarios.json', 'node:*']);
// The README's first ```js block is a whole worker: bundle it as written.
const readme = readFileSync(join(packageRoot, 'README.md'), 'utf8');
const example = /```js\n([\s\S]*?)```/.exec(readme)?.[1];
if (!example) throw new Error('README.md has no ```js worker example');
await bundleWorker(out, 'example.mjs', { stdin: { contents: example, resolveDir: out, sourcefile: 'README.md', loader: 'js' } }, ['node:*']);
const { all, problems } = loadVectors();
if (problems.length > 0) throw new Error(problems.join('\n'));
writeFileSync(join(out, 'vectors.json'), JSON.stringify(all.map(({ file, name, vector }) => ({ file, name, vector }))));
writeFileSync(join(out, 'scenarios.json'), JSON.stringify(loadScenarios()));

const emulator = await startEmulator();
let status;
try {
  status = await new Promise((resolve, reject) => {
    const child = spawn(workerdBinary, ['test', '--experimental', join(here, 'config.capnp')], {
      stdio: 'inherit',
      env: { ...process.env, IPROOV_EMULATOR_URL: emulator.url, IPROOV_EXAMPLE_BASE_URL: `${emulator.url}/eu` },
    });
    child.once('error', reject);
    child.once('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
} finally {
  await emulator.stop();
}
console.log(status === 0 ? 'workerd tests: passed' : `workerd tests: failed (exit ${status})`);
process.exit(status);
