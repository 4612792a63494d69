import { describe, expect, it, beforeAll } from 'vitest';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { mconv, ROOT, PY, SHARED, hasPython } from '../helpers/cli.js';

const KERAS = join(ROOT, 'fixtures', 'keras', 'mnist_cnn.h5');
const TINY = join(ROOT, 'fixtures', 'onnx', 'tiny_cnn', 'model.onnx');
const TORCH = join(SHARED, 'torch');
const havePy = hasPython('numpy', 'onnx', 'h5py');
if (!existsSync(TORCH)) console.warn(`test/cli/diff.test.ts: ${TORCH} absent, torch fixture diffs skipped`);
if (!havePy) console.warn('test/cli/diff.test.ts: numpy/onnx/h5py checks skipped (not in /usr/bin/python3)');

interface WeightJson { status: string; a?: { name: string }; b?: { name: string }; maxAbsDiff: number | null; layout?: string }

describe('mconv diff', () => {
  let dir: string;
  let onnxPath: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mconv-cli-diff-'));
    onnxPath = join(dir, 'mnist_cnn.onnx');
    const r = await mconv(['convert', KERAS, '--to', 'onnx', '-o', onnxPath]);
    expect(r.code, r.stderr).toBe(0);
  });

  it('a Keras file and its ONNX conversion: every weight matched within 1e-6, exit 0', async () => {
    const r = await mconv(['diff', KERAS, onnxPath, '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    const j = JSON.parse(r.stdout);
    expect(j.equivalent).toBe(true);
    expect(j.a.format).toBe('keras');
    expect(j.b.format).toBe('onnx');
    expect(j.io.inputs.map((x: { a: { name: string } }) => x.a.name)).toEqual(['conv2d_input']);
    const ws: WeightJson[] = j.weights.list;
    expect(ws.length).toBe(10);
    for (const w of ws) {
      expect(w.status, w.a?.name).toBe('matched');
      expect(w.maxAbsDiff).not.toBeNull();
      expect(w.maxAbsDiff!).toBeLessThanOrEqual(1e-6);
    }
    // Text: the verdict line and one row per weight.
    const t = await mconv(['diff', KERAS, onnxPath]);
    expect(t.code).toBe(0);
    expect(t.stdout).toMatch(/Weights: 10 matched, 0 differ, 0 only in A, 0 only in B/);
    expect(t.stdout).toMatch(/^Equivalent/m);
    expect(t.stdout).toMatch(/dense\/kernel:0_rows_nchw/);
  });

  it.skipIf(!havePy)('--as-read shows the layout Transposes and the Dense kernel with rows permuted (numpy agrees), exit 1', async () => {
    const r = await mconv(['diff', KERAS, onnxPath, '--as-read', '--json']);
    expect(r.code).toBe(1);
    const j = JSON.parse(r.stdout);
    expect(j.asRead).toBe(true);
    expect(j.weights.equivalent).toBe(true);
    const dense = (j.weights.list as WeightJson[]).find((w) => w.a?.name === 'dense/kernel:0')!;
    expect(dense.layout).toBe('rows-permuted');
    const ok = execFileSync(PY, ['-c', `import sys, h5py, onnx, numpy as np
from onnx import numpy_helper
k = np.array(h5py.File(sys.argv[1], 'r')['model_weights/dense/dense/kernel:0'])
w = [numpy_helper.to_array(t) for t in onnx.load(sys.argv[2]).graph.initializer if t.name == sys.argv[3]][0]
print(sorted(map(tuple, k.tolist())) == sorted(map(tuple, w.tolist())) and not np.array_equal(k, w))`, KERAS, onnxPath, dense.b!.name], { encoding: 'utf8' }).trim();
    expect(ok).toBe('True');
    const t = await mconv(['diff', KERAS, onnxPath, '--as-read']);
    expect(t.code).toBe(1);
    // Cells may wrap at the default width: check the status column and the summary lines.
    expect(t.stdout).toMatch(/│ only in A │/);
    expect(t.stdout).toMatch(/^Nodes: 13 same, 3 changed, 9 only in A, 0 only in B$/m);
    expect(t.stdout).toMatch(/^Weights: 10 matched \(1 with rows permuted\), 0 differ/m);
    expect(t.stdout).toMatch(/^Not equivalent: \d+ node differences\.$/m);
  });

  it.skipIf(!existsSync(TORCH))('two different torch fixtures: exit 1, the JSON names the differences', async () => {
    const a = join(TORCH, 'mnist_v0', 'model.onnx');
    const b = join(TORCH, 'mnist_v2_cnn', 'model.onnx');
    const r = await mconv(['diff', a, b, '--json']);
    expect(r.code).toBe(1);
    const j = JSON.parse(r.stdout);
    expect(j.equivalent).toBe(false);
    const onlyB = j.nodes.list.filter((n: { status: string }) => n.status === 'only-b').map((n: { b: { name: string } }) => n.b.name);
    expect(onlyB).toContain('/block_1/block_1.0/Conv');
    const wOnlyB = (j.weights.list as WeightJson[]).filter((w) => w.status === 'only-b').map((w) => w.b!.name);
    expect(wOnlyB).toContain('block_1.0.weight');
    const t = await mconv(['diff', a, b]);
    expect(t.code).toBe(1);
    expect(t.stdout).toMatch(/^Not equivalent: .*node differences.*weight differences/m);
  });

  it.skipIf(!existsSync(TORCH) || !hasPython('torch', 'onnx'))('--weights-only: a state_dict against its ONNX export agrees as torch and onnx say (exit 0); the full diff does not', async () => {
    const sd = join(TORCH, 'mnist_v2_cnn', 'state_dict.pth');
    const onnxFile = join(TORCH, 'mnist_v2_cnn', 'model.onnx');
    const want: Record<string, number> = JSON.parse(execFileSync(PY, ['-c', `import sys, json, torch, onnx, numpy as np
from onnx import numpy_helper
sd = torch.load(sys.argv[1], map_location='cpu', weights_only=True)
init = {t.name: numpy_helper.to_array(t) for t in onnx.load(sys.argv[2]).graph.initializer}
print(json.dumps({k: float(np.abs(v.numpy().astype(np.float64) - init[k]).max()) for k, v in sd.items() if k in init}))`, sd, onnxFile], { encoding: 'utf8' }));
    const r = await mconv(['diff', sd, onnxFile, '--weights-only', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.weightsOnly).toBe(true);
    const ws = j.weights.list as WeightJson[];
    expect(ws.map((w) => w.a!.name).sort()).toEqual(Object.keys(want).sort());
    for (const w of ws) expect(w.maxAbsDiff, w.a!.name).toBe(want[w.a!.name]);
    const full = await mconv(['diff', sd, onnxFile, '--json']);
    expect(full.code).toBe(1);
    expect(JSON.parse(full.stdout).weights.equivalent).toBe(true);
  });

  it.skipIf(!havePy)('an ONNX edited in the test: the changed weight (with numpy\'s difference), the changed op and a renamed output', async () => {
    const edited = join(dir, 'edited.onnx');
    const delta = Number(execFileSync(PY, ['-c', `import sys, onnx, numpy as np
from onnx import numpy_helper
m = onnx.load(sys.argv[1])
for i, t in enumerate(m.graph.initializer):
    if t.name == 'features.4.weight':
        a = numpy_helper.to_array(t).copy(); old = a.copy(); a[1, 2, 0, 1] -= np.float32(0.0625)
        m.graph.initializer[i].CopyFrom(numpy_helper.from_array(a, t.name))
        print(float(np.abs(a - old).max()))
pool = [n for n in m.graph.node if n.op_type == 'MaxPool'][0]
for at in pool.attribute:
    if at.name == 'kernel_shape': at.ints[:] = [3, 3]
out = m.graph.output[0].name
for n in m.graph.node:
    for k, o in enumerate(n.output):
        if o == out: n.output[k] = 'probs'
m.graph.output[0].name = 'probs'
onnx.save(m, sys.argv[2])`, TINY, edited], { encoding: 'utf8' }).trim());
    const r = await mconv(['diff', TINY, edited, '--json']);
    expect(r.code).toBe(1);
    const j = JSON.parse(r.stdout);
    const bad = (j.weights.list as WeightJson[]).filter((w) => w.status !== 'matched');
    expect(bad.map((w) => w.a!.name)).toEqual(['features.4.weight']);
    expect(bad[0]!.maxAbsDiff!).toBeCloseTo(delta, 7);
    const out = j.io.outputs[0];
    expect(out.status).toBe('changed');
    expect(out.changes).toContain('name probabilities -> probs');
    const changed = j.nodes.list.filter((n: { status: string }) => n.status === 'changed');
    expect(changed.some((n: { a: { op: string }; changes: string[] }) => n.a.op === 'MaxPool' && n.changes.some((c) => c.startsWith('attribute kernel_shape [2, 2] -> [3, 3]')))).toBe(true);
    // With a tolerance above the change, the weights agree (the structure still differs).
    const loose = JSON.parse((await mconv(['diff', TINY, edited, '--json', '--atol', '0.1'])).stdout);
    expect(loose.weights.equivalent).toBe(true);
    expect(loose.equivalent).toBe(false);
  });

  it('usage and unreadable errors keep the exit codes', async () => {
    const u = await mconv(['diff', TINY, TINY, '--atol', '-1']);
    expect(u.code).toBe(2);
    expect(u.stderr).toMatch(/--atol/);
    const m = await mconv(['diff', TINY, join(dir, 'missing.onnx')]);
    expect(m.code).toBe(3);
    expect(m.stderr.trim().split('\n').length).toBe(1);
    const same = await mconv(['diff', TINY, TINY]);
    expect(same.code).toBe(0);
  });
});
