// Drop-in HTTP endpoints for a browser's iProov journey, over `JourneyService`: a web-standard
// handler `(request, ...context) => Promise<Response>` that runs as it is in workers, Hono,
// Deno and Bun (and in Node's http or Express through `toNodeHandler`). The same routes and
// answers as Python's `iproov_sansio.web.journey_routes`: every decision (the routes, the
// origin / content-type / size / body checks, the error codes and their messages, what of the
// service's answers the browser sees) is core's (core/src/web, through `native.webDecide`), and
// the waiting for a double submit or a second tab is the journey pump's (`waitMs`); this file
// only moves bytes.
//
//   POST {base}/token      {"flow", "journey_id"?}  -> {journey_id, token, sdk_url, attempt, attempts_left}
//   POST {base}/validate   {"journey_id", "token"}  -> {journey_id, passed, reason?, attempt, state, attempts_left, next}
//   GET  {base}/  {base}/journey.mjs  {base}/page.css  {base}/config   the browser page
//   POST {base}/emulator/complete  {"token", "passed", "reason"?}  (only with emulatorUrl)

// The page's files (index.html, journey.mjs, page.css), inlined by the packages' builds from
// their one source, bindings-python/python/iproov_sansio/web/static (build-static.mjs).
import PAGE_FILES from 'iproov-sansio:web-static';
import { LOGGER } from './client.mjs';
import { BROWSER_ERROR_CODES } from './generated/host.mjs';
import { METHODS, wrapLogger } from './telemetry.mjs';

/**
 * Writes one refusal or failure of a route to the handler's logger (telemetry.mjs,
 * `wrapLogger`: the service's `logger` option by default). Core's messages carry no secret;
 * the browser gets only the fixed text of the code. A refusal (a limit, a conflict, a bad
 * request: the browser's doing) is information, a failure of the service's side an error.
 * `error` null: core's own check refused the request (origin, type, size, user, body, route),
 * no exception behind it. Fields: `{iproov: {'http.route', 'http.response.status_code',
 * 'iproov.web.code' (the browser's code), 'error.type' (core's code of the error behind it, or
 * its class)}}`, and `err` (the error) for a failure that is not core's.
 */
function logRoute(logger, route, error, isCore, { code, status }) {
  const fields = { iproov: { 'http.route': route, 'iproov.web.code': code } };
  if (status !== undefined) fields.iproov['http.response.status_code'] = status;
  if (error !== null) fields.iproov['error.type'] = isCore ? error.code : (error?.name ?? typeof error);
  if (error === null) logger.web('info', `iproov ${route}: refused ${code}`, fields);
  else if (!isCore) logger.web('error', `iproov ${route} failed`, fields, error);
  else if (status < 500) logger.web('info', `iproov ${route}: refused ${code} (${error.name} ${error.code}): ${error.message}`, fields);
  else logger.web('error', `iproov ${route}: ${code} (${error.name} ${error.code}): ${error.message}`, fields);
}

async function readBody(request, limit) {
  if (request.body === null) return new Uint8Array(0);
  const reader = request.body.getReader();
  const chunks = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    total += value.byteLength;
    if (total > limit) {
      // Enough to refuse it: the rest is not read.
      reader.cancel().catch(() => {});
      break;
    }
  }
  const body = new Uint8Array(total);
  let at = 0;
  for (const chunk of chunks) {
    body.set(chunk, at);
    at += chunk.byteLength;
  }
  return body;
}

