// The walker of the shared HTTP-level suite (tests/web/http-suite.json, which Python's
// iproov_sansio.web walks too) over real HTTP: web.test.mjs walks it on Node's http,
// web-frameworks.test.mjs on Express, Fastify, NestJS, Next.js and Hono. The user comes from
// the test's stand-in for an application's auth: an X-Test-User header its resolveUser reads.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { api, REPO } from './impl.mjs';
import { EU } from './emulator.mjs';

export const SUITE = JSON.parse(readFileSync(join(REPO, 'tests/web/http-suite.json'), 'utf8'));
export const ORIGIN = SUITE.origin;
// Core's code table (code -> {status, message}), as Python's iproov_sansio.web.ERRORS.
export const CODES = new Map(Object.entries(api.BROWSER_ERRORS));

const substitute = (value, last) => {
  if (typeof value === 'string' && value.startsWith('$') && value.slice(1) in last) return last[value.slice(1)];
  if (Array.isArray(value)) return value.map((v) => substitute(v, last));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, substitute(v, last)]));
  }
  return value;
};

/** An answer as the suite checks it: status, headers, text, JSON (or undefined). */
export async function read(response) {
  const text = await response.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, headers: response.headers, text, json };
}

function check(step, answer, elapsedMs, last) {
  const what = `${JSON.stringify(step)}: ${answer.status} ${answer.text}`;
  if ('status' in step) assert.equal(answer.status, step.status, what);
  if ('error' in step) {
    const row = CODES.get(step.error);
    assert.ok(row, `${step.error} is a code of core's table`);
    assert.deepEqual(answer.json, { error: { code: step.error, message: row.message } }, what);
    assert.equal(answer.status, row.status, what);
  }
  if ('json' in step) assert.deepEqual(answer.json, substitute(step.json, last), what);
  if ('keys' in step) assert.deepEqual(Object.keys(answer.json).sort(), [...step.keys].sort(), what);
  for (const [name, value] of Object.entries(substitute(step.fields ?? {}, last))) {
    assert.deepEqual(answer.json?.[name], value, `${what}: ${name}`);
  }
  for (const [name, value] of Object.entries(step.headers ?? {})) assert.equal(answer.headers.get(name), value, `${what}: ${name}`);
  for (const [name, parts] of Object.entries(step.header_contains ?? {})) {
    for (const part of parts) assert.ok((answer.headers.get(name) ?? '').includes(part), `${what}: ${name} has ${part}`);
  }
  for (const part of step.contains ?? []) assert.ok(answer.text.includes(part), `${what}: has ${part}`);
  for (const part of step.absent ?? []) assert.ok(!answer.text.includes(part), `${what}: lacks ${part}`);
  if ('within_ms' in step) assert.ok(elapsedMs < step.within_ms, `${what}: took ${elapsedMs} ms`);
}

/** A handler's `logger` (console-like) that keeps each line it gets at info (the refusals),
 * and `logged()`, those lines so far (for `walk`); the fields of each are checked to name the
 * refusal's code and status as its message does. */
export function collectingLogger() {
  const lines = [];
  const info = (message, fields) => {
    const { 'iproov.web.code': code, 'http.response.status_code': status } = fields?.iproov ?? {};
    assert.ok(String(message).includes(`: refused ${code}`) && status < 500, `a refusal's line and fields: ${message} ${JSON.stringify(fields)}`);
    lines.push(String(message));
  };
  return { logger: { info, error() {} }, logged: () => lines.join('\n') };
}

/** A handler's `logger` that logs nothing. */
export const QUIET = { error() {} };

/** How many refusals of `code` the log text `text` has (the default log's line, `iproov
 * ROUTE: refused CODE`, or a test's log that writes the same). */
const refusals = (text, code) => text.split('\n').filter((line) => new RegExp(`: refused ${code}(?![a-z_])`).test(line)).length;

/**
 * Each refusal of `step` (an answer below 500 with core's code) logged at info with its code:
 * `logged()` gives the log text so far (a process's stdout, or a test's log), polled until it
 * has `before` plus one line per answer (the log of another process arrives when it does).
 */
