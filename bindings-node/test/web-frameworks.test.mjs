// The journey endpoints in the frameworks Node backends run on, over real HTTP on 127.0.0.1,
// the emulator behind them and the SQLite store: each README example of "In your framework"
// (Express behind express.json(), Fastify's plugin, the NestJS recipe, Next.js's route handler,
// Hono) runs as written, in its own process, and walks the shared HTTP suite
// (tests/web/http-suite.json, web-suite.mjs); then Express behind each kind of body parser,
// and what the suite does not reach (a body a parser refused, a connection reused after a body
// too large, the app's own routes beside the mount).
//
// The examples' `./auth.js` is the README's stand-in login as written (on with DEV_LOGIN=1): the
// walker names its user in a `dev_user` cookie. Their client reads IPROOV_BASE_URL (the
// emulator) and the credentials. They allow only their own origin (Next's, the one they
// name), and the walker sends that one.
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer as createNetServer } from 'node:net';
import { request as httpRequest, Agent } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { setTimeout as sleep } from 'node:timers/promises';
import { startEmulator, EU, refuses } from './emulator.mjs';
import { fenced, frameworkOf } from './readme.mjs';
import { SUITE, ORIGIN, CODES, QUIET, collectingLogger, read, walk } from './web-suite.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const PACKAGE = join(here, '..');
const README = join(PACKAGE, 'README.md');
const require = createRequire(import.meta.url);
// The adapters are the Node package's: the edge package's run of this suite does not make them.
const NODE_ONLY = process.env.IPROOV_JS_IMPL ? 'the Node package only (its adapters)' : false;

let emu;
const scratch = [];
const children = [];
before(async () => {
  if (NODE_ONLY) return;
  emu = await startEmulator();
});
after(async () => {
  // Every server stopped and checked, even when one of them fails its check.
  const stopped = await Promise.allSettled([...children.map((stop) => stop()), emu?.stop()]);
  for (const dir of scratch) rmSync(dir, { recursive: true, force: true });
  for (const { status, reason } of stopped) if (status === 'rejected') throw reason;
});

/** The README's one block of `framework` in `language`. */
function readmeBlock(framework, language = 'js') {
  const found = fenced(README, language).filter((code) => frameworkOf(code) === framework && !code.startsWith('// next.config'));
  assert.equal(found.length, 1, `one ${language} block for ${framework} in the README`);
  return found[0];
}

/** A free port on 127.0.0.1. */
async function freePort() {
  const server = createNetServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** The pids of process group `group` still running (a zombie awaiting its reaper is gone). */
function groupLeft(group) {
  const left = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // gone meanwhile
    }
    // After the command's closing parenthesis: state, ppid, pgrp, ...
    const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(pgrp) === group && state !== 'Z' && state !== 'X') left.push(Number(entry));
  }
  return left;
}

/** The README's stand-in login (its `// auth.js` block), as written; for a CommonJS app (Nest's
 * compiled main.js requires it), the same function exported the CommonJS way. */
const AUTH_ESM = readmeBlock('auth');
const AUTH_CJS = AUTH_ESM.replace('export function currentUser', 'exports.currentUser = function currentUser');
assert.notEqual(AUTH_CJS, AUTH_ESM);

/** How the walker signs in through the stand-in login. */
const DEV_LOGIN = (user) => ({ Cookie: `dev_user=${user}` });

test("the README's stand-in login names nobody unless DEV_LOGIN=1, whatever the cookie says", async () => {
  const dir = mkdtempSync(join(tmpdir(), 'iproov-auth-'));
  scratch.push(dir);
  writeFileSync(join(dir, 'auth.mjs'), AUTH_ESM);
  const { currentUser } = await import(join(dir, 'auth.mjs'));
  const fetchRequest = new Request('http://127.0.0.1/', { headers: { Cookie: 'a=b; dev_user=alice-1' } });
  const nodeReq = { headers: { cookie: 'dev_user=bob' } };
  for (const env of [{}, { DEV_LOGIN: '0' }, { DEV_LOGIN: 'true' }]) {
    assert.equal(currentUser(fetchRequest, env), null, JSON.stringify(env));
    assert.equal(currentUser(nodeReq, env), null, JSON.stringify(env));
  }
  assert.equal(currentUser(fetchRequest, { DEV_LOGIN: '1' }), 'alice-1');
  assert.equal(currentUser(nodeReq, { DEV_LOGIN: '1' }), 'bob');
  assert.equal(currentUser({ headers: {} }, { DEV_LOGIN: '1' }), null);
  // By default it reads Node's environment, where this test process has no DEV_LOGIN.
  assert.equal(process.env.DEV_LOGIN, undefined);
  assert.equal(currentUser(nodeReq), null);
});

