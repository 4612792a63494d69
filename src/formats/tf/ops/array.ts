/**
 * TF array and shape ops: Reshape, Squeeze, ExpandDims, Concat(V2), Pack, Unpack, Split(V),
 * Slice, StridedSlice (every mask), Transpose, Pad(V2), MirrorPad, Shape(N), Size, Rank, Fill,
 * Range, Tile, Gather(V2), GatherNd, OneHot, Select(V2), Where, ZerosLike, OnesLike, BroadcastTo,
 * ResizeBilinear / ResizeNearestNeighbor, TopKV2, DepthToSpace, SpaceToDepth, ReverseV2, Cumsum,
 * Einsum. Axis and shape operands that ONNX wants as attributes must be constants.
 */
import { attr, type Attrs, type Value } from '../../../ir/graph.js';
import { ONNX_DTYPE_CODES } from '../../../ir/ops/helpers.js';
import { Tensor, type DType } from '../../../ir/tensor.js';
import { registerTfOp, type TfOpContext } from '../op-api.js';

const INT_MAX = 2147483647;
const INT_MIN = -2147483648;

function numbers(t: Tensor): number[] {
  return Array.from(t.toArray() as ArrayLike<number | bigint>, Number);
}

function constInts(ctx: TfOpContext, v: Value, what: string): number[] {
  return numbers(ctx.requireConstant(v, what));
}

/** An int64 version of an int operand (a new initializer when it is constant, else a Cast). */
function int64(ctx: TfOpContext, v: Value, suffix: string): Value {
  const c = ctx.constant(v);
  if (c && c.dtype === 'int64') return v;
  if (c) return ctx.ints64(suffix, numbers(c), c.shape.slice());
  if (v.dtype === 'int64') return v;
  return ctx.emit('Cast', [v], { to: attr.int(ONNX_DTYPE_CODES.int64) }, 1, `${suffix}_int64`)[0]!;
}

function castTo(ctx: TfOpContext, v: Value, to: DType, suffix: string): Value {
  if (v.dtype === to) return v;
  return ctx.emit('Cast', [v], { to: attr.int(ONNX_DTYPE_CODES[to]) }, 1, suffix)[0]!;
}

function rankOf(ctx: TfOpContext, v: Value): number {
  if (v.shape) return v.shape.length;
  throw ctx.unsupported('an input of unknown rank');
}

function normAxis(a: number, rank: number): number {
  return a < 0 ? a + rank : a;
}

registerTfOp('Reshape', (ctx, [x, shape]) => ctx.emit('Reshape', [x!, int64(ctx, shape!, 'shape')]));

registerTfOp('Squeeze', (ctx, [x]) => {
  const dims = ctx.ints('squeeze_dims', ctx.ints('axis', []));
  if (!dims.length) return ctx.emit('Squeeze', [x!]);
  return ctx.emit('Squeeze', [x!, ctx.ints64('axes', dims)]);
});

registerTfOp('ExpandDims', (ctx, [x, axis]) => ctx.emit('Unsqueeze', [x!, ctx.ints64('axes', constInts(ctx, axis!, 'axis'))]));

registerTfOp('ConcatV2', (ctx, ins) => {
  const axis = constInts(ctx, ins[ins.length - 1]!, 'axis')[0]!;
  return ctx.emit('Concat', ins.slice(0, -1), { axis: attr.int(axis) });
});
registerTfOp('Concat', (ctx, [axisV, ...values]) => ctx.emit('Concat', values, { axis: attr.int(constInts(ctx, axisV!, 'axis')[0]!) }));

registerTfOp('Pack', (ctx, ins) => {
  const axis = ctx.int('axis', 0);
  const axes = ctx.ints64('axes', [axis]);
  const parts = ins.map((v, i) => ctx.emit('Unsqueeze', [v, axes], {}, 1, `unsqueeze_${i}`)[0]!);
  return ctx.emit('Concat', parts, { axis: attr.int(axis) });
});

registerTfOp('Unpack', (ctx, [x]) => {
  const num = ctx.int('num');
  const axis = ctx.int('axis', 0);
  const parts = ctx.emit('Split', [x!], { axis: attr.int(axis) }, num, 'split');
  const axes = ctx.ints64('axes', [axis]);
  return parts.map((p, i) => ctx.emit('Squeeze', [p, axes], {}, 1, `squeeze_${i}`)[0]!);
});

