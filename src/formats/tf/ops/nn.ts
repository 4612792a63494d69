/**
 * TF neural-network ops: convolutions (Conv2D, Conv3D, DepthwiseConv2dNative, Conv2DBackpropInput,
 * the grappler-fused _FusedConv2D and _FusedDepthwiseConv2dNative, tfjs's FusedDepthwiseConv2dNative,
 * DepthwiseConv2d and Conv1D), pooling, FusedBatchNorm*, BiasAdd, MatMul/BatchMatMul and
 * _FusedMatMul, Prelu, LRN. NHWC data goes to the channels-first ONNX op between Transposes (cancelled
 * later by the transpose pass); TF filters [kh, kw, in, out] become ONNX [out, in, kh, kw]
 * through a Transpose of the constant, which constant folding applies.
 */
import { attr, type Attrs, type Value } from '../../../ir/graph.js';
import { registerTfOp, type TfOpContext, type TfOpConverter } from '../op-api.js';

/** True when the op's `data_format` puts channels last (NHWC, NDHWC, NWC). */
function channelsLast(ctx: TfOpContext): boolean {
  const f = ctx.str('data_format', 'NHWC');
  return !f.startsWith('NC');
}

function rankOf(ctx: TfOpContext, v: Value, dflt?: number): number {
  if (v.shape) return v.shape.length;
  if (dflt !== undefined) return dflt;
  throw ctx.unsupported('an input of unknown rank');
}

/** Spatial values of a 4/5-entry attribute given in the op's data format. */
function spatial(ctx: TfOpContext, name: string, rank: number, dflt: number): number[] {
  const v = ctx.ints(name, new Array<number>(rank).fill(dflt));
  if (v.length === 1) return new Array<number>(rank - 2).fill(v[0]!);
  if (v.length === 2 && rank === 4) return v;
  if (v.length !== rank) throw ctx.unsupported(`${name} of length ${v.length}`);
  return channelsLast(ctx) ? v.slice(1, rank - 1) : v.slice(2);
}

/** ONNX padding attributes for TF `padding` (SAME, VALID, EXPLICIT with explicit_paddings). */
function paddingAttrs(ctx: TfOpContext, rank: number): Attrs {
  const p = ctx.str('padding', 'VALID');
  if (p === 'SAME') return { auto_pad: attr.string('SAME_UPPER') };
  if (p === 'VALID') return { pads: attr.ints(new Array<number>(2 * (rank - 2)).fill(0)) };
  if (p === 'EXPLICIT') {
    const e = ctx.ints('explicit_paddings');
    if (e.length !== 2 * rank) throw ctx.unsupported(`explicit_paddings of length ${e.length}`);
    const dims = channelsLast(ctx) ? Array.from({ length: rank - 2 }, (_, i) => i + 1) : Array.from({ length: rank - 2 }, (_, i) => i + 2);
    return { pads: attr.ints([...dims.map((d) => e[2 * d]!), ...dims.map((d) => e[2 * d + 1]!)]) };
  }
  throw ctx.unsupported(`padding ${p}`);
}

/** Runs `body` on channels-first data: transposes around it for channels-last ops. */
function channelsFirst(ctx: TfOpContext, x: Value, rank: number, body: (x: Value) => Value): Value {
  if (!channelsLast(ctx)) return body(x);
  return ctx.toChannelsLast(body(ctx.toChannelsFirst(x, rank)), rank);
}

/** TF filter [k..., in, out] as ONNX [out, in, k...] (a Transpose that folds for constants). */
function onnxFilter(ctx: TfOpContext, w: Value, rank: number): Value {
  const perm = [rank - 1, rank - 2, ...Array.from({ length: rank - 2 }, (_, i) => i)];
  return ctx.emit('Transpose', [w], { perm: attr.ints(perm) }, 1, 'filter_oihw')[0]!;
}

