// The client scenarios (tests/scenarios/README.md) against a running emulator, through a JS
// package's public client: `createClient`, its camelCase methods, its `audit` hook, an
// AbortSignal, its `logger` (every log line checked against the requests the emulator
// received: scenario-telemetry.mjs) and, where the runner captures them, its OpenTelemetry
// spans and metrics. Platform-neutral (fetch, timers, no Node modules): the Node runner
// (run-scenarios.mjs) and the workerd test worker both call `runScenarios`.

import { captureLogger, checkTelemetry } from './scenario-telemetry.mjs';

const camel = (key) => key.replace(/_([a-z0-9])/g, (_, c) => c.toUpperCase());

/** Every substitution of the README in `value` (strings at any depth). */
function substitute(value, vars) {
  if (Array.isArray(value)) return value.map((v) => substitute(v, vars));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, substitute(v, vars)]));
  }
  if (typeof value !== 'string' || !value.includes('$')) return value;
  const pattern = /\$(user2|user|base_url|sp\.[a-z_]+|[A-Za-z0-9_]+\.result(?:\.[A-Za-z0-9_]+)+)/g;
  const lookup = (name) => {
    const found = name.split('.').reduce((v, key) => (v === undefined || v === null ? undefined : v[key]), vars);
    if (found === undefined) throw new Error(`unknown substitution $${name}`);
    return found;
  };
  const whole = /^\$(user2|user|base_url|sp\.[a-z_]+|[A-Za-z0-9_]+\.result(?:\.[A-Za-z0-9_]+)+)$/.exec(value);
  if (whole) return lookup(whole[1]);
  return value.replace(pattern, (_, name) => String(lookup(name)));
}

/** Throws unless `actual` holds `expected` (objects: a subset, at any depth; arrays: all of it). */
function subset(where, actual, expected) {
  if (expected !== null && typeof expected === 'object') {
    if (actual === null || typeof actual !== 'object') throw new Error(`${where}: got ${JSON.stringify(actual)}, expected ${JSON.stringify(expected)}`);
    if (Array.isArray(expected) && (!Array.isArray(actual) || actual.length !== expected.length)) {
      throw new Error(`${where}: got ${JSON.stringify(actual)}, expected ${JSON.stringify(expected)}`);
    }
    for (const key of Object.keys(expected)) subset(`${where}.${key}`, actual[key], expected[key]);
    return;
  }
  if (actual !== expected) throw new Error(`${where}: got ${JSON.stringify(actual)}, expected ${JSON.stringify(expected)}`);
}

/**
 * Blocks the thread for `ms`, as a slow synchronous audit hook would (README: `audit_delay`):
 * Atomics.wait where the platform allows it on this thread (Node), else a busy wait (workerd,
 * whose clock moves while JS runs; a clock that stood still would throw, never hang).
 */
function block(ms) {
  const start = Date.now();
  try {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
    return;
  } catch {
    // workerd: "Atomics.wait cannot be called in this context"
  }
  for (let spins = 0; Date.now() < start + ms; spins++) {
    if (spins > 10_000_000 && Date.now() === start) throw new Error('the clock stands still: the hook cannot block');
  }
}

function fromBase64(text) {
  const binary = atob(text);
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}

/** A scenario input as the client's own method takes it: camelCase names, image bytes. */
function clientInput(input) {
  const out = {};
  for (const [key, value] of Object.entries(input ?? {})) {
    out[camel(key)] = key === 'image' && typeof value?.base64 === 'string' ? fromBase64(value.base64) : value;
  }
  return out;
}

/** Client options from core's DriverOptions JSON, through the client's public options. */
function clientOptions(options = {}) {
  const camelDeep = (v) => (v && typeof v === 'object' ? Object.fromEntries(Object.entries(v).map(([k, x]) => [camel(k), camelDeep(x)])) : v);
  const out = {};
  if (options.retry !== undefined) out.retryPolicy = camelDeep(options.retry);
  if (options.token !== undefined) out.tokenPolicy = camelDeep(options.token);
  if (options.timeout_ms !== undefined) out.timeoutMs = options.timeout_ms;
  if (options.audit_frames !== undefined) out.auditFrames = options.audit_frames;
  return out;
}

