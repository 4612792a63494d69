/**
 * Shape and dtype inference over a graph: runs each node's schema rule in topological order,
 * fills unknown dtypes/shapes, checks recorded ones, and propagates the content of small integer
 * tensors (shape arithmetic: Shape -> Gather -> Concat -> Reshape) so reshapes resolve.
 */
import { Graph, Node, Value } from './graph.js';
import { Tensor, formatShape, isIntDType, type DType, type Dim, type Shape } from './tensor.js';
import { getSchema } from './ops/registry.js';
import { InferError, type InferContext, type OpSchema, type ValueType } from './ops/schema.js';
import { topologicalOrder } from './walk.js';

export interface InferOptions {
  /** Bind symbolic dims to numbers (`{ batch: 1 }`): every shape using them becomes concrete. */
  dims?: Record<string, number>;
  /** Write the results into `value.dtype` / `value.shape` (default true). */
  write?: boolean;
  /** Ignore the recorded types of node outputs (infer from the graph inputs and weights only). */
  reset?: boolean;
  /** Replace a recorded symbolic dim by an inferred number (default true). */
  refine?: boolean;
  /** Known contents of graph inputs, by name: used like constants (e.g. a `shape` input). */
  inputValues?: Map<string, Tensor> | Record<string, Tensor>;
}

export type InferIssueKind = 'mismatch' | 'error' | 'unknown-op';

export interface InferIssue {
  kind: InferIssueKind;
  graph: string;
  node?: string;
  op?: string;
  value?: string;
  message: string;
  recorded?: ValueType;
  inferred?: ValueType;
}

export interface InferResult {
  /** Everything noteworthy: mismatches with recorded types, rule errors, unknown ops. */
  issues: InferIssue[];
  /** The type of every value seen (merged recorded + inferred). */
  types: Map<Value, ValueType>;
}

const MAX_CONST_READ = 1 << 20;

/** Runs inference over a graph (and its subgraphs, through If/Loop/Scan rules). */
export function inferShapes(graph: Graph, opts: InferOptions = {}): InferResult {
  const engine = new InferEngine(opts);
  engine.runGraph(graph);
  return { issues: engine.issues, types: engine.types };
}

/** The output types of one node computed from its inputs' recorded types (nothing is written). */
export function inferNode(node: Node, opts: Omit<InferOptions, 'write'> = {}): ValueType[] {
  const engine = new InferEngine({ ...opts, write: false });
  const r = engine.runNode(node);
  const err = engine.issues.find((i) => i.kind === 'error');
  if (err) throw new InferError(err.message);
  return r;
}

function substitute(shape: Shape | undefined, dims: Record<string, number> | undefined): Shape | undefined {
  if (!shape || !dims) return shape;
  return shape.map((d) => (typeof d === 'string' && Object.prototype.hasOwnProperty.call(dims, d) ? dims[d]! : d));
}

function describe(t: ValueType | undefined): string {
  return `${t?.dtype ?? '?'}${formatShape(t?.shape)}`;
}

class InferEngine {
  readonly issues: InferIssue[] = [];
  readonly types = new Map<Value, ValueType>();
  private readonly write: boolean;
  private readonly refine: boolean;
  private readonly inputValues = new Map<string, Tensor>();
  private readonly constCache = new Map<Value, Tensor | null>();

  constructor(private readonly opts: InferOptions) {
    this.write = opts.write ?? true;
    this.refine = opts.refine ?? true;
    const iv = opts.inputValues;
    if (iv) for (const [k, t] of iv instanceof Map ? iv : Object.entries(iv)) this.inputValues.set(k, t);
  }

  runGraph(graph: Graph, formalInputs?: (ValueType | undefined)[]): ValueType[] {
    const dims = this.opts.dims;
    graph.inputs.forEach((v, i) => {
      const given = loopVarying(formalInputs?.[i]);
      const recorded = this.recorded(v, false);
      const t = given ? this.merge(v, recorded, given, undefined, graph) : recorded;
      this.setType(v, t);
    });
    if (dims && this.write) {
      for (const v of graph.values.values()) if (v.shape) v.shape = substitute(v.shape, dims);
    }
    for (const node of topologicalOrder(graph)) this.runNode(node);
    return graph.outputs.map((v) => this.typeOf(v));
  }

  private setType(v: Value, t: ValueType): void {
    this.types.set(v, t);
    if (this.write && !v.initializer) {
      if (t.dtype) v.dtype = t.dtype;
      if (t.shape) v.shape = t.shape.slice();
    }
  }

  /** The recorded type of a value (weights from their tensor; node outputs unless `reset`). */
  private recorded(v: Value, isNodeOutput: boolean): ValueType {
    if (v.initializer) return { dtype: v.initializer.dtype, shape: v.initializer.shape.slice() };
    if (isNodeOutput && this.opts.reset) return {};
    return { dtype: v.dtype, shape: substitute(v.shape?.slice(), this.opts.dims) };
  }

