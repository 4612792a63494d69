/**
 * Core Keras layers: InputLayer, Dense, Activation-free identities (Dropout and the noise
 * layers are identities at inference), Flatten, Reshape, Permute, RepeatVector, Masking,
 * Embedding, Rescaling, Normalization, UnitNormalization.
 */
import { attr, type Value } from '../../../ir/graph.js';
import { Tensor, shapeSize } from '../../../ir/tensor.js';
import type { LayerContext } from '../layer-api.js';
import { applyActivation } from './activations.js';
import { LayerBuilder, normAxis } from './builder.js';
import { setMask } from './mask.js';

function one(b: LayerBuilder, inputs: Value[]): Value {
  if (inputs.length !== 1) throw b.fail(`expects one input, got ${inputs.length}`);
  return inputs[0]!;
}

export function convertInputLayer(_ctx: LayerContext, inputs: Value[]): Value[] {
  return inputs;
}

/** Dropout, SpatialDropout*, GaussianNoise, GaussianDropout, AlphaDropout, ActivityRegularization, Identity. */
export function convertIdentity(ctx: LayerContext, inputs: Value[]): Value[] {
  const b = new LayerBuilder(ctx);
  return inputs.map((x) => b.op('Identity', [x]));
}

export function convertDense(ctx: LayerContext, inputs: Value[]): Value[] {
  const b = new LayerBuilder(ctx);
  const x = one(b, inputs);
  if (ctx.weightNames.some((n) => /kernel_scale/.test(n)) || ctx.weights.some((w) => w.dtype === 'int8')) {
    throw b.fail('quantized kernels (int8 with kernel_scale) are not supported');
  }
  const useBias = b.bool('use_bias', true);
  let y = b.op('MatMul', [x, b.weight('kernel', 0)]);
  if (useBias) y = b.op('Add', [y, b.weight('bias', 1)], {}, 'BiasAdd');
  return [applyActivation(b, y, b.raw('activation'))];
}

export function convertFlatten(ctx: LayerContext, inputs: Value[]): Value[] {
  const b = new LayerBuilder(ctx);
  let x = one(b, inputs);
  if (b.dataFormat() === 'channels_first') {
    // Keras moves the channels last before flattening, so the order matches channels_last models.
    const r = b.rank(x, 'Flatten with data_format channels_first');
    if (r >= 3) x = b.transpose(x, [0, ...Array.from({ length: r - 2 }, (_, i) => i + 2), 1], 'to_channels_last');
  }
  return [b.op('Flatten', [x], { axis: attr.int(1) })];
}

export function convertReshape(ctx: LayerContext, inputs: Value[]): Value[] {
  const b = new LayerBuilder(ctx);
  const x = one(b, inputs);
  const target = b.raw('target_shape');
  if (!Array.isArray(target) || !target.every((d) => typeof d === 'number' || d === null)) {
    throw b.fail(`target_shape ${JSON.stringify(target)} is not a list of ints`);
  }
  const dims = (target as (number | null)[]).map((d) => (d === null ? -1 : d));
  if (dims.filter((d) => d === -1).length > 1) throw b.fail(`target_shape ${JSON.stringify(target)} has more than one unknown dimension`);
  // 0 copies the batch dimension (ONNX Reshape with allowzero=0).
  return [b.reshape(x, [0, ...dims], 'Reshape')];
}

export function convertPermute(ctx: LayerContext, inputs: Value[]): Value[] {
  const b = new LayerBuilder(ctx);
  const x = one(b, inputs);
  const dims = b.raw('dims');
  if (!Array.isArray(dims) || !dims.every((d) => typeof d === 'number' && d >= 1)) {
    throw b.fail(`dims ${JSON.stringify(dims)} is not a permutation of 1..n`);
  }
  return [b.op('Transpose', [x], { perm: attr.ints([0, ...(dims as number[])]) })];
}

export function convertRepeatVector(ctx: LayerContext, inputs: Value[]): Value[] {
  const b = new LayerBuilder(ctx);
  const x = one(b, inputs);
  const n = b.num('n', 1);
  const u = b.unsqueeze(x, [1], 'expand_dims');
  return [b.op('Expand', [u, b.ints('repeats', [1, n, 1])], {}, 'repeat')];
}

