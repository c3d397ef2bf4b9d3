// A process of the journey limit tests (journey-limits.test.mjs): its own client and store
// (the same SQLite file or PostgreSQL database as the other process). Says "ready", waits for
// "go" on stdin (so that the processes start at once), runs, prints one JSON line, exits.
// Argument: JSON {kind, dir, postgres?, emulatorUrl, user, mode, n?}.
//   mode "start": one start of the user's verify journey, waiting for another process's token
//     request: {token, journeyId, began, ended} (Unix ms); a line "read" once it has first
//     read the store (so that a test holding the other's token request at the emulator knows
//     this start has met it).
//   mode "logins": `n` logins of the user (a start; with a token, the phone passes and the
//     journey is finished): {tokens: [the tokens it got], limited, limits: [limit names]}
//     (both processes may get the one token of an open attempt).
import { createInterface } from 'node:readline';
import { api } from './impl.mjs';
import { EU } from './emulator.mjs';
import { openStore } from './journey-support.mjs';

const args = JSON.parse(process.argv[2]);
const opened = openStore(args.kind, args.dir, args.postgres);
let told = false;
const store =
  args.mode === 'start'
    ? new Proxy(opened, {
        get(target, name) {
          const value = Reflect.get(target, name, target);
          if (typeof value !== 'function') return value;
          return (...callArgs) => {
            const result = value.apply(target, callArgs);
            if (!told && name === 'get') Promise.resolve(result).then(() => !told && ((told = true), process.stdout.write('read\n')));
            return result;
          };
        },
      })
    : opened;
// A call timeout above the emulator's longest hold (60 s), for a test that holds one.
const client = api.createClient({ baseUrl: `${args.emulatorUrl}/eu`, ...EU, timeoutMs: 90_000 });
const service = new api.JourneyService(client, store);
const complete = (token) =>
  fetch(`${args.emulatorUrl}/__emulator/claims/${token}/complete`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ passed: true }),
  }).then((r) => r.text());

process.stdout.write('ready\n');
const lines = createInterface({ input: process.stdin });
await new Promise((resolve) => lines.once('line', resolve));
lines.close();

let out;
if (args.mode === 'start') {
  const began = Date.now();
  const started = await service.start('verify', args.user, undefined, { waitMs: 20_000 });
  out = { token: started.token, journeyId: started.journeyId, began, ended: Date.now() };
} else {
  out = { tokens: [], limited: 0, limits: [] };
  for (let i = 0; i < args.n; i++) {
    try {
      const started = await service.start('verify', args.user, undefined, { waitMs: 20_000 });
      if (started.token === undefined) continue;
      out.tokens.push(started.token);
      await complete(started.token);
      await service.finish(started.journeyId, started.token, 'limits-child', { waitMs: 20_000 });
    } catch (error) {
      if (!(error instanceof api.LimitExceededError)) throw error;
      out.limited += 1;
      if (!out.limits.includes(error.limit)) out.limits.push(error.limit);
    }
  }
}
process.stdout.write(`${JSON.stringify(out)}\n`);
await store.close();
