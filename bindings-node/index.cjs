'use strict';
// The CommonJS entry point: the shared JS API (dist/api.cjs, built from bindings-js) over the
// napi-rs addon (native.cjs, the loader `napi build` writes). Where no addon matches the
// platform (or IPROOV_SANSIO_BACKEND=wasm), the same API over the edge package's wasm build
// (dist/api-wasm.cjs), saying so only when debugging is on (NODE_DEBUG=iproov-sansio). With
// either, the Node-only journey stores and their spool file (dist/stores.cjs), the http / Express adapter
// (node-http.cjs), the Fastify plugin (node-fastify.cjs), core's telemetry events on the debug
// log (NODE_DEBUG=iproov-sansio) and, once useOpenTelemetry is called, OpenTelemetry (the
// optional @opentelemetry/api, imported then and only then). index.mjs re-exports this very object.
const notice = require('node:util').debuglog('iproov-sansio');

function backend() {
  if (process.env.IPROOV_SANSIO_BACKEND !== 'wasm') {
    try {
      return { layer: require('./dist/api.cjs'), native: require('./native.cjs') };
    } catch (error) {
      notice('no native addon for %s-%s (%s): using the wasm build', process.platform, process.arch, error.message);
    }
  } else {
    notice('IPROOV_SANSIO_BACKEND=wasm: using the wasm build');
  }
  let layer;
  try {
    layer = require('./dist/api-wasm.cjs');
  } catch (error) {
    throw new Error(
      `iproov-sansio: no native addon for ${process.platform}-${process.arch} and no wasm fallback in this build (${error.message})`,
    );
  }
  const bytes = require('node:fs').readFileSync(require('node:path').join(__dirname, 'dist', 'iproov_sansio_wasm_bg.wasm'));
  layer.initSync({ module: new WebAssembly.Module(bytes) });
  return { layer, native: layer.native };
}

const { layer, native } = backend();
const { makeNodeStores, FileSpool } = require('./dist/stores.cjs');
const { toNodeHandler, toExpressMiddleware } = require('./node-http.cjs');
const { makeFastifyPlugin } = require('./node-fastify.cjs');

// A journey service given its spool as a path keeps it in a file (dist/stores.cjs);
// configFromEnv and createClient read process.env; telemetry events go to the debug log too.
const telemetry = layer.makeTelemetry({ debuglog: notice });
const api = layer.createApi(native, { spoolAt: (path) => new FileSpool(path), environment: () => process.env, telemetry });

/**
 * Maps core's telemetry events onto OpenTelemetry from now on, as Python's
 * `use_opentelemetry`: a span per call with a client span per send under it, a span per
 * journey request, and the metrics core names (iproov.client.calls, iproov.client.call.duration
 * in ms, iproov.journeys, iproov.journey.attempts). Imports @opentelemetry/api (an optional
 * peer dependency) now; rejects when it is not installed.
 * @param {{tracerProvider?: object, meterProvider?: object}} [options] default: the global ones
 */
async function useOpenTelemetry(options = {}) {
  let otel;
  try {
    otel = await import('@opentelemetry/api');
  } catch (error) {
    throw new Error('iproov-sansio: useOpenTelemetry needs @opentelemetry/api (npm install @opentelemetry/api)', { cause: error });
  }
  telemetry.useOpenTelemetry(otel, options);
}
// The journey stores run core's statements and throw core's errors; they load their drivers
// (better-sqlite3, pg: optional peer dependencies) through this `require`, from the
// application's node_modules, when a store is made.
const core = { schema: (dialect) => JSON.parse(native.storeSchema(dialect)), errorFromJSON: api.errorFromJSON };
module.exports = Object.freeze({
  ...api,
  ...makeNodeStores(require, core),
  toNodeHandler,
  toExpressMiddleware,
  iproovJourneys: makeFastifyPlugin(api.createJourneyHandler),
  useOpenTelemetry,
  /** Stops mapping events onto OpenTelemetry. */
  stopOpenTelemetry: () => telemetry.stopOpenTelemetry(),
});
