// The face-check page end to end, in Debian's headless Chromium driven by playwright-core:
// the real page served by demo/web.py (iproov_sansio.web on the SQLite store, uvicorn on
// 127.0.0.1), the real emulator behind it. Each test is a fresh browser profile, so a new
// signed-in user (the demo's cookie). Every wait is bounded. Then the same page through the
// JS handler (createJourneyHandler): the root README's worker example inside workerd on a
// Durable Object (the edge package), and its Node example on Node's http (the Node package),
// each signed in by an `e2e_user` cookie that the examples' `./auth.js` (auth.mjs) reads.
//
//   node --test tests/web/e2e.test.mjs      (scripts/test runs it; see tests/web/run.sh)
//
// Needs: /usr/bin/chromium (or $CHROMIUM), target/debug/iproov-emulator ($IPROOV_EMULATOR_BIN),
// target/py-venv with the wheel, starlette and uvicorn ($IPROOV_TEST_PYTHON), the edge package
// built with its dev tools (bindings-wasm: dist/, esbuild, workerd) and the Node package
// built (bindings-node: the addon, dist/, better-sqlite3).

import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { randomUUID } from 'node:crypto';
import { chromium } from 'playwright-core';
import { bundleWorker, prepareBuildDir, serveWorkerd } from '../../bindings-wasm/scripts/workerd.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const EMULATOR = process.env.IPROOV_EMULATOR_BIN ?? join(ROOT, 'target/debug/iproov-emulator');
const PYTHON = process.env.IPROOV_TEST_PYTHON ?? join(ROOT, 'target/py-venv/bin/python');
const SHOTS = join(ROOT, 'target/web');
const WAIT = 15_000; // any one thing the page does
const TEST = { timeout: 120_000 };

// The emulator's built-in eu service provider (tests/emulator/README.md).
const EU = {
  IPROOV_API_KEY: 'eudefaultkey0000000000000000000000000000',
  IPROOV_SECRET: 'eudefaultsecret0000000000000000000000000',
};

const children = [];
let dir;
let emulatorUrl;
let pageUrl;
let workerd; // the worker example inside workerd: {url, stop, exited}
const scratch = []; // directories to remove at the end

/** Starts a process and resolves with its first stdout line matching `pattern`. */
function startProcess(command, args, env, pattern, what, cwd = ROOT) {
  const child = spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let stderr = '';
  child.stderr.on('data', (chunk) => {
    stderr = (stderr + chunk).slice(-4000);
  });
  const lines = createInterface({ input: child.stdout });
  return new Promise((resolvePromise, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} did not start in 30 s: ${stderr}`)), 30_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${what} exited (${code}): ${stderr}`));
    });
    lines.on('line', (line) => {
      const match = line.match(pattern);
      if (match) {
        clearTimeout(timer);
        resolvePromise(match[1]);
      }
    });
  });
}

async function control(method, path, body) {
  const response = await fetch(`${emulatorUrl}/__emulator${path}`, {
    method,
    headers: body ? { 'Content-Type': 'application/json' } : {},
    body: body ? JSON.stringify(body) : undefined,
    signal: AbortSignal.timeout(10_000),
  });
  assert.ok(response.ok, `emulator ${method} ${path}: ${response.status}`);
  const text = await response.text();
  return text ? JSON.parse(text) : null;
}

const validates = async (flow = 'enrol') =>
  (await control('GET', `/requests?path=/claim/${flow}/validate`)).count;

