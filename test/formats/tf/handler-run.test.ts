/**
 * End to end through the TF handlers and the graph importer: SavedModels, a frozen GraphDef and a
 * TF1 .meta + checkpoint of ../shared/fixtures/real are loaded, run in mconv's runtime, and give
 * the outputs SOURCE.md states (y = 0.5x + 2, 3x, 2x, the regression's W x + b, a + b, a @ b), and
 * for the Keras dense MNIST SavedModels the outputs computed here in plain JS from the checkpoint
 * weights (read through the checkpoint reader, which checkpoint.test.ts checks against Python).
 * Skipped while the importer (import-graph.ts) is not in the tree.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { run } from '../../../src/api.js';
import { loadModel } from '../../../src/formats/registry.js';
import { readCheckpoint } from '../../../src/formats/tf/checkpoint.js';
import type { ReadOptions } from '../../../src/formats/types.js';
import type { Model } from '../../../src/ir/graph.js';
import { Tensor, type DType } from '../../../src/ir/tensor.js';
import { openSource } from '../../../src/io/files.js';
import { ROOT, SHARED } from '../../helpers/cli.js';

const REAL = join(SHARED, 'real');
const hasImporter = existsSync(join(ROOT, 'src/formats/tf/import-graph.ts'));
if (!hasImporter) console.log('skipped: src/formats/tf/import-graph.ts (the TF graph importer) is not in the tree');
if (!existsSync(REAL)) console.log(`skipped: ${REAL} is absent`);

interface Feed {
  dtype: DType;
  shape: number[];
  values: number[];
}

/** Runs a model on feeds given in the order of its inputs; returns its outputs in order, as doubles. */
async function runIt(model: Model, feeds: Feed[]): Promise<number[][]> {
  expect(model.graph.outputs.length, model.metadata['tf.graph_error'] ?? '').toBeGreaterThan(0);
  expect(model.graph.inputs.length).toBe(feeds.length);
  const map = new Map<string, Tensor>();
  model.graph.inputs.forEach((v, i) => {
    const f = feeds[i]!;
    map.set(v.name, Tensor.fromArray(f.dtype, f.shape, f.dtype === 'int64' ? f.values.map(BigInt) : f.values));
  });
  const { outputs } = await run(model, map);
  return model.graph.outputs.map((v) => [...outputs.get(v.name)!.toFloat64()]);
}

const load = (rel: string, options: ReadOptions = {}): Promise<Model> => loadModel(join(REAL, rel), options);
const f32 = (shape: number[], values: number[]): Feed => ({ dtype: 'float32', shape, values });

function close(got: number[], want: number[], tol = 1e-5): void {
  expect(got.length).toBe(want.length);
  got.forEach((g, i) => expect(Math.abs(g - want[i]!), `[${i}] ${g} vs ${want[i]}`).toBeLessThanOrEqual(tol * Math.max(1, Math.abs(want[i]!))));
}

