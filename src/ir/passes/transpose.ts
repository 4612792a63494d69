/**
 * Transpose cancelling. Readers of NHWC formats wrap every layout-sensitive op in Transposes
 * (NHWC->NCHW before, NCHW->NHWC after); this pass moves Transposes downstream through ops that
 * do not care about layout and cancels them when they meet their inverse:
 *   - Transpose(Transpose(x)) becomes one Transpose, or none when the perms cancel;
 *   - a Transpose is pushed below elementwise unary ops, broadcasting ops whose other operands
 *     are constants (transposed to match), all-ones broadcasts, or Transposes with the same perm,
 *     and below Concat, Softmax-like ops, reductions, Squeeze, Pad and Slice (axes remapped);
 *   - duplicate Transposes of one value merge; Transposes of constants fold; identity perms go;
 *   - a Transpose that follows a chain of such ops starting at a graph input (a Rescaling or a
 *     ZeroPadding before the first convolution) is pulled up to the input instead, where it stays.
 * A Transpose is pushed only when every reader of its output can take it, so the count of
 * Transposes never grows. A Keras NHWC CNN ends with one Transpose per input and output.
 */
import { Graph, Node, Value, attr, subgraphsOf } from '../graph.js';
import { removeNodeAndBypass } from '../edit.js';
import { Tensor, type Shape } from '../tensor.js';
import { topologicalOrder } from '../walk.js';
import { elements, transposeTensor } from './tensor-ops.js';

const UNARY = new Set([
  'Abs', 'Acos', 'Acosh', 'Asin', 'Asinh', 'Atan', 'Atanh', 'Ceil', 'Cos', 'Cosh', 'Erf', 'Exp', 'Floor', 'Log', 'Neg',
  'Reciprocal', 'Round', 'Sign', 'Sin', 'Sinh', 'Sqrt', 'Tan', 'Tanh', 'Sigmoid', 'Softplus', 'Softsign', 'Relu', 'Mish',
  'HardSwish', 'Not', 'Elu', 'Celu', 'LeakyRelu', 'HardSigmoid', 'Selu', 'ThresholdedRelu', 'Shrink', 'IsNaN', 'IsInf',
  'Cast', 'Identity',
]);

const BROADCAST = new Set([
  'Add', 'Sub', 'Mul', 'Div', 'Pow', 'Mod', 'Max', 'Min', 'Sum', 'Mean', 'PRelu', 'Where', 'Clip', 'Equal', 'Greater',
  'GreaterOrEqual', 'Less', 'LessOrEqual', 'And', 'Or', 'Xor', 'BitShift', 'QuantizeLinear', 'DequantizeLinear',
]);

const SINGLE_AXIS = new Set(['Softmax', 'LogSoftmax', 'Hardmax']);

const REDUCE = new Set([
  'ReduceL1', 'ReduceL2', 'ReduceLogSum', 'ReduceLogSumExp', 'ReduceMax', 'ReduceMean', 'ReduceMin', 'ReduceProd',
  'ReduceSum', 'ReduceSumSquare', 'ArgMax', 'ArgMin',
]);

export interface TransposeOptions {
  /** Safety bound on rewrites (default 10 per node). */
  maxSteps?: number;
}

function isTranspose(n: Node | undefined): boolean {
  return !!n && n.op === 'Transpose' && n.domain === '';
}

function shapeOf(v: Value): Shape | undefined {
  return v.initializer?.shape ?? v.shape;
}

/** The perm of a Transpose (default: reversed axes, which needs the rank). */
function permOf(t: Node): number[] | undefined {
  const p = t.attrInts('perm');
  if (p) return p;
  const r = shapeOf(t.inputs[0]!)?.length ?? t.outputs[0]?.shape?.length;
  return r === undefined ? undefined : Array.from({ length: r }, (_, i) => r - 1 - i);
}

function invert(perm: number[]): number[] {
  const inv = new Array<number>(perm.length);
  perm.forEach((p, i) => (inv[p] = i));
  return inv;
}

function isIdentity(perm: number[]): boolean {
  return perm.every((p, i) => p === i);
}