function conv(kind: 'conv' | 'depthwise'): TfOpConverter {
  return (ctx, [x, w, ...rest]) => {
    const rank = rankOf(ctx, x!, w?.shape?.length);
    const ws = w!.shape;
    if (!ws || !ws.every((d) => typeof d === 'number')) throw ctx.unsupported('a filter of unknown shape');
    const fs = ws as number[];
    const kernel = fs.slice(0, rank - 2);
    const attrs: Attrs = {
      kernel_shape: attr.ints(kernel),
      strides: attr.ints(spatial(ctx, 'strides', rank, 1)),
      dilations: attr.ints(spatial(ctx, 'dilations', rank, 1)),
      ...paddingAttrs(ctx, rank),
    };
    let filter: Value;
    if (kind === 'depthwise') {
      // [kh, kw, in, mult] -> [in * mult, 1, kh, kw], group = in.
      const [cin, mult] = [fs[rank - 2]!, fs[rank - 1]!];
      const r = ctx.emit('Reshape', [w!, ctx.ints64('filter_shape', [...kernel, 1, cin * mult])], {}, 1, 'filter_hwio')[0]!;
      filter = onnxFilter(ctx, r, rank);
      attrs.group = attr.int(cin);
    } else {
      filter = onnxFilter(ctx, w!, rank);
      const cAxis = channelsLast(ctx) ? rank - 1 : 1;
      const cin = x!.shape?.[cAxis];
      const group = typeof cin === 'number' && cin !== fs[rank - 2] && cin % fs[rank - 2]! === 0 ? cin / fs[rank - 2]! : 1;
      attrs.group = attr.int(group);
    }
    const fused = FUSED_CONV_OPS.has(ctx.node.op);
    const out = channelsFirst(ctx, x!, rank, (xc) => {
      const bias = fused && fusedOps(ctx)[0] === 'BiasAdd' ? rest[0] : undefined;
      return ctx.emit('Conv', bias ? [xc, filter, bias] : [xc, filter], attrs)[0]!;
    });
    return [fused ? applyFused(ctx, out, rest, true) : out];
  };
}

/** Convolutions carrying `fused_ops` (grappler's and tfjs-converter's names). */
const FUSED_CONV_OPS = new Set(['_FusedConv2D', '_FusedDepthwiseConv2dNative', 'FusedDepthwiseConv2dNative']);

function fusedOps(ctx: TfOpContext): string[] {
  const l = ctx.attr('fused_ops')?.list?.s ?? [];
  return l.map((b) => new TextDecoder().decode(b));
}

/**
 * The ops grappler (or tfjs-converter) fused after a MatMul or convolution: BiasAdd then an
 * activation (or Add), or FusedBatchNorm then an activation. The values are channels-last here,
 * so per-channel operands (bias, Prelu alpha, batch-norm statistics) broadcast on the last axis.
 */
function applyFused(ctx: TfOpContext, y: Value, args: Value[], biasDone: boolean): Value {
  const ops = fusedOps(ctx);
  let out = y;
  let k = 0;
  // Per-channel operands ([C]) broadcast over the last axis: right for NHWC and MatMul results; for
  // channels-first (NCHW) outputs they are reshaped to [C, 1, ..., 1].
  const rank = y.shape?.length;
  const perChannel = (v: Value, what: string): Value => {
    if (channelsLast(ctx) || rank === 2 || (v.shape && v.shape.length !== 1)) return v;
    if (rank === undefined) throw ctx.unsupported(`a fused ${what} on channels-first data of unknown rank`);
    return ctx.emit('Reshape', [v, ctx.ints64(`${what}_nchw_shape`, [-1, ...new Array<number>(rank - 2).fill(1)])], {}, 1, `${what}_nchw`)[0]!;
  };
  for (const op of ops) {
    switch (op) {
      case 'BiasAdd':
        if (!biasDone) out = ctx.emit('Add', [out, perChannel(args[k]!, 'bias')], {}, 1, 'bias')[0]!;
        k++;
        break;
      case 'Add':
        out = ctx.emit('Add', [out, args[k++]!], {}, 1, 'add')[0]!;
        break;
      case 'Relu':
        out = ctx.emit('Relu', [out], {}, 1, 'relu')[0]!;
        break;
      case 'Relu6':
        out = ctx.emit('Clip', [out, ctx.floats32('zero', [0], []), ctx.floats32('six', [6], [])], {}, 1, 'relu6')[0]!;
        break;
      case 'Elu':
        out = ctx.emit('Elu', [out], {}, 1, 'elu')[0]!;
        break;
      case 'LeakyRelu':
        out = ctx.emit('LeakyRelu', [out], { alpha: attr.float(ctx.float('leakyrelu_alpha', 0.2)) }, 1, 'leaky_relu')[0]!;
        break;
      case 'Tanh':
        out = ctx.emit('Tanh', [out], {}, 1, 'tanh')[0]!;
        break;
      case 'Sigmoid':
        out = ctx.emit('Sigmoid', [out], {}, 1, 'sigmoid')[0]!;
        break;
      case 'FusedBatchNorm': {
        // Grappler's Conv2D + FusedBatchNorm: args scale, offset, mean, variance (per channel, last axis).
        const operands = args.slice(k, k + 4);
        k += 4;
        if (operands.length < 4) throw ctx.unsupported('fused FusedBatchNorm without its four operands');
        const [scale, offset, mean, variance] = operands.map((v, i) => perChannel(v, `bn_${i}`)) as [Value, Value, Value, Value];
        const eps = ctx.floats32('epsilon', [ctx.float('epsilon', 1e-4)], []);
        const std = ctx.emit('Sqrt', [ctx.emit('Add', [variance, eps], {}, 1, 'bn_var_eps')[0]!], {}, 1, 'bn_std')[0]!;
        const mul = ctx.emit('Div', [scale!, std], {}, 1, 'bn_multiplier')[0]!;
        const centred = ctx.emit('Sub', [out, mean!], {}, 1, 'bn_centred')[0]!;
        out = ctx.emit('Add', [ctx.emit('Mul', [centred, mul], {}, 1, 'bn_scaled')[0]!, offset!], {}, 1, 'batch_norm')[0]!;
        break;
      }
      case 'Prelu': {
        const alpha = args[k++];
        if (!alpha) throw ctx.unsupported('fused Prelu without its alpha operand');
        out = ctx.emit('PRelu', [out, perChannel(alpha, 'alpha')], {}, 1, 'prelu')[0]!;
        break;
      }
      default:
        throw ctx.unsupported(`fused op ${op}`);
    }
  }
  return out;
}

