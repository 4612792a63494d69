/**
 * Normalization, merge, reshaping and activation layers: against tfjs-layers where it has them,
 * against keras_ref.py (torch/numpy) for the rest (Keras-3-only activations, Subtract,
 * 1-D/3-D padding/cropping/upsampling, half-pixel bilinear upsampling, Normalization, ...).
 */
import { describe, expect, it } from 'vitest';
import { buildGraph, checkModel, modelWeights, oneLayer, randomizeWeights, seeded, tfl } from './harness.js';
import { checkAgainstPython, hasTorch } from './pyref.js';

describe('Keras normalization layers vs tfjs-layers', () => {
  // tfjs-layers broadcasts BatchNormalization(axis=1) parameters wrongly on 4-D inputs: that case is
  // checked against the numpy reference below.
  it('BatchNormalization: after Dense (2-D), on 3-D and 4-D channels-last, center/scale off', async () => {
    const cases: [number[], Record<string, unknown>][] = [
      [[6], {}],
      [[4, 6], { epsilon: 0.01 }],
      [[3, 4, 5], {}],
      [[3, 4, 5], { center: false }],
      [[3, 4, 5], { scale: false, center: false }],
    ];
    for (const [shape, args] of cases) {
      const m = oneLayer(shape, tfl.layers.batchNormalization(args));
      randomizeWeights(m);
      await checkModel(m);
    }
  });

  it('BatchNormalization right after a Conv2D uses an ONNX BatchNormalization between cancelling Transposes', async () => {
    const m = tfl.sequential();
    m.add(tfl.layers.conv2d({ inputShape: [6, 6, 2], filters: 3, kernelSize: 3 }));
    m.add(tfl.layers.batchNormalization());
    randomizeWeights(m);
    const r = await checkModel(m);
    expect(r.graph.findNodesByOp('BatchNormalization').length).toBe(1);
    expect(r.graph.findNodesByOp('Transpose').length).toBe(2);
    expect([...r.graph.initializers.keys()]).toEqual(expect.arrayContaining([expect.stringMatching(/moving_mean:0$/)]));
  });

  it('LayerNormalization over the last axis and over trailing axes, center/scale off', async () => {
    const cases: [number[], Record<string, unknown>][] = [
      [[4, 6], {}],
      [[3, 4, 5], { axis: [-2, -1], epsilon: 1e-5 }],
      [[4, 6], { center: false }],
      [[4, 6], { scale: false }],
    ];
    for (const [shape, args] of cases) {
      const m = oneLayer(shape, tfl.layers.layerNormalization(args));
      randomizeWeights(m);
      const r = await checkModel(m);
      expect(r.graph.findNodesByOp('LayerNormalization').length).toBe(1);
    }
  });
});

describe('Keras merge layers vs tfjs-layers', () => {
  const functional = (make: (a: tfl.SymbolicTensor, b: tfl.SymbolicTensor) => tfl.SymbolicTensor, sa: number[], sb = sa) => {
    const a = tfl.input({ shape: sa, name: 'a' });
    const b = tfl.input({ shape: sb, name: 'b' });
    return tfl.model({ inputs: [a, b], outputs: make(a, b) });
  };

  it('Add, Multiply, Average, Maximum, Minimum of two and three inputs', async () => {
    for (const layer of [tfl.layers.add, tfl.layers.multiply, tfl.layers.average, tfl.layers.maximum, tfl.layers.minimum]) {
      await checkModel(functional((a, b) => layer().apply([a, b]) as tfl.SymbolicTensor, [3, 4]));
      const a = tfl.input({ shape: [5] });
      const b = tfl.input({ shape: [5] });
      const c = tfl.input({ shape: [5] });
      await checkModel(tfl.model({ inputs: [a, b, c], outputs: layer().apply([a, b, c]) as tfl.SymbolicTensor }));
    }
  });

  it('Concatenate on the last and on a middle axis', async () => {
    await checkModel(functional((a, b) => tfl.layers.concatenate().apply([a, b]) as tfl.SymbolicTensor, [3, 4], [3, 2]));
    await checkModel(functional((a, b) => tfl.layers.concatenate({ axis: 1 }).apply([a, b]) as tfl.SymbolicTensor, [3, 4], [2, 4]));
  });

  it('Dot: 2-D x 2-D, 3-D x 3-D on each axis pair, normalize', async () => {
    await checkModel(functional((a, b) => tfl.layers.dot({ axes: 1 }).apply([a, b]) as tfl.SymbolicTensor, [5]));
    await checkModel(functional((a, b) => tfl.layers.dot({ axes: 1, normalize: true }).apply([a, b]) as tfl.SymbolicTensor, [5]));
    await checkModel(functional((a, b) => tfl.layers.dot({ axes: [2, 2] }).apply([a, b]) as tfl.SymbolicTensor, [3, 4], [5, 4]));
    await checkModel(functional((a, b) => tfl.layers.dot({ axes: [1, 1] }).apply([a, b]) as tfl.SymbolicTensor, [3, 4], [3, 5]));
    await checkModel(functional((a, b) => tfl.layers.dot({ axes: [2, 1] }).apply([a, b]) as tfl.SymbolicTensor, [3, 4], [4, 5]));
    await checkModel(functional((a, b) => tfl.layers.dot({ axes: [1, 2], normalize: true }).apply([a, b]) as tfl.SymbolicTensor, [3, 4], [5, 3]));
  });

  it('a functional model with a shared layer called twice', async () => {
    const a = tfl.input({ shape: [4], name: 'a' });
    const b = tfl.input({ shape: [4], name: 'b' });
    const shared = tfl.layers.dense({ units: 3, activation: 'tanh', name: 'shared' });
    const out = tfl.layers.add().apply([shared.apply(a) as tfl.SymbolicTensor, shared.apply(b) as tfl.SymbolicTensor]);
    const m = tfl.model({ inputs: [a, b], outputs: out as tfl.SymbolicTensor });
    randomizeWeights(m);
    const r = await checkModel(m);
    expect(r.graph.findNodesByOp('MatMul').length).toBe(2);
    expect([...r.graph.initializers.keys()].filter((k) => k.startsWith('shared/kernel')).length).toBe(1);
  });
});

