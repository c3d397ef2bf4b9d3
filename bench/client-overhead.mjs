// Client overhead of the JS packages over a raw HTTP call (a command, not a test):
//
//   node bench/client-overhead.mjs [--quick] [--json FILE] [--impl node|wasm|workerd|both] [--emulator PATH]
//
// Starts the emulator (target/release/iproov-emulator unless --emulator; scripts/bench builds
// it), then per package (the Node addon `iproov-sansio`, and the edge package's wasm build in
// Node) and per call, times `createClient(...)`'s method against a raw `fetch` of the very same
// request (method, URL, headers and body as core builds them, then `response.json()`), the two
// strictly alternating (raw, client, raw, client, ...) so that drift and load on the machine
// hit both alike. The mean drops the slowest 10% of each side, as the Python bench does (its
// goal, at most 1.05x, is the only one the issues set for client overhead).
//
// `--impl workerd` (not in `both`: it needs the edge build's dev tools) measures the edge package
// inside workerd, the runtime it is built for (bindings-wasm/bench/workerd-client/): a worker's
// clock does not advance while its code runs, so each side is timed from here in batches of
// BATCH calls made by one request, strictly alternating (empty, raw, client, ...); a call's time
// is (batch - empty request) / BATCH, which leaves out the hop from here to workerd.
import { spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { CALLS, calls } from './calls.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const argv = process.argv.slice(2);
const option = (name) => {
  const at = argv.indexOf(name);
  return at >= 0 ? argv[at + 1] : undefined;
};
const quick = argv.includes('--quick');
const jsonFile = option('--json');
const implChoice = option('--impl') ?? 'both';
const PAIRS = quick ? 1000 : 5000;
const WARMUP = 200;
const GOAL = 1.05;

const IMPLS = {
  node: { label: 'Node (iproov-sansio, napi)', entry: join(root, 'bindings-node/index.mjs') },
  wasm: { label: 'edge (iproov-sansio-edge, wasm in Node)', entry: join(root, 'bindings-wasm/dist/node.mjs') },
  workerd: { label: 'edge (iproov-sansio-edge, in workerd)' },
};
const BATCH = 25;
const chosen = implChoice === 'both' ? ['node', 'wasm'] : [implChoice];
for (const name of chosen) {
  if (!IMPLS[name]) throw new Error(`--impl: node, wasm, workerd or both, not ${implChoice}`);
}

function emulatorBinary() {
  const given = option('--emulator');
  if (given) return resolve(given);
  for (const profile of ['release', 'debug']) {
    const binary = join(root, 'target', profile, 'iproov-emulator');
    if (existsSync(binary)) return binary;
  }
  throw new Error('no emulator binary: cargo build --release -p iproov-emulator');
}

async function startEmulator(binary) {
  const child = spawn(binary, ['--port', '0'], { stdio: ['ignore', 'pipe', 'ignore'] });
  const lines = createInterface({ input: child.stdout });
  const first = await new Promise((resolveLine, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`the emulator exited (${code}) before listening`)));
    lines.once('line', resolveLine);
  });
  child.stdout.resume(); // the configuration it prints next: drain it
  const url = first.split('listening on ')[1]?.trim();
  if (!url) throw new Error(`unexpected first line from the emulator: ${first}`);
  return { child, url };
}

