/** Neural-network ops: convolutions, pooling, normalisation, matrix products, quantisation, resize, losses. */
import type { DType, Dim, Shape } from '../tensor.js';
import {
  broadcastDim, dtypeFromOnnxCode, normAxis, sameAsInput, spatialParams, windowOutputDims,
} from './helpers.js';
import { a, defineOps, type InferContext, type InferRule, type ValueType } from './schema.js';

const convAttrs = {
  auto_pad: a.string('NOTSET'), dilations: a.ints(), group: a.int(1), kernel_shape: a.ints(), pads: a.ints(), strides: a.ints(),
};

/** Conv-like output shape. `x`/`w` are the input positions of data and weights. */
function convShape(ctx: InferContext, x: number, w: number): Shape | undefined {
  const xs = ctx.shape(x);
  const ws = ctx.shape(w);
  const rank = xs?.length ?? ws?.length;
  if (rank === undefined) return undefined;
  if (rank < 3) ctx.fail(`expects an input of rank >= 3, got rank ${rank}`);
  if (xs && ws && xs.length !== ws.length) ctx.fail(`input rank ${xs.length} and weight rank ${ws.length} differ`);
  const group = ctx.attrInt('group') ?? 1;
  if (xs && ws && typeof xs[1] === 'number' && typeof ws[1] === 'number' && xs[1] !== ws[1] * group) {
    ctx.fail(`input has ${xs[1]} channels, weights expect ${ws[1]} x group ${group}`);
  }
  const kernel: Dim[] = ctx.attrInts('kernel_shape') ?? ws?.slice(2) ?? ctx.symShape(0, rank).slice(2);
  const p = spatialParams(ctx, rank - 2, kernel);
  const spatial = xs ? windowOutputDims(ctx, xs.slice(2), p) : ctx.symShape(0, rank).slice(2);
  return [xs?.[0] ?? ctx.sym(0, 0), ws?.[0] ?? ctx.sym(0, 1), ...spatial];
}

const convRule: InferRule = (ctx) => [{ dtype: ctx.dtype(0), shape: convShape(ctx, 0, 1) }];

function convTransposeRule(ctx: InferContext): ValueType[] {
  const dtype = ctx.dtype(0);
  const xs = ctx.shape(0);
  const ws = ctx.shape(1);
  const rank = xs?.length ?? ws?.length;
  if (rank === undefined) return [{ dtype }];
  const n = rank - 2;
  const group = ctx.attrInt('group') ?? 1;
  const m = ws?.[1];
  const channels: Dim = typeof m === 'number' ? m * group : ctx.sym(0, 1);
  const outShape = ctx.attrInts('output_shape');
  if (outShape && outShape.length) {
    return [{ dtype, shape: [xs?.[0] ?? ctx.sym(0, 0), channels, ...outShape.slice(outShape.length - n)] }];
  }
  const kernel: Dim[] = ctx.attrInts('kernel_shape') ?? ws?.slice(2) ?? ctx.symShape(0, rank).slice(2);
  const p = spatialParams(ctx, n, kernel);
  const outPad = ctx.attrInts('output_padding') ?? [];
  const spatial: Dim[] = (xs?.slice(2) ?? ctx.symShape(0, rank).slice(2)).map((d, i) => {
    const k = kernel[i];
    if (typeof d !== 'number' || typeof k !== 'number') return ctx.sym(0, i + 2);
    const s = p.strides[i]!;
    if (p.autoPad === 'SAME_UPPER' || p.autoPad === 'SAME_LOWER') return d * s;
    const pads = p.autoPad === 'VALID' ? 0 : p.pads[i]! + p.pads[i + n]!;
    return s * (d - 1) + (outPad[i] ?? 0) + (k - 1) * p.dilations[i]! + 1 - pads;
  });
  return [{ dtype, shape: [xs?.[0] ?? ctx.sym(0, 0), channels, ...spatial] }];
}

const poolAttrs = {
  auto_pad: a.string('NOTSET'), kernel_shape: a.req.ints(), pads: a.ints(), strides: a.ints(),
};

function poolShape(ctx: InferContext): Shape | undefined {
  const xs = ctx.shape(0);
  if (!xs) return undefined;
  if (xs.length < 3) ctx.fail(`expects an input of rank >= 3, got rank ${xs.length}`);
  const kernel = ctx.attrInts('kernel_shape') ?? ctx.fail('kernel_shape is required');
  const p = spatialParams(ctx, xs.length - 2, kernel);
  return [xs[0]!, xs[1]!, ...windowOutputDims(ctx, xs.slice(2), p)];
}

