/**
 * Small tensor computations in plain JS for the passes (constant folding, transposing constant
 * operands). Values are handled as numbers, or bigints for 64-bit integers (exact).
 */
import { DTYPE_BYTES, Tensor, shapeSize, type DType } from '../tensor.js';
import { rowMajorStrides } from '../tensor.js';

export type Scalar = number | bigint;

/** A tensor's elements as JS values: bigint for int64/uint64, number otherwise (bool as 0/1). */
export function elements(t: Tensor): Scalar[] {
  if (t.dtype === 'int64' || t.dtype === 'uint64') return Array.from(t.view() as BigInt64Array);
  return Array.from(t.toFloat64());
}

export function isWide(d: DType): boolean {
  return d === 'int64' || d === 'uint64';
}

export const FOLDABLE_DTYPES = new Set<DType>([
  'float32', 'float64', 'float16', 'bfloat16', 'int8', 'int16', 'int32', 'int64', 'uint8', 'uint16', 'uint32', 'uint64', 'bool',
]);

/** Converts a JS value to what `dtype` stores (truncation toward zero for integers, like a C cast). */
export function convert(v: Scalar, dtype: DType): Scalar {
  if (isWide(dtype)) {
    if (typeof v === 'bigint') return dtype === 'uint64' ? BigInt.asUintN(64, v) : BigInt.asIntN(64, v);
    if (!Number.isFinite(v)) return 0n;
    const b = BigInt(Math.trunc(v));
    return dtype === 'uint64' ? BigInt.asUintN(64, b) : BigInt.asIntN(64, b);
  }
  const n = Number(v);
  if (dtype === 'bool') return n !== 0 ? 1 : 0;
  if (dtype.startsWith('float') || dtype === 'bfloat16') return n;
  if (!Number.isFinite(n)) return 0;
  const bits = DTYPE_BYTES[dtype] * 8;
  const t = Math.trunc(n);
  if (dtype.startsWith('uint')) return ((t % 2 ** bits) + 2 ** bits) % 2 ** bits;
  const m = ((t % 2 ** bits) + 2 ** bits) % 2 ** bits;
  return m >= 2 ** (bits - 1) ? m - 2 ** bits : m;
}

export function makeTensor(dtype: DType, shape: number[], values: Scalar[]): Tensor {
  return Tensor.fromArray(dtype, shape, values.map((v) => convert(v, dtype)));
}

export const strides = rowMajorStrides;

/** Transposes any tensor (strings included) by moving whole elements. */
export function transposeTensor(t: Tensor, perm: number[]): Tensor {
  const inShape = t.shape;
  const outShape = perm.map((p) => inShape[p]!);
  const n = t.size;
  const inStr = strides(inShape);
  const rank = inShape.length;
  // Source index for each output index, walking the output in order.
  const srcIndex = new Int32Array(n);
  const idx = new Array<number>(rank).fill(0);
  for (let o = 0; o < n; o++) {
    let src = 0;
    for (let k = 0; k < rank; k++) src += idx[k]! * inStr[perm[k]!]!;
    srcIndex[o] = src;
    for (let k = rank - 1; k >= 0; k--) {
      if (++idx[k]! < outShape[k]!) break;
      idx[k] = 0;
    }
  }
  if (t.dtype === 'string') {
    const s = t.strings;
    return Tensor.fromStrings(outShape, Array.from(srcIndex, (i) => s[i]!));
  }
  const w = DTYPE_BYTES[t.dtype];
  const src = t.bytes;
  const dst = new Uint8Array(n * w);
  for (let o = 0; o < n; o++) dst.set(src.subarray(srcIndex[o]! * w, srcIndex[o]! * w + w), o * w);
  return Tensor.fromBytes(t.dtype, outShape, dst);
}

/** numpy broadcasting of two shapes; undefined when they do not broadcast. */
export function broadcastShape(a: number[], b: number[]): number[] | undefined {
  const r = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < r; i++) {
    const x = a[i - (r - a.length)] ?? 1;
    const y = b[i - (r - b.length)] ?? 1;
    if (x !== y && x !== 1 && y !== 1) return undefined;
    out.push(x === 1 ? y : x);
  }
  return out;
}

/** Flat source indices of `shape` broadcast to `out`. */
export function broadcastIndex(shape: number[], out: number[]): Int32Array {
  const n = shapeSize(out);
  const res = new Int32Array(n);
  const r = out.length;
  const st = strides(shape);
  const offset = r - shape.length;
  const idx = new Array<number>(r).fill(0);
  for (let o = 0; o < n; o++) {
    let src = 0;
    for (let k = offset; k < r; k++) if (shape[k - offset] !== 1) src += idx[k]! * st[k - offset]!;
    res[o] = src;
    for (let k = r - 1; k >= 0; k--) {
      if (++idx[k]! < out[k]!) break;
      idx[k] = 0;
    }
  }
  return res;
}

