/**
 * TF1 control flow (the dataflow form `tf.cond`, `tf.while_loop` and `dynamic_rnn` build in TF 1.x
 * graphs) rewritten into the functional form TF2 uses, so the importer converts both the same way
 * (`control-flow.ts`: StatelessIf -> ONNX If, StatelessWhile -> ONNX Loop).
 *
 * A TF1 cond: `Switch(x, pred)` sends each value the branches read to port 1 (true) or port 0
 * (false); each result is a `Merge` of the two branches' values. Every such Merge becomes a
 * `StatelessIf` on `pred` whose then/else functions hold the nodes between the Switches and the
 * Merge's inputs, with the Switches' inputs as arguments. Conds go first, so that a cond inside a
 * loop body is an ordinary node when the loop is rewritten.
 *
 * A TF1 loop is a frame: per loop variable k, `Enter_k` (the initial value) feeds `Merge_k`
 * together with `NextIteration_k` (the next value); the condition reads the Merges and ends in
 * `LoopCond`; `Switch_k(Merge_k, LoopCond)` sends the value to the body (port 1) or to `Exit_k`
 * (port 0), the loop's result. Values the loop only reads come in through `Enter(is_constant)`.
 *
 * The rewrite makes a condition function (the nodes between the Merges and LoopCond) and a body
 * function (the nodes between the Switches and the NextIterations), with the loop variables and
 * then the constants as arguments, and replaces the frame by one `StatelessWhile` node; each
 * `Exit_k` becomes an Identity of the While's output k. Nested loops are refused clearly.
 */
import { MconvError } from '../../errors.js';
import type { TfArgDef, TfFunction, TfGraph, TfNode } from './tf-graph.js';

const FRAME_OPS = new Set(['Enter', 'RefEnter', 'Exit', 'RefExit', 'Merge', 'RefMerge', 'Switch', 'RefSwitch', 'NextIteration', 'RefNextIteration', 'LoopCond']);

/** True when the graph has TF1 cond or loop nodes to rewrite. */
export function hasTf1ControlFlow(graph: TfGraph): boolean {
  return graph.nodes.some((n) => n.op === 'LoopCond' || n.op === 'Switch' || n.op === 'RefSwitch');
}

/** Why TF1 conds or loops of a rewritten graph were left as they were (they fail later only if needed). */
const problems = new WeakMap<TfGraph, string[]>();

export function tf1ControlFlowProblems(graph: TfGraph): string[] {
  return problems.get(graph) ?? [];
}

function note(graph: TfGraph, list: string[]): TfGraph {
  if (list.length) problems.set(graph, list);
  return graph;
}

/** Records an MconvError as a problem (a structure left unrewritten); rethrows anything else. */
function skipped(list: string[], e: unknown): void {
  if (!(e instanceof MconvError)) throw e;
  list.push(e.where ? `${e.message} [at ${e.where}]` : e.message);
}

/**
 * Rewrites TF1 conds, then TF1 while loops, into functional If/While nodes (a new graph). A cond
 * or loop that cannot be rewritten stays as it is, with the reason in tf1ControlFlowProblems: the
 * importer reports it only when the outputs need those nodes.
 */
export function functionalizeTf1ControlFlow(graph: TfGraph): TfGraph {
  const withIfs = functionalizeTf1Conds(graph);
  const out = withIfs.nodes.some((n) => n.op === 'LoopCond') ? functionalizeTf1Loops(withIfs) : withIfs;
  return note(out === graph ? { ...out } : out, [...tf1ControlFlowProblems(withIfs), ...tf1ControlFlowProblems(out)]);
}

function fnNamer(graph: TfGraph): (base: string) => string {
  const used = new Set(graph.functions.map((f) => f.name));
  return (base) => {
    const clean = base.replace(/[^A-Za-z0-9_]/g, '_');
    let n = clean;
    let i = 1;
    while (used.has(n)) n = `${clean}_${i++}`;
    used.add(n);
    return n;
  };
}

