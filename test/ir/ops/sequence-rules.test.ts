/**
 * Sequence op inference: tensors read back from sequences (SequenceAt, SequenceLength,
 * ConcatFromSequence) after SplitToSequence, SequenceConstruct, SequenceInsert, SequenceErase and
 * SequenceEmpty, against onnxruntime-node. Positions and splits given as constants must give
 * exact types; given as graph inputs, the types must stay consistent (symbols, never wrong).
 */
import { describe, expect, it } from 'vitest';
import { Graph, attr } from '../../../src/ir/graph.js';
import { inferShapes } from '../../../src/ir/infer.js';
import { VARYING_DIM } from '../../../src/ir/ops/schema.js';
import { Tensor, type DType } from '../../../src/ir/tensor.js';
import { HAVE_ORT, checkCase, inferredOutputs, type OracleCase } from './rule-oracle.js';

function data(shape: number[], dtype: DType = 'float32', seed = 1): Tensor {
  const n = shape.reduce((x, y) => x * y, 1);
  return Tensor.fromArray(dtype, shape, Array.from({ length: n }, (_, i) => ((i * 7 + seed * 3) % 11) - 5));
}
const i64 = (v: number) => Tensor.fromArray('int64', [], [v]);
const i64s = (v: number[]) => Tensor.fromArray('int64', [v.length], v);

/** SplitToSequence followed by every reader. */
function splitCases(): OracleCase[] {
  const out: OracleCase[] = [];
  const x = data([4, 6, 3]);
  const splits: { name: string; split?: Tensor; keepdims?: number }[] = [
    { name: 'no split' }, { name: 'no split, keepdims 0', keepdims: 0 },
    { name: 'scalar 2', split: i64(2) }, { name: 'scalar 4', split: i64(4) }, { name: '[1, 3, 2]', split: i64s([1, 3, 2]) },
  ];
  for (const axis of [0, 1, -1]) {
    for (const s of splits) {
      const dim = x.shape[axis < 0 ? axis + 3 : axis]!;
      if (s.split && s.split.rank === 1 && dim !== 6) continue;
      const inputs: Record<string, Tensor> = { x, first: i64(0), last: i64(-1) };
      if (s.split) inputs['split'] = s.split;
      const attrs = { axis: attr.int(axis), ...(s.keepdims !== undefined ? { keepdims: attr.int(s.keepdims) } : {}) };
      const squeezed = s.keepdims === 0 && !s.split;
      // Stacking needs parts of one shape: not for uneven splits.
      const even = !s.split || (s.split.rank === 0 && dim % Number(s.split.toFloat64()[0]) === 0);
      const nodes: OracleCase['nodes'] = [
        { op: 'SplitToSequence', inputs: s.split ? ['x', 'split'] : ['x'], outputs: ['seq'], attrs },
        { op: 'SequenceLength', inputs: ['seq'], outputs: ['len'] },
        { op: 'SequenceAt', inputs: ['seq', 'first'], outputs: ['a0'] },
        { op: 'SequenceAt', inputs: ['seq', 'last'], outputs: ['a1'] },
        { op: 'ConcatFromSequence', inputs: ['seq'], outputs: ['cat'], attrs: { axis: attr.int(squeezed ? 0 : axis) } },
      ];
      const outputs: OracleCase['outputs'] = { len: 'int64', a0: 'float32', a1: 'float32', cat: 'float32' };
      if (even) {
        nodes.push({ op: 'ConcatFromSequence', inputs: ['seq'], outputs: ['stack'], attrs: { axis: attr.int(-1), new_axis: attr.int(1) } });
        outputs['stack'] = 'float32';
      }
      out.push({
        name: `SplitToSequence axis ${axis} ${s.name}`,
        inputs, constants: ['first', 'last', 'split'].filter((k) => inputs[k]),
        nodes, outputs,
      });
    }
  }
  return out;
}

