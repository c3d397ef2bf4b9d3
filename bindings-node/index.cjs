'use strict';
// The CommonJS entry point: the shared JS API (dist/api.cjs, built from bindings-js) over the
// napi-rs addon (native.cjs, the loader `napi build` writes). Where no addon matches the
// platform (or IPROOV_SANSIO_BACKEND=wasm), the same API over the edge package's wasm build
// (dist/api-wasm.cjs), saying so only when debugging is on (NODE_DEBUG=iproov-sansio).
// index.mjs re-exports this very object.
const notice = require('node:util').debuglog('iproov-sansio');

function backend() {
  if (process.env.IPROOV_SANSIO_BACKEND !== 'wasm') {
    try {
      return { layer: require('./dist/api.cjs'), native: require('./native.cjs') };
    } catch (error) {
      notice('no native addon for %s-%s (%s): using the wasm build', process.platform, process.arch, error.message);
    }
  } else {
    notice('IPROOV_SANSIO_BACKEND=wasm: using the wasm build');
  }
  let layer;
  try {
    layer = require('./dist/api-wasm.cjs');
  } catch (error) {
    throw new Error(
      `iproov-sansio: no native addon for ${process.platform}-${process.arch} and no wasm fallback in this build (${error.message})`,
    );
  }
  const bytes = require('node:fs').readFileSync(require('node:path').join(__dirname, 'dist', 'iproov_sansio_wasm_bg.wasm'));
  layer.initSync({ module: new WebAssembly.Module(bytes) });
  return { layer, native: layer.native };
}

const { layer, native } = backend();
module.exports = layer.createApi(native);
