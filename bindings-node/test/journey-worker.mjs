// One process of the validate race (journeys.test.mjs): finishes every journey it is given
// through its own client and PostgreSQL pool, and prints {journeyId: outcome}. The same as
// Python's tests/journey_worker.py. Argument: JSON {baseUrl, postgres, journeys: [[id, token]],
// policy?, spool?}.
import { api } from './impl.mjs';
import { PostgresStore } from '../index.mjs';
import { EU } from './emulator.mjs';

const args = JSON.parse(process.argv[2]);
const client = api.createClient({ baseUrl: args.baseUrl, ...EU, timeoutMs: 10_000 });
const store = new PostgresStore(args.postgres, { spool: args.spool ?? false });
const service = new api.JourneyService(client, store, { policy: args.policy });
const seen = {};
try {
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
