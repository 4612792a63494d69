/**
 * TF elementwise converters (ops/math.ts) against the tfjs-converter oracle on seeded random
 * inputs, and against numpy where tfjs lacks the op or differs from TensorFlow's kernels
 * (integer Div truncates in TF, tfjs floors; Mod/TruncateMod; float FloorMod; Rint; Expm1/Log1p
 * accuracy near 0).
 */
import { describe, expect, it } from 'vitest';
import { Tensor, type DType } from '../../../src/ir/tensor.js';
import { hasPython } from '../../helpers/cli.js';
import { expectNumpy, expectOracle, rand, runOracle, runOurs, type OpCase } from './op-harness.js';

const bin = (op: string, a: Tensor, b: Tensor, attrs?: OpCase['attrs']): OpCase => ({ op, inputs: [{ name: 'a', value: a }, { name: 'b', value: b }], attrs });
const un = (op: string, x: Tensor, attrs?: OpCase['attrs']): OpCase => ({ op, inputs: [{ name: 'x', value: x }], attrs });

/** Integers without zeros (divisors). */
function nonZeroInts(dtype: DType, shape: number[], seed: number, lo = -9, hi = 9): Tensor {
  const t = rand('float64', shape, seed, lo, hi);
  return Tensor.fromArray(dtype, shape, Array.from(t.toFloat64(), (v) => (Math.floor(v) === 0 ? 3 : Math.floor(v))));
}
function awayFromZero(shape: number[], seed: number): Tensor {
  const t = rand('float32', shape, seed, -3, 3);
  return Tensor.fromArray('float32', shape, Array.from(t.toFloat64(), (v) => (Math.abs(v) < 0.25 ? v + Math.sign(v || 1) * 0.5 : v)));
}

describe('binary arithmetic with broadcasting vs tfjs-converter', () => {
  const a = rand('float32', [2, 3, 4], 1);
  const b = rand('float32', [3, 1], 2);
  for (const op of ['Add', 'AddV2', 'Sub', 'Mul', 'Maximum', 'Minimum', 'SquaredDifference']) {
    it(`${op} float32 [2,3,4] with [3,1]`, async () => {
      await expectOracle(bin(op, a, b), { dtypes: ['float32'] });
    });
  }
  for (const op of ['Add', 'Sub', 'Mul', 'Maximum', 'Minimum', 'SquaredDifference']) {
    it(`${op} int32`, async () => {
      await expectOracle(bin(op, rand('int32', [4, 5], 3, -50, 50), rand('int32', [5], 4, -50, 50)), { dtypes: ['int32'] });
    });
  }
  it('RealDiv and Div on floats', async () => {
    await expectOracle(bin('RealDiv', a, awayFromZero([3, 1], 5)));
    await expectOracle(bin('Div', a, awayFromZero([4], 6)));
  });
  it('DivNoNan gives 0 where the divisor is 0', async () => {
    const d = Tensor.fromArray('float32', [2, 3], [0, 2, -0.5, 0, 4, 1]);
    const out = await expectOracle(bin('DivNoNan', rand('float32', [2, 3], 7), d));
    expect(out[0]!.toFloat64()[0]).toBe(0);
  });
  it('Pow (float, positive base)', async () => {
    await expectOracle(bin('Pow', rand('float32', [3, 4], 8, 0.1, 3), rand('float32', [4], 9, -2, 2)), { rtol: 1e-5 });
  });
  it('FloorDiv and FloorMod on floats', async () => {
    const x = rand('float32', [4, 6], 10, -10, 10);
    const y = awayFromZero([6], 11);
    await expectOracle(bin('FloorDiv', x, y));
    await expectOracle(bin('FloorMod', x, y), { atol: 1e-5 });
  });
  it('FloorDiv and FloorMod on int32 (rounding down, divisor sign)', async () => {
    const x = rand('int32', [5, 6], 12, -40, 40);
    const y = nonZeroInts('int32', [6], 13);
    const q = await expectOracle(bin('FloorDiv', x, y), { dtypes: ['int32'] });
    const r = await expectOracle(bin('FloorMod', x, y), { dtypes: ['int32'] });
    // x == q*y + r exactly.
    const xs = x.toFloat64(), qs = q[0]!.toFloat64(), rs = r[0]!.toFloat64(), ys = y.toFloat64();
    xs.forEach((v, i) => expect(qs[i]! * ys[i % 6]! + rs[i]!).toBe(v));
  });
  it('AddN of three float and three int tensors', async () => {
    const c: OpCase = { op: 'AddN', inputs: [1, 2, 3].map((s) => ({ name: `x${s}`, value: rand('float32', [2, 5], s) })), attrs: { N: 3 } };
    await expectOracle(c);
    const ci: OpCase = { op: 'AddN', inputs: [1, 2, 3].map((s) => ({ name: `x${s}`, value: rand('int32', [2, 5], s, -100, 100) })), attrs: { N: 3 } };
    await expectOracle(ci, { dtypes: ['int32'] });
  });
});

