/**
 * TF converters in ops/space-batch.ts, creation.ts, scatter.ts, sorted-search.ts, cumulative.ts
 * and reverse.ts, against the tfjs-converter oracle (numpy where tfjs lacks the op); the random
 * ops by shape, dtype and statistics.
 */
import { describe, expect, it } from 'vitest';
import { Tensor, type DType } from '../../../src/ir/tensor.js';
import { run } from '../../../src/api.js';
import { importTfGraph } from '../../../src/formats/tf/import-graph.js';
import { Model } from '../../../src/ir/graph.js';
import { hasPython } from '../../helpers/cli.js';
import { constNode, placeholder, runTfjsGraphOracle, tfAttr, tfGraph, tfNode } from '../../helpers/tf-oracle.js';
import { expectClose, expectNumpy, expectOracle, rand, runOurs, type OpCase } from './op-harness.js';

const i32 = (shape: number[], v: number[]) => Tensor.fromArray('int32', shape, v);
const f32 = (shape: number[], v: number[]) => Tensor.fromArray('float32', shape, v);

describe('SpaceToBatchND / BatchToSpaceND vs tfjs-converter', () => {
  const s2b = (x: Tensor, block: number[], pads: number[]): OpCase => ({
    op: 'SpaceToBatchND',
    inputs: [{ name: 'x', value: x }, { name: 'block', value: i32([block.length], block), constant: true }, { name: 'pads', value: i32([block.length, 2], pads), constant: true }],
  });
  const b2s = (x: Tensor, block: number[], crops: number[]): OpCase => ({
    op: 'BatchToSpaceND',
    inputs: [{ name: 'x', value: x }, { name: 'block', value: i32([block.length], block), constant: true }, { name: 'crops', value: i32([block.length, 2], crops), constant: true }],
  });
  it('SpaceToBatchND 2-D block with padding', async () => {
    const [y] = await expectOracle(s2b(rand('float32', [2, 6, 5, 3], 1), [2, 2], [0, 2, 1, 0]));
    expect(y!.shape).toEqual([8, 4, 3, 3]);
  });
  it('SpaceToBatchND uneven blocks, no padding; 1-D block with trailing dims', async () => {
    await expectOracle(s2b(rand('float32', [1, 4, 6, 2], 2), [2, 3], [0, 0, 0, 0]));
    await expectOracle(s2b(rand('float32', [3, 4, 2, 2], 3), [3], [1, 1, 0, 0].slice(0, 2)));
  });
  it('BatchToSpaceND with crops, and without', async () => {
    const [y] = await expectOracle(b2s(rand('float32', [8, 3, 4, 2], 4), [2, 2], [0, 1, 1, 0]));
    expect(y!.shape).toEqual([2, 5, 7, 2]);
    await expectOracle(b2s(rand('float32', [6, 2, 3, 1], 5), [2, 3], [0, 0, 0, 0]));
  });
  it('int32 data', async () => {
    await expectOracle(s2b(rand('int32', [2, 4, 4, 1], 6, -50, 50), [2, 2], [1, 1, 1, 1]));
  });
  it('a non-constant block_shape is refused', async () => {
    const c = s2b(rand('float32', [1, 4, 4, 1], 7), [2, 2], [0, 0, 0, 0]);
    c.inputs[1]!.constant = false;
    await expect(runOurs(c)).rejects.toThrow(/block_shape/);
  });
});

describe('ScatterNd / TensorScatterUpdate vs tfjs-converter', () => {
  it('ScatterNd: rows, duplicate indices add up', async () => {
    const [y] = await expectOracle({
      op: 'ScatterNd',
      inputs: [
        { name: 'idx', value: i32([3, 1], [0, 2, 0]) },
        { name: 'upd', value: rand('float32', [3, 4], 8) },
        { name: 'shape', value: i32([2], [4, 4]), constant: true },
      ],
      attrs: { T: 'float32', Tindices: 'int32' },
    });
    expect(y!.shape).toEqual([4, 4]);
  });
  it('ScatterNd: element indices, int32 updates', async () => {
    await expectOracle({
      op: 'ScatterNd',
      inputs: [
        { name: 'idx', value: i32([3, 2], [0, 1, 2, 3, 1, 0]), constant: true },
        { name: 'upd', value: i32([3], [5, -7, 9]) },
        { name: 'shape', value: i32([2], [3, 4]), constant: true },
      ],
      attrs: { T: 'int32', Tindices: 'int32' },
    });
  });
  it('TensorScatterUpdate', async () => {
    await expectOracle({
      op: 'TensorScatterUpdate',
      inputs: [
        { name: 't', value: rand('float32', [4, 3, 2], 9) },
        { name: 'idx', value: i32([2, 2], [1, 2, 3, 0]) },
        { name: 'upd', value: rand('float32', [2, 2], 10) },
      ],
      attrs: { Tindices: 'int32' },
    });
  });
});

