// Loading conformance vectors (tests/vectors/README.md) from disk for the suite's vector tests;
// the checks themselves are in vector-checks.mjs (no file system, so workerd runs them too).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { REPO } from './impl.mjs';

export function vectorDirs() {
  const dirs = [join(REPO, 'tests/vectors')];
  if (process.env.IPROOV_VECTORS_DIR) dirs.push(process.env.IPROOV_VECTORS_DIR);
  return dirs;
}

function collect(dir, out) {
  let entries;
  try {
    entries = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of entries) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) collect(path, out);
    else if (name.endsWith('.json')) out.push(path);
  }
}

/** Every vector of every dir: [{file, name, vector}], files in sorted path order. */
export function loadVectors() {
  const all = [];
  const problems = [];
  for (const dir of vectorDirs()) {
    const files = [];
    collect(dir, files);
    files.sort();
    if (files.length === 0) problems.push(`${dir}: no vector files found`);
    for (const file of files) {
      let value;
      try {
        value = JSON.parse(readFileSync(file, 'utf8'));
      } catch (e) {
        problems.push(`${file}: unreadable: ${e.message}`);
        continue;
      }
      const list = Array.isArray(value?.vectors) ? value.vectors : [value];
      for (const vector of list) all.push({ file, name: vector?.name ?? '<unnamed>', vector });
    }
  }
  return { all, problems };
}

export * from './vector-checks.mjs';
