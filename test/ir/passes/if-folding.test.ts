/**
 * If folding: an If on a constant condition becomes the nodes of the branch it takes, giving what
 * onnxruntime computes for the original graph; an If on a computed condition stays.
 */
import { describe, expect, it } from 'vitest';
import { Graph, attr } from '../../../src/ir/graph.js';
import { foldConstantIfs } from '../../../src/ir/passes/if-folding.js';
import { removeIdentities } from '../../../src/ir/passes/identity.js';
import { Tensor } from '../../../src/ir/tensor.js';
import { validateGraph, validationErrors } from '../../../src/ir/validate.js';
import { countOps, maxAbsDiff, ort, runOrt } from './helpers.js';

/** y = If(cond) { x * 2 } else { x - 1 }, with cond an initializer (or an input when `computed`). */
function build(cond: boolean, computed = false): Graph {
  const g = new Graph('g');
  const x = g.addInput('x', 'float32', [3]);
  const c = computed ? g.addInput('flag', 'bool', []) : g.addInitializer('flag', Tensor.fromArray('bool', [], [cond]));
  const two = g.addInitializer('two', Tensor.fromArray('float32', [], [2]));
  const thenG = new Graph('then', g);
  const one = thenG.addInitializer('then/one', Tensor.fromArray('float32', [], [1]));
  const doubled = thenG.addNode('Mul', [x, two], ['then/y']).outputs[0]!;
  thenG.outputs = [thenG.addNode('Add', [doubled, one], ['then/out']).outputs[0]!];
  const elseG = new Graph('else', g);
  elseG.outputs = [elseG.addNode('Sub', [x, two], ['else/out']).outputs[0]!];
  const y = g.addNode('If', [c], ['y'], { then_branch: attr.graph(thenG), else_branch: attr.graph(elseG) }, 'if').outputs[0]!;
  g.outputs = [g.addNode('Neg', [y], ['out']).outputs[0]!];
  return g;
}

describe('foldConstantIfs', () => {
  for (const cond of [true, false]) {
    it.skipIf(!ort)(`a constant ${cond} condition takes the ${cond ? 'then' : 'else'} branch, as onnxruntime does`, async () => {
      const feeds = { x: Tensor.fromArray('float32', [3], [1, -2, 0.5]) };
      const want = await runOrt(build(cond), feeds);
      const g = foldConstantIfs(build(cond));
      removeIdentities(g);
      expect(countOps(g, 'If')).toBe(0);
      expect(validationErrors(validateGraph(g))).toEqual([]);
      const got = await runOrt(g, feeds);
      expect(maxAbsDiff(got.get('out')!, want.get('out')!)).toBe(0);
      expect(Array.from(got.get('out')!.toFloat64())).toEqual(cond ? [-3, 3, -2] : [1, 4, 1.5]);
    });
  }

  it('leaves an If on a computed condition', () => {
    const g = foldConstantIfs(build(true, true));
    expect(countOps(g, 'If')).toBe(1);
  });
});