/** A directory for an example, its node_modules this package's (as an app that installed it
 * and the framework). */
function appDir(name, type = 'module') {
  const dir = mkdtempSync(join(tmpdir(), `iproov-${name}-`));
  scratch.push(dir);
  const modules = join(dir, 'node_modules');
  mkdirSync(modules);
  for (const entry of readdirSync(join(PACKAGE, 'node_modules'))) {
    if (entry.startsWith('.')) continue;
    symlinkSync(join(PACKAGE, 'node_modules', entry), join(modules, entry), 'dir');
  }
  symlinkSync(PACKAGE, join(modules, 'iproov-sansio'), 'dir');
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: `iproov-${name}-example`, private: true, type }));
  return dir;
}

/** The environment of an example: the emulator's EU service through IPROOV_* (no region). */
function exampleEnv() {
  const env = {
    ...process.env,
    IPROOV_BASE_URL: emu.region('eu'),
    IPROOV_API_KEY: EU.apiKey,
    IPROOV_SECRET: EU.secret,
    IPROOV_EMULATOR_URL: emu.url,
    NEXT_TELEMETRY_DISABLED: '1',
    DEV_LOGIN: '1', // the README's stand-in login, on
  };
  delete env.IPROOV_REGION;
  return env;
}

/**
 * Runs `args` (a server) in `cwd` and resolves with `{url, stop}` once `${url}/iproov/config`
 * answers; its process group is ended by `stop` (and at the end of the file).
 */
async function startServer(what, args, cwd, port, env = exampleEnv()) {
  const child = spawn(args[0], args.slice(1), { cwd, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let output = '';
  let stdout = ''; // whole: the default log's info lines, which the walker counts
  const keep = (chunk) => {
    output = (output + chunk).slice(-6000);
  };
  child.stdout.on('data', (chunk) => {
    stdout += chunk;
    keep(chunk);
  });
  child.stderr.on('data', keep);
  let exited = null;
  child.once('exit', (code, signal) => {
    exited = signal ?? code;
  });
  // TERM to the group (Next's workers too), KILL after 5 s; then checked gone: no process of
  // the group left running (polled up to 30 s) and the port refusing connections.
  const stop = async () => {
    if (groupLeft(child.pid).length > 0) {
      const signal = (name) => {
        try {
          process.kill(-child.pid, name);
        } catch (error) {
          if (error.code !== 'ESRCH') throw error; // gone meanwhile
        }
      };
      signal('SIGTERM');
      for (let i = 0; i < 50 && groupLeft(child.pid).length > 0; i++) await sleep(100);
      if (groupLeft(child.pid).length > 0) signal('SIGKILL');
    }
    for (let i = 0; i < 300 && groupLeft(child.pid).length > 0; i++) await sleep(100);
    assert.deepEqual(groupLeft(child.pid), [], `${what}: processes of its group outlived it`);
    assert.ok(await refuses(url), `${what}: ${url} still accepts connections`);
  };
  children.push(stop);
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 120_000; // far above a start on a loaded machine
  for (;;) {
    if (exited !== null) throw new Error(`${what} exited (${exited}):\n${output}`);
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`${what} did not answer in 120 s:\n${output}`);
    }
    try {
      const response = await fetch(`${url}/iproov/config`, { signal: AbortSignal.timeout(2_000) });
      if (response.status === 200) break;
    } catch {
      // not listening yet
    }
    await sleep(100);
  }
  return { url, stop, output: () => output, stdout: () => stdout };
}

/** The README example of `framework` (ESM), written as app.mjs and started on a free port. */
async function startEsmExample(framework, listen) {
  const dir = appDir(framework);
  writeFileSync(join(dir, 'auth.js'), AUTH_ESM);
  const source = readmeBlock(framework);
  assert.ok(source.includes(listen), `the ${framework} example says ${listen}`);
  const port = await freePort();
  writeFileSync(join(dir, 'app.mjs'), source.replace(listen, listen.replace('8000', String(port))));
  return startServer(`the README's ${framework} example`, [process.execPath, 'app.mjs'], dir, port);
}