registerTfOp('Split', (ctx, [axisV, x]) => {
  const axis = constInts(ctx, axisV!, 'axis')[0]!;
  return ctx.emit('Split', [x!], { axis: attr.int(axis) }, ctx.int('num_split'));
});

registerTfOp('SplitV', (ctx, [x, sizesV, axisV]) => {
  const axis = constInts(ctx, axisV!, 'axis')[0]!;
  let sizes = constInts(ctx, sizesV!, 'size_splits');
  const unknown = sizes.indexOf(-1);
  if (unknown >= 0) {
    const d = x!.shape?.[normAxis(axis, rankOf(ctx, x!))];
    if (typeof d !== 'number') throw ctx.unsupported('size_splits with -1 on a dimension of unknown size');
    sizes = sizes.map((s, i) => (i === unknown ? d - sizes.reduce((a, b, j) => (j === unknown ? a : a + b), 0) : s));
  }
  return ctx.emit('Split', [x!, ctx.ints64('split', sizes)], { axis: attr.int(axis) }, sizes.length);
});

registerTfOp('Slice', (ctx, [x, beginV, sizeV]) => {
  const size = constInts(ctx, sizeV!, 'size');
  const bc = ctx.constant(beginV!);
  const axes = ctx.ints64('axes', size.map((_, i) => i));
  if (bc) {
    const begin = numbers(bc);
    const ends = begin.map((b, i) => (size[i] === -1 ? INT_MAX : b + size[i]!));
    return ctx.emit('Slice', [x!, ctx.ints64('starts', begin), ctx.ints64('ends', ends), axes]);
  }
  if (size.includes(-1)) throw ctx.unsupported('a computed begin with size -1');
  const starts = int64(ctx, beginV!, 'starts');
  const ends = ctx.emit('Add', [starts, ctx.ints64('size', size)], {}, 1, 'ends')[0]!;
  return ctx.emit('Slice', [x!, starts, ends, axes]);
});

registerTfOp('StridedSlice', (ctx, [x, beginV, endV, stridesV]) => {
  const begin = constInts(ctx, beginV!, 'begin');
  const end = constInts(ctx, endV!, 'end');
  const strides = constInts(ctx, stridesV!, 'strides');
  const bm = ctx.int('begin_mask', 0);
  const em = ctx.int('end_mask', 0);
  const ellipsis = ctx.int('ellipsis_mask', 0);
  const newAxis = ctx.int('new_axis_mask', 0);
  const shrink = ctx.int('shrink_axis_mask', 0);
  const rank = rankOf(ctx, x!);
  const n = begin.length;
  const bit = (m: number, i: number) => (m >> i) & 1;
  // Specs that consume an input dim (not new axes, not the ellipsis).
  const consuming = Array.from({ length: n }, (_, i) => i).filter((i) => !bit(ellipsis, i) && !bit(newAxis, i)).length;
  const starts: number[] = [];
  const ends: number[] = [];
  const axes: number[] = [];
  const steps: number[] = [];
  const squeeze: number[] = [];
  /** Output layout after the slice: 'keep' dims of the input, or 'new' axes, in order. */
  const out: ('keep' | 'new')[] = [];
  let dim = 0;
  let sawEllipsis = false;
  for (let i = 0; i < n; i++) {
    if (bit(ellipsis, i) && !sawEllipsis) {
      sawEllipsis = true;
      const cover = rank - consuming;
      for (let k = 0; k < cover; k++, dim++) out.push('keep');
      continue;
    }
    if (bit(newAxis, i)) {
      out.push('new');
      continue;
    }
    const s = strides[i]!;
    if (s === 0) throw ctx.unsupported('a stride of 0');
    if (bit(shrink, i)) {
      const b = begin[i]!;
      starts.push(b);
      ends.push(b === -1 ? INT_MAX : b + 1);
      axes.push(dim);
      steps.push(1);
      squeeze.push(dim);
      dim++;
      continue;
    }
    const full = bit(bm, i) && bit(em, i) && s === 1;
    if (!full) {
      starts.push(bit(bm, i) ? (s > 0 ? 0 : INT_MAX) : begin[i]!);
      ends.push(bit(em, i) ? (s > 0 ? INT_MAX : INT_MIN) : end[i]!);
      axes.push(dim);
      steps.push(s);
    }
    out.push('keep');
    dim++;
  }
  for (; dim < rank; dim++) out.push('keep');
  let y = x!;
  if (axes.length) {
    y = ctx.emit('Slice', [y, ctx.ints64('starts', starts), ctx.ints64('ends', ends), ctx.ints64('axes', axes), ctx.ints64('steps', steps)], {}, 1, 'slice')[0]!;
  }
  if (squeeze.length) y = ctx.emit('Squeeze', [y, ctx.ints64('squeeze_axes', squeeze)], {}, 1, 'shrink')[0]!;
  // `out` lists the output's dims in order (shrunk dims are not in it): new axes go where it says.
  const newPositions = out.map((k, i) => (k === 'new' ? i : -1)).filter((i) => i >= 0);
  if (newPositions.length) y = ctx.emit('Unsqueeze', [y, ctx.ints64('new_axes', newPositions)], {}, 1, 'new_axis')[0]!;
  if (y === x) y = ctx.emit('Identity', [x!], {}, 1, 'identity')[0]!;
  return [y];
});

