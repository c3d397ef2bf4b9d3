'use strict';
// `iproov-sansio/testing`: starts the iProov emulator (the `iproov-emulator` binary) for a
// backend's own tests and wraps its control API (/__emulator/). Needs no test runner and not
// the addon: node:child_process and the global fetch only. testing.mjs re-exports this object.
const { spawn } = require('node:child_process');
const { accessSync, constants, mkdtempSync, rmSync, statSync, writeFileSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');
const { createInterface } = require('node:readline');

const ENV_BINARY = 'IPROOV_EMULATOR_BIN';
// iProov's own domains: {region}.rp.secure.iproov.me and the rest of its service.
const IPROOV_DOMAINS = ['iproov.me', 'iproov.com'];

/** The emulator could not be found, did not start, or refused a control call. */
class EmulatorError extends Error {
  constructor(code, description, { status, method, path, stderr } = {}) {
    const where = method ? ` (${method} ${path} -> ${status})` : '';
    super(`${code}: ${description}${where}${stderr ? `\nemulator stderr:\n${stderr}` : ''}`);
    this.name = 'EmulatorError';
    this.code = code;
    this.description = description;
    this.status = status;
    this.method = method;
    this.path = path;
    this.stderr = stderr;
  }
}

/**
 * Why `env` (default process.env) points at a real iProov region, or null: IPROOV_REGION set
 * and not empty (the clients read a region as iProov's host for it; empty counts as unset), or
 * IPROOV_BASE_URL on a host of iproov.me or iproov.com. Any other base URL (the emulator's, your
 * own stand-in) is not. The pytest plugin (iproov_emulator.real_iproov_target) has the same rule.
 */
function realIproovTarget(env = process.env) {
  const baseUrl = String(env.IPROOV_BASE_URL ?? '').trim();
  if (baseUrl) {
    let host = '';
    try {
      host = new URL(baseUrl.includes('://') ? baseUrl : `https://${baseUrl}`).hostname;
    } catch {
      // Not a URL at all: no host of iProov's either.
    }
    host = host.replace(/\.$/, '').toLowerCase();
    if (IPROOV_DOMAINS.some((domain) => host === domain || host.endsWith(`.${domain}`))) {
      return `IPROOV_BASE_URL=${baseUrl} is iProov's own service`;
    }
  }
  const region = String(env.IPROOV_REGION ?? '').trim();
  if (region) return `IPROOV_REGION=${region} points iProov's clients at its real ${region} region`;
  return null;
}

/** Throws EmulatorError `real_iproov` when the environment points at a real iProov region. */
function refuseRealIproov(when) {
  const reason = realIproovTarget();
  if (reason === null) return;
  throw new EmulatorError(
    'real_iproov',
    `refused ${when}: ${reason}, so a client that reads IPROOV_* would call iProov itself, with whatever ` +
      'credentials this environment holds. Unset IPROOV_REGION and IPROOV_BASE_URL for your tests (or set ' +
      'IPROOV_BASE_URL to emulator.baseUrl()); a suite meant to call iProov opts in with ' +
      'startEmulator({ allowLive: true }).',
  );
}

function findBinary() {
  const explicit = process.env[ENV_BINARY];
  let candidate = explicit;
  if (!candidate) {
    try {
      // The npm package `iproov-emulator` (an optional peer dependency) carries the binary.
      candidate = require('iproov-emulator').binaryPath;
    } catch (error) {
      throw new EmulatorError(
        'binary_not_found',
        `npm install --save-dev iproov-emulator, or set ${ENV_BINARY} (${error.message.split('\n')[0]})`,
      );
    }
  }
  try {
    accessSync(candidate, constants.X_OK);
    if (!statSync(candidate).isFile()) throw new Error('not a file');
  } catch {
    throw new EmulatorError('binary_not_found', `${candidate}${explicit ? ` (${ENV_BINARY})` : ''} is not an executable file`);
  }
  return candidate;
}

class Emulator {
  constructor(url, child, configDir, { allowLive = false } = {}) {
    /** `http://127.0.0.1:PORT` */
    this.url = url;
    this._child = child;
    this._configDir = configDir;
    this._allowLive = allowLive;
    this._stderr = [];
    this._providers = undefined;
    // Killed when this Node process exits, even if a test forgets stop().
    this._kill = () => child?.kill('SIGKILL');
    if (child) process.on('exit', this._kill);
  }

  /** The region's REST base, `http://127.0.0.1:PORT/{region}/api/v2`: pass it as `baseUrl`. */
  baseUrl(region = 'eu') {
    return `${this.url}/${region}/api/v2`;
  }

  /** Every configured service provider: [{name, region, apiKey, secret, oauth: {username, password}}]. */
  async serviceProviders() {
    if (!this._providers) {
      const config = await this.control('GET', '/config');
      this._providers = config.service_providers.map((sp) =>
        Object.freeze({
          name: sp.name,
          region: sp.region,
          apiKey: sp.api_key,
          secret: sp.secret,
          oauth: Object.freeze({ username: sp.oauth_username, password: sp.oauth_password }),
        }),
      );
    }
    return [...this._providers];
  }

  /** The service provider called `name`, else the region's first (built-in: eu-default, us-default). */
  async credentials(region = 'eu', { name } = {}) {
    const found = (await this.serviceProviders()).find((sp) => (name !== undefined ? sp.name === name : sp.region === region));
    if (!found) throw new EmulatorError('unknown_service_provider', `no service provider ${name ?? `in ${region}`}`);
    return found;
  }

  /** Finishes a claim's capture as the user's device would: `{passed, reason?, frame?, signals?}`. */
  completeClaim(token, result = { passed: true }) {
    return this.control('POST', `/claims/${encodeURIComponent(token)}/complete`, { passed: true, ...result });
  }

  /** Creates an enrolled user (status Active, Inactive, Suspended or Deleted) of `apiKey`'s SP (default: eu's first). */
  async addUser(userId, { status = 'Active', apiKey } = {}) {
    const key = apiKey ?? (await this.credentials('eu')).apiKey;
    return this.control('POST', '/users', { api_key: key, user_id: userId, status });
  }

  /**
   * The next `times` requests whose path ends with `path` fail with HTTP `status`, or a
   * connection reset (`reset: true`), after `delay_ms` milliseconds; only `delay_ms` slows
   * them down. Other fault fields (method, region, json, headers, after_handler, kind) pass
   * through as the emulator's JSON. Resolves the rule's id.
   */
  async injectFault({ path, status, reset = false, delay_ms = 0, times = 1, ...rule }) {
    const kind = reset ? 'reset' : status !== undefined ? 'status' : 'delay';
    const body = { path, kind, times, delay_ms, ...(status !== undefined ? { status } : {}), ...rule };
    return (await this.control('POST', '/faults', body)).id;
  }

  async clearFaults() {
    await this.control('DELETE', '/faults');
  }

  /** Requests a `hold: true` fault keeps waiting now (until releaseHeld(), a reset, or 60 s at most). */
  async heldCount() {
    return (await this.control('GET', '/faults')).held;
  }

  /** Lets every held request go on; resolves how many were held. */
  async releaseHeld() {
    return (await this.control('POST', '/faults/release')).released;
  }

  /** Token requests per second (sliding 1 s window) of `apiKey`'s SP (default: eu's first); null lifts it. */
  async setRateLimit(perSecond, { apiKey } = {}) {
    const key = apiKey ?? (await this.credentials('eu')).apiKey;
    await this.control('PUT', `/service-providers/${key}/rate-limit`, { per_second: perSecond });
  }

  /** iProov is down: every API call answers 500 server_error. */
  async markDown() {
    await this.control('PUT', '/availability', { up: false });
  }

  async markUp() {
    await this.control('PUT', '/availability', { up: true });
  }

  /** Moves the emulator clock `seconds` (whole seconds) forward; resolves {now, now_ms, offset_secs}. */
  advanceClock(seconds) {
    return this.control('POST', '/clock/advance', { seconds });
  }

  /** API requests received (faulted ones too) whose path ends with `path` (all if omitted), of `method` if given. */
  async requestCount(path, { method } = {}) {
    if (path === undefined) return (await this.control('GET', '/requests')).total;
    const query = new URLSearchParams({ path, ...(method ? { method } : {}) });
    return (await this.control('GET', `/requests?${query}`)).count;
  }

  /**
   * The request journal: the API requests received (faulted and refused ones included), oldest
   * first, whose path ends with `path`, of `method`, after the `seq` `since` (see journalMark).
   * Each is the emulator's JSON: seq, method, path, query, headers, body_bytes, and the body as
   * json, form, multipart or text, with every credential (api_key, secret, OAuth password,
   * access tokens) shown as `***`; claim tokens are kept (tests/emulator/README.md, "The
   * request journal").
   */
  async requests({ path, method, since } = {}) {
    const query = new URLSearchParams();
    if (path !== undefined) query.set('path', path);
    if (method !== undefined) query.set('method', method);
    if (since !== undefined) query.set('since', String(since));
    const text = query.size > 0 ? `?${query}` : '';
    return (await this.control('GET', `/journal${text}`)).requests;
  }

  /** The `seq` of the newest request received so far (0 before any): pass it as `requests({ since })`. */
  async journalMark() {
    return (await this.control('GET', '/journal?limit=0')).last_seq;
  }

  /** The emulator's named presets: [{name, description, options}]. */
  async presets() {
    return (await this.control('GET', '/presets')).presets;
  }

  /** Loads a named preset with its options as the emulator's JSON (reason, retry_after_secs, delay_ms, api_key); 'none' clears it. */
  loadPreset(name, options = {}) {
    return this.control('PUT', '/preset', { ...options, name });
  }

  /**
   * Forgets users, claims, tokens, faults, counters, the request journal, clock offset, rate
   * limits, outage and preset. Called before each test (beforeEach), it is also where a test is
   * refused (EmulatorError real_iproov) while IPROOV_REGION/IPROOV_BASE_URL point at a real
   * iProov region, unless the emulator was started with { allowLive: true }.
   */
  async reset() {
    if (!this._allowLive) refuseRealIproov('to reset the emulator for a test');
    await this.control('POST', '/reset');
  }

  /** The emulator's last stderr output. */
  get stderr() {
    return this._stderr.join('');
  }

  /** One control API call (`/__emulator${path}`); resolves the decoded JSON or undefined. */
  async control(method, path, body) {
    let response;
    try {
      response = await fetch(`${this.url}/__emulator${path}`, {
        method,
        headers: body === undefined ? {} : { 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (error) {
      const state = this._child?.exitCode ?? this._child?.signalCode;
      const note = state === null || state === undefined ? 'still running' : `exited with ${state}`;
      throw new EmulatorError('unreachable', `${error.cause?.message ?? error.message} (${note})`, { method, path, stderr: this.stderr });
    }
    const text = await response.text();
    if (!response.ok) {
      let answer;
      try {
        answer = JSON.parse(text);
      } catch {
        answer = {};
      }
      const code = typeof answer.error === 'string' ? answer.error : 'unexpected_answer';
      throw new EmulatorError(code, answer.error_description ?? text.slice(0, 500), { status: response.status, method, path });
    }
    return text ? JSON.parse(text) : undefined;
  }

  /** Stops the process (SIGTERM, then SIGKILL after 5 s). Idempotent. */
  async stop() {
    const child = this._child;
    this._child = undefined;
    if (!child) return;
    process.off('exit', this._kill);
    // No pid: the spawn itself failed, and no 'exit' will come.
    if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
    if (this._configDir) rmSync(this._configDir, { recursive: true, force: true });
  }
}

/**
 * Starts the emulator on a free port of 127.0.0.1 and resolves once it listens (at most
 * `timeoutMs`, default 30 000 ms). `config`: an emulator configuration instead of the built-in
 * one; `binary`: its path (default: $IPROOV_EMULATOR_BIN, else the iproov-emulator package's).
 * Rejects (EmulatorError real_iproov) while IPROOV_REGION/IPROOV_BASE_URL point at a real iProov
 * region, unless `allowLive` (then reset() does not refuse either).
 */
async function startEmulator({ binary, config, args = [], timeoutMs = 30_000, allowLive = false } = {}) {
  if (!allowLive) refuseRealIproov('to start the emulator');
  const command = binary ?? findBinary();
  const argv = ['--host', '127.0.0.1', '--port', '0', ...args];
  let configDir;
  if (config !== undefined) {
    configDir = mkdtempSync(join(tmpdir(), 'iproov-emulator-'));
    writeFileSync(join(configDir, 'config.json'), JSON.stringify(config));
    argv.push('--config', join(configDir, 'config.json'));
  }
  const child = spawn(command, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
  const emulator = new Emulator('', child, configDir, { allowLive });
  child.stderr.on('data', (chunk) => {
    emulator._stderr.push(String(chunk));
    while (emulator._stderr.length > 200) emulator._stderr.shift();
  });
  const lines = createInterface({ input: child.stdout });
  const first = await new Promise((resolve) => {
    const timer = setTimeout(() => resolve({ note: `no 'listening on' line within ${timeoutMs} ms` }), timeoutMs);
    child.once('error', (error) => resolve({ note: error.message }));
    child.once('exit', (code, signal) => resolve({ note: `exited with ${signal ?? code}` }));
    lines.once('line', (line) => resolve({ line }));
    timer.unref?.();
  });
  lines.on('line', () => {}); // keeps draining stdout so the emulator never blocks on it
  const match = /^listening on (http:\/\/\S+)$/.exec(first.line?.trim() ?? '');
  if (!match) {
    await new Promise((resolve) => setTimeout(resolve, 100)); // the last stderr chunk
    await emulator.stop();
    const note = first.line !== undefined ? `first stdout line ${JSON.stringify(first.line)}` : first.note;
    throw new EmulatorError('start_failed', `${command} ${argv.join(' ')}: ${note}`, { stderr: emulator.stderr });
  }
  // Unref'd once it listens, so that a forgotten emulator never keeps Node alive (until then
  // the pending start does).
  child.unref();
  for (const stream of [child.stdout, child.stderr]) stream.unref?.();
  emulator.url = match[1];
  return emulator;
}

module.exports = { startEmulator, Emulator, EmulatorError, findBinary, realIproovTarget };
