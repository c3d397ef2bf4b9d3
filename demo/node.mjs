// The demo's Node host: the journey of demo/journey.mjs over the Node package (the napi addon,
// requests sent with Node's fetch). Prints the transcript and writes core's audit records as
// JSON lines to $IPROOV_DEMO_DIR/node-audit.jsonl, which demo/audit.py stores in SQLite.
//   node demo/node.mjs          (scripts/demo sets the IPROOV_* variables)
import { writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
// In an application: import * as api from 'iproov-sansio';
import * as api from '../bindings-node/index.mjs';
import { runJourney } from './journey.mjs';

const dir = process.env.IPROOV_DEMO_DIR || 'target/demo';
const records = [];
await runJourney({
  api,
  packageName: 'iproov-sansio',
  title: `Node ${process.version} (fetch)`,
  env: process.env,
  print: (line) => console.log(line),
  record: (r) => records.push(r),
});
mkdirSync(dir, { recursive: true });
writeFileSync(join(dir, 'node-audit.jsonl'), records.map((r) => `${JSON.stringify(r)}\n`).join(''));
console.log(`    ${records.length} audit records → ${join(dir, 'node-audit.jsonl')}`);
