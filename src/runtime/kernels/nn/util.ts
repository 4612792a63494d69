/**
 * Helpers shared by the nn/shape/control kernels: reading constant inputs, axes,
 * ONNX dtype codes, layout permutations, errors that name the node.
 */
import type * as tfc from '@tensorflow/tfjs-core';
import type { Node } from '../../../ir/graph.js';
import { shapeSize, type DType } from '../../../ir/tensor.js';
import { MconvError } from '../../../errors.js';
import { rt, tfDTypeFor } from '../../tensor-bridge.js';
import type { RT, TF } from '../types.js';

export type T = tfc.Tensor;
export { rt, tfDTypeFor };

/** Where a node sits, for error messages. */
export function where(node: Node): string {
  return `${node.op} node '${node.name}'`;
}

/** An unsupported attribute combination or input kind (the model is valid ONNX, we cannot run it). */
export function unsupportedNode(node: Node, message: string, hint?: string): MconvError {
  return new MconvError({ kind: 'unsupported', message: `${node.op}: ${message}`, where: where(node), hint });
}

/** Inputs that break the op's contract (wrong shapes, out-of-range indices). */
export function invalidInput(node: Node, message: string, hint?: string): MconvError {
  return new MconvError({
    kind: 'usage',
    message: `${node.op}: ${message}`,
    where: where(node),
    hint: hint ?? 'check the shapes and values fed to the model',
  });
}

/** The value of input `i`, or a clear error when a required input is missing. */
export function need(node: Node, inputs: (RT | undefined)[], i: number, what = `input ${i}`): RT {
  const v = inputs[i];
  if (!v) throw invalidInput(node, `required ${what} is missing`);
  return v;
}

/** Reads an (int) tensor's values as JS numbers. */
export function readNumbers(r: RT | undefined): number[] | undefined {
  if (!r) return undefined;
  return Array.from(r.t.dataSync() as ArrayLike<number>, Number);
}

/** Reads a scalar (or first element). */
export function readScalar(r: RT | undefined): number | undefined {
  if (!r || r.t.size === 0) return undefined;
  return Number((r.t.dataSync() as ArrayLike<number>)[0]);
}

/** Normalises a possibly negative axis against a rank, with a clear error when out of range. */
export function normAxis(node: Node, axis: number, rank: number): number {
  const a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= Math.max(rank, 1)) throw invalidInput(node, `axis ${axis} is out of range for rank ${rank}`);
  return a;
}

/** Row-major strides of a shape. */
export { rowMajorStrides as stridesOf } from '../../../ir/tensor.js';

export { shapeSize };

/** ONNX TensorProto.DataType codes. */
export const ONNX_DTYPE_CODES: Record<number, DType> = {
  1: 'float32', 2: 'uint8', 3: 'int8', 4: 'uint16', 5: 'int16', 6: 'int32', 7: 'int64', 8: 'string',
  9: 'bool', 10: 'float16', 11: 'float64', 12: 'uint32', 13: 'uint64', 14: 'complex64', 15: 'complex128',
  16: 'bfloat16',
};

export function dtypeFromCode(node: Node, code: number): DType {
  const d = ONNX_DTYPE_CODES[code];
  if (!d) throw unsupportedNode(node, `unknown ONNX data type code ${code}`);
  return d;
}

/** Permutation moving axis 1 (channels) to the end: NCHW -> NHWC for any rank. */
export function toChannelsLastPerm(rank: number): number[] {
  const p = [0];
  for (let i = 2; i < rank; i++) p.push(i);
  p.push(1);
  return p;
}

/** Permutation moving the last axis to position 1: NHWC -> NCHW for any rank. */
export function toChannelsFirstPerm(rank: number): number[] {
  const p = [0, rank - 1];
  for (let i = 1; i < rank - 1; i++) p.push(i);
  return p;
}

/** A value with handles of its own (tfjs clones share and reference-count the data); sequences deeply. */
export function ownedCopy(tf: TF, r: RT): RT {
  const c: RT = { t: tf.clone(r.t), dtype: r.dtype };
  if (r.seq) c.seq = r.seq.map((e) => ownedCopy(tf, e));
  return c;
}

/** Disposes every tensor given that is not in `keep`. */
export function disposeExcept(ts: (T | undefined)[], keep: (T | undefined)[] = []): void {
  for (const t of ts) if (t && !keep.includes(t) && !t.isDisposed) t.dispose();
}

/** Values of a tensor in JS (strings as strings, numbers otherwise). */
export function jsValues(r: RT): (number | string)[] {
  if (r.dtype === 'string') {
    const dec = new TextDecoder();
    return (r.t.dataSync() as unknown as (string | Uint8Array)[]).map((s) => (typeof s === 'string' ? s : dec.decode(s)));
  }
  return Array.from(r.t.dataSync() as ArrayLike<number>);
}

/** Builds a runtime value from JS values and a shape, for the ONNX dtype. */
export function fromValues(tf: TF, values: ArrayLike<number> | (number | string)[], shape: number[], dtype: DType): RT {
  const td = tfDTypeFor(dtype);
  if (td === 'string') return { t: tf.tensor(values as string[], shape, 'string'), dtype };
  if (td === 'complex64') throw new Error(`cannot build ${dtype} values`);
  let data: Float32Array | Int32Array | Uint8Array;
  if (td === 'float32') data = Float32Array.from(values as ArrayLike<number>);
  else if (td === 'int32') data = Int32Array.from(values as ArrayLike<number>, (v) => saturateInt32(v));
  else data = Uint8Array.from(values as ArrayLike<number>, (v) => (v ? 1 : 0));
  return { t: tf.tensor(data, shape, td), dtype };
}

export function saturateInt32(v: number): number {
  if (Number.isNaN(v)) return 0;
  return v < -2147483648 ? -2147483648 : v > 2147483647 ? 2147483647 : Math.trunc(v);
}

/** True for dtypes carried as int32. */
export function isIntCarried(d: DType): boolean {
  return tfDTypeFor(d) === 'int32';
}

/** Saturation range of an integer ONNX dtype (int64-like ones are limited to the int32 carrier). */
export function intRange(d: DType): [number, number] {
  switch (d) {
    case 'uint8': return [0, 255];
    case 'int8': return [-128, 127];
    case 'uint16': return [0, 65535];
    case 'int16': return [-32768, 32767];
    case 'uint32': case 'uint64': return [0, 2147483647];
    default: return [-2147483648, 2147483647];
  }
}

/** Whether output `i` of the node is wanted (present and named). */
export function wantsOutput(node: Node, i: number): boolean {
  const o = node.outputs[i];
  return !!o && o.name !== '';
}

/** An output name list check: ints from an attribute with a length check. */
export function attrIntsOfLength(node: Node, name: string, n: number, dflt: number): number[] {
  const v = node.attrInts(name);
  if (!v || v.length === 0) return new Array<number>(n).fill(dflt);
  if (v.length !== n) throw invalidInput(node, `attribute ${name} has ${v.length} values, expected ${n}`);
  return v.slice();
}
