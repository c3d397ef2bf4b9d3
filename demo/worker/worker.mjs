// The demo's edge worker: an ordinary Worker module (it would deploy to Cloudflare as is) that
// runs the journey of ../journey.mjs over `iproov-sansio-edge` (the core compiled to wasm) and
// the worker's own fetch. `POST /journey` answers with NDJSON, streamed as the journey goes:
// {"line": text} per transcript line, {"audit": record} per audit record (core's), then
// {"done": true} or {"error": text}. The IPROOV_* settings are the worker's environment bindings
// (secrets, in a real deployment: `wrangler secret put IPROOV_SECRET`).
import api from 'iproov-sansio-edge';
import { runJourney } from '../journey.mjs';

const SETTINGS = [
  'IPROOV_REGION',
  'IPROOV_BASE_URL',
  'IPROOV_API_KEY',
  'IPROOV_SECRET',
  'IPROOV_OAUTH_USERNAME',
  'IPROOV_OAUTH_PASSWORD',
  'IPROOV_DEMO_EMULATOR',
  'IPROOV_DEMO_WRONG_BASE_URL',
];

export default {
  async fetch(request, env, ctx) {
    const url = new URL(request.url);
    if (request.method !== 'POST' || url.pathname !== '/journey') {
      return new Response('POST /journey runs the demo journey\n', { status: 404 });
    }
    const settings = {};
    for (const name of SETTINGS) if (typeof env[name] === 'string') settings[name] = env[name];

    const { readable, writable } = new TransformStream();
    const writer = writable.getWriter();
    const encoder = new TextEncoder();
    const emit = (event) => writer.write(encoder.encode(`${JSON.stringify(event)}\n`));
    const run = runJourney({
      api,
      packageName: 'iproov-sansio-edge',
      title: 'Edge worker (workerd, wasm)',
      env: settings,
      print: (line) => emit({ line }),
      record: (audit) => emit({ audit }),
    })
      .then(
        () => emit({ done: true }),
        (error) => emit({ error: String(error?.stack ?? error) }),
      )
      .finally(() => writer.close());
    ctx.waitUntil(run);
    return new Response(readable, { headers: { 'content-type': 'application/x-ndjson' } });
  },
};
