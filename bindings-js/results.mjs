// Result objects. Core parses every response into its canonical JSON; a result object shows
// that JSON's top-level fields camelCased (`user_id` -> `userId`, values as they are) and gives
// the canonical JSON back from `canonical()` (and `toJSON()`, which redacts an access token).

import { INSPECT, REDACTED, camel } from './util.mjs';

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
    for (const key in json) this[camel(key)] = json[key];
  }

  /** The operation that gave this result. */
  get operation() {
    return this.#operation;
  }

  /** Core's canonical JSON of the result. */
  canonical() {
    return this.#json;
  }

  /** Core's canonical JSON of the result (an `AccessToken`'s shows its token redacted). */
  toJSON() {
    return this.#json;
  }
}

/** A claim token (enrol or verify). */
export class ClaimToken extends IProovResult {}
/** The answer to a photo enrol. */
export class EnrolImageResult extends IProovResult {}
/** The outcome of a validate: `passed: false` is a result, never an error. */
export class ValidateResult extends IProovResult {}
/** A user of the management API. */
export class User extends IProovResult {}
/** The answer to an invalidate. */
export class InvalidateResult extends IProovResult {}
/** The answer to availability. */
export class Availability extends IProovResult {}

/**
 * An OAuth access token. The token itself is read through the `accessToken` getter (or
 * `canonical()`); `util.inspect`, `JSON.stringify` and `toJSON()` show it as `[REDACTED]`.
 * Store it like a secret.
 */
export class AccessToken extends IProovResult {
  #token;

  constructor(operation, json) {
    const { access_token: token, ...rest } = json;
    super(operation, rest);
    this.#token = token;
  }

  /** The access token, in clear: hand it on (a `Config`'s `accessToken`), never log it. */
  get accessToken() {
    return this.#token;
  }

  /** Core's canonical JSON, with the token in clear (what the conformance vectors compare). */
  canonical() {
    return { ...super.canonical(), access_token: this.#token };
  }

  toJSON() {
    return { ...super.canonical(), access_token: REDACTED };
  }

  [INSPECT](depth, options, inspect) {
    const shown = { ...this, accessToken: REDACTED };
    return `AccessToken ${inspect ? inspect(shown, options) : JSON.stringify(shown)}`;
  }
}

const RESULT_CLASSES = {
  enrol_token: ClaimToken,
  verify_token: ClaimToken,
  enrol_image: EnrolImageResult,
  enrol_validate: ValidateResult,
  verify_validate: ValidateResult,
  access_token: AccessToken,
  activate_user: User,
  suspend_user: User,
  get_user: User,
  update_user: User,
  delete_user: User,
  invalidate_claim: InvalidateResult,
  availability: Availability,
};

/** The result object of `operation` for core's canonical JSON. */
export function resultFor(operation, json) {
  const cls = RESULT_CLASSES[operation] ?? IProovResult;
  return new cls(operation, json);
}