registerTfOp('Transpose', (ctx, [x, perm]) => ctx.emit('Transpose', [x!], { perm: attr.ints(constInts(ctx, perm!, 'perm')) }));

function pads(ctx: TfOpContext, v: Value): Value {
  const p = constInts(ctx, v, 'paddings');
  const r = p.length / 2;
  return ctx.ints64('pads', [...Array.from({ length: r }, (_, i) => p[2 * i]!), ...Array.from({ length: r }, (_, i) => p[2 * i + 1]!)]);
}
registerTfOp('Pad', (ctx, [x, p]) => ctx.emit('Pad', [x!, pads(ctx, p!)], { mode: attr.string('constant') }));
registerTfOp('PadV2', (ctx, [x, p, c]) => ctx.emit('Pad', [x!, pads(ctx, p!), c!], { mode: attr.string('constant') }));
registerTfOp('MirrorPad', (ctx, [x, p]) => {
  const mode = ctx.str('mode', 'REFLECT');
  if (mode !== 'REFLECT') throw ctx.unsupported(`mode ${mode} (ONNX Pad has reflect and edge only)`);
  return ctx.emit('Pad', [x!, pads(ctx, p!)], { mode: attr.string('reflect') });
});

function shapeOut(ctx: TfOpContext, v: Value, suffix?: string): Value {
  const s = ctx.emit('Shape', [v], {}, 1, suffix)[0]!;
  const to = ctx.dtype('out_type', 'int32');
  return to === 'int64' ? s : castTo(ctx, s, to, `${suffix ?? 'shape'}_cast`);
}
registerTfOp('Shape', (ctx, [x]) => [shapeOut(ctx, x!)]);
registerTfOp('ShapeN', (ctx, ins) => ins.map((v, i) => shapeOut(ctx, v, `shape_${i}`)));
registerTfOp('Size', (ctx, [x]) => {
  const s = ctx.emit('Size', [x!])[0]!;
  const to = ctx.dtype('out_type', 'int32');
  return [to === 'int64' ? s : castTo(ctx, s, to, 'cast')];
});
registerTfOp('Rank', (ctx, [x]) => {
  if (x!.shape) return [ctx.initializer('rank', Tensor.fromArray('int32', [], [x!.shape.length]))];
  const s = ctx.emit('Shape', [x!], {}, 1, 'shape')[0]!;
  return [castTo(ctx, ctx.emit('Size', [s], {}, 1, 'size')[0]!, 'int32', 'cast')];
});

registerTfOp('Fill', (ctx, [dims, value]) => ctx.emit('Expand', [value!, int64(ctx, dims!, 'dims')]));
registerTfOp('BroadcastTo', (ctx, [x, shape]) => ctx.emit('Expand', [x!, int64(ctx, shape!, 'shape')]));
registerTfOp('Range', (ctx, [start, limit, delta]) => ctx.emit('Range', [start!, limit!, delta!]));
registerTfOp('Tile', (ctx, [x, m]) => ctx.emit('Tile', [x!, int64(ctx, m!, 'multiples')]));

