/**
 * IR Model -> ONNX ModelProto bytes at a chosen opset.
 *
 * Initializers are written as `raw_data` holding exactly their bytes (strings in `string_data`), so
 * a read -> write round trip keeps every weight bit for bit. Weights are fetched one at a time
 * while the output buffer is filled. With `externalData` (or when the weights would pass the 2 GB
 * protobuf limit) tensors of 1 KB and more go to one external file, 4096-byte aligned, returned in
 * `WrittenFiles.extra`.
 */
import * as path from 'node:path';
import { Attr, CANONICAL_OPSET, Graph, Model, Value, subgraphsOf } from '../../ir/graph.js';
import { Shape, Tensor } from '../../ir/tensor.js';
import { MconvError } from '../../errors.js';
import type { WriteOptions, WrittenFiles } from '../types.js';
import { ProtoMessage } from './proto-writer.js';
import { onnxFromDtype, tensorMessage } from './tensor-proto.js';
import { EmitContext, EmitNode, checkTargetOpset, emitNode } from './downgrade.js';
import { ATTR, DimP, TypeP } from './proto.js';
import { onnxTypeOf } from './value-types.js';

/** IR version written for each opset (the onnx release that introduced the opset). */
const IR_FOR_OPSET: Record<number, number> = { 11: 6, 12: 7, 13: 7, 14: 7, 15: 8, 16: 8, 17: 8 };

/** Tensors at least this large go to the external data file. */
export const EXTERNAL_MIN_BYTES = 1024;
/** Alignment of tensors in the external data file. */
export const EXTERNAL_ALIGN = 4096;
/** Above this many bytes of weights, external data is used even when not asked for. */
export const PROTOBUF_LIMIT = 2 ** 31 - 64 * 1024 * 1024;

const GENERATED_DIM = /^unk__\d+$/;

interface WriteState {
  ctx: EmitContext;
  external?: {
    location: string;
    /** name -> placement */
    placed: Map<Tensor, { offset: number; length: number }>;
    size: number;
  };
}

function collectNames(g: Graph, into: Set<string>): void {
  for (const name of g.values.keys()) into.add(name);
  for (const n of g.nodes) {
    into.add(n.name);
    for (const s of subgraphsOf(n)) collectNames(s, into);
  }
}

function allInitializers(g: Graph, out: Tensor[] = []): Tensor[] {
  for (const v of g.initializers.values()) if (v.initializer) out.push(v.initializer);
  for (const n of g.nodes) for (const s of subgraphsOf(n)) allInitializers(s, out);
  return out;
}

function shapeMessage(shape: Shape): ProtoMessage {
  const m = new ProtoMessage();
  for (const d of shape) {
    const dim = new ProtoMessage();
    if (typeof d === 'number') dim.varint(1, d);
    else if (!GENERATED_DIM.test(d)) dim.string(2, d);
    m.message(1, dim);
  }
  return m;
}

function dimsMessage(dims: DimP[]): ProtoMessage {
  const m = new ProtoMessage();
  for (const d of dims) {
    const dim = new ProtoMessage();
    if (d.value !== undefined) dim.varint(1, d.value);
    else if (d.param) dim.string(2, d.param);
    if (d.denotation) dim.string(3, d.denotation);
    m.message(1, dim);
  }
  return m;
}

/** A TypeProto recorded by the reader (sequence, map, optional, sparse tensor). */
function typeMessage(t: TypeP): ProtoMessage {
  const m = new ProtoMessage();
  const holder = (elem?: TypeP): ProtoMessage => {
    const h = new ProtoMessage();
    if (elem) h.message(1, typeMessage(elem));
    return h;
  };
  switch (t.kind) {
    case 'tensor':
    case 'sparse': {
      const tt = new ProtoMessage();
      if (t.elemType) tt.varint(1, t.elemType);
      if (t.shape) tt.message(2, dimsMessage(t.shape));
      m.message(t.kind === 'tensor' ? 1 : 8, tt);
      break;
    }
    case 'sequence': m.message(4, holder(t.elem)); break;
    case 'optional': m.message(9, holder(t.elem)); break;
    case 'map': {
      const mm = new ProtoMessage().varint(1, t.keyType);
      if (t.value) mm.message(2, typeMessage(t.value));
      m.message(5, mm);
      break;
    }
    default: break;
  }
  if (t.denotation) m.string(6, t.denotation);
  return m;
}

