// Runs the demo's edge worker: bundles worker.mjs into .build/ as a Worker build would
// (esbuild, export conditions "workerd"/"worker", the .wasm left as a module import), starts
// `workerd serve config.capnp` on a free loopback port (workerd reports it on --control-fd),
// sends POST /journey, prints the streamed transcript and writes the audit records to
// $IPROOV_DEMO_DIR/worker-audit.jsonl for demo/audit.py. Needs bindings-wasm built
// (scripts/wasm.sh's wasm_build: dist/ and node_modules with esbuild and workerd).
import { spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { constants } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const edge = resolve(here, '../../bindings-wasm');
const out = join(here, '.build');
const dir = process.env.IPROOV_DEMO_DIR || 'target/demo';

// 1. The bundle: `iproov-sansio-edge` resolves to the package through its "exports".
rmSync(out, { recursive: true, force: true });
mkdirSync(join(out, 'node_modules'), { recursive: true });
symlinkSync(edge, join(out, 'node_modules/iproov-sansio-edge'), 'dir');
const { build } = createRequire(join(edge, 'package.json'))('esbuild');
await build({
  entryPoints: [join(here, 'worker.mjs')],
  outfile: join(out, 'worker.mjs'),
  nodePaths: [join(out, 'node_modules')],
  bundle: true,
  format: 'esm',
  platform: 'neutral',
  conditions: ['workerd', 'worker'],
  external: ['*.wasm', 'node:*'],
  logLevel: 'warning',
});
copyFileSync(join(edge, 'dist/iproov_sansio_wasm_bg.wasm'), join(out, 'iproov_sansio_wasm_bg.wasm'));

// 2. workerd, on a port it picks; its control messages say which.
const workerd = join(edge, 'node_modules/@cloudflare/workerd-linux-64/bin/workerd');
const child = spawn(workerd, ['serve', join(here, 'config.capnp'), '--control-fd=3'], {
  stdio: ['ignore', 'inherit', 'inherit', 'pipe'],
  env: process.env,
});
const exited = new Promise((done) => child.once('exit', (code, signal) => done(code ?? signal)));
// Never leave workerd behind: not on an error, Ctrl-C, or a closed stdout (`| head`).
const stopWorkerd = () => {
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
};
process.on('exit', stopWorkerd);
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => {
    stopWorkerd();
    process.exit(128 + constants.signals[signal]);
  });
}
const port = await new Promise((done, fail) => {
  const timer = setTimeout(() => fail(new Error('workerd did not report its port within 15 s')), 15_000);
  exited.then((code) => fail(new Error(`workerd exited (${code}) before listening`)));
  createInterface({ input: child.stdio[3] }).on('line', (line) => {
    const message = JSON.parse(line);
    if (message.event === 'listen' && message.socket === 'http') {
      clearTimeout(timer);
      done(message.port);
    }
  });
});

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
