/**
 * The JSON form of a GraphDef (protobuf's canonical JSON mapping, as TensorFlow.js graph models
 * write it under `modelTopology` in `model.json`) to and from a TfGraph.
 *
 * The mapping: field names in lowerCamelCase, int64 as decimal strings, bytes as base64, enums
 * by name (`DT_FLOAT`), floats as numbers or `"NaN"` / `"Infinity"` / `"-Infinity"`.
 *
 * Const values: a tfjs graph model keeps them in the weights manifest, so its `value` tensors
 * carry only dtype and shape. `tfGraphFromJson` takes those values by node name (function body
 * nodes as `<function>/<node>`, the tfjs convention, or plain `<node>`); a tensor without
 * content and without a given value reads as a tensor whose data access fails with a clear
 * error. `tfGraphToJson` writes such tensors back without content, and can omit every Const
 * value (`constValues: 'omit'`) to pair the JSON with a weights manifest.
 *
 * Fields a TfGraph has no place for (argAttr, versions.minConsumer, dim names, the exact
 * encoding of a tensor) are remembered beside the decoded objects, so an unchanged graph
 * writes back the JSON it was read from.
 */
import { MconvError } from '../../errors.js';
import { DTYPE_BYTES, Tensor, shapeSize, type DType } from '../../ir/tensor.js';
import {
  TF_DTYPE_NAMES, irDType,
  type TfArgDef, type TfAttr, type TfDataType, type TfFunction, type TfGraph, type TfNameAttrList, type TfNode, type TfShape,
} from './tf-graph.js';

type Json = Record<string, unknown>;

const FORMAT = 'tf-json';

export interface TfGraphFromJsonOptions {
  /**
   * Const values by node name (tfjs weights manifest entries): `<node>` for graph nodes,
   * `<function>/<node>` or `<node>` for nodes of function bodies.
   */
  weights?: Map<string, Tensor> | Record<string, Tensor>;
  /** Where the JSON came from, for error messages. */
  file?: string;
}

export interface TfGraphToJsonOptions {
  /**
   * 'inline' (default): Const values are written in the tensor attribute (tensorContent, or the
   * typed value field for strings). 'omit': only dtype and shape (tfjs model.json style, values go
   * into a weights manifest).
   */
  constValues?: 'inline' | 'omit';
}

/* ------------------------------------------------------------------------------------------ */
/* What the TfGraph cannot hold, kept beside it for writing back. */

/** Unknown fields of graph / node / function / arg objects. */
const extras = new WeakMap<object, Json>();
/** The JSON a tensor or shape was decoded from (written back unchanged). */
const rawJson = new WeakMap<object, Json>();
/** Tensors whose content was not in the JSON (tfjs weights manifest) and not given. */
const missingValue = new WeakSet<Tensor>();

/** True when a tensor attribute had no content in the JSON and no value was given for it. */
export function isMissingConstValue(t: Tensor): boolean {
  return missingValue.has(t);
}

function keepExtras(target: object, src: Json, known: readonly string[]): void {
  const rest: Json = {};
  let any = false;
  for (const [k, v] of Object.entries(src)) {
    if (!known.includes(k)) {
      rest[k] = v;
      any = true;
    }
  }
  if (any) extras.set(target, rest);
}

/* ------------------------------------------------------------------------------------------ */
/* Small JSON readers. */

class JsonReader {
  constructor(readonly file: string | undefined) {}

  fail(message: string, where?: string): MconvError {
    return new MconvError({
      kind: 'unreadable', file: this.file, format: FORMAT, message, where,
      hint: 'the file should hold a GraphDef in protobuf JSON form (a tfjs graph-model model.json)',
    });
  }

  obj(v: unknown, where: string): Json {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw this.fail(`expected an object, got ${describe(v)}`, where);
    return v as Json;
  }

