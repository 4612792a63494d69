/**
 * LowerBound and UpperBound (tf.searchsorted): for each value, the number of entries of its row of
 * the sorted sequence that are < it (LowerBound) or <= it (UpperBound), as a comparison of every
 * value with every entry ([batch, values, entries], then a sum), in `out_type`.
 */
import { attr, type Value } from '../../../ir/graph.js';
import { ONNX_DTYPE_CODES } from '../../../ir/ops/helpers.js';
import { registerTfOp, type TfOpContext } from '../op-api.js';

function bound(op: 'Less' | 'LessOrEqual') {
  return (ctx: TfOpContext, [sorted, values]: Value[]): Value[] => {
    const sr = sorted!.shape?.length;
    const vr = values!.shape?.length;
    if (sr !== 2 || vr !== 2) throw ctx.unsupported('inputs that are not 2-D [batch, n]');
    const s3 = ctx.emit('Unsqueeze', [sorted!, ctx.ints64('axis1', [1])], {}, 1, 'sorted_b1n')[0]!;
    const v3 = ctx.emit('Unsqueeze', [values!, ctx.ints64('axis2', [2])], {}, 1, 'values_bm1')[0]!;
    const cmp = ctx.emit(op, [s3, v3], {}, 1, 'compare')[0]!;
    const counts = ctx.emit('Cast', [cmp], { to: attr.int(ONNX_DTYPE_CODES.int64) }, 1, 'as_int')[0]!;
    const sum = ctx.emit('ReduceSum', [counts, ctx.ints64('axes', [2])], { keepdims: attr.int(0) }, 1, 'count')[0]!;
    const to = ctx.dtype('out_type', 'int32');
    if (to === 'int64') return [sum];
    return ctx.emit('Cast', [sum], { to: attr.int(ONNX_DTYPE_CODES[to]) }, 1, 'cast');
  };
}

registerTfOp('LowerBound', bound('Less'));
registerTfOp('UpperBound', bound('LessOrEqual'));

export const SORTED_SEARCH_OPS = ['LowerBound', 'UpperBound'];
