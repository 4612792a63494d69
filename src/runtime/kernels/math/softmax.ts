/**
 * Softmax, LogSoftmax and Hardmax with opset-13 semantics: along one `axis` (default -1).
 */
import type { KernelTable } from '../types.js';
import { TfTensor, finish, invertPerm, kernel, normAxis, permToLast, req } from './util.js';

function softmaxKernel(kind: 'Softmax' | 'LogSoftmax' | 'Hardmax') {
  return kernel((ctx) => {
    const { tf, node } = ctx;
    const x = req(ctx, 0);
    const rank = x.t.rank;
    const axis = normAxis(node.attrInt('axis', -1), rank, node);
    const y = tf.tidy((): TfTensor => {
      const xt = x.t.dtype === 'float32' ? x.t : tf.cast(x.t, 'float32');
      if (xt.size === 0 || rank === 0) {
        if (rank === 0) return kind === 'LogSoftmax' ? tf.zeros([]) : tf.ones([]);
        return tf.zeros(xt.shape);
      }
      if (kind === 'Hardmax') {
        const n = xt.shape[axis]!;
        // Built as int32 and cast: the wasm OneHot kernel writes int bits into float outputs.
        const hot = tf.cast(tf.oneHot(tf.argMax(xt, axis), n, 1, 0, 'int32'), 'float32');
        if (axis === rank - 1) return hot;
        return tf.transpose(hot, invertPerm(permToLast(rank, axis)));
      }
      const m = tf.max(xt, axis, true);
      const shifted = tf.sub(xt, m);
      const s = tf.sum(tf.exp(shifted), axis, true);
      return kind === 'Softmax' ? tf.div(tf.exp(shifted), s) : tf.sub(shifted, tf.log(s));
    });
    return [finish(tf, y, x.dtype)];
  });
}

export const softmaxKernels: KernelTable = {
  Softmax: softmaxKernel('Softmax'),
  LogSoftmax: softmaxKernel('LogSoftmax'),
  Hardmax: softmaxKernel('Hardmax'),
};
