/**
 * Config parsing and graph assembly on small configs written here: both spellings of inbound
 * nodes (Keras 2 lists with TF 2.4+ `initial_state` kwargs, Keras 3 `__keras_tensor__` args), a
 * Keras 3 single input given as a bare triple, nested-model node numbering, and the messages for
 * layers that cannot be converted (several of one class at once, Lambda, tensor call arguments).
 * Outputs are compared with tfjs-layers (the oracle) on the same weights.
 */
import { describe, expect, it } from 'vitest';
import { buildKerasModel } from '../../../src/formats/keras/index.js';
import { parseModel, unwrapModelJson, type KerasLayer } from '../../../src/formats/keras/config.js';
import type { Assignment, LayerWeights } from '../../../src/formats/keras/weights.js';
import { snakeCase } from '../../../src/formats/keras/weights.js';
import { Tensor } from '../../../src/ir/tensor.js';
import { prng } from '../../../src/runtime/random-inputs.js';
import { kerasOracle } from '../../helpers/keras-oracle.js';
import { expectClose, runModel, seededInputs } from './util.js';

type Json = Record<string, unknown>;

function seeded(shape: number[], seed: number): Tensor {
  const r = prng(seed);
  return Tensor.fromArray('float32', shape, Float32Array.from({ length: shape.reduce((a, d) => a * d, 1) }, () => r() - 0.5));
}

/** Weights by layer name, handed to the model as the reader would. */
function assignByName(weights: Record<string, Tensor[]>): (m: ReturnType<typeof parseModel>) => Assignment {
  return (m) => {
    const byLayer = new Map<KerasLayer, LayerWeights>();
    const walk = (mm: typeof m) => mm.layers.forEach((l) => {
      if (l.model) walk(l.model);
      else if (weights[l.name]) byLayer.set(l, { tensors: weights[l.name]!, names: weights[l.name]!.map((_, i, all) => `${l.name}/${(all.length === 2 ? ['kernel', 'bias'] : ['kernel', 'recurrent_kernel', 'bias'])[i]}:0`) });
    });
    walk(m);
    return { byLayer, matched: 'by name', problems: [] };
  };
}

function build(json: Json, weights: Record<string, Tensor[]> = {}, kerasVersion = '2.4.0') {
  return buildKerasModel({ parsed: unwrapModelJson(json), assign: assignByName(weights), source: { path: 'test.h5' }, kerasVersion, container: 'hdf5' });
}

const input = (name: string, shape: (number | null)[]) => ({ name, class_name: 'InputLayer', config: { name, batch_input_shape: shape, dtype: 'float32' }, inbound_nodes: [] });

