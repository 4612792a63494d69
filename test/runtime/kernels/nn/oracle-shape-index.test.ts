/**
 * Shape, indexing, resize, GridSample and NMS configurations beyond the ONNX backend data
 * against onnxruntime-node.
 */
import { attr } from '../../../../src/ir/graph.js';
import { rand, vals, type Spec } from './ort-oracle.js';
import { defineOracleSuite } from './oracle-suite.js';

const f32 = 'float32' as const;
const i64 = 'int64' as const;
const ints = attr.ints;
const int = attr.int;
const str = attr.string;

const SHAPE_SPECS: Spec[] = [
  { name: 'Slice negative steps on three axes', op: 'Slice',
    inputs: [rand([5, 6, 7], 1), vals(i64, [3], [4, -1, 0]), vals(i64, [3], [0, -10, 7]), vals(i64, [3], [0, 1, 2]), vals(i64, [3], [-2, -3, 2])], outs: [f32] },
  { name: 'Slice INT_MIN end with negative step, negative axis', op: 'Slice',
    inputs: [rand([4, 5], 2), vals(i64, [1], [3]), vals(i64, [1], [-9223372036854775808n as unknown as number]), vals(i64, [1], [-1]), vals(i64, [1], [-1])], outs: [f32] },
  { name: 'Slice to an empty result', op: 'Slice',
    inputs: [rand([4, 5], 3), vals(i64, [1], [3]), vals(i64, [1], [1]), vals(i64, [1], [1])], outs: [f32] },
  { name: 'Pad reflect', op: 'Pad', attrs: { mode: str('reflect') },
    inputs: [rand([2, 3, 4, 5], 4), vals(i64, [8], [0, 1, 2, 3, 0, 2, 1, 4])], outs: [f32] },
  { name: 'Pad edge', op: 'Pad', attrs: { mode: str('edge') },
    inputs: [rand([2, 3, 4], 5), vals(i64, [6], [1, 0, 3, 2, 2, 1])], outs: [f32] },
  { name: 'Pad constant with negative pads and value', op: 'Pad',
    inputs: [rand([3, 5], 6), vals(i64, [4], [-1, 2, 1, -2]), vals(f32, [], [1.5])], outs: [f32] },
  { name: 'Pad constant int32', op: 'Pad',
    inputs: [rand([2, 3], 7, -9, 9, 'int32'), vals(i64, [4], [1, 1, 0, 2]), vals('int32', [], [7])], outs: ['int32'] },
  { name: 'Split with split input, axis 1', op: 'Split', attrs: { axis: int(1) },
    inputs: [rand([2, 7, 3], 8), vals(i64, [3], [1, 4, 2])], outs: [f32, f32, f32] },
  { name: 'Expand bidirectional broadcast', op: 'Expand', inputs: [rand([3, 1], 9), vals(i64, [3], [2, 1, 6])], outs: [f32] },
  { name: 'Tile bool', op: 'Tile', inputs: [rand([2, 3], 10, 0, 1, 'bool'), vals(i64, [2], [2, 3])], outs: ['bool'] },
  { name: 'DepthToSpace CRD', op: 'DepthToSpace', attrs: { blocksize: int(2), mode: str('CRD') }, inputs: [rand([2, 8, 3, 2], 11)], outs: [f32] },
  { name: 'SpaceToDepth blocksize 3', op: 'SpaceToDepth', attrs: { blocksize: int(3) }, inputs: [rand([1, 2, 6, 9], 12)], outs: [f32] },
  { name: 'Transpose 5-D', op: 'Transpose', attrs: { perm: ints([4, 2, 0, 3, 1]) }, inputs: [rand([2, 3, 4, 5, 2], 13)], outs: [f32] },
  { name: 'Reshape with 0 and -1', op: 'Reshape', inputs: [rand([2, 3, 4], 14), vals(i64, [3], [0, -1, 2])], outs: [f32] },
  { name: 'Reshape allowzero with an empty tensor', op: 'Reshape', attrs: { allowzero: int(1) },
    inputs: [rand([0, 3], 15), vals(i64, [3], [3, 0, 5])], outs: [f32] },
  { name: 'Unsqueeze unsorted negative axes', op: 'Unsqueeze', inputs: [rand([3, 4], 16), vals(i64, [3], [-1, 0, 2])], outs: [f32] },
  { name: 'Squeeze without axes', op: 'Squeeze', inputs: [rand([1, 3, 1, 2], 17)], outs: [f32] },
  { name: 'Concat with an empty input', op: 'Concat', attrs: { axis: int(-2) }, inputs: [rand([2, 0, 3], 18), rand([2, 4, 3], 19), rand([2, 1, 3], 20)], outs: [f32] },
  { name: 'Flatten axis 0', op: 'Flatten', attrs: { axis: int(0) }, inputs: [rand([2, 3, 4], 21)], outs: [f32] },
  { name: 'Shape with start and end', op: 'Shape', attrs: { start: int(-3), end: int(-1) }, inputs: [rand([2, 3, 4, 5], 22)], outs: [i64] },
  { name: 'Size', op: 'Size', inputs: [rand([2, 3, 4], 23)], outs: [i64] },
  { name: 'Range int32 negative delta', op: 'Range', inputs: [vals('int32', [], [10]), vals('int32', [], [-3]), vals('int32', [], [-4])], outs: ['int32'] },
  { name: 'Range float', op: 'Range', inputs: [vals(f32, [], [0.5]), vals(f32, [], [3.2]), vals(f32, [], [0.3])], outs: [f32] },
  { name: 'EyeLike k=-1 to int32', op: 'EyeLike', attrs: { k: int(-1), dtype: int(6) }, inputs: [rand([4, 5], 24)], outs: ['int32'] },
  { name: 'ConstantOfShape int64 value', op: 'ConstantOfShape', attrs: { value: attr.tensor(vals(i64, [1], [7])) },
    inputs: [vals(i64, [2], [2, 3])], outs: [i64] },
];

