/**
 * Transpose cancelling: composition, pushing through layout-agnostic ops, and the Keras NHWC
 * CNN pattern. Every rewritten graph is run with onnxruntime against the original.
 */
import { topologicalOrder } from '../../../src/ir/walk.js';
import { describe, expect, it } from 'vitest';
import { Graph, attr } from '../../../src/ir/graph.js';
import { deadCodeElimination } from '../../../src/ir/passes/dead-code.js';
import { transposeOptimizer } from '../../../src/ir/passes/transpose.js';
import { optimize } from '../../../src/ir/passes/index.js';
import { validateGraph } from '../../../src/ir/validate.js';
import { int64s, op, randomTensor } from '../build.js';
import { countOps, maxAbsDiff, ort, runOrt } from './helpers.js';
import { Tensor } from '../../../src/ir/tensor.js';

const TO_NCHW = [0, 3, 1, 2];
const TO_NHWC = [0, 2, 3, 1];

/** A Keras-style NHWC network: every layout-sensitive op wrapped in Transposes, as NHWC readers emit it. */
function kerasCnn(head: 'reduce' | 'flatten'): Graph {
  const g = new Graph('keras');
  g.addInput('image', 'float32', [1, 8, 8, 3]);
  let seed = 10;
  const w = (name: string, shape: number[]) => g.addInitializer(name, randomTensor(shape, seed++)).name;
  const t = (input: string, perm: number[], out: string) => op(g, 'Transpose', [input], out, { perm: attr.ints(perm) }).name;
  const conv = (input: string, wname: string, out: string) =>
    op(g, 'Conv', [input, wname], out, { pads: attr.ints([1, 1, 1, 1]) }).name;
  // conv1 + bias (NHWC broadcast on the last axis) + relu
  let h = t('image', TO_NCHW, 'c1_in');
  h = conv(h, w('k1', [4, 3, 3, 3]), 'c1');
  h = t(h, TO_NHWC, 'c1_nhwc');
  h = op(g, 'Add', [h, w('b1', [4])], 'c1_bias').name;
  const r1 = op(g, 'Relu', [h], 'r1').name;
  // conv2 + bias, residual add with r1, relu
  h = t(r1, TO_NCHW, 'c2_in');
  h = conv(h, w('k2', [4, 4, 3, 3]), 'c2');
  h = t(h, TO_NHWC, 'c2_nhwc');
  h = op(g, 'Add', [h, w('b2', [4])], 'c2_bias').name;
  h = op(g, 'Add', [h, r1], 'residual').name;
  g.addInitializer('six', randomTensor([], 7));
  h = op(g, 'Clip', [h, '', 'six'].map((x) => (x === '' ? null : x)), 'relu6').name;
  // max pool
  h = t(h, TO_NCHW, 'p_in');
  h = op(g, 'MaxPool', [h], 'pool', { kernel_shape: attr.ints([2, 2]), strides: attr.ints([2, 2]) }).name;
  h = t(h, TO_NHWC, 'p_nhwc');
  h = op(g, 'Sigmoid', [h], 'sig').name;
  if (head === 'reduce') {
    h = op(g, 'ReduceMean', [h], 'gap', { axes: attr.ints([1, 2]), keepdims: attr.int(0) }).name;
  } else {
    g.addInitializer('flat_shape', int64s([1, -1]));
    h = op(g, 'Reshape', [h, 'flat_shape'], 'flat').name;
  }
  const dense = w('dense', [head === 'reduce' ? 4 : 64, 2]);
  op(g, 'MatMul', [h, dense], 'logits');
  g.outputs.push(g.value('logits')!);
  return g;
}

async function sameOutputs(before: Graph, after: Graph, feeds: Record<string, Tensor>) {
  const a = await runOrt(before, feeds);
  const b = await runOrt(after, feeds);
  for (const [k, v] of a) expect(maxAbsDiff(b.get(k)!, v), k).toBeLessThan(1e-6);
}

