/**
 * Convolutions and pooling against tfjs-layers: padding modes, strides, dilation, depthwise and
 * separable, transposed, channels_first; and the transpose pass leaving no Transpose between
 * consecutive convolutions.
 */
import { describe, expect, it } from 'vitest';
import { checkModel, countOps, oneLayer, randomizeWeights, tfl } from './harness.js';
import { checkAgainstPython, hasTorch } from './pyref.js';

describe('Keras convolutions vs tfjs-layers', () => {
  it('Conv1D: valid, same with stride 2, causal with dilation 2', async () => {
    for (const args of [
      { padding: 'valid', strides: 1 },
      { padding: 'same', strides: 2 },
      { padding: 'same', dilationRate: 3 },
    ] as const) {
      const m = oneLayer([9, 3], tfl.layers.conv1d({ filters: 4, kernelSize: 3, activation: 'tanh', ...args }));
      randomizeWeights(m);
      await checkModel(m);
    }
  });

  it('Conv2D: valid/same, strides (odd and even sizes), dilation, no bias, channels_first', async () => {
    for (const [shape, args] of [
      [[7, 6, 3], { padding: 'valid', strides: 1 }],
      [[7, 6, 3], { padding: 'same', strides: 2 }],
      [[8, 8, 3], { padding: 'same', strides: [2, 3] }],
      [[8, 7, 3], { padding: 'same', dilationRate: 2 }],
      [[8, 7, 3], { padding: 'valid', dilationRate: [2, 1], useBias: false }],
      [[3, 7, 6], { padding: 'same', strides: 2, dataFormat: 'channelsFirst' }],
    ] as [number[], Record<string, unknown>][]) {
      const m = oneLayer(shape, tfl.layers.conv2d({ filters: 5, kernelSize: [3, 2], activation: 'relu', ...args }));
      randomizeWeights(m);
      await checkModel(m);
    }
  });

  it('Conv2D with symbolic spatial dims uses SAME_UPPER padding', async () => {
    const m = oneLayer([null, null, 2], tfl.layers.conv2d({ filters: 3, kernelSize: 4, padding: 'same', strides: 2 }));
    randomizeWeights(m);
    const r = await checkModel(m);
    expect(r.graph.findNodesByOp('Conv')[0]!.attrString('auto_pad')).toBe('SAME_UPPER');
  });

  it('Conv3D same and valid', async () => {
    for (const padding of ['same', 'valid'] as const) {
      const m = oneLayer([5, 4, 6, 2], tfl.layers.conv3d({ filters: 3, kernelSize: [2, 3, 3], strides: [1, 2, 2], padding }));
      randomizeWeights(m);
      await checkModel(m);
    }
  });

  it('DepthwiseConv2D with depth_multiplier, strides and same padding', async () => {
    for (const args of [{ depthMultiplier: 2, padding: 'same', strides: 2 }, { depthMultiplier: 1, padding: 'valid' }] as const) {
      const m = oneLayer([7, 8, 3], tfl.layers.depthwiseConv2d({ kernelSize: 3, ...args }));
      randomizeWeights(m);
      await checkModel(m);
    }
  });

  it('SeparableConv2D with depth_multiplier', async () => {
    const m = oneLayer([7, 8, 3], tfl.layers.separableConv2d({ filters: 4, kernelSize: 3, depthMultiplier: 2, padding: 'same', activation: 'relu' }));
    randomizeWeights(m);
    await checkModel(m);
  });

  it('Conv2DTranspose valid/same with strides', async () => {
    for (const args of [
      { padding: 'valid', strides: 2, kernelSize: 3 },
      { padding: 'same', strides: 2, kernelSize: 3 },
      { padding: 'same', strides: 3, kernelSize: 2 },
      { padding: 'valid', strides: 3, kernelSize: 2 },
      { padding: 'same', strides: 1, kernelSize: 4 },
    ] as const) {
      const m = oneLayer([4, 5, 3], tfl.layers.conv2dTranspose({ filters: 2, ...args }));
      randomizeWeights(m);
      await checkModel(m);
    }
  });

  it('Conv2D -> Conv2D keeps no Transpose between the convolutions after optimisation', async () => {
    const m = tfl.sequential();
    m.add(tfl.layers.conv2d({ inputShape: [8, 8, 3], filters: 4, kernelSize: 3, padding: 'same', activation: 'relu' }));
    m.add(tfl.layers.batchNormalization());
    m.add(tfl.layers.maxPooling2d({ poolSize: 2 }));
    m.add(tfl.layers.conv2d({ filters: 5, kernelSize: 3, activation: 'relu' }));
    m.add(tfl.layers.globalAveragePooling2d({}));
    randomizeWeights(m);
    const r = await checkModel(m);
    const convs = r.graph.findNodesByOp('Conv');
    expect(convs.length).toBe(2);
    // Walk from the second conv back to the first: no Transpose on the way.
    let v = convs[1]!.inputs[0]!;
    const seen: string[] = [];
    while (v.producer && v.producer !== convs[0]) {
      seen.push(v.producer.op);
      v = v.producer.inputs[0]!;
    }
    expect(v.producer).toBe(convs[0]);
    expect(seen).not.toContain('Transpose');
    expect(countOps(r.graph, 'Transpose')).toBeLessThanOrEqual(2);
  });
});