describe.skipIf(!hasPython('numpy'))('TensorScatterAdd / Sub vs numpy', () => {
  const inputs = [
    { name: 't', value: rand('float32', [5, 3], 11) },
    { name: 'idx', value: i32([4, 1], [1, 4, 1, 0]) },
    { name: 'upd', value: rand('float32', [4, 3], 12) },
  ];
  it('TensorScatterAdd (duplicates accumulate)', async () => {
    await expectNumpy({ op: 'TensorScatterAdd', inputs, attrs: { Tindices: 'int32' } }, 'out = t.copy(); np.add.at(out, idx[:, 0], upd)');
  });
  it('TensorScatterSub', async () => {
    await expectNumpy({ op: 'TensorScatterSub', inputs, attrs: { Tindices: 'int32' } }, 'out = t.copy(); np.subtract.at(out, idx[:, 0], upd)');
  });
});

describe('LinSpace, Ones, Zeros vs tfjs-converter', () => {
  for (const [a, b, n] of [[1.5, -3, 7], [0, 1, 2], [2, 10, 1], [-1, 1, 11]] as const) {
    it(`LinSpace(${a}, ${b}, ${n})`, async () => {
      const [y] = await expectOracle({
        op: 'LinSpace',
        inputs: [{ name: 'a', value: f32([], [a]) }, { name: 'b', value: f32([], [b]) }, { name: 'n', value: i32([], [n]), constant: true }],
        attrs: { Tidx: 'int32' },
      });
      expect(y!.shape).toEqual([n]);
      expect(y!.toFloat64()[n - 1]).toBeCloseTo(n === 1 ? a : b, 6);
    });
  }
  for (const op of ['Ones', 'Zeros']) {
    for (const d of ['float32', 'int32'] as DType[]) {
      it(`${op} ${d}`, async () => {
        const [y] = await expectOracle({ op, inputs: [{ name: 's', value: i32([3], [2, 3, 1]), constant: true }], attrs: { T: d } }, { dtypes: [d] });
        expect(Array.from(y!.toFloat64())).toEqual(new Array(6).fill(op === 'Ones' ? 1 : 0));
      });
    }
  }
});

function stats(t: Tensor): { mean: number; std: number; min: number; max: number } {
  const v = Array.from(t.toFloat64());
  const mean = v.reduce((a, b) => a + b, 0) / v.length;
  const std = Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / v.length);
  return { mean, std, min: Math.min(...v), max: Math.max(...v) };
}

describe('RandomStandardNormal, TruncatedNormal (shape, dtype, statistics)', () => {
  const shape = { name: 's', value: i32([2], [100, 80]), constant: true };
  it('RandomStandardNormal: mean 0, std 1; a seed makes it repeatable', async () => {
    const c: OpCase = { op: 'RandomStandardNormal', inputs: [shape], attrs: { dtype: 'float32', T: 'int32', seed: 5, seed2: 7 } };
    const { outputs: [a] } = await runOurs(c);
    const { outputs: [b] } = await runOurs(c);
    expect(a!.shape).toEqual([100, 80]);
    expect(a!.dtype).toBe('float32');
    const s = stats(a!);
    expect(Math.abs(s.mean)).toBeLessThan(0.05);
    expect(Math.abs(s.std - 1)).toBeLessThan(0.05);
    expect(s.max).toBeGreaterThan(3);
    expect(Array.from(a!.toFloat64())).toEqual(Array.from(b!.toFloat64()));
  });
  it('TruncatedNormal: within [-2, 2], mean 0, std of the truncated normal (0.8796)', async () => {
    const { outputs: [a] } = await runOurs({ op: 'TruncatedNormal', inputs: [shape], attrs: { dtype: 'float32', T: 'int32', seed: 3 } });
    expect(a!.shape).toEqual([100, 80]);
    const s = stats(a!);
    expect(s.min).toBeGreaterThanOrEqual(-2);
    expect(s.max).toBeLessThanOrEqual(2);
    expect(s.max).toBeGreaterThan(1.9);
    expect(Math.abs(s.mean)).toBeLessThan(0.05);
    expect(Math.abs(s.std - 0.8796)).toBeLessThan(0.03);
  });
});