function samePerm(x: number[], y: number[]): boolean {
  return x.length === y.length && x.every((p, i) => p === y[i]);
}

function constantOf(graph: Graph, v: Value): Tensor | undefined {
  return v.initializer && !graph.inputs.includes(v) ? v.initializer : undefined;
}

function allOnes(s: Shape | undefined): boolean {
  return !!s && s.every((d) => d === 1);
}

function isGraphOutput(graph: Graph, v: Value): boolean {
  return graph.outputs.includes(v);
}

/** Adds a constant next to an existing one (new name, shared nothing). */
function addConst(graph: Graph, base: string, t: Tensor): Value {
  return graph.addInitializer(graph.uniqueValueName(base), t);
}

function intsConst(graph: Graph, base: string, values: number[]): Lazy {
  return () => addConst(graph, base, Tensor.fromArray('int64', [values.length], values));
}

/** A value to create only if the rewrite happens (new constants). */
type Lazy = () => Value;
type PlannedInput = Value | Lazy | undefined;

/** How to rewrite one consumer when the Transpose moves below it. */
interface Plan {
  /** New inputs by position (undefined: keep). */
  inputs: PlannedInput[];
  /** Attribute changes. */
  attrs?: Node['attrs'];
  /** The perm of the Transpose to put after the consumer (undefined or identity: none). */
  outPerm?: number[];
}

export function transposeOptimizer(graph: Graph, opts: TransposeOptions = {}): Graph {
  for (const n of graph.nodes) for (const sg of subgraphsOf(n)) transposeOptimizer(sg, opts);
  const limit = opts.maxSteps ?? Math.max(100, graph.nodes.length * 10);
  let steps = 0;
  let changed = true;
  while (changed && steps < limit) {
    changed = false;
    mergeDuplicates(graph);
    for (const t of topologicalOrder(graph)) {
      if (t.graph !== graph || !isTranspose(t)) continue;
      if (rewrite(graph, t)) {
        changed = true;
        if (++steps >= limit) break;
      }
    }
  }
  return graph;
}

/** Transposes of one value with the same perm become one. */
function mergeDuplicates(graph: Graph): void {
  const seen = new Map<Value, Node[]>();
  for (const n of [...graph.nodes]) {
    if (!isTranspose(n) || !n.inputs[0]) continue;
    const perm = permOf(n);
    if (!perm) continue;
    const x = n.inputs[0];
    const list = seen.get(x) ?? [];
    const twin = list.find((m) => samePerm(permOf(m)!, perm));
    if (twin && !isGraphOutput(graph, n.outputs[0]!)) {
      const y = n.outputs[0]!;
      graph.replaceAllUses(y, twin.outputs[0]!);
      graph.removeNode(n);
      continue;
    }
    list.push(n);
    seen.set(x, list);
  }
}

function removeIfUnused(graph: Graph, n: Node): void {
  if (n.graph !== graph) return;
  if (n.outputs.every((o) => o.consumers.size === 0 && !isGraphOutput(graph, o))) graph.removeNode(n);
}

