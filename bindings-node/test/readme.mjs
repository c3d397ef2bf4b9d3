// Runs the README's JavaScript examples against the emulator: each ```js block becomes a file
// (.cjs when it uses require, else .mjs) and runs in a child Node with readme-preload.mjs,
// which plays the user's phone (completes the claim through the emulator's control API just
// before a validate is sent), except for the quick start, which plays it itself. `region: 'eu'`
// is pointed at the emulator's EU prefix and the IPROOV_* variables hold the emulator's EU
// target and default credentials.
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EU } from './emulator.mjs';

const here = dirname(fileURLToPath(import.meta.url));
export const PRELOAD = join(here, 'readme-preload.mjs');

/** The ```js blocks of a markdown file: [{index, code, cjs}]. */
export function examples(markdownPath) {
  const text = readFileSync(markdownPath, 'utf8');
  const blocks = [];
  const re = /```js\n([\s\S]*?)```/g;
  let m;
  while ((m = re.exec(text)) !== null) {
    blocks.push({ index: blocks.length + 1, code: m[1], cjs: /\brequire\(/.test(m[1]) });
  }
  return blocks;
}

/** The fenced blocks of a markdown file in `language` (`js`, `ts`): their code, in order. */
export function fenced(markdownPath, language) {
  const text = readFileSync(markdownPath, 'utf8');
  return [...text.matchAll(new RegExp('```' + language + '\\n([\\s\\S]*?)```', 'g'))].map((m) => m[1]);
}

/** The framework a block mounts the journey endpoints in (its README section, "In your
 * framework", which web-frameworks.test.mjs runs as a server), `auth` for the stand-in login
 * those examples import (run there too), or undefined. */
export function frameworkOf(code) {
  if (code.startsWith('// auth.js')) return 'auth'; // the stand-in login the framework examples import
  if (/^\/\/ next\.config\.mjs/.test(code) || code.includes('[[...path]]/route.ts')) return 'next';
  if (code.includes("from '@nestjs/core'")) return 'nest';
  if (code.includes("from 'express'")) return 'express';
  if (code.includes("from 'fastify'")) return 'fastify';
  if (code.includes("from 'hono'")) return 'hono';
  return undefined;
}

/** The example as run against `emulatorUrl`; `specifier` replaces the package name if given. */
export function prepared(code, emulatorUrl, specifier) {
  let out = code.replaceAll("region: 'eu'", `baseUrl: '${emulatorUrl}/eu'`);
  if (specifier) out = out.replaceAll("'iproov-sansio'", `'${specifier}'`);
  return out;
}

export function exampleEnv(emulatorUrl) {
  const env = {
    ...process.env,
    IPROOV_BASE_URL: `${emulatorUrl}/eu`,
    IPROOV_API_KEY: EU.apiKey,
    IPROOV_SECRET: EU.secret,
    IPROOV_OAUTH_USERNAME: EU.oauth.username,
    IPROOV_OAUTH_PASSWORD: EU.oauth.password,
    IPROOV_EMULATOR_URL: emulatorUrl,
  };
  delete env.IPROOV_REGION;
  return env;
}

/** Writes and runs one example in `dir` (`preload`: null for none, the example as written;
 * `env`: more variables); resolves {code, stdout, stderr}. */
export function runExample(dir, name, source, emulatorUrl, preload = PRELOAD, env = {}) {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, name);
  writeFileSync(file, source);
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [...(preload === null ? [] : ['--import', preload]), file],
      { cwd: dir, env: { ...exampleEnv(emulatorUrl), ...env }, timeout: 60_000 },
      (error, stdout, stderr) => resolve({ code: error ? (error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}
