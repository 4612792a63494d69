/**
 * `--to tfjs-layers`: Keras models written as a tfjs layers-model (model.json + 4 MB shards) load in
 * tfjs-layers (`tf.loadLayersModel(tf.io.fromMemory(...))` over the files read back from disk) and
 * give the same outputs; mconv reads layers-models too (the written ones, and the real ones of
 * ../shared/fixtures/real, against their recorded outputs and against tfjs-layers).
 */
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MconvError } from '../../../src/errors.js';
import { loadModel, saveModel } from '../../../src/formats/registry.js';
import { readNpy } from '../../../src/formats/npy/npy.js';
import { writeTfjsLayersModel, TFJS_SHARD_BYTES } from '../../../src/formats/keras/tfjs-layers-writer.js';
import { writeFilesAtomic } from '../../../src/io/atomic.js';
import { Tensor } from '../../../src/ir/tensor.js';
import type { Model } from '../../../src/ir/graph.js';
import { oraclePredict, tf, tfl, zeroInitializers } from '../../helpers/keras-oracle.js';
import { useBackend } from '../../../src/runtime/backends.js';
import { OWN, REAL, expectClose, runModel, seededInputs } from './util.js';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'mconv-tfjs-'));
  dirs.push(d);
  return d;
}

/** Loads a written layers-model from disk into tfjs-layers (initializers zeroed: tfjs's Orthogonal needs chained ops). */
async function tfjsLoad(modelJson: string): Promise<tfl.LayersModel> {
  await useBackend('cpu');
  const json = JSON.parse(readFileSync(modelJson, 'utf8')) as {
    modelTopology: object; weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[]; format: string;
  };
  expect(json.format).toBe('layers-model');
  const dir = join(modelJson, '..');
  const specs = json.weightsManifest.flatMap((g) => g.weights);
  const parts = json.weightsManifest.flatMap((g) => g.paths.map((p) => readFileSync(join(dir, p))));
  const total = parts.reduce((a, p) => a + p.byteLength, 0);
  const data = new Uint8Array(total);
  let o = 0;
  for (const p of parts) {
    data.set(p, o);
    o += p.byteLength;
  }
  return tfl.loadLayersModel(tf.io.fromMemory({ modelTopology: zeroInitializers(json.modelTopology) as object, weightSpecs: specs, weightData: data.buffer }));
}

function npy(name: string): Tensor {
  return readNpy(readFileSync(join(OWN, name)));
}

interface Case {
  title: string;
  file: string;
  /** Expected outputs from fixtures/keras .npy files (else: mconv's run of the source model). */
  npy?: string;
  outputs?: number;
  range?: [number, number];
  /** The architecture for a weights-only file (`--config`). */
  config?: string;
}

