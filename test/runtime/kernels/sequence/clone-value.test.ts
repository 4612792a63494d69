/** cloneValue: a copy of a sequence owns its own element handles (disposing one leaves the other intact). */
import { describe, expect, it } from 'vitest';
import { tf, useBackend } from '../../../../src/runtime/backends.js';
import { cloneValue, makeSequence } from '../../../../src/runtime/kernels/sequence/index.js';
import { disposeRT } from '../../../../src/runtime/kernels/types.js';

describe('cloneValue', () => {
  it('copies a sequence element by element and frees everything on dispose', async () => {
    await useBackend('cpu');
    const before = tf.memory().numTensors;
    const s = makeSequence(tf, [{ t: tf.tensor1d([1, 2]), dtype: 'float32' }, { t: tf.tensor1d([3]), dtype: 'float32' }], 'float32');
    const c = cloneValue(tf, s);
    expect(c.seq).toHaveLength(2);
    expect(c.seq![0]!.t).not.toBe(s.seq![0]!.t);
    disposeRT(s);
    expect(Array.from(c.seq![0]!.t.dataSync())).toEqual([1, 2]);
    expect(Array.from(c.seq![1]!.t.dataSync())).toEqual([3]);
    disposeRT(c);
    expect(tf.memory().numTensors).toBe(before);
  });
});
