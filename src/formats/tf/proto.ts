/**
 * Decoding TensorFlow's protobuf files (GraphDef `.pb`, MetaGraphDef `.meta`, SavedModel
 * `saved_model.pb`, checkpoint index entries) with our own `.proto` descriptions in
 * `proto/tensorflow/` (loaded at run time with protobufjs; fields we do not describe are skipped),
 * and converting the messages into the plain data of tf-graph.ts: TfGraph, TfNode, TfAttr,
 * TfFunction, with TensorProtos turned into IR tensors.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';
import { MconvError } from '../../errors.js';
import { DTYPE_BYTES, Tensor, shapeSize, typedView, type DType } from '../../ir/tensor.js';
import { irDType, TF_DTYPE_NAMES, type TfArgDef, type TfAttr, type TfFunction, type TfGraph, type TfNameAttrList, type TfNode, type TfShape } from './tf-graph.js';

const PROTO_FILES = [
  'types.proto', 'tensor.proto', 'graph.proto', 'trackable_object_graph.proto', 'saved_object_graph.proto',
  'meta_graph.proto', 'tensor_bundle.proto', 'keras_metadata.proto',
];

/** The folder of our TF `.proto` files: `<package>/proto/tensorflow`, found from src/ (tsx) and dist/ alike. */
export function tfProtoDir(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  // src/formats/tf/ and dist/formats/tf/ are both three levels below the package root.
  for (const up of ['../../..', '../../../..']) {
    const dir = path.resolve(here, up, 'proto', 'tensorflow');
    if (fs.existsSync(path.join(dir, 'graph.proto'))) return dir;
  }
  throw new MconvError({
    kind: 'internal',
    message: `the TensorFlow .proto files are missing (looked for proto/tensorflow above ${here})`,
    hint: 'reinstall mconv: its package ships a proto/ folder',
  });
}

let root: protobuf.Root | undefined;

/** The protobufjs Root holding our TF messages (loaded once). */
export function tfProtoRoot(): protobuf.Root {
  if (!root) {
    const dir = tfProtoDir();
    const r = new protobuf.Root();
    // Imports name files relative to this folder.
    r.resolvePath = (_origin, target) => (path.isAbsolute(target) ? target : path.join(dir, target));
    r.loadSync(PROTO_FILES.map((f) => path.join(dir, f)));
    r.resolveAll();
    root = r;
  }
  return root;
}

/** A message type of package `tensorflow` by name (e.g. 'GraphDef', 'BundleEntryProto'). */
export function tfMessage(name: string): protobuf.Type {
  return tfProtoRoot().lookupType(`tensorflow.${name}`);
}

/** Malformed protobuf data of one TF message, as the message the reader hit it in. */
export class TfProtoError extends Error {
  constructor(readonly messageName: string, readonly detail: string) {
    super(`not a valid ${messageName} (${detail})`);
    this.name = 'TfProtoError';
  }
}

/** Decodes `bytes` as message `name`; a malformed message raises TfProtoError. */
export function decodeMessage(name: string, bytes: Uint8Array): PMsg {
  try {
    return tfMessage(name).decode(bytes) as unknown as PMsg;
  } catch (e) {
    throw new TfProtoError(name, (e as Error).message);
  }
}

// ---- helpers over protobufjs messages ----

/** A decoded protobufjs message, read loosely (the fields are checked where they are used). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type PMsg = Record<string, any>;

interface LongLike {
  low: number;
  high: number;
  unsigned: boolean;
  toNumber(): number;
}

/** A number from a protobufjs int64 (a Long, a number, or a decimal string as protobuf JSON writes them). */
export function num(v: unknown): number {
  if (v === undefined || v === null) return 0;
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint' || typeof v === 'string') return Number(v);
  return (v as LongLike).toNumber();
}

/** A bigint from a protobufjs int64/uint64. */
export function big(v: unknown, unsigned = false): bigint {
  if (typeof v === 'number') return BigInt(v);
  if (typeof v === 'bigint') return v;
  if (typeof v === 'string') return unsigned ? BigInt.asUintN(64, BigInt(v)) : BigInt.asIntN(64, BigInt(v));
  const l = v as LongLike;
  const lo = BigInt(l.low >>> 0);
  const hi = BigInt(l.high >>> 0);
  const u = (hi << 32n) | lo;
  return unsigned || l.unsigned ? u : BigInt.asIntN(64, u);
}

