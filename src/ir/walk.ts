/**
 * Walking a graph: topological order, producers and consumers, searching, chain patterns,
 * and cutting a subgraph out between named values.
 */
import { MconvError } from '../errors.js';
import { cloneAttrs } from './clone.js';
import { Graph, Node, Value, subgraphsOf } from './graph.js';

/**
 * Values a node's subgraphs (If branches, Loop/Scan bodies, nested) read from enclosing scopes:
 * its implicit inputs. A subgraph may hold the outer Value object itself or a same-named
 * placeholder value of its own; placeholders are resolved by name in `scope` when given.
 */
export function implicitInputs(node: Node, scope?: Graph): Value[] {
  const out = new Set<Value>();
  for (const g of subgraphsOf(node)) collectOuterReads(g, out);
  if (!scope) return [...out];
  const resolved = new Set<Value>();
  for (const v of out) {
    if (v.graph === scope || v.producer?.graph === scope || scope.initializers.get(v.name) === v) resolved.add(v);
    else {
      const r = scope.resolve(v.name);
      resolved.add(r ?? v);
    }
  }
  return [...resolved];
}

function definedIn(g: Graph): Set<Value> {
  const defined = new Set<Value>(g.inputs);
  for (const v of g.initializers.values()) defined.add(v);
  for (const n of g.nodes) for (const o of n.outputs) defined.add(o);
  return defined;
}

function collectOuterReads(g: Graph, out: Set<Value>): void {
  const defined = definedIn(g);
  for (const n of g.nodes) {
    for (const v of n.inputs) if (v && v.name && !defined.has(v)) out.add(v);
    for (const sg of subgraphsOf(n)) {
      const inner = new Set<Value>();
      collectOuterReads(sg, inner);
      for (const v of inner) if (!defined.has(v)) out.add(v);
    }
  }
  for (const v of g.outputs) if (!defined.has(v)) out.add(v);
}

/** The nodes of `graph` that a node depends on: producers of its inputs, implicit ones included. */
function dependencies(graph: Graph, node: Node, inGraph: Map<Node, number>): Node[] {
  const deps: Node[] = [];
  const add = (v: Value | null) => {
    if (!v) return;
    let p = v.producer;
    if ((!p || !inGraph.has(p)) && v.graph !== graph) p = graph.values.get(v.name)?.producer;
    if (p && inGraph.has(p) && p !== node && !deps.includes(p)) deps.push(p);
  };
  for (const v of node.inputs) add(v);
  for (const v of implicitInputs(node)) add(v);
  return deps;
}

/**
 * Nodes in execution order. Stable: among nodes ready at the same time, the original order
 * (`graph.nodes`) is kept, so an already sorted graph comes back unchanged.
 * Throws an MconvError naming the nodes of a cycle when there is one.
 */
export function topologicalOrder(graph: Graph): Node[] {
  const nodes = graph.nodes;
  const index = new Map<Node, number>();
  nodes.forEach((n, i) => index.set(n, i));
  const deps = nodes.map((n) => dependencies(graph, n, index));
  const dependents: number[][] = nodes.map(() => []);
  const indegree = deps.map((d) => d.length);
  deps.forEach((d, i) => d.forEach((p) => dependents[index.get(p)!]!.push(i)));
  const heap = new MinHeap();
  indegree.forEach((d, i) => d === 0 && heap.push(i));
  const order: Node[] = [];
  while (heap.size) {
    const i = heap.pop();
    order.push(nodes[i]!);
    for (const j of dependents[i]!) if (--indegree[j] === 0) heap.push(j);
  }
  if (order.length !== nodes.length) {
    const left = new Set(nodes.filter((_, i) => indegree[i]! > 0));
    const cycle = findCycle(left, (n) => deps[index.get(n)!]!.filter((p) => left.has(p)));
    throw new MconvError({
      kind: 'unreadable',
      message: `graph '${graph.name}' has a cycle: ${cycle.map((n) => n.name || n.op).join(' -> ')}`,
      where: cycle[0]?.name,
      hint: `${left.size} node(s) cannot be ordered; a node must not depend on its own output`,
    });
  }
  return order;
}

