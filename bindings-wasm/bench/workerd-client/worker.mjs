// The edge client's overhead benchmark worker: one request runs `n` calls in a row, either
// through `createClient(...)` or as a raw `fetch` of the very request core builds for that call
// (method, URL, headers, body; then `response.json()`), so the runner (bench/client-overhead.mjs
// --impl workerd) times batches from outside: a worker's clock does not advance while its code
// runs. Answers the number of calls made, or 500 with the first failure.
import api from 'iproov-sansio-edge';

// The emulator's built-in EU service provider (tests/emulator/README.md), as the Node bench.
const API_KEY = 'eudefaultkey0000000000000000000000000000';
const SECRET = 'eudefaultsecret0000000000000000000000000';
const USER = '5f1c2a9e-7b3d-4c8e-9a01-2d6f4b8c0e13';

let made; // per isolate: the client, the config and the raw requests, made on the first request

function setUp(base) {
  const client = api.createClient({ baseUrl: base, apiKey: API_KEY, secret: SECRET });
  const config = new api.Config({ baseUrl: base, apiKey: API_KEY, secret: SECRET });
  const rawOf = (operation, input) => {
    const request = api.build(operation, config, input);
    const init = { method: request.method, headers: Object.fromEntries(request.headers) };
    if (request.body && request.body.length > 0) init.body = request.body;
    return async () => {
      const response = await fetch(request.url, init);
      await response.json();
      if (response.status !== 200) throw new Error(`raw ${operation}: ${response.status}`);
    };
  };
  return {
    availability: { raw: rawOf('availability', {}), client: () => client.availability() },
    enrol_token: {
      raw: rawOf('enrol_token', { resource: 'Login', user_id: USER }),
      client: () => client.enrolToken({ resource: 'Login', userId: USER }),
    },
  };
}

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    made ??= setUp(`${env.EMULATOR_URL}/eu/api/v2`);
    const call = made[url.searchParams.get('call')];
    const side = url.searchParams.get('side');
    const n = Number(url.searchParams.get('n'));
    if (!call || !(side === 'raw' || side === 'client') || !Number.isInteger(n) || n < 0) {
      return new Response('bad query: call=availability|enrol_token, side=raw|client, n>=0', { status: 400 });
    }
    try {
      for (let i = 0; i < n; i++) await call[side]();
    } catch (e) {
      return new Response(`${e?.name}: ${e?.message}`, { status: 500 });
    }
    return new Response(String(n));
  },
};