describe.skipIf(!hasPython('numpy'))('integer division semantics of TensorFlow vs numpy', () => {
  // TF's Div/RealDiv/TruncateDiv kernels divide integers truncating toward zero (C semantics);
  // tfjs-converter floors instead, so numpy is the reference here.
  const x = rand('int32', [4, 6], 20, -50, 50);
  const y = nonZeroInts('int32', [6], 21);
  for (const op of ['Div', 'TruncateDiv']) {
    it(`${op} int32 truncates`, async () => {
      await expectNumpy(bin(op, x, y), 'out = np.trunc(a / b).astype(np.int32)', { dtype: 'int32' });
    });
  }
  for (const op of ['Mod', 'TruncateMod']) {
    it(`${op} int32 takes the dividend's sign`, async () => {
      await expectNumpy(bin(op, x, y), 'out = np.fmod(a, b)', { dtype: 'int32' });
    });
  }
  it('tfjs-converter floors integer Div and Mod where TF truncates: they differ only at mixed signs', async () => {
    const a = Tensor.fromArray('int32', [4], [-7, 7, -7, 7]);
    const b = Tensor.fromArray('int32', [4], [3, -3, -3, 3]);
    for (const op of ['Div', 'Mod']) {
      const c = bin(op, a, b);
      const [{ outputs }, tfjs] = await Promise.all([runOurs(c), runOracle(c)]);
      const ours = Array.from(outputs[0]!.toFloat64());
      const theirs = Array.from(tfjs[0]!.toFloat64());
      expect(ours.map((v, i) => v === theirs[i])).toEqual([false, false, true, true]);
    }
  });
  it('FloorDiv / FloorMod int64', async () => {
    const x64 = rand('int64', [3, 5], 22, -1000, 1000);
    const y64 = nonZeroInts('int64', [5], 23, -20, 20);
    await expectNumpy(bin('FloorDiv', x64, y64), 'out = a // b', { dtype: 'int64' });
    await expectNumpy(bin('FloorMod', x64, y64), 'out = np.mod(a, b)', { dtype: 'int64' });
  });
  it('TruncateDiv float32 truncates toward zero', async () => {
    await expectNumpy(bin('TruncateDiv', rand('float32', [4, 6], 24, -10, 10), awayFromZero([6], 25)), 'out = np.trunc(a / b)', { dtype: 'float32' });
  });
  it('Mod float32 is C fmod', async () => {
    await expectNumpy(bin('Mod', rand('float32', [4, 6], 26, -10, 10), awayFromZero([6], 27)), 'out = np.fmod(a, b)');
  });
  it('FloorMod float32 with exact multiples gives 0', async () => {
    const a = Tensor.fromArray('float32', [6], [6, -6, 7.5, -7.5, 0, 1]);
    const b = Tensor.fromArray('float32', [6], [3, 3, -2.5, 2.5, -2, -4]);
    await expectNumpy(bin('FloorMod', a, b), 'out = np.mod(a, b)');
  });
  it('Pow int32', async () => {
    await expectNumpy(bin('Pow', rand('int32', [3, 4], 28, -5, 5), rand('int32', [4], 29, 0, 4)), 'out = np.power(a, b)', { dtype: 'int32' });
  });
  it('Reciprocal / Inv of int32 is 1/x truncated', async () => {
    await expectNumpy(un('Reciprocal', nonZeroInts('int32', [8], 30, -3, 3)), 'out = np.trunc(1 / x).astype(np.int32)', { dtype: 'int32' });
  });
});

