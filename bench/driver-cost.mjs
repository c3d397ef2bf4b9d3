// What one call costs inside the Node package's native backend, without any network (a
// command, not a test): `node bench/driver-cost.mjs` after the napi build. Times each native
// step of an enrol_token call through core's call driver (start, the poll that says send, the
// response, the poll that says done) against the plain build + parse pair of the same call, on
// a canned answer, and prints microseconds per step (mean of 50000 calls). `--quiet` starts
// the calls as a client with no audit hook does (core makes no audit record).
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const native = createRequire(import.meta.url)(join(root, 'bindings-node/native.cjs'));
const config = native.newConfig(
  JSON.stringify({ base_url: 'http://127.0.0.1:9/eu', api_key: 'eudefaultkey0000000000000000000000000000', secret: 'eudefaultsecret0000000000000000000000000' }),
);
const driver = native.driverNew(config, '', new Uint8Array(8));
const input = JSON.stringify({ resource: 'Login', user_id: '5f1c2a9e-7b3d-4c8e-9a01-2d6f4b8c0e13' });
const body = new TextEncoder().encode(
  '{"token":"1f2e3d4c5b6a7980a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718","user_id":"5f1c2a9e-7b3d-4c8e-9a01-2d6f4b8c0e13","pod":"x","primary":"iproov","fallback":[]}',
);
const headers = JSON.stringify({ 'content-type': 'application/json', 'content-length': String(body.length) });
const quiet = process.argv.includes('--quiet');
const N = 50000;
const spent = { 'driverStart': 0, 'driverPoll (send)': 0, 'driverResponse': 0, 'driverPoll (done)': 0, 'build (alone)': 0, 'parse (alone)': 0 };
const steps = Object.keys(spent);
for (let i = 0; i < N + 2000; i++) {
  const now = Date.now();
  const marks = [performance.now()];
  const id = native.driverStart(driver, 'enrol_token', input, 0, quiet, now);
  marks.push(performance.now());
  native.driverPoll(driver, id, now);
  marks.push(performance.now());
  native.driverResponse(driver, id, 200, headers, body, now);
  marks.push(performance.now());
  native.driverPoll(driver, id, now);
  marks.push(performance.now());
  native.build('enrol_token', config, input);
  marks.push(performance.now());
  native.parse('enrol_token', config, 200, headers, body);
  marks.push(performance.now());
  if (i < 2000) continue; // warm-up
  steps.forEach((step, k) => (spent[step] += marks[k + 1] - marks[k]));
}
const us = (ms) => ((ms / N) * 1000).toFixed(1);
for (const step of steps) console.log(`${step.padEnd(20)}${us(spent[step]).padStart(7)} us`);
const driverTotal = steps.slice(0, 4).reduce((a, s) => a + spent[s], 0);
const pairTotal = spent['build (alone)'] + spent['parse (alone)'];
console.log(`${'driver, one call'.padEnd(20)}${us(driverTotal).padStart(7)} us   (build + parse alone: ${us(pairTotal)} us)`);