const poolRule: InferRule = (ctx) => [{ dtype: ctx.dtype(0), shape: poolShape(ctx) }];

const globalPoolRule: InferRule = (ctx) => {
  const xs = ctx.shape(0);
  return [{ dtype: ctx.dtype(0), shape: xs ? [xs[0]!, xs[1]!, ...xs.slice(2).map(() => 1)] : undefined }];
};

function maxUnpoolRule(ctx: InferContext): ValueType[] {
  const dtype = ctx.dtype(0);
  const xs = ctx.shape(0);
  if (ctx.has(2)) {
    const dims = ctx.dims(2);
    if (dims) return [{ dtype, shape: dims.slice() }];
    return [{ dtype, shape: xs ? ctx.symShape(0, xs.length) : undefined }];
  }
  if (!xs) return [{ dtype }];
  const kernel = ctx.attrInts('kernel_shape') ?? ctx.fail('kernel_shape is required');
  const p = spatialParams(ctx, xs.length - 2, kernel);
  const n = xs.length - 2;
  const spatial = xs.slice(2).map((d, i) =>
    typeof d === 'number' ? (d - 1) * p.strides[i]! + kernel[i]! - p.pads[i]! - p.pads[i + n]! : ctx.sym(0, i + 2),
  );
  return [{ dtype, shape: [xs[0]!, xs[1]!, ...spatial] }];
}

/** numpy matmul shape (1-D operands promoted and their added dim removed). */
function matmulShape(ctx: InferContext, ai: number, bi: number): Shape | undefined {
  const as = ctx.shape(ai);
  const bs = ctx.shape(bi);
  if (!as || !bs) return undefined;
  if (as.length === 0 || bs.length === 0) ctx.fail('matmul operands must have rank >= 1');
  const A = as.length === 1 ? [1, as[0]!] : as;
  const B = bs.length === 1 ? [bs[0]!, 1] : bs;
  const k1 = A[A.length - 1]!;
  const k2 = B[B.length - 2]!;
  if (typeof k1 === 'number' && typeof k2 === 'number' && k1 !== k2) {
    ctx.fail(`inner dimensions differ: [${as.join(', ')}] x [${bs.join(', ')}]`);
  }
  const batchA = A.slice(0, -2);
  const batchB = B.slice(0, -2);
  const r = Math.max(batchA.length, batchB.length);
  const batch: Shape = [];
  for (let i = 0; i < r; i++) {
    const da = batchA[i - (r - batchA.length)] ?? 1;
    const db = batchB[i - (r - batchB.length)] ?? 1;
    const d = broadcastDim([da, db], () => ctx.sym(0, i));
    if (d === undefined) ctx.fail(`batch dimensions ${da} and ${db} do not broadcast`);
    batch.push(d);
  }
  const out = [...batch];
  if (as.length !== 1) out.push(A[A.length - 2]!);
  if (bs.length !== 1) out.push(B[B.length - 1]!);
  return out;
}

function gemmRule(ctx: InferContext): ValueType[] {
  const as = ctx.shape(0);
  const bs = ctx.shape(1);
  const dtype = ctx.dtype(0);
  const ta = (ctx.attrInt('transA') ?? 0) !== 0;
  const tb = (ctx.attrInt('transB') ?? 0) !== 0;
  if (as && as.length !== 2) ctx.fail(`A must have rank 2, got rank ${as.length}`);
  if (bs && bs.length !== 2) ctx.fail(`B must have rank 2, got rank ${bs.length}`);
  const m = as ? as[ta ? 1 : 0]! : ctx.sym(0, 0);
  const n = bs ? bs[tb ? 0 : 1]! : ctx.sym(0, 1);
  if (as && bs) {
    const ka = as[ta ? 0 : 1]!;
    const kb = bs[tb ? 1 : 0]!;
    if (typeof ka === 'number' && typeof kb === 'number' && ka !== kb) ctx.fail(`inner dimensions differ: ${ka} vs ${kb}`);
  }
  return [{ dtype, shape: [m, n] }];
}

function batchNormRule(ctx: InferContext): ValueType[] {
  const xs = ctx.shape(0);
  const c: Shape = xs && xs.length > 1 ? [xs[1]!] : (ctx.shape(3)?.slice() ?? [ctx.sym(1, 0)]);
  const statDtype = ctx.dtype(3) ?? ctx.dtype(0);
  return [sameAsInput(ctx), { dtype: statDtype, shape: c }, { dtype: statDtype, shape: c.slice() }];
}

