/**
 * Keras activations (the `activation` argument of Dense, Conv, Activation, ... in Keras 2 and 3
 * spellings) and the activation layers ReLU, LeakyReLU, PReLU, ELU, ThresholdedReLU, Softmax.
 * Everything is expressed with opset 17 ops (no Gelu or Mish op: they came later).
 */
import { attr, type Value } from '../../../ir/graph.js';
import type { LayerContext } from '../layer-api.js';
import { LayerBuilder, deriveContext } from './builder.js';

/** Keras's SELU constants (more digits than ONNX's defaults). */
const SELU_ALPHA = 1.6732632423543772848170429916717;
const SELU_SCALE = 1.0507009873554804934193349852946;

/** The activation names we convert, normalised (lower case, no underscores). */
const KNOWN = new Set([
  'linear', 'relu', 'relu6', 'sigmoid', 'tanh', 'softmax', 'logsoftmax', 'elu', 'selu', 'softplus', 'softsign',
  'exponential', 'hardsigmoid', 'swish', 'silu', 'hardsilu', 'hardswish', 'gelu', 'gelunew', 'mish', 'leakyrelu',
  'hardtanh', 'logsigmoid', 'tanhshrink', 'celu', 'softshrink', 'hardshrink', 'squareplus', 'sparseplus', 'glu',
]);

/** Layer classes that may appear as a serialized `activation` (a layer object passed as activation). */
const LAYER_ACTIVATIONS = new Set(['ReLU', 'LeakyReLU', 'ELU', 'ThresholdedReLU', 'Softmax', 'Activation']);

function norm(name: string): string {
  return name.toLowerCase().replace(/_/g, '');
}

/** The activation's name from a config value (string, `{class_name, config}`, null). */
export function activationName(spec: unknown): string | { layer: { class_name: string; config: Record<string, unknown> } } | undefined {
  if (spec === null || spec === undefined) return 'linear';
  if (typeof spec === 'string') return spec;
  if (typeof spec === 'object') {
    const o = spec as Record<string, unknown>;
    const cls = typeof o.class_name === 'string' ? o.class_name : undefined;
    // Keras 3: {"module": "keras.activations", "class_name": "function", "config": "relu"}.
    if (typeof o.config === 'string') return o.config;
    // gelu with its argument spelled out: {"config": {"name": "gelu", "approximate": true}}.
    const c = o.config as Record<string, unknown> | undefined;
    if (c && typeof c === 'object' && (c.name === 'gelu' || cls === 'gelu') && c.approximate === true) return 'gelu_new';
    if (o.config && typeof o.config === 'object' && typeof (o.config as Record<string, unknown>).name === 'string' && cls && !LAYER_ACTIVATIONS.has(cls)) {
      return (o.config as Record<string, unknown>).name as string;
    }
    if (cls && LAYER_ACTIVATIONS.has(cls)) return { layer: { class_name: cls, config: (o.config ?? {}) as Record<string, unknown> } };
    if (cls) return cls;
  }
  return undefined;
}

/** True when the activation is the identity (no node needed). */
export function isLinear(spec: unknown): boolean {
  const n = activationName(spec);
  return typeof n === 'string' && norm(n) === 'linear';
}

/**
 * Applies a Keras activation to x. `softmaxAxis` is the axis softmax-like activations use
 * (Keras: the last one).
 */
