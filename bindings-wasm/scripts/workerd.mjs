// What every script that runs this package inside workerd shares (the workerd tests, the
// benchmark, the demo's worker): a build directory where `iproov-sansio-edge` resolves to this
// package, bundling as a Worker build would, and `workerd serve` on a port it picks.
// Needs the package built (dist/) and its dev tools installed (esbuild, workerd).
import { build } from 'esbuild';
import { spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, rmSync, symlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const packageRoot = join(dirname(fileURLToPath(import.meta.url)), '..');

/** The platform binary of the npm `workerd` package, run directly. */
export const workerdBinary = join(packageRoot, 'node_modules/@cloudflare/workerd-linux-64/bin/workerd');

/** Makes `outDir` afresh: `node_modules/iproov-sansio-edge` (this package, through its
 * "exports") and the .wasm, which a config embeds as a module. */
export function prepareBuildDir(outDir) {
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(join(outDir, 'node_modules'), { recursive: true });
  symlinkSync(packageRoot, join(outDir, 'node_modules/iproov-sansio-edge'), 'dir');
  copyFileSync(join(packageRoot, 'dist/iproov_sansio_wasm_bg.wasm'), join(outDir, 'iproov_sansio_wasm_bg.wasm'));
}

/** Bundles a worker into `outDir/outfile` as a Worker build would: export conditions
 * "workerd"/"worker", the .wasm (and `external`) left as imports. `source` is esbuild's
 * `entryPoints` or `stdin`. */
export async function bundleWorker(outDir, outfile, source, external = []) {
  await build({
    ...source,
    outfile: join(outDir, outfile),
    nodePaths: [join(outDir, 'node_modules')],
    bundle: true,
    format: 'esm',
    platform: 'neutral',
    conditions: ['workerd', 'worker'],
    external: ['*.wasm', ...external],
    logLevel: 'warning',
  });
}

/**
 * Runs `workerd serve config` with its socket `http` on a free loopback port, which workerd
 * reports on --control-fd (`args`: more of workerd's, such as --directory-path). Resolves once
 * it listens.
 * @returns {Promise<{port: number, stop: () => void, exited: Promise<number | string>}>}
 */
export async function serveWorkerd(config, { env = process.env, timeoutMs = 30_000, args = [] } = {}) {
  const child = spawn(workerdBinary, ['serve', config, '--control-fd=3', ...args], {
    stdio: ['ignore', 'inherit', 'inherit', 'pipe'],
    env,
  });
  const exited = new Promise((done) => child.once('exit', (code, signal) => done(code ?? signal)));
  const stop = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  };
  try {
    const port = await new Promise((done, fail) => {
      const timer = setTimeout(() => fail(new Error(`workerd did not report its port within ${timeoutMs} ms`)), timeoutMs);
      exited.then((code) => fail(new Error(`workerd exited (${code}) before listening`)));
      createInterface({ input: child.stdio[3] }).on('line', (line) => {
        const message = JSON.parse(line);
        if (message.event === 'listen' && message.socket === 'http') {
          clearTimeout(timer);
          done(message.port);
        }
      });
    });
    return { port, stop, exited };
  } catch (e) {
    stop();
    throw e;
  }
}
