// Types of `import ... from 'iproov-sansio'`: the shared JS API (bindings-js/api.d.ts, copied to dist/ by the build), the Node journey stores and their spool file, the http / Express adapter, and their default.
export * from './dist/api.js';
export { SQLiteStore, PostgresStore, FileSpool, type PgPoolLike } from './stores.js';
export { toNodeHandler, type NodeListener } from './node-http.js';
import * as api from './dist/api.js';
import { SQLiteStore, PostgresStore, FileSpool } from './stores.js';
import { toNodeHandler } from './node-http.js';
declare const _default: typeof api & {
  SQLiteStore: typeof SQLiteStore;
  PostgresStore: typeof PostgresStore;
  FileSpool: typeof FileSpool;
  toNodeHandler: typeof toNodeHandler;
};
export default _default;
