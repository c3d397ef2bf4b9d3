// Types of `require('iproov-sansio')`: the shared JS API (bindings-js/api.d.ts, copied to dist/ by the build) the Node journey stores, their spool file and the http / Express adapter.
export * from './dist/api';
export { SQLiteStore, PostgresStore, FileSpool, type PgPoolLike } from './stores';
export { toNodeHandler, toExpressMiddleware, type NodeListener, type NodeErrorMiddleware } from './node-http';
export { iproovJourneys, type IproovJourneysOptions } from './node-fastify';
export { useOpenTelemetry, stopOpenTelemetry, type OpenTelemetryOptions } from './telemetry';