/** True when a field was present on the wire (protobufjs puts defaults on the prototype). */
export function has(m: PMsg | undefined, field: string): boolean {
  return !!m && Object.prototype.hasOwnProperty.call(m, field);
}

const utf8 = new TextDecoder();
export function text(b: Uint8Array): string {
  return utf8.decode(b);
}

// ---- TensorShapeProto, TensorProto ----

export function shapeFromProto(s: PMsg | undefined | null): TfShape {
  if (!s) return null;
  if (s.unknownRank) return null;
  return (s.dim as PMsg[]).map((d) => num(d.size));
}

/** Quantized types keep their bytes as the integer type of the same width. */
const QUANTIZED: Record<number, DType> = { 11: 'int8', 12: 'uint8', 13: 'int32', 15: 'int16', 16: 'uint16' };

/** The IR dtype a tensor of this TF type is read as, or undefined (resource, variant, float8). */
export function tensorDType(t: number): DType | undefined {
  const base = t >= 100 ? t - 100 : t;
  return irDType(base) ?? QUANTIZED[base];
}

export function dtypeName(t: number): string {
  return TF_DTYPE_NAMES[t >= 100 ? t - 100 : t] ?? `DataType ${t}`;
}

/** The typed value list of a TensorProto that holds data for `dtype`. */
function typedValues(p: PMsg, dtype: DType): ArrayLike<unknown> {
  switch (dtype) {
    case 'float32': return p.floatVal;
    case 'float64': return p.doubleVal;
    case 'int8': case 'int16': case 'int32': case 'uint8': case 'uint16': return p.intVal;
    case 'int64': return p.int64Val;
    case 'uint32': return p.uint32Val;
    case 'uint64': return p.uint64Val;
    case 'bool': return p.boolVal;
    case 'float16': case 'bfloat16': return p.halfVal;
    case 'complex64': return p.scomplexVal;
    case 'complex128': return p.dcomplexVal;
    case 'string': return p.stringVal;
  }
}

/** Writes `count` elements from the typed list into `view` (element i = values[i], or the last value after the list ends). */
function fillTyped(dtype: DType, values: ArrayLike<unknown>, bytes: Uint8Array, elements: number): void {
  const view = typedView(dtype, bytes);
  // complex values are pairs of floats: the lists hold 2 numbers per element.
  const per = dtype === 'complex64' || dtype === 'complex128' ? 2 : 1;
  const n = elements * per;
  const m = values.length;
  for (let i = 0; i < n; i++) {
    const v = values[i < m ? i : m - per + (i % per)];
    if (dtype === 'int64' || dtype === 'uint64') (view as BigInt64Array)[i] = big(v, dtype === 'uint64');
    else if (dtype === 'bool') (view as Uint8Array)[i] = v ? 1 : 0;
    else (view as Float64Array)[i] = Number(v);
  }
}

/**
 * An IR tensor from a TensorProto message (decoded by protobufjs). Data comes from
 * `tensor_content` (raw little-endian bytes) or from the typed list for the dtype; a list shorter
 * than the shape is filled by repeating its last value, as TensorFlow does (an empty one means zeros).
 * Throws (a TfProtoError naming what is wrong) for types the IR cannot hold or inconsistent sizes.
 */
