/**
 * Every Keras file of ../shared/fixtures/real (written by Keras 2.1-2.4 and Keras 3.1) through the
 * reader: it reads and inspects; its parameter total equals the sum of the sizes of the weight
 * datasets in the file (counted by h5py); the files whose layers convert are written as ONNX
 * (saveModel), pass onnx.checker (full_check), and give in onnxruntime-node and in mconv's runtime
 * the outputs tfjs-layers computes from the same config and weights (read by h5py, not by mconv);
 * the others fail with a message naming the layer and the reason.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MconvError } from '../../../src/errors.js';
import { loadModel } from '../../../src/formats/registry.js';
import { convert } from '../../../src/api.js';
import { readArchitecture, registerKerasLayer } from '../../../src/formats/keras/index.js';
import { Tensor } from '../../../src/ir/tensor.js';
import type { Model } from '../../../src/ir/graph.js';
import { kerasOracle, oracleTopology, tfl } from '../../helpers/keras-oracle.js';
import { PY, REAL, expectClose, onnxRoundTrip, pythonHas, runModel, seededInputs } from './util.js';

/** h5py's view of a file: config, weights by stored group (in order), total weight elements. */
const READ = `
import h5py, io, json, sys, zipfile
p, want_data = sys.argv[1], sys.argv[2] == '1'
def s(v): return v.decode() if isinstance(v, bytes) else str(v)
def values(d): return d[()].astype('float32').ravel().tolist() if want_data else []
cfg = None
groups = []
if zipfile.is_zipfile(p):
    z = zipfile.ZipFile(p)
    cfg = json.loads(z.read('config.json'))
    f = h5py.File(io.BytesIO(z.read('model.weights.h5')), 'r')
    root = f['layers']
    for k in root:
        found = []
        root[k].visititems(lambda n, o: found.append((n, o)) if isinstance(o, h5py.Dataset) else None)
        found.sort(key=lambda x: [int(t) if t.isdigit() else t for t in x[0].split('/')])
        groups.append([k, [[[int(x) for x in d.shape], values(d)] for _, d in found]])
    total = 0
    def add(n, o):
        global total
        if isinstance(o, h5py.Dataset): total += int(o.size)
    root.visititems(add)
else:
    f = h5py.File(p, 'r')
    if 'model_config' in f.attrs:
        cfg = json.loads(s(f.attrs['model_config']))
    g0 = f['model_weights'] if 'model_weights' in f else f
    for name in g0.attrs['layer_names']:
        g = g0[s(name)]
        names = [s(n) for n in g.attrs['weight_names']]
        groups.append([s(name), [[[int(x) for x in g[n].shape], values(g[n])] for n in names]])
    total = 0
    def add(n, o):
        global total
        if isinstance(o, h5py.Dataset): total += int(o.size)
    g0.visititems(add)
json.dump({'config': cfg, 'groups': groups, 'total': total}, sys.stdout)
`;

interface H5View {
  config: Record<string, unknown> | null;
  groups: [string, [number[], number[]][]][];
  total: number;
}

function h5py(file: string, data: boolean): H5View {
  return JSON.parse(execFileSync(PY, ['-c', READ, file, data ? '1' : '0'], { maxBuffer: 1 << 29 }).toString()) as H5View;
}

/**
 * The file's weights keyed by the config's layer names: by name when the names match, otherwise
 * in order over the layers that hold weights (what Keras's load_weights does), the layers that
 * hold weights being those tfjs-layers gives weights to.
 */
async function weightsForOracle(config: unknown, view: H5View): Promise<Map<string, Tensor[]>> {
  const model = await tfl.models.modelFromJSON({ modelTopology: oracleTopology(config) } as never);
  const leaves: tfl.layers.Layer[] = [];
  const walk = (ls: tfl.layers.Layer[]) => ls.forEach((l) => (l instanceof tfl.LayersModel ? walk(l.layers) : leaves.push(l)));
  walk(model.layers);
  const withWeights = leaves.filter((l) => l.weights.length > 0).map((l) => l.name);
  const groups = view.groups.filter(([, ws]) => ws.length > 0);
  const byName = groups.every(([n]) => withWeights.includes(n));
  expect(groups.length).toBe(withWeights.length);
  const out = new Map<string, Tensor[]>();
  groups.forEach(([n, ws], i) => out.set(byName ? n : withWeights[i]!, ws.map(([shape, data]) => Tensor.fromArray('float32', shape, data))));
  model.dispose();
  return out;
}

