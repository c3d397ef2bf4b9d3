// Benchmark (a command, not a test): `npm run bench` or `node bench/bench.mjs [--quick]`.
//
// Per operation, the cost of the public API's `build` and `parse` (through the native core)
// against a pure-JS baseline that does what a hand-written integration does: JSON.parse +
// RegExp checks + object building (and JSON.stringify for requests), with none of core's
// checks for the shapes the sources disagree on. Also: `require` time of the package.
// IPROOV_JS_IMPL selects another implementation (as for the test suite). `--json FILE` also
// writes the figures as JSON (for scripts/bench). Imported as a module (by the edge package's
// bench), it runs nothing and exports its cases and pure-JS baseline.
import { execFileSync } from 'node:child_process';
import { realpathSync, writeFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { dirname, join, resolve, isAbsolute } from 'node:path';

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

const KEY = '0123456789abcdefghij0123456789abcdefghij';
const SECRET = 'sec-0123456789abcdef';
const TOKEN = '3170a1c2e5f94b7d8e6a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e';
const USER = '5f1c2a9e-7b3d-4c8e-9a01-2d6f4b8c0e13';
const CONFIG_OPTIONS = { region: 'eu', apiKey: KEY, secret: SECRET, accessToken: 'at-5d0c1e8f3a9b47e6a2c4d8f1b3e5a7c9' , oauth: { username: 'oauth-user', password: 'oauth-pass' } };
const config = isMain ? new api.Config(CONFIG_OPTIONS) : undefined;
const FRAME = Buffer.alloc(45_000, 7).toString('base64'); // 60 KB of base64
const PNG = Buffer.from('89504e470d0a1a0a0000000d4948445200000001000000010806000000', 'hex');

const JSON_HEADERS = { 'content-type': 'application/json' };
const body = (o) => JSON.stringify(o);

// Per operation: input, a 200 response body.
const CASES = {
  enrol_token: [{ resource: 'Login', user_id: USER }, body({ token: TOKEN, fallback: [], primary: '', user_id: USER, pod: 'edge02.eu4' })],
  verify_token: [{ resource: 'Login', user_id: USER, assurance_type: 'genuine_presence' }, body({ token: TOKEN, fallback: [{ type: 'Info', message: 'x' }], user_id: USER, pod: 'edge02.eu4' })],
  enrol_image: [{ token: TOKEN, source: 'oid', image: { base64: PNG.toString('base64') } }, body({ success: true, token: TOKEN, user_id: USER })],
  enrol_validate: [{ user_id: USER, token: TOKEN, client: 'Mozilla/5.0', activate: true }, body({ passed: true, token: TOKEN, type: 'enrol', frame_available: true })],
  verify_validate: [{ user_id: USER, token: TOKEN, client: 'Mozilla/5.0' }, body({ passed: false, token: TOKEN, type: 'verify', frame_available: 'false', reason: 'too_much_movement', assurance_type: 'genuine_presence' })],
  access_token: [{ scope: ['user-read'] }, body({ access_token: 'at-5d0c1e8f3a9b47e6a2c4d8f1b3e5a7c9', token_type: 'Bearer', expires_in: 3600, scope: 'user-read user-write' })],
  activate_user: [{ user_id: USER }, body({ user_id: USER, name: 'n', status: 'Active' })],
  suspend_user: [{ user_id: USER, date_time: '2024-05-01T12:30:00Z' }, body({ user_id: USER, name: 'n', status: 'Suspended', suspension_date: '2024-05-01T12:30:00Z' })],
  get_user: [{ user_id: USER }, body({ user_id: USER, name: 'n', status: 'Active' })],
  update_user: [{ user_id: USER, name: 'Jane' }, body({ user_id: USER, name: 'Jane', status: 'Active' })],
  delete_user: [{ user_id: USER }, body({ user_id: USER, name: 'n', status: 'Deleted' })],
  invalidate_claim: [{ token: TOKEN, reason: 'user cancelled' }, body({ claim_aborted: true, user_informed: false })],
  availability: [{}, body({ up: true })],
};
const FRAME_CASE = ['verify_validate (60 KB frame)', 'verify_validate', body({ passed: true, token: TOKEN, type: 'verify', frame_available: true, frame: FRAME })];

// ---- the pure-JS baseline -------------------------------------------------------------------
const USER_RE = /^[a-zA-Z0-9'+_@.-]{1,256}$/;
const TOKEN_RE = /^[A-Za-z0-9_-]{1,256}$/;
const BASE = 'https://eu.rp.secure.iproov.me/api/v2';
const UA = 'iproov-sansio/0.1.0';
function baselineBuild(op, input) {
  if (input.user_id !== undefined && !USER_RE.test(input.user_id)) throw new Error('user_id');
  if (input.token !== undefined && !TOKEN_RE.test(input.token)) throw new Error('token');
  switch (op) {
    case 'availability':
      return { method: 'GET', url: `${BASE}/availability?api_key=${encodeURIComponent(KEY)}`, headers: [['User-Agent', UA]], body: '' };
    case 'access_token':
      return { method: 'POST', url: `${BASE}/${KEY}/access_token`, headers: [['User-Agent', UA], ['Content-Type', 'application/x-www-form-urlencoded'], ['Authorization', `Basic ${btoa('oauth-user:oauth-pass')}`]], body: `grant_type=client_credentials&scope=${input.scope.join(',')}` };
    case 'get_user':
    case 'delete_user':
      return { method: op === 'get_user' ? 'GET' : 'DELETE', url: `${BASE}/users/${input.user_id}`, headers: [['User-Agent', UA], ['Authorization', 'Bearer at']], body: '' };
    case 'enrol_image':
      return { method: 'POST', url: `${BASE}/claim/enrol/image`, headers: [['User-Agent', UA], ['Content-Type', 'multipart/form-data; boundary=x']], body: `--x\r\n${KEY}${SECRET}${input.token}${input.source}${atob(input.image.base64).length}` };
    default:
      return { method: 'POST', url: `${BASE}/${op}`, headers: [['User-Agent', UA], ['Content-Type', 'application/json']], body: JSON.stringify({ api_key: KEY, secret: SECRET, ...input }) };
  }
}
const camelRe = /_([a-z0-9])/g;
function baselineParse(op, text) {
  const json = JSON.parse(text);
  if (typeof json !== 'object' || json === null) throw new Error('decode');
  const out = {};
  for (const key in json) out[key.replace(camelRe, (_, c) => c.toUpperCase())] = json[key];
  if (typeof out.frameAvailable === 'string') out.frameAvailable = out.frameAvailable === 'true';
  if (typeof out.status === 'string') out.status = out.status.toLowerCase();
  if (typeof out.scope === 'string') out.scope = out.scope.split(' ');
  return out;
}

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
