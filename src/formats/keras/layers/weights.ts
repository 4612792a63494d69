/**
 * Weight reordering done in JS at conversion time (Keras HWIO kernels to ONNX OIHW, gate
 * blocks from Keras order to ONNX order). The results are lazy tensors over the original
 * bytes: nothing is read until the weight is used, and every dtype is moved bit for bit.
 */
import { DTYPE_BYTES, Tensor, shapeSize } from '../../../ir/tensor.js';

function strides(shape: number[]): number[] {
  const s = new Array<number>(shape.length).fill(1);
  for (let i = shape.length - 2; i >= 0; i--) s[i] = s[i + 1]! * shape[i + 1]!;
  return s;
}

/** Element-width views that copy bit patterns exactly. */
function lanes(bytes: Uint8Array, width: number): { view: Uint8Array | Uint16Array | Uint32Array; per: number } {
  const aligned = bytes.byteOffset % Math.min(width, 4) === 0 ? bytes : new Uint8Array(bytes);
  if (width === 1) return { view: aligned, per: 1 };
  if (width === 2) return { view: new Uint16Array(aligned.buffer, aligned.byteOffset, aligned.byteLength / 2), per: 1 };
  // 4, 8 and 16-byte elements move as 1, 2 or 4 32-bit lanes.
  return { view: new Uint32Array(aligned.buffer, aligned.byteOffset, aligned.byteLength / 4), per: width / 4 };
}

function emptyLike(view: Uint8Array | Uint16Array | Uint32Array, n: number): Uint8Array | Uint16Array | Uint32Array {
  if (view instanceof Uint8Array) return new Uint8Array(n);
  if (view instanceof Uint16Array) return new Uint16Array(n);
  return new Uint32Array(n);
}

function asBytes(v: Uint8Array | Uint16Array | Uint32Array): Uint8Array {
  return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
}

/** Transposed bytes: output axis i is input axis perm[i]. */
export function permuteBytes(src: Uint8Array, width: number, shape: number[], perm: number[]): Uint8Array {
  const { view, per } = lanes(src, width);
  const n = shapeSize(shape);
  const out = emptyLike(view, n * per);
  const inStr = strides(shape);
  const outShape = perm.map((p) => shape[p]!);
  const r = shape.length;
  const idx = new Array<number>(r).fill(0);
  const srcStep = perm.map((p) => inStr[p]!);
  let off = 0;
  for (let o = 0; o < n; o++) {
    if (per === 1) out[o] = view[off]!;
    else for (let k = 0; k < per; k++) out[o * per + k] = view[off * per + k]!;
    // Advance the output multi-index (last axis fastest) and the source offset with it.
    for (let a = r - 1; a >= 0; a--) {
      idx[a]!++;
      off += srcStep[a]!;
      if (idx[a]! < outShape[a]!) break;
      off -= srcStep[a]! * outShape[a]!;
      idx[a] = 0;
    }
  }
  return asBytes(out);
}

/** A lazy transposed copy of `t` (output axis i is input axis perm[i]). */
export function permuteTensor(t: Tensor, perm: number[], name?: string): Tensor {
  const shape = perm.map((p) => t.shape[p]!);
  if (perm.every((p, i) => p === i)) return t.reshape(shape);
  const width = DTYPE_BYTES[t.dtype];
  return Tensor.lazy(t.dtype, shape, () => permuteBytes(t.bytes, width, t.shape, perm), name ?? t.name);
}

/**
 * Reorders equal blocks along `axis`: the axis is cut into `order.length` blocks and output
 * block j is input block order[j] (e.g. Keras LSTM gates i,f,c,o to ONNX i,o,f,c: [0, 3, 1, 2]).
 */
export function reorderBlocks(t: Tensor, axis: number, order: number[], name?: string): Tensor {
  const blocks = order.length;
  const len = t.shape[axis]!;
  if (len % blocks !== 0) throw new Error(`axis ${axis} of length ${len} does not split into ${blocks} blocks`);
  if (order.every((o, i) => o === i)) return t;
  const width = DTYPE_BYTES[t.dtype];
  const outer = shapeSize(t.shape.slice(0, axis));
  const inner = shapeSize(t.shape.slice(axis + 1)) * width;
  const blockBytes = (len / blocks) * inner;
  return Tensor.lazy(t.dtype, t.shape.slice(), () => {
    const src = t.bytes;
    const out = new Uint8Array(src.byteLength);
    const rowBytes = len * inner;
    for (let o = 0; o < outer; o++) {
      for (let j = 0; j < blocks; j++) {
        const from = o * rowBytes + order[j]! * blockBytes;
        out.set(src.subarray(from, from + blockBytes), o * rowBytes + j * blockBytes);
      }
    }
    return out;
  }, name ?? t.name);
}

/** Concatenates tensors of one dtype along `axis` (lazy). */
export function concatTensors(ts: Tensor[], axis: number, name?: string): Tensor {
  const first = ts[0]!;
  const width = DTYPE_BYTES[first.dtype];
  const shape = first.shape.slice();
  shape[axis] = ts.reduce((a, t) => a + t.shape[axis]!, 0);
  const outer = shapeSize(shape.slice(0, axis));
  return Tensor.lazy(first.dtype, shape, () => {
    const out = new Uint8Array(shapeSize(shape) * width);
    let pos = 0;
    for (let o = 0; o < outer; o++) {
      for (const t of ts) {
        const chunk = shapeSize(t.shape.slice(axis)) * width;
        out.set(t.bytes.subarray(o * chunk, (o + 1) * chunk), pos);
        pos += chunk;
      }
    }
    return out;
  }, name);
}

/** A zero tensor of a dtype. */
export function zerosTensor(dtype: Tensor['dtype'], shape: number[], name?: string): Tensor {
  return Tensor.fromBytes(dtype, shape, new Uint8Array(shapeSize(shape) * DTYPE_BYTES[dtype]), name);
}

/** Part `index` of `parts` equal slices along axis 0 (lazy). */
export function splitFirstAxis(t: Tensor, parts: number, index: number, name?: string): Tensor {
  const len = t.shape[0]!;
  if (len % parts !== 0) throw new Error(`axis 0 of length ${len} does not split into ${parts}`);
  const shape = [len / parts, ...t.shape.slice(1)];
  const bytes = shapeSize(shape) * DTYPE_BYTES[t.dtype];
  return Tensor.lazy(t.dtype, shape, () => t.bytes.slice(index * bytes, (index + 1) * bytes), name ?? t.name);
}

/** A tensor of ones with the dtype of `like`. */
export function onesLike(like: Tensor['dtype'], shape: number[], name?: string): Tensor {
  const dt = like === 'float16' || like === 'bfloat16' || like === 'float64' ? like : 'float32';
  return Tensor.fromArray(dt, shape, new Array<number>(shapeSize(shape)).fill(1), name);
}

/** `len` entries of `axis` starting at `start` (lazy). */
export function sliceAxis(t: Tensor, axis: number, start: number, len: number, name?: string): Tensor {
  const width = DTYPE_BYTES[t.dtype];
  const shape = t.shape.slice();
  const full = shape[axis]!;
  shape[axis] = len;
  const outer = shapeSize(t.shape.slice(0, axis));
  const inner = shapeSize(t.shape.slice(axis + 1)) * width;
  return Tensor.lazy(t.dtype, shape, () => {
    const src = t.bytes;
    const out = new Uint8Array(shapeSize(shape) * width);
    for (let o = 0; o < outer; o++) {
      const from = (o * full + start) * inner;
      out.set(src.subarray(from, from + len * inner), o * len * inner);
    }
    return out;
  }, name ?? t.name);
}
