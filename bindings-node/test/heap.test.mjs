// No credential sits in the JS heap: a client (after users calls: its managed OAuth token), a
// Config and a TokenManager are kept alive in a child process, everything else collected, and
// its heap snapshot holds neither the API secret, nor the OAuth password, nor the access token
// iProov issued, in clear or JSON-escaped (issue 13: no clear config JSON on JS objects, no
// secret-bearing cache, no managed token in host-held state). Against the emulator. The same
// scan on a child that keeps the credentials as given finds them (the probe can fail).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startEmulator } from './emulator.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const KEY = `heapprobekey${'0'.repeat(28)}`;
const SECRET = `HeapSecret-${randomBytes(8).toString('hex')}`;
const USERNAME = 'heap-probe-oauth';
const PASSWORD = `HeapPassword-${randomBytes(8).toString('hex')}`;
const USER = '4b1c2d3e-5f60-4a7b-8c9d-0e1f2a3b4c5d';

let emu;
before(async () => {
  emu = await startEmulator({
    config: { service_providers: [{ name: 'heap', region: 'eu', api_key: KEY, secret: SECRET, oauth_username: USERNAME, oauth_password: PASSWORD }] },
  });
  await emu.seedUser({ api_key: KEY, user_id: USER, status: 'Active' });
});
after(async () => {
  await emu?.stop();
});

/** Runs heap-child.mjs (`plant`: keeping the credentials as given alive) and gives its heap
 * snapshot's text. */
async function childHeap(dir, plant) {
  const snapshot = join(dir, `child-${plant ? 'planted' : 'clean'}.heapsnapshot`);
  const probe = JSON.stringify({ baseUrl: emu.region('eu'), apiKey: KEY, secret: SECRET, username: USERNAME, password: PASSWORD, userId: USER });
  const env = { ...process.env, HEAP_PROBE: probe, HEAP_SNAPSHOT: snapshot };
  if (plant) env.HEAP_PLANT = '1';
  else delete env.HEAP_PLANT;
  const out = await new Promise((resolve, reject) => {
    execFile(process.execPath, ['--expose-gc', join(here, 'heap-child.mjs')], { env, timeout: 60_000 }, (error, stdout, stderr) =>
      error ? reject(new Error(`${error.message}\n${stderr}`)) : resolve(stdout),
    );
  });
  assert.match(out, plant ? /kept 4 objects alive/ : /kept 3 objects alive/);
  return readFileSync(snapshot, 'utf8');
}

test('the JS heap holds no credential while a client, a Config and a TokenManager live', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'iproov-heap-'));
  try {
    const heap = await childHeap(dir, false); // the first test of the file: the emulator's first token
    const tokens = (await emu.control('GET', '/state')).access_tokens.map((t) => t.access_token);
    assert.equal(tokens.length, 1, 'the driver fetched one managed token');
    assert.ok(heap.includes(USER), 'the snapshot holds the strings the child kept (the probe can see)');
    for (const [what, value] of [['secret', SECRET], ['password', PASSWORD], ['access token', tokens[0]]]) {
      assert.ok(!heap.includes(value), `the JS heap holds the ${what}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the probe sees a leak: the same scan finds the credentials a child keeps as given', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'iproov-heap-'));
  try {
    const heap = await childHeap(dir, true);
    for (const [what, value] of [['secret', SECRET], ['password', PASSWORD]]) {
      assert.ok(heap.includes(value), `the scan missed the ${what} the child kept alive`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
