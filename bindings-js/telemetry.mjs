// Core's telemetry events (core/src/telemetry.rs) mapped onto a logger, Node's debug log and,
// when enabled, OpenTelemetry: the same mapping as Python's iproov_sansio/telemetry.py. Core
// decides every event, its name, fields, level, message and metrics; this file only hands
// them on. It imports nothing: the Node package gives it util.debuglog and the
// `@opentelemetry/api` module (loaded only by useOpenTelemetry).
//
// An event: {name, level: 'debug' | 'info' | 'warning' | 'error', message, start_ms?, end_ms,
// attributes: {...}, metrics: [{name, kind: 'counter' | 'histogram', value, unit?, attributes}]}.

/** Core's levels -> a logger's methods (console's and pino's names). */
export const METHODS = { debug: 'debug', info: 'info', warning: 'warn', error: 'error' };
/** The events that belong to a call's span (its sends as client spans, the rest as span events). */
const CHILDREN = new Set(['iproov.send', 'iproov.retry', 'iproov.token']);

/**
 * A logger as this package calls it. Pino's convention (fields first, then the message) for a
 * logger with pino's `child` and `bindings` methods (pino, Fastify's `fastify.log`,
 * pino-http's `req.log`); console's (message first, then the fields) for anything else
 * (console, winston, any `{debug, info, warn, error}` object). A level whose method the logger
 * lacks is not logged; a logger that throws changes no outcome.
 * @param {object} logger
 * @param {boolean} given the caller chose it (the default console gets error lines only)
 */
export function wrapLogger(logger, given) {
  const pino = typeof logger.child === 'function' && typeof logger.bindings === 'function';
  const wants = (method) =>
    typeof logger[method] === 'function' && (typeof logger.isLevelEnabled !== 'function' || logger.isLevelEnabled(method));
  const write = (method, message, fields) => {
    try {
      if (fields === undefined) logger[method](message);
      else if (pino) logger[method](fields, message);
      else logger[method](message, fields);
    } catch {} // eslint-disable-line no-empty -- a logger that throws changes no outcome
  };
  return {
    given,
    /** An event at its level, its fields as `{iproov_event, iproov}` (Python's record fields). */
    event(event) {
      const method = METHODS[event.level] ?? 'info';
      if (given && wants(method)) write(method, event.message, { iproov_event: event.name, iproov: event.attributes });
    },
    /**
     * A line of the web handler's (web.mjs: a refusal at info, a failure at error) at
     * `method` ('info' | 'warn' | 'error'), with `fields` (`{iproov: {...}}`) and the error behind it
     * (`err`, pino's key). Written to the default console too, as a plain line (the handler's
     * refusals are how an operator sees a misconfigured origin or a login that lost its user).
     */
    web(method, message, fields, error) {
      if (!wants(method)) return;
      if (!given) write(method, message, error);
      else write(method, message, error === undefined ? fields : { ...fields, err: error });
    },
    /** An error line of this package's own (a failing audit hook, a spool that refused a line). */
    error(message, error) {
      if (error === undefined) write('error', message, pino ? {} : undefined);
      else write('error', message, pino ? { err: error } : error);
    },
  };
}

/**
 * The telemetry of one API object (createApi): where events go besides a client's logger.
 * @param {{debuglog?: ((format: string, ...args: unknown[]) => void) & {enabled?: boolean}}} [host]
 *   Node's `util.debuglog('iproov-sansio')` (NODE_DEBUG=iproov-sansio)
 */
export function makeTelemetry({ debuglog } = {}) {
  let otel = null;
  const debugging = () => debuglog !== undefined && debuglog.enabled !== false;

  return {
    /** Whether a call with this (wrapped) logger should have core make its events. */
    wanted(logger) {
      return otel !== null || logger.given || debugging();
    },

    /**
     * Hands events to the logger, the debug log and OpenTelemetry. `children`: the list a
     * call keeps its sends, retries and token fetches in until its own event (core tells a
     * call after its sends), so that they become its span's children. Never throws.
     */
    emit(events, logger, children) {
      for (const event of events) {
        try {
          logger.event(event);
          if (debugging()) debuglog('%s %j', event.message, event.attributes);
          if (otel === null) continue;
          if (CHILDREN.has(event.name)) children?.push(event);
          else otel.span(event, event.name === 'iproov.call' && children ? children.splice(0) : []);
          for (const metric of event.metrics ?? []) otel.record(metric);
        } catch (error) {
          if (debugging()) debuglog('telemetry mapping failed: %s', error?.stack ?? error);
        }
      }
    },

    /** Maps every later event onto OpenTelemetry through `api` (the `@opentelemetry/api` module). */
    useOpenTelemetry(api, { tracerProvider, meterProvider } = {}) {
      otel = openTelemetry(api, tracerProvider ?? api.trace.getTracerProvider(), meterProvider ?? api.metrics.getMeterProvider());
    },

    stopOpenTelemetry() {
      otel = null;
    },
  };
}

/** Spans and metrics of events, as Python's `_OpenTelemetry`. */
function openTelemetry(api, tracerProvider, meterProvider) {
  const tracer = tracerProvider.getTracer('iproov-sansio');
  const meter = meterProvider.getMeter('iproov-sansio');
  const instruments = new Map();
  return {
    /** A span from `start_ms` to `end_ms`; its sends are client spans under it, the rest its events. */
    span(event, children) {
      const span = tracer.startSpan(event.name, { startTime: event.start_ms ?? event.end_ms, attributes: event.attributes });
      if (event.level === 'warning' || event.level === 'error') {
        span.setStatus({ code: api.SpanStatusCode.ERROR, message: String(event.attributes['error.type'] ?? '') });
      }
      const context = api.trace.setSpan(api.context.active(), span);
      for (const child of children) {
        if (child.name === 'iproov.send') {
          const options = { kind: api.SpanKind.CLIENT, startTime: child.start_ms ?? child.end_ms, attributes: child.attributes };
          tracer.startSpan(child.name, options, context).end(child.end_ms);
        } else {
          span.addEvent(child.name, child.attributes, child.end_ms);
        }
      }
      span.end(event.end_ms);
    },

    record({ name, kind, value, unit = '1', attributes }) {
      let instrument = instruments.get(name);
      if (instrument === undefined) {
        instrument = kind === 'counter' ? meter.createCounter(name, { unit }) : meter.createHistogram(name, { unit });
        instruments.set(name, instrument);
      }
      if (kind === 'counter') instrument.add(value, attributes);
      else instrument.record(value, attributes);
    },
  };
}