export function tensorFromProto(p: PMsg, name?: string): Tensor {
  const tfType = num(p.dtype);
  const dtype = tensorDType(tfType);
  if (!dtype) throw new TfProtoError('TensorProto', `${name ? `tensor ${name}: ` : ''}data type ${dtypeName(tfType)} has no IR counterpart`);
  const shape = shapeFromProto(p.tensorShape) ?? [];
  if (shape.some((d) => d < 0)) throw new TfProtoError('TensorProto', `${name ? `tensor ${name}: ` : ''}constant with unknown size in shape [${shape.join(', ')}]`);
  const count = shapeSize(shape);
  if (dtype === 'string') {
    const vals = (p.stringVal as Uint8Array[]).map((b) => new Uint8Array(b));
    if (vals.length > count) throw new TfProtoError('TensorProto', `${name ? `tensor ${name}: ` : ''}${vals.length} strings for shape [${shape.join(', ')}]`);
    const filled = Array.from({ length: count }, (_, i) => vals[Math.min(i, vals.length - 1)] ?? new Uint8Array(0));
    return Tensor.fromStrings(shape, filled, name);
  }
  const width = DTYPE_BYTES[dtype];
  const content = p.tensorContent as Uint8Array | undefined;
  if (content && content.length > 0) {
    if (content.length !== count * width) {
      throw new TfProtoError('TensorProto', `${name ? `tensor ${name}: ` : ''}tensor_content has ${content.length} bytes, ${dtype}[${shape.join(', ')}] needs ${count * width}`);
    }
    // A view of a Node Buffer: copy into a plain Uint8Array of its own (cheap, keeps no pool alive).
    return Tensor.fromBytes(dtype, shape, new Uint8Array(content), name);
  }
  const values = typedValues(p, dtype);
  const per = dtype === 'complex64' || dtype === 'complex128' ? 2 : 1;
  if (values.length > count * per) {
    throw new TfProtoError('TensorProto', `${name ? `tensor ${name}: ` : ''}${values.length / per} values for shape [${shape.join(', ')}]`);
  }
  const make = (): Uint8Array => {
    const bytes = new Uint8Array(count * width);
    if (values.length > 0) fillTyped(dtype, values, bytes, count);
    return bytes;
  };
  // A short list broadcast to a large shape (zeros, fills) is only expanded when used.
  if (count > 4096 && values.length < count * per) return Tensor.lazy(dtype, shape, make, name);
  return Tensor.fromBytes(dtype, shape, make(), name);
}

// ---- AttrValue, NodeDef, FunctionDef, GraphDef ----

function nameAttrList(m: PMsg, where: string): TfNameAttrList {
  return { name: m.name as string, attr: attrMap(m.attr as Record<string, PMsg>, where) };
}

/** An AttrValue as TfAttr. A tensor whose type the IR cannot hold is left out (the attr stays, empty). */
export function attrFromProto(a: PMsg, where: string): TfAttr {
  const out: TfAttr = {};
  switch (a.value as string | undefined) {
    case 's': out.s = new Uint8Array(a.s as Uint8Array); break;
    case 'i': out.i = num(a.i); break;
    case 'f': out.f = a.f as number; break;
    case 'b': out.b = a.b as boolean; break;
    case 'type': out.type = a.type as number; break;
    case 'shape': out.shape = shapeFromProto(a.shape); break;
    case 'tensor': {
      const t = tensorOrUndefined(a.tensor, where);
      if (t) out.tensor = t;
      break;
    }
    case 'func': out.func = nameAttrList(a.func, where); break;
    case 'placeholder': out.placeholder = a.placeholder as string; break;
    case 'list': {
      const l = a.list as PMsg;
      const list: NonNullable<TfAttr['list']> = {};
      if (l.s.length) list.s = (l.s as Uint8Array[]).map((b) => new Uint8Array(b));
      if (l.i.length) list.i = (l.i as unknown[]).map(num);
      if (l.f.length) list.f = [...(l.f as number[])];
      if (l.b.length) list.b = [...(l.b as boolean[])];
      if (l.type.length) list.type = [...(l.type as number[])];
      if (l.shape.length) list.shape = (l.shape as PMsg[]).map(shapeFromProto);
      if (l.tensor.length) list.tensor = (l.tensor as PMsg[]).map((t) => tensorOrUndefined(t, where)).filter((t): t is Tensor => !!t);
      if (l.func.length) list.func = (l.func as PMsg[]).map((f) => nameAttrList(f, where));
      out.list = list;
      break;
    }
    default:
      break;
  }
  return out;
}

function tensorOrUndefined(p: PMsg, where: string): Tensor | undefined {
  const tfType = num(p.dtype);
  // Resource handles and variants (tf.data, TensorLists) hold no plain values.
  if (!tensorDType(tfType)) return undefined;
  try {
    return tensorFromProto(p, where);
  } catch (e) {
    // An inconsistent constant only matters to the node that holds it: the attr is left without its
    // tensor (the importer reports a node whose value is missing) rather than failing the whole graph.
    if (e instanceof TfProtoError) return undefined;
    throw e;
  }
}