/** Every case of the shared suite against `site()`, each a test; each refusal must be in the
 * example's stdout as the default log writes it (console.info: `iproov ROUTE: refused CODE`). */
function suiteTests(site, origin) {
  beforeEach(async () => {
    await emu.reset();
  });
  for (const { name, steps } of SUITE.cases) {
    test(name, { timeout: 60_000 }, async () => {
      const { url, stdout } = site();
      await walk(emu, url, steps, { origin: origin ?? url, logged: stdout, signIn: DEV_LOGIN });
    });
  }
}

/** A journey through `site()`'s mount, then what iProov got (the emulator's request journal,
 * `requests`/`journalMark` as iproov-sansio/testing gives them): the token request for the
 * user the app's auth named, one validate of its token carrying the browser's User-Agent. */
function journalTest(site, origin) {
  test("what the app sent iProov (the emulator's request journal): the user's token request, one validate with the browser's User-Agent", { timeout: 60_000 }, async () => {
    const { url } = site();
    const mark = await emu.journalMark();
    const user = randomUUID();
    const headers = { Origin: origin ?? url, 'Content-Type': 'application/json', 'User-Agent': 'Mozilla/5.0 (journal)', ...DEV_LOGIN(user) };
    const post = async (path, body) => {
      const response = await fetch(`${url}/iproov/${path}`, { method: 'POST', headers, body: JSON.stringify(body) });
      return { status: response.status, json: await response.json() };
    };
    const started = await post('token', { flow: 'enrol' });
    assert.equal(started.status, 200, `${JSON.stringify(started.json)}\n${site().stdout?.().slice(-2000)}`);
    await emu.complete(started.json.token, { passed: true });
    const done = await post('validate', { journey_id: started.json.journey_id, token: started.json.token });
    assert.equal(done.status, 200, JSON.stringify(done.json));
    assert.equal(done.json.passed, true);
    const [token, validate, ...more] = await emu.requests({ since: mark });
    assert.deepEqual(more, []);
    assert.ok(token.path.endsWith('/claim/enrol/token') && validate.path.endsWith('/claim/enrol/validate'), `${token.path} ${validate.path}`);
    assert.equal(token.json.user_id, user);
    assert.deepEqual([validate.json.user_id, validate.json.token, validate.json.client, validate.json.secret], [user, started.json.token, 'Mozilla/5.0 (journal)', '***']);
  });
}

if (!NODE_ONLY) describe("Express: the README's example (express.json() before the mount), the shared suite", () => {
  let site;
  before(async () => {
    site = await startEsmExample('express', "app.listen(8000, '127.0.0.1')");
  });
  suiteTests(() => site);
});

if (!NODE_ONLY) describe("Fastify: the README's example (the iproovJourneys plugin), the shared suite", () => {
  let site;
  before(async () => {
    site = await startEsmExample('fastify', "app.listen({ port: 8000, host: '127.0.0.1' })");
  });
  suiteTests(() => site);
});

if (!NODE_ONLY) describe("Hono: the README's example (@hono/node-server), the shared suite", () => {
  let site;
  before(async () => {
    site = await startEsmExample('hono', "serve({ fetch: app.fetch, port: 8000, hostname: '127.0.0.1' })");
  });
  suiteTests(() => site);
});

// A Nest app's module, as a Nest project compiles one: a controller that reads a JSON body
// (Nest's parser at work beside the mount).
const NEST_MODULE = `'use strict';
require('reflect-metadata');
const { Module, Controller, Post, Body } = require('@nestjs/common');
class EchoController {
  echo(body) {
    return { echoed: body };
  }
}
Reflect.decorate([Post('echo')], EchoController.prototype, 'echo', Object.getOwnPropertyDescriptor(EchoController.prototype, 'echo'));
Body()(EchoController.prototype, 'echo', 0);
Controller()(EchoController);
class AppModule {}
Module({ controllers: [EchoController] })(AppModule);
exports.AppModule = AppModule;
`;