const CASES: Case[] = [
  { title: 'Sequential MNIST CNN (Keras 2 .h5)', file: join(OWN, 'mnist_cnn.h5'), npy: 'mnist_cnn', outputs: 1 },
  { title: 'functional with a shared layer, a nested Sequential and two outputs', file: join(OWN, 'nested_shared.h5'), npy: 'nested_shared', outputs: 2 },
  { title: 'Keras 3 functional .keras with LSTM, Bidirectional, nested Sequential', file: join(OWN, 'keras3_recurrent.keras'), npy: 'keras3_recurrent', outputs: 1 },
  { title: 'real Keras 3 Sequential (.keras)', file: join(REAL, 'keras3-mnist-convnet-h5-and-keras/mnist_model.keras'), range: [0, 1] },
  { title: 'real Keras 2 functional, two inputs (StackedGAN)', file: join(REAL, 'adlk-stackedgan-gen1-functional-h5/stackedgan_mnist-gen1.h5') },
  { title: 'real Keras 3 Sequential CNN (legacy .h5)', file: join(REAL, 'keras3-mnist-convnet-h5-and-keras/mnist_model.h5'), range: [0, 1] },
  { title: 'real Keras 2 functional LSTM/Bidirectional, five inputs (frugally-deep)', file: join(REAL, 'frugally-deep-lstm-h5/lstm.h5') },
  { title: 'real Keras 2 Sequential dense MNIST (KotlinDL)', file: join(REAL, 'kotlindl-mnist-dense-h5-and-savedmodel/hdf5/mnist.h5'), range: [0, 1] },
  { title: 'real LeNet weights + JSON config (KotlinDL)', file: join(REAL, 'kotlindl-lenet-weights-h5/mnist_weights_only.h5'), config: join(REAL, 'kotlindl-lenet-weights-h5/modelConfig.json'), range: [0, 1] },
  { title: 'real Conv + BatchNormalization weights + JSON config (KotlinDL)', file: join(REAL, 'kotlindl-batchnorm-weights-h5/weights.h5'), config: join(REAL, 'kotlindl-batchnorm-weights-h5/modelConfig.json'), range: [0, 1] },
  { title: 'real functional ResNet-like weights + JSON config (KotlinDL)', file: join(REAL, 'kotlindl-toyresnet-weights-h5/weights.h5'), config: join(REAL, 'kotlindl-toyresnet-weights-h5/modelConfig.json'), range: [0, 1] },
  { title: 'real stacked LSTM weights + JSON config (KotlinDL)', file: join(REAL, 'kotlindl-lstm-weights-h5/weights.h5'), config: join(REAL, 'kotlindl-lstm-weights-h5/model.json') },
];

