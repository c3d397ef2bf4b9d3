// The public JavaScript API of iproov-sansio, over a "native" backend object (napi-rs in the
// Node package, wasm-bindgen in the edge package) that implements the interface written down
// in NATIVE.md. Everything iProov-specific happens in core behind that interface; this file
// only converts names, bytes and JSON, and picks the class core names.

import { IProovError, makeErrorClasses } from './errors.mjs';
import { ERROR_TABLE, UNKNOWN_KIND } from './generated/errors.mjs';
// Core's constants, generated: creating the API then calls the native module for none of them
// (a wasm instance compiles each function on its first call; BENCHMARKS.md, edge start).
import { INFO, REGIONS as REGION_TABLE } from './generated/host.mjs';
import * as resultClasses from './generated/results.mjs';
import { IProovResult } from './results.mjs';
import { Secret, reveal } from './secret.mjs';
import {
  INSPECT,
  REDACTED,
  camel,
  camelDeep,
  fromBase64,
  headersObject,
  snake,
  snakeDeep,
  snakeKeys,
  strictText,
  textOf,
  toBase64,
  toBytes,
  toBytesForCall,
} from './util.mjs';
import { makeClientClass } from './client.mjs';
import { makeJourneyService } from './journeys.mjs';
import { useCore } from './stores.mjs';
import { makeWebHandler } from './web.mjs';
import { makeTelemetry } from './telemetry.mjs';

// The result classes, their base and resultFor, as the API exports them.
const results = { IProovResult, ...resultClasses };
const { resultFor } = resultClasses;

export { results, Secret, IProovError, makeTelemetry };


/** The code a native backend puts on the errors it throws for core failures. */
export const NATIVE_ERROR_CODE = 'IPROOV_CORE';

/**
 * Binds the JS API to a native backend.
 * @param {object} native an object implementing NATIVE.md
 * @param {{spoolAt?: (path: string) => object, environment?: () => object, telemetry?: object}} [host]
 *   what the host package adds: the Node package's file spool, for a journey service given its
 *   spool as a path; the environment createClient reads; where telemetry events go besides a
 *   logger (`makeTelemetry`: the Node package's NODE_DEBUG and OpenTelemetry)
 */
