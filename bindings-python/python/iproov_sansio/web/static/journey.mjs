// The browser's side of a face check: ask the backend for a token, run the capture (iProov's
// <iproov-me> web SDK, or the emulator's stand-in when the backend points at the emulator),
// have the backend validate it, show the result and the attempts left. The backend decides
// everything (journey_routes in iproov_sansio.web); this page only shows what it answers.
// document.body.dataset.state (ready, capture, validating, result, error) says where it is.

const $ = (id) => document.getElementById(id);
// The endpoints sit beside this module, wherever the application mounted them.
const endpoint = (path) => new URL(path, import.meta.url);

const TEXT = {
  network: 'Could not reach the server. Try again.',
  inconclusive: 'We could not get the result of this attempt. Try again.',
  no_sdk: "iProov's web SDK is not loaded on this page (see the README).",
};

let journey = null; // {id, flow, token}
let standIn = false; // the backend points at the emulator: its stand-in replaces the SDK
let validating = false;

class PageError extends Error {
  constructor(code, message) {
    super(message);
    this.code = code;
  }
}

async function post(path, body) {
  // Every wait is bounded: a backend that never answers becomes a "try again".
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), 60_000);
  let response;
  try {
    response = await fetch(endpoint(path), {
      method: 'POST',
      // JSON: a content type no cross-site form can send, which the backend requires.
      headers: { 'Content-Type': 'application/json' },
      credentials: 'same-origin',
      body: JSON.stringify(body),
      signal: controller.signal,
    });
  } catch {
    throw new PageError('network', TEXT.network);
  } finally {
    clearTimeout(timer);
  }
  const data = await response.json().catch(() => null);
  if (!response.ok) {
    const error = data && data.error ? data.error : { code: 'internal_error', message: TEXT.network };
    throw new PageError(error.code, error.message);
  }
  return data;
}

function setState(state, status = '') {
  document.body.dataset.state = state;
  $('status').textContent = status;
}

function show(id, visible) {
  $(id).hidden = !visible;
}

function showResult(text, kind, attemptsLeft, next) {
  $('result').className = kind;
  $('result-text').textContent = text;
  $('attempts-left').textContent =
    attemptsLeft === undefined ? '' : `Attempts left: ${attemptsLeft}`;
  show('again', next === 'start_attempt');
  show('restart', next !== 'start_attempt');
  show('result', true);
  show('capture', false);
  $('start').disabled = true;
  setState('result');
}

function showError(error) {
  const code = error instanceof PageError ? error.code : 'internal_error';
  const message = error instanceof PageError ? error.message : TEXT.network;
  $('result').className = 'failed';
  $('result-text').textContent = message;
  $('attempts-left').textContent = '';
  // A busy service or a lost connection: the same step may be tried again.
  const retry = code === 'try_again' || code === 'network';
  show('again', retry && journey !== null);
  show('restart', true);
  show('result', true);
  show('capture', false);
  setState('error');
}

function over(outcome) {
  const verb = journey.flow === 'enrol' ? 'enrolled' : 'verified';
  if (outcome.next === 'done') {
    showResult(`Passed: ${verb}.`, 'passed', outcome.attempts_left, 'done');
  } else {
    showResult('No attempts left for this check.', 'failed', 0, 'exhausted');
  }
}

async function startAttempt() {
  show('result', false);
  setState('starting', 'Asking for a token…');
  $('start').disabled = true;
  try {
    const flow = journey ? journey.flow : document.querySelector('input[name=flow]:checked').value;
    const started = await post('token', journey ? { flow, journey_id: journey.id } : { flow });
    journey = { id: started.journey_id, flow, token: started.token ?? null };
    if (!started.token) {
      over(started); // the journey was already over
      return;
    }
    $('attempt').textContent = `${started.attempt} (${started.attempts_left} more after this one)`;
    show('capture', true);
    setState('capture', '');
    capture(started);
  } catch (error) {
    showError(error);
  }
}

function capture(started) {
  validating = false;
  if (standIn) {
    $('pass').disabled = false;
    $('fail').disabled = false;
    return;
  }
  // iProov's web SDK: the token, and the bare host of the region's streaming URL.
  const sdk = $('sdk');
  sdk.replaceChildren();
  if (!customElements.get('iproov-me')) {
    showError(new PageError('no_sdk', TEXT.no_sdk));
    return;
  }
  const url = new URL(started.sdk_url);
  const element = document.createElement('iproov-me');
  element.setAttribute('token', started.token);
  element.setAttribute('base_url', `${url.protocol === 'ws:' ? 'http:' : 'https:'}//${url.host}`);
  // Passed or failed, the backend validates: the SDK's word is never the result.
  element.addEventListener('passed', () => validate(), { once: true });
  element.addEventListener('failed', () => validate(), { once: true });
  for (const event of ['error', 'canceled', 'aborted', 'unsupported', 'permission_denied']) {
    element.addEventListener(event, () => {
      showResult(`The capture did not finish (${event}).`, 'failed', undefined, 'start_attempt');
    });
  }
  sdk.append(element);
}

// The stand-in plays the user's phone: the backend completes the claim on the emulator.
async function playPhone(passed) {
  if (validating) return;
  validating = true; // a second click is no second capture, nor a second validate
  $('pass').disabled = true;
  $('fail').disabled = true;
  try {
    await post('emulator/complete', passed ? { token: journey.token, passed } : {
      token: journey.token, passed, reason: $('reason').value,
    });
  } catch (error) {
    showError(error);
    return;
  }
  await validate(true);
}

async function validate(guarded = false) {
  if (validating && !guarded) return;
  validating = true;
  setState('validating', 'Checking the result…');
  try {
    const outcome = await post('validate', { journey_id: journey.id, token: journey.token });
    const verb = journey.flow === 'enrol' ? 'enrolled' : 'verified';
    if (outcome.passed) {
      showResult(`Passed: ${verb}.`, 'passed', outcome.attempts_left, outcome.next);
    } else if (outcome.state === 'outcome_unknown' || outcome.state === 'error') {
      showResult(TEXT.inconclusive, 'failed', outcome.attempts_left, outcome.next);
    } else if (outcome.next === 'exhausted') {
      showResult(`Not passed (${outcome.reason ?? 'no reason given'}). No attempts left.`, 'failed', 0, 'exhausted');
    } else {
      showResult(`Not passed (${outcome.reason ?? 'no reason given'}).`, 'failed', outcome.attempts_left, outcome.next);
    }
  } catch (error) {
    showError(error);
  }
}

function restart() {
  journey = null;
  show('result', false);
  show('capture', false);
  $('start').disabled = false;
  setState('ready');
}

async function main() {
  try {
    const response = await fetch(endpoint('config'), { credentials: 'same-origin' });
    standIn = Boolean((await response.json()).stand_in);
  } catch {
    standIn = false;
  }
  show('stand-in', standIn);
  $('start-form').addEventListener('submit', (event) => {
    event.preventDefault();
    journey = null;
    startAttempt();
  });
  $('pass').addEventListener('click', () => playPhone(true));
  $('fail').addEventListener('click', () => playPhone(false));
  $('again').addEventListener('click', () => startAttempt());
  $('restart').addEventListener('click', restart);
  $('start').disabled = false;
  setState('ready');
}

main();
