'use strict';
// The CommonJS entry point: the shared JS API (dist/api.cjs, built from js/) over the napi-rs
// addon (native.cjs, the loader `napi build` writes). index.mjs re-exports this very object.
const { createApi } = require('./dist/api.cjs');

module.exports = createApi(require('./native.cjs'));
