/**
 * `--to tfjs` of ONNX control flow, sequences and LSTM, as the TF ops tfjs-converter runs:
 *
 * - `Loop` -> `StatelessWhile` with `cond` and `body` library functions. Loop variables: the
 *   iteration counter, the trip count (when given), the condition, the carried values, one
 *   TensorList per scan output (items pushed each iteration, stacked after the loop), then every
 *   outer value the body reads (TF functions cannot read the enclosing graph).
 * - `If` -> `StatelessIf` with then/else functions taking the outer values either branch reads.
 *   The importer's TensorListSetItem pattern (an If on index < SequenceLength whose branches are
 *   SequenceErase+SequenceInsert and SequenceInsert at that index) is one `TensorListSetItem`.
 * - Sequences -> TensorLists (DT_VARIANT handles): SequenceEmpty -> EmptyTensorList,
 *   SequenceInsert (at the end) -> TensorListPushBack, SequenceAt -> TensorListGetItem,
 *   SplitToSequence (axis 0) -> TensorListFromTensor, ConcatFromSequence (new_axis, axis 0) ->
 *   TensorListStack, SequenceLength -> TensorListLength. tfjs TensorLists change in place, so a
 *   list that is changed (set, pushed, carried through a loop) must have no other reader.
 * - `LSTM` (forward, default activations) -> a StatelessWhile over the time steps.
 */
import { subgraphsOf, type Graph, type Node, type Value } from '../../ir/graph.js';
import { implicitInputs } from '../../ir/walk.js';
import type { DType } from '../../ir/tensor.js';
import { a, constOf, DT_BOOL, DT_FLOAT, DT_INT32, DT_VARIANT, fail, isSequence, sequenceElemType, tfTypeOf, TfScope } from './graph-writer-scope.js';

type OpWriter = (b: TfScope, node: Node, ins: string[], g: Graph) => string[];

/** Ops whose writers read their inputs themselves (some inputs may stay unwritten). */
export const SELF_INPUT_OPS = new Set(['Loop', 'If']);

function elemOf(b: TfScope, node: Node, list: Value): DType {
  const d = sequenceElemType(list);
  if (!d) throw fail(node, `the element type of sequence ${list.name} is not known`);
  return d;
}

/** A scalar -1 element shape: any shape (tfjs takes the items' own). */
function anyShape(b: TfScope, name: string): string {
  return b.scalar(`${name}/element_shape`, 'int32', -1);
}

/* ------------------------------------------------------------------------------------------ */
/* In-place changes of TensorLists. */

/** The node of `g` that holds `n` (n itself, or the node whose subgraph, at any depth, holds n). */
function anchorIn(g: Graph, n: Node): Node | undefined {
  if (n.graph === g) return n;
  for (const m of g.nodes) {
    for (const sg of subgraphsOf(m)) if (holds(sg, n)) return m;
  }
  return undefined;
}

function holds(g: Graph, n: Node): boolean {
  if (n.graph === g) return true;
  return g.nodes.some((m) => subgraphsOf(m).some((sg) => holds(sg, n)));
}

/**
 * tfjs changes a TensorList in place where TF (and ONNX) make a new one: `list` may be changed
 * by `node` only when nothing else reads it afterwards (its only live reader in the graph).
 */
export function checkSoleUse(b: TfScope, g: Graph, list: Value, node: Node, live: Set<Node>): void {
  const own = list.producer?.graph === g || g.inputs.includes(list);
  const readers = new Set<Node>();
  for (const c of list.consumers) {
    const anc = anchorIn(g, c);
    if (anc && live.has(anc)) readers.add(anc);
  }
  readers.delete(node);
  if (!own || readers.size || g.outputs.includes(list)) {
    throw fail(node, `sequence ${list.name} is read again after this op changes it; tfjs TensorLists change in place, so the graph would compute something else`);
  }
  // An Identity of a list is the same TensorList in tfjs: its source may not be read elsewhere either.
  const p = list.producer;
  if (p?.op === 'Identity' && p.inputs[0] && p.graph === g) checkSoleUse(b, g, p.inputs[0], p, live);
}

/* ------------------------------------------------------------------------------------------ */
/* The TensorListSetItem pattern of the TF importer. */

