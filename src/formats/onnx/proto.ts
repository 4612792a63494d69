/**
 * Reading ONNX protobuf messages (onnx.proto, IR version up to 10) from a `ProtoCursor`.
 *
 * Only what must stay lazy or needs file positions is walked field by field here: ModelProto and
 * GraphProto (to reach initializers and the graphs of functions), NodeProto and AttributeProto
 * down to the attributes that hold tensors or subgraphs, and TensorProto, whose `raw_data` stays
 * a `ByteRef` (a file range for a model scanned from disk) and whose typed data fields stay a
 * `FieldSet` decoded only when the tensor's bytes are first used. Every other field is decoded by
 * onnx-proto's generated decoders: the fields a message has besides those walked here are
 * gathered (they form a valid message of their own) and handed to `onnx.<Message>.decode`.
 */
import { ByteRef, FieldSet, ProtoCursor, ProtoFormatError, WIRE_LEN, splitFields } from '../../io/protobuf-scan.js';
import { OnnxSchema, decodeFields, has, int64Num, onnx } from './schema.js';

/** An ONNX TypeProto as onnx-proto decodes it. */
export type TypeP = OnnxSchema.ITypeProto;

/** AttributeProto.AttributeType values. */
export const ATTR = onnx.AttributeProto.AttributeType;

export interface StringEntryP {
  key: string;
  value: string;
}

export interface TensorP {
  name: string;
  dims: number[];
  dataType: number;
  raw?: ByteRef;
  /** float_data, int32_data, string_data, int64_data, double_data, uint64_data, as a TensorProto of their own. */
  data: FieldSet;
  externalData: StringEntryP[];
  /** 0 DEFAULT, 1 EXTERNAL. */
  dataLocation: number;
  segmented: boolean;
  /** Absolute offset of the message (for error messages). */
  offset: number;
}

export interface SparseTensorP {
  values?: TensorP;
  indices?: TensorP;
  dims: number[];
}

export interface ValueInfoP {
  name: string;
  type?: TypeP;
  docString?: string;
}

export interface AttributeP {
  name: string;
  type: number;
  refAttrName?: string;
  docString?: string;
  f?: number;
  i?: number;
  s?: Uint8Array;
  floats: number[];
  ints: number[];
  strings: Uint8Array[];
  t?: TensorP;
  g?: GraphP;
  sparseTensor?: SparseTensorP;
  tensors: TensorP[];
  graphs: GraphP[];
  sparseTensors: SparseTensorP[];
}

export interface NodeP {
  inputs: string[];
  outputs: string[];
  name: string;
  opType: string;
  domain: string;
  attributes: AttributeP[];
  docString?: string;
}

export interface GraphP {
  name: string;
  nodes: NodeP[];
  initializers: TensorP[];
  sparseInitializers: SparseTensorP[];
  docString?: string;
  inputs: ValueInfoP[];
  outputs: ValueInfoP[];
  valueInfo: ValueInfoP[];
}

export interface OpsetP {
  domain: string;
  version: number;
}

export interface FunctionP {
  name: string;
  domain: string;
  inputs: string[];
  outputs: string[];
  attributes: string[];
  attributeProtos: AttributeP[];
  nodes: NodeP[];
  opsetImport: OpsetP[];
  docString?: string;
}

export interface ModelP {
  irVersion?: number;
  opsetImport: OpsetP[];
  producerName?: string;
  producerVersion?: string;
  domain?: string;
  modelVersion?: number;
  docString?: string;
  graph?: GraphP;
  metadataProps: StringEntryP[];
  functions: FunctionP[];
  /** True when training_info is present (ignored). */
  hasTrainingInfo: boolean;
}

/** An embedded message walked here: it must be length-delimited. */
function embedded(c: ProtoCursor, wire: number, what: string, keepOnDisk = false): ProtoCursor {
  if (wire !== WIRE_LEN) throw new ProtoFormatError(`${what} has wire type ${wire}, expected ${WIRE_LEN}`, c.pos);
  return c.message(keepOnDisk);
}

const text = (s: string | null | undefined): string | undefined => s || undefined;
const entry = (e: OnnxSchema.IStringStringEntryProto): StringEntryP => ({ key: e.key ?? '', value: e.value ?? '' });
const opset = (o: OnnxSchema.IOperatorSetIdProto): OpsetP => ({ domain: o.domain ?? '', version: int64Num(o.version) });
const valueInfo = (v: OnnxSchema.IValueInfoProto): ValueInfoP => ({
  name: v.name ?? '',
  type: v.type ?? undefined,
  docString: text(v.docString),
});

