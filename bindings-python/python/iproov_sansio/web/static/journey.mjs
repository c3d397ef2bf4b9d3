// The browser's side of a face check: ask the backend for a token, run iProov's web SDK
// (its <iproov-me> element) with it, have the backend validate the capture, show what the
// backend answers. The backend decides everything (core/src/web; journey_routes in Python,
// createJourneyHandler in JS): the attempt number and the attempts left are always its
// answer's, never counted here, so a reload, "Start over" or a second tab cannot reset them.
//
// document.body.dataset.state says where the page is: loading, ready, starting, capture,
// validating, result, waiting (a limit or a busy service: Start comes back when the server's
// Retry-After has passed) or error.
//
// Against the emulator (GET config says stand_in) this module also defines the emulator's
// stand-in for the SDK under the SDK's own element name, so the page runs the same code, and
// handles the same events, as with iProov's SDK. When GET config names the SDK's script
// (sdk_script) and nothing defined the element yet, this module loads that script.

const $ = (id) => document.getElementById(id);
// The endpoints sit beside this module, wherever the application mounted them.
const endpoint = (path) => new URL(path, import.meta.url);

const SDK_ELEMENT = 'iproov-me';
// How long Start waits for the SDK's element to be defined (a script loaded async or
// deferred), before saying that it did not load. No token is asked for until it is.
const SDK_WAIT_MS = 3_000;
// Any one request to the backend. The validate may wait on a double submit (30 s) and on
// iProov; a backend that never answers becomes a "try again" instead of a page stuck.
const REQUEST_MS = 60_000;

const TEXT = {
  network: 'Could not reach the server. Try again.',
  inconclusive: 'We could not get the result of this attempt. Try again.',
  sdk_missing:
    'The face check could not load on this page (iProov\'s web SDK is missing). Reload the page; if that does not help, contact support.',
  // The SDK's ends of an attempt without a result (iProov Web SDK 5.x events): nothing to
  // validate; the attempt stays open on the server, so trying again costs no attempt.
  canceled: 'The face check was closed before it finished. Try again when you are ready.',
  error: 'The face check stopped because of a problem. Try again.',
  no_camera:
    'No camera was found. Connect a camera, or use a phone or computer that has one, then try again.',
  permission_denied:
    'The camera is blocked for this site. Allow it in your browser\'s site settings (the camera or lock icon beside the address), then try again.',
  unsupported:
    'This browser cannot run the face check. Open this page in a recent Chrome, Safari, Edge or Firefox.',
  // Not ends: the SDK waits for the person to allow the camera, or (with its camera selector,
  // `enable_camera_selector`) to choose one of several in the SDK's own selector.
  permission: 'Allow the camera when your browser asks: the check needs it to see your face.',
  multiple_cameras: 'Choose the camera to use for the face check.',
};

// The SDK's progress events, as a line under the capture (none of them ends the attempt).
const PROGRESS = {
  ready: 'Ready: start the face check when you are.',
  connecting: 'Connecting…',
  connected: '',
  started: 'Keep your face in view…',
  streaming: 'Keep your face in view…',
  streamed: 'Checking…',
};

class PageError extends Error {
  constructor(code, message, retryAfterMs = null) {
    super(message);
    this.code = code;
    this.retryAfterMs = retryAfterMs; // from the answer's Retry-After
  }
}

/** Reads a Retry-After header: seconds, or an HTTP date. */
function retryAfterMs(header) {
  if (!header) return null;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const at = Date.parse(header);
  return Number.isNaN(at) ? null : Math.max(0, at - Date.now());
}

/** Django's CSRF token, from its cookie (Django's default name): a Django backend checks it
 * in X-CSRFToken. Other backends set no such cookie; read when each request is sent, since a
 * login changes it. */
function csrfToken() {
  const match = /(?:^|;\s*)csrftoken=([^;]+)/.exec(document.cookie);
  return match ? decodeURIComponent(match[1]) : null;
}

