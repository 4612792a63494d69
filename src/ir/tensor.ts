/**
 * Tensors of the IR: a dtype, a concrete shape and bytes (little-endian, row-major).
 * Data is lazy: a tensor may hold only a loader (a view into the source file) and is
 * materialised on first use, so inspecting a model never reads weight bytes it does not print.
 */

export type DType =
  | 'float32' | 'float64' | 'float16' | 'bfloat16'
  | 'int8' | 'int16' | 'int32' | 'int64'
  | 'uint8' | 'uint16' | 'uint32' | 'uint64'
  | 'bool' | 'string' | 'complex64' | 'complex128';

/** A dimension: a number, or a symbolic name such as `batch` or `N`. */
export type Dim = number | string;
export type Shape = Dim[];

export const DTYPE_BYTES: Record<DType, number> = {
  float32: 4, float64: 8, float16: 2, bfloat16: 2,
  int8: 1, int16: 2, int32: 4, int64: 8,
  uint8: 1, uint16: 2, uint32: 4, uint64: 8,
  bool: 1, string: 0, complex64: 8, complex128: 16,
};

export const ALL_DTYPES = Object.keys(DTYPE_BYTES) as DType[];

export function isFloatDType(d: DType): boolean {
  return d === 'float32' || d === 'float64' || d === 'float16' || d === 'bfloat16';
}
export function isIntDType(d: DType): boolean {
  return d.startsWith('int') || d.startsWith('uint');
}

export function shapeSize(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Row-major (C order) element strides of a shape. */
export function rowMajorStrides(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i]!;
  }
  return s;
}

export function isStaticShape(shape: Shape | undefined): shape is number[] {
  return !!shape && shape.every((d) => typeof d === 'number' && d >= 0);
}

export function formatShape(shape: Shape | undefined): string {
  if (!shape) return '?';
  return '[' + shape.map((d) => String(d)).join(', ') + ']';
}

/** Values a tensor can be built from. */
export type NumericArray =
  | Float32Array | Float64Array | Int8Array | Int16Array | Int32Array | BigInt64Array
  | Uint8Array | Uint16Array | Uint32Array | BigUint64Array;

export class Tensor {
  readonly dtype: DType;
  readonly shape: number[];
  /** Optional name (an initializer name, a layer weight path). */
  name?: string;
  private _bytes?: Uint8Array;
  private _loader?: () => Uint8Array;
  private _strings?: Uint8Array[];
  private readonly _byteLength: number;

  private constructor(dtype: DType, shape: number[], byteLength: number) {
    this.dtype = dtype;
    this.shape = shape.slice();
    this._byteLength = byteLength;
  }

  /** A tensor over bytes already in memory (no copy: the caller must not change them). */
  static fromBytes(dtype: DType, shape: number[], bytes: Uint8Array, name?: string): Tensor {
    if (dtype === 'string') throw new Error('string tensors are built with Tensor.fromStrings');
    const expected = shapeSize(shape) * DTYPE_BYTES[dtype];
    if (bytes.byteLength !== expected) {
      throw new Error(
        `tensor ${name ?? ''} of ${dtype}${formatShape(shape)} needs ${expected} bytes, got ${bytes.byteLength}`,
      );
    }
    const t = new Tensor(dtype, shape, expected);
    t._bytes = bytes;
    t.name = name;
    return t;
  }

  /** A lazy tensor: `loader` is called once, on first access to the bytes. */
  static lazy(dtype: DType, shape: number[], loader: () => Uint8Array, name?: string): Tensor {
    const t = new Tensor(dtype, shape, shapeSize(shape) * DTYPE_BYTES[dtype]);
    t._loader = loader;
    t.name = name;
    return t;
  }

  static fromStrings(shape: number[], values: (string | Uint8Array)[], name?: string): Tensor {
    if (values.length !== shapeSize(shape)) {
      throw new Error(`string tensor ${name ?? ''}: ${values.length} values for shape ${formatShape(shape)}`);
    }
    const enc = new TextEncoder();
    const t = new Tensor('string', shape, 0);
    t._strings = values.map((v) => (typeof v === 'string' ? enc.encode(v) : v));
    t.name = name;
    return t;
  }

