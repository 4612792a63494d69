/**
 * A thin reader over h5wasm (the HDF5 C library in WebAssembly): open a file from a path or from
 * bytes, walk groups, read attributes (strings, string lists, JSON) and datasets as IR tensors.
 *
 * Nothing is read until asked: groups and datasets are paths, a dataset's tensor is lazy and reads
 * its bytes on first use (reopening the file if it was closed in between), so listing a model's
 * weights reads only their shapes and types.
 *
 * h5wasm's Node build opens real paths. Bytes (an HDF5 file inside a zip) are written to a
 * temporary file that is unlinked as soon as HDF5 holds it open, and rewritten if a lazy read
 * needs the file again after `close()`.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { MconvError } from '../errors.js';
import { Tensor, shapeSize, type DType } from '../ir/tensor.js';

type H5Module = typeof import('h5wasm/node');
type H5File = InstanceType<H5Module['File']>;
type H5Group = InstanceType<H5Module['Group']>;
type H5Dataset = InstanceType<H5Module['Dataset']>;
type H5Metadata = H5Dataset['metadata'];

/** The 8-byte signature that starts an HDF5 superblock. */
export const HDF5_SIGNATURE = Uint8Array.of(0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a);

/**
 * Where the HDF5 signature lies in `head`: offset 0, or 512, 1024, 2048, ... (after a user block).
 * Undefined when `head` holds none.
 */
export function hdf5SignatureOffset(head: Uint8Array): number | undefined {
  for (let off = 0; off + HDF5_SIGNATURE.length <= head.length; off = off === 0 ? 512 : off * 2) {
    if (HDF5_SIGNATURE.every((b, i) => head[off + i] === b)) return off;
  }
  return undefined;
}

export function looksLikeHdf5(head: Uint8Array): boolean {
  return hdf5SignatureOffset(head) !== undefined;
}

let modulePromise: Promise<H5Module> | undefined;
let loaded: H5Module | undefined;

/** Loads h5wasm once (about 0.3 s); HDF5 errors become exceptions instead of stderr output. */
async function h5(): Promise<H5Module> {
  if (!modulePromise) {
    modulePromise = (async () => {
      const mod = await import('h5wasm/node');
      await mod.ready;
      mod.Module.activate_throwing_error_handler();
      loaded = mod;
      return mod;
    })();
  }
  return modulePromise;
}

