'use strict';
// The package is the binary; iproov-sansio/testing asks it where the binary is.
const { join } = require('node:path');

exports.binaryPath = join(__dirname, 'bin', 'iproov-emulator');
