// Types of `require('iproov-sansio')`: the shared JS API (js/index.d.ts).
export * from './js/index';