/** The journey as a SQLite store holds it (core's record): the Python demo's by default. */
function stored(journeyId, file = join(dir, 'journeys.sqlite3')) {
  const script = `
import json, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
row = db.execute("SELECT record FROM iproov_journeys WHERE id = ?", (sys.argv[2],)).fetchone()
print(row[0] if row else "null")
`;
  const out = execFileSync(PYTHON, ['-c', script, file, journeyId], {
    timeout: 10_000,
  });
  return JSON.parse(out.toString());
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'iproov-web-e2e-'));
  mkdirSync(SHOTS, { recursive: true });
  emulatorUrl = await startProcess(EMULATOR, ['--port', '0'], process.env, /^listening on (http:\S+)$/, 'the emulator');
  const env = {
    ...process.env,
    ...EU,
    IPROOV_BASE_URL: `${emulatorUrl}/eu`,
    IPROOV_DEMO_EMULATOR: emulatorUrl,
    IPROOV_DEMO_DIR: dir,
    IPROOV_DEMO_PORT: '0',
  };
  delete env.IPROOV_REGION;
  pageUrl = await startProcess(PYTHON, ['demo/web.py'], env, /^open (http:\S+)$/, 'demo/web.py');
});

/** TERM, then (after 10 s) KILL; resolves once the process is gone. */
async function stopChild(child) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise((resolvePromise) => child.once('exit', resolvePromise));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await gone;
  clearTimeout(timer);
}

// Every process this file started is stopped and seen gone, whatever the tests did.
after(async () => {
  if (workerd) {
    workerd.stop();
    await workerd.exited;
  }
  await Promise.all(children.map(stopChild));
  if (dir) rmSync(dir, { recursive: true, force: true });
  for (const out of scratch) rmSync(out, { recursive: true, force: true });
});

/** A fresh Chromium profile (a new user of the demo) on the page, ready. `site`: another
 * site's page URL, whose user is the `e2e_user` cookie set here. */
