import { describe, expect, it } from 'vitest';
import { existsSync, readdirSync, readFileSync, mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { loadModel, saveModel } from '../../../src/formats/registry.js';
import { decodeOnnxBytes, decodeTensorProto } from '../../../src/formats/onnx/index.js';
import { runWithOnnxRuntime, loadOnnxRuntime } from '../../../src/runtime/onnxruntime.js';
import { MconvError } from '../../../src/errors.js';
import { Tensor } from '../../../src/ir/tensor.js';
import { HAVE_PYTHON_ONNX, ONNX_TESTDATA, python, pythonJson } from './helpers.js';

const HAVE_ORT = (await loadOnnxRuntime()) !== undefined;
const tmp = (): string => mkdtempSync(join(tmpdir(), 'mconv-upgrade-'));

function close(a: Tensor, b: Tensor, atol = 1e-5, rtol = 1e-4): number {
  expect(a.shape).toEqual(b.shape);
  const x = a.toFloat64();
  const y = b.toFloat64();
  let bad = 0;
  for (let i = 0; i < x.length; i++) {
    if (Number.isNaN(x[i]!) && Number.isNaN(y[i]!)) continue;
    if (!(Math.abs(x[i]! - y[i]!) <= atol + rtol * Math.abs(y[i]!))) bad++;
  }
  return bad;
}

describe.skipIf(!HAVE_PYTHON_ONNX)('upgrading an opset-11 model to opset 17', () => {
  const dir = tmp();
  const src = join(dir, 'm11.onnx');
  if (HAVE_PYTHON_ONNX) {
    python(`
import sys, numpy as np, onnx
from onnx import helper, TensorProto, numpy_helper
nodes = [
  helper.make_node('Squeeze', ['x'], ['sq'], axes=[1], name='sq'),
  helper.make_node('Softmax', ['x3'], ['sm'], axis=1, name='sm'),
  helper.make_node('Unsqueeze', ['sq'], ['us'], axes=[0, 3], name='us'),
  helper.make_node('Split', ['x3'], ['s0', 's1'], axis=2, split=[1, 3], name='split'),
  helper.make_node('ReduceSum', ['x3'], ['rs'], axes=[-1], keepdims=0, name='rs'),
  helper.make_node('Softmax', ['x3'], ['sm_last'], axis=2, name='sm_last'),
]
g = helper.make_graph(nodes, 'old', [helper.make_tensor_value_info('x', TensorProto.FLOAT, [2, 1, 3]),
    helper.make_tensor_value_info('x3', TensorProto.FLOAT, [2, 3, 4])],
  [helper.make_tensor_value_info(n, TensorProto.FLOAT, s) for n, s in
   [('sm', [2, 3, 4]), ('us', [1, 2, 3, 1]), ('s0', [2, 3, 1]), ('s1', [2, 3, 3]), ('rs', [2, 3]), ('sm_last', [2, 3, 4])]])
m = helper.make_model(g, opset_imports=[helper.make_opsetid('', 11)])
m.ir_version = 6
onnx.checker.check_model(m, full_check=True)
onnx.save(m, sys.argv[1])
`, [src]);
  }

  it('moves attributes to inputs and rewrites coerced-2-D Softmax', async () => {
    const m = await loadModel(src);
    expect(m.sourceOpsets['']).toBe(11);
    expect(m.opsets['']).toBe(17);
    const g = m.graph;
    const sq = g.findNode('sq')!;
    expect(sq.attrs.axes).toBeUndefined();
    expect(sq.inputs[1]!.initializer!.dtype).toBe('int64');
    expect(sq.inputs[1]!.initializer!.toArray()).toEqual([1n]);
    expect(g.findNode('us')!.inputs[1]!.initializer!.toArray()).toEqual([0n, 3n]);
    expect(g.findNode('split')!.inputs[1]!.initializer!.toArray()).toEqual([1n, 3n]);
    const rs = g.findNode('rs')!;
    expect(rs.inputs[1]!.initializer!.toArray()).toEqual([-1n]);
    expect(rs.attrInt('keepdims')).toBe(0);
    // Softmax(axis=1) of a 3-D input: Flatten(axis=1) -> Softmax(-1) -> Reshape(Shape(x3))
    const sm = g.findNode('sm')!;
    expect(sm.attrInt('axis')).toBe(-1);
    expect(sm.inputs[0]!.producer!.op).toBe('Flatten');
    expect(sm.inputs[0]!.producer!.attrInt('axis')).toBe(1);
    const reshape = [...sm.outputs[0]!.consumers][0]!;
    expect(reshape.op).toBe('Reshape');
    expect(reshape.outputs[0]!.name).toBe('sm');
    expect(reshape.inputs[1]!.producer!.op).toBe('Shape');
    expect(g.outputs.find((o) => o.name === 'sm')!.producer).toBe(reshape);
    // the last axis needs no rewrite
    const smLast = g.findNode('sm_last')!;
    expect(smLast.inputs[0]!.name).toBe('x3');
    expect(smLast.outputs[0]!.name).toBe('sm_last');
  });

  it.skipIf(!HAVE_ORT)('computes what onnxruntime computes for the opset-11 original', async () => {
    const m = await loadModel(src);
    const out = join(dir, 'm17.onnx');
    await saveModel(m, out);
    const feeds = new Map([
      ['x', Tensor.fromArray('float32', [2, 1, 3], [1, -2, 3, 0.5, 4, -1])],
      ['x3', Tensor.fromArray('float32', [2, 3, 4], Array.from({ length: 24 }, (_, i) => Math.cos(i * 1.7) * 4))],
    ]);
    const ref = await runWithOnnxRuntime(src, feeds);
    const got = await runWithOnnxRuntime(out, feeds);
    expect([...got.keys()].sort()).toEqual([...ref.keys()].sort());
    for (const [k, t] of ref) expect(close(got.get(k)!, t), k).toBe(0);
  });
});

describe.skipIf(!HAVE_PYTHON_ONNX || !HAVE_ORT)('upgrading attribute-form ops of opsets 6 to 10', () => {
  const dir = tmp();
  const build = (opset: number, body: string): string => {
    const f = join(dir, `o${opset}.onnx`);
    python(`
import sys, numpy as np, onnx
from onnx import helper, TensorProto as T, numpy_helper
F = lambda n, s: helper.make_tensor_value_info(n, T.FLOAT, s)
${body}
g.input.extend([helper.make_tensor_value_info(t.name, t.data_type, list(t.dims)) for t in g.initializer])  # IR 3: initializers are inputs
m = helper.make_model(g, opset_imports=[helper.make_opsetid('', ${opset})])
m.ir_version = 3
onnx.checker.check_model(m)
onnx.save(m, sys.argv[1])
`, [f]);
    return f;
  };
  const cases: [number, string, Record<string, number[]>][] = [
    [9, `
nodes = [
  helper.make_node('TopK', ['x'], ['tv', 'ti'], k=2, axis=1),
  helper.make_node('Slice', ['x'], ['sl'], starts=[0, 1], ends=[1, 9223372036854775807], axes=[0, 1]),
  helper.make_node('Pad', ['x'], ['pc'], pads=[0, 1, 1, 2], value=-3.5),
  helper.make_node('Pad', ['x'], ['pr'], pads=[0, 2, 0, 1], mode='reflect'),
  helper.make_node('Clip', ['x'], ['cl'], min=-0.5, max=0.75),
  helper.make_node('Clip', ['x'], ['cm'], max=0.25),
  helper.make_node('Dropout', ['x'], ['dr'], ratio=0.3),
  helper.make_node('Upsample', ['x4', 'sc'], ['un'], mode='nearest'),
  helper.make_node('Upsample', ['x4', 'sc'], ['ul'], mode='linear'),
  helper.make_node('Softmax', ['x'], ['sm'], axis=0),
  helper.make_node('Scatter', ['x', 'idx', 'upd'], ['sc_out'], axis=1),
]
g = helper.make_graph(nodes, 'g', [F('x', [2, 4]), F('x4', [1, 1, 2, 3])],
  [F('tv', [2, 2]), helper.make_tensor_value_info('ti', T.INT64, [2, 2]), F('sl', [1, 3]), F('pc', [3, 7]), F('pr', [2, 7]), F('cl', [2, 4]),
   F('cm', [2, 4]), F('dr', [2, 4]), F('un', [1, 1, 4, 9]), F('ul', [1, 1, 4, 9]), F('sm', [2, 4]), F('sc_out', [2, 4])],
  initializer=[numpy_helper.from_array(np.array([1, 1, 2, 3], dtype=np.float32), 'sc'),
    numpy_helper.from_array(np.array([[1], [3]], dtype=np.int64), 'idx'), numpy_helper.from_array(np.array([[9.0], [8.0]], dtype=np.float32), 'upd')])
`, { x: [2, 4], x4: [1, 1, 2, 3] }],
    [10, `
nodes = [helper.make_node('Resize', ['x4', 'sc'], ['rn'], mode='nearest'), helper.make_node('Resize', ['x4', 'sc'], ['rl'], mode='linear'),
  helper.make_node('Resize', ['x4', 'down'], ['rd'], mode='nearest')]
g = helper.make_graph(nodes, 'g', [F('x4', [1, 1, 4, 6])], [F('rn', [1, 1, 8, 18]), F('rl', [1, 1, 8, 18]), F('rd', [1, 1, 2, 2])],
  initializer=[numpy_helper.from_array(np.array([1, 1, 2, 3], dtype=np.float32), 'sc'), numpy_helper.from_array(np.array([1, 1, 0.5, 0.4], dtype=np.float32), 'down')])
`, { x4: [1, 1, 4, 6] }],
    [7, `
nodes = [helper.make_node('BatchNormalization', ['x4', 's', 'b', 'm', 'v'], ['bn'], spatial=1, epsilon=1e-3),
  helper.make_node('Add', ['x4', 'bias'], ['ad'])]
C = lambda n, v: numpy_helper.from_array(np.array(v, dtype=np.float32), n)
g = helper.make_graph(nodes, 'g', [F('x4', [1, 2, 2, 3])], [F('bn', [1, 2, 2, 3]), F('ad', [1, 2, 2, 3])],
  initializer=[C('s', [1.5, 0.5]), C('b', [0.1, -0.2]), C('m', [0.3, -1]), C('v', [2, 0.5]), C('bias', [1, 2, 3])])
`, { x4: [1, 2, 2, 3] }],
    [6, `
nodes = [helper.make_node('Add', ['x4', 'ch'], ['ad'], broadcast=1, axis=1), helper.make_node('Mul', ['x4', 'k'], ['mu'], broadcast=1),
  helper.make_node('Gemm', ['a', 'w', 'c'], ['ge'], broadcast=1, transB=1)]
C = lambda n, v: numpy_helper.from_array(np.array(v, dtype=np.float32), n)
g = helper.make_graph(nodes, 'g', [F('x4', [1, 2, 2, 3]), F('a', [2, 3])], [F('ad', [1, 2, 2, 3]), F('mu', [1, 2, 2, 3]), F('ge', [2, 2])],
  initializer=[C('ch', [10, 20]), C('k', [2.0]), C('w', [[1, 2, 3], [4, 5, 6]]), C('c', [0.5, -0.5])])
`, { x4: [1, 2, 2, 3], a: [2, 3] }],
  ];
  for (const [opset, body, inputs] of cases) {
    it(`opset ${opset}: the opset-17 rewrite computes what onnxruntime computes on the original`, async () => {
      const src = build(opset, body);
      const m = await loadModel(src);
      expect(m.sourceOpsets['']).toBe(opset);
      for (const n of m.graph.nodes) {
        for (const a of ['k', 'starts', 'pads', 'min', 'max', 'ratio', 'scales', 'broadcast', 'spatial', 'consumed_inputs']) {
          expect(n.attrs[a], `${n.op} ${n.name} kept ${a}`).toBeUndefined();
        }
        expect(['Upsample', 'Scatter']).not.toContain(n.op);
      }
      const out = join(dir, `o${opset}_17.onnx`);
      await saveModel(m, out);
      const feeds = new Map(Object.entries(inputs).map(([name, shape], j) => {
        const n = shape.reduce((a, b) => a * b, 1);
        return [name, Tensor.fromArray('float32', shape, Array.from({ length: n }, (_, i) => Math.sin(i * 0.9 + j) * 2))] as [string, Tensor];
      }));
      const got = await runWithOnnxRuntime(out, feeds);
      let ref: Map<string, Tensor>;
      if (opset >= 7) {
        ref = await runWithOnnxRuntime(src, feeds);
      } else {
        // onnxruntime has no opset-6 Add: numpy computes the legacy broadcast (channel axis 1) instead
        const r = pythonJson<Record<string, number[]>>(`
import sys, json, numpy as np
x4 = np.array(json.loads(sys.argv[1]), dtype=np.float32).reshape(1, 2, 2, 3)
a = np.array(json.loads(sys.argv[2]), dtype=np.float32).reshape(2, 3)
w = np.array([[1, 2, 3], [4, 5, 6]], dtype=np.float32)
print(json.dumps({'ad': (x4 + np.array([10, 20], dtype=np.float32).reshape(1, 2, 1, 1)).flatten().tolist(),
  'mu': (x4 * 2).flatten().tolist(), 'ge': (a @ w.T + np.array([0.5, -0.5], dtype=np.float32)).flatten().tolist()}))
`, [JSON.stringify(Array.from(feeds.get('x4')!.toFloat64())), JSON.stringify(Array.from(feeds.get('a')!.toFloat64()))]);
        ref = new Map([
          ['ad', Tensor.fromArray('float32', [1, 2, 2, 3], r.ad!)],
          ['mu', Tensor.fromArray('float32', [1, 2, 2, 3], r.mu!)],
          ['ge', Tensor.fromArray('float32', [2, 2], r.ge!)],
        ]);
      }
      expect([...got.keys()].sort()).toEqual([...ref.keys()].sort());
      for (const [k, t] of ref) expect(close(got.get(k)!, t), k).toBe(0);
    });
  }
});

describe.skipIf(!HAVE_PYTHON_ONNX)('upgrading opset 1..5 constructs', () => {
  it('rewrites Cast string types, Reshape shape attributes, Concat default axis and BatchNormalization leftovers', async () => {
    const dir = tmp();
    const src = join(dir, 'o3.onnx');
    python(`
import sys, numpy as np, onnx
from onnx import helper, TensorProto as T, numpy_helper
F = lambda n, s: helper.make_tensor_value_info(n, T.FLOAT, s)
C = lambda n, v: numpy_helper.from_array(np.array(v, dtype=np.float32), n)
nodes = [
  helper.make_node('Cast', ['x'], ['c'], to='INT64', name='cast'),
  helper.make_node('Reshape', ['x'], ['r'], shape=[3, 2], name='reshape'),
  helper.make_node('Concat', ['x', 'x'], ['cc'], name='concat'),
  helper.make_node('BatchNormalization', ['x4', 's', 'b', 'm', 'v'], ['bn', 'm_out', 'v_out', 'sm', 'sv'], is_test=1, spatial=1, consumed_inputs=[0, 0, 0, 1, 1], name='bn'),
  helper.make_node('Relu', ['x'], ['rl'], consumed_inputs=[0], name='relu'),
]
g = helper.make_graph(nodes, 'g', [F('x', [2, 3]), F('x4', [1, 2, 1, 1])], [helper.make_tensor_value_info('c', T.INT64, [2, 3]), F('r', [3, 2]), F('cc', [2, 6]), F('bn', [1, 2, 1, 1]), F('rl', [2, 3])],
  initializer=[C('s', [1, 2]), C('b', [0, 1]), C('m', [0, 0]), C('v', [1, 1])])
m = helper.make_model(g, opset_imports=[helper.make_opsetid('', 3)])
m.ir_version = 3
onnx.save(m, sys.argv[1])
`, [src]);
    const m = await loadModel(src);
    const g = m.graph;
    expect(m.sourceOpsets['']).toBe(3);
    expect(g.findNode('cast')!.attrs.to).toEqual({ kind: 'int', value: 7 });
    const reshape = g.findNode('reshape')!;
    expect(reshape.attrs.shape).toBeUndefined();
    expect(reshape.inputs[1]!.initializer!.toArray()).toEqual([3n, 2n]);
    expect(g.findNode('concat')!.attrInt('axis')).toBe(1);
    const bn = g.findNode('bn')!;
    expect(Object.keys(bn.attrs)).toEqual(['epsilon'].filter((k) => k in bn.attrs));
    expect(bn.outputs.map((o) => o.name)).toEqual(['bn']);
    expect(g.findNode('relu')!.attrs).toEqual({});
    // and the result is a valid opset-17 model
    const out = join(dir, 'o17.onnx');
    await saveModel(m, out);
    expect(python('import sys, onnx; onnx.checker.check_model(onnx.load(sys.argv[1]), full_check=True); print("ok")', [out]).trim()).toBe('ok');
  });
});

describe.skipIf(!HAVE_PYTHON_ONNX || !HAVE_ORT)('importing opset 18 (newer than canonical)', () => {
  it('turns axes inputs back into attributes and num_outputs into split sizes', async () => {
    const dir = tmp();
    const src = join(dir, 'o18.onnx');
    python(`
import sys, numpy as np, onnx
from onnx import helper, TensorProto as T, numpy_helper
F = lambda n, s: helper.make_tensor_value_info(n, T.FLOAT, s)
I = lambda name, v: numpy_helper.from_array(np.array(v, dtype=np.int64), name)
nodes = [
  helper.make_node('ReduceMean', ['x', 'ax'], ['rm'], keepdims=1, name='rm'),
  helper.make_node('ReduceMax', ['x'], ['rx'], keepdims=0, name='rx'),
  helper.make_node('ReduceMin', ['x', 'empty'], ['rl'], noop_with_empty_axes=1, name='rl'),
  helper.make_node('Split', ['x'], ['s0', 's1', 's2'], axis=1, num_outputs=3, name='split'),
  helper.make_node('Pad', ['x', 'pads', 'pv', 'pax'], ['pd'], name='pad'),
]
g = helper.make_graph(nodes, 'g', [F('x', [2, 8])], [F('rm', [2, 1]), F('rx', []), F('rl', [2, 8]), F('s0', [2, 3]), F('s1', [2, 3]), F('s2', [2, 2]), F('pd', [2, 11])],
  initializer=[I('ax', [-1]), I('empty', []), I('pads', [1, 2]), I('pax', [1]), numpy_helper.from_array(np.array(-1.5, dtype=np.float32), 'pv')])
m = helper.make_model(g, opset_imports=[helper.make_opsetid('', 18)])
m.ir_version = 8
onnx.save(m, sys.argv[1])
`, [src]);
    const m = await loadModel(src);
    expect(m.sourceOpsets['']).toBe(18);
    const g = m.graph;
    expect(g.findNode('rm')!.attrInts('axes')).toEqual([-1]);
    expect(g.findNode('rm')!.inputs.length).toBe(1);
    expect(g.findNode('rl')!.op).toBe('Identity');
    expect(g.findNode('split')!.inputs[1]!.initializer!.toArray()).toEqual([3n, 3n, 2n]);
    expect(g.findNode('pad')!.inputs[1]!.initializer!.toArray()).toEqual([0n, 1n, 0n, 2n]);
    const out = join(dir, 'o17.onnx');
    await saveModel(m, out);
    const feeds = new Map([['x', Tensor.fromArray('float32', [2, 8], Array.from({ length: 16 }, (_, i) => Math.cos(i) * 5))]]);
    const ref = await runWithOnnxRuntime(src, feeds);
    const got = await runWithOnnxRuntime(out, feeds);
    for (const [k, t] of ref) expect(close(got.get(k)!, t), k).toBe(0);
  });
});

/** Old-opset backend cases (PyTorch exports at opset 6 and node tests below 13). */
function oldCases(): string[] {
  const out: string[] = [];
  for (const sub of ['pytorch-converted', 'pytorch-operator', 'node']) {
    const d = join(ONNX_TESTDATA, sub);
    if (!existsSync(d)) continue;
    for (const c of readdirSync(d)) {
      const dir = join(d, c);
      if (!existsSync(join(dir, 'test_data_set_0'))) continue;
      const mp = decodeOnnxBytes(new Uint8Array(readFileSync(join(dir, 'model.onnx'))));
      const v = mp.opsetImport.find((o) => o.domain === '' || o.domain === 'ai.onnx')?.version;
      if (v !== undefined && v < 13) out.push(dir);
    }
  }
  return out;
}

describe.skipIf(!existsSync(ONNX_TESTDATA) || !HAVE_ORT)('old-opset ONNX backend cases after the upgrade', () => {
  it('read, upgraded and written at opset 17, give the recorded outputs in onnxruntime', async () => {
    const cases = oldCases();
    expect(cases.length).toBeGreaterThan(100);
    const dir = tmp();
    let checked = 0;
    const failures: string[] = [];
    const refused: string[] = [];
    for (const c of cases) {
      const ds = join(c, 'test_data_set_0');
      const files = readdirSync(ds);
      const inputs = files.filter((f) => f.startsWith('input_')).sort();
      const outputs = files.filter((f) => f.startsWith('output_')).sort();
      let feedsAll: Tensor[];
      let expected: Tensor[];
      try {
        feedsAll = inputs.map((f) => decodeTensorProto(readFileSync(join(ds, f))));
        expected = outputs.map((f) => decodeTensorProto(readFileSync(join(ds, f))));
      } catch {
        continue; // sequence/optional test data: not tensors
      }
      if (expected.some((t) => t.dtype === 'string')) continue;
      let m;
      try {
        m = await loadModel(join(c, 'model.onnx'));
      } catch (e) {
        expect(e).toBeInstanceOf(MconvError);
        expect((e as MconvError).kind).toBe('unsupported');
        refused.push(c);
        continue;
      }
      expect(m.opsets['']).toBe(17);
      const feeds = new Map(m.graph.inputs.map((v, i) => [v.name, feedsAll[i]!] as [string, Tensor]));
      // only cases onnxruntime itself gets right on the original file
      let ref: Map<string, Tensor>;
      try {
        ref = await runWithOnnxRuntime(join(c, 'model.onnx'), feeds);
      } catch {
        continue;
      }
      const origOk = m.graph.outputs.every((o, i) => close(ref.get(o.name)!, expected[i]!, 1e-4, 1e-3) === 0);
      if (!origOk) continue;
      const out = join(dir, `${c.split('/').pop()}.onnx`);
      await saveModel(m, out);
      const got = await runWithOnnxRuntime(out, feeds);
      m.graph.outputs.forEach((o, i) => {
        if (close(got.get(o.name)!, expected[i]!, 1e-4, 1e-3) !== 0) failures.push(`${c}: ${o.name}`);
      });
      checked++;
    }
    expect(failures).toEqual([]);
    expect(checked).toBeGreaterThan(100);
    // the only refusals are the documented ones
    for (const r of refused) expect(r).toMatch(/tf_half_pixel_for_nn|scan_sum/);
  });

  it('names node and op when an old construct has no opset-17 form', async () => {
    const f = join(ONNX_TESTDATA, 'node/test_resize_downsample_sizes_nearest_tf_half_pixel_for_nn/model.onnx');
    if (!existsSync(f)) return;
    try {
      await loadModel(f);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(MconvError);
      const err = e as MconvError;
      expect(err.kind).toBe('unsupported');
      expect(err.oneLine()).toMatch(/Resize from opset 11: coordinate_transformation_mode 'tf_half_pixel_for_nn'.*\[at node /);
    }
  });
});
