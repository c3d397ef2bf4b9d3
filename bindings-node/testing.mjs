// The ESM entry of `iproov-sansio/testing`: the very object testing.cjs exports.
import testing from './testing.cjs';

export default testing;
export const { startEmulator, Emulator, EmulatorError, findBinary, realIproovTarget } = testing;