/** TensorProto fields that carry the values (decoded when the tensor's bytes are needed). */
const TENSOR_DATA_FIELDS = new Set([4, 5, 6, 7, 10, 11]);
const RAW_DATA = 9;

export function scanTensor(c: ProtoCursor): TensorP {
  const offset = c.pos;
  const header = new FieldSet(c);
  const data = new FieldSet(c);
  let raw: ByteRef | undefined;
  splitFields(c, (field, wire) => {
    if (field === RAW_DATA) {
      if (wire !== WIRE_LEN) throw new ProtoFormatError(`TensorProto.raw_data has wire type ${wire}, expected ${WIRE_LEN}`, c.pos);
      raw = c.bytesRef();
      return undefined;
    }
    return TENSOR_DATA_FIELDS.has(field) ? data : header;
  });
  const h = decodeFields('TensorProto', header, (b) => onnx.TensorProto.decode(b));
  return {
    name: h.name,
    dims: h.dims.map(int64Num),
    dataType: h.dataType,
    raw,
    data,
    externalData: h.externalData.map(entry),
    dataLocation: h.dataLocation,
    segmented: h.segment != null,
    offset,
  };
}

function scanSparseTensor(c: ProtoCursor): SparseTensorP {
  const rest = new FieldSet(c);
  const s: SparseTensorP = { dims: [] };
  splitFields(c, (field, wire) => {
    if (field === 1) s.values = scanTensor(embedded(c, wire, 'SparseTensorProto.values', true));
    else if (field === 2) s.indices = scanTensor(embedded(c, wire, 'SparseTensorProto.indices', true));
    else return rest;
    return undefined;
  });
  s.dims = decodeFields('SparseTensorProto', rest, (b) => onnx.SparseTensorProto.decode(b)).dims.map(int64Num);
  return s;
}

export function scanAttribute(c: ProtoCursor): AttributeP {
  const rest = new FieldSet(c);
  const held: Pick<AttributeP, 't' | 'g' | 'sparseTensor' | 'tensors' | 'graphs' | 'sparseTensors'> = {
    tensors: [],
    graphs: [],
    sparseTensors: [],
  };
  splitFields(c, (field, wire) => {
    switch (field) {
      case 5: held.t = scanTensor(embedded(c, wire, 'AttributeProto.t', true)); break;
      case 6: held.g = scanGraph(embedded(c, wire, 'AttributeProto.g', true)); break;
      case 10: held.tensors.push(scanTensor(embedded(c, wire, 'AttributeProto.tensors', true))); break;
      case 11: held.graphs.push(scanGraph(embedded(c, wire, 'AttributeProto.graphs', true))); break;
      case 22: held.sparseTensor = scanSparseTensor(embedded(c, wire, 'AttributeProto.sparse_tensor', true)); break;
      case 23: held.sparseTensors.push(scanSparseTensor(embedded(c, wire, 'AttributeProto.sparse_tensors', true))); break;
      default: return rest;
    }
    return undefined;
  });
  const p = decodeFields('AttributeProto', rest, (b) => onnx.AttributeProto.decode(b));
  const a: AttributeP = {
    name: p.name,
    type: p.type,
    refAttrName: text(p.refAttrName),
    docString: text(p.docString),
    f: has(p, 'f') ? p.f : undefined,
    i: has(p, 'i') ? int64Num(p.i) : undefined,
    s: has(p, 's') ? p.s : undefined,
    floats: p.floats.slice(),
    ints: p.ints.map(int64Num),
    strings: p.strings.slice(),
    ...held,
  };
  if (a.type === ATTR.UNDEFINED) a.type = inferAttrType(a);
  return a;
}

/** Very old files (IR 1) leave AttributeProto.type unset: infer it from the field present. */
function inferAttrType(a: AttributeP): number {
  if (a.f !== undefined) return ATTR.FLOAT;
  if (a.i !== undefined) return ATTR.INT;
  if (a.s !== undefined) return ATTR.STRING;
  if (a.t !== undefined) return ATTR.TENSOR;
  if (a.g !== undefined) return ATTR.GRAPH;
  if (a.sparseTensor !== undefined) return ATTR.SPARSE_TENSOR;
  if (a.floats.length) return ATTR.FLOATS;
  if (a.ints.length) return ATTR.INTS;
  if (a.strings.length) return ATTR.STRINGS;
  if (a.tensors.length) return ATTR.TENSORS;
  if (a.graphs.length) return ATTR.GRAPHS;
  return ATTR.UNDEFINED;
}

