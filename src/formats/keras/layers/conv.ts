/**
 * Convolutions: Conv1D/2D/3D (valid/same/causal, strides, dilation, groups), DepthwiseConv1D/2D,
 * SeparableConv1D/2D and Conv1D/2D/3DTranspose. Keras kernels are channels-last
 * ([k..., in, out]); they are reordered in JS to ONNX's [out, in, k...]. Channels-last inputs
 * are wrapped in Transposes (NHWC -> NCHW -> NHWC), which the transpose pass cancels between layers.
 */
import { attr, type Attrs, type Value } from '../../../ir/graph.js';
import type { LayerContext } from '../layer-api.js';
import { applyActivation } from './activations.js';
import { LayerBuilder } from './builder.js';
import { permuteTensor } from './weights.js';

export interface SpatialSpec {
  /** Number of spatial dims. */
  n: number;
  channelsFirst: boolean;
}

/** Perm that takes channels-last [N, s..., C] to channels-first [N, C, s...]. */
export function toChannelsFirst(rank: number): number[] {
  return [0, rank - 1, ...Array.from({ length: rank - 2 }, (_, i) => i + 1)];
}

/** Perm that takes channels-first [N, C, s...] to channels-last [N, s..., C]. */
export function toChannelsLast(rank: number): number[] {
  return [0, ...Array.from({ length: rank - 2 }, (_, i) => i + 2), 1];
}

/** Runs `body` on the channels-first view of x and returns the result in x's layout. */
export function inChannelsFirst(b: LayerBuilder, x: Value, spec: SpatialSpec, body: (xc: Value) => Value): Value {
  if (spec.channelsFirst) return body(x);
  const r = spec.n + 2;
  const xc = b.transpose(x, toChannelsFirst(r), 'to_channels_first');
  return b.transpose(body(xc), toChannelsLast(r), 'to_channels_last');
}

/** Spatial dims of x (static numbers or undefined), in Keras layout. */
export function spatialDims(b: LayerBuilder, x: Value, spec: SpatialSpec): (number | undefined)[] {
  return Array.from({ length: spec.n }, (_, i) => b.dim(x, spec.channelsFirst ? i + 2 : i + 1));
}

/**
 * Padding attributes for Keras padding modes. 'same' pads like TensorFlow (the extra pixel at
 * the end): explicit pads when the spatial size is static, else auto_pad SAME_UPPER.
 */
export function paddingAttrs(
  b: LayerBuilder, padding: string, kernel: number[], strides: number[], dilations: number[], sizes: (number | undefined)[],
): Attrs {
  const n = kernel.length;
  const eff = kernel.map((k, i) => (k - 1) * dilations[i]! + 1);
  switch (padding) {
    case 'valid':
      return { pads: attr.ints(new Array<number>(2 * n).fill(0)) };
    case 'same': {
      if (sizes.some((s) => s === undefined)) return { auto_pad: attr.string('SAME_UPPER') };
      const begin: number[] = [];
      const end: number[] = [];
      sizes.forEach((s, i) => {
        const out = Math.ceil(s! / strides[i]!);
        const total = Math.max((out - 1) * strides[i]! + eff[i]! - s!, 0);
        begin.push(Math.floor(total / 2));
        end.push(total - Math.floor(total / 2));
      });
      return { pads: attr.ints([...begin, ...end]) };
    }
    case 'causal':
      if (n !== 1) throw b.fail(`padding 'causal' is only defined for 1-D convolutions`);
      return { pads: attr.ints([eff[0]! - 1, 0]) };
    default:
      throw b.fail(`padding '${padding}' is not supported`);
  }
}

function rankCheck(b: LayerBuilder, x: Value, n: number): void {
  const r = x.shape?.length;
  if (r !== undefined && r !== n + 2) throw b.fail(`expects a rank-${n + 2} input, got ${x.name} of rank ${r}`);
}

function single(b: LayerBuilder, inputs: Value[]): Value {
  if (inputs.length !== 1) throw b.fail(`expects one input, got ${inputs.length}`);
  return inputs[0]!;
}

/** Keras kernel [k..., in, out] -> ONNX [out, in, k...] (a lazy reordered copy). */
function oihw(b: LayerBuilder, index: number, n: number): Value {
  const t = b.ctx.weights[index]!;
  if (t.rank !== n + 2) throw b.fail(`kernel has rank ${t.rank}, expected ${n + 2}`);
  const perm = [n + 1, n, ...Array.from({ length: n }, (_, i) => i)];
  return b.ctx.constant(b.derivedName(index, 'oihw'), permuteTensor(t, perm));
}