describe('--to tfjs-layers', () => {
  for (const c of CASES) {
    it.skipIf(!existsSync(c.file))(`${c.title}: loads in tfjs-layers and in mconv with the same outputs`, async () => {
      const m = await loadModel(c.file, c.config ? { config: c.config } : {});
      let inputs: Tensor[];
      let expected: Tensor[];
      if (c.npy) {
        inputs = m.graph.inputs.map((_, i) => npy(`${c.npy}.input_${i}.npy`));
        expected = Array.from({ length: c.outputs! }, (_, i) => npy(`${c.npy}.output_${i}.npy`));
      } else {
        inputs = seededInputs(m, 8, c.range?.[0] ?? -1, c.range?.[1] ?? 1);
        expected = await runModel(m, inputs);
      }
      const out = join(tmp(), 'model.json');
      const written = await saveModel(m, out, { format: 'tfjs-layers' });
      expect(written[0]).toBe(out);
      expect(written.slice(1).map((p) => p.split('/').pop())).toEqual(['group1-shard1of1.bin']);
      const tfjsModel = await tfjsLoad(out);
      expectClose(oraclePredict(tfjsModel, inputs), expected, 'tfjs-layers');
      tfjsModel.dispose();
      const back = await loadModel(out);
      expect(back.source.format).toBe('tfjs-layers');
      expectClose(await runModel(back, inputs), expected, 'mconv (read back)');
    });
  }

  it('splits weights into shards group1-shard<i>of<n>.bin that tfjs-layers joins', async () => {
    expect(TFJS_SHARD_BYTES).toBe(4 * 1024 * 1024);
    const m = await loadModel(join(OWN, 'mnist_cnn.h5'));
    const files = writeTfjsLayersModel(m, { shardBytes: 100_000 });
    const dir = tmp();
    writeFilesAtomic(join(dir, 'model.json'), files.main, files.extra);
    expect(readdirSync(dir).filter((f) => f.endsWith('.bin')).sort()).toEqual(['group1-shard1of4.bin', 'group1-shard2of4.bin', 'group1-shard3of4.bin', 'group1-shard4of4.bin']);
    const json = JSON.parse(new TextDecoder().decode(files.main)) as { weightsManifest: { weights: { name: string }[] }[] };
    expect(json.weightsManifest[0]!.weights.map((w) => w.name)).toEqual([
      'conv2d/kernel', 'conv2d/bias', 'conv2d_1/kernel', 'conv2d_1/bias', 'conv2d_2/kernel', 'conv2d_2/bias', 'dense/kernel', 'dense/bias', 'dense_1/kernel', 'dense_1/bias',
    ]);
    const tfjsModel = await tfjsLoad(join(dir, 'model.json'));
    expectClose(oraclePredict(tfjsModel, [npy('mnist_cnn.input_0.npy')]), [npy('mnist_cnn.output_0.npy')], 'tfjs-layers (4 shards)');
    tfjsModel.dispose();
  });

  it('names Keras 3 numbered weights the tfjs way (forward_/backward_ for Bidirectional, own names in nested models)', async () => {
    const m = await loadModel(join(OWN, 'keras3_recurrent.keras'));
    const json = JSON.parse(new TextDecoder().decode(writeTfjsLayersModel(m).main)) as { weightsManifest: { weights: { name: string }[] }[]; modelTopology: { config: { layers: { class_name: string; config: Record<string, unknown> }[] } } };
    expect(json.weightsManifest[0]!.weights.map((w) => w.name)).toEqual([
      'lstm/kernel', 'lstm/recurrent_kernel', 'lstm/bias',
      'bidirectional/forward_lstm_1/kernel', 'bidirectional/forward_lstm_1/recurrent_kernel', 'bidirectional/forward_lstm_1/bias',
      'bidirectional/backward_lstm_1/kernel', 'bidirectional/backward_lstm_1/recurrent_kernel', 'bidirectional/backward_lstm_1/bias',
      'batch_normalization/gamma', 'batch_normalization/beta', 'batch_normalization/moving_mean', 'batch_normalization/moving_variance',
      'dense/kernel', 'dense/bias', 'dense_1/kernel', 'dense_1/bias', 'dense_2/kernel', 'dense_2/bias',
    ]);
    const layers = json.modelTopology.config.layers;
    expect(layers[0]!.config.batch_input_shape).toEqual([null, 7, 3]);
    expect(layers.map((l) => l.class_name)).toContain('Sequential');
    expect(JSON.stringify(json.modelTopology)).not.toMatch(/DTypePolicy|"module"|__keras_tensor__/);
  });

  it('refuses a model that did not come from Keras', async () => {
    const onnxFile = join(REAL, '..', 'torch');
    const torchDir = existsSync(onnxFile) ? readdirSync(onnxFile).map((d) => join(onnxFile, d, 'model.onnx')).find((p) => existsSync(p)) : undefined;
    if (!torchDir) return;
    const m: Model = await loadModel(torchDir);
    const e = await saveModel(m, join(tmp(), 'model.json'), { format: 'tfjs-layers' }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(MconvError);
    expect((e as MconvError).message).toMatch(/written from Keras layers.*onnx/);
  });
});

const SMALL = join(REAL, 'tfjs-layers-model-small', 'model.json');
const BUNDLE = join(REAL, 'tfjs-rn-bundle-layers-model', 'bundle_model_test.json');

describe('reading real tfjs layers-models', () => {
  it.skipIf(!existsSync(SMALL))('Embedding + GRU(go_backwards) gives the outputs the tfjs repository records', async () => {
    const m = await loadModel(SMALL);
    expect(m.source.format).toBe('tfjs-layers');
    const x = Tensor.fromArray('float32', [1, 10], [86, 11, 62, 40, 36, 75, 82, 94, 67, 75]);
    const [y] = await runModel(m, [x]);
    const want = Tensor.fromArray('float32', [1, 4], [-0.003578941337764263, 0.0028922036290168762, -0.002957976423203945, 0.00955402385443449]);
    expectClose([y!], [want], 'mconv', 1e-6, 1e-4);
    expect(m.layers!.map((r) => `${r.name}:${r.parameters}`)).toEqual(['embedding_Embedding2:2000', 'gru_GRU1:300']);
  });

  it.skipIf(!existsSync(BUNDLE))('an old Sequential (config as a bare list, shard path ./x.bin) matches tfjs-layers', async () => {
    const m = await loadModel(BUNDLE);
    const inputs = seededInputs(m, 4);
    const tfjsModel = await tfjsLoad(BUNDLE);
    expectClose(await runModel(m, inputs), oraclePredict(tfjsModel, inputs), 'mconv');
    tfjsModel.dispose();
  });
});
