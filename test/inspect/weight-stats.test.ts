import { describe, expect, it, beforeAll } from 'vitest';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { Graph, Model } from '../../src/ir/graph.js';
import { Tensor } from '../../src/ir/tensor.js';
import { formatTensor, tensorStats, weightStats, weightWarnings } from '../../src/inspect/weight-stats.js';
import { readNpy } from '../../src/formats/npy/npy.js';
import { mconv, ROOT, PY, hasPython } from '../helpers/cli.js';

const VALUES = [0.5, -1.25, 0, 3.75, 0, 2.0, -0.125, 7.5, 1e-3, -4.0, 0, 6.25];

/** numpy's view of the same float32 values (population std, histogram with 10 bins). */
function numpyStats(values: number[]): { min: number; max: number; mean: number; std: number; zeros: number; counts: number[]; edges: number[] } {
  const code = `
import json, sys, numpy as np
a = np.array(json.loads(sys.stdin.read()), dtype=np.float32).astype(np.float64)
c, e = np.histogram(a, bins=10)
print(json.dumps(dict(min=a.min(), max=a.max(), mean=a.mean(), std=a.std(), zeros=float((a == 0).mean()), counts=c.tolist(), edges=e.tolist())))`;
  return JSON.parse(execFileSync(PY, ['-c', code], { encoding: 'utf8', input: JSON.stringify(values) }));
}

function numpyStr(shape: number[], expr: string): string {
  const code = `import numpy as np, sys\nnp.set_printoptions(linewidth=100000)\nprint(str(${expr}.reshape(${JSON.stringify(shape)})))`;
  return execFileSync(PY, ['-c', code], { encoding: 'utf8' }).replace(/\n$/, '');
}

const haveNumpy = hasPython('numpy');
if (!haveNumpy) console.warn('test/inspect/weight-stats.test.ts: numpy comparisons skipped (no numpy in /usr/bin/python3)');

describe.skipIf(!haveNumpy)('weight statistics against numpy', () => {
  it('min, max, mean, std, zero share and histogram of a small tensor', async () => {
    const t = Tensor.fromArray('float32', [3, 4], VALUES);
    const s = tensorStats(t, 'w');
    const np = numpyStats(VALUES);
    expect(s.min).toBe(np.min);
    expect(s.max).toBe(np.max);
    expect(s.mean).toBeCloseTo(np.mean, 12);
    expect(s.std).toBeCloseTo(np.std, 12);
    expect(s.zeros).toBeCloseTo(np.zeros, 12);
    expect(s.histogram!.counts).toEqual(np.counts);
    s.histogram!.edges.forEach((e, i) => expect(e).toBeCloseTo(np.edges[i]!, 12));
    expect(s.nan).toBe(0);
    expect(weightWarnings(s)).toEqual([]);
  });

  it('histogram of 10,000 normal float16 values matches numpy bin for bin', async () => {
    const vals = Array.from({ length: 10000 }, (_, i) => Math.sin(i * 12.9898) * Math.cos(i * 0.37) * 3);
    const t = Tensor.fromArray('float16', [100, 100], vals);
    const decoded = Array.from(t.toFloat64());
    const s = tensorStats(t);
    const np = numpyStats(decoded);
    expect(s.histogram!.counts).toEqual(np.counts);
    expect(s.std).toBeCloseTo(np.std, 10);
  });

  it('numpy-style printing, elided and not', async () => {
    const small = Tensor.fromArray('float32', [2, 3], [1, -2.5, 0, 3, 0, 1e-3]);
    expect(formatTensor(small)).toBe(numpyStr([2, 3], 'np.array([1, -2.5, 0, 3, 0, 1e-3], dtype=np.float32)'));
    const mid = Tensor.fromArray('float32', [4, 5], Array.from({ length: 20 }, (_, i) => i * 0.25 - 2));
    expect(formatTensor(mid)).toBe(numpyStr([4, 5], '(np.arange(20, dtype=np.float32) * 0.25 - 2)'));
    const big = Tensor.fromArray('float32', [20, 30, 40], Array.from({ length: 24000 }, (_, i) => i / 7));
    expect(formatTensor(big)).toBe(numpyStr([20, 30, 40], '(np.arange(24000) / 7).astype(np.float32)'));
    const ints = Tensor.fromArray('int64', [2000], Array.from({ length: 2000 }, (_, i) => i - 1000));
    expect(formatTensor(ints)).toBe(numpyStr([2000], '(np.arange(2000) - 1000)'));
  });
});

