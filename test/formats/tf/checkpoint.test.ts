/**
 * TensorFlow checkpoints (TensorBundle): the index and data shards of every checkpoint in
 * ../shared/fixtures/real read with the same keys, dtypes, shapes, shards and values (float sums) as
 * an independent Python reader; the values SOURCE.md states (the regression model's W and b, the
 * Keras model's kernel1.npy / bias0.npy); TF2 object paths from `_CHECKPOINTABLE_OBJECT_GRAPH`;
 * and damaged checkpoints (data checksum, truncated or missing shard, corrupt index) refused with
 * MconvError 'unreadable' naming the file and offset.
 */
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MconvError } from '../../../src/errors.js';
import { OBJECT_GRAPH_KEY, readCheckpoint, shardName } from '../../../src/formats/tf/checkpoint.js';
import { openSource } from '../../../src/io/files.js';
import { SHARED, hasPython } from '../../helpers/cli.js';
import { pyCheckpoint, pyNpy } from './checkpoint-oracle.js';

const REAL = join(SHARED, 'real');
const present = existsSync(REAL);
if (!present) console.log(`skipped: ${REAL} is absent`);

const CHECKPOINTS: [folder: string, index: string][] = [
  ['tf2onnx-regression/checkpoint', 'model.index'],
  ['tf2onnx-regression/saved_model', 'variables/variables.index'],
  ['adlk-vae-cnn-tf-checkpoint-2shards', 'vae_cnn_mnist.tf.index'],
  ['mlnet-cifar-frozen-and-ckpt', 'model.ckpt.index'],
  ['mlnet-mnist-conv-savedmodel', 'variables/variables.index'],
  ['mlnet-mnist-lr-savedmodel', 'variables/variables.index'],
  ['kotlindl-mnist-dense-h5-and-savedmodel/saved_model', 'variables/variables.index'],
  ['tfnet-keras-savedmodel-lstm_from_sequential', 'variables/variables.index'],
  ['tfnet-keras-savedmodel-python_func_model', 'variables/variables.index'],
  ['tfnet-keras-savedmodel-simple_model_from_auto_compile', 'variables/variables.index'],
  ['tfserving-counter-savedmodel/00000123', 'variables/variables.index'],
  ['tfserving-half-plus-two-tf1-savedmodel/00000123', 'variables/variables.index'],
  ['tfserving-half-plus-two-tf2-savedmodel/00000123', 'variables/variables.index'],
  ...['int64_multiply', 'model_multi_output', 'model_single_input_multi_output', 'module_with_multiple_signatures', 'times_three_float', 'times_two_int', 'uint8_multiply']
    .map((d): [string, string] => [`tfjs-node-savedmodels/${d}`, 'variables/variables.index']),
];

function open(folder: string, index: string) {
  return readCheckpoint(openSource(join(REAL, folder)), index);
}

describe.skipIf(!present || !hasPython())('checkpoints of the real fixtures against a Python reader', () => {
  for (const [folder, index] of CHECKPOINTS) {
    it(`${folder}/${index}`, () => {
      const ckpt = open(folder, index);
      const theirs = pyCheckpoint(join(REAL, folder, index));
      expect(ckpt.tensors.map((t) => t.key)).toEqual(Object.keys(theirs).sort());
      for (const t of ckpt.tensors) {
        const p = theirs[t.key]!;
        expect([t.tfDType, t.shape, t.entry.shardId, t.entry.offset, t.entry.size], t.key).toEqual([p.dtype, p.shape, p.shard, p.offset, p.size]);
        if (p.sum !== undefined) {
          const sum = ckpt.tensor(t.key).toFloat64().reduce((a, v) => a + v, 0);
          expect(Math.abs(sum - p.sum), t.key).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(p.sum)) + 1e-6);
        } else if (t.dtype && t.dtype !== 'string') {
          // Other dtypes read too (checksum verified on read).
          expect(ckpt.tensor(t.key).bytes.length).toBe(p.size);
        }
      }
    });
  }
});