function layerNormRule(ctx: InferContext): ValueType[] {
  const xs = ctx.shape(0);
  const stash = dtypeFromOnnxCode(ctx.attrInt('stash_type') ?? 1) ?? 'float32';
  if (!xs) return [sameAsInput(ctx), { dtype: stash }, { dtype: stash }];
  const axis = normAxis(ctx, ctx.attrInt('axis') ?? -1, xs.length);
  const stat: Shape = xs.map((d, i) => (i < axis ? d : 1));
  return [sameAsInput(ctx), { dtype: stash, shape: stat }, { dtype: stash, shape: stat.slice() }];
}

function resizeRule(ctx: InferContext): ValueType[] {
  const dtype = ctx.dtype(0);
  const xs = ctx.shape(0);
  // Opset 10 form: (X, scales).
  const legacy = ctx.inputCount === 2;
  const scalesAt = legacy ? 1 : 2;
  const sizesAt = legacy ? -1 : 3;
  const present = (i: number) => i >= 0 && ctx.has(i) && !(ctx.shape(i)?.length === 1 && ctx.shape(i)![0] === 0);
  if (present(sizesAt)) {
    const sizes = ctx.dims(sizesAt);
    if (sizes) {
      if (xs && sizes.length !== xs.length) ctx.fail(`sizes has ${sizes.length} entries for rank ${xs.length}`);
      return [{ dtype, shape: sizes.slice() }];
    }
    return [{ dtype, shape: xs ? ctx.symShape(0, xs.length) : undefined }];
  }
  if (!xs) return [{ dtype }];
  if (present(scalesAt)) {
    const scales = ctx.floats(scalesAt);
    if (!scales) return [{ dtype, shape: ctx.symShape(0, xs.length) }];
    if (scales.length !== xs.length) ctx.fail(`scales has ${scales.length} entries for rank ${xs.length}`);
    return [{
      dtype,
      shape: xs.map((d, i) => {
        const s = scales[i]!;
        if (typeof d === 'number') return Math.floor(Math.fround(d * s));
        return s === 1 ? d : ctx.sym(0, i);
      }),
    }];
  }
  ctx.fail('needs scales or sizes');
}

function lossRule(targetInput: number): InferRule {
  return (ctx) => {
    const reduction = ctx.attrString('reduction') ?? 'mean';
    const shape = reduction === 'none' ? ctx.shape(targetInput)?.slice() : [];
    return [{ dtype: ctx.dtype(0), shape }, sameAsInput(ctx)];
  };
}

function quantOut(ctx: InferContext, zeroPoint: number, dflt: DType): ValueType {
  return { dtype: (ctx.has(zeroPoint) ? ctx.dtype(zeroPoint) : undefined) ?? dflt, shape: ctx.shape(0)?.slice() };
}

function roiOutRule(pooled: (ctx: InferContext) => Dim[]): InferRule {
  return (ctx) => {
    const xs = ctx.shape(0);
    const rois = ctx.shape(1);
    return [{ dtype: ctx.dtype(0), shape: [rois?.[0] ?? ctx.sym(0, 0), xs?.[1] ?? ctx.sym(0, 1), ...pooled(ctx)] }];
  };
}

