/** check() refusals and the errors math kernels raise for requests they cannot honour. */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { MconvError } from '../../../../src/errors.js';
import { Graph, attr, type Attrs } from '../../../../src/ir/graph.js';
import { Tensor, type DType } from '../../../../src/ir/tensor.js';
import { mathKernels } from '../../../../src/runtime/kernels/math/index.js';
import type { RT } from '../../../../src/runtime/kernels/types.js';
import { toRT } from '../../../../src/runtime/tensor-bridge.js';

function node(op: string, inputs: { dtype: DType; shape: number[] }[], attrs: Attrs = {}, outDType?: DType) {
  const g = new Graph();
  const ins = inputs.map((x, i) => g.addInput(`x${i}`, x.dtype, x.shape));
  const n = g.addNode(op, ins, ['y'], attrs);
  if (outDType) n.outputs[0]!.dtype = outDType;
  return n;
}

function run(op: string, tensors: Tensor[], attrs: Attrs = {}): RT[] {
  const n = node(op, tensors.map((t) => ({ dtype: t.dtype, shape: t.shape })), attrs);
  const inputs = tensors.map((t) => toRT(tf, t));
  try {
    return mathKernels[op]!.run({ tf, node: n, inputs, backend: 'cpu', runSubgraph: async () => [] }) as RT[];
  } finally {
    for (const r of inputs) r.t.dispose();
  }
}

describe('math kernel checks and errors', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  it('refuses complex tensors before running', () => {
    expect(mathKernels.Add!.check!(node('Add', [{ dtype: 'complex64', shape: [2] }, { dtype: 'complex64', shape: [2] }]))).toMatch(/complex64/);
    expect(mathKernels.Cast!.check!(node('Cast', [{ dtype: 'float32', shape: [2] }], { to: attr.int(14) }))).toMatch(/complex64/);
    expect(mathKernels.Cast!.check!(node('Cast', [{ dtype: 'float32', shape: [2] }], { to: attr.int(99) }))).toMatch(/to=99/);
    expect(mathKernels.Add!.check!(node('Add', [{ dtype: 'string', shape: [2] }, { dtype: 'string', shape: [2] }]))).toMatch(/string/);
  });

  it('accepts what it can run', () => {
    expect(mathKernels.Add!.check!(node('Add', [{ dtype: 'float16', shape: [2] }, { dtype: 'float16', shape: [2] }]))).toBeUndefined();
    expect(mathKernels.Where!.check!(node('Where', [{ dtype: 'bool', shape: [2] }, { dtype: 'string', shape: [2] }, { dtype: 'string', shape: [2] }]))).toBeUndefined();
    expect(mathKernels.Cast!.check!(node('Cast', [{ dtype: 'string', shape: [2] }], { to: attr.int(1) }))).toBeUndefined();
  });

  it('raises MconvErrors naming the node', () => {
    const f = Tensor.fromArray('float32', [2], [1, 2]);
    const cases: [string, Tensor[], Attrs, RegExp][] = [
      ['Mod', [f, f], {}, /fmod=1/],
      ['Einsum', [f], { equation: attr.string('ij->i') }, /2 labels for an operand of rank 1/],
      ['Einsum', [f, f], { equation: attr.string('i,i->k') }, /'k' appears in no input/],
      ['TopK', [f, Tensor.fromArray('int64', [1], [3])], {}, /k=3/],
      ['Add', [f, Tensor.fromArray('float32', [3], [1, 2, 3])], {}, /do not broadcast/],
      ['MatMul', [Tensor.fromArray('float32', [2, 3], [1, 2, 3, 4, 5, 6]), f], {}, /inner dimensions/],
      ['Softmax', [f], { axis: attr.int(2) }, /axis 2 is out of range/],
      ['NegativeLogLikelihoodLoss', [Tensor.fromArray('float32', [1, 2], [-1, -2]), Tensor.fromArray('int64', [1], [5])], {}, /target 5/],
      ['Cast', [Tensor.fromStrings([1], ['abc'])], { to: attr.int(6) }, /cannot cast the string 'abc'/],
    ];
    for (const [op, ins, attrs, re] of cases) {
      let err: unknown;
      try {
        run(op, ins, attrs);
      } catch (e) {
        err = e;
      }
      expect(err, op).toBeInstanceOf(MconvError);
      expect((err as MconvError).message, op).toMatch(re);
      expect((err as MconvError).where, op).toBe(op);
    }
  });
});
