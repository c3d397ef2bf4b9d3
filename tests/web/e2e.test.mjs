// The face-check page end to end, in Debian's headless Chromium driven by playwright-core,
// over real HTTP against the real emulator, through every host of the same routes: the page
// served by demo/web.py (iproov_sansio.web on the SQLite store, uvicorn on 127.0.0.1); by the
// JS handler (createJourneyHandler): the root README's worker example inside workerd on a
// Durable Object (the edge package), and its Node example on Node's http (the Node package);
// and by the README examples of Express (behind express.json()), Fastify, Hono, Django, Flask
// and FastAPI (on the async service). Each is signed in by a `dev_user` cookie that the
// README's stand-in login reads (on with DEV_LOGIN=1: the examples' `./auth.js`, FastAPI's and
// Flask's `current_user`, all as written), Django by an `e2e_user` cookie its project's login reads.
//
// Against the emulator the page defines its stand-in for iProov's web SDK under the SDK's own
// element name, <iproov-me>, which dispatches the SDK's events: these tests drive the page's
// real event handling through it. Each test is a fresh browser profile, so a new signed-in
// user. Every wait is bounded; nothing sleeps to synchronise.
//
//   node --test tests/web/e2e.test.mjs      (scripts/test runs it: scripts/web.sh)
//
// Needs: /usr/bin/chromium (or $CHROMIUM), target/debug/iproov-emulator ($IPROOV_EMULATOR_BIN),
// target/py-venv with the wheel, starlette and uvicorn ($IPROOV_TEST_PYTHON), the edge package
// built with its dev tools (bindings-wasm: dist/, esbuild, workerd) and the Node package
// built (bindings-node: the addon, dist/, better-sqlite3). $IPROOV_WEB_HOSTS (python, worker,
// node; comma-separated, default all) narrows the hosts. The README examples of the frameworks
// run too: the Node package's Express, Fastify and Hono (express, fastify, hono), the Python
// package's Django, Flask and FastAPI (django, flask, fastapi: target/py-venv with django,
// flask and fastapi; see their blocks). Every host runs every journey test (journeyTests).

import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { randomUUID } from 'node:crypto';
import { chromium } from 'playwright-core';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const EMULATOR = process.env.IPROOV_EMULATOR_BIN ?? join(ROOT, 'target/debug/iproov-emulator');
const PYTHON = process.env.IPROOV_TEST_PYTHON ?? join(ROOT, 'target/py-venv/bin/python');
const HOSTS = (process.env.IPROOV_WEB_HOSTS ?? 'python,worker,node').split(',');
const SHOTS = join(ROOT, 'target/web');
const WAIT = 15_000; // any one thing the page does
const TEST = { timeout: 120_000 };
// The page's size in the screenshots (target/web; docs/ holds copies the README shows).
const VIEWPORT = { width: 760, height: 760 };

// The emulator's built-in eu service provider (tests/emulator/README.md).
const EU = {
  IPROOV_API_KEY: 'eudefaultkey0000000000000000000000000000',
  IPROOV_SECRET: 'eudefaultsecret0000000000000000000000000',
};