export function createApi(native, { spoolAt, environment, telemetry = makeTelemetry() } = {}) {
  const info = INFO;
  /** Config field -> the variable configFromEnv hands core (core's `ENV_VARS`). */
  const ENV_VARS = info.env_vars;
  const HANDLE = Symbol('iproov.nativeConfig');
  // A Config made by configFromEnv: its handle, already made by core.
  const FROM_ENV = Symbol('iproov.configFromEnv');
  const { classes: ERROR_CLASSES, byKind } = makeErrorClasses(ERROR_TABLE);

  /**
   * The Error object (not thrown) for core's canonical error JSON: the class core names for
   * its `kind`; a kind this version does not know, or none, is core's ErrorKind::UNKNOWN's
   * (`ApiError`), as in every host.
   */
  function errorFromJSON(json, options) {
    const cls = byKind[json?.kind] ?? byKind[UNKNOWN_KIND];
    return new cls(json, options);
  }

  /** A native throw as the Error to throw: core's errors become their class, anything else is kept. */
  function fromNative(e) {
    if (e !== null && typeof e === 'object' && e.code === NATIVE_ERROR_CODE) {
      let json;
      try {
        json = JSON.parse(e.message);
      } catch {
        return e;
      }
      return errorFromJSON(json);
    }
    return e;
  }

  /** Calls a native function, throwing core's errors as their classes. */
  function call(fn, ...args) {
    try {
      return fn(...args);
    } catch (e) {
      throw fromNative(e);
    }
  }

  /** The vector-format config (snake_case, secrets in clear) for any accepted spelling. */
  function wireConfig(options) {
    if (options === null || typeof options !== 'object') {
      throw new TypeError('a config must be an object: {region | baseUrl, apiKey, secret, oauth, ...}');
    }
    const out = {};
    for (const key of Object.keys(options)) {
      const value = options[key];
      if (value === undefined) continue;
      if (key === 'oauth' && value !== null && typeof value === 'object' && !(value instanceof Secret)) {
        if (value.username !== undefined) out.oauth_username = value.username;
        if (value.password !== undefined) out.oauth_password = reveal(value.password);
        continue;
      }
      out[snake(key)] = reveal(value);
    }
    return out;
  }

  /**
   * A client configuration, read and checked by core once: region or base URL, credentials,
   * User-Agent. The object holds core's handle and the config's non-secret facts only (the
   * credentials stay in core); secrets never show in `util.inspect` or `JSON.stringify`.
   */
  class Config {
    #handle;
    #given; // the names given (vector format), to show the secret ones as redacted
    #info; // core's configInfo, read on first use: a worker may build a Config per request
    #shown;

    /**
     * @param {object} options `{region | baseUrl, apiKey?, secret?, oauth?: {username, password},
     *   accessToken?, userAgent?}`; the vector format's snake_case names work too.
     */
    constructor(options) {
      const wire = wireConfig(options);
      const handle = options?.[FROM_ENV] ?? call(native.newConfig, JSON.stringify(wire));
      Object.defineProperty(this, HANDLE, { value: handle });
      this.#handle = handle;
      this.#given = Object.keys(wire);
    }

    #facts() {
      if (this.#info === undefined) {
        const info = JSON.parse(native.configInfo(this.#handle));
        // Core's configInfo lists what is not secret; anything else given is shown redacted.
        const shown = camelDeep(info);
        for (const key of this.#given) {
          if (!(key in info) && key !== 'base_url') shown[camel(key)] = REDACTED;
        }
        this.#info = info;
        this.#shown = shown;
      }
      return this.#info;
    }

    /** A Config as is, or a new one from options. */
    static from(config) {
      return config instanceof Config ? config : new Config(config);
    }

    /** The region id (`eu`, ...), or undefined for a custom base URL. */
    get region() {
      return this.#facts().region;
    }

    /** The REST base URL, ending in `/api/v2`. */
    get baseUrl() {
      return this.#facts().base_url;
    }

    /** The User-Agent every request carries. */
    get userAgent() {
      return this.#facts().user_agent;
    }

    /** The API key (not a secret: it also goes in URLs). */
    get apiKey() {
      return this.#facts().api_key;
    }

    /** The OAuth username. */
    get oauthUsername() {
      return this.#facts().oauth_username;
    }

    /** The WebSocket URL iProov's SDK streams to with this config's tokens (core's: the
     * region's, or the base URL's host). */
    get streamingUrl() {
      return this.#facts().streaming_url;
    }

    toJSON() {
      this.#facts();
      return this.#shown;
    }

    [INSPECT](depth, options, inspect) {
      const shown = this.toJSON();
      return `Config ${inspect ? inspect(shown, options) : JSON.stringify(shown)}`;
    }
  }

  /**
   * A Config from the options given and the environment's `IPROOV_*` variables, by core's rules
   * (`JsonConfig::from_env`, as Python's `config_from_env`): each field not given is read from
   * its variable (`IPROOV_API_KEY`, `IPROOV_SECRET`, `IPROOV_OAUTH_USERNAME`,
   * `IPROOV_OAUTH_PASSWORD`; empty counts as unset); the target from the options when they name
   * one (`region` or `baseUrl`), else from `IPROOV_REGION` / `IPROOV_BASE_URL`.
   * @param {object} [options] the Config's options (any left out come from `env`)
   * @param {Record<string, string | undefined>} [env] the variables: Node's `process.env` by
   *   default; in a worker, its bindings (`env`), which it must pass
   */
  function configFromEnv(options = {}, env = environment?.()) {
    if (env !== undefined && (env === null || typeof env !== 'object')) {
      throw new TypeError('env must be an object of variables (process.env, a worker\'s env)');
    }
    const wire = wireConfig(options);
    // Only the variables core reads cross over, and only strings (a worker's env also holds
    // its other bindings).
    const vars = {};
    for (const [, name] of ENV_VARS) {
      const value = env?.[name];
      if (typeof value === 'string') vars[name] = value;
    }
    const handle = call(native.newConfigFromEnv, JSON.stringify(wire), JSON.stringify(vars));
    // The fields' names, to show the secret ones redacted: the given ones and those the
    // environment may have given.
    const names = { ...wire };
    for (const [field, name] of ENV_VARS) if (!(field in names) && vars[name]) names[field] = '';
    return new Config({ ...names, [FROM_ENV]: handle });
  }

  function handleOf(config) {
    return Config.from(config)[HANDLE];
  }

  /**
   * A request for the host to send exactly as described. Its body and headers carry
   * credentials: `util.inspect` and `JSON.stringify` show core's redacted view only.
   */
  class Request {
    #method;
    #url;
    #headers;
    #text;
    #bytes;
    #redact;

    /** @param {string | Uint8Array} body text (JSON, form) or bytes (multipart) */
    constructor(method, url, headers, body, redact) {
      this.#method = method;
      this.#url = url;
      this.#headers = headers;
      if (typeof body === 'string') this.#text = body;
      else this.#bytes = body;
      this.#redact = redact;
    }

    /** `GET`, `POST`, `PUT` or `DELETE`. */
    get method() {
      return this.#method;
    }

    /** The full URL. */
    get url() {
      return this.#url;
    }

    /** `[name, value]` pairs in sending order. */
    get headers() {
      return this.#headers;
    }

    /** The body bytes (empty for GET and DELETE). */
    get body() {
      if (this.#bytes === undefined) this.#bytes = toBytes(this.#text);
      return this.#bytes;
    }

    /** The body as text. */
    get bodyText() {
      if (this.#text === undefined) this.#text = textOf(this.#bytes);
      return this.#text;
    }

    /** The first value of a header, by case-insensitive name. */
    header(name) {
      const wanted = name.toLowerCase();
      for (const [key, value] of this.#headers) {
        if (key.toLowerCase() === wanted) return value;
      }
      return undefined;
    }

    /** `fetch(request.url, request.fetchInit())`. */
    fetchInit() {
      const init = { method: this.#method, headers: this.#headers };
      const body = this.#bytes ?? this.#text;
      if (body.length > 0) init.body = body;
      return init;
    }

    /** Core's redacted view: secrets replaced by `[REDACTED]`. */
    redacted() {
      const r = this.#redact;
      if (r.view !== undefined) return structuredClone(r.view); // core gave it with the request (a flow's)
      try {
        return JSON.parse(native.redactRequest(r.operation, r.handle, r.inputJson));
      } catch (e) {
        throw fromNative(e);
      }
    }

    toJSON() {
      return this.redacted();
    }

    [INSPECT](depth, options, inspect) {
      const shown = this.redacted();
      return `Request ${inspect ? inspect(shown, options) : JSON.stringify(shown)}`;
    }
  }

  /**
   * The request text `native.build` gives (NATIVE.md): `METHOD[ base64]\nURL\n` then
   * `Name: value\n` per header, a blank line, and the body.
   */
  function requestParts(text) {
    if (text.charCodeAt(0) === 123 /* { */) {
      // The JSON form, for a request whose URL or headers hold a line break (NATIVE.md).
      const json = JSON.parse(text);
      return { method: json.method, url: json.url, headers: json.headers, body: wireBody(json) };
    }
    let at = text.indexOf('\n');
    const first = text.slice(0, at);
    let next = text.indexOf('\n', at + 1);
    const url = text.slice(at + 1, next);
    const headers = [];
    at = next + 1;
    while (text.charCodeAt(at) !== 10) {
      next = text.indexOf('\n', at);
      const colon = text.indexOf(': ', at);
      headers.push([text.slice(at, colon), text.slice(colon + 2, next)]);
      at = next + 1;
    }
    const rest = text.slice(at + 1);
    const binary = first.endsWith(' base64');
    return {
      method: binary ? first.slice(0, -7) : first,
      url,
      headers,
      body: binary ? (fromBase64(rest) ?? new Uint8Array(0)) : rest,
    };
  }

  /** A driver poll (NATIVE.md): `KIND WAKE N\n`, N audit record lines (JSON), the payload. */
  function readPoll(text) {
    let at = text.indexOf('\n');
    const [kind, wake, n, m = '0'] = text.slice(0, at).split(' ');
    const audit = [];
    const events = [];
    for (let i = 0; i < Number(n) + Number(m); i++) {
      const next = text.indexOf('\n', at + 1);
      (i < Number(n) ? audit : events).push(JSON.parse(text.slice(at + 1, next)));
      at = next;
    }
    return { kind, wake: wake === '1', audit, events, payload: text.slice(at + 1) };
  }

  /**
   * The result `native.parse` gives (NATIVE.md): canonical JSON, then `\n<name>\n<value>` for
   * each large frame core kept out of it.
   */
  function resultJson(text) {
    let at = text.indexOf('\n');
    if (at < 0) return JSON.parse(text);
    const json = JSON.parse(text.slice(0, at));
    while (at >= 0) {
      const nameEnd = text.indexOf('\n', at + 1);
      const next = text.indexOf('\n', nameEnd + 1);
      json[text.slice(at + 1, nameEnd)] = next < 0 ? text.slice(nameEnd + 1) : text.slice(nameEnd + 1, next);
      at = next;
    }
    return json;
  }

  /** The body of a wire request (`body` text or `body_base64`). */
  function wireBody(wire) {
    if (typeof wire.body === 'string') return wire.body;
    if (typeof wire.body_base64 === 'string') return fromBase64(wire.body_base64) ?? new Uint8Array(0);
    return '';
  }

  /** A wire request of core's flow driver (`{method, url, headers: {}, body | body_base64}`). */
  /** A flow's wire request, shown as the redacted view core gave beside it (`view`). */
  function requestFromWire(wire, view) {
    return new Request(wire.method, wire.url, Object.entries(wire.headers ?? {}), wireBody(wire), { view });
  }

  /** An input with binary values (the enrol image) as the vector format's `{base64}`. */
  function wireInput(input, camelCase) {
    if (input === undefined || input === null) return '';
    // camelCase: the client's inputs; top-level names only, values are the caller's data.
    let out = camelCase ? snakeKeys(input) : input;
    const image = out.image;
    if (image !== undefined && image !== null && typeof image === 'object' && !('base64' in image)) {
      if (out === input) out = { ...input };
      out.image = { base64: toBase64(toBytes(image)) };
    }
    return JSON.stringify(out);
  }

  /**
   * Builds the request of `operation` (core's `operation::build`).
   * @param {string} operation e.g. `verify_token`
   * @param {Config | object} config a Config, or options as for `new Config` (vector format works)
   * @param {object} [input] the operation's input as in the vector format (snake_case)
   * @returns {Request}
   * @throws {InvalidInputError} when an input or the config fails a check
   */
  function build(operation, config, input) {
    const handle = handleOf(config);
    const inputJson = wireInput(input, false);
    let r;
    try {
      r = requestParts(native.build(operation, handle, inputJson));
    } catch (e) {
      throw fromNative(e);
    }
    return new Request(r.method, r.url, r.headers, r.body, { operation, handle, inputJson });
  }

  function responseParts(response) {
    if (response === null || typeof response !== 'object') {
      throw new TypeError('a response is {status, headers, body | body_base64}');
    }
    let body;
    const b64 = response.body_base64 ?? response.bodyBase64;
    if (response.body === undefined && typeof b64 === 'string') {
      body = fromBase64(b64);
      if (body === undefined) throw new TypeError('body_base64 is not valid base64');
    } else {
      body = toBytesForCall(response.body);
    }
    return { status: response.status, headersJson: JSON.stringify(headersObject(response.headers)), body };
  }

  /**
   * Reads a response of `operation` into its result (core's `operation::parse`).
   * @param {string} operation
   * @param {Config | object} config
   * @param {{status: number, headers?: object, body?: string | Uint8Array | ArrayBuffer, body_base64?: string}} response
   * @throws {IProovError} the error class core names for a refused or unreadable response
   */
  function parse(operation, config, response) {
    const handle = handleOf(config);
    const { status, headersJson, body } = responseParts(response);
    let text;
    try {
      text = native.parse(operation, handle, status, headersJson, body);
    } catch (e) {
      throw fromNative(e);
    }
    return resultFor(operation, resultJson(text));
  }

  // ---- flows: core's JSON driver (flows::json) ---------------------------------------------

  /** The native handle of a config argument: a Config, its options, or none (`undefined`). */
  function optionalHandle(config) {
    return config === undefined || config === null ? undefined : handleOf(config);
  }

  /** Core's flow driver over plain JSON, exactly as in the flow vectors. */
  const flows = Object.freeze({
    /** `flows::json::new_state(flow, options)`. */
    newState(flow, options) {
      return JSON.parse(call(native.flowNew, flow, options === undefined || options === null ? '' : JSON.stringify(options)));
    },
    /** `flows::json::run_step(flow, config, state, step)`: `{state, output}`. */
    step(flow, config, state, step) {
      return JSON.parse(call(native.flowStep, flow, optionalHandle(config), JSON.stringify(state), JSON.stringify(step)));
    },
  });

  function wireResponse(response) {
    if (response === undefined || response === null) return undefined;
    const { status } = response;
    const headers = headersObject(response.headers);
    if (typeof response.body === 'string') return { status, headers, body: response.body };
    const b64 = response.body_base64 ?? response.bodyBase64;
    if (response.body === undefined && typeof b64 === 'string') return { status, headers, body_base64: b64 };
    if (response.body === undefined || response.body === null) return { status, headers };
    const bytes = toBytes(response.body);
    const text = strictText(bytes);
    return text === undefined ? { status, headers, body_base64: toBase64(bytes) } : { status, headers, body: text };
  }

  function stepOf(action, now, input, response) {
    const step = { action };
    if (now !== undefined) step.now = now;
    if (input !== undefined) step.input = input;
    const wire = wireResponse(response);
    if (wire !== undefined) step.response = wire;
    return step;
  }

  /** An error a host reports to core's flows: its canonical JSON (core keeps its details). */
  function reportedError(error) {
    return error instanceof IProovError ? error.toJSON() : snakeDeep(error);
  }

  function withErrors(output) {
    // Flow outputs carry errors as core's canonical JSON; give them as Error objects.
    const out = camelDeep(output);
    if (output && typeof output === 'object' && output.error && typeof output.error === 'object') {
      out.error = errorFromJSON(output.error);
    }
    return out;
  }

  /**
   * Reuses one OAuth access token within iProov's limits (core's `TokenManager`): 1 hour or 50
   * requests, a new one once after a rejection, never in a loop.
   */
  class TokenManager {
    #config;
    #flow; // core keeps the state (it holds the access token) behind this handle

    /**
     * @param {Config | object} config with `apiKey` and `oauth: {username, password}`
     * @param {object} [policy] `{marginMs, maxUses, defaultExpiresInS, scope}`
     */
    constructor(config, policy) {
      this.#config = Config.from(config);
      this.#flow = call(native.newFlow, 'token_manager', JSON.stringify(snakeDeep(policy ?? {})));
    }

    /** A manager restored from `export({includeToken: true})` output. */
    static restore(config, state) {
      const manager = new TokenManager(config);
      manager.#run('restore', undefined, { state });
      return manager;
    }

    #run(action, now, input, response) {
      const step = JSON.stringify(stepOf(action, now, input, response));
      return JSON.parse(call(native.flowRun, this.#flow, this.#config[HANDLE], step));
    }

    /**
     * Authorizes a management request or says a token must be fetched first.
     * @returns {{action: 'authorized', uses: number, request: Request} | {action: 'need_token', tokenRequest: Request}}
     */
    prepare(operation, input, now = Date.now()) {
      const out = this.#run('prepare', now, { operation, input: input ?? {} });
      if (out.action === 'authorized') return { action: out.action, uses: out.uses, request: requestFromWire(out.request, out.redacted) };
      return { action: out.action, tokenRequest: requestFromWire(out.token_request, out.redacted) };
    }

    /** Takes the answer to the token request; throws the OAuth error core reads from it. */
    acceptToken(response, now = Date.now()) {
      return camelDeep(this.#run('accept_token', now, undefined, response));
    }

    /**
     * Checks the answer to an authorized request.
     * @returns {{action: 'parse'} | {action: 'retry_with_new_token'} | {action: 'fail', error: IProovError}}
     */
    onResponse(response) {
      return withErrors(this.#run('on_response', undefined, undefined, response));
    }

    /** `{hasToken, spent, uses, issuedAtMs?, expiresAtMs?, spentAtMs?, scope?}`. */
    status(now = Date.now()) {
      return camelDeep(this.#run('status', now));
    }

    /** Drops the current token. */
    forgetToken() {
      this.#run('forget_token');
    }

    /** The state as JSON; the token only with `{includeToken: true}` (store that like a secret). */
    export({ includeToken = false } = {}) {
      return this.#run('export', undefined, { include_token: includeToken });
    }

    toJSON() {
      return this.export();
    }

    [INSPECT](depth, options, inspect) {
      const shown = this.export();
      return `TokenManager ${inspect ? inspect(shown, options) : JSON.stringify(shown)}`;
    }
  }

  /** Core's retry advisor (`RetryPolicy::advise`). */
  class RetryPolicy {
    #state;

    /** @param {object} [policy] `{maxRetries, baseDelayMs, maxDelayMs, maxRetryAfterMs}` */
    constructor(policy) {
      this.#state = flows.newState('retry', snakeDeep(policy ?? {}));
    }

    /**
     * Whether and when to repeat a request that just failed.
     * @param {{operation: string, attempt: number, response?: {status: number, headers?: object},
     *   failure?: 'failed_before_sending' | 'may_have_reached_server', now?: number, jitter?: number}} observed
     * @returns {{action: 'retry_at', atMs: number, delayMs: number} | {action: 'give_up', reason: string}
     *   | {action: 'outcome_unknown', error: OutcomeUnknownError}}
     */
    advise({ operation, attempt, response, failure, now = Date.now(), jitter = Math.random() }) {
      const input = { operation, attempt, jitter };
      if (failure !== undefined) input.failure = failure;
      const wire = response === undefined ? undefined : { status: response.status, headers: headersObject(response.headers) };
      const step = { action: 'advise', now, input };
      if (wire !== undefined) step.response = wire;
      return withErrors(flows.step('retry', null, this.#state, step).output);
    }

    toJSON() {
      return this.#state;
    }
  }

  const RESTORE = Symbol('iproov.journeyState');

  /** One user's attempts at enrol or verify (core's `Journey`): 3 by default, events in order. */
  class Journey {
    #state;

    /**
     * @param {{userId: string, flow: 'enrol' | 'verify', assuranceType?: string,
     *   maxAttempts?: number, tokenTtlMs?: number}} options
     */
    constructor(options) {
      if (options !== undefined && options !== null && Object.prototype.hasOwnProperty.call(options, RESTORE)) {
        this.#state = options[RESTORE];
        return;
      }
      this.#state = flows.newState('journey', snakeDeep(options ?? {}));
    }

    /** A journey from the JSON that `toJSON()` gave (checked by core). */
    static fromJSON(state) {
      const journey = new Journey({ [RESTORE]: state });
      journey.next(0);
      return journey;
    }

    #run(action, now, input, response) {
      const out = flows.step('journey', null, this.#state, stepOf(action, now, input, response));
      this.#state = out.state;
      return camelDeep(out.output);
    }

    get userId() {
      return this.#state.user_id;
    }

    get flow() {
      return this.#state.flow;
    }

    /** What the host should do next: `{next: 'start_attempt', attempt, attemptsLeft}` and so on. */
    next(now = Date.now()) {
      return this.#run('next', now, {});
    }

    /** A token was issued for a new attempt: the token string or the token response. */
    tokenIssued(tokenOrResponse, now = Date.now()) {
      if (typeof tokenOrResponse === 'string') return this.#run('token_issued', now, { token: tokenOrResponse });
      if (tokenOrResponse instanceof results.IProovResult) {
        return this.#run('token_issued', now, { token: tokenOrResponse.token });
      }
      return this.#run('token_issued', now, {}, tokenOrResponse);
    }

    /** Validate answered: a ValidateResult (or its canonical JSON), or the validate response. */
    validated(token, resultOrResponse, now = Date.now()) {
      if (resultOrResponse instanceof results.IProovResult) {
        return this.#run('validated', now, { token, result: resultOrResponse.toJSON() });
      }
      if (resultOrResponse && typeof resultOrResponse === 'object' && 'status' in resultOrResponse && !('passed' in resultOrResponse)) {
        return this.#run('validated', now, { token }, resultOrResponse);
      }
      return this.#run('validated', now, { token, result: resultOrResponse });
    }

    /** Validate failed with an error (an OutcomeUnknownError makes the attempt inconclusive). */
    validateFailed(token, error, now = Date.now()) {
      return this.#run('validate_failed', now, { token, error: reportedError(error) });
    }

    /** An attempt ended without a validate: `expired`, `invalidated` or `abandoned`. */
    endAttempt(token, reason, now = Date.now()) {
      return this.#run('end_attempt', now, { token, reason });
    }

    /** Core's JSON of the journey: store it between HTTP requests. */
    toJSON() {
      return this.#state;
    }

    [INSPECT](depth, options, inspect) {
      return `Journey ${inspect ? inspect(this.#state, options) : JSON.stringify(this.#state)}`;
    }
  }

  /**
   * The audit record of one operation (core's `AuditRecord`), free of secrets.
   * @param {{operation: string, userId?: string, token?: string, attempt?: number,
   *   includeFrame?: boolean, result?: object, error?: object, response?: object}} event
   * @param {{now?: number, config?: Config | object}} [options] config: to parse a response and
   *   redact its secrets from the record
   */
  function auditRecord(event, { now = Date.now(), config } = {}) {
    const input = { operation: event.operation };
    if (event.userId !== undefined) input.user_id = event.userId;
    if (event.token !== undefined) input.token = event.token;
    if (event.attempt !== undefined) input.attempt = event.attempt;
    if (event.includeFrame !== undefined) input.include_frame = event.includeFrame;
    if (event.result !== undefined) {
      input.result = event.result instanceof results.IProovResult ? event.result.toJSON() : event.result;
    }
    if (event.error !== undefined) input.error = reportedError(event.error);
    const step = stepOf('record', now, input, event.response);
    return flows.step('audit', config === undefined ? null : Config.from(config), {}, step).output;
  }

  // ---- user ids, regions ------------------------------------------------------------------

  /** Throws InvalidInputError unless `userId` fully matches iProov's pattern. */
  function checkUserId(userId, field = 'user_id') {
    try {
      native.checkUserId(field, userId);
    } catch (e) {
      throw fromNative(e);
    }
  }

  /** Warnings (never errors) when a user id looks like personal data: `[{code, message}]`. */
  function lintUserId(userId) {
    return JSON.parse(native.lintUserId(userId));
  }

  /** A random user id (UUID v4) from the platform's secure random source. */
  function randomUserId() {
    const bytes = new Uint8Array(16);
    globalThis.crypto.getRandomValues(bytes);
    return native.randomUserId(bytes);
  }

  /** A stable pseudonymous user id: HMAC-SHA-256 of your internal key under a host secret. */
  function pseudonymousUserId(hostSecret, internalKey) {
    try {
      return native.pseudonymousUserId(reveal(hostSecret), internalKey);
    } catch (e) {
      throw fromNative(e);
    }
  }

  /** A region by any usual spelling: `{id, baseUrl, streamingUrl}`. */
  function region(name) {
    try {
      return camelDeep(JSON.parse(native.region(name)));
    } catch (e) {
      throw fromNative(e);
    }
  }

  const REGIONS = Object.freeze(REGION_TABLE.map((r) => Object.freeze(camelDeep(r))));
  const OPERATIONS = Object.freeze([...info.operations]);

  const IProovClient = makeClientClass({
    native,
    Config,
    HANDLE,
    call,
    camel,
    snakeDeep,
    wireInput,
    requestParts,
    readPoll,
    resultJson,
    resultFor,
    errorFromJSON,
    info,
    INSPECT,
    telemetry,
  });

  const JourneyService = makeJourneyService({
    native,
    HANDLE,
    call,
    camelDeep,
    snakeDeep,
    errorFromJSON,
    randomUserId,
    IProovClient,
    IProovError,
    spoolAt,
    telemetry,
  });
  // The edge package's DurableObjectStore is exported beside the API: it reads core's
  // statements and errors from here.
  useCore({ schema: (dialect) => JSON.parse(call(native.storeSchema, dialect)), errorFromJSON });

  const { createJourneyHandler, BROWSER_ERRORS } = makeWebHandler({
    native,
    call,
    snakeDeep,
    IProovError,
    JourneyService,
  });

  /**
   * A client over `fetch`: one async method per operation, each a loop around core's call
   * driver (retries, the shared OAuth token, deadlines, audit records: all core's).
   */
  function createClient(options = {}) {
    if (options instanceof Config || options === null || typeof options !== 'object' || options.config !== undefined) {
      return new IProovClient(options);
    }
    const { env, ...rest } = options;
    // The config from the options and the environment, by core's rules (as Python's
    // clients): a target named in the options wins; each credential not given is read from
    // its variable.
    const { fetch, timeoutMs, maxRetries, retryPolicy, tokenPolicy, auditFrames, audit, logger, ...config } = rest;
    const client = { fetch, timeoutMs, maxRetries, retryPolicy, tokenPolicy, auditFrames, audit, logger };
    for (const key of Object.keys(client)) if (client[key] === undefined) delete client[key];
    return new IProovClient({ ...client, config: configFromEnv(config, env ?? environment?.()) });
  }

  return Object.freeze({
    VERSION: info.version,
    DEFAULT_USER_AGENT: info.default_user_agent,
    MAX_BODY_BYTES: info.max_body_bytes,
    OPERATIONS,
    REGIONS,
    region,
    Config,
    Secret,
    Request,
    build,
    parse,
    createClient,
    configFromEnv,
    IProovClient,
    TokenManager,
    RetryPolicy,
    Journey,
    JourneyService,
    createJourneyHandler,
    BROWSER_ERRORS,
    auditRecord,
    flows,
    checkUserId,
    lintUserId,
    randomUserId,
    pseudonymousUserId,
    errorFromJSON,
    ERROR_CLASSES: byKind,
    ...ERROR_CLASSES,
    ...results,
  });
}
