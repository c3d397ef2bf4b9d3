// Runs every client scenario (tests/scenarios/**/*.json, then $IPROOV_SCENARIOS_DIR/**/*.json,
// each in sorted path order) against a fresh emulator through a JS package's client, in Node:
//   node bindings-js/test/run-scenarios.mjs <client name> [<package entry>]
// The entry defaults to $IPROOV_JS_IMPL, else the Node package (bindings-node/index.mjs).
// Every scenario's log lines are checked (scenario-telemetry.mjs); with the Node package, its
// OpenTelemetry spans and metrics too, through the SDK's in-memory exporters (the edge package
// has no useOpenTelemetry). Prints `scenarios (<client>): N passed, M failed` and what the
// telemetry checks saw; exits 1 on any failure.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { startEmulator } from '../../bindings-node/test/emulator.mjs';
import { otelCapture } from '../../bindings-node/test/otel-capture.mjs';
import { runScenarios } from './scenarios.mjs';

const repo = join(dirname(fileURLToPath(import.meta.url)), '../..');

/** Every `*.json` under `dir`, at any depth, in sorted path order. */
function jsonFiles(dir) {
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...jsonFiles(path));
    else if (name.endsWith('.json')) out.push(path);
  }
  return out;
}

/** The scenarios of tests/scenarios and $IPROOV_SCENARIOS_DIR: `[{file, scenario}]`. */
export function loadScenarios() {
  const dirs = [join(repo, 'tests/scenarios')];
  if (process.env.IPROOV_SCENARIOS_DIR) dirs.push(resolve(process.env.IPROOV_SCENARIOS_DIR));
  const all = [];
  for (const dir of dirs) {
    for (const file of jsonFiles(dir)) {
      const { scenarios } = JSON.parse(readFileSync(file, 'utf8'));
      if (!Array.isArray(scenarios)) throw new Error(`${file}: no "scenarios" list`);
      for (const scenario of scenarios) all.push({ file: relative(repo, file), scenario });
    }
  }
  return all;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [client = 'node fetch', entry = process.env.IPROOV_JS_IMPL] = process.argv.slice(2);
  const spec = entry ? (isAbsolute(entry) || existsSync(entry) ? pathToFileURL(resolve(entry)).href : entry) : pathToFileURL(join(repo, 'bindings-node/index.mjs')).href;
  const mod = await import(spec);
  const api = mod.default ?? mod;
  const scenarios = loadScenarios();
  const otel = entry ? undefined : otelCapture(api);
  const emulator = await startEmulator();
  let result;
  try {
    result = await runScenarios(api, { emulatorUrl: emulator.url, scenarios, client, otel });
  } finally {
    otel?.stop();
    await emulator.stop();
  }
  process.exit(result.failed.length === 0 && result.passed > 0 ? 0 : 1);
}
