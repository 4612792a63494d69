/**
 * LSTM/GRU/RNN configurations beyond the ONNX backend data (bidirectional, sequence_lens,
 * initial states, peepholes, clip, activation lists, layout 1) against onnxruntime-node.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { attr } from '../../../../src/ir/graph.js';
import { Tensor } from '../../../../src/ir/tensor.js';
import { useBackend } from '../../../../src/runtime/backends.js';
import { HAVE_ORT, compareAll, describeReport, expectedFromOrt, feedsOf, rand, runKernel, specGraph, vals, type Spec } from './ort-oracle.js';
import { defineOracleSuite } from './oracle-suite.js';

const f32 = 'float32' as const;
const H = 3;
const I = 4;
const B = 3;
const T = 5;
const lens = vals('int32', [B], [5, 2, 4]);

const SPECS: Spec[] = [
  { name: 'LSTM bidirectional, sequence_lens, initial states, peepholes, bias', op: 'LSTM',
    attrs: { direction: attr.string('bidirectional'), hidden_size: attr.int(H) },
    inputs: [rand([T, B, I], 1), rand([2, 4 * H, I], 2), rand([2, 4 * H, H], 3), rand([2, 8 * H], 4), lens,
      rand([2, B, H], 5), rand([2, B, H], 6), rand([2, 3 * H], 7)],
    outs: [f32, f32, f32] },
  { name: 'LSTM reverse, clip', op: 'LSTM',
    attrs: { direction: attr.string('reverse'), hidden_size: attr.int(H), clip: attr.float(0.4) },
    inputs: [rand([T, B, I], 8, -3, 3), rand([1, 4 * H, I], 9), rand([1, 4 * H, H], 10), rand([1, 8 * H], 11), null,
      rand([1, B, H], 12), null, null],
    outs: [f32, f32, f32] },
  { name: 'LSTM forward, activations [HardSigmoid, Tanh, Softsign] with alpha/beta', op: 'LSTM',
    attrs: { hidden_size: attr.int(H), activations: attr.strings(['HardSigmoid', 'Tanh', 'Softsign']),
      activation_alpha: attr.floats([0.3]), activation_beta: attr.floats([0.4]) },
    inputs: [rand([T, B, I], 13), rand([1, 4 * H, I], 14), rand([1, 4 * H, H], 15)],
    outs: [f32, f32, f32] },
  { name: 'GRU bidirectional, linear_before_reset, sequence_lens, initial_h', op: 'GRU',
    attrs: { direction: attr.string('bidirectional'), hidden_size: attr.int(H), linear_before_reset: attr.int(1) },
    inputs: [rand([T, B, I], 16), rand([2, 3 * H, I], 17), rand([2, 3 * H, H], 18), rand([2, 6 * H], 19), lens, rand([2, B, H], 20)],
    outs: [f32, f32] },
  { name: 'GRU reverse, sequence_lens, bias', op: 'GRU',
    attrs: { direction: attr.string('reverse'), hidden_size: attr.int(H) },
    inputs: [rand([T, B, I], 21), rand([1, 3 * H, I], 22), rand([1, 3 * H, H], 23), rand([1, 6 * H], 24), lens],
    outs: [f32, f32] },
  { name: 'GRU with activations [Sigmoid, LeakyRelu]', op: 'GRU',
    attrs: { hidden_size: attr.int(H), activations: attr.strings(['Sigmoid', 'LeakyRelu']), activation_alpha: attr.floats([0.2]) },
    inputs: [rand([T, B, I], 25), rand([1, 3 * H, I], 26), rand([1, 3 * H, H], 27), rand([1, 6 * H], 28)],
    outs: [f32, f32] },
  { name: 'RNN bidirectional [Relu, Tanh], sequence_lens, initial_h', op: 'RNN',
    attrs: { direction: attr.string('bidirectional'), hidden_size: attr.int(H), activations: attr.strings(['Relu', 'Tanh']) },
    inputs: [rand([T, B, I], 29), rand([2, H, I], 30), rand([2, H, H], 31), rand([2, 2 * H], 32), lens, rand([2, B, H], 33)],
    outs: [f32, f32] },
  { name: 'RNN clip', op: 'RNN',
    attrs: { hidden_size: attr.int(H), clip: attr.float(0.3) },
    inputs: [rand([T, B, I], 34, -2, 2), rand([1, H, I], 35), rand([1, H, H], 36)],
    outs: [f32, f32] },
];

defineOracleSuite('recurrent kernels', SPECS);

/**
 * onnxruntime has no batch-major (layout 1) recurrent kernels: run ours with layout 1 on
 * transposed inputs and compare with onnxruntime's layout-0 outputs, transposed.
 */
function transposed(t: Tensor, perm: number[]): Tensor {
  const shape = perm.map((p) => t.shape[p]!);
  const src = t.toFloat64();
  const out = new Float64Array(src.length);
  const inStr = t.shape.map((_, i) => t.shape.slice(i + 1).reduce((a, b) => a * b, 1));
  const outStr = shape.map((_, i) => shape.slice(i + 1).reduce((a, b) => a * b, 1));
  for (let k = 0; k < out.length; k++) {
    let off = 0;
    for (let d = 0; d < shape.length; d++) off += (Math.floor(k / outStr[d]!) % shape[d]!) * inStr[perm[d]!]!;
    out[k] = src[off]!;
  }
  return Tensor.fromArray(t.dtype, shape, out);
}

for (const backend of ['wasm', 'cpu']) {
  describe.skipIf(!HAVE_ORT)(`recurrent kernels, layout 1 vs onnxruntime layout 0 [${backend}]`, () => {
    beforeAll(async () => { await useBackend(backend); });
    for (const spec of SPECS.filter((s) => s.name.includes('bidirectional'))) {
      it(spec.name, async () => {
        const expected = await expectedFromOrt(specGraph(spec), feedsOf(spec));
        const x = spec.inputs[0]!;
        const batchMajor: Spec = {
          ...spec,
          attrs: { ...spec.attrs, layout: attr.int(1) },
          inputs: spec.inputs.map((t, i) => (t && (i === 0 || i === 5 || i === 6) ? transposed(t, [1, 0, 2]) : t)),
        };
        expect(batchMajor.inputs[0]!.shape).toEqual([x.shape[1], x.shape[0], x.shape[2]]);
        const got = await runKernel(batchMajor, backend);
        const want = expected.map((t, i) => transposed(t, i === 0 ? [2, 0, 1, 3] : [1, 0, 2]));
        for (const r of compareAll(got, want)) expect(r.ok, `${spec.name} ${r.name}: ${describeReport(r)}`).toBe(true);
      });
    }
  });
}