const children = [];
const servers = []; // the URLs the servers this file started answered on: each must refuse once stopped
let dir;
let emulatorUrl;
const scratch = []; // directories to remove at the end
const stops = []; // async functions stopping the servers this file started, each resolving once it is gone

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
    // Bounded far above a start on a loaded machine (Django's migrate included).
    const timer = setTimeout(() => reject(new Error(`${what} did not start in 120 s: ${stderr}`)), 120_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${what} exited (${code}): ${stderr}`));
    });
    lines.on('line', (line) => {
      const match = line.match(pattern);
      if (match) {
        clearTimeout(timer);
        servers.push(match[1]);
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

/** How many requests the emulator got at `path` (its request log, reset before each test). */
const emulatorCount = async (path) => (await control('GET', `/requests?path=${path}`)).count;
const validates = (flow = 'enrol') => emulatorCount(`/claim/${flow}/validate`);
/** The requests the emulator got at `path`, as its request journal keeps them (credentials masked). */
const sent = async (path) => (await control('GET', `/journal?path=${path}`)).requests;
const tokenRequests = (flow = 'enrol') => emulatorCount(`/claim/${flow}/token`);

/** The journey as a SQLite store holds it (core's record). */
function stored(journeyId, file) {
  const script = `
import json, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
row = db.execute("SELECT record FROM iproov_journeys WHERE id = ?", (sys.argv[2],)).fetchone()
print(row[0] if row else "null")
`;
  const out = execFileSync(PYTHON, ['-c', script, file, journeyId], { timeout: 10_000 });
  return JSON.parse(out.toString());
}

/** demo/web.py on a free port; `standIn`: with the emulator's stand-in (IPROOV_DEMO_EMULATOR). */
async function startDemo(standIn) {
  const out = mkdtempSync(join(tmpdir(), 'iproov-web-demo-'));
  scratch.push(out);
  const env = {
    ...process.env,
    ...EU,
    IPROOV_BASE_URL: `${emulatorUrl}/eu`,
    IPROOV_DEMO_DIR: out,
    IPROOV_DEMO_PORT: '0',
  };
  delete env.IPROOV_REGION;
  if (standIn) env.IPROOV_DEMO_EMULATOR = emulatorUrl;
  else delete env.IPROOV_DEMO_EMULATOR;
  const url = await startProcess(PYTHON, ['demo/web.py'], env, /^open (http:\S+)$/, 'demo/web.py');
  return { url, store: join(out, 'journeys.sqlite3'), cookie: 'demo_user', shots: true };
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'iproov-web-e2e-'));
  scratch.push(dir);
  mkdirSync(SHOTS, { recursive: true });
  emulatorUrl = await startProcess(EMULATOR, ['--port', '0'], process.env, /^listening on (http:\S+)$/, 'the emulator');
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

/** One connection attempt: whether it was refused. */
function refusedOnce(hostname, port) {
  return new Promise((resolvePromise) => {
    const socket = connect({ host: hostname, port: Number(port) });
    socket.setTimeout(10_000, () => (socket.destroy(), resolvePromise(false)));
    socket.once('connect', () => (socket.destroy(), resolvePromise(false)));
    socket.once('error', () => resolvePromise(true));
  });
}

/** Whether nothing accepts connections at `url`'s host and port any more: polled for up to
 * 10 s (a listening socket can outlive its process's exit by a moment). */
async function refuses(url) {
  const { hostname, port } = new URL(url);
  for (const deadline = Date.now() + 10_000; ; await new Promise((done) => setTimeout(done, 100))) {
    if (await refusedOnce(hostname, port)) return true;
    if (Date.now() > deadline) return false;
  }
}

// Every process this file started is stopped and seen gone (exited, its port refusing),
// whatever the tests did.
after(async () => {
  await Promise.all(stops.map((stop) => stop()));
  await Promise.all(children.map(stopChild));
  for (const out of scratch) rmSync(out, { recursive: true, force: true });
  for (const url of servers) assert.ok(await refuses(url), `${url} still accepts connections after its server stopped`);
});

/** A fresh Chromium profile (a new user) on `site`'s page, ready: {page, context, journeys
 * (the page's 200 token answers), tokenPosts (every token request it sent), user}. */
async function openBrowser(t, site) {
  const profile = mkdtempSync(join(tmpdir(), 'iproov-web-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    // A site whose SDK script is served by the test over https with a certificate it made.
    ignoreHTTPSErrors: site.selfSignedSdk === true,
    timeout: 30_000,
    viewport: VIEWPORT,
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
  const problems = [];
  t.after(() => assert.deepEqual(problems, [], 'no script error or refused load in the page'));
  const journeys = [];
  const tokenPosts = [];
  context.on('page', (page) => watch(page, problems, journeys, tokenPosts));
  const page = context.pages()[0] ?? (await context.newPage());
  watch(page, problems, journeys, tokenPosts);
  let user;
  if (site.cookie === 'e2e_user' || site.cookie === 'dev_user') {
    user = randomUUID(); // the login: the cookie the site's stand-in login reads
    await context.addCookies([{ name: site.cookie, value: user, url: site.url, httpOnly: true, sameSite: 'Strict' }]);
  }
  await page.goto(site.url, { timeout: WAIT });
  await page.waitForSelector('body[data-state=ready]');
  if (user === undefined && site.cookie) user = (await context.cookies()).find((c) => c.name === site.cookie).value;
  // A site whose iProov user_id is not the login's name (Django's pseudonymous id) says it.
  if (site.whoami) user = await page.evaluate(async (url) => (await fetch(url)).text(), site.whoami);
  return { page, context, journeys, tokenPosts, user, problems };
}

/** Records a page's script errors, refused loads (its CSP's), token requests and answers. */
function watch(page, problems, journeys, tokenPosts) {
  if (page.watched) return;
  page.watched = true;
  page.on('pageerror', (error) => problems.push(String(error)));
  // Chromium logs every 4xx/5xx answer as "Failed to load resource": the routes' own refusals,
  // which the tests provoke. Anything else logged as an error (a CSP refusal) is a problem.
  page.on('console', (message) => {
    if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) problems.push(message.text());
  });
  page.on('request', (request) => {
    if (request.url().endsWith('/iproov/token')) tokenPosts.push(JSON.parse(request.postData()));
  });
  page.on('response', async (response) => {
    if (response.url().endsWith('/iproov/token') && response.ok()) journeys.push(await response.json());
  });
}

async function startCheck(page, flow = 'enrol') {
  await page.check(`input[name=flow][value=${flow}]`);
  await page.click('#start');
  await page.waitForSelector('body[data-state=capture]');
}

/** Clicks the stand-in SDK's button: `passed`, `failed` (data-end) or an SDK event's name. */
async function capture(page, end, { reason, double = false } = {}) {
  if (reason) await page.selectOption('iproov-me select[name=reason]', reason);
  const button = end === 'passed' || end === 'failed' ? `iproov-me [data-end=${end}]` : `iproov-me [data-event=${end}]`;
  if (double) await page.dblclick(button);
  else await page.click(button);
}

async function result(page, state = 'result') {
  await page.waitForSelector(`body[data-state=${state}]`);
  return {
    text: await page.textContent('#result-text'),
    left: await page.textContent('#attempts-left'),
    again: await page.isVisible('#again'),
    reason: await page.getAttribute('#result', 'data-reason'),
  };
}

/** The page's own tab's answers to the token requests, as the server gave them. */
const last = (list) => list[list.length - 1];

/** Every journey test, against `site()` ({url, store?, cookie, shots?}). */
function journeyTests(site) {
  beforeEach(async () => {
    await control('POST', '/reset');
  });

  test('a pass: enrolled, then verified', TEST, async (t) => {
    const { page, journeys, user } = await openBrowser(t, site());
    await startCheck(page, 'enrol');
    // The capture is the SDK's element, here the stand-in registered under its name.
    const element = await page.$eval('iproov-me', (el) => ({
      defined: customElements.get('iproov-me') === el.constructor,
      token: el.getAttribute('token'),
      base: el.getAttribute('base_url'),
    }));
    assert.deepEqual(element, { defined: true, token: journeys[0].token, base: new URL(emulatorUrl).origin });
    assert.equal(await page.textContent('#attempt'), '1 (2 more after this one)');
    if (site().shots) await page.screenshot({ path: join(SHOTS, 'capture.png') });
    await capture(page, 'passed');
    assert.deepEqual(await result(page), { text: 'Passed: enrolled.', left: 'Attempts left: 2', again: false, reason: null });
    if (site().shots) await page.screenshot({ path: join(SHOTS, 'page.png') });
    assert.equal(await validates(), 1);
    if (site().store) assert.equal(stored(journeys[0].journey_id, site().store).attempts[0].state, 'passed');
    // What iProov got: the page's token, for the app's user, with the browser's User-Agent as `client`.
    const [validate] = await sent('/claim/enrol/validate');
    const agent = await page.evaluate(() => navigator.userAgent);
    assert.deepEqual([validate.json.token, validate.json.user_id, validate.json.client], [journeys[0].token, user, agent]);
    assert.equal(validate.json.secret, '***', "the journal's masking");

    await page.click('#restart');
    await startCheck(page, 'verify');
    await capture(page, 'passed');
    assert.equal((await result(page)).text, 'Passed: verified.');
    const claims = (await control('GET', '/state')).claims;
    assert.deepEqual([...new Set(claims.map((c) => c.user_id))], [user], "one user, the app's");
  });

  test('a failure (its reason as a sentence, the code kept), then a pass on a new token', TEST, async (t) => {
    const { page, journeys } = await openBrowser(t, site());
    await startCheck(page);
    await capture(page, 'failed', { reason: 'too_dark' });
    assert.deepEqual(await result(page), {
      text: 'Not passed. Move somewhere with more light.',
      left: 'Attempts left: 2',
      again: true,
      reason: 'too_dark',
    });
    assert.equal(await page.textContent('#support'), 'Code for support: too_dark');
    await page.click('#again');
    await page.waitForSelector('body[data-state=capture]');
    assert.equal(await page.textContent('#attempt'), '2 (1 more after this one)');
    await capture(page, 'passed');
    assert.deepEqual(await result(page), { text: 'Passed: enrolled.', left: 'Attempts left: 1', again: false, reason: null });
    assert.equal(journeys.length, 2);
    assert.equal(journeys[0].journey_id, journeys[1].journey_id);
    assert.notEqual(journeys[0].token, journeys[1].token);
    if (site().store) {
      assert.deepEqual(stored(journeys[0].journey_id, site().store).attempts.map((a) => a.state), ['failed', 'passed']);
    }
  });

  test('attempts run out; "Start over" and a reload then count down to the window, never three fresh attempts', TEST, async (t) => {
    const { page, journeys, tokenPosts } = await openBrowser(t, site());
    await startCheck(page);
    for (const left of [2, 1]) {
      await capture(page, 'failed');
      assert.deepEqual(await result(page), {
        text: 'Not passed. Hold still while the check runs.',
        left: `Attempts left: ${left}`,
        again: true,
        reason: 'too_much_movement',
      });
      await page.click('#again');
      await page.waitForSelector('body[data-state=capture]');
    }
    await capture(page, 'failed');
    assert.deepEqual(await result(page), {
      text: 'Not passed. Hold still while the check runs. No attempts left for this check.',
      left: 'Attempts left: 0',
      again: false,
      reason: 'too_much_movement',
    });
    // The exhausted answer's retry_after_ms: the journey's window (1 hour) from its first attempt.
    assert.match(await page.textContent('#wait'), /^A new check can start in (59:[0-5]\d|1:00:00)\.$/);
    assert.equal(await validates(), 3);
    assert.equal(await tokenRequests(), 3);

    // Start over: the page forgets the journey, Start asks without one, the server resumes it.
    await page.click('#restart');
    await page.click('#start');
    const limited = await result(page, 'waiting');
    assert.equal(limited.text, 'You have used every attempt for now. Try again later.');
    assert.equal(limited.reason, 'too_many_attempts');
    assert.match(await page.textContent('#wait'), /^You can try again in (59:[0-5]\d|1:00:00)\.$/);
    assert.ok(await page.isDisabled('#start'), 'Start waits for the countdown');
    assert.deepEqual(last(tokenPosts), { flow: 'enrol' }, 'Start sends no journey_id');
    if (site().shots) await page.screenshot({ path: join(SHOTS, 'waiting.png') });

    // A reload is no way around it.
    await page.reload();
    await page.waitForSelector('body[data-state=ready]');
    await page.click('#start');
    assert.equal((await result(page, 'waiting')).reason, 'too_many_attempts');
    assert.equal(await tokenRequests(), 3, 'no new token after the third attempt');
    assert.equal(new Set(journeys.map((j) => j.journey_id)).size, 1);
    // The limit is this flow's: the other one may start.
    await page.check('input[name=flow][value=verify]');
    assert.ok(await page.isEnabled('#start'));
    await page.check('input[name=flow][value=enrol]');
    assert.ok(await page.isDisabled('#start'));
  });

  test('a reload mid-journey resumes it: the same open token, then the attempt number and count kept', TEST, async (t) => {
    const { page, journeys, tokenPosts } = await openBrowser(t, site());
    await startCheck(page);
    await page.reload();
    await page.waitForSelector('body[data-state=ready]');
    await startCheck(page);
    assert.equal(await page.textContent('#attempt'), '1 (2 more after this one)');
    assert.equal(journeys[1].token, journeys[0].token, 'the open token, not a new billable one');
    assert.equal(await tokenRequests(), 1);
    await capture(page, 'failed');
    assert.equal((await result(page)).left, 'Attempts left: 2');
    await page.reload();
    await page.waitForSelector('body[data-state=ready]');
    await startCheck(page);
    assert.equal(await page.textContent('#attempt'), '2 (1 more after this one)');
    assert.equal(journeys[2].journey_id, journeys[0].journey_id);
    assert.ok(tokenPosts.every((body) => body.journey_id === undefined), 'Start never names a journey');
    await capture(page, 'passed');
    assert.deepEqual(await result(page), { text: 'Passed: enrolled.', left: 'Attempts left: 1', again: false, reason: null });
    assert.equal(await tokenRequests(), 2);
  });

  test('a second tab gets the same journey; when it finished the check, the first learns it passed', TEST, async (t) => {
    const { page, context, journeys } = await openBrowser(t, site());
    await startCheck(page);
    const second = await context.newPage();
    await second.goto(site().url, { timeout: WAIT });
    await second.waitForSelector('body[data-state=ready]');
    await startCheck(second);
    assert.equal(await second.textContent('#attempt'), '1 (2 more after this one)');
    assert.equal(journeys[1].journey_id, journeys[0].journey_id);
    assert.equal(journeys[1].token, journeys[0].token);
    await capture(second, 'passed');
    assert.equal((await result(second)).text, 'Passed: enrolled.');
    // The first tab's capture of the same token: the claim is no longer the phone's to finish.
    await capture(page, 'passed');
    const stopped = await result(page);
    assert.equal(stopped.reason, 'error_server');
    assert.ok(stopped.again);
    await page.click('#again');
    assert.deepEqual(await result(page), { text: 'Passed: enrolled.', left: 'Attempts left: 2', again: false, reason: null });
    assert.equal(await validates(), 1);
    assert.equal(await tokenRequests(), 1);
  });

  test('a double-clicked capture sends one validate', TEST, async (t) => {
    const { page } = await openBrowser(t, site());
    await startCheck(page);
    // iProov holds the validate until this test releases it, once the second submit below has
    // left the browser: the second goes while the first is out, whatever the machine's speed.
    await control('POST', '/faults', { path: '/claim/enrol/validate', kind: 'delay', hold: true });
    const sent = page.waitForRequest((request) => request.url().endsWith('/iproov/validate'));
    await capture(page, 'passed', { double: true });
    const first = await sent;
    // The page sends one validate per attempt by itself; a second submit of the same request
    // (a replayed request, its CSRF token too where the host has one) from this browser,
    // once the first has reached iProov, where it is held:
    for (const deadline = Date.now() + WAIT; (await control('GET', '/faults')).held === 0;) {
      assert.ok(Date.now() < deadline, 'the first validate was never held at iProov');
      await new Promise((done) => setTimeout(done, 20));
    }
    const resent = page.waitForRequest((request) => request.url().endsWith('/iproov/validate') && request !== first);
    const replaying = page.evaluate(async ({ body, csrf }) => {
      const headers = { 'Content-Type': 'application/json', ...(csrf ? { 'X-CSRFToken': csrf } : {}) };
      const response = await fetch('validate', { method: 'POST', headers, body });
      return { status: response.status, body: await response.json() };
    }, { body: first.postData(), csrf: first.headers()['x-csrftoken'] });
    await resent;
    assert.equal((await control('POST', '/faults/release')).released, 1, 'the first validate was held until the second left');
    const replayed = await replaying;
    assert.equal(replayed.status, 200, JSON.stringify(replayed.body));
    assert.equal(replayed.body.passed, true);
    assert.equal((await result(page)).text, 'Passed: enrolled.');
    // The overlap itself, in the browser's own clock (an order, not a duration): the second
    // left before the first's answer began to arrive.
    const [one, two] = [first.timing(), (await resent).timing()];
    assert.ok(one.responseStart >= 0, 'the first validate has its timing');
    assert.ok(two.startTime < one.startTime + one.responseStart, `the second submit left after the first was answered: ${JSON.stringify([one, two])}`);
    assert.equal(await validates(), 1, 'one validate in the emulator request log');
  });

  test("the SDK's ends without a result (canceled, multiple_cameras then no_camera, permission then permission_denied, error) validate nothing, end the attempt on the server (a cancel uses it, a device problem does not); unsupported offers none", TEST, async (t) => {
    const { page } = await openBrowser(t, site());
    await startCheck(page);
    const ends = [
      ['canceled', 'The face check was closed before it finished. Try again when you are ready.', 'user_canceled'],
      ['no_camera', 'No camera was found. Connect a camera, or use a phone or computer that has one, then try again.', 'no_camera'],
      ['permission_denied', "The camera is blocked for this site. Allow it in your browser's site settings (the camera or lock icon beside the address), then try again.", 'error_camera_permission_denied'],
      ['error', 'The face check stopped: The camera is already in use and cannot be accessed. Try again.', 'error_camera_in_use'],
    ];
    for (const [end, text, reason] of ends) {
      await page.waitForSelector('body[data-state=capture]');
      if (end === 'no_camera') {
        // Several cameras: the SDK's camera selector, a notice; the capture goes on.
        await capture(page, 'multiple_cameras');
        await page.waitForFunction(() => document.getElementById('status').textContent.startsWith('Choose the camera'));
        assert.equal(await page.getAttribute('body', 'data-state'), 'capture');
      }
      if (end === 'permission_denied') {
        // Permission still to be asked for: a prompt, and the capture goes on.
        await capture(page, 'permission');
        await page.waitForFunction(() => document.getElementById('status').textContent.startsWith('Allow the camera'));
        assert.equal(await page.getAttribute('body', 'data-state'), 'capture');
      }
      await capture(page, end);
      // The server ended the attempt: only the cancel used one.
      assert.deepEqual(await result(page), { text, left: 'Attempts left: 2', again: true, reason }, end);
      if (end === 'permission_denied' && site().shots) await page.screenshot({ path: join(SHOTS, 'permission-denied.png') });
      assert.equal(await page.$('iproov-me'), null, 'the SDK element is gone');
      await page.click('#again');
      await page.waitForSelector('body[data-state=capture]');
      // A new attempt with a new token (the ended one cannot be reused).
      const number = ends.findIndex(([e]) => e === end) + 2;
      assert.equal(await page.textContent('#attempt'), `${number} (1 more after this one)`, end);
    }
    assert.equal(await validates(), 0);
    await capture(page, 'passed');
    assert.deepEqual(await result(page), { text: 'Passed: enrolled.', left: 'Attempts left: 1', again: false, reason: null });
    assert.equal(await validates(), 1);
    assert.equal(await tokenRequests(), 5, 'a new token after each end');

    await page.click('#restart');
    await startCheck(page, 'verify');
    await capture(page, 'unsupported');
    const unsupported = await result(page);
    assert.equal(unsupported.text, 'This browser cannot run the face check. Open this page in a recent Chrome, Safari, Edge or Firefox.');
    assert.equal(unsupported.reason, 'error_not_supported');
    assert.ok(!unsupported.again && !(await page.isVisible('#restart')), 'nothing to try again in this browser');
    assert.equal(await validates('verify'), 0);
  });

  test("a verify before any enrol: the server's sentence and code, then Start over to enrol", TEST, async (t) => {
    const { page } = await openBrowser(t, site());
    await page.check('input[name=flow][value=verify]');
    await page.click('#start');
    const refused = await result(page, 'error');
    assert.deepEqual(refused, { text: 'This account has not enrolled yet.', left: '', again: false, reason: 'not_enrolled' });
    await page.click('#restart');
    await startCheck(page, 'enrol');
    await capture(page, 'passed');
    assert.equal((await result(page)).text, 'Passed: enrolled.');
  });

  test('iProov busy (503 with Retry-After): the page counts down, then Start works', TEST, async (t) => {
    const { page } = await openBrowser(t, site());
    // iProov's rate limit on the token request, with a wait longer than core lets a browser's
    // request sleep (2 s): the browser gets 503 try_again and the wait at once.
    await control('POST', '/faults', {
      path: '/claim/enrol/token', kind: 'status', status: 429, headers: { 'Retry-After': '3' },
    });
    const asked = Date.now();
    await page.click('#start');
    const busy = await result(page, 'waiting');
    assert.equal(busy.reason, 'try_again');
    assert.equal(busy.text, 'The face verification service is busy or unreachable. Try again shortly.');
    assert.match(await page.textContent('#wait'), /^You can try again in 0:0[1-3]\.$/);
    assert.ok(await page.isDisabled('#start'));
    // Bounded far above the 3 s countdown (only a countdown that never ends reaches it).
    await page.waitForSelector('#start:enabled', { timeout: 30_000 });
    assert.ok(Date.now() - asked >= 2_000, 'Start came back only after the wait');
    assert.equal(await page.textContent('#wait'), 'You can try again now.');
    await startCheck(page);
    assert.equal(await page.textContent('#attempt'), '1 (2 more after this one)');
    await capture(page, 'passed');
    assert.equal((await result(page)).text, 'Passed: enrolled.');
  });

  test('an emulator fault during validate: try again, and the store holds outcome unknown', TEST, async (t) => {
    const { page, journeys, user } = await openBrowser(t, site());
    // A verify (an enrol whose answer was lost leaves iProov's user half made): the signed-in
    // user, enrolled directly on the emulator.
    await control('POST', '/users', { api_key: EU.IPROOV_API_KEY, user_id: user });
    await startCheck(page, 'verify');
    await control('POST', '/faults', { path: '/claim/verify/validate', kind: 'status', status: 503 });
    await capture(page, 'passed');
    // An attempt whose outcome is unknown does not count (README: the journey service's limits).
    assert.deepEqual(await result(page), {
      text: 'We could not get the result of this attempt. Try again.',
      left: 'Attempts left: 3',
      again: true,
      reason: 'outcome_unknown',
    });
    if (site().store) {
      const record = stored(journeys[0].journey_id, site().store);
      assert.equal(record.attempts[0].state, 'outcome_unknown');
      assert.equal(record.attempts[0].token, undefined, 'the token is forgotten');
    }
    // The new attempt gets a new token and passes.
    await page.click('#again');
    await page.waitForSelector('body[data-state=capture]');
    assert.equal(await page.textContent('#attempt'), '2 (2 more after this one)');
    await capture(page, 'passed');
    assert.equal((await result(page)).text, 'Passed: verified.');
    assert.notEqual(journeys[1].token, journeys[0].token);
    assert.equal(await validates('verify'), 2);
  });
}

if (HOSTS.includes('python')) describe('the page through Python (demo/web.py)', () => {
  let site;
  let bare; // the same demo without the emulator's stand-in, nor iProov's SDK
  before(async () => {
    site = await startDemo(true);
    bare = await startDemo(false);
  });
  journeyTests(() => site);

  test("iProov's SDK not loaded: the page says so and asks for no token", TEST, async (t) => {
    const { page, tokenPosts } = await openBrowser(t, bare);
    await page.click('#start');
    const missing = await result(page, 'error');
    assert.equal(missing.reason, 'sdk_missing');
    assert.match(missing.text, /^The face check could not load on this page \(iProov's web SDK is missing\)\./);
    assert.deepEqual(tokenPosts, [], 'the page sent no token request');
    assert.equal(await tokenRequests(), 0, 'iProov got no token request');
    assert.equal(await page.evaluate(() => customElements.get('iproov-me')), undefined, 'no stand-in without the emulator');
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

/** The root README's stand-in login (its `// auth.js` block), as written, into `dir`. */
function writeAuth(dir) {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const found = [...readme.matchAll(/```js\n(\/\/ auth\.js[\s\S]*?)```/g)].map((m) => m[1]);
  assert.equal(found.length, 1, "one README example is auth.js");
  writeFileSync(join(dir, 'auth.js'), found[0]);
}

/** The README's worker example inside workerd (its Durable Objects on SQLite on disk). */
async function startWorker(out) {
  // Imported here: only these tests need the edge package's dev tools.
  const { bundleWorker, prepareBuildDir, serveWorkerd } = await import('../../bindings-wasm/scripts/workerd.mjs');
  const build = join(out, 'build');
  prepareBuildDir(build);
  writeAuth(build);
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
    (name = "DEV_LOGIN", text = "1"),
    (name = "JOURNEYS", durableObjectNamespace = "Journeys"),
  ],
  durableObjectNamespaces = [(className = "Journeys", uniqueKey = "iproov-sansio-web-e2e", enableSql = true)],
  durableObjectStorage = (localDisk = "storage"),
);
`);
  const { port, stop, exited } = await serveWorkerd(join(out, 'config.capnp'), { args: ['--directory-path', `storage=${join(out, 'storage')}`] });
  servers.push(`http://127.0.0.1:${port}/`);
  stops.push(async () => {
    stop();
    await exited;
  });
  return { url: `http://127.0.0.1:${port}/iproov/`, cookie: 'dev_user' };
}