/** Rewrites every TF1 cond Merge (one not fed by a NextIteration) into a StatelessIf. */
export function functionalizeTf1Conds(graph: TfGraph): TfGraph {
  const byName = new Map(graph.nodes.map((n) => [n.name, n]));
  const isMerge = (n: TfNode | undefined) => n?.op === 'Merge' || n?.op === 'RefMerge';
  const isSwitch = (n: TfNode | undefined) => n?.op === 'Switch' || n?.op === 'RefSwitch';
  const condMerges = graph.nodes.filter((n) => isMerge(n) && !n.inputs.some((i) => {
    const src = byName.get(splitRef(i).node);
    return src?.op === 'NextIteration' || src?.op === 'RefNextIteration' || src?.op === 'Enter' || src?.op === 'RefEnter';
  }));
  if (!condMerges.length) return graph;
  const fnName = fnNamer(graph);
  const functions = [...graph.functions];
  const replaced = new Map<string, TfNode>();
  const failed: string[] = [];
  for (const merge of condMerges) {
    try {
      replaced.set(merge.name, condToIf(merge));
    } catch (e) {
      skipped(failed, e);
    }
  }
  return note({ ...graph, nodes: graph.nodes.map((n) => replaced.get(n.name) ?? n), functions }, failed);

  function condToIf(merge: TfNode): TfNode {
    const ins = merge.inputs.filter((i) => !i.startsWith('^'));
    if (ins.length !== 2) throw loopError(`the cond Merge ${merge.name} has ${ins.length} inputs, not 2`, merge.name);
    // Which Switch port each side comes from, and the Switches (and their pred) reached.
    const switches = new Map<string, TfNode>();
    const sideOf = (ref: string): 0 | 1 => {
      const ports = new Set<number>();
      const seen = new Set<string>();
      const stack = [ref];
      while (stack.length) {
        const r = splitRef(stack.pop()!);
        const n = byName.get(r.node);
        if (!n) throw loopError(`reads ${JSON.stringify(r.node)}, which is not in the graph`, merge.name);
        if (isSwitch(n)) {
          ports.add(r.port);
          switches.set(n.name, n);
          continue;
        }
        if (isMerge(n) || FRAME_OPS.has(n.op)) throw loopError(`the cond ${merge.name} holds ${n.op} ${n.name} (nested TF1 control flow is not supported)`, n.name);
        if (seen.has(n.name)) continue;
        seen.add(n.name);
        for (const i of n.inputs) stack.push(i.startsWith('^') ? i.slice(1) : i);
      }
      if (ports.size !== 1) throw loopError(`a branch of the cond ${merge.name} reads ${ports.size ? 'both sides' : 'no side'} of its Switches`, merge.name);
      return [...ports][0] as 0 | 1;
    };
    const sides = ins.map(sideOf);
    if (sides[0] === sides[1]) throw loopError(`both inputs of the cond Merge ${merge.name} come from the same branch`, merge.name);
    const preds = new Set([...switches.values()].map((sw) => splitRef(sw.inputs[1] ?? '').node + ':' + splitRef(sw.inputs[1] ?? '').port));
    if (preds.size !== 1) throw loopError(`the cond ${merge.name} reads Switches on ${preds.size} different predicates`, merge.name);
    const pred = switches.values().next().value!.inputs[1]!;
    // Arguments: the data the Switches pass on (the pred's own Switch, the pivot, passes nothing used).
    const swList = [...switches.values()];
    const argName = new Map(swList.map((sw, i) => [sw.name, `cond_arg_${i}`]));
    const argDefs: TfArgDef[] = swList.map((sw, i) => ({ name: `cond_arg_${i}`, type: sw.attr.T?.type }));
    const branch = (ref: string, which: string): TfFunction => {
      const nodes: TfNode[] = [];
      const seen = new Set<string>();
      const mapRef = (r0: string): string => {
        const r = splitRef(r0);
        const n = byName.get(r.node)!;
        if (isSwitch(n)) return argName.get(n.name)!;
        if (!seen.has(n.name)) {
          seen.add(n.name);
          const copy: TfNode = { ...n, inputs: [] };
          nodes.push(copy);
          copy.inputs = n.inputs.filter((i) => !i.startsWith('^')).map(mapRef);
        }
        return r0;
      };
      const ret = mapRef(ref);
      return {
        name: fnName(`${merge.name}_${which}`), attr: {}, nodes, inputs: argDefs,
        outputs: [{ name: 'out', type: merge.attr.T?.type }], ret: { out: ret },
      };
    };
    const trueIdx = sides[0] === 1 ? 0 : 1;
    const thenFn = branch(ins[trueIdx]!, 'then');
    const elseFn = branch(ins[1 - trueIdx]!, 'else');
    functions.push(thenFn, elseFn);
    // The If keeps the Merge's name (readers of Merge:0 read it); Merge:1 (value_index) is not supported.
    return {
      name: merge.name, op: 'StatelessIf', inputs: [pred, ...swList.map((sw) => sw.inputs[0]!)],
      attr: {
        Tcond: { type: 10 }, Tin: { list: { type: argDefs.map((a) => a.type ?? 1) } }, Tout: { list: { type: [merge.attr.T?.type ?? 1] } },
        then_branch: { func: { name: thenFn.name, attr: {} } }, else_branch: { func: { name: elseFn.name, attr: {} } },
      },
    };
  }
}

