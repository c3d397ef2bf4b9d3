// Starts the project's iProov emulator (tests/emulator, built by scripts/node.sh as
// target/debug/iproov-emulator) on a free loopback port and talks to its control API.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { REPO } from './impl.mjs';

/** The built-in service providers (tests/emulator/README.md, "Default credentials"). */
export const EU = Object.freeze({
  apiKey: 'eudefaultkey0000000000000000000000000000',
  secret: 'eudefaultsecret0000000000000000000000000',
  oauth: Object.freeze({ username: 'eu-default-oauth', password: 'eu-default-oauth-password' }),
});
export const US = Object.freeze({
  apiKey: 'usdefaultkey0000000000000000000000000000',
  secret: 'usdefaultsecret0000000000000000000000000',
  oauth: Object.freeze({ username: 'us-default-oauth', password: 'us-default-oauth-password' }),
});

export function emulatorBinary() {
  const candidates = [
    process.env.IPROOV_EMULATOR,
    join(REPO, 'target/debug/iproov-emulator'),
    join(REPO, 'target/release/iproov-emulator'),
  ].filter(Boolean);
  const found = candidates.find((p) => existsSync(p));
  if (!found) {
    throw new Error(`no emulator binary (looked at ${candidates.join(', ')}); run: cargo build -p iproov-emulator`);
  }
  return found;
}

/**
 * A running emulator: `url` (http://127.0.0.1:PORT), `region(id)`, `control(...)`, `stop()`.
 * `config`: an emulator configuration (tests/emulator/README.md) instead of the built-in SPs.
 */
export async function startEmulator({ config } = {}) {
  const args = ['--port', '0'];
  // The config file's directory goes when the emulator stops (or fails to start).
  let configDir;
  const forget = () => configDir && rmSync(configDir, { recursive: true, force: true });
  if (config !== undefined) {
    configDir = mkdtempSync(join(tmpdir(), 'iproov-emulator-'));
    const file = join(configDir, 'config.json');
    writeFileSync(file, JSON.stringify(config));
    args.push('--config', file);
  }
  let child;
  try {
    child = spawn(emulatorBinary(), args, { stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    forget();
    throw e;
  }
  child.once('exit', forget);
  let stderr = '';
  child.stderr.on('data', (d) => {
    stderr += d;
  });
  const lines = createInterface({ input: child.stdout });
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`emulator did not start in 60 s: ${stderr}`));
    }, 60_000);
    child.once('exit', (code) => reject(new Error(`emulator exited (${code}): ${stderr}`)));
    lines.once('line', (line) => {
      clearTimeout(timer);
      const m = /^listening on (http:\/\/\S+)$/.exec(line.trim());
      if (m) return resolve(m[1]);
      child.kill('SIGKILL');
      reject(new Error(`unexpected first line: ${line}`));
    });
  });
  lines.on('line', () => {});
  const emulator = new Emulator(child, url);
  child.once('exit', (code, signal) => {
    emulator.exited = `exited with ${signal ?? `code ${code}`}; stderr: ${stderr.slice(-2000)}`;
  });
  return emulator;
}

export class Emulator {
  constructor(child, url) {
    this.child = child;
    this.url = url;
  }

  /** `http://127.0.0.1:PORT/{id}` (core appends `/api/v2`). */
  region(id = 'eu') {
    return `${this.url}/${id}`;
  }

  async control(method, path, body) {
    let res;
    try {
      res = await fetch(`${this.url}/__emulator${path}`, {
        method,
        headers: body === undefined ? {} : { 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (e) {
      // Say why the emulator is unreachable, so a dead emulator is not a mystery in CI logs.
      throw new Error(`control ${method} ${path}: ${e.message} (emulator ${this.exited ?? 'still running'})`, {
        cause: e,
      });
    }
    const text = await res.text();
    if (!res.ok) throw new Error(`control ${method} ${path}: ${res.status} ${text}`);
    return text ? JSON.parse(text) : undefined;
  }

  reset() {
    return this.control('POST', '/reset');
  }

  fault(spec) {
    return this.control('POST', '/faults', spec);
  }

  /**
   * Waits until `n` requests are held by a `hold: true` fault (tests/emulator/README.md, "Fault
   * rules"): polled, for up to 60 s (a request sent is held within milliseconds).
   */
  async untilHeld(n = 1) {
    for (const deadline = Date.now() + 60_000; ; await new Promise((done) => setTimeout(done, 20))) {
      const { held } = await this.control('GET', '/faults');
      if (held >= n) return held;
      if (Date.now() > deadline) throw new Error(`${held} requests held after 60 s, not ${n}`);
    }
  }

  /** Lets every held request go on; resolves to how many were held. */
  async release() {
    return (await this.control('POST', '/faults/release')).released;
  }

  complete(token, result = { passed: true }) {
    return this.control('POST', `/claims/${token}/complete`, result);
  }

  async count(path, method) {
    const q = new URLSearchParams({ path });
    if (method) q.set('method', method);
    return (await this.control('GET', `/requests?${q}`)).count;
  }

  /** The request journal: the requests received (credentials masked), oldest first, whose path
   * ends with `path`, after the `seq` `since` (tests/emulator/README.md, "The request journal"). */
  async requests({ path, since } = {}) {
    const q = new URLSearchParams();
    if (path !== undefined) q.set('path', path);
    if (since !== undefined) q.set('since', String(since));
    return (await this.control('GET', `/journal?${q}`)).requests;
  }

  /** The `seq` of the newest request received so far: `requests({ since })`'s start. */
  async journalMark() {
    return (await this.control('GET', '/journal?limit=0')).last_seq;
  }

  seedUser(user) {
    return this.control('POST', '/users', user);
  }

  /** Ends the emulator (TERM) and checks it is gone: exited, and its port refusing connections. */
  async stop() {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      const exited = new Promise((resolve) => this.child.once('exit', resolve));
      this.child.kill('SIGTERM');
      await exited;
    }
    if (!(await refuses(this.url))) throw new Error(`the emulator exited but ${this.url} still accepts connections`);
  }
}

/** One connection attempt: whether it was refused. */
function refusedOnce(hostname, port) {
  return new Promise((resolve) => {
    const socket = connect({ host: hostname, port: Number(port) });
    socket.setTimeout(10_000, () => (socket.destroy(), resolve(false)));
    socket.once('connect', () => (socket.destroy(), resolve(false)));
    socket.once('error', () => resolve(true));
  });
}

/**
 * Whether nothing accepts connections at `url`'s host and port (a server seen gone): polled
 * for up to 10 s, since a listening socket can outlive its process's exit by a moment (its
 * last reference closed by the kernel after the exit is reported). Once connections are still
 * accepted at the end, which process listens there is logged (`ss`), for the failure's cause.
 */
export async function refuses(url) {
  const { hostname, port } = new URL(url);
  for (const deadline = Date.now() + 10_000; ; await new Promise((done) => setTimeout(done, 100))) {
    if (await refusedOnce(hostname, port)) return true;
    if (Date.now() > deadline) break;
  }
  try {
    console.error(`still listening on ${port}:`, execFileSync('ss', ['-ltnpH', `sport = :${port}`]).toString().trim());
  } catch {
    // ss missing: the assertion's message is the caller's
  }
  return false;
}

/** A minimal valid PNG (1x1), for photo enrol. */
export const PNG = Uint8Array.from(
  Buffer.from(
    'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==',
    'base64',
  ),
);
