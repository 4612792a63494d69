/**
 * Folding Transpose -> Flatten -> MatMul(constant) into Flatten -> MatMul(rows permuted): the graph
 * computes the same values (checked with onnxruntime on the graph before and after, and with
 * mconv's runtime), for rank 3 and 4 inputs; graphs it must not touch are left alone.
 */
import { describe, expect, it } from 'vitest';
import { Graph, Model, attr } from '../../../src/ir/graph.js';
import { Tensor } from '../../../src/ir/tensor.js';
import { foldTransposeIntoFlattenMatMul } from '../../../src/ir/passes/fold-flatten.js';
import { inferShapes } from '../../../src/ir/infer.js';
import { prng } from '../../../src/runtime/random-inputs.js';
import { expectClose, onnxRoundTrip, runModel } from '../../formats/keras/util.js';

function seeded(shape: number[], seed: number): Tensor {
  const r = prng(seed);
  return Tensor.fromArray('float32', shape, Float32Array.from({ length: shape.reduce((a, d) => a * d, 1) }, () => r() * 2 - 1));
}

function graphFor(inShape: number[], perm: number[], units: number, reshapeTo?: number[]): Graph {
  const g = new Graph('fold');
  const x = g.addInput('x', 'float32', ['batch', ...inShape.slice(1)]);
  const rows = inShape.slice(1).reduce((a, d) => a * d, 1);
  const t = g.addNode('Transpose', [x], 1, { perm: attr.ints(perm) }, 'to_channels_last').outputs[0]!;
  t.shape = ['batch', ...perm.slice(1).map((p) => inShape[p]!)];
  const f = reshapeTo
    ? g.addNode('Reshape', [t, g.addInitializer('target', Tensor.fromArray('int64', [2], reshapeTo))], 1, {}, 'flatten').outputs[0]!
    : g.addNode('Flatten', [t], 1, { axis: attr.int(1) }, 'flatten').outputs[0]!;
  const w = g.addInitializer('dense/kernel:0', seeded([rows, units], 7));
  const y = g.addNode('MatMul', [f, w], ['y']).outputs[0]!;
  g.outputs = [y];
  inferShapes(g);
  return g;
}

describe('foldTransposeIntoFlattenMatMul', () => {
  for (const [inShape, perm] of [[[2, 3, 4, 5], [0, 2, 3, 1]], [[2, 6, 4], [0, 2, 1]], [[2, 2, 3, 4, 2], [0, 2, 3, 4, 1]]] as [number[], number[]][]) {
    it(`removes the Transpose ${JSON.stringify(perm)} and keeps the values`, async () => {
      const x = seeded(inShape, 3);
      const before = new Model(graphFor(inShape, perm, 3), { format: 'keras' });
      const expected = (await onnxRoundTrip(before, [x])) ?? (await runModel(before, [x]));
      const after = new Model(graphFor(inShape, perm, 3), { format: 'keras' });
      expect(foldTransposeIntoFlattenMatMul(after.graph)).toBe(1);
      expect(after.graph.findNodesByOp('Transpose')).toEqual([]);
      expect([...after.graph.initializers.keys()]).toEqual(['dense/kernel:0_rows_nchw']);
      expectClose(await runModel(after, [x]), expected, 'folded', 1e-5, 1e-5);
    });
  }

  it('leaves a Transpose whose output is read elsewhere, or a MatMul on a non-constant', () => {
    const g = graphFor([2, 3, 4, 5], [0, 2, 3, 1], 3);
    const t = g.findNode('to_channels_last')!.outputs[0]!;
    g.outputs.push(t);
    expect(foldTransposeIntoFlattenMatMul(g)).toBe(0);
    const g2 = graphFor([2, 3, 4, 5], [0, 2, 3, 1], 3);
    const mm = g2.findNodesByOp('MatMul')[0]!;
    const w = g2.addInput('w', 'float32', [60, 3]);
    mm.setInput(1, w);
    expect(foldTransposeIntoFlattenMatMul(g2)).toBe(0);
  });

  for (const target of [[-1, 60], [0, 60]]) {
    it(`folds the Reshape to ${JSON.stringify(target)} TF graphs flatten with, keeping the values`, async () => {
      const x = seeded([2, 3, 4, 5], 4);
      const before = new Model(graphFor([2, 3, 4, 5], [0, 2, 3, 1], 3, target), { format: 'tf' });
      const expected = (await onnxRoundTrip(before, [x])) ?? (await runModel(before, [x]));
      const after = new Model(graphFor([2, 3, 4, 5], [0, 2, 3, 1], 3, target), { format: 'tf' });
      expect(foldTransposeIntoFlattenMatMul(after.graph)).toBe(1);
      expect(after.graph.findNodesByOp('Transpose')).toEqual([]);
      expectClose(await runModel(after, [x]), expected, 'folded', 1e-5, 1e-5);
    });
  }

  it('leaves a Reshape that does not flatten to rows', () => {
    // [2, -1]: the batch is symbolic, so a fixed 2 may not be it.
    for (const target of [[-1, 20], [6, 10], [-1, -1], [2, -1]]) {
      const g = graphFor([2, 3, 4, 5], [0, 2, 3, 1], 3, target);
      expect(foldTransposeIntoFlattenMatMul(g)).toBe(0);
    }
  });
});