  /** Build from JS numbers (or bigints/booleans). float16/bfloat16 are encoded from numbers. */
  static fromArray(
    dtype: DType,
    shape: number[],
    values: ArrayLike<number | bigint | boolean>,
    name?: string,
  ): Tensor {
    const n = shapeSize(shape);
    if (values.length !== n) {
      throw new Error(`tensor ${name ?? ''}: ${values.length} values for shape ${formatShape(shape)}`);
    }
    const bytes = new Uint8Array(n * DTYPE_BYTES[dtype]);
    const view = typedView(dtype, bytes);
    for (let i = 0; i < n; i++) {
      const v = values[i];
      if (dtype === 'int64' || dtype === 'uint64') {
        (view as BigInt64Array)[i] = typeof v === 'bigint' ? v : BigInt(Math.trunc(Number(v)));
      } else if (dtype === 'float16') {
        (view as Uint16Array)[i] = float32ToFloat16(Number(v));
      } else if (dtype === 'bfloat16') {
        (view as Uint16Array)[i] = float32ToBfloat16(Number(v));
      } else if (dtype === 'bool') {
        (view as Uint8Array)[i] = v ? 1 : 0;
      } else if (dtype === 'complex64' || dtype === 'complex128') {
        throw new Error('complex tensors are built with Tensor.fromBytes');
      } else {
        (view as Float32Array)[i] = Number(v);
      }
    }
    return Tensor.fromBytes(dtype, shape, bytes, name);
  }

  get size(): number {
    return shapeSize(this.shape);
  }
  get rank(): number {
    return this.shape.length;
  }
  /** Byte length without materialising (0 for strings until read). */
  get byteLength(): number {
    if (this.dtype === 'string') return this._strings ? this._strings.reduce((a, s) => a + s.byteLength, 0) : 0;
    return this._byteLength;
  }
  get isMaterialised(): boolean {
    return this._bytes !== undefined || this._strings !== undefined;
  }

  /** The raw little-endian bytes (materialises a lazy tensor). */
  get bytes(): Uint8Array {
    if (this.dtype === 'string') throw new Error('string tensors have no fixed-width bytes; use .strings');
    if (!this._bytes) {
      if (!this._loader) throw new Error(`tensor ${this.name ?? ''} has no data`);
      const b = this._loader();
      if (b.byteLength !== this._byteLength) {
        throw new Error(`tensor ${this.name ?? ''}: expected ${this._byteLength} bytes, source gave ${b.byteLength}`);
      }
      this._bytes = b;
      this._loader = undefined;
    }
    return this._bytes;
  }

  /**
   * The bytes without keeping them: a lazy tensor reads its source again and does not cache,
   * so a writer can stream many large weights without holding them all.
   */
  readBytes(): Uint8Array {
    if (this._bytes) return this._bytes;
    if (this.dtype === 'string') throw new Error('string tensors have no fixed-width bytes; use .strings');
    if (!this._loader) throw new Error(`tensor ${this.name ?? ''} has no data`);
    const b = this._loader();
    if (b.byteLength !== this._byteLength) {
      throw new Error(`tensor ${this.name ?? ''}: expected ${this._byteLength} bytes, source gave ${b.byteLength}`);
    }
    return b;
  }

  get strings(): Uint8Array[] {
    if (this.dtype !== 'string' || !this._strings) throw new Error('not a string tensor');
    return this._strings;
  }
  stringValues(): string[] {
    const dec = new TextDecoder();
    return this.strings.map((s) => dec.decode(s));
  }

  /** A typed view of the bytes (float16/bfloat16 as raw Uint16Array, bool as Uint8Array). */
  view(): NumericArray {
    return typedView(this.dtype, this.bytes);
  }

  /** Values as doubles (float16/bfloat16 decoded, int64 converted with possible precision loss). */
  toFloat64(): Float64Array {
    const n = this.size;
    const out = new Float64Array(n);
    if (this.dtype === 'string') throw new Error('cannot convert string tensor to numbers');
    const v = this.view();
    if (this.dtype === 'float16') {
      for (let i = 0; i < n; i++) out[i] = float16ToFloat32((v as Uint16Array)[i]!);
    } else if (this.dtype === 'bfloat16') {
      for (let i = 0; i < n; i++) out[i] = bfloat16ToFloat32((v as Uint16Array)[i]!);
    } else if (this.dtype === 'complex64' || this.dtype === 'complex128') {
      throw new Error('cannot convert complex tensor to real numbers');
    } else {
      for (let i = 0; i < n; i++) out[i] = Number(v[i]!);
    }
    return out;
  }

