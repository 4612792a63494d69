/**
 * PyTorch storages and the tensors viewing them.
 *
 * A storage is a flat run of elements of one dtype (a zip entry `data/<key>`, or a region of a legacy
 * file). Tensors are views: (storage, offset, size, stride). A tensor that is a contiguous view of a
 * little-endian storage used by no other tensor stays a lazy positional read of just its bytes; a
 * storage shared by several tensors (tied weights), a big-endian storage, or a strided view reads the
 * whole storage once (cached) and derives each tensor from it.
 */
import { MconvError } from '../../errors.js';
import { DTYPE_BYTES, Tensor, type DType } from '../../ir/tensor.js';

export type StorageReader = (byteOffset: number, byteLength: number) => Uint8Array;

export class TorchStorage {
  /** How many tensors view this storage. */
  users = 0;
  private cache?: Uint8Array;
  private reader?: StorageReader;

  constructor(
    /** The storage key (`data/<key>` entry name, legacy root key). */
    readonly key: string,
    readonly dtype: DType,
    /** Element count (checked against the bytes actually present before any tensor is built). */
    readonly numel: number,
    /** True when the bytes on disk are big-endian (converted to little-endian on read). */
    readonly bigEndian: boolean,
    reader?: StorageReader,
  ) {
    this.reader = reader;
  }

  get elementSize(): number {
    return DTYPE_BYTES[this.dtype];
  }
  get byteLength(): number {
    return this.numel * this.elementSize;
  }
  get resolved(): boolean {
    return this.reader !== undefined;
  }
  /** Sets where the bytes are (legacy files learn it only after the object pickle). */
  resolve(reader: StorageReader): void {
    this.reader = reader;
  }

  private readRaw(byteOffset: number, byteLength: number): Uint8Array {
    if (!this.reader) throw new Error(`storage ${this.key} has no data`);
    const raw = this.reader(byteOffset, byteLength);
    if (raw.byteLength !== byteLength) {
      throw new MconvError({ kind: 'unreadable', message: `storage ${this.key}: expected ${byteLength} bytes, the file gave ${raw.byteLength}`, hint: 'the file is truncated or corrupt' });
    }
    if (!this.bigEndian || this.elementSize === 1) return raw;
    const out = raw.slice();
    swapInPlace(out, this.elementSize);
    return out;
  }

  /** The whole storage, little-endian; read once and kept. */
  bytes(): Uint8Array {
    if (!this.cache) this.cache = this.readRaw(0, this.byteLength);
    return this.cache;
  }

  /** `count` elements from element `offset`, little-endian. */
  elements(offset: number, count: number): Uint8Array {
    const es = this.elementSize;
    if (this.cache || this.users > 1) return this.bytes().subarray(offset * es, (offset + count) * es);
    return this.readRaw(offset * es, count * es);
  }
}

/** Reverses the bytes of each `width`-byte element. */
export function swapInPlace(b: Uint8Array, width: number): void {
  for (let i = 0; i + width <= b.length; i += width) {
    for (let lo = i, hi = i + width - 1; lo < hi; lo++, hi--) {
      const t = b[lo]!;
      b[lo] = b[hi]!;
      b[hi] = t;
    }
  }
}

/** True when (size, stride) is the row-major layout (dims of size 1 may have any stride). */
export function isContiguous(size: readonly number[], stride: readonly number[]): boolean {
  let expected = 1;
  for (let i = size.length - 1; i >= 0; i--) {
    if (size[i] !== 1 && stride[i] !== expected) return false;
    expected *= size[i]!;
  }
  return true;
}

/** Copies a strided view into contiguous row-major bytes. */
export function gatherStrided(src: Uint8Array, es: number, offset: number, size: readonly number[], stride: readonly number[]): Uint8Array {
  const rank = size.length;
  let n = 1;
  for (const d of size) n *= d;
  const out = new Uint8Array(n * es);
  if (n === 0) return out;
  if (rank === 0) {
    out.set(src.subarray(offset * es, offset * es + es));
    return out;
  }
  const idx = new Array<number>(rank).fill(0);
  const inner = size[rank - 1]!;
  const innerStride = stride[rank - 1]!;
  let base = offset;
  let o = 0;
  for (;;) {
    if (innerStride === 1) {
      out.set(src.subarray(base * es, (base + inner) * es), o);
      o += inner * es;
    } else {
      for (let j = 0, s = base * es; j < inner; j++, s += innerStride * es) {
        for (let k = 0; k < es; k++) out[o++] = src[s + k]!;
      }
    }
    // advance the outer multi-index
    let d = rank - 2;
    for (; d >= 0; d--) {
      idx[d]!++;
      base += stride[d]!;
      if (idx[d]! < size[d]!) break;
      base -= stride[d]! * size[d]!;
      idx[d] = 0;
    }
    if (d < 0) break;
  }
  return out;
}

export interface TensorView {
  storage: TorchStorage;
  offset: number;
  size: number[];
  stride: number[];
}

/**
 * Checks a view against its storage (every element it reaches must exist) and builds the lazy IR
 * tensor. Throws an MconvError describing the bad claim; nothing is read here.
 */
export function tensorFromView(v: TensorView, bad: (message: string) => MconvError): Tensor {
  const { storage, offset, size, stride } = v;
  if (size.length !== stride.length) throw bad(`tensor has ${size.length} sizes but ${stride.length} strides`);
  const es = storage.elementSize;
  let numel = 1;
  let last = offset;
  for (let i = 0; i < size.length; i++) {
    numel *= size[i]!;
    if (!Number.isSafeInteger(numel) || numel * es > Number.MAX_SAFE_INTEGER) throw bad(`tensor of size [${size.join(', ')}] has too many elements`);
  }
  if (numel > 0) {
    for (let i = 0; i < size.length; i++) last += (size[i]! - 1) * stride[i]!;
    if (!Number.isSafeInteger(last) || last >= storage.numel) {
      throw bad(`tensor of size [${size.join(', ')}] with stride [${stride.join(', ')}] at offset ${offset} reaches element ${last}, ` +
        `but its storage ${storage.key} holds ${storage.numel} elements`);
    }
  }
  storage.users++;
  const dtype = storage.dtype;
  const shape = size.slice();
  if (numel === 0) return Tensor.fromBytes(dtype, shape, new Uint8Array(0));
  if (isContiguous(size, stride)) {
    // Tensors sharing a storage (tied weights) share its bytes: IR tensors are never written to.
    return Tensor.lazy(dtype, shape, () => storage.elements(offset, numel));
  }
  return Tensor.lazy(dtype, shape, () => gatherStrided(storage.bytes(), es, offset, size, stride));
}