describe('transposeOptimizer', () => {
  it('cancels inverse pairs and composes others', () => {
    const g = new Graph('g');
    g.addInput('x', 'float32', [2, 3, 4]);
    op(g, 'Transpose', ['x'], 't1', { perm: attr.ints([1, 2, 0]) });
    op(g, 'Transpose', ['t1'], 't2', { perm: attr.ints([2, 0, 1]) }); // inverse of t1
    op(g, 'Relu', ['t2'], 'r');
    op(g, 'Transpose', ['r'], 't3', { perm: attr.ints([1, 0, 2]) });
    op(g, 'Transpose', ['t3'], 't4', { perm: attr.ints([0, 2, 1]) });
    op(g, 'Neg', ['t4'], 'y');
    g.outputs.push(g.value('y')!);
    transposeOptimizer(g);
    deadCodeElimination(g);
    // t1/t2 cancel; t3/t4 compose into one Transpose, which (following elementwise ops from the
    // input) moves up to the input.
    const order = topologicalOrder(g);
    expect(order.map((n) => n.op)).toEqual(['Transpose', 'Relu', 'Neg']);
    const t = order[0]!;
    expect(t.inputs[0] === g.value('x')).toBe(true);
    expect(t.attrInts('perm')).toEqual([1, 2, 0]);
    expect(order[2]!.outputs[0]!.name).toBe('y');
  });

  it.skipIf(!ort)('composed perms compute the same (onnxruntime)', async () => {
    const build = () => {
      const g = new Graph('g');
      g.addInput('x', 'float32', [2, 3, 4, 5]);
      op(g, 'Transpose', ['x'], 'a', { perm: attr.ints([3, 1, 0, 2]) });
      op(g, 'Transpose', ['a'], 'b', { perm: attr.ints([2, 0, 3, 1]) });
      op(g, 'Tanh', ['b'], 'c');
      g.addInitializer('k', randomTensor([5, 4, 1], 2)); // b is [2, 5, 4, 3]
      op(g, 'Mul', ['c', 'k'], 'd');
      op(g, 'Softmax', ['d'], 'e', { axis: attr.int(1) });
      op(g, 'ReduceSum', ['e', 'ax'], 'f', { keepdims: attr.int(1) });
      g.addInitializer('ax', int64s([3]));
      g.nodes[g.nodes.length - 1]!.setInput(1, g.value('ax')!);
      g.outputs.push(g.value('f')!);
      return g;
    };
    const g = transposeOptimizer(build());
    deadCodeElimination(g);
    expect(countOps(g, 'Transpose')).toBe(1);
    // The one left reads the input (moved up through the elementwise ops, Softmax and ReduceSum remapped).
    expect(topologicalOrder(g)[0]!.op).toBe('Transpose');
    await sameOutputs(build(), g, { x: randomTensor([2, 3, 4, 5], 3) });
  });

  for (const head of ['reduce', 'flatten'] as const) {
    it.skipIf(!ort)(`leaves one Transpose per input and output of a Keras NHWC CNN (${head} head)`, async () => {
      const g = kerasCnn(head);
      expect(countOps(g, 'Transpose')).toBe(6);
      optimize(g);
      // reduce head: the mean over H, W needs no layout at all; flatten head: one NHWC Transpose before the Reshape.
      expect(countOps(g, 'Transpose')).toBe(head === 'reduce' ? 1 : 2);
      const ts = g.nodes.filter((n) => n.op === 'Transpose');
      expect(ts[0]!.inputs[0]!.name).toBe('image');
      if (head === 'flatten') expect(ts[1]!.outputs[0]!.consumers.values().next().value!.op).toBe('Reshape');
      expect(validateGraph(g).filter((i) => i.severity === 'error')).toEqual([]);
      await sameOutputs(kerasCnn(head), g, { image: randomTensor([1, 8, 8, 3], 42) });
    });
  }

  it('does not push a Transpose whose output is a graph output, nor through layout-sensitive ops', () => {
    const g = new Graph('g');
    g.addInput('x', 'float32', [1, 4, 4, 3]);
    op(g, 'Transpose', ['x'], 't', { perm: attr.ints(TO_NCHW) });
    g.addInitializer('scale', randomTensor([3], 1));
    g.addInitializer('bias', randomTensor([3], 2));
    g.addInitializer('mean', randomTensor([3], 3));
    g.addInitializer('var', randomTensor([3], 4).reshape([3]));
    op(g, 'BatchNormalization', ['t', 'scale', 'bias', 'mean', 'var'], 'bn');
    op(g, 'Transpose', ['x'], 'out', { perm: attr.ints(TO_NCHW) });
    g.outputs.push(g.value('bn')!, g.value('out')!);
    transposeOptimizer(g);
    expect(countOps(g, 'Transpose')).toBe(2);
  });

  it.skipIf(!ort)('moves a Transpose after a Rescaling-like Mul/Add and a Pad up to the input, and pushes one through Resize', async () => {
    const build = () => {
      const g = new Graph('g');
      g.addInput('image', 'float32', [1, 6, 6, 3]);
      g.addInitializer('scale', randomTensor([3], 5));
      g.addInitializer('shift', randomTensor([1, 1, 1, 3], 6));
      op(g, 'Mul', ['image', 'scale'], 'scaled');
      op(g, 'Add', ['scaled', 'shift'], 'shifted');
      g.addInitializer('pads', int64s([0, 1, 2, 0, 0, 1, 0, 0]));
      op(g, 'Pad', ['shifted', 'pads'], 'padded', { mode: attr.string('constant') });
      op(g, 'Transpose', ['padded'], 'cf', { perm: attr.ints(TO_NCHW) });
      g.addInitializer('w', randomTensor([4, 3, 3, 3], 7));
      op(g, 'Conv', ['cf', 'w'], 'conv', { kernel_shape: attr.ints([3, 3]) });
      op(g, 'Transpose', ['conv'], 'cl', { perm: attr.ints(TO_NHWC) });
      g.addInitializer('scales', Tensor.fromArray('float32', [4], [1, 2, 3, 1]));
      op(g, 'Resize', ['cl', null, 'scales'], 'up', { mode: attr.string('nearest') });
      op(g, 'Transpose', ['up'], 'cf2', { perm: attr.ints(TO_NCHW) });
      op(g, 'Relu', ['cf2'], 'y');
      g.outputs.push(g.value('y')!);
      return g;
    };
    const g = optimize(build());
    const ts = g.nodes.filter((n) => n.op === 'Transpose');
    expect(ts.length).toBe(1);
    expect(ts[0]!.inputs[0]!.name).toBe('image');
    const resize = g.nodes.find((n) => n.op === 'Resize')!;
    expect(Array.from(resize.inputs[2]!.initializer!.toArray() as number[])).toEqual([1, 1, 2, 3]);
    expect(validateGraph(g).filter((i) => i.severity === 'error')).toEqual([]);
    await sameOutputs(build(), g, { image: randomTensor([1, 6, 6, 3], 8) });
  });
});
