/**
 * freezeSavedModelGraph (the helper that makes a SavedModel's own graph runnable by the
 * tfjs-converter oracle) on a hand-built graph: nested calls, a multi-output op referenced by
 * output arg name, a variable found by shared_name, control inputs, an If whose branch functions
 * must stay, and dead calls/variables that pruning must drop. tfjs-converter runs the frozen graph
 * and a hand-written flat equivalent; both must agree, for either branch of the If.
 */
import { describe, expect, it } from 'vitest';
import { Tensor } from '../../src/ir/tensor.js';
import { TF_TYPE_OF } from '../../src/formats/tf/graph-json.js';
import type { TfFunction, TfGraph } from '../../src/formats/tf/tf-graph.js';
import { freezeSavedModelGraph } from './tf-frozen-savedmodel.js';
import { constNode, placeholder, runTfjsGraphOracle, tfAttr, tfGraph, tfNode } from './tf-oracle.js';

const F = TF_TYPE_OF.float32;
const RESOURCE = 20;
const fn = (name: string, inputs: [string, number][], outputs: [string, number][], nodes: TfFunction['nodes'], ret: Record<string, string>): TfFunction => ({
  name,
  inputs: inputs.map(([n, type]) => ({ name: n, type })),
  outputs: outputs.map(([n, type]) => ({ name: n, type })),
  ret,
  nodes,
  attr: {},
});
const call = (name: string, op: string, inputs: string[], f: string) => ({ ...tfNode(name, op, inputs), attr: { f: { func: { name: f, attr: {} } } } });
const ifNode = (name: string, inputs: string[]) => {
  const n = tfNode(name, 'StatelessIf', inputs, { Tcond: 'bool', Tin: tfAttr.types(['float32']), Tout: tfAttr.types(['float32']) });
  return { ...n, attr: { ...n.attr, then_branch: { func: { name: 'neg_fn', attr: {} } }, else_branch: { func: { name: 'sq_fn', attr: {} } } } };
};

const W = Tensor.fromArray('float32', [3], [1.5, -2, 0.25]);

function savedModelLike(): TfGraph {
  const inner = fn('inner_fn', [['p', F], ['q', F]], [['r', F]], [
    tfNode('add', 'AddV2', ['p', 'q'], { T: 'float32' }),
    constNode('c', Tensor.fromArray('float32', [], [0.5])),
    tfNode('m2', 'Mul', ['add:z:0', 'c:output:0'], { T: 'float32' }),
  ], { r: 'm2:z:0' });
  // Results listed in ret in the reverse of the output order: the call's ports follow `outputs`.
  const outer = fn('outer_fn', [['a', F], ['h', RESOURCE]], [['scaled', F], ['idx', F]], [
    tfNode('rd', 'ReadVariableOp', ['h'], { dtype: 'float32' }),
    tfNode('mul', 'Mul', ['a', 'rd:value:0'], { T: 'float32' }),
    constNode('k', Tensor.fromArray('int32', [], [2])),
    tfNode('topk', 'TopKV2', ['mul:z:0', 'k:output:0', '^rd'], { T: 'float32', sorted: true }),
    tfNode('cast', 'Cast', ['topk:indices:0'], { SrcT: 'int32', DstT: 'float32' }),
    call('inner', 'PartitionedCall', ['topk:values:0', 'cast:y:0'], 'inner_fn'),
  ], { idx: 'cast:y:0', scaled: 'inner:output:0' });
  const dead = fn('dead_fn', [['d', F]], [['e', F]], [tfNode('e', 'Neg', ['d'], { T: 'float32' })], { e: 'e:y:0' });
  const neg = fn('neg_fn', [['p', F]], [['y', F]], [tfNode('neg', 'Neg', ['p'], { T: 'float32' })], { y: 'neg:y:0' });
  const sq = fn('sq_fn', [['p', F]], [['y', F]], [tfNode('sq', 'Square', ['p'], { T: 'float32' })], { y: 'sq:y:0' });
  return {
    ...tfGraph([
      placeholder('x', 'float32', [2, 3]),
      placeholder('flag', 'bool', []),
      tfNode('v', 'VarHandleOp', [], { dtype: 'float32', shape: tfAttr.shape([3]), shared_name: tfAttr.s('weights') }),
      tfNode('unset', 'VarHandleOp', [], { dtype: 'float32', shape: tfAttr.shape([3]), shared_name: tfAttr.s('no_value') }),
      call('call', 'StatefulPartitionedCall', ['x', 'v', '^flag', '^unset'], 'outer_fn'),
      call('dead', 'PartitionedCall', ['x'], 'dead_fn'),
      ifNode('branch', ['flag', 'call:1']),
      tfNode('out0', 'Identity', ['call'], { T: 'float32' }),
    ]),
    functions: [inner, outer, dead, neg, sq],
  };
}