const INDEX_SPECS: Spec[] = [
  { name: 'Gather axis 1, 2-D negative indices', op: 'Gather', attrs: { axis: int(1) },
    inputs: [rand([3, 5, 2], 30), vals(i64, [2, 2], [-1, 0, 3, -5])], outs: [f32] },
  { name: 'Gather scalar index int32 data', op: 'Gather', inputs: [rand([4, 3], 31, -9, 9, 'int32'), vals(i64, [], [-2])], outs: ['int32'] },
  { name: 'GatherElements axis -1 negative indices', op: 'GatherElements', attrs: { axis: int(-1) },
    inputs: [rand([3, 4], 32), vals(i64, [3, 2], [-1, 0, 2, -4, 3, 1])], outs: [f32] },
  { name: 'GatherND batch_dims 1', op: 'GatherND', attrs: { batch_dims: int(1) },
    inputs: [rand([2, 3, 4, 2], 33), vals(i64, [2, 2, 2], [0, 1, 2, -1, 1, 3, -3, 0])], outs: [f32] },
  { name: 'GatherND batch_dims 2, whole slices', op: 'GatherND', attrs: { batch_dims: int(2) },
    inputs: [rand([2, 3, 4, 2], 34), vals(i64, [2, 3, 1], [0, 1, 2, 3, 2, 1])], outs: [f32] },
  { name: 'ScatterElements add with duplicates', op: 'ScatterElements', attrs: { axis: int(1), reduction: str('add') },
    inputs: [rand([3, 4], 35), vals(i64, [3, 2], [1, 1, 0, -1, 2, 2]), rand([3, 2], 36)], outs: [f32] },
  { name: 'ScatterElements mul', op: 'ScatterElements', attrs: { axis: int(0), reduction: str('mul') },
    inputs: [rand([3, 4], 37), vals(i64, [2, 4], [0, 1, 2, 0, 0, 1, 2, 0]), rand([2, 4], 38)], outs: [f32] },
  { name: 'ScatterND add', op: 'ScatterND', attrs: { reduction: str('add') },
    inputs: [rand([4, 3, 2], 39), vals(i64, [3, 1], [1, 3, 1]), rand([3, 3, 2], 40)], outs: [f32] },
  { name: 'ScatterND mul on elements', op: 'ScatterND', attrs: { reduction: str('mul') },
    inputs: [rand([4, 3], 41), vals(i64, [3, 2], [0, 0, 3, 2, 0, 0]), rand([3], 42)], outs: [f32] },
  { name: 'OneHot axis 1, negative indices, float depth', op: 'OneHot', attrs: { axis: int(1) },
    inputs: [vals(i64, [2, 3], [0, -1, 2, 5, -6, 1]), vals(f32, [], [5]), vals(f32, [2], [-2, 3])], outs: [f32] },
  { name: 'Unique sorted along axis 1', op: 'Unique', attrs: { axis: int(1), sorted: int(1) },
    inputs: [vals(f32, [2, 5], [1, 0, 1, 2, 0, 3, 1, 3, 4, 1])], outs: [f32, i64, i64, i64] },
  { name: 'Unique unsorted flattened', op: 'Unique', attrs: { sorted: int(0) },
    inputs: [vals(f32, [2, 4], [3, 1, 3, 2, 1, 5, 2, 3])], outs: [f32, i64, i64, i64] },
  { name: 'NonZero 3-D', op: 'NonZero', inputs: [rand([2, 3, 4], 43, -1, 2, 'int32')], outs: [i64] },
  { name: 'Compress axis 1 with a short condition', op: 'Compress', attrs: { axis: int(1) },
    inputs: [rand([2, 5, 2], 44), vals('bool', [3], [true, false, true])], outs: [f32] },
  { name: 'ReverseSequence batch axis 0', op: 'ReverseSequence', attrs: { batch_axis: int(0), time_axis: int(1) },
    inputs: [rand([3, 4, 2], 45), vals(i64, [3], [4, 1, 3])], outs: [f32] },
];

