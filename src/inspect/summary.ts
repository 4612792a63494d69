/**
 * What `mconv inspect` reports about a model, computed without reading weight bytes:
 * header facts, inputs/outputs, one row per node (op, output shapes, parameters), weights.
 */
import { Graph, Model, Node, SourceLayer, Value, subgraphsOf } from '../ir/graph.js';
import { DTYPE_BYTES, Dim, DType, Shape } from '../ir/tensor.js';
import { topologicalOrder } from '../ir/walk.js';

export interface ValueInfo {
  name: string;
  dtype: DType | null;
  /** Numbers, symbolic names (strings), or null when the rank is unknown. */
  shape: Dim[] | null;
}

export interface NodeRow {
  name: string;
  op: string;
  domain: string;
  inputs: string[];
  outputs: ValueInfo[];
  /** Elements of the weights this node reads first (each weight counted once, at its first reader). */
  parameters: number;
  /** Names of those weights. */
  weights: string[];
}

export interface WeightInfo {
  name: string;
  dtype: DType;
  shape: number[];
  elements: number;
  bytes: number;
}

export interface ModelSummary {
  file?: string;
  format: string;
  fileSize?: number;
  producer: { name: string; version?: string } | null;
  /** Opset the IR follows, by domain. */
  opset: Record<string, number>;
  /** Opsets of the original file. */
  sourceOpset: Record<string, number>;
  irVersion?: number;
  graphName: string;
  metadata: Record<string, string>;
  inputs: ValueInfo[];
  outputs: ValueInfo[];
  nodes: NodeRow[];
  weights: WeightInfo[];
  /** Total parameters: elements of all weights. */
  parameters: number;
  weightBytes: number;
  /** Ops and how many nodes use each (subgraphs included). */
  opCounts: Record<string, number>;
  /** True when the nodes are as the reader built them, before the passes `convert`/`run` apply (layout Transposes not yet cancelled). */
  beforePasses: boolean;
  /** The source framework's own rows (Keras layers, PyTorch modules), when it has them. */
  layers: SourceLayer[] | null;
  /** Trainable / non-trainable split when the source says (Keras). */
  trainableParameters: number | null;
  nonTrainableParameters: number | null;
  /** Parameters and buffer elements as the source framework counts them (sum of its top-level rows). */
  sourceParameters: number | null;
  sourceBuffers: number | null;
}

function sumTop(layers: SourceLayer[], f: (l: SourceLayer) => number | undefined): number | null {
  let total = 0;
  for (const l of layers) {
    const v = f(l);
    if (v === undefined) return null;
    total += v;
  }
  return total;
}

function info(v: Value): ValueInfo {
  return { name: v.name, dtype: v.dtype ?? null, shape: v.shape ? (v.shape.slice() as Shape) : null };
}

function countOps(g: Graph, acc: Record<string, number>): void {
  for (const n of g.nodes) {
    const key = n.domain ? `${n.domain}.${n.op}` : n.op;
    acc[key] = (acc[key] ?? 0) + 1;
    for (const sg of subgraphsOf(n)) countOps(sg, acc);
  }
}

export function summarizeModel(model: Model): ModelSummary {
  const g = model.graph;
  let order: Node[];
  try {
    order = topologicalOrder(g);
  } catch {
    order = g.nodes.slice();
  }
  const seen = new Set<Value>();
  const nodes: NodeRow[] = order.map((n) => {
    let params = 0;
    const weights: string[] = [];
    for (const v of n.inputs) {
      if (!v || seen.has(v)) continue;
      const init = v.initializer ?? g.resolve(v.name)?.initializer;
      if (!init) continue;
      seen.add(v);
      params += init.size;
      weights.push(v.name);
    }
    return { name: n.name, op: n.op, domain: n.domain, inputs: n.inputs.map((v) => v?.name ?? ''), outputs: n.outputs.map(info), parameters: params, weights };
  });
  const weights: WeightInfo[] = [...g.initializers.values()].map((v) => {
    const t = v.initializer!;
    return { name: v.name, dtype: t.dtype, shape: t.shape.slice(), elements: t.size, bytes: t.dtype === 'string' ? t.byteLength : t.size * DTYPE_BYTES[t.dtype] };
  });
  const opCounts: Record<string, number> = {};
  countOps(g, opCounts);
  return {
    file: model.source.path,
    format: model.source.format,
    fileSize: model.source.fileSize,
    producer: model.producer ?? null,
    opset: { ...model.opsets },
    sourceOpset: { ...model.sourceOpsets },
    irVersion: model.irVersion,
    graphName: g.name,
    metadata: { ...model.metadata },
    inputs: g.inputs.map(info),
    outputs: g.outputs.map(info),
    nodes,
    weights,
    parameters: weights.reduce((a, w) => a + w.elements, 0),
    weightBytes: weights.reduce((a, w) => a + w.bytes, 0),
    opCounts,
    beforePasses: model.pendingPasses,
    layers: model.layers ?? null,
    sourceParameters: model.layers ? sumTop(model.layers, (l) => l.parameters) : null,
    sourceBuffers: model.layers ? sumTop(model.layers, (l) => l.buffers ?? 0) : null,
    trainableParameters: model.layers ? sumTop(model.layers, (l) => l.trainableParameters) : null,
    nonTrainableParameters: model.layers ? sumTop(model.layers, (l) => (l.trainableParameters === undefined ? undefined : l.parameters - l.trainableParameters)) : null,
  };
}