/** The README's Node example with `node`, on a free port, in `out` (its SQLite file there). */
async function startNode(out) {
  mkdirSync(join(out, 'node_modules'));
  symlinkSync(join(ROOT, 'bindings-node'), join(out, 'node_modules/iproov-sansio'), 'dir');
  writeAuth(out);
  writeFileSync(join(out, 'package.json'), '{"type": "module"}\n');
  const listen = "listen(8000, '127.0.0.1')";
  const source = readmeBlock(['createJourneyHandler', 'toNodeHandler']);
  assert.ok(source.includes(listen), `the Node example says ${listen}`);
  const onFreePort = "listen(0, '127.0.0.1', function () { console.log(`open http://127.0.0.1:${this.address().port}/iproov/`); })";
  writeFileSync(join(out, 'example.mjs'), source.replace(listen, onFreePort));
  const env = { ...process.env, ...EU, IPROOV_EMULATOR_URL: emulatorUrl, DEV_LOGIN: '1' };
  const url = await startProcess(process.execPath, [join(out, 'example.mjs')], env, /^open (http:\S+)$/, "the README's Node example", out);
  return { url, store: join(out, 'journeys.sqlite3'), cookie: 'dev_user' };
}

/** A stand-in for iProov's Web SDK script on a second origin, https://127.0.0.1:PORT (a
 * certificate made here by openssl): it defines <iproov-me>. {origin, script, fetched()}. */
