/**
 * The Keras reader on the fixtures of fixtures/keras (made by make.py from tfjs-layers models;
 * the expected outputs are tfjs-layers' own) and fixtures/keras/layers (the layer helper's Keras 2
 * files): summary rows as model.summary() counts them, metadata, outputs, shared and nested layers,
 * Keras 3 `.keras` and `.weights.h5` + config, weights-only files, ONNX export.
 */
import { Session } from '../../../src/runtime/session.js';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MconvError } from '../../../src/errors.js';
import { loadModel } from '../../../src/formats/registry.js';
import { readNpy } from '../../../src/formats/npy/npy.js';
import { convert, run } from '../../../src/api.js';
import type { Model } from '../../../src/ir/graph.js';
import type { Tensor } from '../../../src/ir/tensor.js';
import { OWN, expectClose, onnxRoundTrip, runModel } from './util.js';

function npy(name: string): Tensor {
  return readNpy(readFileSync(join(OWN, name)));
}

function expectedOf(name: string, n: number): { inputs: Tensor[]; outputs: Tensor[] } {
  const inputs: Tensor[] = [];
  for (let i = 0; existsSync(join(OWN, `${name}.input_${i}.npy`)); i++) inputs.push(npy(`${name}.input_${i}.npy`));
  const outputs = Array.from({ length: n }, (_, i) => npy(`${name}.output_${i}.npy`));
  return { inputs, outputs };
}

/** Every Transpose reads a graph input or writes a graph output (none between layers). */
function transposesOnlyAtEdges(model: Model): void {
  const g = model.graph;
  for (const n of g.findNodesByOp('Transpose')) {
    const atInput = g.inputs.includes(n.inputs[0]!);
    const atOutput = g.outputs.includes(n.outputs[0]!);
    expect(atInput || atOutput, `Transpose ${n.name} lies between layers`).toBe(true);
  }
  const perInput = g.inputs.map((v) => [...v.consumers].filter((c) => c.op === 'Transpose').length);
  for (const c of perInput) expect(c).toBeLessThanOrEqual(1);
}

describe('Keras 2 full model: the MNIST CNN', () => {
  const file = join(OWN, 'mnist_cnn.h5');

  it('reads the summary rows, totals, version and optimizer as Keras prints them', async () => {
    const m = await loadModel(file);
    expect(m.source.format).toBe('keras');
    const rows = m.layers!;
    expect(rows.map((r) => r.name)).toEqual(['conv2d', 'max_pooling2d', 'conv2d_1', 'max_pooling2d_1', 'conv2d_2', 'flatten', 'dense', 'dense_1']);
    expect(rows.map((r) => r.className)).toEqual(['Conv2D', 'MaxPooling2D', 'Conv2D', 'MaxPooling2D', 'Conv2D', 'Flatten', 'Dense', 'Dense']);
    expect(rows.map((r) => r.parameters)).toEqual([320, 0, 18496, 0, 36928, 0, 36928, 650]);
    expect(rows.reduce((a, r) => a + r.parameters, 0)).toBe(93322);
    expect(rows.reduce((a, r) => a + (r.trainableParameters ?? 0), 0)).toBe(93322);
    expect(rows.map((r) => r.outputShapes[0])).toEqual([
      ['batch', 26, 26, 32], ['batch', 13, 13, 32], ['batch', 11, 11, 64], ['batch', 5, 5, 64], ['batch', 3, 3, 64],
      ['batch', 576], ['batch', 64], ['batch', 10],
    ]);
    expect(m.metadata.keras_version).toBe('2.4.0');
    expect(m.metadata.backend).toBe('tensorflow');
    expect(m.metadata['keras.optimizer']).toBe('Adam (learning_rate 0.001)');
    expect(m.metadata['keras.loss']).toBe('categorical_crossentropy');
    expect(JSON.parse(m.metadata['keras.training_config']!).optimizer_config.class_name).toBe('Adam');
    expect(m.producer).toEqual({ name: 'keras', version: '2.4.0' });
    expect(m.graph.inputs.map((v) => [v.name, v.dtype, v.shape])).toEqual([['conv2d_input', 'float32', ['batch', 28, 28, 1]]]);
    expect(m.graph.outputs.map((v) => v.name)).toEqual(['dense_1']);
    // Reading (what inspect does) leaves the passes for later and reads no kernel (shape
    // inference may look at small constants such as a bias).
    expect(m.pendingPasses).toBe(true);
    expect([...m.graph.initializers.values()].filter((v) => v.initializer!.isMaterialised && v.initializer!.size > 1024).map((v) => v.name)).toEqual([]);
  });

  it('computes the same before and after the passes prepareModel runs', async () => {
    const raw = await loadModel(file);
    const { inputs, outputs } = expectedOf('mnist_cnn', 1);
    const session = await Session.create(raw, { backend: 'wasm' });
    try {
      const out = await session.run(new Map(raw.graph.inputs.map((v, i) => [v.name, inputs[i]!])));
      expectClose(raw.graph.outputs.map((o) => out.get(o.name)!), outputs, 'mconv before passes');
    } finally {
      session.dispose();
    }
    expect(raw.graph.findNodesByOp('Transpose').length).toBeGreaterThan(1);
  });

  it("matches tfjs-layers' outputs, has no Transpose between layers, and exports to ONNX that onnxruntime runs the same", async () => {
    const m = await loadModel(file);
    const { inputs, outputs } = expectedOf('mnist_cnn', 1);
    expectClose(await runModel(m, inputs), outputs, 'mconv');
    transposesOnlyAtEdges(m);
    expect(m.graph.findNodesByOp('Transpose').length).toBe(1);
    const ort = await onnxRoundTrip(m, inputs);
    if (ort) expectClose(ort, outputs, 'onnxruntime');
  });
});

