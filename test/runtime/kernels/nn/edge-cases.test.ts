/**
 * Edge cases of the nn kernels checked against numpy: string and bool tensors, zero-size shapes,
 * opset-18 attributes (Split num_outputs, scatter max/min, CenterCropPad), every Constant
 * attribute form, training-mode BatchNormalization statistics and even-size LRN windows.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { Graph, attr } from '../../../../src/ir/graph.js';
import { Tensor } from '../../../../src/ir/tensor.js';
import { useBackend } from '../../../../src/runtime/backends.js';
import { nnKernels } from '../../../../src/runtime/kernels/nn/index.js';
import { compareAll, describeReport, rand, runKernel, vals, type Spec } from './ort-oracle.js';
import { HAVE_NUMPY, numpyExpected } from './numpy-oracle.js';

const f32 = 'float32' as const;
const i64 = 'int64' as const;
const ints = attr.ints;
const int = attr.int;
const str = attr.string;

interface NpSpec extends Spec {
  py: string;
}

const strs = (shape: number[], values: string[]) => Tensor.fromStrings(shape, values);
const WORDS = ['ab', 'c', '', 'déjà', 'z', 'ab', 'q', 'c', 'xy', 'ab', 'k', 'm'];

const SPECS: NpSpec[] = [
  // Strings
  { name: 'Gather strings axis 1', op: 'Gather', attrs: { axis: int(1) }, inputs: [strs([3, 4], WORDS), vals(i64, [2], [3, -4])], outs: ['string'], py: 'np.take(x0, x1.astype(np.int64) % 4, axis=1)' },
  { name: 'Concat strings axis 1', op: 'Concat', attrs: { axis: int(1) }, inputs: [strs([2, 3], WORDS.slice(0, 6)), strs([2, 1], ['u', 'v'])], outs: ['string'], py: 'np.concatenate([x0, x1], axis=1)' },
  { name: 'Transpose strings', op: 'Transpose', attrs: { perm: ints([1, 0, 2]) }, inputs: [strs([2, 3, 2], WORDS)], outs: ['string'], py: 'np.transpose(x0, (1, 0, 2))' },
  { name: 'Reshape strings', op: 'Reshape', inputs: [strs([3, 4], WORDS), vals(i64, [2], [2, -1])], outs: ['string'], py: 'x0.reshape(2, -1)' },
  { name: 'Compress strings flattened', op: 'Compress', inputs: [strs([3, 4], WORDS), vals('bool', [5], [true, false, true, true, false])], outs: ['string'], py: 'np.compress(x1, x0.ravel())' },
  { name: 'Unique strings', op: 'Unique', inputs: [strs([12], WORDS.map((w) => (w === 'déjà' ? 'dj' : w)))], outs: ['string', i64, i64, i64],
    py: 'tuple(np.unique(x0, return_index=True, return_inverse=True, return_counts=True))' },
  // Bool and zero-size
  { name: 'Pad bool with true', op: 'Pad', inputs: [rand([2, 3], 1, 0, 1, 'bool'), vals(i64, [4], [1, 0, 0, 2]), vals('bool', [], [true])], outs: ['bool'], py: 'np.pad(x0, ((1, 0), (0, 2)), constant_values=True)' },
  { name: 'Concat bool', op: 'Concat', attrs: { axis: int(0) }, inputs: [rand([1, 3], 2, 0, 1, 'bool'), rand([2, 3], 3, 0, 1, 'bool')], outs: ['bool'], py: 'np.concatenate([x0, x1])' },
  { name: 'NonZero bool', op: 'NonZero', inputs: [rand([3, 4], 4, 0, 1, 'bool')], outs: [i64], py: 'np.array(np.nonzero(x0))' },
  { name: 'Expand to a zero-size shape', op: 'Expand', inputs: [rand([1, 3], 5), vals(i64, [2], [0, 3])], outs: [f32], py: 'np.broadcast_to(x0, (0, 3))' },
  { name: 'Tile with a zero repeat', op: 'Tile', inputs: [rand([2, 3], 6), vals(i64, [2], [0, 2])], outs: [f32], py: 'np.tile(x0, (0, 2))' },
  { name: 'Slice reversing every axis with INT_MAX bounds', op: 'Slice',
    inputs: [rand([3, 4], 7), vals(i64, [2], [-1, 2147483647]), vals(i64, [2], [-2147483648, -2147483648]), vals(i64, [2], [0, 1]), vals(i64, [2], [-1, -2])],
    outs: [f32], py: 'x0[::-1, ::-2]' },
  { name: 'Shape of a scalar', op: 'Shape', inputs: [vals(f32, [], [3])], outs: [i64], py: 'np.array(np.shape(x0), dtype=np.int64)' },
  { name: 'Size of an empty tensor', op: 'Size', inputs: [rand([2, 0, 3], 8)], outs: [i64], py: 'np.int64(x0.size)' },
  { name: 'Unsqueeze a scalar', op: 'Unsqueeze', inputs: [vals(f32, [], [2.5]), vals(i64, [2], [0, -1])], outs: [f32], py: 'x0.reshape(1, 1)' },
  { name: 'Gather from an empty index list', op: 'Gather', inputs: [rand([3, 2], 9), vals(i64, [0], [])], outs: [f32], py: 'x0[[]]' },
  // Opset-18 attributes and forms
  { name: 'Split num_outputs uneven', op: 'Split', attrs: { axis: int(1), num_outputs: int(3) }, inputs: [rand([2, 7], 10)], outs: [f32, f32, f32], py: 'tuple(np.split(x0, [3, 6], axis=1))' },
  { name: 'Split equal parts by output count', op: 'Split', inputs: [rand([6, 2], 11)], outs: [f32, f32, f32], py: 'tuple(np.split(x0, 3))' },
  { name: 'ScatterElements max', op: 'ScatterElements', attrs: { axis: int(1), reduction: str('max') },
    inputs: [rand([2, 4], 12), vals(i64, [2, 3], [0, 0, 3, 1, 1, 1]), rand([2, 3], 13)], outs: [f32],
    py: '(lambda d: ([np.maximum.at(d[r], x1[r], x2[r]) for r in range(2)], d)[1])(x0.copy())' },
  { name: 'ScatterND min', op: 'ScatterND', attrs: { reduction: str('min') },
    inputs: [rand([4, 2], 14), vals(i64, [3, 1], [2, 0, 2]), rand([3, 2], 15)], outs: [f32],
    py: '(lambda d: (np.minimum.at(d, x1[:, 0], x2), d)[1])(x0.copy())' },
  { name: 'Scatter (opset 9 name) as ScatterElements', op: 'Scatter', attrs: { axis: int(0) },
    inputs: [rand([3, 3], 16), vals(i64, [1, 3], [2, 0, 1]), rand([1, 3], 17)], outs: [f32],
    py: '(lambda d: (np.put_along_axis(d, x1, x2, axis=0), d)[1])(x0.copy())' },
  { name: 'CenterCropPad crop and pad', op: 'CenterCropPad', attrs: { axes: ints([0, 1]) },
    inputs: [rand([5, 4, 3], 18), vals(i64, [2], [3, 7])], outs: [f32], py: 'np.pad(x0[1:4], ((0, 0), (1, 2), (0, 0)))' },
  { name: 'CenterCropPad all axes', op: 'CenterCropPad', inputs: [rand([4, 6], 19), vals(i64, [2], [3, 3])], outs: [f32], py: 'x0[0:3, 1:4]' },
  { name: 'Pad wrap', op: 'Pad', attrs: { mode: str('wrap') }, inputs: [rand([3, 4], 20), vals(i64, [4], [1, 2, 2, 3])], outs: [f32], py: "np.pad(x0, ((1, 2), (2, 3)), mode='wrap')" },
  // Data-dependent and tensor-making ops
  { name: 'EyeLike bool', op: 'EyeLike', attrs: { dtype: int(9), k: int(2) }, inputs: [rand([3, 5], 21)], outs: ['bool'], py: 'np.eye(3, 5, k=2, dtype=bool)' },
  { name: 'OneHot int64 values on a scalar index', op: 'OneHot', inputs: [vals(i64, [], [2]), vals(i64, [], [4]), vals(i64, [2], [5, 9])], outs: [i64], py: 'np.where(np.arange(4) == 2, 9, 5)' },
  { name: 'Range float negative delta', op: 'Range', inputs: [vals(f32, [], [1]), vals(f32, [], [-1.1]), vals(f32, [], [-0.4])], outs: [f32], py: 'np.arange(1, -1.1, -0.4, dtype=np.float32)' },
  { name: 'Dropout in inference returns the input and an all-true mask', op: 'Dropout', inputs: [rand([2, 3], 22)], outs: [f32, 'bool'], py: '(x0, np.ones_like(x0, dtype=bool))' },
  { name: 'ReverseSequence strings', op: 'ReverseSequence', inputs: [strs([3, 4], WORDS), vals(i64, [4], [3, 1, 2, 0])], outs: ['string'],
    py: 'np.stack([np.concatenate([x0[:l, b][::-1], x0[l:, b]]) for b, l in enumerate(x1)], axis=1)' },
  // Normalisations
  { name: 'LRN even size', op: 'LRN', attrs: { size: int(4), alpha: attr.float(0.02), beta: attr.float(0.6), bias: attr.float(1.5) },
    inputs: [rand([2, 6, 3, 3], 23)], outs: [f32],
    py: 'x0 / (1.5 + 0.02 / 4 * np.stack([np.sum(np.square(x0[:, max(0, c - 1):min(6, c + 3)]), axis=1) for c in range(6)], axis=1)) ** 0.6' },
  { name: 'BatchNormalization training-mode statistics', op: 'BatchNormalization', attrs: { training_mode: int(1), momentum: attr.float(0.8) },
    inputs: [rand([3, 2, 4], 24), rand([2], 25), rand([2], 26), rand([2], 27), rand([2], 28, 0.5, 2)], outs: [f32, f32, f32],
    py: '(lambda m, v: ((x0 - m[None, :, None]) / np.sqrt(v[None, :, None] + 1e-5) * x1[None, :, None] + x2[None, :, None], x3 * 0.8 + m * 0.2, x4 * 0.8 + v * 0.2))(x0.mean(axis=(0, 2)), x0.var(axis=(0, 2)))' },
  { name: 'MeanVarianceNormalization default axes', op: 'MeanVarianceNormalization', inputs: [rand([2, 3, 4, 2], 29)], outs: [f32],
    py: '(x0 - x0.mean(axis=(0, 2, 3), keepdims=True)) / (x0.std(axis=(0, 2, 3), keepdims=True) + 1e-9)' },
];

const CONSTANT_FORMS: { name: string; attrs: Graph['nodes'][number]['attrs']; expect: Tensor }[] = [
  { name: 'value_float', attrs: { value_float: attr.float(1.25) }, expect: vals(f32, [], [1.25]) },
  { name: 'value_floats', attrs: { value_floats: attr.floats([1, -2.5, 3]) }, expect: vals(f32, [3], [1, -2.5, 3]) },
  { name: 'value_int', attrs: { value_int: attr.int(-7) }, expect: vals(i64, [], [-7]) },
  { name: 'value_ints', attrs: { value_ints: attr.ints([4, 0, -1]) }, expect: vals(i64, [3], [4, 0, -1]) },
  { name: 'value_string', attrs: { value_string: str('héllo') }, expect: strs([], ['héllo']) },
  { name: 'value_strings', attrs: { value_strings: attr.strings(['a', '', 'bc']) }, expect: strs([3], ['a', '', 'bc']) },
  { name: 'value (bool tensor)', attrs: { value: attr.tensor(vals('bool', [2], [true, false])) }, expect: vals('bool', [2], [true, false]) },
];

for (const backend of ['wasm', 'cpu']) {
  describe.skipIf(!HAVE_NUMPY)(`nn kernel edge cases vs numpy [${backend}]`, () => {
    let expected: Tensor[][] = [];
    beforeAll(async () => {
      await useBackend(backend);
      expected = numpyExpected(SPECS.map((s) => ({ inputs: s.inputs, py: s.py, outs: s.outs })));
    });
    SPECS.forEach((spec, i) => {
      it(spec.name, async () => {
        const got = await runKernel(spec, backend);
        for (const r of compareAll(got, expected[i]!, spec.atol ?? 1e-5, spec.rtol ?? 1e-4)) {
          expect(r.ok, `${spec.name} ${r.name}: ${describeReport(r)}`).toBe(true);
        }
      });
    });
  });

  describe(`Constant attribute forms [${backend}]`, () => {
    beforeAll(async () => { await useBackend(backend); });
    for (const c of CONSTANT_FORMS) {
      it(c.name, async () => {
        const got = await runKernel({ name: c.name, op: 'Constant', attrs: c.attrs, inputs: [], outs: [c.expect.dtype] }, backend);
        const [r] = compareAll(got, [c.expect], 0, 0);
        expect(r!.ok, describeReport(r!)).toBe(true);
      });
    }
  });
}

describe('check() refuses what the kernels cannot run', () => {
  const g = new Graph();
  const x = g.addInput('x', f32, [1, 1, 4, 4]);
  const reasons: [string, string, Graph['nodes'][number]['attrs'], RegExp][] = [
    ['Resize', 'antialias', { antialias: int(1) }, /antialias/],
    ['Resize', 'unknown mode', { mode: str('area') }, /mode 'area'/],
    ['Conv', '4-D kernel', { kernel_shape: ints([1, 1, 1, 1]) }, /4-D Conv/],
    ['Pad', 'unknown mode', { mode: str('symmetric') }, /mode 'symmetric'/],
    ['Constant', 'sparse value', { sparse_value: attr.int(0) }, /sparse_value/],
    ['LSTM', 'unknown activation', { activations: attr.strings(['Sigmoid', 'Gelu', 'Tanh']) }, /Gelu/],
    ['GRU', 'wrong activation count', { activations: attr.strings(['Sigmoid']) }, /expected 2/],
    ['ScatterND', 'unknown reduction', { reduction: str('avg') }, /reduction 'avg'/],
    ['DepthToSpace', 'unknown mode', { mode: str('XYZ') }, /mode 'XYZ'/],
    ['AveragePool', 'missing kernel_shape', {}, /kernel_shape/],
  ];
  for (const [op, what, attrs, re] of reasons) {
    it(`${op}: ${what}`, () => {
      const n = g.addNode(op, [x], 1, attrs);
      expect(nnKernels[op]!.check?.(n)).toMatch(re);
    });
  }
  it('accepts a plain Conv', () => {
    expect(nnKernels.Conv!.check?.(g.addNode('Conv', [x, x], 1, { kernel_shape: ints([3, 3]) }))).toBeUndefined();
  });
});
