// The napi-rs backend's generated types (native.d.ts) implement the native interface that the
// shared JS layer needs (bindings-js/native.d.ts, NATIVE.md). Checked by tsc; never run.
import type * as Napi from '../../native.js';
import type { NativeBackend } from '../../dist/native-interface.js';

type Exact<T, U extends T> = U;
export type NapiImplementsTheInterface = Exact<NativeBackend<Napi.NativeConfig, Napi.NativeFlow, Napi.NativeDriver>, typeof Napi>;