function findCycle(nodes: Set<Node>, next: (n: Node) => Node[]): Node[] {
  const state = new Map<Node, 1 | 2>();
  const stack: Node[] = [];
  const visit = (n: Node): Node[] | undefined => {
    state.set(n, 1);
    stack.push(n);
    for (const m of next(n)) {
      if (state.get(m) === 1) {
        const from = stack.indexOf(m);
        // Dependencies point backwards (consumer -> producer); report in dataflow order.
        return [...stack.slice(from), m].reverse();
      }
      if (!state.has(m)) {
        const c = visit(m);
        if (c) return c;
      }
    }
    stack.pop();
    state.set(n, 2);
    return undefined;
  };
  for (const n of nodes) {
    if (!state.has(n)) {
      const c = visit(n);
      if (c) return c;
    }
  }
  return [...nodes];
}

class MinHeap {
  private a: number[] = [];
  get size(): number {
    return this.a.length;
  }
  push(x: number): void {
    const a = this.a;
    a.push(x);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (a[p]! <= x) break;
      a[i] = a[p]!;
      i = p;
    }
    a[i] = x;
  }
  pop(): number {
    const a = this.a;
    const top = a[0]!;
    const last = a.pop()!;
    if (a.length) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        let mv = last;
        if (l < a.length && a[l]! < mv) {
          m = l;
          mv = a[l]!;
        }
        if (r < a.length && a[r]! < mv) m = r;
        if (m === i) break;
        a[i] = a[m]!;
        i = m;
      }
      a[i] = last;
    }
    return top;
  }
}

/** The distinct nodes producing a node's inputs (implicit subgraph inputs included), in input order. */
export function producers(node: Node): Node[] {
  const out: Node[] = [];
  for (const v of [...node.inputs, ...implicitInputs(node, node.graph)]) {
    const p = v?.producer;
    if (p && !out.includes(p)) out.push(p);
  }
  return out;
}

/**
 * The nodes reading a value, or reading any output of a node (distinct, in graph order when
 * they belong to the same graph).
 */
export function consumers(of: Value | Node): Node[] {
  const set = new Set<Node>();
  if (of instanceof Value) for (const c of of.consumers) set.add(c);
  else for (const o of of.outputs) for (const c of o.consumers) set.add(c);
  const list = [...set];
  const g = of instanceof Value ? of.graph : of.graph;
  if (g) {
    const idx = new Map<Node, number>();
    g.nodes.forEach((n, i) => idx.set(n, i));
    list.sort((x, y) => (idx.get(x) ?? Infinity) - (idx.get(y) ?? Infinity));
  }
  return list;
}

/** Nodes matching a predicate, in graph order; `recursive` also searches subgraphs. */
export function findNodes(graph: Graph, pred: (n: Node) => boolean, opts: { recursive?: boolean } = {}): Node[] {
  const out: Node[] = [];
  for (const n of graph.nodes) {
    if (pred(n)) out.push(n);
    if (opts.recursive) for (const g of subgraphsOf(n)) out.push(...findNodes(g, pred, opts));
  }
  return out;
}

/** One step of a pattern: an op type, a list of alternatives, or a predicate. */
export type PatternStep = string | string[] | ((n: Node) => boolean);

function stepMatches(step: PatternStep, n: Node): boolean {
  if (typeof step === 'function') return step(n);
  if (Array.isArray(step)) return step.includes(n.op) && n.domain === '';
  return step === n.op && n.domain === '';
}

/**
 * The single consumer of a node's used outputs, when there is exactly one and the node's
 * outputs are not graph outputs; otherwise undefined.
 */
export function soleConsumer(node: Node): Node | undefined {
  const g = node.graph;
  let only: Node | undefined;
  for (const o of node.outputs) {
    if (g?.outputs.includes(o)) return undefined;
    for (const c of o.consumers) {
      if (only && only !== c) return undefined;
      only = c;
    }
  }
  return only;
}

/**
 * Chains of nodes matching `pattern` (e.g. ['Conv', 'Relu'] or ['Conv', ['Relu', 'Clip']]),
 * each step the sole consumer of the previous one (whose outputs are not graph outputs).
 * Matches are returned in topological order of their first node and do not overlap unless
 * `overlapping` is set.
 */