describe('config spellings', () => {
  it('reads TF 2.4+ initial_state kwargs and Keras 2.2 extra entries the same way, as tfjs-layers runs them', async () => {
    const lstmCfg = { name: 'lstm', units: 3, return_sequences: false, activation: 'tanh', recurrent_activation: 'sigmoid', use_bias: true, implementation: 2 };
    const layers = (nodes: unknown) => [
      input('x', [null, 4, 2]), input('h', [null, 3]), input('c', [null, 3]),
      { name: 'lstm', class_name: 'LSTM', config: lstmCfg, inbound_nodes: nodes },
    ];
    const model = (nodes: unknown) => ({
      class_name: 'Model',
      config: { name: 'm', layers: layers(nodes), input_layers: [['x', 0, 0], ['h', 0, 0], ['c', 0, 0]], output_layers: [['lstm', 0, 0]] },
    });
    const tf24 = model([[['x', 0, 0, { initial_state: [['h', 0, 0], ['c', 0, 0]] }]]]);
    const k22 = model([[['x', 0, 0, {}], ['h', 0, 0, {}], ['c', 0, 0, {}]]]);
    const weights = { lstm: [seeded([2, 12], 1), seeded([3, 12], 2), seeded([12], 3)] };
    const a = build(tf24, weights);
    const b = build(k22, weights);
    expect(a.metadata['keras.graph_error']).toBeUndefined();
    const inputs = seededInputs(a, 9);
    const expected = await kerasOracle(k22, weights, inputs);
    expectClose(await runModel(a, inputs), expected, 'TF 2.4 kwargs');
    expectClose(await runModel(b, inputs), expected, 'Keras 2.2 entries');
  });

  it('reads Keras 3 inbound nodes (__keras_tensor__ args, a list argument) and a single input as a bare triple', async () => {
    const kt = (l: string, n = 0, t = 0) => ({ class_name: '__keras_tensor__', config: { shape: [null, 4], dtype: 'float32', keras_history: [l, n, t] } });
    const policy = { module: 'keras', class_name: 'DTypePolicy', config: { name: 'float32' }, registered_name: null };
    const json = {
      module: 'keras.src.models.functional', class_name: 'Functional', registered_name: 'Functional',
      config: {
        name: 'k3',
        layers: [
          { module: 'keras.layers', class_name: 'InputLayer', name: 'inp', config: { batch_shape: [null, 4], dtype: 'float32', name: 'inp' }, inbound_nodes: [] },
          { module: 'keras.layers', class_name: 'Dense', name: 'a', config: { name: 'a', units: 4, activation: 'relu', use_bias: true, dtype: policy }, inbound_nodes: [{ args: [kt('inp')], kwargs: {} }] },
          { module: 'keras.layers', class_name: 'Dense', name: 'b', config: { name: 'b', units: 4, activation: 'tanh', use_bias: true, dtype: policy }, inbound_nodes: [{ args: [kt('inp')], kwargs: {} }] },
          { module: 'keras.layers', class_name: 'Add', name: 'add', config: { name: 'add', dtype: policy }, inbound_nodes: [{ args: [[kt('a'), kt('b')]], kwargs: {} }] },
        ],
        input_layers: ['inp', 0, 0],
        output_layers: ['add', 0, 0],
      },
    };
    const weights = { a: [seeded([4, 4], 5), seeded([4], 6)], b: [seeded([4, 4], 7), seeded([4], 8)] };
    const m = build(json, weights, '3.1.1');
    expect(m.graph.inputs.map((v) => v.name)).toEqual(['inp']);
    expect(m.graph.outputs.map((v) => v.name)).toEqual(['add']);
    const inputs = seededInputs(m, 3);
    expectClose(await runModel(m, inputs), await kerasOracle(json, weights, inputs), 'keras 3');
  });

  it('numbers a nested model\'s calls from 1 in Keras 2 configs and from 0 for a Keras 3 Sequential', () => {
    const inner = (cls: string) => ({ class_name: cls, config: { name: 'inner', layers: [{ class_name: 'Dense', config: { name: 'd', units: 2, batch_input_shape: [null, 3] } }] } });
    const k2 = parseModel({ class_name: 'Model', config: { name: 'o', layers: [input('x', [null, 3]), { ...inner('Sequential'), name: 'inner', inbound_nodes: [[['x', 0, 0, {}]]] }], input_layers: [['x', 0, 0]], output_layers: [['inner', 1, 0]] } });
    expect(k2.layers[1]!.nodeOffset).toBe(1);
    const k3 = parseModel({ class_name: 'Functional', config: { name: 'o', layers: [{ ...input('x', [null, 3]), module: 'keras.layers' }, { ...inner('Sequential'), module: 'keras', name: 'inner', inbound_nodes: [{ args: [{ class_name: '__keras_tensor__', config: { keras_history: ['x', 0, 0] } }], kwargs: {} }] }], input_layers: ['x', 0, 0], output_layers: [['inner', 0, 0]] } });
    expect(k3.layers[1]!.nodeOffset).toBe(0);
    expect(() => parseModel({ class_name: 'Model', config: { name: 'o', layers: [input('x', [null, 3])], input_layers: [['x', 0, 0]], output_layers: [['nope', 0, 0]] } })).toThrow(/no such layer/);
  });

  it('gives a Sequential without input layer the input its first layer declares (named <layer>_input)', () => {
    const m = build({ class_name: 'Sequential', config: { name: 's', layers: [{ class_name: 'Dense', config: { name: 'dense', units: 2, batch_input_shape: [null, 5] } }] } }, { dense: [seeded([5, 2], 1), seeded([2], 2)] });
    expect(m.graph.inputs.map((v) => [v.name, v.shape])).toEqual([['dense_input', ['batch', 5]]]);
    expect(() => build({ class_name: 'Sequential', config: { name: 's', layers: [{ class_name: 'Dense', config: { name: 'dense', units: 2 } }] } })).toThrow(/has no input shape/);
  });

  it('snake-cases class names like Keras', () => {
    expect(['Conv2D', 'BatchNormalization', 'MaxPooling2D', 'LSTM', 'Conv2DTranspose', 'GlobalAveragePooling1D', 'PReLU'].map(snakeCase))
      .toEqual(['conv2d', 'batch_normalization', 'max_pooling2d', 'lstm', 'conv2d_transpose', 'global_average_pooling1d', 'p_re_lu']);
  });
});

