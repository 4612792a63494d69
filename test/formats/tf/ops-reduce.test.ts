/**
 * TF reduction converters (ops/reduce.ts) against the tfjs-converter oracle on seeded random
 * inputs (axes as Const int32/int64, negative axes, keep_dims both ways), and numpy where tfjs
 * differs from TF (integer Mean truncates in TF; empty axes lists reduce nothing in TF).
 */
import { describe, expect, it } from 'vitest';
import { Tensor, type DType } from '../../../src/ir/tensor.js';
import { hasPython } from '../../helpers/cli.js';
import { expectNumpy, expectOracle, rand, runOurs, type OpCase } from './op-harness.js';

function red(op: string, x: Tensor, axes: number[] | number, keep: boolean, axesType: DType = 'int32', constant = true): OpCase {
  const a = Array.isArray(axes) ? Tensor.fromArray(axesType, [axes.length], axes) : Tensor.fromArray(axesType, [], [axes]);
  return { op, inputs: [{ name: 'x', value: x }, { name: 'axes', value: a, constant }], attrs: { keep_dims: keep, Tidx: axesType } };
}

describe('reductions vs tfjs-converter', () => {
  const x = rand('float32', [2, 3, 4, 5], 1, -3, 3);
  const shapes: [number[] | number, boolean][] = [[[1], false], [[-1], true], [[0, 2], false], [[1, 3], true], [2, false], [[0, 1, 2, 3], false]];
  for (const op of ['Sum', 'Mean', 'Max', 'Min', 'Prod']) {
    for (const [axes, keep] of shapes) {
      it(`${op} axes ${JSON.stringify(axes)} keep_dims ${keep}`, async () => {
        await expectOracle(red(op, x, axes, keep), { atol: 2e-6, rtol: 2e-6, dtypes: ['float32'] });
      });
    }
  }
  it('int64 axes', async () => {
    await expectOracle(red('Sum', x, [-2, 0], true, 'int64'), { atol: 2e-6 });
    await expectOracle(red('Max', x, [3], false, 'int64'));
  });
  it('Sum with axes from a Placeholder (ReduceSum takes axes as an input)', async () => {
    await expectOracle(red('Sum', x, [0, 3], false, 'int32', false), { atol: 2e-6 });
  });
  it('int32 Sum / Max / Min / Prod', async () => {
    const xi = rand('int32', [3, 4, 2], 2, -5, 5);
    for (const op of ['Sum', 'Max', 'Min', 'Prod']) await expectOracle(red(op, xi, [1], false), { dtypes: ['int32'] });
  });
  it('All / Any over bool', async () => {
    const b = rand('bool', [3, 4, 2], 3);
    for (const op of ['All', 'Any']) {
      await expectOracle(red(op, b, [1], false), { dtypes: ['bool'] });
      await expectOracle(red(op, b, [0, 2], true), { dtypes: ['bool'] });
    }
  });
  it('ArgMax / ArgMin with int64 (default) and int32 output_type', async () => {
    const xi = Tensor.fromArray('float32', [3, 5], Array.from(rand('int32', [3, 5], 4, 0, 3).toFloat64())); // ties
    for (const op of ['ArgMax', 'ArgMin']) {
      const c64 = { op, inputs: [{ name: 'x', value: xi }, { name: 'd', value: Tensor.fromArray('int32', [], [1]), constant: true }] };
      await expectOracle(c64, { dtypes: ['int64'] });
      const c32 = { ...c64, attrs: { output_type: 'int32' as const }, inputs: [c64.inputs[0]!, { name: 'd', value: Tensor.fromArray('int32', [], [-2]), constant: true }] };
      await expectOracle(c32, { dtypes: ['int32'] });
    }
  });
  it('EuclideanNorm', async () => {
    // tfjs-converter supports EuclideanNorm since 2.x.
    await expectOracle(red('EuclideanNorm', x, [1, 2], false), { atol: 2e-6, rtol: 2e-6 });
    await expectOracle(red('EuclideanNorm', x, [-1], true), { atol: 2e-6, rtol: 2e-6 });
  });
});

describe.skipIf(!hasPython('numpy'))('reductions vs numpy', () => {
  it('integer Mean truncates toward zero (TF), int32 and int64', async () => {
    const xi = rand('int32', [3, 4, 5], 5, -20, 20);
    await expectNumpy(red('Mean', xi, [1], false), 'out = np.trunc(x.sum(axis=1) / 4).astype(np.int32)', { dtype: 'int32' });
    await expectNumpy(red('Mean', xi, [0, 2], true), 'out = np.trunc(x.sum(axis=(0, 2), keepdims=True) / 15).astype(np.int32)', { dtype: 'int32' });
    const x64 = rand('int64', [4, 6], 6, -1000, 1000);
    await expectNumpy(red('Mean', x64, [-1], false, 'int64'), 'out = np.trunc(x.sum(axis=-1) / 6).astype(np.int64)', { dtype: 'int64' });
  });
  it('an empty axes list reduces nothing', async () => {
    const x = rand('float32', [2, 3], 7);
    for (const op of ['Sum', 'Mean', 'Max', 'Prod']) await expectNumpy(red(op, x, [], false), 'out = x', { dtype: 'float32' });
    await expectNumpy(red('Any', rand('bool', [2, 3], 8), [], false), 'out = x', { dtype: 'bool' });
  });
  it('Prod and Sum over int64', async () => {
    const x64 = rand('int64', [3, 4], 9, -6, 6);
    await expectNumpy(red('Prod', x64, [1], false, 'int64'), 'out = x.prod(axis=1)', { dtype: 'int64' });
    await expectNumpy(red('Sum', x64, [0], true, 'int64'), 'out = x.sum(axis=0, keepdims=True)', { dtype: 'int64' });
  });
});

describe('reduction errors', () => {
  it('Mean with non-constant axes names the node', async () => {
    await expect(runOurs(red('Mean', rand('float32', [2, 3], 1), [1], false, 'int32', false))).rejects.toThrow(/reduction axes/);
  });
});
