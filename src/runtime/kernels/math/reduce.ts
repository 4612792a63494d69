/**
 * Reduce* ops: axes from the attribute or (ReduceSum since opset 13) the second input,
 * keepdims, noop_with_empty_axes, empty axes meaning all axes. Reductions over an empty
 * set give the op's identity (0 for sums, 1 for products, -inf/+inf for max/min, NaN for mean).
 */
import type { KernelContext, KernelTable, RT, TF } from '../types.js';
import { TfTensor, finish, intRange, intsOf, isFloat, kernel, normAxis, opt, reducedShape, req } from './util.js';

type ReduceOp = 'Sum' | 'Mean' | 'Max' | 'Min' | 'Prod' | 'L1' | 'L2' | 'LogSum' | 'LogSumExp' | 'SumSquare';

function emptyValue(op: ReduceOp, floatOut: boolean, dtype: RT['dtype']): number {
  switch (op) {
    case 'Prod': return 1;
    case 'Mean': return NaN;
    case 'Max': return floatOut ? -Infinity : intRange(dtype)[0];
    case 'Min': return floatOut ? Infinity : intRange(dtype)[1];
    case 'LogSum': case 'LogSumExp': return -Infinity;
    default: return 0;
  }
}

function compute(tf: TF, op: ReduceOp, x: TfTensor, axes: number[], keep: boolean): TfTensor {
  const f = () => (x.dtype === 'float32' ? x : tf.cast(x, 'float32'));
  switch (op) {
    case 'Sum': return tf.sum(x.dtype === 'bool' ? tf.cast(x, 'int32') : x, axes, keep);
    case 'Prod': return tf.prod(x, axes, keep);
    case 'Max': return tf.max(x, axes, keep);
    case 'Min': return tf.min(x, axes, keep);
    case 'Mean': return tf.mean(f(), axes, keep);
    case 'L1': return tf.sum(tf.abs(x), axes, keep);
    case 'L2': return tf.sqrt(tf.sum(tf.square(f()), axes, keep));
    case 'SumSquare': return tf.sum(tf.square(x), axes, keep);
    case 'LogSum': return tf.log(tf.sum(f(), axes, keep));
    case 'LogSumExp': return tf.logSumExp(f(), axes, keep);
  }
}

function reduceKernel(op: ReduceOp) {
  return kernel((ctx: KernelContext) => {
    const { tf, node } = ctx;
    const x = req(ctx, 0);
    const axesIn = opt(ctx, 1);
    const keep = node.attrInt('keepdims', 1) !== 0;
    const noop = node.attrInt('noop_with_empty_axes', 0) !== 0;
    const rank = x.t.rank;
    const given = axesIn ? intsOf(axesIn) : node.attrInts('axes', []);
    if (!given.length && noop) return [{ t: tf.clone(x.t), dtype: x.dtype }];
    const axes = given.length ? [...new Set(given.map((a) => normAxis(a, rank, node)))].sort((a, b) => a - b) : Array.from({ length: rank }, (_, i) => i);
    const outShape = reducedShape(x.t.shape, axes, keep);
    const floatOut = isFloat(x.dtype);
    const y = tf.tidy(() => {
      if (rank === 0) {
        // A scalar reduced over nothing: the op applied to one element.
        return compute(tf, op, tf.reshape(x.t, [1]), [0], false);
      }
      if (axes.some((a) => x.t.shape[a] === 0)) return tf.fill(outShape, emptyValue(op, floatOut, x.dtype), floatOut ? 'float32' : 'int32');
      if (x.t.size === 0) return tf.zeros(outShape, floatOut ? 'float32' : 'int32');
      let r = compute(tf, op, x.t, axes, keep);
      if (!floatOut && r.dtype === 'float32') r = tf.cast(r, 'int32'); // truncates toward zero
      return r;
    });
    return [finish(tf, y, x.dtype)];
  });
}

export const reduceKernels: KernelTable = {
  ReduceSum: reduceKernel('Sum'),
  ReduceMean: reduceKernel('Mean'),
  ReduceMax: reduceKernel('Max'),
  ReduceMin: reduceKernel('Min'),
  ReduceProd: reduceKernel('Prod'),
  ReduceL1: reduceKernel('L1'),
  ReduceL2: reduceKernel('L2'),
  ReduceLogSum: reduceKernel('LogSum'),
  ReduceLogSumExp: reduceKernel('LogSumExp'),
  ReduceSumSquare: reduceKernel('SumSquare'),
};
