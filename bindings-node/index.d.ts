// Types of `require('iproov-sansio')`: the shared JS API (bindings-js/api.d.ts, copied to dist/ by the build) and the Node journey stores.
export * from './dist/api';
export { SQLiteStore, PostgresStore, type PgPoolLike } from './stores';