  arr(v: unknown, where: string): unknown[] {
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v)) throw this.fail(`expected a list, got ${describe(v)}`, where);
    return v;
  }

  str(v: unknown, where: string): string {
    if (typeof v !== 'string') throw this.fail(`expected a string, got ${describe(v)}`, where);
    return v;
  }

  /** An int32/int64 field: a decimal string or a number. */
  int(v: unknown, where: string): number {
    if (typeof v === 'number' && Number.isInteger(v)) return v;
    if (typeof v === 'string' && /^-?\d+$/.test(v.trim())) return Number(v);
    throw this.fail(`expected an integer, got ${describe(v)}`, where);
  }

  /** A float/double field: a number or one of the special strings. */
  float(v: unknown, where: string): number {
    if (typeof v === 'number') return v;
    if (v === 'NaN') return NaN;
    if (v === 'Infinity') return Infinity;
    if (v === '-Infinity') return -Infinity;
    if (typeof v === 'string' && v.trim() !== '' && !Number.isNaN(Number(v))) return Number(v);
    throw this.fail(`expected a number, got ${describe(v)}`, where);
  }

  bool(v: unknown, where: string): boolean {
    if (typeof v === 'boolean') return v;
    throw this.fail(`expected true or false, got ${describe(v)}`, where);
  }

  bytes(v: unknown, where: string): Uint8Array {
    const s = this.str(v, where);
    if (!/^[A-Za-z0-9+/_-]*={0,2}$/.test(s)) throw this.fail('expected base64 bytes', where);
    const b = Buffer.from(s, s.includes('-') || s.includes('_') ? 'base64url' : 'base64');
    return new Uint8Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
  }

  dtype(v: unknown, where: string): TfDataType {
    if (typeof v === 'number' && Number.isInteger(v)) return v;
    if (typeof v === 'string') {
      const n = DTYPE_BY_NAME.get(v);
      if (n !== undefined) return n;
    }
    throw this.fail(`unknown TensorFlow dtype ${describe(v)}`, where);
  }
}

function describe(v: unknown): string {
  if (v === undefined) return 'nothing';
  const s = JSON.stringify(v);
  return s === undefined ? typeof v : s.length > 40 ? `${s.slice(0, 40)}...` : s;
}

const DTYPE_BY_NAME = new Map<string, number>();
for (const [n, name] of Object.entries(TF_DTYPE_NAMES)) {
  DTYPE_BY_NAME.set(name, Number(n));
  DTYPE_BY_NAME.set(`${name}_REF`, Number(n) + 100);
}
DTYPE_BY_NAME.set('DT_INVALID', 0);

/** The name of a TF DataType, as the JSON mapping writes enums. */
export function tfDTypeName(t: TfDataType): string {
  if (t === 0) return 'DT_INVALID';
  if (t > 100) {
    const base = TF_DTYPE_NAMES[t - 100];
    if (base) return `${base}_REF`;
  }
  const n = TF_DTYPE_NAMES[t];
  if (!n) throw new MconvError({ kind: 'unsupported', format: FORMAT, message: `TensorFlow dtype ${t} has no name` });
  return n;
}

const b64 = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64');

/* ------------------------------------------------------------------------------------------ */
/* Shapes and tensors. */

function readShape(r: JsonReader, v: unknown, where: string): TfShape {
  const o = r.obj(v, where);
  let shape: TfShape;
  if (o.unknownRank === true) shape = null;
  else shape = r.arr(o.dim, `${where}.dim`).map((d, i) => {
    const dd = r.obj(d, `${where}.dim[${i}]`);
    return dd.size === undefined ? 0 : r.int(dd.size, `${where}.dim[${i}].size`);
  });
  if (shape) rawJson.set(shape, o);
  return shape;
}

function writeShape(shape: TfShape): Json {
  if (shape === null) return { unknownRank: true };
  const raw = rawJson.get(shape);
  if (raw && rawShapeMatches(raw, shape)) return raw;
  return shape.length ? { dim: shape.map((d) => ({ size: String(d) })) } : {};
}

function rawShapeMatches(raw: Json, shape: number[]): boolean {
  const dims = Array.isArray(raw.dim) ? (raw.dim as Json[]) : [];
  return dims.length === shape.length && dims.every((d, i) => Number(d.size ?? 0) === shape[i]);
}

