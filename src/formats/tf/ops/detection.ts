/**
 * Object-detection ops: NonMaxSuppression (V1..V5) as ONNX NonMaxSuppression on one batch and one
 * class (TF boxes are [y1, x1, y2, x2] corners, ONNX's center_point_box 0), and CropAndResize as
 * ONNX GridSample over the images the boxes index (align_corners, so a box edge samples the pixel
 * centre TF samples), with TF's extrapolation value outside the image.
 */
import { attr, type Value } from '../../../ir/graph.js';
import { ONNX_DTYPE_CODES } from '../../../ir/ops/helpers.js';
import { Tensor, type DType } from '../../../ir/tensor.js';
import { registerTfOp, type TfOpContext } from '../op-api.js';

function cast(ctx: TfOpContext, v: Value, to: DType, suffix: string): Value {
  if (v.dtype === to) return v;
  return ctx.emit('Cast', [v], { to: attr.int(ONNX_DTYPE_CODES[to]) }, 1, suffix)[0]!;
}

/** A scalar (or one-value) operand as a [1] tensor of `to`. */
function one(ctx: TfOpContext, v: Value, to: DType, suffix: string): Value {
  const c = ctx.constant(v);
  if (c) {
    const x = Number(c.toFloat64()[0]);
    return to === 'int64' ? ctx.ints64(suffix, [x]) : ctx.initializer(suffix, Tensor.fromArray(to, [1], [x]));
  }
  return ctx.emit('Reshape', [cast(ctx, v, to, `${suffix}_cast`), ctx.ints64(`${suffix}_shape`, [1])], {}, 1, suffix)[0]!;
}

interface NmsForm {
  scoreThreshold: boolean;
  softSigma: boolean;
  /** Outputs after the indices: valid_outputs (V4), selected_scores + valid_outputs (V5). */
  outputs: 'indices' | 'valid' | 'scores_valid';
}

function nms(form: NmsForm) {
  return (ctx: TfOpContext, ins: Value[]): Value[] => {
    const [boxes, scores, maxV] = ins;
    const v1 = ctx.node.op === 'NonMaxSuppression';
    const iouV = v1 ? undefined : ins[3];
    const scoreV = form.scoreThreshold ? ins[4] : undefined;
    if (form.softSigma) {
      const sigma = ctx.constant(ins[5]!);
      if (!sigma) throw ctx.unsupported('a soft_nms_sigma that is not constant (soft-NMS is not supported)');
      const s = Number(sigma.toFloat64()[0]);
      if (s !== 0) throw ctx.unsupported(`soft_nms_sigma ${s} (soft-NMS; only 0, hard NMS, converts)`);
    }
    const boxes3 = ctx.emit('Unsqueeze', [cast(ctx, boxes!, 'float32', 'boxes_f32'), ctx.ints64('batch_axis', [0])], {}, 1, 'boxes')[0]!;
    const scores3 = ctx.emit('Unsqueeze', [cast(ctx, scores!, 'float32', 'scores_f32'), ctx.ints64('batch_class_axes', [0, 1])], {}, 1, 'scores')[0]!;
    const maxOut = one(ctx, maxV!, 'int64', 'max_output_size');
    const iou = iouV ? one(ctx, iouV, 'float32', 'iou_threshold') : ctx.floats32('iou_threshold', [ctx.float('iou_threshold', 0.5)]);
    const nmsIns = [boxes3, scores3, maxOut, iou];
    if (scoreV) nmsIns.push(one(ctx, scoreV, 'float32', 'score_threshold'));
    const [sel] = ctx.emit('NonMaxSuppression', nmsIns, { center_point_box: attr.int(0) }, 1, 'nms');
    const idx64 = ctx.emit('Gather', [sel!, ctx.ints64('box_column', [2], [])], { axis: attr.int(1) }, 1, 'selected')[0]!;
    const pad = form.outputs !== 'indices' && ctx.bool('pad_to_max_output_size', false);
    const count = ctx.emit('Size', [idx64], {}, 1, 'count')[0]!;
    const padTo = (v: Value, suffix: string): Value => {
      if (!pad) return v;
      const missing = ctx.emit('Sub', [maxOut, ctx.emit('Reshape', [count, ctx.ints64('count_shape', [1])], {}, 1, 'count_1')[0]!], {}, 1, 'missing')[0]!;
      const pads = ctx.emit('Concat', [ctx.ints64('pad_begin', [0]), missing], { axis: attr.int(0) }, 1, `${suffix}_pads`)[0]!;
      return ctx.emit('Pad', [v, pads], { mode: attr.string('constant') }, 1, `${suffix}_padded`)[0]!;
    };
    const indices = cast(ctx, padTo(idx64, 'indices'), 'int32', 'indices');
    if (form.outputs === 'indices') return [indices];
    const valid = cast(ctx, count, 'int32', 'valid_outputs');
    if (form.outputs === 'valid') return [indices, valid];
    const selScores = ctx.emit('Gather', [scores!, idx64], { axis: attr.int(0) }, 1, 'selected_scores')[0]!;
    return [indices, padTo(selScores, 'scores'), valid];
  };
}

