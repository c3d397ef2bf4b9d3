#!/usr/bin/env node
'use strict';
// `npx iproov-emulator ARGS`: this platform's binary with ARGS, its output and exit status.
const { spawnSync } = require('node:child_process');
const { binaryPath } = require('..');

const { status, signal, error } = spawnSync(binaryPath, process.argv.slice(2), { stdio: 'inherit' });
if (error) throw error;
process.exit(status ?? (signal ? 1 : 0));