/** A TensorProto in JSON form -> IR tensor (missing content: a tensor that fails on data access). */
function readTensor(r: JsonReader, v: unknown, where: string, given?: Tensor): Tensor {
  const o = r.obj(v, where);
  const tfType = r.dtype(o.dtype ?? 'DT_INVALID', `${where}.dtype`);
  const dtype = irDType(tfType);
  if (!dtype) {
    throw new MconvError({
      kind: 'unsupported', file: r.file, format: FORMAT, where,
      message: `tensor of dtype ${TF_DTYPE_NAMES[tfType] ?? tfType} is not supported`,
    });
  }
  const shapeJson = o.tensorShape === undefined ? {} : o.tensorShape;
  const shape = readShape(r, shapeJson, `${where}.tensorShape`);
  if (!shape || shape.some((d) => d < 0)) throw r.fail('a tensor needs a fully known shape', where);
  if (given) return conformGiven(r, given, dtype, shape, where);
  const n = shapeSize(shape);
  let t: Tensor | undefined;
  if (o.tensorContent !== undefined && dtype !== 'string') {
    const bytes = r.bytes(o.tensorContent, `${where}.tensorContent`);
    const want = n * DTYPE_BYTES[dtype];
    if (bytes.byteLength !== want) throw r.fail(`tensorContent has ${bytes.byteLength} bytes, ${dtype}[${shape.join(',')}] needs ${want}`, where);
    t = Tensor.fromBytes(dtype, shape, bytes);
  } else {
    t = readTypedValues(r, o, dtype, shape, where);
  }
  if (!t) {
    if (n === 0) t = dtype === 'string' ? Tensor.fromStrings(shape, []) : Tensor.fromBytes(dtype, shape, new Uint8Array(0));
    else {
      t = Tensor.lazy(dtype, shape, () => {
        throw new MconvError({
          kind: 'unreadable', file: r.file, format: FORMAT, where,
          message: 'this constant has no value in the JSON graph (tfjs graph models keep it in the weights manifest)',
          hint: 'load model.json together with its weight files',
        });
      });
      missingValue.add(t);
    }
  }
  rawJson.set(t, o);
  return t;
}

/** A given value (weights manifest) fitted to the attribute's dtype and shape. */
function conformGiven(r: JsonReader, t: Tensor, dtype: DType, shape: number[], where: string): Tensor {
  if (t.size !== shapeSize(shape)) {
    throw r.fail(`the given value has ${t.size} elements, the graph declares shape [${shape.join(',')}]`, where);
  }
  let out = t;
  if (t.dtype !== dtype) {
    if (t.dtype === 'string' || dtype === 'string') throw r.fail(`the given value is ${t.dtype}, the graph declares ${dtype}`, where);
    out = Tensor.fromArray(dtype, t.shape, dtype === 'int64' || dtype === 'uint64' ? t.toArray() as (number | bigint)[] : t.toFloat64(), t.name);
  }
  if (out.shape.length !== shape.length || out.shape.some((d, i) => d !== shape[i])) out = out.reshape(shape);
  return out;
}

/** The typed value fields (float_val, int_val, ...); a short list repeats its last value. */
function readTypedValues(r: JsonReader, o: Json, dtype: DType, shape: number[], where: string): Tensor | undefined {
  const n = shapeSize(shape);
  const field = (name: string): unknown[] | undefined => {
    const v = o[name];
    if (v === undefined) return undefined;
    const a = r.arr(v, `${where}.${name}`);
    return a.length ? a : undefined;
  };
  const fill = <T>(vals: T[]): T[] => {
    if (vals.length > n) throw r.fail(`${vals.length} values for ${n} elements`, where);
    const out = vals.slice();
    while (out.length < n) out.push(vals[vals.length - 1]!);
    return out;
  };
  if (dtype === 'string') {
    const s = field('stringVal');
    if (!s) return undefined;
    return Tensor.fromStrings(shape, fill(s.map((x, i) => r.bytes(x, `${where}.stringVal[${i}]`))));
  }
  if (dtype === 'complex64' || dtype === 'complex128') {
    const c = field(dtype === 'complex64' ? 'scomplexVal' : 'dcomplexVal');
    if (!c) return undefined;
    const vals = c.map((x, i) => r.float(x, `${where}.complexVal[${i}]`));
    if (vals.length !== 2 * n && vals.length !== 2) throw r.fail(`${vals.length / 2} complex values for ${n} elements`, where);
    const arr = dtype === 'complex64' ? new Float32Array(2 * n) : new Float64Array(2 * n);
    for (let i = 0; i < n; i++) {
      arr[2 * i] = vals.length === 2 ? vals[0]! : vals[2 * i]!;
      arr[2 * i + 1] = vals.length === 2 ? vals[1]! : vals[2 * i + 1]!;
    }
    return Tensor.fromBytes(dtype, shape, new Uint8Array(arr.buffer));
  }
  if (dtype === 'float16' || dtype === 'bfloat16') {
    const h = field('halfVal');
    if (!h) return undefined;
    const bits = fill(h.map((x, i) => r.int(x, `${where}.halfVal[${i}]`)));
    return Tensor.fromBytes(dtype, shape, new Uint8Array(Uint16Array.from(bits).buffer));
  }
  const fieldFor: Partial<Record<DType, string>> = {
    float32: 'floatVal', float64: 'doubleVal', int32: 'intVal', int16: 'intVal', int8: 'intVal', uint8: 'intVal',
    uint16: 'intVal', int64: 'int64Val', uint32: 'uint32Val', uint64: 'uint64Val', bool: 'boolVal',
  };
  const name = fieldFor[dtype]!;
  const vals = field(name);
  if (!vals) return undefined;
  const w = `${where}.${name}`;
  if (dtype === 'int64' || dtype === 'uint64') {
    return Tensor.fromArray(dtype, shape, fill(vals.map((x, i) => {
      if (typeof x === 'number' && Number.isInteger(x)) return BigInt(x);
      if (typeof x === 'string' && /^-?\d+$/.test(x)) return BigInt.asIntN(64, BigInt(x));
      throw r.fail(`expected an integer, got ${describe(x)}`, `${w}[${i}]`);
    })));
  }
  if (dtype === 'bool') return Tensor.fromArray(dtype, shape, fill(vals.map((x, i) => r.bool(x, `${w}[${i}]`))));
  if (dtype === 'float32' || dtype === 'float64') return Tensor.fromArray(dtype, shape, fill(vals.map((x, i) => r.float(x, `${w}[${i}]`))));
  return Tensor.fromArray(dtype, shape, fill(vals.map((x, i) => r.int(x, `${w}[${i}]`))));
}