export interface SetItemPattern {
  list: Value;
  index: Value;
  item: Value;
}

/** The importer's set-item If: `index < SequenceLength(list)` ? erase+insert at index : insert at index. */
export function setItemPattern(node: Node): SetItemPattern | undefined {
  if (node.op !== 'If' || node.outputs.length !== 1) return undefined;
  const t = node.attrs.then_branch?.kind === 'graph' ? node.attrs.then_branch.value : undefined;
  const e = node.attrs.else_branch?.kind === 'graph' ? node.attrs.else_branch.value : undefined;
  if (!t || !e || t.nodes.length !== 2 || e.nodes.length !== 1 || t.outputs.length !== 1 || e.outputs.length !== 1) return undefined;
  const erase = t.nodes.find((n) => n.op === 'SequenceErase');
  const ins1 = t.nodes.find((n) => n.op === 'SequenceInsert');
  const ins2 = e.nodes[0]!;
  if (!erase || !ins1 || ins2.op !== 'SequenceInsert') return undefined;
  const [list, index] = erase.inputs;
  if (!list || !index || ins1.inputs[0] !== erase.outputs[0] || t.outputs[0] !== ins1.outputs[0] || e.outputs[0] !== ins2.outputs[0]) return undefined;
  if (ins1.inputs[2] !== index || ins2.inputs[2] !== index || ins2.inputs[0] !== list || ins1.inputs[1] !== ins2.inputs[1] || !ins1.inputs[1]) return undefined;
  // The condition: Less(index, SequenceLength(list)).
  const less = node.inputs[0]?.producer;
  const len = less?.op === 'Less' && less.inputs[0] === index ? less.inputs[1]?.producer : undefined;
  if (!len || len.op !== 'SequenceLength' || len.inputs[0] !== list) return undefined;
  return { list, index, item: ins1.inputs[1] };
}

/* ------------------------------------------------------------------------------------------ */
/* Loop and If. */