function attrMap(m: Record<string, PMsg> | undefined, where: string): Record<string, TfAttr> {
  const out: Record<string, TfAttr> = {};
  if (!m) return out;
  // A map entry without its value decodes as null: an empty AttrValue.
  for (const key of Object.keys(m).sort()) out[key] = attrFromProto(m[key] ?? {}, `${where} attr ${key}`);
  return out;
}

export function nodeFromProto(n: PMsg, scope = ''): TfNode {
  const node: TfNode = {
    name: n.name as string,
    op: n.op as string,
    inputs: [...(n.input as string[])],
    attr: attrMap(n.attr, `${scope}node ${n.name as string}`),
  };
  if (n.device) node.device = n.device as string;
  return node;
}

function argFromProto(a: PMsg): TfArgDef {
  const arg: TfArgDef = { name: a.name as string };
  if (a.type) arg.type = a.type as number;
  if (a.typeAttr) arg.typeAttr = a.typeAttr as string;
  if (a.numberAttr) arg.numberAttr = a.numberAttr as string;
  if (a.typeListAttr) arg.typeListAttr = a.typeListAttr as string;
  return arg;
}

export function functionFromProto(f: PMsg): TfFunction {
  const sig = (f.signature ?? {}) as PMsg;
  const name = (sig.name as string | undefined) ?? '';
  return {
    name,
    inputs: ((sig.inputArg ?? []) as PMsg[]).map(argFromProto),
    outputs: ((sig.outputArg ?? []) as PMsg[]).map(argFromProto),
    ret: { ...((f.ret ?? {}) as Record<string, string>) },
    nodes: (f.nodeDef as PMsg[]).map((n) => nodeFromProto(n, `function ${name} `)),
    attr: attrMap(f.attr, `function ${name}`),
  };
}

/** A decoded GraphDef message as TfGraph. */
export function graphFromProto(g: PMsg): TfGraph {
  const graph: TfGraph = {
    nodes: (g.node as PMsg[]).map((n) => nodeFromProto(n)),
    functions: g.library ? ((g.library as PMsg).function as PMsg[]).map(functionFromProto) : [],
  };
  if (g.versions && has(g.versions, 'producer')) graph.producer = g.versions.producer as number;
  else if (g.version) graph.producer = g.version as number;
  return graph;
}

/** Decodes the bytes of a GraphDef (a frozen `.pb`). Throws TfProtoError when they are not one. */
export function decodeGraphDef(bytes: Uint8Array): TfGraph {
  return graphFromProto(decodeMessage('GraphDef', bytes));
}

// ---- MetaGraphDef, SavedModel ----

export interface TfTensorInfo {
  /** `node:port` in the graph (absent for sparse / composite tensors). */
  name?: string;
  dtype?: number;
  shape?: TfShape;
}

export interface TfSignature {
  key: string;
  methodName: string;
  inputs: Record<string, TfTensorInfo>;
  outputs: Record<string, TfTensorInfo>;
}

export interface TfSaver {
  filenameTensorName: string;
  saveTensorName: string;
  restoreOpName: string;
  /** 0 LEGACY, 1 V1, 2 V2 (TensorBundle). */
  version: number;
  sharded: boolean;
}

export interface TfObjectReference {
  nodeId: number;
  localName: string;
}

/** One node of a SavedObjectGraph (TF2 SavedModels), reduced to what the reader uses. */
export interface TfSavedObject {
  children: TfObjectReference[];
  /** The kind of object: 'user_object', 'variable', 'function', 'bare_concrete_function', 'constant', 'resource', 'asset', 'captured_tensor', or ''. */
  kind: string;
  userObject?: { identifier: string; metadata: string };
  variable?: { dtype: number; shape: TfShape; name: string; trainable: boolean };
  concreteFunctions?: string[];
  bareConcreteFunction?: string;
  constantOperation?: string;
  capturedTensor?: { name: string; concreteFunction: string };
}

export interface TfObjectGraph {
  nodes: TfSavedObject[];
  /** Concrete function name -> object node ids of its captured inputs, in order. */
  boundInputs: Record<string, number[]>;
}

export interface TfMetaGraph {
  tags: string[];
  tensorflowVersion?: string;
  tensorflowGitVersion?: string;
  graph: TfGraph;
  saver?: TfSaver;
  signatures: Record<string, TfSignature>;
  /** Collections of node names or strings (e.g. `variables`, `trainable_variables`, `saved_model_main_op`). */
  collections: Record<string, string[]>;
  objectGraph?: TfObjectGraph;
  assetFiles: { tensorName?: string; filename: string }[];
}

