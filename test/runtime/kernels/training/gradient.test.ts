/**
 * Gradient (ai.onnx.preview.training): the ONNX backend `simple` gradient models against their
 * recorded outputs, a graph mixing many ops against torch autograd (Debian python3 + torch),
 * and the errors a user gets when a path cannot be differentiated.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Graph, attr, type Value } from '../../../../src/ir/graph.js';
import { Tensor } from '../../../../src/ir/tensor.js';
import { MconvError } from '../../../../src/errors.js';
import { tf, useBackend } from '../../../../src/runtime/backends.js';
import { Session, runModel } from '../../../../src/runtime/session.js';
import { BACKEND, HAVE_DATA, checkBackendCase, mismatch, seeded } from '../sequence/oracle.js';

const TRAINING = 'ai.onnx.preview.training';
const PYTHON = '/usr/bin/python3';

function pythonHasTorch(): boolean {
  if (!existsSync(PYTHON)) return false;
  try {
    execFileSync(PYTHON, ['-c', 'import torch'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
const HAVE_TORCH = pythonHasTorch();
if (!HAVE_TORCH) console.warn(`skipping the torch autograd oracle: ${PYTHON} with torch is not available`);

describe.skipIf(!HAVE_DATA)('ONNX backend simple gradient models', () => {
  it('test_gradient_of_add', async () => expect(await checkBackendCase('simple', 'test_gradient_of_add')).toBeUndefined());
  it('test_gradient_of_add_and_mul', async () => expect(await checkBackendCase('simple', 'test_gradient_of_add_and_mul')).toBeUndefined());
});

/** The same function in torch (float64), differentiated by autograd. Reads A, B, C, D as JSON. */
const TORCH_SCRIPT = String.raw`
import sys, json, torch
d = json.load(sys.stdin)
t = lambda k, s: torch.tensor(d[k], dtype=torch.float64).reshape(s)
A = t('A', (2, 3)).requires_grad_(); B = t('B', (3, 4)).requires_grad_(); C = t('C', (4,)).requires_grad_(); D = t('D', (2, 4))
h2 = A @ B + C
q = torch.sigmoid(h2) * torch.tanh(D) / (D.abs() + 1)
r = torch.relu(h2 - D)
sm = torch.softmax(h2, dim=-1)
lk = torch.nn.functional.leaky_relu(h2, 0.1)
cat = torch.cat([q, r, sm, lk], dim=1).t()
sl = cat[1:15]
ex = torch.exp(-sl)
lg = torch.log(sl * sl + 1)
pw = (sl.abs() + 1) ** 2
g = A.reshape(6)[torch.tensor([0, 5, 2, 2])]
y = ex.sum() + lg.mean() + pw.max() + (g * g).sum()
y.backward()
print(json.dumps({'y': y.item(), 'dA': A.grad.flatten().tolist(), 'dB': B.grad.flatten().tolist(), 'dC': C.grad.flatten().tolist()}))
`;

function buildMixed(): Graph {
  const g = new Graph('grad_mixed');
  const A = g.addInput('A', 'float32', [2, 3]);
  const B = g.addInput('B', 'float32', [3, 4]);
  const C = g.addInput('C', 'float32', [4]);
  const D = g.addInput('D', 'float32', [2, 4]);
  const one = g.addInitializer('one', Tensor.fromArray('float32', [], [1]));
  const two = g.addInitializer('two', Tensor.fromArray('float32', [], [2]));
  let k = 0;
  const op = (type: string, ins: Value[], attrs = {}) => g.addNode(type, ins, [`v${k++}`], attrs).outputs[0]!;
  const h2 = op('Add', [op('MatMul', [A, B]), C]);
  const q = op('Div', [op('Mul', [op('Sigmoid', [h2]), op('Tanh', [D])]), op('Add', [op('Abs', [D]), one])]);
  const r = op('Relu', [op('Sub', [h2, D])]);
  const sm = op('Softmax', [h2], { axis: attr.int(-1) });
  const lk = op('LeakyRelu', [h2], { alpha: attr.float(0.1) });
  const cat = op('Transpose', [op('Concat', [q, r, sm, lk], { axis: attr.int(1) })]);
  const i64 = (name: string, v: number[]) => g.addInitializer(name, Tensor.fromArray('int64', [v.length], v));
  const sl = op('Slice', [cat, i64('starts', [1]), i64('ends', [15]), i64('axes', [0])]);
  const ex = op('ReduceSum', [op('Exp', [op('Neg', [sl])])], { keepdims: attr.int(0) });
  const lg = op('ReduceMean', [op('Log', [op('Add', [op('Mul', [sl, sl]), one])])], { keepdims: attr.int(0) });
  const pw = op('ReduceMax', [op('Pow', [op('Add', [op('Abs', [sl]), one]), two])], { keepdims: attr.int(0) });
  const gat = op('Gather', [op('Reshape', [A, i64('flat', [6])]), i64('idx', [0, 5, 2, 2])]);
  const gg = op('ReduceSum', [op('Mul', [gat, gat])], { keepdims: attr.int(0) });
  const y = g.addNode('Sum', [ex, lg, pw, gg], ['y']).outputs[0]!;
  y.dtype = 'float32';
  const grad = g.addNode('Gradient', [A, B, C, D], ['dA', 'dB', 'dC'], {
    xs: attr.strings(['A', 'B', 'C']), zs: attr.strings(['D']), y: attr.string('y'),
  }, 'grad', TRAINING);
  for (const o of grad.outputs) o.dtype = 'float32';
  g.outputs.push(y, ...grad.outputs);
  return g;
}

