/**
 * ONNX ModelProto -> IR Model.
 *
 * The file is scanned with positional reads (`FileCursor`, see proto.ts): nodes and small messages
 * are read in small pieces and decoded by onnx-proto, initializers are scanned field by field so
 * their `raw_data` stays a file range that becomes a lazy `Tensor` loader. Inspecting a large
 * model therefore reads only its graph.
 */
import { Attr, Attrs, Graph, Model, Node, Value } from '../../ir/graph.js';
import { DType, DTYPE_BYTES, Dim, Shape, Tensor, shapeSize } from '../../ir/tensor.js';
import { MconvError, unreadable, unsupported } from '../../errors.js';
import type { ModelSourceFiles } from '../types.js';
import { FileCursor, MemCursor, ProtoFormatError } from '../../io/protobuf-scan.js';
import {
  ATTR,
  AttributeP,
  FunctionP,
  GraphP,
  ModelP,
  NodeP,
  SparseTensorP,
  TypeP,
  ValueInfoP,
  scanModel,
} from './proto.js';
import { int64Num } from './schema.js';
import { dtypeFromOnnx, tensorFromProto, TensorContext } from './tensor-proto.js';
import { setOnnxType } from './value-types.js';

interface BuildContext extends TensorContext {
  /** Counter for fresh symbolic dims (`unk__N`). */
  unknownDims: number;
  /** Counter for generated node names. */
  nodeCount: number;
}

const utf8 = new TextDecoder('utf-8');

/** Decodes the ModelProto of a file without reading its weights. */
export function scanOnnxModel(source: ModelSourceFiles): ModelP {
  return withFormatErrors(source.path, () => scanModel(new FileCursor(source, 0, source.size)));
}

/** Decodes a ModelProto held in memory. */
export function decodeOnnxBytes(bytes: Uint8Array, file?: string): ModelP {
  return withFormatErrors(file, () => scanModel(new MemCursor(bytes)));
}

function withFormatErrors<T>(file: string | undefined, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof ProtoFormatError) {
      throw unreadable(file, 'onnx', `truncated or corrupt ONNX file: ${e.message}`,
        'the file may be incomplete (interrupted download or copy); get a fresh copy', `byte ${e.offset}`);
    }
    throw e;
  }
}

/** Reads an ONNX model file into the IR (opsets as in the file; see upgrade.ts for opset 17). */
export function readOnnxModel(source: ModelSourceFiles): Model {
  const mp = scanOnnxModel(source);
  return modelFromProto(mp, source);
}

export function modelFromProto(mp: ModelP, source?: ModelSourceFiles): Model {
  const file = source?.path;
  if (!mp.graph) {
    throw unreadable(file, 'onnx', 'the ONNX model has no graph', 'the file is truncated or is not an ONNX model');
  }
  const ctx: BuildContext = { source, file, unknownDims: 0, nodeCount: 0 };
  const graph = new Graph(mp.graph.name || 'main');
  const functions = new Map<string, FunctionP>();
  for (const f of mp.functions) functions.set(`${normDomain(f.domain)}::${f.name}`, f);
  const graphP = functions.size ? inlineFunctionsInGraph(mp.graph, functions, file) : mp.graph;
  withFormatErrors(file, () => buildGraph(graphP, graph, ctx));

  const model = new Model(graph, { format: 'onnx', path: file, fileSize: source?.size });
  if (mp.producerName) model.producer = { name: mp.producerName, version: mp.producerVersion || undefined };
  model.irVersion = mp.irVersion;
  const opsets: Record<string, number> = {};
  for (const o of mp.opsetImport) opsets[normDomain(o.domain)] = o.version;
  if (opsets[''] === undefined) {
    if (mp.opsetImport.length === 0 && (mp.irVersion ?? 0) < 3) opsets[''] = 1;
    else if (usesDomain(graph, '')) {
      throw unreadable(file, 'onnx', 'the model imports no default (ai.onnx) opset but uses its operators',
        'the file is truncated or was written by a broken exporter');
    }
  }
  model.sourceOpsets = { ...opsets };
  model.opsets = { ...opsets };
  for (const { key, value } of mp.metadataProps) model.metadata[key] = value;
  if (mp.docString) model.docString = mp.docString;
  if (mp.domain) model.metadata['onnx.model_domain'] = mp.domain;
  if (mp.modelVersion) model.metadata['onnx.model_version'] = String(mp.modelVersion);
  return model;
}