registerTfOp('Conv2D', conv('conv'));
registerTfOp('Conv3D', conv('conv'));
registerTfOp('_FusedConv2D', conv('conv'));
registerTfOp('DepthwiseConv2dNative', conv('depthwise'));
registerTfOp('_FusedDepthwiseConv2dNative', conv('depthwise'));
registerTfOp('FusedDepthwiseConv2dNative', conv('depthwise'));
/** tfjs-converter's name of the depthwise convolution (same inputs and attributes). */
registerTfOp('DepthwiseConv2d', conv('depthwise'));

/**
 * tfjs's Conv1D (x [batch, width, in] for NWC, filter [kw, in, out], int `stride` and `dilation`,
 * padding SAME or VALID): one ONNX Conv over one spatial axis.
 */
registerTfOp('Conv1D', (ctx, [x, w]) => {
  const fs = w!.shape;
  if (!fs || fs.length !== 3 || !fs.every((d) => typeof d === 'number')) throw ctx.unsupported('a filter of unknown shape');
  const format = ctx.str('data_format', 'NWC');
  if (format !== 'NWC' && format !== 'NCW') throw ctx.unsupported(`data_format ${format}`);
  const p = ctx.str('padding', 'VALID');
  if (p !== 'SAME' && p !== 'VALID') throw ctx.unsupported(`padding ${p}`);
  const cin = (fs as number[])[1]!;
  const cAxis = format === 'NWC' ? 2 : 1;
  const xin = x!.shape?.[cAxis];
  const attrs: Attrs = {
    kernel_shape: attr.ints([(fs as number[])[0]!]),
    strides: attr.ints([ctx.int('stride', 1)]),
    dilations: attr.ints([ctx.int('dilation', 1)]),
    group: attr.int(typeof xin === 'number' && xin !== cin && xin % cin === 0 ? xin / cin : 1),
    ...(p === 'SAME' ? { auto_pad: attr.string('SAME_UPPER') } : { pads: attr.ints([0, 0]) }),
  };
  const filter = onnxFilter(ctx, w!, 3);
  if (format === 'NCW') return ctx.emit('Conv', [x!, filter], attrs);
  return [ctx.toChannelsLast(ctx.emit('Conv', [ctx.toChannelsFirst(x!, 3), filter], attrs)[0]!, 3)];
});

/** Prelu(x, alpha) (tfjs): x where x >= 0, alpha * x elsewhere; alpha broadcasts on x's trailing axes. */
registerTfOp('Prelu', (ctx, [x, alpha]) => ctx.emit('PRelu', [x!, alpha!]));