describe('unary functions vs tfjs-converter', () => {
  const x = rand('float32', [3, 7], 40, -3, 3);
  const pos = rand('float32', [3, 7], 41, 0.05, 4);
  const unit = rand('float32', [3, 7], 42, -0.95, 0.95);
  const cases: [string, Tensor, number?][] = [
    ['Abs', x], ['Neg', x], ['Sign', x], ['Square', x], ['Sqrt', pos], ['Rsqrt', pos], ['Reciprocal', awayFromZero([3, 7], 43)],
    ['Exp', x], ['Log', pos], ['Sin', x], ['Cos', x], ['Tan', unit], ['Asin', unit], ['Acos', unit],
    ['Atan', x], ['Sinh', x], ['Cosh', x], ['Asinh', x], ['Acosh', rand('float32', [3, 7], 45, 1, 5)], ['Atanh', unit],
    ['Floor', x], ['Ceil', x], ['Erf', x], ['Expm1', x], ['Log1p', rand('float32', [3, 7], 46, -0.9, 3)],
  ];
  for (const [op, t] of cases) {
    it(op, async () => {
      await expectOracle(un(op, t), { atol: 2e-6, rtol: 2e-6 });
    });
  }
  it('Round is half to even (as TF and ONNX)', async () => {
    const halves = Tensor.fromArray('float32', [8], [0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 2.4, -3.6]);
    const out = await expectOracle(un('Round', halves));
    expect(Array.from(out[0]!.toFloat64(), (v) => v + 0)).toEqual([0, 2, 2, 0, -2, -2, 2, -4]);
  });
  it('Abs / Neg / Sign / Square on int32', async () => {
    for (const op of ['Abs', 'Neg', 'Sign', 'Square']) await expectOracle(un(op, rand('int32', [10], 47, -20, 20)), { dtypes: ['int32'] });
  });
  it('IsNan / IsInf / IsFinite', async () => {
    const t = Tensor.fromArray('float32', [6], [1, NaN, Infinity, -Infinity, 0, -2]);
    const nan = await expectOracle(un('IsNan', t), { dtypes: ['bool'] });
    expect(Array.from(nan[0]!.toFloat64())).toEqual([0, 1, 0, 0, 0, 0]);
    const inf = await expectOracle(un('IsInf', t), { dtypes: ['bool'] });
    expect(Array.from(inf[0]!.toFloat64())).toEqual([0, 0, 1, 1, 0, 0]);
    const fin = await expectOracle(un('IsFinite', t), { dtypes: ['bool'] });
    expect(Array.from(fin[0]!.toFloat64())).toEqual([1, 0, 0, 0, 1, 1]);
  });
  it('LogicalNot', async () => {
    await expectOracle({ op: 'LogicalNot', inputs: [{ name: 'x', value: rand('bool', [2, 4], 48) }], typeAttr: false }, { dtypes: ['bool'] });
  });
});

describe.skipIf(!hasPython('numpy'))('unary functions vs numpy', () => {
  it('Rint (half to even; tfjs has no Rint)', async () => {
    const t = Tensor.fromArray('float32', [8], [0.5, 1.5, 2.5, -0.5, -1.5, 3.49, -3.51, 1e7 + 1]);
    await expectNumpy(un('Rint', t), 'out = np.rint(x)');
  });
  it('Inv (tfjs has no Inv) is 1/x', async () => {
    await expectNumpy(un('Inv', awayFromZero([3, 7], 44)), 'out = np.float32(1) / x', { dtype: 'float32' });
  });
  it('Expm1 and Log1p keep full relative accuracy near 0', async () => {
    const tiny = Tensor.fromArray('float32', [8], [1e-8, -1e-8, 3e-5, -3e-5, 1e-3, -1e-3, 0, 0.2]);
    await expectNumpy(un('Expm1', tiny), 'out = np.expm1(x.astype(np.float64)).astype(np.float32)', { atol: 0, rtol: 2e-6 });
    await expectNumpy(un('Log1p', tiny), 'out = np.log1p(x.astype(np.float64)).astype(np.float32)', { atol: 0, rtol: 2e-6 });
  });
  it('Expm1 and Log1p at the edges (large, -1, infinities)', async () => {
    const e = Tensor.fromArray('float32', [5], [100, -100, Infinity, -Infinity, 20]);
    await expectNumpy(un('Expm1', e), 'out = np.expm1(x)', { rtol: 2e-6 });
    const l = Tensor.fromArray('float32', [4], [-1, Infinity, 1e30, 5]);
    await expectNumpy(un('Log1p', l), 'out = np.log1p(x)', { rtol: 2e-6 });
  });
  it('Round and Floor on float64', async () => {
    const t = rand('float64', [12], 49, -5, 5);
    await expectNumpy(un('Round', t), 'out = np.round(x)', { dtype: 'float64' });
    await expectNumpy(un('Floor', t), 'out = np.floor(x)', { dtype: 'float64' });
  });
});