/** Gathers along an axis (ONNX Gather). Indices may be negative. */
export function gather(t: Tensor, indices: Tensor, axis: number): Tensor | undefined {
  const s = t.shape;
  const ax = axis < 0 ? axis + s.length : axis;
  const idx = elements(indices).map(Number);
  const d = s[ax]!;
  if (idx.some((i) => i < -d || i >= d)) return undefined;
  const outer = shapeSize(s.slice(0, ax));
  const inner = shapeSize(s.slice(ax + 1));
  const vals = elements(t);
  const out: Scalar[] = [];
  for (let o = 0; o < outer; o++) {
    for (const i of idx) {
      const j = i < 0 ? i + d : i;
      for (let k = 0; k < inner; k++) out.push(vals[(o * d + j) * inner + k]!);
    }
  }
  return makeTensor(t.dtype, [...s.slice(0, ax), ...indices.shape, ...s.slice(ax + 1)], out);
}

export function concat(ts: Tensor[], axis: number): Tensor | undefined {
  const s0 = ts[0]!.shape;
  const ax = axis < 0 ? axis + s0.length : axis;
  for (const t of ts) {
    if (t.shape.length !== s0.length || t.dtype !== ts[0]!.dtype) return undefined;
    if (t.shape.some((d, i) => i !== ax && d !== s0[i])) return undefined;
  }
  const outer = shapeSize(s0.slice(0, ax));
  const parts = ts.map((t) => ({ vals: elements(t), chunk: shapeSize(t.shape.slice(ax)) }));
  const out: Scalar[] = [];
  for (let o = 0; o < outer; o++) for (const p of parts) for (let k = 0; k < p.chunk; k++) out.push(p.vals[o * p.chunk + k]!);
  const shape = s0.slice();
  shape[ax] = ts.reduce((acc, t) => acc + t.shape[ax]!, 0);
  return makeTensor(ts[0]!.dtype, shape, out);
}

/** ONNX Slice with known starts/ends/axes/steps. */
export function slice(t: Tensor, starts: number[], ends: number[], axes: number[] | undefined, steps: number[] | undefined): Tensor | undefined {
  const s = t.shape;
  const r = s.length;
  const begin = new Array<number>(r).fill(0);
  const step = new Array<number>(r).fill(1);
  const len = s.slice();
  const ax = axes ?? starts.map((_, i) => i);
  for (let k = 0; k < ax.length; k++) {
    const a = ax[k]! < 0 ? ax[k]! + r : ax[k]!;
    const d = s[a]!;
    const sp = steps?.[k] ?? 1;
    if (sp === 0) return undefined;
    let st = starts[k]! < 0 ? starts[k]! + d : starts[k]!;
    let en = ends[k]! < 0 ? ends[k]! + d : ends[k]!;
    if (sp > 0) {
      st = Math.min(Math.max(st, 0), d);
      en = Math.min(Math.max(en, 0), d);
      len[a] = Math.max(0, Math.ceil((en - st) / sp));
    } else {
      st = Math.min(Math.max(st, -1), d - 1);
      en = Math.min(Math.max(en, -1), d - 1);
      len[a] = Math.max(0, Math.ceil((st - en) / -sp));
    }
    begin[a] = st;
    step[a] = sp;
  }
  const vals = elements(t);
  const st = strides(s);
  const n = shapeSize(len);
  const out: Scalar[] = [];
  const idx = new Array<number>(r).fill(0);
  for (let o = 0; o < n; o++) {
    let src = 0;
    for (let k = 0; k < r; k++) src += (begin[k]! + idx[k]! * step[k]!) * st[k]!;
    out.push(vals[src]!);
    for (let k = r - 1; k >= 0; k--) {
      if (++idx[k]! < len[k]!) break;
      idx[k] = 0;
    }
  }
  return makeTensor(t.dtype, len, out);
}

export type ArithOp = 'Add' | 'Sub' | 'Mul' | 'Div';

/** Broadcasting arithmetic, in the input dtype (integer division truncates toward zero). */
export function arith(op: ArithOp, a: Tensor, b: Tensor): Tensor | undefined {
  if (a.dtype !== b.dtype || a.dtype === 'bool') return undefined;
  const shape = broadcastShape(a.shape, b.shape);
  if (!shape) return undefined;
  const ia = broadcastIndex(a.shape, shape);
  const ib = broadcastIndex(b.shape, shape);
  const va = elements(a);
  const vb = elements(b);
  const dtype = a.dtype;
  const isInt = dtype.includes('int');
  const out: Scalar[] = new Array(ia.length);
  for (let i = 0; i < ia.length; i++) {
    const x = va[ia[i]!]!;
    const y = vb[ib[i]!]!;
    if (typeof x === 'bigint' && typeof y === 'bigint') {
      if (op === 'Div' && y === 0n) return undefined;
      out[i] = op === 'Add' ? x + y : op === 'Sub' ? x - y : op === 'Mul' ? x * y : x / y;
    } else {
      const xn = Number(x);
      const yn = Number(y);
      if (op === 'Div' && isInt && yn === 0) return undefined;
      let r = op === 'Add' ? xn + yn : op === 'Sub' ? xn - yn : op === 'Mul' ? xn * yn : xn / yn;
      if (dtype === 'float32') r = Math.fround(r);
      out[i] = r;
    }
  }
  return makeTensor(dtype, shape, out);
}

export function cast(t: Tensor, to: DType): Tensor {
  return makeTensor(to, t.shape, elements(t));
}
