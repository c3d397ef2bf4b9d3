// What both client-overhead benches measure (bench/client-overhead.mjs in Node, and its worker
// inside workerd, bindings-wasm/bench/workerd-client/): the emulator's built-in EU service
// provider (tests/emulator/README.md) and, per call, the client's method beside a raw fetch of
// the very request core builds for it (method, URL, headers, body; then `response.json()`).

export const API_KEY = 'eudefaultkey0000000000000000000000000000';
export const SECRET = 'eudefaultsecret0000000000000000000000000';
export const USER = '5f1c2a9e-7b3d-4c8e-9a01-2d6f4b8c0e13';

/** `[label, name]` of each call measured (`name`: the worker's query). */
export const CALLS = [
  ['availability (GET)', 'availability'],
  ['enrol_token (POST)', 'enrol_token'],
];

/**
 * `{name: [raw, client]}` for `api` (a package's default export) against `base`
 * (`.../eu/api/v2`): `raw()` resolves to `[status, body]`, `client()` to the call's result.
 */
export function calls(api, base) {
  const client = api.createClient({ baseUrl: base, apiKey: API_KEY, secret: SECRET });
  const config = new api.Config({ baseUrl: base, apiKey: API_KEY, secret: SECRET });
  const rawOf = (operation, input) => {
    const request = api.build(operation, config, input);
    const init = { method: request.method, headers: Object.fromEntries(request.headers) };
    if (request.body && request.body.length > 0) init.body = request.body;
    return async () => {
      const response = await fetch(request.url, init);
      return [response.status, await response.json()];
    };
  };
  return {
    availability: [rawOf('availability', {}), () => client.availability()],
    enrol_token: [rawOf('enrol_token', { resource: 'Login', user_id: USER }), () => client.enrolToken({ resource: 'Login', userId: USER })],
  };
}
