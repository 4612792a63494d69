/**
 * Helpers shared by the inference rules: broadcasting with symbolic dims, axis normalisation,
 * conv/pool output sizes, the ONNX data type enum.
 */
import type { DType, Dim, Shape } from '../tensor.js';
import type { InferContext, ValueType } from './schema.js';

/** ONNX TensorProto.DataType codes, by our dtype names. */
export const ONNX_DTYPE_CODES: Record<DType, number> = {
  float32: 1, uint8: 2, int8: 3, uint16: 4, int16: 5, int32: 6, int64: 7, string: 8, bool: 9,
  float16: 10, float64: 11, uint32: 12, uint64: 13, complex64: 14, complex128: 15, bfloat16: 16,
};

const CODE_TO_DTYPE = new Map<number, DType>(
  Object.entries(ONNX_DTYPE_CODES).map(([k, v]) => [v, k as DType]),
);

/** The dtype for an ONNX TensorProto.DataType code, or undefined for codes we do not model. */
export function dtypeFromOnnxCode(code: number): DType | undefined {
  return CODE_TO_DTYPE.get(code);
}

export function isNumericDim(d: Dim | undefined): d is number {
  return typeof d === 'number';
}

/** Normalises a possibly negative axis against a rank; fails when out of range. */
export function normAxis(ctx: InferContext, axis: number, rank: number, what = 'axis'): number {
  const a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank) ctx.fail(`${what} ${axis} is out of range for rank ${rank}`);
  return a;
}

/** Product of dims: a number when all are numbers, otherwise undefined. */
export function dimProduct(dims: Dim[]): number | undefined {
  let p = 1;
  for (const d of dims) {
    if (typeof d !== 'number') return undefined;
    p *= d;
  }
  return p;
}

/**
 * One output dim from several broadcast dims. 1s drop out; equal names merge; a number other
 * than 1 wins over a symbol (the symbol must equal it or be 1); two different symbols give a
 * fresh symbol from `fresh()`. Returns undefined on a contradiction (two different numbers > 1).
 */
export function broadcastDim(dims: Dim[], fresh: () => string): Dim | undefined {
  let num: number | undefined;
  const syms = new Set<string>();
  for (const d of dims) {
    if (typeof d === 'number') {
      if (d === 1) continue;
      if (num !== undefined && num !== d) return undefined;
      num = d;
    } else syms.add(d);
  }
  if (num !== undefined) return num;
  if (syms.size === 0) return 1;
  if (syms.size === 1) return [...syms][0]!;
  return fresh();
}

/** Multidirectional (numpy) broadcasting of several shapes. Undefined when any rank is unknown. */
export function broadcastShapes(ctx: InferContext, shapes: (Shape | undefined)[], out = 0): Shape | undefined {
  if (shapes.some((s) => s === undefined)) return undefined;
  const ss = shapes as Shape[];
  const rank = Math.max(0, ...ss.map((s) => s.length));
  const result: Shape = [];
  for (let i = 0; i < rank; i++) {
    const dims: Dim[] = [];
    for (const s of ss) {
      const j = i - (rank - s.length);
      if (j >= 0) dims.push(s[j]!);
    }
    const d = broadcastDim(dims, () => ctx.sym(out, i));
    if (d === undefined) {
      ctx.fail(`cannot broadcast shapes ${ss.map((s) => '[' + s.join(', ') + ']').join(' and ')} (dimension ${i})`);
    }
    result.push(d);
  }
  return result;
}

/** Same dtype and shape as input 0 (elementwise unary ops). */
export function sameAsInput(ctx: InferContext, i = 0): ValueType {
  return { dtype: ctx.dtype(i), shape: ctx.shape(i)?.slice() };
}

/** Spatial parameters of a conv or pool node after defaults. */
export interface SpatialParams {
  kernel: Dim[];
  strides: number[];
  dilations: number[];
  pads: number[];
  autoPad: string;
  ceilMode: boolean;
}

export function spatialParams(ctx: InferContext, spatialRank: number, kernel: Dim[]): SpatialParams {
  const strides = ctx.attrInts('strides') ?? [];
  const dilations = ctx.attrInts('dilations') ?? [];
  const pads = ctx.attrInts('pads') ?? [];
  const autoPad = ctx.attrString('auto_pad') ?? 'NOTSET';
  if (kernel.length !== spatialRank) ctx.fail(`kernel has ${kernel.length} dims, input has ${spatialRank} spatial dims`);
  const s = strides.length ? strides : new Array<number>(spatialRank).fill(1);
  const d = dilations.length ? dilations : new Array<number>(spatialRank).fill(1);
  const p = pads.length ? pads : new Array<number>(spatialRank * 2).fill(0);
  if (s.length !== spatialRank) ctx.fail(`strides has ${s.length} values, expected ${spatialRank}`);
  if (d.length !== spatialRank) ctx.fail(`dilations has ${d.length} values, expected ${spatialRank}`);
  if (p.length !== spatialRank * 2) ctx.fail(`pads has ${p.length} values, expected ${spatialRank * 2}`);
  return { kernel, strides: s, dilations: d, pads: p, autoPad, ceilMode: (ctx.attrInt('ceil_mode') ?? 0) !== 0 };
}