interface Case {
  title: string;
  file: string;
  config?: string;
  /** Converts: compared with tfjs-layers and onnxruntime. */
  converts?: boolean;
  /** A CNN: no Transpose between layers. */
  cnn?: boolean;
  range?: [number, number];
  /** Does not convert: the error says this. */
  fails?: RegExp;
  weightsOnly?: boolean;
  /** Keras's model.summary() parameter counts, top-level rows in order. */
  params?: number[];
}

const CASES: Case[] = [
  { title: 'Keras 3.1 MNIST convnet (.h5 written by Keras 3)', file: 'keras3-mnist-convnet-h5-and-keras/mnist_model.h5', converts: true, cnn: true, range: [0, 1], params: [320, 0, 18496, 0, 0, 0, 16010] },
  { title: 'Keras 3.1 MNIST convnet (.keras)', file: 'keras3-mnist-convnet-h5-and-keras/mnist_model.keras', converts: true, cnn: true, range: [0, 1], params: [320, 0, 18496, 0, 0, 0, 16010] },
  { title: 'frugally-deep lstm.h5 (Keras 2.2.5, 5 inputs, LSTM/Bidirectional, initial states)', file: 'frugally-deep-lstm-h5/lstm.h5', converts: true },
  { title: 'frugally-deep lstm_stateful.h5', file: 'frugally-deep-lstm-h5/lstm_stateful.h5', fails: /stateful=True is not supported/ },
  { title: 'frugally-deep temp_stateful.h5 (stateful GRU)', file: 'frugally-deep-lstm-h5/temp_stateful.h5', fails: /'gru_1' \(GRU\): stateful=True is not supported/ },
  { title: 'StackedGAN generator (Keras 2.2.4-tf, 2 inputs, Concatenate, BatchNormalization)', file: 'adlk-stackedgan-gen1-functional-h5/stackedgan_mnist-gen1.h5', converts: true, params: [0, 0, 0, 31232, 2048, 262656, 2048, 131328] },
  { title: 'CycleGAN U-Net with the custom InstanceNormalization', file: 'adlk-cyclegan-unet-custom-layer-h5/cyclegan_cifar10-g_source.h5', fails: /layers 'instance_normalization_7', .* of class InstanceNormalization have no converter; register one with registerKerasLayer\('InstanceNormalization', \.\.\.\)/ },
  { title: 'VAE nested weights (weights only, no architecture)', file: 'adlk-vae-cnn-nested-weights-h5/vae_cnn_mnist.h5', weightsOnly: true },
  { title: 'KotlinDL LeNet (weights + modelConfig.json)', file: 'kotlindl-lenet-weights-h5/mnist_weights_only.h5', config: 'kotlindl-lenet-weights-h5/modelConfig.json', converts: true, cnn: true, range: [0, 1] },
  { title: 'KotlinDL Conv+BatchNormalization (weights + modelConfig.json)', file: 'kotlindl-batchnorm-weights-h5/weights.h5', config: 'kotlindl-batchnorm-weights-h5/modelConfig.json', converts: true, cnn: true, range: [0, 1] },
  { title: 'KotlinDL toy ResNet, functional with Add (weights + modelConfig.json)', file: 'kotlindl-toyresnet-weights-h5/weights.h5', config: 'kotlindl-toyresnet-weights-h5/modelConfig.json', converts: true, cnn: true, range: [0, 1] },
  { title: 'KotlinDL 3xLSTM (weights saved under other layer names + model.json)', file: 'kotlindl-lstm-weights-h5/weights.h5', config: 'kotlindl-lstm-weights-h5/model.json', converts: true },
  { title: 'KotlinDL MNIST dense, full model', file: 'kotlindl-mnist-dense-h5-and-savedmodel/hdf5/mnist.h5', converts: true, range: [0, 1], params: [0, 100480, 1290] },
  { title: 'KotlinDL MNIST dense, weights only', file: 'kotlindl-mnist-dense-h5-and-savedmodel/hdf5/mnist_weights_only.h5', weightsOnly: true },
  { title: 'KotlinDL MNIST dense, weights only + the full model as --config', file: 'kotlindl-mnist-dense-h5-and-savedmodel/hdf5/mnist_weights_only.h5', config: 'kotlindl-mnist-dense-h5-and-savedmodel/hdf5/mnist.h5', converts: true, range: [0, 1] },
];

function sumRows(m: Model): number {
  return m.layers!.reduce((a, r) => a + r.parameters, 0);
}

const ok = existsSync(REAL) && pythonHas('h5py, numpy');
if (!ok) console.warn(`real Keras files: ${REAL} or /usr/bin/python3 with h5py missing; skipping`);

