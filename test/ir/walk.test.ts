/** Topological order, producers/consumers, search, chain patterns and subgraph extraction. */
import { describe, expect, it } from 'vitest';
import { MconvError } from '../../src/errors.js';
import { Graph, Node, attr } from '../../src/ir/graph.js';
import { consumers, extractSubgraph, findNodes, matchPattern, producers, topologicalOrder } from '../../src/ir/walk.js';
import { floats, op } from './build.js';

function diamond(): Graph {
  // x -> a -> c ; x -> b -> c ; nodes inserted out of order
  const g = new Graph('d');
  g.addInput('x', 'float32', [2]);
  const c = new Node('Add', 'c', [], [g.getOrCreateValue('vc')]);
  g.insertNode(c);
  op(g, 'Relu', ['x'], 'va');
  op(g, 'Neg', ['x'], 'vb');
  c.addInput(g.value('va')!);
  c.addInput(g.value('vb')!);
  g.outputs.push(g.value('vc')!);
  return g;
}

describe('topologicalOrder', () => {
  it('orders producers first and keeps the original order among ready nodes', () => {
    const g = diamond();
    expect(topologicalOrder(g).map((n) => n.name)).toEqual(['va', 'vb', 'c']);
    const g2 = new Graph('s');
    g2.addInput('x', 'float32', [1]);
    for (const name of ['p', 'q', 'r', 's']) op(g2, 'Relu', ['x'], name);
    expect(topologicalOrder(g2).map((n) => n.name)).toEqual(['p', 'q', 'r', 's']);
  });
  it('throws an MconvError naming the nodes of a cycle', () => {
    const g = new Graph('cyc');
    g.addInput('x', 'float32', [1]);
    const a = g.addNode('Add', [g.value('x')!], ['ya'], {}, 'A');
    const b = g.addNode('Relu', [a.outputs[0]!], ['yb'], {}, 'B');
    const c = g.addNode('Neg', [b.outputs[0]!], ['yc'], {}, 'C');
    a.addInput(c.outputs[0]!);
    op(g, 'Relu', ['x'], 'fine');
    let err: unknown;
    try {
      topologicalOrder(g);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(MconvError);
    expect((err as MconvError).message).toMatch(/graph 'cyc' has a cycle: (A -> B -> C -> A|B -> C -> A -> B|C -> A -> B -> C)/);
  });
  it('orders a node after the producers of values its subgraphs read', () => {
    const g = new Graph('outer');
    g.addInput('c', 'bool', []);
    g.addInput('x', 'float32', [1]);
    const body = new Graph('then', g);
    const ifNode = g.addNode('If', [g.value('c')!], ['y'], { then_branch: attr.graph(body), else_branch: attr.graph(body) }, 'if');
    op(g, 'Relu', ['x'], 'hidden');
    body.addNode('Neg', [g.value('hidden')!], ['t']);
    body.outputs.push(body.value('t')!);
    expect(g.nodes.indexOf(ifNode)).toBe(0);
    expect(topologicalOrder(g).map((n) => n.name)).toEqual(['hidden', 'if']);
    expect(producers(ifNode).map((n) => n.name)).toEqual(['hidden']);
  });
});

describe('producers, consumers, findNodes', () => {
  it('lists distinct neighbours', () => {
    const g = diamond();
    const c = g.findNode('c')!;
    expect(producers(c).map((n) => n.name)).toEqual(['va', 'vb']);
    expect(consumers(g.value('x')!).map((n) => n.name)).toEqual(['va', 'vb']);
    expect(consumers(g.findNode('va')!).map((n) => n.name)).toEqual(['c']);
    expect(findNodes(g, (n) => n.op !== 'Add').map((n) => n.name)).toEqual(['va', 'vb']);
  });
});

describe('matchPattern', () => {
  function chain(): Graph {
    const g = new Graph('m');
    g.addInput('x', 'float32', [1, 3, 8, 8]);
    g.addInitializer('w', floats(new Array(27).fill(0), [1, 3, 3, 3]));
    op(g, 'Conv', ['x', 'w'], 'c1');
    op(g, 'Relu', ['c1'], 'r1');
    op(g, 'Conv', ['r1', 'w'], 'c2');
    op(g, 'Conv', ['x', 'w'], 'c3');
    op(g, 'Relu', ['c3'], 'r3');
    op(g, 'Sigmoid', ['c3'], 's3'); // c3 has two readers: no match through it
    op(g, 'Conv', ['x', 'w'], 'c4');
    op(g, 'Clip', ['c4'], 'k4');
    g.outputs.push(g.value('c2')!, g.value('r3')!, g.value('s3')!, g.value('k4')!);
    return g;
  }
  it('finds single-consumer chains', () => {
    const g = chain();
    expect(matchPattern(g, ['Conv', 'Relu']).map((m) => m.map((n) => n.name))).toEqual([['c1', 'r1']]);
    expect(matchPattern(g, ['Conv', ['Relu', 'Clip']]).map((m) => m.map((n) => n.name))).toEqual([['c1', 'r1'], ['c4', 'k4']]);
    expect(matchPattern(g, [(n) => n.op === 'Relu', 'Conv']).map((m) => m.map((n) => n.name))).toEqual([['r1', 'c2']]);
  });
  it('does not match through graph outputs and does not overlap unless asked', () => {
    const g = new Graph('o');
    g.addInput('x', 'float32', [1]);
    op(g, 'Relu', ['x'], 'a');
    op(g, 'Relu', ['a'], 'b');
    op(g, 'Relu', ['b'], 'c');
    g.outputs.push(g.value('c')!);
    expect(matchPattern(g, ['Relu', 'Relu']).map((m) => m.map((n) => n.name))).toEqual([['a', 'b']]);
    expect(matchPattern(g, ['Relu', 'Relu'], { overlapping: true }).length).toBe(2);
    g.outputs.push(g.value('a')!);
    expect(matchPattern(g, ['Relu', 'Relu']).map((m) => m.map((n) => n.name))).toEqual([['b', 'c']]);
  });
});

describe('extractSubgraph', () => {
  it('cuts between values, keeps needed weights, leaves the original alone', () => {
    const g = new Graph('full');
    g.addInput('x', 'float32', [1, 4]);
    g.addInitializer('w1', floats(new Array(16).fill(1), [4, 4]));
    g.addInitializer('w2', floats(new Array(16).fill(2), [4, 4]));
    g.addInitializer('unused', floats([1]));
    op(g, 'MatMul', ['x', 'w1'], 'h1');
    op(g, 'Relu', ['h1'], 'a1');
    op(g, 'MatMul', ['a1', 'w2'], 'h2');
    op(g, 'Sigmoid', ['h2'], 'y');
    op(g, 'Tanh', ['a1'], 'side');
    g.outputs.push(g.value('y')!, g.value('side')!);
    g.value('a1')!.dtype = 'float32';
    g.value('a1')!.shape = [1, 4];
    const sub = extractSubgraph(g, ['a1'], ['h2']);
    expect(sub.inputs.map((v) => [v.name, v.dtype, v.shape])).toEqual([['a1', 'float32', [1, 4]]]);
    expect(sub.outputs.map((v) => v.name)).toEqual(['h2']);
    expect(sub.nodes.map((n) => n.op)).toEqual(['MatMul']);
    expect([...sub.initializers.keys()]).toEqual(['w2']);
    expect(sub.initializers.get('w2')!.initializer).toBe(g.initializers.get('w2')!.initializer);
    expect(g.nodes.length).toBe(5);
    expect(g.value('a1')!.consumers.size).toBe(2);
  });
  it('fails clearly on unknown names and on cuts that do not separate', () => {
    const g = new Graph('full');
    g.addInput('x', 'float32', [2]);
    g.addInput('z', 'float32', [2]);
    op(g, 'Add', ['x', 'z'], 's');
    op(g, 'Relu', ['s'], 'r');
    expect(() => extractSubgraph(g, ['nope'], ['r'])).toThrow(/no value named 'nope'/);
    expect(() => extractSubgraph(g, ['x'], ['r'])).toThrow(/depend on 'z'/);
    expect(extractSubgraph(g, ['x', 'z'], ['r']).nodes.length).toBe(2);
  });
});
