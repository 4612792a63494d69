/**
 * BatchNormalization (inference: moving statistics) and LayerNormalization.
 *
 * BatchNormalization becomes an ONNX BatchNormalization on the channel axis (moved to axis 1
 * with Transposes when needed: after a channels-first op those cancel) or, when no Transpose
 * would cancel, the same math folded into one Mul and one Add.
 */
import { attr, type Value } from '../../../ir/graph.js';
import { Tensor } from '../../../ir/tensor.js';
import type { LayerContext } from '../layer-api.js';
import { LayerBuilder, normAxis } from './builder.js';
import { onesLike, zerosTensor } from './weights.js';

function single(b: LayerBuilder, inputs: Value[]): Value {
  if (inputs.length !== 1) throw b.fail(`expects one input, got ${inputs.length}`);
  return inputs[0]!;
}

function axesOf(b: LayerBuilder, dflt: number[]): number[] {
  const v = b.raw('axis');
  if (v === undefined || v === null) return dflt;
  if (typeof v === 'number') return [v];
  if (Array.isArray(v) && v.every((a) => typeof a === 'number')) return v as number[];
  throw b.fail(`axis ${JSON.stringify(v)} is not an int or a list of ints`);
}

interface BnParams {
  gamma: () => Value;
  beta: () => Value;
  mean: () => Value;
  variance: () => Value;
  gammaT?: Tensor;
  betaT?: Tensor;
  meanT: Tensor;
  varT: Tensor;
  channels: number;
}

function bnParams(b: LayerBuilder): BnParams {
  const center = b.bool('center', true);
  const scale = b.bool('scale', true);
  let pos = 0;
  const gi = scale ? b.weightIndex('gamma', pos++) : undefined;
  const bi = center ? b.weightIndex('beta', pos++) : undefined;
  const mi = b.weightIndex('moving_mean', pos++);
  const vi = b.weightIndex('moving_variance', pos++);
  const meanT = b.ctx.weights[mi]!;
  const varT = b.ctx.weights[vi]!;
  const channels = meanT.size;
  return {
    gamma: () => (gi !== undefined ? b.ctx.weight(gi) : b.ctx.constant('gamma', onesLike(meanT.dtype, [channels]))),
    beta: () => (bi !== undefined ? b.ctx.weight(bi) : b.ctx.constant('beta', zerosTensor(meanT.dtype, [channels]))),
    mean: () => b.ctx.weight(mi),
    variance: () => b.ctx.weight(vi),
    gammaT: gi !== undefined ? b.ctx.weights[gi] : undefined,
    betaT: bi !== undefined ? b.ctx.weights[bi] : undefined,
    meanT,
    varT,
    channels,
  };
}

export function convertBatchNormalization(ctx: LayerContext, inputs: Value[]): Value[] {
  const b = new LayerBuilder(ctx);
  const x = single(b, inputs);
  const axes = axesOf(b, [-1]);
  if (axes.length !== 1) throw b.fail(`axis ${JSON.stringify(axes)}: only one normalized axis is supported`);
  const eps = b.num('epsilon', 1e-3);
  const r = x.shape?.length;
  if (r === undefined) {
    if (axes[0] !== -1) throw b.fail(`the input rank is unknown and axis ${axes[0]} needs it`);
    return [folded(b, x, eps, 1)];
  }
  const a = normAxis(axes[0]!, r);
  if (a <= 0 || a >= r) throw b.fail(`axis ${axes[0]} is out of range for a rank-${r} input`);
  if (a === 1) return [onnxBn(b, x, eps)];
  // Channel axis elsewhere: a Transpose pair, worth it only when one cancels with the producer's.
  const perm = [0, a, ...Array.from({ length: r }, (_, i) => i).filter((i) => i !== 0 && i !== a)];
  const inv = new Array<number>(r);
  perm.forEach((p, i) => (inv[p] = i));
  const prod = x.producer;
  const cancels = prod?.op === 'Transpose' && sameInts(prod.attrInts('perm'), inv);
  if (!cancels) return [folded(b, x, eps, r - 1 - a)];
  const xc = b.transpose(x, perm, 'to_channels_first');
  return [b.transpose(onnxBn(b, xc, eps), inv, 'to_channels_last')];
}

function sameInts(p: number[] | undefined, q: number[]): boolean {
  return !!p && p.length === q.length && p.every((v, i) => v === q[i]);
}

function onnxBn(b: LayerBuilder, x: Value, eps: number): Value {
  const p = bnParams(b);
  return b.op('BatchNormalization', [x, p.gamma(), p.beta(), p.mean(), p.variance()], { epsilon: attr.float(eps) });
}