function writeLoop(b: TfScope, node: Node, _ins: string[], g: Graph): string[] {
  const body = node.attrGraph('body');
  if (!body) throw fail(node, 'no body graph');
  const live = liveOf(b);
  const [mV, cV] = [node.input(0), node.input(1)];
  const inits = node.inputs.slice(2) as (Value | null)[];
  const n = inits.length;
  const k = body.outputs.length - 1 - n;
  if (body.inputs.length !== n + 2 || k < 0) throw fail(node, `a body with ${body.inputs.length} inputs and ${body.outputs.length} outputs for ${n} loop values`);
  if (inits.some((v) => !v)) throw fail(node, 'a missing initial loop value');
  for (const v of inits) if (isSequence(v!)) checkSoleUse(b, g, v!, node, live);

  // Initial values in the enclosing scope.
  const iter0 = b.scalar(`${node.name}/iteration0`, 'int32', 0);
  const m = mV ? b.ref(mV) : undefined;
  const c0 = cV ? b.ref(cV) : b.scalar(`${node.name}/cond0`, 'bool', 1);
  const vInit = inits.map((v) => b.ref(v!));
  const scanElems = body.outputs.slice(1 + n).map((v) => {
    if (isSequence(v)) throw fail(node, 'a scan output that is a sequence');
    return v.dtype;
  });
  const scanInit = scanElems.map((d, j) => b.node('EmptyTensorList', `${node.name}/scan${j}`, [anyShape(b, `${node.name}/scan${j}`), b.scalar(`${node.name}/scan${j}/max`, 'int32', -1)], { element_dtype: a.type(d), shape_type: a.dt(DT_INT32) }));
  const stateTypes = [DT_INT32, ...(m ? [DT_INT32] : []), DT_BOOL, ...inits.map((v) => tfTypeOf(v!)), ...scanElems.map(() => DT_VARIANT)];

  // The body function.
  const fb = TfScope.function(b.root, body, `${node.name}_body`, b);
  const aIter = fb.arg('iteration', DT_INT32);
  const aM = m ? fb.arg('trip_count', DT_INT32) : undefined;
  const aCond = fb.arg('cond', DT_BOOL);
  fb.names.set(body.inputs[0]!, aIter);
  fb.names.set(body.inputs[1]!, aCond);
  body.inputs.slice(2).forEach((v, j) => fb.names.set(v, fb.arg(v.name, stateTypes[(m ? 3 : 2) + j]!)));
  const aScan = scanElems.map((_, j) => fb.arg(`scan${j}`, DT_VARIANT));
  b.root.writeGraph(fb, body);
  const next = fb.node('AddV2', 'next_iteration', [aIter, fb.scalar('one', 'int32', 1)], { T: a.dt(DT_INT32) });
  const condOut = fb.ref(body.outputs[0]!);
  const vOut = body.outputs.slice(1, 1 + n).map((v) => fb.ref(v));
  const scanOut = body.outputs.slice(1 + n).map((v, j) => {
    const item = fb.ref(v);
    fb.holds(item, tfTypeOf(v));
    return fb.node('TensorListPushBack', `scan${j}_push`, [aScan[j]!, item], { element_dtype: a.type(scanElems[j]) });
  });
  const outs = [next, ...(aM ? [aM] : []), condOut, ...vOut, ...scanOut].map((ref, i) => ({ ref, type: stateTypes[i]! }));
  // Tensors the body put into lists leave it as loop variables too (see TfScope.keepAlive).
  const keep = fb.keepAlive.filter((k) => !outs.some((o) => o.ref === k.ref));
  for (const k of keep) {
    fb.arg('kept', k.type);
    stateTypes.push(k.type);
    outs.push(k);
  }
  // Outer values the body read go round unchanged.
  const captured = fb.captures.map((c) => c.value);
  const bodyFn = fb.finish(fb.argsFor(captured), [...outs, ...fb.captures.map((c) => ({ ref: c.arg, type: c.type }))], node);

  // The condition function: cond (and iteration < trip count).
  const fc = TfScope.function(b.root, undefined, `${node.name}_cond`, b);
  const cIter = fc.arg('iteration', DT_INT32);
  const cM = m ? fc.arg('trip_count', DT_INT32) : undefined;
  const cCond = fc.arg('cond', DT_BOOL);
  stateTypes.slice(m ? 3 : 2).forEach((t, j) => fc.arg(`state${j}`, t));
  let test = cCond;
  if (cM) test = fc.node('LogicalAnd', 'test', [cCond, fc.node('Less', 'in_range', [cIter, cM], { T: a.dt(DT_INT32) })]);
  const condArgs = fc.argsFor(captured);
  fc.finish(condArgs, [{ ref: test, type: DT_BOOL }], node);

  const types = [...stateTypes, ...fb.captures.map((c) => c.type)];
  const keepInit = keep.map((k, j) => b.scalar(`${node.name}/kept${j}`, k.type === DT_BOOL ? 'bool' : k.type === DT_INT32 ? 'int32' : 'float32', 0));
  const w = b.node('StatelessWhile', node.name, [iter0, ...(m ? [m] : []), c0, ...vInit, ...scanInit, ...keepInit, ...captured.map((v) => b.ref(v))], {
    T: a.types(types), cond: a.func(fc.fn!), body: a.func(bodyFn.name),
    output_shapes: a.shapes(types.map(() => null)), parallel_iterations: a.int(10),
  });
  const first = m ? 3 : 2;
  keep.forEach((k, j) => b.holds(`${w}:${first + n + scanElems.length + j}`, k.type));
  const results = inits.map((_, j) => `${w}:${first + j}`);
  scanElems.forEach((d, j) => {
    results.push(b.node('TensorListStack', `${node.name}/scan${j}_stack`, [`${w}:${first + n + j}`, anyShape(b, `${node.name}/scan${j}_stack`)], { element_dtype: a.type(d), num_elements: a.int(-1) }));
  });
  return results;
}

