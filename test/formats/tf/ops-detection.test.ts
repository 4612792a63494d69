/**
 * TF converters in ops/detection.ts (NonMaxSuppression V2..V5, CropAndResize) against the
 * tfjs-converter oracle, and ops/fake-quant.ts against numpy with TF's documented nudging formula.
 */
import { describe, expect, it } from 'vitest';
import { Tensor } from '../../../src/ir/tensor.js';
import { hasPython } from '../../helpers/cli.js';
import { prng } from '../../../src/runtime/random-inputs.js';
import { tfAttr } from '../../helpers/tf-oracle.js';
import { expectNumpy, expectOracle, rand, runOracle, runOurs, type OpCase } from './op-harness.js';

const f32 = (shape: number[], v: number[]) => Tensor.fromArray('float32', shape, v);
const i32 = (shape: number[], v: number[]) => Tensor.fromArray('int32', shape, v);

/** n boxes [y1, x1, y2, x2] clustered so that many overlap; some given with flipped corners. */
function boxes(n: number, seed: number): Tensor {
  const r = prng(seed);
  const v: number[] = [];
  for (let i = 0; i < n; i++) {
    const cy = 2 * Math.floor(r() * 3) + r(), cx = 2 * Math.floor(r() * 3) + r();
    const h = 0.5 + r(), w = 0.5 + r();
    const b = [cy - h / 2, cx - w / 2, cy + h / 2, cx + w / 2];
    v.push(...(i % 5 === 4 ? [b[2]!, b[3]!, b[0]!, b[1]!] : b));
  }
  return f32([n, 4], v);
}

describe('NonMaxSuppression vs tfjs-converter', () => {
  const n = 30;
  const bx = boxes(n, 1);
  // Distinct scores (ties would leave the order to each implementation).
  const sc = f32([n], Array.from({ length: n }, (_, i) => ((i * 7919) % n) / n + 0.01));
  const base = (op: string, max: number, iou: number, extra: { name: string; value: Tensor; constant?: boolean }[] = [], attrs: OpCase['attrs'] = {}): OpCase => ({
    op,
    inputs: [
      { name: 'boxes', value: bx },
      { name: 'scores', value: sc },
      { name: 'max', value: i32([], [max]) },
      { name: 'iou', value: f32([], [iou]) },
      ...extra,
    ],
    attrs,
  });
  it('V2: indices in score order, int32', async () => {
    const [y] = await expectOracle(base('NonMaxSuppressionV2', 10, 0.3), { dtypes: ['int32'] });
    expect(y!.shape[0]).toBeGreaterThan(3);
    expect(y!.shape[0]).toBeLessThanOrEqual(10);
  });
  it('V3: score threshold', async () => {
    const [y] = await expectOracle(base('NonMaxSuppressionV3', 20, 0.5, [{ name: 'st', value: f32([], [0.6]) }]));
    const [all] = await expectOracle(base('NonMaxSuppressionV3', 20, 0.5, [{ name: 'st', value: f32([], [0]) }]));
    expect(y!.shape[0]).toBeLessThan(all!.shape[0]!);
  });
  for (const pad of [false, true]) {
    it(`V4 pad_to_max_output_size=${pad}: indices and valid_outputs`, async () => {
      const c = { ...base('NonMaxSuppressionV4', 25, 0.4, [{ name: 'st', value: f32([], [0.2]) }], { pad_to_max_output_size: pad }), ports: [0, 1] };
      const [idx, valid] = await expectOracle(c, { dtypes: ['int32', 'int32'] });
      expect(idx!.shape[0]).toBe(pad ? 25 : Number(valid!.toFloat64()[0]));
    });
  }
  // tfjs-converter's V5 returns indices and scores only (no valid_outputs) and does not pad.
  const v5 = (pad: boolean) => ({
    ...base('NonMaxSuppressionV5', 12, 0.45, [{ name: 'st', value: f32([], [0.1]) }, { name: 'sigma', value: f32([], [0]), constant: true }], { pad_to_max_output_size: pad }),
    ports: [0, 1],
  });
  it('V5 (soft_nms_sigma 0): indices and scores; valid_outputs counts them', async () => {
    const [idx] = await expectOracle(v5(false), { dtypes: ['int32', 'float32'] });
    const { outputs } = await runOurs({ ...v5(false), ports: [0, 1, 2] });
    expect(outputs[2]!.dtype).toBe('int32');
    expect(Number(outputs[2]!.toFloat64()[0])).toBe(idx!.shape[0]);
  });
  it('V5 padded: the unpadded result, then zeros up to max_output_size', async () => {
    const [idx, scores] = await runOracle(v5(false));
    const { outputs } = await runOurs({ ...v5(true), ports: [0, 1, 2] });
    const k = idx!.shape[0]!;
    expect(outputs[0]!.shape).toEqual([12]);
    expect(Number(outputs[2]!.toFloat64()[0])).toBe(k);
    expect(Array.from(outputs[0]!.toFloat64())).toEqual([...Array.from(idx!.toFloat64()), ...new Array(12 - k).fill(0)]);
    expect(Array.from(outputs[1]!.toFloat64())).toEqual([...Array.from(scores!.toFloat64()), ...new Array(12 - k).fill(0)]);
  });
  it('V5 with soft_nms_sigma > 0 is refused by name', async () => {
    const c = base('NonMaxSuppressionV5', 12, 0.45, [{ name: 'st', value: f32([], [0.1]) }, { name: 'sigma', value: f32([], [0.5]), constant: true }]);
    await expect(runOurs(c)).rejects.toThrow(/soft_nms_sigma 0\.5/);
  });
});