function writeTensor(t: Tensor, omitValue: boolean): Json {
  const raw = rawJson.get(t);
  if (raw && (missingValue.has(t) || !omitValue)) return raw;
  const tfType = TF_TYPE_OF[t.dtype];
  const out: Json = { dtype: tfDTypeName(tfType), tensorShape: writeShape(t.shape) };
  if (omitValue || t.size === 0) return out;
  if (t.dtype === 'string') out.stringVal = t.strings.map(b64);
  else out.tensorContent = b64(t.bytes);
  return out;
}

/** TF DataType numbers by IR dtype. */
export const TF_TYPE_OF: Record<DType, number> = {
  float32: 1, float64: 2, int32: 3, uint8: 4, int16: 5, int8: 6, string: 7, complex64: 8, int64: 9, bool: 10,
  bfloat16: 14, uint16: 17, complex128: 18, float16: 19, uint32: 22, uint64: 23,
};

/* ------------------------------------------------------------------------------------------ */
/* Attributes. */

interface ReadScope {
  r: JsonReader;
  /** Const values by the names tried for this node. */
  given(names: string[]): Tensor | undefined;
}

function readAttr(s: ReadScope, v: unknown, where: string, constNames?: string[]): TfAttr {
  const { r } = s;
  const o = r.obj(v, where);
  const a: TfAttr = {};
  for (const [k, x] of Object.entries(o)) {
    const w = `${where}.${k}`;
    switch (k) {
      case 's': a.s = r.bytes(x, w); break;
      case 'i': a.i = r.int(x, w); break;
      case 'f': a.f = r.float(x, w); break;
      case 'b': a.b = r.bool(x, w); break;
      case 'type': a.type = r.dtype(x, w); break;
      case 'shape': a.shape = readShape(r, x, w); break;
      case 'tensor': a.tensor = readTensor(r, x, w, constNames ? s.given(constNames) : undefined); break;
      case 'func': a.func = readFunc(s, x, w); break;
      case 'placeholder': a.placeholder = r.str(x, w); break;
      case 'list': {
        const l = r.obj(x, w);
        const list: NonNullable<TfAttr['list']> = {};
        for (const [lk, lx] of Object.entries(l)) {
          const items = r.arr(lx, `${w}.${lk}`);
          const iw = (i: number) => `${w}.${lk}[${i}]`;
          switch (lk) {
            case 's': list.s = items.map((y, i) => r.bytes(y, iw(i))); break;
            case 'i': list.i = items.map((y, i) => r.int(y, iw(i))); break;
            case 'f': list.f = items.map((y, i) => r.float(y, iw(i))); break;
            case 'b': list.b = items.map((y, i) => r.bool(y, iw(i))); break;
            case 'type': list.type = items.map((y, i) => r.dtype(y, iw(i))); break;
            case 'shape': list.shape = items.map((y, i) => readShape(r, y, iw(i))); break;
            case 'tensor': list.tensor = items.map((y, i) => readTensor(r, y, iw(i))); break;
            case 'func': list.func = items.map((y, i) => readFunc(s, y, iw(i))); break;
            default: throw r.fail(`unknown list field '${lk}'`, w);
          }
        }
        a.list = list;
        break;
      }
      default: throw r.fail(`unknown attribute field '${k}'`, where);
    }
  }
  return a;
}

