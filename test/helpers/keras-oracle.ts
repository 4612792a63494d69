/**
 * The Keras oracle for tests: runs a Keras model config with given weights in tfjs-layers
 * (Google's implementation of the Keras layers, on the tfjs cpu backend) and returns its outputs.
 *
 *   kerasOracle(configJson, weightsByLayer, inputs)
 *
 * - configJson: a model config in any spelling mconv reads (a Keras 2 or 3 `{class_name, config}`,
 *   `model.to_json()`, a `.keras` config.json, a tfjs model.json). Keras 3 configs are rewritten in
 *   the Keras 2 spelling tfjs-layers reads (the same rewrite `--to tfjs-layers` does).
 * - weightsByLayer: each layer's weights in Keras order, keyed by layer name (the layers of a
 *   nested model under their own names).
 * - inputs: one tensor per model input, in order.
 *
 * Initializers are replaced by Zeros before building (every weight is set afterwards; tfjs's
 * Orthogonal initializer needs chained ops that the bare tfjs-core import lacks).
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import { Tensor } from '../../src/ir/tensor.js';
import { useBackend } from '../../src/runtime/backends.js';
import { parseModel, unwrapModelJson } from '../../src/formats/keras/config.js';
import { keras2ModelEntry } from '../../src/formats/keras/tfjs-layers-writer.js';

type Json = Record<string, unknown>;

export { tf, tfl };

/** A config with every `*_initializer` replaced by Zeros (weights are set afterwards anyway). */
export function zeroInitializers(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(zeroInitializers);
  if (typeof v !== 'object' || v === null) return v;
  const out: Json = {};
  for (const [k, x] of Object.entries(v as Json)) {
    out[k] = k.endsWith('_initializer') && x && typeof x === 'object' ? { class_name: 'Zeros', config: {} } : zeroInitializers(x);
  }
  // A recurrent layer whose config omits it gets tfjs's default Orthogonal initializer.
  if (typeof out.class_name === 'string' && RECURRENT.has(out.class_name) && typeof out.config === 'object' && out.config) {
    (out.config as Json).recurrent_initializer = { class_name: 'Zeros', config: {} };
  }
  return out;
}

const RECURRENT = new Set(['LSTM', 'GRU', 'SimpleRNN', 'LSTMCell', 'GRUCell', 'SimpleRNNCell']);

/** The topology tfjs-layers is given for a config. */
export function oracleTopology(configJson: unknown): Json {
  const parsed = unwrapModelJson(typeof configJson === 'string' ? JSON.parse(configJson) : configJson, 'oracle config');
  return zeroInitializers(keras2ModelEntry(parseModel(parsed.model))) as Json;
}

/** Every layer of a tfjs model that holds weights, nested models walked into. */
function leafLayers(layers: tfl.layers.Layer[], out = new Map<string, tfl.layers.Layer>()): Map<string, tfl.layers.Layer> {
  for (const l of layers) {
    const inner = (l as unknown as { layers?: tfl.layers.Layer[] }).layers;
    if (Array.isArray(inner) && l instanceof tfl.LayersModel) leafLayers(inner, out);
    else out.set(l.name, l);
  }
  return out;
}

/** Builds the tfjs-layers model of a config with the given weights. */
export async function oracleModel(configJson: unknown, weightsByLayer: Map<string, Tensor[]> | Record<string, Tensor[]>): Promise<tfl.LayersModel> {
  await useBackend('cpu');
  const model = await tfl.models.modelFromJSON({ modelTopology: oracleTopology(configJson) } as never);
  const given = weightsByLayer instanceof Map ? weightsByLayer : new Map(Object.entries(weightsByLayer));
  const leaves = leafLayers(model.layers);
  for (const name of given.keys()) {
    if (!leaves.has(name)) throw new Error(`oracle: weights given for layer ${name}, which the model does not have`);
  }
  for (const [name, layer] of leaves) {
    if (!layer.weights.length) continue;
    const ws = given.get(name);
    if (!ws) throw new Error(`oracle: no weights given for layer ${name} (it has ${layer.weights.length})`);
    if (ws.length !== layer.weights.length) throw new Error(`oracle: layer ${name} takes ${layer.weights.length} weights, ${ws.length} given`);
    const ts = ws.map((t) => tf.tensor(Float32Array.from(t.toFloat64()), t.shape, 'float32'));
    layer.setWeights(ts);
    ts.forEach((t) => t.dispose());
  }
  return model;
}

/** Runs a tfjs-layers model on IR tensors and returns its outputs as IR tensors. */
export function oraclePredict(model: tfl.LayersModel, inputs: Tensor[]): Tensor[] {
  const xs = inputs.map((t) => {
    const isInt = t.dtype.startsWith('int') || t.dtype.startsWith('uint');
    return isInt ? tf.tensor(Int32Array.from(t.toFloat64()), t.shape, 'int32') : tf.tensor(Float32Array.from(t.toFloat64()), t.shape, 'float32');
  });
  const ys = model.predict(xs.length === 1 ? xs[0]! : xs);
  const list = Array.isArray(ys) ? ys : [ys];
  const out = list.map((y) => Tensor.fromArray('float32', y.shape, y.dataSync()));
  xs.forEach((x) => x.dispose());
  list.forEach((y) => y.dispose());
  return out;
}

/** tfjs-layers' outputs for a Keras config, its weights and inputs. */
export async function kerasOracle(configJson: unknown, weightsByLayer: Map<string, Tensor[]> | Record<string, Tensor[]>, inputs: Tensor[]): Promise<Tensor[]> {
  const model = await oracleModel(configJson, weightsByLayer);
  try {
    return oraclePredict(model, inputs);
  } finally {
    model.dispose();
  }
}
