/**
 * The dataflow graph: Values (edges), Nodes (ops in ONNX semantics) and Graphs.
 * Producers and consumers are kept consistent by the editing methods; mutate
 * node inputs only through `Node.setInput` / `Graph` methods.
 */
import { DType, Shape, Tensor } from './tensor.js';

/** The ONNX opset whose semantics IR nodes follow (default domain). */
export const CANONICAL_OPSET = 17;

export type Attr =
  | { kind: 'float'; value: number }
  | { kind: 'int'; value: number }
  | { kind: 'string'; value: string }
  | { kind: 'tensor'; value: Tensor }
  | { kind: 'graph'; value: Graph }
  | { kind: 'floats'; value: number[] }
  | { kind: 'ints'; value: number[] }
  | { kind: 'strings'; value: string[] }
  | { kind: 'tensors'; value: Tensor[] }
  | { kind: 'graphs'; value: Graph[] };

export type Attrs = Record<string, Attr>;

/** Shorthands for building attributes. */
export const attr = {
  float: (value: number): Attr => ({ kind: 'float', value }),
  int: (value: number): Attr => ({ kind: 'int', value }),
  string: (value: string): Attr => ({ kind: 'string', value }),
  tensor: (value: Tensor): Attr => ({ kind: 'tensor', value }),
  graph: (value: Graph): Attr => ({ kind: 'graph', value }),
  floats: (value: number[]): Attr => ({ kind: 'floats', value }),
  ints: (value: number[]): Attr => ({ kind: 'ints', value }),
  strings: (value: string[]): Attr => ({ kind: 'strings', value }),
};

export class Value {
  name: string;
  dtype?: DType;
  shape?: Shape;
  /** Constant data: set for initializers (weights). */
  initializer?: Tensor;
  producer?: Node;
  /** Nodes that read this value (a node reading it twice appears once). */
  readonly consumers = new Set<Node>();
  /** The graph that owns this value. */
  graph?: Graph;
  docString?: string;

  constructor(name: string, dtype?: DType, shape?: Shape) {
    this.name = name;
    this.dtype = dtype;
    this.shape = shape;
  }

  get isConstant(): boolean {
    return this.initializer !== undefined;
  }
}

export class Node {
  name: string;
  op: string;
  /** '' for the default ONNX domain. */
  domain: string;
  readonly inputs: (Value | null)[] = [];
  readonly outputs: Value[] = [];
  attrs: Attrs;
  /** Free-form source information (Keras class, TF op, PyTorch module path). */
  meta: Record<string, unknown> = {};
  docString?: string;
  graph?: Graph;

  constructor(op: string, name: string, inputs: (Value | null)[], outputs: Value[], attrs: Attrs = {}, domain = '') {
    this.op = op;
    this.name = name;
    this.domain = domain;
    this.attrs = attrs;
    for (const v of inputs) this.addInput(v);
    for (const v of outputs) this.addOutput(v);
  }

  addInput(v: Value | null): void {
    this.inputs.push(v);
    if (v) v.consumers.add(this);
  }

  addOutput(v: Value): void {
    if (v.producer && v.producer !== this) {
      throw new Error(`value ${v.name} is already produced by node ${v.producer.name}`);
    }
    v.producer = this;
    this.outputs.push(v);
  }

  setInput(i: number, v: Value | null): void {
    const old = this.inputs[i];
    this.inputs[i] = v;
    if (old && !this.inputs.includes(old)) old.consumers.delete(this);
    if (v) v.consumers.add(this);
  }

  /** Input i, or undefined when absent or given as the empty name. */
  input(i: number): Value | undefined {
    return this.inputs[i] ?? undefined;
  }