/** The most telling line of an HDF5 error stack (the innermost description). */
export function hdf5ErrorText(e: unknown): string {
  const text = String((e as Error)?.message ?? e);
  const frames = [...text.matchAll(/#\d+:.*? in [A-Za-z0-9_]+\(\): (.*)$/gm)].map((m) => m[1]!.trim());
  const inner = frames[frames.length - 1];
  if (inner) return inner;
  const minor = [...text.matchAll(/minor: (.*)$/gm)].map((m) => m[1]!.trim());
  return minor[minor.length - 1] ?? text.split('\n')[0]!;
}

export interface Hdf5OpenInfo {
  /** The name used in messages (the file path, or `archive.keras:model.weights.h5`). */
  name: string;
  /** The format id for errors. */
  format?: string;
}

/** An open HDF5 file. */
export class Hdf5File {
  readonly name: string;
  private readonly format?: string;
  private handle?: H5File;
  private readonly openFile: () => H5File;

  private constructor(info: Hdf5OpenInfo, openFile: () => H5File) {
    this.name = info.name;
    this.format = info.format;
    this.openFile = openFile;
  }

  /** Opens a file on disk. */
  static async open(file: string, info: Partial<Hdf5OpenInfo> = {}): Promise<Hdf5File> {
    const mod = await h5();
    const full = path.resolve(file);
    if (!fs.existsSync(full)) throw new MconvError({ kind: 'unreadable', file: info.name ?? file, message: 'file not found', hint: 'check the path' });
    const f = new Hdf5File({ name: info.name ?? file, format: info.format }, () => new mod.File(full, 'r'));
    f.ensureOpen();
    return f;
  }

  /** Opens HDF5 bytes held in memory (kept for reopening; the caller must not change them). */
  static async fromBytes(bytes: Uint8Array, info: Hdf5OpenInfo): Promise<Hdf5File> {
    const mod = await h5();
    const f = new Hdf5File(info, () => {
      const tmp = path.join(os.tmpdir(), `mconv-${process.pid}-${randomBytes(6).toString('hex')}.h5`);
      fs.writeFileSync(tmp, bytes, { mode: 0o600 });
      try {
        return new mod.File(tmp, 'r');
      } finally {
        // HDF5 keeps its descriptor; the name is not needed any more.
        try {
          fs.unlinkSync(tmp);
        } catch {
          // already gone
        }
      }
    });
    f.ensureOpen();
    return f;
  }

  private error(message: string, where?: string, cause?: unknown): MconvError {
    return new MconvError({ kind: 'unreadable', file: this.name, format: this.format, message, where, cause,
      hint: 'the file may be truncated or corrupt; check that it was copied completely' });
  }

  /** The h5wasm file, reopened if it was closed. */
  ensureOpen(): H5File {
    if (!this.handle) {
      try {
        this.handle = this.openFile();
      } catch (e) {
        if (e instanceof MconvError) throw e;
        const err = e as NodeJS.ErrnoException;
        if (err?.code === 'ENOENT') throw new MconvError({ kind: 'unreadable', file: this.name, message: 'file not found', hint: 'check the path' });
        throw this.error(`not a readable HDF5 file: ${hdf5ErrorText(e)}`, undefined, e);
      }
    }
    return this.handle;
  }

  get isOpen(): boolean {
    return this.handle !== undefined;
  }

  /** Closes the file; lazy tensors read later reopen it. */
  close(): void {
    if (this.handle) {
      try {
        this.handle.close();
      } catch {
        // closing twice or after a failed open
      }
      this.handle = undefined;
    }
  }

  get root(): Hdf5Group {
    return new Hdf5Group(this, '/');
  }

  /** The group at an absolute path, or undefined. */
  group(p: string): Hdf5Group | undefined {
    const e = this.entity(p);
    return e instanceof Hdf5Group ? e : undefined;
  }

  /** The dataset at an absolute path, or undefined. */
  dataset(p: string): Hdf5Dataset | undefined {
    const e = this.entity(p);
    return e instanceof Hdf5Dataset ? e : undefined;
  }

  /** A group or dataset by absolute path (soft links followed; external links refused). */
  entity(p: string): Hdf5Group | Hdf5Dataset | undefined {
    const mod = loaded!;
    let obj: unknown;
    try {
      obj = this.ensureOpen().get(p);
    } catch (e) {
      throw this.error(`cannot open ${p}: ${hdf5ErrorText(e)}`, p, e);
    }
    if (obj instanceof mod.Group) return new Hdf5Group(this, p);
    if (obj instanceof mod.Dataset) return new Hdf5Dataset(this, p);
    return undefined;
  }

  /** @internal the raw h5wasm object at a path. */
  raw(p: string): H5Group | H5Dataset {
    const mod = loaded!;
    let obj: unknown;
    try {
      obj = this.ensureOpen().get(p);
    } catch (e) {
      throw this.error(`cannot open ${p}: ${hdf5ErrorText(e)}`, p, e);
    }
    if (obj instanceof mod.Group || obj instanceof mod.Dataset) return obj;
    throw this.error(`${p} is missing`, p);
  }

  /** @internal */
  fail(message: string, where?: string, cause?: unknown): MconvError {
    return this.error(message, where, cause);
  }
}

function joinPath(parent: string, name: string): string {
  return parent === '/' ? `/${name}` : `${parent}/${name}`;
}

/** A group: children and attributes, read on demand. */
export class Hdf5Group {
  constructor(readonly file: Hdf5File, readonly path: string) {}

  get name(): string {
    return this.path === '/' ? '/' : this.path.slice(this.path.lastIndexOf('/') + 1);
  }

  /** Child names in the file's order (creation order when tracked, else alphabetical). */
  keys(): string[] {
    return (this.file.raw(this.path) as H5Group).keys();
  }

  has(name: string): boolean {
    return this.keys().includes(name);
  }

  /** A child group or dataset; names may contain '/' to go deeper. */
  get(name: string): Hdf5Group | Hdf5Dataset | undefined {
    if (!this.hasPath(name)) return undefined;
    return this.file.entity(joinPath(this.path, name));
  }

  group(name: string): Hdf5Group | undefined {
    const e = this.get(name);
    return e instanceof Hdf5Group ? e : undefined;
  }

  dataset(name: string): Hdf5Dataset | undefined {
    const e = this.get(name);
    return e instanceof Hdf5Dataset ? e : undefined;
  }

  /** Whether a relative path exists, checked level by level (h5wasm's `get` of a missing path is an error). */
  private hasPath(rel: string): boolean {
    let cur: Hdf5Group = this;
    const parts = rel.split('/').filter((s) => s !== '');
    for (let i = 0; i < parts.length; i++) {
      if (!cur.keys().includes(parts[i]!)) return false;
      if (i < parts.length - 1) {
        const next = cur.file.entity(joinPath(cur.path, parts[i]!));
        if (!(next instanceof Hdf5Group)) return false;
        cur = next;
      }
    }
    return parts.length > 0;
  }

  attrNames(): string[] {
    return Object.keys((this.file.raw(this.path) as H5Group).attrs);
  }

  hasAttr(name: string): boolean {
    return this.attrNames().includes(name);
  }

  /** An attribute's value as h5wasm gives it (strings, numbers, typed arrays), or undefined. */
  attr(name: string): unknown {
    const attrs = (this.file.raw(this.path) as H5Group).attrs;
    const a = attrs[name];
    if (!a) return undefined;
    try {
      return a.value;
    } catch (e) {
      throw this.file.fail(`cannot read attribute ${name}: ${hdf5ErrorText(e)}`, `${this.path}@${name}`, e);
    }
  }

  /** A string attribute (bytes decoded as UTF-8), or undefined. */
  attrString(name: string): string | undefined {
    const v = this.attr(name);
    if (v === undefined || v === null) return undefined;
    if (typeof v === 'string') return v;
    if (v instanceof Uint8Array) return new TextDecoder().decode(v);
    if (Array.isArray(v) && v.length === 1 && typeof v[0] === 'string') return v[0];
    return String(v);
  }

  /**
   * A list of strings. Keras splits long lists over `name0`, `name1`, ... when one attribute would
   * pass HDF5's 64 KB header limit; those chunks are joined. Undefined when absent.
   */
  attrStrings(name: string): string[] | undefined {
    const names = this.attrNames();
    if (names.includes(name)) return toStringList(this.attr(name));
    if (!names.includes(`${name}0`)) return undefined;
    const out: string[] = [];
    for (let i = 0; names.includes(`${name}${i}`); i++) out.push(...toStringList(this.attr(`${name}${i}`)));
    return out;
  }

  /** A JSON attribute parsed, or undefined when absent; a parse error names the attribute. */
  attrJson(name: string): unknown {
    const s = this.attrString(name);
    if (s === undefined) return undefined;
    try {
      return JSON.parse(s);
    } catch (e) {
      throw this.file.fail(`attribute ${name} is not valid JSON: ${(e as Error).message}`, `${this.path}@${name}`, e);
    }
  }

  /** Every dataset below this group (depth first, in key order), with paths relative to it. */
  datasets(): { rel: string; dataset: Hdf5Dataset }[] {
    const out: { rel: string; dataset: Hdf5Dataset }[] = [];
    const walk = (g: Hdf5Group, prefix: string) => {
      for (const k of g.keys()) {
        const e = g.file.entity(joinPath(g.path, k));
        if (e instanceof Hdf5Dataset) out.push({ rel: prefix + k, dataset: e });
        else if (e instanceof Hdf5Group) walk(e, `${prefix}${k}/`);
      }
    };
    walk(this, '');
    return out;
  }
}

function toStringList(v: unknown): string[] {
  if (v === undefined || v === null) return [];
  if (typeof v === 'string') return [v];
  if (Array.isArray(v)) return v.map((x) => (x instanceof Uint8Array ? new TextDecoder().decode(x) : String(x)));
  // An empty numpy array (h5py writes `[]` as float64 with shape [0]) reads as a typed array or {}.
  if (ArrayBuffer.isView(v)) return (v as unknown as ArrayLike<unknown>).length === 0 ? [] : Array.from(v as unknown as ArrayLike<unknown>, String);
  if (typeof v === 'object' && Object.keys(v as object).length === 0) return [];
  return [String(v)];
}

/** H5T classes h5wasm reports in `metadata.type`. */
const H5T_INTEGER = 0;
const H5T_FLOAT = 1;
const H5T_STRING = 3;
const H5T_ENUM = 8;

/** The IR dtype of an HDF5 datatype, or undefined when it has none (compound, opaque, ...). */
export function hdf5DType(m: H5Metadata, dtypeAttr?: string): DType | undefined {
  if (dtypeAttr === 'bfloat16' && m.size === 2) return 'bfloat16';
  if (m.type === H5T_FLOAT) return m.size === 2 ? 'float16' : m.size === 4 ? 'float32' : m.size === 8 ? 'float64' : undefined;
  if (m.type === H5T_INTEGER) {
    const bits = m.size * 8;
    if (![8, 16, 32, 64].includes(bits)) return undefined;
    return `${m.signed ? 'int' : 'uint'}${bits}` as DType;
  }
  // numpy bool is an enum over int8 {FALSE, TRUE}.
  if (m.type === H5T_ENUM && m.size === 1) return 'bool';
  if (m.type === H5T_STRING) return 'string';
  return undefined;
}

/** A dataset: shape and dtype from its header; the data only when asked. */
export class Hdf5Dataset {
  private meta?: H5Metadata;

  constructor(readonly file: Hdf5File, readonly path: string) {}

  get name(): string {
    return this.path.slice(this.path.lastIndexOf('/') + 1);
  }

  private metadata(): H5Metadata {
    if (!this.meta) {
      try {
        this.meta = (this.file.raw(this.path) as H5Dataset).metadata;
      } catch (e) {
        if (e instanceof MconvError) throw e;
        throw this.file.fail(`cannot read the header of dataset ${this.path}: ${hdf5ErrorText(e)}`, this.path, e);
      }
    }
    return this.meta;
  }

  /** Shape ([] for a scalar). */
  get shape(): number[] {
    return (this.metadata().shape ?? []).slice();
  }

  get size(): number {
    return shapeSize(this.shape);
  }

  /** The IR dtype, or undefined for types mconv does not map (compound, opaque, references). */
  get dtype(): DType | undefined {
    const m = this.metadata();
    let tag: string | undefined;
    if (m.size === 2 && m.type !== H5T_FLOAT) {
      // Keras 3 marks bfloat16 weights with a `dtype` attribute.
      const attrs = (this.file.raw(this.path) as H5Dataset).attrs;
      const a = attrs['dtype'];
      tag = a ? String(a.value) : undefined;
    }
    return hdf5DType(m, tag);
  }

  /** The dataset's stored bytes, as the file holds them (one copy out of the wasm heap). */
  private readRaw(): Uint8Array {
    const M = loaded!.Module;
    const ds = this.file.raw(this.path) as H5Dataset;
    const m = ds.metadata;
    const nbytes = m.size * m.total_size;
    if (nbytes === 0) return new Uint8Array(0);
    const ptr = M._malloc(nbytes);
    if (!ptr) throw this.file.fail(`cannot allocate ${nbytes} bytes to read dataset ${this.path}`, this.path);
    try {
      M.get_dataset_data(ds.file_id, this.path, null, null, null, BigInt(ptr));
      return M.HEAPU8.slice(ptr, ptr + nbytes);
    } finally {
      M._free(ptr);
    }
  }

  /** The dataset's values as little-endian bytes in row-major order (reads the file). */
  readBytes(): Uint8Array {
    const dtype = this.dtype;
    if (!dtype || dtype === 'string') throw this.file.fail(`dataset ${this.path} has a type mconv cannot read as numbers`, this.path);
    let raw: Uint8Array;
    try {
      raw = this.readRaw();
    } catch (e) {
      if (e instanceof MconvError) throw e;
      throw this.file.fail(`cannot read dataset ${this.path}: ${hdf5ErrorText(e)}`, this.path, e);
    }
    // h5wasm reads into the native (little-endian) type, whatever the file's byte order.
    if (dtype === 'bool') for (let i = 0; i < raw.length; i++) raw[i] = raw[i] ? 1 : 0;
    return raw;
  }

  /** A lazy tensor over the dataset (bytes read on first use). */
  tensor(name?: string): Tensor {
    const dtype = this.dtype;
    const shape = this.shape;
    if (!dtype) throw this.file.fail(`dataset ${this.path} has a type mconv cannot read`, this.path);
    if (dtype === 'string') {
      const raw = (this.file.raw(this.path) as H5Dataset).value;
      const list = toStringList(raw);
      return Tensor.fromStrings(shape, list, name ?? this.path);
    }
    return Tensor.lazy(dtype, shape, () => this.readBytes(), name ?? this.path);
  }
}
