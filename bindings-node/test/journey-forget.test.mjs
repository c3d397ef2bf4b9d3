// Erasing one user's data (core's forget, GDPR art. 17) on real stores (better-sqlite3 files;
// PostgreSQL from IPROOV_TEST_POSTGRES_URL, a database of this file's own) against the
// emulator: at iProov first when asked, then the store; the erased user's journey ids answer
// as unknown; another user keeps theirs; without the users API nothing is touched.
import { test, describe, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { api } from './impl.mjs';
import { startEmulator, EU } from './emulator.mjs';
import { KINDS, NO_POSTGRES, POSTGRES, openStore, privateDatabase, thrown } from './journey-support.mjs';

let emu;
let pg;
const scratch = mkdtempSync(join(tmpdir(), 'iproov-journey-forget-'));
before(async () => {
  emu = await startEmulator();
  if (POSTGRES) pg = await privateDatabase('iproov_js_journey_forget');
});
after(async () => {
  await emu?.stop();
  rmSync(scratch, { recursive: true, force: true });
});
beforeEach(async () => {
  await emu.reset();
});

async function enrolled() {
  const userId = api.randomUserId();
  await emu.seedUser({ api_key: EU.apiKey, user_id: userId });
  return userId;
}

for (const kind of KINDS) {
  describe(`forget on ${kind}`, { skip: kind === 'postgres' ? NO_POSTGRES : false }, () => {
    test('erases the user at iProov, then in the store; their journey ids are unknown after', async () => {
      const store = openStore(kind, mkdtempSync(join(scratch, kind)), pg);
      const client = api.createClient({ baseUrl: emu.region('eu'), ...EU });
      const service = new api.JourneyService(client, store);
      const [user, other] = [await enrolled(), await enrolled()];
      for (const who of [user, other]) {
        const started = await service.start('verify', who);
        await emu.complete(started.token, { passed: true });
        await service.finish(started.journeyId, started.token, 'forget-test');
      }
      const [journey] = await service.history(user);
      assert.deepEqual(await service.forget(user, { atIproov: true }), { journeys: 1, auditRecords: 2, atIproov: 'deleted' });
      assert.deepEqual(await service.history(user), []);
      assert.equal((await service.history(other)).length, 1, 'another user keeps theirs');
      const gone = await thrown(service.start('verify', user, journey.journey.id));
      assert.ok(gone instanceof api.InvalidStateError && gone.message === 'no such journey', String(gone));
      assert.equal((await service.forget(user, { atIproov: true })).atIproov, 'absent');
      await store.close?.();
    });
  });
}

test('forgetting at iProov needs the users API, and touches nothing without it', async () => {
  const store = openStore('sqlite', mkdtempSync(join(scratch, 'no-oauth')));
  const client = api.createClient({ baseUrl: emu.region('eu'), apiKey: EU.apiKey, secret: EU.secret });
  const service = new api.JourneyService(client, store);
  const user = await enrolled();
  await service.start('verify', user);
  const refused = await thrown(service.forget(user, { atIproov: true }));
  assert.ok(refused instanceof api.InvalidInputError && refused.field === 'at_iproov', String(refused));
  assert.equal((await service.history(user)).length, 1);
  assert.deepEqual(await service.forget(user), { journeys: 1, auditRecords: 1, atIproov: 'not_asked' });
  store.close?.();
});