const RESIZE_SPECS: Spec[] = [
  { name: 'Resize cubic exclude_outside A=-0.5 sizes', op: 'Resize',
    attrs: { mode: str('cubic'), exclude_outside: int(1), cubic_coeff_a: attr.float(-0.5) },
    inputs: [rand([1, 2, 5, 6], 50), null, null, vals(i64, [4], [1, 2, 8, 9])], outs: [f32] },
  { name: 'Resize cubic asymmetric downsample scales', op: 'Resize',
    attrs: { mode: str('cubic'), coordinate_transformation_mode: str('asymmetric') },
    inputs: [rand([1, 1, 9, 8], 51), null, vals(f32, [4], [1, 1, 0.6, 0.7])], outs: [f32] },
  { name: 'Resize linear pytorch_half_pixel to one row', op: 'Resize',
    attrs: { mode: str('linear'), coordinate_transformation_mode: str('pytorch_half_pixel') },
    inputs: [rand([1, 2, 4, 6], 52), null, null, vals(i64, [4], [1, 2, 1, 4])], outs: [f32] },
  // Integral resized lengths only: with scale * length non-integral onnxruntime departs from the
  // ONNX reference (see resize-reference.test.ts).
  { name: 'Resize linear align_corners upsample', op: 'Resize',
    attrs: { mode: str('linear'), coordinate_transformation_mode: str('align_corners') },
    inputs: [rand([2, 1, 3, 4], 53), null, vals(f32, [4], [1, 1, 3, 1.5])], outs: [f32] },
  { name: 'Resize nearest round_prefer_ceil asymmetric x3', op: 'Resize',
    attrs: { mode: str('nearest'), coordinate_transformation_mode: str('asymmetric'), nearest_mode: str('round_prefer_ceil') },
    inputs: [rand([1, 2, 3, 3], 54), null, vals(f32, [4], [1, 1, 3, 3])], outs: [f32] },
  { name: 'Resize nearest ceil half_pixel downsample', op: 'Resize',
    attrs: { mode: str('nearest'), nearest_mode: str('ceil') },
    inputs: [rand([1, 1, 7, 9], 55), null, null, vals(i64, [4], [1, 1, 3, 4])], outs: [f32] },
  // A region of interest on one axis only: onnxruntime 1.22 did not apply the last axis' roi here (see resize-reference.test.ts).
  { name: 'Resize tf_crop_and_resize linear with extrapolation', op: 'Resize',
    attrs: { mode: str('linear'), coordinate_transformation_mode: str('tf_crop_and_resize'), extrapolation_value: attr.float(10) },
    inputs: [rand([1, 1, 5, 5], 56), vals(f32, [8], [0, 0, -0.2, 0, 1, 1, 0.8, 1]), null, vals(i64, [4], [1, 1, 4, 5])], outs: [f32] },
  { name: 'Resize 3-D linear on the last two axes', op: 'Resize',
    attrs: { mode: str('linear') },
    inputs: [rand([2, 3, 4], 57), null, vals(f32, [3], [1, 2, 0.5])], outs: [f32] },
];

const GRID_SPECS: Spec[] = [];
let seed = 60;
for (const mode of ['bilinear', 'nearest', 'bicubic']) {
  for (const padding of ['zeros', 'border', 'reflection']) {
    for (const ac of [0, 1]) {
      GRID_SPECS.push({
        name: `GridSample ${mode} ${padding} align_corners=${ac}`, op: 'GridSample',
        attrs: { mode: str(mode), padding_mode: str(padding), align_corners: int(ac) },
        inputs: [rand([2, 2, 4, 5], seed++), rand([2, 3, 6, 2], seed++, -1.4, 1.4)], outs: [f32],
      });
    }
  }
}

const NMS_SPECS: Spec[] = [
  { name: 'NonMaxSuppression center boxes, two batches and classes, score threshold', op: 'NonMaxSuppression',
    attrs: { center_point_box: int(1) },
    inputs: [
      vals(f32, [2, 5, 4], [
        0.5, 0.5, 1, 1, 0.5, 0.6, 1, 1, 0.5, 0.4, 1, 1, 0.5, 10.5, 1, 1, 0.5, 10.6, 1, 1,
        1, 1, 2, 2, 1.1, 1, 2, 2, 5, 5, 1, 1, 5, 5.2, 1, 1.2, 0, 0, 0.5, 0.5,
      ]),
      vals(f32, [2, 2, 5], [0.9, 0.75, 0.6, 0.95, 0.5, 0.3, 0.2, 0.1, 0.8, 0.85, 0.7, 0.8, 0.6, 0.65, 0.1, 0.2, 0.9, 0.3, 0.4, 0.5]),
      vals(i64, [], [2]), vals(f32, [], [0.4]), vals(f32, [], [0.25]),
    ],
    outs: [i64] },
];

defineOracleSuite('shape kernels', SHAPE_SPECS);
defineOracleSuite('indexing kernels', INDEX_SPECS);
defineOracleSuite('resize kernels', RESIZE_SPECS);
defineOracleSuite('grid-sample kernel', GRID_SPECS);
defineOracleSuite('nms kernel', NMS_SPECS);
