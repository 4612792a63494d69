/**
 * Decoding TensorFlow protobufs with our .proto files: every GraphDef `.pb`, `.meta` and
 * `saved_model.pb` of ../shared/fixtures/real decodes, with the same nodes (name, op, input count),
 * functions (name, node count), tags and Const tensors (dtype, shape, sum of tensor_content floats,
 * typed float values) as an independent protobuf wire walker written in Python here. Plus the
 * TensorProto rules (tensor_content, typed lists, broadcasting of a short list) on messages built
 * with protobufjs, and the values SOURCE.md states for the regression model.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  decodeGraphDef, decodeMetaGraph, decodeSavedModel, tensorFromProto, tfMessage, tfProtoDir, TfProtoError, type PMsg,
} from '../../../src/formats/tf/proto.js';
import type { TfGraph } from '../../../src/formats/tf/tf-graph.js';
import { float16ToFloat32 } from '../../../src/ir/tensor.js';
import { PY, SHARED, hasPython } from '../../helpers/cli.js';

/** Wire-level walk of GraphDef / MetaGraphDef / SavedModel; prints JSON. */
const PY_WALK = `
import sys, json, struct
def varint(b, p):
    r = s = 0
    while True:
        x = b[p]; p += 1
        r |= (x & 0x7f) << s; s += 7
        if x < 0x80: return r, p
def fields(b):
    p = 0; out = []
    while p < len(b):
        k, p = varint(b, p); f, w = k >> 3, k & 7
        if w == 0: v, p = varint(b, p)
        elif w == 1: v = b[p:p + 8]; p += 8
        elif w == 5: v = b[p:p + 4]; p += 4
        elif w == 2:
            n, p = varint(b, p); v = b[p:p + n]; p += n
        else: raise Exception('wire type %d' % w)
        out.append((f, w, v))
    return out
def get(b, f): return [v for (ff, w, v) in fields(b) if ff == f]
def one(b, f, d=None):
    v = get(b, f); return v[-1] if v else d
def tensor(t):
    dt = one(t, 1, 0)
    shp = one(t, 2)
    dims = [] if shp is None else [one(d, 1, 0) for d in get(shp, 2)]
    dims = [d - (1 << 64) if d >= (1 << 63) else d for d in dims]
    r = {'dtype': dt, 'shape': dims}
    c = one(t, 4)
    if c is not None and dt == 1: r['content_sum'] = sum(struct.unpack('<%df' % (len(c) // 4), c))
    fv = []
    for v in get(t, 5):
        fv += list(struct.unpack('<%df' % (len(v) // 4), v)) if isinstance(v, bytes) else []
    if fv: r['float_val'] = fv
    return r
def node(n):
    attrs = {}
    for e in get(n, 5):
        k = one(e, 1).decode(); v = one(e, 2)
        if k == 'value' and v is not None and one(v, 8) is not None: attrs['value'] = tensor(one(v, 8))
    return [one(n, 1, b'').decode(), one(n, 2, b'').decode(), len(get(n, 3)), attrs]
def graph(g):
    fns = []
    lib = one(g, 2)
    if lib is not None:
        for f in get(lib, 1):
            sig = one(f, 1)
            fns.append([one(sig, 1, b'').decode() if sig is not None else '', len(get(f, 3))])
    return {'nodes': [node(n) for n in get(g, 1)], 'functions': fns}
def meta(m):
    info = one(m, 1)
    tags = [t.decode() for t in get(info, 4)] if info is not None else []
    g = one(m, 2)
    r = graph(g) if g is not None else {'nodes': [], 'functions': []}
    r['tags'] = tags
    return r
kind, path = sys.argv[1], sys.argv[2]
b = open(path, 'rb').read()
if kind == 'graph': out = [graph(b)]
elif kind == 'meta': out = [meta(b)]
else: out = [meta(m) for m in get(b, 2)]
print(json.dumps(out))
`;

interface PyTensor {
  dtype: number;
  shape: number[];
  content_sum?: number;
  float_val?: number[];
}
interface PyGraph {
  nodes: [string, string, number, { value?: PyTensor }][];
  functions: [string, number][];
  tags?: string[];
}

function walk(kind: 'graph' | 'meta' | 'saved', file: string): PyGraph[] {
  return JSON.parse(execFileSync(PY, ['-c', PY_WALK, kind, file], { encoding: 'utf8', maxBuffer: 1 << 28 })) as PyGraph[];
}

