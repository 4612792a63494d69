/**
 * ArgMax / ArgMin: int64 indices along `axis`, keepdims, select_last_index.
 * Ties go to the first index (tfjs does so); select_last_index reverses the axis first.
 */
import type { KernelTable } from '../types.js';
import { finish, kernel, nodeError, normAxis, reducedShape, req } from './util.js';

function argKernel(kind: 'max' | 'min') {
  return kernel((ctx) => {
    const { tf, node } = ctx;
    const x = req(ctx, 0);
    const rank = x.t.rank;
    const axis = normAxis(node.attrInt('axis', 0), rank, node);
    const keep = node.attrInt('keepdims', 1) !== 0;
    const last = node.attrInt('select_last_index', 0) !== 0;
    const outShape = reducedShape(x.t.shape, [axis], keep);
    const n = rank ? x.t.shape[axis]! : 1;
    if (n === 0) throw nodeError(node, `Arg${kind} over an empty axis`);
    const y = tf.tidy(() => {
      if (x.t.size === 0) return tf.zeros(outShape, 'int32');
      let xt = x.t.dtype === 'bool' ? tf.cast(x.t, 'int32') : x.t;
      if (rank === 0) xt = tf.reshape(xt, [1]);
      if (last) xt = tf.reverse(xt, axis);
      let idx = kind === 'max' ? tf.argMax(xt, axis) : tf.argMin(xt, axis);
      if (last) idx = tf.sub(tf.scalar(n - 1, 'int32'), idx);
      return tf.reshape(idx, outShape);
    });
    return [finish(tf, y, 'int64')];
  });
}

export const argKernels: KernelTable = {
  ArgMax: argKernel('max'),
  ArgMin: argKernel('min'),
};
