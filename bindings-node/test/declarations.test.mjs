// The package's type declarations against its runtime: every value the entry point exports is
// declared (a class, a function, a constant), and every value declared is exported, by name,
// both ways. The types are partly generated from core's tables (api.generated.d.ts) and partly
// written by hand (api.d.ts, the stores, the adapters); the usage samples only check what they
// use, this checks the whole export list. Reads the declarations with the TypeScript compiler.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { api, esm, IMPL } from './impl.mjs';

const ts = createRequire(import.meta.url)('typescript');

/** The implementation's package directory: the nearest package.json above its entry. */
function packageDir() {
  const spec = process.env.IPROOV_JS_IMPL;
  let entry = join(dirname(fileURLToPath(import.meta.url)), '../index.mjs');
  if (spec && (spec.startsWith('.') || isAbsolute(spec))) entry = resolve(process.cwd(), spec);
  else if (spec) entry = fileURLToPath(import.meta.resolve(spec));
  let dir = dirname(entry);
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error(`no package.json above ${spec}`);
    dir = up;
  }
  return dir;
}

/** The names of the values (not types) a declaration file's module exports, `default` aside. */
function declaredValues(file) {
  const program = ts.createProgram([file], {
    module: ts.ModuleKind.Node16,
    moduleResolution: ts.ModuleResolutionKind.Node16,
    target: ts.ScriptTarget.ES2022,
    types: [],
    noEmit: true,
    skipLibCheck: true,
  });
  const source = program.getSourceFile(file);
  assert.ok(source, `TypeScript read ${file}`);
  const checker = program.getTypeChecker();
  const module = checker.getSymbolAtLocation(source);
  assert.ok(module, `${file} is a module`);
  const names = new Set();
  for (const symbol of checker.getExportsOfModule(module)) {
    const target = symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol;
    if (symbol.name !== 'default' && target.flags & ts.SymbolFlags.Value) names.add(symbol.name);
  }
  return names;
}

function difference(a, b) {
  return [...a].filter((name) => !b.has(name)).sort();
}

test(`every exported runtime name is declared, and every declared value exported (${IMPL})`, () => {
  const dir = packageDir();
  const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  const entry = manifest.exports?.['.']?.import?.types ?? manifest.exports?.['.']?.types ?? manifest.types;
  assert.ok(entry, `${manifest.name} names its types`);
  const declared = declaredValues(join(dir, entry));
  // Names starting with `__` are the package's own plumbing (the edge entry's `__native`).
  const exported = new Set(Object.keys(esm).filter((name) => name !== 'default' && !name.startsWith('__')));
  assert.ok(declared.size > 40 && exported.size > 40, `${declared.size} declared, ${exported.size} exported`);
  assert.deepEqual(difference(exported, declared), [], 'exported but not declared');
  assert.deepEqual(difference(declared, exported), [], 'declared but not exported');
  // The default export (the API object, require()'s too) holds the same API.
  const object = new Set(Object.keys(api).filter((name) => !name.startsWith('__')));
  assert.deepEqual(difference(object, declared), [], 'on the default export but not declared');
});