async function startSdkOrigin(out) {
  const { createServer: createHttpsServer } = await import('node:https');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1',
    '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', join(out, 'key.pem'), '-out', join(out, 'cert.pem')], { stdio: 'ignore' });
  let fetched = 0;
  const server = createHttpsServer({ key: readFileSync(join(out, 'key.pem')), cert: readFileSync(join(out, 'cert.pem')) }, (req, res) => {
    if (req.url !== '/iProovMe.js') {
      res.writeHead(404).end();
      return;
    }
    fetched += 1;
    res.writeHead(200, { 'Content-Type': 'text/javascript' });
    res.end("customElements.define('iproov-me', class extends HTMLElement {});\nwindow.sdkStandInLoaded = true;\n");
  });
  await new Promise((done) => server.listen(0, '127.0.0.1', done));
  const origin = `https://127.0.0.1:${server.address().port}`;
  servers.push(`${origin.replace('https:', 'http:')}/`);
  stops.push(() => new Promise((done) => {
    server.closeAllConnections();
    server.close(done);
  }));
  return { origin, script: `${origin}/iProovMe.js`, fetched: () => fetched };
}

/** The Node package's handler with `sdkScript` (the client's region eu: a wss streaming URL,
 * which core's policy needs; no iProov call is made here), on Node's http, in `out`. */
