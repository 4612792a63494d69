import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { Graph, attr } from '../../src/ir/graph.js';
import { Tensor } from '../../src/ir/tensor.js';
import { Session } from '../../src/runtime/session.js';
import { MconvError } from '../../src/errors.js';

function graphThatFailsLate(): Graph {
  const g = new Graph('late');
  const x = g.addInput('x', 'float32', [2, 3]);
  const r = g.addNode('Relu', [x], 1).outputs[0]!;
  const e = g.addNode('Exp', [r], 1).outputs[0]!;
  const shape = g.addInitializer('shape', Tensor.fromArray('int64', [2], [5n, 5n]));
  const y = g.addNode('Reshape', [e, shape], ['y'], {}, 'bad_reshape').outputs[0]!;
  g.outputs.push(y);
  return g;
}

describe('Session', () => {
  it('names every unsupported op before any work starts', async () => {
    const g = new Graph('bad');
    const x = g.addInput('x', 'float32', [2]);
    const a = g.addNode('NoSuchOp', [x], 1, {}, 'n1').outputs[0]!;
    const b = g.addNode('AlsoMissing', [a], 1, {}, 'n2').outputs[0]!;
    g.outputs.push(b);
    const err = await Session.create(g).catch((e) => e);
    expect(err).toBeInstanceOf(MconvError);
    expect(err.message).toMatch(/NoSuchOp/);
    expect(err.message).toMatch(/AlsoMissing/);
  });

  it('frees every intermediate after a run, and after a run that fails midway', async () => {
    const g = new Graph('ok');
    const x = g.addInput('x', 'float32', [2, 3]);
    const r = g.addNode('Relu', [x], 1).outputs[0]!;
    const s = g.addNode('Softmax', [r], ['y'], { axis: attr.int(-1) }).outputs[0]!;
    g.outputs.push(s);
    const session = await Session.create(g, { backend: 'cpu' });
    const feed = { x: Tensor.fromArray('float32', [2, 3], [1, -2, 3, 4, 5, -6]) };
    const base = tf.memory().numTensors;
    const out = await session.run(feed);
    expect(out.get('y')!.shape).toEqual([2, 3]);
    expect(tf.memory().numTensors).toBe(base);
    session.dispose();

    const bad = await Session.create(graphThatFailsLate(), { backend: 'cpu' });
    await bad.run(feed).catch(() => undefined); // the first run uploads the constants
    const before = tf.memory().numTensors;
    const err = await bad.run(feed).catch((e) => e);
    expect(err).toBeInstanceOf(MconvError);
    expect(err.oneLine()).toMatch(/bad_reshape/);
    expect(tf.memory().numTensors).toBe(before);
    bad.dispose();
  });
});
