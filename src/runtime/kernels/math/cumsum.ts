/**
 * CumSum: axis from the second input, exclusive and reverse attributes.
 */
import type { KernelTable } from '../types.js';
import { finish, kernel, normAxis, req, scalarOf } from './util.js';

export const cumsumKernels: KernelTable = {
  CumSum: kernel((ctx) => {
    const { tf, node } = ctx;
    const x = req(ctx, 0);
    const axis = normAxis(scalarOf(req(ctx, 1), node, 'axis'), x.t.rank, node);
    const exclusive = node.attrInt('exclusive', 0) !== 0;
    const reverse = node.attrInt('reverse', 0) !== 0;
    const y = tf.tidy(() => {
      if (x.t.size === 0) return tf.zeros(x.t.shape, x.t.dtype);
      const xt = x.t.dtype === 'bool' ? tf.cast(x.t, 'int32') : x.t;
      if (x.t.rank === 0) return tf.clone(exclusive ? tf.zerosLike(xt) : xt);
      return tf.cumsum(xt, axis, exclusive, reverse);
    });
    return [finish(tf, y, x.dtype)];
  }),
};
