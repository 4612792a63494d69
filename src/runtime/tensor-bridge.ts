/**
 * Moving data between IR Tensors and runtime values (tfjs tensors tagged with an ONNX dtype).
 */
import type * as tfc from '@tensorflow/tfjs-core';
import { DType, Tensor, float16ToFloat32, bfloat16ToFloat32, shapeSize } from '../ir/tensor.js';
import type { RT, TF } from './kernels/types.js';

const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;

/** The tfjs dtype that carries an ONNX dtype. */
export function tfDTypeFor(d: DType): 'float32' | 'int32' | 'bool' | 'string' | 'complex64' {
  switch (d) {
    case 'float32': case 'float64': case 'float16': case 'bfloat16': return 'float32';
    case 'bool': return 'bool';
    case 'string': return 'string';
    case 'complex64': case 'complex128': return 'complex64';
    default: return 'int32';
  }
}

function saturate(v: number): number {
  return v < INT32_MIN ? INT32_MIN : v > INT32_MAX ? INT32_MAX : v;
}

/** An IR tensor as a runtime value. int64/uint32/uint64 are saturated into int32. */
export function toRT(tf: TF, t: Tensor): RT {
  const shape = t.shape.slice();
  const n = shapeSize(shape);
  const d = t.dtype;
  if (d === 'string') return { t: tf.tensor(t.stringValues(), shape, 'string'), dtype: d };
  if (d === 'complex64' || d === 'complex128') {
    throw new Error(`the runtime cannot compute with ${d} tensors`);
  }
  const v = t.view();
  let data: Float32Array | Int32Array | Uint8Array;
  switch (d) {
    case 'float32': data = v as Float32Array; break;
    case 'float64': data = Float32Array.from(v as Float64Array); break;
    case 'float16': { const f = new Float32Array(n); const h = v as Uint16Array; for (let i = 0; i < n; i++) f[i] = float16ToFloat32(h[i]!); data = f; break; }
    case 'bfloat16': { const f = new Float32Array(n); const h = v as Uint16Array; for (let i = 0; i < n; i++) f[i] = bfloat16ToFloat32(h[i]!); data = f; break; }
    case 'bool': data = v as Uint8Array; break;
    case 'int32': data = v as Int32Array; break;
    case 'int64': case 'uint64': { const o = new Int32Array(n); const b = v as BigInt64Array; for (let i = 0; i < n; i++) o[i] = saturate(Number(b[i]!)); data = o; break; }
    case 'uint32': { const o = new Int32Array(n); const b = v as Uint32Array; for (let i = 0; i < n; i++) o[i] = saturate(b[i]!); data = o; break; }
    default: data = Int32Array.from(v as Int8Array); break;
  }
  return { t: tf.tensor(data, shape, tfDTypeFor(d)), dtype: d };
}

/** A runtime value as an IR tensor of its ONNX dtype (reads the data back). */
export async function fromRT(rt: RT, name?: string): Promise<Tensor> {
  const shape = rt.t.shape.slice();
  const d = rt.dtype;
  if (d === 'string') {
    const vals = (await rt.t.data()) as unknown as (string | Uint8Array)[];
    return Tensor.fromStrings(shape, vals, name);
  }
  const data = await rt.t.data();
  return Tensor.fromArray(d, shape, d === 'int64' || d === 'uint64' ? Array.from(data as Int32Array, (x) => BigInt(x)) : (data as ArrayLike<number>), name);
}

/** Synchronous variant of fromRT (cpu/wasm backends). */
export function fromRTSync(rt: RT, name?: string): Tensor {
  const shape = rt.t.shape.slice();
  const d = rt.dtype;
  if (d === 'string') return Tensor.fromStrings(shape, rt.t.dataSync() as unknown as Uint8Array[], name);
  const data = rt.t.dataSync();
  return Tensor.fromArray(d, shape, d === 'int64' || d === 'uint64' ? Array.from(data as Int32Array, (x) => BigInt(x)) : (data as ArrayLike<number>), name);
}

/** Wraps a tfjs tensor as a runtime value, casting it to the tfjs dtype that carries `dtype`. */
export function rt(tf: TF, t: tfc.Tensor, dtype: DType): RT {
  const want = tfDTypeFor(dtype);
  if (t.dtype !== want) {
    const c = tf.cast(t, want as tfc.DataType);
    t.dispose();
    return { t: c, dtype };
  }
  return { t, dtype };
}
