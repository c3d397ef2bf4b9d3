// Which implementation the suite tests: IPROOV_JS_IMPL names a package or a path to its ESM
// entry (the edge package sets it to the wasm build); by default, this package. The suite only
// uses the public API, so any package that implements it can run it.
import { createRequire } from 'node:module';
import { isAbsolute, resolve, dirname, join } from 'node:path';
import { pathToFileURL, fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
export const REPO = resolve(here, '../..');

const spec = process.env.IPROOV_JS_IMPL;

function specifier() {
  if (!spec) return pathToFileURL(join(here, '../index.mjs')).href;
  if (spec.startsWith('.') || isAbsolute(spec)) return pathToFileURL(resolve(process.cwd(), spec)).href;
  return spec;
}

export const IMPL = spec || 'iproov-sansio (this package)';

/** The implementation under test, loaded with `import`. */
const mod = await import(specifier());
export const api = mod.default ?? mod;
export const esm = mod;

/**
 * Which backend this package's index.cjs loaded in this process: 'wasm' (dist/api-wasm.cjs),
 * 'addon' (a .node file), or undefined when it was not loaded (another implementation under
 * test). Read from the module cache, which importing CJS fills too.
 */
export function nodeBackend() {
  const loaded = Object.keys(createRequire(import.meta.url).cache);
  const ours = (file) => file.startsWith(join(here, '..') + '/') && !file.includes('/node_modules/');
  const wasm = loaded.some((f) => ours(f) && f.endsWith('/dist/api-wasm.cjs'));
  const addon = loaded.some((f) => ours(f) && f.endsWith('.node'));
  if (wasm && addon) throw new Error('both backends loaded');
  return wasm ? 'wasm' : addon ? 'addon' : undefined;
}

// Every file of the suite, under IPROOV_SANSIO_BACKEND=wasm (scripts/wasm.sh forces it for a
// whole run), must really run on the wasm build: a run that fell back to the addon would pass
// and prove nothing about the fallback.
if (!spec && process.env.IPROOV_SANSIO_BACKEND === 'wasm' && nodeBackend() !== 'wasm') {
  throw new Error(`IPROOV_SANSIO_BACKEND=wasm, but the package loaded ${nodeBackend() ?? 'no backend'}`);
}

/** The same implementation loaded with `require`, or undefined when it has no CJS entry. */
export function requireImpl() {
  const cjsSpec = process.env.IPROOV_JS_IMPL_CJS ?? (spec ? undefined : join(here, '../index.cjs'));
  if (!cjsSpec) return undefined;
  const req = createRequire(join(process.cwd(), 'noop.js'));
  return req(cjsSpec.startsWith('.') ? resolve(process.cwd(), cjsSpec) : cjsSpec);
}
