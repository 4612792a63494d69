/**
 * One-input elementwise ops: trigonometry, exp/log, rounding, sign, IsInf/IsNaN, Not.
 */
import type { Node } from '../../../ir/graph.js';
import type { DType } from '../../../ir/tensor.js';
import type { KernelTable, TF } from '../types.js';
import { TfTensor, finish, kernel, req } from './util.js';

type UnaryFn = (tf: TF, x: TfTensor, node: Node) => TfTensor;

/**
 * A kernel applying `fn` to input 0. Float-only math receives a float32 tensor even when an
 * integer tensor arrives; the output keeps the input's dtype unless `out` says otherwise.
 */
export function unary(fn: UnaryFn, opts: { floatOnly?: boolean; out?: (input: DType) => DType } = {}) {
  return kernel((ctx) => {
    const { tf, node } = ctx;
    const x = req(ctx, 0);
    const y = tf.tidy(() => {
      const xt = opts.floatOnly && x.t.dtype !== 'float32' ? tf.cast(x.t, 'float32') : x.t;
      if (xt.size === 0) return tf.zeros(xt.shape, xt.dtype);
      return fn(tf, xt, node);
    });
    return [finish(tf, y, opts.out ? opts.out(x.dtype) : x.dtype)];
  });
}

const float = { floatOnly: true };
const toBool = { out: (): DType => 'bool' };

/** Integer inputs pass through rounding ops unchanged. */
const keepInts = (f: UnaryFn): UnaryFn => (tf, x, node) => (x.dtype === 'float32' ? f(tf, x, node) : tf.clone(x));

export const unaryKernels: KernelTable = {
  Abs: unary((tf, x) => tf.abs(x)),
  Neg: unary((tf, x) => tf.neg(x)),
  Sign: unary((tf, x) => tf.sign(x)),
  Ceil: unary(keepInts((tf, x) => tf.ceil(x))),
  Floor: unary(keepInts((tf, x) => tf.floor(x))),
  // tf.round rounds halves to even, as ONNX Round does.
  Round: unary(keepInts((tf, x) => tf.round(x))),
  Reciprocal: unary((tf, x) => tf.reciprocal(x), float),
  Sqrt: unary((tf, x) => tf.sqrt(x), float),
  Exp: unary((tf, x) => tf.exp(x), float),
  Log: unary((tf, x) => tf.log(x), float),
  Erf: unary((tf, x) => tf.erf(x), float),
  Sin: unary((tf, x) => tf.sin(x), float),
  Cos: unary((tf, x) => tf.cos(x), float),
  Tan: unary((tf, x) => tf.tan(x), float),
  Asin: unary((tf, x) => tf.asin(x), float),
  Acos: unary((tf, x) => tf.acos(x), float),
  Atan: unary((tf, x) => tf.atan(x), float),
  Sinh: unary((tf, x) => tf.sinh(x), float),
  Cosh: unary((tf, x) => tf.cosh(x), float),
  Tanh: unary((tf, x) => tf.tanh(x), float),
  Asinh: unary((tf, x) => tf.asinh(x), float),
  Acosh: unary((tf, x) => tf.acosh(x), float),
  Atanh: unary((tf, x) => tf.atanh(x), float),
  Sigmoid: unary((tf, x) => tf.sigmoid(x), float),
  Softplus: unary((tf, x) => tf.softplus(x), float),
  Softsign: unary((tf, x) => tf.div(x, tf.add(tf.abs(x), 1)), float),
  IsNaN: unary((tf, x) => (x.dtype === 'float32' ? tf.isNaN(x) : tf.zeros(x.shape, 'bool')), toBool),
  IsInf: unary((tf, x, node) => {
    if (x.dtype !== 'float32') return tf.zeros(x.shape, 'bool');
    const neg = node.attrInt('detect_negative', 1) !== 0;
    const pos = node.attrInt('detect_positive', 1) !== 0;
    if (neg && pos) return tf.isInf(x);
    if (neg) return tf.equal(x, tf.scalar(-Infinity));
    if (pos) return tf.equal(x, tf.scalar(Infinity));
    return tf.zeros(x.shape, 'bool');
  }, toBool),
  Not: unary((tf, x) => tf.logicalNot(x.dtype === 'bool' ? x : tf.notEqual(x, 0)), toBool),
};