/** SequenceConstruct / Insert / Erase / Empty chains with elements of different shapes. */
function editCases(): OracleCase[] {
  const out: OracleCase[] = [];
  const a = data([2, 3, 4], 'float32', 1);
  const b = data([2, 5, 4], 'float32', 2);
  const c = data([2, 1, 4], 'float32', 3);
  for (const insertAt of [undefined, 0, 2, -1]) {
    for (const eraseAt of [undefined, 0, -2]) {
      for (const at of [0, 1, -1]) {
        const inputs: Record<string, Tensor> = { a, b, c, at: i64(at) };
        if (insertAt !== undefined) inputs['ins'] = i64(insertAt);
        if (eraseAt !== undefined) inputs['del'] = i64(eraseAt);
        out.push({
          name: `Construct(a, b) insert c at ${insertAt ?? 'end'} erase ${eraseAt ?? 'last'} at ${at}`,
          inputs, constants: ['at', 'ins', 'del'].filter((k) => inputs[k]),
          nodes: [
            { op: 'SequenceConstruct', inputs: ['a', 'b'], outputs: ['s0'] },
            { op: 'SequenceInsert', inputs: insertAt !== undefined ? ['s0', 'c', 'ins'] : ['s0', 'c'], outputs: ['s1'] },
            { op: 'SequenceErase', inputs: eraseAt !== undefined ? ['s1', 'del'] : ['s1'], outputs: ['s2'] },
            { op: 'SequenceAt', inputs: ['s2', 'at'], outputs: ['y'] },
            { op: 'SequenceLength', inputs: ['s2'], outputs: ['n'] },
            { op: 'ConcatFromSequence', inputs: ['s2'], outputs: ['cat'], attrs: { axis: attr.int(1) } },
          ],
          outputs: { y: 'float32', n: 'int64', cat: 'float32' },
        });
      }
    }
  }
  for (const dtype of [7, 11]) {
    const dt: DType = dtype === 7 ? 'int64' : 'float64';
    out.push({
      name: `SequenceEmpty dtype ${dt} then inserts`,
      inputs: { p: data([3, 2], dt), q: data([5, 2], dt), pos: i64(0), at: i64(1) }, constants: ['pos', 'at'],
      nodes: [
        { op: 'SequenceEmpty', inputs: [], outputs: ['e'], attrs: { dtype: attr.int(dtype) } },
        { op: 'SequenceLength', inputs: ['e'], outputs: ['n0'] },
        { op: 'SequenceInsert', inputs: ['e', 'p'], outputs: ['s1'] },
        { op: 'SequenceInsert', inputs: ['s1', 'q', 'pos'], outputs: ['s2'] },
        { op: 'SequenceAt', inputs: ['s2', 'at'], outputs: ['y'] },
        { op: 'ConcatFromSequence', inputs: ['s2'], outputs: ['cat'], attrs: { axis: attr.int(0) } },
      ],
      outputs: { n0: 'int64', y: dt, cat: dt },
    });
  }
  return out;
}

describe.skipIf(!HAVE_ORT)('sequence op inference against onnxruntime-node', () => {
  for (const [what, cases] of [['SplitToSequence and readers', splitCases()], ['construct, insert, erase, empty', editCases()]] as const) {
    it(`${what}: ${cases.length} graphs`, async () => {
      expect(cases.length).toBeGreaterThan(10);
      const problems: string[] = [];
      for (const c of cases) problems.push(...(await checkCase(c)));
      expect(problems).toEqual([]);
    });
  }
});

