// A secret value (API secret, OAuth password, access token, host secret) that never shows in
// `util.inspect`, `console.log`, `JSON.stringify`, string conversion or template literals.
// Read it only to hand it to core, with `reveal()`.

import { INSPECT, REDACTED } from './util.mjs';

export class Secret {
  #value;

  /** @param {string | Secret} value */
  constructor(value) {
    if (value instanceof Secret) value = value.reveal();
    if (typeof value !== 'string') throw new TypeError('a Secret holds a string');
    this.#value = value;
  }

  /** The value in clear: pass it on, never log it. */
  reveal() {
    return this.#value;
  }

  /** True for an empty secret (which no operation accepts). */
  get isEmpty() {
    return this.#value.length === 0;
  }

  toString() {
    return REDACTED;
  }

  toJSON() {
    return REDACTED;
  }

  [Symbol.toPrimitive]() {
    return REDACTED;
  }

  [INSPECT]() {
    return `Secret(${REDACTED})`;
  }
}

/** The clear value of a string or `Secret` (undefined stays undefined). */
export function reveal(value) {
  if (value === undefined || value === null) return undefined;
  return value instanceof Secret ? value.reveal() : value;
}
