// The native interface (NATIVE.md) as a type: what `createApi(native)` needs. The napi-rs
// backend's generated types (../native.d.ts) are checked against it in test/types/native.mts;
// the wasm backend can check its own the same way.

/** Functions a native backend provides. `Handle` is its opaque config handle type. */
export interface NativeBackend<Handle = unknown> {
  info(): string;
  newConfig(configJson: string): Handle;
  configInfo(config: Handle): string;
  build(operationName: string, config: Handle, inputJson: string): string;
  redactRequest(operationName: string, config: Handle, inputJson: string): string;
  parse(operationName: string, config: Handle, status: number, headersJson: string, body: Uint8Array): string;
  region(name: string): string;
  regions(): string;
  checkUserId(field: string, userId: string): void;
  lintUserId(userId: string): string;
  randomUserId(randomBytes: Uint8Array): string;
  pseudonymousUserId(hostSecret: string, internalKey: string): string;
  transportError(kind: string, cause: string): string;
  flowNew(flow: string, optionsJson: string): string;
  flowStep(flow: string, configJson: string, stateJson: string, stepJson: string): string;
}

/** Binds the JS API (index.d.ts) to a backend. */
export declare function createApi<Handle>(native: NativeBackend<Handle>): typeof import('./index.js');
