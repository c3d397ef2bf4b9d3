// Benchmark of the edge package inside workerd, the runtime it is built for (a command, not a
// test): `node bench/workerd.mjs [--quick] [--json FILE]` in bindings-wasm, after the build
// (dist/). Per operation, `build` and `parse` through the public API against the pure-JS
// baseline of the Node package's bench (bindings-node/bench/cases.mjs), all run by one worker
// (bench/workerd/). A worker's clock does not advance while it computes, so each figure is
// timed from outside: (time of a request running the loop N times - time of one running it 0
// times) / N, the best of three, with N grown until a loop takes about 250 ms.
import { build } from 'esbuild';
import { spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CASES, FRAME_CASE } from '../../bindings-node/bench/cases.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const packageRoot = join(here, '..');
const workerDir = join(here, 'workerd');
const out = join(workerDir, '.build');
const quick = process.argv.includes('--quick');
const jsonAt = process.argv.indexOf('--json');
const jsonFile = jsonAt >= 0 ? process.argv[jsonAt + 1] : undefined;
const TARGET_MS = quick ? 60 : 250;
const GOALS = { opRatio: 3, frameRatio: 2 };

rmSync(out, { recursive: true, force: true });
mkdirSync(join(out, 'node_modules'), { recursive: true });
symlinkSync(packageRoot, join(out, 'node_modules/iproov-sansio-edge'), 'dir');
await build({
  entryPoints: [join(workerDir, 'worker.mjs')],
  outfile: join(out, 'worker.mjs'),
  nodePaths: [join(out, 'node_modules')],
  bundle: true,
  format: 'esm',
  platform: 'neutral',
  conditions: ['workerd', 'worker'],
  external: ['*.wasm'],
  logLevel: 'warning',
});
copyFileSync(join(packageRoot, 'dist/iproov_sansio_wasm_bg.wasm'), join(out, 'iproov_sansio_wasm_bg.wasm'));

const workerd = join(packageRoot, 'node_modules/@cloudflare/workerd-linux-64/bin/workerd');
const child = spawn(workerd, ['serve', join(workerDir, 'config.capnp'), '--control-fd', '3'], {
  stdio: ['ignore', 'inherit', 'inherit', 'pipe'],
});
const version = await new Promise((resolve) => {
  const v = spawn(workerd, ['--version']);
  let text = '';
  v.stdout.on('data', (d) => (text += d));
  v.once('exit', () => resolve(text.trim()));
});

try {
  const port = await new Promise((resolve, reject) => {
    let buffered = '';
    const timer = setTimeout(() => reject(new Error('workerd did not report its port in 30 s')), 30_000);
    child.once('exit', (code) => reject(new Error(`workerd exited (${code}) before listening`)));
    child.stdio[3].on('data', (chunk) => {
      buffered += chunk;
      for (const line of buffered.split('\n').slice(0, -1)) {
        const event = JSON.parse(line);
        if (event.event === 'listen' && event.socket === 'http') {
          clearTimeout(timer);
          resolve(event.port);
        }
      }
      buffered = buffered.slice(buffered.lastIndexOf('\n') + 1);
    });
  });
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

  const us = (ns) => (ns >= 10_000 ? `${(ns / 1000).toFixed(1)} us` : `${(ns / 1000).toFixed(2)} us`);
  const pad = (s, n) => String(s).padEnd(n);
  const lpad = (s, n) => String(s).padStart(n);
  const verdict = (ok) => (ok ? 'ok' : 'MISSED');
  console.log(`iproov-sansio-edge (wasm) inside workerd ${version}, ${quick ? 'quick' : 'full'} run`);
  console.log('');
  console.log(`${pad('operation', 32)}${lpad('build', 10)}${lpad('baseline', 10)}${lpad('x', 7)}${lpad('parse', 10)}${lpad('baseline', 10)}${lpad('x', 7)}`);
  console.log('-'.repeat(86));
  let worst = 0;
  for (const r of ops) {
    const xb = r.build_ns / r.baseline_build_ns;
    const xp = r.parse_ns / r.baseline_parse_ns;
    worst = Math.max(worst, xb, xp);
    console.log(`${pad(r.op, 32)}${lpad(us(r.build_ns), 10)}${lpad(us(r.baseline_build_ns), 10)}${lpad(`${xb.toFixed(1)}x`, 7)}${lpad(us(r.parse_ns), 10)}${lpad(us(r.baseline_parse_ns), 10)}${lpad(`${xp.toFixed(1)}x`, 7)}`);
  }
  console.log(`${pad(frame.label, 32)}${lpad('', 27)}${lpad(us(frame.parse_ns), 10)}${lpad(us(frame.baseline_parse_ns), 10)}${lpad(`${(frame.parse_ns / frame.baseline_parse_ns).toFixed(1)}x`, 7)}`);
  console.log(`${pad('  (JSON.parse alone, same body)', 32)}${lpad('', 27)}${lpad(us(frame.json_parse_ns), 10)}`);
  console.log('');
  console.log(`worst ratio to the baseline: ${worst.toFixed(1)}x (goal at most ${GOALS.opRatio}x: ${verdict(worst <= GOALS.opRatio)})`);
  const frameRatio = frame.parse_ns / frame.json_parse_ns;
  console.log(`60 KB frame: ${frameRatio.toFixed(1)}x JSON.parse alone (goal at most ${GOALS.frameRatio}x: ${verdict(frameRatio <= GOALS.frameRatio)})`);
  if (jsonFile) {
    const result = { host: 'workerd', workerd: version, quick, goals: GOALS, ops, frame };
    writeFileSync(jsonFile, `${JSON.stringify(result, null, 2)}\n`);
  }
} finally {
  child.kill('SIGTERM');
}