describe('Keras reshaping and activation layers vs tfjs-layers', () => {
  it('ZeroPadding2D, Cropping2D (pairs and channels_first), UpSampling2D nearest and tfjs bilinear', async () => {
    const cases: [number[], () => tfl.layers.Layer][] = [
      [[4, 5, 2], () => tfl.layers.zeroPadding2d({ padding: [[1, 2], [0, 3]] })],
      [[4, 5, 2], () => tfl.layers.zeroPadding2d({ padding: 1 })],
      [[2, 4, 5], () => tfl.layers.zeroPadding2d({ padding: [1, 2], dataFormat: 'channelsFirst' })],
      [[6, 7, 2], () => tfl.layers.cropping2D({ cropping: [[1, 2], [0, 3]] })],
      [[6, 7, 2], () => tfl.layers.cropping2D({ cropping: 1 })],
      [[2, 6, 7], () => tfl.layers.cropping2D({ cropping: [[2, 0], [1, 1]], dataFormat: 'channelsFirst' })],
      [[3, 4, 2], () => tfl.layers.upSampling2d({ size: [2, 3] })],
      [[2, 3, 4], () => tfl.layers.upSampling2d({ size: [3, 2], dataFormat: 'channelsFirst' })],
      [[3, 4, 2], () => tfl.layers.upSampling2d({ size: [2, 3], interpolation: 'bilinear' })],
    ];
    // tfjs-layers resizes bilinearly without half-pixel centres; its keras_version says tfjs.
    for (const [shape, make] of cases) await checkModel(oneLayer(shape, make()), { kerasVersion: 'tfjs-layers 4.22.0' });
  });

  it('ReLU(max_value), LeakyReLU, PReLU (shared_axes), ELU, ThresholdedReLU, Softmax(axis)', async () => {
    const cases: [number[], () => tfl.layers.Layer][] = [
      [[4, 3], () => tfl.layers.reLU({ maxValue: 1.5 })],
      [[4, 3], () => tfl.layers.leakyReLU({ alpha: 0.1 })],
      [[4, 3], () => tfl.layers.leakyReLU({})],
      [[4, 3, 2], () => tfl.layers.prelu({})],
      [[4, 3, 2], () => tfl.layers.prelu({ sharedAxes: [1, 2] })],
      [[4, 3], () => tfl.layers.elu({})],
      [[4, 3], () => tfl.layers.thresholdedReLU({ theta: 0.4 })],
      [[4, 3], () => tfl.layers.softmax({ axis: -1 })],
      [[4, 3], () => tfl.layers.activation({ activation: 'relu6' })],
    ];
    for (const [shape, make] of cases) {
      const m = oneLayer(shape, make());
      randomizeWeights(m);
      await checkModel(m);
    }
  });
});

const torchOk = hasTorch();
if (!torchOk) console.warn('keras layer tests: /usr/bin/python3 with torch and numpy not found; skipping the python-reference cases');

