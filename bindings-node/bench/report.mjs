// The per-operation table every JS benchmark prints (the Node package's bench.mjs, the edge
// package's bench.mjs in Node and workerd.mjs inside workerd), with verdicts when given goals.

export const us = (ns) => (ns >= 10_000 ? `${(ns / 1000).toFixed(1)} us` : `${(ns / 1000).toFixed(2)} us`);
export const pad = (s, n) => String(s).padEnd(n);
export const lpad = (s, n) => String(s).padStart(n);
export const verdict = (ok) => (ok ? 'ok' : 'MISSED');

/** Prints build/parse per operation against the baseline, the 60 KB frame, and (with
 * `goals`: `{opRatio, frameRatio}`) the verdicts. */
export function printOperations(ops, frame, goals) {
  console.log(`${pad('operation', 32)}${lpad('build', 10)}${lpad('baseline', 10)}${lpad('x', 7)}${lpad('parse', 10)}${lpad('baseline', 10)}${lpad('x', 7)}`);
  console.log('-'.repeat(86));
  let worst = 0;
  for (const r of ops) {
    const xb = r.build_ns / r.baseline_build_ns;
    const xp = r.parse_ns / r.baseline_parse_ns;
    worst = Math.max(worst, xb, xp);
    console.log(`${pad(r.op, 32)}${lpad(us(r.build_ns), 10)}${lpad(us(r.baseline_build_ns), 10)}${lpad(`${xb.toFixed(1)}x`, 7)}${lpad(us(r.parse_ns), 10)}${lpad(us(r.baseline_parse_ns), 10)}${lpad(`${xp.toFixed(1)}x`, 7)}`);
  }
  console.log(`${pad(frame.label, 32)}${lpad('', 27)}${lpad(us(frame.parse_ns), 10)}${lpad(us(frame.baseline_parse_ns), 10)}${lpad(`${(frame.parse_ns / frame.baseline_parse_ns).toFixed(1)}x`, 7)}`);
  console.log(`${pad('  (JSON.parse alone, same body)', 32)}${lpad('', 27)}${lpad(us(frame.json_parse_ns), 10)}`);
  if (!goals) return;
  console.log('');
  console.log(`worst ratio to the baseline: ${worst.toFixed(1)}x (goal at most ${goals.opRatio}x: ${verdict(worst <= goals.opRatio)})`);
  const frameRatio = frame.parse_ns / frame.json_parse_ns;
  console.log(`60 KB frame: ${frameRatio.toFixed(1)}x JSON.parse alone (goal at most ${goals.frameRatio}x: ${verdict(frameRatio <= goals.frameRatio)})`);
}
