/**
 * TF functional control flow -> ONNX control flow.
 *
 * - `While` / `StatelessWhile(loop vars...; cond, body)`: the loop runs `body` while `cond` holds,
 *   checked before every iteration. It becomes an ONNX `Loop` with no trip count: the first
 *   condition is computed in the enclosing graph from the initial values, and the body graph
 *   computes the next loop variables and then the condition on them. Loop variables the body
 *   returns unchanged (weights, the input list of an RNN, maximum_iterations) are not carried:
 *   the body reads the enclosing graph's value, and the While's output is that value.
 * - `If` / `StatelessIf(cond, args...; then_branch, else_branch)`: an ONNX `If` whose branches read
 *   the arguments from the enclosing graph.
 *
 * TensorList loop variables (DT_VARIANT) are ONNX sequences (see `sequence-values.ts`).
 */
import { MconvError } from '../../errors.js';
import { attr, Graph, type Value } from '../../ir/graph.js';
import { inferNode } from '../../ir/infer.js';
import type { DType, Shape } from '../../ir/tensor.js';
import { markSequence, sequenceElem } from './sequence-values.js';
import { irDType, TF_DTYPE_NAMES, type TfFunction, type TfNode } from './tf-graph.js';

export const CONTROL_FLOW_OPS = ['While', 'StatelessWhile', 'If', 'StatelessIf'];

const DT_RESOURCE = 20;
const DT_VARIANT = 21;

/** What the importer offers the control-flow converters. */
export interface ControlFlowHost {
  /** The main graph (weights live there). */
  root: Graph;
  fn(name: string): TfFunction | undefined;
  /** Converts a function body into `graph` with its arguments bound to `args`; returns its results in order. */
  inline(fn: TfFunction, args: Value[], prefix: string, graph: Graph): Value[];
}

function cfError(irName: string, op: string, message: string, hint?: string): MconvError {
  return new MconvError({ kind: 'unsupported', format: 'tf', where: `${irName} (${op})`, message, hint });
}

function functionAttr(host: ControlFlowHost, n: TfNode, irName: string, name: string): TfFunction {
  const fname = n.attr[name]?.func?.name;
  const fn = fname ? host.fn(fname) : undefined;
  if (!fn) throw cfError(irName, n.op, `its ${name} function ${JSON.stringify(fname ?? '')} is not in the graph's library`);
  return fn;
}

/** Types a new node's outputs from its inputs (best effort; full inference runs after import). */
function typeOutputs(outs: Value[]): void {
  const node = outs[0]?.producer;
  if (!node) return;
  try {
    inferNode(node).forEach((t, i) => {
      const o = node.outputs[i];
      if (!o || !t) return;
      if (t.dtype && !o.dtype) o.dtype = t.dtype;
      if (t.shape && !o.shape) o.shape = t.shape.slice();
    });
  } catch {
    // Left untyped: the full inference after import reports real problems.
  }
}

/** A TF condition value as an ONNX bool scalar (numbers: nonzero is true). */
function asBool(graph: Graph, v: Value, name: string): Value {
  if (v.dtype === 'bool') return v;
  const out = graph.addNode('Cast', [v], 1, { to: attr.int(9) }, name).outputs;
  typeOutputs(out);
  return out[0]!;
}

/** The argument a body returns for output k, following Identity nodes of the body. */
function returnsArgument(fn: TfFunction, k: number): string | undefined {
  const ret = fn.ret[fn.outputs[k]?.name ?? ''];
  if (!ret) return undefined;
  const byName = new Map(fn.nodes.map((n) => [n.name, n]));
  let ref = ret;
  for (let hops = 0; hops < 16; hops++) {
    if (fn.inputs.some((a) => a.name === ref)) return ref;
    const node = byName.get(ref.split(':')[0]!);
    if (!node || (node.op !== 'Identity' && node.op !== 'StopGradient') || !node.inputs[0]) return undefined;
    ref = node.inputs[0];
  }
  return undefined;
}

/** IR dims for a TF shape attribute: -1 becomes a fresh symbol; undefined for unknown rank. */
function shapeOf(s: number[] | null | undefined, name: string): Shape | undefined {
  if (!s) return undefined;
  return s.map((d, i) => (d >= 0 ? d : `${name}_d${i}`));
}

/**
 * A loop variable's shape inside the body: the initial value's where TF's shape invariant allows
 * it (same rank, its known dims agree), as ONNX shape inference of Loop assumes too; else TF's
 * invariant with fresh symbols; undefined when neither is known.
 */
function bodyShape(invariant: number[] | null | undefined, initial: Shape | undefined, name: string): Shape | undefined {
  if (initial && (!invariant || (invariant.length === initial.length && invariant.every((d, i) => d < 0 || d === initial[i])))) {
    return invariant ? initial.map((d, i) => (invariant[i]! >= 0 ? invariant[i]! : d)) : initial.slice();
  }
  return shapeOf(invariant, name);
}

/** Graph outputs must be values the graph computes, once each: others get an Identity. */
function ownOutputs(g: Graph, values: Value[], names: string[]): Value[] {
  const seen = new Set<Value>();
  return values.map((v, i) => {
    const own = v.producer?.graph === g && !seen.has(v);
    seen.add(v);
    if (own) return v;
    const out = g.addNode('Identity', [v], [g.newValue(names[i]!, v.dtype, v.shape?.slice())], {}, names[i]).outputs[0]!;
    const elem = sequenceElem(v);
    if (elem) markSequence(out, elem);
    return out;
  });
}

