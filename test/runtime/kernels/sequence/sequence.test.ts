/**
 * Sequence kernels: the ONNX backend `simple` sequence models against their recorded outputs,
 * edge semantics (negative positions, default positions, scalar splits with a remainder,
 * keepdims, new_axis) against onnxruntime-node, and the lifetime of sequence elements.
 */
import { describe, expect, it } from 'vitest';
import { Graph, attr } from '../../../../src/ir/graph.js';
import { Tensor } from '../../../../src/ir/tensor.js';
import { MconvError } from '../../../../src/errors.js';
import { tf, useBackend } from '../../../../src/runtime/backends.js';
import { Session } from '../../../../src/runtime/session.js';
import { BACKEND, HAVE_DATA, HAVE_ORT, checkBackendCase, mismatch, runBoth, seeded } from './oracle.js';

describe.skipIf(!HAVE_DATA)('ONNX backend simple sequence models', () => {
  for (let k = 1; k <= 8; k++) {
    it(`test_sequence_model${k}`, async () => {
      expect(await checkBackendCase('simple', `test_sequence_model${k}`)).toBeUndefined();
    });
  }
});

const i64 = (v: number[], shape: number[] = [v.length]) => Tensor.fromArray('int64', shape, v);

/** Marks a graph output (with its dtype) and returns the value. */
function out(g: Graph, name: string, dtype: 'float32' | 'int64' | 'float64') {
  const v = g.value(name)!;
  v.dtype = dtype;
  g.outputs.push(v);
  return v;
}

interface Case {
  name: string;
  build: () => { g: Graph; feeds: Map<string, Tensor> };
}

const CASES: Case[] = [
  {
    // Insert at -1 (before the last), erase the default (last), read at -2.
    name: 'negative and default positions',
    build: () => {
      const g = new Graph('neg_pos');
      const a = g.addInput('a', 'float32', [2, 3]);
      const b = g.addInput('b', 'float32', [2, 3]);
      const c = g.addInput('c', 'float32', [2, 3]);
      const p = g.addInput('p', 'int64', []);
      const q = g.addInput('q', 'int64', []);
      const s1 = g.addNode('SequenceConstruct', [a, b], ['s1']).outputs[0]!;
      const s2 = g.addNode('SequenceInsert', [s1, c, p], ['s2']).outputs[0]!;
      const s3 = g.addNode('SequenceInsert', [s2, a], ['s3']).outputs[0]!;
      const s4 = g.addNode('SequenceErase', [s3], ['s4']).outputs[0]!;
      g.addNode('SequenceAt', [s4, q], ['at']);
      g.addNode('SequenceLength', [s4], ['len']);
      g.addNode('ConcatFromSequence', [s4], ['cat'], { axis: attr.int(0) });
      out(g, 'at', 'float32');
      out(g, 'len', 'int64');
      out(g, 'cat', 'float32');
      const feeds = new Map([
        ['a', seeded('float32', [2, 3], 1)], ['b', seeded('float32', [2, 3], 2)], ['c', seeded('float32', [2, 3], 3)],
        ['p', i64([-1], [])], ['q', i64([-2], [])],
      ]);
      return { g, feeds };
    },
  },
  {
    // A scalar split of 3 over an axis of 7 gives parts 3, 3, 1; read the short last part.
    name: 'scalar split with remainder',
    build: () => {
      const g = new Graph('split_scalar');
      const x = g.addInput('x', 'float32', [2, 7]);
      const k = g.addInput('k', 'int64', []);
      const last = g.addInput('last', 'int64', []);
      const s = g.addNode('SplitToSequence', [x, k], ['s'], { axis: attr.int(1) }).outputs[0]!;
      g.addNode('SequenceLength', [s], ['len']);
      g.addNode('SequenceAt', [s, last], ['tail']);
      g.addNode('ConcatFromSequence', [s], ['back'], { axis: attr.int(-1) });
      out(g, 'len', 'int64');
      out(g, 'tail', 'float32');
      out(g, 'back', 'float32');
      return { g, feeds: new Map([['x', seeded('float32', [2, 7], 4)], ['k', i64([3], [])], ['last', i64([-1], [])]]) };
    },
  },
  {
    // No split input, keepdims=0 on axis 1, then stacked again on a new last axis.
    name: 'keepdims=0 and new_axis stacking',
    build: () => {
      const g = new Graph('split_squeeze');
      const x = g.addInput('x', 'float64', [2, 3, 4]);
      const s = g.addNode('SplitToSequence', [x], ['s'], { axis: attr.int(1), keepdims: attr.int(0) }).outputs[0]!;
      g.addNode('ConcatFromSequence', [s], ['stacked'], { axis: attr.int(-1), new_axis: attr.int(1) });
      g.addNode('ConcatFromSequence', [s], ['front'], { axis: attr.int(0), new_axis: attr.int(1) });
      out(g, 'stacked', 'float64');
      out(g, 'front', 'float64');
      return { g, feeds: new Map([['x', seeded('float64', [2, 3, 4], 5)]]) };
    },
  },
  {
    // Explicit lengths (one of them 0) and an empty sequence grown by inserts at the front.
    name: 'split lengths and SequenceEmpty',
    build: () => {
      const g = new Graph('split_lengths');
      const x = g.addInput('x', 'float32', [5, 2]);
      const lens = g.addInput('lens', 'int64', [3]);
      const zero = g.addInput('zero', 'int64', []);
      const s = g.addNode('SplitToSequence', [x, lens], ['s']).outputs[0]!;
      const e = g.addNode('SequenceEmpty', [], ['e'], { dtype: attr.int(1) }).outputs[0]!;
      const p0 = g.addNode('SequenceAt', [s, zero], ['p0']).outputs[0]!;
      const two = g.addInput('two', 'int64', []);
      const p2 = g.addNode('SequenceAt', [s, two], ['p2']).outputs[0]!;
      const e1 = g.addNode('SequenceInsert', [e, p0, zero], ['e1']).outputs[0]!;
      const e2 = g.addNode('SequenceInsert', [e1, p2, zero], ['e2']).outputs[0]!;
      g.addNode('ConcatFromSequence', [e2], ['cat'], { axis: attr.int(0) });
      g.addNode('SequenceLength', [s], ['len']);
      out(g, 'cat', 'float32');
      out(g, 'len', 'int64');
      return { g, feeds: new Map([['x', seeded('float32', [5, 2], 6)], ['lens', i64([2, 0, 3])], ['zero', i64([0], [])], ['two', i64([2], [])]]) };
    },
  },
];