/** y = x * scale + shift with scale = gamma / sqrt(var + eps), shift = beta - mean * scale. */
function folded(b: LayerBuilder, x: Value, eps: number, trailing: number): Value {
  const p = bnParams(b);
  const n = p.channels;
  const mean = p.meanT.toFloat64();
  const variance = p.varT.toFloat64();
  const gamma = p.gammaT?.toFloat64();
  const beta = p.betaT?.toFloat64();
  const scale = new Float64Array(n);
  const shift = new Float64Array(n);
  for (let c = 0; c < n; c++) {
    scale[c] = (gamma ? gamma[c]! : 1) / Math.sqrt(variance[c]! + eps);
    shift[c] = (beta ? beta[c]! : 0) - mean[c]! * scale[c]!;
  }
  const shape = [n, ...new Array<number>(trailing).fill(1)];
  const dt = p.meanT.dtype === 'float64' || p.meanT.dtype === 'float16' ? p.meanT.dtype : 'float32';
  const vi = b.weightIndex('moving_variance', b.ctx.weights.length - 1);
  const mi = b.weightIndex('moving_mean', b.ctx.weights.length - 2);
  const sc = b.ctx.constant(b.derivedName(vi, 'bn_scale'), Tensor.fromArray(dt, shape, scale));
  const sh = b.ctx.constant(b.derivedName(mi, 'bn_shift'), Tensor.fromArray(dt, shape, shift));
  return b.op('Add', [b.op('Mul', [x, sc], {}, 'scale'), sh], {}, 'shift');
}

/**
 * LayerNormalization over `axis` (an int or a list): ONNX LayerNormalization when the axes are
 * the trailing ones, otherwise the same math with reductions.
 */
export function convertLayerNormalization(ctx: LayerContext, inputs: Value[]): Value[] {
  const b = new LayerBuilder(ctx);
  const x = single(b, inputs);
  const eps = b.num('epsilon', 1e-3);
  const center = b.bool('center', true);
  const scale = b.bool('scale', true);
  if (b.bool('rms_scaling', false)) {
    throw b.fail('rms_scaling=True is not supported (its formula changed between Keras 3 releases)');
  }
  const axes = axesOf(b, [-1]);
  const r = x.shape?.length;
  let pos = 0;
  const gi = scale ? b.weightIndex('gamma', pos++) : undefined;
  const bi = center ? b.weightIndex('beta', pos++) : undefined;
  const paramT = gi !== undefined ? ctx.weights[gi]! : bi !== undefined ? ctx.weights[bi]! : undefined;
  // Normalized axes as negative numbers when the rank is unknown.
  const sorted = r !== undefined ? [...new Set(axes.map((a) => normAxis(a, r)))].sort((p, q) => p - q) : [...new Set(axes)].sort((p, q) => p - q);
  const last = r !== undefined ? r - 1 : -1;
  const trailing = sorted.every((a, i) => a === last - (sorted.length - 1 - i));
  if (r === undefined && sorted.some((a) => a >= 0)) throw b.fail(`the input rank is unknown and axis ${JSON.stringify(axes)} needs it`);
  const paramShape = paramT?.shape ?? sorted.map((a) => b.staticDim(x, a, 'LayerNormalization without gamma/beta'));
  const dt = paramT?.dtype ?? 'float32';
  if (trailing) {
    const g = gi !== undefined ? ctx.weight(gi) : ctx.constant('gamma', onesLike(dt, paramShape));
    const ins: Value[] = [x, g];
    if (bi !== undefined) ins.push(ctx.weight(bi));
    return [b.op('LayerNormalization', ins, { axis: attr.int(sorted[0]!), epsilon: attr.float(eps) })];
  }
  // General axes: (x - mean) / sqrt(var + eps) * gamma + beta, params reshaped to broadcast.
  const rank = b.rank(x, `LayerNormalization over axes ${JSON.stringify(axes)}`);
  const mean = b.op('ReduceMean', [x], { axes: attr.ints(sorted), keepdims: attr.int(1) }, 'mean');
  const d = b.op('Sub', [x, mean], {}, 'center');
  const v = b.op('ReduceMean', [b.op('Mul', [d, d], {}, 'square')], { axes: attr.ints(sorted), keepdims: attr.int(1) }, 'variance');
  const std = b.op('Sqrt', [b.op('Add', [v, b.scalar('epsilon', eps, x)], {}, 'add_eps')], {}, 'std');
  let y = b.op('Div', [d, std], {}, 'normalize');
  const bshape = Array.from({ length: rank }, (_, i) => (sorted.includes(i) ? -1 : 1)).slice(sorted[0]!);
  let k = 0;
  const fill = bshape.map((s) => (s === -1 ? paramShape[k++]! : 1));
  if (gi !== undefined) y = b.op('Mul', [y, ctx.constant(b.derivedName(gi, 'broadcast'), ctx.weights[gi]!.reshape(fill))], {}, 'scale');
  if (bi !== undefined) y = b.op('Add', [y, ctx.constant(b.derivedName(bi, 'broadcast'), ctx.weights[bi]!.reshape(fill))], {}, 'shift');
  return [y];
}
