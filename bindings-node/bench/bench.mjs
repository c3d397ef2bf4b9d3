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

export { CASES, FRAME_CASE, CONFIG_OPTIONS, JSON_HEADERS, baselineBuild, baselineParse, measure };

function fmt(ns) {
  return ns >= 10_000 ? `${(ns / 1000).toFixed(1)} us` : `${(ns / 1000).toFixed(2)} us`;
}

async function main() {
  const rows = [];
  for (const [op, [input, text]] of Object.entries(CASES)) {
    const bytes = new TextEncoder().encode(text);
    const response = { status: 200, headers: JSON_HEADERS, body: bytes };
    api.parse(op, config, response);
    api.build(op, config, input);
    const b = measure(() => api.build(op, config, input));
    const bb = measure(() => baselineBuild(op, input));
    const p = measure(() => api.parse(op, config, response));
    const pb = measure(() => baselineParse(op, new TextDecoder().decode(bytes)));
    rows.push([op, b, bb, p, pb]);
  }
  {
    const [label, op, text] = FRAME_CASE;
    const bytes = new TextEncoder().encode(text);
    const response = { status: 200, headers: JSON_HEADERS, body: bytes };
    const p = measure(() => api.parse(op, config, response));
    const pb = measure(() => baselineParse(op, new TextDecoder().decode(bytes)));
    const jp = measure(() => JSON.parse(new TextDecoder().decode(bytes)));
    rows.push([label, NaN, NaN, p, pb]);
    rows.push(['  (JSON.parse alone, same body)', NaN, NaN, jp, NaN]);
  }

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

  const pad = (s, n) => String(s).padEnd(n);
  const lpad = (s, n) => String(s).padStart(n);
  console.log(`iproov-sansio JS API benchmark (${spec || 'this package'}), Node ${process.version}, ${quick ? 'quick' : 'full'} run`);
  console.log('');
  console.log(`${pad('operation', 32)}${lpad('build', 10)}${lpad('baseline', 10)}${lpad('x', 7)}${lpad('parse', 10)}${lpad('baseline', 10)}${lpad('x', 7)}`);
  console.log('-'.repeat(86));
  for (const [op, b, bb, p, pb] of rows) {
    const ratio = (x, y) => (Number.isFinite(x) && Number.isFinite(y) ? `${(x / y).toFixed(1)}x` : '');
    const cell = (x) => (Number.isFinite(x) ? fmt(x) : '');
    console.log(`${pad(op, 32)}${lpad(cell(b), 10)}${lpad(cell(bb), 10)}${lpad(ratio(b, bb), 7)}${lpad(cell(p), 10)}${lpad(cell(pb), 10)}${lpad(ratio(p, pb), 7)}`);
  }
  const r = requireTimes();
  console.log('');
  console.log(`${r.how} time: median ${r.median.toFixed(1)} ms, min ${r.min.toFixed(1)} ms (fresh process each)`);
  if (jsonFile) {
    const ops = rows.slice(0, -2).map(([op, b, bb, p, pb]) => ({ op, build_ns: b, baseline_build_ns: bb, parse_ns: p, baseline_parse_ns: pb }));
    const [[, , , fp, fpb], [, , , jp]] = rows.slice(-2);
    const frame = { op: FRAME_CASE[1], label: FRAME_CASE[0], parse_ns: fp, baseline_parse_ns: fpb, json_parse_ns: jp };
    const out = { host: 'node', impl: spec || 'iproov-sansio', node: process.version, quick, ops, frame, require_ms: { median: r.median, min: r.min, how: r.how } };
    writeFileSync(jsonFile, `${JSON.stringify(out, null, 2)}\n`);
  }
}

if (isMain) await main();
