// The cases and the pure-JS baseline every JS benchmark shares (the Node package's, the edge
// package's in Node and in workerd): plain JavaScript, no Node API, so a worker can import it.
//
// The baseline does what a hand-written integration does: JSON.parse + RegExp checks + object
// building (and JSON.stringify / string concatenation for requests), with none of core's
// checks for the shapes the sources disagree on.

const KEY = '0123456789abcdefghij0123456789abcdefghij';
const SECRET = 'sec-0123456789abcdef';
const TOKEN = '3170a1c2e5f94b7d8e6a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e';
const USER = '5f1c2a9e-7b3d-4c8e-9a01-2d6f4b8c0e13';
const CONFIG_OPTIONS = { region: 'eu', apiKey: KEY, secret: SECRET, accessToken: 'at-5d0c1e8f3a9b47e6a2c4d8f1b3e5a7c9' , oauth: { username: 'oauth-user', password: 'oauth-pass' } };
const FRAME = btoa('\x07'.repeat(45_000)); // 60 KB of base64
const PNG_BASE64 = btoa(String.fromCharCode(...'89504e470d0a1a0a0000000d4948445200000001000000010806000000'.match(/../g).map((h) => parseInt(h, 16))));

const JSON_HEADERS = { 'content-type': 'application/json' };
const body = (o) => JSON.stringify(o);

// Per operation: input, a 200 response body.
const CASES = {
  enrol_token: [{ resource: 'Login', user_id: USER }, body({ token: TOKEN, fallback: [], primary: '', user_id: USER, pod: 'edge02.eu4' })],
  verify_token: [{ resource: 'Login', user_id: USER, assurance_type: 'genuine_presence' }, body({ token: TOKEN, fallback: [{ type: 'Info', message: 'x' }], user_id: USER, pod: 'edge02.eu4' })],
  enrol_image: [{ token: TOKEN, source: 'oid', image: { base64: PNG_BASE64 } }, body({ success: true, token: TOKEN, user_id: USER })],
  enrol_validate: [{ user_id: USER, token: TOKEN, client: 'Mozilla/5.0', activate: true }, body({ passed: true, token: TOKEN, type: 'enrol', frame_available: true })],
  verify_validate: [{ user_id: USER, token: TOKEN, client: 'Mozilla/5.0' }, body({ passed: false, token: TOKEN, type: 'verify', frame_available: 'false', reason: 'too_much_movement', assurance_type: 'genuine_presence' })],
  access_token: [{ scope: ['user-read'] }, body({ access_token: 'at-5d0c1e8f3a9b47e6a2c4d8f1b3e5a7c9', token_type: 'Bearer', expires_in: 3600, scope: 'user-read user-write' })],
  activate_user: [{ user_id: USER }, body({ user_id: USER, name: 'n', status: 'Active' })],
  suspend_user: [{ user_id: USER, date_time: '2024-05-01T12:30:00Z' }, body({ user_id: USER, name: 'n', status: 'Suspended', suspension_date: '2024-05-01T12:30:00Z' })],
  get_user: [{ user_id: USER }, body({ user_id: USER, name: 'n', status: 'Active' })],
  update_user: [{ user_id: USER, name: 'Jane' }, body({ user_id: USER, name: 'Jane', status: 'Active' })],
  delete_user: [{ user_id: USER }, body({ user_id: USER, name: 'n', status: 'Deleted' })],
  invalidate_claim: [{ token: TOKEN, reason: 'user cancelled' }, body({ claim_aborted: true, user_informed: false })],
  availability: [{}, body({ up: true })],
};
const FRAME_CASE = ['verify_validate (60 KB frame)', 'verify_validate', body({ passed: true, token: TOKEN, type: 'verify', frame_available: true, frame: FRAME })];

// ---- the pure-JS baseline -------------------------------------------------------------------
const USER_RE = /^[a-zA-Z0-9'+_@.-]{1,256}$/;
const TOKEN_RE = /^[A-Za-z0-9_-]{1,256}$/;
const BASE = 'https://eu.rp.secure.iproov.me/api/v2';
const UA = 'iproov-sansio/0.1.0';
function baselineBuild(op, input) {
  if (input.user_id !== undefined && !USER_RE.test(input.user_id)) throw new Error('user_id');
  if (input.token !== undefined && !TOKEN_RE.test(input.token)) throw new Error('token');
  switch (op) {
    case 'availability':
      return { method: 'GET', url: `${BASE}/availability?api_key=${encodeURIComponent(KEY)}`, headers: [['User-Agent', UA]], body: '' };
    case 'access_token':
      return { method: 'POST', url: `${BASE}/${KEY}/access_token`, headers: [['User-Agent', UA], ['Content-Type', 'application/x-www-form-urlencoded'], ['Authorization', `Basic ${btoa('oauth-user:oauth-pass')}`]], body: `grant_type=client_credentials&scope=${input.scope.join(',')}` };
    case 'get_user':
    case 'delete_user':
      return { method: op === 'get_user' ? 'GET' : 'DELETE', url: `${BASE}/users/${input.user_id}`, headers: [['User-Agent', UA], ['Authorization', 'Bearer at']], body: '' };
    case 'enrol_image':
      return { method: 'POST', url: `${BASE}/claim/enrol/image`, headers: [['User-Agent', UA], ['Content-Type', 'multipart/form-data; boundary=x']], body: `--x\r\n${KEY}${SECRET}${input.token}${input.source}${atob(input.image.base64).length}` };
    default:
      return { method: 'POST', url: `${BASE}/${op}`, headers: [['User-Agent', UA], ['Content-Type', 'application/json']], body: JSON.stringify({ api_key: KEY, secret: SECRET, ...input }) };
  }
}
const camelRe = /_([a-z0-9])/g;
function baselineParse(op, text) {
  const json = JSON.parse(text);
  if (typeof json !== 'object' || json === null) throw new Error('decode');
  const out = {};
  for (const key in json) out[key.replace(camelRe, (_, c) => c.toUpperCase())] = json[key];
  if (typeof out.frameAvailable === 'string') out.frameAvailable = out.frameAvailable === 'true';
  if (typeof out.status === 'string') out.status = out.status.toLowerCase();
  if (typeof out.scope === 'string') out.scope = out.scope.split(' ');
  return out;
}

export { CASES, FRAME_CASE, CONFIG_OPTIONS, JSON_HEADERS, baselineBuild, baselineParse };
