// Benchmark of the edge package inside workerd, the runtime it is built for (a command, not a
// test): `node bench/workerd.mjs [--quick] [--json FILE]` in bindings-wasm, after the build
// (dist/). Per operation, `build` and `parse` through the public API against the pure-JS
// baseline of the Node package's bench (bindings-node/bench/cases.mjs), all run by one worker
// (bench/workerd/). A worker's clock does not advance while it computes, so each figure is
// timed from outside: (time of a request running the loop N times - time of one running it 0
// times) / N, the best of three, with N grown until a loop takes about 250 ms.
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CASES, FRAME_CASE } from '../../bindings-node/bench/cases.mjs';
import { bundleWorker, prepareBuildDir, serveWorkerd, workerdBinary } from '../scripts/workerd.mjs';
import { printOperations } from '../../bindings-node/bench/report.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const workerDir = join(here, 'workerd');
const out = join(workerDir, '.build');
const quick = process.argv.includes('--quick');
const jsonAt = process.argv.indexOf('--json');
const jsonFile = jsonAt >= 0 ? process.argv[jsonAt + 1] : undefined;
const TARGET_MS = quick ? 60 : 250;
const GOALS = { opRatio: 3, frameRatio: 2 };

prepareBuildDir(out);
await bundleWorker(out, 'worker.mjs', { entryPoints: [join(workerDir, 'worker.mjs')] });
const version = await new Promise((resolve) => {
  const v = spawn(workerdBinary, ['--version']);
  let text = '';
  v.stdout.on('data', (d) => (text += d));
  v.once('exit', () => resolve(text.trim()));
});

const { port, stop } = await serveWorkerd(join(workerDir, 'config.capnp'));
try {
  const base = `http://127.0.0.1:${port}/`;

  async function timed(kind, name, n) {
    const t0 = performance.now();
    const response = await fetch(`${base}?kind=${kind}&case=${encodeURIComponent(name)}&n=${n}`);
    const text = await response.text();
    const ms = performance.now() - t0;
    if (!response.ok) throw new Error(`${kind} ${name}: ${response.status} ${text}`);
    return ms;
  }

  async function perCall(kind, name) {
    await timed(kind, name, 2_000); // warm up (the engine tiers hot code up)
    let n = 1_000;
    for (;;) {
      const ms = await timed(kind, name, n);
      if (ms >= TARGET_MS) break;
      n = Math.ceil(n * Math.max(2, (TARGET_MS * 1.1) / Math.max(ms, 1)));
    }
    let best = Infinity;
    for (let i = 0; i < 3; i++) {
      const empty = await timed(kind, name, 0);
      const full = await timed(kind, name, n);
      best = Math.min(best, ((full - empty) * 1e6) / n);
    }
    return best; // ns
  }

  const ops = [];
  for (const op of Object.keys(CASES)) {
    ops.push({
      op,
      build_ns: await perCall('build', op),
      baseline_build_ns: await perCall('baseline_build', op),
      parse_ns: await perCall('parse', op),
      baseline_parse_ns: await perCall('baseline_parse', op),
    });
  }
  const frame = {
    op: FRAME_CASE[1],
    label: FRAME_CASE[0],
    parse_ns: await perCall('parse', FRAME_CASE[0]),
    baseline_parse_ns: await perCall('baseline_parse', FRAME_CASE[0]),
    json_parse_ns: await perCall('json_parse', FRAME_CASE[0]),
  };

  console.log(`iproov-sansio-edge (wasm) inside workerd ${version}, ${quick ? 'quick' : 'full'} run`);
  console.log('');
  printOperations(ops, frame, GOALS);
  if (jsonFile) {
    const result = { host: 'workerd', workerd: version, quick, goals: GOALS, ops, frame };
    writeFileSync(jsonFile, `${JSON.stringify(result, null, 2)}\n`);
  }
} finally {
  stop();
}