async function openBrowser(t, site) {
  const profile = mkdtempSync(join(tmpdir(), 'iproov-web-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    timeout: 30_000,
    viewport: { width: 760, height: 720 },
    // As root in a container without a GPU, on a machine whose network is loopback only.
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  t.after(async () => {
    await context.close();
    rmSync(profile, { recursive: true, force: true });
  });
  context.setDefaultTimeout(WAIT);
  const page = context.pages()[0] ?? (await context.newPage());
  const problems = [];
  page.on('pageerror', (error) => problems.push(String(error)));
  t.after(() => assert.deepEqual(problems, [], 'no script error in the page'));
  // What the page sent and got, for the checks below.
  const journeys = [];
  page.on('response', async (response) => {
    if (response.url().endsWith('/iproov/token') && response.ok()) journeys.push(await response.json());
  });
  let user;
  if (site !== undefined) {
    user = randomUUID();
    await context.addCookies([{ name: 'e2e_user', value: user, url: site, httpOnly: true, sameSite: 'Strict' }]);
  }
  await page.goto(site ?? pageUrl, { timeout: WAIT });
  await page.waitForSelector('body[data-state=ready]');
  return { page, journeys, context, user };
}

async function startCheck(page, flow = 'enrol') {
  await page.check(`input[name=flow][value=${flow}]`);
  await page.click('#start');
  await page.waitForSelector('body[data-state=capture]');
}

async function result(page) {
  await page.waitForSelector('body[data-state=result]');
  return {
    text: await page.textContent('#result-text'),
    left: await page.textContent('#attempts-left'),
    again: await page.isVisible('#again'),
  };
}

describe('the face-check page in Chromium', () => {
  beforeEach(async () => {
    await control('POST', '/reset');
  });

  test('a pass: enrolled, then verified', TEST, async (t) => {
    const { page, journeys } = await openBrowser(t);
    await startCheck(page, 'enrol');
    assert.ok(await page.isVisible('#stand-in'), 'the emulator stand-in replaces the SDK');
    await page.screenshot({ path: join(SHOTS, 'capture.png') });
    assert.equal(await page.textContent('#attempt'), '1 (2 more after this one)');
    await page.click('#pass');
    assert.deepEqual(await result(page), { text: 'Passed: enrolled.', left: 'Attempts left: 2', again: false });
    await page.screenshot({ path: join(SHOTS, 'page.png') });
    assert.equal(await validates(), 1);
    assert.equal(stored(journeys[0].journey_id).attempts[0].state, 'passed');

    await page.click('#restart');
    await startCheck(page, 'verify');
    await page.click('#pass');
    assert.equal((await result(page)).text, 'Passed: verified.');
    const claims = (await control('GET', '/state')).claims;
    assert.equal(new Set(claims.map((c) => c.user_id)).size, 1, 'one user, from the session');
  });

  test('a failure, then a pass on a new token', TEST, async (t) => {
    const { page, journeys } = await openBrowser(t);
    await startCheck(page);
    await page.selectOption('#reason', 'too_dark');
    await page.click('#fail');
    assert.deepEqual(await result(page), { text: 'Not passed (too_dark).', left: 'Attempts left: 2', again: true });
    await page.click('#again');
    await page.waitForSelector('body[data-state=capture]');
    assert.equal(await page.textContent('#attempt'), '2 (1 more after this one)');
    await page.click('#pass');
    assert.deepEqual(await result(page), { text: 'Passed: enrolled.', left: 'Attempts left: 1', again: false });
    assert.equal(journeys.length, 2);
    assert.equal(journeys[0].journey_id, journeys[1].journey_id);
    assert.notEqual(journeys[0].token, journeys[1].token);
    assert.deepEqual(stored(journeys[0].journey_id).attempts.map((a) => a.state), ['failed', 'passed']);
  });

  test('attempts run out', TEST, async (t) => {
    const { page, journeys } = await openBrowser(t);
    await startCheck(page);
    for (const left of [2, 1]) {
      await page.click('#fail');
      assert.deepEqual(await result(page), {
        text: 'Not passed (too_much_movement).',
        left: `Attempts left: ${left}`,
        again: true,
      });
      await page.click('#again');
      await page.waitForSelector('body[data-state=capture]');
    }
    await page.click('#fail');
    assert.deepEqual(await result(page), {
      text: 'Not passed (too_much_movement). No attempts left.',
      left: 'Attempts left: 0',
      again: false,
    });
    assert.ok(await page.isVisible('#restart'));
    assert.equal(await validates(), 3);
    assert.deepEqual(stored(journeys[0].journey_id).attempts.map((a) => a.state), ['failed', 'failed', 'failed']);
  });

  test('a double-clicked validate sends one validate', TEST, async (t) => {
    const { page } = await openBrowser(t);
    await startCheck(page);
    // iProov takes a while to answer, so that a second submit arrives while the first is out.
    await control('POST', '/faults', { path: '/claim/enrol/validate', kind: 'delay', delay_ms: 1500 });
    const sent = page.waitForRequest((request) => request.url().endsWith('/iproov/validate'));
    await page.dblclick('#pass');
    const first = await sent;
    // The page sends one validate per attempt by itself; a second submit of the same request
    // (a second tab, a replayed request) from this browser, while the first is in flight:
    const replayed = await page.evaluate(async (body) => {
      const response = await fetch('validate', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body,
      });
      return { status: response.status, body: await response.json() };
    }, first.postData());
    assert.equal(replayed.status, 200);
    assert.equal(replayed.body.passed, true);
    assert.equal((await result(page)).text, 'Passed: enrolled.');
    assert.equal(await validates(), 1, 'one validate in the emulator request log');
  });

  test('an emulator fault during validate: try again, and the store holds outcome unknown', TEST, async (t) => {
    const { page, journeys, context } = await openBrowser(t);
    // A verify (an enrol whose answer was lost leaves iProov's user half made): the demo's
    // signed-in user, enrolled directly on the emulator.
    const [cookie] = (await context.cookies()).filter((c) => c.name === 'demo_user');
    await control('POST', '/users', { api_key: EU.IPROOV_API_KEY, user_id: cookie.value });
    await startCheck(page, 'verify');
    await control('POST', '/faults', { path: '/claim/verify/validate', kind: 'status', status: 503 });
    await page.click('#pass');
    assert.deepEqual(await result(page), {
      text: 'We could not get the result of this attempt. Try again.',
      left: 'Attempts left: 2',
      again: true,
    });
    const record = stored(journeys[0].journey_id);
    assert.equal(record.attempts[0].state, 'outcome_unknown');
    assert.equal(record.attempts[0].token, undefined, 'the token is forgotten');
    // The new attempt gets a new token and passes.
    await page.click('#again');
    await page.waitForSelector('body[data-state=capture]');
    await page.click('#pass');
    assert.equal((await result(page)).text, 'Passed: verified.');
    assert.notEqual(journeys[1].token, journeys[0].token);
    assert.equal(await validates('verify'), 2);
  });
});

/** The root README's one ```js block that has every one of `words`. */
function readmeBlock(words) {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const found = [...readme.matchAll(/```js\n([\s\S]*?)```/g)].map((m) => m[1]).filter((b) => words.every((w) => b.includes(w)));
  assert.equal(found.length, 1, `one README example has ${words.join(', ')}`);
  assert.ok(found[0].includes("region: 'eu'"), 'the example says region: eu (pointed at the emulator here)');
  return found[0].replaceAll("region: 'eu'", `baseUrl: ${JSON.stringify(`${emulatorUrl}/eu`)}`);
}

/** The README's worker example inside workerd (its Durable Objects on SQLite on disk). */
async function startWorker(out) {
  const build = join(out, 'build');
  prepareBuildDir(build);
  copyFileSync(join(ROOT, 'tests/web/auth.mjs'), join(build, 'auth.js'));
  const source = readmeBlock(['createJourneyHandler', 'DurableObjectStore']);
  await bundleWorker(build, 'worker.mjs', { stdin: { contents: source, resolveDir: build, sourcefile: 'README.md', loader: 'js' } }, ['cloudflare:*']);
  mkdirSync(join(out, 'storage'));
  writeFileSync(join(out, 'config.capnp'), `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [
    (name = "site", worker = .site),
    (name = "loopback", network = (allow = ["local", "private", "public"])),
    (name = "storage", disk = (writable = true)),
  ],
  sockets = [(name = "http", address = "127.0.0.1:0", http = (), service = "site")],
);
const site :Workerd.Worker = (
  modules = [
    (name = "worker.mjs", esModule = embed "build/worker.mjs"),
    (name = "iproov_sansio_wasm_bg.wasm", wasm = embed "build/iproov_sansio_wasm_bg.wasm"),
  ],
  compatibilityDate = "2025-01-01",
  globalOutbound = "loopback",
  bindings = [
    (name = "IPROOV_API_KEY", text = "${EU.IPROOV_API_KEY}"),
    (name = "IPROOV_SECRET", text = "${EU.IPROOV_SECRET}"),
    (name = "IPROOV_EMULATOR_URL", text = "${emulatorUrl}"),
    (name = "JOURNEYS", durableObjectNamespace = "Journeys"),
  ],
  durableObjectNamespaces = [(className = "Journeys", uniqueKey = "iproov-sansio-web-e2e", enableSql = true)],
  durableObjectStorage = (localDisk = "storage"),
);
`);
  const { port, stop, exited } = await serveWorkerd(join(out, 'config.capnp'), { args: ['--directory-path', `storage=${join(out, 'storage')}`] });
  return { url: `http://127.0.0.1:${port}/iproov/`, stop, exited };
}

/** The README's Node example with `node`, on a free port, in `out` (its SQLite file there). */
async function startNode(out) {
  mkdirSync(join(out, 'node_modules'));
  symlinkSync(join(ROOT, 'bindings-node'), join(out, 'node_modules/iproov-sansio'), 'dir');
  copyFileSync(join(ROOT, 'tests/web/auth.mjs'), join(out, 'auth.js'));
  writeFileSync(join(out, 'package.json'), '{"type": "module"}\n');
  const listen = "listen(8000, '127.0.0.1')";
  const source = readmeBlock(['createJourneyHandler', 'toNodeHandler']);
  assert.ok(source.includes(listen), `the Node example says ${listen}`);
  const onFreePort = "listen(0, '127.0.0.1', function () { console.log(`open http://127.0.0.1:${this.address().port}/iproov/`); })";
  writeFileSync(join(out, 'example.mjs'), source.replace(listen, onFreePort));
  const env = { ...process.env, ...EU, IPROOV_EMULATOR_URL: emulatorUrl };
  const url = await startProcess(process.execPath, [join(out, 'example.mjs')], env, /^open (http:\S+)$/, "the README's Node example", out);
  return { url, store: join(out, 'journeys.sqlite3') };
}

describe('the same page through the JS handler (createJourneyHandler)', () => {
  const sites = {};
  before(async () => {
    const out = mkdtempSync(join(tmpdir(), 'iproov-web-js-'));
    scratch.push(out);
    mkdirSync(join(out, 'worker'));
    mkdirSync(join(out, 'node'));
    workerd = await startWorker(join(out, 'worker'));
    sites['the worker inside workerd (Durable Object store)'] = { url: workerd.url };
    sites['Node http (SQLite store)'] = await startNode(join(out, 'node'));
  });
  beforeEach(async () => {
    await control('POST', '/reset');
  });

  for (const name of ['the worker inside workerd (Durable Object store)', 'Node http (SQLite store)']) {
    test(`${name}: signed out, the API says so; a pass: enrolled, then verified`, TEST, async (t) => {
      const site = sites[name];
      const signedOut = await fetch(new URL('token', site.url), {
        method: 'POST',
        headers: { Origin: new URL(site.url).origin, 'Content-Type': 'application/json' },
        body: '{"flow": "enrol"}',
      });
      assert.equal(signedOut.status, 401);
      assert.equal((await signedOut.json()).error.code, 'unauthenticated');
      const { page, journeys, user } = await openBrowser(t, site.url);
      await startCheck(page, 'enrol');
      assert.ok(await page.isVisible('#stand-in'), 'the emulator stand-in replaces the SDK');
      assert.equal(await page.textContent('#attempt'), '1 (2 more after this one)');
      await page.click('#pass');
      assert.deepEqual(await result(page), { text: 'Passed: enrolled.', left: 'Attempts left: 2', again: false });
      assert.equal(await validates(), 1);
      if (site.store) assert.equal(stored(journeys[0].journey_id, site.store).attempts[0].state, 'passed');
      await page.click('#restart');
      await startCheck(page, 'verify');
      await page.click('#pass');
      assert.equal((await result(page)).text, 'Passed: verified.');
      const claims = (await control('GET', '/state')).claims;
      assert.deepEqual([...new Set(claims.map((c) => c.user_id))], [user], 'one user, from the app\'s auth');
    });

    test(`${name}: a double-clicked validate sends one validate`, TEST, async (t) => {
      const { page } = await openBrowser(t, sites[name].url);
      await startCheck(page);
      await control('POST', '/faults', { path: '/claim/enrol/validate', kind: 'delay', delay_ms: 1500 });
      const sent = page.waitForRequest((request) => request.url().endsWith('/iproov/validate'));
      await page.dblclick('#pass');
      const first = await sent;
      const replayed = await page.evaluate(async (body) => {
        const response = await fetch('validate', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body });
        return { status: response.status, body: await response.json() };
      }, first.postData());
      assert.equal(replayed.status, 200, JSON.stringify(replayed.body));
      assert.equal(replayed.body.passed, true);
      assert.equal((await result(page)).text, 'Passed: enrolled.');
      assert.equal(await validates(), 1, 'one validate in the emulator request log');
    });
  }
});

test('the README shows screenshots of the page', () => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  for (const name of ['web-capture.png', 'web-page.png']) {
    assert.ok(readme.includes(`](docs/${name})`), `README shows docs/${name}`);
    const png = readFileSync(join(ROOT, 'docs', name));
    assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  }
});