function rewrite(graph: Graph, t: Node): boolean {
  const perm = permOf(t);
  const x = t.inputs[0];
  const y = t.outputs[0];
  if (!perm || !x || !y) return false;
  if (!t.attrs['perm']) t.attrs['perm'] = attr.ints(perm);
  // Identity perm: bypass.
  if (isIdentity(perm)) return removeNodeAndBypass(graph, t);
  // Transpose of a Transpose: compose.
  const inner = x.producer;
  if (inner && isTranspose(inner) && inner.graph === graph) {
    const p0 = permOf(inner);
    if (p0 && p0.length === perm.length) {
      t.setInput(0, inner.inputs[0]!);
      t.attrs['perm'] = attr.ints(perm.map((p) => p0[p]!));
      removeIfUnused(graph, inner);
      return true;
    }
  }
  // Transpose of a constant: fold.
  const c = constantOf(graph, x);
  if (c && !isGraphOutput(graph, y) && c.size <= 1 << 20) {
    const v = addConst(graph, `${x.name}_transposed`, transposeTensor(c, perm));
    graph.replaceAllUses(y, v);
    graph.removeNode(t);
    const own = graph.initializers.get(x.name) === x;
    if (own && x.consumers.size === 0 && !isGraphOutput(graph, x) && !graph.inputs.includes(x)) graph.removeInitializer(x);
    return true;
  }
  // Unless it meets its inverse further down: at a graph input it stays, and after a chain of
  // layout-free ops from a graph input it moves up to that input.
  if (!cancelsBelow(graph, t, perm)) {
    if (graph.inputs.includes(x)) return false;
    if (x.producer && x.producer.graph === graph && leadsToInput(graph, x.producer, perm.length)) return pullUp(graph, t, perm);
  }
  // Push below the readers.
  if (isGraphOutput(graph, y)) return false;
  const readers = [...y.consumers];
  if (readers.length === 0) return false;
  const plans = new Map<Node, Plan>();
  for (const r of readers) {
    if (isTranspose(r)) continue; // composes on its own turn
    if (r.graph !== graph) return false;
    const plan = planPush(graph, r, perm);
    if (!plan) return false;
    plans.set(r, plan);
  }
  if (plans.size === 0) return false;
  for (const [r, plan] of plans) apply(graph, r, plan, t);
  // Readers that were Transposes now compose with their own copy of t.
  for (const r of readers) {
    if (!isTranspose(r) || r.graph !== graph) continue;
    if (r.inputs[0] !== y) continue;
    const p1 = permOf(r);
    if (!p1) continue;
    r.setInput(0, x);
    r.attrs['perm'] = attr.ints(p1.map((p) => perm[p]!));
  }
  removeIfUnused(graph, t);
  return true;
}

/**
 * Whether `r` (and the ops before it) are layout-free ops on their data input, each output read
 * only by the next, back to a graph input: then a Transpose after `r` can move up to that input.
 */
function leadsToInput(graph: Graph, r: Node, rank: number): boolean {
  let n: Node = r;
  for (let i = 0; i < 64; i++) {
    if (!pullable(graph, n, rank)) return false;
    const x = n.inputs[0]!;
    if (graph.inputs.includes(x)) return true;
    const p = x.producer;
    if (!p || p.graph !== graph || x.consumers.size !== 1 || isGraphOutput(graph, x)) return false;
    n = p;
  }
  return false;
}

/** Whether pushing `t` down through layout-free ops (one reader each) reaches a Transpose that undoes it. */
function cancelsBelow(graph: Graph, t: Node, perm: number[]): boolean {
  let v = t.outputs[0]!;
  for (let i = 0; i < 64; i++) {
    if (isGraphOutput(graph, v) || v.consumers.size !== 1) return false;
    const r = [...v.consumers][0]!;
    if (r.graph !== graph) return false;
    if (isTranspose(r)) {
      // A run of Transposes acts as their composition; one that composes to nothing is skipped.
      let acc = permOf(r);
      let last = r;
      while (acc && last.outputs[0]!.consumers.size === 1 && !isGraphOutput(graph, last.outputs[0]!)) {
        const next = [...last.outputs[0]!.consumers][0]!;
        const q = next.graph === graph && isTranspose(next) ? permOf(next) : undefined;
        if (!q || q.length !== acc.length) break;
        const a: number[] = acc;
        acc = q.map((k) => a[k]!);
        last = next;
      }
      if (!acc || acc.length !== perm.length) return false;
      if (isIdentity(acc)) {
        v = last.outputs[0]!;
        continue;
      }
      return isIdentity(acc.map((p) => perm[p]!));
    }
    if (r.inputs[0] !== v || !pullable(graph, r, perm.length)) return false;
    v = r.outputs[0]!;
  }
  return false;
}

