/**
 * Real Keras files from ../shared/fixtures/real (written by Keras 2.2-2.4 and Keras 3.1), read with
 * h5py, converted layer by layer with our converters, and compared with tfjs-layers running the
 * same config and weights; the Keras 3 MNIST convnet must also classify its two sample digits.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Tensor } from '../../../../src/ir/tensor.js';
import { optimize } from '../../../../src/ir/passes/index.js';
import { Session } from '../../../../src/runtime/session.js';
import { useBackend } from '../../../../src/runtime/backends.js';
import { buildGraph, runAndCompare, seeded, tf, tfl, type LayerWeights } from './harness.js';
import { PY } from './pyref.js';

const REAL = join(import.meta.dirname, '..', '..', '..', '..', '..', 'shared', 'fixtures', 'real');

const READ = `
import h5py, json, sys
f = h5py.File(sys.argv[1], 'r')
cfg = json.loads(f.attrs['model_config']) if 'model_config' in f.attrs else json.load(open(sys.argv[2]))
g0 = f['model_weights'] if 'model_weights' in f else f
def s(v): return v.decode() if isinstance(v, bytes) else str(v)
layers = {}
for name in g0.attrs['layer_names']:
    name = s(name)
    g = g0[name]
    names = [s(n) for n in g.attrs['weight_names']]
    layers[name] = [[n, list(g[n].shape), g[n][()].astype('float32').ravel().tolist()] for n in names]
kv = s(f.attrs.get('keras_version', g0.attrs.get('keras_version', '2')))
json.dump({'model_config': cfg, 'keras_version': kv, 'layers': layers}, sys.stdout)
`;

interface FileData {
  model_config: Record<string, unknown>;
  keras_version: string;
  layers: Record<string, [string, number[], number[]][]>;
}

function readKeras(h5: string, json?: string): FileData {
  const out = execFileSync(PY, ['-c', READ, h5, ...(json ? [json] : [])], { maxBuffer: 1 << 28 });
  const file = JSON.parse(out.toString()) as FileData;
  // Weights saved from another instance of the model carry other layer names: Keras's
  // load_weights then matches layers by order, and so do we.
  const cfgLayers = ((file.model_config.config as Record<string, unknown>).layers as { class_name: string; config: { name: string } }[])
    .filter((l) => l.class_name !== 'InputLayer').map((l) => l.config.name);
  const fileLayers = Object.keys(file.layers);
  if (cfgLayers.some((n) => !(n in file.layers)) && cfgLayers.length === fileLayers.length) {
    file.layers = Object.fromEntries(cfgLayers.map((n, i) => [n, file.layers[fileLayers[i]!]!]));
  }
  return file;
}

function weightsOf(file: FileData): Map<string, LayerWeights> {
  const m = new Map<string, LayerWeights>();
  for (const [layer, ws] of Object.entries(file.layers)) {
    m.set(layer, { names: ws.map((w) => w[0]), tensors: ws.map(([n, shape, data]) => Tensor.fromArray('float32', shape, data, n)) });
  }
  return m;
}

/** The same model in tfjs-layers, with the file's weights. */
async function tfjsModel(file: FileData): Promise<tfl.LayersModel> {
  // tfjs-layers' Orthogonal initializer needs chained ops this build lacks; the weights are
  // replaced anyway, so initialise with GlorotUniform.
  const topology = JSON.parse(JSON.stringify(file.model_config).replace(/"Orthogonal"/g, '"GlorotUniform"').replace(/"gain":\s*[0-9.]+,?/g, '')) as object;
  const model = await tfl.models.modelFromJSON({ modelTopology: topology } as never);
  for (const layer of model.layers) {
    const ws = file.layers[layer.name];
    if (!ws?.length) continue;
    layer.setWeights(ws.map(([, shape, data]) => tf.tensor(data, shape)));
  }
  return model;
}

