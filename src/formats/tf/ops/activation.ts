/**
 * TF activations: Relu, Relu6, Elu, Selu, LeakyRelu, Softplus, Softsign, Sigmoid, Tanh,
 * Softmax, LogSoftmax (over the last axis, as TF defines them), ClipByValue.
 */
import { attr, type Value } from '../../../ir/graph.js';
import { isFloatDType } from '../../../ir/tensor.js';
import { registerTfOp, type TfOpContext, type TfOpConverter } from '../op-api.js';
import { dtypeOf, requireNumeric, scalarOf } from './math.js';

/** TF's SELU constants (tf.nn.selu), more digits than ONNX's float defaults. */
const SELU_ALPHA = 1.6732632423543772848170429916717;
const SELU_SCALE = 1.0507009873554804934193349852946;

function floatOnly(op: string, attrs?: Parameters<TfOpContext['emit']>[2]): TfOpConverter {
  return (ctx, [x]) => {
    const d = dtypeOf(ctx, x!);
    if (!isFloatDType(d)) throw ctx.unsupported(`${ctx.node.op} of ${d} tensors`);
    return ctx.emit(op, [x!], attrs);
  };
}

function relu(ctx: TfOpContext, [x]: Value[]): Value[] {
  requireNumeric(ctx, dtypeOf(ctx, x!), 'Relu');
  return ctx.emit('Relu', [x!]);
}

function relu6(ctx: TfOpContext, [x]: Value[]): Value[] {
  const d = dtypeOf(ctx, x!);
  requireNumeric(ctx, d, 'Relu6');
  return ctx.emit('Clip', [x!, scalarOf(ctx, 'min', 0, d), scalarOf(ctx, 'max', 6, d)]);
}

function leakyRelu(ctx: TfOpContext, [x]: Value[]): Value[] {
  const d = dtypeOf(ctx, x!);
  if (!isFloatDType(d)) throw ctx.unsupported(`LeakyRelu of ${d} tensors`);
  return ctx.emit('LeakyRelu', [x!], { alpha: attr.float(ctx.float('alpha', 0.2)) });
}

/** Whether a value is known to hold one element (rank 0, or all dims 1). */
function isScalarLike(ctx: TfOpContext, v: Value): boolean {
  const c = ctx.constant(v);
  if (c) return c.size === 1;
  return !!v.shape && v.shape.every((d) => d === 1);
}

/**
 * ClipByValue(t, min, max): ONNX Clip takes scalar bounds; TF also allows bounds shaped like t,
 * which become Max then Min.
 */
function clipByValue(ctx: TfOpContext, [x, lo, hi]: Value[]): Value[] {
  const d = dtypeOf(ctx, x!);
  requireNumeric(ctx, d, 'ClipByValue');
  if (isScalarLike(ctx, lo!) && isScalarLike(ctx, hi!)) {
    const scalar = (v: Value, s: string) => {
      const c = ctx.constant(v);
      if (c && c.rank === 0) return v;
      if (c) return ctx.initializer(s, c.reshape([]));
      return ctx.emit('Reshape', [v, ctx.ints64(`${s}_shape`, [], [0])], {}, 1, s)[0]!;
    };
    return ctx.emit('Clip', [x!, scalar(lo!, 'min'), scalar(hi!, 'max')]);
  }
  const m = ctx.emit('Max', [x!, lo!], {}, 1, 'max')[0]!;
  return ctx.emit('Min', [m, hi!]);
}

const ACTIVATIONS: Record<string, TfOpConverter> = {
  Relu: relu,
  Relu6: relu6,
  Elu: floatOnly('Elu', { alpha: attr.float(1) }),
  Selu: floatOnly('Selu', { alpha: attr.float(SELU_ALPHA), gamma: attr.float(SELU_SCALE) }),
  LeakyRelu: leakyRelu,
  Softplus: floatOnly('Softplus'),
  Softsign: floatOnly('Softsign'),
  Sigmoid: floatOnly('Sigmoid'),
  Tanh: floatOnly('Tanh'),
  Softmax: floatOnly('Softmax', { axis: attr.int(-1) }),
  LogSoftmax: floatOnly('LogSoftmax', { axis: attr.int(-1) }),
  ClipByValue: clipByValue,
};

for (const [op, conv] of Object.entries(ACTIVATIONS)) registerTfOp(op, conv);

/** The TF ops this file converts. */
export const ACTIVATION_OPS = Object.keys(ACTIVATIONS);