describe('Keras 2 functional model with a shared layer, a nested Sequential and two outputs', () => {
  const file = join(OWN, 'nested_shared.h5');

  it('assembles both calls of the shared layer on one set of weights and inlines the nested model', async () => {
    const m = await loadModel(file);
    const { inputs, outputs } = expectedOf('nested_shared', 2);
    expectClose(await runModel(m, inputs), outputs, 'mconv');
    expect(m.graph.outputs.map((v) => v.name)).toEqual(['head', 'shared_dense']);
    const sharedKernels = [...m.graph.initializers.keys()].filter((n) => n.startsWith('shared_dense/kernel'));
    expect(sharedKernels).toEqual(['shared_dense/kernel:0']);
    expect(m.graph.nodes.filter((n) => n.meta.kerasLayer === 'shared_dense' && n.op === 'MatMul').length).toBe(2);
    expect(m.graph.nodes.some((n) => String(n.meta.kerasLayer).startsWith('inner/inner_dense'))).toBe(true);
    const ort = await onnxRoundTrip(m, inputs);
    if (ort) expectClose(ort, outputs, 'onnxruntime');
  });

  it('shows the nested model with its layers, BatchNormalization statistics non-trainable', async () => {
    const m = await loadModel(file);
    const rows = m.layers!;
    expect(rows.map((r) => `${r.name}:${r.className}:${r.parameters}`)).toEqual([
      'input_a:InputLayer:0', 'shared_dense:Dense:35', 'input_b:InputLayer:0', 'inner:Sequential:40', 'concatenate:Concatenate:0', 'head:Dense:30',
    ]);
    const inner = rows[3]!;
    expect(inner.children!.map((c) => `${c.name}:${c.parameters}:${c.trainableParameters}`)).toEqual(['inner_dense:24:24', 'inner_bn:16:8', 'inner_relu:0:0']);
    expect(inner.trainableParameters).toBe(32);
    expect(rows.find((r) => r.name === 'concatenate')!.inboundLayers).toEqual(['inner', 'shared_dense']);
    expect(rows.find((r) => r.name === 'concatenate')!.outputShapes).toEqual([['batch', 9]]);
  });
});

