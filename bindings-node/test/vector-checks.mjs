// Checking conformance vectors (tests/vectors/README.md) against an implementation reached
// through its public API only (build, parse, flows). No file system: the Node suite and the
// worker under workerd (with nodejs_compat, for node:crypto) both run these.
import { createHash } from 'node:crypto';

const show = (v) => JSON.stringify(v);

/** The base format's subset match: every expected key present and equal (arrays whole). */
export function subset(what, actual, expected) {
  if (expected !== null && typeof expected === 'object' && !Array.isArray(expected)) {
    if (actual === null || typeof actual !== 'object' || Array.isArray(actual)) {
      throw new Error(`${what}: got ${show(actual)}, expected ${show(expected)}`);
    }
    for (const key of Object.keys(expected)) {
      if (!(key in actual)) throw new Error(`${what}.${key} missing; got ${show(actual)}`);
      subset(`${what}.${key}`, actual[key], expected[key]);
    }
    return;
  }
  if (!deepEqual(actual, expected)) throw new Error(`${what}: got ${show(actual)}, expected ${show(expected)}`);
}

export function deepEqual(a, b) {
  if (a === b) return true;
  if (typeof a !== typeof b || a === null || b === null || typeof a !== 'object') return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) return a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  return ka.length === kb.length && ka.every((k) => k in b && deepEqual(a[k], b[k]));
}

function absent(what, actual, keys) {
  for (const key of keys ?? []) {
    if (actual !== null && typeof actual === 'object' && key in actual) {
      throw new Error(`${what}.${key} must be absent; got ${show(actual)}`);
    }
  }
}

function checkError(api, error, expected, vector) {
  if (!(error instanceof api.IProovError)) throw new Error(`threw a non-IProovError: ${error?.stack ?? error}`);
  const json = error.toJSON();
  checkErrorClass(api, error, json);
  subset('error', json, expected);
  const text = JSON.stringify(json);
  for (const banned of vector.error_excludes ?? []) {
    if (text.includes(banned)) throw new Error(`the error contains ${show(banned)}: ${text}`);
  }
  absent('error', json, vector.error_absent);
}

const KIND_CLASS = {
  invalid_input: 'InvalidInputError',
  invalid_key: 'InvalidKeyError',
  rate_limited: 'RateLimitedError',
  invalid_token: 'InvalidTokenError',
  oauth: 'OAuthError',
  server: 'ServerError',
  api: 'ApiError',
  decode: 'DecodeError',
  outcome_unknown: 'OutcomeUnknownError',
  connection: 'ConnectionError',
  timeout: 'TimeoutError',
  invalid_state: 'InvalidStateError',
};

/** The error is the class core names for its kind, with camelCased fields equal to the JSON. */
export function checkErrorClass(api, error, json) {
  const cls = api[KIND_CLASS[json.kind]];
  if (!(error instanceof cls)) throw new Error(`kind ${json.kind} should be ${KIND_CLASS[json.kind]}, got ${error.name}`);
  if (error.name !== KIND_CLASS[json.kind]) throw new Error(`name ${error.name}`);
  if (error.code !== json.code || error.message !== json.message || error.status !== json.status) {
    throw new Error(`fields differ from the JSON: ${error.code} ${error.status}`);
  }
  for (const [key, value] of Object.entries(json)) {
    const camelKey = key.replace(/_([a-z0-9])/g, (_, c) => c.toUpperCase());
    if (!deepEqual(error[camelKey], value)) throw new Error(`error.${camelKey} != json.${key}`);
  }
}

function header(request, name) {
  return request.header(name);
}

