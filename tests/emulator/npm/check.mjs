// The packed iproov-emulator package on this machine (not shipped in it): run inside a project
// that installed the tarball (node /path/to/check.mjs), it starts the package's binary for this
// platform on a free port of 127.0.0.1, reads the control API, makes one API call (an enrol
// token for the built-in EU service provider) and finds it in the request journal with its
// secret masked, then stops the binary and sees it exit; and the package's command
// (`npx iproov-emulator`) passes its arguments and exit status through. scripts/emulator-dist.sh runs it on
// Linux x86-64; .github/workflows/release-emulator.yml on each platform the package carries.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';

const require = createRequire(join(process.cwd(), 'package.json'));
const { binaryPath } = require('iproov-emulator');

// The command: usage on stderr and the binary's exit status for --help (2).
const manifest = require.resolve('iproov-emulator/package.json');
const command = join(dirname(manifest), require(manifest).bin['iproov-emulator']);
const help = spawnSync(process.execPath, [command, '--help'], { encoding: 'utf8', timeout: 30_000 });
assert.deepEqual([help.status, help.stderr.split('\n')[0]], [2, 'usage: iproov-emulator [--host HOST] [--port PORT] [--config FILE.json] [--no-request-log]']);

const child = spawn(binaryPath, ['--host', '127.0.0.1', '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
const exited = once(child, 'exit');
let stderr = '';
child.stderr.on('data', (chunk) => (stderr += chunk));
try {
  const first = await Promise.race([
    once(createInterface({ input: child.stdout }), 'line').then(([line]) => line),
    exited.then(([code, signal]) => `exited with ${signal ?? code}`),
    new Promise((resolve) => setTimeout(resolve, 30_000, 'no line within 30 s').unref()),
  ]);
  const url = /^listening on (http:\/\/127\.0\.0\.1:\d+)$/.exec(first)?.[1];
  assert.ok(url, `${binaryPath}: ${first}\n${stderr}`);
  const sp = (await (await fetch(`${url}/__emulator/config`)).json()).service_providers.find((p) => p.name === 'eu-default');
  const response = await fetch(`${url}/eu/api/v2/claim/enrol/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ api_key: sp.api_key, secret: sp.secret, resource: 'check', user_id: 'check-user' }),
  });
  assert.equal(response.status, 200, await response.clone().text());
  assert.match((await response.json()).token, /^[0-9a-f]{64}$/);
  const [sent] = (await (await fetch(`${url}/__emulator/journal`)).json()).requests;
  assert.deepEqual([sent.path, sent.json.user_id, sent.json.secret], ['/eu/api/v2/claim/enrol/token', 'check-user', '***']);
  console.log(`${binaryPath} (${process.platform}-${process.arch}): started, one token issued, the journal masked its secret`);
} finally {
  child.kill();
  await exited;
}
