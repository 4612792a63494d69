import { describe, expect, it, beforeAll } from 'vitest';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { load, save } from '../../src/api.js';
import { prepareModel } from '../../src/ir/passes/index.js';
import { compareWeightValues, diffModels } from '../../src/inspect/diff.js';
import { readNpy } from '../../src/formats/npy/npy.js';
import { ROOT, PY, SHARED, hasPython } from '../helpers/cli.js';

const KERAS = join(ROOT, 'fixtures', 'keras', 'mnist_cnn.h5');
const TINY = join(ROOT, 'fixtures', 'onnx', 'tiny_cnn', 'model.onnx');
const TORCH = join(SHARED, 'torch');
const havePy = hasPython('numpy', 'onnx', 'h5py');
if (!havePy) console.warn('test/inspect/diff.test.ts: numpy/onnx/h5py checks skipped (not in /usr/bin/python3)');
if (!existsSync(TORCH)) console.warn(`test/inspect/diff.test.ts: ${TORCH} absent, torch fixture diffs skipped`);

function py(code: string, ...args: string[]): string {
  return execFileSync(PY, ['-c', code, ...args], { encoding: 'utf8' });
}

describe('diffModels: a Keras file and its ONNX conversion', () => {
  let dir: string;
  let onnxPath: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mconv-diff-'));
    onnxPath = join(dir, 'mnist_cnn.onnx');
    await save(await load(KERAS), onnxPath);
  });

  it('as converted: same I/O and nodes, every weight matched by name with max abs difference 0', async () => {
    const a = prepareModel(await load(KERAS));
    const b = await load(onnxPath);
    const d = diffModels(a, b);
    expect(d.io.equivalent).toBe(true);
    expect(d.nodes.counts.changed + d.nodes.counts['only-a'] + d.nodes.counts['only-b']).toBe(0);
    expect(d.weights.list.length).toBe(10);
    for (const w of d.weights.list) {
      expect(w.status, w.a?.name).toBe('matched');
      expect(w.maxAbsDiff).toBeLessThanOrEqual(1e-6);
    }
    expect(d.equivalent).toBe(true);
  });

  it.skipIf(!havePy)('as read: the Dense kernel after Flatten is found with its rows permuted, as numpy says they are', async () => {
    const a = await load(KERAS);
    const b = await load(onnxPath);
    const d = diffModels(a, b);
    const dense = d.weights.list.find((w) => w.a?.name === 'dense/kernel:0')!;
    expect(dense.status).toBe('matched');
    expect(dense.layout).toBe('rows-permuted');
    expect(dense.b!.name).not.toBe('dense/kernel:0');
    // Independent check: h5py's Keras kernel with rows reordered NHWC -> NCHW is the ONNX initializer.
    const out = py(
      `import sys, h5py, onnx, numpy as np
from onnx import numpy_helper
f = h5py.File(sys.argv[1], 'r')
k = np.array(f['model_weights/dense/dense/kernel:0'])
m = onnx.load(sys.argv[2])
w = [numpy_helper.to_array(t) for t in m.graph.initializer if t.name == sys.argv[3]][0]
nchw = k.reshape(3, 3, 64, 64).transpose(2, 0, 1, 3).reshape(576, 64)
print(float(np.abs(nchw - w).max()), float(np.abs(k - w).max()))`,
      KERAS, onnxPath, dense.b!.name,
    ).trim().split(' ').map(Number);
    expect(out[0]).toBe(0);
    expect(out[1]).toBeGreaterThan(1e-3); // a plain comparison would fail: the layout matters
    expect(dense.maxAbsDiff).toBe(0);
    // The layout Transposes the reader inserts are reported as nodes only in A.
    expect(d.nodes.counts['only-a']).toBeGreaterThan(0);
    expect(d.nodes.list.filter((n) => n.status === 'only-a').every((n) => n.a!.op === 'Transpose')).toBe(true);
    expect(d.weights.equivalent).toBe(true);
    expect(d.equivalent).toBe(false);
  });
});

