// Bundles the shared JS layer (../bindings-js, which the edge package bundles too) into the
// one CommonJS implementation (dist/api.cjs) that both entry points load: index.cjs requires
// it, index.mjs re-exports index.cjs. One implementation means one set of classes, so
// `instanceof` works across ESM and CJS. Its types and the native interface's description go
// to dist/ beside it, so that `npm pack` ships them.
import { build } from 'esbuild';
import { copyFileSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const shared = join(root, '../bindings-js');
const dist = join(root, 'dist');

await build({
  entryPoints: [join(shared, 'api.mjs')],
  outfile: join(dist, 'api.cjs'),
  bundle: true,
  format: 'cjs',
  platform: 'neutral',
  target: 'node20',
  keepNames: true,
  legalComments: 'none',
  logLevel: 'warning',
  banner: { js: '// Generated from bindings-js/*.mjs by scripts/build-js.mjs: edit those, not this file.' },
});
mkdirSync(dist, { recursive: true });
copyFileSync(join(shared, 'api.d.ts'), join(dist, 'api.d.ts'));
copyFileSync(join(shared, 'native.d.ts'), join(dist, 'native-interface.d.ts'));
copyFileSync(join(shared, 'NATIVE.md'), join(dist, 'NATIVE.md'));
