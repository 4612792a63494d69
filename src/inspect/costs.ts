/**
 * Compute and memory costs of a model for `mconv inspect --costs`: per node and in total,
 * the parameters it reads, their bytes, multiply-accumulates (MACs), other arithmetic, and the
 * bytes of the activations it writes, for a bound batch size.
 *
 * What counts as a MAC. `macs` holds the multiply-accumulates of the ops that multiply
 * activations by weights or by other activations: Conv, ConvTranspose, Gemm, MatMul (batch
 * dims included) and the gate products of LSTM/GRU/RNN. That is the
 * figure papers and torchvision publish as "GFLOPS" (counted as multiply-adds; resnet18 1.81 G,
 * mobilenet_v2 0.30 G). Everything else is `ops` (one per element unless said otherwise) and is
 * NOT part of `macs`: BatchNormalization (2 per element: the scale and the shift, which an
 * inference runtime folds into the preceding Conv), Layer/Instance/GroupNormalization (5 per
 * element: mean, variance, centre, scale, shift), elementwise ops and activations (1 per output
 * element), bias additions of Conv/Gemm (1 per output element), pooling (kernel size per output;
 * global pooling: one per input element), reductions (one per input element), Softmax and
 * LogSoftmax (3 per element: exponent, sum, divide). Data movement (Reshape, Transpose, Concat,
 * Gather, Identity, ...) costs nothing. Counting BatchNormalization as MACs would move
 * mobilenet_v2 to 0.307 G, 2.5% above the published figure, which is why it is kept apart.
 *
 * Parameters. A node's parameters are the elements of the weights it reads (each weight value
 * counted once, at its first reader in topological order). A weight is an initializer or the output
 * of an Identity of a weight: torch.onnx deduplicates equal initializers and hands each parameter
 * out through an Identity, and counting those outputs keeps torch's own parameter count. The
 * running mean and variance of BatchNormalization are counted as `buffers`, not parameters
 * (torch keeps them out of `model.parameters()` as well). Constant nodes are not weights.
 */
import { Graph, Model, Node, Value, subgraphsOf } from '../ir/graph.js';
import { inferShapes } from '../ir/infer.js';
import type { ValueType } from '../ir/ops/schema.js';
import { DTYPE_BYTES, Dim, DType, Shape, isStaticShape, shapeSize } from '../ir/tensor.js';
import { topologicalOrder } from '../ir/walk.js';
import { usageError } from '../errors.js';

export interface CostOptions {
  /** Binds the first symbolic dim of each graph input (default 1). */
  batch?: number;
  /** Binds named symbolic dims (`{ seq: 128 }`); wins over `batch` for the same name. */
  dims?: Record<string, number>;
}

export interface NodeCost {
  name: string;
  op: string;
  domain: string;
  /** Output shapes after binding (symbolic names left where unbound). */
  outputShapes: (Dim[] | null)[];
  parameters: number;
  /** Non-learned state the node reads (BatchNormalization running mean/variance). */
  buffers: number;
  /** Bytes of those parameters and buffers. */
  weightBytes: number;
  /** Multiply-accumulates; null when a shape it needs is unknown. */
  macs: number | null;
  /** Other arithmetic (elementwise, normalization, pooling, bias adds); null when unknown. */
  ops: number | null;
  /** Bytes of the node's outputs; null when a shape is not concrete. */
  activationBytes: number | null;
  /** Why the node's cost is unknown or approximate. */
  note?: string;
}

export interface ModelCosts {
  /** The dims bound for the computation (batch included). */
  dims: Record<string, number>;
  batch: number;
  nodes: NodeCost[];
  parameters: number;
  buffers: number;
  weightBytes: number;
  macs: number;
  ops: number;
  /** 2 x MACs + ops. */
  flops: number;
  /** Bytes of every intermediate and output value written by a node. */
  activationBytes: number;
  /** Bytes of the graph inputs. */
  inputBytes: number;
  /** Nodes whose MACs/ops/activations could not be computed (shapes unknown or symbolic). */
  incomplete: string[];
  /** Symbolic dims still unbound after binding (give them with --dim NAME=VALUE). */
  unboundDims: string[];
}