export function applyActivation(b: LayerBuilder, x: Value, spec: unknown, suffix = 'activation'): Value {
  const n = activationName(spec);
  if (n === undefined) throw b.fail(`activation ${JSON.stringify(spec)} is not understood`);
  if (typeof n !== 'string') {
    const conv = LAYER_CONVERTERS[n.layer.class_name]!;
    const sub = deriveContext(b.ctx, { layer: { class_name: n.layer.class_name, config: n.layer.config } });
    return conv(sub, [x])[0]!;
  }
  const key = norm(n);
  if (!KNOWN.has(key)) throw b.fail(`activation '${n}' is not supported`, `supported activations: ${[...KNOWN].join(', ')}`);
  const s = (op: string) => `${suffix}_${op}`;
  const one = (): Value => b.scalar(s('one'), 1, x);
  switch (key) {
    case 'linear': return x;
    case 'relu': return b.op('Relu', [x], {}, s('relu'));
    case 'relu6': return clip(b, x, 0, 6, s('relu6'));
    case 'sigmoid': return b.op('Sigmoid', [x], {}, s('sigmoid'));
    case 'tanh': return b.op('Tanh', [x], {}, s('tanh'));
    case 'softmax': return b.op('Softmax', [x], { axis: attr.int(-1) }, s('softmax'));
    case 'logsoftmax': return b.op('LogSoftmax', [x], { axis: attr.int(-1) }, s('log_softmax'));
    case 'elu': return b.op('Elu', [x], { alpha: attr.float(1) }, s('elu'));
    case 'selu': return b.op('Selu', [x], { alpha: attr.float(SELU_ALPHA), gamma: attr.float(SELU_SCALE) }, s('selu'));
    case 'softplus': return b.op('Softplus', [x], {}, s('softplus'));
    case 'softsign': return b.op('Softsign', [x], {}, s('softsign'));
    case 'exponential': return b.op('Exp', [x], {}, s('exp'));
    case 'hardsigmoid': {
      const [alpha, beta] = hardSigmoidParams(b);
      return b.op('HardSigmoid', [x], { alpha: attr.float(alpha), beta: attr.float(beta) }, s('hard_sigmoid'));
    }
    case 'swish':
    case 'silu': return b.op('Mul', [x, b.op('Sigmoid', [x], {}, s('sigmoid'))], {}, s('swish'));
    case 'hardsilu':
    case 'hardswish': return b.op('HardSwish', [x], {}, s('hard_swish'));
    case 'gelu': {
      // x * 0.5 * (1 + erf(x / sqrt(2)))
      const e = b.op('Erf', [b.op('Mul', [x, b.scalar(s('inv_sqrt2'), Math.SQRT1_2, x)], {}, s('scale'))], {}, s('erf'));
      const half = b.op('Mul', [x, b.scalar(s('half'), 0.5, x)], {}, s('half_x'));
      return b.op('Mul', [half, b.op('Add', [e, one()], {}, s('add'))], {}, s('gelu'));
    }
    case 'gelunew': return geluTanh(b, x, suffix);
    case 'mish': {
      const t = b.op('Tanh', [b.op('Softplus', [x], {}, s('softplus'))], {}, s('tanh'));
      return b.op('Mul', [x, t], {}, s('mish'));
    }
    case 'leakyrelu': return b.op('LeakyRelu', [x], { alpha: attr.float(0.2) }, s('leaky_relu'));
    case 'hardtanh': return clip(b, x, -1, 1, s('hard_tanh'));
    case 'logsigmoid': {
      const sp = b.op('Softplus', [b.op('Neg', [x], {}, s('neg'))], {}, s('softplus'));
      return b.op('Neg', [sp], {}, s('log_sigmoid'));
    }
    case 'tanhshrink': return b.op('Sub', [x, b.op('Tanh', [x], {}, s('tanh'))], {}, s('tanh_shrink'));
    case 'celu': return b.op('Celu', [x], { alpha: attr.float(1) }, s('celu'));
    case 'softshrink': return b.op('Shrink', [x], { lambd: attr.float(0.5), bias: attr.float(0.5) }, s('soft_shrink'));
    case 'hardshrink': return b.op('Shrink', [x], { lambd: attr.float(0.5), bias: attr.float(0) }, s('hard_shrink'));
    case 'squareplus': {
      // (x + sqrt(x^2 + 4)) / 2
      const sq = b.op('Sqrt', [b.op('Add', [b.op('Mul', [x, x], {}, s('square')), b.scalar(s('b'), 4, x)], {}, s('add_b'))], {}, s('sqrt'));
      return b.op('Mul', [b.op('Add', [x, sq], {}, s('add')), b.scalar(s('half'), 0.5, x)], {}, s('squareplus'));
    }
    case 'sparseplus': {
      // 0 for x <= -1, (x + 1)^2 / 4 for -1 < x < 1, x for x >= 1
      const xp1 = b.op('Add', [x, one()], {}, s('add_one'));
      const mid = b.op('Mul', [b.op('Mul', [xp1, xp1], {}, s('square')), b.scalar(s('quarter'), 0.25, x)], {}, s('quad'));
      const hi = b.op('Where', [b.op('GreaterOrEqual', [x, one()], {}, s('ge_one')), x, mid], {}, s('upper'));
      const zero = b.scalar(s('zero'), 0, x);
      return b.op('Where', [b.op('LessOrEqual', [x, b.scalar(s('minus_one'), -1, x)], {}, s('le_minus_one')), zero, hi], {}, s('sparse_plus'));
    }
    case 'glu': {
      const [a, g] = b.nodes('Split', [x], { axis: attr.int(-1) }, 2, s('split'));
      return b.op('Mul', [a!, b.op('Sigmoid', [g!], {}, s('sigmoid'))], {}, s('glu'));
    }
  }
  throw b.fail(`activation '${n}' is not supported`);
}

