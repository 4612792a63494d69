/**
 * MatMul (numpy semantics: broadcast batch dims, 1-D operands), Gemm, MatMulInteger,
 * Einsum and Det. Integer products run in float32 (exact below 2^24) and are rounded back.
 */
import type { Node } from '../../../ir/graph.js';
import { shapeSize } from '../../../ir/tensor.js';
import type { KernelTable, RT, TF } from '../types.js';
import { einsum } from './einsum.js';
import { TfTensor, broadcastShapes, finish, fromData, isFloat, kernel, nodeError, numbersOf, opt, req } from './util.js';

function asFloat(tf: TF, t: TfTensor): TfTensor {
  return t.dtype === 'float32' ? t : tf.cast(t, 'float32');
}

/** numpy matmul on float32 tensors. */
export function matmul(tf: TF, a: TfTensor, b: TfTensor, node: Node): TfTensor {
  if (a.rank === 0 || b.rank === 0) throw nodeError(node, 'MatMul operands must have rank >= 1');
  const a2 = a.rank === 1 ? tf.reshape(a, [1, a.shape[0]!]) : a;
  const b2 = b.rank === 1 ? tf.reshape(b, [b.shape[0]!, 1]) : b;
  const [m, k] = a2.shape.slice(-2) as [number, number];
  const [k2, n] = b2.shape.slice(-2) as [number, number];
  if (k !== k2) throw nodeError(node, `MatMul inner dimensions differ: [${a.shape.join(', ')}] x [${b.shape.join(', ')}]`);
  const batch = broadcastShapes(node, a2.shape.slice(0, -2), b2.shape.slice(0, -2));
  let y: TfTensor;
  if (shapeSize(batch) * m * n === 0 || k === 0) y = tf.zeros([...batch, m, n]);
  else if (b2.rank === 2) {
    // [..., M, K] x [K, N]: one 2-D product over all rows of A.
    y = tf.reshape(tf.matMul(tf.reshape(a2, [-1, k]), b2), [...batch, m, n]);
  } else {
    // tfjs mis-broadcasts batch dims that differ, so both operands get the full batch shape.
    const full = (t: TfTensor, r: number, c: number) => {
      const want = [...batch, r, c];
      const bt = t.shape.join(',') === want.join(',') ? t : tf.broadcastTo(t, want);
      return tf.reshape(bt, [-1, r, c]);
    };
    y = tf.reshape(tf.matMul(full(a2, m, k), full(b2, k, n)), [...batch, m, n]);
  }
  const out = y.shape.slice();
  if (b.rank === 1) out.splice(out.length - 1, 1);
  if (a.rank === 1) out.splice(out.length - (b.rank === 1 ? 1 : 2), 1);
  return out.length === y.rank ? y : tf.reshape(y, out);
}

/** Rounds float results of integer products back to int32. */
function backToInt(tf: TF, t: TfTensor): TfTensor {
  return tf.cast(tf.round(t), 'int32');
}

function det(tf: TF, x: RT, node: Node): RT {
  const shape = x.t.shape;
  if (shape.length < 2 || shape[shape.length - 1] !== shape[shape.length - 2]) {
    throw nodeError(node, `Det needs [..., M, M], got [${shape.join(', ')}]`);
  }
  const m = shape[shape.length - 1]!;
  const outShape = shape.slice(0, -2);
  const count = shapeSize(outShape);
  const data = numbersOf(x);
  const out = new Float64Array(count);
  const a = new Float64Array(m * m);
  for (let b = 0; b < count; b++) {
    for (let i = 0; i < m * m; i++) a[i] = data[b * m * m + i]!;
    let d = 1;
    for (let c = 0; c < m; c++) {
      let p = c;
      for (let r = c + 1; r < m; r++) if (Math.abs(a[r * m + c]!) > Math.abs(a[p * m + c]!)) p = r;
      if (a[p * m + c] === 0) {
        d = 0;
        break;
      }
      if (p !== c) {
        for (let j = 0; j < m; j++) {
          const t = a[c * m + j]!;
          a[c * m + j] = a[p * m + j]!;
          a[p * m + j] = t;
        }
        d = -d;
      }
      const piv = a[c * m + c]!;
      d *= piv;
      for (let r = c + 1; r < m; r++) {
        const f = a[r * m + c]! / piv;
        if (f === 0) continue;
        for (let j = c; j < m; j++) a[r * m + j]! -= f * a[c * m + j]!;
      }
    }
    out[b] = d;
  }
  return fromData(tf, out, outShape, x.dtype);
}