export function matchPattern(graph: Graph, pattern: PatternStep[], opts: { overlapping?: boolean } = {}): Node[][] {
  if (pattern.length === 0) return [];
  const used = new Set<Node>();
  const matches: Node[][] = [];
  for (const first of topologicalOrder(graph)) {
    if (!stepMatches(pattern[0]!, first) || (!opts.overlapping && used.has(first))) continue;
    const chain = [first];
    let ok = true;
    for (let k = 1; k < pattern.length; k++) {
      const next = soleConsumer(chain[k - 1]!);
      if (!next || next.graph !== graph || !stepMatches(pattern[k]!, next) || (!opts.overlapping && used.has(next))) {
        ok = false;
        break;
      }
      chain.push(next);
    }
    if (!ok) continue;
    matches.push(chain);
    if (!opts.overlapping) for (const n of chain) used.add(n);
  }
  return matches;
}

/**
 * A new graph holding what lies between `inputNames` and `outputNames` in `graph`: the named
 * input values become graph inputs (with their known dtype and shape), the nodes needed to
 * compute the outputs from them are copied (tensors shared), everything else is left out.
 * The original graph is not changed. Fails when a name is unknown or when an output depends on
 * a graph input that is not among the named inputs.
 */
export function extractSubgraph(graph: Graph, inputNames: string[], outputNames: string[], name?: string): Graph {
  const lookup = (n: string, role: string): Value => {
    const v = graph.value(n) ?? graph.initializers.get(n);
    if (!v) {
      throw new MconvError({ kind: 'usage', message: `no value named '${n}' (${role}) in graph '${graph.name}'`, where: n });
    }
    return v;
  };
  const inputs = inputNames.map((n) => lookup(n, 'input'));
  const outputs = outputNames.map((n) => lookup(n, 'output'));
  const stop = new Set(inputs);
  const needed = new Set<Node>();
  const missing = new Set<string>();
  const usedConsts = new Set<Value>();
  const stack = [...outputs];
  const seen = new Set<Value>();
  while (stack.length) {
    const v = stack.pop()!;
    if (seen.has(v)) continue;
    seen.add(v);
    if (stop.has(v)) continue;
    if (v.initializer) {
      usedConsts.add(v);
      continue;
    }
    const p = v.producer;
    if (!p || p.graph !== graph) {
      if (v.graph === graph || graph.inputs.includes(v)) missing.add(v.name);
      continue;
    }
    if (needed.has(p)) continue;
    needed.add(p);
    for (const i of p.inputs) if (i) stack.push(i);
    for (const i of implicitInputs(p, graph)) if (i.graph === graph) stack.push(i);
  }
  if (missing.size) {
    throw new MconvError({
      kind: 'usage',
      message: `the outputs depend on ${[...missing].map((m) => `'${m}'`).join(', ')}, which is not among the given inputs`,
      hint: 'add those values to the inputs of the cut',
    });
  }
  const sub = new Graph(name ?? `${graph.name}_extract`);
  sub.docString = graph.docString;
  const map = new Map<Value, Value>();
  const copy = (v: Value): Value => {
    let c = map.get(v);
    if (!c) {
      c = sub.getOrCreateValue(v.name, v.dtype, v.shape?.slice());
      c.docString = v.docString;
      map.set(v, c);
    }
    return c;
  };
  for (const v of inputs) {
    const c = copy(v);
    sub.inputs.push(c);
  }
  for (const v of usedConsts) {
    const c = sub.addInitializer(v.name, v.initializer!);
    map.set(v, c);
  }
  for (const n of topologicalOrder(graph)) {
    if (!needed.has(n)) continue;
    const ins = n.inputs.map((v) => (v ? (map.get(v) ?? (v.graph === graph || v.initializer ? copy(v) : v)) : null));
    const outs = n.outputs.map((o) => copy(o));
    const attrs = cloneAttrs(n.attrs, {}, sub, (v) => map.get(v));
    const node = new Node(n.op, n.name, ins, outs, attrs, n.domain);
    node.meta = { ...n.meta };
    node.docString = n.docString;
    sub.insertNode(node);
  }
  sub.outputs = outputs.map((v) => copy(v));
  return sub;
}