export function makeWebHandler({ native, call, snakeDeep, IProovError, JourneyService }) {
  /** One of core's web decisions (core/src/web/mod.rs, `decide`). */
  const decide = (what, facts) => JSON.parse(call(native.webDecide, what, facts === undefined ? '' : JSON.stringify(facts)));
  const write = ({ status, headers, body }, method) =>
    new Response(method === 'HEAD' ? null : JSON.stringify(body), {
      status,
      headers: { ...headers, 'Content-Type': 'application/json' },
    });
  const plain = (status, text, headers = {}) =>
    new Response(text, { status, headers: { ...headers, 'Content-Type': 'text/plain; charset=utf-8' } });

  class Refused extends Error {
    constructor(answer) {
      super('refused');
      this.answer = answer;
    }
  }

  /**
   * The journey endpoints (and the page) as a web-standard handler; see README "The browser
   * page and its endpoints" for mounting it behind your auth.
   * @param {InstanceType<typeof JourneyService>} service
   * @param {object} options
   * @param {(request: Request, ...context: unknown[]) => string | null | undefined | Promise<string | null | undefined>} options.resolveUser
   *   the asking user's iProov user_id from your own session or auth (`null`: 401); gets the
   *   handler's own arguments (a Worker's `env`, Hono's context, Node's `req` through
   *   toNodeHandler). Never from the body.
   * @param {string[] | null} [options.allowedOrigins] the exact origins whose pages may call the
   *   routes (`null`: only the request's own origin, as its URL says)
   * @param {string} [options.basePath] where the handler is mounted (`'/iproov'`); `''` by default
   * @param {string[]} [options.flows] the flows the browser may start (`['enrol', 'verify']`)
   * @param {boolean} [options.page] serve the page (true)
   * @param {string} [options.emulatorUrl] the emulator's root URL, only when the service points
   *   at it: turns on the page's stand-in and `emulator/complete`
   * @param {string} [options.sdkScript] where the page loads iProov's Web SDK from (an
   *   `https` URL): `config` gives it to the page, and the page's Content-Security-Policy
   *   (core's `page` decision) then allows it, the region's streaming host and the SDK's assets
   * @param {string} [options.assetsUrl] where the SDK loads its assets from (core's default:
   *   iProov's CDN), allowed by the same policy
   * @param {number} [options.validateWaitMs] how long a request waits for another one on the
   *   same journey (a double-submitted validate for the first one's outcome, a second tab's
   *   token request) before answering 409, in ms (core's `validate_wait_ms`, 30000)
   * @param {object} [options.logger] where each refusal (status below 500, at info) and
   *   failure (at error) goes, with the browser's code and status (`logRoute`): a logger as
   *   the client's `logger` option takes (console- or pino-like; telemetry.mjs), by default
   *   the service's (its `logger` option, else its client's, else the console). The browser
   *   sees only its code. A refusal of core's own checks (origin, content type, size, user,
   *   body; a path or method under `basePath` that is no route: the route is then
   *   `"METHOD /path"`) has no error behind it
   * @returns {(request: Request, ...context: unknown[]) => Promise<Response>}
   */
  function createJourneyHandler(service, options = {}) {
    if (!(service instanceof JourneyService)) throw new TypeError('service must be a JourneyService of this package');
    const table = decide('table');
    // The flows and the wait for another request on the journey default to core's
    // (table.flows, validate_wait_ms).
    const { resolveUser, allowedOrigins = null, basePath = '', flows = table.flows, page = true } = options;
    const { emulatorUrl, validateWaitMs = table.validate_wait_ms, logger, sdkScript, assetsUrl } = options;
    if (typeof resolveUser !== 'function') throw new TypeError('resolveUser must be a function (request) => user_id');
    if (logger !== undefined && typeof logger?.error !== 'function') throw new TypeError('logger must have an error(...) method');
    const told = logger === undefined ? service[LOGGER] : wrapLogger(logger, true);
    const log = (...line) => logRoute(told, ...line);
    const text = (value) => (value === undefined || value === null ? undefined : String(value));
    // The page's HTML headers (its policy, widened for iProov's Web SDK when the page loads
    // it): core's page decision, asked now, so that a URL core cannot name fails here.
    const pageHeaders = decide('page', {
      sdk_script: text(sdkScript),
      sdk_url: service.client.config.streamingUrl,
      assets_url: text(assetsUrl),
    }).headers;
    const base = String(basePath).replace(/\/+$/, '');
    const emulator = emulatorUrl ? String(emulatorUrl).replace(/\/+$/, '') : null;
    const configAnswer = decide('config', { stand_in: emulator !== null, sdk_script: text(sdkScript) }).answer;
    const origins = allowedOrigins === null || allowedOrigins === undefined ? null : [...allowedOrigins];
    const routes = table.routes.filter((r) => (page || !r.page) && (emulator !== null || !r.emulator));
    const internal = decide('error', { error: null }).answer; // the last resort's answer
    // Every refusal is logged with its code (a logger that throws changes nothing the browser
    // gets: the wrapped logger never throws).
    const refused = (route, answer) => {
      log(route, null, true, { code: answer.body.error.code, status: answer.status });
      return answer;
    };

    async function guarded(request, route, context) {
      const facts = {
        origin: request.headers.get('origin'),
        own_origin: new URL(request.url).origin,
        allowed_origins: origins,
        content_type: request.headers.get('content-type'),
        body_bytes: 0,
      };
      let checked = decide('request', facts);
      let body = new Uint8Array(0);
      if (checked.answer === undefined) {
        body = await readBody(request, table.max_body_bytes);
        facts.body_bytes = body.byteLength;
        checked = decide('request', facts);
      }
      if (checked.answer !== undefined) throw new Refused(checked.answer);
      const user = await resolveUser(request, ...context);
      const read = decide('input', {
        route,
        user: user === null || user === undefined ? null : String(user),
        body: new TextDecoder().decode(body),
        flows,
        user_agent: request.headers.get('user-agent'),
      });
      if (read.answer !== undefined) throw new Refused(read.answer);
      return read.input;
    }

    const answer = (serviceAnswer) => decide('answer', { answer: snakeDeep(serviceAnswer) }).answer;

    // A person waits on these: calls wait at most core's interactive bound before a retry, and
    // the pump waits up to validateWaitMs for another request on the same journey.
    const asked = (userId) => ({ userId, interactive: true, waitMs: validateWaitMs });

    async function token(input) {
      return answer(await service.start(input.flow, input.user_id, input.journey_id, asked()));
    }

    async function validate(input) {
      return answer(await service.finish(input.journey_id, input.token, input.client, asked(input.user_id)));
    }

    async function exit(input) {
      return answer(await service.exit(input.journey_id, input.token, input.event, input.client, { feedback: input.feedback, userId: input.user_id }));
    }

    async function complete(input) {
      let status = 0;
      try {
        const response = await fetch(`${emulator}/__emulator/claims/${input.token}/complete`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify(input.claim),
          signal: AbortSignal.timeout(10_000),
        });
        status = response.status;
        await response.body?.cancel();
      } catch {
        status = 0; // not reached: core answers try_again
      }
      const decided = decide('emulator', { status }).answer;
      if (decided.status !== 200) throw new Refused(decided); // logged as Python's is
      return decided;
    }

    const answers = { token, validate, exit, emulator_complete: complete };

    // iProov's availability and a read of the store, answered as core says and kept for core's
    // cache_ms: the route is public, and must not let anyone hammer iProov. Concurrent
    // requests at a miss share one check (one availability call), so that a burst from several
    // load balancers is not a burst at iProov. A check older than core's cache time is not
    // joined: one that never settles (its request cancelled by the platform) holds the route
    // back no longer than the cache would.
    let healthKept = { until: 0, answer: null };
    let healthFlight = null;
    function health() {
      const now = Date.now();
      if (now < healthKept.until) return healthKept.answer;
      if (healthFlight === null || now - healthFlight.since >= table.health_cache_ms) {
        const flight = { since: now, answer: checkHealth() };
        const landed = () => {
          if (healthFlight === flight) healthFlight = null;
        };
        flight.answer.then(landed, landed);
        healthFlight = flight;
      }
      return healthFlight.answer;
    }
    // A failed part of the check, at core's level for it (table.health_levels): core's error
    // with its code and message (which carry no secret); any other (a store's own, whose text
    // may quote a connection string) by its class alone, as Python's handler logs it.
    const healthFailed = (code, error) => {
      const core = error instanceof IProovError;
      const type = core ? error.code : (error?.name ?? typeof error);
      const fields = { iproov: { 'http.route': 'health', 'iproov.web.code': code, 'error.type': type } };
      const said = core ? `${error.name} ${error.code}): ${error.message}` : `${type})`;
      told.web(METHODS[table.health_levels[code]] ?? 'error', `iproov health: ${code} (${said}`, fields, core ? error : undefined);
    };
    async function checkHealth() {
      let up = null;
      try {
        up = (await service.client.call('availability', {}, { maxWaitMs: table.health_wait_ms })).up === true;
      } catch (error) {
        healthFailed('iproov_unreachable', error);
      }
      let storeOk = true;
      try {
        await service.store.get('journeys', '#health');
      } catch (error) {
        storeOk = false;
        healthFailed('store_failing', error);
      }
      const decided = decide('health', { iproov_up: up, store_ok: storeOk });
      healthKept = { until: Date.now() + decided.cache_ms, answer: decided.answer };
      return decided.answer;
    }

    return async function journeyHandler(request, ...context) {
      const { method } = request;
      const path = new URL(request.url).pathname;
      if (path !== base && !path.startsWith(`${base}/`)) return plain(404, 'Not Found');
      const rest = path.slice(base.length);
      if (rest === '') return new Response(null, { status: 307, headers: { Location: `${base}/` } });
      const here = routes.filter((r) => r.path === rest);
      const route = here.find((r) => r.method === method || (method === 'HEAD' && r.method === 'GET'));
      // Under the mount, every refusal is core's JSON shape (404; 405 with Allow).
      if (route === undefined) return write(refused(`${method} ${rest}`, decide('no_route', { allow: here.map((r) => r.method) }).answer), method);
      try {
        if (route.route === 'file') {
          const headers = Object.fromEntries(route.headers);
          // The file core's table gives a policy (the page's HTML) gets the page decision's.
          if ('Content-Security-Policy' in headers) Object.assign(headers, pageHeaders);
          return new Response(method === 'HEAD' ? null : PAGE_FILES[route.file], {
            status: 200,
            headers: { ...headers, 'Content-Type': route.content_type },
          });
        }
        if (route.route === 'config') return write(configAnswer, method);
        if (route.route === 'health') return write(await health(), method);
        try {
          const input = await guarded(request, route.route, context);
          return write(await answers[route.route](input), method);
        } catch (error) {
          if (error instanceof Refused) return write(refused(route.route, error.answer), method);
          const isCore = error instanceof IProovError;
          // Core maps the failure: a limit is 429 with Retry-After, a store that failed with a
          // validated outcome answers that outcome (200). It reads core's error as core made it
          // (its canonical JSON and the kind in it, as every host passes it), never the class.
          const decided = decide('error', { error: isCore ? error.toJSON() : null });
          log(route.route, error, isCore, { code: decided.code, status: decided.answer.status });
          return write(decided.answer, method);
        }
      } catch {
        return write(internal, method);
      }
    };
  }

  /** Core's browser error codes: `{code: {status, message}}` (core/src/web/mod.rs). */
  const BROWSER_ERRORS = Object.freeze(
    Object.fromEntries(BROWSER_ERROR_CODES.map(({ code, status, message }) => [code, Object.freeze({ status, message })])),
  );

  return { createJourneyHandler, BROWSER_ERRORS };
}