const ELEMENTWISE = new Set([
  'Add', 'Sub', 'Mul', 'Div', 'Pow', 'Mod', 'Max', 'Min', 'Sum', 'Mean',
  'Relu', 'LeakyRelu', 'PRelu', 'Elu', 'Selu', 'Celu', 'ThresholdedRelu', 'Sigmoid', 'HardSigmoid',
  'HardSwish', 'Tanh', 'Softplus', 'Softsign', 'Mish', 'Gelu', 'Erf', 'Clip',
  'Exp', 'Log', 'Sqrt', 'Reciprocal', 'Neg', 'Abs', 'Sign', 'Ceil', 'Floor', 'Round',
  'Sin', 'Cos', 'Tan', 'Asin', 'Acos', 'Atan', 'Sinh', 'Cosh', 'Asinh', 'Acosh', 'Atanh',
  'Equal', 'Greater', 'GreaterOrEqual', 'Less', 'LessOrEqual', 'Not', 'And', 'Or', 'Xor', 'Where',
  'IsNaN', 'IsInf', 'BitShift', 'Dropout', 'QuantizeLinear', 'DequantizeLinear',
]);
const REDUCE = new Set([
  'ReduceSum', 'ReduceMean', 'ReduceMax', 'ReduceMin', 'ReduceProd', 'ReduceL1', 'ReduceL2',
  'ReduceLogSum', 'ReduceLogSumExp', 'ReduceSumSquare', 'ArgMax', 'ArgMin',
]);
const POOL = new Set(['MaxPool', 'AveragePool', 'LpPool']);
const GLOBAL_POOL = new Set(['GlobalAveragePool', 'GlobalMaxPool', 'GlobalLpPool']);
/** Ops that only move or relabel data. */
const FREE = new Set([
  'Identity', 'Reshape', 'Flatten', 'Squeeze', 'Unsqueeze', 'Transpose', 'Concat', 'Split', 'Slice',
  'Gather', 'GatherElements', 'GatherND', 'Shape', 'Size', 'Expand', 'Tile', 'Pad', 'Cast', 'CastLike',
  'Constant', 'ConstantOfShape', 'Range', 'DepthToSpace', 'SpaceToDepth', 'NonZero', 'ScatterElements',
  'ScatterND', 'OneHot', 'Trilu',
]);

/** Is this value a weight: an initializer, or an Identity of one (torch.onnx's deduplicated parameters)? */
function isWeight(v: Value | null | undefined, graph: Graph, depth = 0): boolean {
  if (!v || depth > 16) return false;
  if (v.initializer) return true;
  const p = v.producer;
  if (!p) return !!graph.resolve(v.name)?.initializer && graph.resolve(v.name) !== v;
  return p.op === 'Identity' && p.domain === '' && isWeight(p.inputs[0], graph, depth + 1);
}

/** Values the subgraphs of a node (Loop/If bodies, nested ones too) read from enclosing graphs. */
function outerReads(n: Node): Value[] {
  const out: Value[] = [];
  const visit = (g: Graph) => {
    for (const m of g.nodes) {
      for (const v of m.inputs) if (v && v.graph !== g && !isInside(v, g)) out.push(v);
      for (const s of subgraphsOf(m)) visit(s);
    }
  };
  for (const s of subgraphsOf(n)) visit(s);
  return out;
}

/** Whether v belongs to g or a graph nested in g. */
function isInside(v: Value, g: Graph): boolean {
  for (let h: Graph | undefined = v.graph; h; h = h.parent) if (h === g) return true;
  return false;
}

function weightTensorType(v: Value, graph: Graph, types: Map<Value, ValueType>): { dtype?: DType; shape?: Shape } {
  if (v.initializer) return { dtype: v.initializer.dtype, shape: v.initializer.shape };
  const r = graph.resolve(v.name);
  if (r?.initializer) return { dtype: r.initializer.dtype, shape: r.initializer.shape };
  const t = types.get(v);
  return { dtype: t?.dtype ?? v.dtype, shape: t?.shape ?? v.shape };
}

function prod(shape: readonly number[]): number {
  return shapeSize(shape);
}

/** The symbolic names in a shape list. */
function symbols(shapes: (Shape | undefined)[]): string[] {
  const out: string[] = [];
  for (const s of shapes) for (const d of s ?? []) if (typeof d === 'string') out.push(d);
  return out;
}

class CostContext {
  constructor(
    readonly node: Node,
    private readonly types: Map<Value, ValueType>,
  ) {}
  shape(v: Value | null | undefined): Shape | undefined {
    if (!v) return undefined;
    if (v.initializer) return v.initializer.shape;
    return this.types.get(v)?.shape ?? v.shape;
  }
  /** The concrete shape of input i, or throws Unknown. */
  in(i: number): number[] {
    const s = this.shape(this.node.inputs[i]);
    if (!isStaticShape(s)) throw new Unknown(`input ${i} has ${s ? 'a symbolic' : 'no known'} shape`);
    return s;
  }
  out(i: number): number[] {
    const s = this.shape(this.node.outputs[i]);
    if (!isStaticShape(s)) throw new Unknown(`output ${i} has ${s ? 'a symbolic' : 'no known'} shape`);
    return s;
  }
  has(i: number): boolean {
    const v = this.node.inputs[i];
    return !!v && v.name !== '';
  }
}

