/**
 * Deep copies of graphs and models: new Values, Nodes and subgraphs, with the same names,
 * types, attributes and metadata. Tensors are shared (they are immutable in practice) unless
 * `copyTensors` is set.
 */
import { Graph, Model, Node, Value, type Attr, type Attrs } from './graph.js';

export interface CloneOptions {
  /** Copy tensor bytes (initializers and tensor attributes) instead of sharing them. */
  copyTensors?: boolean;
}

/** Maps a value of the source graph (or of an enclosing scope) to its copy. */
export type ValueResolver = (v: Value) => Value | undefined;

/** A deep copy of a graph. `parent` sets the copy's enclosing graph (default: the original's). */
export function cloneGraph(graph: Graph, opts: CloneOptions = {}, parent?: Graph): Graph {
  return cloneGraphWith(graph, opts, parent ?? graph.parent, () => undefined);
}

/**
 * Copies `graph` under `parent`; `outer` maps values of enclosing scopes to their copies
 * (values it does not map are kept as they are: references to the original outer scope).
 */
export function cloneGraphWith(graph: Graph, opts: CloneOptions, parent: Graph | undefined, outer: ValueResolver): Graph {
  const c = new Graph(graph.name, parent);
  c.docString = graph.docString;
  const local = new Map<Value, Value>();
  const copyValue = (v: Value): Value => {
    let nv = local.get(v);
    if (!nv) {
      nv = c.getOrCreateValue(c.values.has(v.name) ? c.uniqueValueName(v.name) : v.name);
      nv.dtype = v.dtype;
      nv.shape = v.shape?.slice();
      nv.docString = v.docString;
      local.set(v, nv);
    }
    return nv;
  };
  for (const v of graph.values.values()) copyValue(v);
  for (const v of graph.initializers.values()) {
    const nv = copyValue(v);
    if (v.initializer) nv.initializer = opts.copyTensors ? v.initializer.clone() : v.initializer;
    c.initializers.set(nv.name, nv);
  }
  const resolve: ValueResolver = (v) => local.get(v) ?? outer(v);
  const input = (v: Value | null): Value | null => (v ? (resolve(v) ?? v) : null);
  c.inputs = graph.inputs.map((v) => resolve(v) ?? copyValue(v));
  for (const n of graph.nodes) {
    const attrs = cloneAttrs(n.attrs, opts, c, resolve);
    const outs = n.outputs.map((o) => local.get(o) ?? copyValue(o));
    const node = new Node(n.op, n.name, n.inputs.map(input), outs, attrs, n.domain);
    node.meta = { ...n.meta };
    node.docString = n.docString;
    c.insertNode(node);
  }
  c.outputs = graph.outputs.map((v) => resolve(v) ?? v);
  return c;
}

/** Copies attributes; subgraphs are deep-copied under `owner`, reading outer values through `resolve`. */
export function cloneAttrs(attrs: Attrs, opts: CloneOptions, owner: Graph | undefined, resolve: ValueResolver): Attrs {
  const out: Attrs = {};
  for (const [k, at] of Object.entries(attrs)) out[k] = cloneAttr(at, opts, owner, resolve);
  return out;
}

function cloneAttr(at: Attr, opts: CloneOptions, owner: Graph | undefined, resolve: ValueResolver): Attr {
  switch (at.kind) {
    case 'floats':
    case 'ints':
      return { kind: at.kind, value: at.value.slice() };
    case 'strings':
      return { kind: 'strings', value: at.value.slice() };
    case 'tensor':
      return { kind: 'tensor', value: opts.copyTensors ? at.value.clone() : at.value };
    case 'tensors':
      return { kind: 'tensors', value: at.value.map((t) => (opts.copyTensors ? t.clone() : t)) };
    case 'graph':
      return { kind: 'graph', value: cloneGraphWith(at.value, opts, owner, resolve) };
    case 'graphs':
      return { kind: 'graphs', value: at.value.map((g) => cloneGraphWith(g, opts, owner, resolve)) };
    default:
      return { ...at };
  }
}

/** A deep copy of a model (graph, opsets, metadata). */
export function cloneModel(model: Model, opts: CloneOptions = {}): Model {
  const m = new Model(cloneGraph(model.graph, opts), { ...model.source });
  if (model.producer) m.producer = { ...model.producer };
  m.sourceOpsets = { ...model.sourceOpsets };
  m.opsets = { ...model.opsets };
  m.irVersion = model.irVersion;
  m.metadata = { ...model.metadata };
  m.docString = model.docString;
  return m;
}
