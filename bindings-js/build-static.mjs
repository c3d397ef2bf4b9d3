// Build helper (not shipped): an esbuild plugin that gives `import PAGE_FILES from
// 'iproov-sansio:web-static'` (bindings-js/web.mjs) the browser page's files as strings,
// `{"index.html": text, "journey.mjs": text, "page.css": text}`, read from their one source,
// the Python package's bindings-python/python/iproov_sansio/web/static. The Node and edge
// packages' builds inline them, so the handler serves the page without a file system.
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const PAGE_DIR = join(dirname(fileURLToPath(import.meta.url)), '../bindings-python/python/iproov_sansio/web/static');

export const webStaticPlugin = {
  name: 'iproov-sansio-web-static',
  setup(build) {
    build.onResolve({ filter: /^iproov-sansio:web-static$/ }, () => ({ path: 'web-static', namespace: 'iproov-sansio' }));
    build.onLoad({ filter: /^web-static$/, namespace: 'iproov-sansio' }, () => {
      const files = {};
      for (const name of readdirSync(PAGE_DIR).sort()) files[name] = readFileSync(join(PAGE_DIR, name), 'utf8');
      return { contents: `export default ${JSON.stringify(files)};`, loader: 'js', watchFiles: Object.keys(files).map((n) => join(PAGE_DIR, n)) };
    });
  },
};
