/**
 * Constant folding: the folded initializers hold what onnxruntime computes for the original
 * nodes, the graph gets smaller, and nothing unsafe or too big is folded.
 */
import { describe, expect, it } from 'vitest';
import { Graph, attr } from '../../../src/ir/graph.js';
import { constantFolding } from '../../../src/ir/passes/constant-folding.js';
import { deadCodeElimination } from '../../../src/ir/passes/dead-code.js';
import { Tensor } from '../../../src/ir/tensor.js';
import { floats, int64s, op, randomTensor } from '../build.js';
import { countOps, maxAbsDiff, ort, runOrt } from './helpers.js';

/** A graph of foldable computations; each result goes out through an Identity (graph outputs are never folded). */
function foldable(): Graph {
  const g = new Graph('g');
  g.addInput('x', 'float32', [2, 3, 4, 5]);
  op(g, 'Shape', ['x'], 'shape');
  g.addInitializer('idx', int64s([0, 2]));
  op(g, 'Gather', ['shape', 'idx'], 'picked');
  g.addInitializer('two', int64s([2], []));
  op(g, 'Mul', ['picked', 'two'], 'doubled');
  g.addInitializer('ax0', int64s([0]));
  g.addInitializer('st', int64s([1]));
  g.addInitializer('en', int64s([3]));
  op(g, 'Slice', ['shape', 'st', 'en', 'ax0'], 'middle');
  op(g, 'Concat', ['doubled', 'middle'], 'cat', { axis: attr.int(0) });
  op(g, 'Cast', ['cat'], 'catf', { to: attr.int(1) });
  g.addInitializer('f', randomTensor([4], 3));
  op(g, 'Div', ['catf', 'f'], 'ratio');
  op(g, 'Sub', ['ratio', 'catf'], 'diff');
  g.addInitializer('m', randomTensor([2, 3], 5));
  op(g, 'Transpose', ['m'], 'mt', { perm: attr.ints([1, 0]) });
  op(g, 'Unsqueeze', ['mt', 'ax0'], 'mtu');
  g.addNode('Constant', [], ['c'], { value: attr.tensor(Tensor.fromArray('int32', [3], [7, -8, 9])) }, 'const');
  op(g, 'Neg', ['c'], 'negc');
  op(g, 'Add', ['negc', 'negc'], 'sumc');
  g.addInitializer('shape2', int64s([4, -1]));
  op(g, 'Reshape', ['x', 'shape2'], 'xr'); // x is not constant: stays
  for (const name of ['cat', 'diff', 'mtu', 'sumc', 'xr']) {
    op(g, 'Identity', [name], `out_${name}`);
    g.outputs.push(g.value(`out_${name}`)!);
  }
  return g;
}

describe('constantFolding', () => {
  it('folds shape arithmetic and small tensor ops into initializers', () => {
    const g = foldable();
    constantFolding(g);
    deadCodeElimination(g);
    expect(g.nodes.map((n) => n.op).sort()).toEqual(['Identity', 'Identity', 'Identity', 'Identity', 'Identity', 'Reshape']);
    expect(g.value('cat')!.initializer!.toArray()).toEqual([4n, 8n, 3n, 4n]);
    expect(g.value('shape2')!.initializer).toBeDefined();
    expect(countOps(g, 'Constant')).toBe(0);
    expect(g.value('sumc')!.initializer!.dtype).toBe('int32');
    expect(Array.from(g.value('sumc')!.initializer!.toFloat64())).toEqual([-14, 16, -18]);
  });

  it.skipIf(!ort)('gives the values onnxruntime computes for the original nodes', async () => {
    const feeds = { x: randomTensor([2, 3, 4, 5], 9) };
    const want = await runOrt(foldable(), feeds);
    const g = foldable();
    constantFolding(g);
    for (const name of ['cat', 'diff', 'mtu', 'sumc']) {
      const folded = g.value(name)!.initializer!;
      const ref = want.get(`out_${name}`)!;
      expect(folded.dtype, name).toBe(ref.dtype);
      expect(maxAbsDiff(folded, ref), name).toBe(0);
    }
    const got = await runOrt(g, feeds);
    for (const [k, v] of want) expect(maxAbsDiff(got.get(k)!, v), k).toBe(0);
  });

  it.skipIf(!ort)('folds Split (sizes given, or equal parts) to what onnxruntime computes', async () => {
    const build = (): Graph => {
      const g = new Graph('g');
      g.addInput('x', 'float32', [1]);
      g.addInitializer('w', randomTensor([3, 8], 4));
      g.addInitializer('sizes', int64s([2, 1, 5]));
      g.addNode('Split', [g.value('w')!, g.value('sizes')!], ['p0', 'p1', 'p2'], { axis: attr.int(-1) }, 'by_input');
      g.addInitializer('rows', int64s([1, 2]));
      g.addNode('Split', [g.value('w')!, g.value('rows')!], ['q0', 'q1'], { axis: attr.int(0) }, 'rows');
      g.addNode('Split', [g.value('w')!], ['r0', 'r1', 'r2', 'r3'], { axis: attr.int(1) }, 'equal');
      for (const name of ['p0', 'p1', 'p2', 'q0', 'q1', 'r0', 'r3']) {
        op(g, 'Add', [name, 'x'], `out_${name}`);
        g.outputs.push(g.value(`out_${name}`)!);
      }
      return g;
    };
    const feeds = { x: Tensor.fromArray('float32', [1], [0]) };
    const want = await runOrt(build(), feeds);
    const g = build();
    constantFolding(g);
    expect(countOps(g, 'Split')).toBe(0);
    for (const name of ['p0', 'p1', 'p2', 'q0', 'q1', 'r0', 'r3']) expect(maxAbsDiff(g.value(name)!.initializer!, want.get(`out_${name}`)!), name).toBe(0);
  });

  it('never folds graph outputs, overridable initializers or tensors over the size limit', () => {
    const g = new Graph('g');
    g.addInput('x', 'float32', [1]);
    const a = g.addInitializer('a', floats([1, 2]));
    const b = g.addInitializer('b', floats([3, 4]));
    g.inputs.push(b); // an initializer listed as an input: a default the user may override
    op(g, 'Add', ['a', 'b'], 'overridable');
    op(g, 'Mul', ['a', 'a'], 'is_output');
    g.addInitializer('big', randomTensor([64], 1));
    op(g, 'Neg', ['big'], 'big_neg');
    g.outputs.push(g.value('overridable')!, g.value('is_output')!, g.value('big_neg')!);
    op(g, 'Relu', ['big_neg'], 'after');
    constantFolding(g, { maxElements: 32 });
    expect(g.nodes.map((n) => n.name)).toEqual(['overridable', 'is_output', 'big_neg', 'after']);
    expect(a.consumers.size).toBe(2);
  });

  it('folds Shape of a static shape even when the data is not constant', () => {
    const g = new Graph('g');
    g.addInput('x', 'float32', [1, 3, 8, 8]);
    g.addInput('y', 'float32', ['N', 3]);
    op(g, 'Shape', ['x'], 'sx', { start: attr.int(1) });
    op(g, 'Shape', ['y'], 'sy');
    op(g, 'Size', ['x'], 'nx');
    for (const n of ['sx', 'sy', 'nx']) op(g, 'Identity', [n], `o_${n}`), g.outputs.push(g.value(`o_${n}`)!);
    constantFolding(g);
    expect(g.value('sx')!.initializer!.toArray()).toEqual([3n, 8n, 8n]);
    expect(g.value('nx')!.initializer!.toArray()).toEqual([192n]);
    expect(g.value('sy')!.initializer).toBeUndefined();
  });
});