async function refusalsLogged(step, logged, before, answers) {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const now = refusals(await logged(), step.error);
    if (now >= before + answers) {
      assert.equal(now - before, answers, `${JSON.stringify(step)}: one "refused ${step.error}" line per answer`);
      return;
    }
    assert.ok(Date.now() < deadline, `${JSON.stringify(step)}: ${now - before} of ${answers} refusals logged as "refused ${step.error}"`);
    await sleep(20);
  }
}

/**
 * One case of the shared suite against the site at `url` (its routes under `/iproov/`), with
 * the emulator `emu` behind it. `origin`: the page origin the browser's requests carry (the
 * suite's own by default; a site that allows only its own origin, as the README examples do,
 * walks with that one: every origin the suite refuses stays refused). `logged`: a function
 * giving the site's info log so far; each refusal (an error answer below 500) must be there
 * with its code. `signIn`: the headers that say who asks (the test's X-Test-User by default;
 * the README examples' stand-in login reads a `dev_user` cookie).
 */
export async function walk(emu, url, steps, { origin = ORIGIN, logged, signIn = (user) => ({ 'X-Test-User': user }) } = {}) {
  const users = { self: api.randomUserId(), other: api.randomUserId() };
  let last = {};
  for (const step of steps) {
    if (step.emulator === 'enrol' || step.emulator === 'suspend') {
      await emu.seedUser({ api_key: EU.apiKey, user_id: users.self, ...(step.emulator === 'suspend' ? { status: 'Suspended' } : {}) });
    } else if (step.emulator === 'complete') {
      await emu.complete(last.token, { passed: true });
    } else if (step.emulator === 'fault') {
      await emu.fault(step.fault);
    } else if (step.emulator === 'client') {
      assert.equal((await emu.control('GET', `/claims/${last.token}`)).client, step.is, JSON.stringify(step));
    } else if ('count' in step) {
      assert.equal(await emu.count(step.count), step.is, JSON.stringify(step));
    } else if ('total' in step) {
      assert.equal((await emu.control('GET', '/requests')).total, step.total, JSON.stringify(step));
    } else {
      const method = ['post', 'get', 'options'].find((m) => m in step);
      const headers = { Origin: origin, 'User-Agent': 'Mozilla/5.0 (suite)' };
      if (method === 'post') headers['Content-Type'] = 'application/json';
      const who = step.user ?? 'self';
      if (who !== 'none') Object.assign(headers, signIn(users[who]));
      for (const [name, value] of Object.entries(step.send ?? {})) {
        delete headers[name];
        if (value !== null) headers[name] = value;
      }
      let body = step.content;
      if (body === undefined && 'body' in step) {
        const json = substitute(step.body, last);
        if ('pad_bytes' in step) json.pad = 'x'.repeat(step.pad_bytes);
        body = JSON.stringify(json);
      }
      const send = async () =>
        read(await fetch(`${url}/iproov/${step[method]}`, { method: method.toUpperCase(), headers, body, signal: AbortSignal.timeout(30_000) }));
      const refusal = logged !== undefined && 'error' in step && CODES.get(step.error).status < 500;
      const before = refusal ? refusals(await logged(), step.error) : 0;
      const started = Date.now();
      let answers;
      if ('twice' in step) {
        let firstDone = false;
        const first = send().finally(() => (firstDone = true));
        // The first reached iProov, where the fault holds it: the second goes while it runs.
        while ((await emu.count(step.twice)) === 0) {
          assert.ok(!firstDone, `${JSON.stringify(step)}: the first answered before it reached ${step.twice}`);
          await sleep(10);
        }
        answers = await Promise.all([first, send()]);
        assert.deepEqual(answers[0].json, answers[1].json, 'both get the one stored outcome');
      } else {
        answers = [await send()];
      }
      for (const answer of answers) check(step, answer, Date.now() - started, last);
      if (refusal) await refusalsLogged(step, logged, before, answers.length);
      if (method === 'post' && step.post === 'token' && answers[0].status === 200 && 'token' in answers[0].json) last = answers[0].json;
    }
  }
}
