/**
 * Broken Keras files give one clear MconvError line (file, format, what is wrong), never a stack
 * trace: truncated HDF5, an HDF5 file that is not Keras, bad JSON in model_config, a weight listed
 * but missing, a `.keras` without its weights or with a bad config.json.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { zipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MconvError } from '../../../src/errors.js';
import { loadModel } from '../../../src/formats/registry.js';
import { OWN, PY, pythonHas } from './util.js';

const MAKE = `
import h5py, json, sys, numpy as np
d = sys.argv[1]
with h5py.File(d + '/plain.h5', 'w') as f:
    f.create_dataset('x', data=np.zeros(3, dtype=np.float32))
with h5py.File(d + '/badjson.h5', 'w') as f:
    f.attrs['model_config'] = '{"class_name": "Sequential", "config": '
    f.create_group('model_weights')
with h5py.File(d + '/missing.h5', 'w') as f:
    f.attrs['model_config'] = json.dumps({'class_name': 'Sequential', 'config': {'name': 's', 'layers': [
        {'class_name': 'Dense', 'config': {'name': 'dense', 'units': 2, 'batch_input_shape': [None, 3]}}]}})
    mw = f.create_group('model_weights')
    mw.attrs['layer_names'] = np.array([b'dense'])
    g = mw.create_group('dense')
    g.attrs['weight_names'] = np.array([b'dense/kernel:0', b'dense/bias:0'])
    g.create_dataset('dense/kernel:0', data=np.zeros((3, 2), dtype=np.float32))
with h5py.File(d + '/shapes.h5', 'w') as f:
    f.attrs['model_config'] = json.dumps({'class_name': 'Sequential', 'config': {'name': 's', 'layers': [
        {'class_name': 'Dense', 'config': {'name': 'dense', 'units': 2, 'batch_input_shape': [None, 3]}}]}})
    mw = f.create_group('model_weights')
    mw.attrs['layer_names'] = np.array([b'dense'])
    g = mw.create_group('dense')
    g.attrs['weight_names'] = np.array([b'dense/kernel:0', b'dense/bias:0'])
    g.create_dataset('dense/kernel:0', data=np.zeros((5, 2), dtype=np.float32))
    g.create_dataset('dense/bias:0', data=np.zeros((2,), dtype=np.float32))
`;

const ok = pythonHas('h5py, numpy');
if (!ok) console.warn(`hostile Keras files: ${PY} with h5py missing; skipping`);

describe.skipIf(!ok)('broken Keras files', () => {
  let dir = '';
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'mconv-keras-bad-'));
    execFileSync(PY, ['-c', MAKE, dir]);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  async function error(file: string): Promise<MconvError> {
    const e = await loadModel(file).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(MconvError);
    return e as MconvError;
  }

  it('a truncated .h5', async () => {
    const bytes = readFileSync(join(OWN, 'mnist_cnn.h5'));
    writeFileSync(join(dir, 'cut.h5'), bytes.subarray(0, 50_000));
    const e = await error(join(dir, 'cut.h5'));
    expect(e.kind).toBe('unreadable');
    expect(e.oneLine()).toMatch(/cut\.h5 \(keras\): not a readable HDF5 file: truncated file/);
  });

  it('an HDF5 file that holds no Keras model', async () => {
    const e = await error(join(dir, 'plain.h5'));
    expect(e.message).toMatch(/not a Keras model or weights file/);
  });

  it('model_config that is not JSON', async () => {
    const e = await error(join(dir, 'badjson.h5'));
    expect(e.message).toMatch(/attribute model_config is not valid JSON/);
  });

  it('a weight listed in weight_names but absent', async () => {
    const e = await error(join(dir, 'missing.h5'));
    expect(e.message).toMatch(/layer dense lists weight dense\/bias:0, but the file has no such dataset/);
  });

  it('weights whose shapes do not fit the config: the model reads, conversion names the layer', async () => {
    const m = await loadModel(join(dir, 'shapes.h5'));
    expect(m.graph.outputs).toEqual([]);
    expect(m.metadata['keras.graph_error']).toMatch(/dense/);
  });

  it('a .keras archive without weights, or with a broken config.json', async () => {
    writeFileSync(join(dir, 'noweights.keras'), zipSync({ 'metadata.json': new TextEncoder().encode('{"keras_version": "3.1.1"}'), 'config.json': readFileSync(join(OWN, 'keras3_recurrent.config.json')) }));
    expect((await error(join(dir, 'noweights.keras'))).message).toMatch(/no model.weights.h5/);
    writeFileSync(join(dir, 'badcfg.keras'), zipSync({ 'metadata.json': new TextEncoder().encode('{}'), 'config.json': new TextEncoder().encode('{"class_name": '), 'model.weights.h5': readFileSync(join(OWN, 'keras3_recurrent.weights.h5')) }));
    expect((await error(join(dir, 'badcfg.keras'))).message).toMatch(/config.json in the archive is not valid JSON/);
  });
});