function compareGraph(ours: TfGraph, theirs: PyGraph): void {
  expect(ours.nodes.map((n) => [n.name, n.op, n.inputs.length])).toEqual(theirs.nodes.map((n) => [n[0], n[1], n[2]]));
  expect(ours.functions.map((f) => [f.name, f.nodes.length])).toEqual(theirs.functions);
  theirs.nodes.forEach(([name, , , attrs], i) => {
    const want = attrs.value;
    const got = ours.nodes[i]!.attr.value?.tensor;
    if (!want) return;
    // Resource / variant constants are not IR tensors.
    if (want.dtype === 20 || want.dtype === 21) return;
    expect(got, `${name}: value tensor`).toBeDefined();
    expect(got!.shape, name).toEqual(want.shape);
    if (want.content_sum !== undefined) {
      const sum = got!.toFloat64().reduce((a, v) => a + v, 0);
      expect(Math.abs(sum - want.content_sum), name).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(want.content_sum)) + 1e-3);
    }
    if (want.float_val) {
      const vals = got!.toFloat64();
      const fv = want.float_val;
      for (let k = 0; k < vals.length; k++) expect(vals[k], `${name}[${k}]`).toBeCloseTo(fv[Math.min(k, fv.length - 1)]!, 5);
    }
  });
}

const REAL = join(SHARED, 'real');
const GRAPHDEFS = [
  'tf2onnx-ae0/frozen.pb', 'tf2onnx-fc-layers/frozen.pb', 'tf2onnx-gru/frozen.pb', 'tf2onnx-lstm/frozen.pb',
  'tf2onnx-regression/graphdef/frozen.pb', 'mlnet-cifar-frozen-and-ckpt/frozen_model.pb',
  'mlnet-cifar-frozen-and-ckpt/frozen_model_variadic_input_shape.pb', 'mlnet-matmul/frozen_saved_model.pb',
];
const METAS = ['tf2onnx-regression/checkpoint/model.meta', 'mlnet-cifar-frozen-and-ckpt/model.ckpt.meta', 'tfserving-half-plus-two-legacy-sessionbundle/00000123/export.meta'];

function savedModels(): string[] {
  if (!existsSync(REAL)) return [];
  const out = execFileSync('find', [REAL, '-name', 'saved_model.pb'], { encoding: 'utf8' }).trim().split('\n');
  return out.filter(Boolean).map((p) => p.slice(REAL.length + 1)).sort();
}

describe.skipIf(!existsSync(REAL) || !hasPython())('TF protobufs of the real fixtures against a wire walker', () => {
  if (!existsSync(REAL)) console.log(`skipped: ${REAL} is absent`);
  for (const rel of GRAPHDEFS) {
    it(`GraphDef ${rel}`, () => {
      const file = join(REAL, rel);
      const g = decodeGraphDef(new Uint8Array(readFileSync(file)));
      expect(g.nodes.length).toBeGreaterThan(0);
      compareGraph(g, walk('graph', file)[0]!);
    });
  }
  for (const rel of METAS) {
    it(`MetaGraphDef ${rel}`, () => {
      const file = join(REAL, rel);
      const m = decodeMetaGraph(new Uint8Array(readFileSync(file)));
      const [theirs] = walk('meta', file);
      expect(m.tags).toEqual(theirs!.tags);
      compareGraph(m.graph, theirs!);
    });
  }
  const sms = savedModels();
  it('finds the SavedModels', () => expect(sms.length).toBeGreaterThanOrEqual(17));
  for (const rel of sms) {
    it(`SavedModel ${rel}`, () => {
      const file = join(REAL, rel);
      const sm = decodeSavedModel(new Uint8Array(readFileSync(file)));
      const theirs = walk('saved', file);
      expect(sm.metaGraphs.length).toBe(theirs.length);
      sm.metaGraphs.forEach((m, i) => {
        expect(m.tags).toEqual(theirs[i]!.tags);
        compareGraph(m.graph, theirs[i]!);
      });
    });
  }

  it('the regression model: the frozen W and b are the checkpoint values SOURCE.md states', () => {
    const g = decodeGraphDef(new Uint8Array(readFileSync(join(REAL, 'tf2onnx-regression/graphdef/frozen.pb'))));
    const value = (name: string): number => g.nodes.find((n) => n.name === name)!.attr.value!.tensor!.toFloat64()[0]!;
    expect(value('W')).toBeCloseTo(0.21396178, 7);
    expect(value('b')).toBeCloseTo(1.0495254, 7);
    expect(g.nodes.map((n) => n.op)).toEqual(expect.arrayContaining(['Placeholder', 'Mul', 'Add', 'Identity']));
  });

  it('the mlnet-matmul SavedModel: signature a, b -> c (BatchMatMul), no variables', () => {
    const sm = decodeSavedModel(new Uint8Array(readFileSync(join(REAL, 'mlnet-matmul/saved_model.pb'))));
    const m = sm.metaGraphs[0]!;
    expect(m.tags).toEqual(['serve']);
    const s = m.signatures.serving_default!;
    expect(Object.fromEntries(Object.entries(s.inputs).map(([k, v]) => [k, v.name]))).toEqual({ a: 'a:0', b: 'b:0' });
    expect(s.outputs.c!.name).toBe('c:0');
    expect(s.inputs.a!.shape).toEqual([-1, 2, 2]);
    expect(m.graph.nodes.find((n) => n.name === 'c')!.op).toBe('BatchMatMul');
  });

  it('a TF2 SavedModel: object graph, bound inputs, functions', () => {
    const sm = decodeSavedModel(new Uint8Array(readFileSync(join(REAL, 'tfjs-node-savedmodels/times_three_float/saved_model.pb'))));
    const m = sm.metaGraphs[0]!;
    const og = m.objectGraph!;
    const variable = og.nodes.find((n) => n.kind === 'variable')!;
    expect(variable.variable).toMatchObject({ dtype: 1, shape: [], trainable: true });
    const call = m.graph.nodes.find((n) => n.name === 'StatefulPartitionedCall')!;
    const fn = call.attr.f!.func!.name;
    expect(m.graph.functions.map((f) => f.name)).toContain(fn);
    expect(og.boundInputs[fn]).toEqual([og.nodes.indexOf(variable)]);
    expect(m.saver?.version).toBe(2);
  });

  it('corrupt bytes are a TfProtoError, not a crash', () => {
    const bytes = new Uint8Array(readFileSync(join(REAL, 'tf2onnx-ae0/frozen.pb')));
    expect(() => decodeGraphDef(bytes.subarray(0, 1000))).toThrow(TfProtoError);
  });
});