class Unknown extends Error {}

/** MACs and other ops of one node (throws Unknown when a needed shape is missing). */
function nodeArithmetic(n: Node, c: CostContext): { macs: number; ops: number; note?: string } {
  if (n.domain !== '' && n.domain !== 'ai.onnx') return { macs: 0, ops: 0, note: `custom op ${n.domain}.${n.op} not counted` };
  const op = n.op;
  switch (op) {
    case 'Conv':
    case 'ConvInteger':
    case 'QLinearConv': {
      const wIdx = op === 'QLinearConv' ? 3 : 1;
      const w = c.in(wIdx);
      const y = c.out(0);
      const bias = op === 'Conv' && c.has(2) ? prod(y) : 0;
      // Every output element sums Cin/group * prod(kernel) products.
      return { macs: prod(y) * prod(w.slice(1)), ops: bias };
    }
    case 'ConvTranspose': {
      const x = c.in(0);
      const w = c.in(1);
      const bias = c.has(2) ? prod(c.out(0)) : 0;
      // Every input element is scattered through Cout/group * prod(kernel) weights.
      return { macs: prod(x) * prod(w.slice(1)), ops: bias };
    }
    case 'Gemm': {
      const a = c.in(0);
      const y = c.out(0);
      const k = n.attrInt('transA', 0) ? a[0]! : a[1]!;
      const bias = c.has(2) ? prod(y) : 0;
      return { macs: prod(y) * k, ops: bias };
    }
    case 'MatMul':
    case 'MatMulInteger':
    case 'QLinearMatMul': {
      const a = c.in(0);
      const y = c.out(0);
      const k = a[a.length - 1] ?? 1;
      return { macs: prod(y) * k, ops: 0 };
    }
    case 'LSTM':
    case 'GRU':
    case 'RNN': {
      const x = c.in(0);
      const w = c.in(1); // [dirs, gates*H, I]
      const r = c.in(2); // [dirs, gates*H, H]
      const layout = n.attrInt('layout', 0);
      const seq = layout ? x[1]! : x[0]!;
      const batch = layout ? x[0]! : x[1]!;
      const dirs = w[0]!;
      const gh = w[1]!;
      const hidden = r[2]!;
      const steps = seq * batch * dirs;
      const macs = steps * gh * (w[2]! + hidden);
      // Bias adds and gate activations per gate unit; the cell/state update per hidden unit.
      const update = op === 'LSTM' ? 5 : op === 'GRU' ? 4 : 0;
      return { macs, ops: steps * (gh * (c.has(3) ? 3 : 1) + hidden * update) };
    }
    case 'BatchNormalization':
      return { macs: 0, ops: 2 * prod(c.out(0)) };
    case 'LayerNormalization':
    case 'InstanceNormalization':
    case 'GroupNormalization':
    case 'LpNormalization':
    case 'MeanVarianceNormalization':
      return { macs: 0, ops: 5 * prod(c.out(0)) };
    case 'Softmax':
    case 'LogSoftmax':
    case 'Hardmax':
      return { macs: 0, ops: 3 * prod(c.out(0)) };
    default:
      break;
  }
  if (ELEMENTWISE.has(op)) return { macs: 0, ops: prod(c.out(0)) };
  if (POOL.has(op)) {
    const kernel = n.attrInts('kernel_shape') ?? [];
    return { macs: 0, ops: prod(c.out(0)) * prod(kernel) };
  }
  if (GLOBAL_POOL.has(op) || REDUCE.has(op)) return { macs: 0, ops: prod(c.in(0)) };
  if (FREE.has(op)) return { macs: 0, ops: 0 };
  if (subgraphsOf(n).length) return { macs: 0, ops: 0, note: `${op} body not counted` };
  return { macs: 0, ops: 0, note: `no cost rule for ${op}` };
}

/** The dims to bind: the first symbolic dim of each input to `batch`, then the named ones. */
export function bindingDims(graph: Graph, opts: CostOptions): Record<string, number> {
  const batch = opts.batch ?? 1;
  if (!Number.isInteger(batch) || batch < 1) throw usageError(`--batch must be a positive integer, got ${batch}`);
  const dims: Record<string, number> = {};
  for (const v of graph.inputs) {
    if (v.initializer) continue;
    const first = v.shape?.find((d) => typeof d === 'string');
    if (typeof first === 'string' && !(first in dims)) dims[first] = batch;
  }
  for (const [k, d] of Object.entries(opts.dims ?? {})) {
    if (!Number.isInteger(d) || d < 0) throw usageError(`--dim ${k} must be a non-negative integer, got ${d}`);
    dims[k] = d;
  }
  return dims;
}

