/**
 * Linear quantization: QuantizeLinear / DequantizeLinear (per tensor or per axis),
 * DynamicQuantizeLinear (uint8, computed like the ONNX reference in float32) and QLinearMatMul.
 * Rounding is half to even and results saturate to the target integer range.
 */
import type { Node } from '../../../ir/graph.js';
import type { DType } from '../../../ir/tensor.js';
import type { KernelContext, KernelTable, TF } from '../types.js';
import { matmul } from './matmul.js';
import { TfTensor, finish, fromData, intRange, kernel, nodeError, normAxis, numbersOf, opt, req, roundHalfEven } from './util.js';

/** Shapes a per-axis scale/zero point [C] to broadcast along `axis` of a rank-`rank` tensor. */
function alongAxis(tf: TF, p: TfTensor, node: Node, xShape: number[]): TfTensor {
  if (p.rank === 0) return p;
  if (p.rank === 1 && p.size === 1) return tf.reshape(p, []);
  if (p.rank !== 1) throw nodeError(node, `scale/zero point must be a scalar or 1-D, got [${p.shape.join(', ')}]`);
  const rank = xShape.length;
  const axis = normAxis(node.attrInt('axis', 1), rank, node);
  if (p.shape[0] !== xShape[axis]) throw nodeError(node, `per-axis scale has ${p.shape[0]} values for axis ${axis} of size ${xShape[axis]}`);
  const shape = new Array<number>(rank).fill(1);
  shape[axis] = p.shape[0]!;
  return tf.reshape(p, shape);
}

function f32(tf: TF, t: TfTensor): TfTensor {
  return t.dtype === 'float32' ? t : tf.cast(t, 'float32');
}

function saturate(tf: TF, t: TfTensor, dtype: DType): TfTensor {
  const [lo, hi] = intRange(dtype);
  return tf.minimum(tf.maximum(t, lo), hi);
}

export const quantizeKernels: KernelTable = {
  QuantizeLinear: kernel((ctx: KernelContext) => {
    const { tf, node } = ctx;
    const x = req(ctx, 0);
    const scale = req(ctx, 1);
    const zp = opt(ctx, 2);
    const to: DType = zp?.dtype ?? 'uint8';
    const y = tf.tidy(() => {
      let q = tf.round(tf.div(f32(tf, x.t), alongAxis(tf, f32(tf, scale.t), node, x.t.shape)));
      if (zp) q = tf.add(q, alongAxis(tf, f32(tf, zp.t), node, x.t.shape));
      return tf.cast(saturate(tf, q, to), 'int32');
    });
    return [finish(tf, y, to)];
  }),
  DequantizeLinear: kernel((ctx: KernelContext) => {
    const { tf, node } = ctx;
    const x = req(ctx, 0);
    const scale = req(ctx, 1);
    const zp = opt(ctx, 2);
    const y = tf.tidy(() => {
      let v = f32(tf, x.t);
      if (zp) v = tf.sub(v, alongAxis(tf, f32(tf, zp.t), node, x.t.shape));
      return tf.mul(v, alongAxis(tf, f32(tf, scale.t), node, x.t.shape));
    });
    return [finish(tf, y, scale.dtype)];
  }),
  DynamicQuantizeLinear: kernel((ctx: KernelContext) => {
    const { tf } = ctx;
    const x = req(ctx, 0);
    const v = numbersOf(x);
    let lo = 0;
    let hi = 0;
    for (let i = 0; i < v.length; i++) {
      if (v[i]! < lo) lo = v[i]!;
      if (v[i]! > hi) hi = v[i]!;
    }
    const fr = Math.fround;
    const scale = fr((hi - lo) / 255);
    const zp = scale === 0 ? 0 : Math.min(255, Math.max(0, roundHalfEven(fr(0 - fr(lo / scale)))));
    const y = new Int32Array(v.length);
    if (scale !== 0) for (let i = 0; i < v.length; i++) y[i] = Math.min(255, Math.max(0, roundHalfEven(fr(v[i]! / scale)) + zp));
    else y.fill(zp);
    return [fromData(tf, y, x.t.shape, 'uint8'), fromData(tf, [scale], [], 'float32'), fromData(tf, [zp], [], 'uint8')];
  }),
  QLinearMatMul: kernel((ctx: KernelContext) => {
    const { tf, node } = ctx;
    const a = req(ctx, 0);
    const aScale = req(ctx, 1);
    const aZp = req(ctx, 2);
    const b = req(ctx, 3);
    const bScale = req(ctx, 4);
    const bZp = req(ctx, 5);
    const yScale = req(ctx, 6);
    const yZp = req(ctx, 7);
    const to = yZp.dtype;
    const y = tf.tidy(() => {
      // Per-row parameters of A ([M]) broadcast over columns; per-column ones of B ([N]) over rows.
      const row = (p: TfTensor) => (p.rank === 1 && p.size > 1 ? tf.reshape(p, [p.size, 1]) : p);
      const av = tf.sub(f32(tf, a.t), row(f32(tf, aZp.t)));
      const bv = tf.sub(f32(tf, b.t), f32(tf, bZp.t));
      const acc = matmul(tf, av, bv, node);
      const real = tf.mul(tf.mul(acc, row(f32(tf, aScale.t))), f32(tf, bScale.t));
      const q = tf.add(tf.round(tf.div(real, f32(tf, yScale.t))), f32(tf, yZp.t));
      return tf.cast(saturate(tf, q, to), 'int32');
    });
    return [finish(tf, y, to)];
  }),
};