describe.skipIf(!HAVE_TORCH)('Gradient against torch autograd', () => {
  it.each(['cpu', 'wasm'])('differentiates a graph of matmul, activations, softmax, concat, slice, gather and reductions (%s)', async (backend) => {
    const feeds = new Map([
      ['A', seeded('float32', [2, 3], 11)], ['B', seeded('float32', [3, 4], 12)],
      ['C', seeded('float32', [4], 13)], ['D', seeded('float32', [2, 4], 14)],
    ]);
    const payload = JSON.stringify(Object.fromEntries([...feeds].map(([k, t]) => [k, Array.from(t.view() as Float32Array)])));
    const ref = JSON.parse(execFileSync(PYTHON, ['-c', TORCH_SCRIPT], { input: payload, encoding: 'utf8' })) as Record<string, number | number[]>;
    const res = await runModel(buildMixed(), feeds, { backend });
    const t = (shape: number[], v: number | number[]) => Tensor.fromArray('float32', shape, Array.isArray(v) ? v : [v]);
    expect(mismatch(res.get('y')!, t([], ref.y!), 1e-4, 1e-4)).toBeUndefined();
    expect(res.get('dA')!.shape).toEqual([2, 3]);
    expect(mismatch(res.get('dA')!, t([2, 3], ref.dA!), 1e-4, 1e-4)).toBeUndefined();
    expect(mismatch(res.get('dB')!, t([3, 4], ref.dB!), 1e-4, 1e-4)).toBeUndefined();
    expect(mismatch(res.get('dC')!, t([4], ref.dC!), 1e-4, 1e-4)).toBeUndefined();
  });
});

describe('Gradient errors and lifetime', () => {
  it('gives a zero gradient for an x that y does not depend on, and frees every intermediate', async () => {
    await useBackend(BACKEND);
    const g = new Graph('grad_zero');
    const a = g.addInput('a', 'float32', [3]);
    const b = g.addInput('b', 'float32', [3]);
    g.addNode('Mul', [a, a], ['y']);
    const n = g.addNode('Gradient', [a, b], ['da', 'db'], { xs: attr.strings(['a', 'b']), y: attr.string('y') }, 'grad', TRAINING);
    for (const o of n.outputs) { o.dtype = 'float32'; g.outputs.push(o); }
    const s = await Session.create(g, { backend: BACKEND });
    const before = tf.memory().numTensors;
    const res = await s.run({ a: Tensor.fromArray('float32', [3], [1, -2, 3]), b: Tensor.fromArray('float32', [3], [4, 5, 6]) });
    // d(a*a)/da = 2a; y does not read b.
    expect(Array.from(res.get('da')!.view() as Float32Array)).toEqual([2, -4, 6]);
    expect(Array.from(res.get('db')!.view() as Float32Array)).toEqual([0, 0, 0]);
    expect(tf.memory().numTensors).toBe(before);
    s.dispose();
  });

  it('names the value y needs when it is neither in xs/zs nor a constant', async () => {
    const g = new Graph('grad_missing');
    const a = g.addInput('a', 'float32', [2]);
    const b = g.addInput('b', 'float32', [2]);
    g.addNode('Add', [a, b], ['y']);
    const n = g.addNode('Gradient', [a], ['da'], { xs: attr.strings(['a']), y: attr.string('y') }, 'grad', TRAINING);
    n.outputs[0]!.dtype = 'float32';
    g.outputs.push(n.outputs[0]!);
    const err = await runModel(g, { a: Tensor.fromArray('float32', [2], [1, 2]), b: Tensor.fromArray('float32', [2], [3, 4]) }, { backend: BACKEND }).catch((e) => e);
    expect(err).toBeInstanceOf(MconvError);
    expect((err as Error).message).toMatch(/'y' depends on 'b'.*neither in xs\/zs nor a constant/);
  });

  it('refuses a path through a kernel that computes outside tfjs ops', async () => {
    // Integer Pow is computed on JS arrays; a float x cast to int and back loses the tape.
    const g = new Graph('grad_js');
    const a = g.addInput('a', 'float32', [2]);
    const ai = g.addNode('Cast', [a], ['ai'], { to: attr.int(7) }).outputs[0]!;
    const p = g.addNode('Pow', [ai, ai], ['p']).outputs[0]!;
    g.addNode('Cast', [p], ['y'], { to: attr.int(1) });
    const n = g.addNode('Gradient', [a], ['da'], { xs: attr.strings(['a']), y: attr.string('y') }, 'grad', TRAINING);
    n.outputs[0]!.dtype = 'float32';
    g.outputs.push(n.outputs[0]!);
    const err = await runModel(g, { a: Tensor.fromArray('float32', [2], [2, 3]) }, { backend: BACKEND }).catch((e) => e);
    expect(err).toBeInstanceOf(MconvError);
    expect((err as Error).message).toMatch(/tfjs cannot differentiate the path to 'y'/);
  });
});