registerTfOp('GatherV2', (ctx, [params, indices, axisV]) => {
  if (ctx.int('batch_dims', 0) !== 0) throw ctx.unsupported('batch_dims other than 0');
  return ctx.emit('Gather', [params!, indices!], { axis: attr.int(constInts(ctx, axisV!, 'axis')[0]!) });
});
registerTfOp('Gather', (ctx, [params, indices]) => ctx.emit('Gather', [params!, indices!], { axis: attr.int(0) }));
registerTfOp('ResourceGather', (ctx, [params, indices]) => ctx.emit('Gather', [params!, indices!], { axis: attr.int(ctx.int('batch_dims', 0)) }));
registerTfOp('GatherNd', (ctx, [params, indices]) => ctx.emit('GatherND', [params!, int64(ctx, indices!, 'indices')]));

registerTfOp('OneHot', (ctx, [indices, depth, on, off]) => {
  const values = ctx.emit('Concat', [
    ctx.emit('Reshape', [off!, ctx.ints64('one', [1])], {}, 1, 'off')[0]!,
    ctx.emit('Reshape', [on!, ctx.ints64('one_b', [1])], {}, 1, 'on')[0]!,
  ], { axis: attr.int(0) }, 1, 'values')[0]!;
  return ctx.emit('OneHot', [indices!, int64(ctx, depth!, 'depth'), values], { axis: attr.int(ctx.int('axis', -1)) });
});

registerTfOp('Select', (ctx, [cond, t, e]) => {
  let c = cond!;
  const cr = c.shape?.length;
  const tr = t!.shape?.length;
  // TF1 Select with a vector condition picks whole rows of higher-rank operands.
  if (cr === 1 && tr !== undefined && tr > 1) c = ctx.emit('Unsqueeze', [c, ctx.ints64('axes', Array.from({ length: tr - 1 }, (_, i) => i + 1))], {}, 1, 'rows')[0]!;
  return ctx.emit('Where', [c, t!, e!]);
});
registerTfOp('SelectV2', (ctx, [cond, t, e]) => ctx.emit('Where', [cond!, t!, e!]));
registerTfOp('Where', (ctx, [x]) => {
  const b = x!.dtype === 'bool' ? x! : castTo(ctx, x!, 'bool', 'bool');
  const nz = ctx.emit('NonZero', [b], {}, 1, 'nonzero')[0]!;
  return ctx.emit('Transpose', [nz], { perm: attr.ints([1, 0]) });
});

function filled(ctx: TfOpContext, x: Value, value: number): Value[] {
  const d = x.dtype ?? ctx.dtype('T', 'float32');
  const s = ctx.emit('Shape', [x], {}, 1, 'shape')[0]!;
  const v = d === 'bool' ? [value !== 0] : d === 'int64' || d === 'uint64' ? [BigInt(value)] : [value];
  return ctx.emit('ConstantOfShape', [s], { value: attr.tensor(Tensor.fromArray(d, [1], v as never)) });
}
registerTfOp('ZerosLike', (ctx, [x]) => filled(ctx, x!, 0));
registerTfOp('OnesLike', (ctx, [x]) => filled(ctx, x!, 1));

function resize(mode: 'linear' | 'nearest') {
  return (ctx: TfOpContext, [x, size]: Value[]): Value[] => {
    const align = ctx.bool('align_corners', false);
    const half = ctx.bool('half_pixel_centers', false);
    const attrs: Attrs = { mode: attr.string(mode) };
    if (align) attrs.coordinate_transformation_mode = attr.string('align_corners');
    else if (half) attrs.coordinate_transformation_mode = attr.string(mode === 'linear' ? 'half_pixel' : 'tf_half_pixel_for_nn');
    else attrs.coordinate_transformation_mode = attr.string('asymmetric');
    if (mode === 'nearest') attrs.nearest_mode = attr.string(align ? 'round_prefer_ceil' : 'floor');
    const xc = ctx.toChannelsFirst(x!, 4);
    const shape = ctx.emit('Shape', [xc], {}, 1, 'shape')[0]!;
    const nc = ctx.emit('Slice', [shape, ctx.ints64('zero', [0]), ctx.ints64('two', [2])], {}, 1, 'batch_channels')[0]!;
    const sizes = ctx.emit('Concat', [nc, int64(ctx, size!, 'size')], { axis: attr.int(0) }, 1, 'sizes')[0]!;
    const y = ctx.emit('Resize', [xc, null, null, sizes], attrs, 1, 'resize')[0]!;
    return [ctx.toChannelsLast(y, 4)];
  };
}
registerTfOp('ResizeBilinear', resize('linear'));
registerTfOp('ResizeNearestNeighbor', resize('nearest'));

