/**
 * The TensorFlow handlers through `loadModel` (the inspect path): which handler each file or
 * folder of ../shared/fixtures/real goes to (and that ONNX, Keras, PyTorch and TFLite files do not
 * go to them), checkpoints as weights-only Models listing every variable, SavedModel / GraphDef /
 * .meta metadata, and the errors users hit.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MconvError } from '../../../src/errors.js';
import { detectFormat, loadModel } from '../../../src/formats/registry.js';
import { checkpointStatePrefix } from '../../../src/formats/tf/index.js';
import { looksLikeGraphDef, looksLikeSavedModelPb } from '../../../src/formats/tf/sniff.js';
import { openSource } from '../../../src/io/files.js';
import { ROOT, SHARED, mconv } from '../../helpers/cli.js';
import { pyCheckpoint } from './checkpoint-oracle.js';

const REAL = join(SHARED, 'real');
const present = existsSync(REAL);
if (!present) console.log(`skipped: ${REAL} is absent`);
const hasImporter = existsSync(join(ROOT, 'src/formats/tf/import-graph.ts'));

function detect(p: string): string | undefined {
  const s = openSource(p);
  try {
    return detectFormat(s)?.handler.id;
  } finally {
    s.close();
  }
}

async function refusal(p: Promise<unknown>): Promise<MconvError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(MconvError);
    return e as MconvError;
  }
  throw new Error('expected a refusal');
}

describe.skipIf(!present)('TF format detection', () => {
  const cases: [string, string | undefined][] = [
    ['tf2onnx-ae0/frozen.pb', 'tf-graphdef'],
    ['tf2onnx-regression/graphdef/frozen.pb', 'tf-graphdef'],
    ['mlnet-matmul/frozen_saved_model.pb', 'tf-graphdef'],
    ['mlnet-matmul/saved_model.pb', 'tf-savedmodel'],
    ['mlnet-matmul', 'tf-savedmodel'],
    ['tfserving-half-plus-two-tf2-savedmodel', 'tf-savedmodel'],
    ['tfserving-half-plus-two-tf2-savedmodel/00000123/saved_model.pb', 'tf-savedmodel'],
    ['tfserving-half-plus-two-legacy-sessionbundle', 'tf-savedmodel'],
    ['tf2onnx-regression/checkpoint', 'tf-checkpoint'],
    ['tf2onnx-regression/checkpoint/checkpoint', 'tf-checkpoint'],
    ['tf2onnx-regression/checkpoint/model.index', 'tf-checkpoint'],
    ['tf2onnx-regression/checkpoint/model.meta', 'tf-checkpoint'],
    ['adlk-vae-cnn-tf-checkpoint-2shards', 'tf-checkpoint'],
    ['tfnet-keras-savedmodel-simple_model_from_auto_compile/keras_metadata.pb', undefined],
    ['tfserving-half-plus-two-tflite/00000123/model.tflite', undefined],
    ['tf2onnx-regression/checkpoint/model.data-00000-of-00001', undefined],
    ['kotlindl-mnist-dense-h5-and-savedmodel/hdf5/mnist.h5', 'keras'],
  ];
  for (const [rel, id] of cases) {
    it(`${rel} -> ${id ?? 'nothing'}`, () => expect(detect(join(REAL, rel))).toBe(id));
  }

  it('ONNX models and ONNX TensorProto .pb files are not taken for TensorFlow', () => {
    const onnx = existsSync(join(SHARED, 'torch'))
      ? execFileSync('find', [join(SHARED, 'torch'), '-name', '*.onnx'], { encoding: 'utf8' }).trim().split('\n').filter(Boolean)
      : [];
    const data = '/usr/share/libonnx-testdata/data/node';
    const pbs = existsSync(data)
      ? execFileSync('find', [data, '-name', '*.pb'], { encoding: 'utf8' }).trim().split('\n').filter((_, i) => i % 7 === 0)
      : [];
    const models = existsSync(data)
      ? execFileSync('find', [data, '-name', 'model.onnx'], { encoding: 'utf8' }).trim().split('\n').filter((_, i) => i % 5 === 0)
      : [];
    if (!onnx.length && !pbs.length) console.log('skipped: no ONNX files found');
    for (const f of [...onnx, ...models]) expect(detect(f), f).toBe('onnx');
    for (const f of pbs) expect(detect(f) ?? 'none', f).not.toMatch(/^tf-/);
  });
});

describe('TF sniffing on hand-made heads', () => {
  const enc = new TextEncoder();
  const field = (n: number, bytes: number[]): number[] => [(n << 3) | 2, bytes.length, ...bytes];
  const text = (s: string): number[] => [...enc.encode(s)];
  it('a GraphDef needs a NodeDef with a text name and an op name', () => {
    const node = [...field(1, text('x')), ...field(2, text('Placeholder'))];
    expect(looksLikeGraphDef(new Uint8Array(field(1, node)))).toBe(true);
    expect(looksLikeGraphDef(new Uint8Array(field(1, field(1, text('x')))))).toBe(false); // no op
    expect(looksLikeGraphDef(new Uint8Array(field(1, [...field(1, text('x')), ...field(2, [1, 2, 3])])))).toBe(false);
    // An ONNX ModelProto starts with ir_version (field 1, varint).
    expect(looksLikeGraphDef(new Uint8Array([0x08, 0x07, ...field(2, text('pytorch'))]))).toBe(false);
  });
  it('a SavedModel starts with its schema version and a MetaGraphDef', () => {
    const meta = field(1, field(4, text('serve')));
    expect(looksLikeSavedModelPb(new Uint8Array([0x08, 0x01, ...field(2, meta)]))).toBe(true);
    // ONNX: ir_version then producer_name text.
    expect(looksLikeSavedModelPb(new Uint8Array([0x08, 0x07, ...field(2, text('pytorch'))]))).toBe(false);
  });
  it('reads the checkpoint state file', () => {
    expect(checkpointStatePrefix('model_checkpoint_path: "model.ckpt"\nall_model_checkpoint_paths: "model.ckpt"\n')).toBe('model.ckpt');
    expect(checkpointStatePrefix('model_checkpoint_path: "/tmp/x/a\\"b"\n')).toBe('/tmp/x/a"b');
    expect(checkpointStatePrefix('something else')).toBeUndefined();
  });
});

describe.skipIf(!present)('TF models through loadModel', () => {
  it('a TF2 checkpoint in two shards is a weights-only Model listing every variable', async () => {
    const dir = join(REAL, 'adlk-vae-cnn-tf-checkpoint-2shards');
    const theirs = pyCheckpoint(join(dir, 'vae_cnn_mnist.tf.index'));
    for (const p of [dir, join(dir, 'checkpoint'), join(dir, 'vae_cnn_mnist.tf.index')]) {
      const m = await loadModel(p);
      expect(m.source.format).toBe('tf-checkpoint');
      expect(m.graph.nodes).toHaveLength(0);
      expect(m.graph.outputs).toHaveLength(0);
      expect(m.metadata['tf.weights_only']).toBe('true');
      expect(m.metadata['tf.checkpoint_shards']).toBe('2');
      const keys = Object.keys(theirs).filter((k) => k !== '_CHECKPOINTABLE_OBJECT_GRAPH');
      expect([...m.graph.initializers.keys()].sort()).toEqual(keys.sort());
      for (const k of keys) {
        const v = m.graph.initializers.get(k)!;
        expect(v.shape, k).toEqual(theirs[k]!.shape);
        expect(v.dtype, k).toBe(theirs[k]!.dtype === 1 ? 'float32' : 'int64');
      }
      // One summary row per variable; optimizer state counted apart from parameters.
      expect(m.layers).toHaveLength(keys.length);
      const kernel = m.layers!.find((l) => l.name === 'conv2d/kernel')!;
      expect(kernel).toMatchObject({ className: 'float32', outputShapes: [[3, 3, 1, 32]], parameters: 288, buffers: 0 });
      expect(m.layers!.find((l) => l.name === 'RMSprop/conv2d/kernel/rms')).toMatchObject({ parameters: 0, buffers: 288 });
      expect(m.source.fileSize).toBe(3205 + 6424 + 1073344);
      const paths = JSON.parse(m.metadata['tf.object_paths']!) as Record<string, string>;
      expect(paths['layer_with_weights-0/layer_with_weights-0/kernel/.ATTRIBUTES/VARIABLE_VALUE']).toBe('layer_with_weights-0/layer_with_weights-0/kernel (conv2d/kernel)');
    }
  });

  it('a TF1 .meta with its checkpoint: graph metadata and bound variables (also from the .index path and the folder)', async () => {
    const dir = join(REAL, 'tf2onnx-regression/checkpoint');
    for (const p of [join(dir, 'model.meta'), join(dir, 'model.index'), dir, join(dir, 'checkpoint')]) {
      const m = await loadModel(p);
      expect(m.source.format).toBe('tf-checkpoint');
      expect(m.metadata['tf.container']).toBe('metagraph');
      expect(m.producer).toEqual({ name: 'tensorflow', version: '1.11.0' });
      expect(JSON.parse(m.metadata['tf.variable_keys']!)).toEqual({ W: 'W', b: 'b' });
      if (m.graph.outputs.length === 0) {
        expect(m.metadata['tf.graph_error']).toBeTruthy();
        expect(m.graph.initializers.get('W')!.initializer!.toFloat64()[0]).toBeCloseTo(0.21396178, 7);
      }
    }
  });

  it('SavedModel metadata: format, producer, tags, signatures, binding', async () => {
    const m = await loadModel(join(REAL, 'tfserving-half-plus-two-tf1-savedmodel'));
    expect(m.source.format).toBe('tf-savedmodel');
    expect(m.producer).toEqual({ name: 'tensorflow', version: '1.14.0' });
    expect(m.metadata['tf.tags']).toBe('serve');
    expect(m.metadata['tf.signature']).toBe('serving_default');
    const sigs = JSON.parse(m.metadata['tf.signatures']!) as Record<string, { inputs: Record<string, string>; outputs: Record<string, string> }>;
    expect(Object.keys(sigs).sort()).toEqual(['classify_x_to_y', 'regress_x2_to_y3', 'regress_x_to_y', 'regress_x_to_y2', 'serving_default']);
    expect(sigs.serving_default).toMatchObject({ inputs: { x: 'x:0' }, outputs: { y: 'y:0' } });
    expect(JSON.parse(m.metadata['tf.unresolved_variables']!)).toEqual(['filename_tensor']);
    expect(m.source.fileSize).toBe(19 + 12107 + 20 + 172);
  });

  it('Keras SavedModel: summary rows from keras_metadata.pb with parameters from the object graph', async () => {
    const m = await loadModel(join(REAL, 'tfnet-keras-savedmodel-simple_model_from_auto_compile'));
    expect(m.metadata['tf.keras_class']).toBe('Functional');
    expect(m.layers!.map((l) => `${l.name}:${l.className}:${l.parameters}`)).toEqual([
      'input_1:InputLayer:0', 'flatten:Flatten:0', 'dense:Dense:78500', 'dense_1:Dense:1010', 'softmax:Softmax:0',
    ]);
  });

  it('frozen GraphDef: graph producer metadata; imported when the importer is present', async () => {
    const m = await loadModel(join(REAL, 'tf2onnx-regression/graphdef/frozen.pb'));
    expect(m.source.format).toBe('tf-graphdef');
    expect(m.metadata['tf.container']).toBe('graphdef');
    if (hasImporter && m.graph.outputs.length) {
      expect(m.graph.inputs.map((v) => v.name)).toContain('X');
    } else {
      // Without a graph, the Const weights are listed.
      expect([...m.graph.initializers.keys()].sort()).toEqual(['W', 'b']);
      expect(m.metadata['tf.graph_error']).toBeTruthy();
    }
  });

  it('errors: a SessionBundle, an unknown signature, a damaged SavedModel', async () => {
    const sb = await refusal(loadModel(join(REAL, 'tfserving-half-plus-two-legacy-sessionbundle')));
    expect(sb.kind).toBe('unsupported');
    expect(sb.oneLine()).toMatch(/SessionBundle.*tf\.saved_model/);
    // Several signatures, none serving_default: inspect shows the weights and the signatures;
    // convert and run ask for --signature, listing them.
    const counter = await loadModel(join(REAL, 'tfserving-counter-savedmodel'));
    expect(Object.keys(JSON.parse(counter.metadata['tf.signatures']!)).sort()).toEqual(['get_counter', 'incr_counter', 'incr_counter_by', 'reset_counter']);
    expect([...counter.graph.initializers.values()].map((v) => v.initializer!.shape)).toEqual([[]]);
    const i = await mconv(['inspect', join(REAL, 'tfserving-counter-savedmodel')]);
    expect(i.code, i.stderr).toBe(0);
    const sig = await mconv(['run', join(REAL, 'tfserving-counter-savedmodel')]);
    expect(sig.code).toBe(3);
    expect(sig.stderr).toMatch(/none is serving_default.*--signature: get_counter, incr_counter, incr_counter_by, reset_counter/s);
    const got = await mconv(['run', join(REAL, 'tfserving-counter-savedmodel'), '--signature', 'get_counter', '--json']);
    expect(got.code, got.stderr).toBe(0);
    // A signature that updates the variable says so.
    const incr = await mconv(['run', join(REAL, 'tfserving-counter-savedmodel'), '--signature', 'incr_counter']);
    expect(incr.code).toBe(3);
    expect(incr.stderr).toMatch(/AssignAdd change variables: this graph updates state/);
    const tmp = mkdtempSync(join(tmpdir(), 'mconv-sm-'));
    try {
      const bytes = execFileSync('head', ['-c', '3000', join(REAL, 'mlnet-mnist-lr-savedmodel/saved_model.pb')]);
      writeFileSync(join(tmp, 'saved_model.pb'), bytes);
      const bad = await refusal(loadModel(tmp));
      expect(bad.kind).toBe('unreadable');
      expect(bad.file).toBe(join(tmp, 'saved_model.pb'));
      expect(bad.message).toMatch(/not a valid SavedModel/);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });

  it('a corrupt .index through loadModel names the file and offset', async () => {
    const tmp = mkdtempSync(join(tmpdir(), 'mconv-idx-'));
    try {
      const src = join(REAL, 'tf2onnx-regression/checkpoint');
      copyFileSync(join(src, 'model.data-00000-of-00001'), join(tmp, 'model.data-00000-of-00001'));
      const idx = execFileSync('cat', [join(src, 'model.index')]);
      idx[idx.length - 30] ^= 0xff; // inside the footer's handles or padding
      idx[10] ^= 0x01;
      writeFileSync(join(tmp, 'model.index'), idx);
      const e = await refusal(loadModel(join(tmp, 'model.index')));
      expect(e.kind).toBe('unreadable');
      expect(e.file).toBe(join(tmp, 'model.index'));
      expect(e.where).toMatch(/^byte \d+$/);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });
});

describe.skipIf(!present)('damaged TF files never crash the reader', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'mconv-tffuzz-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));
  // Seeded bit flips and truncations of each file of a SavedModel and of a checkpoint with its .meta:
  // the read either succeeds (the damage hit padding or a value) or is an MconvError of the reader's
  // own (not the generic "cannot read" wrapper around an unexpected exception); lazy weights too.
  let seed = 20261123;
  const rnd = (): number => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
  const sets: [string, string[]][] = [
    ['tfjs-node-savedmodels/times_three_float', ['saved_model.pb', 'variables/variables.index', 'variables/variables.data-00000-of-00001']],
    ['tf2onnx-regression/checkpoint', ['model.index', 'model.meta', 'model.data-00000-of-00001', 'checkpoint']],
  ];
  for (const [dir, files] of sets) {
    it(dir, async () => {
      let refused = 0;
      for (let iter = 0; iter < 40; iter++) {
        const out = join(tmp, `${dir.replace(/\//g, '_')}_${iter}`);
        execFileSync('mkdir', ['-p', join(out, 'variables')]);
        for (const f of files) copyFileSync(join(REAL, dir, f), join(out, f));
        const target = files[Math.floor(rnd() * files.length)]!;
        const b = execFileSync('cat', [join(out, target)]);
        for (let k = 0; k < 1 + Math.floor(rnd() * 4); k++) b[Math.floor(rnd() * b.length)] ^= 1 << Math.floor(rnd() * 8);
        writeFileSync(join(out, target), rnd() < 0.2 ? b.subarray(0, Math.floor(rnd() * b.length)) : b);
        try {
          const m = await loadModel(out);
          for (const v of m.graph.initializers.values()) {
            try {
              void (v.initializer!.dtype === 'string' ? v.initializer!.strings : v.initializer!.bytes);
            } catch (e) {
              expect(e, `${target} #${iter}`).toBeInstanceOf(MconvError);
            }
          }
        } catch (e) {
          expect(e, `${target} #${iter}`).toBeInstanceOf(MconvError);
          expect((e as MconvError).message, `${target} #${iter}`).not.toMatch(/^cannot read the/);
          refused++;
        }
      }
      expect(refused).toBeGreaterThan(0);
    });
  }
});

describe.skipIf(!present)('mconv inspect on TF files', () => {
  it('lists the variables of a checkpoint', async () => {
    const r = await mconv(['inspect', join(REAL, 'mlnet-cifar-frozen-and-ckpt/model.ckpt.index')]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/Format: tf-checkpoint/);
    expect(r.stdout).toMatch(/W1 \(float32\)\s*│ \(5408, 10\)\s*│\s*54,080/);
  });
});