async function control(emulatorUrl, method, path, body) {
  const res = await fetch(`${emulatorUrl}/__emulator${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`control ${method} ${path}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : undefined;
}

/** Throws unless `error` is an IProovError of the expected class holding the expected fields. */
function checkError(api, where, error, expected) {
  if (!(error instanceof api.IProovError)) throw new Error(`${where}: threw a non-IProovError ${error?.stack ?? error}`);
  const { class: cls, ...fields } = expected;
  if (cls !== undefined) {
    if (typeof api[cls] !== 'function') throw new Error(`${where}: the package has no class ${cls}`);
    if (!(error instanceof api[cls]) || error.name !== cls) throw new Error(`${where}: got ${error.name}, expected ${cls} (${error.message})`);
  }
  subset(`${where} error`, error.toJSON(), fields);
}

/** One call step's outcome checked against its `expect`; gives the result's canonical JSON.
 * `calls` gets `{operation, code, token}`: the error's code, or the result's claim token. */
async function callOnce(api, client, step, input, calls) {
  const options = {};
  if (step.attempt !== undefined) options.attempt = step.attempt;
  let timer;
  if (step.abort_after_ms !== undefined) {
    const controller = new AbortController();
    timer = setTimeout(() => controller.abort(new Error('the scenario gave up')), step.abort_after_ms);
    options.signal = controller.signal;
  }
  const method = camel(step.call);
  if (typeof client[method] !== 'function') throw new Error(`the client has no method ${method}`);
  let result;
  let error;
  try {
    result = await client[method](clientInput(input), options);
  } catch (e) {
    error = e;
  } finally {
    clearTimeout(timer);
  }
  calls.push({ operation: step.call, code: error?.code, token: result?.canonical?.().token });
  const expect = step.expect ?? {};
  if (expect.error !== undefined) {
    if (error === undefined) throw new Error(`${step.call}: gave a result ${JSON.stringify(result?.toJSON())}, expected error ${expect.error.code}`);
    checkError(api, step.call, error, expect.error);
    return undefined;
  }
  if (error !== undefined) throw new Error(`${step.call}: failed: ${error.name} ${JSON.stringify(error.toJSON?.() ?? String(error))}`);
  const json = result.canonical();
  if (expect.result !== undefined) subset(`${step.call} result`, json, expect.result);
  return json;
}

/** Runs one scenario; throws on the first mismatch. */
async function runScenario(api, emulatorUrl, sps, scenario, index, otel) {
  await control(emulatorUrl, 'POST', '/reset');
  await otel?.begin();
  const sp = sps.find((s) => s.name === (scenario.client?.sp ?? 'eu-default'));
  if (!sp) throw new Error(`unknown service provider ${scenario.client?.sp}`);
  const credentials = { ...sp, ...scenario.client?.credentials };
  const vars = { user: api.randomUserId(), user2: api.randomUserId(), sp: credentials };
  const records = [];
  const calls = [];
  const { logger, lines } = captureLogger();
  const delay = scenario.client?.audit_delay;
  let hookFailed;
  const client = api.createClient({
    baseUrl: `${emulatorUrl}/${scenario.client?.region ?? sp.region}`,
    apiKey: credentials.api_key,
    secret: credentials.secret,
    oauth: { username: credentials.oauth_username, password: credentials.oauth_password },
    ...clientOptions(scenario.client?.options),
    // Its own User-Agent makes each scenario's client a distinct configuration: where the edge
    // package shares one driver (and OAuth token) between clients of equal configuration
    // (workerd), a scenario still starts with a client of its own, as the format says.
    userAgent: `iproov-scenarios/1 (scenario ${index + 1})`,
    audit: (record) => {
      records.push(record);
      if (record.operation !== delay?.operation) return;
      try {
        block(delay.ms);
      } catch (error) {
        hookFailed = error; // the client would log it and go on: the scenario fails instead
      }
    },
    logger,
  });
  vars.base_url = client.config.baseUrl; // as core normalised it
  for (const [index, raw] of scenario.steps.entries()) {
    const step = substitute(raw, vars);
    if (step.control !== undefined) await control(emulatorUrl, step.control, step.path, step.body);
    else if (step.sleep_ms !== undefined) await new Promise((r) => setTimeout(r, step.sleep_ms));
    // What this host makes of core's canonical error JSON from elsewhere.
    else if (step.error_json !== undefined) {
      if (step.expect?.error === undefined) throw new Error(`step ${index}: an error_json step needs expect.error`);
      checkError(api, `step ${index} (error_json)`, api.errorFromJSON(step.error_json), step.expect.error);
    }
    else if (step.call !== undefined) {
      const n = step.concurrent ?? 1;
      const results = await Promise.all(Array.from({ length: n }, () => callOnce(api, client, step, step.input, calls)));
      if (step.id !== undefined) vars[step.id] = { result: results[0] };
    } else throw new Error(`step ${index}: unknown kind ${JSON.stringify(raw)}`);
  }
  if (hookFailed !== undefined) throw new Error(`the audit hook could not block: ${hookFailed}`);
  for (const [rawKey, count] of Object.entries(scenario.requests ?? {})) {
    const key = substitute(rawKey, vars);
    const [method, path] = key.split(' ');
    const seen = await control(emulatorUrl, 'GET', `/requests?${new URLSearchParams({ path, method })}`);
    if (seen.count !== count) throw new Error(`requests ${key}: the emulator saw ${seen.count}, expected ${count}`);
  }
  if (scenario.audit !== undefined) {
    const expected = substitute(scenario.audit, vars);
    const shown = () => JSON.stringify(records.map((r) => `${r.operation}:${r.outcome}${r.error ? `:${r.error.code}` : ''}`));
    if (records.length !== expected.length) throw new Error(`audit: ${records.length} records ${shown()}, expected ${expected.length}`);
    expected.forEach((want, i) => subset(`audit[${i}]`, records[i], want));
  }
  const text = JSON.stringify(records);
  for (const lacking of substitute(scenario.audit_lacks ?? [], vars)) {
    if (text.includes(lacking)) throw new Error(`audit records hold ${lacking.slice(0, 6)}...`);
  }
  // What the client told, against what the emulator received; no secret, token or user id.
  const requests = await control(emulatorUrl, 'GET', '/requests');
  const issued = (await control(emulatorUrl, 'GET', '/state')).access_tokens.map((t) => t.access_token);
  const needles = [
    credentials.api_key, credentials.secret, credentials.oauth_password, `${credentials.oauth_username}:${credentials.oauth_password}`,
    ...issued, ...calls.map((c) => c.token).filter(Boolean), vars.user, vars.user2,
  ].filter((n) => typeof n === 'string' && n !== '');
  const port = Number(new URL(emulatorUrl).port);
  return checkTelemetry({ lines, otel: await otel?.collect() }, { requests, port, calls, needles });
}

/**
 * Runs every scenario (`[{file, scenario}]`) against the emulator at `emulatorUrl` with the
 * package `api`; each is bounded by `timeoutMs`. Prints `scenarios (<client>): N passed, M
 * failed` and what the telemetry checks saw through `log`; gives `{passed, failed}` (failed:
 * messages naming the scenarios). `otel`: `{begin(), collect()}` where the runner captures
 * OpenTelemetry (the Node package): `begin` starts a fresh capture, `collect` gives its spans
 * and metrics (scenario-telemetry.mjs, `checkTelemetry`).
 */
export async function runScenarios(api, { emulatorUrl, scenarios, client, log = console.log, timeoutMs = 60_000, otel }) {
  const names = new Set();
  const failed = [];
  let passed = 0;
  const told = { lines: 0, sends: 0, spans: 0 };
  const { service_providers: sps } = await control(emulatorUrl, 'GET', '/config');
  for (const [index, { file, scenario }] of scenarios.entries()) {
    let timer;
    try {
      if (names.has(scenario.name)) throw new Error('a second scenario of this name');
      names.add(scenario.name);
      const bound = new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`not done within ${timeoutMs} ms`)), timeoutMs);
      });
      const seen = await Promise.race([runScenario(api, emulatorUrl, sps, scenario, index, otel), bound]);
      for (const key of Object.keys(told)) told[key] += seen[key];
      passed += 1;
    } catch (e) {
      failed.push(`${scenario.name} [${file}]: ${e.message}`);
      log(`FAIL ${failed.at(-1)}`);
    } finally {
      clearTimeout(timer);
    }
  }
  log(`scenarios (${client}): ${passed} passed, ${failed.length} failed; telemetry checked: ${told.lines} log lines (${told.sends} sends), ${told.spans} spans`);
  return { passed, failed };
}
