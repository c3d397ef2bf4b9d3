// Types of `import ... from 'iproov-sansio'`: the shared JS API (js/index.d.ts) and its default.
export * from './js/index.js';
import * as api from './js/index.js';
export default api;