registerTfOp('NonMaxSuppression', nms({ scoreThreshold: false, softSigma: false, outputs: 'indices' }));
registerTfOp('NonMaxSuppressionV2', nms({ scoreThreshold: false, softSigma: false, outputs: 'indices' }));
registerTfOp('NonMaxSuppressionV3', nms({ scoreThreshold: true, softSigma: false, outputs: 'indices' }));
registerTfOp('NonMaxSuppressionV4', nms({ scoreThreshold: true, softSigma: false, outputs: 'valid' }));
registerTfOp('NonMaxSuppressionV5', nms({ scoreThreshold: true, softSigma: true, outputs: 'scores_valid' }));

/**
 * CropAndResize(image [B, H, W, C], boxes [N, 4] normalized [y1, x1, y2, x2], box_ind [N],
 * crop_size [ch, cw]) -> [N, ch, cw, C] float32. Sample i of a box is at y1 + i (y2 - y1) / (ch - 1)
 * of the image height - 1 (the box centre when ch is 1), so the GridSample grid (align_corners,
 * -1..1 over the pixel centres) is 2 y - 1 whatever the image size; a sample outside the image
 * takes extrapolation_value.
 */
registerTfOp('CropAndResize', (ctx, [image, boxes, boxInd, cropV]) => {
  const method = ctx.str('method', 'bilinear');
  if (method !== 'bilinear' && method !== 'nearest') throw ctx.unsupported(`method ${method}`);
  const crop = Array.from(ctx.requireConstant(cropV!, 'crop_size').toArray() as ArrayLike<number | bigint>, Number);
  if (crop.length !== 2 || crop.some((d) => d < 1)) throw ctx.unsupported(`crop_size [${crop.join(', ')}]`);
  const [ch, cw] = crop as [number, number];
  const extrapolation = ctx.float('extrapolation_value', 0);
  const b = cast(ctx, boxes!, 'float32', 'boxes_f32');
  const coord = (k: number, name: string) => ctx.emit('Slice', [b, ctx.ints64(`${name}_start`, [k]), ctx.ints64(`${name}_end`, [k + 1]), ctx.ints64(`${name}_axis`, [1])], {}, 1, name)[0]!;
  const [y1, x1, y2, x2] = [coord(0, 'y1'), coord(1, 'x1'), coord(2, 'y2'), coord(3, 'x2')];
  /** Sample positions along one axis, [N, n]: lo + t (hi - lo) with t = i / (n - 1) (or 0.5). */
  const positions = (lo: Value, hi: Value, n: number, name: string): Value => {
    const t = ctx.floats32(`${name}_t`, n === 1 ? [0.5] : Array.from({ length: n }, (_, i) => i / (n - 1)), [1, n]);
    const span = ctx.emit('Sub', [hi, lo], {}, 1, `${name}_span`)[0]!;
    return ctx.emit('Add', [lo, ctx.emit('Mul', [span, t], {}, 1, `${name}_offsets`)[0]!], {}, 1, `${name}_positions`)[0]!;
  };
  const ys = positions(y1, y2, ch, 'y'); // [N, ch]
  const xs = positions(x1, x2, cw, 'x'); // [N, cw]
  const two = ctx.floats32('two', [2], []);
  const oneF = ctx.floats32('one', [1], []);
  const h = image!.shape?.[1];
  const w = image!.shape?.[2];
  /**
   * -1..1 grid coordinates. For `nearest` on an axis of known size, the pixel TF picks
   * (round half up of v (size - 1)) is computed here and its centre given, so GridSample's
   * round-half-even cannot pick the other neighbour at a tie.
   */
  const toGrid = (v: Value, size: unknown, name: string) => {
    let u = v;
    if (method === 'nearest' && typeof size === 'number' && size > 1) {
      const scaled = ctx.emit('Mul', [v, ctx.floats32(`${name}_size`, [size - 1], [])], {}, 1, `${name}_pixels`)[0]!;
      const pixel = ctx.emit('Floor', [ctx.emit('Add', [scaled, ctx.floats32(`${name}_half`, [0.5], [])], {}, 1, `${name}_plus_half`)[0]!], {}, 1, `${name}_nearest`)[0]!;
      u = ctx.emit('Div', [pixel, ctx.floats32(`${name}_size_b`, [size - 1], [])], {}, 1, `${name}_centre`)[0]!;
    }
    return ctx.emit('Sub', [ctx.emit('Mul', [u, two], {}, 1, `${name}_scaled`)[0]!, oneF], {}, 1, `${name}_grid`)[0]!;
  };
  // [N, ch, cw] each, then [N, ch, cw, 2] as (x, y).
  const gy = ctx.emit('Expand', [ctx.emit('Unsqueeze', [toGrid(ys, h, 'y'), ctx.ints64('axis2', [2])], {}, 1, 'gy3')[0]!, ctx.ints64('ones3', [1, 1, cw])], {}, 1, 'gy')[0]!;
  const gx = ctx.emit('Expand', [ctx.emit('Unsqueeze', [toGrid(xs, w, 'x'), ctx.ints64('axis1', [1])], {}, 1, 'gx3')[0]!, ctx.ints64('ones3b', [1, ch, 1])], {}, 1, 'gx')[0]!;
  const last = ctx.ints64('axis3', [3]);
  const grid = ctx.emit('Concat', [
    ctx.emit('Unsqueeze', [gx, last], {}, 1, 'gx4')[0]!,
    ctx.emit('Unsqueeze', [gy, last], {}, 1, 'gy4')[0]!,
  ], { axis: attr.int(3) }, 1, 'grid')[0]!;
  const imgs = ctx.emit('Gather', [cast(ctx, image!, 'float32', 'image_f32'), boxInd!], { axis: attr.int(0) }, 1, 'box_images')[0]!;
  const nchw = ctx.emit('Transpose', [imgs], { perm: attr.ints([0, 3, 1, 2]) }, 1, 'box_images_nchw')[0]!;
  const sampled = ctx.emit('GridSample', [nchw, grid], {
    mode: attr.string(method), padding_mode: attr.string('border'), align_corners: attr.int(1),
  }, 1, 'sample')[0]!;
  const nhwc = ctx.emit('Transpose', [sampled], { perm: attr.ints([0, 2, 3, 1]) }, 1, 'crops')[0]!;
  // Outside: a coordinate outside [0, 1] of an axis longer than one pixel (TF: outside [0, size - 1]).
  const outside = (v: Value, size: unknown, name: string): Value | undefined => {
    if (size === 1) return undefined;
    const below = ctx.emit('Less', [v, ctx.floats32(`${name}_zero`, [0], [])], {}, 1, `${name}_below`)[0]!;
    const above = ctx.emit('Greater', [v, oneF], {}, 1, `${name}_above`)[0]!;
    return ctx.emit('Or', [below, above], {}, 1, `${name}_outside`)[0]!;
  };
  const oy = outside(ys, h, 'y');
  const ox = outside(xs, w, 'x');
  if (!oy && !ox) return [nhwc];
  // [N, ch, 1, 1] | [N, 1, cw, 1] broadcast against [N, ch, cw, C].
  const parts: Value[] = [];
  if (oy) parts.push(ctx.emit('Unsqueeze', [oy, ctx.ints64('y_mask_axes', [2, 3])], {}, 1, 'y_mask')[0]!);
  if (ox) parts.push(ctx.emit('Unsqueeze', [ox, ctx.ints64('x_mask_axes', [1, 3])], {}, 1, 'x_mask')[0]!);
  const mask = parts.length === 2 ? ctx.emit('Or', parts, {}, 1, 'outside')[0]! : parts[0]!;
  return ctx.emit('Where', [mask, ctx.floats32('extrapolation_value', [extrapolation], []), nhwc], {}, 1, 'crop_and_resize');
});

export const DETECTION_OPS = ['NonMaxSuppression', 'NonMaxSuppressionV2', 'NonMaxSuppressionV3', 'NonMaxSuppressionV4', 'NonMaxSuppressionV5', 'CropAndResize'];
