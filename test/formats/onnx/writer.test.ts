import { describe, expect, it } from 'vitest';
import { existsSync, readdirSync, readFileSync, mkdtempSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { loadModel, saveModel } from '../../../src/formats/registry.js';
import { writeOnnx } from '../../../src/formats/onnx/writer.js';
import { readNpy } from '../../../src/formats/npy/npy.js';
import { runWithOnnxRuntime, loadOnnxRuntime } from '../../../src/runtime/onnxruntime.js';
import { MconvError } from '../../../src/errors.js';
import { Model } from '../../../src/ir/graph.js';
import { Tensor } from '../../../src/ir/tensor.js';
import { HAVE_PYTHON_ONNX, ONNX_FIXTURES, ONNX_TESTDATA, TORCH_FIXTURES, hex, python, pythonJson } from './helpers.js';

const HAVE_ORT = (await loadOnnxRuntime()) !== undefined;
if (!HAVE_ORT) console.warn('skipping onnxruntime-node checks: onnxruntime-node is not installed');

const CHECK_PY = `
import sys, onnx
for f in sys.argv[1:]:
    onnx.checker.check_model(onnx.load(f), full_check=True)
print('ok')
`;

function initializerBytes(m: Model): Map<string, string> {
  const out = new Map<string, string>();
  for (const [n, v] of m.graph.initializers) {
    const t = v.initializer!;
    out.set(n, t.dtype === 'string' ? JSON.stringify(t.stringValues()) : `${t.dtype}${JSON.stringify(t.shape)}:${hex(t.bytes)}`);
  }
  return out;
}

function maxAbsDiff(a: Tensor, b: Tensor): number {
  expect(a.shape).toEqual(b.shape);
  const x = a.toFloat64();
  const y = b.toFloat64();
  let worst = 0;
  for (let i = 0; i < x.length; i++) worst = Math.max(worst, Math.abs(x[i]! - y[i]!));
  return worst;
}

const tmp = (): string => mkdtempSync(join(tmpdir(), 'mconv-writer-'));

describe.skipIf(!HAVE_PYTHON_ONNX)('writing ONNX: byte-exact weights and valid files', () => {
  for (const variant of ['raw', 'typed']) {
    it(`round-trips every dtype of dtypes_${variant}.onnx byte for byte`, async () => {
      const src = join(ONNX_FIXTURES, `dtypes_${variant}.onnx`);
      const m = await loadModel(src);
      const before = initializerBytes(m);
      expect(before.size).toBe(16);
      const dir = tmp();
      const out = join(dir, 'out.onnx');
      expect(await saveModel(m, out)).toEqual([out]);
      const back = await loadModel(out);
      expect(initializerBytes(back)).toEqual(before);
      expect(back.graph.outputs.map((v) => [v.name, v.dtype, v.shape])).toEqual(m.graph.outputs.map((v) => [v.name, v.dtype, v.shape]));
      expect(python(CHECK_PY, [out]).trim()).toBe('ok');
      // onnx itself sees the same arrays in the source and in our file
      const same = pythonJson<boolean>(`
import sys, json, onnx, onnx.numpy_helper as nh
a = onnx.load(sys.argv[1]); b = onnx.load(sys.argv[2])
def arrays(m):
    out = {}
    for t in m.graph.initializer:
        if t.data_type in (14, 15) and not t.raw_data: continue  # onnx 1.12 cannot convert typed complex
        x = nh.to_array(t)
        out[t.name] = [str(x.dtype), list(x.shape), [str(v) for v in x.flatten()] if x.dtype == object else x.tobytes().hex()]
    return out
A, B = arrays(a), arrays(b)
print(json.dumps(all(B[k] == v for k, v in A.items()) and len(A) >= 14))
`, [src, out]);
      expect(same).toBe(true);
    });
  }

  it('writes the same bytes twice (deterministic)', async () => {
    const m = await loadModel(join(ONNX_FIXTURES, 'dtypes_raw.onnx'));
    const a = writeOnnx(m, 'a.onnx').main;
    const b = writeOnnx(m, 'a.onnx').main;
    expect(hex(a)).toBe(hex(b));
  });

  it('writes weights to an external data file, aligned, and reads them back lazily', async () => {
    const dir = tmp();
    const out = join(dir, 'ext.onnx');
    const m = await loadModel(join(ONNX_FIXTURES, 'dtypes_raw.onnx'));
    // add a large weight so that something goes external
    const big = Tensor.fromArray('float32', [64, 33], Array.from({ length: 64 * 33 }, (_, i) => i * 0.25 - 7));
    const v = m.graph.addInitializer('big_weight', big);
    const y = m.graph.newValue('big_out', 'float32', [64, 33]);
    m.graph.addNode('Identity', [v], [y]);
    m.graph.outputs.push(y);
    const paths = await saveModel(m, out, { externalData: true });
    expect(paths).toEqual([out, join(dir, 'ext.onnx.data')]);
    expect(statSync(join(dir, 'ext.onnx.data')).size).toBe(64 * 33 * 4);
    expect(statSync(out).size).toBeLessThan(4096);
    const back = await loadModel(out);
    const t = back.graph.initializers.get('big_weight')!.initializer!;
    expect(t.isMaterialised).toBe(false);
    expect(hex(t.bytes)).toBe(hex(big.bytes));
    expect(initializerBytes(back)).toEqual(initializerBytes(m));
    expect(python(CHECK_PY, [out]).trim()).toBe('ok');
    const info = pythonJson<{ location: string; offset: string; length: string }>(`
import sys, json, onnx
m = onnx.load(sys.argv[1], load_external_data=False)
t = [t for t in m.graph.initializer if t.name == 'big_weight'][0]
print(json.dumps({e.key: e.value for e in t.external_data}))
`, [out]);
    expect(info).toEqual({ location: 'ext.onnx.data', offset: '0', length: String(64 * 33 * 4) });
  });

  it('refuses opsets it cannot write with a usage error', async () => {
    const m = await loadModel(join(ONNX_FIXTURES, 'dtypes_raw.onnx'));
    for (const opset of [10, 18, 12.5]) {
      try {
        writeOnnx(m, 'x.onnx', { opset });
        expect.unreachable();
      } catch (e) {
        expect(e).toBeInstanceOf(MconvError);
        expect((e as MconvError).kind).toBe('usage');
        expect((e as MconvError).oneLine()).toMatch(/cannot write ONNX opset .*mconv writes opsets 11 to 17/);
      }
    }
  });
});

const torchModels = existsSync(TORCH_FIXTURES)
  ? readdirSync(TORCH_FIXTURES).filter((d) => existsSync(join(TORCH_FIXTURES, d, 'model.onnx')))
  : [];

describe.skipIf(!torchModels.length || !HAVE_PYTHON_ONNX || !HAVE_ORT)('written torch models run the same in onnxruntime', () => {
  for (const name of torchModels) {
    it(`${name}: opsets 17, 13, 11 and external data pass the checker and reproduce output.npy`, async () => {
      const dir = tmp();
      const m = await loadModel(join(TORCH_FIXTURES, name, 'model.onnx'));
      const before = initializerBytes(m);
      const input = readNpy(new Uint8Array(readFileSync(join(TORCH_FIXTURES, name, 'input.npy'))));
      const expected = readNpy(new Uint8Array(readFileSync(join(TORCH_FIXTURES, name, 'output.npy'))));
      const files: string[] = [];
      for (const opset of [17, 13, 11]) {
        const out = join(dir, `o${opset}.onnx`);
        await saveModel(m, out, { opset });
        files.push(out);
      }
      const ext = join(dir, 'ext.onnx');
      await saveModel(m, ext, { externalData: 'weights.bin' });
      files.push(ext);
      expect(python(CHECK_PY, files).trim()).toBe('ok');
      const opsets = pythonJson<number[]>(`
import sys, json, onnx
print(json.dumps([[o.version for o in onnx.load(f).opset_import if o.domain == ''][0] * 100 + onnx.load(f).ir_version for f in sys.argv[1:]]))
`, files);
      expect(opsets).toEqual([1708, 1307, 1106, 1708]);
      for (const f of files) {
        const res = await runWithOnnxRuntime(f, new Map([[m.graph.inputs[0]!.name, input]]));
        const got = res.get(m.graph.outputs[0]!.name)!;
        expect(maxAbsDiff(got, expected), f).toBeLessThan(1e-4);
        const back = await loadModel(f);
        expect(initializerBytes(back)).toEqual(before);
      }
    });
  }
});

describe.skipIf(!HAVE_PYTHON_ONNX || !HAVE_ORT)('downgrading on export', () => {
  it('writes opset-17 constructs at opsets 11..16 with the same results in onnxruntime', async () => {
    const dir = tmp();
    const src = join(dir, 'm17.onnx');
    python(`
import sys, numpy as np, onnx
from onnx import helper, TensorProto, numpy_helper
I = lambda name, v: numpy_helper.from_array(np.array(v, dtype=np.int64), name)
nodes = [
  helper.make_node('Softmax', ['x'], ['sm'], axis=1),
  helper.make_node('LogSoftmax', ['x'], ['lsm'], axis=-1),
  helper.make_node('ReduceSum', ['x', 'axes_r'], ['rs'], keepdims=1),
  helper.make_node('Split', ['x', 'split'], ['s0', 's1'], axis=2),
  helper.make_node('Unsqueeze', ['s0', 'axes_u'], ['u']),
  helper.make_node('Squeeze', ['u', 'axes_u'], ['sq']),
  helper.make_node('LayerNormalization', ['x', 'ln_scale', 'ln_bias'], ['ln'], axis=-1, epsilon=1e-3),
  helper.make_node('Shape', ['x'], ['shp'], start=1),
  helper.make_node('Resize', ['x4', '', 'scales'], ['rz'], mode='nearest'),
]
inits = [I('axes_r', [1]), I('split', [1, 3]), I('axes_u', [0]),
  numpy_helper.from_array(np.linspace(0.5, 2, 4).astype(np.float32), 'ln_scale'),
  numpy_helper.from_array(np.linspace(-1, 1, 4).astype(np.float32), 'ln_bias'),
  numpy_helper.from_array(np.array([1, 1, 2, 2], dtype=np.float32), 'scales')]
shapes = {'sm': [2, 3, 4], 'lsm': [2, 3, 4], 'rs': [2, 1, 4], 's1': [2, 3, 3], 'sq': [2, 3, 1], 'ln': [2, 3, 4], 'rz': [1, 1, 4, 4]}
outs = [helper.make_tensor_value_info(n, TensorProto.FLOAT, s) for n, s in shapes.items()]
outs.append(helper.make_tensor_value_info('shp', TensorProto.INT64, [2]))
g = helper.make_graph(nodes, 'down', [helper.make_tensor_value_info('x', TensorProto.FLOAT, [2, 3, 4]),
    helper.make_tensor_value_info('x4', TensorProto.FLOAT, [1, 1, 2, 2])], outs, initializer=inits)
m = helper.make_model(g, opset_imports=[helper.make_opsetid('', 17)])
onnx.checker.check_model(m, full_check=True)
onnx.save(m, sys.argv[1])
`, [src]);
    const m = await loadModel(src);
    const x = Tensor.fromArray('float32', [2, 3, 4], Array.from({ length: 24 }, (_, i) => Math.sin(i) * 3));
    const x4 = Tensor.fromArray('float32', [1, 1, 2, 2], [1, 2, 3, 4]);
    const feeds = new Map([['x', x], ['x4', x4]]);
    const ref = await runWithOnnxRuntime(src, feeds);
    const files: string[] = [];
    for (const opset of [16, 14, 13, 12, 11]) {
      const out = join(dir, `m${opset}.onnx`);
      await saveModel(m, out, { opset });
      files.push(out);
      const got = await runWithOnnxRuntime(out, feeds);
      for (const [name, t] of ref) expect(maxAbsDiff(got.get(name)!, t), `${name} at opset ${opset}`).toBeLessThan(1e-5);
    }
    expect(python(CHECK_PY, files).trim()).toBe('ok');
    // below 13 the axes are attributes again and LayerNormalization is decomposed
    const ops = pythonJson<Record<string, string[]>>(`
import sys, json, onnx
m = onnx.load(sys.argv[1])
print(json.dumps({n.op_type + ':' + n.output[0]: sorted(a.name for a in n.attribute) for n in m.graph.node}))
`, [files[4]!]);
    expect(ops['Squeeze:sq']).toEqual(['axes']);
    expect(ops['Unsqueeze:u']).toEqual(['axes']);
    expect(ops['ReduceSum:rs']).toEqual(['axes', 'keepdims']);
    expect(ops['Split:s0']).toEqual(['axis', 'split']);
    expect(Object.keys(ops).some((k) => k.startsWith('LayerNormalization'))).toBe(false);
  });

  it('refuses a construct the target opset cannot express, naming the node', async () => {
    const dir = tmp();
    const src = join(dir, 'allowzero.onnx');
    python(`
import sys, numpy as np, onnx
from onnx import helper, TensorProto, numpy_helper
g = helper.make_graph([helper.make_node('Reshape', ['x', 's'], ['y'], name='rz', allowzero=1)], 'g',
  [helper.make_tensor_value_info('x', TensorProto.FLOAT, [2, 3])], [helper.make_tensor_value_info('y', TensorProto.FLOAT, [3, 2])],
  initializer=[numpy_helper.from_array(np.array([3, 2], dtype=np.int64), 's')])
onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid('', 17)]), sys.argv[1])
`, [src]);
    const m = await loadModel(src);
    await expect(saveModel(m, join(dir, 'o13.onnx'), { opset: 13 })).rejects.toThrow(/Reshape at opset 13: attribute allowzero=1 needs opset 14/);
    expect(existsSync(join(dir, 'o13.onnx'))).toBe(false);
    await saveModel(m, join(dir, 'o14.onnx'), { opset: 14 });
    expect(python(CHECK_PY, [join(dir, 'o14.onnx')]).trim()).toBe('ok');
  });
});

describe.skipIf(!HAVE_PYTHON_ONNX || !existsSync(join(ONNX_TESTDATA, 'node')))('writing every ONNX backend test model', () => {
  it('gives files the full onnx checker accepts, with the same graph when read back', async () => {
    const dir = tmp();
    const written: string[] = [];
    const refused: string[] = [];
    for (const sub of ['node', 'simple', 'pytorch-converted', 'pytorch-operator']) {
      const root = join(ONNX_TESTDATA, sub);
      if (!existsSync(root)) continue;
      for (const c of readdirSync(root)) {
        let m: Model;
        try {
          m = await loadModel(join(root, c, 'model.onnx'));
        } catch (e) {
          expect(e).toBeInstanceOf(MconvError);
          refused.push(c);
          continue;
        }
        const out = join(dir, `${sub}__${c}.onnx`);
        await saveModel(m, out);
        written.push(out);
        const back = await loadModel(out);
        expect(back.graph.nodes.map((n) => n.op), c).toEqual(m.graph.nodes.map((n) => n.op));
        expect(back.graph.inputs.map((v) => [v.name, v.dtype]), c).toEqual(m.graph.inputs.map((v) => [v.name, v.dtype]));
        expect(back.graph.outputs.map((v) => [v.name, v.dtype]), c).toEqual(m.graph.outputs.map((v) => [v.name, v.dtype]));
        expect(initializerBytes(back), c).toEqual(initializerBytes(m));
      }
    }
    expect(written.length).toBeGreaterThan(1000);
    expect(refused.sort()).toEqual(['test_if_opt', 'test_resize_downsample_sizes_nearest_tf_half_pixel_for_nn', 'test_scan_sum']);
    const report = python(`
import sys, onnx
bad = []
for f in sys.argv[1:]:
    try:
        onnx.checker.check_model(onnx.load(f), full_check=True)
    except Exception as e:
        bad.append(f + ': ' + str(e).split(chr(10))[0])
print(len(sys.argv) - 1 - len(bad))
print(chr(10).join(bad))
`, written);
    const [okCount, ...problems] = report.trim().split('\n');
    expect(problems.filter(Boolean)).toEqual([]);
    expect(Number(okCount)).toBe(written.length);
  });
});
