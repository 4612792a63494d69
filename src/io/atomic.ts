/**
 * Atomic file writes: bytes go to a temporary file in the destination folder, are fsynced, and are
 * renamed over the destination only when complete. On failure the temporary files are removed and
 * the destination keeps its old content (or stays absent).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { MconvError } from '../errors.js';

function tempNameFor(dest: string): string {
  return path.join(path.dirname(dest), `.${path.basename(dest)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
}

function writeError(file: string, e: unknown): MconvError {
  const err = e as NodeJS.ErrnoException;
  const why =
    err?.code === 'ENOENT' ? 'the folder does not exist'
    : err?.code === 'EACCES' || err?.code === 'EPERM' ? 'permission denied'
    : err?.code === 'ENOSPC' ? 'no space left on the device'
    : err?.message ?? String(e);
  return new MconvError({ kind: 'usage', file, message: `cannot write: ${why}`, hint: 'choose another output path', cause: e });
}

function writeTemp(dest: string, bytes: Uint8Array): string {
  const tmp = tempNameFor(dest);
  let fd: number | undefined;
  try {
    fd = fs.openSync(tmp, 'wx', 0o644);
    let off = 0;
    while (off < bytes.byteLength) off += fs.writeSync(fd, bytes, off, bytes.byteLength - off);
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fd = undefined;
    return tmp;
  } catch (e) {
    if (fd !== undefined) {
      try {
        fs.closeSync(fd);
      } catch {
        // ignore
      }
    }
    removeQuietly(tmp);
    throw writeError(dest, e);
  }
}

function removeQuietly(p: string): void {
  try {
    fs.unlinkSync(p);
  } catch {
    // already gone
  }
}

function fsyncFolder(dir: string): void {
  try {
    const fd = fs.openSync(dir, 'r');
    try {
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    // not supported everywhere (e.g. some file systems); the renames are still atomic
  }
}

/** Writes one file atomically. */
export function writeFileAtomic(dest: string, bytes: Uint8Array): void {
  writeFilesAtomic(dest, bytes, new Map());
}

/**
 * Writes a main file and extra files beside it (names relative to the main file's folder).
 * All temporaries are written first; extras are renamed into place before the main file, so a
 * reader never sees a main file whose companions are missing. Returns the paths written.
 */
export function writeFilesAtomic(mainPath: string, main: Uint8Array, extras: Map<string, Uint8Array> = new Map()): string[] {
  const dir = path.dirname(path.resolve(mainPath));
  const plan: { dest: string; bytes: Uint8Array }[] = [];
  for (const [rel, bytes] of extras) {
    const dest = path.resolve(dir, rel);
    if (path.relative(dir, dest).startsWith('..')) throw writeError(dest, new Error('extra file outside the output folder'));
    plan.push({ dest, bytes });
  }
  plan.push({ dest: path.resolve(mainPath), bytes: main });
  const temps: string[] = [];
  try {
    for (const p of plan) {
      if (path.dirname(p.dest) !== dir) fs.mkdirSync(path.dirname(p.dest), { recursive: true });
      temps.push(writeTemp(p.dest, p.bytes));
    }
    for (let i = 0; i < plan.length; i++) {
      try {
        fs.renameSync(temps[i]!, plan[i]!.dest);
      } catch (e) {
        throw writeError(plan[i]!.dest, e);
      }
      temps[i] = '';
    }
  } catch (e) {
    for (const t of temps) if (t) removeQuietly(t);
    throw e;
  }
  fsyncFolder(dir);
  return [plan[plan.length - 1]!.dest, ...plan.slice(0, -1).map((p) => p.dest)];
}