  // Attribute readers with defaults.
  attrInt(name: string, dflt: number): number;
  attrInt(name: string): number | undefined;
  attrInt(name: string, dflt?: number): number | undefined {
    const a = this.attrs[name];
    if (!a) return dflt;
    if (a.kind === 'int' || a.kind === 'float') return a.value;
    throw new Error(`node ${this.name} (${this.op}): attribute ${name} is ${a.kind}, expected int`);
  }
  attrFloat(name: string, dflt: number): number;
  attrFloat(name: string): number | undefined;
  attrFloat(name: string, dflt?: number): number | undefined {
    const a = this.attrs[name];
    if (!a) return dflt;
    if (a.kind === 'int' || a.kind === 'float') return a.value;
    throw new Error(`node ${this.name} (${this.op}): attribute ${name} is ${a.kind}, expected float`);
  }
  attrString(name: string, dflt: string): string;
  attrString(name: string): string | undefined;
  attrString(name: string, dflt?: string): string | undefined {
    const a = this.attrs[name];
    if (!a) return dflt;
    if (a.kind === 'string') return a.value;
    throw new Error(`node ${this.name} (${this.op}): attribute ${name} is ${a.kind}, expected string`);
  }
  attrInts(name: string, dflt: number[]): number[];
  attrInts(name: string): number[] | undefined;
  attrInts(name: string, dflt?: number[]): number[] | undefined {
    const a = this.attrs[name];
    if (!a) return dflt;
    if (a.kind === 'ints' || a.kind === 'floats') return a.value;
    if (a.kind === 'int') return [a.value];
    throw new Error(`node ${this.name} (${this.op}): attribute ${name} is ${a.kind}, expected ints`);
  }
  attrFloats(name: string, dflt: number[]): number[];
  attrFloats(name: string): number[] | undefined;
  attrFloats(name: string, dflt?: number[]): number[] | undefined {
    const a = this.attrs[name];
    if (!a) return dflt;
    if (a.kind === 'ints' || a.kind === 'floats') return a.value;
    throw new Error(`node ${this.name} (${this.op}): attribute ${name} is ${a.kind}, expected floats`);
  }
  attrStrings(name: string): string[] | undefined {
    const a = this.attrs[name];
    if (!a) return undefined;
    if (a.kind === 'strings') return a.value;
    throw new Error(`node ${this.name} (${this.op}): attribute ${name} is ${a.kind}, expected strings`);
  }
  attrTensor(name: string): Tensor | undefined {
    const a = this.attrs[name];
    if (!a) return undefined;
    if (a.kind === 'tensor') return a.value;
    throw new Error(`node ${this.name} (${this.op}): attribute ${name} is ${a.kind}, expected tensor`);
  }
  attrGraph(name: string): Graph | undefined {
    const a = this.attrs[name];
    if (!a) return undefined;
    if (a.kind === 'graph') return a.value;
    throw new Error(`node ${this.name} (${this.op}): attribute ${name} is ${a.kind}, expected graph`);
  }
}

export class Graph {
  name: string;
  inputs: Value[] = [];
  outputs: Value[] = [];
  /** Nodes in insertion order; use `topologicalOrder` (walk.ts) for execution order. */
  readonly nodes: Node[] = [];
  /** Weights and other constants, by name. */
  readonly initializers = new Map<string, Value>();
  /** Every named value of this graph (inputs, initializers, node outputs, value_info). */
  readonly values = new Map<string, Value>();
  /** For subgraphs (If/Loop/Scan bodies): the enclosing graph, whose values they may read. */
  parent?: Graph;
  docString?: string;

  constructor(name = 'main', parent?: Graph) {
    this.name = name;
    this.parent = parent;
  }

  /** The value with this name in this graph, or undefined. */
  value(name: string): Value | undefined {
    return this.values.get(name);
  }

  /** Looks the name up here and then in enclosing graphs. */
  resolve(name: string): Value | undefined {
    return this.values.get(name) ?? this.parent?.resolve(name);
  }

  /** Creates (or returns the existing) value with this name. */
  getOrCreateValue(name: string, dtype?: DType, shape?: Shape): Value {
    let v = this.values.get(name);
    if (!v) {
      v = new Value(name, dtype, shape);
      v.graph = this;
      this.values.set(name, v);
    }
    return v;
  }

  /** A new value with a name not yet used in this graph (suffixing `_1`, `_2`, ...). */
  newValue(base: string, dtype?: DType, shape?: Shape): Value {
    return this.getOrCreateValue(this.uniqueValueName(base), dtype, shape);
  }

  uniqueValueName(base: string): string {
    if (!this.values.has(base)) return base;
    let i = 1;
    while (this.values.has(`${base}_${i}`)) i++;
    return `${base}_${i}`;
  }

  uniqueNodeName(base: string): string {
    const used = new Set(this.nodes.map((n) => n.name));
    if (!used.has(base)) return base;
    let i = 1;
    while (used.has(`${base}_${i}`)) i++;
    return `${base}_${i}`;
  }

  addInput(name: string, dtype: DType, shape: Shape): Value {
    const v = this.getOrCreateValue(name, dtype, shape);
    v.dtype = dtype;
    v.shape = shape;
    this.inputs.push(v);
    return v;
  }

  addInitializer(name: string, tensor: Tensor): Value {
    const v = this.getOrCreateValue(name, tensor.dtype, tensor.shape.slice());
    v.initializer = tensor;
    v.dtype = tensor.dtype;
    v.shape = tensor.shape.slice();
    if (!tensor.name) tensor.name = name;
    this.initializers.set(name, v);
    return v;
  }

  removeInitializer(v: Value): void {
    this.initializers.delete(v.name);
    v.initializer = undefined;
    if (v.consumers.size === 0 && !v.producer && !this.inputs.includes(v) && !this.outputs.includes(v)) {
      this.values.delete(v.name);
    }
  }

  /**
   * Adds a node. `outputs` are values or names (new values are created for names).
   * Returns the node; its outputs are `node.outputs`.
   */
  addNode(
    op: string,
    inputs: (Value | null)[],
    outputs: (Value | string)[] | number,
    attrs: Attrs = {},
    name?: string,
    domain = '',
  ): Node {
    const nodeName = this.uniqueNodeName(name ?? op);
    const outs: Value[] =
      typeof outputs === 'number'
        ? Array.from({ length: outputs }, (_, i) => this.newValue(outputs === 1 ? nodeName : `${nodeName}:${i}`))
        : outputs.map((o) => (typeof o === 'string' ? this.getOrCreateValue(o) : o));
    for (const o of outs) {
      if (!o.graph) {
        o.graph = this;
        this.values.set(o.name, o);
      }
    }
    const node = new Node(op, nodeName, inputs, outs, attrs, domain);
    node.graph = this;
    this.nodes.push(node);
    return node;
  }