/** What the graph computes, written flat by hand (the branch taken written out). */
function flatEquivalent(flag: boolean): TfGraph {
  return tfGraph([
    placeholder('x', 'float32', [2, 3]),
    constNode('w', W),
    tfNode('mul', 'Mul', ['x', 'w'], { T: 'float32' }),
    constNode('k', Tensor.fromArray('int32', [], [2])),
    tfNode('topk', 'TopKV2', ['mul', 'k'], { T: 'float32', sorted: true }),
    tfNode('cast', 'Cast', ['topk:1'], { SrcT: 'int32', DstT: 'float32' }),
    tfNode('add', 'AddV2', ['topk', 'cast'], { T: 'float32' }),
    constNode('c', Tensor.fromArray('float32', [], [0.5])),
    tfNode('out0', 'Mul', ['add', 'c'], { T: 'float32' }),
    tfNode('branch', flag ? 'Neg' : 'Square', ['cast'], { T: 'float32' }),
  ]);
}

describe('freezeSavedModelGraph', () => {
  const variables = new Map([['weights', W]]);

  it('inlines calls, sets variables from their values, keeps only If branch functions, prunes the rest', () => {
    const { graph, outputs } = freezeSavedModelGraph(savedModelLike(), variables, ['out0', 'branch']);
    const ops = graph.nodes.map((n) => n.op);
    for (const op of ['PartitionedCall', 'StatefulPartitionedCall', 'VarHandleOp', 'ReadVariableOp']) expect(ops).not.toContain(op);
    expect(graph.functions.map((f) => f.name).sort()).toEqual(['neg_fn', 'sq_fn']);
    expect(graph.nodes.map((n) => n.name)).not.toContain('unset');
    expect(graph.nodes.some((n) => n.name.startsWith('dead'))).toBe(false);
    const v = graph.nodes.find((n) => n.name === 'v')!;
    expect(v.op).toBe('Const');
    expect(Array.from(v.attr.value!.tensor!.toFloat64())).toEqual([1.5, -2, 0.25]);
    // The If reads the call's port 1: the outer function's `idx` result (Cast of TopKV2's port 1).
    const branch = graph.nodes.find((n) => n.name === 'branch')!;
    expect(branch.inputs).toEqual(['flag', 'call/cast']);
    expect(graph.nodes.find((n) => n.name === 'call/cast')!.inputs).toEqual(['call/topk:1']);
    for (const n of graph.nodes) for (const i of n.inputs) expect(i.startsWith('^')).toBe(false);
    expect(outputs).toEqual(['out0', 'branch']);
  });

  it('a variable with no value is left as it is (not made up)', () => {
    const g = savedModelLike();
    expect(() => freezeSavedModelGraph(g, new Map(), ['out0'])).not.toThrow();
    // Without its value the variable node stays a VarHandleOp (the oracle would then refuse it).
    const { graph } = freezeSavedModelGraph(g, new Map(), ['out0']);
    expect(graph.nodes.find((n) => n.name === 'v')!.op).toBe('VarHandleOp');
  });

  for (const flag of [true, false]) {
    it(`the frozen graph computes in tfjs-converter what its flat equivalent does (If ${flag ? 'then' : 'else'} branch)`, async () => {
      const x = Tensor.fromArray('float32', [2, 3], [0.3, -1.2, 2.5, 4, 0.1, -0.7]);
      const frozen = freezeSavedModelGraph(savedModelLike(), variables, ['out0', 'branch']);
      const feeds = { x, flag: Tensor.fromArray('bool', [], [flag ? 1 : 0]) };
      const got = await runTfjsGraphOracle(frozen.graph, new Map(), feeds, frozen.outputs);
      const want = await runTfjsGraphOracle(flatEquivalent(flag), new Map(), { x }, ['out0', 'branch']);
      expect(got).toHaveLength(2);
      got.forEach((g, i) => {
        expect(g.shape).toEqual([2, 2]);
        expect(Array.from(g.toFloat64())).toEqual(Array.from(want[i]!.toFloat64()));
      });
      // Hand-checked: x*w rows are [0.45, 2.4, 0.625] and [6, -0.2, -0.175]; top-2 indices [1, 2] and [0, 2].
      expect(Array.from(got[0]!.toFloat64()).map((v) => Math.round(v * 1e4) / 1e4)).toEqual([1.7, 1.3125, 3, 0.9125]);
    });
  }
});