registerTfOp('Conv2DBackpropInput', (ctx, [sizes, w, dy]) => {
  const rank = 4;
  const fs = w!.shape;
  if (!fs || !fs.every((d) => typeof d === 'number')) throw ctx.unsupported('a filter of unknown shape');
  const kernel = (fs as number[]).slice(0, 2);
  const strides = spatial(ctx, 'strides', rank, 1);
  const dil = spatial(ctx, 'dilations', rank, 1);
  const size = Array.from(ctx.requireConstant(sizes!, 'input_sizes').toArray() as ArrayLike<number | bigint>, Number);
  const outSpatial = channelsLast(ctx) ? size.slice(1, 3) : size.slice(2, 4);
  const attrs: Attrs = { kernel_shape: attr.ints(kernel), strides: attr.ints(strides), dilations: attr.ints(dil) };
  const p = ctx.str('padding');
  const inSpatial = (channelsLast(ctx) ? dy!.shape?.slice(1, 3) : dy!.shape?.slice(2, 4)) as number[] | undefined;
  if (p === 'SAME') {
    attrs.auto_pad = attr.string('SAME_UPPER');
    attrs.output_shape = attr.ints(outSpatial);
  } else if (p === 'VALID') {
    if (!inSpatial || !inSpatial.every((d) => typeof d === 'number')) throw ctx.unsupported('VALID padding with an input of unknown size');
    attrs.pads = attr.ints([0, 0, 0, 0]);
    attrs.output_padding = attr.ints(outSpatial.map((o, i) => o - ((inSpatial[i]! - 1) * strides[i]! + (kernel[i]! - 1) * dil[i]! + 1)));
  } else {
    throw ctx.unsupported(`padding ${p}`);
  }
  // Filter [kh, kw, out(forward), in(forward)]: ONNX ConvTranspose takes [in(forward)=C of dy, out, kh, kw].
  const filter = ctx.emit('Transpose', [w!], { perm: attr.ints([3, 2, 0, 1]) }, 1, 'filter_iohw')[0]!;
  return [channelsFirst(ctx, dy!, rank, (x) => ctx.emit('ConvTranspose', [x, filter], attrs)[0]!)];
});

function pool(op: 'MaxPool' | 'AveragePool', v2 = false): TfOpConverter {
  return (ctx, [x, ksizeV, stridesV]) => {
    const rank = rankOf(ctx, x!, ctx.node.op.endsWith('3D') ? 5 : 4);
    let ksize: number[];
    let strides: number[];
    if (v2) {
      const k = Array.from(ctx.requireConstant(ksizeV!, 'ksize').toArray() as ArrayLike<number>, Number);
      const s = Array.from(ctx.requireConstant(stridesV!, 'strides').toArray() as ArrayLike<number>, Number);
      ksize = channelsLast(ctx) ? k.slice(1, rank - 1) : k.slice(2);
      strides = channelsLast(ctx) ? s.slice(1, rank - 1) : s.slice(2);
    } else {
      ksize = spatial(ctx, 'ksize', rank, 1);
      strides = spatial(ctx, 'strides', rank, 1);
    }
    const attrs: Attrs = { kernel_shape: attr.ints(ksize), strides: attr.ints(strides), ...paddingAttrs(ctx, rank) };
    if (op === 'AveragePool') attrs.count_include_pad = attr.int(0);
    return [channelsFirst(ctx, x!, rank, (xc) => ctx.emit(op, [xc], attrs)[0]!)];
  };
}

registerTfOp('MaxPool', pool('MaxPool'));
registerTfOp('MaxPoolV2', pool('MaxPool', true));
registerTfOp('MaxPool3D', pool('MaxPool'));
registerTfOp('AvgPool', pool('AveragePool'));
registerTfOp('AvgPool3D', pool('AveragePool'));

