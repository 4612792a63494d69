/** Deep copies: independent structure, shared tensors unless asked, subgraphs re-linked. */
import { describe, expect, it } from 'vitest';
import { Graph, Model, attr } from '../../src/ir/graph.js';
import { cloneGraph, cloneModel } from '../../src/ir/clone.js';
import { validateGraph } from '../../src/ir/validate.js';
import { floats, op } from './build.js';

function sample(): Graph {
  const g = new Graph('main');
  g.addInput('x', 'float32', ['N', 4]);
  g.addInput('c', 'bool', []);
  g.addInitializer('w', floats([1, 2, 3, 4]));
  op(g, 'Add', ['x', 'w'], 'a');
  const thenG = new Graph('then', g);
  thenG.addNode('Relu', [g.value('a')!], ['t']);
  thenG.outputs.push(thenG.value('t')!);
  const elseG = new Graph('else', g);
  elseG.addNode('Neg', [g.value('a')!], ['e']);
  elseG.outputs.push(elseG.value('e')!);
  const n = g.addNode('If', [g.value('c')!], ['y'], { then_branch: attr.graph(thenG), else_branch: attr.graph(elseG) }, 'if');
  n.meta['source'] = 'keras:Dense';
  g.outputs.push(g.value('y')!);
  return g;
}

describe('cloneGraph', () => {
  it('copies structure, keeps names/types, shares tensors', () => {
    const g = sample();
    const c = cloneGraph(g);
    expect(c === g).toBe(false);
    expect(c.nodes.map((n) => n.name)).toEqual(g.nodes.map((n) => n.name));
    expect(c.value('x')!.shape).toEqual(['N', 4]);
    expect(c.value('x') === g.value('x')).toBe(false);
    expect(c.initializers.get('w')!.initializer === g.initializers.get('w')!.initializer).toBe(true);
    expect(c.findNode('if')!.meta).toEqual({ source: 'keras:Dense' });
    // Subgraphs read the copy's values, not the original's.
    const thenC = c.findNode('if')!.attrGraph('then_branch')!;
    expect(thenC.parent === c).toBe(true);
    expect(thenC.nodes[0]!.inputs[0] === c.value('a')).toBe(true);
    expect(g.value('a')!.consumers.size).toBe(2); // the original's readers only
    expect(validateGraph(c).filter((i) => i.severity === 'error')).toEqual([]);
    // Editing the copy leaves the original alone.
    c.value('x')!.shape![0] = 1;
    c.removeNode(c.findNode('a')!);
    expect(g.value('x')!.shape).toEqual(['N', 4]);
    expect(g.nodes.length).toBe(2);
  });
  it('copies tensors when asked', () => {
    const g = sample();
    const c = cloneGraph(g, { copyTensors: true });
    const t = c.initializers.get('w')!.initializer!;
    expect(t === g.initializers.get('w')!.initializer).toBe(false);
    expect(Array.from(t.toFloat64())).toEqual([1, 2, 3, 4]);
  });
});

describe('cloneModel', () => {
  it('copies metadata and opsets', () => {
    const m = new Model(sample(), { format: 'onnx', path: '/tmp/x.onnx' });
    m.metadata['k'] = 'v';
    m.producer = { name: 'pytorch', version: '2.1' };
    const c = cloneModel(m);
    expect(c.graph === m.graph).toBe(false);
    expect(c.metadata).toEqual({ k: 'v' });
    expect(c.metadata === m.metadata).toBe(false);
    expect(c.producer).toEqual(m.producer);
    expect(c.opsets).toEqual({ '': 17 });
    expect(c.source.path).toBe('/tmp/x.onnx');
  });
});
