// The journey service's spool as a local file (bundled into dist/stores.cjs): JSON lines where
// a validated outcome waits until the store has it. What goes in it and what to do with its
// lines is core's (core/src/service/spool.rs: `spoolDue`, `spoolTombstone`, through the
// service); this module only moves bytes.
//
// Node has no file locks, so instead of locking, an append checks afterwards that the file it
// wrote is still the one at the path; if a replayer took the file meanwhile (an atomic rename),
// the lines are appended again to the new file. A line may then be read twice: core's replay is
// idempotent and drops every copy of an entry with its tombstone, so a copy costs nothing and a
// line is never lost. A replayer takes the file by renaming it to a private name
// (`<file>.<pid>.<random>.replay`); a private file whose process died (a replay cut short) is
// taken over by the next replayer on the machine.
import {
  closeSync,
  fstatSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  readdirSync,
  renameSync,
  statSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';

const SUFFIX = '.replay';
/** The private files this process holds (absolute paths), whatever spool object took them. */
const held = new Set();

const gone = (error) => error?.code === 'ENOENT';

/** True when process `pid` runs on this machine (a signal 0 probe). */
function alive(pid) {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return error?.code === 'EPERM'; // runs, as another user
  }
}

/** True when the open `fd` is the file at `path` now (not one renamed away meanwhile). */
function stillAt(fd, path) {
  const open = fstatSync(fd, { bigint: true });
  try {
    const now = statSync(path, { bigint: true });
    return now.ino === open.ino && now.dev === open.dev;
  } catch (error) {
    if (gone(error)) return false;
    throw error;
  }
}

/**
 * A spool file: JSON lines, appended durably, taken whole by one replayer at a time. Made by
 * the stores (`SQLiteStore`: `<db path>.spool.jsonl`; `PostgresStore`: its `spool` option) or
 * by the service's `spool` option (a path).
 */
export class FileSpool {
  #path;

  /** @param {string} path the file (its directory is made when missing) */
  constructor(path) {
    this.#path = resolve(String(path));
    mkdirSync(dirname(this.#path), { recursive: true });
  }

  /** The file's absolute path. */
  get path() {
    return this.#path;
  }

  /**
   * Appends `lines` (each without its newline). `durable`: on disk (fsync) before this
   * returns. Synchronous: nothing else of this process runs between the write and its check.
   * @param {string[]} lines
   * @param {boolean} durable
   * @throws {Error} the file system's (a full or read-only disk)
   */
  append(lines, durable) {
    if (lines.length === 0) return;
    const data = lines.map((line) => `${line}\n`).join('');
    for (;;) {
      const fd = openSync(this.#path, 'a', 0o600);
      try {
        writeSync(fd, data);
        if (durable) fsyncSync(fd);
        if (stillAt(fd, this.#path)) return;
      } finally {
        closeSync(fd);
      }
      // A replayer renamed the file between our open and our check: it may have read it
      // before our write landed, so the lines go to the file at the path now as well.
    }
  }

  /** True when the spool file exists and is not empty, or a dead replayer left a file. */
  hasLines() {
    try {
      if (statSync(this.#path).size > 0) return true;
    } catch (error) {
      if (!gone(error)) throw error;
    }
    return this.#orphans().length > 0;
  }

  /**
   * The spool's text, the file renamed to a private name, with the private files of
   * replayers that died (each renamed to a private name of ours first, so that one replayer
   * takes it); `null` when there is nothing. Append the lines to keep back with `append`,
   * then `release()` the taken files; `release({remove: false})` leaves them for the next
   * replay (when the lines could not be put back).
   * @returns {{text: string, release(options?: {remove?: boolean}): void} | null}
   * @throws {Error} the file system's
   */
  take() {
    const taken = [];
    const grab = (from) => {
      const mine = join(dirname(this.#path), `${basename(this.#path)}.${process.pid}.${randomBytes(6).toString('hex')}${SUFFIX}`);
      try {
        renameSync(from, mine);
      } catch (error) {
        if (gone(error)) return; // nothing there, or another replayer took it first
        throw error;
      }
      held.add(mine);
      taken.push(mine);
    };
    grab(this.#path);
    for (const orphan of this.#orphans()) grab(orphan);
    if (taken.length === 0) return null;
    let text = '';
    try {
      for (const file of taken) {
        const part = readFileSync(file, 'utf8');
        text += part === '' || part.endsWith('\n') ? part : `${part}\n`;
      }
    } catch (error) {
      for (const file of taken) held.delete(file);
      throw error;
    }
    return {
      text,
      release({ remove = true } = {}) {
        for (const file of taken) {
          held.delete(file);
          if (!remove) continue;
          try {
            unlinkSync(file);
          } catch (error) {
            if (!gone(error)) throw error;
          }
        }
      },
    };
  }

  /** Private files of this spool whose replayer is gone (another process that died, or a
   * replay of this process that could not put its lines back). */
  #orphans() {
    const prefix = `${basename(this.#path)}.`;
    let names;
    try {
      names = readdirSync(dirname(this.#path));
    } catch (error) {
      if (gone(error)) return [];
      throw error;
    }
    return names
      .filter((name) => name.startsWith(prefix) && name.endsWith(SUFFIX))
      .map((name) => [join(dirname(this.#path), name), Number(name.slice(prefix.length).split('.')[0])])
      .filter(([file, pid]) => Number.isInteger(pid) && !held.has(file) && (pid === process.pid || !alive(pid)))
      .map(([file]) => file);
  }

  toString() {
    return `FileSpool(${this.#path})`;
  }
}