  /** What we know of a value: inferred, else recorded; outer-scope placeholders resolve by name. */
  typeOf(v: Value): ValueType {
    const t = this.types.get(v);
    if (t) return t;
    const outer = this.outerValue(v);
    if (outer) return this.typeOf(outer);
    return this.recorded(v, !!v.producer);
  }

  /** A same-named value in an enclosing graph, for a subgraph placeholder of an outer value. */
  private outerValue(v: Value): Value | undefined {
    if (v.producer || v.initializer || !v.graph?.parent || v.graph.inputs.includes(v)) return undefined;
    const o = v.graph.parent.resolve(v.name);
    return o && o !== v ? o : undefined;
  }

  /** The constant content of a value: initializer, Constant node, provided input value. */
  constOf(v: Value): Tensor | undefined {
    if (v.initializer) return v.initializer;
    const cached = this.constCache.get(v);
    if (cached !== undefined) return cached ?? undefined;
    let t: Tensor | undefined;
    const p = v.producer;
    if (p && p.op === 'Constant' && p.domain === '') t = constantNodeTensor(p);
    else if (!p) {
      const outer = this.outerValue(v);
      if (outer) t = this.constOf(outer);
      else if (v.graph && (v.graph.inputs.includes(v) || !v.graph.parent)) t = this.inputValues.get(v.name);
    }
    this.constCache.set(v, t ?? null);
    return t;
  }

  runNode(node: Node): ValueType[] {
    const graphName = node.graph?.name ?? '?';
    const schema = getSchema(node.op, node.domain);
    if (!schema) {
      this.issues.push({
        kind: 'unknown-op', graph: graphName, node: node.name, op: node.op,
        message: `no schema for op ${node.domain ? node.domain + '.' : ''}${node.op}; its outputs keep their recorded types`,
      });
      return node.outputs.map((o) => {
        const t = this.recorded(o, true);
        this.types.set(o, t);
        return t;
      });
    }
    let inferred: (ValueType | undefined)[] = [];
    try {
      inferred = schema.infer(new Ctx(this, node, schema));
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      this.issues.push({ kind: 'error', graph: graphName, node: node.name, op: node.op, message: `${node.op} ${node.name}: ${msg}` });
      inferred = [];
    }
    return node.outputs.map((o, i) => {
      if (!o.name) return {};
      const t = this.merge(o, this.recorded(o, true), inferred[i] ?? {}, node, node.graph);
      this.setType(o, t);
      return t;
    });
  }

  /** Combines a recorded and an inferred type, recording a mismatch when they contradict. */
  merge(v: Value, rec: ValueType, inf: ValueType, node: Node | undefined, graph: Graph | undefined): ValueType {
    const problems: string[] = [];
    const dtype = rec.dtype ?? inf.dtype;
    if (rec.dtype && inf.dtype && rec.dtype !== inf.dtype) problems.push(`dtype ${rec.dtype} recorded, ${inf.dtype} inferred`);
    let shape: Shape | undefined;
    if (!rec.shape) shape = inf.shape?.slice();
    else if (!inf.shape) shape = rec.shape.slice();
    else if (rec.shape.length !== inf.shape.length) {
      problems.push(`rank ${rec.shape.length} recorded, ${inf.shape.length} inferred`);
      shape = rec.shape.slice();
    } else {
      const is = inf.shape;
      shape = rec.shape.map((r, i) => {
        const d = is[i]!;
        if (typeof r === 'number' && typeof d === 'number' && r !== d) {
          problems.push(`dim ${i} is ${r} recorded, ${d} inferred`);
          return r;
        }
        if (typeof r === 'string' && typeof d === 'number' && this.refine) return d;
        return r;
      });
    }
    if (problems.length) {
      this.issues.push({
        kind: 'mismatch', graph: graph?.name ?? '?', node: node?.name, op: node?.op, value: v.name,
        message: `value '${v.name}': recorded ${describe(rec)}, inferred ${describe(inf)} (${problems.join('; ')})`,
        recorded: rec, inferred: inf,
      });
    }
    return { dtype, shape, value: inf.value, sequence: inf.sequence };
  }
}

/**
 * A subgraph's formal input (a Loop or Scan state) changes from one iteration to the next: its
 * initial content (a propagated small tensor, a sequence's element list) only holds for the
 * first, so only the dtype, the shape and a sequence's element type are kept.
 */
function loopVarying(t: ValueType | undefined): ValueType | undefined {
  if (!t || (t.value === undefined && !t.sequence?.items)) return t;
  return { dtype: t.dtype, shape: t.shape, sequence: t.sequence ? { elem: t.sequence.elem } : undefined };
}

