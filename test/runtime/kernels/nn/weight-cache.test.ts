/**
 * The filter-layout cache: constant Conv/ConvTranspose weights are converted once per session,
 * repeated runs give the same (onnxruntime-checked) results, and the cached tensors are freed
 * with the session's constants.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { Graph, attr } from '../../../../src/ir/graph.js';
import { tf, useBackend } from '../../../../src/runtime/backends.js';
import { Session } from '../../../../src/runtime/session.js';
import { cachedDerived } from '../../../../src/runtime/kernels/nn/weight-cache.js';
import { HAVE_ORT, compareAll, describeReport, expectedFromOrt, rand } from './ort-oracle.js';

function convNet(): Graph {
  const g = new Graph('convnet');
  const x = g.addInput('x', 'float32', [1, 3, 8, 8]);
  const w1 = g.addInitializer('w1', rand([4, 3, 3, 3], 1));
  const b1 = g.addInitializer('b1', rand([4], 2));
  const w2 = g.addInitializer('w2', rand([4, 2, 2, 2], 3));
  const c1 = g.addNode('Conv', [x, w1, b1], ['c1'], { pads: attr.ints([1, 1, 1, 1]) }).outputs[0]!;
  const ct = g.addNode('ConvTranspose', [c1, w2], ['y'], { strides: attr.ints([2, 2]) }).outputs[0]!;
  ct.dtype = 'float32';
  g.outputs.push(ct);
  return g;
}

for (const backend of ['wasm', 'cpu']) {
  describe.skipIf(!HAVE_ORT)(`weight cache [${backend}]`, () => {
    beforeAll(async () => { await useBackend(backend); });
    it('keeps results right across runs and frees cached filters with the session', async () => {
      const g = convNet();
      const feeds = new Map([['x', rand([1, 3, 8, 8], 4)]]);
      const expected = await expectedFromOrt(g, feeds);
      const baseline = tf.memory().numTensors;
      const s = await Session.create(g, { backend });
      const counts: number[] = [];
      for (let k = 0; k < 3; k++) {
        const out = await s.run(feeds);
        counts.push(tf.memory().numTensors);
        for (const r of compareAll([out.get('y')!], expected)) expect(r.ok, `run ${k}: ${describeReport(r)}`).toBe(true);
      }
      // Three constants plus two cached filters, the same after every run.
      expect(counts[0]).toBeGreaterThan(baseline);
      expect(new Set(counts).size).toBe(1);
      s.dispose();
      expect(tf.memory().numTensors).toBe(baseline);
    });

    it('computes a derived tensor once per constant source and never for other inputs', () => {
      const src = tf.ones([2, 3]);
      let made = 0;
      const make = () => { made++; return tf.keep(tf.transpose(src)); };
      const a = cachedDerived(src, true, 'k', make);
      const b = cachedDerived(src, true, 'k', make);
      expect(a).toBe(b);
      expect(made).toBe(1);
      expect(cachedDerived(src, false, 'k', make)).toBeUndefined();
      src.dispose();
      expect(a!.isDisposed).toBe(true);
    });
  });
}