describe.skipIf(!HAVE_ORT)('sequence ops against onnxruntime-node', () => {
  for (const c of CASES) {
    it(c.name, async () => {
      const { g, feeds } = c.build();
      const { ours, ort } = await runBoth(g, feeds);
      ours.forEach((t, i) => expect(mismatch(t, ort[i]!), `${g.outputs[i]!.name}`).toBeUndefined());
      // The graphs above return known shapes: check a few against ONNX semantics too.
      if (c.name === 'scalar split with remainder') {
        expect(Number(ours[0]!.view()[0])).toBe(3);
        expect(ours[1]!.shape).toEqual([2, 1]);
      }
      if (c.name === 'keepdims=0 and new_axis stacking') {
        expect(ours[0]!.shape).toEqual([2, 4, 3]);
        expect(ours[1]!.shape).toEqual([3, 2, 4]);
      }
    });
  }
});

describe('sequence value lifetime', () => {
  it('disposes the tensors of a 2-element sequence after a run', async () => {
    await useBackend(BACKEND);
    const g = new Graph('seq_life');
    const a = g.addInput('a', 'float32', [3]);
    const b = g.addInput('b', 'float32', [3]);
    const one = g.addInput('one', 'int64', []);
    const s = g.addNode('SequenceConstruct', [a, b], ['s']).outputs[0]!;
    const s2 = g.addNode('SequenceErase', [s, one], ['s2']).outputs[0]!;
    g.addNode('SequenceAt', [s, one], ['y']);
    g.addNode('SequenceLength', [s2], ['n']);
    out(g, 'y', 'float32');
    out(g, 'n', 'int64');
    const session = await Session.create(g, { backend: BACKEND });
    const feeds = new Map([
      ['a', Tensor.fromArray('float32', [3], [1, 2, 3])],
      ['b', Tensor.fromArray('float32', [3], [4, 5, 6])],
      ['one', Tensor.fromArray('int64', [], [1])],
    ]);
    const before = tf.memory().numTensors;
    const res = await session.run(feeds);
    expect(Array.from(res.get('y')!.view() as Float32Array)).toEqual([4, 5, 6]);
    expect(Number(res.get('n')!.view()[0])).toBe(1);
    expect(tf.memory().numTensors).toBe(before);
    // A second run reuses nothing it freed.
    await session.run(feeds);
    expect(tf.memory().numTensors).toBe(before);
    session.dispose();
  });

  it('refuses a sequence graph output clearly and frees it', async () => {
    await useBackend(BACKEND);
    const g = new Graph('seq_out');
    const a = g.addInput('a', 'float32', [2]);
    const b = g.addInput('b', 'float32', [2]);
    g.addNode('SequenceConstruct', [a, b], ['s']);
    g.outputs.push(g.value('s')!);
    const session = await Session.create(g, { backend: BACKEND });
    const before = tf.memory().numTensors;
    const err = await session.run({ a: Tensor.fromArray('float32', [2], [1, 2]), b: Tensor.fromArray('float32', [2], [3, 4]) }).catch((e) => e);
    expect(err).toBeInstanceOf(MconvError);
    expect((err as MconvError).kind).toBe('unsupported');
    expect((err as Error).message).toMatch(/graph output 's' is a sequence of 2 tensors/);
    expect(tf.memory().numTensors).toBe(before);
    session.dispose();
  });

  it('reports an out-of-range position with the node name', async () => {
    await useBackend(BACKEND);
    const g = new Graph('seq_bad_pos');
    const a = g.addInput('a', 'float32', [2]);
    const p = g.addInput('p', 'int64', []);
    const s = g.addNode('SequenceConstruct', [a], ['s']).outputs[0]!;
    g.addNode('SequenceAt', [s, p], ['y'], {}, 'read_it');
    out(g, 'y', 'float32');
    const session = await Session.create(g, { backend: BACKEND });
    const err = await session.run({ a: Tensor.fromArray('float32', [2], [1, 2]), p: Tensor.fromArray('int64', [], [1]) }).catch((e) => e);
    expect(err).toBeInstanceOf(MconvError);
    expect((err as Error).message).toMatch(/read_it.*position 1 is out of range \[-1, 0\]/);
    session.dispose();
  });
});
