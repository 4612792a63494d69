/**
 * Graph editing helpers that keep producers, consumers and graph outputs consistent:
 * replacing a node, inserting a node after a value, bypassing a node, renaming a value.
 */
import { MconvError } from '../errors.js';
import { Graph, Node, Value, type Attrs } from './graph.js';

/** A node to create: like `Graph.addNode` arguments. */
export interface NodeSpec {
  op: string;
  inputs: (Value | null)[];
  /** Values, names of new values, or a count of new values (default 1). */
  outputs?: (Value | string)[] | number;
  attrs?: Attrs;
  name?: string;
  domain?: string;
}

function isNode(x: Node | NodeSpec): x is Node {
  return x instanceof Node;
}

function detach(graph: Graph, node: Node): number {
  const idx = graph.nodes.indexOf(node);
  if (idx < 0) throw new Error(`node ${node.name} is not in graph ${graph.name}`);
  graph.nodes.splice(idx, 1);
  for (const v of node.inputs) v?.consumers.delete(node);
  for (const o of node.outputs) if (o.producer === node) o.producer = undefined;
  node.graph = undefined;
  return idx;
}

/**
 * Replaces `old` by new nodes, at its position in `graph.nodes`. Replacements are specs (which
 * may name `old`'s output values directly, e.g. `{ op: 'Relu', inputs: [x], outputs: [old.outputs[0]] }`)
 * or already built nodes. An output of `old` that no replacement produces is taken over by the
 * output at the same position of the last replacement: that node then produces the old Value,
 * so its name, type and readers (graph outputs included) stay. Returns the inserted nodes.
 */
export function replaceNode(graph: Graph, old: Node, ...replacements: (Node | NodeSpec)[]): Node[] {
  const idx = detach(graph, old);
  const created: Node[] = [];
  for (const r of replacements) {
    if (isNode(r)) {
      created.push(r);
      continue;
    }
    const name = graph.uniqueNodeName(r.name ?? r.op);
    let outs: Value[];
    if (r.outputs === undefined || typeof r.outputs === 'number') {
      const count = r.outputs ?? 1;
      outs = Array.from({ length: count }, (_, i) => graph.newValue(count === 1 ? name : `${name}:${i}`));
    } else outs = r.outputs.map((o) => (typeof o === 'string' ? graph.getOrCreateValue(o) : o));
    for (const o of outs) {
      if (o.producer) throw new Error(`replaceNode: value ${o.name} is already produced by ${o.producer.name}`);
    }
    created.push(new Node(r.op, name, r.inputs, outs, r.attrs ?? {}, r.domain ?? ''));
  }
  const last = created[created.length - 1];
  old.outputs.forEach((o, i) => {
    if (o.producer || !o.name) return;
    const used = o.consumers.size > 0 || graph.outputs.includes(o);
    if (!last || i >= last.outputs.length) {
      if (used) throw new Error(`replaceNode: output '${o.name}' of ${old.name} is used but no replacement produces it`);
      graph.values.delete(o.name);
      return;
    }
    const fresh = last.outputs[i]!;
    // Move readers of the fresh value (inside the replacement chain) to the old value, then swap.
    for (const c of [...fresh.consumers]) {
      for (let k = 0; k < c.inputs.length; k++) if (c.inputs[k] === fresh) c.setInput(k, o);
    }
    fresh.producer = undefined;
    if (graph.values.get(fresh.name) === fresh) graph.values.delete(fresh.name);
    (last.outputs as Value[])[i] = o;
    o.producer = last;
    if (!o.dtype) o.dtype = fresh.dtype;
    if (!o.shape && fresh.shape) o.shape = fresh.shape.slice();
  });
  created.forEach((n, k) => {
    n.graph = graph;
    for (const o of n.outputs) {
      o.graph = graph;
      graph.values.set(o.name, o);
    }
    graph.nodes.splice(idx + k, 0, n);
  });
  return created;
}

export interface InsertOptions {
  /** Inputs after `value` (e.g. the constant operand of a Mul). */
  inputs?: (Value | null)[];
  name?: string;
  domain?: string;
  /** Also make graph outputs that were `value` read the new node's output (default true). */
  graphOutputs?: boolean;
}