if (!NODE_ONLY) describe("NestJS: the README's recipe (main.ts, compiled as Nest compiles it), the shared suite", () => {
  let site;
  before(async () => {
    const ts = require('typescript');
    const dir = appDir('nest', 'commonjs');
    writeFileSync(join(dir, 'auth.js'), AUTH_CJS);
    writeFileSync(join(dir, 'app.module.js'), NEST_MODULE);
    const listen = "app.listen(8000, '127.0.0.1')";
    const source = readmeBlock('nest', 'ts');
    assert.ok(source.includes(listen));
    const port = await freePort();
    // Nest's tsconfig: CommonJS, decorators.
    const { outputText } = ts.transpileModule(source.replace(listen, listen.replace('8000', String(port))), {
      compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2021, experimentalDecorators: true, emitDecoratorMetadata: true, esModuleInterop: true },
    });
    writeFileSync(join(dir, 'main.js'), outputText);
    site = await startServer("the README's NestJS recipe", [process.execPath, 'main.js'], dir, port);
  });
  // First: after the suite the service answered token requests try_again for a while (its
  // rate-limit case leaves a learned backoff, most likely).
  journalTest(() => site);
  suiteTests(() => site);

  test("Nest's own routes still get Nest's parsed body", async () => {
    const answer = await fetch(`${site.url}/echo`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"a": 1}' });
    assert.equal(answer.status, 201);
    assert.deepEqual(await answer.json(), { echoed: { a: 1 } });
  });
});

if (!NODE_ONLY) describe("Next.js: the README's route handler (App Router, next build then next start), the shared suite", () => {
  let site;
  before(async () => {
    // Inside this package's directory, so that Next's bundler (whose root is the nearest lock
    // file's directory) reaches next and react in its node_modules; iproov-sansio is copied
    // into the app's own node_modules, as npm installs it (serverExternalPackages applies to
    // installed packages only).
    const dir = join(here, '.frameworks', 'next');
    rmSync(dir, { recursive: true, force: true });
    const installed = join(dir, 'node_modules', 'iproov-sansio');
    mkdirSync(installed, { recursive: true });
    const manifest = require('../package.json');
    const files = [...manifest.files.filter((f) => !f.includes('*')), ...readdirSync(PACKAGE).filter((f) => f.endsWith('.node')), 'package.json'];
    for (const file of files) cpSync(join(PACKAGE, file), join(installed, file), { recursive: true });
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'iproov-next-example', private: true }));
    writeFileSync(join(dir, 'auth.js'), AUTH_ESM); // the route's '../../../auth'
    const config = fenced(README, 'js').filter((code) => code.startsWith('// next.config.mjs'));
    assert.equal(config.length, 1, 'one next.config.mjs in the README');
    writeFileSync(join(dir, 'next.config.mjs'), config[0]);
    const route = readmeBlock('next', 'ts');
    const path = /^\/\/ (app\/\S+\/route\.ts)$/m.exec(route)?.[1];
    assert.equal(path, 'app/iproov/[[...path]]/route.ts');
    mkdirSync(join(dir, dirname(path)), { recursive: true });
    writeFileSync(join(dir, path), route);
    const next = join(PACKAGE, 'node_modules/next/dist/bin/next');
    // The build runs without the IPROOV_* secrets (the handler is made at the first request).
    const buildEnv = { ...process.env, NEXT_TELEMETRY_DISABLED: '1' };
    for (const name of Object.keys(buildEnv)) if (name.startsWith('IPROOV_')) delete buildEnv[name];
    const built = await new Promise((resolve) => {
      const child = spawn(process.execPath, [next, 'build'], { cwd: dir, env: buildEnv, stdio: ['ignore', 'pipe', 'pipe'] });
      let output = '';
      child.stdout.on('data', (d) => (output += d));
      child.stderr.on('data', (d) => (output += d));
      child.once('exit', (code) => resolve({ code, output }));
    });
    assert.equal(built.code, 0, `next build:\n${built.output}`);
    const port = await freePort();
    site = await startServer('next start', [process.execPath, next, 'start', '-p', String(port), '-H', '127.0.0.1'], dir, port);
    scratch.push(dir);
  });
  // The example names its site's origin (Next's request.url is on localhost).
  // First: after the suite the service answered token requests try_again for a while (its
  // rate-limit case leaves a learned backoff, most likely).
  journalTest(() => site, 'https://app.example.com');
  suiteTests(() => site, 'https://app.example.com');

  test('/iproov redirects to the page, whose relative URLs keep the slash', async () => {
    const bare = await fetch(`${site.url}/iproov`, { redirect: 'manual' });
    assert.equal(bare.status, 307);
    assert.equal(bare.headers.get('location'), '/iproov/');
    const page = await fetch(`${site.url}/iproov/`, { redirect: 'manual' });
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-security-policy'), /script-src 'self'/);
  });
});

