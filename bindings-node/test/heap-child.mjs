// Child of heap.test.mjs (run with --expose-gc): makes a client, a Config and a TokenManager
// from the credentials in HEAP_PROBE (JSON), runs users calls (the driver fetches a managed
// token), drops every reference to the credentials it was given, collects garbage and writes
// a heap snapshot to HEAP_SNAPSHOT. The parent scans it. The objects stay alive meanwhile
// (with HEAP_PLANT, the credentials as given too: the parent's scan must then find them).
import { writeHeapSnapshot } from 'node:v8';
import { api } from './impl.mjs';

// In a function of its own: a suspended top-level frame would keep its locals (the given
// credentials) alive, which is the test's doing, not the package's.
async function make() {
  const given = JSON.parse(process.env.HEAP_PROBE);
  delete process.env.HEAP_PROBE;
  const options = { baseUrl: given.baseUrl, apiKey: given.apiKey, secret: given.secret, oauth: { username: given.username, password: given.password } };
  const client = api.createClient(options);
  for (let i = 0; i < 3; i++) await client.getUser({ userId: given.userId });
  const config = new api.Config(options);
  const manager = new api.TokenManager(config);
  manager.prepare('get_user', { user_id: given.userId }, Date.now());
  // HEAP_PLANT: the credentials as given kept alive too, a leak planted for the parent's scan.
  return process.env.HEAP_PLANT ? [client, config, manager, given] : [client, config, manager];
}
const kept = await make();
await new Promise((r) => setTimeout(r, 50));
for (let i = 0; i < 4; i++) {
  globalThis.gc();
  await new Promise((r) => setTimeout(r, 10));
}
writeHeapSnapshot(process.env.HEAP_SNAPSHOT);
console.log(`kept ${kept.length} objects alive`);
