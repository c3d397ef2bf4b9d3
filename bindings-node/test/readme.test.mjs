// The README's JS examples, from ESM and CJS, against the emulator (see readme.mjs).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join, dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { isAbsolute, resolve } from 'node:path';
import { startEmulator } from './emulator.mjs';
import { examples, frameworkOf, prepared, runExample } from './readme.mjs';
import { esm, requireImpl } from './impl.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const blocks = examples(join(here, '../README.md'));

// Examples of another implementation (the edge package) import it instead of this package.
const spec = process.env.IPROOV_JS_IMPL;
const esmSpecifier = spec
  ? spec.startsWith('.') || isAbsolute(spec)
    ? pathToFileURL(resolve(process.cwd(), spec)).href
    : spec
  : undefined;
const hasCjs = requireImpl() !== undefined;
const cjsSpecifier = spec ? process.env.IPROOV_JS_IMPL_CJS && resolve(process.cwd(), process.env.IPROOV_JS_IMPL_CJS) : undefined;

let emu;
before(async () => {
  emu = await startEmulator();
});
after(async () => {
  await emu?.stop();
});

test('the README has ESM and CJS examples', () => {
  assert.ok(blocks.some((b) => !b.cjs), 'an ESM example');
  assert.ok(blocks.some((b) => b.cjs), 'a CJS example');
});

/** The names a block imports from the package that the implementation under test lacks (the
 * Node package's journey stores, when the edge package runs this suite). */
function missingNames(code) {
  const m = /import\s*\{([^}]*)\}\s*from\s*'iproov-sansio'|const\s*\{([^}]*)\}\s*=\s*require\('iproov-sansio'\)/.exec(code);
  if (!m) return [];
  const names = (m[1] ?? m[2]).split(',').map((n) => n.trim().split(/\s+as\s+|\s*:\s*/)[0]);
  return names.filter((n) => n && !(n in esm));
}

for (const block of blocks) {
  const kind = block.cjs ? 'CJS' : 'ESM';
  // A server in a web framework is web-frameworks.test.mjs's to run, not made here. An example
  // that cannot apply to another implementation under test (a CJS example, or one using the
  // Node package's own exports, when the edge package runs this suite) is not made for it. This
  // package's own run makes every other one: a name it lacks fails there.
  if (frameworkOf(block.code)) continue;
  if (spec && ((block.cjs && !hasCjs) || missingNames(block.code).length > 0)) continue;
  // The quick start plays the user's phone itself (IPROOV_EMULATOR_URL): run as written.
  const quickStart = block.index === 1;
  test(`README example ${block.index} (${kind})${quickStart ? ': the quick start as written, the phone played through the emulator' : ''}`, async () => {
    await emu.reset();
    const source = prepared(block.code, emu.url, block.cjs ? cjsSpecifier : esmSpecifier);
    // Inside the package directory, so that `import 'iproov-sansio'` resolves to this package.
    const dir = join(here, '.readme');
    const file = `example-${block.index}.${block.cjs ? 'cjs' : 'mjs'}`;
    if (quickStart) {
      assert.equal(prepared(block.code, emu.url), block.code, 'the quick start runs as written (its target from IPROOV_BASE_URL)');
      // Without the emulator's URL nobody plays the phone: the validate finds no capture.
      const alone = await runExample(dir, file, source, emu.url, null, { IPROOV_EMULATOR_URL: '' });
      assert.equal(alone.code, 0, `${alone.stdout}\n${alone.stderr}`);
      assert.match(alone.stdout, /^not enrolled: start_attempt$/m);
    }
    const mark = await emu.journalMark();
    const { code, stdout, stderr } = await runExample(dir, file, source, emu.url, quickStart ? null : undefined);
    assert.equal(code, 0, `example ${block.index} failed:\n${stdout}\n${stderr}`);
    if (quickStart) {
      // What iProov got from this run (the request journal): a token request, then one validate
      // for the same user, with the quick start's `client`.
      const sent = await emu.requests({ since: mark });
      assert.deepEqual(sent.map((r) => r.path.replace(/^\/eu\/api\/v2/, '')), ['/claim/enrol/token', '/claim/enrol/validate']);
      const [tokenRequest, validate] = sent;
      assert.equal(validate.json.user_id, tokenRequest.json.user_id);
      assert.deepEqual([validate.json.client, validate.json.secret], ['Mozilla/5.0', '***']);
    }
    if (/console\.log\(result\.passed/.test(block.code)) assert.match(stdout, /^enrolled$/m);
    // A journey's history: the token request's and the validate's records, from the store.
    if (/\.history\(/.test(block.code)) assert.match(stdout, /^token_issued passed$/m);
  });
}