async function compareWithTfjs(file: FileData, dims: Record<string, number> = {}): Promise<void> {
  const graph = buildGraph(file.model_config, weightsOf(file), { kerasVersion: file.keras_version });
  const shapes = graph.inputs.map((v) => v.shape!.map((d, i) => (typeof d === 'number' ? d : i === 0 ? 2 : dims[d] ?? 5)));
  const values = shapes.map((s, i) => seeded(s.reduce((a, d) => a * d, 1), 50 + i, -1, 1));
  await useBackend('cpu');
  const model = await tfjsModel(file);
  const xs = shapes.map((s, i) => tf.tensor(values[i]!, s));
  const ys = model.predict(xs.length === 1 ? xs[0]! : xs);
  const expected = (Array.isArray(ys) ? ys : [ys]).map((y) => Tensor.fromArray('float32', y.shape, y.dataSync()));
  expect(graph.outputs.length).toBe(expected.length);
  await runAndCompare(graph, values, shapes, expected);
}

const ok = existsSync(REAL) && existsSync(PY);
if (!ok) console.warn(`real Keras files: ${REAL} or ${PY} missing; skipping`);

describe.skipIf(!ok)('real Keras files vs tfjs-layers', () => {
  it('frugally-deep lstm.h5 (Keras 2.2.5): LSTM/Bidirectional, relu and hard_sigmoid gates, initial states, 5 inputs', async () => {
    const file = readKeras(join(REAL, 'frugally-deep-lstm-h5', 'lstm.h5'));
    await compareWithTfjs(file);
  });

  it('frugally-deep lstm_stateful.h5 is refused: stateful layers', async () => {
    const file = readKeras(join(REAL, 'frugally-deep-lstm-h5', 'lstm_stateful.h5'));
    expect(() => buildGraph(file.model_config, weightsOf(file), { kerasVersion: file.keras_version })).toThrow(/stateful=True is not supported/);
  });

  it('StackedGAN generator (Keras 2.2.4-tf): Concatenate, Dense, BatchNormalization', async () => {
    await compareWithTfjs(readKeras(join(REAL, 'adlk-stackedgan-gen1-functional-h5', 'stackedgan_mnist-gen1.h5')));
  });

  it('KotlinDL toy ResNet (weights-only h5 + JSON config): Conv2D, MaxPooling2D, Add, GlobalAveragePooling2D', async () => {
    const d = join(REAL, 'kotlindl-toyresnet-weights-h5');
    await compareWithTfjs(readKeras(join(d, 'weights.h5'), join(d, 'modelConfig.json')));
  });

  it('KotlinDL LeNet, Conv+BatchNormalization and 3xLSTM (weights-only h5 + JSON config)', async () => {
    for (const [dir, h5, json] of [
      ['kotlindl-lenet-weights-h5', 'mnist_weights_only.h5', 'modelConfig.json'],
      ['kotlindl-batchnorm-weights-h5', 'weights.h5', 'modelConfig.json'],
      ['kotlindl-lstm-weights-h5', 'weights.h5', 'model.json'],
    ]) {
      const d = join(REAL, dir!);
      await compareWithTfjs(readKeras(join(d, h5!), join(d, json!)));
    }
  });

  it('Keras 3.1 MNIST convnet (.h5 written by Keras 3) classifies its sample digits 1 and 8', async () => {
    const d = join(REAL, 'keras3-mnist-convnet-h5-and-keras');
    const file = readKeras(join(d, 'mnist_model.h5'));
    expect(file.keras_version).toBe('3.1.1');
    const graph = buildGraph(file.model_config, weightsOf(file), { kerasVersion: file.keras_version });
    optimize(graph);
    const session = await Session.create(graph, { backend: 'wasm' });
    for (const digit of [1, 8]) {
      const px = execFileSync(PY, ['-c', `
import sys, json
from PIL import Image
im = Image.open(sys.argv[1]).convert('L').resize((28, 28))
print(json.dumps(list(im.getdata())))`, join(d, `sample_${digit}.png`)]);
      let vals = (JSON.parse(px.toString()) as number[]).map((v) => v / 255);
      // MNIST digits are light on dark; invert drawings made dark on light.
      if (vals.reduce((a, v) => a + v, 0) / vals.length > 0.5) vals = vals.map((v) => 1 - v);
      const out = await session.run({ [graph.inputs[0]!.name]: Tensor.fromArray('float32', [1, 28, 28, 1], vals) });
      const probs = Array.from(out.get(graph.outputs[0]!.name)!.toFloat64());
      expect(probs.indexOf(Math.max(...probs))).toBe(digit);
    }
  });
});
