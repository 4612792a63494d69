/**
 * Decoding ONNX protobuf messages (onnx.proto, IR version up to 10) from a `ProtoCursor` into
 * plain objects. Tensor payloads (`raw_data`, packed typed fields) stay `ByteRef`s, so a model
 * scanned from a file never reads its weights here. Field numbers are those of onnx.proto.
 */
import {
  ByteRef,
  ProtoCursor,
  ProtoFormatError,
  WIRE_I32,
  WIRE_I64,
  WIRE_LEN,
  WIRE_VARINT,
  readRepeated,
} from '../../io/protobuf-scan.js';

/** A repeated numeric field: packed chunks kept as references, loose values decoded. */
export type NumericParts = (ByteRef | number[] | bigint[])[];

export interface StringEntryP {
  key: string;
  value: string;
}

export interface TensorP {
  name: string;
  dims: number[];
  dataType: number;
  docString?: string;
  raw?: ByteRef;
  floatData: NumericParts;
  int32Data: NumericParts;
  stringData: Uint8Array[];
  int64Data: NumericParts;
  doubleData: NumericParts;
  uint64Data: NumericParts;
  externalData: StringEntryP[];
  /** 0 DEFAULT, 1 EXTERNAL. */
  dataLocation: number;
  segment?: { begin: number; end: number };
  /** Absolute offset of the message (for error messages). */
  offset: number;
}

export interface SparseTensorP {
  values?: TensorP;
  indices?: TensorP;
  dims: number[];
}

export interface DimP {
  value?: number;
  param?: string;
  denotation?: string;
}

export type TypeP =
  | { kind: 'tensor'; elemType: number; shape?: DimP[]; denotation?: string }
  | { kind: 'sparse'; elemType: number; shape?: DimP[]; denotation?: string }
  | { kind: 'sequence'; elem?: TypeP; denotation?: string }
  | { kind: 'optional'; elem?: TypeP; denotation?: string }
  | { kind: 'map'; keyType: number; value?: TypeP; denotation?: string }
  | { kind: 'unknown'; denotation?: string };

export interface ValueInfoP {
  name: string;
  type?: TypeP;
  docString?: string;
}

/** AttributeProto.AttributeType values. */
export const ATTR = {
  UNDEFINED: 0,
  FLOAT: 1,
  INT: 2,
  STRING: 3,
  TENSOR: 4,
  GRAPH: 5,
  FLOATS: 6,
  INTS: 7,
  STRINGS: 8,
  TENSORS: 9,
  GRAPHS: 10,
  SPARSE_TENSOR: 11,
  SPARSE_TENSORS: 12,
  TYPE_PROTO: 13,
  TYPE_PROTOS: 14,
} as const;

