/**
 * `ModelSourceFiles` over a path on disk: positional reads of the main file (nothing is loaded
 * until asked), and reads of sibling files (external data, weight shards) relative to its folder.
 * File descriptors are opened on demand and reopened after `close()`, so lazy tensors can read long
 * after the model was loaded; at most MAX_OPEN_FILES stay open at once (least recently used closed).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { MconvError, unreadable } from '../errors.js';
import type { ModelSourceFiles } from '../formats/types.js';

export interface OpenedSource extends ModelSourceFiles {
  /** Closes the file descriptors held (lazy tensors read after this reopen the file). */
  close(): void;
}

function ioError(file: string, e: unknown): MconvError {
  const err = e as NodeJS.ErrnoException;
  if (err?.code === 'ENOENT') return unreadable(file, undefined, 'file not found', 'check the path');
  if (err?.code === 'EACCES' || err?.code === 'EPERM') return unreadable(file, undefined, 'permission denied', 'check the file permissions');
  if (err?.code === 'EISDIR') return unreadable(file, undefined, 'is a directory, expected a file');
  return new MconvError({ kind: 'unreadable', file, message: `cannot read: ${err?.message ?? String(e)}`, cause: e });
}

/** Reads exactly `length` bytes at `offset` (fewer only at end of file). */
export function readRangeFd(fd: number, offset: number, length: number): Uint8Array {
  const out = Buffer.allocUnsafe(length);
  let done = 0;
  while (done < length) {
    const n = fs.readSync(fd, out, done, length - done, offset + done);
    if (n === 0) break;
    done += n;
  }
  // A plain Uint8Array over the same memory (callers may hand it to typed-array views).
  const u = new Uint8Array(out.buffer, out.byteOffset, done);
  return u;
}

/** At most this many descriptors stay open across all sources; the least recently used closes first. */
const MAX_OPEN_FILES = 64;
const openHandles = new Set<FileHandle>();

class FileHandle {
  private fd: number | undefined;
  constructor(readonly file: string) {}
  get(): number {
    if (this.fd === undefined) {
      try {
        this.fd = fs.openSync(this.file, 'r');
      } catch (e) {
        throw ioError(this.file, e);
      }
      if (openHandles.size >= MAX_OPEN_FILES) openHandles.values().next().value?.close();
    }
    // most recently used last
    openHandles.delete(this);
    openHandles.add(this);
    return this.fd;
  }
  close(): void {
    openHandles.delete(this);
    if (this.fd !== undefined) {
      try {
        fs.closeSync(this.fd);
      } catch {
        // already closed
      }
      this.fd = undefined;
    }
  }
}

/** Opens a model path: a file (positional reads) or a folder. Missing -> 'unreadable' "file not found". */
export function openSource(p: string): OpenedSource {
  let st: fs.Stats;
  try {
    st = fs.statSync(p);
  } catch (e) {
    throw ioError(p, e);
  }
  const isDirectory = st.isDirectory();
  const folder = isDirectory ? p : path.dirname(p);
  const main = new FileHandle(p);
  const siblings = new Map<string, FileHandle>();
  const size = isDirectory ? 0 : st.size;

  const sibling = (rel: string): FileHandle => {
    const full = path.resolve(folder, rel);
    let h = siblings.get(full);
    if (!h) {
      h = new FileHandle(full);
      siblings.set(full, h);
    }
    return h;
  };

  const readMain = (offset: number, length: number): Uint8Array => {
    if (isDirectory) throw unreadable(p, undefined, 'is a directory, expected a file');
    if (offset < 0 || length < 0) throw new RangeError(`bad range ${offset}+${length}`);
    try {
      return readRangeFd(main.get(), offset, Math.min(length, Math.max(0, size - offset)));
    } catch (e) {
      if (e instanceof MconvError) throw e;
      throw ioError(p, e);
    }
  };

  return {
    path: p,
    isDirectory,
    size,
    readRange: readMain,
    readAll: () => readMain(0, size),
    readSibling(rel: string): Uint8Array {
      const full = path.resolve(folder, rel);
      try {
        return new Uint8Array(fs.readFileSync(full));
      } catch (e) {
        throw ioError(full, e);
      }
    },
    readSiblingRange(rel: string, offset: number, length: number): Uint8Array {
      const h = sibling(rel);
      try {
        return readRangeFd(h.get(), offset, length);
      } catch (e) {
        if (e instanceof MconvError) throw e;
        throw ioError(h.file, e);
      }
    },
    siblingExists(rel: string): boolean {
      return fs.existsSync(path.resolve(folder, rel));
    },
    close(): void {
      main.close();
      for (const h of siblings.values()) h.close();
    },
  };
}

/** A `ModelSourceFiles` over bytes in memory (siblings from a map, if any). */
export function memorySourceFiles(bytes: Uint8Array, name = '<memory>', siblings = new Map<string, Uint8Array>()): ModelSourceFiles {
  const get = (rel: string): Uint8Array => {
    const b = siblings.get(rel);
    if (!b) throw unreadable(rel, undefined, 'file not found', 'check the path');
    return b;
  };
  return {
    path: name,
    isDirectory: false,
    size: bytes.byteLength,
    readRange: (offset, length) => bytes.subarray(offset, offset + length),
    readAll: () => bytes,
    readSibling: get,
    readSiblingRange: (rel, offset, length) => get(rel).subarray(offset, offset + length),
    siblingExists: (rel) => siblings.has(rel),
  };
}