async function startSdkSite(out, sdkScript) {
  mkdirSync(join(out, 'node_modules'));
  symlinkSync(join(ROOT, 'bindings-node'), join(out, 'node_modules/iproov-sansio'), 'dir');
  writeFileSync(join(out, 'package.json'), '{"type": "module"}\n');
  writeFileSync(join(out, 'site.mjs'), `import { createServer } from 'node:http';
import { createClient, createJourneyHandler, JourneyService, SQLiteStore, toNodeHandler } from 'iproov-sansio';
const client = createClient({ region: 'eu', apiKey: process.env.IPROOV_API_KEY, secret: process.env.IPROOV_SECRET });
const journeys = createJourneyHandler(new JourneyService(client, new SQLiteStore('journeys.sqlite3')), {
  basePath: '/iproov', resolveUser: () => null, sdkScript: process.env.SDK_SCRIPT,
});
createServer(toNodeHandler(journeys)).listen(0, '127.0.0.1', function () { console.log(\`open http://127.0.0.1:\${this.address().port}/iproov/\`); });
`);
  const env = { ...process.env, ...EU, SDK_SCRIPT: sdkScript };
  delete env.IPROOV_BASE_URL;
  delete env.IPROOV_REGION;
  const url = await startProcess(process.execPath, [join(out, 'site.mjs')], env, /^open (http:\S+)$/, 'the sdkScript site', out);
  return { url, selfSignedSdk: true };
}