/**
 * Inserts a node reading `value` (plus `opts.inputs`) and makes every other reader of `value`
 * read the node's output instead. When `value` is a graph output, the graph output now comes
 * from the new node and keeps its name: the new output takes the name and `value` is renamed.
 */
export function insertAfter(graph: Graph, value: Value, op: string, attrs: Attrs = {}, opts: InsertOptions = {}): Node {
  const readers = [...value.consumers];
  const isOutput = graph.outputs.includes(value) && (opts.graphOutputs ?? true);
  const producer = value.producer;
  const name = graph.uniqueNodeName(opts.name ?? `${value.name}_${op}`);
  const out = graph.newValue(name);
  const node = new Node(op, name, [value, ...(opts.inputs ?? [])], [out], attrs, opts.domain ?? '');
  node.graph = graph;
  const at = producer && producer.graph === graph ? graph.nodes.indexOf(producer) + 1 : 0;
  graph.nodes.splice(at, 0, node);
  for (const c of readers) {
    for (let k = 0; k < c.inputs.length; k++) if (c.inputs[k] === value) c.setInput(k, out);
  }
  if (isOutput) {
    graph.outputs = graph.outputs.map((o) => (o === value ? out : o));
    const keep = value.name;
    renameValue(graph, value, graph.uniqueValueName(`${keep}_pre_${op}`));
    renameValue(graph, out, keep);
  }
  return node;
}

/**
 * Removes a single-input single-output node (Identity, Dropout, Cast to the same type...):
 * its readers read its input instead. When its output is a graph output, the name is kept by
 * renaming the input to it (possible when the input is an internal node output); otherwise the
 * node stays. Returns true when the node was removed.
 */
export function removeNodeAndBypass(graph: Graph, node: Node): boolean {
  const input = node.inputs.find((v) => v && v.name) ?? undefined;
  const used = node.outputs.filter((o) => o.name && (o.consumers.size > 0 || graph.outputs.includes(o)));
  if (!input || used.length > 1) {
    throw new MconvError({
      kind: 'internal',
      message: `cannot bypass ${node.name} (${node.op}): it needs one data input and one used output`,
      where: node.name,
    });
  }
  const output = used[0] ?? node.outputs[0];
  if (!output) {
    graph.removeNode(node);
    return true;
  }
  if (graph.outputs.includes(output)) {
    const internal =
      input.producer !== undefined && input.producer.graph === graph && !graph.outputs.includes(input) && !input.initializer;
    if (!internal) return false;
    detach(graph, node);
    replaceReaders(output, input);
    graph.outputs = graph.outputs.map((o) => (o === output ? input : o));
    graph.values.delete(output.name);
    const keep = output.name;
    output.name = `${keep}__bypassed`;
    renameValue(graph, input, keep);
    return true;
  }
  detach(graph, node);
  replaceReaders(output, input);
  for (const o of node.outputs) if (o.consumers.size === 0 && graph.values.get(o.name) === o) graph.values.delete(o.name);
  return true;
}

function replaceReaders(from: Value, to: Value): void {
  for (const c of [...from.consumers]) {
    for (let k = 0; k < c.inputs.length; k++) if (c.inputs[k] === from) c.setInput(k, to);
  }
}

/**
 * Renames a value of `graph` (its key in `graph.values` and `graph.initializers` too). Readers
 * hold the Value itself, so they follow. Fails when the new name is taken.
 */
export function renameValue(graph: Graph, value: Value | string, newName: string): Value {
  const v = typeof value === 'string' ? graph.value(value) : value;
  if (!v) throw new MconvError({ kind: 'usage', message: `no value named '${String(value)}' in graph '${graph.name}'` });
  if (v.name === newName) return v;
  const taken = graph.values.get(newName);
  if (taken && taken !== v) {
    throw new MconvError({ kind: 'usage', message: `cannot rename '${v.name}' to '${newName}': the name is taken`, where: newName });
  }
  const old = v.name;
  if (graph.values.get(old) === v) graph.values.delete(old);
  const isInit = graph.initializers.get(old) === v;
  if (isInit) graph.initializers.delete(old);
  v.name = newName;
  graph.values.set(newName, v);
  if (isInit) graph.initializers.set(newName, v);
  return v;
}
