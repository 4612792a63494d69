/**
 * Small graph-editing helpers shared by the opset upgrade (import) and downgrade (export) passes.
 */
import { Attrs, Graph, Node, Value, subgraphsOf } from '../../ir/graph.js';
import { DType, Tensor } from '../../ir/tensor.js';

const INT64_MAX = 9223372036854775807n;
const INT64_MIN = -9223372036854775808n;

/** An int64 value from a JS number, clamped to the int64 range (2^63 as a double -> INT64_MAX). */
export function toInt64(v: number | bigint): bigint {
  let b = typeof v === 'bigint' ? v : BigInt(Math.trunc(v));
  if (b > INT64_MAX) b = INT64_MAX;
  if (b < INT64_MIN) b = INT64_MIN;
  return b;
}

export function int64Tensor(values: readonly (number | bigint)[], shape: number[] = [values.length]): Tensor {
  return Tensor.fromArray('int64', shape, values.map(toInt64));
}

/** A scalar (or 1-element) tensor of a numeric dtype. */
export function scalarTensor(dtype: DType, value: number, shape: number[] = []): Tensor {
  if (dtype === 'int64' || dtype === 'uint64') return Tensor.fromArray(dtype, shape, [toInt64(value)]);
  return Tensor.fromArray(dtype, shape, [value]);
}

/** Adds an initializer with a fresh name built from `base`. */
export function addConst(g: Graph, base: string, t: Tensor): Value {
  const name = g.uniqueValueName(base);
  t.name = name;
  return g.addInitializer(name, t);
}

/** Removes an initializer nobody reads any more (nodes, graph outputs). */
export function dropIfUnused(v: Value | null | undefined): void {
  const g = v?.graph;
  if (!v || !g || !v.initializer || v.consumers.size > 0 || g.outputs.includes(v)) return;
  if (usedInSubgraphs(g, v.name)) return;
  g.removeInitializer(v);
}

/** The constant data of a value: an initializer, or the output of a Constant node. */
export function constTensor(v: Value | null | undefined): Tensor | undefined {
  if (!v) return undefined;
  if (v.initializer) return v.initializer;
  const p = v.producer;
  if (p && p.op === 'Constant' && p.domain === '') {
    const a = p.attrs;
    if (a.value?.kind === 'tensor') return a.value.value;
    if (a.value_int?.kind === 'int') return int64Tensor([a.value_int.value], []);
    if (a.value_ints?.kind === 'ints') return int64Tensor(a.value_ints.value);
    if (a.value_float?.kind === 'float') return Tensor.fromArray('float32', [], [a.value_float.value]);
    if (a.value_floats?.kind === 'floats') return Tensor.fromArray('float32', [a.value_floats.value.length], a.value_floats.value);
  }
  return undefined;
}

/** Integer values of a constant (int64/int32 tensors), as numbers. */
export function constInts(v: Value | null | undefined): number[] | undefined {
  const t = constTensor(v);
  if (!t || !(t.dtype === 'int64' || t.dtype === 'int32' || t.dtype === 'uint64' || t.dtype === 'uint32')) return undefined;
  return t.toArray().map((x) => Number(x));
}

export function constFloats(v: Value | null | undefined): number[] | undefined {
  const t = constTensor(v);
  if (!t || t.dtype === 'string' || t.dtype === 'complex64' || t.dtype === 'complex128') return undefined;
  return Array.from(t.toFloat64());
}

const SAME_RANK_UNARY = new Set([
  'Relu', 'LeakyRelu', 'PRelu', 'Sigmoid', 'HardSigmoid', 'HardSwish', 'Tanh', 'Elu', 'Selu', 'Celu', 'Softplus', 'Softsign',
  'Softmax', 'LogSoftmax', 'Hardmax', 'Exp', 'Log', 'Sqrt', 'Abs', 'Neg', 'Reciprocal', 'Floor', 'Ceil', 'Round', 'Erf',
  'Clip', 'Cast', 'Identity', 'Dropout', 'BatchNormalization', 'InstanceNormalization', 'LayerNormalization', 'LRN',
  'Conv', 'ConvTranspose', 'MaxPool', 'AveragePool', 'GlobalAveragePool', 'GlobalMaxPool', 'LpPool', 'Transpose', 'Pad',
  'Resize', 'Upsample', 'Sin', 'Cos', 'Not', 'Sign', 'Mish', 'Gelu',
]);
const BROADCAST_BINARY = new Set(['Add', 'Sub', 'Mul', 'Div', 'Pow', 'Max', 'Min', 'Sum', 'Mean', 'Where', 'And', 'Or', 'Equal', 'Less', 'Greater']);

