/**
 * Text-format GraphDefs (`.pbtxt`): frozen graphs of ../shared/fixtures/real written as text by an
 * independent protobuf-to-text writer in Python (wire walk + field names, escapes, enum names,
 * packed lists written as repeated fields) parse to the same TfGraph as the binary file; plus the
 * text-format syntax on hand-written snippets and the errors.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeGraphDef, TfProtoError } from '../../../src/formats/tf/proto.js';
import { decodeGraphDefText, looksLikeGraphDefText } from '../../../src/formats/tf/proto-text.js';
import type { TfGraph } from '../../../src/formats/tf/tf-graph.js';
import { loadModel } from '../../../src/formats/registry.js';
import { PY, SHARED, hasPython } from '../../helpers/cli.js';

const PY_TO_TEXT = `
import sys, struct
DT = {1:'DT_FLOAT',2:'DT_DOUBLE',3:'DT_INT32',4:'DT_UINT8',5:'DT_INT16',6:'DT_INT8',7:'DT_STRING',9:'DT_INT64',10:'DT_BOOL',19:'DT_HALF',20:'DT_RESOURCE'}
def varint(b, p):
    r = s = 0
    while True:
        x = b[p]; p += 1
        r |= (x & 0x7f) << s; s += 7
        if x < 0x80: return r, p
def fields(b):
    p = 0
    while p < len(b):
        k, p = varint(b, p); f, w = k >> 3, k & 7
        if w == 0: v, p = varint(b, p)
        elif w == 1: v = b[p:p + 8]; p += 8
        elif w == 5: v = b[p:p + 4]; p += 4
        else:
            n, p = varint(b, p); v = b[p:p + n]; p += n
        yield f, w, v
def esc(b):
    out = []
    for x in b:
        if x == 0x22: out.append('\\\\"')
        elif x == 0x5c: out.append('\\\\\\\\')
        elif x == 10: out.append('\\\\n')
        elif 0x20 <= x < 0x7f: out.append(chr(x))
        else: out.append('\\\\%03o' % x)
    return '"' + ''.join(out) + '"'
def s64(v): return v - (1 << 64) if v >= (1 << 63) else v
def packed(w, v, kind):
    if w != 2:
        return [v]
    out = []; p = 0
    if kind == 'f':
        return list(struct.unpack('<%df' % (len(v) // 4), v))
    if kind == 'd':
        return list(struct.unpack('<%dd' % (len(v) // 8), v))
    while p < len(v):
        x, p = varint(v, p); out.append(x)
    return out
def fnum(x): return repr(float(x))
# message schemas: field -> (name, kind); kinds: str bytes int sint64 float double bool enum msg:<Name> map:<Value>
S = {
 'GraphDef': {1: ('node', 'msg:NodeDef'), 4: ('versions', 'msg:VersionDef'), 3: ('version', 'int')},
 'VersionDef': {1: ('producer', 'int'), 2: ('min_consumer', 'int')},
 'NodeDef': {1: ('name', 'str'), 2: ('op', 'str'), 3: ('input', 'str'), 4: ('device', 'str'), 5: ('attr', 'map:AttrValue')},
 'AttrValue': {2: ('s', 'bytes'), 3: ('i', 'sint64'), 4: ('f', 'float'), 5: ('b', 'bool'), 6: ('type', 'enum'), 7: ('shape', 'msg:TensorShapeProto'), 8: ('tensor', 'msg:TensorProto'), 1: ('list', 'msg:ListValue'), 9: ('placeholder', 'str')},
 'ListValue': {2: ('s', 'bytes'), 3: ('i', 'sint64'), 4: ('f', 'float'), 5: ('b', 'bool'), 6: ('type', 'enum'), 7: ('shape', 'msg:TensorShapeProto'), 8: ('tensor', 'msg:TensorProto')},
 'TensorShapeProto': {2: ('dim', 'msg:Dim'), 3: ('unknown_rank', 'bool')},
 'Dim': {1: ('size', 'sint64'), 2: ('name', 'str')},
 'TensorProto': {1: ('dtype', 'enum'), 2: ('tensor_shape', 'msg:TensorShapeProto'), 3: ('version_number', 'int'), 4: ('tensor_content', 'bytes'), 5: ('float_val', 'float'), 6: ('double_val', 'double'), 7: ('int_val', 'sint64'), 8: ('string_val', 'bytes'), 10: ('int64_val', 'sint64'), 11: ('bool_val', 'bool'), 13: ('half_val', 'int')},
}
def write(name, b, ind):
    out = []
    pad = '  ' * ind
    for f, w, v in fields(b):
        if f not in S[name]: continue
        fname, kind = S[name][f]
        if kind.startswith('msg:'):
            out.append('%s%s {\\n%s%s}\\n' % (pad, fname, write(kind[4:], v, ind + 1), pad))
        elif kind.startswith('map:'):
            k = ''; val = b''
            for ef, ew, ev in fields(v):
                if ef == 1: k = ev
                if ef == 2: val = ev
            out.append('%s%s {\\n%s  key: %s\\n%s  value {\\n%s%s  }\\n%s}\\n' % (pad, fname, pad, esc(k), pad, write(kind[4:], val, ind + 2), pad, pad))
        elif kind in ('str', 'bytes'):
            out.append('%s%s: %s\\n' % (pad, fname, esc(v)))
        elif kind == 'float':
            vals = packed(w, v, 'f') if w == 2 else list(struct.unpack('<f', v))
            out += ['%s%s: %s\\n' % (pad, fname, fnum(x)) for x in vals]
        elif kind == 'double':
            vals = packed(w, v, 'd') if w == 2 else list(struct.unpack('<d', v))
            out += ['%s%s: %s\\n' % (pad, fname, fnum(x)) for x in vals]
        elif kind == 'bool':
            out += ['%s%s: %s\\n' % (pad, fname, 'true' if x else 'false') for x in packed(w, v, 'v')]
        elif kind == 'enum':
            out += ['%s%s: %s\\n' % (pad, fname, DT.get(x, str(x))) for x in packed(w, v, 'v')]
        else:
            out += ['%s%s: %d\\n' % (pad, fname, s64(x)) for x in packed(w, v, 'v')]
    return ''.join(out)
sys.stdout.write('# written by the test\\n' + write('GraphDef', open(sys.argv[1], 'rb').read(), 0))
`;

/** A TfGraph as comparable data (tensors as dtype, shape and values). */
function plain(g: TfGraph): unknown {
  return JSON.parse(JSON.stringify(g, (_k, v: unknown) => {
    if (v && typeof v === 'object' && 'dtype' in v && 'shape' in v && typeof (v as { toArray?: unknown }).toArray === 'function') {
      const t = v as { dtype: string; shape: number[]; toArray(): unknown[] };
      return { dtype: t.dtype, shape: t.shape, values: t.toArray().map(String) };
    }
    if (v instanceof Uint8Array) return [...v];
    return v;
  }));
}

