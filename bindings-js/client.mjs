// The fetch client: a loop around core's call driver (core/src/driver). Core decides everything
// (building, input checks, the OAuth token shared by concurrent calls, retries, deadlines,
// outcome_unknown, audit records, redaction, the error of every failure); this loop does only
// the IO core leaves to the host: fetch, sleep, wait for the shared token, and name how a send
// failed with a name of core's transport table.

import { causeText, failureOf, readBody, sendableBody } from './fetch.mjs';
import { wrapLogger } from './telemetry.mjs';

/**
 * A call option of this package's own (the journey service): a function that receives the
 * call's audit records after the client's `audit` hook, synchronously. A symbol, so that it is
 * no public option and no caller's key can reach it.
 */
export const CALL_AUDIT = Symbol('iproov.callAudit');
/** The client's logger as telemetry.mjs wraps it: the journey service's default. */
export const LOGGER = Symbol('iproov.logger');

export function makeClientClass(ctx) {
  const { native, Config, HANDLE, call, camel, snakeDeep, wireInput, requestParts, readPoll, resultJson, resultFor, errorFromJSON, info, INSPECT, telemetry } = ctx;
  // One Promise per driver, resolved when a poll says `wake`; every wait is bounded by its until_ms.
  const wakers = new WeakMap();
  const waiter = (driver) => {
    let waiting = wakers.get(driver);
    if (!waiting) {
      let resolve;
      waiting = { promise: new Promise((r) => (resolve = r)), resolve: () => resolve() };
      wakers.set(driver, waiting);
    }
    return waiting.promise;
  };
  const wake = (driver) => {
    wakers.get(driver)?.resolve();
    wakers.delete(driver);
  };

  class IProovClient {
    #config;
    #driver;
    #options;
    #fetch;
    #audit;
    #logger;

    /**
     * @param {object} options `{region | baseUrl, apiKey, secret, oauth: {username, password},
     *   accessToken?, userAgent?, fetch?, timeoutMs?, maxRetries?, retryPolicy?, tokenPolicy?,
     *   auditFrames?, audit?, logger?}`, or `config` (a Config, such as configFromEnv's) in
     *   place of the config's fields. `timeoutMs` (1 to 600000) replaces core's per-operation
     *   deadlines; `audit(record)` receives core's record of every request and outcome;
     *   `logger` (console- or pino-like: telemetry.mjs, `wrapLogger`) gets core's telemetry
     *   events at their levels (a line per send at debug, a retry at info, a call's end at
     *   debug, info or warn) and this package's error lines (an audit hook that threw); the
     *   default, `console`, gets the error lines only.
     * @throws {InvalidInputError} when core refuses the config or an option
     */
    constructor(options = {}) {
      const { fetch, timeoutMs, maxRetries, retryPolicy, tokenPolicy, auditFrames, audit, logger, config: made, ...config } = options;
      if (audit !== undefined && typeof audit !== 'function') throw new TypeError('audit must be a function');
      if (logger !== undefined && typeof logger?.error !== 'function') throw new TypeError('logger must have an error(...) method');
      if (typeof (fetch ?? globalThis.fetch) !== 'function') throw new TypeError('no fetch: pass options.fetch');
      if (made !== undefined && !(made instanceof Config)) throw new TypeError('config must be a Config (configFromEnv gives one); or give its fields as options');
      const beside = Object.keys(config).filter((key) => config[key] !== undefined);
      if (made !== undefined && beside.length > 0) throw new TypeError(`config is a whole Config: give ${beside.join(', ')} to it, not beside it`);
      this.#config = options instanceof Config ? options : (made ?? Config.from(config));
      const retry = snakeDeep({ ...retryPolicy, maxRetries });
      const driverOptions = { retry, token: snakeDeep(tokenPolicy ?? {}), timeout_ms: timeoutMs, audit_frames: auditFrames };
      this.#options = JSON.stringify(driverOptions);
      const seed = globalThis.crypto.getRandomValues(new Uint8Array(8));
      this.#driver = call(native.driverNew, this.#config[HANDLE], this.#options, seed);
      this.#fetch = fetch;
      this.#audit = audit;
      this.#logger = wrapLogger(logger ?? console, logger !== undefined);
    }

    /** The client's logger, wrapped (telemetry.mjs): the journey service's by default. */
    get [LOGGER]() {
      return this.#logger;
    }

    /** The client's Config (secrets redacted when shown). */
    get config() {
      return this.#config;
    }

    toJSON() {
      return { config: this.#config.toJSON(), options: JSON.parse(this.#options) };
    }

    [INSPECT](depth, options, inspect) {
      return `IProovClient ${inspect ? inspect(this.toJSON(), options) : JSON.stringify(this.toJSON())}`;
    }

    /**
     * Any operation by its core name, with an input in the vector format (snake_case) or in
     * camelCase. `options`: `{signal?: AbortSignal, attempt?: number, maxWaitMs?: number}`
     * (the journey attempt, for the audit records; the longest wait before a retry, in ms:
     * a longer backoff or `Retry-After` ends the call at once with its error).
     */
    async call(operation, input, { signal, attempt = 0, maxWaitMs = 0, [CALL_AUDIT]: also, ...unknown } = {}) {
      // A per-call timeoutMs is gone (core owns deadlines): say so rather than ignore it.
      const extra = Object.keys(unknown);
      if (extra.length > 0) throw new TypeError(`unknown call option(s) ${extra.join(', ')}: a call takes {signal, attempt, maxWaitMs}`);
      const driver = this.#driver;
      // quiet: no hook takes this call's audit records, so core makes none (their building,
      // redaction and text cost more than anything else core does in a call).
      const quiet = this.#audit === undefined && also === undefined;
      // telemetry: a logger, the debug log or OpenTelemetry takes the call's events (core
      // builds none otherwise); `told` keeps its sends until its own event (telemetry.mjs).
      const told = telemetry.wanted(this.#logger) ? [] : undefined;
      const id = call(native.driverStart, driver, operation, wireInput(input, true), attempt, quiet, maxWaitMs, told !== undefined, Date.now());
      let open = true;
      try {
        for (;;) {
          const poll = readPoll(native.driverPoll(driver, id, Date.now()));
          if (poll.wake) wake(driver);
          for (const record of poll.audit) {
            this.#record(record);
            also?.(record);
          }
          if (poll.events.length > 0) telemetry.emit(poll.events, this.#logger, told);
          if (poll.kind === 'send') await this.#send(id, poll.payload, signal);
          else if (poll.kind === 'sleep' || poll.kind === 'wait') {
            await this.#pause(id, Number(poll.payload), signal, poll.kind === 'wait' ? waiter(driver) : undefined);
          } else {
            open = false;
            if (poll.kind === 'done') return resultFor(operation, resultJson(poll.payload));
            throw errorFromJSON(JSON.parse(poll.payload));
          }
        }
      } catch (error) {
        if (open) {
          try {
            native.driverCancel(driver, id);
          } catch {} // eslint-disable-line no-empty -- a driver of a trapped wasm instance is gone: the error stands
          wake(driver); // a token request this call owned is free now
        }
        throw error;
      }
    }

    /**
     * Sends one request and reports its answer, or how the send failed, to the driver. The
     * payload starts with the send's whole time in ms, counted from now (core's driver docs,
     * "Deadlines"): no clock is read before sending.
     */
    async #send(id, payload, signal) {
      const split = payload.indexOf('\n');
      const timeoutMs = Number(payload.slice(0, split));
      const { method, url, headers, body } = requestParts(payload.slice(split + 1));
      const report = (failure, error) => native.driverFailure(this.#driver, id, failure, causeText(error), Date.now());
      if (signal?.aborted) return report('aborted_before_sending', signal.reason);
      const controller = new AbortController();
      let expired = false;
      const timer = setTimeout(() => ((expired = true), controller.abort()), timeoutMs);
      const onAbort = () => controller.abort();
      signal?.addEventListener('abort', onAbort, { once: true });
      let answered = false;
      try {
        // Never follow a redirect: the body holds the secret.
        const init = { method, headers, body: sendableBody(method, body), redirect: 'manual', signal: controller.signal };
        const res = await (this.#fetch ? this.#fetch(url, init) : globalThis.fetch(url, init));
        answered = true;
        const bytes = await readBody(res, info.max_body_bytes);
        const names = {};
        res.headers.forEach((value, name) => (names[name] = value));
        native.driverResponse(this.#driver, id, res.status, JSON.stringify(names), bytes, Date.now());
      } catch (error) {
        if (signal?.aborted) return report('aborted', signal.reason);
        if (expired) return report(failureOf(error) === 'connect_timeout' ? 'connect_timeout' : 'timeout', error);
        report(answered ? 'after_written' : failureOf(error), error);
      } finally {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
      }
    }

    /** Sleeps until `untilMs`, a wake-up (`woken`) or the caller's abort (reported to the driver). */
    async #pause(id, untilMs, signal, woken) {
      if (!signal?.aborted) {
        await new Promise((resolve) => {
          const done = () => (clearTimeout(timer), signal?.removeEventListener('abort', done), resolve());
          const timer = setTimeout(done, Math.max(0, untilMs - Date.now()));
          signal?.addEventListener('abort', done, { once: true });
          woken?.then(done);
        });
      }
      if (signal?.aborted) native.driverFailure(this.#driver, id, 'aborted_before_sending', causeText(signal.reason), Date.now());
    }

    /** Hands a record to the audit hook; a hook that throws is logged, never the call's outcome. */
    #record(record) {
      if (this.#audit === undefined) return;
      const failed = (error) => this.#logger.error('iproov-sansio: the audit hook threw (the call goes on; its outcome stands):', error);
      try {
        const out = this.#audit(record);
        if (typeof out?.then === 'function') out.then(undefined, failed);
      } catch (error) {
        failed(error);
      }
    }
  }

  for (const operation of info.operations) {
    const method = camel(operation);
    Object.defineProperty(IProovClient.prototype, method, {
      value: { [method](input, options) { return this.call(operation, input, options); } }[method],
      writable: true,
      configurable: true,
    });
  }
  return IProovClient;
}