describe('weight warnings', () => {
  it('flags all-zero, NaN-bearing and exploding tensors', async () => {
    const g = new Graph('g');
    g.addInitializer('zero', Tensor.fromArray('float32', [3], [0, 0, 0]));
    g.addInitializer('nan', Tensor.fromArray('float32', [3], [1, NaN, Infinity]));
    g.addInitializer('big', Tensor.fromArray('float32', [2], [1, -2e4]));
    g.addInitializer('fine', Tensor.fromArray('float32', [2], [1, -2]));
    const w = weightStats(new Model(g, { format: 'onnx' }));
    expect(w.tensors.map((t) => t.name)).toEqual(['zero', 'nan', 'big', 'fine']);
    expect(w.warnings.map((x) => `${x.name}:${x.kind}`).sort()).toEqual(['big:exploding', 'nan:inf', 'nan:nan', 'zero:all-zero']);
    const nan = w.tensors[1]!;
    expect([nan.nan, nan.inf, nan.min, nan.max, nan.mean]).toEqual([1, 1, 1, 1, 1]);
  });
});

const TINY = join(ROOT, 'fixtures', 'onnx', 'tiny_cnn', 'model.onnx');

describe.skipIf(!haveNumpy || !hasPython('onnx'))('mconv inspect --weights / --tensor', () => {
  let dir: string;
  let first: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'mconv-wstats-'));
    first = execFileSync(PY, ['-c', 'import onnx, sys; print(onnx.load(sys.argv[1]).graph.initializer[0].name)', TINY], { encoding: 'utf8' }).trim();
  });

  it('--weights --json gives stats matching numpy for every initializer', async () => {
    const r = (await mconv(['inspect', TINY, '--weights', '--json']));
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout);
    for (const k of ['format', 'inputs', 'outputs', 'nodes', 'weights', 'parameters', 'weightStats']) expect(j).toHaveProperty(k);
    const code = `
import json, sys, onnx, numpy as np
from onnx import numpy_helper
m = onnx.load(sys.argv[1])
print(json.dumps({i.name: dict(min=float(a.min()), max=float(a.max()), std=float(a.astype(np.float64).std()), counts=np.histogram(a.astype(np.float64), bins=10)[0].tolist()) for i in m.graph.initializer for a in [numpy_helper.to_array(i)]}))`;
    const want = JSON.parse(execFileSync(PY, ['-c', code, TINY], { encoding: 'utf8' }));
    expect(j.weightStats.tensors.length).toBe(Object.keys(want).length);
    for (const s of j.weightStats.tensors) {
      const w = want[s.name];
      expect(s.min).toBe(w.min);
      expect(s.max).toBe(w.max);
      expect(s.std).toBeCloseTo(w.std, 10);
      expect(s.histogram.counts).toEqual(w.counts);
    }
  });

  it('--weights prints the table and the warnings line', async () => {
    const r = (await mconv(['inspect', TINY, '--weights']));
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/Weight\s+│\s+Dtype/);
    expect(r.stdout).toContain(first.slice(0, 12));
    expect(r.stdout).toMatch(/Warnings: /);
  });

  it('--tensor NAME --save F.npy prints and writes the tensor numpy reads back', async () => {
    const out = join(dir, 'w.npy');
    const r = (await mconv(['inspect', TINY, '--tensor', first, '--save', out]));
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/Histogram:/);
    expect(r.stdout).toContain(`Saved to ${out}`);
    const same = execFileSync(PY, ['-c', 'import sys, onnx, numpy as np\nfrom onnx import numpy_helper\nm = onnx.load(sys.argv[1])\na = [numpy_helper.to_array(i) for i in m.graph.initializer if i.name == sys.argv[2]][0]\nb = np.load(sys.argv[3])\nprint(a.dtype == b.dtype and a.shape == b.shape and bool((a == b).all()))', TINY, first, out], { encoding: 'utf8' }).trim();
    expect(same).toBe('True');
    expect(readNpy(readFileSync(out)).shape).toEqual(JSON.parse((await mconv(['inspect', TINY, '--tensor', first, '--json'])).stdout).tensor.shape);
    const j = JSON.parse((await mconv(['inspect', TINY, '--tensor', first, '--json'])).stdout);
    expect(j.tensor.name).toBe(first);
    expect(j.tensor.values.length).toBe(j.tensor.shape.reduce((a: number, b: number) => a * b, 1));
  });

  it('an unknown --tensor name is a usage error with a hint', async () => {
    const r = (await mconv(['inspect', TINY, '--tensor', 'no_such_weight']));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/no weight named 'no_such_weight'/);
    const s = (await mconv(['inspect', TINY, '--save', join(dir, 'x.npy')]));
    expect(s.code).toBe(2);
    expect(s.stderr).toMatch(/--save needs --tensor/);
  });
});