describe('comparisons and logical ops vs tfjs-converter', () => {
  // Ties included: values on a coarse grid.
  const a = Tensor.fromArray('float32', [3, 4], Array.from(rand('int32', [3, 4], 50, -3, 3).toFloat64()));
  const b = Tensor.fromArray('float32', [4], Array.from(rand('int32', [4], 51, -3, 3).toFloat64()));
  for (const op of ['Equal', 'NotEqual', 'Less', 'LessEqual', 'Greater', 'GreaterEqual']) {
    it(`${op} float32 and int32`, async () => {
      await expectOracle(bin(op, a, b), { dtypes: ['bool'] });
      await expectOracle(bin(op, rand('int32', [3, 4], 52, -3, 3), rand('int32', [3, 1], 53, -3, 3)), { dtypes: ['bool'] });
    });
  }
  for (const op of ['LogicalAnd', 'LogicalOr']) {
    it(op, async () => {
      await expectOracle({ ...bin(op, rand('bool', [2, 3], 54), rand('bool', [3], 55)), typeAttr: false }, { dtypes: ['bool'] });
    });
  }
  it('Equal on bool', async () => {
    await expectOracle(bin('Equal', rand('bool', [6], 56), rand('bool', [6], 57)), { dtypes: ['bool'] });
  });
});

describe('Atan2, Xdivy, Xlogy, Xlog1py, ApproximateEqual', () => {
  it('Atan2 vs tfjs-converter in all four quadrants', async () => {
    await expectOracle(bin('Atan2', rand('float32', [4, 6], 60, -3, 3), rand('float32', [4, 6], 61, -3, 3)), { atol: 2e-6 });
  });
  it.skipIf(!hasPython('numpy'))('Atan2 on the axes vs numpy', async () => {
    const y = Tensor.fromArray('float32', [7], [1, -1, 0, 0, 0, 2, -2]);
    const x = Tensor.fromArray('float32', [7], [0, 0, 0, 1, -1, -2, -2]);
    await expectNumpy(bin('Atan2', y, x), 'out = np.arctan2(a, b)', { atol: 1e-6 });
  });
  it.skipIf(!hasPython('numpy'))('Xdivy / Xlogy / Xlog1py give 0 where x == 0', async () => {
    const x = Tensor.fromArray('float32', [6], [0, 0, 1.5, -2, 0, 3]);
    const y = Tensor.fromArray('float32', [6], [0, 2, 0.5, 4, -1, 2]);
    await expectNumpy(bin('Xdivy', x, y), 'out = np.where(a == 0, np.float32(0), a / b)');
    const yp = Tensor.fromArray('float32', [6], [0, 2, 0.5, 4, 3, 2]);
    await expectNumpy(bin('Xlogy', x, yp), 'out = np.where(a == 0, np.float32(0), a * np.log(b))', { atol: 1e-6 });
    await expectNumpy(bin('Xlog1py', x, yp), 'out = np.where(a == 0, np.float32(0), a * np.log1p(b))', { atol: 1e-6 });
  });
  it.skipIf(!hasPython('numpy'))('MulNoNan gives 0 where y == 0, even for infinite or NaN x', async () => {
    const x = Tensor.fromArray('float32', [5], [Infinity, NaN, 2, -3, 1.5]);
    const y = Tensor.fromArray('float32', [5], [0, 0, 0.5, 0, -2]);
    await expectNumpy(bin('MulNoNan', x, y), 'out = np.where(b == 0, np.float32(0), a * b)');
  });
  it.skipIf(!hasPython('numpy'))('ApproximateEqual with its tolerance', async () => {
    const a = rand('float32', [12], 62, -1, 1);
    const b = rand('float32', [12], 63, -1, 1);
    await expectNumpy(bin('ApproximateEqual', a, b, { tolerance: 0.5 }), 'out = np.abs(a - b) < np.float32(0.5)', { dtype: 'bool' });
  });
});

describe('errors', () => {
  it('string Add is refused with an MconvError naming the node', async () => {
    const s = Tensor.fromStrings([1], ['a']);
    await expect(runOurs(bin('Add', s, s))).rejects.toThrow(/string/);
  });
  it('Sqrt of int32 is refused', async () => {
    await expect(runOurs(un('Sqrt', rand('int32', [2], 1)))).rejects.toThrow(/Sqrt of int32/);
  });
});
