/**
 * Resize against the ONNX reference implementation (onnx.backend.test.case.node.resize, run by
 * Debian's python3) for cases where onnxruntime departs from the ONNX definition:
 * align_corners with a non-integral resized length (onnxruntime uses the rounded length) and
 * tf_crop_and_resize with a region of interest on several axes.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { attr, type Attrs } from '../../../../src/ir/graph.js';
import { Tensor } from '../../../../src/ir/tensor.js';
import { useBackend } from '../../../../src/runtime/backends.js';
import { compareAll, describeReport, rand, runKernel, vals } from './ort-oracle.js';

const PY = '/usr/bin/python3';
const HAVE_REF = existsSync(PY) && spawnSync(PY, ['-c', 'import onnx.backend.test.case.node.resize'], { encoding: 'utf8' }).status === 0;
if (!HAVE_REF) console.warn('skipping Resize reference tests: /usr/bin/python3 with the onnx package is absent');

interface RefCase {
  name: string;
  x: Tensor;
  roi?: number[];
  scales?: number[];
  sizes?: number[];
  mode: string;
  ct: string;
  nearest?: string;
  a?: number;
  exclude?: number;
  extrapolation?: number;
}

const CASES: RefCase[] = [
  { name: 'linear align_corners, non-integral resized length', x: rand([2, 1, 3, 4], 1), scales: [1, 1, 2.5, 1.7], mode: 'linear', ct: 'align_corners' },
  { name: 'cubic align_corners downsample, non-integral length', x: rand([1, 1, 7, 6], 2), scales: [1, 1, 0.55, 0.7], mode: 'cubic', ct: 'align_corners' },
  { name: 'tf_crop_and_resize linear, roi on both axes, extrapolation', x: rand([1, 1, 5, 5], 3), roi: [0, 0, -0.2, 0.3, 1, 1, 0.8, 1.4], sizes: [1, 1, 4, 5], mode: 'linear', ct: 'tf_crop_and_resize', extrapolation: 10 },
  { name: 'tf_crop_and_resize cubic, inner roi', x: rand([1, 2, 6, 6], 4), roi: [0, 0, 0.2, 0.1, 1, 1, 0.9, 0.7], sizes: [1, 2, 5, 4], mode: 'cubic', ct: 'tf_crop_and_resize' },
  { name: 'tf_crop_and_resize nearest, one output row', x: rand([1, 1, 4, 6], 5), roi: [0, 0, 0.25, 0, 1, 1, 0.75, 1], sizes: [1, 1, 1, 3], mode: 'nearest', ct: 'tf_crop_and_resize', nearest: 'round_prefer_ceil' },
  { name: 'nearest floor half_pixel non-integral scales', x: rand([1, 1, 5, 7], 6), scales: [1, 1, 1.7, 0.6], mode: 'nearest', ct: 'half_pixel', nearest: 'floor' },
];

function reference(cases: RefCase[]): Tensor[] {
  const payload = cases.map((c) => ({
    data: Array.from(c.x.toFloat64()), shape: c.x.shape, roi: c.roi ?? null, scales: c.scales ?? null, sizes: c.sizes ?? null,
    mode: c.mode, ct: c.ct, nearest: c.nearest ?? 'round_prefer_floor', a: c.a ?? -0.75, exclude: c.exclude ?? 0, extrapolation: c.extrapolation ?? 0,
  }));
  const script = `
import json, sys
import numpy as np
from onnx.backend.test.case.node.resize import interpolate_nd, linear_coeffs, cubic_coeffs, nearest_coeffs
out = []
for c in json.load(sys.stdin):
    data = np.array(c['data'], dtype=np.float32).reshape(c['shape'])
    if c['mode'] == 'linear':
        coeffs = linear_coeffs
    elif c['mode'] == 'cubic':
        coeffs = lambda r, a=c['a']: cubic_coeffs(r, A=a)
    else:
        coeffs = lambda r, m=c['nearest']: nearest_coeffs(r, mode=m)
    roi = None if c['roi'] is None else np.array(c['roi'], dtype=np.float32)
    scales = None if c['scales'] is None else np.array(c['scales'], dtype=np.float32)
    y = interpolate_nd(data, coeffs, output_size=c['sizes'], scale_factors=scales, roi=roi,
                       coordinate_transformation_mode=c['ct'], exclude_outside=bool(c['exclude']),
                       extrapolation_value=c['extrapolation']).astype(np.float32)
    out.append({'shape': list(y.shape), 'data': [float(v) for v in y.ravel()]})
json.dump(out, sys.stdout)
`;
  const r = spawnSync(PY, ['-c', script], { input: JSON.stringify(payload), encoding: 'utf8', maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`reference Resize failed: ${r.stderr}`);
  return (JSON.parse(r.stdout) as { shape: number[]; data: number[] }[]).map((o) => Tensor.fromArray('float32', o.shape, o.data));
}

describe.skipIf(!HAVE_REF)('Resize vs the ONNX reference implementation', () => {
  let expected: Tensor[] = [];
  beforeAll(() => { expected = reference(CASES); });
  for (const backend of ['wasm', 'cpu']) {
    describe(backend, () => {
      beforeAll(async () => { await useBackend(backend); });
      CASES.forEach((c, i) => {
        it(c.name, async () => {
          const attrs: Attrs = {
            mode: attr.string(c.mode), coordinate_transformation_mode: attr.string(c.ct),
            nearest_mode: attr.string(c.nearest ?? 'round_prefer_floor'), cubic_coeff_a: attr.float(c.a ?? -0.75),
            exclude_outside: attr.int(c.exclude ?? 0), extrapolation_value: attr.float(c.extrapolation ?? 0),
          };
          const got = await runKernel({
            name: c.name, op: 'Resize', attrs, outs: ['float32'],
            inputs: [c.x, c.roi ? vals('float32', [c.roi.length], c.roi) : null, c.scales ? vals('float32', [c.scales.length], c.scales) : null,
              c.sizes ? vals('int64', [c.sizes.length], c.sizes) : null],
          }, backend);
          for (const r of compareAll(got, [expected[i]!])) expect(r.ok, `${c.name}: ${describeReport(r)}`).toBe(true);
        });
      });
    });
  }
});
