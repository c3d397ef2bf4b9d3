// The fetch client. It sends what core builds and hands back what it receives. Whether to retry
// and when is core's retry advisor; OAuth token reuse is core's token manager; every error is
// core's. This file only does the IO core leaves to the host: fetch, timeouts, sleeping, and
// telling core whether a failed request was sent.

import { camelDeep, fromBase64, snakeDeep } from './util.mjs';

/** Operation methods: JS name -> core operation. */
const SERVICE_OPERATIONS = {
  enrolToken: 'enrol_token',
  verifyToken: 'verify_token',
  enrolImage: 'enrol_image',
  enrolValidate: 'enrol_validate',
  verifyValidate: 'verify_validate',
  accessToken: 'access_token',
  invalidateClaim: 'invalidate_claim',
  availability: 'availability',
};

/** The users API, authorized by core's token manager. */
const MANAGED_OPERATIONS = {
  activateUser: 'activate_user',
  suspendUser: 'suspend_user',
  getUser: 'get_user',
  updateUser: 'update_user',
  deleteUser: 'delete_user',
};

// Node's fetch (undici) error codes for failures where nothing was sent: DNS, connect, TLS.
// Everything else after the request started (reset, socket closed, timeout) may have reached
// iProov. This is the host's knowledge of its HTTP stack, which core cannot have.
const NOT_SENT = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EAI_FAIL',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'EADDRNOTAVAIL',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_CONNECT',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'CERT_HAS_EXPIRED',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'ERR_SSL_WRONG_VERSION_NUMBER',
  'ERR_INVALID_URL',
  'ERR_BAD_PORT',
]);

function errorCode(error) {
  // undici refuses the fetch spec's blocked ports before connecting, with no code.
  if (error?.cause?.message === 'bad port') return 'ERR_BAD_PORT';
  let e = error;
  for (let depth = 0; e && depth < 4; depth++) {
    if (typeof e.code === 'string') return e.code;
    e = e.cause;
  }
  return undefined;
}

function causeText(error) {
  const cause = error?.cause;
  if (cause && typeof cause.message === 'string' && cause.message) return cause.message;
  return String(error?.message ?? error);
}

function sleep(ms, signal) {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** The whole body, or the first `limit + 1` bytes of a larger one (core then says body_too_large). */
async function readBody(response, limit) {
  if (!response.body || typeof response.body.getReader !== 'function') {
    return new Uint8Array(await response.arrayBuffer());
  }
  const reader = response.body.getReader();
  const chunks = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => {});
      break;
    }
  }
  if (chunks.length === 1) return chunks[0];
  const out = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.byteLength;
  }
  return out;
}