describe.skipIf(!torchOk)('Keras layers vs the torch/numpy reference', () => {
  it('every Keras 2 and Keras 3 activation (Activation layer)', async () => {
    const names = ['relu', 'relu6', 'sigmoid', 'tanh', 'softmax', 'log_softmax', 'elu', 'selu', 'softplus', 'softsign', 'exponential',
      'hard_sigmoid', 'swish', 'silu', 'hard_silu', 'hard_swish', 'gelu', 'mish', 'leaky_relu', 'hard_tanh', 'log_sigmoid',
      'tanh_shrink', 'celu', 'soft_shrink', 'hard_shrink', 'squareplus', 'sparse_plus', 'glu', 'linear'];
    const checks = names.flatMap((activation) => ['2.13.1', '3.3.3'].map((kerasVersion) =>
      ({ class_name: 'Activation', config: { activation }, inputs: [[2, 3, 8]], kerasVersion, inputRange: [-4, 4] as [number, number] })));
    // Keras 3 serializes activations as {module, class_name: 'function', config: name} in some versions.
    checks.push({ class_name: 'Activation', config: { activation: { module: 'keras.activations', class_name: 'function', config: 'hard_sigmoid', registered_name: 'function' } }, inputs: [[2, 8]], kerasVersion: '3.0.0', inputRange: [-4, 4] });
    // gelu with approximate spelled out in the config.
    for (const approximate of [true, false]) {
      checks.push({ class_name: 'Activation', config: { activation: { module: 'keras.activations', class_name: 'function', config: { name: 'gelu', approximate } } }, inputs: [[2, 8]], kerasVersion: '3.3.3', inputRange: [-4, 4] });
    }
    await checkAgainstPython(checks);
  });

  it('SpatialDropout2D/3D, ActivityRegularization and Identity are identities', async () => {
    await checkAgainstPython([
      { class_name: 'SpatialDropout2D', config: { rate: 0.5 }, inputs: [[2, 3, 4, 2]] },
      { class_name: 'SpatialDropout3D', config: { rate: 0.5, data_format: 'channels_first' }, inputs: [[2, 2, 3, 4, 2]] },
      { class_name: 'ActivityRegularization', config: { l1: 0.1 }, inputs: [[2, 5]] },
      { class_name: 'Identity', config: {}, inputs: [[2, 5]] },
    ]);
  });

  it('ReLU with threshold and negative_slope (with and without max_value)', async () => {
    await checkAgainstPython([
      { negative_slope: 0.2, threshold: 0.5 }, { negative_slope: 0.1, max_value: 1.0 }, { threshold: -0.5 }, { threshold: 0.5, max_value: 1.2 },
      { negative_slope: 0.3, threshold: 0.25, max_value: 1.5 }, { max_value: 6 },
    ].map((config) => ({ class_name: 'ReLU', config, inputs: [[2, 10]], inputRange: [-3, 3] as [number, number] })));
  });

  it('Subtract', async () => {
    await checkAgainstPython({ class_name: 'Subtract', config: {}, inputs: [[2, 3, 4], [2, 3, 4]] });
  });

  it('ZeroPadding1D/3D, Cropping1D/3D, UpSampling1D/3D, half-pixel bilinear UpSampling2D', async () => {
    await checkAgainstPython([
      { class_name: 'ZeroPadding1D', config: { padding: [1, 2] }, inputs: [[2, 5, 3]] },
      { class_name: 'ZeroPadding1D', config: { padding: 2 }, inputs: [[2, 5, 3]] },
      { class_name: 'ZeroPadding3D', config: { padding: [[1, 0], [0, 2], [1, 1]] }, inputs: [[2, 3, 4, 2, 2]] },
      { class_name: 'ZeroPadding3D', config: { padding: [1, 1, 1], data_format: 'channels_first' }, inputs: [[2, 2, 3, 4, 2]] },
      { class_name: 'Cropping1D', config: { cropping: [1, 2] }, inputs: [[2, 6, 3]] },
      { class_name: 'Cropping3D', config: { cropping: [[1, 0], [0, 2], [1, 1]] }, inputs: [[2, 4, 5, 4, 2]] },
      { class_name: 'UpSampling1D', config: { size: 3 }, inputs: [[2, 4, 3]] },
      { class_name: 'UpSampling3D', config: { size: [2, 1, 3] }, inputs: [[2, 2, 3, 2, 2]] },
      { class_name: 'UpSampling2D', config: { size: [2, 3], interpolation: 'bilinear' }, inputs: [[2, 3, 4, 2]], kerasVersion: '2.13.1' },
      { class_name: 'UpSampling2D', config: { size: [3, 2], interpolation: 'bilinear', data_format: 'channels_first' }, inputs: [[2, 2, 3, 4]], kerasVersion: '3.3.3' },
    ]);
  });

  it('GlobalAverage/MaxPooling3D, keepdims, channels_first', async () => {
    await checkAgainstPython([
      { class_name: 'GlobalAveragePooling3D', config: {}, inputs: [[2, 3, 4, 2, 5]] },
      { class_name: 'GlobalMaxPooling3D', config: { keepdims: true }, inputs: [[2, 3, 4, 2, 5]] },
      { class_name: 'GlobalAveragePooling2D', config: { keepdims: true, data_format: 'channels_first' }, inputs: [[2, 3, 4, 5]] },
      { class_name: 'GlobalMaxPooling1D', config: { keepdims: true }, inputs: [[2, 6, 3]] },
      { class_name: 'GlobalAveragePooling1D', config: { data_format: 'channels_first' }, inputs: [[2, 3, 6]] },
    ]);
  });

  it('Normalization (adapted weights, config values, axis None, several axes, invert) and UnitNormalization', async () => {
    await checkAgainstPython([
      { class_name: 'Normalization', config: { axis: [-1] }, inputs: [[2, 3, 4]], weights: [['mean', [4]], ['variance', [4]], ['count', []]], weightRange: [[-1, 1], [0.1, 2], [5, 6]] },
      { class_name: 'Normalization', config: { axis: -1, invert: true }, inputs: [[2, 4]], weights: [['mean', [4]], ['variance', [4]], ['count', []]], weightRange: [[-1, 1], [0.1, 2], [5, 6]] },
      { class_name: 'Normalization', config: { axis: [1, 2] }, inputs: [[2, 3, 4]], weights: [['mean', [3, 4]], ['variance', [3, 4]], ['count', []]], weightRange: [[-1, 1], [0.1, 2], [5, 6]] },
      { class_name: 'Normalization', config: { axis: null, mean: 0.5, variance: 4 }, inputs: [[2, 3, 4]] },
      { class_name: 'Normalization', config: { axis: -1, mean: [0.1, 0.2, 0.3], variance: [1, 2, 0] }, inputs: [[2, 4, 3]] },
      { class_name: 'UnitNormalization', config: { axis: -1 }, inputs: [[2, 3, 4]] },
      { class_name: 'UnitNormalization', config: { axis: [1, 2] }, inputs: [[2, 3, 4]] },
    ]);
  });

  it('BatchNormalization over axis 1 (channels_first) and axis 2, ELU(alpha), Softmax over other axes', async () => {
    const bn = (axis: number, shape: number[], c: number, config: Record<string, unknown> = {}) => ({
      class_name: 'BatchNormalization', config: { axis, epsilon: 1e-3, ...config }, inputs: [shape],
      weights: [['gamma', [c]], ['beta', [c]], ['moving_mean', [c]], ['moving_variance', [c]]] as [string, number[]][],
      weightRange: [[0.5, 1.5], [-0.5, 0.5], [-0.5, 0.5], [0.5, 1.5]] as [number, number][],
    });
    await checkAgainstPython([
      bn(1, [2, 5, 3, 4], 5), bn(1, [2, 5, 3], 5), bn(2, [2, 3, 5, 4], 5), bn(-2, [2, 3, 5, 4], 5, { epsilon: 0.1 }),
      { class_name: 'ELU', config: { alpha: 0.7 }, inputs: [[2, 6]] },
      { class_name: 'Softmax', config: { axis: 1 }, inputs: [[2, 4, 3]] },
      { class_name: 'Softmax', config: { axis: [1, 2] }, inputs: [[2, 4, 3]] },
    ]);
  });

  it('LayerNormalization over non-trailing axes', async () => {
    await checkAgainstPython([
      { class_name: 'LayerNormalization', config: { axis: [1], epsilon: 1e-3 }, inputs: [[2, 3, 4]], weights: [['gamma', [3]], ['beta', [3]]] },
      { class_name: 'LayerNormalization', config: { axis: [1, 3], epsilon: 1e-3 }, inputs: [[2, 3, 4, 5]], weights: [['gamma', [3, 5]], ['beta', [3, 5]]] },
    ]);
  });
});

describe('model assembly helper sanity', () => {
  it('weights keep the names tfjs-layers gives them (layer/kernel:0)', () => {
    const m = oneLayer([3], tfl.layers.dense({ units: 2, name: 'dd' }));
    const w = modelWeights(m);
    expect(w.get('dd')!.names).toEqual(['dd/kernel:0', 'dd/bias:0']);
    const g = buildGraph(m.toJSON(null, false) as never, w);
    expect([...g.initializers.keys()]).toEqual(['dd/kernel:0', 'dd/bias:0']);
    expect(seeded(3, 1)).toEqual(seeded(3, 1));
  });
});
