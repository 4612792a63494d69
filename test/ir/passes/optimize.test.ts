/**
 * The default pipeline: reaches a fixed point, and leaves what the torch fixtures compute
 * unchanged (checked against torch's own output.npy with our runtime and with onnxruntime).
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadModel } from '../../../src/formats/registry.js';
import { readNpy } from '../../../src/formats/npy/npy.js';
import { Graph, attr } from '../../../src/ir/graph.js';
import { graphFingerprint, optimize, optimizeWithReport } from '../../../src/ir/passes/index.js';
import { validateGraph } from '../../../src/ir/validate.js';
import { runModel } from '../../../src/runtime/session.js';
import { TORCH_FIXTURES, caseDirs } from '../reference-helpers.js';
import { decodeTensorProto } from '../../../src/formats/onnx/tensor-proto.js';
import type { Tensor } from '../../../src/ir/tensor.js';
import { int64s, op } from '../build.js';
import { maxAbsDiff, ort, runOrt } from './helpers.js';

describe('optimize', () => {
  it('runs the pipeline to a fixed point', () => {
    const g = new Graph('g');
    g.addInput('x', 'float32', ['N', 2, 3]);
    op(g, 'Identity', ['x'], 'i');
    op(g, 'Shape', ['i'], 's');
    g.addInitializer('two', int64s([2]));
    g.addInitializer('ax', int64s([0]));
    g.addInitializer('m1', int64s([-1]));
    g.addInitializer('zero', int64s([0]));
    op(g, 'Slice', ['s', 'zero', 'two', 'ax'], 'lead');
    op(g, 'Concat', ['lead', 'm1'], 'tgt', { axis: attr.int(0) }); // Shape is not static: stays
    op(g, 'Transpose', ['i'], 't', { perm: attr.ints([0, 2, 1]) });
    op(g, 'Relu', ['t'], 'r');
    op(g, 'Transpose', ['r'], 'back', { perm: attr.ints([0, 2, 1]) });
    op(g, 'Reshape', ['back', 'tgt'], 'y');
    op(g, 'Exp', ['x'], 'dead');
    g.outputs.push(g.value('y')!);
    const report = optimizeWithReport(g);
    expect(g.nodes.map((n) => n.op)).toEqual(['Shape', 'Slice', 'Concat', 'Relu', 'Reshape']);
    expect(report.nodesBefore).toBe(9);
    expect(report.nodesAfter).toBe(5);
    expect(report.rounds).toBeLessThanOrEqual(3);
    const fp = graphFingerprint(g);
    optimize(g);
    expect(graphFingerprint(g)).toBe(fp);
    expect(validateGraph(g).filter((i) => i.severity === 'error')).toEqual([]);
  });
  it('accepts pass names or functions and rejects unknown names', () => {
    const g = new Graph('g');
    g.addInput('x', 'float32', [1]);
    op(g, 'Identity', ['x'], 'i');
    op(g, 'Relu', ['i'], 'y');
    g.outputs.push(g.value('y')!);
    optimize(g, { passes: ['identity'] });
    expect(g.nodes.map((n) => n.op)).toEqual(['Relu']);
    let called = 0;
    optimize(g, { passes: [(x) => (called++, x)] });
    expect(called).toBe(1);
    expect(() => optimize(g, { passes: ['nope'] })).toThrow(/unknown pass 'nope'/);
  });
});

const fixtures = existsSync(TORCH_FIXTURES)
  ? readdirSync(TORCH_FIXTURES).filter((d) => existsSync(path.join(TORCH_FIXTURES, d, 'model.onnx')))
  : [];
if (!fixtures.length) console.warn(`skipping optimize-vs-torch checks: ${TORCH_FIXTURES} is absent`);

describe.skipIf(!fixtures.length)('optimize keeps what the torch fixtures compute', () => {
  for (const name of fixtures) {
    it(name, async () => {
      const dir = path.join(TORCH_FIXTURES, name);
      const model = await loadModel(path.join(dir, 'model.onnx'));
      const input = readNpy(readFileSync(path.join(dir, 'input.npy')));
      const expected = readNpy(readFileSync(path.join(dir, 'output.npy')));
      const inName = model.graph.inputs[0]!.name;
      const outName = model.graph.outputs[0]!.name;
      const before = (await runModel(model, { [inName]: input })).get(outName)!;
      const nodesBefore = model.graph.nodes.length;
      optimize(model.graph);
      expect(validateGraph(model.graph).filter((i) => i.severity === 'error')).toEqual([]);
      expect(model.graph.nodes.length).toBeLessThanOrEqual(nodesBefore);
      expect(model.graph.outputs[0]!.name).toBe(outName);
      const after = (await runModel(model, { [inName]: input })).get(outName)!;
      expect(maxAbsDiff(after, expected)).toBeLessThan(1e-4);
      expect(maxAbsDiff(after, before)).toBeLessThan(1e-6);
      if (ort) {
        const viaOrt = (await runOrt(model.graph, { [inName]: input })).get(outName)!;
        expect(maxAbsDiff(viaOrt, expected)).toBeLessThan(1e-4);
      }
    });
  }
});

const backendCases = ['node', 'pytorch-converted', 'pytorch-operator'].flatMap((s) => caseDirs(s));

describe.skipIf(!ort || !backendCases.length)('optimize keeps the ONNX backend cases right (onnxruntime)', () => {
  function close(a: Tensor | undefined, b: Tensor): boolean {
    if (!a || a.shape.join() !== b.shape.join() || a.dtype !== b.dtype) return false;
    if (a.dtype === 'string') return JSON.stringify(a.stringValues()) === JSON.stringify(b.stringValues());
    const x = a.toFloat64();
    const y = b.toFloat64();
    for (let i = 0; i < x.length; i++) {
      if (x[i] === y[i] || (Number.isNaN(x[i]) && Number.isNaN(y[i]))) continue;
      if (!(Math.abs(x[i]! - y[i]!) <= 1e-4 + 1e-3 * Math.abs(y[i]!))) return false;
    }
    return true;
  }
  it('every case onnxruntime passes before optimizing still passes after', async () => {
    ort!.env.logLevel = 'fatal';
    let baseline = 0;
    const broken: string[] = [];
    for (const dir of backendCases) {
      const ds = path.join(dir, 'test_data_set_0');
      let model;
      try {
        model = await loadModel(path.join(dir, 'model.onnx'));
      } catch {
        continue;
      }
      const g = model.graph;
      const read = (f: string) => {
        try {
          return decodeTensorProto(readFileSync(f));
        } catch {
          return undefined;
        }
      };
      const inputs = g.inputs.map((_, i) => read(path.join(ds, `input_${i}.pb`)));
      const want = g.outputs.map((_, i) => read(path.join(ds, `output_${i}.pb`)));
      if (inputs.some((t) => !t) || want.some((t) => !t)) continue;
      const feeds = Object.fromEntries(g.inputs.map((v, i) => [v.name, inputs[i]!]));
      const names = g.outputs.map((v) => v.name);
      let before;
      try {
        before = await runOrt(g, feeds);
      } catch {
        continue; // onnxruntime cannot run this case at all (layout=1 RNNs, locales)
      }
      if (!names.every((n, i) => close(before.get(n), want[i]!))) continue;
      baseline++;
      optimize(g);
      const name = path.basename(dir);
      if (g.outputs.map((v) => v.name).join() !== names.join()) {
        broken.push(`${name}: output names changed`);
        continue;
      }
      try {
        const after = await runOrt(g, feeds);
        if (!names.every((n, i) => close(after.get(n), want[i]!))) broken.push(`${name}: outputs changed`);
      } catch (e) {
        broken.push(`${name}: onnxruntime rejects the optimized model: ${(e as Error).message.slice(0, 200)}`);
      }
    }
    console.log(`optimize: ${baseline - broken.length}/${baseline} ONNX backend cases unchanged (onnxruntime)`);
    expect(broken).toEqual([]);
    expect(baseline).toBeGreaterThan(900);
  });
});