describe('CropAndResize vs tfjs-converter', () => {
  const image = rand('float32', [2, 6, 7, 3], 2, 0, 10);
  // Inside, partly outside the image, flipped (y1 > y2), a point box. (Positions whose float32
  // product with size - 1 rounds to a half pixel are avoided: TF rounds the float32 value,
  // tfjs the float64 one, so they can pick different neighbours.)
  const bx = f32([5, 4], [0.1, 0.2, 0.8, 0.9, -0.3, 0.5, 0.6, 1.4, 0.93, 0.81, 0.17, 0.13, 0.5, 0.5, 0.5, 0.5, 0, 0, 1, 1]);
  const ind = i32([5], [0, 1, 1, 0, 1]);
  const crop = (size: number[], method: string, extrapolation = 0): OpCase => ({
    op: 'CropAndResize',
    inputs: [{ name: 'image', value: image }, { name: 'boxes', value: bx }, { name: 'ind', value: ind }, { name: 'size', value: i32([2], size), constant: true }],
    attrs: { method: tfAttr.s(method), extrapolation_value: tfAttr.f(extrapolation) },
  });
  for (const method of ['bilinear', 'nearest']) {
    it(`${method}, crop 3x4, extrapolation 0.5`, async () => {
      const [y] = await expectOracle(crop([3, 4], method, 0.5), { atol: 1e-4 });
      expect(y!.shape).toEqual([5, 3, 4, 3]);
    });
    it(`${method}, crop 1x5 (box centre on one axis)`, async () => {
      await expectOracle(crop([1, 5], method), { atol: 1e-4 });
    });
  }
  it('nearest at exact half-pixel positions rounds up as TF (crop 3 over 6 rows: 2.5)', async () => {
    await expectOracle(crop([3, 5], 'nearest'), { atol: 1e-4 });
  });
});

