/**
 * Small TF ops: Cast, MatrixBandPart, L2Loss, Bucketize, and the checks that pass their input
 * through or vanish in inference (Assert, CheckNumerics).
 */
import { attr, type Value } from '../../../ir/graph.js';
import { Tensor, isFloatDType } from '../../../ir/tensor.js';
import { registerTfOp, type TfOpContext, type TfOpConverter } from '../op-api.js';
import { castTo, dtypeOf, requireNumeric, scalarOf } from './math.js';

/**
 * Cast(x) to DstT. TF's float -> int truncates toward zero and x != 0 gives true, as ONNX Cast
 * does. `Truncate` (chop mantissa bits instead of rounding for float narrowing) is not modelled:
 * the ONNX Cast rounds to nearest.
 */
function cast(ctx: TfOpContext, [x]: Value[]): Value[] {
  const to = ctx.dtype('DstT');
  const from = x!.dtype ?? (ctx.attr('SrcT') ? ctx.dtype('SrcT') : undefined);
  for (const d of [to, from]) {
    if (d === 'string' || d === 'complex64' || d === 'complex128') throw ctx.unsupported(`Cast ${from ?? '?'} -> ${to}`);
  }
  if (from === to) return ctx.emit('Identity', [x!]);
  return [castTo(ctx, x!, to)];
}

/**
 * MatrixBandPart(x, num_lower, num_upper): keeps i - j <= num_lower and j - i <= num_upper
 * (negative: no limit) over the last two axes, as two Trilu ops.
 */
function matrixBandPart(ctx: TfOpContext, [x, lower, upper]: Value[]): Value[] {
  const nl = Number(ctx.requireConstant(lower!, 'num_lower').toFloat64()[0]);
  const nu = Number(ctx.requireConstant(upper!, 'num_upper').toFloat64()[0]);
  let y = x!;
  const steps: [number, number][] = [];
  if (nl >= 0) steps.push([1, -nl]);
  if (nu >= 0) steps.push([0, nu]);
  if (!steps.length) return ctx.emit('Identity', [x!]);
  steps.forEach(([upperFlag, k], i) => {
    const last = i === steps.length - 1;
    const kv = ctx.ints64(upperFlag ? 'k_lower' : 'k_upper', [k], []);
    y = ctx.emit('Trilu', [y, kv], { upper: attr.int(upperFlag) }, 1, last ? undefined : 'lower_band')[0]!;
  });
  return [y];
}

/** L2Loss(t) = sum(t ** 2) / 2, a scalar. */
function l2Loss(ctx: TfOpContext, [x]: Value[]): Value[] {
  const d = dtypeOf(ctx, x!);
  if (!isFloatDType(d)) throw ctx.unsupported(`L2Loss of ${d} tensors`);
  const s = ctx.emit('ReduceSumSquare', [x!], { keepdims: attr.int(0) }, 1, 'sum_squares')[0]!;
  return ctx.emit('Mul', [s, scalarOf(ctx, 'half', 0.5, d)]);
}

/**
 * Bucketize(x, boundaries): for each element the number of boundaries <= x (the index of the
 * first boundary above it), int32. Compared in float32 (float64 for float64 input) as TF's kernel
 * compares with its float boundaries.
 */
function bucketize(ctx: TfOpContext, [x]: Value[]): Value[] {
  const d = dtypeOf(ctx, x!);
  requireNumeric(ctx, d, 'Bucketize');
  const bounds = ctx.attr('boundaries')?.list?.f ?? [];
  if (bounds.length === 0) {
    // No boundaries: every element falls in bucket 0.
    const shape = ctx.emit('Shape', [x!], {}, 1, 'shape')[0]!;
    return ctx.emit('ConstantOfShape', [shape], { value: attr.tensor(Tensor.fromArray('int32', [1], [0])) });
  }
  const cd = d === 'float64' ? 'float64' : 'float32';
  const xf = d === cd ? x! : castTo(ctx, x!, cd, 'as_float');
  const b = ctx.initializer('boundaries', Tensor.fromArray(cd, [bounds.length], bounds));
  const xe = ctx.emit('Unsqueeze', [xf, ctx.ints64('last_axis', [-1], [1])], {}, 1, 'expand')[0]!;
  const ge = ctx.emit('GreaterOrEqual', [xe, b], {}, 1, 'at_or_above')[0]!;
  const gi = castTo(ctx, ge, 'int32', 'count_as_int');
  return ctx.emit('ReduceSum', [gi, ctx.ints64('sum_axis', [-1], [1])], { keepdims: attr.int(0) });
}

/** CheckNumerics(x): the input unchanged (the NaN/Inf check is a training-time assertion). */
function passThrough(ctx: TfOpContext, [x]: Value[]): Value[] {
  return ctx.emit('Identity', [x!]);
}

/** Assert has no outputs: nothing to compute in inference. */
function assertOp(): Value[] {
  return [];
}

const MISC: Record<string, TfOpConverter> = {
  Cast: cast,
  MatrixBandPart: matrixBandPart,
  L2Loss: l2Loss,
  Bucketize: bucketize,
  CheckNumerics: passThrough,
  CheckNumericsV2: passThrough,
  Assert: assertOp,
};

for (const [op, conv] of Object.entries(MISC)) registerTfOp(op, conv);

/** The TF ops this file converts. */
export const MISC_OPS = Object.keys(MISC);
