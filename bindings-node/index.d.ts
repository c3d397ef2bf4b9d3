// Types of `require('iproov-sansio')`: the shared JS API (bindings-js/api.d.ts, copied to dist/ by the build).
export * from './dist/api';