/** Keras 2: clip(0.2x + 0.5, 0, 1); Keras 3: relu6(x + 3) / 6. */
export function hardSigmoidParams(b: LayerBuilder): [number, number] {
  return b.kerasMajor >= 3 ? [1 / 6, 0.5] : [0.2, 0.5];
}

function clip(b: LayerBuilder, x: Value, lo: number, hi: number, suffix: string): Value {
  return b.op('Clip', [x, b.scalar(`${suffix}_min`, lo, x), b.scalar(`${suffix}_max`, hi, x)], {}, suffix);
}

/** 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))). */
export function geluTanh(b: LayerBuilder, x: Value, suffix: string): Value {
  const s = (op: string) => `${suffix}_${op}`;
  const x3 = b.op('Mul', [b.op('Mul', [x, x], {}, s('square')), x], {}, s('cube'));
  const inner = b.op('Add', [x, b.op('Mul', [x3, b.scalar(s('c'), 0.044715, x)], {}, s('scale_cube'))], {}, s('inner'));
  const t = b.op('Tanh', [b.op('Mul', [inner, b.scalar(s('k'), Math.sqrt(2 / Math.PI), x)], {}, s('scale'))], {}, s('tanh'));
  const onePlus = b.op('Add', [t, b.scalar(s('one'), 1, x)], {}, s('add'));
  return b.op('Mul', [b.op('Mul', [x, b.scalar(s('half'), 0.5, x)], {}, s('half_x')), onePlus], {}, s('gelu'));
}

// ---- activation layers -----------------------------------------------------------------------

function only(b: LayerBuilder, inputs: Value[]): Value {
  if (inputs.length !== 1) throw b.fail(`expects one input, got ${inputs.length}`);
  return inputs[0]!;
}

export function convertActivation(ctx: LayerContext, inputs: Value[]): Value[] {
  const b = new LayerBuilder(ctx);
  const x = only(b, inputs);
  const y = applyActivation(b, x, b.raw('activation'), 'activation');
  return [y === x ? b.op('Identity', [x], {}, 'identity') : y];
}

/**
 * ReLU(max_value, negative_slope, threshold), Keras semantics:
 * x >= max_value: max_value; threshold <= x < max_value: x; otherwise negative_slope * (x - threshold).
 */
export function convertReLU(ctx: LayerContext, inputs: Value[]): Value[] {
  const b = new LayerBuilder(ctx);
  const x = only(b, inputs);
  const maxValue = b.has('max_value') ? b.num('max_value', 0) : undefined;
  const slope = b.num('negative_slope', 0);
  const threshold = b.num('threshold', 0);
  if (maxValue !== undefined && maxValue < 0) throw b.fail(`max_value ${maxValue} must not be negative`);
  if (slope !== 0 && maxValue === undefined && threshold === 0) {
    return [b.op('LeakyRelu', [x], { alpha: attr.float(slope) })];
  }
  let y: Value;
  if (threshold !== 0) {
    const keep = b.op('Cast', [b.op('Greater', [x, b.scalar('threshold', threshold, x)], {}, 'above')], { to: attr.int(1) }, 'above_f');
    y = b.op('Mul', [x, castLike(b, keep, x)], {}, 'thresholded');
  } else {
    y = b.op('Relu', [x]);
  }
  if (maxValue !== undefined) y = clip(b, y, 0, maxValue, 'clip');
  if (slope !== 0) {
    const neg = threshold !== 0
      ? b.op('Relu', [b.op('Sub', [b.scalar('threshold_neg', threshold, x), x], {}, 'below')], {}, 'negative_part')
      : b.op('Relu', [b.op('Neg', [x], {}, 'neg')], {}, 'negative_part');
    y = b.op('Sub', [y, b.op('Mul', [neg, b.scalar('negative_slope', slope, x)], {}, 'scaled_negative')], {}, 'relu');
  }
  return [y];
}