describe('TensorProto to IR tensors', () => {
  const T = (): ReturnType<typeof tfMessage> => tfMessage('TensorProto');
  const decoded = (obj: Record<string, unknown>): PMsg => T().decode(T().encode(T().fromObject(obj)).finish()) as unknown as PMsg;
  const shape = (...dims: number[]): Record<string, unknown> => ({ dim: dims.map((size) => ({ size })) });

  it('finds its .proto files', () => {
    expect(existsSync(join(tfProtoDir(), 'graph.proto'))).toBe(true);
  });

  it('reads tensor_content as little-endian bytes', () => {
    const raw = new Uint8Array(new Float32Array([1.5, -2, 3.25, 4]).buffer);
    const t = tensorFromProto(decoded({ dtype: 1, tensorShape: shape(2, 2), tensorContent: raw }));
    expect(t.dtype).toBe('float32');
    expect(t.shape).toEqual([2, 2]);
    expect([...t.toFloat64()]).toEqual([1.5, -2, 3.25, 4]);
  });

  it('broadcasts a short typed list by repeating its last value', () => {
    const t = tensorFromProto(decoded({ dtype: 1, tensorShape: shape(2, 3), floatVal: [1, 2] }));
    expect([...t.toFloat64()]).toEqual([1, 2, 2, 2, 2, 2]);
    const z = tensorFromProto(decoded({ dtype: 3, tensorShape: shape(3) }));
    expect([...z.toFloat64()]).toEqual([0, 0, 0]);
    const big = tensorFromProto(decoded({ dtype: 1, tensorShape: shape(100, 100), floatVal: [0.5] }));
    expect(big.isMaterialised).toBe(false);
    expect(big.toFloat64().every((v) => v === 0.5)).toBe(true);
  });

  it('reads int64, bool, int8, half, double and string lists', () => {
    const i64 = tensorFromProto(decoded({ dtype: 9, tensorShape: shape(2), int64Val: ['-9007199254740993', '5'] }));
    expect(i64.toArray()).toEqual([-9007199254740993n, 5n]);
    expect(tensorFromProto(decoded({ dtype: 10, tensorShape: shape(3), boolVal: [true, false] })).toArray()).toEqual([1, 0, 0]);
    expect(tensorFromProto(decoded({ dtype: 6, tensorShape: shape(2), intVal: [-5, 7] })).toArray()).toEqual([-5, 7]);
    const h = tensorFromProto(decoded({ dtype: 19, tensorShape: shape(2), halfVal: [0x3c00, 0xc000] }));
    expect(h.dtype).toBe('float16');
    expect([...(h.view() as Uint16Array)].map(float16ToFloat32)).toEqual([1, -2]);
    expect(tensorFromProto(decoded({ dtype: 2, tensorShape: shape(1), doubleVal: [0.1] })).toArray()).toEqual([0.1]);
    const s = tensorFromProto(decoded({ dtype: 7, tensorShape: shape(2), stringVal: [new TextEncoder().encode('ab'), new TextEncoder().encode('c')] }));
    expect(s.stringValues()).toEqual(['ab', 'c']);
    // A scalar: empty shape.
    expect(tensorFromProto(decoded({ dtype: 1, floatVal: [7] })).shape).toEqual([]);
  });

  it('refuses inconsistent tensors with a message', () => {
    expect(() => tensorFromProto(decoded({ dtype: 1, tensorShape: shape(3), tensorContent: new Uint8Array(8) }))).toThrow(/tensor_content has 8 bytes/);
    expect(() => tensorFromProto(decoded({ dtype: 1, tensorShape: shape(1), floatVal: [1, 2] }))).toThrow(/2 values for shape/);
    expect(() => tensorFromProto(decoded({ dtype: 21, tensorShape: shape(1) }))).toThrow(/DT_VARIANT/);
  });
});