const trimmedMean = (xs) => {
  const kept = [...xs].sort((a, b) => a - b).slice(0, Math.max(1, Math.floor(xs.length * 0.9)));
  return kept.reduce((a, b) => a + b, 0) / kept.length;
};
const median = (xs) => {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

async function measureImpl(name, base) {
  const api = (await import(pathToFileURL(IMPLS[name].entry).href)).default;
  const made = calls(api, base);
  const pairs = CALLS.map(([label, name]) => [label, ...made[name]]);
  const rows = [];
  for (const [call, raw, ours] of pairs) {
    const [status] = await raw();
    if (status !== 200) throw new Error(`${call}: the raw request got ${status} from the emulator`);
    await ours(); // throws on any error
    for (let i = 0; i < WARMUP; i++) {
      await raw();
      await ours();
    }
    const rawT = [];
    const ourT = [];
    for (let i = 0; i < PAIRS; i++) {
      const t0 = performance.now();
      await raw();
      const t1 = performance.now();
      await ours();
      const t2 = performance.now();
      rawT.push(t1 - t0);
      ourT.push(t2 - t1);
    }
    const r = trimmedMean(rawT) * 1000;
    const o = trimmedMean(ourT) * 1000;
    rows.push({ call, raw_us: r, client_us: o, ratio: o / r, median_ratio: median(ourT) / median(rawT) });
  }
  return rows;
}

async function measureWorkerd(emulatorUrl) {
  const workerd = await import(pathToFileURL(join(root, 'bindings-wasm/scripts/workerd.mjs')).href);
  const workerDir = join(root, 'bindings-wasm/bench/workerd-client');
  const out = join(workerDir, '.build');
  workerd.prepareBuildDir(out);
  await workerd.bundleWorker(out, 'worker.mjs', { entryPoints: [join(workerDir, 'worker.mjs')] });
  const { port, stop } = await workerd.serveWorkerd(join(workerDir, 'config.capnp'), {
    env: { ...process.env, IPROOV_EMULATOR_URL: emulatorUrl },
  });
  try {
    const batch = async (call, side, n) => {
      const t0 = performance.now();
      const response = await fetch(`http://127.0.0.1:${port}/?call=${call}&side=${side}&n=${n}`);
      const text = await response.text();
      const ms = performance.now() - t0;
      if (!response.ok) throw new Error(`workerd ${call} ${side}: ${response.status} ${text}`);
      return ms;
    };
    const rows = [];
    for (const [label, call] of CALLS) {
      for (let i = 0; i < WARMUP / BATCH; i++) {
        await batch(call, 'raw', BATCH);
        await batch(call, 'client', BATCH);
      }
      const empty = [];
      const rawT = [];
      const ourT = [];
      for (let i = 0; i < PAIRS / BATCH; i++) {
        empty.push(await batch(call, 'raw', 0));
        rawT.push(await batch(call, 'raw', BATCH));
        ourT.push(await batch(call, 'client', BATCH));
      }
      const hop = trimmedMean(empty);
      const perCall = (xs) => ((trimmedMean(xs) - hop) / BATCH) * 1000;
      const r = perCall(rawT);
      const o = perCall(ourT);
      const hopMedian = median(empty);
      const medianRatio = (median(ourT) - hopMedian) / (median(rawT) - hopMedian);
      rows.push({ call: label, raw_us: r, client_us: o, ratio: o / r, median_ratio: medianRatio });
    }
    return rows;
  } finally {
    stop();
  }
}

const binary = emulatorBinary();
const { child, url } = await startEmulator(binary);
const results = { host: 'js-client', node: process.version, quick, calls: PAIRS, goal: GOAL, emulator: binary, impls: {} };
try {
  const base = `${url}/eu/api/v2`;
  for (const name of chosen) {
    const rows = name === 'workerd' ? await measureWorkerd(url) : await measureImpl(name, base);
    results.impls[name] = { label: IMPLS[name].label, rows };
  }
} finally {
  child.kill('SIGTERM');
}

const pad = (s, n) => String(s).padEnd(n);
const lpad = (s, n) => String(s).padStart(n);
console.log(`Client overhead vs a raw fetch of the same request to the emulator (${binary.split('/').at(-2)} build)`);
console.log(`Node ${process.version}, ${PAIRS} alternating pairs per call, mean without the slowest 10%, ${quick ? 'quick' : 'full'} run`);
console.log('');
console.log(`${pad('package', 42)}${pad('call', 22)}${lpad('raw fetch', 11)}${lpad('client', 11)}${lpad('ratio', 8)}${lpad('median', 8)}`);
console.log('-'.repeat(102));
for (const { label, rows } of Object.values(results.impls)) {
  for (const r of rows) {
    console.log(`${pad(label, 42)}${pad(r.call, 22)}${lpad(`${r.raw_us.toFixed(0)} us`, 11)}${lpad(`${r.client_us.toFixed(0)} us`, 11)}${lpad(`${r.ratio.toFixed(3)}x`, 8)}${lpad(`${r.median_ratio.toFixed(3)}x`, 8)}`);
  }
}
console.log('');
console.log(`(goal, the Python binding's: at most ${GOAL}x)`);
if (jsonFile) writeFileSync(jsonFile, `${JSON.stringify(results, null, 2)}\n`);