/** The rank of a value: from its shape, its data, or a short walk up simple producers. */
export function rankOf(v: Value | null | undefined, depth = 0): number | undefined {
  if (!v) return undefined;
  if (v.shape) return v.shape.length;
  if (v.initializer) return v.initializer.rank;
  const p = v.producer;
  if (!p || p.domain !== '' || depth > 32) return undefined;
  if (p.outputs[0] !== v && p.op !== 'Dropout' && p.op !== 'BatchNormalization') return undefined;
  if (SAME_RANK_UNARY.has(p.op)) return rankOf(p.inputs[0], depth + 1);
  if (p.op === 'Gemm' || p.op === 'Flatten') return 2;
  if (p.op === 'Shape') return 1;
  if (p.op === 'Reshape') {
    const s = constInts(p.inputs[1]);
    return s?.length;
  }
  if (p.op === 'MatMul') {
    const a = rankOf(p.inputs[0], depth + 1);
    const b = rankOf(p.inputs[1], depth + 1);
    if (a === undefined || b === undefined) return undefined;
    if (a >= 2 && b >= 2) return Math.max(a, b);
    return Math.max(a, b) - 1;
  }
  if (BROADCAST_BINARY.has(p.op)) {
    let r = 0;
    for (const i of p.inputs) {
      const ri = rankOf(i, depth + 1);
      if (ri === undefined) return undefined;
      r = Math.max(r, ri);
    }
    return r;
  }
  return undefined;
}

/** Replaces the whole input list of a node (consumers kept consistent). */
export function setInputs(node: Node, inputs: (Value | null)[]): void {
  const old = node.inputs.slice();
  for (let i = 0; i < inputs.length; i++) {
    if (i < node.inputs.length) node.setInput(i, inputs[i] ?? null);
    else node.addInput(inputs[i] ?? null);
  }
  if (node.inputs.length > inputs.length) {
    (node.inputs as (Value | null)[]).length = inputs.length;
    for (const v of old) if (v && !node.inputs.includes(v)) v.consumers.delete(node);
  }
  // Drop trailing omitted inputs: ONNX treats them as absent.
  while (node.inputs.length && node.inputs[node.inputs.length - 1] === null) (node.inputs as (Value | null)[]).pop();
}

/** Makes `node` produce `v` as output i instead of its current output (which loses its producer). */
export function replaceOutput(node: Node, i: number, v: Value): Value {
  const old = node.outputs[i]!;
  if (old.producer === node) old.producer = undefined;
  (node.outputs as Value[])[i] = v;
  v.producer = node;
  return old;
}

/** Drops trailing outputs that nobody reads (and that are not graph outputs). */
export function dropUnusedOutputs(node: Node, keep: number): boolean {
  const g = node.graph;
  for (let i = node.outputs.length - 1; i >= keep; i--) {
    const o = node.outputs[i]!;
    if (o.name !== '' && (o.consumers.size > 0 || g?.outputs.includes(o) || usedInSubgraphs(g, o.name))) return false;
  }
  for (let i = node.outputs.length - 1; i >= keep; i--) {
    const o = node.outputs[i]!;
    if (o.producer === node) o.producer = undefined;
    if (o.name && g && g.values.get(o.name) === o) g.values.delete(o.name);
  }
  (node.outputs as Value[]).length = Math.min(keep, node.outputs.length);
  return true;
}

function usedInSubgraphs(g: Graph | undefined, name: string): boolean {
  if (!g) return false;
  const visit = (gr: Graph): boolean =>
    gr.nodes.some((n) => subgraphsOf(n).some((s) => s.nodes.some((m) => m.inputs.some((x) => x?.name === name)) || s.outputs.some((o) => o.name === name) || visit(s)));
  return visit(g);
}

/** Creates a node and inserts it before `before` (or at the end). */
export function insertBefore(
  g: Graph,
  before: Node | undefined,
  op: string,
  inputs: (Value | null)[],
  outputs: Value[],
  attrs: Attrs = {},
  name?: string,
): Node {
  const node = new Node(op, g.uniqueNodeName(name ?? op), inputs, outputs, attrs);
  return g.insertNode(node, before);
}

/** The node after `node` in the graph's list (for inserting right after it). */
export function nextNode(g: Graph, node: Node): Node | undefined {
  const i = g.nodes.indexOf(node);
  return i >= 0 ? g.nodes[i + 1] : undefined;
}

/** Every graph of the model, main graph first, subgraphs after their owners. */
export function allGraphs(g: Graph): Graph[] {
  const out: Graph[] = [g];
  for (const n of g.nodes) for (const s of subgraphsOf(n)) out.push(...allGraphs(s));
  return out;
}
