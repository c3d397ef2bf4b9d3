// iProov's rate limit through createJourneyHandler on Node's http (issue 22 items 2 and 5): while
// the emulator's rate_limited preset answers every token request 429 with Retry-After: 30, each
// browser's token request gets one answer, 503 try_again with Retry-After: 30 at once: the
// service asks iProov once (the emulator counts one token request per browser request) and
// sleeps through nothing (a browser here gives up after 20 s, less than the 30 s a retry would
// wait). Meanwhile other users' validates are answered. Over real HTTP, the real emulator and
// SQLite. No timing is asserted (issue 26): bench/rate-limit.mjs measures the latency.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { api } from './impl.mjs';
import { SQLiteStore } from '../index.mjs';
import { startEmulator, EU } from './emulator.mjs';

// Node's adapter (the edge package's run, IPROOV_JS_IMPL, tests its handler through it too).
const { toNodeHandler } = createRequire(import.meta.url)('../node-http.cjs');

const ORIGIN = 'https://app.example.test';
const BROWSERS = 24;
/** Longer than any answer takes here, shorter than the Retry-After a retry would sleep through. */
const GIVE_UP_MS = 20_000;

let emu;
const scratch = mkdtempSync(join(tmpdir(), 'iproov-web-rate-limit-'));
before(async () => {
  emu = await startEmulator();
});
after(async () => {
  await emu?.stop();
  rmSync(scratch, { recursive: true, force: true });
});

async function post(url, path, body, user) {
  const response = await fetch(`${url}/iproov/${path}`, {
    method: 'POST',
    headers: { Origin: ORIGIN, 'Content-Type': 'application/json', 'User-Agent': 'Mozilla/5.0 (node test)', 'X-Test-User': user },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(GIVE_UP_MS),
  });
  return { status: response.status, retryAfter: response.headers.get('retry-after'), json: await response.json() };
}

test('a token request under iProov\'s rate limit is answered 503 with Retry-After at once; validates go on', async (t) => {
  await emu.reset();
  const store = new SQLiteStore(join(scratch, 'journeys.sqlite3'));
  t.after(() => store.close());
  const client = api.createClient({ baseUrl: emu.region('eu'), ...EU, timeoutMs: 10_000 });
  const handler = api.createJourneyHandler(new api.JourneyService(client, store), {
    basePath: '/iproov',
    resolveUser: (request) => request.headers.get('x-test-user'),
    allowedOrigins: [ORIGIN],
    page: false,
    logger: { error() {} },
  });
  const server = createServer(toNodeHandler(handler));
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise((resolve) => (server.closeAllConnections(), server.close(resolve))));
  const url = `http://127.0.0.1:${server.address().port}`;

  // Other users, whose captures are done before the rate limit starts.
  const others = [];
  for (let i = 0; i < 4; i += 1) {
    const who = api.randomUserId();
    const started = await post(url, 'token', { flow: 'enrol' }, who);
    assert.equal(started.status, 200, JSON.stringify(started.json));
    await emu.complete(started.json.token, { passed: true });
    others.push([who, started.json]);
  }
  await emu.control('PUT', '/preset', { name: 'rate_limited', retry_after_secs: 30 });
  await emu.control('DELETE', '/requests');

  const [answers, validated] = await Promise.all([
    Promise.all(Array.from({ length: BROWSERS }, () => post(url, 'token', { flow: 'enrol' }, api.randomUserId()))),
    Promise.all(others.map(([who, started]) => post(url, 'validate', { journey_id: started.journey_id, token: started.token }, who))),
  ]);

  const { message } = api.BROWSER_ERRORS.try_again;
  for (const answer of answers) {
    assert.equal(answer.status, 503, JSON.stringify(answer.json));
    assert.deepEqual(answer.json, { error: { code: 'try_again', message } });
    assert.equal(answer.retryAfter, '30', "iProov's Retry-After reaches the browser");
  }
  // One iProov token request per browser request: answered at once, never retried.
  assert.equal(await emu.count('/claim/enrol/token'), BROWSERS);
  // The other users' validates were answered meanwhile (validate is not rate limited).
  for (const done of validated) assert.deepEqual([done.status, done.json.passed], [200, true], JSON.stringify(done.json));
  assert.equal(await emu.count('/claim/enrol/validate'), others.length);
});
