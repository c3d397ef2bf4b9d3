// Types of `import ... from 'iproov-sansio'`: the shared JS API (bindings-js/api.d.ts, copied to dist/ by the build), the Node journey stores and their spool file, the http / Express adapter, the Fastify plugin, and their default.
export * from './dist/api.js';
export { SQLiteStore, PostgresStore, FileSpool, type PgPoolLike } from './stores.js';
export { toNodeHandler, toExpressMiddleware, type NodeListener, type NodeErrorMiddleware } from './node-http.js';
export { iproovJourneys, type IproovJourneysOptions } from './node-fastify.js';
export { useOpenTelemetry, stopOpenTelemetry, type OpenTelemetryOptions } from './telemetry.js';
import * as api from './dist/api.js';
import { SQLiteStore, PostgresStore, FileSpool } from './stores.js';
import { toNodeHandler, toExpressMiddleware } from './node-http.js';
import { iproovJourneys } from './node-fastify.js';
import { useOpenTelemetry, stopOpenTelemetry } from './telemetry.js';
declare const _default: typeof api & {
  SQLiteStore: typeof SQLiteStore;
  PostgresStore: typeof PostgresStore;
  FileSpool: typeof FileSpool;
  toNodeHandler: typeof toNodeHandler;
  toExpressMiddleware: typeof toExpressMiddleware;
  iproovJourneys: typeof iproovJourneys;
  useOpenTelemetry: typeof useOpenTelemetry;
  stopOpenTelemetry: typeof stopOpenTelemetry;
};
export default _default;