/** A signed-out request: the API says so (the example's auth.js named nobody). */
async function signedOut(site) {
  const response = await fetch(new URL('token', site.url), {
    method: 'POST',
    headers: { Origin: new URL(site.url).origin, 'Content-Type': 'application/json' },
    body: '{"flow": "enrol"}',
  });
  assert.equal(response.status, 401);
  assert.equal((await response.json()).error.code, 'unauthenticated');
}

if (HOSTS.includes('worker')) describe("the page through the README's worker inside workerd (createJourneyHandler, Durable Object store)", () => {
  let site;
  before(async () => {
    const out = mkdtempSync(join(tmpdir(), 'iproov-web-worker-'));
    scratch.push(out);
    site = await startWorker(out);
  });
  test('signed out, the API says so', TEST, () => signedOut(site));
  journeyTests(() => site);
});

if (HOSTS.includes('node')) describe("iProov's Web SDK script from its own origin (sdkScript): the page's widened CSP lets it load", () => {
  let sdk;
  let site;
  before(async () => {
    const out = mkdtempSync(join(tmpdir(), 'iproov-web-sdk-'));
    scratch.push(out);
    sdk = await startSdkOrigin(out);
    site = await startSdkSite(out, sdk.script);
  });

  test('the SDK script loads from the second origin and defines <iproov-me>; a script from any other origin is still refused', TEST, async (t) => {
    const csp = (await fetch(site.url)).headers.get('content-security-policy');
    assert.ok(csp.includes(sdk.origin), csp);
    const { page, problems } = await openBrowser(t, site);
    await page.waitForFunction(() => window.sdkStandInLoaded === true && customElements.get('iproov-me') !== undefined);
    assert.equal(sdk.fetched(), 1, 'the page fetched the SDK script once, from its origin');
    assert.deepEqual(problems, [], 'no CSP refusal and no script error');
    // The check can fail: the same page refuses a script from an origin its policy does not name.
    const refused = await page.evaluate(() => new Promise((done) => {
      document.addEventListener('securitypolicyviolation', (event) => done(event.violatedDirective), { once: true });
      const script = document.createElement('script');
      script.src = 'https://127.0.0.2:9/iProovMe.js';
      document.head.append(script);
    }));
    assert.match(refused, /^script-src/);
    // Chromium also logs it, among the problems every test checks: seen, then taken out.
    for (const deadline = Date.now() + WAIT; !problems.some((line) => line.includes('127.0.0.2:9'));) {
      assert.ok(Date.now() < deadline, `the refusal never reached the console: ${problems}`);
      await new Promise((done) => setTimeout(done, 50));
    }
    problems.splice(problems.findIndex((line) => line.includes('127.0.0.2:9')), 1);
  });
});