function fusedBatchNorm(ctx: TfOpContext, [x, scale, offset, mean, variance, side]: Value[]): Value[] {
  if (ctx.bool('is_training', false) && !(mean!.initializer && mean!.initializer.size > 0)) {
    throw ctx.unsupported('is_training=true (batch statistics); export the model for inference');
  }
  const rank = rankOf(ctx, x!, 4);
  const eps = ctx.float('epsilon', 1e-4);
  let y = channelsFirst(ctx, x!, rank, (xc) => ctx.emit('BatchNormalization', [xc, scale!, offset!, mean!, variance!], { epsilon: attr.float(eps) })[0]!);
  if (ctx.node.op === '_FusedBatchNormEx') {
    if (ctx.int('num_side_inputs', 0) > 0 && side) y = ctx.emit('Add', [y, side], {}, 1, 'side_input')[0]!;
    const act = ctx.str('activation_mode', 'Identity');
    if (act === 'Relu') y = ctx.emit('Relu', [y], {}, 1, 'relu')[0]!;
    else if (act !== 'Identity') throw ctx.unsupported(`activation_mode ${act}`);
  }
  // The statistics outputs (used only in training) pass the moving statistics on.
  return [y, mean!, variance!, mean!, variance!, mean!];
}

for (const op of ['FusedBatchNorm', 'FusedBatchNormV2', 'FusedBatchNormV3', '_FusedBatchNormEx']) registerTfOp(op, fusedBatchNorm);

function biasAdd(ctx: TfOpContext, [x, b]: Value[]): Value[] {
  if (channelsLast(ctx)) return ctx.emit('Add', [x!, b!]);
  const rank = rankOf(ctx, x!);
  const shaped = ctx.emit('Reshape', [b!, ctx.ints64('bias_shape', [-1, ...new Array<number>(rank - 2).fill(1)])], {}, 1, 'bias_nchw')[0]!;
  return ctx.emit('Add', [x!, shaped]);
}
registerTfOp('BiasAdd', biasAdd);
registerTfOp('BiasAddV1', biasAdd);

function swapLast(ctx: TfOpContext, v: Value, suffix: string): Value {
  const r = rankOf(ctx, v);
  const perm = Array.from({ length: r }, (_, i) => i);
  [perm[r - 2], perm[r - 1]] = [perm[r - 1]!, perm[r - 2]!];
  return ctx.emit('Transpose', [v], { perm: attr.ints(perm) }, 1, suffix)[0]!;
}

function matMul(a: string, b: string): TfOpConverter {
  return (ctx, [x, y, ...args]) => {
    const xa = ctx.bool(a, false) ? swapLast(ctx, x!, 'transpose_a') : x!;
    const yb = ctx.bool(b, false) ? swapLast(ctx, y!, 'transpose_b') : y!;
    const out = ctx.emit('MatMul', [xa, yb])[0]!;
    return [ctx.node.op === '_FusedMatMul' ? applyFused(ctx, out, args, false) : out];
  };
}

registerTfOp('MatMul', matMul('transpose_a', 'transpose_b'));
registerTfOp('_FusedMatMul', matMul('transpose_a', 'transpose_b'));
registerTfOp('BatchMatMul', matMul('adj_x', 'adj_y'));
registerTfOp('BatchMatMulV2', matMul('adj_x', 'adj_y'));
registerTfOp('BatchMatMulV3', matMul('adj_x', 'adj_y'));

registerTfOp('LRN', (ctx, [x]) => {
  const radius = ctx.int('depth_radius', 5);
  const size = 2 * radius + 1;
  const attrs: Attrs = {
    size: attr.int(size),
    // TF sums alpha * x^2 over the window; ONNX divides alpha by the window size.
    alpha: attr.float(ctx.float('alpha', 1) * size),
    beta: attr.float(ctx.float('beta', 0.5)),
    bias: attr.float(ctx.float('bias', 1)),
  };
  return [ctx.toChannelsLast(ctx.emit('LRN', [ctx.toChannelsFirst(x!, 4)], attrs)[0]!, 4)];
});

export const NN_OPS = [
  'Conv2D', 'Conv3D', '_FusedConv2D', 'DepthwiseConv2dNative', '_FusedDepthwiseConv2dNative', 'FusedDepthwiseConv2dNative',
  'DepthwiseConv2d', 'Conv1D', 'Prelu', 'Conv2DBackpropInput', 'MaxPool', 'MaxPoolV2', 'MaxPool3D',
  'AvgPool', 'AvgPool3D', 'FusedBatchNorm', 'FusedBatchNormV2', 'FusedBatchNormV3', '_FusedBatchNormEx', 'BiasAdd',
  'BiasAddV1', 'MatMul', '_FusedMatMul', 'BatchMatMul', 'BatchMatMulV2', 'BatchMatMulV3', 'LRN',
];
