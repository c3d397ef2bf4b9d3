// Journeys that are stored, not just driven: `JourneyService` runs core's journey pump
// (core/src/service/pump.rs; NATIVE.md, "The journey loop") over a client, a store and a spool.
// Core decides everything (limits, attempts, validate once across instances, the order of the
// writes, how long a failing store is tried again, what goes to the spool, every error); this
// loop only carries out the pump's actions. The same loop as Python's
// `iproov_sansio.journeys.JourneyService`.

import { CALL_AUDIT, LOGGER } from './client.mjs';
import { wrapLogger } from './telemetry.mjs';
import { STORE_METHODS } from './stores.mjs';

export { STORE_METHODS };

export function makeJourneyService(ctx) {
  const { native, HANDLE, call, camelDeep, snakeDeep, errorFromJSON, randomUserId, IProovClient, IProovError, spoolAt, telemetry } = ctx;
  const refuse = (field, problem) => errorFromJSON({ code: 'invalid_input', kind: 'invalid_input', message: `invalid ${field}: ${problem}`, field });
  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
  // The store's part of the pump's actions: [method, its arguments, the event of its value].
  const STORE_ACTIONS = {
    read: ['get', (a) => [a.table, a.id], (record) => ({ read: record ?? null })],
    insert: ['insert', (a) => [a.table, a.record], (took) => ({ written: took === true })],
    update: ['update', (a) => [a.table, a.record, a.expected_version], (took) => ({ written: took === true })],
    append_audit: ['appendAudit', (a) => [a.journey_id, a.records], () => ({ written: true })],
    forget: ['forget', (a) => [a.user_id], (gone) => ({ forgotten: gone })],
  };

  class JourneyService {
    #client;
    #store;
    #setup; // core's checked policy and what it derived from the client (JSON text)
    #spool; // a spool object, or false
    #logger;
    #clock;
    #backoff; // the token requests iProov said to hold back: core's object, opaque here
    #replayedMs; // when this service last replayed its spool (undefined: not yet)
    #replayWanted = false; // a finished pump said to replay it now
    #replaying = Promise.resolve();

    /**
     * @param {IProovClient} client this package's client (its config, driver and audit hook)
     * @param {object} store a journey store (`JourneyStore` in api.d.ts; each method may
     *   return a Promise)
     * @param {{policy?: object, spool?: string | false | object, logger?: {error: Function},
     *   clock?: () => number}} [options] `policy`: core's service policy (camelCase or
     *   snake_case; README "Limits"); `spool`: where validated outcomes wait while the store is
     *   down (a path in the Node package, a spool object, or `false`), by default the store's
     *   own (`store.spool`); `logger` (console- or pino-like, as the client's) gets each journey
     *   request's telemetry event at its level (info; warn for an outcome unknown or a limit;
     *   error for a store failure) and the pump's error-level lines; by default the client's
     *   logger; `clock`: Unix ms (Date.now)
     * @throws {TypeError} for a client of another package or a store lacking a method
     * @throws {InvalidInputError} for an unusable policy (`field` names it), or no spool
     *   (`field` is `spool`) for a store that has no default
     */
    constructor(client, store, { policy, spool, logger, clock = Date.now } = {}) {
      if (!(client instanceof IProovClient)) throw new TypeError('client must be made by createClient of this package');
      const missing = STORE_METHODS.filter((m) => typeof store?.[m] !== 'function');
      if (missing.length > 0) throw new TypeError(`the store lacks ${missing.join(', ')}`);
      if (logger !== undefined && typeof logger?.error !== 'function') throw new TypeError('logger must have an error(...) method');
      if (typeof clock !== 'function') throw new TypeError('clock must be a function () => Unix ms');
      this.#setup = call(native.serviceSetup, JSON.stringify(snakeDeep(policy ?? {})), JSON.stringify(client.toJSON().options));
      const chosen = spool === undefined ? store.spool : spool;
      if (chosen === undefined || chosen === null) {
        throw refuse('spool', 'this store keeps no spool of its own: give one (a local file where validated outcomes wait while the store is down), or spool: false to go without');
      }
      if (typeof chosen === 'string' && spoolAt === undefined) throw refuse('spool', 'a path needs the Node package; give a spool object or false');
      this.#spool = typeof chosen === 'string' ? spoolAt(chosen) : chosen;
      [this.#client, this.#store, this.#clock] = [client, store, clock];
      this.#logger = logger === undefined ? client[LOGGER] : wrapLogger(logger, true);
      // Crash recovery: outcomes a process before this one spooled reach the store.
      if (this.#spool && this.#spool.hasLines()) this.replaySpool().catch((e) => this.#log('iproov journeys: the spool replay failed:', e));
    }

    /** The store the service reads and writes. */
    get store() {
      return this.#store;
    }

    /** The client the service calls iProov through. */
    get client() {
      return this.#client;
    }

    /** Core's policy in force, defaults and what core derived from the client filled in (camelCase). */
    get policy() {
      return camelDeep(JSON.parse(this.#setup).policy);
    }

    /** The service's logger, wrapped (telemetry.mjs): the web handler's by default. */
    get [LOGGER]() {
      return this.#logger;
    }

    /** An error line: `message`, and the error it is about. */
    #log(message, error) {
      this.#logger.error(message, error);
    }

    /** Runs one pump to its end: its answer, or throws its error (the store's error as cause). */
    async #run(request) {
      const now = () => this.#clock();
      const asked = this.#backoff === undefined ? request : { ...request, backoff: this.#backoff };
      const pump = call(native.pumpNew, this.#client.config[HANDLE], this.#setup, JSON.stringify(asked), randomUserId(), now());
      try {
        let event = '';
        let storeError; // the last error a store method threw
        for (;;) {
          const action = JSON.parse(native.pumpNext(pump, event, now()));
          // The token requests iProov said to hold back (core's service::backoff), as core gave them.
          if (action.backoff !== undefined) this.#backoff = action.backoff;
          if (action.replay === true) this.#replayWanted = true; // core's spool::replay_due
          // The request's telemetry, on its end (done or failed).
          if (action.event !== undefined) telemetry.emit([action.event], this.#logger);
          let out;
          const onStore = STORE_ACTIONS[action.do];
          if (onStore !== undefined) {
            const [method, args, took] = onStore;
            try {
              out = took(await this.#store[method](...args(action)));
            } catch (error) {
              // The pump decides what it means; the store's text never goes into core's error.
              storeError = error;
              out = { store_failed: method };
            }
          } else if (action.do === 'call') {
            out = await this.#call(action);
          } else if (action.do === 'sleep') {
            await sleep(action.until_ms - now());
            out = { slept: true };
          } else if (action.do === 'spool') {
            if (action.log !== undefined) this.#log(action.log);
            out = { spooled: await this.#append([JSON.stringify(action.entry)], true) };
          } else if (action.do === 'unspool') {
            await this.#append([native.spoolTombstone(action.id, now())], false);
            out = { spooled: true };
          } else if (action.do === 'done') {
            return camelDeep(action.answer);
          } else if (action.do === 'failed') {
            if (action.log !== undefined) this.#log(action.log);
            const cause = action.error.kind === 'store_unavailable' ? storeError : undefined;
            const error = errorFromJSON(action.error, cause === undefined ? undefined : { cause });
            // The outcome the caller would have got, in this package's convention (camelCase).
            if (action.error.result !== undefined) error.result = camelDeep(action.error.result);
            throw error;
          } else {
            throw new TypeError(`the journey pump asked for an unknown action: ${action.do}`);
          }
          event = JSON.stringify(out);
        }
      } finally {
        native.freePump?.(pump); // wasm: the entry goes now (napi: with the handle)
      }
    }

    /** A call through the client (its driver, its audit hook); the outcome as the pump takes it. */
    async #call({ operation, input, attempt, max_wait_ms: maxWaitMs }) {
      const audit = [];
      const options = { attempt: attempt ?? 0, maxWaitMs: maxWaitMs ?? 0, [CALL_AUDIT]: (record) => audit.push(record) };
      try {
        return { result: (await this.#client.call(operation, input, options)).canonical(), audit };
      } catch (error) {
        if (!(error instanceof IProovError)) throw error;
        return { error: error.toJSON(), audit };
      }
    }

    /** Appends spool lines; whether they took (a full or read-only disk: false, logged). */
    async #append(lines, durable) {
      try {
        await this.#spool.append(lines, durable);
        return true;
      } catch (error) {
        this.#log('iproov journeys: the spool refused a line:', error);
        return false;
      }
    }

    /** A start or finish request, then the spool's replay when core says it is due (its answer stands). */
    async #serve(request) {
      const spool = this.#spool ? { spool: true, spool_lines: this.#spool.hasLines(), replayed_ms: this.#replayedMs ?? null } : { spool: false };
      try {
        return await this.#run({ ...request, ...spool });
      } finally {
        if (this.#replayWanted) {
          this.#replayWanted = false;
          await this.replaySpool().catch((e) => this.#log('iproov journeys: the spool replay failed:', e));
        }
      }
    }

    /**
     * A token for iProov's SDK: `{journeyId, token, sdkUrl, attempt, attemptsLeft}` (the same
     * token again while the attempt is open; a reload resumes the user's current journey of the
     * flow), or `{journeyId, passed, next, attemptsLeft, ...}` for a journey that passed.
     * `userId` comes from your application (its session or auth), never from the browser.
     * @param {'enrol' | 'verify'} flow
     * @param {string} userId
     * @param {string | null} [journeyId] a journey started before (a new attempt, or the open one)
     * @param {{assuranceType?: 'genuine_presence' | 'liveness', interactive?: boolean,
     *   waitMs?: number}} [options] `interactive`: a person waits (calls wait at most core's
     *   interactive bound before a retry); `waitMs`: how long to wait for another request's
     *   token request on the user's journey (0: refuse at once)
     * @throws {LimitExceededError} over a limit of the policy (`limit`, `retryAfterMs`)
     * @throws {StoreUnavailableError} the store failed (nothing was sent; `cause`: the store's)
     * @throws {InvalidStateError} for another user's or an unknown journey, or a request in
     *   progress; the token request's errors
     */
    async start(flow, userId, journeyId, { assuranceType, interactive, waitMs } = {}) {
      return this.#serve(snakeDeep({ action: 'start', flow, userId, journeyId: journeyId ?? undefined, assuranceType, interactive, waitMs }));
    }

    /**
     * Validates the token once, across every process sharing the store: `{journeyId, passed,
     * reason?, errorCode?, attempt, state, attemptsLeft, next, retryAfterMs?}` (`next`:
     * `done`, `start_attempt` or `exhausted`, then `retryAfterMs`). A double-submitted request
     * gets the stored outcome (after waiting up to `waitMs` for it).
     * @param {string} journeyId
     * @param {string} token the attempt's token, as the browser reports it
     * @param {string} client the client (device) description iProov's validate asks for
     * @param {{userId?: string, interactive?: boolean, waitMs?: number}} [options] `userId`:
     *   the user your session says is asking (another user's journey is then unknown);
     *   `interactive`, `waitMs`: as for `start`
     * @throws {StoreUnavailableError} the store failed: before sending, nothing was sent; after
     *   iProov answered, `result` holds the outcome (also in the spool, replayed later)
     * @throws {InvalidStateError} while another request validates the token (after `waitMs`),
     *   and for an unknown journey or token
     */
    async finish(journeyId, token, client, { userId, interactive, waitMs } = {}) {
      return this.#serve(snakeDeep({ action: 'finish', journeyId, token, client, userId: userId ?? undefined, interactive, waitMs }));
    }

    /**
     * iProov's SDK ended the attempt without a capture: the attempt ends `exited` with the
     * event and `client` kept, no validate is sent, and the next `start` gets a new token. A
     * cancel uses the attempt; a device that cannot run the check does not (core's table).
     * Answers as `finish`.
     * @param {string} journeyId
     * @param {string} token the attempt's token
     * @param {'canceled' | 'error' | 'no_camera' | 'permission_denied' | 'unsupported'} event
     * @param {string} client the browser's User-Agent
     * @param {{feedback?: string, userId?: string}} [options] the SDK's feedback code; the
     *   user your session says is asking
     * @throws {InvalidInputError} for an event the SDK does not send (`field` "event")
     */
    async exit(journeyId, token, event, client, { feedback, userId } = {}) {
      return this.#serve(snakeDeep({ action: 'exit', journeyId, token, event, client, feedback, userId: userId ?? undefined }));
    }

    /**
     * Replays the spool into the store: every entry core says is due (old enough that its
     * writer is done with it) runs a replay pump; entries whose replay failed, and lines not
     * due yet, go back to the spool. Runs one at a time per service.
     * @returns {Promise<{replayed: number, failed: number, kept: number, dropped: number}>}
     * @throws {Error} the file system's, when the spool cannot be read (its lines stay)
     */
    replaySpool() {
      const run = this.#replaying.then(() => this.#replay());
      this.#replaying = run.catch(() => {});
      return run;
    }

    async #replay() {
      const counts = { replayed: 0, failed: 0, kept: 0, dropped: 0 };
      this.#replayedMs = this.#clock();
      const taken = this.#spool ? await this.#spool.take() : null;
      if (taken === null) return counts;
      let back = taken.text.split('\n').filter((line) => line.trim() !== '');
      try {
        const due = JSON.parse(native.spoolDue(taken.text, this.#clock()));
        back = [...due.keep];
        [counts.kept, counts.dropped] = [due.keep.length, due.dropped];
        for (const entry of due.replay) {
          try {
            await this.#run({ action: 'replay', entry });
            counts.replayed += 1;
          } catch (error) {
            back.push(JSON.stringify(entry));
            counts.failed += 1;
            this.#log(`iproov journey ${entry.journey_id}: the spooled outcome could not reach the store yet; it stays in the spool:`, error);
          }
        }
      } finally {
        // Whatever happened, the lines go back before the taken file goes.
        let kept = false;
        try {
          await this.#spool.append(back, true);
          kept = true;
        } finally {
          await taken.release({ remove: kept });
        }
      }
      return counts;
    }

    /**
     * A store method called outside a pump; whatever it throws becomes core's
     * `store_unavailable` error (`native.storeError`: the method, not the store's text, which is
     * the error's `cause`).
     */
    async #stored(method, operation, ...args) {
      try {
        return await this.#store[method](...args);
      } catch (cause) {
        throw errorFromJSON(JSON.parse(native.storeError(operation)), { cause });
      }
    }

    /**
     * The user's journeys as stored (without tokens) with their audit records, oldest first:
     * `[{journey, audit}]`, both core's JSON as stored (snake_case, as Python reads them).
     * @throws {StoreUnavailableError} the store failed (`storeOperation` `journeys_of` or
     *   `audit_of`; the store's error is its `cause`)
     */
    async history(userId) {
      const out = [];
      for (const record of await this.#stored('journeysOf', 'journeys_of', userId)) {
        out.push({ journey: JSON.parse(call(native.serviceView, JSON.stringify(record))), audit: await this.#stored('auditOf', 'audit_of', record.id) });
      }
      return out;
    }

    /**
     * Erases one user's data (GDPR art. 17): with `atIproov`, the user at iProov first (the
     * users API's delete: needs OAuth credentials in the config), then every journey, audit
     * record and limit record of the user in the store, in one transaction.
     * @param {string} userId
     * @param {{atIproov?: boolean}} [options]
     * @returns {Promise<{journeys: number, auditRecords: number, atIproov: 'deleted' | 'absent' | 'not_asked'}>}
     * @throws {InvalidInputError} `atIproov` without OAuth credentials (`field` "at_iproov")
     * @throws {ApiError} the users API's errors (nothing erased then)
     * @throws {StoreUnavailableError}
     */
    async forget(userId, { atIproov = false } = {}) {
      return this.#serve({ action: 'forget', user_id: userId, at_iproov: atIproov });
    }

    /**
     * Deletes what is past its retention (core's `expires_at_ms`); gives how many journeys.
     * @throws {StoreUnavailableError} the store failed (`storeOperation` `delete_expired`; the
     *   store's error is its `cause`)
     */
    async deleteExpired() {
      return this.#stored('deleteExpired', 'delete_expired', this.#clock());
    }
  }

  return JourneyService;
}
