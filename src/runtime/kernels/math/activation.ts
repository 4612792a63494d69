/**
 * Activations with ONNX attributes (alpha, beta, gamma, lambd...), PRelu and Clip.
 */
import type { KernelTable } from '../types.js';
import { unary } from './elementwise-unary.js';
import { finish, kernel, opt, req, scalarOf } from './util.js';

const float = { floatOnly: true };

export const activationKernels: KernelTable = {
  Relu: unary((tf, x) => (x.dtype === 'float32' ? tf.relu(x) : tf.maximum(x, tf.scalar(0, x.dtype)))),
  LeakyRelu: unary((tf, x, node) => {
    const alpha = node.attrFloat('alpha', 0.01);
    return tf.where(tf.greaterEqual(x, 0), x, tf.mul(x, alpha));
  }, float),
  Elu: unary((tf, x, node) => {
    const alpha = node.attrFloat('alpha', 1);
    return tf.where(tf.greater(x, 0), x, tf.mul(tf.sub(tf.exp(x), 1), alpha));
  }, float),
  Selu: unary((tf, x, node) => {
    const alpha = node.attrFloat('alpha', 1.67326319217681884765625);
    const gamma = node.attrFloat('gamma', 1.05070102214813232421875);
    return tf.mul(tf.where(tf.greater(x, 0), x, tf.sub(tf.mul(tf.exp(x), alpha), alpha)), gamma);
  }, float),
  Celu: unary((tf, x, node) => {
    const alpha = node.attrFloat('alpha', 1);
    const neg = tf.mul(tf.sub(tf.exp(tf.div(x, alpha)), 1), alpha);
    return tf.add(tf.maximum(x, 0), tf.minimum(neg, 0));
  }, float),
  HardSigmoid: unary((tf, x, node) => {
    const alpha = node.attrFloat('alpha', 0.2);
    const beta = node.attrFloat('beta', 0.5);
    return tf.minimum(tf.maximum(tf.add(tf.mul(x, alpha), beta), 0), 1);
  }, float),
  HardSwish: unary((tf, x) => tf.mul(x, tf.minimum(tf.maximum(tf.add(tf.mul(x, 1 / 6), 0.5), 0), 1)), float),
  ThresholdedRelu: unary((tf, x, node) => {
    const alpha = node.attrFloat('alpha', 1);
    return tf.where(tf.greater(x, alpha), x, tf.zerosLike(x));
  }, float),
  Shrink: unary((tf, x, node) => {
    const bias = node.attrFloat('bias', 0);
    const lambd = node.attrFloat('lambd', 0.5);
    const xf = tf.cast(x, 'float32');
    const y = tf.where(tf.less(xf, -lambd), tf.add(xf, bias), tf.where(tf.greater(xf, lambd), tf.sub(xf, bias), tf.zerosLike(xf)));
    return x.dtype === 'float32' ? y : tf.cast(y, x.dtype);
  }),
  Mish: unary((tf, x) => tf.mul(x, tf.tanh(tf.softplus(x))), float),
  PRelu: kernel((ctx) => {
    const { tf } = ctx;
    const x = req(ctx, 0);
    const slope = req(ctx, 1);
    const y = tf.tidy(() => {
      const s = slope.t.dtype === x.t.dtype ? slope.t : tf.cast(slope.t, x.t.dtype);
      const neg = tf.mul(x.t, s);
      const out = tf.where(tf.less(x.t, 0), neg, x.t);
      // The slope broadcasts to X (unidirectionally): the result has X's shape.
      return out.shape.join(',') === x.t.shape.join(',') ? out : tf.reshape(out, x.t.shape);
    });
    return [finish(tf, y, x.dtype)];
  }),
  Clip: kernel((ctx) => {
    const { tf, node } = ctx;
    const x = req(ctx, 0);
    const minIn = opt(ctx, 1);
    const maxIn = opt(ctx, 2);
    // Opset < 11 carried the bounds as attributes; accept them too.
    const lo = minIn ? scalarOf(minIn, node, 'min') : node.attrFloat('min');
    const hi = maxIn ? scalarOf(maxIn, node, 'max') : node.attrFloat('max');
    const y = tf.tidy(() => {
      let t = x.t;
      if (x.t.size === 0) return tf.clone(t);
      if (lo !== undefined) t = tf.maximum(t, tf.scalar(lo, t.dtype));
      if (hi !== undefined) t = tf.minimum(t, tf.scalar(hi, t.dtype));
      return t === x.t ? tf.clone(t) : t;
    });
    return [finish(tf, y, x.dtype)];
  }),
};
