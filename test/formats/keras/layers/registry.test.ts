/**
 * The registry of built-in converters, the support table, the byte-level weight reordering
 * (bit-exact for every dtype, checked against the IR's own transpose), and the `unsupported`
 * errors users get for configurations we refuse.
 */
import { describe, expect, it } from 'vitest';
import { Graph } from '../../../../src/ir/graph.js';
import { Tensor } from '../../../../src/ir/tensor.js';
import { transposeTensor } from '../../../../src/ir/passes/tensor-ops.js';
import { MconvError } from '../../../../src/errors.js';
import { kerasLayerConverter, registeredKerasLayers, registerKerasLayer, type KerasLayerConfig } from '../../../../src/formats/keras/layer-api.js';
import { SUPPORTED_LAYERS, registerBuiltinKerasLayers, supportTable, supportedClassNames } from '../../../../src/formats/keras/layers/index.js';
import { concatTensors, permuteTensor, reorderBlocks, sliceAxis } from '../../../../src/formats/keras/layers/weights.js';
import { makeContext, seeded } from './harness.js';

describe('Keras layer registry', () => {
  it('registers a converter for every class in the support list, and nothing else', () => {
    const names = supportedClassNames();
    for (const n of names) expect(kerasLayerConverter(n), n).toBeDefined();
    expect(registeredKerasLayers().filter((n) => !names.includes(n))).toEqual([]);
    expect(new Set(SUPPORTED_LAYERS.map((l) => l.className)).size).toBe(SUPPORTED_LAYERS.length);
  });

  it('covers the brief: core, activations, conv, pooling, normalization, merge, reshaping, recurrent', () => {
    for (const n of ['InputLayer', 'Dense', 'Activation', 'Dropout', 'SpatialDropout1D', 'SpatialDropout2D', 'SpatialDropout3D', 'GaussianNoise',
      'GaussianDropout', 'AlphaDropout', 'Flatten', 'Reshape', 'Permute', 'RepeatVector', 'Masking', 'Embedding', 'Rescaling', 'Normalization',
      'ReLU', 'LeakyReLU', 'PReLU', 'ELU', 'ThresholdedReLU', 'Softmax', 'Conv1D', 'Conv2D', 'Conv3D', 'DepthwiseConv2D', 'SeparableConv2D',
      'Conv2DTranspose', 'MaxPooling1D', 'MaxPooling2D', 'MaxPooling3D', 'AveragePooling1D', 'AveragePooling2D', 'AveragePooling3D',
      'GlobalAveragePooling1D', 'GlobalAveragePooling2D', 'GlobalAveragePooling3D', 'GlobalMaxPooling1D', 'GlobalMaxPooling2D',
      'GlobalMaxPooling3D', 'BatchNormalization', 'LayerNormalization', 'Add', 'Subtract', 'Multiply', 'Average', 'Maximum', 'Minimum',
      'Concatenate', 'Dot', 'ZeroPadding1D', 'ZeroPadding2D', 'ZeroPadding3D', 'Cropping1D', 'Cropping2D', 'Cropping3D', 'UpSampling1D',
      'UpSampling2D', 'UpSampling3D', 'SimpleRNN', 'LSTM', 'GRU', 'Bidirectional', 'TimeDistributed']) {
      expect(supportedClassNames(), n).toContain(n);
    }
  });

  it('a user converter replaces a built-in one, and registerBuiltinKerasLayers restores it', () => {
    const builtin = kerasLayerConverter('Dense');
    const mine = () => [];
    registerKerasLayer('Dense', mine);
    expect(kerasLayerConverter('Dense')).toBe(mine);
    registerBuiltinKerasLayers();
    expect(kerasLayerConverter('Dense')).not.toBe(mine);
    expect(typeof builtin).toBe('function');
  });

  it('renders a Markdown support table', () => {
    const t = supportTable();
    expect(t.split('\n')[0]).toBe('| Keras layer | Family | Covered | Refused |');
    expect(t).toContain('| LSTM | recurrent |');
    expect(t).toContain('Activations: linear, relu');
  });
});