function readFunc(s: ReadScope, v: unknown, where: string): TfNameAttrList {
  const o = s.r.obj(v, where);
  return { name: s.r.str(o.name ?? '', `${where}.name`), attr: readAttrMap(s, o.attr, `${where}.attr`) };
}

function readAttrMap(s: ReadScope, v: unknown, where: string, constNames?: string[]): Record<string, TfAttr> {
  if (v === undefined) return {};
  const o = s.r.obj(v, where);
  const out: Record<string, TfAttr> = {};
  for (const [k, x] of Object.entries(o)) out[k] = readAttr(s, x, `${where}.${k}`, k === 'value' ? constNames : undefined);
  return out;
}

function writeAttr(a: TfAttr, omitTensor: boolean): Json {
  const o: Json = {};
  if (a.s !== undefined) o.s = b64(a.s);
  if (a.i !== undefined) o.i = String(a.i);
  if (a.f !== undefined) o.f = writeFloat(a.f);
  if (a.b !== undefined) o.b = a.b;
  if (a.type !== undefined) o.type = tfDTypeName(a.type);
  if (a.shape !== undefined) o.shape = writeShape(a.shape);
  if (a.tensor !== undefined) o.tensor = writeTensor(a.tensor, omitTensor);
  if (a.func !== undefined) o.func = writeFunc(a.func);
  if (a.placeholder !== undefined) o.placeholder = a.placeholder;
  if (a.list !== undefined) {
    const l = a.list;
    const lo: Json = {};
    if (l.s) lo.s = l.s.map(b64);
    if (l.i) lo.i = l.i.map(String);
    if (l.f) lo.f = l.f.map(writeFloat);
    if (l.b) lo.b = l.b.slice();
    if (l.type) lo.type = l.type.map(tfDTypeName);
    if (l.shape) lo.shape = l.shape.map(writeShape);
    if (l.tensor) lo.tensor = l.tensor.map((t) => writeTensor(t, false));
    if (l.func) lo.func = l.func.map(writeFunc);
    o.list = lo;
  }
  return o;
}

function writeFloat(f: number): number | string {
  if (Number.isNaN(f)) return 'NaN';
  if (f === Infinity) return 'Infinity';
  if (f === -Infinity) return '-Infinity';
  return f;
}

function writeFunc(f: TfNameAttrList): Json {
  const o: Json = { name: f.name };
  const attrs = writeAttrMap(f.attr, false);
  if (attrs) o.attr = attrs;
  return o;
}

function writeAttrMap(attrs: Record<string, TfAttr>, omitConst: boolean): Json | undefined {
  const keys = Object.keys(attrs);
  if (!keys.length) return undefined;
  const o: Json = {};
  for (const k of keys) o[k] = writeAttr(attrs[k]!, omitConst && k === 'value');
  return o;
}

/* ------------------------------------------------------------------------------------------ */
/* Nodes, functions, graphs. */

const NODE_FIELDS = ['name', 'op', 'input', 'device', 'attr'] as const;

function readNode(s: ReadScope, v: unknown, where: string, fnName?: string): TfNode {
  const { r } = s;
  const o = r.obj(v, where);
  const name = r.str(o.name, `${where}.name`);
  const w = `node ${name}`;
  const op = r.str(o.op, `${w}.op`);
  const constNames = op === 'Const' ? (fnName ? [`${fnName}/${name}`, name] : [name]) : undefined;
  const node: TfNode = {
    name, op,
    inputs: r.arr(o.input, `${w}.input`).map((x, i) => r.str(x, `${w}.input[${i}]`)),
    attr: readAttrMap(s, o.attr, `${w}.attr`, constNames),
  };
  if (o.device !== undefined) node.device = r.str(o.device, `${w}.device`);
  keepExtras(node, o, NODE_FIELDS);
  return node;
}

