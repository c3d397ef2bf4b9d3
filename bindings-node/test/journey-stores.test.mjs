// The Node package's journey stores and spool file on their own, against the emulator where a
// journey is needed: core's schema opened as core says (a version 1 store migrated to 2 with
// its journeys kept and finished; the users' records), deleteExpired's count, and the spool
// file under a racing replayer (no line lost) and after a replayer that died.
import { test, describe, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { api } from './impl.mjs';
import { FileSpool, PostgresStore } from '../index.mjs';
import { startEmulator, EU } from './emulator.mjs';
import { KINDS, NO_POSTGRES, POSTGRES, openStore, privateDatabase } from './journey-support.mjs';

let emu;
let pg;
const scratch = mkdtempSync(join(tmpdir(), 'iproov-journey-stores-'));
before(async () => {
  emu = await startEmulator();
  if (POSTGRES) pg = await privateDatabase('iproov_js_journey_stores');
});
after(async () => {
  await emu?.stop();
  rmSync(scratch, { recursive: true, force: true });
});
beforeEach(async () => {
  await emu.reset();
});

const client = () => api.createClient({ baseUrl: emu.region('eu'), ...EU, timeoutMs: 5_000 });

/** Runs `sql` statements on the store's database directly (schema surgery). */
async function direct(kind, store, statements) {
  if (kind === 'sqlite') {
    const Database = createRequire(import.meta.url)('better-sqlite3');
    const db = new Database(store.path);
    try {
      for (const sql of statements) db.prepare(sql).run();
    } finally {
      db.close();
    }
    return;
  }
  const { Client } = createRequire(import.meta.url)('pg');
  const db = new Client({ connectionString: pg });
  await db.connect();
  try {
    for (const sql of statements) await db.query(sql);
  } finally {
    await db.end();
  }
}

for (const kind of KINDS) {
  describe(`core's schema on ${kind}`, { skip: kind === 'postgres' ? NO_POSTGRES : false }, () => {
    test('a version 1 store is migrated to 2, its journeys kept and finished', async () => {
      const dir = mkdtempSync(join(scratch, 'v1-'));
      await direct(kind, { path: join(dir, 'journeys.sqlite3') }, kind === 'postgres' ? ['DROP TABLE IF EXISTS iproov_journeys, iproov_audit, iproov_users, iproov_schema'] : []);
      let store = openStore(kind, dir, pg);
      const user = api.randomUserId();
      await emu.seedUser({ api_key: EU.apiKey, user_id: user });
      const started = await new api.JourneyService(client(), store).start('verify', user);
      // Made a version 1 store: no users table, a journey record without schema 2's window.
      const record = await store.get('journeys', started.journeyId);
      delete record.window_ms;
      const json = JSON.stringify(record).replaceAll("'", "''");
      const cast = kind === 'postgres' ? '::jsonb' : '';
      await store.close();
      await direct(kind, { path: store.path }, [
        'DROP TABLE iproov_users',
        'DELETE FROM iproov_schema',
        'INSERT INTO iproov_schema (version) VALUES (1)',
        `UPDATE iproov_journeys SET record = '${json}'${cast} WHERE id = '${started.journeyId}'`,
      ]);
      store = openStore(kind, dir, pg);
      try {
        const service = new api.JourneyService(client(), store);
        await emu.complete(started.token, { passed: true });
        const finished = await service.finish(started.journeyId, started.token, 'node-test');
        assert.deepEqual([finished.passed, finished.next], [true, 'done']);
        const [{ journey }] = await service.history(user);
        assert.equal(journey.attempts[0].state, 'passed');
        assert.equal(journey.window_ms, undefined, 'a schema 1 journey keeps no window');
        // The users table exists again: a new start of this user is counted there.
        await service.start('verify', user);
        assert.equal((await store.get('users', user)).verify.journey_id !== undefined, true);
      } finally {
        await store.close();
      }
      await direct(kind, { path: store.path }, ['INSERT INTO iproov_schema (version) VALUES (0)']);
      const reopened = openStore(kind, dir, pg);
      assert.equal((await reopened.get('journeys', 'none')), null, 'max(version) is 2: nothing to do');
      await reopened.close();
    });

    test("deleteExpired counts the journeys it deleted and drops users' records with them", async () => {
      const dir = mkdtempSync(join(scratch, 'expiry-'));
      if (kind === 'postgres') await direct(kind, {}, ['DROP TABLE IF EXISTS iproov_journeys, iproov_audit, iproov_users, iproov_schema']);
      const store = openStore(kind, dir, pg);
      try {
        let skew = 0;
        const service = new api.JourneyService(client(), store, { policy: { retentionMs: 60_000 }, clock: () => Date.now() + skew });
        const users = [api.randomUserId(), api.randomUserId()];
        for (const user of users) {
          await emu.seedUser({ api_key: EU.apiKey, user_id: user });
          await service.start('verify', user);
        }
        assert.equal(await service.deleteExpired(), 0);
        skew = 60_001;
        assert.equal(await service.deleteExpired(), 2);
        for (const user of users) {
          assert.deepEqual(await service.history(user), []);
          assert.equal(await store.get('users', user), null);
        }
      } finally {
        await store.close();
      }
    });
  });
}

describe('the spool file', () => {
  test('appends racing replays lose no line', async () => {
    const path = join(scratch, 'race', 'spool.jsonl');
    const spool = new FileSpool(path);
    const n = 3000;
    // Another process appends lines one by one (durably) while this one takes the file again
    // and again, as replayers do.
    const script = `import { FileSpool } from ${JSON.stringify(pathToFileURL(fileURLToPath(new URL('../index.mjs', import.meta.url))).href)};
      const spool = new FileSpool(${JSON.stringify(path)});
      for (let i = 0; i < ${n}; i++) spool.append([JSON.stringify({ line: i })], i % 10 === 0);`;
    const writer = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: 'inherit' });
    const exited = new Promise((resolve) => writer.once('exit', resolve));
    const seen = new Set();
    let takes = 0;
    let running = true;
    exited.then(() => (running = false));
    const takeAll = () => {
      const taken = spool.take();
      if (taken === null) return;
      takes += 1;
      for (const line of taken.text.split('\n').filter(Boolean)) seen.add(JSON.parse(line).line);
      taken.release();
    };
    while (running) {
      takeAll();
      await new Promise((resolve) => setImmediate(resolve));
    }
    assert.equal(await exited, 0);
    takeAll();
    assert.ok(takes > 1, `the file was taken ${takes} times while lines were appended`);
    assert.equal(seen.size, n, `every line was read (${n - seen.size} lost)`);
    assert.deepEqual(readdirSync(join(scratch, 'race')), [], 'no file left behind');
  });

  test("a replayer that died leaves its file to the next one", async () => {
    const dir = join(scratch, 'orphan');
    const spool = new FileSpool(join(dir, 'spool.jsonl'));
    const dead = spawn(process.execPath, ['-e', '']);
    await new Promise((resolve) => dead.once('exit', resolve));
    writeFileSync(join(dir, `spool.jsonl.${dead.pid}.0a1b2c.replay`), '{"line":"orphaned"}\n');
    spool.append(['{"line":"fresh"}'], true);
    assert.equal(spool.hasLines(), true);
    const taken = spool.take();
    assert.deepEqual(taken.text.split('\n').filter(Boolean).sort(), ['{"line":"fresh"}', '{"line":"orphaned"}']);
    // Lines put back before the release stay for the next replay.
    spool.append(['{"line":"kept"}'], true);
    taken.release();
    assert.equal(readFileSync(spool.path, 'utf8'), '{"line":"kept"}\n');
    assert.deepEqual(readdirSync(dir), ['spool.jsonl']);
  });
});

test("an SQLite file takes core's connection settings (WAL: the file's own, seen from another connection)", async () => {
  const dir = mkdtempSync(join(scratch, 'wal-'));
  const store = openStore('sqlite', dir);
  try {
    const Database = createRequire(import.meta.url)('better-sqlite3');
    const other = new Database(store.path, { readonly: true });
    try {
      assert.equal(other.pragma('journal_mode', { simple: true }), 'wal');
    } finally {
      other.close();
    }
  } finally {
    await store.close();
  }
});

test("a PostgreSQL host that never answers fails the store's call (core's connect timeout), never hangs it", { timeout: 60_000 }, async (t) => {
  // A listener that takes the connection and never says a word: pg's own pool would wait for
  // the server's first message forever.
  const held = [];
  const silent = createServer((socket) => held.push(socket));
  await new Promise((resolve) => silent.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    for (const socket of held) socket.destroy();
    silent.close();
  });
  const store = new PostgresStore(`postgresql://nobody@127.0.0.1:${silent.address().port}/none`, { spool: false });
  try {
    await assert.rejects(store.get('journeys', 'any'), /timeout/i);
    assert.ok(held.length >= 1, 'the store connected to the silent host');
  } finally {
    await store.close();
  }
});
