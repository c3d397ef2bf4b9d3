// The "done when" check: a fresh directory installs the tarball that `npm pack` makes and runs
// the README quick start against the emulator, from ESM and from CommonJS, and once more from
// ESM with the addon deleted: the wasm fallback the tarball carries must then run it (the
// platforms without an addon). The quick start
// stores its journey in SQLite, so the app installs better-sqlite3 beside the tarball as the
// README says; the copy this package's dev install already built (its prebuilt binaries come
// from GitHub, out of reach here, so npm would compile it again from source).
// Run after the build (scripts/node.sh does): node scripts/pack-check.mjs
// (the quick starts: the first ESM example, the journey service on SQLite, and the first CJS one)
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startEmulator } from '../test/emulator.mjs';
import { examples, prepared, runExample, PRELOAD } from '../test/readme.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const work = mkdtempSync(join(tmpdir(), 'iproov-pack-'));
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
let emu;
let failed = 0;
let passed = 0;
try {
  execFileSync(npm, ['pack', '--silent', '--pack-destination', work], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
  const tarball = readdirSync(work).find((f) => f.endsWith('.tgz'));
  if (!tarball) throw new Error('npm pack made no tarball');
  const listing = execFileSync('tar', ['-tzf', join(work, tarball)]).toString();
  for (const needed of ['package/index.cjs', 'package/index.mjs', 'package/index.d.ts', 'package/dist/api.cjs', 'package/native.cjs', 'package/dist/NATIVE.md', 'package/dist/api.d.ts', 'package/dist/api.generated.d.ts', 'package/testing.cjs', 'package/testing.mjs', 'package/testing.d.ts', 'package/testing.d.mts', 'package/node-http.cjs', 'package/node-fastify.cjs', 'package/node-fastify.d.ts', 'package/telemetry.d.ts', 'package/dist/api-wasm.cjs', 'package/dist/iproov_sansio_wasm_bg.wasm']) {
    if (!listing.includes(needed)) throw new Error(`the tarball lacks ${needed}`);
  }
  if (!/package\/iproov-sansio\.[^/]+\.node/.test(listing)) throw new Error('the tarball lacks the .node addon');
  // The emulator binary ships in its own package (iproov-emulator), never in this one.
  if (/iproov-emulator/.test(listing)) throw new Error('the tarball carries the emulator binary');
  const app = join(work, 'app');
  execFileSync('mkdir', ['-p', app]);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'pack-check-app', version: '1.0.0', private: true }));
  const sqlite = join(root, 'node_modules', 'better-sqlite3');
  // --ignore-scripts: npm would otherwise run better-sqlite3's install script on that built copy
  // and compile SQLite again (a minute and a half) for nothing of this package's. This package
  // has no install-time script that it would skip (checked here), so its install is a user's.
  const manifest = JSON.parse(execFileSync('tar', ['-xzOf', join(work, tarball), 'package/package.json']).toString());
  const installScripts = ['preinstall', 'install', 'postinstall'].filter((name) => manifest.scripts?.[name]);
  if (installScripts.length > 0) throw new Error(`the package has install scripts (${installScripts}): install it with them`);
  execFileSync(npm, ['install', '--no-audit', '--no-fund', '--silent', '--ignore-scripts', join(work, tarball), sqlite], { cwd: app, stdio: 'inherit' });

  emu = await startEmulator();
  const blocks = examples(join(root, 'README.md'));
  const esm = blocks.find((b) => !b.cjs);
  const quickStarts = [[esm, 'ESM'], [blocks.find((b) => b.cjs), 'CJS'], [esm, 'ESM, no addon: the wasm fallback']];
  for (const [block, kind] of quickStarts) {
    await emu.reset();
    if (kind.includes('no addon')) {
      // As on a platform none of the package's addons match.
      const installed = join(app, 'node_modules', 'iproov-sansio');
      for (const addon of readdirSync(installed).filter((f) => f.endsWith('.node'))) rmSync(join(installed, addon));
    }
    const file = `quickstart.${block.cjs ? 'cjs' : 'mjs'}`;
    // The quick start (ESM) plays the user's phone itself; the CJS example needs the preload's.
    const { code, stdout, stderr } = await runExample(app, file, prepared(block.code, emu.url), emu.url, block.cjs ? PRELOAD : null, { NODE_DEBUG: 'iproov-sansio' });
    const fellBack = /using the wasm build/.test(stderr);
    if (code === 0 && /^enrolled$/m.test(stdout) && fellBack === kind.includes('no addon')) {
      passed += 1;
      console.log(`ok: README quick start (${kind}) from a fresh install of ${tarball}`);
    } else {
      failed += 1;
      console.error(`FAIL: README quick start (${kind}): exit ${code}, wasm build ${fellBack ? '' : 'not '}used\n${stdout}\n${stderr}`);
    }
  }
} catch (e) {
  failed += 1;
  console.error(`FAIL: ${e.stack ?? e}`);
} finally {
  await emu?.stop();
  rmSync(work, { recursive: true, force: true });
}
console.log(`pack check: ${passed} passed, ${failed} failed`);
process.exitCode = failed === 0 && passed === 3 ? 0 : 1;