function convSpec(b: LayerBuilder, n: number): SpatialSpec {
  return { n, channelsFirst: b.dataFormat() === 'channels_first' };
}

function common(b: LayerBuilder, n: number) {
  const kernel = b.tuple('kernel_size', n, 1);
  const strides = b.tuple('strides', n, 1);
  const dilations = b.tuple('dilation_rate', n, 1);
  const padding = b.str('padding', 'valid').toLowerCase();
  return { kernel, strides, dilations, padding };
}


/** An ONNX Conv over a channels-last (or -first) Keras value, with Keras padding rules. */
function emitConv(b: LayerBuilder, x: Value, spec: ReturnType<typeof convSpec>, n: number, w: Value, bias: Value | null, group: number): Value {
  const { kernel, strides, dilations, padding } = common(b, n);
  const pads = paddingAttrs(b, padding, kernel, strides, dilations, spatialDims(b, x, spec));
  return inChannelsFirst(b, x, spec, (xc) =>
    b.op('Conv', bias ? [xc, w, bias] : [xc, w], {
      kernel_shape: attr.ints(kernel), strides: attr.ints(strides), dilations: attr.ints(dilations),
      group: attr.int(group), ...pads,
    }));
}

function convN(n: number) {
  return (ctx: LayerContext, inputs: Value[]): Value[] => {
    const b = new LayerBuilder(ctx);
    const x = single(b, inputs);
    rankCheck(b, x, n);
    const spec = convSpec(b, n);
    const groups = b.num('groups', 1);
    const useBias = b.bool('use_bias', true);
    const ki = b.weightIndex('kernel', 0);
    const w = oihw(b, ki, n);
    const bias = useBias ? b.weight('bias', 1) : null;
    return [applyActivation(b, emitConv(b, x, spec, n, w, bias, groups), b.raw('activation'))];
  };
}

export const convertConv1D = convN(1);
export const convertConv2D = convN(2);
export const convertConv3D = convN(3);

/** Depthwise kernel [k..., in, mult] -> ONNX [in*mult, 1, k...] with group = in. */
function depthwiseWeight(b: LayerBuilder, index: number, n: number): { w: Value; channels: number } {
  const t = b.ctx.weights[index]!;
  if (t.rank !== n + 2) throw b.fail(`depthwise kernel has rank ${t.rank}, expected ${n + 2}`);
  const cin = t.shape[n]!;
  const mult = t.shape[n + 1]!;
  const perm = [n, n + 1, ...Array.from({ length: n }, (_, i) => i)];
  const p = permuteTensor(t, perm).reshape([cin * mult, 1, ...t.shape.slice(0, n)]);
  return { w: b.ctx.constant(b.derivedName(index, 'oihw'), p), channels: cin };
}

function depthwiseN(n: number) {
  return (ctx: LayerContext, inputs: Value[]): Value[] => {
    const b = new LayerBuilder(ctx);
    const x = single(b, inputs);
    rankCheck(b, x, n);
    const spec = convSpec(b, n);
    const useBias = b.bool('use_bias', true);
    const { w, channels } = depthwiseWeight(b, b.weightIndex('depthwise_kernel', 0), n);
    const bias = useBias ? b.weight('bias', 1) : null;
    return [applyActivation(b, emitConv(b, x, spec, n, w, bias, channels), b.raw('activation'))];
  };
}

export const convertDepthwiseConv1D = depthwiseN(1);
export const convertDepthwiseConv2D = depthwiseN(2);

function separableN(n: number) {
  return (ctx: LayerContext, inputs: Value[]): Value[] => {
    const b = new LayerBuilder(ctx);
    const x = single(b, inputs);
    rankCheck(b, x, n);
    const spec = convSpec(b, n);
    const { kernel, strides, dilations, padding } = common(b, n);
    const useBias = b.bool('use_bias', true);
    const { w: dw, channels } = depthwiseWeight(b, b.weightIndex('depthwise_kernel', 0), n);
    const pw = oihw(b, b.weightIndex('pointwise_kernel', 1), n);
    const bias = useBias ? b.weight('bias', 2) : null;
    const pads = paddingAttrs(b, padding, kernel, strides, dilations, spatialDims(b, x, spec));
    const ones = new Array<number>(n).fill(1);
    const y = inChannelsFirst(b, x, spec, (xc) => {
      const d = b.op('Conv', [xc, dw], {
        kernel_shape: attr.ints(kernel), strides: attr.ints(strides), dilations: attr.ints(dilations),
        group: attr.int(channels), ...pads,
      }, 'depthwise');
      return b.op('Conv', bias ? [d, pw, bias] : [d, pw], {
        kernel_shape: attr.ints(ones), strides: attr.ints(ones), pads: attr.ints(new Array<number>(2 * n).fill(0)),
      }, 'pointwise');
    });
    return [applyActivation(b, y, b.raw('activation'))];
  };
}