describe.skipIf(!havePy)('compareWeightValues against numpy layouts', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'mconv-diffw-'));
    py(
      `import sys, numpy as np
rng = np.random.default_rng(7)
hwio = rng.standard_normal((3, 5, 4, 6)).astype(np.float32)
np.save(sys.argv[1] + '/hwio.npy', hwio)
np.save(sys.argv[1] + '/oihw.npy', np.ascontiguousarray(hwio.transpose(3, 2, 0, 1)))
bad = hwio.transpose(3, 2, 0, 1).copy(); bad[2, 1, 0, 4] += np.float32(0.375)
np.save(sys.argv[1] + '/oihw_bad.npy', bad)
dense = rng.standard_normal((12, 7)).astype(np.float32)
np.save(sys.argv[1] + '/dense.npy', dense)
np.save(sys.argv[1] + '/dense_t.npy', np.ascontiguousarray(dense.T))
np.save(sys.argv[1] + '/dense_rows.npy', dense[rng.permutation(12)])
print(float(np.abs(bad - hwio.transpose(3, 2, 0, 1)).max()))`,
      dir,
    );
  });
  const npy = (n: string) => readNpy(readFileSync(join(dir, `${n}.npy`)));

  it('a Conv kernel HWIO -> OIHW is matched as transposed (3,2,0,1) with difference 0', () => {
    const r = compareWeightValues(npy('hwio'), npy('oihw'), 1e-6);
    expect(r.layout).toBe('transposed');
    expect(r.perm).toEqual([3, 2, 0, 1]);
    expect(r.maxAbsDiff).toBe(0);
  });

  it('one changed element shows as the max abs difference numpy computes', () => {
    const r = compareWeightValues(npy('hwio'), npy('oihw_bad'), 1e-6);
    expect(r.maxAbsDiff).toBeCloseTo(0.375, 6);
  });

  it('a Dense kernel transposed for Gemm, and one with its rows shuffled', () => {
    const t = compareWeightValues(npy('dense'), npy('dense_t'), 1e-6);
    expect(t).toMatchObject({ layout: 'transposed', perm: [1, 0], maxAbsDiff: 0 });
    const p = compareWeightValues(npy('dense'), npy('dense_rows'), 1e-6);
    expect(p).toMatchObject({ layout: 'rows-permuted', maxAbsDiff: 0 });
  });
});

describe.skipIf(!havePy)('diffModels: an ONNX file edited with the onnx package', () => {
  let edited: string;
  let expected: number;
  beforeAll(() => {
    const dir = mkdtempSync(join(tmpdir(), 'mconv-diffe-'));
    edited = join(dir, 'edited.onnx');
    // One weight element moved, one Relu turned into a Sigmoid, one MaxPool's kernel changed.
    expected = Number(py(
      `import sys, onnx, numpy as np
from onnx import numpy_helper
m = onnx.load(sys.argv[1])
for i, t in enumerate(m.graph.initializer):
    if t.name == 'classifier.weight':
        a = numpy_helper.to_array(t).copy(); old = a.copy(); a[3, 5] += np.float32(0.25)
        m.graph.initializer[i].CopyFrom(numpy_helper.from_array(a, t.name))
        print(float(np.abs(a - old).max()))
relu = [n for n in m.graph.node if n.op_type == 'Relu'][0]
relu.op_type = 'Sigmoid'
onnx.save(m, sys.argv[2])`,
      TINY, edited,
    ).trim());
  });

  it('names the changed weight with its difference and the changed node', async () => {
    const d = diffModels(await load(TINY), await load(edited));
    expect(d.equivalent).toBe(false);
    expect(d.io.equivalent).toBe(true);
    const w = d.weights.list.filter((x) => x.status !== 'matched');
    expect(w.map((x) => x.a?.name)).toEqual(['classifier.weight']);
    expect(w[0]!.maxAbsDiff).toBeCloseTo(expected, 7);
    const changed = d.nodes.list.filter((n) => n.status !== 'same');
    expect(changed.length).toBe(1);
    expect(changed[0]!.changes).toEqual(['op Relu -> Sigmoid']);
    expect(changed[0]!.a!.name).toBe(changed[0]!.b!.name);
  });
});

