/**
 * Cumprod (ONNX has no cumulative product): the axis (constant, of known length, at most
 * MAX_CUMPROD_LENGTH) is split into slices, the running products chain through Mul nodes in TF's
 * order (reverse: from the end; exclusive: shifted by one, starting from ones) and concatenate.
 */
import { attr, type Value } from '../../../ir/graph.js';
import { Tensor } from '../../../ir/tensor.js';
import { registerTfOp } from '../op-api.js';

/** The longest axis unrolled (one Mul per element of the axis). */
export const MAX_CUMPROD_LENGTH = 512;

registerTfOp('Cumprod', (ctx, [x, axisV]) => {
  const rank = x!.shape?.length;
  if (rank === undefined) throw ctx.unsupported('an input of unknown rank');
  let axis = Number(ctx.requireConstant(axisV!, 'axis').toFloat64()[0]);
  if (axis < 0) axis += rank;
  const n = x!.shape![axis];
  if (typeof n !== 'number') throw ctx.unsupported(`an axis of unknown length (dim ${axis} of [${x!.shape!.join(', ')}])`);
  if (n > MAX_CUMPROD_LENGTH) throw ctx.unsupported(`an axis of length ${n} (at most ${MAX_CUMPROD_LENGTH} are unrolled)`);
  if (n === 0) return ctx.emit('Identity', [x!]);
  const exclusive = ctx.bool('exclusive', false);
  const reverse = ctx.bool('reverse', false);
  const parts = n === 1 ? [x!] : ctx.emit('Split', [x!], { axis: attr.int(axis) }, n, 'split');
  const order = Array.from({ length: n }, (_, i) => (reverse ? n - 1 - i : i));
  const out: Value[] = new Array<Value>(n);
  let running: Value | undefined;
  for (const [step, i] of order.entries()) {
    if (exclusive) {
      if (!running) {
        const d = x!.dtype ?? ctx.dtype('T');
        const one = Tensor.fromArray(d, [1], [d === 'int64' || d === 'uint64' ? 1n : 1] as never);
        const shape = ctx.emit('Shape', [parts[i]!], {}, 1, 'slice_shape')[0]!;
        out[i] = ctx.emit('ConstantOfShape', [shape], { value: attr.tensor(one) }, 1, 'ones')[0]!;
      } else {
        out[i] = running;
      }
      if (step < n - 1) running = running ? ctx.emit('Mul', [running, parts[i]!], {}, 1, `product_${step}`)[0]! : parts[i]!;
    } else {
      running = running ? ctx.emit('Mul', [running, parts[i]!], {}, 1, `product_${step}`)[0]! : parts[i]!;
      out[i] = running;
    }
  }
  if (n === 1) return [ctx.emit('Identity', [out[0]!], {}, 1, 'cumprod')[0]!];
  return ctx.emit('Concat', out, { axis: attr.int(axis) }, 1, 'cumprod');
});

export const CUMULATIVE_OPS = ['Cumprod'];
