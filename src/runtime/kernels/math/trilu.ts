/**
 * Trilu: keeps the upper (j - i >= k) or lower (j - i <= k) triangle of the last two dims.
 */
import type { KernelTable } from '../types.js';
import { finish, kernel, nodeError, opt, req, scalarOf } from './util.js';

export const triluKernels: KernelTable = {
  Trilu: kernel((ctx) => {
    const { tf, node } = ctx;
    const x = req(ctx, 0);
    const kIn = opt(ctx, 1);
    const k = kIn ? scalarOf(kIn, node, 'k') : 0;
    const upper = node.attrInt('upper', 1) !== 0;
    if (x.t.rank < 2) throw nodeError(node, `Trilu needs rank >= 2, got [${x.t.shape.join(', ')}]`);
    const [n, m] = x.t.shape.slice(-2) as [number, number];
    const y = tf.tidy(() => {
      if (x.t.size === 0) return tf.clone(x.t);
      const rows = tf.reshape(tf.range(0, n, 1, 'int32'), [n, 1]);
      const cols = tf.reshape(tf.range(0, m, 1, 'int32'), [1, m]);
      const diff = tf.sub(cols, rows);
      const keep = upper ? tf.greaterEqual(diff, tf.scalar(k, 'int32')) : tf.lessEqual(diff, tf.scalar(k, 'int32'));
      const mask = tf.broadcastTo(keep, x.t.shape);
      return tf.where(mask, x.t, tf.zerosLike(x.t));
    });
    return [finish(tf, y, x.dtype)];
  }),
};