if (HOSTS.includes('node')) describe("the page through the README's Node example (createJourneyHandler on Node's http, SQLite store)", () => {
  let site;
  before(async () => {
    const out = mkdtempSync(join(tmpdir(), 'iproov-web-node-'));
    scratch.push(out);
    site = await startNode(out);
  });
  test('signed out, the API says so', TEST, () => signedOut(site));
  journeyTests(() => site);
});

// The Node package's framework examples (bindings-node/README.md, "In your framework"), each
// run as written with `node` in a directory of its own whose node_modules are the Node
// package's (the package and the frameworks it tests with): Express behind express.json(),
// Fastify's plugin, Hono on @hono/node-server. Their client comes from IPROOV_BASE_URL and the
// credentials, their user from the README's auth.js's cookie. $IPROOV_WEB_HOSTS names them express,
// fastify, hono (all three unless it is set).
// (Imported here, not at the top: this block stays apart from the other hosts' for merges.)
const { readdirSync } = await import('node:fs');
const { createServer: createNetServer } = await import('node:net');
const NODE_PACKAGE = join(ROOT, 'bindings-node');
const FRAMEWORK_LISTEN = {
  express: "app.listen(8000, '127.0.0.1')",
  fastify: "app.listen({ port: 8000, host: '127.0.0.1' })",
  hono: "serve({ fetch: app.fetch, port: 8000, hostname: '127.0.0.1' })",
};
const frameworkRuns = (name) => !process.env.IPROOV_WEB_HOSTS || HOSTS.includes(name);

/** The Node package README's one ```js block that imports `framework`. */
function frameworkBlock(framework) {
  const readme = readFileSync(join(NODE_PACKAGE, 'README.md'), 'utf8');
  const found = [...readme.matchAll(/```js\n([\s\S]*?)```/g)].map((m) => m[1]).filter((b) => b.includes(`from '${framework}'`));
  assert.equal(found.length, 1, `one bindings-node/README.md example imports ${framework}`);
  return found[0];
}

/** The README's `framework` example on a free port, in `out` (its SQLite file there). */
async function startFramework(out, framework) {
  const modules = join(out, 'node_modules');
  mkdirSync(modules);
  for (const entry of readdirSync(join(NODE_PACKAGE, 'node_modules'))) {
    if (!entry.startsWith('.')) symlinkSync(join(NODE_PACKAGE, 'node_modules', entry), join(modules, entry), 'dir');
  }
  symlinkSync(NODE_PACKAGE, join(modules, 'iproov-sansio'), 'dir');
  writeAuth(out);
  writeFileSync(join(out, 'package.json'), '{"type": "module"}\n');
  const listen = FRAMEWORK_LISTEN[framework];
  const source = frameworkBlock(framework);
  assert.ok(source.includes(listen), `the ${framework} example says ${listen}`);
  const probe = createNetServer();
  await new Promise((done) => probe.listen(0, '127.0.0.1', done));
  const { port } = probe.address();
  await new Promise((done) => probe.close(done));
  writeFileSync(join(out, 'app.mjs'), source.replace(listen, listen.replace('8000', String(port))));
  const env = { ...process.env, ...EU, IPROOV_BASE_URL: `${emulatorUrl}/eu`, IPROOV_EMULATOR_URL: emulatorUrl, DEV_LOGIN: '1' };
  delete env.IPROOV_REGION;
  const child = spawn(process.execPath, ['app.mjs'], { cwd: out, env, stdio: ['ignore', 'ignore', 'pipe'] });
  children.push(child);
  servers.push(`http://127.0.0.1:${port}/`);
  let stderr = '';
  child.stderr.on('data', (chunk) => {
    stderr = (stderr + chunk).slice(-4000);
  });
  const url = `http://127.0.0.1:${port}/iproov/`;
  const deadline = Date.now() + 120_000;
  for (;;) {
    assert.equal(child.exitCode, null, `the README's ${framework} example exited: ${stderr}`);
    assert.ok(Date.now() < deadline, `the README's ${framework} example did not answer in 120 s: ${stderr}`);
    const answer = await fetch(`${url}config`, { signal: AbortSignal.timeout(2_000) }).catch(() => null);
    if (answer?.status === 200) break;
    await new Promise((done) => setTimeout(done, 100));
  }
  return { url, store: join(out, 'journeys.sqlite3'), cookie: 'dev_user' };
}

for (const [framework, what] of [
  ['express', 'Express, behind express.json() (toExpressMiddleware)'],
  ['fastify', 'Fastify (the iproovJourneys plugin)'],
  ['hono', 'Hono on @hono/node-server (the handler as it is)'],
]) {
  if (frameworkRuns(framework)) describe(`the page through the Node README's ${what}, SQLite store`, () => {
    let site;
    before(async () => {
      const out = mkdtempSync(join(tmpdir(), `iproov-web-${framework}-`));
      scratch.push(out);
      site = await startFramework(out, framework);
    });
    test('signed out, the API says so', TEST, () => signedOut(site));
    journeyTests(() => site);
  });
}

// The Python package's framework examples (bindings-python/README.md, Django and Flask), each
// run as written in a directory of its own by the Python tests' runners: Django's example in
// bindings-python/tests/django_project.py (the journeys in the project's SQLite database,
// Django's threaded server, the user signed in by Django's own login from an e2e_user cookie,
// Django's CSRF token sent by the page), Flask's in bindings-python/tests/flask_example.py
// (werkzeug's threaded server, the user from the README's stand-in login's dev_user cookie).
// $IPROOV_WEB_HOSTS names them django, flask (both unless it is set).
const PY_TESTS = join(ROOT, 'bindings-python/tests');
const pythonFrameworkRuns = (name) => !process.env.IPROOV_WEB_HOSTS || HOSTS.includes(name);