// ---- Express behind each kind of body parser, in this process --------------------------------

const api = require('../index.cjs');
const express = require('express');
const bodyParser = require('body-parser');

function journeyService() {
  const dir = mkdtempSync(join(tmpdir(), 'iproov-express-'));
  scratch.push(dir);
  return new api.JourneyService(api.createClient({ baseUrl: emu.region('eu'), ...EU, timeoutMs: 10_000 }), new api.SQLiteStore(join(dir, 'journeys.sqlite3')));
}

function handlerFor(service = journeyService(), options = {}) {
  return api.createJourneyHandler(service, {
    basePath: '/iproov',
    resolveUser: (request, req) => req.headers['x-test-user'] ?? null,
    allowedOrigins: [ORIGIN],
    emulatorUrl: emu.url,
    validateWaitMs: 60_000,
    logger: QUIET,
    ...options,
  });
}

/** `app` (an Express app, or a server told to listen) on 127.0.0.1 (a free port); `t.after`
 * closes it. */
async function listen(t, app) {
  const server = typeof app.address === 'function' ? app : app.listen(0, '127.0.0.1');
  if (!server.listening) await new Promise((resolve) => server.once('listening', resolve));
  t.after(() => new Promise((resolve) => server.close(resolve)));
  return `http://127.0.0.1:${server.address().port}`;
}

const PARSERS = {
  'mounted before any parser': () => [],
  'express.json()': () => [express.json()],
  "express.raw({ type: '*/*' })": () => [express.raw({ type: '*/*' })],
  "express.text({ type: '*/*' })": () => [express.text({ type: '*/*' })],
  'body-parser json and urlencoded': () => [bodyParser.urlencoded({ extended: false }), bodyParser.json()],
  "express.json({ verify }) keeping req.rawBody": () => [express.json({ verify: (req, res, buf) => (req.rawBody = buf) })],
};

if (!NODE_ONLY) describe('Express behind each kind of body parser: the shared suite (toExpressMiddleware)', () => {
  beforeEach(async () => {
    await emu.reset();
  });
  for (const [name, parsers] of Object.entries(PARSERS)) {
    test(name, { timeout: 180_000 }, async (t) => {
      const app = express();
      const before = name === 'mounted before any parser';
      const { logger, logged } = collectingLogger();
      if (before) app.use('/iproov', api.toExpressMiddleware(handlerFor(undefined, { logger })));
      for (const parser of parsers()) app.use(parser);
      if (!before) app.use('/iproov', api.toExpressMiddleware(handlerFor(undefined, { logger })));
      const url = await listen(t, app);
      for (const { name: caseName, steps } of SUITE.cases) {
        await emu.reset();
        await t.test(caseName, () => walk(emu, url, steps, { logged }));
      }
    });
  }

  test("toNodeHandler alone behind express.json(): the parsed body is read; a parser's failure stays the app's", async (t) => {
    const app = express();
    app.use(express.json());
    app.use('/iproov', api.toNodeHandler(handlerFor()));
    app.use((error, req, res, next) => res.status(499).json({ app: error.type })); // eslint-disable-line no-unused-vars
    const url = await listen(t, app);
    const post = (body) =>
      fetch(`${url}/iproov/token`, { method: 'POST', headers: { Origin: ORIGIN, 'Content-Type': 'application/json', 'X-Test-User': api.randomUserId() }, body }).then(read);
    const started = await post('{"flow": "enrol"}');
    assert.equal(started.status, 200, started.text);
    assert.equal(started.json.attempt, 1);
    assert.deepEqual((await post('{')).json, { app: 'entity.parse.failed' });
  });
});

