/**
 * The Keras reader through the CLI: detection by content, `inspect` rows like model.summary(),
 * `convert --config` for weights-only files with `--verify` against onnxruntime, `--to tfjs-layers`,
 * and one clear line (exit code 3) for a model whose layers do not all convert.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { detectFormat } from '../../../src/formats/registry.js';
import { memorySourceFiles, openSource } from '../../../src/io/files.js';
import { mconv } from '../../helpers/cli.js';
import { OWN, REAL } from './util.js';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'mconv-keras-cli-'));
  dirs.push(d);
  return d;
}

describe('detection', () => {
  it('recognises Keras HDF5, .keras archives and tfjs layers-models by content, whatever the name', () => {
    const detect = (file: string, as = 'model.bin') => {
      const bytes = new Uint8Array(readFileSync(file));
      return detectFormat(memorySourceFiles(bytes, as))?.handler.id;
    };
    expect(detect(join(OWN, 'mnist_cnn.h5'))).toBe('keras');
    expect(detect(join(OWN, 'keras3_recurrent.keras'))).toBe('keras');
    expect(detect(join(OWN, 'keras3_recurrent.weights.h5'))).toBe('keras');
    expect(detect(join(OWN, 'keras3_recurrent.config.json'))).toBeUndefined();
    const small = join(REAL, 'tfjs-layers-model-small', 'model.json');
    if (existsSync(small)) expect(detect(small)).toBe('tfjs-layers');
    const graphModel = join(REAL, 'tfjs-graph-model-small', 'model.json');
    if (existsSync(graphModel)) expect(detect(graphModel)).not.toBe('tfjs-layers');
    const src = openSource(join(OWN, 'nested_shared.h5'));
    expect(detectFormat(src)?.by).toBe('content');
    src.close();
  });
});

describe('mconv CLI on Keras files', () => {
  it('inspect prints the layers as model.summary() does', async () => {
    const r = await mconv(['inspect', join(OWN, 'mnist_cnn.h5')]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/conv2d \(Conv2D\)\s+│ \(None, 26, 26, 32\)\s+│\s+320 │/);
    expect(r.stdout).toMatch(/dense \(Dense\)\s+│ \(None, 64\)\s+│\s+36,928 │/);
    expect(r.stdout).toMatch(/Trainable params: 93,322/);
    expect(r.stdout).toMatch(/keras_version: 2\.4\.0/);
    expect(r.stdout).toMatch(/keras\.optimizer: Adam \(learning_rate 0\.001\)/);
  });

  it.skipIf(!existsSync(REAL))('convert --config for a weights-only file, verified with onnxruntime', async () => {
    const out = join(tmp(), 'toyresnet.onnx');
    const d = join(REAL, 'kotlindl-toyresnet-weights-h5');
    const r = await mconv(['convert', join(d, 'weights.h5'), '--config', join(d, 'modelConfig.json'), '--to', 'onnx', '-o', out, '--verify']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/all outputs agree/);
    expect(existsSync(out)).toBe(true);
  });

  it('convert --to tfjs-layers writes model.json and its shard, verified by reading them back', async () => {
    const out = join(tmp(), 'model.json');
    const r = await mconv(['convert', join(OWN, 'nested_shared.h5'), '--to', 'tfjs-layers', '-o', out, '--verify']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/group1-shard1of1\.bin/);
    expect(r.stdout).toMatch(/all outputs agree/);
  });

  it.skipIf(!existsSync(REAL))('a model with a custom layer inspects, and convert names the layers and the class (exit 3)', async () => {
    const file = join(REAL, 'adlk-cyclegan-unet-custom-layer-h5', 'cyclegan_cifar10-g_source.h5');
    const i = await mconv(['inspect', file]);
    expect(i.code, i.stderr).toBe(0);
    expect(i.stdout).toMatch(/instance_normalization_7 \(InstanceNormalization\) \[not convertible\]/);
    expect(i.stdout).toMatch(/Total params: 870,183/);
    const c = await mconv(['convert', file, '--to', 'onnx', '-o', join(tmp(), 'x.onnx')]);
    expect(c.code).toBe(3);
    expect(c.stderr).toMatch(/layers 'instance_normalization_7', .*of class InstanceNormalization have no converter; register one with registerKerasLayer\('InstanceNormalization', \.\.\.\)/);
  });

  it('a weights-only file without --config inspects, and convert asks for --config', async () => {
    const i = await mconv(['inspect', join(OWN, 'keras3_recurrent.weights.h5')]);
    expect(i.code, i.stderr).toBe(0);
    expect(i.stdout).toMatch(/bidirectional\s+│\s+│\s+320 │/);
    const c = await mconv(['convert', join(OWN, 'keras3_recurrent.weights.h5'), '--to', 'onnx', '-o', join(tmp(), 'x.onnx')]);
    expect(c.code).toBe(3);
    expect(c.stderr).toMatch(/weights only.*--config FILE/);
  });
});
