/**
 * TF scatter ops as ONNX ScatterND: ScatterNd (into zeros of the given shape; duplicate indices
 * add up, as in TF), TensorScatterUpdate, TensorScatterAdd and TensorScatterSub. Indices are
 * cast to int64; negative or out-of-range indices are a run-time error of ScatterND.
 */
import { attr, type Value } from '../../../ir/graph.js';
import { ONNX_DTYPE_CODES } from '../../../ir/ops/helpers.js';
import { Tensor } from '../../../ir/tensor.js';
import { registerTfOp, type TfOpContext } from '../op-api.js';

function int64(ctx: TfOpContext, v: Value, suffix: string): Value {
  const c = ctx.constant(v);
  if (c && c.dtype !== 'int64') return ctx.ints64(suffix, Array.from(c.toArray() as ArrayLike<number | bigint>, Number), c.shape.slice());
  if (c || v.dtype === 'int64') return v;
  return ctx.emit('Cast', [v], { to: attr.int(ONNX_DTYPE_CODES.int64) }, 1, `${suffix}_int64`)[0]!;
}

/** ScatterNd(indices, updates, shape): zeros of `shape` with the updates added at the indices. */
registerTfOp('ScatterNd', (ctx, [indices, updates, shape]) => {
  const d = updates!.dtype ?? ctx.dtype('T');
  const zero = Tensor.fromArray(d, [1], [d === 'int64' || d === 'uint64' ? 0n : d === 'bool' ? false : 0] as never);
  const zeros = ctx.emit('ConstantOfShape', [int64(ctx, shape!, 'shape')], { value: attr.tensor(zero) }, 1, 'zeros')[0]!;
  const reduction = d === 'bool' ? 'none' : 'add';
  return ctx.emit('ScatterND', [zeros, int64(ctx, indices!, 'indices'), updates!], { reduction: attr.string(reduction) }, 1, 'scatter');
});

/** TensorScatterUpdate(tensor, indices, updates): the tensor with the slices at indices replaced. */
registerTfOp('TensorScatterUpdate', (ctx, [x, indices, updates]) => ctx.emit('ScatterND', [x!, int64(ctx, indices!, 'indices'), updates!]));

/** TensorScatterAdd / TensorScatterSub(tensor, indices, updates): updates added (subtracted) at indices. */
registerTfOp('TensorScatterAdd', (ctx, [x, indices, updates]) =>
  ctx.emit('ScatterND', [x!, int64(ctx, indices!, 'indices'), updates!], { reduction: attr.string('add') }));
registerTfOp('TensorScatterSub', (ctx, [x, indices, updates]) => {
  const neg = ctx.emit('Neg', [updates!], {}, 1, 'negated')[0]!;
  return ctx.emit('ScatterND', [x!, int64(ctx, indices!, 'indices'), neg], { reduction: attr.string('add') }, 1, 'scatter');
});

export const SCATTER_OPS = ['ScatterNd', 'TensorScatterUpdate', 'TensorScatterAdd', 'TensorScatterSub'];