/** Ops that `planPush` always moves a Transpose below (checked without building the plan). */
function pullable(graph: Graph, n: Node, rank: number): boolean {
  if (n.domain !== '' || n.outputs.length !== 1 || !n.inputs[0]) return false;
  const x = n.inputs[0];
  const others = n.inputs.slice(1);
  if (others.some((v) => v === x)) return false;
  const constant = (v: Value | null | undefined) => !v || !v.name || !!constantOf(graph, v);
  if (UNARY.has(n.op)) return others.length === 0;
  if (BROADCAST.has(n.op) && n.op !== 'QuantizeLinear' && n.op !== 'DequantizeLinear' && n.op !== 'Where') {
    return others.every((v) => !v || !v.name || allOnes(shapeOf(v)) || (!!constantOf(graph, v) && constantOf(graph, v)!.rank <= rank && constantOf(graph, v)!.size <= 1 << 20));
  }
  if (n.op === 'Pad') return others.every(constant) && !(n.inputs[3] && n.inputs[3].name) && !!n.inputs[1] && constantOf(graph, n.inputs[1])?.size === 2 * rank;
  if (n.op === 'Slice') return others.every(constant);
  if (n.op === 'Resize') return resizePlan(graph, n, Array.from({ length: rank }, (_, i) => i)) !== undefined;
  return false;
}

/** Moves Transpose `t` (after a chain `leadsToInput` accepted) one op up; the next rounds carry it on. */
function pullUp(graph: Graph, t: Node, perm: number[]): boolean {
  const y = t.inputs[0]!;
  const r = y.producer!;
  const xin = r.inputs[0]!;
  const inv = invert(perm);
  // xin -> T(perm) -> T(inv) -> r computes what r computed; pushing T(inv) below r makes it meet t.
  const u = graph.addNode('Transpose', [xin], 1, { perm: attr.ints(perm) }, `${t.name}_up`);
  const uo = u.outputs[0]!;
  uo.dtype = xin.dtype;
  if (xin.shape && xin.shape.length === perm.length) uo.shape = perm.map((p) => xin.shape![p]!);
  const w = graph.addNode('Transpose', [uo], 1, { perm: attr.ints(inv) }, `${t.name}_back`);
  const wo = w.outputs[0]!;
  wo.dtype = xin.dtype;
  wo.shape = xin.shape?.slice();
  r.setInput(0, wo);
  const plan = planPush(graph, r, inv);
  if (!plan) {
    r.setInput(0, xin);
    graph.removeNode(w);
    graph.removeNode(u);
    return false;
  }
  apply(graph, r, plan, w);
  removeIfUnused(graph, w);
  return true;
}

/** Resize's scales or sizes remapped for a Transpose `perm` moved below it (roi must be absent). */
function resizePlan(graph: Graph, r: Node, perm: number[]): Plan['inputs'] | undefined {
  const n = perm.length;
  const roi = r.inputs[1];
  if (roi && roi.name) {
    const c = constantOf(graph, roi);
    if (!c || c.size !== 0) return undefined;
  }
  const inputs: PlannedInput[] = [undefined, undefined, undefined, undefined];
  for (const [i, kind] of [[2, 'scales'], [3, 'sizes']] as const) {
    const v = r.inputs[i];
    if (!v || !v.name) continue;
    const c = constantOf(graph, v);
    if (!c) return undefined;
    if (c.size === 0) continue;
    if (c.size !== n) return undefined;
    const vals = elements(c).map(Number);
    // Axis j below the Transpose was axis inv[j] above it.
    const inv = invert(perm);
    const moved = inv.map((p) => vals[p]!);
    inputs[i] = kind === 'scales'
      ? () => addConst(graph, `${r.name}_scales`, Tensor.fromArray('float32', [n], moved))
      : intsConst(graph, `${r.name}_sizes`, moved);
  }
  return inputs;
}