export function scanNode(c: ProtoCursor): NodeP {
  const rest = new FieldSet(c);
  const attributes: AttributeP[] = [];
  splitFields(c, (field, wire) => {
    if (field !== 5) return rest;
    attributes.push(scanAttribute(embedded(c, wire, 'NodeProto.attribute')));
    return undefined;
  });
  const n = decodeFields('NodeProto', rest, (b) => onnx.NodeProto.decode(b));
  return {
    inputs: n.input.slice(),
    outputs: n.output.slice(),
    name: n.name,
    opType: n.opType,
    domain: n.domain,
    attributes,
    docString: text(n.docString),
  };
}

export function scanGraph(c: ProtoCursor): GraphP {
  const rest = new FieldSet(c);
  const nodes: NodeP[] = [];
  const initializers: TensorP[] = [];
  const sparseInitializers: SparseTensorP[] = [];
  splitFields(c, (field, wire) => {
    switch (field) {
      case 1: nodes.push(scanNode(embedded(c, wire, 'GraphProto.node'))); break;
      case 5: initializers.push(scanTensor(embedded(c, wire, 'GraphProto.initializer', true))); break;
      case 15: sparseInitializers.push(scanSparseTensor(embedded(c, wire, 'GraphProto.sparse_initializer', true))); break;
      default: return rest;
    }
    return undefined;
  });
  const g = decodeFields('GraphProto', rest, (b) => onnx.GraphProto.decode(b));
  return {
    name: g.name,
    nodes,
    initializers,
    sparseInitializers,
    docString: text(g.docString),
    inputs: g.input.map(valueInfo),
    outputs: g.output.map(valueInfo),
    valueInfo: g.valueInfo.map(valueInfo),
  };
}

function scanFunction(c: ProtoCursor): FunctionP {
  const rest = new FieldSet(c);
  const nodes: NodeP[] = [];
  const attributeProtos: AttributeP[] = [];
  splitFields(c, (field, wire) => {
    if (field === 7) nodes.push(scanNode(embedded(c, wire, 'FunctionProto.node')));
    // attribute_proto (defaults of function attributes) is newer than onnx-proto's schema
    else if (field === 11) attributeProtos.push(scanAttribute(embedded(c, wire, 'FunctionProto.attribute_proto')));
    else return rest;
    return undefined;
  });
  const f = decodeFields('FunctionProto', rest, (b) => onnx.FunctionProto.decode(b));
  return {
    name: f.name,
    domain: f.domain,
    inputs: f.input.slice(),
    outputs: f.output.slice(),
    attributes: f.attribute.slice(),
    attributeProtos,
    nodes,
    opsetImport: f.opsetImport.map(opset),
    docString: text(f.docString),
  };
}

export function scanModel(c: ProtoCursor): ModelP {
  const rest = new FieldSet(c);
  let graph: GraphP | undefined;
  const functions: FunctionP[] = [];
  let hasTrainingInfo = false;
  splitFields(c, (field, wire) => {
    switch (field) {
      case 7: graph = scanGraph(embedded(c, wire, 'ModelProto.graph', true)); break;
      case 20: embedded(c, wire, 'ModelProto.training_info', true); hasTrainingInfo = true; break;
      case 25: functions.push(scanFunction(embedded(c, wire, 'ModelProto.functions', true))); break;
      default: return rest;
    }
    return undefined;
  });
  const m = decodeFields('ModelProto', rest, (b) => onnx.ModelProto.decode(b));
  return {
    irVersion: has(m, 'irVersion') ? int64Num(m.irVersion) : undefined,
    opsetImport: m.opsetImport.map(opset),
    producerName: text(m.producerName),
    producerVersion: text(m.producerVersion),
    domain: text(m.domain),
    modelVersion: has(m, 'modelVersion') ? int64Num(m.modelVersion) : undefined,
    docString: text(m.docString),
    graph,
    metadataProps: m.metadataProps.map(entry),
    functions,
    hasTrainingInfo,
  };
}