describe('sequence types', () => {
  it('keep sequence values untyped as tensors and describe their elements', () => {
    const g = new Graph('g');
    g.addInput('a', 'float32', [2, 3]);
    g.addInput('b', 'float32', [2, 5]);
    const s = g.addNode('SequenceConstruct', [g.value('a')!, g.value('b')!], ['s']).outputs[0]!;
    const r = inferShapes(g);
    expect(s.dtype).toBeUndefined();
    expect(s.shape).toBeUndefined();
    const t = r.types.get(s)!;
    expect(t.sequence?.elem).toEqual({ dtype: 'float32', shape: [2, VARYING_DIM] });
    expect(t.sequence?.items?.map((i) => i.shape)).toEqual([[2, 3], [2, 5]]);
  });

  it('a sequence graph input (element type unknown) gives symbolic reads, never errors', () => {
    const g = new Graph('g');
    const seq = g.addInput('seq', 'float32', []);
    seq.dtype = undefined;
    seq.shape = undefined;
    g.addInput('p', 'int64', []);
    const y = g.addNode('SequenceAt', [seq, g.value('p')!], ['y']).outputs[0]!;
    const n = g.addNode('SequenceLength', [seq], ['n']).outputs[0]!;
    const r = inferShapes(g);
    expect(r.issues).toEqual([]);
    expect(r.types.get(y)).toMatchObject({ dtype: undefined, shape: undefined });
    expect(r.types.get(n)).toMatchObject({ dtype: 'int64', shape: [] });
  });

  it('elements of differing dims read back as fresh symbols', () => {
    // The insert position is a graph input: the element list is unknown, the shared type is [2, ?].
    const c: OracleCase = {
      name: 'vary', inputs: { a: data([2, 3]), b: data([2, 5]), pos: i64(0), p: i64(0) },
      nodes: [
        { op: 'SequenceConstruct', inputs: ['a'], outputs: ['s0'] },
        { op: 'SequenceInsert', inputs: ['s0', 'b', 'pos'], outputs: ['s'] },
        { op: 'SequenceAt', inputs: ['s', 'p'], outputs: ['y'] },
        { op: 'ConcatFromSequence', inputs: ['s'], outputs: ['cat'], attrs: { axis: attr.int(1) } },
        { op: 'SequenceLength', inputs: ['s'], outputs: ['n'] },
      ],
      outputs: { y: 'float32', cat: 'float32', n: 'int64' },
    };
    const { types, errors } = inferredOutputs(c);
    expect(errors).toEqual([]);
    expect(types.get('y')!.shape).toEqual([2, 'n2_SequenceAt_dim1']);
    expect(types.get('cat')!.shape).toEqual([2, 'n3_ConcatFromSequence_dim1']);
    expect(types.get('n')).toMatchObject({ dtype: 'int64', shape: [], value: undefined });
  });

  it('refuses out-of-range positions and mixed dtypes', () => {
    const at = (p: number): OracleCase => ({
      name: 'oob', inputs: { a: data([2]), b: data([3]), p: i64(p) }, constants: ['p'],
      nodes: [
        { op: 'SequenceConstruct', inputs: ['a', 'b'], outputs: ['s'] },
        { op: 'SequenceAt', inputs: ['s', 'p'], outputs: ['y'] },
      ],
      outputs: { y: 'float32' },
    });
    expect(inferredOutputs(at(2)).errors.join()).toMatch(/position 2 is out of range \[-2, 1\]/);
    expect(inferredOutputs(at(-3)).errors.join()).toMatch(/position -3 is out of range/);
    expect(inferredOutputs(at(-2)).errors).toEqual([]);
    const mixed: OracleCase = {
      name: 'mixed', inputs: { a: data([2]), b: data([2], 'int64') },
      nodes: [{ op: 'SequenceConstruct', inputs: ['a', 'b'], outputs: ['s'] }], outputs: {},
    };
    expect(inferredOutputs(mixed).errors.join()).toMatch(/int64, the sequence holds float32/);
    const stack: OracleCase = {
      name: 'stack', inputs: { a: data([2, 3]), b: data([2, 5]) },
      nodes: [
        { op: 'SequenceConstruct', inputs: ['a', 'b'], outputs: ['s'] },
        { op: 'ConcatFromSequence', inputs: ['s'], outputs: ['y'], attrs: { axis: attr.int(0), new_axis: attr.int(1) } },
      ],
      outputs: { y: 'float32' },
    };
    expect(inferredOutputs(stack).errors.join()).toMatch(/elements differ in dimension 1 \(3 and 5\)/);
  });

  it('a Loop body sees its carried sequence with an unknown length', () => {
    // The body reads SequenceLength of the carried sequence: its value must not be the initial length.
    const g = new Graph('g');
    g.addInput('x', 'float32', [4]);
    g.addInitializer('trip', Tensor.fromArray('int64', [], [3]));
    const e = g.addNode('SequenceEmpty', [], ['e'], { dtype: attr.int(1) }).outputs[0]!;
    const body = new Graph('body', g);
    const iter = body.addInput('i', 'int64', []);
    const cond = body.addInput('c', 'bool', []);
    const sIn = body.addInput('s_in', 'float32', []);
    sIn.dtype = undefined;
    sIn.shape = undefined;
    const len = body.addNode('SequenceLength', [sIn], ['len']).outputs[0]!;
    const sOut = body.addNode('SequenceInsert', [sIn, g.value('x')!], ['s_out']).outputs[0]!;
    const cOut = body.addNode('Identity', [cond], ['c_out']).outputs[0]!;
    body.outputs.push(cOut, sOut);
    void iter;
    const loop = g.addNode('Loop', [g.value('trip')!, null, e], ['final'], { body: attr.graph(body) });
    g.outputs.push(loop.outputs[0]!);
    const r = inferShapes(g);
    expect(r.issues.filter((i) => i.kind === 'error')).toEqual([]);
    expect(r.types.get(len)).toMatchObject({ dtype: 'int64', shape: [], value: undefined });
    expect(r.types.get(sOut)?.sequence).toEqual({ elem: { dtype: 'float32', shape: undefined } });
  });

  it('a Loop body does not take its carried tensors for their initial content', () => {
    // k starts as Constant [1] and grows each iteration: ConstantOfShape(k) has no fixed length.
    const g = new Graph('g');
    g.addInitializer('trip', Tensor.fromArray('int64', [], [3]));
    g.addNode('Constant', [], ['k0'], { value: attr.tensor(Tensor.fromArray('int64', [1], [1])) });
    const body = new Graph('body', g);
    body.addInput('i', 'int64', []);
    const cond = body.addInput('c', 'bool', []);
    const k = body.addInput('k', 'int64', [1]);
    body.addInitializer('one', Tensor.fromArray('int64', [1], [1]));
    const k2 = body.addNode('Add', [k, body.value('one')!], ['k2']).outputs[0]!;
    const z = body.addNode('ConstantOfShape', [k], ['z']).outputs[0]!;
    body.outputs.push(body.addNode('Identity', [cond], ['c2']).outputs[0]!, k2);
    g.addNode('Loop', [g.value('trip')!, null, g.value('k0')!], ['kf'], { body: attr.graph(body) });
    const r = inferShapes(g, { write: false });
    expect(r.types.get(k)).toEqual({ dtype: 'int64', shape: [1], value: undefined, sequence: undefined });
    expect(r.types.get(z)?.shape).toEqual(['ConstantOfShape_dim0']);
  });
});
