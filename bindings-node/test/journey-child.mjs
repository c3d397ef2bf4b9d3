// A process of the journey fault tests (journey-faults.test.mjs). Argument: JSON {kind, dir,
// postgres?, baseUrl, mode, journeyId?, token?, skewMs?}.
//   mode "finish": finishes the journey; the store hangs at the outcome's write (after the
//     validate's answer reached this process and went to the spool), saying "answered" on
//     stdout; the test kills the process there.
//   mode "replay": a new service over the same store (its clock `skewMs` ahead, so that the
//     spool's entries are due) replays the spool when it is made; says "replayed" once that
//     and any replay after it are done, and exits.
import { api } from './impl.mjs';
import { EU } from './emulator.mjs';
import { openStore } from './journey-support.mjs';

const args = JSON.parse(process.argv[2]);
const store = openStore(args.kind, args.dir, args.postgres);
const client = api.createClient({ baseUrl: args.baseUrl, ...EU, timeoutMs: 5_000 });
const skew = args.skewMs ?? 0;

if (args.mode === 'finish') {
  const hanging = { spool: store.spool };
  hanging.update = (table, record, expected) => {
    const settled = table === 'journeys' && record.attempts.some((a) => a.state === 'passed' || a.state === 'failed');
    if (!settled) return store.update(table, record, expected);
    process.stdout.write('answered\n');
    return new Promise(() => {}); // killed here, before the store has the outcome
  };
  for (const method of ['get', 'insert', 'appendAudit', 'journeysOf', 'auditOf', 'deleteExpired', 'forget']) hanging[method] = (...a) => store[method](...a);
  const service = new api.JourneyService(client, hanging);
  await service.finish(args.journeyId, args.token, 'killed-child');
  process.stdout.write('finished: the store was never to take the outcome\n');
  process.exit(3);
} else {
  const service = new api.JourneyService(client, store, { clock: () => Date.now() + skew });
  await service.replaySpool(); // after the replay the service began when it was made
  process.stdout.write('replayed\n');
  await store.close();
}
