/**
 * Broadcasting arithmetic: Add Sub Mul Div Pow Mod BitShift and the variadic Max Min Mean Sum.
 * Integer semantics follow ONNX: Div truncates, Mod takes the divisor's sign unless fmod=1,
 * narrow integer types wrap around.
 */
import type { Node } from '../../../ir/graph.js';
import type { DType } from '../../../ir/tensor.js';
import type { KernelContext, KernelTable, RT, TF } from '../types.js';
import {
  TfTensor, broadcastIndex, broadcastShapes, finish, fromData, isFloat, isUnsigned, kernel, nodeError, numbersOf, req, wrapNumber,
} from './util.js';

type BinFn = (tf: TF, a: TfTensor, b: TfTensor, dtype: DType, node: Node) => TfTensor;

/** Both operands in the carrier of the first input's dtype. */
function sameCarrier(tf: TF, a: RT, b: RT): [TfTensor, TfTensor] {
  if (a.t.dtype === b.t.dtype) return [a.t, b.t];
  return [a.t, tf.cast(b.t, a.t.dtype)];
}

function binary(fn: BinFn) {
  return kernel((ctx) => {
    const { tf, node } = ctx;
    const a = req(ctx, 0);
    const b = req(ctx, 1);
    const shape = broadcastShapes(node, a.t.shape, b.t.shape);
    const y = tf.tidy(() => {
      if (shape.includes(0)) return tf.zeros(shape, a.t.dtype);
      const [x, z] = sameCarrier(tf, a, b);
      return fn(tf, x, z, a.dtype, node);
    });
    return [finish(tf, y, a.dtype)];
  });
}

/** Integer division truncating toward zero (tfjs divides int32 with floor). */
function truncDiv(tf: TF, a: TfTensor, b: TfTensor, dtype: DType): TfTensor {
  if (isUnsigned(dtype)) return tf.floorDiv(a, b);
  const q = tf.floorDiv(tf.abs(a), tf.abs(b));
  return tf.mul(q, tf.mul(tf.sign(a), tf.sign(b)));
}

/** Pow with an integer base: computed in doubles on the JS side and truncated, as ONNX/numpy do. */
function intPow(ctx: KernelContext, a: RT, b: RT): RT {
  const { tf, node } = ctx;
  const shape = broadcastShapes(node, a.t.shape, b.t.shape);
  const av = numbersOf(a);
  const bv = numbersOf(b);
  const ia = broadcastIndex(a.t.shape, shape);
  const ib = broadcastIndex(b.t.shape, shape);
  const out = new Float64Array(ia.length);
  for (let i = 0; i < out.length; i++) out[i] = wrapNumber(Math.trunc(Math.pow(av[ia[i]!]!, bv[ib[i]!]!)), a.dtype);
  return fromData(tf, out, shape, a.dtype);
}

function bitShift(ctx: KernelContext): RT[] {
  const { tf, node } = ctx;
  const a = req(ctx, 0);
  const b = req(ctx, 1);
  const dir = node.attrString('direction', '');
  if (dir !== 'LEFT' && dir !== 'RIGHT') throw nodeError(node, `direction must be LEFT or RIGHT, got '${dir}'`);
  const shape = broadcastShapes(node, a.t.shape, b.t.shape);
  const av = numbersOf(a);
  const bv = numbersOf(b);
  const ia = broadcastIndex(a.t.shape, shape);
  const ib = broadcastIndex(b.t.shape, shape);
  const bits = a.dtype === 'uint8' ? 8 : a.dtype === 'uint16' ? 16 : 32;
  const mask = bits === 32 ? 0xffffffff : 2 ** bits - 1;
  const out = new Int32Array(ia.length);
  for (let i = 0; i < out.length; i++) {
    const x = av[ia[i]!]! >>> 0;
    const s = bv[ib[i]!]!;
    let r: number;
    if (s >= 32) r = 0;
    else r = dir === 'LEFT' ? ((x << s) & mask) >>> 0 : x >>> s;
    // uint32 values keep their bit pattern in the int32 carrier.
    out[i] = r | 0;
  }
  return [{ t: tf.tensor(out, shape, 'int32'), dtype: a.dtype }];
}

function variadic(op: 'Max' | 'Min' | 'Sum' | 'Mean') {
  return kernel((ctx) => {
    const { tf, node } = ctx;
    const ins = ctx.inputs.filter((r): r is RT => !!r);
    if (!ins.length) throw nodeError(node, 'needs at least one input');
    const dtype = ins[0]!.dtype;
    const shape = broadcastShapes(node, ...ins.map((r) => r.t.shape));
    const y = tf.tidy(() => {
      if (shape.includes(0)) return tf.zeros(shape, ins[0]!.t.dtype);
      let acc: TfTensor = ins[0]!.t;
      for (let i = 1; i < ins.length; i++) {
        const t = ins[i]!.t.dtype === acc.dtype ? ins[i]!.t : tf.cast(ins[i]!.t, acc.dtype);
        if (op === 'Max') acc = tf.maximum(acc, t);
        else if (op === 'Min') acc = tf.minimum(acc, t);
        else acc = tf.add(acc, t);
      }
      if (op === 'Mean') acc = tf.div(tf.cast(acc, 'float32'), ins.length);
      if (acc.shape.join(',') !== shape.join(',')) acc = tf.broadcastTo(acc, shape);
      return acc === ins[0]!.t ? tf.clone(acc) : acc;
    });
    return [finish(tf, y, dtype)];
  });
}

export const binaryKernels: KernelTable = {
  Add: binary((tf, a, b) => tf.add(a, b)),
  Sub: binary((tf, a, b) => tf.sub(a, b)),
  Mul: binary((tf, a, b) => tf.mul(a, b)),
  Div: binary((tf, a, b, dtype) => (isFloat(dtype) ? tf.div(a, b) : truncDiv(tf, a, b, dtype))),
  Mod: binary((tf, a, b, dtype, node) => {
    const fmod = node.attrInt('fmod', 0) !== 0;
    if (!fmod) {
      if (isFloat(dtype)) throw nodeError(node, 'Mod of floating-point tensors needs fmod=1');
      return tf.mod(a, b);
    }
    // C fmod: the result takes the sign of the dividend.
    return tf.mul(tf.sign(a), tf.mod(tf.abs(a), tf.abs(b)));
  }),
  Pow: kernel((ctx) => {
    const { tf, node } = ctx;
    const a = req(ctx, 0);
    const b = req(ctx, 1);
    if (!isFloat(a.dtype)) return [intPow(ctx, a, b)];
    const shape = broadcastShapes(node, a.t.shape, b.t.shape);
    const y = tf.tidy(() => {
      if (shape.includes(0)) return tf.zeros(shape);
      return tf.pow(a.t, b.t.dtype === 'float32' ? b.t : tf.cast(b.t, 'float32'));
    });
    return [finish(tf, y, a.dtype)];
  }),
  BitShift: kernel(bitShift),
  Max: variadic('Max'),
  Min: variadic('Min'),
  Sum: variadic('Sum'),
  Mean: variadic('Mean'),
};
