/**
 * TF activation converters (ops/activation.ts) against the tfjs-converter oracle on seeded random
 * inputs; Selu against numpy with TF's constants too.
 */
import { describe, it } from 'vitest';
import { Tensor } from '../../../src/ir/tensor.js';
import { hasPython } from '../../helpers/cli.js';
import { expectNumpy, expectOracle, rand, type OpCase } from './op-harness.js';

const un = (op: string, x: Tensor, attrs?: OpCase['attrs']): OpCase => ({ op, inputs: [{ name: 'x', value: x }], attrs });

describe('activations vs tfjs-converter', () => {
  const x = rand('float32', [2, 3, 5], 1, -8, 8);
  for (const op of ['Relu', 'Relu6', 'Elu', 'Selu', 'Softplus', 'Sigmoid', 'Tanh', 'Softmax', 'LogSoftmax']) {
    it(op, async () => {
      await expectOracle(un(op, x), { atol: 1e-6, rtol: 2e-6, dtypes: ['float32'] });
    });
  }
  it('LeakyRelu with its alpha and with the default 0.2', async () => {
    await expectOracle(un('LeakyRelu', x, { alpha: 0.1 }));
    await expectOracle(un('LeakyRelu', x));
  });
  it('Relu and Relu6 on int32', async () => {
    const xi = rand('int32', [12], 2, -10, 12);
    await expectOracle(un('Relu', xi), { dtypes: ['int32'] });
    await expectOracle(un('Relu6', xi), { dtypes: ['int32'] });
  });
  it('Softmax of a rank-1 and a rank-4 tensor (last axis)', async () => {
    await expectOracle(un('Softmax', rand('float32', [7], 3, -5, 5)), { atol: 1e-6 });
    await expectOracle(un('LogSoftmax', rand('float32', [2, 2, 3, 4], 4, -5, 5)), { atol: 2e-6 });
  });
  it('ClipByValue with scalar bounds (Placeholders and Consts)', async () => {
    const c = (constant: boolean): OpCase => ({
      op: 'ClipByValue',
      inputs: [
        { name: 'x', value: x },
        { name: 'lo', value: Tensor.fromArray('float32', [], [-1.5]), constant },
        { name: 'hi', value: Tensor.fromArray('float32', [], [2.25]), constant },
      ],
    });
    await expectOracle(c(true));
    await expectOracle(c(false));
  });
});

describe.skipIf(!hasPython('numpy'))('activations vs numpy', () => {
  it('Selu with TF constants', async () => {
    await expectNumpy(un('Selu', rand('float32', [20], 8, -5, 5)),
      'a=1.6732632423543772848170429916717; s=1.0507009873554804934193349852946\nx=x.astype(np.float64); out = (s*np.where(x>0, x, a*np.expm1(x))).astype(np.float32)', { atol: 1e-6, rtol: 1e-6 });
  });
  it('ClipByValue with bounds shaped like the input (tfjs-converter reads only their first element)', async () => {
    await expectNumpy({
      op: 'ClipByValue',
      inputs: [{ name: 'x', value: rand('float32', [3, 4], 5, -4, 4) }, { name: 'lo', value: rand('float32', [3, 4], 6, -3, 0) }, { name: 'hi', value: rand('float32', [3, 4], 7, 0, 3) }],
    }, 'out = np.minimum(np.maximum(x, lo), hi)');
  });
  it('Softplus, Sigmoid and Tanh at extreme inputs stay finite', async () => {
    const x = Tensor.fromArray('float32', [6], [-100, -30, -1e-3, 1e-3, 30, 100]);
    await expectNumpy(un('Softplus', x), 'out = np.logaddexp(np.float32(0), x)', { atol: 1e-7, rtol: 1e-6 });
    await expectNumpy(un('Sigmoid', x), 'out = (1 / (1 + np.exp(-x.astype(np.float64)))).astype(np.float32)', { atol: 1e-7, rtol: 1e-6 });
    await expectNumpy(un('Tanh', x), 'out = np.tanh(x)', { atol: 1e-7, rtol: 1e-6 });
  });
  it('Softsign (tfjs has no Softsign kernel in the converter)', async () => {
    await expectNumpy(un('Softsign', rand('float32', [20], 9, -5, 5)), 'out = x / (1 + np.abs(x))', { atol: 1e-7, rtol: 1e-6 });
  });
});