function writeIf(b: TfScope, node: Node, _ins: string[], g: Graph): string[] {
  const p = setItemPattern(node);
  if (p) {
    const live = liveOf(b);
    checkSoleUse(b, g, p.list, node, live);
    const d = elemOf(b, node, p.list);
    const item = b.ref(p.item);
    b.holds(item, tfTypeOf(p.item));
    return [b.node('TensorListSetItem', node.name, [b.ref(p.list), b.ref(p.index), item], { element_dtype: a.type(d) })];
  }
  const cond = node.input(0);
  if (!cond) throw fail(node, 'no condition');
  const branches = (['then_branch', 'else_branch'] as const).map((which) => {
    const sg = node.attrGraph(which);
    if (!sg) throw fail(node, `no ${which}`);
    const s = TfScope.function(b.root, sg, `${node.name}_${which === 'then_branch' ? 'then' : 'else'}`, b);
    b.root.writeGraph(s, sg);
    const outs = sg.outputs.map((v, i) => ({ ref: s.ref(v), type: tfTypeOf(node.outputs[i] ?? v) }));
    return { s, outs };
  });
  if (branches[0]!.outs.length !== branches[1]!.outs.length) throw fail(node, 'branches with different numbers of outputs');
  const union: Value[] = [];
  for (const { s } of branches) for (const c of s.captures) if (!union.includes(c.value)) union.push(c.value);
  // Tensors a branch put into lists are extra results of both branches (the other gives a zero).
  const kept = branches.flatMap(({ s }, which) => s.keepAlive.map((k) => ({ ...k, which })));
  const [thenFn, elseFn] = branches.map(({ s, outs }, which) => {
    const extra = kept.map((k, j) => (k.which === which ? { ref: k.ref, type: k.type } : { ref: s.scalar(`kept${j}`, k.type === DT_BOOL ? 'bool' : k.type === DT_INT32 ? 'int32' : 'float32', 0), type: k.type }));
    return s.finish(s.argsFor(union), [...outs, ...extra], node);
  });
  const outTypes = [...branches[0]!.outs.map((o) => o.type), ...kept.map((k) => k.type)];
  const y = b.node('StatelessIf', node.name, [b.ref(cond), ...union.map((v) => b.ref(v))], {
    Tcond: a.dt(DT_BOOL), Tin: a.types(union.map(tfTypeOf)), Tout: a.types(outTypes),
    then_branch: a.func(thenFn!.name), else_branch: a.func(elseFn!.name), output_shapes: a.shapes(outTypes.map(() => null)),
  });
  const nOut = branches[0]!.outs.length;
  kept.forEach((k, j) => b.holds(`${y}:${nOut + j}`, k.type));
  return node.outputs.map((_, i) => `${y}:${i}`);
}

/* ------------------------------------------------------------------------------------------ */
/* Sequences. */

const liveSets = new WeakMap<TfScope, Set<Node>>();

/** Records the live nodes of the graph a scope is writing (for the in-place checks). */
export function setLive(b: TfScope, live: Set<Node>): void {
  liveSets.set(b, live);
}

function liveOf(b: TfScope): Set<Node> {
  return liveSets.get(b) ?? new Set();
}

function intValue(g: Graph, v: Value | undefined): number | undefined {
  const t = constOf(g, v);
  return t && t.size === 1 ? Number(t.toArray()[0]) : undefined;
}