async function post(path, body) {
  // Every wait is bounded.
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), REQUEST_MS);
  let response;
  try {
    // JSON: a content type no cross-site form can send, which the backend requires.
    const headers = { 'Content-Type': 'application/json' };
    const csrf = csrfToken();
    if (csrf) headers['X-CSRFToken'] = csrf;
    response = await fetch(endpoint(path), {
      method: 'POST',
      headers,
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
    throw new PageError(error.code, error.message, retryAfterMs(response.headers.get('Retry-After')));
  }
  return data;
}

// ---- what the page shows ------------------------------------------------------------------

let state = 'loading';

function setState(next, status = '') {
  state = next;
  document.body.dataset.state = next;
  $('status').textContent = status;
  refreshStart();
}

function show(id, visible) {
  $(id).hidden = !visible;
}

const selectedFlow = () => document.querySelector('input[name=flow]:checked').value;

/**
 * The result box. `reason`: the code behind the sentence (iProov's failure reason, the SDK's
 * feedback code, the backend's error code), kept in data-reason and in small print for
 * support. `next`: which buttons: `start_attempt` (Try again), `done` / `exhausted` /
 * `restart` (Start over), `none`.
 */
function showResult({ text, kind, attemptsLeft, next, reason }) {
  stopCountdown();
  $('result').className = kind;
  $('result-text').textContent = text;
  $('attempts-left').textContent = attemptsLeft === undefined ? '' : `Attempts left: ${attemptsLeft}`;
  if (reason) $('result').dataset.reason = reason;
  else delete $('result').dataset.reason;
  $('support').textContent = reason ? `Code for support: ${reason}` : '';
  show('again', next === 'start_attempt');
  show('restart', next === 'done' || next === 'exhausted' || next === 'restart');
  show('wait', false);
  show('result', true);
  show('capture', false);
}

// ---- countdowns: when the person may try again ---------------------------------------------

let countdown = null; // {timer, flow?}

function clock(ms) {
  const total = Math.ceil(ms / 1000);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = String(total % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${s}` : `${m}:${s}`;
}

/**
 * Counts down `ms` in #wait ("<before> in m:ss."), then shows `now` and calls `done`. `flow`:
 * the flow the wait applies to (Start stays off for it; another flow may start).
 */
function startCountdown(ms, { before, now, done = () => {}, flow = null }) {
  stopCountdown();
  const until = Date.now() + ms;
  const wait = $('wait');
  wait.dataset.retryAt = new Date(until).toISOString();
  show('wait', true);
  countdown = { flow, timer: null };
  const tick = () => {
    const left = until - Date.now();
    if (left <= 0) {
      countdown = null;
      wait.textContent = now;
      delete wait.dataset.retryAt;
      done();
      refreshStart();
      return;
    }
    wait.textContent = `${before} in ${clock(left)}.`;
    // The next whole second of the wait, so the clock never skips or repeats one.
    countdown.timer = setTimeout(tick, ((left - 1) % 1000) + 1);
  };
  tick();
  refreshStart();
}

function stopCountdown() {
  if (countdown) clearTimeout(countdown.timer);
  countdown = null;
  delete $('wait').dataset.retryAt;
}

function refreshStart() {
  const blocked = countdown && countdown.flow !== null && countdown.flow === selectedFlow();
  $('start').disabled = !(state === 'ready' || (state === 'waiting' && !blocked));
}

// ---- the journey ----------------------------------------------------------------------------

// The attempt on screen: {journeyId, flow, token, ends (an AbortController for the
// SDK element's listeners), validating}. Forgotten by "Start over"; the server keeps the
// journey, and Start resumes it.
let attempt = null;
let retry = null; // what "Try again" does after a failure: start or validate again

const verb = (flow) => (flow === 'enrol' ? 'enrolled' : 'verified');

/**
 * A failed request of `step` (start, validate) for `flow`: its message and code, and when the
 * server said to come back.
 */
function showError(error, step, flow) {
  const code = error instanceof PageError ? error.code : 'internal_error';
  const message = error instanceof PageError ? error.message : TEXT.network;
  // A limit (429) or a busy service (503) says when to come back: count down, then offer the
  // same step again. Anything else that may pass on a second go is offered at once.
  const waitMs = error instanceof PageError ? error.retryAfterMs : null;
  const timed = (code === 'too_many_attempts' || code === 'try_again') && waitMs !== null;
  const again = code === 'network' || code === 'try_again' || code === 'sdk_missing';
  // Otherwise (a conflict, an account that cannot do this flow) the way on is Start over.
  const next = timed ? 'none' : again ? 'start_attempt' : 'restart';
  showResult({ text: message, kind: 'failed', next, reason: code });
  retry = step;
  if (timed && step === 'start') {
    // Start is the way back: it resumes the user's journey, whatever this page knew of it.
    setState('waiting');
    startCountdown(waitMs, {
      before: 'You can try again',
      now: 'You can try again now.',
      flow,
      done: () => {
        if (state === 'waiting') setState('ready');
      },
    });
  } else if (timed) {
    setState('error');
    startCountdown(waitMs, { before: 'You can try again', now: 'You can try again now.', done: () => show('again', true) });
  } else {
    setState('error');
  }
}

function showOutcome(outcome, flow) {
  retry = 'start';
  const left = outcome.attempts_left;
  const reason = outcome.reason ?? undefined;
  // iProov's reason as a sentence (core's table); the code stays beside it for support.
  const why = outcome.reason_text ?? outcome.reason ?? 'No reason was given.';
  if (outcome.passed) {
    showResult({ text: `Passed: ${verb(flow)}.`, kind: 'passed', attemptsLeft: left, next: outcome.next });
  } else if (outcome.state === 'outcome_unknown' || outcome.state === 'error') {
    showResult({ text: TEXT.inconclusive, kind: 'failed', attemptsLeft: left, next: outcome.next, reason: outcome.state });
  } else if (outcome.next === 'exhausted') {
    const text = outcome.state ? `Not passed. ${why} No attempts left for this check.` : 'No attempts left for this check.';
    showResult({ text, kind: 'failed', attemptsLeft: left, next: 'exhausted', reason });
  } else {
    showResult({ text: `Not passed. ${why}`, kind: 'failed', attemptsLeft: left, next: outcome.next, reason });
  }
  setState('result');
  if (outcome.next === 'exhausted' && typeof outcome.retry_after_ms === 'number') {
    startCountdown(outcome.retry_after_ms, {
      before: 'A new check can start',
      now: 'A new check can start now.',
    });
  }
}

// The SDK's script when this page loads it (GET config's sdk_script): a promise that settles
// once the script loaded (true) or failed to (false).
let sdkScript = null;

/** Adds iProov's Web SDK script (a classic script, which defines <iproov-me>). */
function loadSdk(src) {
  const script = document.createElement('script');
  sdkScript = new Promise((resolve) => {
    script.addEventListener('load', () => resolve(true), { once: true });
    script.addEventListener('error', () => resolve(false), { once: true });
  });
  script.src = src;
  document.head.append(script);
}

/** The SDK's element, once defined; false when it is not within SDK_WAIT_MS (after its
 * script loaded, when this page loads it; at once when that script failed to load). */
async function sdkLoaded() {
  if (customElements.get(SDK_ELEMENT)) return true;
  if (sdkScript) {
    let timer;
    const late = new Promise((resolve) => {
      timer = setTimeout(() => resolve(false), REQUEST_MS);
    });
    const loaded = await Promise.race([sdkScript, late]).finally(() => clearTimeout(timer));
    if (!loaded) return false;
  }
  let timer;
  const late = new Promise((resolve) => {
    timer = setTimeout(() => resolve(false), SDK_WAIT_MS);
  });
  const defined = customElements.whenDefined(SDK_ELEMENT).then(() => true);
  try {
    return await Promise.race([defined, late]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Asks for a token and runs the SDK with it. `journeyId`: the journey on screen (Try again);
 * without it (Start, after a reload, "Start over", a second tab) the server resumes the
 * user's current journey of the flow, with its open token and its count.
 */
async function startAttempt(journeyId) {
  if (state === 'starting') return;
  const flow = attempt && journeyId ? attempt.flow : selectedFlow();
  endCapture();
  show('result', false);
  stopCountdown();
  setState('starting', 'Loading the face check…');
  // A token is billable: none is asked for unless the SDK is there to use it.
  if (!(await sdkLoaded())) {
    showError(new PageError('sdk_missing', TEXT.sdk_missing), 'start', flow);
    return;
  }
  setState('starting', 'Asking for a token…');
  let started;
  try {
    started = await post('token', journeyId ? { flow, journey_id: journeyId } : { flow });
  } catch (error) {
    showError(error, 'start', flow);
    return;
  }
  attempt = { journeyId: started.journey_id, flow, token: started.token ?? null, ends: null, validating: false };
  if (!started.token) {
    showOutcome(started, flow); // the journey was already over
    return;
  }
  $('attempt').textContent = `${started.attempt} (${started.attempts_left} more after this one)`;
  show('capture', true);
  setState('capture');
  capture(started);
}

/** Removes the SDK's element and stops listening to it. */
function endCapture() {
  if (attempt && attempt.ends) attempt.ends.abort();
  $('sdk').replaceChildren();
}

function capture(started) {
  const current = attempt;
  current.ends = new AbortController();
  const listen = { signal: current.ends.signal };
  const url = new URL(started.sdk_url);
  const element = document.createElement(SDK_ELEMENT);
  element.setAttribute('token', started.token);
  // The bare host of the region's streaming URL (wss://eu.rp.secure.iproov.me/ws).
  element.setAttribute('base_url', `${url.protocol === 'ws:' ? 'http:' : 'https:'}//${url.host}`);

  // Passed or failed, the backend validates: the SDK's word is never the result.
  for (const name of ['passed', 'failed']) {
    element.addEventListener(name, () => {
      current.ends.abort();
      validate(current);
    }, listen);
  }
  // The ends without a result: nothing to validate. The backend ends the attempt (keeping
  // the event for support), so Try again gets a new token; how many attempts are left is
  // the server's word.
  for (const name of ['canceled', 'error', 'no_camera', 'permission_denied', 'unsupported']) {
    element.addEventListener(name, async (event) => {
      current.ends.abort();
      endCapture();
      const detail = event.detail ?? {};
      const feedback = typeof detail.feedback === 'string' && /^[a-z0-9_]{1,64}$/.test(detail.feedback) ? detail.feedback : undefined;
      let attemptsLeft;
      try {
        const ended = await post('exit', { journey_id: current.journeyId, token: current.token, event: name, feedback });
        attemptsLeft = ended.attempts_left;
      } catch {
        // Not recorded: the attempt's token lapses on the server by itself.
      }
      // The SDK's own sentence says which problem (its README: shown to the user as it is).
      const text = name === 'error' && typeof detail.reason === 'string' && detail.reason
        ? `The face check stopped: ${detail.reason.replace(/\.?$/, '.')} Try again.`
        : TEXT[name];
      showResult({
        text,
        kind: 'failed',
        attemptsLeft,
        // A browser that cannot run it will not run it on a second go either.
        next: name === 'unsupported' ? 'none' : attemptsLeft === 0 ? 'exhausted' : 'start_attempt',
        // The SDK's feedback code for support; the event's name when it gave none.
        reason: feedback ?? name,
      });
      retry = 'start';
      setState('result');
    }, listen);
  }
  for (const notice of ['permission', 'multiple_cameras']) {
    element.addEventListener(notice, () => setState('capture', TEXT[notice]), listen);
  }
  for (const [name, text] of Object.entries(PROGRESS)) {
    element.addEventListener(name, () => setState('capture', text), listen);
  }
  element.addEventListener('progress', (event) => {
    const { message, progress } = event.detail ?? {};
    if (typeof message === 'string') setState('capture', typeof progress === 'number' ? `${message} (${Math.round(progress)}%)` : message);
  }, listen);
  $('sdk').append(element);
}

async function validate(current) {
  // One validate per attempt, however often the SDK (or a double click) reports; the
  // backend sends one to iProov per token anyway.
  if (current.validating) return;
  current.validating = true;
  setState('validating', 'Checking the result…');
  try {
    const outcome = await post('validate', { journey_id: current.journeyId, token: current.token });
    endCapture();
    showOutcome(outcome, current.flow);
  } catch (error) {
    endCapture();
    current.validating = false; // a failed request sent nothing that counts: it may go again
    showError(error, 'validate', current.flow);
  }
}

function again() {
  if (retry === 'validate' && attempt) validate(attempt);
  else startAttempt(attempt ? attempt.journeyId : undefined);
}

function restart() {
  endCapture();
  stopCountdown();
  attempt = null;
  show('result', false);
  show('capture', false);
  setState('ready');
}

// ---- the emulator's stand-in for iProov's web SDK --------------------------------------------

/**
 * `<iproov-me token base_url>` against the emulator: the user's phone played by buttons. It
 * dispatches what iProov's Web SDK 5.x dispatches, as CustomEvents on the element with
 * `detail` {token, is_native_bridge, feedback?, reason?, passed?} (ready on connect;
 * started, streaming, streamed, progress, then passed or failed once the backend completed
 * the claim on the emulator; or canceled, error, no_camera, permission_denied, unsupported;
 * and the notices permission and multiple_cameras, after which the capture goes on). Defined
 * only when the backend points at the emulator.
 */
class EmulatorStandIn extends HTMLElement {
  connectedCallback() {
    this.busy = false;
    this.replaceChildren(this.panel());
    // The SDK is ready once it has a token and the camera; asynchronously, as the SDK's.
    setTimeout(() => this.isConnected && this.emit('ready'), 0);
  }

  disconnectedCallback() {
    this.busy = true; // a claim in flight finishes on the server; nothing is dispatched
  }

  panel() {
    const template = document.createElement('template');
    template.innerHTML = `
      <div class="stand-in">
        <p><strong>Emulator stand-in</strong> for iProov's web SDK: here a real page runs the
          camera capture. Choose how the capture ends.</p>
        <div class="buttons">
          <button type="button" data-end="passed">Capture passes</button>
          <button type="button" data-end="failed" class="secondary">Capture fails</button>
          <label>reason
            <select name="reason">
              <option>too_much_movement</option>
              <option>too_bright</option>
              <option>too_dark</option>
              <option>misaligned_face</option>
              <option>eyes_closed</option>
            </select>
          </label>
        </div>
        <p class="other">Or end it as the SDK can, without a result:</p>
        <div class="buttons">
          <button type="button" class="secondary" data-event="canceled">Cancel</button>
          <button type="button" class="secondary" data-event="error">Camera in use</button>
          <button type="button" class="secondary" data-event="no_camera">No camera</button>
          <button type="button" class="secondary" data-event="permission">Ask for the camera</button>
          <button type="button" class="secondary" data-event="multiple_cameras">Several cameras</button>
          <button type="button" class="secondary" data-event="permission_denied">Camera blocked</button>
          <button type="button" class="secondary" data-event="unsupported">Unsupported browser</button>
        </div>
      </div>`;
    const panel = template.content.firstElementChild;
    for (const button of panel.querySelectorAll('[data-end]')) {
      button.addEventListener('click', () => this.finish(button.dataset.end === 'passed'));
    }
    for (const button of panel.querySelectorAll('[data-event]')) {
      button.addEventListener('click', () => this.end(button.dataset.event));
    }
    return panel;
  }

  emit(type, extra = {}) {
    const detail = { token: this.getAttribute('token'), is_native_bridge: false, ...extra };
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }

  lock() {
    this.busy = true;
    for (const control of this.querySelectorAll('button, select')) control.disabled = true;
  }

  // The SDK's feedback codes and reasons (its README's tables) where it documents one; the
  // codes of canceled and no_camera are not documented, and these are stand-ins.
  end(type) {
    if (this.busy) return;
    const ends = {
      canceled: { feedback: 'user_canceled', reason: 'User canceled' },
      error: { feedback: 'error_camera_in_use', reason: 'The camera is already in use and cannot be accessed' },
      no_camera: { feedback: 'no_camera', reason: 'No video input was detected' },
      permission: { reason: 'Camera permission is unknown' },
      multiple_cameras: { devices: [{ deviceId: 'front', label: 'Front camera' }, { deviceId: 'usb', label: 'USB camera' }] },
      permission_denied: { feedback: 'error_camera_permission_denied', reason: 'The user denied our camera permission request' },
      unsupported: { feedback: 'error_not_supported', reason: "The device or integration isn't able to run the Web SDK" },
    };
    if (type !== 'permission' && type !== 'multiple_cameras') this.lock(); // the others end the SDK's run
    this.emit(type, ends[type]);
  }

  /** The capture: the backend completes the claim on the emulator as the phone would. */
  async finish(passed) {
    if (this.busy) return; // one capture per token, however often the button is clicked
    this.lock();
    const token = this.getAttribute('token');
    const reason = this.querySelector('select[name=reason]').value;
    this.emit('started');
    this.emit('streaming');
    try {
      await post('emulator/complete', passed ? { token, passed } : { token, passed, reason });
    } catch {
      if (this.isConnected) this.emit('error', { feedback: 'error_server', reason: "An error occurred when communicating with iProov's servers" });
      return;
    }
    if (!this.isConnected) return;
    this.emit('streamed');
    this.emit('progress', { progress: 100, message: 'Checking' });
    this.emit(passed ? 'passed' : 'failed', passed ? { passed } : { passed, feedback: reason, reason });
  }
}

// ---- start -------------------------------------------------------------------------------------

async function main() {
  let config = {};
  try {
    const response = await fetch(endpoint('config'), { credentials: 'same-origin', signal: AbortSignal.timeout(REQUEST_MS) });
    config = (await response.json()) ?? {};
  } catch {
    config = {};
  }
  // iProov's SDK from where the backend says, unless the page defined the element already;
  // else the stand-in, only against the emulator, and never over iProov's own element.
  if (typeof config.sdk_script === 'string' && !customElements.get(SDK_ELEMENT)) loadSdk(config.sdk_script);
  else if (config.stand_in === true && !customElements.get(SDK_ELEMENT)) customElements.define(SDK_ELEMENT, EmulatorStandIn);
  $('start-form').addEventListener('submit', (event) => {
    event.preventDefault();
    if (!$('start').disabled) startAttempt();
  });
  for (const radio of document.querySelectorAll('input[name=flow]')) radio.addEventListener('change', refreshStart);
  $('again').addEventListener('click', again);
  $('restart').addEventListener('click', restart);
  setState('ready');
}

main();
