// Types of `import ... from 'iproov-sansio'`: the shared JS API (bindings-js/api.d.ts, copied to dist/ by the build), the Node journey stores, and their default.
export * from './dist/api.js';
export { SQLiteStore, PostgresStore, type PgPoolLike } from './stores.js';
import * as api from './dist/api.js';
import { SQLiteStore, PostgresStore } from './stores.js';
declare const _default: typeof api & { SQLiteStore: typeof SQLiteStore; PostgresStore: typeof PostgresStore };
export default _default;