describe.skipIf(!present)('checkpoint values and object paths', () => {
  it('the regression checkpoint holds W = 0.21396178 and b = 1.0495254 (SOURCE.md)', () => {
    for (const [folder, index] of [['tf2onnx-regression/checkpoint', 'model.index'], ['tf2onnx-regression/saved_model', 'variables/variables.index']] as const) {
      const ckpt = open(folder, index);
      expect(ckpt.header.numShards).toBe(1);
      expect(ckpt.tensor('W').toFloat64()[0]).toBeCloseTo(0.21396178, 7);
      expect(ckpt.tensor('b').toFloat64()[0]).toBeCloseTo(1.0495254, 7);
      expect(ckpt.objectGraph).toBeUndefined();
    }
  });

  it.skipIf(!hasPython('numpy'))('the Keras SavedModel variables equal kernel1.npy and bias0.npy exactly (SOURCE.md)', () => {
    const dir = 'tfnet-keras-savedmodel-simple_model_from_auto_compile';
    const ckpt = open(dir, 'variables/variables.index');
    const kernel = pyNpy(join(REAL, dir, 'kernel1.npy'));
    const bias = pyNpy(join(REAL, dir, 'bias0.npy'));
    const k = ckpt.tensor('layer_with_weights-1/kernel/.ATTRIBUTES/VARIABLE_VALUE');
    const b = ckpt.tensor('layer_with_weights-0/bias/.ATTRIBUTES/VARIABLE_VALUE');
    expect(k.shape).toEqual(kernel.shape);
    expect(b.shape).toEqual(bias.shape);
    expect([...k.toFloat64()]).toEqual(kernel.values);
    expect([...b.toFloat64()]).toEqual(bias.values);
  });

  it('a TF2 checkpoint in two shards: object graph, object paths, TF names, optimizer slots', () => {
    const ckpt = open('adlk-vae-cnn-tf-checkpoint-2shards', 'vae_cnn_mnist.tf.index');
    expect(ckpt.header.numShards).toBe(2);
    expect(new Set(ckpt.tensors.map((t) => t.entry.shardId))).toEqual(new Set([0, 1]));
    expect(ckpt.objectGraph!.length).toBeGreaterThan(10);
    const values = ckpt.tensors.filter((t) => t.key.endsWith('/.ATTRIBUTES/VARIABLE_VALUE'));
    expect(values.length).toBe(ckpt.tensors.length - 1);
    for (const t of values) {
      expect(t.objectPath, t.key).toBeDefined();
      // The object path is the key without the attribute suffix.
      expect(`${t.objectPath}/.ATTRIBUTES/VARIABLE_VALUE`).toBe(t.key);
      expect(t.fullName, t.key).toBeTruthy();
    }
    const kernel = ckpt.byKey.get('layer_with_weights-0/layer_with_weights-0/kernel/.ATTRIBUTES/VARIABLE_VALUE')!;
    expect(kernel.fullName).toBe('conv2d/kernel');
    expect(kernel.shape).toEqual([3, 3, 1, 32]);
    const slot = ckpt.tensors.find((t) => t.key.includes('.OPTIMIZER_SLOT'))!;
    expect(slot.objectPath).toContain('/.OPTIMIZER_SLOT/optimizer/rms');
    expect(slot.fullName).toMatch(/^RMSprop\//);
    // The object graph tensor is a scalar string.
    expect(ckpt.tensor(OBJECT_GRAPH_KEY).shape).toEqual([]);
  });

  it('names data shards as TF does', () => {
    expect(shardName('model.ckpt', 0, 1)).toBe('model.ckpt.data-00000-of-00001');
    expect(shardName('x', 1, 2)).toBe('x.data-00001-of-00002');
  });
});

describe.skipIf(!present)('damaged checkpoints', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'mconv-ckpt-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));
  const src = join(REAL, 'tf2onnx-regression/checkpoint');
  let n = 0;
  const copy = (): string => {
    const dir = join(tmp, `c${n++}`);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    for (const f of ['model.index', 'model.data-00000-of-00001', 'checkpoint']) copyFileSync(join(src, f), join(dir, f));
    return dir;
  };
  const refusal = (f: () => unknown): MconvError => {
    try {
      f();
    } catch (e) {
      expect(e).toBeInstanceOf(MconvError);
      return e as MconvError;
    }
    throw new Error('expected a refusal');
  };

  it('a flipped data byte is a checksum mismatch naming the shard and offset', () => {
    const dir = copy();
    const data = join(dir, 'model.data-00000-of-00001');
    const bytes = readFileSync(data);
    bytes[5] ^= 0x40; // inside b (bytes 4..7)
    writeFileSync(data, bytes);
    const ckpt = readCheckpoint(openSource(dir), 'model.index');
    expect(ckpt.tensor('W').toFloat64()[0]).toBeCloseTo(0.21396178, 7); // W is intact
    const b = ckpt.tensor('b');
    const e = refusal(() => b.bytes);
    expect(e.kind).toBe('unreadable');
    expect(e.message).toMatch(/checksum mismatch in tensor b/);
    expect(e.file).toContain('model.data-00000-of-00001');
    expect(e.where).toBe('byte 4');
  });

  it('a truncated or missing data shard is refused when the tensor is read', () => {
    const dir = copy();
    truncateSync(join(dir, 'model.data-00000-of-00001'), 6);
    const e = refusal(() => readCheckpoint(openSource(dir), 'model.index').tensor('b').bytes);
    expect(e.message).toMatch(/needs 4 bytes at offset 4, the file ends after 2/);
    rmSync(join(dir, 'model.data-00000-of-00001'));
    const m = refusal(() => readCheckpoint(openSource(dir), 'model.index').tensor('W').bytes);
    expect(m.message).toMatch(/data shard of tensor W is missing/);
  });

  it('a corrupt index is refused naming the index file and the offset', () => {
    const dir = copy();
    const index = join(dir, 'model.index');
    const bytes = readFileSync(index);
    bytes[3] ^= 0x10; // inside the first data block
    writeFileSync(index, bytes);
    const e = refusal(() => readCheckpoint(openSource(dir), 'model.index'));
    expect(e.kind).toBe('unreadable');
    expect(e.file).toBe(join(dir, 'model.index'));
    expect(e.message).toMatch(/checksum mismatch/);
    expect(e.where).toBe('byte 0');
    const cut = copy();
    truncateSync(join(cut, 'model.index'), 100);
    expect(refusal(() => readCheckpoint(openSource(cut), 'model.index')).message).toMatch(/bad magic/);
    expect(basename(cut)).toMatch(/^c\d+$/);
  });
});
