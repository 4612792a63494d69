/**
 * Converted Keras graphs written as ONNX: valid for onnx.checker (full_check) and giving
 * tfjs-layers' outputs under onnxruntime-node too, an implementation of the ONNX semantics that
 * is not ours (LSTM/GRU/RNN activations and their alpha/beta, Scan bodies reading outer weights,
 * ConvTranspose pads, Resize modes, pooling pads).
 */
import { describe, it } from 'vitest';
import { checkModel, oneLayer, randomizeWeights, seeded, tfl } from './harness.js';

const base = { recurrentInitializer: 'glorotUniform' };

describe('Keras conversions exported to ONNX and run by onnxruntime', () => {
  it('CNN: Conv2D same/stride, BatchNormalization, pooling with same padding, transposed conv, upsampling', async () => {
    const m = tfl.sequential();
    m.add(tfl.layers.conv2d({ inputShape: [9, 8, 3], filters: 4, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu' }));
    m.add(tfl.layers.batchNormalization());
    m.add(tfl.layers.averagePooling2d({ poolSize: 3, strides: 1, padding: 'same' }));
    m.add(tfl.layers.depthwiseConv2d({ kernelSize: 3, depthMultiplier: 2, padding: 'same' }));
    m.add(tfl.layers.conv2dTranspose({ filters: 3, kernelSize: 3, strides: 2, padding: 'same' }));
    m.add(tfl.layers.upSampling2d({ size: [2, 2] }));
    m.add(tfl.layers.zeroPadding2d({ padding: [[1, 0], [0, 1]] }));
    m.add(tfl.layers.maxPooling2d({ poolSize: 3, strides: 2, padding: 'same' }));
    m.add(tfl.layers.flatten());
    m.add(tfl.layers.dense({ units: 4, activation: 'softmax' }));
    randomizeWeights(m);
    await checkModel(m, { onnx: true });
  });

  it('LSTM/GRU/SimpleRNN through the ONNX ops with hard_sigmoid, linear, elu, relu activations and go_backwards', async () => {
    const m = tfl.sequential();
    m.add(tfl.layers.lstm({ ...base, inputShape: [6, 3], units: 4, returnSequences: true, recurrentActivation: 'hardSigmoid', activation: 'elu' } as never));
    m.add(tfl.layers.gru({ ...base, units: 4, returnSequences: true, goBackwards: true, recurrentActivation: 'hardSigmoid', activation: 'linear' } as never));
    m.add(tfl.layers.bidirectional({ layer: tfl.layers.simpleRNN({ ...base, units: 3, activation: 'relu', returnSequences: true } as never) as never, mergeMode: 'concat' }));
    m.add(tfl.layers.timeDistributed({ layer: tfl.layers.dense({ units: 2 }) }));
    randomizeWeights(m);
    await checkModel(m, { onnx: true });
  });

  it('masked Embedding -> LSTM -> GRU through Scan, with a Keras-only activation', async () => {
    const m = tfl.sequential();
    m.add(tfl.layers.embedding({ inputDim: 8, outputDim: 3, maskZero: true, inputLength: 6 }));
    m.add(tfl.layers.lstm({ ...base, units: 4, returnSequences: true } as never));
    m.add(tfl.layers.gru({ ...base, units: 3, activation: 'selu' } as never));
    randomizeWeights(m);
    await checkModel(m, { onnx: true, inputValues: [Float32Array.from([3, 1, 4, 0, 0, 0, 0, 5, 0, 2, 6, 7])] });
  });

  it('activations and merges', async () => {
    const a = tfl.input({ shape: [6] });
    const b = tfl.input({ shape: [6] });
    const x = tfl.layers.dense({ units: 6, activation: 'gelu' }).apply(a) as tfl.SymbolicTensor;
    const y = tfl.layers.dense({ units: 6, activation: 'mish' }).apply(b) as tfl.SymbolicTensor;
    const d = tfl.layers.dot({ axes: 1, normalize: true }).apply([x, y]) as tfl.SymbolicTensor;
    const c = tfl.layers.concatenate().apply([tfl.layers.maximum().apply([x, y]) as tfl.SymbolicTensor, d]) as tfl.SymbolicTensor;
    const out = tfl.layers.layerNormalization().apply(tfl.layers.prelu({}).apply(c) as tfl.SymbolicTensor) as tfl.SymbolicTensor;
    const m = tfl.model({ inputs: [a, b], outputs: out });
    randomizeWeights(m);
    await checkModel(m, { onnx: true, inputValues: [seeded(12, 1), seeded(12, 2)] });
    await checkModel(oneLayer([4, 3, 2], tfl.layers.upSampling2d({ size: [2, 3], interpolation: 'bilinear' })), { onnx: true, kerasVersion: 'tfjs-layers 4.22.0' });
  });
});
