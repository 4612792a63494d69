/** Identity and inference-mode Dropout removal, with graph output names kept. */
import { describe, expect, it } from 'vitest';
import { Graph, attr } from '../../../src/ir/graph.js';
import { removeIdentities } from '../../../src/ir/passes/identity.js';
import { Tensor } from '../../../src/ir/tensor.js';
import { validateGraph } from '../../../src/ir/validate.js';
import { floats, op, randomTensor } from '../build.js';
import { maxAbsDiff, ort, runOrt } from './helpers.js';

function sample(): Graph {
  const g = new Graph('g');
  g.addInput('x', 'float32', [2, 3]);
  op(g, 'Identity', ['x'], 'i1');
  op(g, 'Relu', ['i1'], 'r');
  g.addInitializer('ratio', floats([0.5], []));
  g.addNode('Dropout', [g.value('r')!, g.value('ratio')!], ['d', 'mask_unused'], {}, 'drop');
  op(g, 'Identity', ['d'], 'i2');
  op(g, 'Sigmoid', ['i2'], 's');
  op(g, 'Identity', ['s'], 'y'); // graph output produced by an Identity
  op(g, 'Identity', ['x'], 'x_copy'); // graph input straight to a graph output
  g.outputs.push(g.value('y')!, g.value('x_copy')!);
  return g;
}

describe('removeIdentities', () => {
  it('bypasses Identity and inference Dropout, keeping output names', () => {
    const g = removeIdentities(sample());
    expect(g.nodes.map((n) => n.op)).toEqual(['Relu', 'Sigmoid', 'Identity']);
    expect(g.outputs.map((v) => v.name)).toEqual(['y', 'x_copy']);
    expect(g.outputs[0]!.producer!.op).toBe('Sigmoid');
    expect(g.findNode('s')!.inputs[0]!.producer!.op).toBe('Relu');
    expect(validateGraph(g).filter((i) => i.severity === 'error')).toEqual([]);
  });
  it('keeps Dropout in training mode or with a used mask', () => {
    const g = new Graph('g');
    g.addInput('x', 'float32', [4]);
    g.addInitializer('train', Tensor.fromArray('bool', [], [true]));
    g.addNode('Dropout', [g.value('x')!, null, g.value('train')!], ['a'], {}, 'd1');
    g.addNode('Dropout', [g.value('x')!], ['b', 'm'], {}, 'd2');
    g.outputs.push(g.value('a')!, g.value('b')!, g.value('m')!);
    removeIdentities(g);
    expect(g.nodes.map((n) => n.name)).toEqual(['d1', 'd2']);
  });
  it.skipIf(!ort)('computes what the original computes (onnxruntime)', async () => {
    const feeds = { x: randomTensor([2, 3], 4) };
    const a = await runOrt(sample(), feeds);
    const b = await runOrt(removeIdentities(sample()), feeds);
    for (const [k, v] of a) expect(maxAbsDiff(b.get(k)!, v), k).toBe(0);
  });
  it('works inside subgraphs', () => {
    const g = new Graph('g');
    g.addInput('c', 'bool', []);
    g.addInput('x', 'float32', [4]);
    const body = new Graph('body', g);
    body.addNode('Identity', [g.value('x')!], ['i']);
    body.addNode('Relu', [body.value('i')!], ['r']);
    body.outputs.push(body.value('r')!);
    g.addNode('If', [g.value('c')!], ['y'], { then_branch: attr.graph(body), else_branch: attr.graph(body) });
    g.outputs.push(g.value('y')!);
    removeIdentities(g);
    expect(body.nodes.map((n) => n.op)).toEqual(['Relu']);
    expect(body.nodes[0]!.inputs[0] === g.value('x')).toBe(true);
  });
});