describe('Keras 3 .keras archive and .weights.h5 + config', () => {
  it('reads config.json, metadata.json and the state file (class-based paths, LSTM cells, Bidirectional, nested Sequential)', async () => {
    const m = await loadModel(join(OWN, 'keras3_recurrent.keras'));
    const { inputs, outputs } = expectedOf('keras3_recurrent', 1);
    expectClose(await runModel(m, inputs), outputs, 'mconv');
    expect(m.metadata.keras_version).toBe('3.1.1');
    expect(m.metadata['keras.date_saved']).toBe('2024-01-01@00:00:00');
    expect(m.metadata['keras.optimizer']).toBe('Adam (learning_rate 0.001)');
    expect(m.metadata['keras.weights_matched']).toBe('by path');
    const rows = m.layers!;
    expect(rows.map((r) => `${r.name}:${r.parameters}:${r.trainableParameters}`)).toEqual([
      'sequence:0:0', 'lstm:180:180', 'bidirectional:320:320', 'batch_normalization:32:16', 'dense:54:54', 'head:29:29',
    ]);
    expect(rows[5]!.children!.map((c) => c.name)).toEqual(['dense_1', 'dense_2']);
    const ort = await onnxRoundTrip(m, inputs);
    if (ort) expectClose(ort, outputs, 'onnxruntime');
  });

  it('reads a Keras 3 weights file with the architecture given as config', async () => {
    const m = await loadModel(join(OWN, 'keras3_recurrent.weights.h5'), { config: join(OWN, 'keras3_recurrent.config.json') });
    const { inputs, outputs } = expectedOf('keras3_recurrent', 1);
    expectClose(await runModel(m, inputs), outputs, 'mconv');
  });

  it('takes the architecture from a full model file too', async () => {
    const m = await loadModel(join(OWN, 'keras3_recurrent.weights.h5'), { config: join(OWN, 'keras3_recurrent.keras') });
    expect(m.graph.outputs.length).toBe(1);
  });
});

describe('weights-only files without an architecture', () => {
  it('inspect lists the weights by layer; convert and run say to give --config', async () => {
    const m = await loadModel(join(OWN, 'keras3_recurrent.weights.h5'));
    expect(m.graph.outputs).toEqual([]);
    expect(m.layers!.map((r) => `${r.name}:${r.parameters}`)).toEqual([
      'batch_normalization:32', 'bidirectional:320', 'dense:54', 'input_layer:0', 'lstm:180', 'sequential:29',
    ]);
    expect(m.graph.initializers.size).toBe(19);
    // Inspecting reads shapes only.
    expect([...m.graph.initializers.values()].filter((v) => v.initializer!.isMaterialised)).toEqual([]);
    const e = await convert(join(OWN, 'keras3_recurrent.weights.h5'), '/tmp/never-written.onnx').catch((x: unknown) => x);
    expect(e).toBeInstanceOf(MconvError);
    expect((e as MconvError).oneLine()).toMatch(/weights only.*--config/);
    await expect(run(m)).rejects.toThrow(/weights only/);
  });

  it('a wrong --config is a usage error naming the file', async () => {
    const e = await loadModel(join(OWN, 'keras3_recurrent.weights.h5'), { config: join(OWN, 'missing.json') }).catch((x: unknown) => x);
    expect((e as MconvError).kind).toBe('usage');
    expect((e as MconvError).message).toMatch(/missing\.json does not exist/);
    const e2 = await loadModel(join(OWN, 'keras3_recurrent.weights.h5'), { config: join(OWN, 'mnist_cnn.input_0.npy') }).catch((x: unknown) => x);
    expect((e2 as MconvError).kind).toBe('usage');
  });
});

const LAYERS = join(OWN, 'layers');

describe.skipIf(!existsSync(LAYERS))('the layer helper\'s Keras 2 fixtures through the reader', () => {
  const names = existsSync(LAYERS) ? readdirSync(LAYERS).filter((f) => f.endsWith('.h5')).map((f) => f.slice(0, -3)).sort() : [];
  for (const name of names) {
    it(`${name}.h5 reads and matches tfjs-layers' outputs`, async () => {
      const m = await loadModel(join(LAYERS, `${name}.h5`));
      const inputs: Tensor[] = [];
      for (let i = 0; existsSync(join(LAYERS, `${name}.input_${i}.npy`)); i++) inputs.push(readNpy(readFileSync(join(LAYERS, `${name}.input_${i}.npy`))));
      const outputs = m.graph.outputs.map((_, i) => readNpy(readFileSync(join(LAYERS, `${name}.output_${i}.npy`))));
      expect(m.graph.outputs.length).toBeGreaterThan(0);
      expectClose(await runModel(m, inputs), outputs, name);
      // The CNN fixtures (ZeroPadding, Cropping, UpSampling between convolutions) keep no Transpose between layers.
      if (name.startsWith('conv')) transposesOnlyAtEdges(m);
    });
  }
});
