/**
 * Helpers shared by the math kernels: input access, axis normalisation, integer
 * wraparound for the narrow integer types, JS-side broadcasting and tensor building.
 */
import type * as tfc from '@tensorflow/tfjs-core';
import type { Node } from '../../../ir/graph.js';
import { DType, isFloatDType, shapeSize } from '../../../ir/tensor.js';
import { MconvError } from '../../../errors.js';
import { rt, tfDTypeFor } from '../../tensor-bridge.js';
import type { KernelContext, KernelDef, RT, TF } from '../types.js';

export type TfTensor = tfc.Tensor;

/** An error about one node, for things the user's model asks that we cannot do. */
export function nodeError(node: Node, message: string, hint?: string): MconvError {
  return new MconvError({ kind: 'unsupported', where: node.name, message: `node ${node.name} (${node.op}): ${message}`, hint });
}

/** Input i; throws a clear error when a required input is missing. */
export function req(ctx: KernelContext, i: number): RT {
  const r = ctx.inputs[i];
  if (!r) throw nodeError(ctx.node, `required input ${i} is missing`);
  return r;
}

/** Input i or undefined (absent, or given with the empty name). */
export function opt(ctx: KernelContext, i: number): RT | undefined {
  return ctx.inputs[i] ?? undefined;
}

/** A negative axis counted from the end, checked against the rank. */
export function normAxis(axis: number, rank: number, node: Node): number {
  const a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= Math.max(rank, 1)) throw nodeError(node, `axis ${axis} is out of range for rank ${rank}`);
  return a;
}

/** The values of a small integer tensor (axes, k, sizes). */
export function intsOf(r: RT): number[] {
  return Array.from(r.t.dataSync() as ArrayLike<number>, (v) => Number(v));
}

/** The single value of a scalar (or one-element) tensor. */
export function scalarOf(r: RT, node: Node, what: string): number {
  if (r.t.size !== 1) throw nodeError(node, `${what} must hold one value, it has shape [${r.t.shape.join(', ')}]`);
  return Number((r.t.dataSync() as ArrayLike<number>)[0]);
}

export const isFloat = isFloatDType;
export function isIntType(d: DType): boolean {
  return d.startsWith('int') || d.startsWith('uint');
}
export function isUnsigned(d: DType): boolean {
  return d.startsWith('uint');
}

/** Bit width of the integer types whose values must wrap inside the int32 carrier. */
const NARROW_BITS: Partial<Record<DType, { bits: number; signed: boolean }>> = {
  int8: { bits: 8, signed: true },
  uint8: { bits: 8, signed: false },
  int16: { bits: 16, signed: true },
  uint16: { bits: 16, signed: false },
};

/** Integer range of a dtype as carried by the runtime (64-bit and uint32 live in int32). */
export function intRange(d: DType): [number, number] {
  switch (d) {
    case 'int8': return [-128, 127];
    case 'uint8': return [0, 255];
    case 'int16': return [-32768, 32767];
    case 'uint16': return [0, 65535];
    case 'uint32': case 'uint64': return [0, 2147483647];
    default: return [-2147483648, 2147483647];
  }
}

/** Wraps int32 values modulo 2^bits into the range of a narrow integer dtype (two's complement). */
export function wrapInt(tf: TF, t: TfTensor, dtype: DType): TfTensor {
  const w = NARROW_BITS[dtype];
  if (!w) return t;
  const m = 2 ** w.bits;
  return tf.tidy(() => {
    const x = t.dtype === 'int32' ? t : tf.cast(t, 'int32');
    if (!w.signed) return tf.mod(x, tf.scalar(m, 'int32'));
    const h = tf.scalar(m / 2, 'int32');
    return tf.sub(tf.mod(tf.add(x, h), tf.scalar(m, 'int32')), h);
  });
}

/** Wraps a plain number into a dtype's integer range (JS side). */
export function wrapNumber(v: number, dtype: DType): number {
  const w = NARROW_BITS[dtype];
  if (!w) return dtype === 'int32' ? v | 0 : v;
  const m = 2 ** w.bits;
  let r = ((v % m) + m) % m;
  if (w.signed && r >= m / 2) r -= m;
  return r;
}

/**
 * The result of a kernel: a tfjs tensor cast to the carrier of `dtype`, wrapped into the
 * range of narrow integer types. Disposes `t` when a new tensor replaces it.
 */
export function finish(tf: TF, t: TfTensor, dtype: DType): RT {
  if (NARROW_BITS[dtype]) {
    const w = wrapInt(tf, t, dtype);
    if (w !== t) t.dispose();
    return rt(tf, w, dtype);
  }
  return rt(tf, t, dtype);
}

/** A runtime value built from JS numbers (numbers are stored into the carrier of `dtype`). */
export function fromData(tf: TF, data: ArrayLike<number>, shape: number[], dtype: DType): RT {
  const carrier = tfDTypeFor(dtype);
  if (carrier === 'string' || carrier === 'complex64') throw new Error(`fromData cannot build ${dtype}`);
  let arr: Float32Array | Int32Array | Uint8Array;
  if (carrier === 'float32') arr = data instanceof Float32Array ? data : Float32Array.from(data);
  else if (carrier === 'int32') arr = data instanceof Int32Array ? data : Int32Array.from(data, (v) => clampInt32(v));
  else arr = Uint8Array.from(data, (v) => (v ? 1 : 0));
  return { t: tf.tensor(arr, shape, carrier), dtype };
}

function clampInt32(v: number): number {
  if (Number.isNaN(v)) return 0;
  return v < -2147483648 ? -2147483648 : v > 2147483647 ? 2147483647 : Math.trunc(v);
}