describe.skipIf(!hasPython('numpy'))('FakeQuant vs numpy (TF nudging formula)', () => {
  const nudgeNp = `
def nudge(mn, mx, bits, narrow):
    qmin = np.float32(1 if narrow else 0); qmax = np.float32(2 ** bits - 1)
    scale = np.float32((np.float32(mx) - np.float32(mn)) / (qmax - qmin))
    zp_from_min = np.float32(qmin - np.float32(mn) / scale)
    zp = qmin if zp_from_min < qmin else (qmax if zp_from_min > qmax else np.float32(math.floor(zp_from_min + 0.5)))
    return np.float32((qmin - zp) * scale), np.float32((qmax - zp) * scale), scale
def fq(x, mn, mx, bits=8, narrow=False):
    nmin, nmax, scale = nudge(mn, mx, bits, narrow)
    c = np.clip(x, nmin, nmax)
    return (np.floor((c - nmin) * np.float32(1 / scale) + np.float32(0.5)) * scale + nmin).astype(np.float32)
`;
  const x = rand('float32', [4, 50], 3, -8, 8);
  it('FakeQuantWithMinMaxVars, 8 bits', async () => {
    const c: OpCase = { op: 'FakeQuantWithMinMaxVars', inputs: [{ name: 'x', value: x }, { name: 'mn', value: f32([], [-3.1]), constant: true }, { name: 'mx', value: f32([], [5.3]), constant: true }], typeAttr: false, attrs: { num_bits: 8, narrow_range: false } };
    const y = await expectNumpy(c, `${nudgeNp}\nout = fq(x, -3.1, 5.3)`, { atol: 1e-5 });
    expect(new Set(Array.from(y.toFloat64())).size).toBeLessThanOrEqual(256);
  });
  it('FakeQuantWithMinMaxVars, 4 bits narrow range; min above 0 (nudged to 0)', async () => {
    const c: OpCase = { op: 'FakeQuantWithMinMaxVars', inputs: [{ name: 'x', value: x }, { name: 'mn', value: f32([], [-2]), constant: true }, { name: 'mx', value: f32([], [2.7]), constant: true }], typeAttr: false, attrs: { num_bits: 4, narrow_range: true } };
    await expectNumpy(c, `${nudgeNp}\nout = fq(x, -2, 2.7, 4, True)`, { atol: 1e-5 });
    const d: OpCase = { op: 'FakeQuantWithMinMaxVars', inputs: [{ name: 'x', value: x }, { name: 'mn', value: f32([], [0.5]), constant: true }, { name: 'mx', value: f32([], [6]), constant: true }], typeAttr: false };
    await expectNumpy(d, `${nudgeNp}\nout = fq(x, 0.5, 6)`, { atol: 1e-5 });
  });
  it('FakeQuantWithMinMaxArgs (attributes)', async () => {
    await expectNumpy({ op: 'FakeQuantWithMinMaxArgs', inputs: [{ name: 'x', value: x }], attrs: { min: tfAttr.f(-6), max: tfAttr.f(6) } }, `${nudgeNp}\nout = fq(x, -6, 6)`, { atol: 1e-5 });
  });
  it('FakeQuantWithMinMaxVarsPerChannel (last axis)', async () => {
    const xc = rand('float32', [6, 3], 4, -5, 5);
    const c: OpCase = { op: 'FakeQuantWithMinMaxVarsPerChannel', inputs: [{ name: 'x', value: xc }, { name: 'mn', value: f32([3], [-1, -4, 0]), constant: true }, { name: 'mx', value: f32([3], [1, 2.5, 3]), constant: true }], typeAttr: false };
    await expectNumpy(c, `${nudgeNp}\nout = np.stack([fq(x[:, i], mn[i], mx[i]) for i in range(3)], axis=1)`, { atol: 1e-5 });
  });
  it('non-constant min is refused', async () => {
    const c: OpCase = { op: 'FakeQuantWithMinMaxVars', inputs: [{ name: 'x', value: x }, { name: 'mn', value: f32([], [-1]) }, { name: 'mx', value: f32([], [1]), constant: true }], typeAttr: false };
    await expect(runOurs(c)).rejects.toThrow(/min/);
  });
});