const SEQUENCE_WRITERS: Record<string, OpWriter> = {
  SequenceEmpty: (b, node) => {
    const d = sequenceElemType(node.outputs[0]!) ?? 'float32';
    return [b.node('EmptyTensorList', node.name, [anyShape(b, node.name), b.scalar(`${node.name}/max_num_elements`, 'int32', -1)], { element_dtype: a.type(d), shape_type: a.dt(DT_INT32) })];
  },
  SequenceInsert: (b, node, [list, item], g) => {
    if (node.input(2)) throw fail(node, 'inserting at a position (only appending maps to TensorListPushBack)');
    checkSoleUse(b, g, node.inputs[0]!, node, liveOf(b));
    b.holds(item!, tfTypeOf(node.inputs[1]!));
    return [b.node('TensorListPushBack', node.name, [list!, item!], { element_dtype: a.type(elemOf(b, node, node.inputs[0]!)) })];
  },
  SequenceAt: (b, node, [list, index], g) => {
    const d = elemOf(b, node, node.inputs[0]!);
    let i = index!;
    const c = intValue(g, node.input(1));
    if (c !== undefined && c < 0) i = b.node('AddV2', `${node.name}/index`, [b.node('TensorListLength', `${node.name}/length`, [list!]), b.scalar(`${node.name}/offset`, 'int32', c)], { T: a.dt(DT_INT32) });
    return [b.node('TensorListGetItem', node.name, [list!, i, anyShape(b, node.name)], { element_dtype: a.type(d) })];
  },
  SequenceLength: (b, node, [list]) => [b.node('TensorListLength', node.name, [list!])],
  SplitToSequence: (b, node, [x]) => {
    if (node.input(1)) throw fail(node, 'explicit split sizes');
    const rank = node.inputs[0]?.shape?.length;
    let axis = node.attrInt('axis', 0);
    if (axis < 0 && rank !== undefined) axis += rank;
    if (axis !== 0) throw fail(node, `splitting along axis ${node.attrInt('axis', 0)} (TensorListFromTensor splits axis 0)`);
    let t = x!;
    const d = node.inputs[0]!.dtype;
    if (node.attrInt('keepdims', 1) === 1) t = b.node('ExpandDims', `${node.name}/keepdims`, [t, b.scalar(`${node.name}/keepdims_axis`, 'int32', 1)], { T: a.type(d), Tdim: a.dt(DT_INT32) });
    return [b.node('TensorListFromTensor', node.name, [t, anyShape(b, node.name)], { element_dtype: a.type(d), shape_type: a.dt(DT_INT32) })];
  },
  ConcatFromSequence: (b, node, [list]) => {
    const outRank = node.outputs[0]?.shape?.length;
    let axis = node.attrInt('axis', 0);
    if (axis < 0 && outRank !== undefined) axis += outRank;
    if (node.attrInt('new_axis', 0) !== 1 || axis !== 0) throw fail(node, 'concatenating along an existing axis or a new axis other than 0 (TensorListStack stacks on a new axis 0)');
    const d = elemOf(b, node, node.inputs[0]!);
    return [b.node('TensorListStack', node.name, [list!, anyShape(b, node.name)], { element_dtype: a.type(d), num_elements: a.int(-1) })];
  },
};

/* ------------------------------------------------------------------------------------------ */
/* LSTM. */

/** Element `i` of a 1-D int32 tensor as a 1-element vector. */
function pick(b: TfScope, name: string, v: string, i: number): string {
  return b.node('StridedSlice', name, [v, b.ints(`${name}/begin`, [i]), b.ints(`${name}/end`, [i + 1]), b.ints(`${name}/strides`, [1])], {
    T: a.dt(DT_INT32), Index: a.dt(DT_INT32), begin_mask: a.int(0), end_mask: a.int(0), ellipsis_mask: a.int(0), new_axis_mask: a.int(0), shrink_axis_mask: a.int(0),
  });
}