/** The data of a runtime value as JS numbers (bool as 0/1). */
export function numbersOf(r: RT): Float32Array | Int32Array | Uint8Array {
  if (r.dtype === 'string') throw new Error('numbersOf on a string tensor');
  return r.t.dataSync() as Float32Array | Int32Array | Uint8Array;
}

/** String contents of a string runtime value. */
export function stringsOf(r: RT): string[] {
  const d = r.t.dataSync() as unknown as (string | Uint8Array)[];
  const dec = new TextDecoder();
  return Array.from(d, (s) => (typeof s === 'string' ? s : dec.decode(s)));
}

/** Numpy/ONNX multidirectional broadcast of shapes; throws on incompatible shapes. */
export function broadcastShapes(node: Node, ...shapes: number[][]): number[] {
  const rank = Math.max(0, ...shapes.map((s) => s.length));
  const out: number[] = new Array(rank).fill(1);
  for (const s of shapes) {
    const off = rank - s.length;
    for (let i = 0; i < s.length; i++) {
      const d = s[i]!;
      const o = out[off + i]!;
      if (d === o || d === 1) continue;
      if (o === 1) out[off + i] = d;
      else throw nodeError(node, `shapes ${shapes.map((x) => '[' + x.join(', ') + ']').join(' and ')} do not broadcast`);
    }
  }
  return out;
}

/** For each flat index of `outShape`, the flat index in a tensor of `shape` broadcast to it. */
export function broadcastIndex(shape: number[], outShape: number[]): Int32Array {
  const n = shapeSize(outShape);
  const idx = new Int32Array(n);
  const rank = outShape.length;
  const off = rank - shape.length;
  // Strides of the input aligned to the output rank, 0 on broadcast dims.
  const strides = new Array<number>(rank).fill(0);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[off + i] = shape[i] === 1 ? 0 : s;
    s *= shape[i]!;
  }
  const counter = new Array<number>(rank).fill(0);
  let cur = 0;
  for (let k = 0; k < n; k++) {
    idx[k] = cur;
    for (let d = rank - 1; d >= 0; d--) {
      counter[d]!++;
      cur += strides[d]!;
      if (counter[d]! < outShape[d]!) break;
      cur -= strides[d]! * counter[d]!;
      counter[d] = 0;
    }
  }
  return idx;
}

/** Row-major strides of a shape. */
export function stridesOf(shape: number[]): number[] {
  const st = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    st[i] = s;
    s *= shape[i]!;
  }
  return st;
}

/** ONNX TensorProto.DataType numbers to IR dtypes. */
export const ONNX_DTYPE: Record<number, DType> = {
  1: 'float32', 2: 'uint8', 3: 'int8', 4: 'uint16', 5: 'int16', 6: 'int32', 7: 'int64', 8: 'string',
  9: 'bool', 10: 'float16', 11: 'float64', 12: 'uint32', 13: 'uint64', 14: 'complex64', 15: 'complex128', 16: 'bfloat16',
};

/** The dtype named by an ONNX data-type attribute (`to`, `output_datatype`, ...). */
export function dtypeFromAttr(node: Node, name: string, dflt?: number): DType {
  const v = node.attrInt(name, dflt as number);
  if (v === undefined) throw nodeError(node, `attribute ${name} is missing`);
  const d = ONNX_DTYPE[v];
  if (!d) throw nodeError(node, `attribute ${name}=${v} is not a data type the runtime knows`);
  return d;
}

/** Dtypes the runtime cannot compute with. */
export function isComplex(d: DType | undefined): boolean {
  return d === 'complex64' || d === 'complex128';
}

/**
 * A check() that refuses complex values anywhere on the node, and strings where `allowString`
 * is false (inputs/outputs whose dtype the reader knows).
 */
export function checkDTypes(node: Node, allowString = false): string | undefined {
  for (const v of [...node.inputs, ...node.outputs]) {
    if (!v?.dtype) continue;
    if (isComplex(v.dtype)) return `${v.dtype} tensors cannot be computed with (value ${v.name})`;
    if (!allowString && v.dtype === 'string') return `string tensors are not supported by ${node.op} (value ${v.name})`;
  }
  return undefined;
}

/** Wraps a synchronous run function with the default dtype check. */
export function kernel(run: (ctx: KernelContext) => RT[], opts: { allowString?: boolean; check?: (node: Node) => string | undefined } = {}): KernelDef {
  return {
    check: (node) => checkDTypes(node, opts.allowString) ?? opts.check?.(node),
    run,
  };
}

/** Round half to even (ONNX Round, QuantizeLinear). */
export function roundHalfEven(x: number): number {
  if (!Number.isFinite(x)) return x;
  const f = Math.floor(x);
  const d = x - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

/** The shape with axis `axis` removed (or set to 1 with keepdims). */
export function reducedShape(shape: number[], axes: number[], keepdims: boolean): number[] {
  const out: number[] = [];
  shape.forEach((d, i) => {
    if (axes.includes(i)) {
      if (keepdims) out.push(1);
    } else out.push(d);
  });
  return out;
}

/** Moves axis `axis` of `shape` to the end: returns the permutation. */
export function permToLast(rank: number, axis: number): number[] {
  const p: number[] = [];
  for (let i = 0; i < rank; i++) if (i !== axis) p.push(i);
  p.push(axis);
  return p;
}

/** The inverse of a permutation. */
export function invertPerm(p: number[]): number[] {
  const inv = new Array<number>(p.length);
  p.forEach((v, i) => (inv[v] = i));
  return inv;
}
