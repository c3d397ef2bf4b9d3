// The edge client's overhead benchmark worker: one request runs `n` calls in a row, either
// through `createClient(...)` or as a raw `fetch` of the very request core builds for that call
// (bench/calls.mjs, as the Node bench), so the runner (bench/client-overhead.mjs --impl workerd)
// times batches from outside: a worker's clock does not advance while its code runs. Answers
// the number of calls made, or 500 with the first failure.
import api from 'iproov-sansio-edge';
import { calls } from '../../../bench/calls.mjs';

let made; // per isolate: the client, the config and the raw requests, made on the first request

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    made ??= calls(api, `${env.EMULATOR_URL}/eu/api/v2`);
    const call = made[url.searchParams.get('call')];
    const side = ['raw', 'client'].indexOf(url.searchParams.get('side'));
    const n = Number(url.searchParams.get('n'));
    if (!call || side < 0 || !Number.isInteger(n) || n < 0) {
      return new Response('bad query: call=availability|enrol_token, side=raw|client, n>=0', { status: 400 });
    }
    try {
      for (let i = 0; i < n; i++) {
        const out = await call[side]();
        if (side === 0 && out[0] !== 200) throw new Error(`raw call: ${out[0]}`);
      }
    } catch (e) {
      return new Response(`${e?.name}: ${e?.message}`, { status: 500 });
    }
    return new Response(String(n));
  },
};
