import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { Tensor } from '../../src/ir/tensor.js';
import { compareTensors, compareOutputs, formatReport } from '../../src/runtime/compare.js';

const PY = '/usr/bin/python3';
const hasNumpy = existsSync(PY) && (() => { try { execFileSync(PY, ['-c', 'import numpy']); return true; } catch { return false; } })();

describe('compare (isclose report)', () => {
  const actual = [0, 1.00001, 2.1, NaN, Infinity, -Infinity, 5, NaN, 1e-9, -3];
  const expected = [0, 1, 2, NaN, Infinity, Infinity, 5.0004, 1, 0, -3.0002];

  it.skipIf(!hasNumpy)('counts the same mismatches as numpy.isclose(equal_nan=True)', () => {
    if (!hasNumpy) console.warn('numpy not found at /usr/bin/python3: skipping the numpy oracle');
    for (const [atol, rtol] of [[1e-5, 1e-4], [1e-3, 0], [0, 1e-3], [1e-8, 1e-5]] as const) {
      const script = `import numpy as np, json
a=np.array(${JSON.stringify(actual.map(String))}, dtype=np.float64)
b=np.array(${JSON.stringify(expected.map(String))}, dtype=np.float64)
print(int((~np.isclose(a,b,atol=${atol},rtol=${rtol},equal_nan=True)).sum()))`;
      const npCount = Number(execFileSync(PY, ['-c', script]).toString().trim());
      const r = compareTensors('y', Tensor.fromArray('float64', [10], actual), Tensor.fromArray('float64', [10], expected), { atol, rtol });
      expect(r.mismatches).toBe(npCount);
    }
  });

  it('reports NaN and Inf disagreements explicitly and the worst element', () => {
    const r = compareTensors('y', Tensor.fromArray('float32', [10], actual), Tensor.fromArray('float32', [10], expected), { atol: 1e-5, rtol: 1e-4 });
    expect(r.nanMismatches).toBe(1);
    expect(r.infMismatches).toBe(1);
    expect(r.ok).toBe(false);
    expect(r.maxAbsError).toBeCloseTo(0.1, 5);
    expect(formatReport({ ok: false, atol: 1e-5, rtol: 1e-4, outputs: [r] })).toMatch(/FAIL y/);
  });

  it('flags shape disagreement and missing outputs', () => {
    const a = Tensor.fromArray('float32', [2, 2], [1, 2, 3, 4]);
    const b = Tensor.fromArray('float32', [4], [1, 2, 3, 4]);
    expect(compareTensors('y', a, b).problem).toMatch(/shape/);
    const rep = compareOutputs(new Map(), new Map([['y', b]]));
    expect(rep.ok).toBe(false);
    expect(rep.outputs[0]!.problem).toBe('output missing');
  });

  it('compares int64 and bool exactly', () => {
    const a = Tensor.fromArray('int64', [3], [1n, 2n, 3n]);
    const b = Tensor.fromArray('int64', [3], [1n, 2n, 4n]);
    const r = compareTensors('i', a, b, { atol: 0, rtol: 0 });
    expect(r.mismatches).toBe(1);
    expect(r.worstIndex).toBe(2);
  });
});
