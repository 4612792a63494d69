/**
 * TF misc converters (ops/misc.ts): Cast, MatrixBandPart against the tfjs-converter oracle;
 * L2Loss, Bucketize, CheckNumerics, int64/float64 casts against numpy.
 */
import { describe, expect, it } from 'vitest';
import { Tensor, type DType } from '../../../src/ir/tensor.js';
import { hasPython } from '../../helpers/cli.js';
import { expectNumpy, expectOracle, rand, runOurs, type OpCase } from './op-harness.js';

const cast = (x: Tensor, to: DType, truncate = false): OpCase => ({
  op: 'Cast', inputs: [{ name: 'x', value: x }], typeAttr: false, attrs: { SrcT: x.dtype, DstT: to, Truncate: truncate },
});

describe('Cast vs tfjs-converter', () => {
  const f = rand('float32', [3, 5], 1, -6, 6);
  it('float32 -> int32 truncates toward zero', async () => {
    const out = await expectOracle(cast(f, 'int32'), { dtypes: ['int32'] });
    expect(Array.from(out[0]!.toFloat64())).toEqual(Array.from(f.toFloat64(), Math.trunc).map((v) => v + 0));
  });
  it('int32 -> float32, float32 -> bool, bool -> float32, bool -> int32', async () => {
    await expectOracle(cast(rand('int32', [7], 2, -100, 100), 'float32'), { dtypes: ['float32'] });
    const withZeros = Tensor.fromArray('float32', [5], [0, -0.0, 0.25, -3, 0]);
    const b = await expectOracle(cast(withZeros, 'bool'), { dtypes: ['bool'] });
    expect(Array.from(b[0]!.toFloat64())).toEqual([0, 0, 1, 1, 0]);
    await expectOracle(cast(rand('bool', [6], 3), 'float32'), { dtypes: ['float32'] });
    await expectOracle(cast(rand('bool', [6], 4), 'int32'), { dtypes: ['int32'] });
  });
  it('same dtype is an Identity', async () => {
    const { model } = await runOurs(cast(f, 'float32'));
    expect(model.graph.nodes.map((n) => n.op)).toEqual(['Identity']);
  });
});

describe.skipIf(!hasPython('numpy'))('Cast vs numpy (dtypes tfjs lacks)', () => {
  it('float32 -> int64, int64 -> float32, float64 -> float32, int32 -> int8 (wraps)', async () => {
    await expectNumpy(cast(rand('float32', [8], 5, -1e6, 1e6), 'int64'), 'out = x.astype(np.int64)', { dtype: 'int64' });
    await expectNumpy(cast(rand('int64', [8], 6, -1e6, 1e6), 'float32'), 'out = x.astype(np.float32)', { dtype: 'float32' });
    await expectNumpy(cast(rand('float64', [8], 7, -10, 10), 'float32'), 'out = x.astype(np.float32)', { dtype: 'float32' });
    await expectNumpy(cast(rand('int32', [8], 8, -1000, 1000), 'int8'), 'out = x.astype(np.int8)', { dtype: 'int8' });
  });
});

const band = (x: Tensor, lo: number, hi: number): OpCase => ({
  op: 'MatrixBandPart',
  inputs: [
    { name: 'x', value: x },
    { name: 'lo', value: Tensor.fromArray('int64', [], [lo]), constant: true },
    { name: 'hi', value: Tensor.fromArray('int64', [], [hi]), constant: true },
  ],
  attrs: { Tindex: 'int64' },
});

describe('MatrixBandPart', () => {
  const x = rand('float32', [2, 4, 5], 10);
  // tfjs-converter agrees with TF only for symmetric bands: it applies num_lower above the
  // diagonal and num_upper below it (swapped), so asymmetric bands are checked with numpy.
  for (const [lo, hi] of [[0, 0], [1, 1], [-1, -1]] as const) {
    it(`num_lower ${lo}, num_upper ${hi} vs tfjs-converter`, async () => {
      await expectOracle(band(x, lo, hi));
    });
  }
  for (const [lo, hi] of [[0, 0], [1, -1], [-1, 2], [2, 1], [-1, -1], [0, -1], [3, 0]] as const) {
    it.skipIf(!hasPython('numpy'))(`num_lower ${lo}, num_upper ${hi} vs numpy`, async () => {
      await expectNumpy(band(x, lo, hi), `lo, hi = ${lo}, ${hi}
m = np.arange(x.shape[-2])[:, None]; n = np.arange(x.shape[-1])[None, :]
mask = ((lo < 0) | (m - n <= lo)) & ((hi < 0) | (n - m <= hi))
out = np.where(mask, x, np.float32(0))`);
    });
  }
});

describe.skipIf(!hasPython('numpy'))('L2Loss, Bucketize, CheckNumerics vs numpy', () => {
  it('L2Loss = sum(x**2)/2', async () => {
    await expectNumpy({ op: 'L2Loss', inputs: [{ name: 'x', value: rand('float32', [3, 4, 5], 11) }] },
      'out = np.float32((x.astype(np.float64) ** 2).sum() / 2)', { atol: 1e-5, rtol: 1e-6 });
  });
  it('Bucketize: count of boundaries <= x, int32 (float and int input)', async () => {
    const boundaries = [-1, 0, 0.5, 2, 10];
    const xf = Tensor.fromArray('float32', [2, 5], [-3, -1, -0.5, 0, 0.5, 1, 2, 9.99, 10, 100]);
    await expectNumpy({ op: 'Bucketize', inputs: [{ name: 'x', value: xf }], attrs: { boundaries: { list: { f: boundaries } } } },
      `out = np.searchsorted(np.array(${JSON.stringify(boundaries)}, np.float32), x, side='right').astype(np.int32)`, { dtype: 'int32' });
    const xi = rand('int32', [7], 12, -3, 12);
    await expectNumpy({ op: 'Bucketize', inputs: [{ name: 'x', value: xi }], attrs: { boundaries: { list: { f: boundaries } } } },
      `out = np.searchsorted(np.array(${JSON.stringify(boundaries)}, np.float32), x.astype(np.float32), side='right').astype(np.int32)`, { dtype: 'int32' });
  });
  it('CheckNumerics passes its input through', async () => {
    await expectNumpy({ op: 'CheckNumerics', inputs: [{ name: 'x', value: rand('float32', [4], 13) }], attrs: { message: { s: new TextEncoder().encode('bad') } } }, 'out = x');
  });
});

describe('Assert', () => {
  it('converts to nothing (no outputs)', async () => {
    const { convertOneOp } = await import('./op-harness.js');
    const { placeholder, tfGraph, tfNode } = await import('../../helpers/tf-oracle.js');
    const g = tfGraph([
      placeholder('c', 'bool', []), placeholder('x', 'float32', [2]),
      tfNode('check', 'Assert', ['c', 'x'], { T: { list: { type: [1] } }, summarize: 3 }),
      tfNode('y', 'Relu', ['x', '^check'], { T: 'float32' }),
    ]);
    const m = convertOneOp(g, ['y']);
    expect(m.graph.nodes.map((n) => n.op)).toEqual(['Relu']);
  });
});
