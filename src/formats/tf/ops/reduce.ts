/**
 * TF reductions: Mean, Sum, Max, Min, Prod, All, Any, EuclideanNorm (axes from the second
 * input, `keep_dims`), ArgMax, ArgMin (`output_type`).
 *
 * - ONNX 17 ReduceSum takes its axes as an input (a non-constant axes tensor works there); the
 *   other Reduce ops take an attribute, so their axes must be constant.
 * - TF reduces nothing when the axes list is empty (ONNX would reduce everything): Identity.
 * - Integer Mean truncates toward zero in TF (sum / count in integers): ReduceSum then Div by the
 *   element count (Size(x) / Size(sum), which works with unknown shapes).
 * - All / Any: ONNX reductions do not take bool, so through int32 (ReduceMin / ReduceMax).
 */
import { attr, type Value } from '../../../ir/graph.js';
import { isFloatDType, type DType } from '../../../ir/tensor.js';
import { registerTfOp, type TfOpContext, type TfOpConverter } from '../op-api.js';
import { castTo, dtypeOf, requireNumeric } from './math.js';

/** The constant axes of input 1, as numbers (an error naming the node when not constant). */
function constAxes(ctx: TfOpContext, v: Value): number[] {
  const t = ctx.requireConstant(v, 'the reduction axes');
  return Array.from(t.toFloat64());
}

function keepDims(ctx: TfOpContext): number {
  return ctx.bool('keep_dims', false) ? 1 : 0;
}

/** The axes as an int64 input for ReduceSum: the constant, or the value cast to int64. */
function axesInput(ctx: TfOpContext, v: Value): Value | 'empty' {
  const c = ctx.constant(v);
  if (c) {
    const axes = Array.from(c.toFloat64());
    return axes.length === 0 ? 'empty' : ctx.ints64('axes', axes, [axes.length]);
  }
  const flat = ctx.emit('Reshape', [v, ctx.ints64('axes_shape', [-1], [1])], {}, 1, 'axes_1d')[0]!;
  return v.dtype === 'int64' ? flat : castTo(ctx, flat, 'int64', 'axes_int64');
}

function reduceSum(ctx: TfOpContext, x: Value, axesV: Value, suffix?: string): Value {
  const axes = axesInput(ctx, axesV);
  if (axes === 'empty') return ctx.emit('Identity', [x], {}, 1, suffix)[0]!;
  return ctx.emit('ReduceSum', [x, axes], { keepdims: attr.int(keepDims(ctx)) }, 1, suffix)[0]!;
}

/** A Reduce op with axes as an attribute (Identity for an empty axes list). */
function reduceAttr(ctx: TfOpContext, op: string, x: Value, axesV: Value, suffix?: string): Value {
  const axes = constAxes(ctx, axesV);
  if (axes.length === 0) return ctx.emit('Identity', [x], {}, 1, suffix)[0]!;
  return ctx.emit(op, [x], { axes: attr.ints(axes), keepdims: attr.int(keepDims(ctx)) }, 1, suffix)[0]!;
}

function sum(ctx: TfOpContext, [x, axes]: Value[]): Value[] {
  const d = dtypeOf(ctx, x!);
  requireNumeric(ctx, d, 'Sum');
  return [reduceSum(ctx, x!, axes!)];
}

function mean(ctx: TfOpContext, [x, axes]: Value[]): Value[] {
  const d = dtypeOf(ctx, x!);
  requireNumeric(ctx, d, 'Mean');
  if (isFloatDType(d)) return [reduceAttr(ctx, 'ReduceMean', x!, axes!)];
  if (ctx.constant(axes!)?.size === 0) return ctx.emit('Identity', [x!]);
  const s = reduceSum(ctx, x!, axes!, 'sum');
  const count = ctx.emit('Div', [ctx.emit('Size', [x!], {}, 1, 'size_in')[0]!, ctx.emit('Size', [s], {}, 1, 'size_out')[0]!], {}, 1, 'count')[0]!;
  const c = d === 'int64' ? count : castTo(ctx, count, d, 'count_cast');
  return ctx.emit('Div', [s, c]);
}

function simple(op: string): TfOpConverter {
  return (ctx, [x, axes]) => {
    const d = dtypeOf(ctx, x!);
    requireNumeric(ctx, d, ctx.node.op);
    return [reduceAttr(ctx, op, x!, axes!)];
  };
}

function euclideanNorm(ctx: TfOpContext, [x, axes]: Value[]): Value[] {
  const d = dtypeOf(ctx, x!);
  if (!isFloatDType(d)) throw ctx.unsupported(`EuclideanNorm of ${d} tensors`);
  return [reduceAttr(ctx, 'ReduceL2', x!, axes!)];
}

/** All / Any over bool: as int32 through ReduceMin / ReduceMax, then back to bool. */
function logical(op: 'ReduceMin' | 'ReduceMax'): TfOpConverter {
  return (ctx, [x, axes]) => {
    const axesList = constAxes(ctx, axes!);
    if (axesList.length === 0) return ctx.emit('Identity', [x!]);
    const i = castTo(ctx, x!, 'int32', 'as_int');
    const r = ctx.emit(op, [i], { axes: attr.ints(axesList), keepdims: attr.int(keepDims(ctx)) }, 1, 'reduce')[0]!;
    return [castTo(ctx, r, 'bool')];
  };
}

/** ArgMax/ArgMin: the axis from input 1, first index on ties, int64 or int32 out. */
function arg(op: 'ArgMax' | 'ArgMin'): TfOpConverter {
  return (ctx, [x, dim]) => {
    const d = dtypeOf(ctx, x!);
    requireNumeric(ctx, d, ctx.node.op);
    const axis = constAxes(ctx, dim!);
    if (axis.length !== 1) throw ctx.unsupported(`${ctx.node.op} over ${axis.length} axes`);
    const out: DType = ctx.attr('output_type') ? ctx.dtype('output_type') : 'int64';
    const attrs = { axis: attr.int(axis[0]!), keepdims: attr.int(0), select_last_index: attr.int(0) };
    if (out === 'int64') return ctx.emit(op, [x!], attrs);
    const r = ctx.emit(op, [x!], attrs, 1, 'int64')[0]!;
    return [castTo(ctx, r, out)];
  };
}

const REDUCTIONS: Record<string, TfOpConverter> = {
  Sum: sum,
  Mean: mean,
  Max: simple('ReduceMax'),
  Min: simple('ReduceMin'),
  Prod: simple('ReduceProd'),
  EuclideanNorm: euclideanNorm,
  All: logical('ReduceMin'),
  Any: logical('ReduceMax'),
  ArgMax: arg('ArgMax'),
  ArgMin: arg('ArgMin'),
};

for (const [op, conv] of Object.entries(REDUCTIONS)) registerTfOp(op, conv);

/** The TF ops this file converts. */
export const REDUCE_OPS = Object.keys(REDUCTIONS);
