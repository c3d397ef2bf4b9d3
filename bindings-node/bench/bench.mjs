// Benchmark (a command, not a test): `npm run bench` or `node bench/bench.mjs [--quick]`.
//
// Per operation, the cost of the public API's `build` and `parse` (through the native core)
// against the pure-JS baseline of ./cases.mjs (what a hand-written integration does). Also:
// `require` time of the package. IPROOV_JS_IMPL selects another implementation (as for the
// test suite). `--json FILE` also writes the figures as JSON (for scripts/bench). Imported as
// a module (by the edge package's bench), it runs nothing and exports its timing loop (and,
// re-exported, the cases and the baseline).
import { execFileSync } from 'node:child_process';
import { realpathSync, writeFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { dirname, join, resolve, isAbsolute } from 'node:path';
import { CASES, FRAME_CASE, CONFIG_OPTIONS, JSON_HEADERS, baselineBuild, baselineParse } from './cases.mjs';
import { printOperations } from './report.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const isMain = process.argv[1] !== undefined && realpathSync(resolve(process.argv[1])) === realpathSync(fileURLToPath(import.meta.url));
const spec = process.env.IPROOV_JS_IMPL;
const entry = spec ? (spec.startsWith('.') || isAbsolute(spec) ? pathToFileURL(resolve(spec)).href : spec) : pathToFileURL(join(here, '../index.mjs')).href;
const mod = isMain ? await import(entry) : {};
const api = mod.default ?? mod;
const quick = process.argv.includes('--quick');
const jsonAt = process.argv.indexOf('--json');
const jsonFile = jsonAt >= 0 ? process.argv[jsonAt + 1] : undefined;
const TARGET_MS = quick ? 60 : 300;

const config = isMain ? new api.Config(CONFIG_OPTIONS) : undefined;

// ---- timing ---------------------------------------------------------------------------------
function measure(fn) {
  for (let i = 0; i < 2_000; i++) fn();
  let n = 1_000;
  for (;;) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) fn();
    const ns = Number(process.hrtime.bigint() - t0);
    if (ns / 1e6 >= TARGET_MS) return ns / n;
    n = Math.ceil(n * Math.max(2, (TARGET_MS * 1e6) / Math.max(ns, 1)));
  }
}

/**
 * `build` and `parse` of every case through a JS API (this package's or the edge package's)
 * against the baseline, and the validate with a 60 KB frame: `{ops, frame}` in ns per call.
 */
function measureOperations(jsApi, jsConfig) {
  const decoder = new TextDecoder();
  const ops = [];
  for (const [op, [input, text]] of Object.entries(CASES)) {
    const bytes = new TextEncoder().encode(text);
    const response = { status: 200, headers: JSON_HEADERS, body: bytes };
    jsApi.parse(op, jsConfig, response);
    jsApi.build(op, jsConfig, input);
    ops.push({
      op,
      build_ns: measure(() => jsApi.build(op, jsConfig, input)),
      baseline_build_ns: measure(() => baselineBuild(op, input)),
      parse_ns: measure(() => jsApi.parse(op, jsConfig, response)),
      baseline_parse_ns: measure(() => baselineParse(op, decoder.decode(bytes))),
    });
  }
  const [label, op, text] = FRAME_CASE;
  const bytes = new TextEncoder().encode(text);
  const response = { status: 200, headers: JSON_HEADERS, body: bytes };
  jsApi.parse(op, jsConfig, response);
  const frame = {
    op,
    label,
    body_bytes: bytes.length,
    parse_ns: measure(() => jsApi.parse(op, jsConfig, response)),
    baseline_parse_ns: measure(() => baselineParse(op, decoder.decode(bytes))),
    json_parse_ns: measure(() => JSON.parse(decoder.decode(bytes))),
  };
  return { ops, frame };
}

export { CASES, FRAME_CASE, CONFIG_OPTIONS, JSON_HEADERS, baselineBuild, baselineParse, measure, measureOperations };

async function main() {
  const { ops, frame } = measureOperations(api, config);

  function requireTimes() {
    const cjs = spec ? undefined : join(here, '../index.cjs');
    const script = cjs
      ? `const t=process.hrtime.bigint();require(${JSON.stringify(cjs)});console.log(Number(process.hrtime.bigint()-t))`
      : `const t=process.hrtime.bigint();await import(${JSON.stringify(entry)});console.log(Number(process.hrtime.bigint()-t))`;
    const args = cjs ? ['-e', script] : ['--input-type=module', '-e', script];
    const times = [];
    for (let i = 0; i < (quick ? 3 : 9); i++) times.push(Number(execFileSync(process.execPath, args).toString()) / 1e6);
    times.sort((a, b) => a - b);
    return { median: times[Math.floor(times.length / 2)], min: times[0], how: cjs ? 'require' : 'import' };
  }

  console.log(`iproov-sansio JS API benchmark (${spec || 'this package'}), Node ${process.version}, ${quick ? 'quick' : 'full'} run`);
  console.log('');
  printOperations(ops, frame);
  const r = requireTimes();
  console.log('');
  console.log(`${r.how} time: median ${r.median.toFixed(1)} ms, min ${r.min.toFixed(1)} ms (fresh process each)`);
  if (jsonFile) {
    const out = { host: 'node', impl: spec || 'iproov-sansio', node: process.version, quick, ops, frame, require_ms: { median: r.median, min: r.min, how: r.how } };
    writeFileSync(jsonFile, `${JSON.stringify(out, null, 2)}\n`);
  }
}

if (isMain) await main();