function compareRequest(request, want) {
  if (want.method !== undefined && request.method !== want.method) {
    throw new Error(`method ${request.method} != ${want.method}`);
  }
  if (want.url !== undefined && request.url !== want.url) throw new Error(`url ${request.url} != ${want.url}`);
  for (const [name, value] of Object.entries(want.headers ?? {})) {
    const got = header(request, name);
    if (got !== value) throw new Error(`header ${name}: got ${show(got)}, expected ${show(value)}`);
  }
  for (const name of want.absent_headers ?? []) {
    if (header(request, name) !== undefined) throw new Error(`header ${name} must be absent`);
  }
  for (const [name, prefix] of Object.entries(want.header_prefixes ?? {})) {
    const got = header(request, name) ?? '';
    if (!got.startsWith(prefix)) throw new Error(`header ${name}: ${show(got)} does not start with ${show(prefix)}`);
  }
  if (want.no_body === true && request.body.length !== 0) throw new Error('the request must have no body');
  const bodyJson = () => {
    try {
      return JSON.parse(request.bodyText);
    } catch (e) {
      throw new Error(`body is not JSON: ${e.message}`);
    }
  };
  if (want.json_absent !== undefined) absent('json', bodyJson(), want.json_absent);
  if (want.json !== undefined) {
    const body = bodyJson();
    if (!deepEqual(body, want.json)) throw new Error(`json body ${show(body)} != ${show(want.json)}`);
  }
  if (want.form !== undefined) {
    const got = Object.fromEntries(new URLSearchParams(request.bodyText));
    if (!deepEqual(got, want.form)) throw new Error(`form ${show(got)} != ${show(want.form)}`);
  }
  if (want.multipart !== undefined) compareMultipart(request, want.multipart);
}

function indexOf(haystack, needle, from = 0) {
  outer: for (let i = from; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

function compareMultipart(request, expected) {
  const contentType = header(request, 'content-type') ?? '';
  const boundary = contentType.split('boundary=')[1];
  if (!boundary) throw new Error('multipart without boundary');
  const enc = new TextEncoder();
  const delimiter = enc.encode(`--${boundary}`);
  const body = request.body;
  const sections = [];
  let at = indexOf(body, delimiter);
  while (at >= 0) {
    const start = at + delimiter.length;
    const next = indexOf(body, delimiter, start);
    sections.push(body.subarray(start, next < 0 ? body.length : next));
    at = next;
  }
  const got = {};
  const dec = new TextDecoder();
  for (let section of sections) {
    if (section[0] === 0x2d && section[1] === 0x2d) break;
    if (section[0] !== 13 || section[1] !== 10) throw new Error('part without CRLF');
    section = section.subarray(2);
    if (section[section.length - 2] !== 13 || section[section.length - 1] !== 10) throw new Error('part not ended by CRLF');
    section = section.subarray(0, section.length - 2);
    const split = indexOf(section, enc.encode('\r\n\r\n'));
    if (split < 0) throw new Error('part without header end');
    const head = dec.decode(section.subarray(0, split));
    const content = section.subarray(split + 4);
    const name = /; name="([^"]*)"/.exec(head)?.[1];
    if (name === undefined) throw new Error('part without name');
    const filename = /; filename="([^"]*)"/.exec(head)?.[1];
    if (filename !== undefined) {
      const ctype = head.split('\r\n').find((l) => l.startsWith('Content-Type: '))?.slice('Content-Type: '.length) ?? '';
      got[name] = { filename, content_type: ctype, sha256: createHash('sha256').update(content).digest('hex') };
    } else {
      got[name] = dec.decode(content);
    }
  }
  for (const [name, value] of Object.entries(expected)) {
    if (!deepEqual(got[name], value)) throw new Error(`multipart part ${name}: got ${show(got[name])}, expected ${show(value)}`);
  }
  const extra = Object.keys(got).find((k) => !(k in expected));
  if (extra !== undefined) throw new Error(`unexpected multipart part ${extra}`);
}