/** Whether (and how) a Transpose with `perm` reading into `r` can move below `r`. */
function planPush(graph: Graph, r: Node, perm: number[]): Plan | undefined {
  if (r.domain !== '') return undefined;
  const n = perm.length;
  const inv = invert(perm);
  const op = r.op;
  if (r.outputs.filter((o) => o.name).length !== 1) return undefined;
  /** The input of a Transpose with the same perm producing `v`. */
  const untransposed = (v: Value | null | undefined): Value | undefined => {
    const p = v?.producer;
    if (p && isTranspose(p) && p.graph === graph) {
      const pp = permOf(p);
      if (pp && samePerm(pp, perm)) return p.inputs[0]!;
    }
    return undefined;
  };
  /** The untransposed form of a broadcast operand, or undefined when it cannot be had. */
  const operand = (v: Value): Value | Lazy | undefined => {
    const u = untransposed(v);
    if (u) return u;
    const s = shapeOf(v);
    if (allOnes(s) && s!.length <= n) return v;
    const c = constantOf(graph, v);
    if (c && c.rank <= n && c.size <= 1 << 20) {
      return () => {
        const ext = c.reshape([...new Array<number>(n - c.rank).fill(1), ...c.shape]);
        return addConst(graph, `${v.name}_perm`, transposeTensor(ext, inv));
      };
    }
    return undefined;
  };
  const dataOnly = (): Value | undefined => {
    const y = r.inputs[0];
    if (r.inputs.some((v, i) => i > 0 && v && v === y)) return undefined;
    const x = untransposed(y);
    if (!x) return undefined;
    // The transposed value must feed input 0 only.
    const t = y!.producer!;
    if (r.inputs.some((v, i) => i > 0 && v && v.producer === t)) return undefined;
    return x;
  };
  const remap = (axes: number[]) => axes.map((a) => perm[a < 0 ? a + n : a]!);
  if (UNARY.has(op)) {
    const x = dataOnly();
    return x ? { inputs: [x], outPerm: perm } : undefined;
  }
  if (BROADCAST.has(op)) {
    if ((op === 'QuantizeLinear' || op === 'DequantizeLinear') && !r.inputs.slice(1).every((v) => !v || allOnes(shapeOf(v)))) {
      return undefined;
    }
    const inputs: PlannedInput[] = [];
    for (const v of r.inputs) {
      if (!v || !v.name) {
        inputs.push(undefined);
        continue;
      }
      const u = operand(v);
      if (!u) return undefined;
      inputs.push(u === v ? undefined : u);
    }
    return { inputs, outPerm: perm };
  }
  if (op === 'Concat') {
    const inputs: PlannedInput[] = [];
    for (const v of r.inputs) {
      if (!v || !v.name) return undefined;
      const u = operand(v);
      if (!u || (u === v && shapeOf(v)?.length !== n)) return undefined;
      inputs.push(u === v ? undefined : u);
    }
    return { inputs, attrs: { axis: attr.int(remap([r.attrInt('axis', 0)])[0]!) }, outPerm: perm };
  }
  if (SINGLE_AXIS.has(op)) {
    const x = dataOnly();
    return x ? { inputs: [x], attrs: { axis: attr.int(remap([r.attrInt('axis', -1)])[0]!) }, outPerm: perm } : undefined;
  }
  if (REDUCE.has(op)) {
    const x = dataOnly();
    if (!x) return undefined;
    const keep = r.attrInt('keepdims', 1) !== 0;
    const isArg = op === 'ArgMax' || op === 'ArgMin';
    let axes: number[] | undefined;
    const inputs: PlannedInput[] = [x];
    const attrs: Node['attrs'] = {};
    if (isArg) axes = [r.attrInt('axis', 0)];
    else if (r.inputs[1] && r.inputs[1].name) {
      const c = constantOf(graph, r.inputs[1]);
      if (!c) return undefined;
      axes = elements(c).map(Number);
    } else axes = r.attrInts('axes');
    if (!axes || axes.length === 0) {
      if (!isArg && r.attrInt('noop_with_empty_axes', 0) !== 0) return { inputs, outPerm: perm };
      return { inputs }; // everything reduced: the layout no longer matters
    }
    const norm = axes.map((a) => (a < 0 ? a + n : a));
    const newAxes = remap(norm);
    if (isArg) attrs['axis'] = attr.int(newAxes[0]!);
    else if (r.inputs[1] && r.inputs[1].name) inputs[1] = intsConst(graph, `${r.name}_axes`, newAxes);
    else attrs['axes'] = attr.ints(newAxes);
    return { inputs, attrs, outPerm: keep ? perm : squeezedPerm(perm, norm) };
  }
  if (op === 'Squeeze') {
    const x = dataOnly();
    const av = r.inputs[1];
    if (!x || !av) return undefined;
    const c = constantOf(graph, av);
    if (!c) return undefined;
    const norm = elements(c).map((a) => (Number(a) < 0 ? Number(a) + n : Number(a)));
    return { inputs: [x, intsConst(graph, `${r.name}_axes`, remap(norm))], outPerm: squeezedPerm(perm, norm) };
  }
  if (op === 'Pad') {
    const x = dataOnly();
    const pv = r.inputs[1];
    if (!x || !pv || (r.inputs[3] && r.inputs[3].name)) return undefined;
    const c = constantOf(graph, pv);
    if (!c || c.size !== 2 * n) return undefined;
    const pads = elements(c).map(Number);
    const np = new Array<number>(2 * n);
    for (let i = 0; i < n; i++) {
      np[perm[i]!] = pads[i]!;
      np[perm[i]! + n] = pads[i + n]!;
    }
    return { inputs: [x, intsConst(graph, `${r.name}_pads`, np)], outPerm: perm };
  }
  if (op === 'Resize') {
    const x = dataOnly();
    if (!x || r.attrInts('axes')) return undefined;
    const rest = resizePlan(graph, r, perm);
    if (!rest) return undefined;
    rest[0] = x;
    return { inputs: rest, outPerm: perm };
  }
  if (op === 'Slice') {
    const x = dataOnly();
    if (!x) return undefined;
    const av = r.inputs[3];
    let axes: number[];
    if (av && av.name) {
      const c = constantOf(graph, av);
      if (!c) return undefined;
      axes = elements(c).map(Number);
    } else {
      const sv = r.inputs[1] && constantOf(graph, r.inputs[1]);
      if (!sv) return undefined;
      axes = Array.from({ length: sv.size }, (_, i) => i);
    }
    return { inputs: [x, undefined, undefined, intsConst(graph, `${r.name}_axes`, remap(axes))], outPerm: perm };
  }
  return undefined;
}

