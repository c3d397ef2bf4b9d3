// The Node side of bench/rate-limit.mjs: createJourneyHandler (the Node package's) on Node's
// http through toNodeHandler, over JourneyService (its fetch client, the journeys in a
// better-sqlite3 file of a temporary directory), one process, as an app would run it. The user
// is the request's X-User header (the bench's stand-in for an application's auth). Prints
// `listening on http://127.0.0.1:PORT` once it serves.
//
//   node bench/rate-limit-server.mjs --iproov http://127.0.0.1:PORT/eu
import { createServer } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient, createJourneyHandler, JourneyService, SQLiteStore, toNodeHandler } from '../bindings-node/index.mjs';

const ORIGIN = 'https://app.example.test';
const EU = { apiKey: 'eudefaultkey0000000000000000000000000000', secret: 'eudefaultsecret0000000000000000000000000' };

const at = process.argv.indexOf('--iproov');
if (at < 0 || !process.argv[at + 1]) {
  console.error('usage: node bench/rate-limit-server.mjs --iproov http://127.0.0.1:PORT/eu');
  process.exit(2);
}
const dir = mkdtempSync(join(tmpdir(), 'iproov-rate-limit-'));
const service = new JourneyService(createClient({ baseUrl: process.argv[at + 1], ...EU }), new SQLiteStore(join(dir, 'journeys.sqlite3')));
const handler = createJourneyHandler(service, {
  basePath: '/iproov',
  resolveUser: (request) => request.headers.get('x-user'),
  allowedOrigins: [ORIGIN],
  page: false,
  log: () => {},
});
const server = createServer(toNodeHandler(handler));
server.listen(0, '127.0.0.1', () => console.log(`listening on http://127.0.0.1:${server.address().port}`));
const stop = () => {
  server.closeAllConnections();
  server.close(() => (rmSync(dir, { recursive: true, force: true }), process.exit(0)));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