/** Masking: zeroes time steps whose features all equal mask_value, and masks them for RNNs. */
export function convertMasking(ctx: LayerContext, inputs: Value[]): Value[] {
  const b = new LayerBuilder(ctx);
  const x = one(b, inputs);
  const mv = b.num('mask_value', 0);
  const eq = b.op('Equal', [x, b.scalar('mask_value', mv, x)], {}, 'equal');
  const ne = b.op('Not', [eq], {}, 'not_equal');
  const nef = b.op('Cast', [ne], { to: attr.int(1) }, 'not_equal_f');
  const any = b.op('ReduceMax', [nef], { axes: attr.ints([-1]), keepdims: attr.int(1) }, 'any');
  const anyX = x.dtype && x.dtype !== 'float32' ? b.op('CastLike', [any, x], {}, 'any_cast') : any;
  const y = b.op('Mul', [x, anyX], {}, 'masked');
  const mask = b.op('Cast', [b.squeeze(any, [-1], 'mask_squeeze')], { to: attr.int(9) }, 'mask');
  setMask(y, mask);
  return [y];
}

export function convertEmbedding(ctx: LayerContext, inputs: Value[]): Value[] {
  const b = new LayerBuilder(ctx);
  const x = one(b, inputs);
  if (ctx.weightNames.some((n) => /embeddings_scale/.test(n))) throw b.fail('quantized embeddings (embeddings_scale) are not supported');
  const table = b.weight('embeddings', 0);
  const idx = x.dtype === 'int32' || x.dtype === 'int64' ? x : b.op('Cast', [x], { to: attr.int(7) }, 'indices');
  const y = b.op('Gather', [table, idx], { axis: attr.int(0) });
  if (b.bool('mask_zero', false)) {
    const zero = b.ctx.constant('zero', Tensor.fromArray(idx.dtype ?? 'int64', [], [0]));
    setMask(y, b.op('Not', [b.op('Equal', [idx, zero], {}, 'is_padding')], {}, 'mask'));
  }
  return [y];
}

/** A config value that is a number or a list of numbers (Keras 3 allows per-channel). */
function numbers(b: LayerBuilder, key: string, dflt: number): number[] {
  const v = b.raw(key);
  if (v === undefined || v === null) return [dflt];
  if (typeof v === 'number') return [v];
  if (Array.isArray(v) && v.every((n) => typeof n === 'number')) return v as number[];
  throw b.fail(`config ${key} = ${JSON.stringify(v)} is not a number or a list of numbers`);
}

export function convertRescaling(ctx: LayerContext, inputs: Value[]): Value[] {
  const b = new LayerBuilder(ctx);
  let x = one(b, inputs);
  if (x.dtype && !x.dtype.startsWith('float') && x.dtype !== 'bfloat16') x = b.op('Cast', [x], { to: attr.int(1) }, 'to_float');
  const scale = numbers(b, 'scale', 1);
  const offset = numbers(b, 'offset', 0);
  const c = (name: string, v: number[]) => (v.length === 1 ? b.scalar(name, v[0]!, x) : b.floats(name, v, [v.length], x.dtype));
  const y = b.op('Mul', [x, c('scale', scale)], {}, 'scale');
  if (offset.length === 1 && offset[0] === 0) return [y];
  return [b.op('Add', [y, c('offset', offset)], {}, 'offset')];
}

/**
 * Normalization: (x - mean) / max(sqrt(variance), 1e-7), or the inverse with invert=True.
 * mean/variance come from the weights (adapt) or from the config.
 */