export function makeClientClass(ctx) {
  const { native, Config, HANDLE, fromNative, flows, wireInput, wireResponse, requestParts, resultJson, resultFor, transportError, errorFromJSON, maxBodyBytes, INSPECT, auditRecord, IProovError } = ctx;

  class IProovClient {
    #config;
    #fetch;
    #timeoutMs;
    #retryState;
    #tokenState;
    #tokenInFlight = null;
    #audit;

    /**
     * @param {object} options `{region | baseUrl, apiKey, secret, oauth: {username, password},
     *   userAgent?, fetch?, timeoutMs?, maxRetries?, retryPolicy?, tokenPolicy?, audit?}`;
     *   `audit(record)` receives core's audit record (no secrets) of every call, result or error.
     */
    constructor(options = {}) {
      const { fetch: fetchImpl, timeoutMs, maxRetries, retryPolicy, tokenPolicy, audit, ...config } = options;
      if (audit !== undefined && typeof audit !== 'function') throw new TypeError('audit must be a function');
      this.#audit = audit;
      this.#config = Config.from(options instanceof Config ? options : config);
      // Workers throw "Illegal invocation" for a fetch called off globalThis: keep it bound.
      const chosen = fetchImpl ?? globalThis.fetch?.bind(globalThis);
      if (typeof chosen !== 'function') throw new TypeError('no fetch: pass options.fetch');
      this.#fetch = chosen;
      this.#timeoutMs = timeoutMs ?? 30_000;
      const policy = { ...(retryPolicy ?? {}) };
      if (maxRetries !== undefined) policy.maxRetries = maxRetries;
      this.#retryState = flows.newState('retry', snakeDeep(policy));
      this.#tokenState = flows.newState('token_manager', snakeDeep(tokenPolicy ?? {}));
    }

    /** The client's Config (secrets redacted when shown). */
    get config() {
      return this.#config;
    }

    /** The OAuth token manager's status: `{hasToken, spent, uses, ...}`, never the token. */
    tokenStatus(now = Date.now()) {
      return camelDeep(this.#tokenStep('status', now));
    }

    [INSPECT](depth, options, inspect) {
      const shown = { config: this.#config.toJSON(), timeoutMs: this.#timeoutMs };
      return `IProovClient ${inspect ? inspect(shown, options) : JSON.stringify(shown)}`;
    }

    toJSON() {
      return { config: this.#config.toJSON(), timeoutMs: this.#timeoutMs };
    }

    /**
     * Any operation by its core name, with an input in the vector format (snake_case) or in
     * camelCase.
     */
    async call(operation, input, options) {
      let result;
      try {
        result = Object.hasOwn(MANAGED_BY_NAME, operation)
          ? await this.#managed(operation, input, options)
          : await this.#service(operation, input, options);
      } catch (error) {
        if (error instanceof IProovError) this.#record(operation, input, { error });
        throw error;
      }
      this.#record(operation, input, { result });
      return result;
    }

    /** Hands core's audit record of a finished call to the `audit` callback, if any. */
    #record(operation, input, outcome) {
      if (this.#audit === undefined) return;
      const event = { operation, ...outcome };
      const userId = input?.userId ?? input?.user_id;
      if (userId !== undefined) event.userId = userId;
      if (input?.token !== undefined) event.token = input.token;
      this.#audit(auditRecord(event, { config: this.#config }));
    }

    #build(operation, input) {
      const inputJson = wireInput(input, true);
      try {
        return requestParts(native.build(operation, this.#config[HANDLE], inputJson));
      } catch (e) {
        throw fromNative(e);
      }
    }

    #parse(operation, response) {
      let text;
      try {
        text = native.parse(operation, this.#config[HANDLE], response.status, JSON.stringify(response.headers), response.body);
      } catch (e) {
        throw fromNative(e);
      }
      return resultFor(operation, resultJson(text));
    }

    async #service(operation, input, options) {
      const r = this.#build(operation, input);
      const response = await this.#send(operation, r, options);
      return this.#parse(operation, response);
    }

    #tokenStep(action, now, input, response) {
      const step = { action };
      if (now !== undefined) step.now = now;
      if (input !== undefined) step.input = input;
      if (response !== undefined) step.response = wireResponse(response);
      const out = flows.step('token_manager', this.#config, this.#tokenState, step);
      this.#tokenState = out.state;
      return out.output;
    }

    async #managed(operation, input, options) {
      const wireIn = JSON.parse(wireInput(input, true) || '{}');
      // Core's manager asks for a token at most once per rejection; the bound only guards the
      // loop against a manager that would authorize nothing (a core bug).
      for (let round = 0; round < 4; round++) {
        const prepared = this.#tokenStep('prepare', Date.now(), { operation, input: wireIn });
        if (prepared.action === 'need_token') {
          if (this.#tokenInFlight === null) {
            this.#tokenInFlight = this.#fetchToken(fromWire(prepared.token_request), options).finally(() => {
              this.#tokenInFlight = null;
            });
          }
          await this.#tokenInFlight;
          continue;
        }
        const response = await this.#send(operation, fromWire(prepared.request), options);
        const check = this.#tokenStep('on_response', undefined, undefined, response);
        if (check.action === 'parse') return this.#parse(operation, response);
        if (check.action === 'fail') throw errorFromJSON(check.error);
        // retry_with_new_token: core dropped the token; prepare again.
      }
      throw new Error('iproov-sansio: the token manager authorized nothing after 4 rounds');
    }

    async #fetchToken(tokenRequest, options) {
      const response = await this.#send('access_token', tokenRequest, options);
      this.#tokenStep('accept_token', Date.now(), undefined, response);
    }

    /**
     * Sends one request, repeating it when core's advisor says so. Gives the final response
     * (to parse) or throws the transport error / OutcomeUnknownError core gives.
     */
    async #send(operation, request, options = {}) {
      const timeoutMs = options.timeoutMs ?? this.#timeoutMs;
      const userSignal = options.signal;
      for (let attempt = 1; ; attempt++) {
        let response;
        let failure;
        let caught;
        let kind = 'connection';
        const timeout = AbortSignal.timeout(timeoutMs);
        const signal = userSignal ? AbortSignal.any([userSignal, timeout]) : timeout;
        try {
          const res = await this.#fetch(request.url, {
            method: request.method,
            headers: request.headers,
            body: request.body && request.body.length > 0 ? request.body : undefined,
            redirect: 'manual',
            signal,
          });
          const body = await readBody(res, maxBodyBytes);
          const headers = {};
          res.headers.forEach((value, name) => {
            headers[name] = value;
          });
          response = { status: res.status, headers, body };
        } catch (error) {
          if (userSignal?.aborted) throw userSignal.reason;
          caught = error;
          if (timeout.aborted) {
            kind = 'timeout';
            failure = 'may_have_reached_server';
          } else {
            failure = NOT_SENT.has(errorCode(error)) ? 'failed_before_sending' : 'may_have_reached_server';
          }
        }
        const input = { operation, attempt, jitter: Math.random() };
        const step = { action: 'advise', now: Date.now(), input };
        if (response !== undefined) step.response = { status: response.status, headers: response.headers };
        else input.failure = failure;
        const advice = flows.step('retry', null, this.#retryState, step).output;
        if (advice.action === 'retry_at') {
          await sleep(advice.delay_ms, userSignal);
          continue;
        }
        if (advice.action === 'outcome_unknown') throw errorFromJSON(advice.error, caught ? { cause: caught } : undefined);
        if (response !== undefined) return response;
        const cause = kind === 'timeout' ? `no answer within ${timeoutMs} ms` : causeText(caught);
        throw transportError(kind, cause, { cause: caught });
      }
    }
  }

  const MANAGED_BY_NAME = Object.fromEntries(Object.values(MANAGED_OPERATIONS).map((op) => [op, true]));

  for (const [method, operation] of Object.entries({ ...SERVICE_OPERATIONS, ...MANAGED_OPERATIONS })) {
    Object.defineProperty(IProovClient.prototype, method, {
      value: {
        [method](input, options) {
          return this.call(operation, input, options);
        },
      }[method],
      writable: true,
      configurable: true,
    });
  }

  function fromWire(wire) {
    let body = wire.body;
    if (body === undefined && typeof wire.body_base64 === 'string') body = fromBase64(wire.body_base64);
    return { method: wire.method, url: wire.url, headers: Object.entries(wire.headers ?? {}), body };
  }
  return IProovClient;
}
