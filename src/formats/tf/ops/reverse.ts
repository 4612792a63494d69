/**
 * Reverse (TF's first version: a constant bool per dim saying which to reverse) as a Slice with
 * step -1 on those dims, like ReverseV2.
 */
import { registerTfOp } from '../op-api.js';

const INT_MIN = -2147483648;

registerTfOp('Reverse', (ctx, [x, dimsV]) => {
  const dims = Array.from(ctx.requireConstant(dimsV!, 'dims').toArray() as ArrayLike<number | boolean>, Boolean);
  const rank = x!.shape?.length;
  if (rank !== undefined && dims.length !== rank) throw ctx.unsupported(`dims of length ${dims.length} for a rank-${rank} input`);
  const axes = dims.flatMap((b, i) => (b ? [i] : []));
  if (!axes.length) return ctx.emit('Identity', [x!]);
  return ctx.emit('Slice', [x!, ctx.ints64('starts', axes.map(() => -1)), ctx.ints64('ends', axes.map(() => INT_MIN)), ctx.ints64('axes', axes), ctx.ints64('steps', axes.map(() => -1))]);
});

export const REVERSE_OPS = ['Reverse'];