describe.skipIf(!ok)('real Keras files', () => {
  for (const c of CASES) {
    it(c.title, async () => {
      const file = join(REAL, c.file);
      const config = c.config ? join(REAL, c.config) : undefined;
      const m = await loadModel(file, config ? { config } : {});
      expect(m.source.format).toBe('keras');
      const view = h5py(file, !!c.converts);
      // The summary counts every weight of the file, as Keras does.
      expect(sumRows(m)).toBe(view.total);
      if (c.params) expect(m.layers!.map((r) => r.parameters)).toEqual(c.params);
      expect(m.metadata.keras_version).toMatch(/^[23]\./);

      if (c.weightsOnly) {
        expect(m.graph.outputs).toEqual([]);
        expect(m.graph.initializers.size).toBe(view.groups.reduce((a, [, ws]) => a + ws.length, 0));
        expect([...m.graph.initializers.values()].some((v) => v.initializer!.isMaterialised)).toBe(false);
        const e = await convert(file, join(REAL, 'never-written.onnx')).catch((x: unknown) => x);
        expect((e as MconvError).oneLine()).toMatch(/holds weights only.*--config FILE/);
        return;
      }
      if (c.fails) {
        expect(m.graph.outputs).toEqual([]);
        expect(m.metadata['keras.graph_error']).toMatch(c.fails);
        expect(m.layers!.some((r) => r.unsupported)).toBe(true);
        const e = await convert(file, join(REAL, 'never-written.onnx')).catch((x: unknown) => x);
        expect(e).toBeInstanceOf(MconvError);
        expect((e as MconvError).kind).toBe('unsupported');
        expect((e as MconvError).message).toMatch(c.fails);
        return;
      }
      expect(c.converts).toBe(true);
      expect(m.metadata['keras.graph_error']).toBeUndefined();
      const inputs = seededInputs(m, 21, c.range?.[0] ?? -1, c.range?.[1] ?? 1);
      const arch = config ? (await readArchitecture(config)).model : view.config;
      const expected = await kerasOracle(arch, await weightsForOracle(arch, view), inputs);
      expectClose(await runModel(m, inputs), expected, 'mconv');
      const ort = await onnxRoundTrip(m, inputs);
      if (ort) expectClose(ort, expected, 'onnxruntime');
      if (c.cnn) {
        const g = m.graph;
        for (const n of g.findNodesByOp('Transpose')) {
          expect(g.inputs.includes(n.inputs[0]!) || g.outputs.includes(n.outputs[0]!), `Transpose ${n.name} between layers`).toBe(true);
        }
      }
    });
  }

  it('a converter registered for the custom class makes the CycleGAN convert', async () => {
    // InstanceNormalization (keras-contrib, axis -1): per sample and channel over H, W; gamma, beta.
    registerKerasLayer('InstanceNormalization', (ctx, [x]) => {
      const axes = ctx.constant('axes', Tensor.fromArray('int64', [2], [1, 2]));
      const [mean] = ctx.node('ReduceMean', [x!, axes], {}, 1, 'mean');
      const [centered] = ctx.node('Sub', [x!, mean!], {}, 1, 'centered');
      const [sq] = ctx.node('Mul', [centered!, centered!], {}, 1, 'square');
      const [variance] = ctx.node('ReduceMean', [sq!, axes], {}, 1, 'variance');
      const eps = Number(ctx.layer.config.epsilon ?? 1e-3);
      const [ve] = ctx.node('Add', [variance!, ctx.constant('epsilon', Tensor.fromArray('float32', [], [eps]))], {}, 1, 'variance_eps');
      const [sd] = ctx.node('Sqrt', [ve!], {}, 1, 'std');
      const [norm] = ctx.node('Div', [centered!, sd!], {}, 1, 'normalized');
      let y = norm!;
      if (ctx.weights.length >= 1) [y] = ctx.node('Mul', [y, ctx.weight(0)], {}, 1, 'gamma');
      if (ctx.weights.length >= 2) [y] = ctx.node('Add', [y!, ctx.weight(1)], {}, 1, 'beta');
      y.dtype = x!.dtype;
      y.shape = x!.shape?.slice();
      return [y];
    });
    const m = await loadModel(join(REAL, 'adlk-cyclegan-unet-custom-layer-h5/cyclegan_cifar10-g_source.h5'));
    expect(m.metadata['keras.graph_error']).toBeUndefined();
    expect(m.graph.outputs.map((v) => v.shape)).toEqual([['batch', 32, 32, 1]]);
    const [out] = await runModel(m, seededInputs(m, 5, 0, 1));
    expect(out!.shape).toEqual([2, 32, 32, 1]);
    expect(Array.from(out!.toFloat64()).every((v) => Number.isFinite(v))).toBe(true);
  });
});
