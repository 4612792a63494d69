/**
 * TensorList Gather/Scatter(V2)/ConcatV2/Split/Resize and TensorArray ConcatV3/SplitV3 (appended
 * to ops/tensor-list.ts and ops/tensor-array.ts): mconv's import on its runtime against
 * tfjs-converter on the same graph (or TF's values written out where tfjs differs), and the ONNX
 * written from it in onnxruntime.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { run, save } from '../../../src/api.js';
import { importTfGraph } from '../../../src/formats/tf/import-graph.js';
import type { TfGraph } from '../../../src/formats/tf/tf-graph.js';
import { Model } from '../../../src/ir/graph.js';
import { Tensor } from '../../../src/ir/tensor.js';
import { constNode, placeholder, runTfjsGraphOracle, tfAttr, tfGraph, tfNode } from '../../helpers/tf-oracle.js';
import { expectClose, rand } from './op-harness.js';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

const i32 = (v: number) => Tensor.fromArray('int32', [], [v]);
const i32s = (v: number[]) => Tensor.fromArray('int32', [v.length], v);

/** Ours (mconv runtime, then onnxruntime on the saved ONNX) against `want` or tfjs-converter. */
async function expectSame(graph: TfGraph, feeds: Record<string, Tensor>, outputs: string[], given?: (Tensor | undefined)[]): Promise<Tensor[]> {
  const oracle = given && given.every(Boolean) ? [] : await runTfjsGraphOracle(graph, new Map(), feeds, outputs.filter((_, i) => !given?.[i]));
  let k = 0;
  const want = outputs.map((_, i) => given?.[i] ?? oracle[k++]!);
  const model = new Model(importTfGraph(graph, { outputs }), { format: 'tf' });
  const ours = await run(model, new Map(Object.entries(feeds)));
  const got = model.graph.outputs.map((o) => ours.outputs.get(o.name)!);
  got.forEach((t, i) => expectClose(t.dtype === 'int64' ? Tensor.fromArray('int32', t.shape, Array.from(t.toFloat64())) : t, want[i]!, `${outputs[i]} (mconv runtime)`));
  const dir = mkdtempSync(join(tmpdir(), 'mconv-tf-list-'));
  dirs.push(dir);
  const file = join(dir, 'model.onnx');
  await save(model, file);
  const ort = await import('onnxruntime-node');
  const session = await ort.InferenceSession.create(file);
  const inputs: Record<string, import('onnxruntime-node').Tensor> = {};
  for (const [name, t] of Object.entries(feeds)) inputs[name] = new ort.Tensor(t.dtype as 'float32', t.toArray() as Float32Array, t.shape);
  const out = await session.run(inputs);
  model.graph.outputs.forEach((o, i) => {
    const t = out[o.name]!;
    const vals = Array.from(t.data as ArrayLike<number | bigint>, Number);
    expectClose(Tensor.fromArray(want[i]!.dtype, t.dims.slice() as number[], vals), want[i]!, `${outputs[i]} (onnxruntime)`);
  });
  return got;
}

const fromTensor = (name: string, input: string, shape: string) =>
  tfNode(name, 'TensorListFromTensor', [input, shape], { element_dtype: 'float32', shape_type: 'int32' });

