/**
 * The Keras 2 HDF5 fixtures of fixtures/keras/layers (made by make.py from tfjs-layers models):
 * read with h5py (model_config, weight_names, datasets), converted with our layer converters, run,
 * and compared with the outputs tfjs-layers computed (.npy). This checks the files are what the
 * Keras reader will meet and that the converters reproduce them.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Tensor } from '../../../../src/ir/tensor.js';
import { readNpy } from '../../../../src/formats/npy/npy.js';
import { buildGraph, runAndCompare, type LayerWeights } from './harness.js';
import { PY } from './pyref.js';

const DIR = join(import.meta.dirname, '..', '..', '..', '..', 'fixtures', 'keras', 'layers');

function hasH5py(): boolean {
  if (!existsSync(PY)) return false;
  try {
    execFileSync(PY, ['-c', 'import h5py, numpy'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const READ = `
import h5py, json, sys
f = h5py.File(sys.argv[1], 'r')
mw = f['model_weights']
layers = {}
for name in mw.attrs['layer_names']:
    name = name.decode() if isinstance(name, bytes) else name
    g = mw[name]
    names = [n.decode() if isinstance(n, bytes) else n for n in g.attrs['weight_names']]
    layers[name] = [[n, list(g[n].shape), g[n][()].astype('float32').ravel().tolist()] for n in names]
json.dump({'model_config': json.loads(f.attrs['model_config']), 'keras_version': f.attrs['keras_version'], 'layers': layers}, sys.stdout)
`;

const ok = hasH5py();
if (!ok) console.warn('keras layer fixtures: /usr/bin/python3 with h5py not found; skipping');

describe.skipIf(!ok)('Keras 2 HDF5 layer fixtures', () => {
  const names = readdirSync(DIR).filter((f) => f.endsWith('.h5')).map((f) => f.slice(0, -3)).sort();

  it('the fixtures hold every layer class of the issue\'s list', () => {
    expect(names).toEqual([
      'conv1d_pooling', 'conv2d_variants', 'conv3d_noise', 'functional_merge', 'mask_globals',
      'ref_global_max_3d', 'ref_gru_reset_after', 'ref_reshaping_1d', 'ref_reshaping_3d', 'ref_subtract_normalization',
      'reshape_ops', 'rnn_masked', 'rnn_stack',
    ]);
    const classes = new Set<string>();
    for (const name of names) {
      const cfg = execFileSync(PY, ['-c', 'import h5py,sys; print(h5py.File(sys.argv[1])["/"].attrs["model_config"])', join(DIR, `${name}.h5`)], { encoding: 'utf8' });
      for (const m of cfg.matchAll(/"class_name": "([A-Za-z0-9]+)"/g)) classes.add(m[1]!);
    }
    // The ref_* files (make_ref.py) hold the classes tfjs-layers lacks, with outputs from the
    // numpy/torch references of Keras semantics in keras_ref.py; the others' come from tfjs-layers.
    const wanted = [
      'InputLayer', 'Dense', 'Conv1D', 'Conv2D', 'Conv3D', 'DepthwiseConv2D', 'SeparableConv2D', 'Conv2DTranspose',
      'MaxPooling1D', 'MaxPooling2D', 'MaxPooling3D', 'AveragePooling1D', 'AveragePooling2D', 'AveragePooling3D',
      'GlobalAveragePooling1D', 'GlobalAveragePooling2D', 'GlobalMaxPooling1D', 'GlobalMaxPooling2D', 'Flatten', 'Reshape',
      'Permute', 'RepeatVector', 'Dropout', 'SpatialDropout1D', 'GaussianNoise', 'GaussianDropout', 'AlphaDropout',
      'BatchNormalization', 'LayerNormalization', 'Activation', 'ReLU', 'LeakyReLU', 'PReLU', 'ELU', 'ThresholdedReLU',
      'Softmax', 'Add', 'Multiply', 'Average', 'Maximum', 'Minimum', 'Concatenate', 'Dot', 'ZeroPadding2D', 'Cropping2D',
      'UpSampling2D', 'Embedding', 'Masking', 'SimpleRNN', 'LSTM', 'GRU', 'Bidirectional', 'TimeDistributed', 'Rescaling',
      'Subtract', 'Normalization', 'ZeroPadding1D', 'ZeroPadding3D', 'Cropping1D', 'Cropping3D', 'UpSampling1D', 'UpSampling3D',
      'GlobalAveragePooling3D', 'GlobalMaxPooling3D',
    ];
    expect(wanted.filter((c) => !classes.has(c))).toEqual([]);
  });

  for (const name of names) {
    it(`${name}.h5 converts and matches tfjs-layers' outputs`, async () => {
      const out = execFileSync(PY, ['-c', READ, join(DIR, `${name}.h5`)], { maxBuffer: 1 << 26 });
      const file = JSON.parse(out.toString()) as {
        model_config: Record<string, unknown>; keras_version: string; layers: Record<string, [string, number[], number[]][]>;
      };
      expect(file.keras_version).toBe('2.13.1');
      const weights = new Map<string, LayerWeights>();
      for (const [layer, ws] of Object.entries(file.layers)) {
        weights.set(layer, { names: ws.map((w) => w[0]), tensors: ws.map(([n, shape, data]) => Tensor.fromArray('float32', shape, data, n)) });
      }
      const graph = buildGraph(file.model_config, weights, { kerasVersion: file.keras_version });
      const inputs = graph.inputs.map((_, i) => readNpy(readFileSync(join(DIR, `${name}.input_${i}.npy`))));
      const expected = graph.outputs.map((_, i) => readNpy(readFileSync(join(DIR, `${name}.output_${i}.npy`))));
      await runAndCompare(graph, inputs.map((t) => Float32Array.from(t.toFloat64())), inputs.map((t) => t.shape), expected);
      // Initializers are the file's weights under their names, or constants named under a layer.
      const fileNames = [...weights.values()].flatMap((w) => w.names);
      const layerNames = [...weights.keys()];
      for (const init of graph.initializers.keys()) {
        expect(fileNames.includes(init) || layerNames.some((l) => init.startsWith(`${l}/`)), init).toBe(true);
      }
      for (const n of graph.nodes) expect(layerNames.some((l) => n.name.startsWith(`${l}/`)), n.name).toBe(true);
    });
  }
});
