/**
 * The reader walks only ModelProto, GraphProto and tensor payloads itself; nodes, attributes, value
 * infos and tensor headers are decoded by onnx-proto. These tests show that (by watching onnx-proto's
 * decoders while a model is read), that fields unknown to the schema are skipped, and that an
 * onnx-proto decoding failure is reported as an MconvError at the right byte of the file.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import onnxProto from 'onnx-proto';
import { loadModel, saveModel } from '../../../src/formats/registry.js';
import { MconvError } from '../../../src/errors.js';
import { HAVE_PYTHON_ONNX, hex, python, pythonJson } from './helpers.js';

const { onnx } = onnxProto;
const tmp = (): string => mkdtempSync(join(tmpdir(), 'mconv-protodec-'));

/** Protobuf framing for the hand-made files below: key, varint, length-delimited field. */
const varint = (v: number): number[] => {
  const out: number[] = [];
  while (v >= 0x80) {
    out.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  out.push(v);
  return out;
};
const lenField = (field: number, body: Uint8Array | number[]): number[] => [...varint(field * 8 + 2), ...varint(body.length), ...body];

/** A ModelProto (IR 8, opset 17) around a graph whose node list is given as raw NodeProto bytes. */
function modelWithRawNodes(nodes: number[][]): Uint8Array {
  const rest = onnx.GraphProto.encode({
    name: 'g',
    input: [{ name: 'x', type: { tensorType: { elemType: 1, shape: { dim: [{ dimValue: 3 }] } } } }],
    output: [{ name: 'y', type: { tensorType: { elemType: 1, shape: { dim: [{ dimValue: 3 }] } } } }],
  }).finish();
  const graph = [...nodes.flatMap((n) => lenField(1, n)), ...rest];
  const head = onnx.ModelProto.encode({ irVersion: 8, opsetImport: [{ domain: '', version: 17 }] }).finish();
  return Uint8Array.from([...head, ...lenField(7, graph)]);
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe.skipIf(!HAVE_PYTHON_ONNX)('nodes, attributes and tensor headers go through onnx-proto', () => {
  it('every node and attribute of a model with subgraphs goes through onnx.NodeProto/AttributeProto.decode', async () => {
    const file = join(tmp(), 'if.onnx');
    const expected = pythonJson<{ ops: string[]; attributes: number; attrs: Record<string, unknown> }>(`
import sys, json, numpy as np, onnx
from onnx import helper, numpy_helper, TensorProto
then = helper.make_graph([helper.make_node('LeakyRelu', ['x'], ['t1'], alpha=0.25),
                          helper.make_node('Identity', ['t1'], ['ty'])], 'then_g', [], [helper.make_tensor_value_info('ty', TensorProto.FLOAT, [3])])
other = helper.make_graph([helper.make_node('Constant', [], ['ey'], value=numpy_helper.from_array(np.array([1.5, -2, 3], dtype=np.float32)))],
                          'else_g', [], [helper.make_tensor_value_info('ey', TensorProto.FLOAT, [3])])
nodes = [
  helper.make_node('ReduceSum', ['x'], ['s'], keepdims=0, noop_with_empty_axes=0, name='sum'),
  helper.make_node('Greater', ['s', 'zero'], ['c']),
  helper.make_node('If', ['c'], ['y'], then_branch=then, else_branch=other, name='branch'),
  helper.make_node('Cast', ['x'], ['xi'], to=TensorProto.INT64, name='cast'),
  helper.make_node('Pad', ['xi', 'pads'], ['padded'], mode='constant', name='pad'),
]
g = helper.make_graph(nodes, 'main', [helper.make_tensor_value_info('x', TensorProto.FLOAT, [3])],
  [helper.make_tensor_value_info('y', TensorProto.FLOAT, [3]), helper.make_tensor_value_info('padded', TensorProto.INT64, [5])],
  initializer=[numpy_helper.from_array(np.array(0, dtype=np.float32), 'zero'), numpy_helper.from_array(np.array([1, 1], dtype=np.int64), 'pads')])
m = helper.make_model(g, opset_imports=[helper.make_opsetid('', 17)])
onnx.checker.check_model(m, full_check=True)
onnx.save(m, sys.argv[1])
ops, count = [], 0
def walk(graph):
    global count
    for n in graph.node:
        ops.append(n.op_type)
        for a in n.attribute:
            count += 1
            if a.type == onnx.AttributeProto.GRAPH: walk(a.g)
walk(m.graph)
attrs = {a.name: helper.get_attribute_value(a) for n in m.graph.node for a in n.attribute if a.type in (1, 2, 3)}
print(json.dumps({'ops': sorted(ops), 'attributes': count, 'attrs': {k: v.decode() if isinstance(v, bytes) else v for k, v in attrs.items()}}))
`, [file]);
    const nodeDecode = vi.spyOn(onnx.NodeProto, 'decode');
    const attrDecode = vi.spyOn(onnx.AttributeProto, 'decode');
    const m = await loadModel(file);
    expect(nodeDecode).toHaveBeenCalledTimes(expected.ops.length);
    expect(nodeDecode.mock.results.map((r) => (r.value as { opType: string }).opType).sort()).toEqual(expected.ops);
    expect(attrDecode).toHaveBeenCalledTimes(expected.attributes);
    // and what they decoded is what onnx (python) sees
    const byName = Object.fromEntries(m.graph.nodes.map((n) => [n.name, n]));
    expect(byName.sum!.attrInt('keepdims')).toBe(expected.attrs.keepdims);
    expect(byName.cast!.attrInt('to')).toBe(expected.attrs.to);
    expect(byName.pad!.attrString('mode')).toBe(expected.attrs.mode);
    const then = byName.branch!.attrGraph('then_branch')!;
    expect(then.nodes.map((n) => n.op)).toEqual(['LeakyRelu', 'Identity']);
    expect(then.nodes[0]!.attrFloat('alpha')).toBe(0.25);
    const value = byName.branch!.attrGraph('else_branch')!.nodes[0]!.attrTensor('value')!;
    expect(Array.from(value.toFloat64())).toEqual([1.5, -2, 3]);
  });

  it('skips fields the schema does not know, in NodeProto and in AttributeProto, as onnx does', async () => {
    const unknown = [
      ...lenField(99, new TextEncoder().encode('a field from the future')),
      ...varint(1000 * 8 + 0), ...varint(7),
      ...varint(77 * 8 + 1), 1, 2, 3, 4, 5, 6, 7, 8,
      ...varint(78 * 8 + 5), 9, 9, 9, 9,
    ];
    const attr = [...onnx.AttributeProto.encode({ name: 'alpha', f: 0.125, type: onnx.AttributeProto.AttributeType.FLOAT }).finish(), ...unknown];
    const node = [
      ...onnx.NodeProto.encode({ input: ['x'], output: ['y'], name: 'leaky', opType: 'LeakyRelu' }).finish(),
      ...unknown,
      ...lenField(5, attr),
      ...unknown,
    ];
    const file = join(tmp(), 'unknown-fields.onnx');
    writeFileSync(file, modelWithRawNodes([node]));
    // onnx itself accepts the file and sees the same node
    const py = pythonJson<{ op: string; name: string; alpha: number }>(`
import sys, json, onnx
m = onnx.load(sys.argv[1])
onnx.checker.check_model(m, full_check=True)
n = m.graph.node[0]
print(json.dumps({'op': n.op_type, 'name': n.name, 'alpha': onnx.helper.get_attribute_value(n.attribute[0])}))
`, [file]);
    // (format detection reads node fields in the file's head strictly: it would not take this file)
    const m = await loadModel(file, { format: 'onnx' });
    const n = m.graph.nodes[0]!;
    expect([n.op, n.name, n.attrFloat('alpha')]).toEqual([py.op, py.name, py.alpha]);
    expect(n.inputs[0]).toBe(m.graph.inputs[0]);
    expect(n.outputs[0]).toBe(m.graph.outputs[0]);
  });

  it('reports a node onnx-proto cannot decode as unreadable, at the byte where decoding failed', async () => {
    // AttributeProto.floats, packed, with 6 bytes: one float (1.5) and 2 stray bytes
    const payload = [0x00, 0x00, 0xc0, 0x3f, 0xab, 0xcd];
    const attr = [...onnx.AttributeProto.encode({ name: 'scales', type: onnx.AttributeProto.AttributeType.FLOATS }).finish(), ...lenField(7, payload)];
    const node = [...onnx.NodeProto.encode({ input: ['x'], output: ['y'], opType: 'Custom' }).finish(), ...lenField(5, attr)];
    const bytes = modelWithRawNodes([node]);
    const file = join(tmp(), 'bad-floats.onnx');
    writeFileSync(file, bytes);
    const payloadAt = Buffer.from(bytes).indexOf(Buffer.from(payload));
    expect(payloadAt).toBeGreaterThan(0);
    // onnx (python protobuf) refuses the file too
    expect(python(`
import sys, onnx
try:
    onnx.load(sys.argv[1]); print('loaded')
except Exception:
    print('refused')
`, [file]).trim()).toBe('refused');
    try {
      await loadModel(file);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(MconvError);
      const err = e as MconvError;
      expect(err.kind).toBe('unreadable');
      expect(err.format).toBe('onnx');
      expect(err.file).toBe(file);
      expect(err.message).toMatch(/invalid AttributeProto: index out of range/);
      // the second float would start 4 bytes into the payload, past its end
      expect(err.where).toBe(`byte ${payloadAt + 4}`);
    }
    expect(readFileSync(file).byteLength).toBe(bytes.byteLength);
  });

  it('reads large typed-field initializers (float_data, int64_data, uint64_data) lazily and exactly', async () => {
    const file = join(tmp(), 'typed.onnx');
    const expected = pythonJson<Record<string, string>>(`
import sys, json, numpy as np, onnx
from onnx import helper, TensorProto
n = 40000
i64 = np.arange(n, dtype=np.int64) * 7919 - 99
i64[:4] = [-2**63, 2**63 - 1, 2**53 + 1, -(2**53) - 3]
u64 = np.arange(n, dtype=np.uint64) * np.uint64(2**40 + 17)
u64[0] = 2**64 - 1
f32 = (np.sin(np.arange(n)) * 1e3).astype(np.float32)
inits = [helper.make_tensor('i64', TensorProto.INT64, [n], i64.tolist()),
         helper.make_tensor('u64', TensorProto.UINT64, [n], u64.tolist()),
         helper.make_tensor('f32', TensorProto.FLOAT, [n], f32.tolist())]
for t in inits: assert not t.raw_data
nodes = [helper.make_node('Identity', [k], [k + '_out']) for k in ('i64', 'u64', 'f32')]
outs = [helper.make_tensor_value_info(k + '_out', t, [n]) for k, t in (('i64', 7), ('u64', 13), ('f32', 1))]
onnx.save(helper.make_model(helper.make_graph(nodes, 'g', [], outs, initializer=inits), opset_imports=[helper.make_opsetid('', 17)]), sys.argv[1])
print(json.dumps({'i64': i64.astype('<i8').tobytes().hex(), 'u64': u64.astype('<u8').tobytes().hex(), 'f32': f32.astype('<f4').tobytes().hex()}))
`, [file]);
    const m = await loadModel(file);
    for (const name of ['i64', 'u64', 'f32']) {
      const t = m.graph.initializers.get(name)!.initializer!;
      expect(t.isMaterialised, name).toBe(false);
      expect(hex(t.bytes), name).toBe(expected[name]);
    }
    const i64 = m.graph.initializers.get('i64')!.initializer!.toArray().slice(0, 4);
    expect(i64).toEqual([-(2n ** 63n), 2n ** 63n - 1n, 2n ** 53n + 1n, -(2n ** 53n) - 3n]);
  });

  it('writes attributes with onnx-proto that onnx reads back exactly, int64 extremes included', async () => {
    const dir = tmp();
    const src = join(dir, 'attrs.onnx');
    const out = join(dir, 'attrs_out.onnx');
    const DUMP = `
import sys, json, onnx
from onnx import helper, numpy_helper
m = onnx.load(sys.argv[1])
n = m.graph.node[0]
def val(a):
    v = helper.get_attribute_value(a)
    if a.type == onnx.AttributeProto.TENSOR: return [str(x) for x in numpy_helper.to_array(v).flatten()]
    if isinstance(v, bytes): return v.decode()
    if isinstance(v, list): return [x.decode() if isinstance(x, bytes) else str(x) for x in v]
    return str(v)
print(json.dumps({a.name: [a.type, val(a)] for a in n.attribute}))
`;
    python(`
import sys, numpy as np, onnx
from onnx import helper, numpy_helper, TensorProto
big = numpy_helper.from_array(np.array([-2**63, 2**63 - 1, 2**53 + 1], dtype=np.int64), 'k')
node = helper.make_node('Custom', ['x'], ['y'], domain='my.domain', name='c', i=-7, big_i=2**63 - 1, f=0.1,
    ints=[1, -2, 2**63 - 1, -2**63], floats=[1.5, -0.3], s='héllo', strings=['a', ''], t=big)
g = helper.make_graph([node], 'g', [helper.make_tensor_value_info('x', TensorProto.FLOAT, [2])], [helper.make_tensor_value_info('y', TensorProto.FLOAT, [2])])
onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid('', 17), helper.make_opsetid('my.domain', 1)]), sys.argv[1])
`, [src]);
    const attrEncode = vi.spyOn(onnx.AttributeProto, 'encode');
    await saveModel(await loadModel(src), out);
    expect(attrEncode).toHaveBeenCalled();
    const before = pythonJson<Record<string, unknown>>(DUMP, [src]);
    const after = pythonJson<Record<string, unknown>>(DUMP, [out]);
    expect(Object.keys(after).sort()).toEqual(Object.keys(before).sort());
    // int attributes are numbers in the IR: INT64_MIN/MAX come back exactly, 2^53 + 1 only as a tensor value
    expect(after).toEqual(before);
  });
});