function writeNode(n: TfNode, omitConst: boolean): Json {
  const o: Json = { name: n.name, op: n.op };
  if (n.inputs.length) o.input = n.inputs.slice();
  if (n.device !== undefined) o.device = n.device;
  const attrs = writeAttrMap(n.attr, omitConst && n.op === 'Const');
  if (attrs) o.attr = attrs;
  Object.assign(o, extras.get(n));
  return o;
}

const ARG_FIELDS = ['name', 'type', 'typeAttr', 'numberAttr', 'typeListAttr'] as const;

function readArg(r: JsonReader, v: unknown, where: string): TfArgDef {
  const o = r.obj(v, where);
  const a: TfArgDef = { name: r.str(o.name, `${where}.name`) };
  if (o.type !== undefined) a.type = r.dtype(o.type, `${where}.type`);
  if (o.typeAttr !== undefined) a.typeAttr = r.str(o.typeAttr, `${where}.typeAttr`);
  if (o.numberAttr !== undefined) a.numberAttr = r.str(o.numberAttr, `${where}.numberAttr`);
  if (o.typeListAttr !== undefined) a.typeListAttr = r.str(o.typeListAttr, `${where}.typeListAttr`);
  keepExtras(a, o, ARG_FIELDS);
  return a;
}

function writeArg(a: TfArgDef): Json {
  const o: Json = { name: a.name };
  if (a.type !== undefined) o.type = tfDTypeName(a.type);
  if (a.typeAttr !== undefined) o.typeAttr = a.typeAttr;
  if (a.numberAttr !== undefined) o.numberAttr = a.numberAttr;
  if (a.typeListAttr !== undefined) o.typeListAttr = a.typeListAttr;
  Object.assign(o, extras.get(a));
  return o;
}

const FUNCTION_FIELDS = ['signature', 'nodeDef', 'ret', 'attr'] as const;
const SIGNATURE_FIELDS = ['name', 'inputArg', 'outputArg'] as const;
/** Extras of a function's signature, kept apart from the function's own. */
const signatureExtras = new WeakMap<TfFunction, Json>();

function readFunction(s: ReadScope, v: unknown, where: string): TfFunction {
  const { r } = s;
  const o = r.obj(v, where);
  const sig = r.obj(o.signature ?? {}, `${where}.signature`);
  const name = r.str(sig.name, `${where}.signature.name`);
  const w = `function ${name}`;
  const retObj = o.ret === undefined ? {} : r.obj(o.ret, `${w}.ret`);
  const fn: TfFunction = {
    name,
    inputs: r.arr(sig.inputArg, `${w}.inputArg`).map((x, i) => readArg(r, x, `${w}.inputArg[${i}]`)),
    outputs: r.arr(sig.outputArg, `${w}.outputArg`).map((x, i) => readArg(r, x, `${w}.outputArg[${i}]`)),
    ret: Object.fromEntries(Object.entries(retObj).map(([k, x]) => [k, r.str(x, `${w}.ret.${k}`)])),
    nodes: r.arr(o.nodeDef, `${w}.nodeDef`).map((x, i) => readNode(s, x, `${w}.nodeDef[${i}]`, name)),
    attr: readAttrMap(s, o.attr, `${w}.attr`),
  };
  keepExtras(fn, o, FUNCTION_FIELDS);
  const sigRest: Json = {};
  for (const [k, x] of Object.entries(sig)) if (!(SIGNATURE_FIELDS as readonly string[]).includes(k)) sigRest[k] = x;
  if (Object.keys(sigRest).length) signatureExtras.set(fn, sigRest);
  return fn;
}

function writeFunction(f: TfFunction, omitConst: boolean): Json {
  const sig: Json = { name: f.name };
  if (f.inputs.length) sig.inputArg = f.inputs.map(writeArg);
  if (f.outputs.length) sig.outputArg = f.outputs.map(writeArg);
  Object.assign(sig, signatureExtras.get(f));
  const o: Json = { signature: sig };
  if (f.nodes.length) o.nodeDef = f.nodes.map((n) => writeNode(n, omitConst));
  if (Object.keys(f.ret).length) o.ret = { ...f.ret };
  const attrs = writeAttrMap(f.attr, false);
  if (attrs) o.attr = attrs;
  Object.assign(o, extras.get(f));
  return o;
}

