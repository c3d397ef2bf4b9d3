// The native backend of the edge package: the wasm-bindgen glue behind the interface of
// bindings-node/js/NATIVE.md, plus what only wasm needs: instantiation from a precompiled
// module, and recovery when the instance traps. Core cannot panic by construction; should the
// instance ever trap anyway, the call throws an IProovError and the next call runs on a fresh
// instance.
import * as glue from '../pkg/iproov_sansio_wasm.js';
import { IProovError } from '../../bindings-node/js/errors.mjs';

let compiled; // the WebAssembly.Module, kept to re-instantiate after a trap

/** Instantiates from a precompiled `WebAssembly.Module` (`{ module }` or the module itself).
 * Safe to call again: later calls do nothing. */
export function initSync(options) {
  if (compiled) return;
  const module = options instanceof WebAssembly.Module ? options : options?.module;
  if (!(module instanceof WebAssembly.Module)) {
    throw new TypeError(
      'initSync needs { module: WebAssembly.Module }: import the .wasm file as a module ' +
        '(workers cannot compile wasm from bytes at run time)',
    );
  }
  glue.initSync({ module });
  compiled = module;
}

/** Like `initSync`, also from a URL, a `Response`, or bytes (where the host may compile). */
export async function init(moduleOrPath) {
  if (compiled) return;
  let source = moduleOrPath?.module ?? moduleOrPath;
  if (source === undefined) source = new URL('./iproov_sansio_wasm_bg.wasm', import.meta.url);
  if (typeof source === 'string' || source instanceof URL) source = await fetch(source);
  if (typeof Response !== 'undefined' && source instanceof Response) {
    source = await source.arrayBuffer();
  }
  if (!(source instanceof WebAssembly.Module)) source = await WebAssembly.compile(source);
  initSync({ module: source });
}

export function isInitialized() {
  return compiled !== undefined;
}

function trapped(cause) {
  configs.clear(); // every handle belonged to the dead instance
  glue.__iproovReset();
  glue.initSync({ module: compiled });
  return new IProovError(
    {
      code: 'wasm_trap',
      kind: 'internal',
      message:
        'the iproov-sansio wasm instance trapped and was re-instantiated; this call had no ' +
        'effect (nothing was sent), so it can be repeated',
    },
    { cause },
  );
}

function guarded(fn) {
  return (...args) => {
    if (!compiled) {
      throw new TypeError('iproov-sansio-edge is not initialized: call init() or initSync() first');
    }
    try {
      return fn(...args);
    } catch (e) {
      if (e instanceof WebAssembly.RuntimeError) throw trapped(e);
      throw e;
    }
  };
}

// Config handles. Core keeps each parsed config under an integer in the instance; the JS side
// keys them by the config's JSON, so a worker that builds a client per request reuses one
// (workerd has no FinalizationRegistry to free them), at most MAX_CONFIGS at a time, and
// re-creates them on a new instance after a trap. The JSON (with secrets) lives only here.
const MAX_CONFIGS = 64;
const configs = new Map(); // config JSON -> integer handle in the current instance

function configId(json) {
  let id = configs.get(json);
  if (id === undefined) {
    id = glue.newConfig(json);
    if (configs.size >= MAX_CONFIGS) {
      const [oldest, oldId] = configs.entries().next().value;
      configs.delete(oldest);
      glue.freeConfig(oldId);
    }
    configs.set(json, id);
  }
  return id;
}

class ConfigHandle {
  #json;
  constructor(json) {
    configId(json); // core reads and checks it now: a bad config throws here
    this.#json = json;
  }
  get id() {
    return configId(this.#json);
  }
}

const withConfig = (fn) => (first, config, ...rest) => fn(first, config.id, ...rest);

/** The NATIVE.md interface over the glue. */
export const native = Object.freeze({
  info: guarded(glue.info),
  newConfig: guarded((json) => new ConfigHandle(json)),
  configInfo: guarded((config) => glue.configInfo(config.id)),
  build: guarded(withConfig(glue.build)),
  redactRequest: guarded(withConfig(glue.redactRequest)),
  parse: guarded(withConfig(glue.parse)),
  region: guarded(glue.region),
  regions: guarded(glue.regions),
  checkUserId: guarded(glue.checkUserId),
  lintUserId: guarded(glue.lintUserId),
  randomUserId: guarded(glue.randomUserId),
  pseudonymousUserId: guarded(glue.pseudonymousUserId),
  transportError: guarded(glue.transportError),
  flowNew: guarded(glue.flowNew),
  flowStep: guarded(glue.flowStep),
  /** Test hook: makes the instance trap, to prove the package survives it. */
  trapForTests: guarded(glue.__trapForTests),
});