export const nnSchemas = defineOps('nn', [
  { op: 'Conv', since: 11, inputs: ['X', 'W', 'B?'], outputs: ['Y'], attrs: convAttrs, infer: convRule },
  {
    op: 'ConvInteger', since: 10, inputs: ['x', 'w', 'x_zero_point?', 'w_zero_point?'], outputs: ['y'], attrs: convAttrs,
    infer: (ctx) => [{ dtype: 'int32', shape: convShape(ctx, 0, 1) }],
  },
  {
    op: 'QLinearConv', since: 10,
    inputs: ['x', 'x_scale', 'x_zero_point', 'w', 'w_scale', 'w_zero_point', 'y_scale', 'y_zero_point', 'B?'],
    outputs: ['y'], attrs: convAttrs,
    infer: (ctx) => [{ dtype: ctx.dtype(7) ?? ctx.dtype(0), shape: convShape(ctx, 0, 3) }],
  },
  {
    op: 'ConvTranspose', since: 11, inputs: ['X', 'W', 'B?'], outputs: ['Y'],
    attrs: { ...convAttrs, output_padding: a.ints(), output_shape: a.ints() }, infer: convTransposeRule,
  },
  {
    op: 'AveragePool', since: 11, inputs: ['X'], outputs: ['Y'],
    attrs: { ...poolAttrs, ceil_mode: a.int(0), count_include_pad: a.int(0) }, infer: poolRule, legacyAttrs: ['dilations'],
  },
  {
    op: 'MaxPool', since: 12, inputs: ['X'], outputs: ['Y', 'Indices?'],
    attrs: { ...poolAttrs, ceil_mode: a.int(0), dilations: a.ints(), storage_order: a.int(0) },
    infer: (ctx) => {
      const shape = poolShape(ctx);
      return [{ dtype: ctx.dtype(0), shape }, { dtype: 'int64', shape: shape?.slice() }];
    },
  },
  {
    op: 'LpPool', since: 11, inputs: ['X'], outputs: ['Y'], attrs: { ...poolAttrs, p: a.int(2) }, infer: poolRule,
    legacyAttrs: ['ceil_mode', 'dilations'],
  },
  { op: 'GlobalAveragePool', since: 1, inputs: ['X'], outputs: ['Y'], infer: globalPoolRule },
  { op: 'GlobalMaxPool', since: 1, inputs: ['X'], outputs: ['Y'], infer: globalPoolRule },
  { op: 'GlobalLpPool', since: 2, inputs: ['X'], outputs: ['Y'], attrs: { p: a.int(2) }, infer: globalPoolRule },
  {
    op: 'MaxRoiPool', since: 1, inputs: ['X', 'rois'], outputs: ['Y'], attrs: { pooled_shape: a.req.ints(), spatial_scale: a.float(1.0) },
    infer: roiOutRule((ctx) => ctx.attrInts('pooled_shape') ?? ctx.fail('pooled_shape is required')),
  },
  {
    op: 'RoiAlign', since: 16, inputs: ['X', 'rois', 'batch_indices'], outputs: ['Y'],
    attrs: {
      coordinate_transformation_mode: a.string('half_pixel'), mode: a.string('avg'), output_height: a.int(1),
      output_width: a.int(1), sampling_ratio: a.int(0), spatial_scale: a.float(1.0),
    },
    infer: roiOutRule((ctx) => [ctx.attrInt('output_height') ?? 1, ctx.attrInt('output_width') ?? 1]),
  },
  {
    op: 'MaxUnpool', since: 11, inputs: ['X', 'I', 'output_shape?'], outputs: ['output'],
    attrs: { kernel_shape: a.req.ints(), pads: a.ints(), strides: a.ints() }, infer: maxUnpoolRule,
  },
  {
    op: 'BatchNormalization', since: 15, inputs: ['X', 'scale', 'B', 'input_mean', 'input_var'],
    outputs: ['Y', 'running_mean?', 'running_var?'],
    attrs: { epsilon: a.float(1e-5), momentum: a.float(0.9), training_mode: a.int(0) }, infer: batchNormRule,
    legacyAttrs: ['spatial'],
  },
  {
    op: 'InstanceNormalization', since: 6, inputs: ['input', 'scale', 'B'], outputs: ['output'], attrs: { epsilon: a.float(1e-5) },
    infer: (ctx) => [sameAsInput(ctx)],
  },
  {
    op: 'LayerNormalization', since: 17, inputs: ['X', 'Scale', 'B?'], outputs: ['Y', 'Mean?', 'InvStdDev?'],
    attrs: { axis: a.int(-1), epsilon: a.float(1e-5), stash_type: a.int(1) }, infer: layerNormRule,
  },
  {
    op: 'LpNormalization', since: 1, inputs: ['input'], outputs: ['output'], attrs: { axis: a.int(-1), p: a.int(2) },
    infer: (ctx) => [sameAsInput(ctx)],
  },
  {
    op: 'MeanVarianceNormalization', since: 13, inputs: ['X'], outputs: ['Y'], attrs: { axes: a.ints([0, 2, 3]) },
    infer: (ctx) => [sameAsInput(ctx)],
  },
  {
    op: 'LRN', since: 13, inputs: ['X'], outputs: ['Y'],
    attrs: { alpha: a.float(0.0001), beta: a.float(0.75), bias: a.float(1.0), size: a.req.int() }, infer: (ctx) => [sameAsInput(ctx)],
  },
  {
    op: 'Dropout', since: 13, inputs: ['data', 'ratio?', 'training_mode?'], outputs: ['output', 'mask?'], attrs: { seed: a.int() },
    infer: (ctx) => [sameAsInput(ctx), { dtype: 'bool', shape: ctx.shape(0)?.slice() }], legacyAttrs: ['ratio', 'is_test'],
  },
  { op: 'Gemm', since: 13, inputs: ['A', 'B', 'C?'], outputs: ['Y'], attrs: { alpha: a.float(1.0), beta: a.float(1.0), transA: a.int(0), transB: a.int(0) }, infer: gemmRule },
  { op: 'MatMul', since: 13, inputs: ['A', 'B'], outputs: ['Y'], infer: (ctx) => [{ dtype: ctx.dtype(0), shape: matmulShape(ctx, 0, 1) }] },
  {
    op: 'MatMulInteger', since: 10, inputs: ['A', 'B', 'a_zero_point?', 'b_zero_point?'], outputs: ['Y'],
    infer: (ctx) => [{ dtype: 'int32', shape: matmulShape(ctx, 0, 1) }],
  },
  {
    op: 'QLinearMatMul', since: 10,
    inputs: ['a', 'a_scale', 'a_zero_point', 'b', 'b_scale', 'b_zero_point', 'y_scale', 'y_zero_point'], outputs: ['y'],
    infer: (ctx) => [{ dtype: ctx.dtype(7) ?? ctx.dtype(0), shape: matmulShape(ctx, 0, 3) }],
  },
  { op: 'Softmax', since: 13, inputs: ['input'], outputs: ['output'], attrs: { axis: a.int(-1) }, infer: (ctx) => [sameAsInput(ctx)] },
  { op: 'LogSoftmax', since: 13, inputs: ['input'], outputs: ['output'], attrs: { axis: a.int(-1) }, infer: (ctx) => [sameAsInput(ctx)] },
  { op: 'Hardmax', since: 13, inputs: ['input'], outputs: ['output'], attrs: { axis: a.int(-1) }, infer: (ctx) => [sameAsInput(ctx)] },
  {
    op: 'GridSample', since: 16, inputs: ['X', 'grid'], outputs: ['Y'],
    attrs: { align_corners: a.int(0), mode: a.string('bilinear'), padding_mode: a.string('zeros') },
    infer: (ctx) => {
      const xs = ctx.shape(0);
      const gs = ctx.shape(1);
      if (!gs) return [{ dtype: ctx.dtype(0), shape: xs ? ctx.symShape(0, xs.length) : undefined }];
      return [{ dtype: ctx.dtype(0), shape: [xs?.[0] ?? gs[0]!, xs?.[1] ?? ctx.sym(0, 1), ...gs.slice(1, -1)] }];
    },
  },
  {
    op: 'NonMaxSuppression', since: 11,
    inputs: ['boxes', 'scores', 'max_output_boxes_per_class?', 'iou_threshold?', 'score_threshold?'], outputs: ['selected_indices'],
    attrs: { center_point_box: a.int(0) },
    infer: (ctx) => [{ dtype: 'int64', shape: [ctx.sym(0, 0, 'selected'), 3] }],
  },
  {
    op: 'Resize', since: 13, inputs: ['X', 'roi?', 'scales?', 'sizes?'], outputs: ['Y'],
    attrs: {
      coordinate_transformation_mode: a.string('half_pixel'), cubic_coeff_a: a.float(-0.75), exclude_outside: a.int(0),
      extrapolation_value: a.float(0.0), mode: a.string('nearest'), nearest_mode: a.string('round_prefer_floor'),
    },
    infer: resizeRule, legacyAttrs: ['antialias', 'axes', 'keep_aspect_ratio_policy'],
  },
  {
    op: 'QuantizeLinear', since: 13, inputs: ['x', 'y_scale', 'y_zero_point?'], outputs: ['y'], attrs: { axis: a.int(1) },
    infer: (ctx) => [quantOut(ctx, 2, 'uint8')],
  },
  {
    op: 'DequantizeLinear', since: 13, inputs: ['x', 'x_scale', 'x_zero_point?'], outputs: ['y'], attrs: { axis: a.int(1) },
    infer: (ctx) => [{ dtype: ctx.dtype(1) ?? 'float32', shape: ctx.shape(0)?.slice() }],
  },
  {
    op: 'DynamicQuantizeLinear', since: 11, inputs: ['x'], outputs: ['y', 'y_scale', 'y_zero_point'],
    infer: (ctx) => [{ dtype: 'uint8', shape: ctx.shape(0)?.slice() }, { dtype: 'float32', shape: [] }, { dtype: 'uint8', shape: [] }],
  },
  {
    op: 'NegativeLogLikelihoodLoss', since: 13, inputs: ['input', 'target', 'weight?'], outputs: ['loss'],
    attrs: { ignore_index: a.int(), reduction: a.string('mean') }, infer: lossRule(1),
  },
  {
    op: 'SoftmaxCrossEntropyLoss', since: 13, inputs: ['scores', 'labels', 'weights?'], outputs: ['output', 'log_prob?'],
    attrs: { ignore_index: a.int(), reduction: a.string('mean') }, infer: lossRule(1),
  },
]);
