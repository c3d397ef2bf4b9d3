// The native backend of the edge package: the wasm-bindgen glue behind the interface of
// bindings-js/NATIVE.md, plus what only wasm needs: instantiation from a precompiled module,
// handles that outlive neither their instance nor their holders, and recovery when the
// instance traps. Core cannot panic by construction; should the instance ever trap anyway,
// the call throws an IProovError and the next call runs on a fresh instance.
//
// Configs, flows and drivers live inside the wasm instance (their credentials in core's
// `Secret`); JS holds only `{kind, id, of}` handles. Nothing secret is kept on the JS side:
// after a trap, handles of the dead instance are refused (InvalidStateError, "make the client
// again"), never re-created. Equal configs share one entry inside the instance. Where the
// runtime has FinalizationRegistry (Node, browsers) an entry is released when its holders are
// collected; workerd has none, so there clients of equal configs and options also share one
// driver (and its OAuth token): a worker that makes its client per request then holds one
// entry per distinct configuration, not one per request.
import * as glue from '../pkg/iproov_sansio_wasm.js';
import { IProovError } from '../../bindings-js/errors.mjs';

let compiled; // the WebAssembly.Module, kept to re-instantiate after a trap
let generation = 0; // bumped for every instance: a handle of another one is stale

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
  generation += 1;
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
  live.clear();
  glue.__iproovReset();
  glue.initSync({ module: compiled });
  generation += 1;
  return new IProovError(
    {
      code: 'wasm_trap',
      kind: 'internal',
      message:
        'the iproov-sansio wasm instance trapped and was re-instantiated; this call had no ' +
        'effect on iProov unless its request was already sent. Configs and clients made ' +
        'before it are gone (their credentials were never kept outside the instance): make them again',
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

/** Core's own error for a handle of a dead instance, as the glue throws its errors. */
function staleHandle() {
  const json = JSON.stringify({
    code: 'invalid_state',
    kind: 'invalid_state',
    message:
      'this config or client belongs to a wasm instance that trapped and was replaced: make it again',
  });
  return Object.assign(new Error(json), { code: 'IPROOV_CORE' });
}

const release = { config: glue.freeConfig, flow: glue.freeFlow, driver: glue.freeDriver, pump: glue.freePump };
const weak = typeof FinalizationRegistry === 'function' && typeof WeakRef === 'function';
// One handle object per live entry: clients sharing a driver share its object, and so the
// Promise the JS layer keys on it to wake calls waiting for the shared token.
const live = new Map(); // `${kind} ${id}` -> handle (a WeakRef where the runtime has them)
const registry = weak
  ? new FinalizationRegistry(({ kind, id, of, key }) => {
      if (of !== generation) return;
      release[kind](id);
      if (live.get(key)?.deref() === undefined) live.delete(key);
    })
  : undefined;

/** The handle object of an entry the instance just made, or shared with one more holder. */
function handle(kind, id) {
  const key = `${kind} ${id}`;
  const known = live.get(key);
  const existing = weak ? known?.deref() : known;
  if (existing !== undefined && existing.of === generation) {
    release[kind](id); // this object already holds the entry: one holder per object
    return existing;
  }
  const h = Object.freeze({ kind, id, of: generation });
  live.set(key, weak ? new WeakRef(h) : h);
  registry?.register(h, { kind, id, of: generation, key }, h);
  return h;
}

/** The entry id of a live handle (`undefined` stays `undefined`). */
function idOf(h) {
  if (h === undefined || h === null) return undefined;
  if (h.of !== generation) throw staleHandle();
  return h.id;
}

const withHandle = (fn) => (h, ...rest) => fn(idOf(h), ...rest);
const withConfig = (fn) => (first, config, ...rest) => fn(first, idOf(config), ...rest);

/** The NATIVE.md interface over the glue. */
export const native = Object.freeze({
  info: guarded(glue.info),
  newConfig: guarded((json) => handle('config', glue.newConfig(json))),
  newConfigFromEnv: guarded((given, env) => handle('config', glue.newConfigFromEnv(given, env))),
  configInfo: guarded(withHandle(glue.configInfo)),
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
  flowStep: guarded(withConfig(glue.flowStep)),
  newFlow: guarded((flow, options) => handle('flow', glue.newFlow(flow, options))),
  flowRun: guarded((flow, config, step) => glue.flowRun(idOf(flow), idOf(config), step)),
  driverNew: guarded((config, options, seed) => handle('driver', glue.driverNew(idOf(config), options, seed, !weak))),
  driverStart: guarded(withHandle(glue.driverStart)),
  driverPoll: guarded(withHandle(glue.driverPoll)),
  driverResponse: guarded(withHandle(glue.driverResponse)),
  driverFailure: guarded(withHandle(glue.driverFailure)),
  driverCancel: guarded(withHandle(glue.driverCancel)),
  serviceSetup: guarded(glue.serviceSetup),
  serviceView: guarded(glue.serviceView),
  storeSchema: guarded(glue.storeSchema),
  pumpNew: guarded((config, ...rest) => handle('pump', glue.pumpNew(idOf(config), ...rest))),
  pumpNext: guarded(withHandle(glue.pumpNext)),
  /** A pump's entry (its tokens) goes now: a request's pump is done when it ends, and a
   * worker's garbage collector may never run the registry's callback. */
  freePump: guarded((h) => {
    if (h === undefined || h === null || h.of !== generation) return;
    registry?.unregister(h);
    live.delete(`pump ${h.id}`);
    glue.freePump(h.id);
  }),
  spoolDue: guarded(glue.spoolDue),
  spoolTombstone: guarded(glue.spoolTombstone),
  storeError: guarded(glue.storeError),
  webDecide: guarded(glue.webDecide),
  /** Test hook: makes the instance trap, to prove the package survives it. */
  trapForTests: guarded(glue.__trapForTests),
});