export interface AttributeP {
  name: string;
  type: number;
  refAttrName?: string;
  docString?: string;
  f?: number;
  i?: number;
  s?: Uint8Array;
  t?: TensorP;
  g?: GraphP;
  sparseTensor?: SparseTensorP;
  tp?: TypeP;
  floats: number[];
  ints: number[];
  strings: Uint8Array[];
  tensors: TensorP[];
  graphs: GraphP[];
  sparseTensors: SparseTensorP[];
  tps: TypeP[];
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

function expectWire(c: ProtoCursor, wire: number, expected: number, what: string): void {
  if (wire !== expected) throw new ProtoFormatError(`field ${what} has wire type ${wire}, expected ${expected}`, c.pos);
}

function pushNumber(parts: NumericParts, v: number | bigint): void {
  const last = parts[parts.length - 1];
  if (Array.isArray(last)) (last as (number | bigint)[]).push(v);
  else parts.push((typeof v === 'bigint' ? [v] : [v]) as number[] | bigint[]);
}

/** A repeated numeric field of a TensorProto: packed chunks stay references. */
function numericField(
  c: ProtoCursor,
  wire: number,
  scalarWire: number,
  parts: NumericParts,
  readOne: (c: ProtoCursor) => number | bigint,
): void {
  if (wire === WIRE_LEN) parts.push(c.bytesRef());
  else if (wire === scalarWire) pushNumber(parts, readOne(c));
  else throw new ProtoFormatError(`wire type ${wire} where ${scalarWire} was expected`, c.pos);
}

function int64List(c: ProtoCursor, wire: number, out: number[]): void {
  readRepeated(c, wire, WIRE_VARINT, (s) => out.push(s.int64()));
}

function stringEntry(c: ProtoCursor): StringEntryP {
  const e: StringEntryP = { key: '', value: '' };
  while (!c.atEnd()) {
    const { field, wire } = c.tag();
    if (field === 1 && wire === WIRE_LEN) e.key = c.string();
    else if (field === 2 && wire === WIRE_LEN) e.value = c.string();
    else c.skip(wire);
  }
  return e;
}

export function decodeTensor(c: ProtoCursor): TensorP {
  const t: TensorP = {
    name: '',
    dims: [],
    dataType: 0,
    floatData: [],
    int32Data: [],
    stringData: [],
    int64Data: [],
    doubleData: [],
    uint64Data: [],
    externalData: [],
    dataLocation: 0,
    offset: c.pos,
  };
  while (!c.atEnd()) {
    const { field, wire } = c.tag();
    switch (field) {
      case 1: int64List(c, wire, t.dims); break;
      case 2: expectWire(c, wire, WIRE_VARINT, 'data_type'); t.dataType = c.int32(); break;
      case 3: {
        expectWire(c, wire, WIRE_LEN, 'segment');
        const s = c.message();
        const seg = { begin: 0, end: 0 };
        while (!s.atEnd()) {
          const k = s.tag();
          if (k.field === 1 && k.wire === WIRE_VARINT) seg.begin = s.int64();
          else if (k.field === 2 && k.wire === WIRE_VARINT) seg.end = s.int64();
          else s.skip(k.wire);
        }
        t.segment = seg;
        break;
      }
      case 4: numericField(c, wire, WIRE_I32, t.floatData, (s) => s.float()); break;
      case 5: numericField(c, wire, WIRE_VARINT, t.int32Data, (s) => s.int32()); break;
      case 6: expectWire(c, wire, WIRE_LEN, 'string_data'); t.stringData.push(c.bytesRef().read()); break;
      case 7: numericField(c, wire, WIRE_VARINT, t.int64Data, (s) => s.int64Big()); break;
      case 8: expectWire(c, wire, WIRE_LEN, 'name'); t.name = c.string(); break;
      case 9: expectWire(c, wire, WIRE_LEN, 'raw_data'); t.raw = c.bytesRef(); break;
      case 10: numericField(c, wire, WIRE_I64, t.doubleData, (s) => s.double()); break;
      case 11: numericField(c, wire, WIRE_VARINT, t.uint64Data, (s) => s.uint64Big()); break;
      case 12: expectWire(c, wire, WIRE_LEN, 'doc_string'); t.docString = c.string(); break;
      case 13: expectWire(c, wire, WIRE_LEN, 'external_data'); t.externalData.push(stringEntry(c.message())); break;
      case 14: expectWire(c, wire, WIRE_VARINT, 'data_location'); t.dataLocation = c.int32(); break;
      default: c.skip(wire);
    }
  }
  return t;
}

function decodeSparseTensor(c: ProtoCursor): SparseTensorP {
  const s: SparseTensorP = { dims: [] };
  while (!c.atEnd()) {
    const { field, wire } = c.tag();
    if (field === 1 && wire === WIRE_LEN) s.values = decodeTensor(c.message(true));
    else if (field === 2 && wire === WIRE_LEN) s.indices = decodeTensor(c.message(true));
    else if (field === 3) int64List(c, wire, s.dims);
    else c.skip(wire);
  }
  return s;
}

function decodeShape(c: ProtoCursor): DimP[] {
  const dims: DimP[] = [];
  while (!c.atEnd()) {
    const { field, wire } = c.tag();
    if (field === 1 && wire === WIRE_LEN) {
      const d = c.message();
      const dim: DimP = {};
      while (!d.atEnd()) {
        const k = d.tag();
        if (k.field === 1 && k.wire === WIRE_VARINT) dim.value = d.int64();
        else if (k.field === 2 && k.wire === WIRE_LEN) dim.param = d.string();
        else if (k.field === 3 && k.wire === WIRE_LEN) dim.denotation = d.string();
        else d.skip(k.wire);
      }
      dims.push(dim);
    } else c.skip(wire);
  }
  return dims;
}

function decodeTensorType(c: ProtoCursor, kind: 'tensor' | 'sparse'): TypeP {
  let elemType = 0;
  let shape: DimP[] | undefined;
  while (!c.atEnd()) {
    const { field, wire } = c.tag();
    if (field === 1 && wire === WIRE_VARINT) elemType = c.int32();
    else if (field === 2 && wire === WIRE_LEN) shape = decodeShape(c.message());
    else c.skip(wire);
  }
  return { kind, elemType, shape };
}

function decodeElemHolder(c: ProtoCursor): TypeP | undefined {
  let elem: TypeP | undefined;
  while (!c.atEnd()) {
    const { field, wire } = c.tag();
    if (field === 1 && wire === WIRE_LEN) elem = decodeType(c.message());
    else c.skip(wire);
  }
  return elem;
}

export function decodeType(c: ProtoCursor): TypeP {
  let t: TypeP = { kind: 'unknown' };
  let denotation: string | undefined;
  while (!c.atEnd()) {
    const { field, wire } = c.tag();
    if (wire !== WIRE_LEN) {
      c.skip(wire);
      continue;
    }
    switch (field) {
      case 1: t = decodeTensorType(c.message(), 'tensor'); break;
      case 4: t = { kind: 'sequence', elem: decodeElemHolder(c.message()) }; break;
      case 5: {
        const m = c.message();
        let keyType = 0;
        let value: TypeP | undefined;
        while (!m.atEnd()) {
          const k = m.tag();
          if (k.field === 1 && k.wire === WIRE_VARINT) keyType = m.int32();
          else if (k.field === 2 && k.wire === WIRE_LEN) value = decodeType(m.message());
          else m.skip(k.wire);
        }
        t = { kind: 'map', keyType, value };
        break;
      }
      case 6: denotation = c.string(); break;
      case 8: t = decodeTensorType(c.message(), 'sparse'); break;
      case 9: t = { kind: 'optional', elem: decodeElemHolder(c.message()) }; break;
      default: c.skip(wire);
    }
  }
  if (denotation !== undefined) t.denotation = denotation;
  return t;
}

export function decodeValueInfo(c: ProtoCursor): ValueInfoP {
  const v: ValueInfoP = { name: '' };
  while (!c.atEnd()) {
    const { field, wire } = c.tag();
    if (field === 1 && wire === WIRE_LEN) v.name = c.string();
    else if (field === 2 && wire === WIRE_LEN) v.type = decodeType(c.message());
    else if (field === 3 && wire === WIRE_LEN) v.docString = c.string();
    else c.skip(wire);
  }
  return v;
}

export function decodeAttribute(c: ProtoCursor): AttributeP {
  const a: AttributeP = {
    name: '',
    type: ATTR.UNDEFINED,
    floats: [],
    ints: [],
    strings: [],
    tensors: [],
    graphs: [],
    sparseTensors: [],
    tps: [],
  };
  while (!c.atEnd()) {
    const { field, wire } = c.tag();
    switch (field) {
      case 1: expectWire(c, wire, WIRE_LEN, 'name'); a.name = c.string(); break;
      case 2: expectWire(c, wire, WIRE_I32, 'f'); a.f = c.float(); break;
      case 3: expectWire(c, wire, WIRE_VARINT, 'i'); a.i = c.int64(); break;
      case 4: expectWire(c, wire, WIRE_LEN, 's'); a.s = c.bytes(); break;
      case 5: expectWire(c, wire, WIRE_LEN, 't'); a.t = decodeTensor(c.message(true)); break;
      case 6: expectWire(c, wire, WIRE_LEN, 'g'); a.g = decodeGraph(c.message(true)); break;
      case 7: readRepeated(c, wire, WIRE_I32, (s) => a.floats.push(s.float())); break;
      case 8: int64List(c, wire, a.ints); break;
      case 9: expectWire(c, wire, WIRE_LEN, 'strings'); a.strings.push(c.bytes()); break;
      case 10: expectWire(c, wire, WIRE_LEN, 'tensors'); a.tensors.push(decodeTensor(c.message(true))); break;
      case 11: expectWire(c, wire, WIRE_LEN, 'graphs'); a.graphs.push(decodeGraph(c.message(true))); break;
      case 13: expectWire(c, wire, WIRE_LEN, 'doc_string'); a.docString = c.string(); break;
      case 14: expectWire(c, wire, WIRE_LEN, 'tp'); a.tp = decodeType(c.message()); break;
      case 15: expectWire(c, wire, WIRE_LEN, 'type_protos'); a.tps.push(decodeType(c.message())); break;
      case 20: expectWire(c, wire, WIRE_VARINT, 'type'); a.type = c.int32(); break;
      case 21: expectWire(c, wire, WIRE_LEN, 'ref_attr_name'); a.refAttrName = c.string(); break;
      case 22: expectWire(c, wire, WIRE_LEN, 'sparse_tensor'); a.sparseTensor = decodeSparseTensor(c.message(true)); break;
      case 23: expectWire(c, wire, WIRE_LEN, 'sparse_tensors'); a.sparseTensors.push(decodeSparseTensor(c.message(true))); break;
      default: c.skip(wire);
    }
  }
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

export function decodeNode(c: ProtoCursor): NodeP {
  const n: NodeP = { inputs: [], outputs: [], name: '', opType: '', domain: '', attributes: [] };
  while (!c.atEnd()) {
    const { field, wire } = c.tag();
    if (wire !== WIRE_LEN) {
      c.skip(wire);
      continue;
    }
    switch (field) {
      case 1: n.inputs.push(c.string()); break;
      case 2: n.outputs.push(c.string()); break;
      case 3: n.name = c.string(); break;
      case 4: n.opType = c.string(); break;
      case 5: n.attributes.push(decodeAttribute(c.message())); break;
      case 6: n.docString = c.string(); break;
      case 7: n.domain = c.string(); break;
      default: c.skip(wire);
    }
  }
  return n;
}

export function decodeGraph(c: ProtoCursor): GraphP {
  const g: GraphP = {
    name: '',
    nodes: [],
    initializers: [],
    sparseInitializers: [],
    inputs: [],
    outputs: [],
    valueInfo: [],
  };
  while (!c.atEnd()) {
    const { field, wire } = c.tag();
    if (wire !== WIRE_LEN) {
      c.skip(wire);
      continue;
    }
    switch (field) {
      case 1: g.nodes.push(decodeNode(c.message())); break;
      case 2: g.name = c.string(); break;
      case 5: g.initializers.push(decodeTensor(c.message(true))); break;
      case 10: g.docString = c.string(); break;
      case 11: g.inputs.push(decodeValueInfo(c.message())); break;
      case 12: g.outputs.push(decodeValueInfo(c.message())); break;
      case 13: g.valueInfo.push(decodeValueInfo(c.message())); break;
      case 15: g.sparseInitializers.push(decodeSparseTensor(c.message(true))); break;
      default: c.skip(wire);
    }
  }
  return g;
}

function decodeOpset(c: ProtoCursor): OpsetP {
  const o: OpsetP = { domain: '', version: 0 };
  while (!c.atEnd()) {
    const { field, wire } = c.tag();
    if (field === 1 && wire === WIRE_LEN) o.domain = c.string();
    else if (field === 2 && wire === WIRE_VARINT) o.version = c.int64();
    else c.skip(wire);
  }
  return o;
}

function decodeFunction(c: ProtoCursor): FunctionP {
  const f: FunctionP = {
    name: '',
    domain: '',
    inputs: [],
    outputs: [],
    attributes: [],
    attributeProtos: [],
    nodes: [],
    opsetImport: [],
  };
  while (!c.atEnd()) {
    const { field, wire } = c.tag();
    if (wire !== WIRE_LEN) {
      c.skip(wire);
      continue;
    }
    switch (field) {
      case 1: f.name = c.string(); break;
      case 4: f.inputs.push(c.string()); break;
      case 5: f.outputs.push(c.string()); break;
      case 6: f.attributes.push(c.string()); break;
      case 7: f.nodes.push(decodeNode(c.message())); break;
      case 8: f.docString = c.string(); break;
      case 9: f.opsetImport.push(decodeOpset(c.message())); break;
      case 10: f.domain = c.string(); break;
      case 11: f.attributeProtos.push(decodeAttribute(c.message())); break;
      default: c.skip(wire);
    }
  }
  return f;
}

/** ModelProto field numbers and wire types (for sniffing). */
export const MODEL_FIELDS: Record<number, number> = {
  1: WIRE_VARINT, // ir_version
  2: WIRE_LEN, // producer_name
  3: WIRE_LEN, // producer_version
  4: WIRE_LEN, // domain
  5: WIRE_VARINT, // model_version
  6: WIRE_LEN, // doc_string
  7: WIRE_LEN, // graph
  8: WIRE_LEN, // opset_import
  14: WIRE_LEN, // metadata_props
  20: WIRE_LEN, // training_info
  25: WIRE_LEN, // functions
};

export function decodeModel(c: ProtoCursor): ModelP {
  const m: ModelP = { opsetImport: [], metadataProps: [], functions: [], hasTrainingInfo: false };
  while (!c.atEnd()) {
    const { field, wire } = c.tag();
    const expected = MODEL_FIELDS[field];
    if (expected !== undefined && wire !== expected) {
      throw new ProtoFormatError(`ModelProto field ${field} has wire type ${wire}, expected ${expected}`, c.pos);
    }
    switch (field) {
      case 1: m.irVersion = c.int64(); break;
      case 2: m.producerName = c.string(); break;
      case 3: m.producerVersion = c.string(); break;
      case 4: m.domain = c.string(); break;
      case 5: m.modelVersion = c.int64(); break;
      case 6: m.docString = c.string(); break;
      case 7: m.graph = decodeGraph(c.message(true)); break;
      case 8: m.opsetImport.push(decodeOpset(c.message())); break;
      case 14: m.metadataProps.push(stringEntry(c.message())); break;
      case 20: m.hasTrainingInfo = true; c.skip(wire); break;
      case 25: m.functions.push(decodeFunction(c.message(true))); break;
      default: c.skip(wire);
    }
  }
  return m;
}