/** The perm left after removing `removed` axes (in transposed coordinates); identity when none is needed. */
function squeezedPerm(perm: number[], removed: number[]): number[] {
  const rm = new Set(removed);
  const kept = perm.map((_, i) => i).filter((i) => !rm.has(i));
  const srcKept = kept.map((i) => perm[i]!);
  const sorted = srcKept.slice().sort((p, q) => p - q);
  return srcKept.map((s) => sorted.indexOf(s));
}

function apply(graph: Graph, r: Node, plan: Plan, t: Node): void {
  const feeding = new Set<Node>();
  plan.inputs.forEach((planned, i) => {
    if (planned === undefined) return;
    const v = typeof planned === 'function' ? planned() : planned;
    const old = r.inputs[i];
    if (old?.producer && isTranspose(old.producer)) feeding.add(old.producer);
    if (i < r.inputs.length) r.setInput(i, v);
    else {
      while (r.inputs.length < i) r.addInput(null);
      r.addInput(v);
    }
  });
  Object.assign(r.attrs, plan.attrs ?? {});
  const outPerm = plan.outPerm;
  const oi = r.outputs.findIndex((o) => o.name);
  const o = r.outputs[oi]!;
  if (outPerm && !isIdentity(outPerm)) {
    const m = graph.newValue(`${o.name}_untransposed`);
    m.dtype = o.dtype;
    if (o.shape && o.shape.length === outPerm.length) {
      const s: Shape = new Array(o.shape.length);
      outPerm.forEach((p, i) => (s[p] = o.shape![i]!));
      m.shape = s;
    }
    o.producer = undefined;
    (r.outputs as Value[])[oi] = m;
    m.producer = r;
    const tn = new Node('Transpose', graph.uniqueNodeName(t.name), [m], [o], { perm: attr.ints(outPerm) });
    graph.insertNode(tn, graph.nodes[graph.nodes.indexOf(r) + 1]);
  }
  for (const f of feeding) if (f !== t) removeIfUnused(graph, f);
}

