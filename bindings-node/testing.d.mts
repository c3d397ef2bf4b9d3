// Types of `import ... from 'iproov-sansio/testing'`.
export * from './testing.js';
import * as testing from './testing.js';
export default testing;
