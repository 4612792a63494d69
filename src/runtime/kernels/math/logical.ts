/**
 * Logical and comparison ops (bool results, broadcasting) and Where.
 * String comparisons and string Where run on the JS side (the wasm backend cannot).
 */
import type { KernelContext, KernelTable, RT, TF } from '../types.js';
import { TfTensor, broadcastIndex, broadcastShapes, finish, kernel, nodeError, req, stringsOf } from './util.js';

type CmpFn = (tf: TF, a: TfTensor, b: TfTensor) => TfTensor;

function toBoolT(tf: TF, t: TfTensor): TfTensor {
  return t.dtype === 'bool' ? t : tf.notEqual(t, 0);
}

function logical(fn: CmpFn) {
  return kernel((ctx) => {
    const { tf, node } = ctx;
    const a = req(ctx, 0);
    const b = req(ctx, 1);
    const shape = broadcastShapes(node, a.t.shape, b.t.shape);
    const y = tf.tidy(() => (shape.includes(0) ? tf.zeros(shape, 'bool') : fn(tf, toBoolT(tf, a.t), toBoolT(tf, b.t))));
    return [finish(tf, y, 'bool')];
  });
}

function stringCompare(ctx: KernelContext, a: RT, b: RT, f: (x: string, y: string) => boolean): RT {
  const { tf, node } = ctx;
  const shape = broadcastShapes(node, a.t.shape, b.t.shape);
  const av = stringsOf(a);
  const bv = stringsOf(b);
  const ia = broadcastIndex(a.t.shape, shape);
  const ib = broadcastIndex(b.t.shape, shape);
  const out = new Uint8Array(ia.length);
  for (let i = 0; i < out.length; i++) out[i] = f(av[ia[i]!]!, bv[ib[i]!]!) ? 1 : 0;
  return { t: tf.tensor(out, shape, 'bool'), dtype: 'bool' };
}

function compare(fn: CmpFn, sf: (x: string, y: string) => boolean) {
  return kernel(
    (ctx) => {
      const { tf, node } = ctx;
      const a = req(ctx, 0);
      const b = req(ctx, 1);
      if (a.dtype === 'string' || b.dtype === 'string') {
        if (a.dtype !== b.dtype) throw nodeError(node, `cannot compare ${a.dtype} with ${b.dtype}`);
        return [stringCompare(ctx, a, b, sf)];
      }
      const shape = broadcastShapes(node, a.t.shape, b.t.shape);
      const y = tf.tidy(() => {
        if (shape.includes(0)) return tf.zeros(shape, 'bool');
        let x = a.t;
        let z = b.t;
        if (x.dtype !== z.dtype) {
          x = tf.cast(x, 'float32');
          z = tf.cast(z, 'float32');
        } else if (x.dtype === 'bool') {
          x = tf.cast(x, 'int32');
          z = tf.cast(z, 'int32');
        }
        return fn(tf, x, z);
      });
      return [finish(tf, y, 'bool')];
    },
    { allowString: true },
  );
}

function where(ctx: KernelContext): RT[] {
  const { tf, node } = ctx;
  const c = req(ctx, 0);
  const x = req(ctx, 1);
  const y = req(ctx, 2);
  const shape = broadcastShapes(node, c.t.shape, x.t.shape, y.t.shape);
  if (x.dtype === 'string' || y.dtype === 'string') {
    const cv = c.t.dataSync();
    const xv = stringsOf(x);
    const yv = stringsOf(y);
    const ic = broadcastIndex(c.t.shape, shape);
    const ix = broadcastIndex(x.t.shape, shape);
    const iy = broadcastIndex(y.t.shape, shape);
    const out = Array.from(ic, (k, i) => (cv[k] ? xv[ix[i]!]! : yv[iy[i]!]!));
    return [{ t: tf.tensor(out, shape, 'string'), dtype: x.dtype }];
  }
  const r = tf.tidy(() => {
    if (shape.includes(0)) return tf.zeros(shape, x.t.dtype);
    const cond = toBoolT(tf, c.t);
    const yt = y.t.dtype === x.t.dtype ? y.t : tf.cast(y.t, x.t.dtype);
    const out = tf.where(cond, x.t, yt);
    return out.shape.join(',') === shape.join(',') ? out : tf.broadcastTo(out, shape);
  });
  return [finish(tf, r, x.dtype)];
}

export const logicalKernels: KernelTable = {
  And: logical((tf, a, b) => tf.logicalAnd(a, b)),
  Or: logical((tf, a, b) => tf.logicalOr(a, b)),
  Xor: logical((tf, a, b) => tf.logicalXor(a, b)),
  Equal: compare((tf, a, b) => tf.equal(a, b), (x, y) => x === y),
  Greater: compare((tf, a, b) => tf.greater(a, b), (x, y) => x > y),
  GreaterOrEqual: compare((tf, a, b) => tf.greaterEqual(a, b), (x, y) => x >= y),
  Less: compare((tf, a, b) => tf.less(a, b), (x, y) => x < y),
  LessOrEqual: compare((tf, a, b) => tf.lessEqual(a, b), (x, y) => x <= y),
  Where: kernel(where, { allowString: true }),
};