/** Sends `body` on `agent`'s kept-alive connection; resolves {status, text}. */
function send(agent, url, path, body, headers = {}) {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${url}${path}`, {
      agent,
      method: 'POST',
      headers: { Origin: ORIGIN, 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body), ...headers },
    });
    req.once('error', reject);
    req.once('response', (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (text += d));
      res.once('end', () => resolve({ status: res.statusCode, text, socket: req.socket }));
    });
    req.end(body);
  });
}

if (!NODE_ONLY) describe('what the suite does not reach', () => {
  beforeEach(async () => {
    await emu.reset();
  });

  test("Express: a body over express.json()'s own limit is core's 413, and the app's other routes keep their parser", async (t) => {
    const app = express();
    app.use(express.json());
    app.post('/echo', (req, res) => res.json({ echoed: req.body }));
    app.use('/iproov', api.toExpressMiddleware(handlerFor()));
    app.use((error, req, res, next) => res.status(499).json({ app: error.type })); // eslint-disable-line no-unused-vars
    const url = await listen(t, app);
    const headers = { Origin: ORIGIN, 'Content-Type': 'application/json', 'X-Test-User': api.randomUserId() };
    const big = await read(await fetch(`${url}/iproov/token`, { method: 'POST', headers, body: JSON.stringify({ flow: 'enrol', pad: 'x'.repeat(200_000) }) }));
    assert.deepEqual(big.json, { error: { code: 'payload_too_large', message: CODES.get('payload_too_large').message } }, big.text);
    assert.equal(big.status, 413);
    // A charset body-parser refuses carries no body: the app's error handling has it.
    const latin = await read(await fetch(`${url}/iproov/token`, { method: 'POST', headers: { ...headers, 'Content-Type': 'application/json; charset=klingon' }, body: '{}' }));
    assert.deepEqual(latin.json, { app: 'charset.unsupported' });
    // Outside the mount, the app's routes and its error handler are its own.
    const echoed = await read(await fetch(`${url}/echo`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"a": [1]}' }));
    assert.deepEqual(echoed.json, { echoed: { a: [1] } });
    const broken = await read(await fetch(`${url}/echo`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{' }));
    assert.deepEqual(broken.json, { app: 'entity.parse.failed' });
  });

  test('a body too large is refused without resetting the kept-alive connection (http, Express, Fastify)', async (t) => {
    const { createServer } = await import('node:http');
    const Fastify = require('fastify');
    const servers = {
      http: await listen(t, createServer(api.toNodeHandler(handlerFor())).listen(0, '127.0.0.1')),
      express: await listen(t, express().use('/iproov', api.toExpressMiddleware(handlerFor()))),
    };
    const fastify = Fastify();
    await fastify.register(api.iproovJourneys, { prefix: '/iproov', service: journeyService(), resolveUser: (request, req) => req.headers['x-test-user'] ?? null, allowedOrigins: [ORIGIN], logger: QUIET });
    await fastify.listen({ port: 0, host: '127.0.0.1' });
    t.after(() => fastify.close());
    servers.fastify = `http://127.0.0.1:${fastify.server.address().port}`;
    for (const [name, url] of Object.entries(servers)) {
      const agent = new Agent({ keepAlive: true, maxSockets: 1 });
      t.after(() => agent.destroy());
      const user = { 'X-Test-User': api.randomUserId() };
      const big = await send(agent, url, '/iproov/token', JSON.stringify({ flow: 'enrol', pad: 'x'.repeat(2_000_000) }), user);
      assert.equal(big.status, 413, `${name}: ${big.text}`);
      const next = await send(agent, url, '/iproov/token', '{"flow": "enrol"}', user);
      assert.equal(next.status, 200, `${name}: ${next.text}`);
      assert.equal(next.socket, big.socket, `${name}: the same connection`);
    }
  });

  test("Fastify: the plugin's parser stays in its scope; the app's JSON routes keep Fastify's", async (t) => {
    const Fastify = require('fastify');
    const app = Fastify();
    app.post('/echo', async (request) => ({ echoed: request.body }));
    await app.register(api.iproovJourneys, { prefix: '/iproov', service: journeyService(), resolveUser: () => 'u-1', logger: QUIET });
    await app.listen({ port: 0, host: '127.0.0.1' });
    t.after(() => app.close());
    const url = `http://127.0.0.1:${app.server.address().port}`;
    const echoed = await read(await fetch(`${url}/echo`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"a": 1}' }));
    assert.deepEqual(echoed.json, { echoed: { a: 1 } });
    // Under the prefix, a method Fastify knows and no route takes, and a deep path: core's JSON.
    for (const [method, path, code] of [['DELETE', '/iproov/token', 'method_not_allowed'], ['PUT', '/iproov/a/b/c', 'not_found'], ['GET', '/iproov/nope', 'not_found']]) {
      const answer = await read(await fetch(`${url}${path}`, { method }));
      assert.equal(answer.json?.error?.code, code, `${method} ${path}: ${answer.text}`);
    }
    assert.throws(() => api.toNodeHandler(null), TypeError);
  });
});
