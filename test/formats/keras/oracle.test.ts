/**
 * The tfjs-layers oracle helper (test/helpers/keras-oracle.ts) against tfjs-layers models built
 * here: given a model's own config and weights it must reproduce the model's predictions exactly;
 * given a Keras 3 config (rewritten for tfjs) it must reproduce what tfjs-layers computed for the
 * same model in the Keras 2 spelling (fixtures/keras/keras3_recurrent).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Tensor } from '../../../src/ir/tensor.js';
import { readNpy } from '../../../src/formats/npy/npy.js';
import { loadModel } from '../../../src/formats/registry.js';
import { kerasSourceOf } from '../../../src/formats/keras/index.js';
import { prng } from '../../../src/runtime/random-inputs.js';
import { kerasOracle, oracleTopology, tf, tfl } from '../../helpers/keras-oracle.js';
import { OWN, expectClose } from './util.js';

function seeded(shape: number[], seed: number, lo = -1, hi = 1): Tensor {
  const r = prng(seed);
  const n = shape.reduce((a, d) => a * d, 1);
  return Tensor.fromArray('float32', shape, Float32Array.from({ length: n }, () => lo + (hi - lo) * r()));
}

/** A functional model with Conv2D, BatchNormalization, a nested Sequential and two inputs. */
function buildModel(): tfl.LayersModel {
  const img = tfl.input({ shape: [6, 6, 2], name: 'img' });
  const side = tfl.input({ shape: [3], name: 'side' });
  const c = tfl.layers.conv2d({ name: 'conv', filters: 3, kernelSize: 3, activation: 'relu' }).apply(img) as tfl.SymbolicTensor;
  const bn = tfl.layers.batchNormalization({ name: 'bn' }).apply(c) as tfl.SymbolicTensor;
  const f = tfl.layers.flatten({ name: 'flat' }).apply(bn) as tfl.SymbolicTensor;
  const sub = tfl.sequential({ name: 'sub', layers: [tfl.layers.dense({ name: 'sub_dense', units: 4, inputShape: [3], activation: 'tanh' })] });
  const s = sub.apply(side) as tfl.SymbolicTensor;
  const cat = tfl.layers.concatenate({ name: 'cat' }).apply([f, s]) as tfl.SymbolicTensor;
  const out = tfl.layers.dense({ name: 'out', units: 2, activation: 'softmax' }).apply(cat) as tfl.SymbolicTensor;
  return tfl.model({ name: 'oracle_test', inputs: [img, side], outputs: out });
}

function leafWeights(model: tfl.LayersModel): Map<string, Tensor[]> {
  const out = new Map<string, Tensor[]>();
  const walk = (layers: tfl.layers.Layer[]) => {
    for (const l of layers) {
      if (l instanceof tfl.LayersModel) walk(l.layers);
      else if (l.weights.length) out.set(l.name, l.getWeights().map((w) => Tensor.fromArray('float32', w.shape, w.dataSync())));
    }
  };
  walk(model.layers);
  return out;
}

describe('kerasOracle', () => {
  it("reproduces a tfjs-layers model's predictions from its config and weights", async () => {
    const model = buildModel();
    let seed = 3;
    for (const l of [...model.layers, ...(model.getLayer('sub') as tfl.LayersModel).layers]) {
      if (!l.weights.length || l instanceof tfl.LayersModel) continue;
      const ws = l.weights.map((w) => {
        const v = seeded(w.shape as number[], seed++, /variance/.test(w.name) ? 0.5 : -0.5, /variance/.test(w.name) ? 1.5 : 0.5);
        return tf.tensor(Float32Array.from(v.toFloat64()), v.shape);
      });
      l.setWeights(ws);
    }
    const inputs = [seeded([2, 6, 6, 2], 40), seeded([2, 3], 41)];
    const xs = inputs.map((t) => tf.tensor(Float32Array.from(t.toFloat64()), t.shape));
    const want = model.predict(xs) as tf.Tensor;
    const expected = Tensor.fromArray('float32', want.shape, want.dataSync());
    const got = await kerasOracle(model.toJSON(null, false), leafWeights(model), inputs);
    expect(got.length).toBe(1);
    expect(Array.from(got[0]!.toFloat64())).toEqual(Array.from(expected.toFloat64()));
    // Weights are required for every layer that has some.
    const partial = leafWeights(model);
    partial.delete('bn');
    await expect(kerasOracle(model.toJSON(null, false), partial, inputs)).rejects.toThrow(/no weights given for layer bn/);
  });

  it('runs a Keras 3 config (rewritten for tfjs-layers) like the Keras 2 spelling of the same model', async () => {
    const config = JSON.parse(readFileSync(join(OWN, 'keras3_recurrent.config.json'), 'utf8')) as unknown;
    const topo = oracleTopology(config);
    expect(topo.class_name).toBe('Model');
    const m = await loadModel(join(OWN, 'keras3_recurrent.keras'));
    const src = kerasSourceOf(m)!;
    const weights = new Map<string, Tensor[]>();
    for (const [layer, w] of src.weights) weights.set(layer.name, w.tensors);
    const input = readNpy(readFileSync(join(OWN, 'keras3_recurrent.input_0.npy')));
    const expected = readNpy(readFileSync(join(OWN, 'keras3_recurrent.output_0.npy')));
    expectClose(await kerasOracle(config, weights, [input]), [expected], 'oracle', 1e-5, 1e-5);
  });
});
