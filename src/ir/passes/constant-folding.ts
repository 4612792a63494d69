/**
 * Constant folding: nodes whose inputs are all constant (initializers) are computed in plain JS
 * and replaced by initializers, for a safe set of cheap ops (shape arithmetic and small tensor
 * reshuffles). `Shape`/`Size` fold when their input's shape is static. Constant nodes become
 * initializers. Nothing over `maxElements` (default 1M elements) is folded, and values that are
 * graph outputs keep their producing node.
 */
import { Graph, Node, Value, subgraphsOf } from '../graph.js';
import { constantNodeTensor, inferNode } from '../infer.js';
import { dtypeFromOnnxCode } from '../ops/helpers.js';
import { Tensor, isStaticShape, shapeSize } from '../tensor.js';
import { topologicalOrder } from '../walk.js';
import { FOLDABLE_DTYPES, arith, cast, concat, elements, gather, makeTensor, slice, transposeTensor, type ArithOp } from './tensor-ops.js';

export interface ConstantFoldingOptions {
  /** Largest number of elements an input or result may have (default 2^20). */
  maxElements?: number;
}

const DEFAULT_MAX = 1 << 20;

/** The ops this pass folds. */
export const FOLDABLE_OPS = new Set([
  'Constant', 'Identity', 'Shape', 'Size', 'Gather', 'Concat', 'Slice', 'Unsqueeze', 'Squeeze', 'Reshape', 'Flatten',
  'Cast', 'Add', 'Sub', 'Mul', 'Div', 'Neg', 'Transpose', 'ConstantOfShape', 'Range', 'Split',
]);

export function constantFolding(graph: Graph, opts: ConstantFoldingOptions = {}): Graph {
  const max = opts.maxElements ?? DEFAULT_MAX;
  for (const node of topologicalOrder(graph)) {
    for (const sg of subgraphsOf(node)) constantFolding(sg, opts);
    if (node.domain !== '' || !FOLDABLE_OPS.has(node.op)) continue;
    if (node.op === 'Split') {
      foldSplit(graph, node, max);
      continue;
    }
    if (node.outputs.length !== 1 || graph.outputs.includes(node.outputs[0]!)) continue;
    let result: Tensor | undefined;
    try {
      result = fold(graph, node, max);
    } catch {
      result = undefined; // leave anything surprising to the runtime
    }
    if (!result || result.size > max) continue;
    const out = node.outputs[0]!;
    graph.removeNode(node);
    becomeInitializer(graph, out, result);
  }
  return graph;
}

function becomeInitializer(graph: Graph, out: Value, result: Tensor): void {
  result.name = out.name;
  out.initializer = result;
  out.dtype = result.dtype;
  out.shape = result.shape.slice();
  graph.values.set(out.name, out);
  out.graph = graph;
  graph.initializers.set(out.name, out);
}

/** Split of a constant (sizes from the `split` input, else equal parts): one initializer per output. */
function foldSplit(graph: Graph, node: Node, max: number): void {
  const x = constant(graph, node.inputs[0], max);
  if (!x || node.outputs.some((o) => graph.outputs.includes(o))) return;
  const r = x.rank;
  const axis = node.attrInt('axis', 0) < 0 ? node.attrInt('axis', 0) + r : node.attrInt('axis', 0);
  if (axis < 0 || axis >= r) return;
  const n = node.outputs.length;
  const dim = x.shape[axis]!;
  let sizes: number[] | undefined;
  if (node.inputs[1] && node.inputs[1].name !== '') sizes = ints(constant(graph, node.inputs[1], max));
  else sizes = dim % n === 0 ? new Array<number>(n).fill(dim / n) : undefined;
  if (!sizes || sizes.length !== n || sizes.reduce((a, b) => a + b, 0) !== dim) return;
  let start = 0;
  const parts = sizes.map((len) => {
    const part = slice(x, [start], [start + len], [axis], [1]);
    start += len;
    return part;
  });
  if (parts.some((p) => !p)) return;
  graph.removeNode(node);
  node.outputs.forEach((out, i) => becomeInitializer(graph, out, parts[i]!));
}

/** A constant input: an initializer not overridable as a graph input. */
function constant(graph: Graph, v: Value | null | undefined, max: number): Tensor | undefined {
  if (!v || !v.initializer) return undefined;
  if (graph.inputs.includes(v)) return undefined;
  const t = v.initializer;
  if (!FOLDABLE_DTYPES.has(t.dtype) || t.size > max) return undefined;
  return t;
}