describe('Keras pooling vs tfjs-layers', () => {
  it('MaxPooling1D/2D/3D and AveragePooling1D/2D/3D, valid and same (odd sizes)', async () => {
    const cases: [number[], () => tfl.layers.Layer][] = [
      [[7, 3], () => tfl.layers.maxPooling1d({ poolSize: 3, strides: 2, padding: 'same' })],
      [[7, 3], () => tfl.layers.averagePooling1d({ poolSize: 3, strides: 2, padding: 'same' })],
      [[7, 3], () => tfl.layers.averagePooling1d({ poolSize: 2, padding: 'valid' })],
      [[7, 5, 2], () => tfl.layers.maxPooling2d({ poolSize: [3, 2], strides: [2, 2], padding: 'same' })],
      [[7, 5, 2], () => tfl.layers.averagePooling2d({ poolSize: 3, strides: 2, padding: 'same' })],
      [[7, 5, 2], () => tfl.layers.averagePooling2d({ poolSize: 2, padding: 'valid' })],
      [[2, 7, 5], () => tfl.layers.maxPooling2d({ poolSize: 2, padding: 'same', dataFormat: 'channelsFirst' })],
      [[5, 5, 4, 2], () => tfl.layers.maxPooling3d({ poolSize: 2, padding: 'same' })],
      [[5, 5, 4, 2], () => tfl.layers.averagePooling3d({ poolSize: [2, 3, 2], strides: 2, padding: 'same' })],
    ];
    for (const [shape, make] of cases) await checkModel(oneLayer(shape, make()));
  });

  it('global pooling 1D/2D, channels_first', async () => {
    const cases: [number[], () => tfl.layers.Layer][] = [
      [[7, 3], () => tfl.layers.globalAveragePooling1d()],
      [[7, 3], () => tfl.layers.globalMaxPooling1d()],
      [[4, 5, 3], () => tfl.layers.globalAveragePooling2d({})],
      [[4, 5, 3], () => tfl.layers.globalMaxPooling2d({})],
      [[3, 4, 5], () => tfl.layers.globalMaxPooling2d({ dataFormat: 'channelsFirst' })],
      [[3, 4, 5], () => tfl.layers.globalAveragePooling2d({ dataFormat: 'channelsFirst' })],
    ];
    for (const [shape, make] of cases) await checkModel(oneLayer(shape, make()));
  });
});

const torchOk = hasTorch();
if (!torchOk) console.warn('keras layer tests: /usr/bin/python3 with torch and numpy not found; skipping the python-reference cases');

