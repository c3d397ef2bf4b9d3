// A Python and a Node journey service sharing one PostgreSQL database (core's schema, version
// 2): a journey started by one is finished by the other, each sees the other's records and
// audit, a second submit from the other language gets the stored outcome, and either creates
// the schema the other then uses. Run by scripts/test after the Python suite (it needs the
// Python package installed): node --test bindings-node/test/journeys-python.mjs, with
// IPROOV_TEST_PYTHON (an interpreter with iproov_sansio and psycopg), IPROOV_TEST_POSTGRES
// (libpq conninfo, for Python) and IPROOV_TEST_POSTGRES_URL (the same, for node-postgres).
import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { api } from './impl.mjs';
import { PostgresStore } from '../index.mjs';
import { startEmulator, EU } from './emulator.mjs';

const { IPROOV_TEST_PYTHON: PYTHON, IPROOV_TEST_POSTGRES: CONNINFO, IPROOV_TEST_POSTGRES_URL: URL_ } = process.env;
if (!PYTHON || !CONNINFO || !URL_) {
  throw new Error('set IPROOV_TEST_PYTHON, IPROOV_TEST_POSTGRES and IPROOV_TEST_POSTGRES_URL (scripts/test does)');
}
const { Client: PgClient } = createRequire(import.meta.url)('pg');

// The Python side: one JourneyService call on PostgresStore, its answer as JSON on stdout.
const PY = `
import json, sys
import iproov_sansio as ip
from iproov_sansio.httpx import Client
from iproov_sansio.journeys import JourneyService
from iproov_sansio.stores import PostgresStore

args = json.loads(sys.argv[1])
with Client(base_url=args["base_url"], api_key=args["api_key"], secret=args["secret"]) as client:
    service = JourneyService(client, PostgresStore(args["conninfo"]), spool=False)
    if args["action"] == "start":
        out = service.start("verify", args["user_id"])
    elif args["action"] == "finish":
        out = service.finish(args["journey_id"], args["token"], "python")
    else:
        out = service.history(args["user_id"])
print(json.dumps(out))
`;

let emu;
before(async () => {
  emu = await startEmulator();
});
after(async () => {
  await emu?.stop();
});
beforeEach(async () => {
  await emu.reset();
  const db = new PgClient({ connectionString: URL_ });
  await db.connect();
  try {
    await db.query('DROP TABLE IF EXISTS iproov_journeys, iproov_audit, iproov_users, iproov_schema');
  } finally {
    await db.end();
  }
});

/** Runs one Python service call; resolves its JSON answer. Bounded at 60 s. */
function python(action, fields) {
  const args = JSON.stringify({ action, base_url: `${emu.region('eu')}/api/v2`, api_key: EU.apiKey, secret: EU.secret, conninfo: CONNINFO, ...fields });
  return new Promise((resolve, reject) => {
    execFile(PYTHON, ['-c', PY, args], { timeout: 60_000 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`python ${action}: ${error.message}\n${stderr}`));
      else resolve(JSON.parse(stdout));
    });
  });
}

async function nodeService(run) {
  const store = new PostgresStore(URL_, { spool: false });
  try {
    return await run(new api.JourneyService(api.createClient({ baseUrl: emu.region('eu'), ...EU, timeoutMs: 5_000 }), store));
  } finally {
    await store.close();
  }
}

async function enrolled() {
  const userId = api.randomUserId();
  await emu.seedUser({ api_key: EU.apiKey, user_id: userId });
  return userId;
}

test('Python starts (and creates the schema), Node finishes, Python reads it all', async () => {
  const user = await enrolled();
  const started = await python('start', { user_id: user });
  assert.equal(started.attempt, 1);
  await emu.complete(started.token, { passed: true });
  const finished = await nodeService((svc) => svc.finish(started.journey_id, started.token, 'node'));
  assert.equal(finished.passed, true);
  assert.equal(finished.next, 'done');
  // A second submit from Python gets the stored outcome: no second validate.
  const again = await python('finish', { journey_id: started.journey_id, token: started.token });
  assert.equal(again.passed, true);
  assert.equal(await emu.count('/claim/verify/validate'), 1);
  const [history] = await python('history', { user_id: user });
  assert.equal(history.journey.attempts[0].state, 'passed');
  assert.deepEqual(
    history.audit.map((r) => [r.operation, r.outcome]),
    [['verify_token', 'token_issued'], ['verify_validate', 'passed']],
    "Python's token record and Node's validate record, in order",
  );
});

test('Node starts (and creates the schema), Python finishes, Node reads it all', async () => {
  const user = await enrolled();
  const started = await nodeService((svc) => svc.start('verify', user));
  await emu.complete(started.token, { passed: false, reason: 'too_much_movement' });
  const finished = await python('finish', { journey_id: started.journeyId, token: started.token });
  assert.equal(finished.passed, false);
  assert.equal(finished.reason, 'too_much_movement');
  assert.equal(finished.next, 'start_attempt');
  const { again, history } = await nodeService(async (svc) => ({
    again: await svc.finish(started.journeyId, started.token, 'node'),
    history: await svc.history(user),
  }));
  assert.equal(again.passed, false, 'the stored outcome');
  assert.equal(await emu.count('/claim/verify/validate'), 1);
  assert.equal(history.length, 1);
  assert.equal(history[0].journey.attempts[0].state, 'failed');
  assert.deepEqual(history[0].audit.map((r) => r.outcome), ['token_issued', 'failed']);
});
