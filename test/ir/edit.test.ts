/** Editing helpers keep producers, consumers, graph outputs and names consistent. */
import { describe, expect, it } from 'vitest';
import { Graph, Node, attr } from '../../src/ir/graph.js';
import { insertAfter, removeNodeAndBypass, renameValue, replaceNode } from '../../src/ir/edit.js';
import { validateGraph } from '../../src/ir/validate.js';
import { floats, op } from './build.js';

function structuralErrors(g: Graph) {
  return validateGraph(g).filter((i) => i.severity === 'error');
}

describe('replaceNode', () => {
  it('replaces a node by a chain that takes over its output value (name and readers kept)', () => {
    const g = new Graph('g');
    g.addInput('x', 'float32', [2, 3]);
    const gelu = g.addNode('FastGelu', [g.value('x')!], ['y'], {}, 'gelu', 'com.example');
    op(g, 'Relu', ['y'], 'z');
    g.outputs.push(g.value('y')!, g.value('z')!);
    const y = g.value('y')!;
    const [s, m] = replaceNode(
      g, gelu,
      { op: 'Sigmoid', inputs: [g.value('x')!], name: 'sig' },
      new Node('Mul', 'mul', [g.value('x')!, g.value('x')!], [g.newValue('tmp')]),
    );
    m!.setInput(1, s!.outputs[0]!);
    expect(y.producer).toBe(m);
    expect(m!.outputs[0]).toBe(y);
    expect(g.outputs[0]).toBe(y);
    expect(g.nodes.map((n) => n.name)).toEqual(['sig', 'mul', 'z']);
    expect(g.value('tmp')).toBeUndefined();
    expect(g.value('x')!.consumers.has(gelu)).toBe(false);
    expect(structuralErrors(g)).toEqual([]);
  });
  it('lets specs name the old outputs directly', () => {
    const g = new Graph('g');
    g.addInput('x', 'float32', [4]);
    const old = g.addNode('Relu', [g.value('x')!], ['y']);
    g.outputs.push(g.value('y')!);
    const [n] = replaceNode(g, old, { op: 'LeakyRelu', inputs: [g.value('x')!], outputs: [old.outputs[0]!], attrs: { alpha: attr.float(0.1) } });
    expect(g.value('y')!.producer).toBe(n);
    expect(g.nodes.length === 1 && g.nodes[0] === n).toBe(true);
  });
});

describe('insertAfter', () => {
  it('inserts a node after a value and moves its readers; the graph output keeps its name', () => {
    const g = new Graph('g');
    g.addInput('x', 'float32', [4]);
    const r = op(g, 'Relu', ['x'], 'r');
    op(g, 'Neg', ['r'], 'n');
    g.outputs.push(r, g.value('n')!);
    const two = g.addInitializer('two', floats([2]));
    const mul = insertAfter(g, r, 'Mul', {}, { inputs: [two] });
    expect(mul.inputs).toEqual([r, two]);
    expect(g.findNode('n')!.inputs[0]).toBe(mul.outputs[0]);
    expect(g.outputs[0]).toBe(mul.outputs[0]);
    expect(g.outputs[0]!.name).toBe('r');
    expect(r.name).not.toBe('r');
    expect(g.value('r')).toBe(mul.outputs[0]);
    expect(g.nodes.map((n) => n.op)).toEqual(['Relu', 'Mul', 'Neg']);
    expect(structuralErrors(g)).toEqual([]);
  });
});

describe('removeNodeAndBypass', () => {
  it('makes readers read the input', () => {
    const g = new Graph('g');
    g.addInput('x', 'float32', [4]);
    op(g, 'Identity', ['x'], 'i');
    op(g, 'Relu', ['i'], 'r');
    g.outputs.push(g.value('r')!);
    expect(removeNodeAndBypass(g, g.findNode('i')!)).toBe(true);
    expect(g.findNode('r')!.inputs[0]).toBe(g.value('x'));
    expect(g.value('i')).toBeUndefined();
    expect(structuralErrors(g)).toEqual([]);
  });
  it('keeps a graph output name by renaming the internal input', () => {
    const g = new Graph('g');
    g.addInput('x', 'float32', [4]);
    op(g, 'Relu', ['x'], 'r');
    op(g, 'Identity', ['r'], 'out');
    op(g, 'Neg', ['r'], 'n');
    g.outputs.push(g.value('out')!, g.value('n')!);
    expect(removeNodeAndBypass(g, g.findNode('out')!)).toBe(true);
    expect(g.outputs.map((v) => v.name)).toEqual(['out', 'n']);
    expect(g.outputs[0]!.producer!.op).toBe('Relu');
    expect(g.findNode('n')!.inputs[0]).toBe(g.outputs[0]);
    expect(structuralErrors(g)).toEqual([]);
  });
  it('keeps the node when the output name cannot be kept (input is a graph input)', () => {
    const g = new Graph('g');
    g.addInput('x', 'float32', [4]);
    op(g, 'Identity', ['x'], 'out');
    g.outputs.push(g.value('out')!);
    expect(removeNodeAndBypass(g, g.findNode('out')!)).toBe(false);
    expect(g.nodes.length).toBe(1);
  });
  it('refuses nodes with several used outputs', () => {
    const g = new Graph('g');
    g.addInput('x', 'float32', [4]);
    const s = g.addNode('Split', [g.value('x')!], ['a', 'b'], {}, 'split');
    g.outputs.push(...s.outputs);
    expect(() => removeNodeAndBypass(g, s)).toThrow(/cannot bypass split/);
  });
});

describe('renameValue', () => {
  it('renames values, initializers included, and refuses taken names', () => {
    const g = new Graph('g');
    g.addInput('x', 'float32', [4]);
    const w = g.addInitializer('w', floats([1, 2, 3, 4]));
    op(g, 'Add', ['x', 'w'], 'y');
    renameValue(g, 'w', 'bias');
    expect(g.initializers.get('bias')).toBe(w);
    expect(g.initializers.has('w')).toBe(false);
    expect(g.value('bias')).toBe(w);
    expect(g.findNode('y')!.inputs[1]!.name).toBe('bias');
    expect(() => renameValue(g, 'bias', 'x')).toThrow(/name is taken/);
    expect(() => renameValue(g, 'nope', 'q')).toThrow(/no value named/);
  });
});
