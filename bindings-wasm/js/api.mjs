// The edge package's API: the shared JS layer (bindings-js) over the wasm backend.
import { createApi } from '../../bindings-js/api.mjs';
import { init as initBackend, initSync as initBackendSync, native } from './backend.mjs';
import { DurableObjectStore } from '../../bindings-js/stores.mjs';

/** The journey store of workers: a Durable Object's SQLite storage (edge package only). */
export { DurableObjectStore };

/** The shared API and what only the edge package adds. */
const make = () => Object.freeze({ ...createApi(native), DurableObjectStore });

let api;

/** Instantiates the wasm from a precompiled `WebAssembly.Module` (`{ module }`) and gives the
 * API. Safe to call twice. */
export function initSync(options) {
  initBackendSync(options);
  api ??= make();
  return api;
}

/** Instantiates the wasm from a module, URL, `Response` or bytes and gives the API. Safe to
 * call twice. */
export async function init(moduleOrPath) {
  await initBackend(moduleOrPath);
  api ??= make();
  return api;
}

/** For tests: the backend, whose `trapForTests` makes the instance trap. */
export { native as __native };
