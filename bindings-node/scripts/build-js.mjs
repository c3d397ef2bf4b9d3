// Bundles the shared ESM sources (js/) into the one CommonJS implementation (dist/api.cjs) that
// both entry points load: index.cjs requires it, index.mjs re-exports index.cjs. One
// implementation means one set of classes, so `instanceof` works across ESM and CJS.
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

await build({
  entryPoints: [join(root, 'js/api.mjs')],
  outfile: join(root, 'dist/api.cjs'),
  bundle: true,
  format: 'cjs',
  platform: 'neutral',
  target: 'node20',
  keepNames: true,
  legalComments: 'none',
  logLevel: 'warning',
  banner: { js: '// Generated from js/*.mjs by scripts/build-js.mjs: edit those, not this file.' },
});
