/**
 * TF converters added to ops/nn.ts: fused depthwise convolutions (grappler's and tfjs's names,
 * every fused activation including Prelu), _FusedConv2D/_FusedMatMul with Prelu, tfjs's Prelu,
 * DepthwiseConv2d and Conv1D, against the tfjs-converter oracle.
 */
import { describe, expect, it } from 'vitest';
import { Tensor } from '../../../src/ir/tensor.js';
import { constNode, placeholder, runTfjsGraphOracle, tfAttr, tfGraph, tfNode } from '../../helpers/tf-oracle.js';
import type { TfAttr } from '../../../src/formats/tf/tf-graph.js';
import { expectClose, expectNumpy, expectOracle, rand, runOracle, runOurs, type OpCase } from './op-harness.js';
import { hasPython } from '../../helpers/cli.js';

const enc = new TextEncoder();
const strs = (s: string[]): TfAttr => ({ list: { s: s.map((x) => enc.encode(x)) } });

const x = rand('float32', [2, 7, 6, 3], 1);
const dwFilter = rand('float32', [3, 3, 3, 2], 2, -1, 1);
const bias6 = rand('float32', [6], 3, -0.5, 0.5);
const alpha6 = rand('float32', [6], 4, 0, 0.5);

function fusedDw(op: string, fused: string[], opts: { strides?: number[]; padding?: string; dilations?: number[]; extra?: Tensor[] } = {}): OpCase {
  const args = [bias6, ...(opts.extra ?? [])];
  return {
    op,
    inputs: [
      { name: 'x', value: x },
      { name: 'w', value: dwFilter, constant: true },
      ...args.slice(0, fused.includes('BiasAdd') ? args.length : 0).map((a, i) => ({ name: `arg${i}`, value: a, constant: true })),
    ],
    attrs: {
      strides: tfAttr.ints(opts.strides ?? [1, 1, 1, 1]),
      padding: tfAttr.s(opts.padding ?? 'SAME'),
      dilations: tfAttr.ints(opts.dilations ?? [1, 1, 1, 1]),
      data_format: tfAttr.s('NHWC'),
      fused_ops: strs(fused),
      num_args: fused.includes('BiasAdd') ? args.length : 0,
      ...(fused.includes('LeakyRelu') ? { leakyrelu_alpha: tfAttr.f(0.3) } : {}),
    },
  };
}

/**
 * The same computation unfused (DepthwiseConv2dNative, BiasAdd, then the activation as its own
 * node) in tfjs-converter: its fused kernel lacks tanh on the cpu backend and drops leakyrelu_alpha.
 */
async function unfusedOracle(c: OpCase, act: string): Promise<Tensor> {
  const a = c.attrs!;
  const nodes = [
    placeholder('x', 'float32', x.shape),
    constNode('w', dwFilter),
    constNode('b', bias6),
    tfNode('conv', 'DepthwiseConv2dNative', ['x', 'w'], { T: 'float32', strides: a.strides!, padding: a.padding!, dilations: a.dilations!, data_format: a.data_format! }),
    tfNode('bias', 'BiasAdd', ['conv', 'b'], { T: 'float32' }),
    tfNode('y', act, ['bias'], { T: 'float32', ...(act === 'LeakyRelu' ? { alpha: tfAttr.f(0.3) } : {}) }),
  ];
  return (await runTfjsGraphOracle(tfGraph(nodes), new Map(), { x }, ['y']))[0]!;
}

describe('fused depthwise convolutions vs tfjs-converter', () => {
  for (const act of ['LeakyRelu', 'Tanh']) {
    it(`FusedDepthwiseConv2dNative BiasAdd + ${act} (vs the unfused graph)`, async () => {
      const c = fusedDw('FusedDepthwiseConv2dNative', ['BiasAdd', act]);
      const { outputs } = await runOurs(c);
      expectClose(outputs[0]!, await unfusedOracle(c, act), act, 1e-4);
    });
  }
  for (const act of ['', 'Relu', 'Relu6', 'Elu', 'Sigmoid']) {
    it(`FusedDepthwiseConv2dNative BiasAdd${act ? ` + ${act}` : ''}`, async () => {
      await expectOracle(fusedDw('FusedDepthwiseConv2dNative', act ? ['BiasAdd', act] : ['BiasAdd']), { atol: 1e-4 });
    });
  }
  it('BiasAdd + Prelu (alpha per channel), stride 2, VALID', async () => {
    await expectOracle(fusedDw('FusedDepthwiseConv2dNative', ['BiasAdd', 'Prelu'], { extra: [alpha6], strides: [1, 2, 2, 1], padding: 'VALID' }), { atol: 1e-4 });
  });
  it('dilated, SAME', async () => {
    await expectOracle(fusedDw('FusedDepthwiseConv2dNative', ['BiasAdd', 'Relu'], { dilations: [1, 2, 2, 1] }), { atol: 1e-4 });
  });
  it("grappler's _FusedDepthwiseConv2dNative converts like tfjs's name", async () => {
    // tfjs-converter does not know the grappler name: the oracle runs the tfjs name.
    const c = fusedDw('_FusedDepthwiseConv2dNative', ['BiasAdd', 'Relu6']);
    const { outputs } = await runOurs(c);
    const [want] = await runOracle({ ...c, op: 'FusedDepthwiseConv2dNative' });
    expectClose(outputs[0]!, want!, 'grappler name', 1e-4);
  });
  it('an unknown fused op is refused by name', async () => {
    await expect(runOurs(fusedDw('FusedDepthwiseConv2dNative', ['BiasAdd', 'Swish']))).rejects.toThrow(/fused op Swish/);
  });
});