/** Zero point reshaped to broadcast per row of A ([M] -> [M, 1]) or kept as is. */
function rowZeroPoint(tf: TF, zp: TfTensor, aRank: number): TfTensor {
  if (zp.rank === 1 && zp.size > 1 && aRank >= 2) return tf.reshape(zp, [zp.size, 1]);
  return zp;
}

export const matmulKernels: KernelTable = {
  MatMul: kernel((ctx) => {
    const { tf, node } = ctx;
    const a = req(ctx, 0);
    const b = req(ctx, 1);
    const y = tf.tidy(() => {
      const r = matmul(tf, asFloat(tf, a.t), asFloat(tf, b.t), node);
      return isFloat(a.dtype) ? r : backToInt(tf, r);
    });
    return [finish(tf, y, a.dtype)];
  }),
  Gemm: kernel((ctx) => {
    const { tf, node } = ctx;
    const a = req(ctx, 0);
    const b = req(ctx, 1);
    const c = opt(ctx, 2);
    const transA = node.attrInt('transA', 0) !== 0;
    const transB = node.attrInt('transB', 0) !== 0;
    const alpha = node.attrFloat('alpha', 1);
    const beta = node.attrFloat('beta', 1);
    if (a.t.rank !== 2 || b.t.rank !== 2) throw nodeError(node, `Gemm needs 2-D A and B, got [${a.t.shape.join(', ')}] and [${b.t.shape.join(', ')}]`);
    const m = transA ? a.t.shape[1]! : a.t.shape[0]!;
    const k = transA ? a.t.shape[0]! : a.t.shape[1]!;
    const k2 = transB ? b.t.shape[1]! : b.t.shape[0]!;
    const n = transB ? b.t.shape[0]! : b.t.shape[1]!;
    if (k !== k2) throw nodeError(node, `Gemm inner dimensions differ (${k} and ${k2})`);
    const y = tf.tidy(() => {
      let r: TfTensor = m * n === 0 || k === 0 ? tf.zeros([m, n]) : tf.matMul(asFloat(tf, a.t), asFloat(tf, b.t), transA, transB);
      if (alpha !== 1) r = tf.mul(r, alpha);
      if (c && beta !== 0) {
        const ct = asFloat(tf, c.t);
        r = tf.add(r, beta === 1 ? ct : tf.mul(ct, beta));
        if (r.shape.join(',') !== [m, n].join(',')) throw nodeError(node, `Gemm C of shape [${c.t.shape.join(', ')}] does not broadcast to [${m}, ${n}]`);
      }
      return isFloat(a.dtype) ? r : backToInt(tf, r);
    });
    return [finish(tf, y, a.dtype)];
  }),
  MatMulInteger: kernel((ctx) => {
    const { tf, node } = ctx;
    const a = req(ctx, 0);
    const b = req(ctx, 1);
    const azp = opt(ctx, 2);
    const bzp = opt(ctx, 3);
    const y = tf.tidy(() => {
      let af = asFloat(tf, a.t);
      let bf = asFloat(tf, b.t);
      if (azp) af = tf.sub(af, rowZeroPoint(tf, asFloat(tf, azp.t), a.t.rank));
      if (bzp) bf = tf.sub(bf, asFloat(tf, bzp.t));
      return backToInt(tf, matmul(tf, af, bf, node));
    });
    return [finish(tf, y, 'int32')];
  }),
  Einsum: kernel((ctx) => {
    const { tf, node } = ctx;
    const eq = node.attrString('equation');
    if (eq === undefined) throw nodeError(node, 'attribute equation is missing');
    const ins = ctx.inputs.map((r, i) => r ?? req(ctx, i));
    if (!ins.length) throw nodeError(node, 'Einsum needs at least one input');
    const dtype = ins[0]!.dtype;
    const y = tf.tidy(() => {
      const r = einsum(tf, eq, ins.map((r) => asFloat(tf, r.t)), node);
      return isFloat(dtype) ? (ins.length === 1 && r === ins[0]!.t ? tf.clone(r) : r) : backToInt(tf, r);
    });
    return [finish(tf, y === ins[0]!.t ? tf.clone(y) : y, dtype)];
  }),
  Det: kernel((ctx) => [det(ctx.tf, req(ctx, 0), ctx.node)]),
};