function usesDomain(g: Graph, domain: string): boolean {
  return g.nodes.some((n) => n.domain === domain);
}

export function normDomain(d: string): string {
  return d === 'ai.onnx' ? '' : d;
}

// ---- types -----------------------------------------------------------------------------------

function typeInfo(t: TypeP | undefined, what: string, ctx: BuildContext): { dtype?: DType; shape?: Shape } {
  const tt = t?.tensorType;
  if (!tt) return {};
  const dtype = tt.elemType ? dtypeFromOnnx(tt.elemType, what, ctx.file) : undefined;
  if (!tt.shape) return { dtype };
  const shape: Dim[] = (tt.shape.dim ?? []).map((d) => {
    if (d.dimValue != null) return int64Num(d.dimValue);
    if (d.dimParam) return d.dimParam;
    return `unk__${ctx.unknownDims++}`;
  });
  return { dtype, shape };
}

function applyType(v: Value, vi: ValueInfoP, what: string, ctx: BuildContext): void {
  if (vi.type && !vi.type.tensorType) setOnnxType(v, vi.type);
  const { dtype, shape } = typeInfo(vi.type, what, ctx);
  if (dtype !== undefined) v.dtype = dtype;
  if (shape !== undefined) v.shape = shape;
  if (vi.docString) v.docString = vi.docString;
}

// ---- graphs ----------------------------------------------------------------------------------

function buildGraph(gp: GraphP, g: Graph, ctx: BuildContext): void {
  if (gp.docString) g.docString = gp.docString;
  for (const tp of gp.initializers) {
    if (!tp.name) throw unreadable(ctx.file, 'onnx', 'an initializer has no name', undefined, `graph ${g.name}`);
    g.addInitializer(tp.name, tensorFromProto(tp, ctx));
  }
  for (const sp of gp.sparseInitializers) {
    const t = densifySparse(sp, ctx, 'sparse initializer');
    if (!t.name) throw unreadable(ctx.file, 'onnx', 'a sparse initializer has no name', undefined, `graph ${g.name}`);
    g.addInitializer(t.name, t);
  }
  for (const vi of gp.inputs) {
    const existing = g.initializers.get(vi.name);
    if (existing) continue; // an input with a default value: a constant here
    const v = g.getOrCreateValue(vi.name);
    applyType(v, vi, `input ${vi.name}`, ctx);
    g.inputs.push(v);
  }
  for (const vi of gp.valueInfo) {
    if (g.initializers.has(vi.name)) continue;
    const v = g.getOrCreateValue(vi.name);
    if (vi.type && !vi.type.tensorType) setOnnxType(v, vi.type);
    const { dtype, shape } = safeTypeInfo(vi.type, ctx);
    if (dtype !== undefined) v.dtype = dtype;
    if (shape !== undefined) v.shape = shape;
  }
  for (const np of gp.nodes) buildNode(np, g, ctx);
  g.outputs = gp.outputs.map((vi) => {
    const v = g.values.get(vi.name) ?? g.parent?.resolve(vi.name) ?? g.getOrCreateValue(vi.name);
    if (v.graph === g && !v.initializer) applyType(v, vi, `output ${vi.name}`, ctx);
    return v;
  });
}

/** value_info types are hints: an element type mconv does not know leaves the value untyped. */
function safeTypeInfo(t: TypeP | undefined, ctx: BuildContext): { dtype?: DType; shape?: Shape } {
  try {
    return typeInfo(t, 'value', ctx);
  } catch (e) {
    if (e instanceof MconvError) return {};
    throw e;
  }
}

function lookupInput(g: Graph, name: string): Value {
  return g.values.get(name) ?? g.parent?.resolve(name) ?? g.getOrCreateValue(name);
}