export function convertNormalization(ctx: LayerContext, inputs: Value[]): Value[] {
  const b = new LayerBuilder(ctx);
  const x = one(b, inputs);
  const axisCfg = b.raw('axis');
  const axes = axisCfg === null ? [] : axisCfg === undefined ? [-1] : Array.isArray(axisCfg) ? (axisCfg as number[]) : [axisCfg as number];
  let mean: Float64Array;
  let variance: Float64Array;
  let meanShape: number[];
  let dtype = 'float32' as Tensor['dtype'];
  if (b.has('mean') && b.has('variance')) {
    const m = b.raw('mean');
    const v = b.raw('variance');
    const flat = (a: unknown): number[] => (Array.isArray(a) ? (a as unknown[]).flat(Infinity as 1) as number[] : [a as number]);
    mean = Float64Array.from(flat(m));
    variance = Float64Array.from(flat(v));
    meanShape = [mean.length];
  } else {
    const mt = b.weightTensor('mean', 0);
    const vt = b.weightTensor('variance', 1);
    mean = mt.toFloat64();
    variance = vt.toFloat64();
    meanShape = mt.shape;
    dtype = mt.dtype;
  }
  if (mean.length !== variance.length) throw b.fail(`mean has ${mean.length} values, variance ${variance.length}`);
  // Broadcast shape: the kept axes keep their size, every other axis is 1.
  let shape: number[];
  if (mean.length === 1) shape = [];
  else {
    const r = b.rank(x, 'Normalization over an axis');
    const keep = axes.map((a) => normAxis(a, r));
    shape = Array.from({ length: r }, (_, i) => (keep.includes(i) ? (b.dim(x, i) ?? -1) : 1));
    const unknown = shape.filter((d) => d === -1).length;
    if (unknown === 1) shape[shape.indexOf(-1)] = mean.length / shapeSize(shape.map((d) => (d === -1 ? 1 : d)));
    if (unknown > 1 || shapeSize(shape) !== mean.length) {
      throw b.fail(`mean of shape [${meanShape.join(', ')}] does not fit axis ${JSON.stringify(axisCfg)} of input ${x.name}`);
    }
    // Drop the leading batch 1 so the constants stay small and broadcast the same.
    shape = shape.slice(1);
  }
  const eps = 1e-7;
  const std = Array.from(variance, (v) => Math.max(Math.sqrt(v), eps));
  const mi = b.weightIndexSafe('mean', 0);
  const vi = b.weightIndexSafe('variance', 1);
  const fdt = dtype === 'float64' || dtype === 'float16' ? dtype : 'float32';
  const meanC = b.ctx.constant(mi !== undefined ? b.derivedName(mi, 'broadcast') : 'mean', Tensor.fromArray(fdt, shape, mean));
  if (b.bool('invert', false)) {
    const stdC = b.ctx.constant(vi !== undefined ? b.derivedName(vi, 'std') : 'std', Tensor.fromArray(fdt, shape, std));
    return [b.op('Add', [b.op('Mul', [x, stdC], {}, 'scale'), meanC], {}, 'denormalize')];
  }
  const invC = b.ctx.constant(vi !== undefined ? b.derivedName(vi, 'inv_std') : 'inv_std', Tensor.fromArray(fdt, shape, std.map((s) => 1 / s)));
  return [b.op('Mul', [b.op('Sub', [x, meanC], {}, 'center'), invC], {}, 'normalize')];
}

/** UnitNormalization: x / sqrt(max(sum(x^2, axis), 1e-12)). */
export function convertUnitNormalization(ctx: LayerContext, inputs: Value[]): Value[] {
  const b = new LayerBuilder(ctx);
  const x = one(b, inputs);
  const axisCfg = b.raw('axis');
  const axes = axisCfg === undefined || axisCfg === null ? [-1] : Array.isArray(axisCfg) ? (axisCfg as number[]) : [axisCfg as number];
  return [l2Normalize(b, x, axes, 'l2_normalize')];
}

/** tf.math.l2_normalize: x * rsqrt(max(sum(x^2, axes), 1e-12)). */
export function l2Normalize(b: LayerBuilder, x: Value, axes: number[], suffix: string): Value {
  const sq = b.op('Mul', [x, x], {}, `${suffix}_square`);
  const sum = b.op('ReduceSum', [sq, b.ints(`${suffix}_axes`, axes)], { keepdims: attr.int(1) }, `${suffix}_sum`);
  const clamped = b.op('Max', [sum, b.scalar(`${suffix}_eps`, 1e-12, x)], {}, `${suffix}_clamp`);
  return b.op('Div', [x, b.op('Sqrt', [clamped], {}, `${suffix}_norm`)], {}, suffix);
}

