import { describe, expect, it, beforeAll } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { Graph, Model, attr, type Attrs } from '../../src/ir/graph.js';
import { Tensor, type Shape } from '../../src/ir/tensor.js';
import { modelCosts } from '../../src/inspect/costs.js';
import { load } from '../../src/api.js';
import { mconv, ROOT, PY, hasPython } from '../helpers/cli.js';

function zeros(shape: number[]): Tensor {
  return Tensor.fromArray('float32', shape, new Array(shape.reduce((a, b) => a * b, 1)).fill(0.5));
}

/** A one-node model: input x, weights, output y. */
function oneNode(op: string, xShape: Shape, weights: Record<string, number[]>, attrs: Attrs = {}): Model {
  const g = new Graph('g');
  const x = g.addInput('x', 'float32', xShape);
  const ws = Object.entries(weights).map(([name, shape]) => g.addInitializer(name, zeros(shape)));
  const n = g.addNode(op, [x, ...ws], ['y'], attrs);
  g.outputs = [n.outputs[0]!];
  return new Model(g, { format: 'onnx' });
}

describe('MACs of single nodes, against hand-computed values', () => {
  it('Conv 3->4, 3x3, pad 1: N*Cout*H*W*Cin*kh*kw', async () => {
    const m = oneNode('Conv', [1, 3, 8, 8], { w: [4, 3, 3, 3], b: [4] }, { pads: attr.ints([1, 1, 1, 1]) });
    const c = modelCosts(m);
    expect(c.nodes[0]!.outputShapes[0]).toEqual([1, 4, 8, 8]);
    expect(c.macs).toBe(1 * 4 * 8 * 8 * 3 * 3 * 3); // 6912
    expect(c.ops).toBe(4 * 8 * 8); // the bias add
    expect(c.parameters).toBe(4 * 3 * 3 * 3 + 4);
    expect(c.weightBytes).toBe((108 + 4) * 4);
    expect(c.activationBytes).toBe(4 * 8 * 8 * 4);
  });

  it('grouped, strided Conv with a symbolic batch bound by --batch', async () => {
    // x [N, 4, 10, 10], w [8, 2, 3, 3], group 2, stride 2, no pad: y [N, 8, 4, 4]; each output sums 2*3*3 products.
    const m = oneNode('Conv', ['N', 4, 10, 10], { w: [8, 2, 3, 3] }, { group: attr.int(2), strides: attr.ints([2, 2]) });
    const c1 = modelCosts(m);
    expect(c1.dims).toEqual({ N: 1 });
    expect(c1.macs).toBe(8 * 4 * 4 * 2 * 9); // 2304
    const c3 = modelCosts(m, { batch: 3 });
    expect(c3.nodes[0]!.outputShapes[0]).toEqual([3, 8, 4, 4]);
    expect(c3.macs).toBe(3 * 2304);
    expect(c3.inputBytes).toBe(3 * 4 * 10 * 10 * 4);
    expect(modelCosts(m, { dims: { N: 5 } }).macs).toBe(5 * 2304);
  });

  it('ConvTranspose: every input element times Cout/group*kernel', async () => {
    // x [1, 4, 5, 5], w [4, 6, 3, 3] -> y [1, 6, 7, 7]
    const m = oneNode('ConvTranspose', [1, 4, 5, 5], { w: [4, 6, 3, 3] });
    const c = modelCosts(m);
    expect(c.nodes[0]!.outputShapes[0]).toEqual([1, 6, 7, 7]);
    expect(c.macs).toBe(4 * 25 * 6 * 9);
  });

  it('Gemm 5x7 by 7x3 with bias, and with transA', async () => {
    const c = modelCosts(oneNode('Gemm', [5, 7], { w: [7, 3], b: [3] }));
    expect(c.macs).toBe(5 * 3 * 7); // 105
    expect(c.ops).toBe(15);
    expect(c.parameters).toBe(24);
    const t = modelCosts(oneNode('Gemm', [7, 5], { w: [3, 7] }, { transA: attr.int(1), transB: attr.int(1) }));
    expect(t.nodes[0]!.outputShapes[0]).toEqual([5, 3]);
    expect(t.macs).toBe(105);
  });

  it('MatMul with batch dims broadcasts the weight', async () => {
    const c = modelCosts(oneNode('MatMul', [2, 3, 4, 5], { w: [5, 6] }));
    expect(c.nodes[0]!.outputShapes[0]).toEqual([2, 3, 4, 6]);
    expect(c.macs).toBe(2 * 3 * 4 * 6 * 5);
  });

  it('LSTM: 4 gates x hidden x (input + hidden) per step, batch and direction', async () => {
    // x [seq 7, batch 2, input 10], W [2 dirs, 4*16, 10], R [2, 64, 16]
    const g = new Graph('g');
    const x = g.addInput('x', 'float32', [7, 2, 10]);
    const w = g.addInitializer('W', zeros([2, 64, 10]));
    const r = g.addInitializer('R', zeros([2, 64, 16]));
    const n = g.addNode('LSTM', [x, w, r], ['y'], { hidden_size: attr.int(16), direction: attr.string('bidirectional') });
    g.outputs = [n.outputs[0]!];
    const c = modelCosts(new Model(g, { format: 'onnx' }));
    expect(c.macs).toBe(7 * 2 * 2 * 64 * (10 + 16));
  });

  it('weights a Loop body reads from the enclosing graph count for the Loop node', async () => {
    // Loop(cond) { h = MatMul(h, W) + b } with W [4, 4] and b [4] read from the main graph.
    const g = new Graph('g');
    const h0 = g.addInput('h0', 'float32', [1, 4]);
    const cond = g.addInput('go', 'bool', []);
    const w = g.addInitializer('W', zeros([4, 4]));
    const bias = g.addInitializer('b', zeros([4]));
    const body = new Graph('body', g);
    body.addInput('i', 'int64', []);
    const cin = body.addInput('c', 'bool', []);
    const h = body.addInput('h', 'float32', [1, 4]);
    const mm = body.addNode('MatMul', [h, w], ['mm']).outputs[0]!;
    const out = body.addNode('Add', [mm, bias], ['h_next']).outputs[0]!;
    const cout = body.addNode('Identity', [cin], ['c_out']).outputs[0]!;
    body.outputs = [cout, out];
    const loop = g.addNode('Loop', [null, cond, h0], ['h_final'], { body: attr.graph(body) });
    g.outputs = [loop.outputs[0]!];
    const c = modelCosts(new Model(g, { format: 'onnx' }));
    expect(c.parameters).toBe(16 + 4);
    expect(c.nodes.find((n) => n.op === 'Loop')!.parameters).toBe(20);
  });

  it('BatchNormalization running statistics are buffers, and cost no MACs', async () => {
    const m = oneNode('BatchNormalization', [1, 4, 3, 3], { s: [4], b: [4], mean: [4], var: [4] });
    const c = modelCosts(m);
    expect(c.parameters).toBe(8);
    expect(c.buffers).toBe(8);
    expect(c.macs).toBe(0);
    expect(c.ops).toBe(2 * 36);
  });

  it('rejects a bad --batch', async () => {
    expect(() => modelCosts(oneNode('Relu', [1, 2], {}), { batch: 0 })).toThrow(/positive integer/);
  });
});

