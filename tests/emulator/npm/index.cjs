'use strict';
// The package is the binary, one per platform (bin/<platform>-<arch>/), each built by
// .github/workflows/release-emulator.yml; iproov-sansio/testing asks it where the binary is.
// Linux binaries are linked against glibc 2.17: on musl (Alpine) they do not run.
const { existsSync, readdirSync } = require('node:fs');
const { join } = require('node:path');

const platform = `${process.platform}-${process.arch}`;
const file = process.platform === 'win32' ? 'iproov-emulator.exe' : 'iproov-emulator';
const path = join(__dirname, 'bin', platform, file);

if (!existsSync(path)) {
  const carried = readdirSync(join(__dirname, 'bin')).filter((name) => !name.endsWith('.cjs'));
  throw new Error(
    `iproov-emulator has no binary for ${platform} (it carries ${carried.join(', ') || 'none'}): ` +
      'build one with `cargo build --release -p iproov-emulator` from the iproov-sansio repository ' +
      'and point IPROOV_EMULATOR_BIN at it',
  );
}
if (process.platform === 'linux' && !process.report?.getReport().header.glibcVersionRuntime) {
  throw new Error('iproov-emulator: the Linux binary needs glibc 2.17 or later (not musl): build one with cargo and point IPROOV_EMULATOR_BIN at it');
}

/** The absolute path of this platform's iproov-emulator executable. */
exports.binaryPath = path;