registerTfOp('TopKV2', (ctx, [x, k]) => {
  // Sorted output is also a valid answer when TF allows any order (sorted=false).
  const kk = ctx.emit('Reshape', [int64(ctx, k!, 'k'), ctx.ints64('one', [1])], {}, 1, 'k1')[0]!;
  const [values, indices] = ctx.emit('TopK', [x!, kk], { axis: attr.int(-1), largest: attr.int(1), sorted: attr.int(1) }, 2);
  const to = ctx.dtype('index_type', 'int32');
  return [values!, castTo(ctx, indices!, to, 'indices')];
});

function spaceDepth(op: 'DepthToSpace' | 'SpaceToDepth') {
  return (ctx: TfOpContext, [x]: Value[]): Value[] => {
    const attrs: Attrs = { blocksize: attr.int(ctx.int('block_size')) };
    if (op === 'DepthToSpace') attrs.mode = attr.string('DCR');
    if (ctx.str('data_format', 'NHWC') !== 'NHWC') return ctx.emit(op, [x!], attrs);
    return [ctx.toChannelsLast(ctx.emit(op, [ctx.toChannelsFirst(x!, 4)], attrs)[0]!, 4)];
  };
}
registerTfOp('DepthToSpace', spaceDepth('DepthToSpace'));
registerTfOp('SpaceToDepth', spaceDepth('SpaceToDepth'));

registerTfOp('ReverseV2', (ctx, [x, axisV]) => {
  const axes = constInts(ctx, axisV!, 'axis');
  if (!axes.length) return ctx.emit('Identity', [x!]);
  return ctx.emit('Slice', [x!, ctx.ints64('starts', axes.map(() => -1)), ctx.ints64('ends', axes.map(() => INT_MIN)), ctx.ints64('axes', axes), ctx.ints64('steps', axes.map(() => -1))]);
});

registerTfOp('Cumsum', (ctx, [x, axis]) => ctx.emit('CumSum', [x!, int64(ctx, axis!, 'axis')], {
  exclusive: attr.int(ctx.bool('exclusive', false) ? 1 : 0), reverse: attr.int(ctx.bool('reverse', false) ? 1 : 0),
}));

registerTfOp('Einsum', (ctx, ins) => ctx.emit('Einsum', ins, { equation: attr.string(ctx.str('equation')) }));

/** Dropout masks: RandomUniform of a constant shape (with a fixed batch, give --input-shape). */
registerTfOp('RandomUniform', (ctx, [shape]) => {
  const dims = ctx.constant(shape!);
  const dtype = ctx.dtype('dtype', 'float32');
  const seed = ctx.int('seed2', 0) || ctx.int('seed', 0);
  const attrs: Attrs = { dtype: attr.int(ONNX_DTYPE_CODES[dtype]), low: attr.float(0), high: attr.float(1), ...(seed ? { seed: attr.float(seed) } : {}) };
  if (dims) return ctx.emit('RandomUniform', [], { ...attrs, shape: attr.ints(numbers(dims)) });
  const zeros = ctx.emit('ConstantOfShape', [int64(ctx, shape!, 'shape')], { value: attr.tensor(Tensor.fromArray(dtype, [1], [0])) }, 1, 'zeros')[0]!;
  return ctx.emit('RandomUniformLike', [zeros], attrs);
});

export const ARRAY_OPS = [
  'Reshape', 'Squeeze', 'ExpandDims', 'ConcatV2', 'Concat', 'Pack', 'Unpack', 'Split', 'SplitV', 'Slice', 'StridedSlice',
  'Transpose', 'Pad', 'PadV2', 'MirrorPad', 'Shape', 'ShapeN', 'Size', 'Rank', 'Fill', 'BroadcastTo', 'Range', 'Tile',
  'GatherV2', 'Gather', 'ResourceGather', 'GatherNd', 'OneHot', 'Select', 'SelectV2', 'Where', 'ZerosLike', 'OnesLike',
  'ResizeBilinear', 'ResizeNearestNeighbor', 'TopKV2', 'DepthToSpace', 'SpaceToDepth', 'ReverseV2', 'Cumsum', 'Einsum',
  'RandomUniform',
];