describe('_FusedConv2D and _FusedMatMul with Prelu vs tfjs-converter', () => {
  it('_FusedConv2D BiasAdd + Prelu', async () => {
    const w = rand('float32', [3, 3, 3, 5], 5, -1, 1);
    await expectOracle({
      op: '_FusedConv2D',
      inputs: [
        { name: 'x', value: x },
        { name: 'w', value: w, constant: true },
        { name: 'b', value: rand('float32', [5], 6), constant: true },
        { name: 'a', value: rand('float32', [5], 7, 0, 0.5), constant: true },
      ],
      attrs: { strides: tfAttr.ints([1, 1, 1, 1]), padding: tfAttr.s('SAME'), data_format: tfAttr.s('NHWC'), dilations: tfAttr.ints([1, 1, 1, 1]), fused_ops: strs(['BiasAdd', 'Prelu']), num_args: 2 },
    }, { atol: 1e-4 });
  });
  it('_FusedMatMul BiasAdd + Prelu', async () => {
    await expectOracle({
      op: '_FusedMatMul',
      inputs: [
        { name: 'a', value: rand('float32', [4, 6], 8) },
        { name: 'b', value: rand('float32', [6, 5], 9), constant: true },
        { name: 'bias', value: rand('float32', [5], 10), constant: true },
        { name: 'alpha', value: rand('float32', [5], 11, 0, 0.5), constant: true },
      ],
      attrs: { transpose_a: false, transpose_b: false, fused_ops: strs(['BiasAdd', 'Prelu']), num_args: 2 },
    }, { atol: 1e-4 });
  });
});

describe.skipIf(!hasPython('numpy'))('_FusedConv2D on NCHW data: per-channel operands on the channel axis (numpy)', () => {
  const xn = rand('float32', [2, 3, 6, 5], 30);
  const wn = rand('float32', [3, 3, 3, 4], 31, -1, 1);
  const conv = [
    'N, C, H, W = x.shape; kh, kw, ci, co = w.shape',
    'y = np.zeros((N, co, H - kh + 1, W - kw + 1), np.float32)',
    'for i in range(H - kh + 1):',
    '    for j in range(W - kw + 1):',
    '        y[:, :, i, j] = np.einsum("nchw,hwco->no", x[:, :, i:i + kh, j:j + kw], w)',
  ].join('\n');
  const attrs = (ops: string[], n: number) => ({
    strides: tfAttr.ints([1, 1, 1, 1]), padding: tfAttr.s('VALID'), data_format: tfAttr.s('NCHW'), dilations: tfAttr.ints([1, 1, 1, 1]), fused_ops: strs(ops), num_args: n,
  });
  it('BiasAdd + Prelu', async () => {
    await expectNumpy({
      op: '_FusedConv2D',
      inputs: [{ name: 'x', value: xn }, { name: 'w', value: wn, constant: true }, { name: 'b', value: rand('float32', [4], 32), constant: true }, { name: 'a', value: rand('float32', [4], 33, 0, 0.5), constant: true }],
      attrs: attrs(['BiasAdd', 'Prelu'], 2),
    }, `${conv}\ny = y + b[None, :, None, None]\nout = np.where(y > 0, y, y * a[None, :, None, None])`, { atol: 1e-4 });
  });
  it('FusedBatchNorm + Relu', async () => {
    await expectNumpy({
      op: '_FusedConv2D',
      inputs: [{ name: 'x', value: xn }, { name: 'w', value: wn, constant: true },
        { name: 's', value: rand('float32', [4], 34, 0.5, 2), constant: true }, { name: 'o', value: rand('float32', [4], 35), constant: true },
        { name: 'm', value: rand('float32', [4], 36), constant: true }, { name: 'v', value: rand('float32', [4], 37, 0.5, 2), constant: true }],
      attrs: { ...attrs(['FusedBatchNorm', 'Relu'], 4), epsilon: 0.001 },
    }, `${conv}\nc = lambda t: t[None, :, None, None]\nout = np.maximum((y - c(m)) * c(s) / np.sqrt(c(v) + np.float32(0.001)) + c(o), 0)`, { atol: 1e-4 });
  });
});

