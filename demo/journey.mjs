// The demo journey for the JS hosts: Node runs it over `iproov-sansio` (demo/node.mjs), the
// edge worker over `iproov-sansio-edge` inside workerd (demo/worker/worker.mjs). Both packages
// have the same API, so this one file is the journey of both; demo/journey.py is the same
// journey in Python. Every decision (requests, results, errors, attempts, audit records) is the
// core's: this file only calls the client, prints what happened and plays the user's phone when
// the target is the emulator.
//
// runJourney({ api, packageName, title, env, print, record }):
//   api     the package (`import * as api from 'iproov-sansio'` or the edge default export)
//   packageName, title  for the section's heading
//   env     IPROOV_REGION | IPROOV_BASE_URL, IPROOV_API_KEY, IPROOV_SECRET,
//           IPROOV_OAUTH_USERNAME, IPROOV_OAUTH_PASSWORD; IPROOV_DEMO_EMULATOR (the emulator's
//           URL: set only when the target is the emulator, whose control API plays the phone);
//           IPROOV_DEMO_WRONG_BASE_URL (where "the wrong region" is, on the emulator)
//   print   one transcript line
//   record  one audit record (core's, handed to the client's audit hook)

const RESOURCE = 'iProov demo';
const BROWSER = 'Mozilla/5.0 (iProov demo)';

/** Stops a journey where a real user's phone must do the capture. */
class NeedsPhone extends Error {}