export const convertSeparableConv1D = separableN(1);
export const convertSeparableConv2D = separableN(2);

/**
 * Transposed convolutions. Keras's output length (conv_utils.deconv_output_length):
 *   valid: in*s + max(k_eff - s, 0); same: in*s; with output_padding p:
 *   (in-1)*s + k_eff - 2*pad + p, pad = 0 (valid) or k_eff // 2 (same).
 * TensorFlow places the result like the gradient of a conv with that padding: the leading pad
 * is floor(P/2) of the total P = max((in-1)*s + k_eff - out, 0); ONNX gets pads and
 * output_padding that give the same length and placement (none of them depend on `in`).
 */
function transposeN(n: number) {
  return (ctx: LayerContext, inputs: Value[]): Value[] => {
    const b = new LayerBuilder(ctx);
    const x = single(b, inputs);
    rankCheck(b, x, n);
    const spec = convSpec(b, n);
    const kernel = b.tuple('kernel_size', n, 1);
    const strides = b.tuple('strides', n, 1);
    const dilations = b.tuple('dilation_rate', n, 1);
    const padding = b.str('padding', 'valid').toLowerCase();
    if (padding !== 'valid' && padding !== 'same') throw b.fail(`padding '${padding}' is not supported`);
    if (b.num('groups', 1) !== 1) throw b.fail(`groups ${b.num('groups', 1)} is not supported for transposed convolutions`);
    const outPadCfg = b.raw('output_padding');
    const outPad = outPadCfg === null || outPadCfg === undefined ? undefined : b.tuple('output_padding', n, 0);
    const useBias = b.bool('use_bias', true);
    const ki = b.weightIndex('kernel', 0);
    // Keras [k..., out, in] -> ONNX ConvTranspose [in, out, k...].
    const t = ctx.weights[ki]!;
    if (t.rank !== n + 2) throw b.fail(`kernel has rank ${t.rank}, expected ${n + 2}`);
    const w = ctx.constant(b.derivedName(ki, 'iohw'), permuteTensor(t, [n + 1, n, ...Array.from({ length: n }, (_, i) => i)]));
    const bias = useBias ? b.weight('bias', 1) : null;
    const begin: number[] = [];
    const end: number[] = [];
    const onnxOutPad: number[] = [];
    for (let i = 0; i < n; i++) {
      const s = strides[i]!;
      const keff = (kernel[i]! - 1) * dilations[i]! + 1;
      // Keras output length minus (in-1)*s: independent of the input length.
      let extra: number;
      if (outPad === undefined) extra = padding === 'valid' ? s + Math.max(keff - s, 0) : s;
      else extra = keff - 2 * (padding === 'same' ? Math.floor(keff / 2) : 0) + outPad[i]!;
      const total = padding === 'same' ? Math.max(keff - extra, 0) : 0;
      const pb = Math.floor(total / 2);
      const op = extra - (keff - total);
      if (op < 0) throw b.fail(`output_padding ${JSON.stringify(outPadCfg)} gives a negative ONNX output_padding`);
      begin.push(pb);
      end.push(total - pb);
      onnxOutPad.push(op);
    }
    const y = inChannelsFirst(b, x, spec, (xc) =>
      b.op('ConvTranspose', bias ? [xc, w, bias] : [xc, w], {
        kernel_shape: attr.ints(kernel), strides: attr.ints(strides), dilations: attr.ints(dilations),
        pads: attr.ints([...begin, ...end]), output_padding: attr.ints(onnxOutPad),
      }));
    return [applyActivation(b, y, b.raw('activation'))];
  };
}

export const convertConv1DTranspose = transposeN(1);
export const convertConv2DTranspose = transposeN(2);
export const convertConv3DTranspose = transposeN(3);