describe('Prelu, DepthwiseConv2d, Conv1D (tfjs op names) vs tfjs-converter', () => {
  it('Prelu with per-channel alpha and with a [1, 1, C] alpha', async () => {
    await expectOracle({ op: 'Prelu', inputs: [{ name: 'x', value: x }, { name: 'a', value: rand('float32', [3], 12, 0, 1), constant: true }] });
    await expectOracle({ op: 'Prelu', inputs: [{ name: 'x', value: x }, { name: 'a', value: rand('float32', [1, 1, 3], 13, 0, 1) }] });
  });
  it('DepthwiseConv2d, strides 2, SAME', async () => {
    await expectOracle({
      op: 'DepthwiseConv2d',
      inputs: [{ name: 'x', value: x }, { name: 'w', value: dwFilter, constant: true }],
      attrs: { strides: tfAttr.ints([1, 2, 2, 1]), padding: tfAttr.s('SAME'), dilations: tfAttr.ints([1, 1, 1, 1]), data_format: tfAttr.s('NHWC') },
    }, { atol: 1e-4 });
  });
  for (const [stride, padding, dilation] of [[1, 'VALID', 1], [2, 'SAME', 1], [1, 'SAME', 2]] as const) {
    it(`Conv1D stride ${stride} ${padding} dilation ${dilation}`, async () => {
      await expectOracle({
        op: 'Conv1D',
        inputs: [{ name: 'x', value: rand('float32', [2, 9, 3], 14) }, { name: 'w', value: rand('float32', [3, 3, 4], 15, -1, 1), constant: true }],
        attrs: { stride, padding: tfAttr.s(padding), dilation, data_format: tfAttr.s('NWC') },
      }, { atol: 1e-4 });
    });
  }
});

describe('_FusedConv2D with FusedBatchNorm (grappler) vs the unfused graph in tfjs-converter', () => {
  for (const act of ['', 'Relu']) {
    it(`Conv2D + FusedBatchNorm${act ? ` + ${act}` : ''}`, async () => {
      const w = rand('float32', [3, 3, 3, 4], 20, -1, 1);
      const [scale, offset, mean, variance] = [rand('float32', [4], 21, 0.5, 1.5), rand('float32', [4], 22), rand('float32', [4], 23), rand('float32', [4], 24, 0.2, 2)];
      const conv = { strides: tfAttr.ints([1, 2, 2, 1]), padding: tfAttr.s('SAME'), data_format: tfAttr.s('NHWC'), dilations: tfAttr.ints([1, 1, 1, 1]) };
      const c: OpCase = {
        op: '_FusedConv2D',
        inputs: [
          { name: 'x', value: x }, { name: 'w', value: w, constant: true }, { name: 'scale', value: scale!, constant: true },
          { name: 'offset', value: offset!, constant: true }, { name: 'mean', value: mean!, constant: true }, { name: 'var', value: variance!, constant: true },
        ],
        attrs: { ...conv, fused_ops: strs(act ? ['FusedBatchNorm', act] : ['FusedBatchNorm']), num_args: 4, epsilon: tfAttr.f(0.001) },
      };
      const { outputs } = await runOurs(c);
      const nodes = [
        placeholder('x', 'float32', x.shape), constNode('w', w), constNode('scale', scale!), constNode('offset', offset!), constNode('mean', mean!), constNode('var', variance!),
        tfNode('conv', 'Conv2D', ['x', 'w'], { T: 'float32', ...conv }),
        tfNode(act ? 'bn' : 'y', 'FusedBatchNormV3', ['conv', 'scale', 'offset', 'mean', 'var'], { T: 'float32', U: 'float32', epsilon: tfAttr.f(0.001), is_training: false, data_format: tfAttr.s('NHWC') }),
        ...(act ? [tfNode('y', act, ['bn'], { T: 'float32' })] : []),
      ];
      const [want] = await runTfjsGraphOracle(tfGraph(nodes), new Map(), { x }, ['y']);
      expectClose(outputs[0]!, want!, 'fused batch norm', 1e-4);
    });
  }
});