/** Output spatial dims of a conv or pool window. Symbolic input dims give fresh symbols. */
export function windowOutputDims(ctx: InferContext, inDims: Dim[], p: SpatialParams, out = 0, firstDim = 2): Dim[] {
  return inDims.map((x, i) => {
    const k = p.kernel[i];
    if (typeof x !== 'number' || typeof k !== 'number') return ctx.sym(out, firstDim + i);
    const s = p.strides[i]!;
    const dk = (k - 1) * p.dilations[i]! + 1;
    if (p.autoPad === 'SAME_UPPER' || p.autoPad === 'SAME_LOWER') return Math.ceil(x / s);
    if (p.autoPad === 'VALID') {
      const n = x - dk;
      return (p.ceilMode ? Math.ceil(n / s) : Math.floor(n / s)) + 1;
    }
    const padded = x + p.pads[i]! + p.pads[i + inDims.length]! - dk;
    if (p.ceilMode) {
      let o = Math.ceil(padded / s) + 1;
      // The last window must start inside the input or the left padding.
      if ((o - 1) * s >= x + p.pads[i]!) o--;
      return o;
    }
    return Math.floor(padded / s) + 1;
  });
}

/** Replace negative or symbolic dims by fresh symbols; numbers stay. */
export function asShape(ctx: InferContext, dims: Dim[], out = 0): Shape {
  return dims.map((d, i) => (typeof d === 'number' && d >= 0 ? d : typeof d === 'string' ? d : ctx.sym(out, i)));
}

/** Elementwise arithmetic on known dims (data propagation of shape computations). */
export function dimArith(op: 'Add' | 'Sub' | 'Mul' | 'Div', x: Dim, y: Dim): Dim | undefined {
  if (typeof x === 'number' && typeof y === 'number') {
    switch (op) {
      case 'Add': return x + y;
      case 'Sub': return x - y;
      case 'Mul': return x * y;
      case 'Div': return y === 0 ? undefined : Math.trunc(x / y);
    }
  }
  if (op === 'Mul' && (x === 1 || y === 1)) return x === 1 ? y : x;
  if (op === 'Div' && y === 1) return x;
  if ((op === 'Add' || op === 'Sub') && y === 0) return x;
  if (op === 'Add' && x === 0) return y;
  return undefined;
}

/** Clamp of slice bounds (ONNX Slice semantics) for a known dim; returns the output length. */
export function sliceLength(dim: number, start: number, end: number, step: number): number {
  if (step === 0) throw new Error('slice step is 0');
  let s = start < 0 ? start + dim : start;
  let e = end < 0 ? end + dim : end;
  if (step > 0) {
    s = Math.min(Math.max(s, 0), dim);
    e = Math.min(Math.max(e, 0), dim);
    return Math.max(0, Math.ceil((e - s) / step));
  }
  s = Math.min(Math.max(s, -1), dim - 1);
  e = Math.min(Math.max(e, -1), dim - 1);
  return Math.max(0, Math.ceil((s - e) / -step));
}

/** The elements a Slice takes from a known 1-D list (for data propagation). */
export function sliceList<T>(items: T[], start: number, end: number, step: number): T[] {
  const dim = items.length;
  let s = start < 0 ? start + dim : start;
  let e = end < 0 ? end + dim : end;
  const out: T[] = [];
  if (step > 0) {
    s = Math.min(Math.max(s, 0), dim);
    e = Math.min(Math.max(e, 0), dim);
    for (let i = s; i < e; i += step) out.push(items[i]!);
  } else {
    s = Math.min(Math.max(s, -1), dim - 1);
    e = Math.min(Math.max(e, -1), dim - 1);
    for (let i = s; i > e; i += step) out.push(items[i]!);
  }
  return out;
}

/**
 * Product of dims allowing one symbol: all numbers give their product; exactly one symbol times
 * numbers whose product is 1 gives that symbol; anything else is undefined (unknown).
 */
export function symbolicProduct(dims: Dim[]): Dim | undefined {
  let p = 1;
  let sym: string | undefined;
  for (const d of dims) {
    if (typeof d === 'number') p *= d;
    else if (sym === undefined) sym = d;
    else return undefined;
  }
  if (sym === undefined) return p;
  if (p === 0) return 0;
  return p === 1 ? sym : undefined;
}

/** Merges dims that must be equal (Concat's non-axis dims, Where branches): a number wins, else the first symbol. */
export function mergeDims(dims: Dim[]): Dim | undefined {
  let num: number | undefined;
  for (const d of dims) {
    if (typeof d === 'number') {
      if (num !== undefined && num !== d) return undefined;
      num = d;
    }
  }
  return num ?? dims[0];
}

/** INT64 bounds used by Slice for "to the end". */
export const SLICE_END_MAX = 2 ** 31 - 1;