describe.skipIf(!torchOk)('Keras convolutions vs the torch reference (options tfjs-layers lacks)', () => {
  it('Conv1D causal (with dilation) and groups', async () => {
    await checkAgainstPython(([
      [{ filters: 4, kernel_size: [3], padding: 'causal', dilation_rate: [2], activation: 'relu' }, [3, 4, 4]],
      [{ filters: 4, kernel_size: [2], padding: 'causal', strides: [2] }, [2, 4, 4]],
      [{ filters: 6, kernel_size: [3], padding: 'same', groups: 2 }, [3, 2, 6]],
    ] as [Record<string, unknown>, number[]][]).map(([config, wshape]) =>
      ({ class_name: 'Conv1D', config, inputs: [[2, 9, 4]], weights: [['kernel', wshape], ['bias', [wshape[2]!]]] })));
  });

  it('Conv2D with groups and with strides and dilation together', async () => {
    await checkAgainstPython([{ class_name: 'Conv2D', config: { filters: 6, kernel_size: [3, 3], padding: 'same', groups: 3 }, inputs: [[2, 6, 5, 3]], weights: [['kernel', [3, 3, 1, 6]], ['bias', [6]]] },
      { class_name: 'Conv2D', config: { filters: 2, kernel_size: [3, 3], padding: 'same', strides: [2, 2], dilation_rate: [2, 2] }, inputs: [[2, 9, 8, 3]], weights: [['kernel', [3, 3, 3, 2]], ['bias', [2]]] }]);
  });

  it('DepthwiseConv2D with dilation, DepthwiseConv1D, SeparableConv1D', async () => {
    await checkAgainstPython([
      { class_name: 'DepthwiseConv2D', config: { kernel_size: [3, 3], depth_multiplier: 2, dilation_rate: [2, 2], padding: 'same' }, inputs: [[2, 7, 8, 3]], weights: [['depthwise_kernel', [3, 3, 3, 2]], ['bias', [6]]] },
      { class_name: 'DepthwiseConv1D', config: { kernel_size: [3], depth_multiplier: 3, strides: [2], padding: 'same' }, inputs: [[2, 9, 2]], weights: [['depthwise_kernel', [3, 2, 3]], ['bias', [6]]] },
      { class_name: 'SeparableConv1D', config: { filters: 4, kernel_size: [3], depth_multiplier: 2, padding: 'valid', activation: 'tanh' }, inputs: [[2, 9, 3]], weights: [['depthwise_kernel', [3, 3, 2]], ['pointwise_kernel', [1, 6, 4]], ['bias', [4]]] },
    ]);
  });

  it('Conv1D/2D/3DTranspose with output_padding, dilation and channels_first', async () => {
    const cases: [string, Record<string, unknown>, number[], number[]][] = [
      ['Conv2DTranspose', { filters: 3, kernel_size: [3, 3], strides: [2, 2], padding: 'same', output_padding: [1, 1] }, [2, 4, 5, 2], [3, 3, 3, 2]],
      ['Conv2DTranspose', { filters: 3, kernel_size: [3, 2], strides: [2, 3], padding: 'valid', output_padding: [1, 2] }, [2, 4, 5, 2], [3, 2, 3, 2]],
      ['Conv2DTranspose', { filters: 3, kernel_size: [3, 3], strides: [1, 1], padding: 'same', dilation_rate: [2, 2] }, [2, 4, 5, 2], [3, 3, 3, 2]],
      ['Conv2DTranspose', { filters: 3, kernel_size: [4, 4], strides: [2, 2], padding: 'same', data_format: 'channels_first' }, [2, 2, 4, 5], [4, 4, 3, 2]],
      ['Conv2DTranspose', { filters: 3, kernel_size: [5, 5], strides: [2, 2], padding: 'same', output_padding: [0, 1] }, [2, 4, 5, 2], [5, 5, 3, 2]],
      ['Conv1DTranspose', { filters: 2, kernel_size: [3], strides: [2], padding: 'same' }, [2, 6, 3], [3, 2, 3]],
      ['Conv1DTranspose', { filters: 2, kernel_size: [2], strides: [3], padding: 'valid' }, [2, 6, 3], [2, 2, 3]],
      ['Conv3DTranspose', { filters: 2, kernel_size: [2, 3, 3], strides: [2, 1, 2], padding: 'same' }, [2, 3, 4, 3, 2], [2, 3, 3, 2, 2]],
    ];
    await checkAgainstPython(cases.map(([cls, config, input, k]) =>
      ({ class_name: cls, config, inputs: [input], weights: [['kernel', k], ['bias', [k[k.length - 2]!]]] })), { onnx: true });
  });
});
