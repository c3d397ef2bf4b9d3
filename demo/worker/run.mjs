// Runs the demo's edge worker: bundles worker.mjs into .build/ as a Worker build would
// (esbuild, export conditions "workerd"/"worker", the .wasm left as a module import), starts
// `workerd serve config.capnp` on a free loopback port (workerd reports it on --control-fd),
// sends POST /journey, prints the streamed transcript and writes the audit records to
// $IPROOV_DEMO_DIR/worker-audit.jsonl for demo/audit.py. Needs bindings-wasm built
// (scripts/wasm.sh's wasm_build: dist/ and node_modules with esbuild and workerd).
import { mkdirSync, writeFileSync } from 'node:fs';
import { constants } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleWorker, prepareBuildDir, serveWorkerd } from '../../bindings-wasm/scripts/workerd.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, '.build');
const dir = process.env.IPROOV_DEMO_DIR || 'target/demo';

// 1. The bundle: `iproov-sansio-edge` resolves to the package through its "exports".
prepareBuildDir(out);
await bundleWorker(out, 'worker.mjs', { entryPoints: [join(here, 'worker.mjs')] }, ['node:*']);

// 2. workerd, on a port it picks. Never leave it behind: not on an error, Ctrl-C, or a closed
// stdout (`| head`).
const { port, stop: stopWorkerd, exited } = await serveWorkerd(join(here, 'config.capnp'), { timeoutMs: 15_000 });
process.on('exit', stopWorkerd);
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => {
    stopWorkerd();
    process.exit(128 + constants.signals[signal]);
  });
}

// 3. The journey, streamed.
const records = [];
let failure;
try {
  const res = await fetch(`http://127.0.0.1:${port}/journey`, { method: 'POST' });
  if (!res.ok) throw new Error(`the worker answered ${res.status}: ${await res.text()}`);
  let buffered = '';
  const decoder = new TextDecoder();
  const handle = (text) => {
    if (!text) return;
    const event = JSON.parse(text);
    if (event.line !== undefined) console.log(event.line);
    else if (event.audit !== undefined) records.push(event.audit);
    else if (event.error !== undefined) failure = new Error(`the worker's journey failed: ${event.error}`);
  };
  for await (const chunk of res.body) {
    buffered += decoder.decode(chunk, { stream: true });
    let at;
    while ((at = buffered.indexOf('\n')) >= 0) {
      handle(buffered.slice(0, at));
      buffered = buffered.slice(at + 1);
    }
  }
  handle(buffered);
} finally {
  stopWorkerd();
  await exited;
}
if (failure) throw failure;
mkdirSync(dir, { recursive: true });
writeFileSync(join(dir, 'worker-audit.jsonl'), records.map((r) => `${JSON.stringify(r)}\n`).join(''));
console.log(`    ${records.length} audit records → ${join(dir, 'worker-audit.jsonl')}`);