const haveTorchvision = hasPython('torch', 'torchvision', 'onnx');
if (!haveTorchvision) console.warn('test/inspect/costs.test.ts: torchvision models skipped (Debian python3-torchvision is not installed)');

describe.skipIf(!haveTorchvision)('torchvision classifiers against their published figures', () => {
  let dir: string;
  const torchParams: Record<string, number> = {};
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'mconv-costs-'));
    const out = execFileSync(PY, [join(ROOT, 'test', 'inspect', 'make_torchvision.py'), dir], { encoding: 'utf8', timeout: 240_000, stdio: ['ignore', 'pipe', 'ignore'] });
    for (const line of out.trim().split('\n')) {
      const j = JSON.parse(line) as { name: string; parameters: number };
      torchParams[j.name] = j.parameters;
    }
  }, 300_000);

  // torchvision's model tables: resnet18 11,689,512 params, 1.81 GFLOPS; mobilenet_v2 3,504,872 params, 0.30 GFLOPS
  // (their GFLOPS are multiply-adds of the convolutions and the classifier).
  it.each([
    ['resnet18', 11_689_512, 1.81e9],
    ['mobilenet_v2', 3_504_872, 0.3e9],
  ])('%s: parameters exact, MACs within 2%%', async (name, params, macs) => {
    const m = await load(join(dir, `${name}.onnx`));
    const c = modelCosts(m, { batch: 1 });
    expect(torchParams[name]).toBe(params);
    expect(c.parameters).toBe(params);
    expect(c.incomplete).toEqual([]);
    expect(Math.abs(c.macs - macs) / macs).toBeLessThan(0.02);
    // Batch 4 scales every count that depends on the batch.
    const c4 = modelCosts(m, { batch: 4 });
    expect(c4.macs).toBe(4 * c.macs);
    expect(c4.activationBytes).toBe(4 * c.activationBytes);
    expect(c4.parameters).toBe(params);
  });

  it('mconv inspect --costs prints the totals; --json adds a costs key', async () => {
    const file = join(dir, 'resnet18.onnx');
    const t = (await mconv(['inspect', file, '--costs', '--batch', '2']));
    expect(t.code, t.stderr).toBe(0);
    expect(t.stdout).toMatch(/Costs \(batch=2\)/);
    expect(t.stdout).toMatch(/Total MACs: [\d,]+ \(3\.6\d\d GMACs\)/);
    expect(t.stdout).toMatch(/Parameters: 11,689,512/);
    expect(t.stdout).toMatch(/Activation memory: [\d.]+ MB/);
    const j = JSON.parse((await mconv(['inspect', file, '--costs', '--json'])).stdout);
    for (const k of ['format', 'inputs', 'outputs', 'nodes', 'weights', 'parameters', 'costs']) expect(j).toHaveProperty(k);
    expect(j.costs.parameters).toBe(11_689_512);
    expect(j.costs.dims).toEqual({ batch: 1 });
    const conv1 = j.costs.nodes.find((n: { name: string }) => n.name === '/conv1/Conv');
    // 7x7 stride-2 conv 3->64 on 224x224: 64*112*112 outputs, 3*7*7 products each.
    expect(conv1.macs).toBe(64 * 112 * 112 * 3 * 7 * 7);
  });
});
