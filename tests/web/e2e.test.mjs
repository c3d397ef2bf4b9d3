// The face-check page end to end, in Debian's headless Chromium driven by playwright-core:
// the real page served by demo/web.py (iproov_sansio.web on the SQLite store, uvicorn on
// 127.0.0.1), the real emulator behind it. Each test is a fresh browser profile, so a new
// signed-in user (the demo's cookie). Every wait is bounded.
//
//   node --test tests/web/e2e.test.mjs      (scripts/test runs it; see tests/web/run.sh)
//
// Needs: /usr/bin/chromium (or $CHROMIUM), target/debug/iproov-emulator ($IPROOV_EMULATOR_BIN),
// target/py-venv with the wheel, starlette and uvicorn ($IPROOV_TEST_PYTHON).

import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

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

/** Starts a process and resolves with its first stdout line matching `pattern`. */
function startProcess(command, args, env, pattern, what) {
  const child = spawn(command, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
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

/** The journey as the SQLite store holds it (core's record). */
function stored(journeyId) {
  const script = `
import json, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
row = db.execute("SELECT record FROM iproov_journeys WHERE id = ?", (sys.argv[2],)).fetchone()
print(row[0] if row else "null")
`;
  const out = execFileSync(PYTHON, ['-c', script, join(dir, 'journeys.sqlite3'), journeyId], {
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

after(() => {
  for (const child of children) child.kill('SIGTERM');
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** A fresh Chromium profile (a new user of the demo) on the page, ready. */
async function openBrowser(t) {
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
  await page.goto(pageUrl, { timeout: WAIT });
  await page.waitForSelector('body[data-state=ready]');
  return { page, journeys, context };
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

test('the README shows screenshots of the page', () => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  for (const name of ['web-capture.png', 'web-page.png']) {
    assert.ok(readme.includes(`](docs/${name})`), `README shows docs/${name}`);
    const png = readFileSync(join(ROOT, 'docs', name));
    assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  }
});