export interface TfSavedModel {
  schemaVersion: number;
  metaGraphs: TfMetaGraph[];
}

function tensorInfo(t: PMsg): TfTensorInfo {
  const info: TfTensorInfo = {};
  if (t.encoding === 'name') info.name = t.name as string;
  if (t.dtype) info.dtype = t.dtype as number;
  if (t.tensorShape) info.shape = shapeFromProto(t.tensorShape);
  return info;
}

function sortedRecord<T>(m: Record<string, PMsg> | undefined, f: (v: PMsg, k: string) => T): Record<string, T> {
  const out: Record<string, T> = {};
  if (m) for (const k of Object.keys(m).sort()) out[k] = f(m[k] ?? {}, k);
  return out;
}

function refs(list: PMsg[] | undefined): TfObjectReference[] {
  return (list ?? []).map((r) => ({ nodeId: r.nodeId as number, localName: r.localName as string }));
}

function objectGraphFromProto(g: PMsg): TfObjectGraph {
  const nodes = (g.nodes as PMsg[]).map((o): TfSavedObject => {
    const kind = (o.kind as string | undefined) ?? '';
    const obj: TfSavedObject = { children: refs(o.children), kind: kind.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`) };
    switch (kind) {
      case 'userObject':
        obj.userObject = { identifier: o.userObject.identifier as string, metadata: o.userObject.metadata as string };
        break;
      case 'variable': {
        const v = o.variable as PMsg;
        obj.variable = { dtype: v.dtype as number, shape: shapeFromProto(v.shape), name: v.name as string, trainable: !!v.trainable };
        break;
      }
      case 'function':
        obj.concreteFunctions = [...(o.function.concreteFunctions as string[])];
        break;
      case 'bareConcreteFunction':
        obj.bareConcreteFunction = o.bareConcreteFunction.concreteFunctionName as string;
        break;
      case 'constant':
        obj.constantOperation = o.constant.operation as string;
        break;
      case 'capturedTensor':
        obj.capturedTensor = { name: o.capturedTensor.name as string, concreteFunction: o.capturedTensor.concreteFunction as string };
        break;
    }
    return obj;
  });
  return { nodes, boundInputs: sortedRecord(g.concreteFunctions, (f) => [...(f.boundInputs as number[])]) };
}

function collectionValues(c: PMsg): string[] {
  switch (c.kind as string | undefined) {
    case 'nodeList': return [...(c.nodeList.value as string[])];
    case 'bytesList': return (c.bytesList.value as Uint8Array[]).map((b) => text(b));
    case 'int64List': return (c.int64List.value as unknown[]).map((v) => String(num(v)));
    case 'floatList': return (c.floatList.value as number[]).map(String);
    default: return [];
  }
}

export function metaGraphFromProto(m: PMsg): TfMetaGraph {
  const info = (m.metaInfoDef ?? {}) as PMsg;
  const meta: TfMetaGraph = {
    tags: [...((info.tags ?? []) as string[])],
    graph: m.graphDef ? graphFromProto(m.graphDef) : { nodes: [], functions: [] },
    signatures: sortedRecord(m.signatureDef, (s, key) => ({
      key,
      methodName: s.methodName as string,
      inputs: sortedRecord(s.inputs, tensorInfo),
      outputs: sortedRecord(s.outputs, tensorInfo),
    })),
    collections: sortedRecord(m.collectionDef, collectionValues),
    assetFiles: ((m.assetFileDef ?? []) as PMsg[]).map((a) => ({
      tensorName: a.tensorInfo ? tensorInfo(a.tensorInfo).name : undefined,
      filename: a.filename as string,
    })),
  };
  if (info.tensorflowVersion) meta.tensorflowVersion = info.tensorflowVersion as string;
  if (info.tensorflowGitVersion) meta.tensorflowGitVersion = info.tensorflowGitVersion as string;
  if (m.saverDef) {
    const s = m.saverDef as PMsg;
    meta.saver = {
      filenameTensorName: s.filenameTensorName as string,
      saveTensorName: s.saveTensorName as string,
      restoreOpName: s.restoreOpName as string,
      version: s.version as number,
      sharded: !!s.sharded,
    };
  }
  if (m.objectGraphDef) meta.objectGraph = objectGraphFromProto(m.objectGraphDef);
  return meta;
}

/** Decodes a MetaGraphDef (a TF1 `.meta` file). */
export function decodeMetaGraph(bytes: Uint8Array): TfMetaGraph {
  return metaGraphFromProto(decodeMessage('MetaGraphDef', bytes));
}

/** Decodes a SavedModel (`saved_model.pb`). */
export function decodeSavedModel(bytes: Uint8Array): TfSavedModel {
  return savedModelFromProto(decodeMessage('SavedModel', bytes));
}

/** A decoded SavedModel message (binary or text format) as TfSavedModel. */
export function savedModelFromProto(m: PMsg): TfSavedModel {
  return { schemaVersion: num(m.savedModelSchemaVersion), metaGraphs: (m.metaGraphs as PMsg[]).map(metaGraphFromProto) };
}

// ---- checkpoint messages ----

export interface TfBundleHeader {
  numShards: number;
  /** 0 little-endian, 1 big-endian. */
  endianness: number;
  producer?: number;
}

export interface TfSliceExtent {
  start: number;
  /** undefined = to the end of the dimension. */
  length?: number;
}

export interface TfBundleEntry {
  dtype: number;
  shape: TfShape;
  shardId: number;
  offset: number;
  size: number;
  crc32c: number;
  /** Partitioned variables: the slices this entry is made of (each stored under its own key). */
  slices: TfSliceExtent[][];
}

export function decodeBundleHeader(bytes: Uint8Array): TfBundleHeader {
  const h = decodeMessage('BundleHeaderProto', bytes);
  const out: TfBundleHeader = { numShards: h.numShards as number, endianness: h.endianness as number };
  if (h.version) out.producer = h.version.producer as number;
  return out;
}

export function decodeBundleEntry(bytes: Uint8Array): TfBundleEntry {
  const e = decodeMessage('BundleEntryProto', bytes);
  return {
    dtype: e.dtype as number,
    shape: shapeFromProto(e.shape) ?? [],
    shardId: e.shardId as number,
    offset: num(e.offset),
    size: num(e.size),
    crc32c: (e.crc32c as number) >>> 0,
    slices: (e.slices as PMsg[]).map((s) =>
      (s.extent as PMsg[]).map((x) => (has(x, 'length') ? { start: num(x.start), length: num(x.length) } : { start: num(x.start) })),
    ),
  };
}

export interface TfTrackableObject {
  children: TfObjectReference[];
  attributes: { name: string; fullName: string; checkpointKey: string }[];
  slotVariables: { originalVariableNodeId: number; slotName: string; slotVariableNodeId: number }[];
}

/** Decodes a TrackableObjectGraph (the `_CHECKPOINTABLE_OBJECT_GRAPH` value of a TF2 checkpoint). */
export function decodeTrackableObjectGraph(bytes: Uint8Array): TfTrackableObject[] {
  const g = decodeMessage('TrackableObjectGraph', bytes);
  return (g.nodes as PMsg[]).map((n) => ({
    children: refs(n.children),
    attributes: (n.attributes as PMsg[]).map((a) => ({ name: a.name as string, fullName: a.fullName as string, checkpointKey: a.checkpointKey as string })),
    slotVariables: (n.slotVariables as PMsg[]).map((s) => ({
      originalVariableNodeId: s.originalVariableNodeId as number,
      slotName: s.slotName as string,
      slotVariableNodeId: s.slotVariableNodeId as number,
    })),
  }));
}

export interface TfKerasObject {
  nodeId: number;
  nodePath: string;
  identifier: string;
  /** JSON text. */
  metadata: string;
}

/** Decodes `keras_metadata.pb` (Keras' SavedMetadata). */
export function decodeKerasMetadata(bytes: Uint8Array): TfKerasObject[] {
  const m = decodeMessage('KerasSavedMetadata', bytes);
  return (m.nodes as PMsg[]).map((n) => ({
    nodeId: n.nodeId as number,
    nodePath: n.nodePath as string,
    identifier: n.identifier as string,
    metadata: n.metadata as string,
  }));
}
