/**
 * GraphDef JSON (tfjs graph-model `modelTopology`) <-> TfGraph: the real tfjs graph models round
 * trip exactly, Const values are taken from the weights manifest, and the protobuf JSON mapping
 * (int64 strings, base64 bytes, enum names, special floats, repeated-last-value tensors) reads right.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SHARED } from '../../helpers/cli.js';
import { readTfjsWeights } from '../../helpers/tf-oracle.js';
import { isMissingConstValue, tfConstValues, tfGraphFromJson, tfGraphToJson } from '../../../src/formats/tf/graph-json.js';
import { MconvError } from '../../../src/errors.js';
import { Tensor } from '../../../src/ir/tensor.js';

const REAL = join(SHARED, 'real');
const FIXTURES = ['tfjs-graph-model-small', 'tfjs-dense-model', 'tfjs-rn-graph-model', 'tfjs-lstm-benchmark-model'];
const present = FIXTURES.filter((f) => existsSync(join(REAL, f, 'model.json')));
if (present.length < FIXTURES.length) console.warn(`graph-json: real tfjs graph models missing under ${REAL}; those cases are skipped`);

describe.skipIf(present.length === 0)('real tfjs graph models', () => {
  for (const name of present) {
    const dir = join(REAL, name);
    const json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));

    it(`${name}: JSON -> TfGraph -> JSON gives the same modelTopology`, () => {
      const g = tfGraphFromJson(json, { file: `${name}/model.json` });
      expect(g.nodes.length).toBe(json.modelTopology.node.length);
      expect(g.functions.length).toBe(json.modelTopology.library?.function?.length ?? 0);
      expect(tfGraphToJson(g)).toEqual(json.modelTopology);
      // Consts have no values in a tfjs model.json: their data is marked missing and fails clearly.
      const c = g.nodes.find((n) => n.op === 'Const')!;
      expect(isMissingConstValue(c.attr.value!.tensor!)).toBe(true);
      expect(() => c.attr.value!.tensor!.bytes).toThrow(/weights manifest/);
    });

    it(`${name}: Const values from the weights manifest, written inline and read back`, () => {
      const weights = readTfjsWeights(dir, json);
      const g = tfGraphFromJson(json, { weights });
      const consts = tfConstValues(g);
      // Every manifest entry lands on a Const node (function bodies as <function>/<node>).
      expect([...consts.keys()].sort()).toEqual([...weights.keys()].sort());
      for (const [k, t] of consts) expect(Array.from(t.toFloat64())).toEqual(Array.from(weights.get(k)!.toFloat64()));
      // Written with values omitted it is tfjs's JSON again; written inline it reads back the values.
      expect(tfGraphToJson(g, { constValues: 'omit' })).toEqual(json.modelTopology);
      const inline = JSON.parse(JSON.stringify(tfGraphToJson(g)));
      const back = tfConstValues(tfGraphFromJson(inline));
      expect(back.size).toBe(weights.size);
      for (const [k, t] of back) {
        expect(t.shape).toEqual(weights.get(k)!.shape);
        expect(Array.from(t.toFloat64())).toEqual(Array.from(weights.get(k)!.toFloat64()));
      }
    });
  }

  it.skipIf(!present.includes('tfjs-graph-model-small'))('tfjs-graph-model-small: node fields decoded', () => {
    const json = JSON.parse(readFileSync(join(REAL, 'tfjs-graph-model-small', 'model.json'), 'utf8'));
    const g = tfGraphFromJson(json);
    expect(g.producer).toBe(175);
    const mm = g.nodes.find((n) => n.name === 'MatMul')!;
    expect(mm.op).toBe('MatMul');
    expect(mm.inputs).toEqual(['Placeholder', 'w']);
    expect(mm.device).toBe('/device:CPU:0');
    expect(mm.attr.transpose_a).toEqual({ b: false });
    expect(mm.attr.T).toEqual({ type: 1 });
    const ph = g.nodes.find((n) => n.name === 'Placeholder')!;
    expect(ph.attr.shape!.shape).toEqual([2, 2]);
  });

  it.skipIf(!present.includes('tfjs-lstm-benchmark-model'))('tfjs-lstm-benchmark-model: functions decoded', () => {
    const json = JSON.parse(readFileSync(join(REAL, 'tfjs-lstm-benchmark-model', 'model.json'), 'utf8'));
    const g = tfGraphFromJson(json);
    const cond = g.functions.find((f) => f.nodes.length === 1 && f.nodes[0]!.op === 'Less')!;
    expect(cond.outputs).toEqual([{ name: 'while_identity', type: 10 }]);
    expect(cond.inputs[3]).toEqual({ name: 'while_placeholder_1', type: 21 });
    expect(Object.values(cond.ret)).toEqual(['while/Less:z:0']);
    const w = g.nodes.find((n) => n.op === 'StatelessWhile')!;
    expect(w.attr.body!.func!.name).toMatch(/while_body/);
    expect(w.attr.T!.list!.type!.length).toBeGreaterThan(5);
  });
});

describe('protobuf JSON mapping', () => {
  const topo = (attr: Record<string, unknown>, op = 'Foo') => ({ node: [{ name: 'n', op, attr }] });

  it('reads scalar attribute fields', () => {
    const g = tfGraphFromJson(topo({
      i: { i: '-9007199254740991' }, f: { f: 'NaN' }, g: { f: '-Infinity' }, h: { f: 0.25 }, b: { b: true },
      s: { s: Buffer.from('SAME').toString('base64') }, t: { type: 'DT_HALF' }, r: { type: 'DT_FLOAT_REF' },
      sh: { shape: { dim: [{ size: '-1' }, { size: '3' }] } }, sc: { shape: {} }, un: { shape: { unknownRank: true } },
      p: { placeholder: 'T' }, fn: { func: { name: 'body', attr: { T: { type: 'DT_INT32' } } } },
    }));
    const a = g.nodes[0]!.attr;
    expect(a.i!.i).toBe(-9007199254740991);
    expect(a.f!.f).toBeNaN();
    expect(a.g!.f).toBe(-Infinity);
    expect(a.h!.f).toBe(0.25);
    expect(a.b!.b).toBe(true);
    expect(new TextDecoder().decode(a.s!.s)).toBe('SAME');
    expect(a.t!.type).toBe(19);
    expect(a.r!.type).toBe(101);
    expect(a.sh!.shape).toEqual([-1, 3]);
    expect(a.sc!.shape).toEqual([]);
    expect(a.un!.shape).toBeNull();
    expect(a.p!.placeholder).toBe('T');
    expect(a.fn!.func).toEqual({ name: 'body', attr: { T: { type: 3 } } });
    // And back: the same JSON.
    const back = tfGraphToJson(g) as { node: { attr: Record<string, unknown> }[] };
    expect(back.node[0]!.attr.f).toEqual({ f: 'NaN' });
    expect(back.node[0]!.attr.i).toEqual({ i: '-9007199254740991' });
    expect(back.node[0]!.attr.un).toEqual({ shape: { unknownRank: true } });
    expect(back.node[0]!.attr.sc).toEqual({ shape: {} });
    expect(back.node[0]!.attr.r).toEqual({ type: 'DT_FLOAT_REF' });
  });

  it('reads list attributes', () => {
    const g = tfGraphFromJson(topo({
      strides: { list: { i: ['1', '2', '2', '1'] } }, fl: { list: { f: [1.5, 'Infinity'] } }, ty: { list: { type: ['DT_INT32', 'DT_BOOL'] } },
      ss: { list: { s: ['YQ==', 'YmM='] } }, shp: { list: { shape: [{ dim: [{ size: '2' }] }, { unknownRank: true }] } }, empty: { list: {} },
    }));
    const a = g.nodes[0]!.attr;
    expect(a.strides!.list!.i).toEqual([1, 2, 2, 1]);
    expect(a.fl!.list!.f).toEqual([1.5, Infinity]);
    expect(a.ty!.list!.type).toEqual([3, 10]);
    expect(a.ss!.list!.s!.map((x) => new TextDecoder().decode(x))).toEqual(['a', 'bc']);
    expect(a.shp!.list!.shape).toEqual([[2], null]);
    expect(a.empty!.list).toEqual({});
    expect(tfGraphFromJson(tfGraphToJson(g)).nodes[0]!.attr).toEqual(a);
  });

  it('decodes TensorProto value fields (repeat-last rule, int64 strings, halves, strings, content)', () => {
    const content = Buffer.from(new Float32Array([1, -2, 3.5]).buffer).toString('base64');
    const g = tfGraphFromJson({ node: [
      { name: 'a', op: 'Const', attr: { value: { tensor: { dtype: 'DT_FLOAT', tensorShape: { dim: [{ size: '2' }, { size: '2' }] }, floatVal: [0.5] } } } },
      { name: 'b', op: 'Const', attr: { value: { tensor: { dtype: 'DT_INT64', tensorShape: { dim: [{ size: '3' }] }, int64Val: ['-5', '9007199254740993', '7'] } } } },
      { name: 'c', op: 'Const', attr: { value: { tensor: { dtype: 'DT_HALF', tensorShape: { dim: [{ size: '2' }] }, halfVal: [15360, 49152] } } } },
      { name: 'd', op: 'Const', attr: { value: { tensor: { dtype: 'DT_STRING', tensorShape: {}, stringVal: ['aGk='] } } } },
      { name: 'e', op: 'Const', attr: { value: { tensor: { dtype: 'DT_FLOAT', tensorShape: { dim: [{ size: '3' }] }, tensorContent: content } } } },
      { name: 'f', op: 'Const', attr: { value: { tensor: { dtype: 'DT_BOOL', tensorShape: { dim: [{ size: '3' }] }, boolVal: [true, false] } } } },
      { name: 'g', op: 'Const', attr: { value: { tensor: { dtype: 'DT_INT32', tensorShape: { dim: [{ size: '0' }] } } } } },
      { name: 'h', op: 'Const', attr: { value: { tensor: { dtype: 'DT_DOUBLE', tensorShape: {}, doubleVal: ['NaN'] } } } },
    ] });
    const v = (name: string) => g.nodes.find((n) => n.name === name)!.attr.value!.tensor!;
    expect(v('a').shape).toEqual([2, 2]);
    expect(Array.from(v('a').toFloat64())).toEqual([0.5, 0.5, 0.5, 0.5]);
    expect(v('b').toArray()).toEqual([-5n, 9007199254740993n, 7n]);
    expect(Array.from(v('c').toFloat64())).toEqual([1, -2]);
    expect(v('d').stringValues()).toEqual(['hi']);
    expect(Array.from(v('e').toFloat64())).toEqual([1, -2, 3.5]);
    expect(Array.from(v('f').toFloat64())).toEqual([1, 0, 0]);
    expect(v('g').size).toBe(0);
    expect(isMissingConstValue(v('g'))).toBe(false);
    expect(v('h').toFloat64()[0]).toBeNaN();
    // Unchanged tensors write back the JSON they came from.
    expect((tfGraphToJson(g) as { node: { attr: { value: unknown } }[] }).node[0]!.attr.value).toEqual(
      { tensor: { dtype: 'DT_FLOAT', tensorShape: { dim: [{ size: '2' }, { size: '2' }] }, floatVal: [0.5] } });
  });

  it('writes new tensors as tensorContent and reads them back bit for bit', () => {
    const t = Tensor.fromArray('int64', [2, 2], [1n, -2n, 2n ** 40n, -(2n ** 62n)]);
    const s = Tensor.fromStrings([2], ['x', 'yz']);
    const g = { nodes: [
      { name: 'k', op: 'Const', inputs: [], attr: { value: { tensor: t }, dtype: { type: 9 } } },
      { name: 's', op: 'Const', inputs: ['^k'], attr: { value: { tensor: s } } },
    ], functions: [] };
    const json = JSON.parse(JSON.stringify(tfGraphToJson(g)));
    expect(json.node[0].attr.value.tensor.dtype).toBe('DT_INT64');
    expect(json.node[0].attr.dtype).toEqual({ type: 'DT_INT64' });
    const back = tfGraphFromJson(json);
    expect(back.nodes[0]!.attr.value!.tensor!.toArray()).toEqual(t.toArray());
    expect(back.nodes[1]!.attr.value!.tensor!.stringValues()).toEqual(['x', 'yz']);
    expect(back.nodes[1]!.inputs).toEqual(['^k']);
    // Omitted values: dtype and shape only.
    const omitted = tfGraphToJson(g, { constValues: 'omit' }) as { node: { attr: { value: unknown } }[] };
    expect(omitted.node[0]!.attr.value).toEqual({ tensor: { dtype: 'DT_INT64', tensorShape: { dim: [{ size: '2' }, { size: '2' }] } } });
  });

  it('fits given weights to the declared dtype and shape', () => {
    const json = { node: [{ name: 'w', op: 'Const', attr: { value: { tensor: { dtype: 'DT_INT64', tensorShape: { dim: [{ size: '2' }, { size: '1' }] } } } } }] };
    const g = tfGraphFromJson(json, { weights: { w: Tensor.fromArray('int32', [2], [3, -4]) } });
    const t = g.nodes[0]!.attr.value!.tensor!;
    expect(t.dtype).toBe('int64');
    expect(t.shape).toEqual([2, 1]);
    expect(t.toArray()).toEqual([3n, -4n]);
    expect(() => tfGraphFromJson(json, { weights: { w: Tensor.fromArray('int32', [3], [1, 2, 3]) } })).toThrow(/3 elements/);
  });

  it('rejects malformed JSON with MconvError naming the place', () => {
    const bad = (j: unknown) => {
      try {
        tfGraphFromJson(j, { file: 'model.json' });
      } catch (e) {
        expect(e).toBeInstanceOf(MconvError);
        return (e as MconvError).oneLine();
      }
      throw new Error('no error');
    };
    expect(bad({ node: [{ name: 'n', op: 'X', attr: { T: { type: 'DT_NOPE' } } }] })).toMatch(/unknown TensorFlow dtype.*node n\.attr\.T/);
    expect(bad({ node: [{ name: 'n', op: 'X', attr: { k: { i: 'three' } } }] })).toMatch(/expected an integer/);
    expect(bad({ node: [{ name: 'n', op: 'X', attr: { k: { zz: 1 } } }] })).toMatch(/unknown attribute field 'zz'/);
    expect(bad({ format: 'layers-model', modelTopology: { class_name: 'Sequential' } })).toMatch(/no GraphDef/);
    expect(bad('{not json')).toMatch(/not valid JSON/);
  });
});
