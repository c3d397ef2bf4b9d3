// Journeys that are stored, not just driven: `JourneyService` runs core's journey service
// (core/src/service, through `native.serviceStep`) over a client and a store. Core decides every
// transition (attempts, expiry, what is kept, validate once); this file only reads, writes with
// compare-and-set, and calls iProov through the client. The same loop as Python's
// `iproov_sansio.journeys.JourneyService`.
//
// Validate is sent once across every process sharing the store: the attempt is written as
// `validating` (compare-and-set on the record's version) before the request leaves, so a second
// process, or a double-submitted request, gets the stored outcome or an `InvalidStateError`
// ("in progress") and never sends a second validate. A process that dies between sending and
// writing the answer leaves the attempt `validating`; after `stale_validate_ms` core settles it
// as outcome unknown and offers a new attempt.

import { CALL_AUDIT } from './client.mjs';

/** How often a step is run again after another process changed the journey in between. */
const TRIES = 8;

/** The methods a store has (see `Store` in api.d.ts and the README's "Your own store"). */
export const STORE_METHODS = Object.freeze(['get', 'insert', 'update', 'appendAudit', 'journeysOf', 'auditOf', 'deleteExpired']);

export function makeJourneyService(ctx) {
  const { native, HANDLE, call, camelDeep, snakeDeep, errorFromJSON, randomUserId, IProovClient, IProovError } = ctx;

  const keptChanging = () =>
    errorFromJSON({
      code: 'invalid_state',
      kind: 'invalid_state',
      message: 'the journey kept changing under this request; try again',
    });

  class JourneyService {
    #client;
    #store;
    #policy; // core's policy JSON text, checked once

    /**
     * @param {IProovClient} client this package's client (its config, driver and audit hook)
     * @param {object} store a journey store: `get`, `insert`, `update`, `appendAudit`,
     *   `journeysOf`, `auditOf`, `deleteExpired` (each may return a Promise)
     * @param {{policy?: {maxAttempts?: number, tokenTtlMs?: number, staleValidateMs?: number,
     *   retentionMs?: number, resource?: string}}} [options] core's service policy (3 attempts,
     *   120000 ms token lifetime, 90000 ms before an unfinished validate is outcome unknown,
     *   30 days' retention; snake_case names work too)
     * @throws {TypeError} for a client of another package or a store lacking a method
     * @throws {InvalidInputError} at once for an unusable policy (its `field` names the entry)
     */
    constructor(client, store, { policy } = {}) {
      if (!(client instanceof IProovClient)) throw new TypeError('client must be made by createClient of this package');
      const missing = STORE_METHODS.filter((m) => typeof store?.[m] !== 'function');
      if (missing.length > 0) throw new TypeError(`the store lacks ${missing.join(', ')}`);
      this.#client = client;
      this.#store = store;
      this.#policy = call(native.servicePolicy, JSON.stringify(snakeDeep(policy ?? {})));
    }

    /** The store the service reads and writes. */
    get store() {
      return this.#store;
    }

    /** Core's policy in force, defaults filled in (camelCase). */
    get policy() {
      return camelDeep(JSON.parse(this.#policy));
    }

    #step(action, stored, input) {
      const newId = action === 'start' ? randomUserId() : '';
      const storedJson = stored === null || stored === undefined ? '' : JSON.stringify(stored);
      const text = call(native.serviceStep, this.#client.config[HANDLE], this.#policy, action, storedJson, JSON.stringify(input), newId, Date.now());
      return JSON.parse(text);
    }

    /** The step's write with compare-and-set: false when another process got there first. */
    async #write(step) {
      if (step.write === 'insert') return (await this.#store.insert(step.record)) === true;
      if (step.write === 'update') return (await this.#store.update(step.record, step.expected_version)) === true;
      return true;
    }

    /**
     * The call through the client (core's driver); its audit records go to the journey, after
     * the client's own `audit` hook has seen them. `{result}` or `{error, raise}` (an
     * IProovError); anything else thrown passes through once the records are stored.
     */
    async #call(journeyId, operation, input, attempt) {
      const records = [];
      let outcome;
      try {
        const result = await this.#client.call(operation, input, { attempt, [CALL_AUDIT]: (record) => records.push(record) });
        outcome = { result: result.canonical() };
      } catch (error) {
        if (!(error instanceof IProovError)) {
          await this.#store.appendAudit(journeyId, records);
          throw error;
        }
        outcome = { error: error.toJSON(), raise: error };
      }
      await this.#store.appendAudit(journeyId, records);
      return outcome;
    }

    /**
     * A token for iProov's SDK: `{journeyId, token, sdkUrl, attempt, attemptsLeft}` (the same
     * token again while the attempt is open), or `{journeyId, passed, next,
     * attemptsLeft, ...}` when the journey is over (`next`: `done` or `exhausted`). `userId`
     * comes from your application (its session or auth), never from the browser.
     * @param {'enrol' | 'verify'} flow
     * @param {string} userId
     * @param {string} [journeyId] a journey started before (a new attempt, or the open one)
     * @param {{assuranceType?: 'genuine_presence' | 'liveness'}} [options]
     * @throws {InvalidStateError} for another user's or an unknown journey, or a validate in
     *   progress; the token request's errors; the store's
     */
    async start(flow, userId, journeyId, { assuranceType } = {}) {
      const request = { flow, user_id: userId };
      if (journeyId !== undefined && journeyId !== null) request.journey_id = journeyId;
      if (assuranceType !== undefined) request.assurance_type = assuranceType;
      for (let i = 0; i < TRIES; i++) {
        const stored = request.journey_id === undefined ? null : await this.#store.get(request.journey_id);
        const step = this.#step('start', stored, request);
        if (!(await this.#write(step))) continue;
        if (step.respond !== undefined) return camelDeep(step.respond);
        const { record } = step;
        const attempt = record.attempts.length + 1;
        const outcome = await this.#call(record.id, step.call.operation, step.call.input, attempt);
        if (outcome.raise !== undefined) throw outcome.raise;
        const issued = this.#step('token_issued', record, outcome);
        if (await this.#write(issued)) return camelDeep(issued.respond);
      }
      throw keptChanging();
    }

    /**
     * Validates the token once, across every process sharing the store: `{journeyId, passed,
     * reason?, errorCode?, attempt, state, attemptsLeft, next}` (`next`: `done`,
     * `start_attempt` or `exhausted`; `state`: `passed`, `failed`, `error`, `outcome_unknown`
     * or `expired`). A double-submitted request gets the stored outcome.
     * @param {string} journeyId
     * @param {string} token the attempt's token, as the browser reports it
     * @param {string} client the client (device) description iProov's validate asks for
     * @param {{userId?: string}} [options] the user your session says is asking: another
     *   user's journey is then an unknown journey (nothing is sent)
     * @throws {InvalidStateError} while another request validates the token, and for an
     *   unknown journey or token; the store's errors
     */
    async finish(journeyId, token, client, { userId } = {}) {
      const request = { token, client };
      if (userId !== undefined && userId !== null) request.user_id = userId;
      for (let i = 0; i < TRIES; i++) {
        const step = this.#step('finish', await this.#store.get(journeyId), request);
        if (!(await this.#write(step))) continue;
        if (step.respond !== undefined) return camelDeep(step.respond);
        const { record, call: validate } = step;
        const { raise, ...outcome } = await this.#call(journeyId, validate.operation, validate.input, record.attempts.length);
        const done = this.#step('validated', record, { token, ...outcome });
        if (await this.#write(done)) return camelDeep(done.respond);
        // Someone settled the attempt meanwhile (it looked abandoned): read what is stored.
      }
      throw keptChanging();
    }

    /**
     * The user's journeys as stored (without tokens) with their audit records, oldest first:
     * `[{journey, audit}]`, both core's JSON as stored (snake_case, as Python reads them).
     */
    async history(userId) {
      const out = [];
      for (const record of await this.#store.journeysOf(userId)) {
        out.push({ journey: this.#step('view', record, {}).record, audit: await this.#store.auditOf(record.id) });
      }
      return out;
    }

    /** Deletes the journeys past their retention (core's `expires_at_ms`); gives how many. */
    async deleteExpired() {
      return this.#store.deleteExpired(Date.now());
    }
  }

  return JourneyService;
}