/** A Cast of a float32 mask to x's dtype when x is not float32. */
function castLike(b: LayerBuilder, v: Value, like: Value): Value {
  if (!like.dtype || like.dtype === 'float32') return v;
  return b.op('CastLike', [v, like], {}, 'cast');
}

export function convertLeakyReLU(ctx: LayerContext, inputs: Value[]): Value[] {
  const b = new LayerBuilder(ctx);
  const x = only(b, inputs);
  // Keras 2 names it alpha, Keras 3 negative_slope; both default to 0.3.
  const alpha = b.has('negative_slope') ? b.num('negative_slope', 0.3) : b.num('alpha', 0.3);
  return [b.op('LeakyRelu', [x], { alpha: attr.float(alpha) })];
}

export function convertPReLU(ctx: LayerContext, inputs: Value[]): Value[] {
  const b = new LayerBuilder(ctx);
  const x = only(b, inputs);
  b.expectWeights(1);
  // alpha has the input's shape without the batch, shared axes set to 1: PRelu broadcasts it.
  return [b.op('PRelu', [x, b.weight('alpha', 0)])];
}

export function convertELU(ctx: LayerContext, inputs: Value[]): Value[] {
  const b = new LayerBuilder(ctx);
  const x = only(b, inputs);
  return [b.op('Elu', [x], { alpha: attr.float(b.num('alpha', 1)) })];
}

export function convertThresholdedReLU(ctx: LayerContext, inputs: Value[]): Value[] {
  const b = new LayerBuilder(ctx);
  const x = only(b, inputs);
  return [b.op('ThresholdedRelu', [x], { alpha: attr.float(b.num('theta', 1)) })];
}

export function convertSoftmax(ctx: LayerContext, inputs: Value[]): Value[] {
  const b = new LayerBuilder(ctx);
  if (inputs.length !== 1) {
    throw b.fail(`called with ${inputs.length} inputs (an attention mask?); only the plain call is supported`);
  }
  const x = inputs[0]!;
  const axisCfg = b.raw('axis');
  const axes = axisCfg === undefined || axisCfg === null ? [-1] : Array.isArray(axisCfg) ? (axisCfg as number[]) : [axisCfg as number];
  if (axes.length === 1) return [b.op('Softmax', [x], { axis: attr.int(axes[0]!) })];
  // Several axes: exp(x - logsumexp(x, axes)).
  const lse = b.op('ReduceLogSumExp', [x], { axes: attr.ints(axes), keepdims: attr.int(1) }, 'logsumexp');
  return [b.op('Exp', [b.op('Sub', [x, lse], {}, 'shift')], {}, 'softmax')];
}

const LAYER_CONVERTERS: Record<string, (ctx: LayerContext, inputs: Value[]) => Value[]> = {
  ReLU: convertReLU,
  LeakyReLU: convertLeakyReLU,
  ELU: convertELU,
  ThresholdedReLU: convertThresholdedReLU,
  Softmax: convertSoftmax,
  Activation: convertActivation,
};

/** Names of the activation functions we convert (for the support table). */
export function supportedActivations(): string[] {
  return [
    'linear', 'relu', 'relu6', 'sigmoid', 'tanh', 'softmax', 'log_softmax', 'elu', 'selu', 'softplus', 'softsign',
    'exponential', 'hard_sigmoid', 'swish', 'silu', 'hard_silu', 'hard_swish', 'gelu', 'gelu_new', 'mish',
    'leaky_relu', 'hard_tanh', 'log_sigmoid', 'tanh_shrink', 'celu', 'soft_shrink', 'hard_shrink', 'squareplus',
    'sparse_plus', 'glu',
  ];
}