function buildNode(np: NodeP, g: Graph, ctx: BuildContext): Node {
  const domain = normDomain(np.domain);
  const name = np.name || `${np.opType}_${ctx.nodeCount}`;
  ctx.nodeCount++;
  const inputs = np.inputs.map((n) => (n === '' ? null : lookupInput(g, n)));
  const outputs = np.outputs.map((n) => {
    if (n === '') {
      // An omitted optional output: a Value named '' that is not registered in the graph.
      const v = new Value('');
      v.graph = g;
      return v;
    }
    const v = g.getOrCreateValue(n);
    if (v.producer) {
      throw unreadable(ctx.file, 'onnx', `value ${n} is produced by two nodes (${v.producer.name} and ${name})`,
        'the model is not valid ONNX (values must be assigned once)', `node ${name}`);
    }
    if (v.initializer) {
      throw unreadable(ctx.file, 'onnx', `node ${name} writes ${n}, which is an initializer`, undefined, `node ${name}`);
    }
    return v;
  });
  const attrs: Attrs = {};
  for (const a of np.attributes) {
    const converted = convertAttr(a, np, name, g, ctx);
    if (converted) attrs[converted[0]] = converted[1];
  }
  const node = new Node(np.opType, name, inputs, outputs, attrs, domain);
  if (np.docString) node.docString = np.docString;
  node.graph = g;
  g.nodes.push(node);
  return node;
}

function convertAttr(a: AttributeP, np: NodeP, nodeName: string, g: Graph, ctx: BuildContext): [string, Attr] | undefined {
  const where = `node ${nodeName} (${np.opType}) attribute ${a.name}`;
  if (a.refAttrName) {
    throw unsupported(ctx.file, 'onnx', `attribute ${a.name} refers to a function attribute outside a function`, undefined, where);
  }
  const subgraph = (gp: GraphP, i?: number): Graph => {
    const sub = new Graph(gp.name || `${nodeName}_${a.name}${i === undefined ? '' : `_${i}`}`, g);
    buildGraph(gp, sub, ctx);
    return sub;
  };
  const tctx = (i?: number): TensorContext => ({ ...ctx, name: `${nodeName}.${a.name}${i === undefined ? '' : `.${i}`}` });
  switch (a.type) {
    case ATTR.FLOAT: return [a.name, { kind: 'float', value: a.f ?? 0 }];
    case ATTR.INT: return [a.name, { kind: 'int', value: a.i ?? 0 }];
    case ATTR.STRING: return [a.name, { kind: 'string', value: utf8.decode(a.s ?? new Uint8Array(0)) }];
    case ATTR.TENSOR:
      if (!a.t) throw unreadable(ctx.file, 'onnx', 'tensor attribute without a tensor', undefined, where);
      return [a.name, { kind: 'tensor', value: tensorFromProto(a.t, tctx()) }];
    case ATTR.GRAPH:
      if (!a.g) throw unreadable(ctx.file, 'onnx', 'graph attribute without a graph', undefined, where);
      return [a.name, { kind: 'graph', value: subgraph(a.g) }];
    case ATTR.FLOATS: return [a.name, { kind: 'floats', value: a.floats.slice() }];
    case ATTR.INTS: return [a.name, { kind: 'ints', value: a.ints.slice() }];
    case ATTR.STRINGS: return [a.name, { kind: 'strings', value: a.strings.map((s) => utf8.decode(s)) }];
    case ATTR.TENSORS: return [a.name, { kind: 'tensors', value: a.tensors.map((t, i) => tensorFromProto(t, tctx(i))) }];
    case ATTR.GRAPHS: return [a.name, { kind: 'graphs', value: a.graphs.map((gp, i) => subgraph(gp, i)) }];
    case ATTR.SPARSE_TENSOR: {
      if (!a.sparseTensor) throw unreadable(ctx.file, 'onnx', 'sparse tensor attribute without a tensor', undefined, where);
      const dense = densifySparse(a.sparseTensor, ctx, where);
      // Constant(sparse_value) is the same constant as Constant(value) with the dense tensor.
      const key = np.opType === 'Constant' && a.name === 'sparse_value' ? 'value' : a.name;
      return [key, { kind: 'tensor', value: dense }];
    }
    case ATTR.UNDEFINED:
      // An empty list written without its type: nothing to keep.
      return undefined;
    default:
      throw unsupported(ctx.file, 'onnx', `attribute type ${a.type} is not supported`, undefined, where);
  }
}

