// One process of the validate race (journeys.test.mjs): makes its own client and PostgreSQL
// pool, prints "ready" and waits for a line on stdin (so that every process starts its
// journeys at once), then finishes every journey it is given and prints {journeyId: outcome}.
// The same as Python's tests/journey_worker.py. Argument: JSON {baseUrl, postgres,
// journeys: [[id, token]], policy?, spool?, timeoutMs? (the client's, default 10 s)}.
import { once } from 'node:events';
import { api } from './impl.mjs';
import { PostgresStore } from '../index.mjs';
import { EU } from './emulator.mjs';

const args = JSON.parse(process.argv[2]);
const client = api.createClient({ baseUrl: args.baseUrl, ...EU, timeoutMs: args.timeoutMs ?? 10_000 });
const store = new PostgresStore(args.postgres, { spool: args.spool ?? false });
const service = new api.JourneyService(client, store, { policy: args.policy });
const seen = {};
try {
  process.stdout.write('ready\n');
  await once(process.stdin, 'data');
  process.stdin.destroy();
  for (const [journeyId, token] of args.journeys) {
    try {
      const result = await service.finish(journeyId, token, 'race');
      seen[journeyId] = result.passed ? 'passed' : result.state;
    } catch (error) {
      if (!(error instanceof api.InvalidStateError)) throw error;
      seen[journeyId] = 'in_progress';
    }
  }
} finally {
  await store.close();
}
process.stdout.write(`${JSON.stringify(seen)}\n`);
