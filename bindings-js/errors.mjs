// The Error classes. Core decides every error (its `code`, `kind`, message and fields) and
// names the class of each kind and the class that class extends (`ErrorKind::class_name` /
// `parent_class_name`, generated into generated/errors.mjs); this module only makes those
// classes, under `IProovError`, and turns core's canonical error JSON into an instance of the
// one core names, with the fields camelCased.

import { camel } from './util.mjs';

/** The root of every error this package throws. */
export class IProovError extends Error {
  #json;

  /**
   * @param {object} json core's canonical error JSON: {code, status?, kind, message, ...}
   * @param {{cause?: unknown}} [options]
   */
  constructor(json, options) {
    super(String(json?.message ?? 'iProov error'), options);
    this.#json = json;
    for (const key of Object.keys(json)) {
      if (key !== 'message') this[camel(key)] = json[key];
    }
  }

  /** Core's canonical JSON of this error (what the vectors compare and what a host stores). */
  toJSON() {
    return this.#json;
  }
}

function named(cls, name) {
  Object.defineProperty(cls.prototype, 'name', { value: name, writable: true, enumerable: false, configurable: true });
  return cls;
}
named(IProovError, 'IProovError');

/**
 * Makes the classes core names: `{classes: {ClassName: class}, byKind: {kind: class}}`.
 * Parents that name no kind (`TransportError`) are made too; `IProovError` is the root.
 * @param {{kind: string, class: string, parent: string}[]} table core's families (generated/errors.mjs)
 */
export function makeErrorClasses(table) {
  const classes = { IProovError };
  const parentOf = new Map(table.map((row) => [row.class, row.parent]));
  const make = (name, seen = new Set()) => {
    if (classes[name]) return classes[name];
    if (seen.has(name)) throw new Error(`core's error classes form a cycle at ${name}`);
    seen.add(name);
    const parent = make(parentOf.get(name) ?? 'IProovError', seen);
    // A class expression named by a computed key keeps the name for stack traces and `.name`.
    const cls = { [name]: class extends parent {} }[name];
    classes[name] = named(cls, name);
    return cls;
  };
  for (const row of table) make(row.class);
  const byKind = Object.fromEntries(table.map((row) => [row.kind, classes[row.class]]));
  return { classes: Object.freeze(classes), byKind: Object.freeze(byKind) };
}
