// What every result object does (the classes themselves are generated from core's tables:
// generated/results.mjs). Core parses every response into its canonical JSON; a result object
// shows that JSON's top-level fields camelCased (`user_id` -> `userId`, values as they are) and
// gives the canonical JSON back from `canonical()` (and `toJSON()`, which redacts credentials).

import { INSPECT, REDACTED, camel } from './util.mjs';

/** The credential fields of a result class (`withSecretFields`), by canonical name. */
const SECRETS = Symbol('iproov.secretFields');

export class IProovResult {
  #operation;
  #json;

  /**
   * @param {string} operation the operation name (`verify_token`, ...)
   * @param {object} json core's canonical JSON of the result
   */
  constructor(operation, json) {
    this.#operation = operation;
    this.#json = json;
    const secret = new.target[SECRETS];
    for (const key in json) if (secret === undefined || !secret.includes(key)) this[camel(key)] = json[key];
  }

  /** The operation that gave this result. */
  get operation() {
    return this.#operation;
  }

  /** Core's canonical JSON of the result (credentials in clear). */
  canonical() {
    return this.#json;
  }

  /** Core's canonical JSON of the result, credentials shown as `[REDACTED]`. */
  toJSON() {
    const secret = this.constructor[SECRETS];
    if (secret === undefined) return this.#json;
    const shown = { ...this.#json };
    for (const key of secret) if (key in shown) shown[key] = REDACTED;
    return shown;
  }
}

/**
 * Makes `fields` (canonical names) of a result class credentials: read through an accessor
 * (`accessToken`), never an own property; `toJSON()`, `JSON.stringify` and `util.inspect` show
 * them as `[REDACTED]`.
 */
export function withSecretFields(cls, fields) {
  cls[SECRETS] = Object.freeze([...fields]);
  for (const key of fields) {
    Object.defineProperty(cls.prototype, camel(key), {
      get() {
        return this.canonical()[key];
      },
      configurable: true,
    });
  }
  Object.defineProperty(cls.prototype, INSPECT, {
    value(depth, options, inspect) {
      const shown = { ...this };
      for (const key of fields) shown[camel(key)] = REDACTED;
      return `${cls.name} ${inspect ? inspect(shown, options) : JSON.stringify(shown)}`;
    },
    configurable: true,
  });
}
