// The Error classes. Core decides every error (its `code`, `kind`, message and fields); this
// module only turns core's canonical error JSON into the class that core's
// `ErrorKind::class_name` names, with the fields camelCased.
//
// IProovError
// ├── InvalidInputError      kind invalid_input   (an input failed a check; nothing was sent)
// ├── ApiError               kind api             (any other error iProov reported)
// │   ├── InvalidKeyError    kind invalid_key     (+ region / baseUrl: the usual region mismatch)
// │   ├── RateLimitedError   kind rate_limited    (+ retryAfterMs)
// │   ├── InvalidTokenError  kind invalid_token
// │   ├── OAuthError         kind oauth
// │   └── ServerError        kind server
// ├── DecodeError            kind decode          (not what the operation returns)
// ├── OutcomeUnknownError    kind outcome_unknown (validate may have happened: never repeat it)
// ├── ConnectionError        kind connection      (the request could not be sent)
// ├── TimeoutError           kind timeout         (no complete answer in time)
// └── InvalidStateError      kind invalid_state   (a flow driven out of order)

import { camel } from './util.mjs';

export class IProovError extends Error {
  #json;

  /**
   * @param {object} json core's canonical error JSON: {code, status?, kind, message, ...}
   * @param {{cause?: unknown}} [options]
   */
  constructor(json, options) {
    super(String(json?.message ?? 'iProov error'), options);
    this.#json = json;
    for (const key of Object.keys(json)) {
      if (key !== 'message') this[camel(key)] = json[key];
    }
  }

  /** Core's canonical JSON of this error (what the vectors compare and what a host stores). */
  toJSON() {
    return this.#json;
  }
}

export class InvalidInputError extends IProovError {}
export class ApiError extends IProovError {}
export class InvalidKeyError extends ApiError {}
export class RateLimitedError extends ApiError {}
export class InvalidTokenError extends ApiError {}
export class OAuthError extends ApiError {}
export class ServerError extends ApiError {}
export class DecodeError extends IProovError {}
export class OutcomeUnknownError extends IProovError {}
export class ConnectionError extends IProovError {}
export class TimeoutError extends IProovError {}
export class InvalidStateError extends IProovError {}

/** Core's `kind` -> class (core's `ErrorKind::class_name`). */
export const ERROR_CLASSES = Object.freeze({
  invalid_input: InvalidInputError,
  invalid_key: InvalidKeyError,
  rate_limited: RateLimitedError,
  invalid_token: InvalidTokenError,
  oauth: OAuthError,
  server: ServerError,
  api: ApiError,
  decode: DecodeError,
  outcome_unknown: OutcomeUnknownError,
  connection: ConnectionError,
  timeout: TimeoutError,
  invalid_state: InvalidStateError,
});

for (const cls of [IProovError, ...Object.values(ERROR_CLASSES)]) {
  Object.defineProperty(cls.prototype, 'name', {
    value: cls.name,
    writable: true,
    enumerable: false,
    configurable: true,
  });
}

/** The Error object (not thrown) for core's canonical error JSON. */
export function errorFromJSON(json, options) {
  const cls = ERROR_CLASSES[json?.kind] ?? ApiError;
  return new cls(json, options);
}