function loopError(message: string, where?: string): MconvError {
  return new MconvError({
    kind: 'unsupported', format: 'tf', where, message,
    hint: 'cut the graph around the loop with --inputs/--outputs NODE:PORT, or export it with TF2 (tf.function) so the loop is a While function',
  });
}

const dec = new TextDecoder();

function splitRef(ref: string): { node: string; port: number; control: boolean } {
  const control = ref.startsWith('^');
  const body = control ? ref.slice(1) : ref;
  const m = /^(.*?):(\d+)$/.exec(body);
  return m ? { node: m[1]!, port: Number(m[2]), control } : { node: body, port: 0, control };
}

interface Frame {
  name: string;
  /** Loop variables: Enter, Merge, Switch, NextIteration, Exit (when the result is used). */
  vars: { enter: TfNode; merge: TfNode; sw: TfNode; next: TfNode; exit?: TfNode }[];
  /** Enters of values the loop only reads. */
  constants: TfNode[];
  loopCond: TfNode;
}

/** Rewrites every TF1 while loop of the graph into a StatelessWhile with cond/body functions (a new graph). */
export function functionalizeTf1Loops(graph: TfGraph): TfGraph {
  const byName = new Map(graph.nodes.map((n) => [n.name, n]));
  const consumers = new Map<string, TfNode[]>();
  for (const n of graph.nodes) {
    for (const i of n.inputs) {
      const r = splitRef(i);
      if (r.control) continue;
      const list = consumers.get(r.node) ?? [];
      list.push(n);
      consumers.set(r.node, list);
    }
  }
  const node = (ref: string, where: string): TfNode => {
    const n = byName.get(splitRef(ref).node);
    if (!n) throw loopError(`reads ${JSON.stringify(ref)}, which is not in the graph`, where);
    return n;
  };

  // Frames by name, from their Enter nodes.
  const enters = new Map<string, TfNode[]>();
  for (const n of graph.nodes) {
    if (n.op !== 'Enter' && n.op !== 'RefEnter') continue;
    const frame = n.attr.frame_name?.s ? dec.decode(n.attr.frame_name.s) : '';
    const list = enters.get(frame) ?? [];
    list.push(n);
    enters.set(frame, list);
  }

  const frames: Frame[] = [];
  const failed: string[] = [];
  for (const [name, list] of enters) {
    try {
      frames.push(discover(name, list));
    } catch (e) {
      skipped(failed, e);
    }
  }

  function discover(name: string, list: TfNode[]): Frame {
    const vars: Frame['vars'] = [];
    const constants: TfNode[] = [];
    let loopCond: TfNode | undefined;
    for (const enter of list) {
      if (enter.attr.is_constant?.b) {
        constants.push(enter);
        continue;
      }
      const merge = (consumers.get(enter.name) ?? []).find((c) => c.op === 'Merge' || c.op === 'RefMerge');
      if (!merge) throw loopError(`the loop variable entering through ${enter.name} has no Merge`, enter.name);
      const sw = (consumers.get(merge.name) ?? []).find((c) => c.op === 'Switch' || c.op === 'RefSwitch');
      if (!sw) throw loopError(`the loop variable of ${merge.name} has no Switch`, merge.name);
      const pred = node(sw.inputs[1] ?? '', sw.name);
      if (pred.op !== 'LoopCond') throw loopError(`the Switch ${sw.name} of a loop variable is not driven by a LoopCond`, sw.name);
      if (loopCond && loopCond !== pred) throw loopError(`the loop ${name} has two LoopCond nodes`, pred.name);
      loopCond = pred;
      const nextRef = merge.inputs.filter((i) => !i.startsWith('^')).find((i) => splitRef(i).node !== enter.name);
      const next = nextRef ? node(nextRef, merge.name) : undefined;
      if (!next || (next.op !== 'NextIteration' && next.op !== 'RefNextIteration')) throw loopError(`the Merge ${merge.name} does not read a NextIteration`, merge.name);
      const exit = (consumers.get(sw.name) ?? []).find((c) => (c.op === 'Exit' || c.op === 'RefExit') && splitRef(c.inputs[0] ?? '').port === 0);
      vars.push({ enter, merge, sw, next, exit });
    }
    if (!loopCond) throw loopError(`the loop ${name} has no loop variable`, list[0]?.name);
    return { name, vars, constants, loopCond };
  }

  // Nested loops: an Enter of one frame inside another frame's body.
  const inFrame = new Map<string, string>();
  const functions: TfFunction[] = [...graph.functions];
  const replaced = new Map<string, TfNode>();
  const fnName = fnNamer(graph);

  const done: Frame[] = [];
  for (const f of frames) {
    // This frame's nodes, added to inFrame once the whole frame is rewritten.
    const mine = new Map<string, string>();
    try {
      const argOf = new Map<string, string>();
      f.vars.forEach((v, k) => argOf.set(v.merge.name, `loop_var_${k}`));
      f.constants.forEach((c, j) => argOf.set(c.name, `loop_const_${j}`));
      const bodyArgOf = new Map<string, string>();
      f.vars.forEach((v, k) => bodyArgOf.set(`${v.sw.name}:1`, `loop_var_${k}`));
      f.constants.forEach((c, j) => bodyArgOf.set(c.name, `loop_const_${j}`));
      const argDefs: TfArgDef[] = [
        ...f.vars.map((v, k) => ({ name: `loop_var_${k}`, type: v.enter.attr.T?.type })),
        ...f.constants.map((c, j) => ({ name: `loop_const_${j}`, type: c.attr.T?.type })),
      ];

      /** Copies the nodes `outs` need into a function, stopping at the arguments. */
      const extract = (outs: string[], stop: (ref: string) => string | undefined, what: string): { nodes: TfNode[]; rets: string[] } => {
        const nodes: TfNode[] = [];
        const seen = new Set<string>();
        const mapRef = (ref: string): string => {
          const r = splitRef(ref);
          const arg = stop(ref) ?? stop(r.node) ?? (r.port === 0 ? stop(`${r.node}:0`) : undefined);
          if (arg) return arg;
          const n = node(ref, what);
          if (FRAME_OPS.has(n.op)) {
            if (n.op === 'Enter' || n.op === 'RefEnter') throw loopError(`the loop ${f.name} holds another loop (nested TF1 while loops are not supported)`, n.name);
            throw loopError(`the ${what} of the loop ${f.name} reads ${n.op} ${n.name} of another loop or cond`, n.name);
          }
          if (!seen.has(n.name)) {
            seen.add(n.name);
            const prev = inFrame.get(n.name);
            if (prev && prev !== f.name) throw loopError(`the node ${n.name} belongs to two loops (nested TF1 while loops are not supported)`, n.name);
            mine.set(n.name, f.name);
            const copy: TfNode = { ...n, inputs: [] };
            nodes.push(copy);
            copy.inputs = n.inputs.filter((i) => !i.startsWith('^')).map(mapRef);
          }
          return ref;
        };
        const rets = outs.map(mapRef);
        return { nodes, rets };
      };

      const cond = extract([f.loopCond.inputs[0] ?? ''], (ref) => argOf.get(ref) ?? argOf.get(splitRef(ref).node), 'condition');
      const condFn: TfFunction = {
        name: fnName(`${f.name}_cond`), attr: {}, nodes: cond.nodes, inputs: argDefs,
        outputs: [{ name: 'cond_out', type: 10 }], ret: { cond_out: cond.rets[0]! },
      };
      const body = extract(f.vars.map((v) => v.next.inputs[0] ?? ''), (ref) => bodyArgOf.get(ref) ?? (splitRef(ref).port === 0 ? bodyArgOf.get(splitRef(ref).node) : undefined), 'body');
      const bodyFn: TfFunction = {
        name: fnName(`${f.name}_body`), attr: {}, nodes: body.nodes, inputs: argDefs,
        outputs: argDefs.map((a, i) => ({ ...a, name: `out_${i}` })),
        ret: Object.fromEntries([
          ...body.rets.map((r, k) => [`out_${k}`, r]),
          ...f.constants.map((_, j) => [`out_${f.vars.length + j}`, `loop_const_${j}`]),
        ]),
      };
      functions.push(condFn, bodyFn);
      const whileName = uniqueNode(byName, `${f.name.replace(/\/$/, '')}/functional_while`);
      const w: TfNode = {
        name: whileName, op: 'StatelessWhile',
        inputs: [...f.vars.map((v) => v.enter.inputs[0] ?? ''), ...f.constants.map((c) => c.inputs[0] ?? '')],
        attr: {
          T: { list: { type: argDefs.map((a) => a.type ?? 1) } },
          cond: { func: { name: condFn.name, attr: {} } },
          body: { func: { name: bodyFn.name, attr: {} } },
        },
      };
      byName.set(whileName, w);
      replaced.set(whileName, w);
      f.vars.forEach((v, k) => {
        if (v.exit) replaced.set(v.exit.name, { name: v.exit.name, op: 'Identity', inputs: [k === 0 ? whileName : `${whileName}:${k}`], attr: { T: v.exit.attr.T ?? {} } });
      });
      for (const [k, v] of mine) inFrame.set(k, v);
      done.push(f);
    } catch (e) {
      skipped(failed, e);
    }
  }

  // The rewritten frames' own nodes now live in the functions.
  const gone = new Set(inFrame.keys());
  for (const f of done) {
    gone.add(f.loopCond.name);
    for (const c of f.constants) gone.add(c.name);
    for (const v of f.vars) for (const n of [v.enter, v.merge, v.sw, v.next]) gone.add(n.name);
  }
  const nodes = graph.nodes.filter((n) => !gone.has(n.name)).map((n) => replaced.get(n.name) ?? n);
  for (const [name, n] of replaced) if (!graph.nodes.some((m) => m.name === name)) nodes.push(n);
  return note({ ...graph, nodes, functions }, failed);
}

function uniqueNode(byName: Map<string, TfNode>, base: string): string {
  let n = base;
  let i = 1;
  while (byName.has(n)) n = `${base}_${i++}`;
  return n;
}