function valueInfo(v: Value): ProtoMessage {
  const m = new ProtoMessage().string(1, v.name);
  const other = onnxTypeOf(v);
  if (v.dtype) {
    const tt = new ProtoMessage().varint(1, onnxFromDtype(v.dtype));
    if (v.shape) tt.message(2, shapeMessage(v.shape));
    m.message(2, new ProtoMessage().message(1, tt));
  } else if (other) {
    m.message(2, typeMessage(other));
  }
  if (v.docString) m.string(3, v.docString);
  return m;
}

function attributeMessage(name: string, a: Attr, st: WriteState): ProtoMessage {
  const m = new ProtoMessage().string(1, name);
  switch (a.kind) {
    case 'float': m.float(2, a.value).varint(20, ATTR.FLOAT); break;
    case 'int': m.varint(3, a.value).varint(20, ATTR.INT); break;
    case 'string': m.string(4, a.value).varint(20, ATTR.STRING); break;
    case 'tensor': m.message(5, tensorMessage(a.value)).varint(20, ATTR.TENSOR); break;
    case 'graph': m.message(6, graphMessage(a.value, st)).varint(20, ATTR.GRAPH); break;
    case 'floats':
      m.packedFloats(7, a.value).varint(20, ATTR.FLOATS);
      break;
    case 'ints': m.packedVarints(8, a.value).varint(20, ATTR.INTS); break;
    case 'strings':
      for (const s of a.value) m.string(9, s);
      m.varint(20, ATTR.STRINGS);
      break;
    case 'tensors':
      for (const t of a.value) m.message(10, tensorMessage(t));
      m.varint(20, ATTR.TENSORS);
      break;
    case 'graphs':
      for (const g of a.value) m.message(11, graphMessage(g, st));
      m.varint(20, ATTR.GRAPHS);
      break;
  }
  return m;
}

function nodeMessage(e: EmitNode, st: WriteState): ProtoMessage {
  const m = new ProtoMessage();
  for (const i of e.inputs) m.string(1, i);
  for (const o of e.outputs) m.string(2, o);
  if (e.name) m.string(3, e.name);
  m.string(4, e.op);
  for (const [k, a] of Object.entries(e.attrs)) m.message(5, attributeMessage(k, a, st));
  if (e.docString) m.string(6, e.docString);
  if (e.domain) m.string(7, e.domain);
  return m;
}

function initializerMessage(t: Tensor, name: string, st: WriteState): ProtoMessage {
  const placed = st.external?.placed.get(t);
  if (placed && st.external) {
    return tensorMessage(t, { name, external: { location: st.external.location, offset: placed.offset, length: placed.length } });
  }
  return tensorMessage(t, { name });
}

function graphMessage(g: Graph, st: WriteState): ProtoMessage {
  const emitted: EmitNode[] = [];
  for (const n of g.nodes) emitted.push(...emitNode(n, st.ctx));
  const extra = new Map(st.ctx.extraInitializers);
  st.ctx.extraInitializers.clear();

  const referenced = new Set<string>();
  for (const e of emitted) for (const i of e.inputs) referenced.add(i);
  const readBySubgraphs = (gr: Graph): void => {
    for (const n of gr.nodes) {
      for (const s of subgraphsOf(n)) {
        for (const sn of s.nodes) for (const i of sn.inputs) if (i) referenced.add(i.name);
        for (const o of s.outputs) referenced.add(o.name);
        readBySubgraphs(s);
      }
    }
  };
  readBySubgraphs(g);
  for (const o of g.outputs) referenced.add(o.name);

  const m = new ProtoMessage();
  for (const e of emitted) m.message(1, nodeMessage(e, st));
  m.string(2, g.name);
  for (const [name, v] of g.initializers) {
    if (!v.initializer) continue;
    if (st.ctx.maybeUnused.has(name) && !referenced.has(name)) continue;
    m.message(5, initializerMessage(v.initializer, name, st));
  }
  for (const [name, t] of extra) m.message(5, tensorMessage(t, { name }));
  if (g.docString) m.string(10, g.docString);
  for (const v of g.inputs) m.message(11, valueInfo(v));
  for (const v of g.outputs) m.message(12, valueInfo(v));
  const io = new Set([...g.inputs, ...g.outputs].map((v) => v.name));
  for (const [name, v] of g.values) {
    if (!name || io.has(name) || v.initializer || !(v.dtype || onnxTypeOf(v))) continue;
    if (!v.producer && v.consumers.size === 0) continue;
    m.message(13, valueInfo(v));
  }
  return m;
}

