// Runs the edge package's tests inside workerd: starts the emulator, bundles worker.mjs and the
// README's workers as a Worker build would (export conditions "workerd"/"worker", the .wasm
// left as a module import), writes every vector (tests/vectors and IPROOV_VECTORS_DIR) and
// every client scenario (tests/scenarios and IPROOV_SCENARIOS_DIR) to JSON modules, and runs
// `workerd test config.capnp`. Exits with workerd's status.
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadVectors } from '../../../bindings-node/test/vectors.mjs';
import { startEmulator } from '../../../bindings-node/test/emulator.mjs';
import { loadScenarios } from '../../../bindings-js/test/run-scenarios.mjs';
import { bundleWorker, prepareBuildDir, workerdBinary } from '../../scripts/workerd.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const packageRoot = join(here, '../..');
const out = join(here, '.build');

const emulator = await startEmulator();
let status;
try {
  prepareBuildDir(out);
  await bundleWorker(out, 'worker.mjs', { entryPoints: [join(here, 'worker.mjs')] }, ['./vectors.json', './scenarios.json', 'node:*', 'cloudflare:*']);
  // The README's ```js blocks are whole workers: the first (the quick start: journeys on a
  // Durable Object) with `region: 'eu'` pointed at the emulator, the second (a token) bundled
  // as written.
  const readme = readFileSync(join(packageRoot, 'README.md'), 'utf8');
  const [journeysExample, example] = [...readme.matchAll(/```js\n([\s\S]*?)```/g)].map((m) => m[1]);
  if (!example || !journeysExample) throw new Error('README.md lacks its two ```js worker examples');
  const asWorker = (contents) => ({ stdin: { contents, resolveDir: out, sourcefile: 'README.md', loader: 'js' } });
  await bundleWorker(out, 'example.mjs', asWorker(example), ['node:*']);
  if (!journeysExample.includes("region: 'eu'")) throw new Error("README.md's journeys example no longer says region: 'eu'");
  const pointed = journeysExample.replaceAll("region: 'eu'", `baseUrl: ${JSON.stringify(`${emulator.url}/eu`)}`);
  await bundleWorker(out, 'journeys-example.mjs', asWorker(pointed), ['node:*', 'cloudflare:*']);
  const { all, problems } = loadVectors();
  if (problems.length > 0) throw new Error(problems.join('\n'));
  writeFileSync(join(out, 'vectors.json'), JSON.stringify(all.map(({ file, name, vector }) => ({ file, name, vector }))));
  writeFileSync(join(out, 'scenarios.json'), JSON.stringify(loadScenarios()));

  status = await new Promise((resolve, reject) => {
    // Fresh directories for the Durable Objects' SQLite files (config.capnp's disk services).
    const storage = ['journey-store-test-storage', 'readme-journeys-storage'].flatMap((name) => {
      const dir = join(out, name);
      mkdirSync(dir, { recursive: true });
      return ['--directory-path', `${name}=${dir}`];
    });
    const child = spawn(workerdBinary, ['test', '--experimental', ...storage, join(here, 'config.capnp')], {
      stdio: 'inherit',
      env: { ...process.env, IPROOV_EMULATOR_URL: emulator.url, IPROOV_EXAMPLE_BASE_URL: `${emulator.url}/eu` },
    });
    // Bounded: a worker that never settles fails the run instead of hanging it.
    const timer = setTimeout(() => {
      console.error('workerd test ran over 600 s: killed');
      child.kill('SIGKILL');
    }, 600_000);
    child.once('error', (error) => (clearTimeout(timer), reject(error)));
    child.once('exit', (code, signal) => (clearTimeout(timer), resolve(code ?? (signal ? 1 : 0))));
  });
} finally {
  await emulator.stop();
}
console.log(status === 0 ? 'workerd tests: passed' : `workerd tests: failed (exit ${status})`);
process.exit(status);