  /** Inserts an existing node (e.g. a clone) at the end, or before `before`. */
  insertNode(node: Node, before?: Node): Node {
    node.graph = this;
    for (const o of node.outputs) {
      o.graph = this;
      this.values.set(o.name, o);
    }
    const idx = before ? this.nodes.indexOf(before) : -1;
    if (idx >= 0) this.nodes.splice(idx, 0, node);
    else this.nodes.push(node);
    return node;
  }

  /** Removes a node; its outputs lose their producer (and leave the graph unless still used). */
  removeNode(node: Node): void {
    const i = this.nodes.indexOf(node);
    if (i < 0) throw new Error(`node ${node.name} is not in graph ${this.name}`);
    this.nodes.splice(i, 1);
    for (const v of node.inputs) v?.consumers.delete(node);
    for (const o of node.outputs) {
      if (o.producer === node) o.producer = undefined;
      if (o.consumers.size === 0 && !this.outputs.includes(o)) this.values.delete(o.name);
    }
    node.graph = undefined;
  }

  /** Makes every reader of `from` (nodes and graph outputs, also inside subgraphs by name) read `to`. */
  replaceAllUses(from: Value, to: Value): void {
    if (from === to) return;
    for (const n of [...from.consumers]) {
      for (let i = 0; i < n.inputs.length; i++) if (n.inputs[i] === from) n.setInput(i, to);
    }
    this.outputs = this.outputs.map((o) => (o === from ? to : o));
  }

  /** Finds a node by name (searching subgraphs too). */
  findNode(name: string): Node | undefined {
    for (const n of this.nodes) {
      if (n.name === name) return n;
      for (const g of subgraphsOf(n)) {
        const f = g.findNode(name);
        if (f) return f;
      }
    }
    return undefined;
  }

  /** All nodes with this op (and domain, default ONNX), subgraphs included. */
  findNodesByOp(op: string, domain = ''): Node[] {
    const out: Node[] = [];
    for (const n of this.nodes) {
      if (n.op === op && n.domain === domain) out.push(n);
      for (const g of subgraphsOf(n)) out.push(...g.findNodesByOp(op, domain));
    }
    return out;
  }
}

/** The subgraphs held in a node's attributes (If branches, Loop/Scan bodies). */
export function subgraphsOf(node: Node): Graph[] {
  const out: Graph[] = [];
  for (const a of Object.values(node.attrs)) {
    if (a.kind === 'graph') out.push(a.value);
    else if (a.kind === 'graphs') out.push(...a.value);
  }
  return out;
}

/** Where a model came from. */
export interface ModelSource {
  /** Format id: 'onnx', 'keras', 'tf', 'torch', ... */
  format: string;
  /** Path of the file the model was read from, when it came from a file. */
  path?: string;
  /** Byte size of the source file(s). */
  fileSize?: number;
}

/**
 * A row of the source framework's own summary (a Keras layer, a PyTorch module): what
 * `inspect` shows when the source format has layers above the IR nodes.
 */
export interface SourceLayer {
  name: string;
  /** Framework class, e.g. `Conv2D`, `Linear`. */
  className: string;
  /** Output shapes as the framework shows them (symbolic batch as a string such as 'batch'). */
  outputShapes: Shape[];
  parameters: number;
  trainableParameters?: number;
  /** Elements of non-parameter state (PyTorch buffers such as running_mean). */
  buffers?: number;
  /** Names of the layers feeding this one (functional models). */
  inboundLayers?: string[];
  /** Nested layers (a model inside a model, a PyTorch container). */
  children?: SourceLayer[];
  /** Set when the layer is shown but cannot be converted (custom class, Lambda). */
  unsupported?: string;
}

export class Model {
  graph: Graph;
  /** The source framework's layers, when it has them (Keras, PyTorch modules). */
  layers?: SourceLayer[];
  source: ModelSource;
  /** Producer of the original file (e.g. `pytorch` `2.1`, `keras` `2.4.0`). */
  producer?: { name: string; version?: string };
  /** Opsets of the original file, by domain ('' = ONNX default). */
  sourceOpsets: Record<string, number> = {};
  /** Opsets the IR nodes follow now (default domain is CANONICAL_OPSET after import). */
  opsets: Record<string, number> = { '': CANONICAL_OPSET };
  irVersion?: number;
  /** Free-form metadata (metadata_props, keras_version, training_config, ...). */
  metadata: Record<string, string> = {};
  docString?: string;
  /**
   * True when the reader left work for the optimisation passes (layout Transposes to cancel);
   * `prepareModel` (ir/passes) runs them once before the graph is run or written.
   */
  pendingPasses = false;

  constructor(graph: Graph, source: ModelSource) {
    this.graph = graph;
    this.source = source;
  }
}