describe('layers that cannot be converted', () => {
  const seq = (layers: Json[]) => ({ class_name: 'Sequential', config: { name: 's', layers: [input('x', [null, 4]), ...layers] } });

  it('names every layer of a class without converter at once, and keeps the model inspectable', () => {
    const m = build(seq([
      { class_name: 'MyNorm', config: { name: 'norm_1' } },
      { class_name: 'Dense', config: { name: 'dense', units: 2 } },
      { class_name: 'MyNorm', config: { name: 'norm_2' } },
    ]), { dense: [seeded([4, 2], 1), seeded([2], 2)] });
    expect(m.graph.outputs).toEqual([]);
    expect(m.metadata['keras.graph_error']).toBe("2 layers cannot be converted: layers 'norm_1', 'norm_2' of class MyNorm have no converter; register one with registerKerasLayer('MyNorm', ...) from the API");
    expect(m.layers!.map((r) => [r.name, r.unsupported !== undefined, r.parameters])).toEqual([['norm_1', true, 0], ['dense', false, 10], ['norm_2', true, 0]]);
    // The weights are still listed.
    expect([...m.graph.initializers.keys()]).toEqual(['dense/kernel:0', 'dense/bias:0']);
  });

  it('says that a Lambda layer holds Python code', () => {
    const m = build(seq([{ class_name: 'Lambda', config: { name: 'sampling', function: ['4wEAAAAAAAAA', null, null] } }]));
    expect(m.metadata['keras.graph_error']).toBe("layer 'sampling' of class Lambda holds Python code, which mconv cannot run; register a converter with registerKerasLayer('Lambda', ...) from the API");
  });

  it('refuses a call with a tensor mask argument or a constant input, naming the layer', () => {
    const json = {
      class_name: 'Model',
      config: {
        name: 'm',
        layers: [
          input('x', [null, 4]), input('m', [null, 4]),
          { name: 'act', class_name: 'Activation', config: { name: 'act', activation: 'relu' }, inbound_nodes: [[['x', 0, 0, { mask: ['m', 0, 0] }]]] },
          { name: 'tf_op', class_name: 'TFOpLambda', config: { name: 'tf_op', function: 'math.add' }, inbound_nodes: [[['_CONSTANT_VALUE', -1, 2.0, {}]]] },
        ],
        input_layers: [['x', 0, 0], ['m', 0, 0]],
        output_layers: [['act', 0, 0]],
      },
    };
    const m = build(json);
    expect(m.metadata['keras.graph_error']).toMatch(/layer 'act' of class Activation is called with a tensor for its mask argument/);
    expect(m.metadata['keras.graph_error']).toMatch(/layers? 'tf_op' of class TFOpLambda/);
  });

  it('reports a converter that refuses a configuration, with the converter\'s reason', () => {
    const m = build(seq([{ class_name: 'LSTM', config: { name: 'lstm', units: 2, stateful: true } }]), { lstm: [seeded([4, 8], 1), seeded([2, 8], 2), seeded([8], 3)] });
    expect(m.metadata['keras.graph_error']).toMatch(/'lstm' \(LSTM\): stateful=True is not supported/);
  });
});