function ints(t: Tensor | undefined): number[] | undefined {
  return t ? elements(t).map(Number) : undefined;
}

function fold(graph: Graph, node: Node, max: number): Tensor | undefined {
  const c = (i: number) => constant(graph, node.inputs[i], max);
  const present = (i: number) => !!node.inputs[i] && node.inputs[i]!.name !== '';
  switch (node.op) {
    case 'Constant': {
      const t = constantNodeTensor(node);
      return t && (t.dtype === 'string' || t.size <= max) ? t : undefined;
    }
    case 'Shape':
    case 'Size': {
      const v = node.inputs[0];
      const s = v?.initializer?.shape ?? v?.shape;
      if (!isStaticShape(s)) return undefined;
      if (node.op === 'Size') return Tensor.fromArray('int64', [], [shapeSize(s)]);
      const r = s.length;
      const clamp = (x: number) => Math.min(Math.max(x < 0 ? x + r : x, 0), r);
      const start = clamp(node.attrInt('start', 0));
      const end = clamp(node.attrInt('end', r));
      const dims = s.slice(start, Math.max(start, end));
      return Tensor.fromArray('int64', [dims.length], dims);
    }
    case 'Identity':
      return c(0);
    case 'Cast': {
      const t = c(0);
      const to = dtypeFromOnnxCode(node.attrInt('to', 0));
      if (!t || !to || !FOLDABLE_DTYPES.has(to)) return undefined;
      return cast(t, to);
    }
    case 'Neg': {
      const t = c(0);
      if (!t || t.dtype === 'bool' || t.dtype.startsWith('uint')) return undefined;
      return makeTensor(t.dtype, t.shape, elements(t).map((x) => (typeof x === 'bigint' ? -x : -x)));
    }
    case 'Add':
    case 'Sub':
    case 'Mul':
    case 'Div': {
      const x = c(0);
      const y = c(1);
      return x && y ? arith(node.op as ArithOp, x, y) : undefined;
    }
    case 'Gather': {
      const x = c(0);
      const i = c(1);
      return x && i ? gather(x, i, node.attrInt('axis', 0)) : undefined;
    }
    case 'Concat': {
      const ts: Tensor[] = [];
      for (let i = 0; i < node.inputs.length; i++) {
        if (!present(i)) continue;
        const t = c(i);
        if (!t) return undefined;
        ts.push(t);
      }
      return ts.length ? concat(ts, node.attrInt('axis', 0)) : undefined;
    }
    case 'Slice': {
      const x = c(0);
      const starts = ints(c(1));
      const ends = ints(c(2));
      if (!x || !starts || !ends) return undefined;
      if ((present(3) && !c(3)) || (present(4) && !c(4))) return undefined;
      return slice(x, starts, ends, ints(c(3)), ints(c(4)));
    }
    case 'Transpose': {
      const x = c(0);
      if (!x) return undefined;
      const perm = node.attrInts('perm') ?? x.shape.map((_, i) => x.rank - 1 - i);
      return transposeTensor(x, perm);
    }
    case 'Unsqueeze':
    case 'Squeeze':
    case 'Reshape':
    case 'Flatten': {
      const x = c(0);
      if (!x) return undefined;
      for (let i = 1; i < node.inputs.length; i++) if (present(i) && !c(i)) return undefined;
      const [t] = inferNode(node);
      if (!t || !isStaticShape(t.shape)) return undefined;
      return x.reshape(t.shape);
    }
    case 'ConstantOfShape': {
      const dims = ints(c(0));
      if (!dims || dims.some((d) => d < 0) || shapeSize(dims) > max) return undefined;
      const value = node.attrTensor('value');
      const dtype = value?.dtype ?? 'float32';
      if (!FOLDABLE_DTYPES.has(dtype)) return undefined;
      const v = value ? elements(value)[0]! : 0;
      return makeTensor(dtype, dims, new Array(shapeSize(dims)).fill(v));
    }
    case 'Range': {
      const [s, l, d] = [c(0), c(1), c(2)];
      if (!s || !l || !d) return undefined;
      const st = Number(elements(s)[0]);
      const li = Number(elements(l)[0]);
      const de = Number(elements(d)[0]);
      if (de === 0) return undefined;
      const n = Math.max(0, Math.ceil((li - st) / de));
      if (n > max) return undefined;
      return makeTensor(s.dtype, [n], Array.from({ length: n }, (_, i) => st + i * de));
    }
    default:
      return undefined;
  }
}
