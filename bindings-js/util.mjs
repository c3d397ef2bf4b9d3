// Small conversions shared by the JS layer. Nothing here decides anything about iProov: the
// behaviour is core's; these only reshape names, bytes and text for JavaScript.

/** The key Node's `util.inspect` (and console.log) looks up; no `node:util` import needed. */
export const INSPECT = Symbol.for('nodejs.util.inspect.custom');

/** What every hidden secret prints as (core's `secret::REDACTED`). */
export const REDACTED = '[REDACTED]';

const camelCache = new Map();
const snakeCache = new Map();

/** `retry_after_ms` -> `retryAfterMs`. */
export function camel(key) {
  let out = camelCache.get(key);
  if (out === undefined) {
    out = key.replace(/_([a-z0-9])/g, (_, c) => c.toUpperCase());
    camelCache.set(key, out);
  }
  return out;
}

/** `retryAfterMs` -> `retry_after_ms`; snake_case keys pass unchanged. */
export function snake(key) {
  let out = snakeCache.get(key);
  if (out === undefined) {
    out = key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
    snakeCache.set(key, out);
  }
  return out;
}

/** A copy of a plain object with its top-level keys in snake_case (undefined values dropped). */
export function snakeKeys(obj) {
  if (obj === null || obj === undefined) return {};
  const out = {};
  for (const key of Object.keys(obj)) {
    const value = obj[key];
    if (value !== undefined) out[snake(key)] = value;
  }
  return out;
}

/** A deep copy with every object key in camelCase (for flow outputs shown to JS callers). */
export function camelDeep(value) {
  if (Array.isArray(value)) return value.map(camelDeep);
  if (value === null || typeof value !== 'object') return value;
  const out = {};
  for (const key of Object.keys(value)) out[camel(key)] = camelDeep(value[key]);
  return out;
}

/** A deep copy with every object key in snake_case (for options given in camelCase). */
export function snakeDeep(value) {
  if (Array.isArray(value)) return value.map(snakeDeep);
  if (value === null || typeof value !== 'object') return value;
  const out = {};
  for (const key of Object.keys(value)) {
    if (value[key] !== undefined) out[snake(key)] = snakeDeep(value[key]);
  }
  return out;
}

const encoder = new TextEncoder();
const strictDecoder = new TextDecoder('utf-8', { fatal: true });
const lenientDecoder = new TextDecoder('utf-8');

export function utf8(text) {
  return encoder.encode(text);
}

export function textOf(bytes) {
  return lenientDecoder.decode(bytes);
}

/** The bytes as text when they are valid UTF-8, else `undefined`. */
export function strictText(bytes) {
  try {
    return strictDecoder.decode(bytes);
  } catch {
    return undefined;
  }
}

const NodeBuffer = globalThis.Buffer;

export function toBase64(bytes) {
  if (NodeBuffer) return NodeBuffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}

/** Decodes base64; malformed input gives `undefined` (core then reports the field). */
export function fromBase64(text) {
  try {
    if (NodeBuffer) {
      const buf = NodeBuffer.from(text, 'base64');
      return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
    }
    const binary = atob(text);
    const out = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
    return out;
  } catch {
    return undefined;
  }
}

// A buffer reused by `toBytesForCall`: `TextEncoder.encode` allocates a new buffer per call,
// which for a 60 KB validate body costs ~6x what `encodeInto` an existing buffer does.
const SCRATCH_MAX = 1 << 20;
let scratch = new Uint8Array(0);

/**
 * Like `toBytes`, for bytes that one synchronous native call reads and does not keep: a
 * string body is encoded into a buffer that the next call reuses.
 */
export function toBytesForCall(body) {
  if (typeof body !== 'string' || body.length > SCRATCH_MAX) return toBytes(body);
  if (scratch.length < body.length) scratch = new Uint8Array(Math.max(body.length, 2 * scratch.length, 1024));
  const { read, written } = encoder.encodeInto(body, scratch);
  // Not all of it fit (non-ASCII text grows when encoded): encode it on its own.
  return read === body.length ? scratch.subarray(0, written) : encoder.encode(body);
}

/** Any body a caller may hand in, as bytes. */
export function toBytes(body) {
  if (body === undefined || body === null) return new Uint8Array(0);
  if (typeof body === 'string') return encoder.encode(body);
  if (body instanceof Uint8Array) return body;
  if (body instanceof ArrayBuffer) return new Uint8Array(body);
  if (ArrayBuffer.isView(body)) return new Uint8Array(body.buffer, body.byteOffset, body.byteLength);
  throw new TypeError('body must be a string, Uint8Array, ArrayBuffer or a typed array');
}

/** Headers as a plain `{name: value}` object, from an object, a `Headers` or `[name, value]` pairs. */
export function headersObject(headers) {
  if (headers === undefined || headers === null) return {};
  if (Array.isArray(headers)) return Object.fromEntries(headers);
  if (typeof headers.forEach === 'function' && typeof headers.get === 'function') {
    const out = {};
    headers.forEach((value, name) => {
      out[name] = value;
    });
    return out;
  }
  return headers;
}
