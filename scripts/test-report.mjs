// A node:test reporter for scripts/skips.py: one JSON line per finished test or suite,
// {"file", "name", "outcome": "pass" | "fail" | "skip" | "todo", "reason"?}, where `name`
// joins the enclosing suites' names with " > ". node's own summary counts a skipped suite as
// no test at all, so the skips are read from here instead.
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..');

export default async function* report(source) {
  const open = new Map(); // file -> names of the tests started and not finished, by nesting
  for await (const { type, data } of source) {
    if (type !== 'test:start' && type !== 'test:pass' && type !== 'test:fail') continue;
    const file = data.file ? relative(repo, data.file) : '';
    const stack = open.get(file) ?? [];
    open.set(file, stack);
    if (type === 'test:start') {
      stack.length = data.nesting;
      stack.push(data.name);
      continue;
    }
    const name = [...stack.slice(0, data.nesting), data.name].join(' > ');
    stack.length = data.nesting;
    let outcome = 'pass';
    let reason;
    if (type === 'test:fail') outcome = 'fail';
    else if (data.skip !== undefined && data.skip !== false) [outcome, reason] = ['skip', data.skip];
    else if (data.todo !== undefined && data.todo !== false) [outcome, reason] = ['todo', data.todo];
    const line = { file, name, outcome, suite: data.details?.type === 'suite' };
    if (typeof reason === 'string') line.reason = reason;
    yield `${JSON.stringify(line)}\n`;
  }
}