const GRAPH_FIELDS = ['node', 'library', 'versions'] as const;
const libraryExtras = new WeakMap<TfGraph, Json>();
const versionsExtras = new WeakMap<TfGraph, Json>();

/**
 * Reads a GraphDef in JSON form: a tfjs `model.json` (its `modelTopology` is used) or the
 * GraphDef object itself.
 */
export function tfGraphFromJson(json: unknown, options: TfGraphFromJsonOptions = {}): TfGraph {
  const r = new JsonReader(options.file);
  let top = r.obj(typeof json === 'string' ? parseJson(r, json) : json, 'graph');
  if (top.modelTopology !== undefined) top = r.obj(top.modelTopology, 'modelTopology');
  if (top.node === undefined && top.library === undefined) {
    throw r.fail('no GraphDef here: expected a "node" list (is this a tfjs layers model rather than a graph model?)', 'modelTopology');
  }
  const weights = options.weights;
  const lookup = weights instanceof Map ? (k: string) => weights.get(k) : (k: string) => weights?.[k];
  const used = new Set<string>();
  const scope: ReadScope = {
    r,
    given: (names) => {
      for (const n of names) {
        const t = lookup(n);
        if (t) {
          used.add(n);
          return t;
        }
      }
      return undefined;
    },
  };
  const graph: TfGraph = {
    nodes: r.arr(top.node, 'node').map((x, i) => readNode(scope, x, `node[${i}]`)),
    functions: [],
  };
  if (top.library !== undefined) {
    const lib = r.obj(top.library, 'library');
    graph.functions = r.arr(lib.function, 'library.function').map((x, i) => readFunction(scope, x, `library.function[${i}]`));
    const rest: Json = {};
    for (const [k, x] of Object.entries(lib)) if (k !== 'function') rest[k] = x;
    // An empty library is kept so that it writes back.
    libraryExtras.set(graph, rest);
  }
  if (top.versions !== undefined) {
    const ver = r.obj(top.versions, 'versions');
    if (ver.producer !== undefined) graph.producer = r.int(ver.producer, 'versions.producer');
    const rest: Json = {};
    for (const [k, x] of Object.entries(ver)) if (k !== 'producer') rest[k] = x;
    versionsExtras.set(graph, rest);
  }
  keepExtras(graph, top, GRAPH_FIELDS);
  return graph;
}

function parseJson(r: JsonReader, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw r.fail(`not valid JSON: ${(e as Error).message}`);
  }
}

/** Writes a TfGraph as a GraphDef in protobuf JSON form (what tfjs puts under `modelTopology`). */
export function tfGraphToJson(tf: TfGraph, options: TfGraphToJsonOptions = {}): Json {
  const omit = options.constValues === 'omit';
  const out: Json = { node: tf.nodes.map((n) => writeNode(n, omit)) };
  const libRest = libraryExtras.get(tf);
  if (tf.functions.length || libRest) {
    const lib: Json = {};
    if (tf.functions.length) lib.function = tf.functions.map((f) => writeFunction(f, omit));
    Object.assign(lib, libRest);
    out.library = lib;
  }
  const verRest = versionsExtras.get(tf);
  if (tf.producer !== undefined || verRest) {
    const ver: Json = {};
    if (tf.producer !== undefined) ver.producer = tf.producer;
    Object.assign(ver, verRest);
    out.versions = ver;
  }
  Object.assign(out, extras.get(tf));
  return out;
}

/**
 * The values of Const nodes that hold one (graph nodes by name, function body nodes as
 * `<function>/<node>` unless their name already starts so, as tfjs-converter writes them): what
 * a tfjs weights manifest would list. Consts without a value are left out.
 */
export function tfConstValues(tf: TfGraph): Map<string, Tensor> {
  const out = new Map<string, Tensor>();
  const add = (n: TfNode, key: string) => {
    const t = n.op === 'Const' ? n.attr.value?.tensor : undefined;
    if (t && !missingValue.has(t)) out.set(key, t);
  };
  for (const n of tf.nodes) add(n, n.name);
  for (const f of tf.functions) for (const n of f.nodes) add(n, n.name.startsWith(`${f.name}/`) ? n.name : `${f.name}/${n.name}`);
  return out;
}
