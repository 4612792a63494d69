/**
 * Core layers against tfjs-layers: Dense (inline activations, 3-D input, no bias), Flatten,
 * Reshape, Permute, RepeatVector, the dropout/noise identities, Embedding, Masking, Rescaling.
 */
import { describe, expect, it } from 'vitest';
import { checkModel, oneLayer, randomizeWeights, seeded, tfl } from './harness.js';

describe('Keras core layers vs tfjs-layers', () => {
  it('Dense with bias and relu on a 2-D input', async () => {
    const m = oneLayer([5], tfl.layers.dense({ units: 4, activation: 'relu' }));
    randomizeWeights(m);
    await checkModel(m);
  });

  it('Dense without bias on a 3-D input, softmax', async () => {
    const m = oneLayer([3, 5], tfl.layers.dense({ units: 4, useBias: false, activation: 'softmax' }));
    randomizeWeights(m);
    await checkModel(m);
  });

  it('Dense with every tfjs activation inline', async () => {
    for (const activation of ['elu', 'selu', 'sigmoid', 'hardSigmoid', 'softplus', 'softsign', 'tanh', 'relu6', 'linear', 'swish', 'mish', 'gelu', 'gelu_new', 'logSoftmax'] as const) {
      const m = oneLayer([6], tfl.layers.dense({ units: 5, activation: activation as never }));
      randomizeWeights(m, 3);
      // tfjs-layers writes hard_sigmoid with Keras 2 semantics (0.2x + 0.5).
      await checkModel(m, { range: [-4, 4] });
    }
  });

  it('Flatten, Reshape, Permute, RepeatVector', async () => {
    const m = tfl.sequential();
    m.add(tfl.layers.permute({ dims: [2, 1, 3], inputShape: [2, 3, 4] }));
    m.add(tfl.layers.flatten());
    m.add(tfl.layers.reshape({ targetShape: [4, 3, 2] }));
    m.add(tfl.layers.reshape({ targetShape: [-1] }));
    m.add(tfl.layers.repeatVector({ n: 3 }));
    await checkModel(m);
  });

  it('dropout and noise layers are identities at inference', async () => {
    const m = tfl.sequential();
    m.add(tfl.layers.dropout({ rate: 0.5, inputShape: [4, 6] }));
    m.add(tfl.layers.spatialDropout1d({ rate: 0.3 }));
    m.add(tfl.layers.gaussianNoise({ stddev: 1 }));
    m.add(tfl.layers.gaussianDropout({ rate: 0.4 }));
    m.add(tfl.layers.alphaDropout({ rate: 0.2 }));
    const r = await checkModel(m);
    expect(r.graph.nodes.filter((n) => n.op !== 'Identity').length).toBe(0);
  });

  it('Embedding on float indices', async () => {
    const m = oneLayer([5], tfl.layers.embedding({ inputDim: 10, outputDim: 3 }));
    randomizeWeights(m);
    const idx = Float32Array.from(seeded(10, 5, 0, 10), (v) => Math.floor(v));
    await checkModel(m, { inputValues: [idx] });
  });

  it('Embedding on int64 indices uses them without a Cast; Rescaling casts int inputs to float', async () => {
    const m = oneLayer([5], tfl.layers.embedding({ inputDim: 10, outputDim: 3 }));
    randomizeWeights(m);
    const idx = Float32Array.from(seeded(10, 5, 0, 10), (v) => Math.floor(v));
    const r = await checkModel(m, { inputValues: [idx], inputDTypes: ['int64'] });
    expect(r.graph.findNodesByOp('Cast').length).toBe(0);
    const px = Float32Array.from(seeded(24, 6, 0, 255), (v) => Math.floor(v));
    const r2 = await checkModel(oneLayer([4, 3], tfl.layers.rescaling({ scale: 1 / 255 })), { inputValues: [px], inputDTypes: ['int32'] });
    expect(r2.graph.findNodesByOp('Cast').length).toBe(1);
  });

  it('Rescaling with scale and offset', async () => {
    const m = oneLayer([4, 3], tfl.layers.rescaling({ scale: 1 / 127.5, offset: -1 }));
    await checkModel(m, { range: [0, 255] });
  });

  it('Masking zeroes masked steps (and keeps the others)', async () => {
    const m = oneLayer([4, 3], tfl.layers.masking({ maskValue: 0.5 }));
    const x = seeded(24, 9);
    // Steps 1 of sample 0 and 3 of sample 1 are entirely mask_value.
    for (const s of [3, 4, 5, 21, 22, 23]) x[s] = 0.5;
    const r = await checkModel(m, { inputValues: [x] });
    expect(r.expected[0]!.toFloat64()[3]).toBe(0);
  });
});
