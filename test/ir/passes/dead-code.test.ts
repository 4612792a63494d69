/** Dead-code removal: unreachable nodes, unused initializers, values that lost their last reference. */
import { describe, expect, it } from 'vitest';
import { Graph, attr } from '../../../src/ir/graph.js';
import { deadCodeElimination } from '../../../src/ir/passes/dead-code.js';
import { validateGraph } from '../../../src/ir/validate.js';
import { floats, op } from '../build.js';

describe('deadCodeElimination', () => {
  it('removes nodes that reach no output and initializers nobody reads', () => {
    const g = new Graph('g');
    g.addInput('x', 'float32', [4]);
    g.addInput('unused_input', 'float32', [4]);
    g.addInitializer('w', floats([1, 2, 3, 4]));
    g.addInitializer('w_dead', floats([5, 6, 7, 8]));
    g.addInitializer('w_orphan', floats([0]));
    op(g, 'Add', ['x', 'w'], 'live');
    op(g, 'Mul', ['x', 'w_dead'], 'dead1');
    op(g, 'Relu', ['dead1'], 'dead2');
    g.outputs.push(g.value('live')!);
    const out = deadCodeElimination(g);
    expect(out).toBe(g);
    expect(g.nodes.map((n) => n.name)).toEqual(['live']);
    expect([...g.initializers.keys()]).toEqual(['w']);
    expect(g.inputs.map((v) => v.name)).toEqual(['x', 'unused_input']);
    expect(g.value('dead1')).toBeUndefined();
    expect(g.value('w_dead')).toBeUndefined();
    expect(g.value('x')!.consumers.size).toBe(1);
    expect(validateGraph(g).filter((i) => i.severity === 'error')).toEqual([]);
  });
  it('keeps what subgraphs read from the outer graph and cleans inside them', () => {
    const g = new Graph('g');
    g.addInput('c', 'bool', []);
    g.addInput('x', 'float32', [4]);
    g.addInitializer('k', floats([2]));
    op(g, 'Neg', ['x'], 'neg'); // read only inside the branch
    const body = new Graph('body', g);
    body.addNode('Mul', [g.value('neg')!, g.value('k')!], ['m']);
    body.addNode('Exp', [g.value('x')!], ['unused_in_body']);
    body.outputs.push(body.value('m')!);
    g.addNode('If', [g.value('c')!], ['y'], { then_branch: attr.graph(body), else_branch: attr.graph(body) }, 'if');
    g.outputs.push(g.value('y')!);
    deadCodeElimination(g);
    expect(g.nodes.map((n) => n.name)).toEqual(['neg', 'if']);
    expect(g.initializers.has('k')).toBe(true);
    expect(body.nodes.map((n) => n.op)).toEqual(['Mul']);
  });
  it('drops an unused initializer that was also listed as a graph input', () => {
    const g = new Graph('g');
    g.addInput('x', 'float32', [1]);
    const w = g.addInitializer('w', floats([1]));
    g.inputs.push(w);
    op(g, 'Relu', ['x'], 'y');
    g.outputs.push(g.value('y')!);
    deadCodeElimination(g);
    expect(g.inputs.map((v) => v.name)).toEqual(['x']);
    expect(g.initializers.size).toBe(0);
  });
});