/** Runs one request/response vector through `build` and `parse`; throws on a mismatch. */
export function runVector(api, vector) {
  const op = vector.operation;
  if (typeof op !== 'string') throw new Error('no operation');
  const expectedError = vector.error;
  const response = vector.response;
  let config;
  try {
    config = new api.Config(vector.config ?? {});
  } catch (error) {
    if (response === undefined && expectedError !== undefined) return checkError(api, error, expectedError, vector);
    throw new Error(`config rejected: ${JSON.stringify(error?.toJSON?.() ?? String(error))}`);
  }
  if (vector.input !== undefined || response === undefined) {
    let request;
    try {
      request = api.build(op, config, vector.input ?? null);
    } catch (error) {
      if (response === undefined && expectedError !== undefined) return checkError(api, error, expectedError, vector);
      throw new Error(`build failed: ${JSON.stringify(error?.toJSON?.() ?? String(error))}`);
    }
    if (response === undefined && expectedError !== undefined) {
      throw new Error(`build succeeded, expected error ${show(expectedError)}`);
    }
    if (vector.request !== undefined) compareRequest(request, vector.request);
  }
  if (response === undefined) return;
  let result;
  try {
    result = api.parse(op, config, response);
  } catch (error) {
    if (expectedError !== undefined) return checkError(api, error, expectedError, vector);
    throw new Error(`parse failed: ${JSON.stringify(error?.toJSON?.() ?? String(error))}`);
  }
  if (!(result instanceof api.IProovResult)) throw new Error('parse did not give an IProovResult');
  const json = result.canonical();
  if (vector.result !== undefined) {
    subset('result', json, vector.result);
  } else if (expectedError !== undefined) {
    throw new Error(`parse gave result ${show(json)}, expected error ${show(expectedError)}`);
  }
  absent('result', json, vector.result_absent);
}

function lookup(value, path) {
  let v = value;
  for (const key of path.split('.')) {
    if (v === null || typeof v !== 'object') return undefined;
    v = Array.isArray(v) ? v[Number(key)] : Object.prototype.hasOwnProperty.call(v, key) ? v[key] : undefined;
    if (v === undefined) return undefined;
  }
  return v;
}

/** The public TokenManager's request must show core's redacted view, as every host's does. */
function checkRequestView(api, config, state, step, output) {
  const manager = api.TokenManager.restore(config, state);
  const prepared = manager.prepare(step.input.operation, step.input.input ?? {}, step.now);
  const request = prepared.request ?? prepared.tokenRequest;
  if (show(request.redacted()) !== show(output.redacted) || show(request) !== show(output.redacted)) {
    throw new Error(`the Request shows ${show(request.redacted())}, core's view is ${show(output.redacted)}`);
  }
}

/** Runs one flow vector through the public `flows` driver; throws on a mismatch. */
export function runFlowVector(api, vector) {
  const flow = vector.flow;
  if (typeof flow !== 'string') throw new Error('flow is not a string');
  const config = vector.config ?? null;
  let state;
  try {
    state = api.flows.newState(flow, vector.options ?? null);
  } catch (error) {
    if (vector.error !== undefined) {
      if (!(error instanceof api.IProovError)) throw error;
      return subset('error', error.toJSON(), vector.error);
    }
    throw new Error(`options rejected: ${JSON.stringify(error?.toJSON?.() ?? String(error))}`);
  }
  if (vector.error !== undefined) throw new Error(`options accepted, expected error ${show(vector.error)}`);
  const steps = vector.steps;
  if (!Array.isArray(steps) || steps.length === 0) throw new Error('no steps');
  steps.forEach((step, i) => {
    const where = `step ${i + 1} (${step.action ?? '?'})`;
    let out;
    try {
      out = api.flows.step(flow, config, state, step);
    } catch (error) {
      if (step.error !== undefined && error instanceof api.IProovError) {
        try {
          checkErrorClass(api, error, error.toJSON());
          return subset('error', error.toJSON(), step.error);
        } catch (e) {
          throw new Error(`${where}: ${e.message}`);
        }
      }
      throw new Error(`${where}: failed: ${JSON.stringify(error?.toJSON?.() ?? String(error))}`);
    }
    try {
      if (step.error !== undefined) throw new Error(`succeeded with ${show(out.output)}, expected error ${show(step.error)}`);
      if (step.expect !== undefined) subset('output', out.output, step.expect);
      if (step.state !== undefined) subset('state', out.state, step.state);
      for (const path of step.absent ?? []) {
        if (lookup(out.output, path) !== undefined) throw new Error(`output.${path} is present; got ${show(out.output)}`);
      }
      const shown = JSON.stringify(out.output);
      for (const text of step.lacks ?? []) {
        if (shown.includes(text)) throw new Error(`output contains ${show(text)}: ${shown}`);
      }
      if (flow === 'token_manager' && out.output.redacted !== undefined) checkRequestView(api, config, state, step, out.output);
    } catch (e) {
      throw new Error(`${where}: ${e.message}`);
    }
    state = out.state;
  });
}