describe.skipIf(!hasImporter || !existsSync(REAL))('TF models run end to end', () => {
  it('TF1 SavedModels without variables: a @ b, x + y, 0.5x + 2', async () => {
    const a = [1, 2, 3, 4, 5, 6, 7, 8];
    const b = [1, 0, 0, 1, 2, 1, 1, 2];
    const [c] = await runIt(await load('mlnet-matmul'), [f32([2, 2, 2], a), f32([2, 2, 2], b)]);
    const want: number[] = [];
    for (let n = 0; n < 2; n++) for (let i = 0; i < 2; i++) for (let j = 0; j < 2; j++) {
      want.push(a[n * 4 + i * 2]! * b[n * 4 + j]! + a[n * 4 + i * 2 + 1]! * b[n * 4 + 2 + j]!);
    }
    close(c!, want);
    // The signature names x and y, but the graph adds a constant (Add/y) to x: y is redundant.
    const redundant = await load('tf2onnx-saved-model-redundant-inputs');
    expect(redundant.graph.inputs.map((v) => [v.name, v.shape])).toEqual([['x', [1, 10]], ['y', [1, 10]]]);
    const xs = Array.from({ length: 10 }, (_, i) => i - 3);
    const [z0] = await runIt(redundant, [f32([1, 10], new Array(10).fill(0)), f32([1, 10], xs)]);
    const [z] = await runIt(redundant, [f32([1, 10], xs), f32([1, 10], new Array(10).fill(7))]);
    close(z!, xs.map((v, i) => v + z0![i]!));
    const x = Array.from({ length: 9 }, (_, i) => i - 4);
    const [y] = await runIt(await load('tfserving-matrix-half-plus-two-savedmodel'), [f32([1, 3, 3], x)]);
    close(y!, x.map((v) => 0.5 * v + 2));
  });

  it('the regression model as SavedModel, frozen GraphDef (file or its folder) and .meta + checkpoint: 0.21396178 x + 1.0495254', async () => {
    const x = [1, 2, -3];
    const want = x.map((v) => 0.21396178 * v + 1.0495254);
    close((await runIt(await load('tf2onnx-regression/saved_model'), [f32([3], x)]))[0]!, want);
    close((await runIt(await load('tf2onnx-regression/graphdef/frozen.pb', { outputs: ['pred:0'] }), [f32([3], x)]))[0]!, want);
    // The folder holding only frozen.pb reads as that file.
    close((await runIt(await load('tf2onnx-regression/graphdef', { outputs: ['pred:0'] }), [f32([3], x)]))[0]!, want);
    close((await runIt(await load('tf2onnx-regression/checkpoint/model.meta', { inputs: ['X:0'], outputs: ['pred:0'] }), [f32([3], x)]))[0]!, want);
  });

  it('half plus two: TF1 x [1, 2, 5] -> [2.5, 3, 4.5]; TF2 x [1] -> [2.5]', async () => {
    close((await runIt(await load('tfserving-half-plus-two-tf1-savedmodel'), [f32([3, 1], [1, 2, 5])]))[0]!, [2.5, 3, 4.5]);
    close((await runIt(await load('tfserving-half-plus-two-tf2-savedmodel'), [f32([1], [1])]))[0]!, [2.5]);
  });

  it('tfjs-node SavedModels (SOURCE.md)', async () => {
    const scalarOr = async (rel: string, dtype: DType, values: number[], options: ReadOptions = {}): Promise<number[][]> => {
      const m = await load(`tfjs-node-savedmodels/${rel}`, options);
      // Some signatures declare a scalar or fixed shape; feed what they declare when it is static.
      const s = m.graph.inputs[0]!.shape;
      const shape = s && s.every((d) => typeof d === 'number' && d >= 0) ? (s as number[]) : [values.length];
      const n = shape.reduce((a, d) => a * d, 1);
      return runIt(m, m.graph.inputs.map(() => ({ dtype, shape, values: values.slice(0, n) })));
    };
    const check = async (rel: string, dtype: DType, x: number[], f: (v: number) => number, options: ReadOptions = {}): Promise<void> => {
      const out = await scalarOr(rel, dtype, x, options);
      close(out[0]!, x.slice(0, out[0]!.length).map(f));
    };
    await check('times_three_float', 'float32', [1, 2, 3], (v) => 3 * v);
    await check('times_two_int', 'int32', [1, 2, 3], (v) => 2 * v);
    await check('uint8_multiply', 'uint8', [3], (v) => 6 * v);
    await check('int64_multiply', 'int64', [3, 4], (v) => 6 * v);
    await check('module_with_multiple_signatures', 'float32', [1, 2, 3], (v) => 3 * v);
    await check('module_with_multiple_signatures', 'float32', [1, 2, 3], (v) => 2 * v, { signature: 'timestwo' });
    const single = await scalarOr('model_single_input_multi_output', 'int32', [1, 2, 3]);
    close(single[0]!, [2, 4, 6].slice(0, single[0]!.length));
    close(single[1]!, [1, 2, 3].slice(0, single[1]!.length));
    const multi = await scalarOr('model_multi_output', 'int32', [1, 2, 3]);
    close(multi[0]!, [2, 4, 6].slice(0, multi[0]!.length));
    close(multi[1]!, [1, 2, 3].slice(0, multi[1]!.length));
  });

  /** softmax(act(x K0 + b0) K1 + b1) on the checkpoint's weights, in plain JS. */
  function dense2(x: number[], k0: Tensor, b0: Tensor, k1: Tensor, b1: Tensor): number[] {
    const [n, h] = k0.shape as [number, number];
    const o = k1.shape[1]!;
    const K0 = k0.toFloat64(), B0 = b0.toFloat64(), K1 = k1.toFloat64(), B1 = b1.toFloat64();
    const hid = Array.from({ length: h }, (_, j) => Math.max(0, B0[j]! + x.reduce((a, v, i) => a + v * K0[i * h + j]!, 0)));
    expect(x.length).toBe(n);
    const logits = Array.from({ length: o }, (_, j) => B1[j]! + hid.reduce((a, v, i) => a + v * K1[i * o + j]!, 0));
    const m = Math.max(...logits);
    const e = logits.map((v) => Math.exp(v - m));
    const s = e.reduce((a, v) => a + v, 0);
    return e.map((v) => v / s);
  }

  it('Keras dense MNIST SavedModels match the same computation on their checkpoint weights', async () => {
    const x = Array.from({ length: 784 }, (_, i) => ((i * 37) % 101) / 101);
    for (const [rel, shape, prefix] of [
      ['tfnet-keras-savedmodel-simple_model_from_auto_compile', [1, 28, 28, 1], 'layer_with_weights-'],
      ['kotlindl-mnist-dense-h5-and-savedmodel/saved_model', [1, 28, 28], 'layer_with_weights-'],
    ] as const) {
      const ckpt = readCheckpoint(openSource(join(REAL, rel)), 'variables/variables.index');
      const w = (layer: number, name: string): Tensor => ckpt.tensor(`${prefix}${layer}/${name}/.ATTRIBUTES/VARIABLE_VALUE`);
      const want = dense2(x, w(0, 'kernel'), w(0, 'bias'), w(1, 'kernel'), w(1, 'bias'));
      const [got] = await runIt(await load(rel), [f32([...shape], x)]);
      close(got!, want, 1e-4);
    }
  });
});