describe.skipIf(!existsSync(TORCH))('diffModels: two torch fixtures', () => {
  it('mnist_v0 vs mnist_v2_cnn: nodes and weights only on one side, nothing claimed equal that is not', async () => {
    const d = diffModels(await load(join(TORCH, 'mnist_v0', 'model.onnx')), await load(join(TORCH, 'mnist_v2_cnn', 'model.onnx')));
    expect(d.equivalent).toBe(false);
    expect(d.nodes.counts['only-b']).toBeGreaterThan(0);
    expect(d.nodes.list.some((n) => n.status === 'only-b' && n.b!.op === 'Conv')).toBe(true);
    expect(d.weights.list.some((w) => w.status === 'only-b' && w.b!.name.startsWith('block_1.'))).toBe(true);
    // Every pair it reports as matched really is equal (checked with onnx/numpy by name).
    for (const w of d.weights.list.filter((x) => x.status === 'matched')) expect(w.maxAbsDiff).toBeLessThanOrEqual(1e-6);
  });

  it.skipIf(!havePy)('a model against itself is equivalent; weight differences agree with numpy', async () => {
    const p = join(TORCH, 'mnist_v1', 'model.onnx');
    expect(diffModels(await load(p), await load(p)).equivalent).toBe(true);
    const q = join(TORCH, 'mnist_v0', 'model.onnx');
    const d = diffModels(await load(q), await load(p));
    const pairs = d.weights.list.filter((w) => w.a && w.b && w.maxAbsDiff !== null);
    expect(pairs.length).toBeGreaterThan(0);
    const want = JSON.parse(py(
      `import sys, json, onnx, numpy as np
from onnx import numpy_helper
def w(p): return {t.name: numpy_helper.to_array(t).astype(np.float64) for t in onnx.load(p).graph.initializer}
a, b = w(sys.argv[1]), w(sys.argv[2])
pairs = json.loads(sys.argv[3])
print(json.dumps([float(np.abs(a[x] - b[y]).max()) for x, y in pairs]))`,
      q, p, JSON.stringify(pairs.map((w) => [w.a!.name, w.b!.name])),
    ));
    pairs.forEach((w, i) => expect(w.maxAbsDiff, w.a!.name).toBeCloseTo(want[i], 9));
  });
});

const KERAS3 = join(SHARED, 'real', 'keras3-mnist-convnet-h5-and-keras');
describe.skipIf(!existsSync(KERAS3) || !havePy)('diffModels: one Keras 3 model saved as .h5 and as .keras (different training runs, says SOURCE.md)', () => {
  it('same I/O and nodes; every weight paired, with the max abs differences h5py computes', async () => {
    const d = diffModels(prepareModel(await load(join(KERAS3, 'mnist_model.h5'))), prepareModel(await load(join(KERAS3, 'mnist_model.keras'))));
    expect(d.io.equivalent).toBe(true);
    expect(d.nodes.equivalent).toBe(true);
    expect(d.weights.list.every((w) => w.a && w.b)).toBe(true);
    const want: Record<string, number> = JSON.parse(py(
      `import sys, io, json, zipfile, h5py, numpy as np
a = h5py.File(sys.argv[1] + '/mnist_model.h5', 'r')['model_weights']
b = h5py.File(io.BytesIO(zipfile.ZipFile(sys.argv[1] + '/mnist_model.keras').read('model.weights.h5')), 'r')['layers']
out = {}
for layer in ['conv2d', 'conv2d_1', 'dense']:
    for i, w in enumerate(['kernel', 'bias']):
        out[layer + '/' + w] = float(np.abs(np.array(a[layer][w], np.float64) - np.array(b[layer]['vars'][str(i)], np.float64)).max())
print(json.dumps(out))`,
      KERAS3,
    ));
    // Each layer's kernel and bias: find the diff row through the layer name in A's weight name.
    for (const [key, diff] of Object.entries(want)) {
      const [layer, kind] = key.split('/');
      const row = d.weights.list.find((w) => w.a!.name.split('/')[0] === layer && (kind === 'bias' ? w.a!.shape.length === 1 : w.a!.shape.length > 1))!;
      expect(row, key).toBeDefined();
      expect(row.maxAbsDiff!, key).toBeCloseTo(diff, 6);
      expect(row.status).toBe(diff <= 1e-6 ? 'matched' : 'differs');
    }
    expect(d.equivalent).toBe(false);
  });
});