describe('weight reordering', () => {
  const dtypes = ['float32', 'float16', 'int64', 'int8', 'float64', 'bfloat16'] as const;

  it('permuteTensor is bit-exact for every dtype and lazy', () => {
    for (const dt of dtypes) {
      const shape = [3, 2, 4, 5];
      const vals = Array.from(seeded(120, 3, -50, 50), (v) => Math.round(v));
      const t = Tensor.fromArray(dt, shape, dt === 'int64' ? vals.map((v) => BigInt(v)) : vals);
      for (const perm of [[3, 2, 0, 1], [1, 0, 2, 3], [0, 3, 1, 2]]) {
        const p = permuteTensor(t, perm);
        expect(p.isMaterialised).toBe(false);
        const ref = transposeTensor(t, perm);
        expect(p.shape).toEqual(ref.shape);
        expect(Array.from(p.bytes)).toEqual(Array.from(ref.bytes));
      }
    }
  });

  it('reorderBlocks, sliceAxis and concatTensors move gate blocks', () => {
    const t = Tensor.fromArray('float32', [2, 8], Array.from({ length: 16 }, (_, i) => i));
    expect(Array.from(reorderBlocks(t, 1, [0, 3, 1, 2]).toFloat64())).toEqual([0, 1, 6, 7, 2, 3, 4, 5, 8, 9, 14, 15, 10, 11, 12, 13]);
    expect(Array.from(sliceAxis(t, 1, 2, 4).toFloat64())).toEqual([2, 3, 4, 5, 10, 11, 12, 13]);
    const u = Tensor.fromArray('float32', [2, 1], [100, 200]);
    expect(Array.from(concatTensors([t, u], 1).toFloat64()).slice(0, 10)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 100, 8]);
  });
});

describe('unsupported configurations', () => {
  const convert = (layer: KerasLayerConfig, inputShape: (number | string)[], weights: Tensor[] = [], names: string[] = [], version?: string) => {
    const g = new Graph('t');
    const x = g.addInput('x', 'float32', inputShape);
    const name = (layer.config.name as string) ?? 'layer';
    return kerasLayerConverter(layer.class_name)!(makeContext(g, layer, name, { tensors: weights, names }, version), [x]);
  };
  const expectUnsupported = (f: () => unknown, re: RegExp) => {
    let err: unknown;
    try {
      f();
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(MconvError);
    expect((err as MconvError).kind).toBe('unsupported');
    expect((err as MconvError).message).toMatch(re);
  };
  const w = (shape: number[]) => Tensor.fromArray('float32', shape, new Array(shape.reduce((a, d) => a * d, 1)).fill(0.1));

  it('names the layer, its class and the config value', () => {
    expectUnsupported(() => convert({ class_name: 'LSTM', config: { name: 'enc', units: 2, stateful: true } }, [1, 3, 2], [w([2, 8]), w([2, 8]), w([8])], ['enc/kernel:0', 'enc/recurrent_kernel:0', 'enc/bias:0']),
      /Keras layer 'enc' \(LSTM\): stateful=True is not supported/);
    expectUnsupported(() => convert({ class_name: 'UpSampling2D', config: { name: 'up', size: [2, 2], interpolation: 'lanczos3' } }, ['N', 4, 4, 2]),
      /'up' \(UpSampling2D\): interpolation 'lanczos3' is not supported/);
    expectUnsupported(() => convert({ class_name: 'Conv2D', config: { name: 'c', filters: 2, kernel_size: [3, 3], padding: 'full' } }, ['N', 4, 4, 2], [w([3, 3, 2, 2]), w([2])], ['c/kernel:0', 'c/bias:0']),
      /'c' \(Conv2D\): padding 'full' is not supported/);
    expectUnsupported(() => convert({ class_name: 'Activation', config: { name: 'a', activation: 'sparsemax' } }, ['N', 4]),
      /'a' \(Activation\): activation 'sparsemax' is not supported/);
    expectUnsupported(() => convert({ class_name: 'LayerNormalization', config: { name: 'ln', rms_scaling: true } }, ['N', 4], [w([4])], ['ln/gamma:0']),
      /rms_scaling=True is not supported/);
    expectUnsupported(() => convert({ class_name: 'Bidirectional', config: { name: 'bi', merge_mode: 'max', layer: { class_name: 'GRU', config: { units: 2 } } } }, ['N', 3, 2]),
      /merge_mode 'max' is not supported/);
    expectUnsupported(() => convert({ class_name: 'TimeDistributed', config: { name: 'td', layer: { class_name: 'MyCustomLayer', config: {} } } }, ['N', 3, 2]),
      /'td' \(TimeDistributed\): wrapped layer class MyCustomLayer has no converter/);
    expectUnsupported(() => convert({ class_name: 'Dense', config: { name: 'd', units: 2 } }, ['N', 3], [], []),
      /'d' \(Dense\): weight 'kernel' is missing/);
    expectUnsupported(() => convert({ class_name: 'BatchNormalization', config: { name: 'bn', axis: [1, 2] } }, ['N', 3, 4], []),
      /only one normalized axis is supported/);
    expectUnsupported(() => convert({ class_name: 'RNN', config: { name: 'r', cell: { class_name: 'PeepholeLSTMCell', config: { units: 2 } } } }, ['N', 3, 2]),
      /cell class PeepholeLSTMCell is not supported/);
  });
});