function writeLstm(b: TfScope, node: Node, ins: string[]): string[] {
  const h = node.attrInt('hidden_size');
  const problems: string[] = [];
  if (!h) problems.push('no hidden_size');
  if (node.attrString('direction', 'forward') !== 'forward') problems.push(`direction ${node.attrString('direction', 'forward')}`);
  const acts = node.attrStrings('activations');
  if (acts && acts.map((s) => s.toLowerCase()).join() !== 'sigmoid,tanh,tanh') problems.push(`activations ${acts.join(', ')}`);
  if (node.attrs.clip) problems.push('clip');
  if (node.attrInt('input_forget', 0)) problems.push('input_forget');
  if (node.attrInt('layout', 0)) problems.push('layout 1');
  if (node.input(4)) problems.push('sequence_lens');
  if (node.input(7)) problems.push('peepholes');
  if (problems.length) throw fail(node, `LSTM with ${problems.join(', ')} (mconv writes forward LSTMs with the default activations)`);
  const H = h!;
  const [x, w, r, bias, , h0in, c0in] = ins;
  // Weights as [in, 4H] matrices; the bias as Wb + Rb.
  const matrix = (v: string, name: string) => b.node('Transpose', `${node.name}/${name}`, [b.node('Squeeze', `${node.name}/${name}_2d`, [v], { T: a.dt(DT_FLOAT), squeeze_dims: a.ints([0]) }), b.ints(`${node.name}/${name}_perm`, [1, 0])], { T: a.dt(DT_FLOAT), Tperm: a.dt(DT_INT32) });
  const wt = matrix(w!, 'kernel');
  const rt = matrix(r!, 'recurrent_kernel');
  let bb: string | undefined;
  if (bias) {
    const flat = b.node('Squeeze', `${node.name}/bias_1d`, [bias], { T: a.dt(DT_FLOAT), squeeze_dims: a.ints([0]) });
    const halves = b.node('Split', `${node.name}/bias_halves`, [b.scalar(`${node.name}/bias_axis`, 'int32', 0), flat], { T: a.dt(DT_FLOAT), num_split: a.int(2) });
    bb = b.node('AddV2', `${node.name}/bias`, [`${halves}:0`, `${halves}:1`], { T: a.dt(DT_FLOAT) });
  }
  // Initial state: given, or zeros [batch, H].
  const shape = b.node('Shape', `${node.name}/x_shape`, [x!], { T: a.dt(DT_FLOAT), out_type: a.dt(DT_INT32) });
  const state0 = (given: string | undefined, name: string) => {
    if (given) return b.node('Squeeze', `${node.name}/${name}`, [given], { T: a.dt(DT_FLOAT), squeeze_dims: a.ints([0]) });
    const dims = b.node('ConcatV2', `${node.name}/${name}_dims`, [pick(b, `${node.name}/${name}_batch`, shape, 1), b.ints(`${node.name}/${name}_units`, [H]), b.scalar(`${node.name}/${name}_axis`, 'int32', 0)], { T: a.dt(DT_INT32), N: a.int(2), Tidx: a.dt(DT_INT32) });
    return b.node('Fill', `${node.name}/${name}`, [dims, b.scalar(`${node.name}/${name}_zero`, 'float32', 0)], { T: a.dt(DT_FLOAT), index_type: a.dt(DT_INT32) });
  };
  const hInit = state0(h0in, 'initial_h');
  const cInit = state0(c0in, 'initial_c');
  const steps = b.node('Reshape', `${node.name}/steps`, [pick(b, `${node.name}/steps_1d`, shape, 0), b.ints(`${node.name}/scalar_shape`, [], [0])], { T: a.dt(DT_INT32), Tshape: a.dt(DT_INT32) });
  const xs = b.node('TensorListFromTensor', `${node.name}/x_steps`, [x!, anyShape(b, `${node.name}/x_steps`)], { element_dtype: a.dt(DT_FLOAT), shape_type: a.dt(DT_INT32) });
  const ys = b.node('EmptyTensorList', `${node.name}/y_steps`, [anyShape(b, `${node.name}/y_steps`), b.scalar(`${node.name}/y_steps_max`, 'int32', -1)], { element_dtype: a.dt(DT_FLOAT), shape_type: a.dt(DT_INT32) });

  const types = [DT_INT32, DT_INT32, DT_VARIANT, DT_VARIANT, DT_FLOAT, DT_FLOAT, DT_FLOAT, DT_FLOAT, ...(bb ? [DT_FLOAT] : [])];
  // Body: one step.
  const fb = TfScope.function(b.root, undefined, `${node.name}_step`, b);
  const [ai, at, axs, ays, ah, ac, aw, ar] = ['t', 'steps', 'x_steps', 'y_steps', 'h', 'c', 'kernel', 'recurrent_kernel'].map((nm, i) => fb.arg(nm, types[i]!)) as string[];
  const ab = bb ? fb.arg('bias', DT_FLOAT) : undefined;
  const ff = (op: string, name: string, inputs: string[]) => fb.node(op, name, inputs, { T: a.dt(DT_FLOAT) });
  const xt = fb.node('TensorListGetItem', 'x', [axs!, ai!, fb.scalar('element_shape', 'int32', -1)], { element_dtype: a.dt(DT_FLOAT) });
  let gates = ff('AddV2', 'gates', [fb.node('MatMul', 'x_kernel', [xt, aw!], { T: a.dt(DT_FLOAT), transpose_a: a.bool(false), transpose_b: a.bool(false) }), fb.node('MatMul', 'h_recurrent', [ah!, ar!], { T: a.dt(DT_FLOAT), transpose_a: a.bool(false), transpose_b: a.bool(false) })]);
  if (ab) gates = ff('AddV2', 'gates_bias', [gates, ab]);
  // ONNX gate order: input, output, forget, cell.
  const split = fb.node('Split', 'gate', [fb.scalar('gate_axis', 'int32', 1), gates], { T: a.dt(DT_FLOAT), num_split: a.int(4) });
  const gi = ff('Sigmoid', 'input_gate', [`${split}:0`]);
  const go = ff('Sigmoid', 'output_gate', [`${split}:1`]);
  const gf = ff('Sigmoid', 'forget_gate', [`${split}:2`]);
  const gc = ff('Tanh', 'cell_gate', [`${split}:3`]);
  const c1 = ff('AddV2', 'c_next', [ff('Mul', 'kept', [gf, ac!]), ff('Mul', 'added', [gi, gc])]);
  const h1 = ff('Mul', 'h_next', [go, ff('Tanh', 'c_tanh', [c1])]);
  const ys1 = fb.node('TensorListPushBack', 'y_push', [ays!, h1], { element_dtype: a.dt(DT_FLOAT) });
  const i1 = fb.node('AddV2', 't_next', [ai!, fb.scalar('one', 'int32', 1)], { T: a.dt(DT_INT32) });
  const bodyOuts = [i1, at!, axs!, ys1, h1, c1, aw!, ar!, ...(ab ? [ab] : [])];
  const bodyFn = fb.finish(fb.argsFor([]), bodyOuts.map((ref, i) => ({ ref, type: types[i]! })), node);
  // Condition: t < steps.
  const fc = TfScope.function(b.root, undefined, `${node.name}_more`, b);
  const cargs = types.map((t, i) => fc.arg(`state${i}`, t));
  const condFn = fc.finish(fc.argsFor([]), [{ ref: fc.node('Less', 'more', [cargs[0]!, cargs[1]!], { T: a.dt(DT_INT32) }), type: DT_BOOL }], node);

  const loop = b.node('StatelessWhile', `${node.name}/loop`, [b.scalar(`${node.name}/t0`, 'int32', 0), steps, xs, ys, hInit, cInit, wt, rt, ...(bb ? [bb] : [])], {
    T: a.types(types), cond: a.func(condFn.name), body: a.func(bodyFn.name), output_shapes: a.shapes(types.map(() => null)), parallel_iterations: a.int(1),
  });
  const expand = (v: string, name: string, axis: number) => b.node('ExpandDims', `${node.name}/${name}`, [v, b.scalar(`${node.name}/${name}_axis`, 'int32', axis)], { T: a.dt(DT_FLOAT), Tdim: a.dt(DT_INT32) });
  const outs: string[] = [];
  if (node.outputs[0] && node.outputs[0].name) {
    const stacked = b.node('TensorListStack', `${node.name}/y_stack`, [`${loop}:3`, anyShape(b, `${node.name}/y_stack`)], { element_dtype: a.dt(DT_FLOAT), num_elements: a.int(-1) });
    outs.push(expand(stacked, 'Y', 1));
  } else outs.push('');
  outs.push(expand(`${loop}:4`, 'Y_h', 0), expand(`${loop}:5`, 'Y_c', 0));
  return outs;
}

export const FLOW_WRITERS: Record<string, OpWriter> = {
  Loop: writeLoop,
  If: writeIf,
  LSTM: writeLstm,
  ...SEQUENCE_WRITERS,
};

/**
 * The nodes of `order` (a topological order of `g`) whose results reach g's outputs. A set-item If
 * needs only its list, index and item (its condition is then dead).
 */
export function liveNodes(g: Graph, order: Node[]): Set<Node> {
  const need = new Set<Value>(g.outputs);
  const live = new Set<Node>();
  const addOuter = (v: Value) => {
    need.add(v);
    const same = g.values.get(v.name);
    if (same) need.add(same);
  };
  for (let i = order.length - 1; i >= 0; i--) {
    const n = order[i]!;
    if (!n.outputs.some((o) => need.has(o))) continue;
    live.add(n);
    const p = setItemPattern(n);
    if (p) {
      [p.list, p.index, p.item].forEach(addOuter);
      continue;
    }
    for (const v of n.inputs) if (v) need.add(v);
    for (const v of implicitInputs(n)) addOuter(v);
  }
  return live;
}