/** The tensor a Constant node produces (any of its value_* forms). */
export function constantNodeTensor(node: Node): Tensor | undefined {
  const at = node.attrs;
  const v = at['value'];
  if (v?.kind === 'tensor') return v.value;
  const f = at['value_float'];
  if (f && (f.kind === 'float' || f.kind === 'int')) return Tensor.fromArray('float32', [], [f.value]);
  const fs = at['value_floats'];
  if (fs && (fs.kind === 'floats' || fs.kind === 'ints')) return Tensor.fromArray('float32', [fs.value.length], fs.value);
  const i = at['value_int'];
  if (i && (i.kind === 'int' || i.kind === 'float')) return Tensor.fromArray('int64', [], [i.value]);
  const is = at['value_ints'];
  if (is && (is.kind === 'ints' || is.kind === 'floats')) return Tensor.fromArray('int64', [is.value.length], is.value);
  const s = at['value_string'];
  if (s?.kind === 'string') return Tensor.fromStrings([], [s.value]);
  const ss = at['value_strings'];
  if (ss?.kind === 'strings') return Tensor.fromStrings([ss.value.length], ss.value);
  return undefined;
}

function readNumbers(t: Tensor): number[] | undefined {
  if (t.dtype === 'string' || t.dtype === 'complex64' || t.dtype === 'complex128' || t.size > MAX_CONST_READ) return undefined;
  try {
    return Array.from(t.toFloat64());
  } catch {
    return undefined;
  }
}

class Ctx implements InferContext {
  readonly inputCount: number;
  readonly outputCount: number;
  private readonly prefix: string;

  constructor(
    private readonly engine: InferEngine,
    readonly node: Node,
    readonly schema: OpSchema,
  ) {
    this.inputCount = node.inputs.length;
    this.outputCount = node.outputs.length;
    this.prefix = node.name || node.op;
  }

  private in(i: number): Value | undefined {
    const v = this.node.inputs[i];
    return v && v.name !== '' ? v : undefined;
  }
  has(i: number): boolean {
    return this.in(i) !== undefined;
  }
  hasOutput(i: number): boolean {
    const o = this.node.outputs[i];
    return !!o && o.name !== '';
  }
  type(i: number): ValueType {
    const v = this.in(i);
    return v ? this.engine.typeOf(v) : {};
  }
  dtype(i: number): DType | undefined {
    return this.type(i).dtype;
  }
  shape(i: number): Shape | undefined {
    return this.type(i).shape;
  }
  rank(i: number): number | undefined {
    return this.shape(i)?.length;
  }
  tensor(i: number): Tensor | undefined {
    const v = this.in(i);
    return v ? this.engine.constOf(v) : undefined;
  }
  ints(i: number): number[] | undefined {
    const t = this.tensor(i);
    if (t) return readNumbers(t)?.map((x) => Math.trunc(x));
    const d = this.type(i).value;
    return d && d.every((x) => typeof x === 'number') ? (d as number[]) : undefined;
  }
  floats(i: number): number[] | undefined {
    const t = this.tensor(i);
    if (t) return readNumbers(t);
    const d = this.type(i).value;
    return d && d.every((x) => typeof x === 'number') ? (d as number[]) : undefined;
  }
  dims(i: number): Dim[] | undefined {
    const v = this.type(i).value;
    if (v) return v;
    const t = this.tensor(i);
    // Integer contents only: shape arithmetic is integral (float inputs are read with floats()).
    if (t && t.rank <= 1 && t.size <= 4096 && isIntDType(t.dtype)) return readNumbers(t);
    return undefined;
  }
  hasAttr(name: string): boolean {
    return this.node.attrs[name] !== undefined;
  }
  private dflt<T>(name: string): T | undefined {
    return this.schema.attrs.find((a) => a.name === name)?.default as T | undefined;
  }
  attrInt(name: string): number | undefined {
    return this.node.attrInt(name) ?? this.dflt<number>(name);
  }
  attrFloat(name: string): number | undefined {
    return this.node.attrFloat(name) ?? this.dflt<number>(name);
  }
  attrString(name: string): string | undefined {
    return this.node.attrString(name) ?? this.dflt<string>(name);
  }
  attrInts(name: string): number[] | undefined {
    return this.node.attrInts(name) ?? this.dflt<number[]>(name);
  }
  attrFloats(name: string): number[] | undefined {
    return this.node.attrFloats(name) ?? this.dflt<number[]>(name);
  }
  attrStrings(name: string): string[] | undefined {
    return this.node.attrStrings(name) ?? this.dflt<string[]>(name);
  }
  attrTensor(name: string): Tensor | undefined {
    return this.node.attrTensor(name);
  }
  attrGraph(name: string): Graph | undefined {
    return this.node.attrGraph(name);
  }
  sym(out: number, dim: number, tag?: string): string {
    const o = out > 0 ? `_out${out}` : '';
    return tag ? `${this.prefix}${o}_${tag}` : `${this.prefix}${o}_dim${dim}`;
  }
  symShape(out: number, rank: number): Shape {
    return Array.from({ length: rank }, (_, i) => this.sym(out, i));
  }
  fail(message: string): never {
    throw new InferError(message);
  }
  subgraph(graph: Graph, inputTypes: (ValueType | undefined)[]): ValueType[] {
    return this.engine.runGraph(graph, inputTypes);
  }
}