function setting(env, name) {
  const value = env[name];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** Client options from the IPROOV_* variables (the same names the Python package reads). */
function optionsFromEnv(env) {
  const options = {
    region: setting(env, 'IPROOV_REGION'),
    baseUrl: setting(env, 'IPROOV_BASE_URL'),
    apiKey: setting(env, 'IPROOV_API_KEY'),
    secret: setting(env, 'IPROOV_SECRET'),
  };
  const username = setting(env, 'IPROOV_OAUTH_USERNAME');
  const password = setting(env, 'IPROOV_OAUTH_PASSWORD');
  if (username !== undefined || password !== undefined) options.oauth = { username, password };
  for (const key of Object.keys(options)) if (options[key] === undefined) delete options[key];
  return options;
}

function short(token) {
  return token.length > 16 ? `${token.slice(0, 8)}…${token.slice(-4)}` : token;
}

export async function runJourney({ api, packageName, title, env, print, record }) {
  const emulator = setting(env, 'IPROOV_DEMO_EMULATOR');
  const options = optionsFromEnv(env);
  const config = new api.Config(options);
  // audit: the client hands core's record of every request it sends (its own OAuth token
  // request for the users API included) and of every outcome to the hook, which stores it.
  let tokenRequests = 0;
  const audit = (r) => {
    if (r.operation === 'access_token') tokenRequests += 1;
    record(r);
  };
  const client = api.createClient({ ...options, timeoutMs: 10_000, audit });
  const userId = api.randomUserId();
  let n = 0;

  // ---- transcript ---------------------------------------------------------------------------
  const line = (text = '') => print(text);
  const step = (text) => line(`\n${String(++n).padStart(2)}. ${text}`);
  const say = (text) => line(`    ${text}`);
  const showRequest = (request) => {
    // Core's redacted view of the request: secrets show as [REDACTED].
    const view = request.redacted();
    say(`→ ${view.method} ${view.url}`);
    for (const [name, value] of view.headers) say(`    ${name}: ${value}`);
    if (view.body) say(`    ${view.body}`);
  };
  const showError = (error) => say(`← error ${error.code} (${error.status ?? 'no status'}): ${error.message}`);

  /**
   * One client call: shows core's redacted view of its request (built from the same config and
   * input), sends it with the client (whose audit hook stores core's records, with the journey
   * attempt the call belongs to).
   */
  async function call(operation, input, { attempt, viewConfig = config, via = client } = {}) {
    showRequest(api.build(operation, viewConfig, input));
    return via.call(operation, input, attempt === undefined ? {} : { attempt });
  }

  async function expectError(operation, input, options) {
    try {
      await call(operation, input, options);
    } catch (error) {
      if (!(error instanceof api.IProovError)) throw error;
      showError(error);
      return error;
    }
    throw new Error(`${operation} was expected to fail`);
  }

  /** The user's phone: the emulator's control API completes the capture, else a real user must. */
  async function phone(token, outcome) {
    const what = outcome.passed ? 'passes' : `fails (${outcome.reason})`;
    if (!emulator) {
      step("The user's phone completes the capture (iProov's SDK with this token)");
      say(`a real user must now scan their face with the token ${short(token)}: the demo cannot`);
      say('play the phone against a real iProov service, so this journey stops here.');
      throw new NeedsPhone();
    }
    step(`The user's phone completes the capture: it ${what}`);
    say(`(done by the user's phone; here the emulator plays it: POST /__emulator/claims/${short(token)}/complete)`);
    const res = await fetch(`${emulator}/__emulator/claims/${token}/complete`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(outcome),
    });
    if (!res.ok) throw new Error(`emulator: completing the claim gave ${res.status} ${await res.text()}`);
  }

  /**
   * A user's attempts at enrol or verify, as core's Journey tracks them: each attempt gets a new
   * token, is validated once, and the journey says what comes next.
   */
  async function attempts(flow, outcomes) {
    const journey = new api.Journey({ userId, flow });
    const max = journey.toJSON().policy.max_attempts;
    for (;;) {
      const next = journey.next();
      if (next.next === 'done' || next.next === 'exhausted') return next;
      if (next.next !== 'start_attempt') throw new Error(`unexpected journey step ${next.next}`);
      const { attempt } = next;
      step(`${flow === 'enrol' ? 'Enrol' : 'Verify'} token: ${flow} attempt ${attempt} of ${max}${attempt > 1 ? ', a new token' : ''}`);
      const claim = await call(`${flow}_token`, { user_id: userId, resource: RESOURCE }, { attempt });
      say(`← token ${short(claim.token)} (pod ${claim.pod ?? 'none'})`);
      journey.tokenIssued(claim.token);

      await phone(claim.token, outcomes[attempt - 1]);

      step(`${flow === 'enrol' ? 'Enrol' : 'Verify'} validate: once for this token`);
      const result = await call(`${flow}_validate`, { user_id: userId, token: claim.token, client: BROWSER }, { attempt });
      say(`← passed: ${result.passed}${result.passed ? ` (${result.type}, ${result.assuranceType})` : `, reason ${result.reason}`}`);
      const after = journey.validated(claim.token, result);
      if (after.next === 'start_attempt') {
        say(`journey: attempt ${attempt} of ${max} failed: ${result.reason} — attempt ${after.attempt} of ${max} starts with a new token`);
      } else if (after.next === 'done') {
        say(`journey: ${flow === 'enrol' ? 'enrolled' : 'verified'} on attempt ${attempt} of ${max}`);
      } else if (after.next === 'exhausted') {
        say(`journey: all ${after.attempts} attempts failed`);
      }
    }
  }

  // ---- the journey ----------------------------------------------------------------------------
  const target = config.region ? `region ${config.region} (${config.baseUrl})` : config.baseUrl;
  line(`${'='.repeat(100)}`);
  line(`== ${title}: ${packageName} ${api.VERSION} against ${emulator ? 'the emulator, ' : ''}${target}`);
  line(`${'='.repeat(100)}`);
  line(`config (redacted by core): ${JSON.stringify(config)}`);
  line(`user id: ${userId} (randomUserId: a UUID that identifies nobody)`);

  try {
    await attempts('enrol', [{ passed: true }]);
    await attempts('verify', [{ passed: false, reason: 'too_much_movement' }, { passed: true }]);

    step('OAuth access token (client credentials)');
    const token = await call('access_token', {});
    say(`← ${token.tokenType} token [never printed], expires in ${token.expiresIn} s, scope ${(token.scope ?? []).join(' ')}`);
    // The users API authorizes with a Bearer token; core redacts it in the request view.
    const users = new api.Config({ ...options, accessToken: token.accessToken });

    step('Get user (the client\'s token manager fetched its own OAuth token and reuses it)');
    const before = tokenRequests;
    const user = await call('get_user', { user_id: userId }, { viewConfig: users });
    say(`← user ${user.userId}: ${user.status}`);

    step('Suspend user');
    const suspended = await call('suspend_user', { user_id: userId }, { viewConfig: users });
    say(`← user ${suspended.userId}: ${suspended.status}`);
    const fetched = tokenRequests - before;
    say(`token manager: ${fetched} OAuth token request${fetched === 1 ? '' : 's'} served both calls (core reuses a token up to 50 times)`);

    step('Verify token for the suspended user: refused');
    await expectError('verify_token', { user_id: userId, resource: RESOURCE });
  } catch (error) {
    if (!(error instanceof NeedsPhone)) throw error;
    line('\n    (enrol validate, the verify attempts, the users API and the suspended-user refusal');
    line('     need the user enrolled by a real capture; the step below needs no phone)');
  }

  const wrongBaseUrl = setting(env, 'IPROOV_DEMO_WRONG_BASE_URL');
  const wrong = wrongBaseUrl
    ? { apiKey: options.apiKey, secret: options.secret, baseUrl: wrongBaseUrl }
    : { apiKey: options.apiKey, secret: options.secret, region: config.region === 'us' ? 'eu' : 'us' };
  const wrongConfig = new api.Config(wrong);
  step(`The same key against the wrong region (${wrongConfig.region ?? wrongConfig.baseUrl})`);
  await expectError('verify_token', { user_id: userId, resource: RESOURCE }, {
    viewConfig: wrongConfig,
    via: api.createClient({ ...wrong, timeoutMs: 10_000, audit }),
  });
  line('');
}
