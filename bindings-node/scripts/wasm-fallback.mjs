// The wasm fallback's bundle entry (scripts/build-js.mjs makes dist/api-wasm.cjs of it): the
// same shared JS layer over the edge package's wasm backend, for platforms without an addon.
export { createApi, makeTelemetry } from '../../bindings-js/api.mjs';
export { initSync, native } from '../../bindings-wasm/js/backend.mjs';