describe('Cumprod, Reverse, LowerBound/UpperBound vs tfjs-converter', () => {
  const x = rand('float32', [3, 5, 2], 13, 0.5, 1.5);
  for (const exclusive of [false, true]) {
    for (const reverse of [false, true]) {
      it(`Cumprod exclusive=${exclusive} reverse=${reverse}`, async () => {
        await expectOracle({ op: 'Cumprod', inputs: [{ name: 'x', value: x }, { name: 'axis', value: i32([], [1]), constant: true }], attrs: { exclusive, reverse, Tidx: 'int32' } });
      });
    }
  }
  it('Cumprod of int32 values', async () => {
    await expectOracle({ op: 'Cumprod', inputs: [{ name: 'x', value: rand('int32', [2, 4], 14, -3, 4) }, { name: 'axis', value: i32([], [1]), constant: true }], attrs: { Tidx: 'int32' } });
  });
  // tfjs-converter's cumprod fails on a negative axis: numpy.
  it.skipIf(!hasPython('numpy'))('Cumprod on a negative axis, exclusive and reverse, vs numpy', async () => {
    const y = rand('float32', [2, 3, 4], 15, -2, 2);
    await expectNumpy({ op: 'Cumprod', inputs: [{ name: 'x', value: y }, { name: 'axis', value: i32([], [-2]), constant: true }], attrs: { exclusive: true, reverse: true, Tidx: 'int32' } },
      'r = np.flip(x, 1); c = np.cumprod(r, axis=1); c = np.concatenate([np.ones_like(c[:, :1]), c[:, :-1]], axis=1); out = np.flip(c, 1)');
  });
  it('Reverse (bool dims)', async () => {
    await expectOracle({ op: 'Reverse', inputs: [{ name: 'x', value: x }, { name: 'd', value: Tensor.fromArray('bool', [3], [true, false, true]), constant: true }] });
    await expectOracle({ op: 'Reverse', inputs: [{ name: 'x', value: x }, { name: 'd', value: Tensor.fromArray('bool', [3], [false, false, false]), constant: true }] });
  });
  const sorted = f32([2, 6], [-1, 0, 0, 2, 5, 5, 1, 1, 1, 3, 4, 9]);
  const values = f32([2, 5], [-2, 0, 2, 5, 6, 1, 0.5, 3, 9, 10]);
  for (const op of ['LowerBound', 'UpperBound']) {
    it(`${op} with ties`, async () => {
      await expectOracle({ op, inputs: [{ name: 's', value: sorted }, { name: 'v', value: values }], attrs: { out_type: 'int32' } }, { dtypes: ['int32'] });
    });
  }
});

describe('a TF1 dilated convolution (SpaceToBatchND, Conv2D, BatchToSpaceND) vs tfjs-converter', () => {
  it('rate 2, SAME, through the whole importer', async () => {
    const x = rand('float32', [1, 9, 10, 2], 30);
    const w = rand('float32', [3, 3, 2, 4], 31, -1, 1);
    // What tf.nn.atrous_conv2d builds for a 9x10 input and rate 2 (paddings to a multiple of the rate, plus the kernel's reach).
    const graph = tfGraph([
      placeholder('x', 'float32', [1, 9, 10, 2]),
      constNode('w', w),
      constNode('block', i32([2], [2, 2])),
      constNode('pads', i32([2, 2], [2, 3, 2, 2])),
      constNode('crops', i32([2, 2], [0, 1, 0, 0])),
      tfNode('s2b', 'SpaceToBatchND', ['x', 'block', 'pads'], { T: 'float32', Tblock_shape: 'int32', Tpaddings: 'int32' }),
      tfNode('conv', 'Conv2D', ['s2b', 'w'], { T: 'float32', strides: tfAttr.ints([1, 1, 1, 1]), padding: tfAttr.s('VALID'), data_format: tfAttr.s('NHWC'), dilations: tfAttr.ints([1, 1, 1, 1]) }),
      tfNode('y', 'BatchToSpaceND', ['conv', 'block', 'crops'], { T: 'float32', Tblock_shape: 'int32', Tcrops: 'int32' }),
    ]);
    const [want] = await runTfjsGraphOracle(graph, new Map(), { x }, ['y']);
    const model = new Model(importTfGraph(graph, { outputs: ['y'] }), { format: 'tf' });
    const out = await run(model, new Map([['x', x]]));
    const got = out.outputs.get(model.graph.outputs[0]!.name)!;
    expect(got.shape).toEqual([1, 9, 10, 4]);
    expectClose(got, want!, 'atrous conv', 1e-4);
  });
});