/** A SparseTensorProto as a dense tensor (values scattered at their indices, zeros elsewhere). */
function densifySparse(sp: SparseTensorP, ctx: BuildContext, where: string): Tensor {
  if (!sp.values || !sp.indices) throw unreadable(ctx.file, 'onnx', 'sparse tensor without values or indices', undefined, where);
  const values = tensorFromProto(sp.values, ctx);
  const indices = tensorFromProto(sp.indices, ctx);
  const dims = sp.dims;
  const dtype = values.dtype;
  if (dtype === 'string') throw unsupported(ctx.file, 'onnx', 'sparse string tensors are not supported', undefined, where);
  const nnz = values.size;
  const width = DTYPE_BYTES[dtype];
  const out = new Uint8Array(shapeSize(dims) * width);
  const idx = indices.toArray().map((x) => Number(x));
  const src = values.bytes;
  const strides = dims.map((_, i) => shapeSize(dims.slice(i + 1)));
  for (let k = 0; k < nnz; k++) {
    let flat: number;
    if (indices.rank === 1) flat = idx[k]!;
    else {
      flat = 0;
      for (let d = 0; d < dims.length; d++) flat += idx[k * dims.length + d]! * strides[d]!;
    }
    if (!(flat >= 0 && flat < shapeSize(dims))) throw unreadable(ctx.file, 'onnx', `sparse index ${flat} out of range`, undefined, where);
    out.set(src.subarray(k * width, (k + 1) * width), flat * width);
  }
  return Tensor.fromBytes(dtype, dims.slice(), out, sp.values.name || undefined);
}

// ---- model-local functions -------------------------------------------------------------------

/** Replaces calls of model-local functions by their bodies (recursively, subgraphs included). */
function inlineFunctionsInGraph(gp: GraphP, functions: Map<string, FunctionP>, file?: string): GraphP {
  let counter = 0;
  const expandNodes = (nodes: NodeP[], depth: number): NodeP[] => {
    const out: NodeP[] = [];
    for (const n of nodes) {
      const withSubgraphs = mapNodeSubgraphs(n, (sub) => ({ ...sub, nodes: expandNodes(sub.nodes, depth) }));
      const f = functions.get(`${normDomain(n.domain)}::${n.opType}`);
      if (!f) {
        out.push(withSubgraphs);
        continue;
      }
      if (depth > 32) throw unsupported(file, 'onnx', `function ${n.opType} calls itself too deeply`, undefined, `node ${n.name}`);
      const prefix = `${n.name || `${n.opType}_call${counter}`}/`;
      counter++;
      const rename = new Map<string, string>();
      f.inputs.forEach((fi, i) => rename.set(fi, n.inputs[i] ?? ''));
      f.outputs.forEach((fo, i) => rename.set(fo, n.outputs[i] ?? ''));
      const actualAttrs = new Map(n.attributes.map((a) => [a.name, a]));
      const defaults = new Map(f.attributeProtos.map((a) => [a.name, a]));
      const mapName = (x: string): string => (x === '' ? '' : rename.get(x) ?? `${prefix}${x}`);
      const body: NodeP[] = f.nodes.map((bn) => ({
        ...bn,
        name: `${prefix}${bn.name || bn.opType}`,
        inputs: bn.inputs.map(mapName),
        outputs: bn.outputs.map(mapName),
        attributes: bn.attributes.flatMap((a) => {
          if (!a.refAttrName) return [a];
          const actual = actualAttrs.get(a.refAttrName) ?? defaults.get(a.refAttrName);
          return actual ? [{ ...actual, name: a.name }] : [];
        }),
      }));
      out.push(...expandNodes(body, depth + 1));
    }
    return out;
  };
  return { ...gp, nodes: expandNodes(gp.nodes, 0) };
}

function mapNodeSubgraphs(n: NodeP, f: (g: GraphP) => GraphP): NodeP {
  if (!n.attributes.some((a) => a.g || a.graphs.length)) return n;
  return {
    ...n,
    attributes: n.attributes.map((a) => ({ ...a, g: a.g ? f(a.g) : undefined, graphs: a.graphs.map(f) })),
  };
}