export function convertWhile(host: ControlFlowHost, graph: Graph, n: TfNode, irName: string, inputs: Value[]): Value[] {
  const cond = functionAttr(host, n, irName, 'cond');
  const body = functionAttr(host, n, irName, 'body');
  const types = n.attr.T?.list?.type ?? [];
  const shapes = n.attr.output_shapes?.list?.shape ?? [];
  if (body.inputs.length !== inputs.length || body.outputs.length !== inputs.length || cond.inputs.length !== inputs.length) {
    throw cfError(irName, n.op, `has ${inputs.length} loop variables, but its body takes ${body.inputs.length} and returns ${body.outputs.length}, its condition takes ${cond.inputs.length}`);
  }
  const invariant = inputs.map((_, k) => returnsArgument(body, k) === body.inputs[k]!.name);

  // The first test of the condition, on the initial values.
  const cond0 = asBool(graph, host.inline(cond, inputs, `${irName}.cond0/`, graph)[0]!, `${irName}.cond0/as_bool`);

  const b = new Graph(`${irName}.body`, graph);
  const p = `${irName}.body/`;
  b.addInput(`${p}iteration`, 'int64', []);
  b.addInput(`${p}cond_in`, 'bool', []);
  const carried: number[] = [];
  const args = inputs.map((v, k) => {
    if (invariant[k]) return v;
    carried.push(k);
    const t = types[k];
    const name = `${p}${body.inputs[k]!.name}`;
    const seqElem = sequenceElem(v);
    if (seqElem) return markSequence(b.addInput(name, 'float32', []), seqElem);
    if (t === DT_VARIANT) throw cfError(irName, n.op, `loop variable ${k} is a variant that is not a TensorList mconv made`);
    if (t === DT_RESOURCE) throw cfError(irName, n.op, `loop variable ${k} is a resource the loop changes (a stateful loop)`, 'export the model for inference (tf.function with the variables read outside the loop)');
    const d: DType | undefined = irDType(t) ?? v.dtype;
    if (!d) throw cfError(irName, n.op, `loop variable ${k} has type ${t === undefined ? '(missing)' : TF_DTYPE_NAMES[t] ?? t}, which mconv does not support`);
    const inp = b.addInput(name, d, []);
    inp.shape = bodyShape(shapes[k], v.shape, name);
    return inp;
  });
  const next = host.inline(body, args, p, b);
  const again = asBool(b, host.inline(cond, next, `${irName}.cond/`, b)[0]!, `${irName}.cond/as_bool`);
  b.outputs = ownOutputs(b, [again, ...carried.map((k) => next[k]!)], [`${p}cond_out`, ...carried.map((k) => `${p}${body.outputs[k]!.name}_out`)]);

  const loop = graph.addNode('Loop', [null, cond0, ...carried.map((k) => inputs[k]!)], carried.length, { body: attr.graph(b) }, irName);
  loop.meta.tfNode = n.name;
  loop.outputs.forEach((o, j) => {
    const init = inputs[carried[j]!]!;
    const elem = sequenceElem(init);
    if (elem) markSequence(o, elem);
    else {
      o.dtype = init.dtype;
      const s = shapeOf(shapes[carried[j]!], o.name);
      if (s) o.shape = s;
    }
  });
  return inputs.map((v, k) => (invariant[k] ? v : loop.outputs[carried.indexOf(k)]!));
}

export function convertIf(host: ControlFlowHost, graph: Graph, n: TfNode, irName: string, inputs: Value[]): Value[] {
  const [c, ...args] = inputs;
  if (!c) throw cfError(irName, n.op, 'has no condition input');
  if (c.shape && c.shape.length > 0) throw cfError(irName, n.op, 'its condition is not a scalar (a non-empty test), which mconv does not convert');
  const branches = (['then_branch', 'else_branch'] as const).map((which) => {
    const fn = functionAttr(host, n, irName, which);
    const g = new Graph(`${irName}.${which}`, graph);
    const outs = host.inline(fn, args, `${irName}.${which}/`, g);
    g.outputs = ownOutputs(g, outs, fn.outputs.map((o) => `${irName}.${which}/${o.name}_out`));
    return g;
  });
  const [thenG, elseG] = branches as [Graph, Graph];
  if (thenG.outputs.length !== elseG.outputs.length) throw cfError(irName, n.op, `its branches return ${thenG.outputs.length} and ${elseG.outputs.length} values`);
  const node = graph.addNode('If', [asBool(graph, c, `${irName}/as_bool`)], thenG.outputs.length,
    { then_branch: attr.graph(thenG), else_branch: attr.graph(elseG) }, irName);
  node.meta.tfNode = n.name;
  const tout = n.attr.Tout?.list?.type ?? [];
  node.outputs.forEach((o, i) => {
    const t = thenG.outputs[i]!;
    const elem = sequenceElem(t);
    if (elem) markSequence(o, elem);
    else o.dtype = irDType(tout[i]) ?? t.dtype;
  });
  typeOutputs(node.outputs);
  return node.outputs;
}