function bytesOf(t: ValueType | undefined, v: Value): number | null {
  const shape = t?.shape ?? v.shape;
  const dtype = t?.dtype ?? v.dtype;
  if (!isStaticShape(shape) || !dtype) return null;
  return prod(shape) * DTYPE_BYTES[dtype];
}

/** Costs of a model (its main graph; If/Loop/Scan bodies are noted, not counted). */
export function modelCosts(model: Model, opts: CostOptions = {}): ModelCosts {
  const graph = model.graph;
  const dims = bindingDims(graph, opts);
  let types = new Map<Value, ValueType>();
  try {
    types = inferShapes(graph, { dims, write: false }).types;
  } catch {
    // Inference could not run (a cycle, a broken graph): fall back to the recorded shapes.
  }
  let order: Node[];
  try {
    order = topologicalOrder(graph);
  } catch {
    order = graph.nodes.slice();
  }
  const typeOf = (v: Value): ValueType | undefined => {
    const t = types.get(v);
    if (t) return t;
    const shape = v.shape?.map((d) => (typeof d === 'string' && d in dims ? dims[d]! : d));
    return { dtype: v.dtype, shape };
  };
  const shapeTypes = new Map<Value, ValueType>();
  for (const n of order) for (const v of [...n.inputs, ...n.outputs]) if (v && !shapeTypes.has(v)) shapeTypes.set(v, typeOf(v) ?? {});

  const counted = new Set<Value>();
  const nodes: NodeCost[] = [];
  const unbound = new Set<string>();
  const incomplete: string[] = [];
  for (const n of order) {
    // Identity nodes handing out a weight are part of the weight, not of the computation.
    if (n.op === 'Identity' && n.domain === '' && isWeight(n.inputs[0], graph)) continue;
    let parameters = 0;
    let buffers = 0;
    let weightBytes = 0;
    // Weights a Loop/If body reads from this graph count for the Loop/If node.
    [...n.inputs, ...outerReads(n)].forEach((v, i) => {
      if (!v || !isWeight(v, graph) || counted.has(v)) return;
      counted.add(v);
      const t = weightTensorType(v, graph, shapeTypes);
      if (!isStaticShape(t.shape)) return;
      const size = prod(t.shape);
      if (n.op === 'BatchNormalization' && n.domain === '' && i < n.inputs.length && (i === 3 || i === 4)) buffers += size;
      else parameters += size;
      weightBytes += t.dtype && t.dtype !== 'string' ? size * DTYPE_BYTES[t.dtype] : 0;
    });
    const outputShapes = n.outputs.map((o) => (shapeTypes.get(o)?.shape?.slice() as Dim[] | undefined) ?? null);
    let macs: number | null = null;
    let ops: number | null = null;
    let note: string | undefined;
    try {
      const r = nodeArithmetic(n, new CostContext(n, shapeTypes));
      macs = r.macs;
      ops = r.ops;
      note = r.note;
    } catch (e) {
      if (!(e instanceof Unknown)) throw e;
      note = e.message;
    }
    let activationBytes: number | null = 0;
    if (n.op !== 'Constant') {
      for (const o of n.outputs) {
        if (!o.name) continue;
        const b = bytesOf(shapeTypes.get(o), o);
        if (b === null) activationBytes = null;
        else if (activationBytes !== null) activationBytes += b;
      }
    }
    if (macs === null || activationBytes === null) {
      incomplete.push(n.name);
      for (const s of symbols(n.outputs.map((o) => shapeTypes.get(o)?.shape))) unbound.add(s);
    }
    nodes.push({ name: n.name, op: n.op, domain: n.domain, outputShapes, parameters, buffers, weightBytes, macs, ops, activationBytes, ...(note ? { note } : {}) });
  }
  let inputBytes = 0;
  for (const v of graph.inputs) {
    if (v.initializer) continue;
    inputBytes += bytesOf(typeOf(v), v) ?? 0;
    for (const s of symbols([typeOf(v)?.shape])) unbound.add(s);
  }
  const sum = (f: (c: NodeCost) => number | null) => nodes.reduce((a, c) => a + (f(c) ?? 0), 0);
  const macs = sum((c) => c.macs);
  const ops = sum((c) => c.ops);
  return {
    dims,
    batch: opts.batch ?? 1,
    nodes,
    parameters: sum((c) => c.parameters),
    buffers: sum((c) => c.buffers),
    weightBytes: sum((c) => c.weightBytes),
    macs,
    ops,
    flops: 2 * macs + ops,
    activationBytes: sum((c) => c.activationBytes),
    inputBytes,
    incomplete,
    unboundDims: [...unbound].sort(),
  };
}
