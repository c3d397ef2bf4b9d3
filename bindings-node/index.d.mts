// Types of `import ... from 'iproov-sansio'`: the shared JS API (bindings-js/api.d.ts, copied to dist/ by the build) and its default.
export * from './dist/api.js';
import * as api from './dist/api.js';
export default api;
