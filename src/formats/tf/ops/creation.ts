/**
 * TF ops that make new tensors: tfjs's Ones and Zeros, LinSpace, and the normal random ops
 * (RandomStandardNormal, TruncatedNormal) as ONNX RandomNormal/RandomNormalLike.
 */
import { attr, type Attrs, type Value } from '../../../ir/graph.js';
import { ONNX_DTYPE_CODES } from '../../../ir/ops/helpers.js';
import { Tensor, type DType } from '../../../ir/tensor.js';
import { registerTfOp, type TfOpContext } from '../op-api.js';

function int64(ctx: TfOpContext, v: Value, suffix: string): Value {
  const c = ctx.constant(v);
  if (c) return ctx.ints64(suffix, Array.from(c.toArray() as ArrayLike<number | bigint>, Number), c.shape.slice());
  if (v.dtype === 'int64') return v;
  return ctx.emit('Cast', [v], { to: attr.int(ONNX_DTYPE_CODES.int64) }, 1, `${suffix}_int64`)[0]!;
}

function scalarOf(d: DType, value: number): Tensor {
  const v = d === 'bool' ? value !== 0 : d === 'int64' || d === 'uint64' ? BigInt(value) : value;
  return Tensor.fromArray(d, [1], [v] as never);
}

/** tfjs's Ones/Zeros(shape; T): a tensor of `shape` filled with 1 or 0. */
function filled(value: number) {
  return (ctx: TfOpContext, [shape]: Value[]): Value[] => {
    const d = ctx.dtype('T', 'float32');
    return ctx.emit('ConstantOfShape', [int64(ctx, shape!, 'shape')], { value: attr.tensor(scalarOf(d, value)) });
  };
}
registerTfOp('Ones', filled(1));
registerTfOp('Zeros', filled(0));

/**
 * LinSpace(start, stop, num): num values, start + i * (stop - start) / (num - 1), the last one
 * `stop` (a single value is `start`).
 */
registerTfOp('LinSpace', (ctx, [start, stop, num]) => {
  const d = start!.dtype ?? ctx.dtype('T', 'float32');
  const n = ctx.emit('Reshape', [int64(ctx, num!, 'num'), ctx.ints64('scalar', [], [0])], {}, 1, 'num_scalar')[0]!;
  const idx = ctx.emit('Range', [ctx.ints64('zero', [0], []), n, ctx.ints64('one', [1], [])], {}, 1, 'range')[0]!;
  const cast = (v: Value, suffix: string) => (v.dtype === d ? v : ctx.emit('Cast', [v], { to: attr.int(ONNX_DTYPE_CODES[d]) }, 1, suffix)[0]!);
  const idxT = cast(idx, 'index');
  const nT = cast(n, 'num_float');
  const one = ctx.initializer('one_t', Tensor.fromArray(d, [], [1]));
  const denom = ctx.emit('Max', [ctx.emit('Sub', [nT, one], {}, 1, 'num_minus_one')[0]!, one], {}, 1, 'denominator')[0]!;
  const step = ctx.emit('Div', [ctx.emit('Sub', [stop!, start!], {}, 1, 'span')[0]!, denom], {}, 1, 'step')[0]!;
  const vals = ctx.emit('Add', [start!, ctx.emit('Mul', [idxT, step], {}, 1, 'offsets')[0]!], {}, 1, 'values')[0]!;
  // The last value is `stop` exactly, as TF writes it.
  const last = ctx.emit('Equal', [idxT, denom], {}, 1, 'is_last')[0]!;
  const isMany = ctx.emit('Greater', [nT, one], {}, 1, 'several')[0]!;
  const useStop = ctx.emit('And', [last, isMany], {}, 1, 'use_stop')[0]!;
  return ctx.emit('Where', [useStop, stop!, vals], {}, 1, 'linspace');
});

/** Seeded draws get distinct seeds per ONNX node (`k`); unseeded ones differ on each run. */
function randomAttrs(ctx: TfOpContext, dtype: DType, k: number): Attrs {
  const seed = ctx.int('seed2', 0) || ctx.int('seed', 0);
  return { dtype: attr.int(ONNX_DTYPE_CODES[dtype]), mean: attr.float(0), scale: attr.float(1), ...(seed ? { seed: attr.float(seed + k) } : {}) };
}

/** A standard normal draw of the shape `shape` holds (a constant, else through ConstantOfShape). */
function normal(ctx: TfOpContext, shape: Value, dtype: DType, k: number): Value {
  if (!['float32', 'float64', 'float16'].includes(dtype)) throw ctx.unsupported(`dtype ${dtype}`);
  const dims = ctx.constant(shape);
  const suffix = `normal_${k}`;
  if (dims) return ctx.emit('RandomNormal', [], { ...randomAttrs(ctx, dtype, k), shape: attr.ints(Array.from(dims.toArray() as ArrayLike<number | bigint>, Number)) }, 1, suffix)[0]!;
  const zeros = ctx.emit('ConstantOfShape', [int64(ctx, shape, 'shape')], { value: attr.tensor(scalarOf(dtype, 0)) }, 1, `zeros_${k}`)[0]!;
  return ctx.emit('RandomNormalLike', [zeros], randomAttrs(ctx, dtype, k), 1, suffix)[0]!;
}

registerTfOp('RandomStandardNormal', (ctx, [shape]) => [normal(ctx, shape!, ctx.dtype('dtype', 'float32'), 0)]);

/** Draws for TruncatedNormal: a value outside 2 standard deviations is replaced by the next draw. */
const TRUNCATED_DRAWS = 4;

/**
 * TruncatedNormal(shape): standard normal values within [-2, 2]. TF redraws values outside; here
 * each value takes the first of 4 independent draws that lands inside (all 4 outside has
 * probability 4e-6 per value, and that one is clipped to the bound).
 */
registerTfOp('TruncatedNormal', (ctx, [shape]) => {
  const d = ctx.dtype('dtype', 'float32');
  const lo = ctx.initializer('low', Tensor.fromArray(d, [], [-2]));
  const hi = ctx.initializer('high', Tensor.fromArray(d, [], [2]));
  const draws = Array.from({ length: TRUNCATED_DRAWS }, (_, k) => normal(ctx, shape!, d, k));
  let out = ctx.emit('Clip', [draws[TRUNCATED_DRAWS - 1]!, lo, hi], {}, 1, 'clip')[0]!;
  for (let k = TRUNCATED_DRAWS - 2; k >= 0; k--) {
    const abs = ctx.emit('Abs', [draws[k]!], {}, 1, `abs_${k}`)[0]!;
    const inside = ctx.emit('LessOrEqual', [abs, hi], {}, 1, `inside_${k}`)[0]!;
    out = ctx.emit('Where', [inside, draws[k]!, out], {}, 1, k === 0 ? 'truncated' : `pick_${k}`)[0]!;
  }
  return [out];
});

export const CREATION_OPS = ['Ones', 'Zeros', 'LinSpace', 'RandomStandardNormal', 'TruncatedNormal'];