/** `runner` (a file of bindings-python/tests) with the emulator's environment, in `out`. */
function startPythonExample(out, runner, what, more) {
  const env = { ...process.env, ...EU, IPROOV_BASE_URL: `${emulatorUrl}/eu`, IPROOV_EMULATOR_URL: emulatorUrl, ...more };
  delete env.IPROOV_REGION;
  delete env.DJANGO_SETTINGS_MODULE;
  return startProcess(PYTHON, [join(PY_TESTS, runner)], env, /^open (http:\S+)$/, what, out);
}

/** Signed out, with Django's CSRF cookie and token (the page's): core's 401. */
async function signedOutWithCsrf(site) {
  const page = await fetch(site.url);
  const token = /csrftoken=([^;]+)/.exec(page.headers.get('set-cookie') ?? '')?.[1];
  assert.ok(token, "the page sets Django's CSRF cookie");
  const response = await fetch(new URL('token', site.url), {
    method: 'POST',
    headers: { Origin: new URL(site.url).origin, 'Content-Type': 'application/json', Cookie: `csrftoken=${token}`, 'X-CSRFToken': token },
    body: '{"flow": "enrol"}',
  });
  assert.equal(response.status, 401);
  assert.equal((await response.json()).error.code, 'unauthenticated');
}

if (pythonFrameworkRuns('django')) describe("the page through the Python README's Django example (iproov_sansio.django, Django's SQLite database)", () => {
  let site;
  before(async () => {
    const out = mkdtempSync(join(tmpdir(), 'iproov-web-django-'));
    scratch.push(out);
    const more = { IPROOV_TEST_DJANGO_MODE: 'readme', IPROOV_TEST_DJANGO_DIR: out, PYTHONPATH: PY_TESTS };
    const url = await startPythonExample(out, 'django_project.py', "the README's Django example", more);
    site = { url, store: join(out, 'db.sqlite3'), cookie: 'e2e_user', whoami: new URL('/e2e/whoami', url).href };
  });
  test('signed out, the API says so', TEST, () => signedOutWithCsrf(site));
  journeyTests(() => site);
});

if (pythonFrameworkRuns('flask')) describe("the page through the Python README's Flask example (iproov_sansio.flask, SQLite store)", () => {
  let site;
  before(async () => {
    const out = mkdtempSync(join(tmpdir(), 'iproov-web-flask-'));
    scratch.push(out);
    const more = { FLASK_SECRET_KEY: `${randomUUID()}${randomUUID()}`, DEV_LOGIN: '1' };
    const url = await startPythonExample(out, 'flask_example.py', "the README's Flask example", more);
    site = { url, store: join(out, 'journeys.sqlite3'), cookie: 'dev_user' };
  });
  test('signed out, the API says so', TEST, () => signedOut(site));
  journeyTests(() => site);
});

// The README's FastAPI example (the root README's, and bindings-python/README.md's copy) as
// written, on AsyncJourneyService, by bindings-python/tests/fastapi_example.py: uvicorn, the
// SQLite store, the user from the README's stand-in login's dev_user cookie. Its routes must use
// no thread pool: the runner counts every use of anyio's to_thread (Starlette's and FastAPI's
// run_in_threadpool). $IPROOV_WEB_HOSTS names it fastapi (it runs unless that is set).
if (pythonFrameworkRuns('fastapi')) describe("the page through the README's FastAPI example (AsyncJourneyService, no thread pool, SQLite store)", () => {
  let site;
  before(async () => {
    const out = mkdtempSync(join(tmpdir(), 'iproov-web-fastapi-'));
    scratch.push(out);
    const url = await startPythonExample(out, 'fastapi_example.py', "the README's FastAPI example", { PYTHONPATH: PY_TESTS, DEV_LOGIN: '1' });
    site = { url, store: join(out, 'journeys.sqlite3'), cookie: 'dev_user' };
  });
  test('signed out, the API says so', TEST, () => signedOut(site));
  journeyTests(() => site);

  test("every journey above ran without a thread pool: neither anyio's to_thread nor asyncio's default executor used, no worker thread", TEST, async () => {
    const threads = async () => (await fetch(new URL('/e2e/threads', site.url), { signal: AbortSignal.timeout(10_000) })).json();
    const seen = await threads();
    assert.equal(seen.anyio_to_thread, 0, `anyio's thread pool was used; threads: ${seen.threads}`);
    // The SQLite store's statements and the spool's file operations ran on the loop (nothing
    // else held the files): asyncio's executor (run_in_executor, asyncio.to_thread) never ran.
    assert.equal(seen.asyncio_executor, 0, `asyncio's default executor was used; threads: ${seen.threads}`);
    assert.ok(!seen.threads.includes('AnyIO worker thread'), `threads: ${seen.threads}`);
    assert.ok(!seen.threads.some((name) => name.startsWith('asyncio_')), `threads: ${seen.threads}`);
    // The counts count: one blocking call through Starlette's thread pool is one, in a worker;
    // one through asyncio.to_thread is one of asyncio's.
    const post = async (path) => (await fetch(new URL(path, site.url), { method: 'POST', signal: AbortSignal.timeout(10_000) })).json();
    assert.equal((await post('/e2e/threadpool')).ran, 'AnyIO worker thread');
    assert.equal((await post('/e2e/executor')).ran, 'asyncio_0');
    const after = await threads();
    assert.deepEqual([after.anyio_to_thread, after.asyncio_executor], [1, 1]);
  });
});

test("the README shows screenshots of the page, taken by these tests (their viewport's size)", () => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  for (const name of ['web-capture.png', 'web-page.png']) {
    assert.ok(readme.includes(`](docs/${name})`), `README shows docs/${name}`);
    const png = readFileSync(join(ROOT, 'docs', name));
    assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    // IHDR's width and height: a copy of target/web's capture.png and page.png.
    assert.deepEqual([png.readUInt32BE(16), png.readUInt32BE(20)], [VIEWPORT.width, VIEWPORT.height], name);
  }
});