describe('TensorList Gather / Scatter / Split / Concat / Resize', () => {
  const seq = rand('float32', [5, 2, 3], 1);
  it('TensorListGather of items in any order', async () => {
    const graph = tfGraph([
      placeholder('seq', 'float32', [5, 2, 3]),
      constNode('shape', i32s([2, 3])),
      constNode('idx', i32s([3, 0, 4, 0])),
      fromTensor('items', 'seq', 'shape'),
      tfNode('g', 'TensorListGather', ['items', 'idx', 'shape'], { element_dtype: 'float32' }),
    ]);
    const [g] = await expectSame(graph, { seq }, ['g']);
    expect(g!.shape).toEqual([4, 2, 3]);
  });
  for (const op of ['TensorListScatter', 'TensorListScatterV2']) {
    it(`${op} with permuted indices, then stacked; with range indices, then read`, async () => {
      const graph = tfGraph([
        placeholder('seq', 'float32', [5, 2, 3]),
        constNode('shape', i32s([2, 3])),
        constNode('perm', i32s([2, 4, 0, 1, 3])),
        constNode('zero', i32(0)), constNode('five', i32(5)), constNode('one', i32(1)), constNode('minus1', i32(-1)),
        tfNode('range', 'Range', ['zero', 'five', 'one'], { Tidx: 'int32' }),
        tfNode('a', op, ['seq', 'perm', 'shape', ...(op.endsWith('V2') ? ['minus1'] : [])], { element_dtype: 'float32', shape_type: 'int32' }),
        tfNode('b', op, ['seq', 'range', 'shape', ...(op.endsWith('V2') ? ['five'] : [])], { element_dtype: 'float32', shape_type: 'int32' }),
        tfNode('stack', 'TensorListStack', ['a', 'shape'], { element_dtype: 'float32', num_elements: 5 }),
        tfNode('item', 'TensorListGetItem', ['b', 'one', 'shape'], { element_dtype: 'float32' }),
      ]);
      await expectSame(graph, { seq }, ['stack', 'item']);
    });
  }
  it('a scatter that leaves unwritten items before written ones is refused', async () => {
    const graph = tfGraph([
      placeholder('seq', 'float32', [2, 3]),
      constNode('shape', i32s([3])),
      constNode('idx', i32s([1, 3])),
      tfNode('a', 'TensorListScatter', ['seq', 'idx', 'shape'], { element_dtype: 'float32', shape_type: 'int32' }),
      tfNode('stack', 'TensorListStack', ['a', 'shape'], { element_dtype: 'float32', num_elements: -1 }),
    ]);
    expect(() => importTfGraph(graph, { outputs: ['stack'] })).toThrow(/permutation/);
  });
  it('TensorListSplit into uneven pieces, TensorListConcatV2 back with the lengths', async () => {
    const x = rand('float32', [6, 2], 2);
    const graph = tfGraph([
      placeholder('x', 'float32', [6, 2]),
      constNode('shape', i32s([-1, 2])),
      constNode('lengths', Tensor.fromArray('int64', [3], [1, 3, 2])),
      constNode('leading', Tensor.fromArray('int64', [0], [])),
      constNode('two', i32(2)),
      tfNode('list', 'TensorListSplit', ['x', 'shape', 'lengths'], { element_dtype: 'float32', shape_type: 'int32' }),
      tfNode('item', 'TensorListGetItem', ['list', 'two', 'shape'], { element_dtype: 'float32' }),
      tfNode('cat', 'TensorListConcatV2', ['list', 'shape', 'leading'], { element_dtype: 'float32', shape_type: 'int32' }),
    ]);
    // tfjs-converter fails on this graph (it cannot merge the [-1, 2] element shape) and its
    // concat has no lengths output: TF's values, from the input: item 2 is rows 4..5.
    const rows45 = Tensor.fromArray('float32', [2, 2], Array.from(x.toFloat64()).slice(8, 12));
    const [item, cat, lengths] = await expectSame(graph, { x }, ['item', 'cat', 'cat:1'], [rows45, x, Tensor.fromArray('int32', [3], [1, 3, 2])]);
    expect(item!.shape).toEqual([2, 2]);
    expect(cat!.shape).toEqual([6, 2]);
    expect(lengths!.dtype).toBe('int64');
  });
  it('TensorListResize: shrinking keeps the first items; growing then writing the next index appends', async () => {
    const graph = tfGraph([
      placeholder('seq', 'float32', [5, 2, 3]),
      placeholder('item', 'float32', [2, 3]),
      constNode('shape', i32s([2, 3])),
      constNode('three', i32(3)), constNode('seven', i32(7)), constNode('five', i32(5)),
      fromTensor('items', 'seq', 'shape'),
      tfNode('small', 'TensorListResize', ['items', 'three']),
      tfNode('small_stack', 'TensorListStack', ['small', 'shape'], { element_dtype: 'float32', num_elements: -1 }),
      tfNode('big', 'TensorListResize', ['items', 'seven']),
      tfNode('set', 'TensorListSetItem', ['big', 'five', 'item'], { element_dtype: 'float32' }),
      tfNode('got', 'TensorListGetItem', ['set', 'five', 'shape'], { element_dtype: 'float32' }),
    ]);
    const item = rand('float32', [2, 3], 3);
    const [small] = await expectSame(graph, { seq, item }, ['small_stack', 'got']);
    expect(small!.shape).toEqual([3, 2, 3]);
  });
});

describe('TensorArray SplitV3 / ConcatV3', () => {
  it('split into a new array, read an item, concat back with the lengths', async () => {
    const x = rand('float32', [7, 3], 4);
    const graph = tfGraph([
      placeholder('x', 'float32', [7, 3]),
      constNode('n', i32(3)),
      constNode('one', i32(1)),
      constNode('lengths', Tensor.fromArray('int64', [3], [2, 4, 1])),
      tfNode('ta', 'TensorArrayV3', ['n'], {
        dtype: 'float32', element_shape: tfAttr.shape([-1, 3]), dynamic_size: false, clear_after_read: false,
        identical_element_shapes: false, tensor_array_name: tfAttr.s(''),
      }),
      tfNode('split', 'TensorArraySplitV3', ['ta', 'x', 'lengths', 'ta:1'], { T: 'float32' }),
      tfNode('read', 'TensorArrayReadV3', ['ta', 'one', 'split'], { dtype: 'float32' }),
      tfNode('cat', 'TensorArrayConcatV3', ['ta', 'split'], { dtype: 'float32', element_shape_except0: tfAttr.shape([3]) }),
    ]);
    const [read, cat] = await expectSame(graph, { x }, ['read', 'cat', 'cat:1'], [undefined, undefined, Tensor.fromArray('int32', [3], [2, 4, 1])]);
    expect(read!.shape).toEqual([4, 3]);
    expect(Array.from(cat!.toFloat64())).toEqual(Array.from(x.toFloat64()));
  });
});