function planExternal(model: Model, outPath: string, options: WriteOptions): WriteState['external'] {
  const tensors = allInitializers(model.graph).filter((t) => t.dtype !== 'string');
  const total = tensors.reduce((a, t) => a + t.byteLength, 0);
  let location: string | undefined;
  if (typeof options.externalData === 'string' && options.externalData) location = options.externalData;
  else if (options.externalData === true || total > PROTOBUF_LIMIT) location = `${path.basename(outPath)}.data`;
  if (!location) return undefined;
  if (!tensors.some((t) => t.byteLength >= EXTERNAL_MIN_BYTES)) return undefined;
  if (path.isAbsolute(location) || location.split(/[\\/]/).includes('..')) {
    throw new MconvError({ kind: 'usage', message: `external data file ${location} must be a name beside the model`, hint: 'give a plain file name' });
  }
  const placed = new Map<Tensor, { offset: number; length: number }>();
  let size = 0;
  for (const t of tensors) {
    if (t.byteLength < EXTERNAL_MIN_BYTES || placed.has(t)) continue;
    const offset = Math.ceil(size / EXTERNAL_ALIGN) * EXTERNAL_ALIGN;
    placed.set(t, { offset, length: t.byteLength });
    size = offset + t.byteLength;
  }
  return { location, placed, size };
}

export function onnxIrVersion(opset: number): number {
  return IR_FOR_OPSET[opset] ?? 8;
}

/** Encodes a model as ONNX. */
export function writeOnnx(model: Model, outPath: string, options: WriteOptions = {}): WrittenFiles {
  const target = options.opset ?? CANONICAL_OPSET;
  checkTargetOpset(target);
  const current = model.opsets[''] ?? CANONICAL_OPSET;
  if (current !== CANONICAL_OPSET) {
    throw new MconvError({ kind: 'internal', message: `the model's default-domain opset is ${current}, expected the canonical ${CANONICAL_OPSET}` });
  }
  const used = new Set<string>();
  collectNames(model.graph, used);
  const fresh = (b: string): string => {
    let name = b;
    let i = 1;
    while (used.has(name)) name = `${b}_${i++}`;
    used.add(name);
    return name;
  };
  const st: WriteState = {
    ctx: { target, file: outPath, extraInitializers: new Map(), maybeUnused: new Set(), fresh },
    external: planExternal(model, outPath, options),
  };

  const graph = graphMessage(model.graph, st);
  const m = new ProtoMessage();
  m.varint(1, onnxIrVersion(target));
  m.string(2, 'mconv');
  if (model.metadata['onnx.model_domain']) m.string(4, model.metadata['onnx.model_domain']);
  const mv = Number(model.metadata['onnx.model_version']);
  if (Number.isSafeInteger(mv) && mv) m.varint(5, mv);
  if (model.docString) m.string(6, model.docString);
  m.message(7, graph);
  const domains = new Map<string, number>();
  domains.set('', target);
  for (const [d, v] of Object.entries(model.opsets)) if (d !== '') domains.set(d, v);
  const usedDomains = new Set<string>();
  const visit = (g: Graph): void => {
    for (const n of g.nodes) {
      usedDomains.add(n.domain);
      for (const s of subgraphsOf(n)) visit(s);
    }
  };
  visit(model.graph);
  for (const d of usedDomains) if (!domains.has(d)) domains.set(d, 1);
  for (const [d, v] of domains) m.message(8, new ProtoMessage().string(1, d).varint(2, v));
  const meta: [string, string][] = Object.entries(model.metadata).filter(([k]) => !k.startsWith('onnx.'));
  if (model.producer && !('source_producer' in model.metadata)) {
    meta.push(['source_producer', `${model.producer.name}${model.producer.version ? ` ${model.producer.version}` : ''}`]);
  }
  for (const [k, v] of meta) m.message(14, new ProtoMessage().string(1, k).string(2, v));

  if (m.length > 2 ** 31 - 1) {
    throw new MconvError({ kind: 'usage', message: `the ONNX file would be ${m.length} bytes, over the 2 GB protobuf limit`, hint: 'write weights to an external data file (--external-data)' });
  }
  const extra = new Map<string, Uint8Array>();
  if (st.external) {
    const buf = new Uint8Array(st.external.size);
    for (const [t, p] of st.external.placed) buf.set(t.bytes, p.offset);
    extra.set(st.external.location, buf);
  }
  return { main: m.finish(), extra };
}
