/**
 * IR Model -> ONNX ModelProto bytes at a chosen opset.
 *
 * Initializers are written as `raw_data` holding exactly their bytes (strings in `string_data`), so
 * a read -> write round trip keeps every weight bit for bit. The messages around them are encoded
 * by onnx-proto; weights are framed as `raw_data` by `FramedMessage` and fetched one at a time
 * (`Tensor.readBytes`, so lazy weights are not kept) while the output buffer is filled. With
 * `externalData` (or when the weights would pass the 2 GB protobuf limit) tensors of 1 KB and more
 * go to one external file, 4096-byte aligned, returned in `WrittenFiles.extra`.
 */
import * as path from 'node:path';
import { Attr, CANONICAL_OPSET, Graph, Model, Value, subgraphsOf } from '../../ir/graph.js';
import { Shape, Tensor } from '../../ir/tensor.js';
import { MconvError } from '../../errors.js';
import type { WriteOptions, WrittenFiles } from '../types.js';
import { FramedMessage } from './proto-writer.js';
import { onnxFromDtype, tensorMessage } from './tensor-proto.js';
import { EmitContext, EmitNode, checkTargetOpset, emitNode } from './downgrade.js';
import { ATTR } from './proto.js';
import { OnnxSchema, int64Field, onnx } from './schema.js';
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

function shapeProto(shape: Shape): OnnxSchema.ITensorShapeProto {
  return { dim: shape.map((d) => (typeof d === 'number' ? { dimValue: d } : GENERATED_DIM.test(d) ? {} : { dimParam: d })) };
}

function valueInfo(v: Value): OnnxSchema.IValueInfoProto {
  const other = onnxTypeOf(v);
  let type: OnnxSchema.ITypeProto | undefined;
  if (v.dtype) {
    type = { tensorType: { elemType: onnxFromDtype(v.dtype), shape: v.shape ? shapeProto(v.shape) : undefined } };
  } else if (other) {
    type = other; // a sequence, map, optional or sparse type as the reader decoded it
  }
  return { name: v.name, type, docString: v.docString || undefined };
}

const utf8 = new TextEncoder();

/** An attribute: encoded whole by onnx-proto, or framed around the tensors and graphs it holds. */
function attributeMessage(name: string, a: Attr, st: WriteState): FramedMessage | Uint8Array {
  const encode = (p: OnnxSchema.IAttributeProto): Uint8Array => onnx.AttributeProto.encode(p).finish();
  switch (a.kind) {
    case 'float': return encode({ name, f: a.value, type: ATTR.FLOAT });
    case 'int': return encode({ name, i: int64Field(a.value), type: ATTR.INT });
    case 'string': return encode({ name, s: utf8.encode(a.value), type: ATTR.STRING });
    case 'floats': return encode({ name, floats: a.value, type: ATTR.FLOATS });
    case 'ints': return encode({ name, ints: a.value.map(int64Field), type: ATTR.INTS });
    case 'strings': return encode({ name, strings: a.value.map((s) => utf8.encode(s)), type: ATTR.STRINGS });
    default: break;
  }
  const m = new FramedMessage().fields(encode({ name }));
  switch (a.kind) {
    case 'tensor': m.message(5, tensorMessage(a.value)); break;
    case 'graph': m.message(6, graphMessage(a.value, st)); break;
    case 'tensors': for (const t of a.value) m.message(10, tensorMessage(t)); break;
    case 'graphs': for (const g of a.value) m.message(11, graphMessage(g, st)); break;
  }
  const type = { tensor: ATTR.TENSOR, graph: ATTR.GRAPH, tensors: ATTR.TENSORS, graphs: ATTR.GRAPHS }[a.kind];
  return m.fields(encode({ type }));
}

/** A NodeProto in field order: inputs, outputs, name, op_type, attributes, doc_string, domain. */
function nodeMessage(e: EmitNode, st: WriteState): FramedMessage {
  const m = new FramedMessage().fields(
    onnx.NodeProto.encode({ input: e.inputs, output: e.outputs, name: e.name || undefined, opType: e.op }).finish(),
  );
  for (const [k, a] of Object.entries(e.attrs)) m.message(5, attributeMessage(k, a, st));
  return m.fields(onnx.NodeProto.encode({ docString: e.docString || undefined, domain: e.domain || undefined }).finish());
}

function initializerMessage(t: Tensor, name: string, st: WriteState): FramedMessage {
  const placed = st.external?.placed.get(t);
  if (placed && st.external) {
    return tensorMessage(t, { name, external: { location: st.external.location, offset: placed.offset, length: placed.length } });
  }
  return tensorMessage(t, { name });
}

/** A GraphProto in field order: nodes, name, initializers, doc_string, inputs, outputs, value_info. */
function graphMessage(g: Graph, st: WriteState): FramedMessage {
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

  const m = new FramedMessage();
  for (const e of emitted) m.message(1, nodeMessage(e, st));
  m.fields(onnx.GraphProto.encode({ name: g.name }).finish());
  for (const [name, v] of g.initializers) {
    if (!v.initializer) continue;
    if (st.ctx.maybeUnused.has(name) && !referenced.has(name)) continue;
    m.message(5, initializerMessage(v.initializer, name, st));
  }
  for (const [name, t] of extra) m.message(5, tensorMessage(t, { name }));
  const io = new Set([...g.inputs, ...g.outputs].map((v) => v.name));
  const typed: Value[] = [];
  for (const [name, v] of g.values) {
    if (!name || io.has(name) || v.initializer || !(v.dtype || onnxTypeOf(v))) continue;
    if (!v.producer && v.consumers.size === 0) continue;
    typed.push(v);
  }
  return m.fields(onnx.GraphProto.encode({
    docString: g.docString || undefined,
    input: g.inputs.map(valueInfo),
    output: g.outputs.map(valueInfo),
    valueInfo: typed.map(valueInfo),
  }).finish());
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
  const mv = Number(model.metadata['onnx.model_version']);
  const head = onnx.ModelProto.encode({
    irVersion: onnxIrVersion(target),
    producerName: 'mconv',
    domain: model.metadata['onnx.model_domain'] || undefined,
    modelVersion: Number.isSafeInteger(mv) && mv ? mv : undefined,
    docString: model.docString || undefined,
  }).finish();
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
  const meta: [string, string][] = Object.entries(model.metadata).filter(([k]) => !k.startsWith('onnx.'));
  if (model.producer && !('source_producer' in model.metadata)) {
    meta.push(['source_producer', `${model.producer.name}${model.producer.version ? ` ${model.producer.version}` : ''}`]);
  }
  const tail = onnx.ModelProto.encode({
    opsetImport: [...domains].map(([domain, version]) => ({ domain, version })),
    metadataProps: meta.map(([key, value]) => ({ key, value })),
  }).finish();
  // ModelProto in field order: ir_version .. doc_string, graph, opset_import, metadata_props
  const m = new FramedMessage().fields(head).message(7, graph).fields(tail);

  if (m.length > 2 ** 31 - 1) {
    throw new MconvError({ kind: 'usage', message: `the ONNX file would be ${m.length} bytes, over the 2 GB protobuf limit`, hint: 'write weights to an external data file (--external-data)' });
  }
  const extra = new Map<string, Uint8Array>();
  if (st.external) {
    const buf = new Uint8Array(st.external.size);
    for (const [t, p] of st.external.placed) buf.set(t.readBytes(), p.offset);
    extra.set(st.external.location, buf);
  }
  return { main: m.finish(), extra };
}
