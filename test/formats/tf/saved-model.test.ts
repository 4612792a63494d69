/**
 * SavedModel folders of ../shared/fixtures/real read into importer input: the MetaGraph and
 * signature chosen, the signature's inputs and outputs as `node:port` cut points with their keys
 * (as SOURCE.md states them), and every variable the signature's computation uses bound to its
 * checkpoint value (TF1 through the saver's RestoreV2/Assign nodes, TF2 through the call nodes'
 * captured inputs and the object graph), with the values SOURCE.md states.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MconvError } from '../../../src/errors.js';
import { bindVariables } from '../../../src/formats/tf/ckpt-variables.js';
import { readSavedModel, savedModelDir } from '../../../src/formats/tf/saved-model.js';
import type { ReadOptions } from '../../../src/formats/types.js';
import { openSource } from '../../../src/io/files.js';
import { SHARED } from '../../helpers/cli.js';

const REAL = join(SHARED, 'real');
const present = existsSync(REAL);
if (!present) console.log(`skipped: ${REAL} is absent`);

const read = (rel: string, options: ReadOptions = {}) => readSavedModel(openSource(join(REAL, rel)), options);
const value = (c: ReturnType<typeof read>, node: string): number[] => [...c.binding.values.get(node)!.toFloat64()];

function refusal(f: () => unknown): MconvError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(MconvError);
    return e as MconvError;
  }
  throw new Error('expected a refusal');
}

describe.skipIf(!present)('SavedModels of the real fixtures', () => {
  it('TF1 SavedModels without variables: mlnet-matmul, redundant inputs, matrix half plus two', () => {
    const mm = read('mlnet-matmul');
    expect(mm.request).toMatchObject({ inputs: ['a:0', 'b:0'], inputNames: ['a', 'b'], outputs: ['c:0'], outputNames: ['c'] });
    expect(mm.checkpoint).toBeUndefined();
    expect(mm.binding.values.size).toBe(0);
    const ri = read('tf2onnx-saved-model-redundant-inputs');
    expect(ri.request).toMatchObject({ inputs: ['Placeholder:0', 'Placeholder_1:0'], inputNames: ['x', 'y'], outputs: ['Add:0'], outputNames: ['z'] });
    // TF Serving layout: the version folder is found.
    expect(savedModelDir(join(REAL, 'tfserving-matrix-half-plus-two-savedmodel'), true)).toBe('1');
    const mx = read('tfserving-matrix-half-plus-two-savedmodel');
    expect(mx.request).toMatchObject({ inputs: ['x:0'], outputs: ['y:0'] });
    expect(mx.metaGraph.tensorflowVersion).toMatch(/^1\.2\.0/);
  });

  it('TF1 with variables: the regression model W, b and the half-plus-two a, b, c', () => {
    const r = read('tf2onnx-regression/saved_model');
    expect(r.request).toMatchObject({ inputs: ['X:0'], inputNames: ['X'], outputs: ['pred:0'], outputNames: ['pred'] });
    expect(value(r, 'W')[0]).toBeCloseTo(0.21396178, 7);
    expect(value(r, 'b')[0]).toBeCloseTo(1.0495254, 7);
    expect(r.binding.methods).toContain('saver');
    const h = read('tfserving-half-plus-two-tf1-savedmodel');
    expect(h.signature!.key).toBe('serving_default');
    expect(h.signatureKeys.sort()).toEqual(['classify_x_to_y', 'regress_x2_to_y3', 'regress_x_to_y', 'regress_x_to_y2', 'serving_default']);
    expect(h.request).toMatchObject({ inputs: ['x:0'], outputs: ['y:0'] });
    expect([value(h, 'a'), value(h, 'b'), value(h, 'c')]).toEqual([[0.5], [2], [3]]);
    const y3 = read('tfserving-half-plus-two-tf1-savedmodel', { signature: 'regress_x2_to_y3' });
    expect(y3.request).toMatchObject({ inputs: ['x2:0'], inputNames: ['inputs'], outputs: ['y3:0'], outputNames: ['outputs'] });
  });

  it('TF1 mnist SavedModels: every VariableV2 bound, shapes of the documented layers', () => {
    const lr = read('mlnet-mnist-lr-savedmodel');
    expect(lr.request).toMatchObject({ inputs: ['Features:0'], outputs: ['Prediction:0'] });
    expect(lr.binding.values.get('W')!.shape).toEqual([784, 10]);
    expect(lr.binding.values.get('b')!.shape).toEqual([10]);
    const conv = read('mlnet-mnist-conv-savedmodel');
    expect(conv.binding.unresolved).toEqual([]);
    const shapes = [...conv.binding.values.entries()].filter(([k]) => !k.includes('Momentum')).map(([, t]) => t.shape);
    // conv 6x6x1x6, 5x5x6x12, 4x4x12x24, dense 7*7*24 -> 200, 200 -> 10 (with biases)
    expect(shapes).toEqual(expect.arrayContaining([[6, 6, 1, 6], [5, 5, 6, 12], [4, 4, 12, 24], [7 * 7 * 24, 200], [200, 10]]));
  });

  it('TF2 tfjs-node SavedModels: variables hold the factors of the expected outputs', () => {
    const scalar = (rel: string, node: string): number => value(read(`tfjs-node-savedmodels/${rel}`), node)[0]!;
    // x -> 3x, x -> 2x (SOURCE.md)
    expect(scalar('times_three_float', 'Variable')).toBe(3);
    expect(scalar('times_two_int', 'Variable')).toBe(2);
    const t3 = read('tfjs-node-savedmodels/times_three_float');
    expect(t3.request).toMatchObject({ inputs: ['serving_default_x:0'], inputNames: ['x'], outputs: ['StatefulPartitionedCall:0'], outputNames: ['output_0'] });
    expect(t3.binding.keys.get('Variable')).toBe('v/.ATTRIBUTES/VARIABLE_VALUE');
    expect(t3.binding.methods).toEqual(new Set(['object-graph']));
    // 3 -> 18 and [3, 4] -> [18, 24]: two variables whose product is 6.
    for (const d of ['uint8_multiply', 'int64_multiply']) {
      const c = read(`tfjs-node-savedmodels/${d}`);
      const product = [...c.binding.values.values()].reduce((a, t) => a * Number(t.toFloat64()[0]), 1);
      expect(product, d).toBe(6);
    }
    // The documented input dtypes (DT_UINT8 = 4, DT_INT64 = 9).
    expect(read('tfjs-node-savedmodels/uint8_multiply').signature!.inputs.x!.dtype).toBe(4);
    expect(read('tfjs-node-savedmodels/int64_multiply').signature!.inputs.x!.dtype).toBe(9);
    const multi = read('tfjs-node-savedmodels/model_multi_output');
    expect(multi.request).toMatchObject({
      inputs: ['serving_default_x:0', 'serving_default_y:0'], inputNames: ['x', 'y'],
      outputs: ['StatefulPartitionedCall:0', 'StatefulPartitionedCall:1'], outputNames: ['output_0', 'output_1'],
    });
  });

  it('TF2 signatures: serving_default and timestwo of module_with_multiple_signatures', () => {
    const def = read('tfjs-node-savedmodels/module_with_multiple_signatures');
    expect(def.signatureKeys.sort()).toEqual(['serving_default', 'timestwo']);
    const two = read('tfjs-node-savedmodels/module_with_multiple_signatures', { signature: 'timestwo' });
    expect(two.signature!.key).toBe('timestwo');
    expect(two.request.outputs).toHaveLength(1);
    expect(two.request.outputs).not.toEqual(def.request.outputs);
    // The variables the two signature functions capture: 3 (v) and 2 (two).
    const captured = (c: typeof def): number[] => {
      const call = c.metaGraph.graph.nodes.find((n) => `${n.name}:0` === c.request.outputs![0])!;
      return call.inputs.filter((i) => c.binding.values.has(i)).map((i) => value(c, i)[0]!);
    };
    expect(captured(def)).toEqual([3]);
    expect(captured(two)).toEqual([2]);
  });

  it('TF2 half plus two: a = 0.5, b = 2 captured by serving_default', () => {
    const c = read('tfserving-half-plus-two-tf2-savedmodel');
    expect(c.request).toMatchObject({ inputs: ['serving_default_x:0'], inputNames: ['x'], outputNames: ['y'] });
    const call = c.metaGraph.graph.nodes.find((n) => `${n.name}:0` === c.request.outputs![0])!;
    expect(call.op).toBe('StatefulPartitionedCall');
    expect(call.inputs.slice(1).map((i) => value(c, i)[0])).toEqual([0.5, 2]);
    expect(c.graph).toBeUndefined();
  });

  it('Keras SavedModels: layer variables bound through the object graph, keras_metadata read', () => {
    const k = read('tfnet-keras-savedmodel-simple_model_from_auto_compile');
    expect(k.request).toMatchObject({ inputs: ['serving_default_input_1:0'], inputNames: ['input_1'], outputNames: ['softmax'] });
    expect(k.binding.keys.get('dense/kernel')).toBe('layer_with_weights-0/kernel/.ATTRIBUTES/VARIABLE_VALUE');
    expect(k.binding.values.get('dense_1/kernel')!.shape).toEqual([100, 10]);
    expect(k.kerasObjects!.map((o) => o.identifier)).toContain('_tf_keras_network');
    const lstm = read('tfnet-keras-savedmodel-lstm_from_sequential');
    expect(lstm.metaGraph.graph.functions.length).toBe(95);
    expect([...lstm.binding.values.keys()]).toEqual(expect.arrayContaining(['lstm/lstm_cell/kernel', 'lstm/lstm_cell/recurrent_kernel', 'lstm/lstm_cell/bias', 'dense/kernel', 'dense/bias']));
    expect(lstm.binding.values.get('lstm/lstm_cell/kernel')!.shape).toEqual([3, 128]);
    const kd = read('kotlindl-mnist-dense-h5-and-savedmodel/saved_model');
    expect(kd.request).toMatchObject({ inputNames: ['flatten_2_input'], outputNames: ['dense_5'] });
    expect(kd.binding.values.get('dense_4/kernel')!.shape).toEqual([784, 128]);
    const pf = read('tfnet-keras-savedmodel-python_func_model');
    expect(pf.binding.values.get('transformer/matrix')!.shape).toEqual([784, 10]);
  });

  it('TF2: the object-graph route and the restore-function route bind the same keys; Keras models bind every variable', () => {
    const tf2 = [
      'tfserving-half-plus-two-tf2-savedmodel', 'kotlindl-mnist-dense-h5-and-savedmodel/saved_model',
      'tfnet-keras-savedmodel-lstm_from_sequential', 'tfnet-keras-savedmodel-python_func_model',
      'tfnet-keras-savedmodel-simple_model_from_auto_compile',
      ...['int64_multiply', 'model_multi_output', 'module_with_multiple_signatures', 'times_three_float'].map((d) => `tfjs-node-savedmodels/${d}`),
    ];
    for (const rel of tf2) {
      const c = read(rel);
      const viaObjects = bindVariables(c.metaGraph.graph, c.checkpoint, c.metaGraph.objectGraph);
      const viaRestore = bindVariables(c.metaGraph.graph, c.checkpoint, undefined);
      expect(viaRestore.methods.has('restore-function'), rel).toBe(true);
      let shared = 0;
      for (const [node, key] of viaObjects.keys) {
        if (!viaRestore.keys.has(node)) continue;
        expect(viaRestore.keys.get(node), `${rel}: ${node}`).toBe(key);
        shared++;
      }
      expect(shared, rel).toBeGreaterThan(0);
      if (rel.includes('keras')) expect(c.binding.unresolved, rel).toEqual([]);
    }
  });

  it('saved_model.pb given as a file reads the same', () => {
    const c = read('tf2onnx-regression/saved_model/saved_model.pb');
    expect(value(c, 'W')[0]).toBeCloseTo(0.21396178, 7);
  });

  it('signature errors list the available signatures', () => {
    // No --signature and no serving_default: the model still reads (for inspect); the choice is asked for later.
    const none = read('tfserving-counter-savedmodel');
    expect(none.signature).toBeUndefined();
    expect(none.signatureError?.kind).toBe('usage');
    expect(none.signatureError?.hint).toBe('choose one with --signature: get_counter, incr_counter, incr_counter_by, reset_counter');
    expect(value(none, 'counter')).toHaveLength(1);
    // --outputs without --signature: no choice needed.
    const cut = read('tfserving-counter-savedmodel', { outputs: ['Assign:0'] });
    expect(cut.signature).toBeUndefined();
    expect(cut.request.outputs).toEqual(['Assign:0']);
    const counter = read('tfserving-counter-savedmodel', { signature: 'get_counter' });
    expect(counter.request.inputs).toEqual([]);
    expect(value(counter, 'counter')).toHaveLength(1);
    const bad = refusal(() => read('tf2onnx-regression/saved_model', { signature: 'nope' }));
    expect(bad.message).toMatch(/no signature "nope"/);
    expect(bad.hint).toBe('available signatures: serving_default');
  });

  it('--inputs / --outputs override the signature', () => {
    const c = read('tfserving-half-plus-two-tf1-savedmodel', { inputs: ['x:0'], outputs: ['y:0', 'y3:0'] });
    expect(c.request.outputs).toEqual(['y:0', 'y3:0']);
    expect(c.request.outputNames).toBeUndefined();
    expect(c.request.inputNames).toBeUndefined();
  });

  it('a legacy SessionBundle is refused with a clear reason', () => {
    const e = refusal(() => read('tfserving-half-plus-two-legacy-sessionbundle'));
    expect(e.kind).toBe('unsupported');
    expect(e.message).toMatch(/SessionBundle/);
  });
});