const REAL = join(SHARED, 'real');
const FILES = ['tf2onnx-regression/graphdef/frozen.pb', 'mlnet-cifar-frozen-and-ckpt/frozen_model.pb', 'tf2onnx-gru/frozen.pb', 'mlnet-matmul/frozen_saved_model.pb'];

describe.skipIf(!existsSync(REAL) || !hasPython())('text-format GraphDefs of the real frozen graphs', () => {
  if (!existsSync(REAL)) console.log(`skipped: ${REAL} is absent`);
  const tmp = mkdtempSync(join(tmpdir(), 'mconv-pbtxt-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));
  for (const rel of FILES) {
    it(`${rel} as text parses to the same graph`, () => {
      const file = join(REAL, rel);
      const text = execFileSync(PY, ['-c', PY_TO_TEXT, file], { encoding: 'utf8', maxBuffer: 1 << 28 });
      expect(looksLikeGraphDefText(new TextEncoder().encode(text))).toBe(true);
      const fromText = decodeGraphDefText(text);
      const fromBinary = decodeGraphDef(new Uint8Array(readFileSync(file)));
      expect(fromText.nodes.length).toBe(fromBinary.nodes.length);
      expect(plain(fromText)).toEqual(plain(fromBinary));
    });
  }

  it('loads a .pbtxt through loadModel', async () => {
    const text = execFileSync(PY, ['-c', PY_TO_TEXT, join(REAL, FILES[0]!)], { encoding: 'utf8' });
    const p = join(tmp, 'graph.pbtxt');
    writeFileSync(p, text);
    const m = await loadModel(p);
    expect(m.source.format).toBe('tf-graphdef');
    expect(m.metadata['tf.container']).toBe('graphdef-text');
  });
});

describe('text-format SavedModel (saved_model.pbtxt)', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'mconv-smtxt-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));
  it('reads the MetaGraph, its signature and graph', async () => {
    writeFileSync(join(tmp, 'saved_model.pbtxt'), `
      saved_model_schema_version: 1
      meta_graphs {
        meta_info_def { tags: "serve" tensorflow_version: "1.15.0" }
        graph_def {
          node { name: "x" op: "Placeholder" attr { key: "dtype" value { type: DT_FLOAT } } }
          node { name: "two" op: "Const" attr { key: "value" value { tensor { dtype: DT_FLOAT tensor_shape {} float_val: 2 } } } }
          node { name: "y" op: "Mul" input: "x" input: "two" }
          versions { producer: 134 }
        }
        signature_def {
          key: "serving_default"
          value {
            inputs { key: "in" value { name: "x:0" dtype: DT_FLOAT tensor_shape { dim { size: -1 } } } }
            outputs { key: "out" value { name: "y:0" dtype: DT_FLOAT } }
            method_name: "tensorflow/serving/predict"
          }
        }
      }`);
    const { readSavedModel } = await import('../../../src/formats/tf/saved-model.js');
    const { openSource } = await import('../../../src/io/files.js');
    const c = readSavedModel(openSource(tmp));
    expect(c.metaGraph.tags).toEqual(['serve']);
    expect(c.request).toMatchObject({ inputs: ['x:0'], inputNames: ['in'], outputs: ['y:0'], outputNames: ['out'] });
    expect(c.signature!.inputs.in!.shape).toEqual([-1]);
    expect(c.metaGraph.graph.producer).toBe(134);
    expect(c.metaGraph.graph.nodes.find((n) => n.name === 'two')!.attr.value!.tensor!.toFloat64()[0]).toBe(2);
    const m = await loadModel(tmp);
    expect(m.source.format).toBe('tf-savedmodel');
    expect(m.metadata['tf.tensorflow_version']).toBe('1.15.0');
  });
});

describe('text format syntax', () => {
  it('reads lists, maps, angle brackets, escapes, adjacent strings, comments and enum names', () => {
    const g = decodeGraphDefText(`
      # a comment
      node {
        name: "c" op: 'Const'
        attr { key: "dtype" value { type: DT_FLOAT } }
        attr { key: "value" value < tensor { dtype: DT_FLOAT tensor_shape { dim { size: 2 } dim: { size: 2 } } float_val: [1.5, -2] } > }
        attr { key: "s" value { s: "a\\tb\\x41\\101" "\\303\\251" } }
        attr { key: "l" value { list { i: [1, -2, 3] b: true b: false f: inf } } }
        unknown_field { deeply { nested: 1 } }
        unknown_scalar: 7;
      }
      node { name: "x" op: "Placeholder" input: ["^c"] }
      versions { producer: 27 }`);
    expect(g.producer).toBe(27);
    expect(g.nodes.map((n) => [n.name, n.op, n.inputs])).toEqual([['c', 'Const', []], ['x', 'Placeholder', ['^c']]]);
    const a = g.nodes[0]!.attr;
    expect(a.dtype!.type).toBe(1);
    expect(a.value!.tensor!.shape).toEqual([2, 2]);
    expect([...a.value!.tensor!.toFloat64()]).toEqual([1.5, -2, -2, -2]);
    expect(new TextDecoder().decode(a.s!.s)).toBe('a\tbAAé');
    expect(a.l!.list).toEqual({ i: [1, -2, 3], b: [true, false], f: [Infinity] });
  });

  it('refuses malformed text with the position', () => {
    expect(() => decodeGraphDefText('node { name: "x" ')).toThrow(TfProtoError);
    expect(() => decodeGraphDefText('node { name: "x }')).toThrow(/unterminated string/);
    expect(() => decodeGraphDefText('node { name "x" }')).toThrow(/expected ':' or '\{' at character/);
    expect(() => decodeGraphDefText('node { attr { key: "a" value { b: maybe } } }')).toThrow(/expected true or false/);
  });

  it('tells text GraphDefs from other text', () => {
    const enc = new TextEncoder();
    expect(looksLikeGraphDefText(enc.encode('# header\nnode {\n name: "a"\n}'))).toBe(true);
    expect(looksLikeGraphDefText(enc.encode('{"format": "graph-model"}'))).toBe(false);
    expect(looksLikeGraphDefText(enc.encode('model_checkpoint_path: "x"'))).toBe(false);
  });
});
