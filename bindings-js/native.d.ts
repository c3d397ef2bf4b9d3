// The native interface (NATIVE.md) as a type: what `createApi(native)` needs. The napi-rs
// backend's generated types (bindings-node/native.d.ts) are checked against it in
// bindings-node/test/types/native.mts; the wasm backend (bindings-wasm/js/backend.mjs) gives
// the same functions over its handles.

/**
 * Functions a native backend provides. `Config`, `Flow`, `Driver` and `Pump` are its opaque handle
 * types (core keeps what they stand for; JS keeps only the handle). Times are Unix
 * milliseconds and call ids are integers, both as JS numbers.
 */
export interface NativeBackend<Config = unknown, Flow = unknown, Driver = unknown, Pump = unknown> {
  info(): string;
  newConfig(configJson: string): Config;
  newConfigFromEnv(givenJson: string, envJson: string): Config;
  configInfo(config: Config): string;
  build(operation: string, config: Config, inputJson: string): string;
  redactRequest(operation: string, config: Config, inputJson: string): string;
  parse(operation: string, config: Config, status: number, headersJson: string, body: Uint8Array): string;
  region(name: string): string;
  regions(): string;
  checkUserId(field: string, userId: string): void;
  lintUserId(userId: string): string;
  randomUserId(randomBytes: Uint8Array): string;
  pseudonymousUserId(hostSecret: string, internalKey: string): string;
  transportError(kind: string, cause: string): string;
  flowNew(flow: string, optionsJson: string): string;
  flowStep(flow: string, config: Config | undefined | null, stateJson: string, stepJson: string): string;
  newFlow(flow: string, optionsJson: string): Flow;
  flowRun(flow: Flow, config: Config | undefined | null, stepJson: string): string;
  driverNew(config: Config, optionsJson: string, seed: Uint8Array): Driver;
  driverStart(driver: Driver, operation: string, inputJson: string, attempt: number, quiet: boolean, maxWaitMs: number, telemetry: boolean, now: number): number;
  driverPoll(driver: Driver, id: number, now: number): string;
  driverResponse(driver: Driver, id: number, status: number, headersJson: string, body: Uint8Array, now: number): void;
  driverFailure(driver: Driver, id: number, failure: string, cause: string, now: number): void;
  driverCancel(driver: Driver, id: number): void;
  serviceSetup(policyJson: string, optionsJson: string): string;
  serviceView(recordJson: string): string;
  storeSchema(dialect: string): string;
  pumpNew(config: Config, setupJson: string, requestJson: string, newId: string, now: number): Pump;
  pumpNext(pump: Pump, eventJson: string, now: number): string;
  /** wasm only: drops the pump's entry now (napi's go with their handle). */
  freePump?(pump: Pump): void;
  spoolDue(text: string, now: number): string;
  spoolTombstone(id: string, now: number): string;
  storeError(storeOperation: string): string;
  webDecide(what: string, factsJson: string): string;
}

/** Binds the JS API (api.d.ts) to a backend. */
export declare function createApi<Config, Flow, Driver, Pump>(native: NativeBackend<Config, Flow, Driver, Pump>): typeof import('./api.js');
