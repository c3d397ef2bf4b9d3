// Loaded with `node --import` before a README example: plays the user's device. Just before a
// validate request leaves, it completes the claim through the emulator's control API (what
// the iProov SDK and the user's face scan do in production). Nothing else is touched.
const control = `${process.env.IPROOV_EMULATOR_URL}/__emulator`;
const realFetch = globalThis.fetch;

globalThis.fetch = async function fetchWithDevice(url, init = {}) {
  if (/\/claim\/(enrol|verify)\/validate$/.test(String(url)) && init.body) {
    const text = typeof init.body === 'string' ? init.body : new TextDecoder().decode(init.body);
    const body = JSON.parse(text);
    await realFetch(`${control}/claims/${body.token}/complete`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ passed: true }),
    });
  }
  return realFetch(url, init);
};