  /** Values as a plain JS array (numbers; bigint for 64-bit ints; strings for string tensors). */
  toArray(): (number | bigint | string)[] {
    if (this.dtype === 'string') return this.stringValues();
    if (this.dtype === 'int64' || this.dtype === 'uint64') return Array.from(this.view() as BigInt64Array);
    return Array.from(this.toFloat64());
  }

  /** A copy with the same data but another shape (same element count). */
  reshape(shape: number[]): Tensor {
    if (shapeSize(shape) !== this.size) throw new Error(`cannot reshape ${formatShape(this.shape)} to ${formatShape(shape)}`);
    if (this.dtype === 'string') return Tensor.fromStrings(shape, this.strings, this.name);
    if (!this.isMaterialised) return Tensor.lazy(this.dtype, shape, () => this.bytes, this.name);
    return Tensor.fromBytes(this.dtype, shape, this.bytes, this.name);
  }

  /** Deep copy (materialises). */
  clone(): Tensor {
    if (this.dtype === 'string') return Tensor.fromStrings(this.shape, this.strings.map((s) => s.slice()), this.name);
    return Tensor.fromBytes(this.dtype, this.shape, this.bytes.slice(), this.name);
  }
}

/** A typed array over `bytes` for `dtype`; copies only when `bytes` is misaligned. */
export function typedView(dtype: DType, bytes: Uint8Array): NumericArray {
  const width = DTYPE_BYTES[dtype];
  let b = bytes;
  // Copy into a fresh buffer: a Node Buffer's slice() would only make another misaligned view.
  if (width > 1 && b.byteOffset % width !== 0) b = new Uint8Array(b);
  const n = width ? b.byteLength / width : 0;
  switch (dtype) {
    case 'float32': return new Float32Array(b.buffer, b.byteOffset, n);
    case 'float64': return new Float64Array(b.buffer, b.byteOffset, n);
    case 'float16':
    case 'bfloat16':
    case 'uint16': return new Uint16Array(b.buffer, b.byteOffset, n);
    case 'int8': return new Int8Array(b.buffer, b.byteOffset, n);
    case 'int16': return new Int16Array(b.buffer, b.byteOffset, n);
    case 'int32': return new Int32Array(b.buffer, b.byteOffset, n);
    case 'int64': return new BigInt64Array(b.buffer, b.byteOffset, n);
    case 'uint64': return new BigUint64Array(b.buffer, b.byteOffset, n);
    case 'uint8':
    case 'bool': return new Uint8Array(b.buffer, b.byteOffset, n);
    case 'uint32': return new Uint32Array(b.buffer, b.byteOffset, n);
    case 'complex64': return new Float32Array(b.buffer, b.byteOffset, n * 2);
    case 'complex128': return new Float64Array(b.buffer, b.byteOffset, n * 2);
    default: throw new Error(`no typed view for ${dtype}`);
  }
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

export function float16ToFloat32(h: number): number {
  const s = (h & 0x8000) >> 15;
  const e = (h & 0x7c00) >> 10;
  const f = h & 0x03ff;
  let v: number;
  if (e === 0) v = f * 2 ** -24;
  else if (e === 0x1f) v = f ? NaN : Infinity;
  else v = (1 + f / 1024) * 2 ** (e - 15);
  return s ? -v : v;
}

/** Round-to-nearest-even float32 -> float16 bits. */
export function float32ToFloat16(value: number): number {
  f32[0] = value;
  const x = u32[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  let e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let half = mant >>> shift;
    const rem = mant & ((1 << shift) - 1);
    const mid = 1 << (shift - 1);
    if (rem > mid || (rem === mid && half & 1)) half++;
    return sign | half;
  }
  let half = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && half & 1)) half++;
  return sign | half;
}

export function bfloat16ToFloat32(b: number): number {
  u32[0] = b << 16;
  return f32[0]!;
}

export function float32ToBfloat16(value: number): number {
  f32[0] = value;
  const x = u32[0]!;
  if (Number.isNaN(value)) return 0x7fc0;
  const lsb = (x >>> 16) & 1;
  return ((x + 0x7fff + lsb) >>> 16) & 0xffff;
}
