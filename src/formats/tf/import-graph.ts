/**
 * TF graph -> IR graph. Walks back from the outputs (stopping at the cut inputs), lists every op
 * without a converter at once, then converts the needed nodes in topological order: sources
 * (Placeholder, Const, variables) and pass-throughs (Identity, ReadVariableOp, ...) here, every
 * other op through its registered converter (`ops/*.ts`, contract in `op-api.ts`). Calls of
 * library functions (PartitionedCall, StatefulPartitionedCall) are inlined; While/If loops and
 * branches become ONNX Loop/If nodes with subgraphs (`control-flow.ts`).
 *
 * Names: a TF tensor `node:0` becomes the IR value `node`, `node:k` the value `node:k`; graph
 * inputs are named after their Placeholder (or given names), outputs likewise.
 */
import { MconvError } from '../../errors.js';
import { Graph, Node, Value, attr, type Attrs } from '../../ir/graph.js';
import { inferNode, inferShapes } from '../../ir/infer.js';
import { Tensor, type DType, type Shape } from '../../ir/tensor.js';
import { convertIf, convertWhile, CONTROL_FLOW_OPS, type ControlFlowHost } from './control-flow.js';
import { functionalizeTf1ControlFlow, hasTf1ControlFlow, tf1ControlFlowProblems } from './functionalize.js';
import { convertKerasLstm, isKerasLstmFunction } from './keras-rnn.js';
import { tfOpConverter, type TfOpContext } from './op-api.js';
import { irDType, TF_DTYPE_NAMES, type TfAttr, type TfFunction, type TfGraph, type TfNode } from './tf-graph.js';
import './ops/index.js';

export interface TfImportOptions {
  /** Values for VariableV2 / VarHandleOp / Variable nodes, keyed by node name (and shared_name). */
  variables?: Map<string, Tensor>;
  /** `name:port` (or `name`) graph inputs = cut points; default: every Placeholder the outputs need. */
  inputs?: string[];
  /** `name:port` graph outputs; default: the sink nodes. */
  outputs?: string[];
  /** IR names for the inputs and outputs (SavedModel signature keys), same order. */
  inputNames?: string[];
  outputNames?: string[];
  inputShapes?: Record<string, (number | string)[]>;
  graphName?: string;
}

/** Ops that only pass their first input on. */
const PASS_THROUGH = new Set([
  'Identity', 'StopGradient', 'Snapshot', 'PreventGradient', 'EnsureShape', 'ReadVariableOp', 'FakeParam',
  'DebugIdentity', 'DebugIdentityV2', 'PlaceholderWithDefault',
]);
/** Ops the importer itself handles (TF1 Enter/Merge/Switch/... through functionalize.ts). */
export const BUILT_IN = new Set([
  ...PASS_THROUGH, 'Placeholder', 'Const', 'HostConst', 'VariableV2', 'Variable', 'VarHandleOp', 'IdentityN', 'NoOp',
  'PartitionedCall', 'StatefulPartitionedCall', ...CONTROL_FLOW_OPS,
]);
/** Sinks that are not results: state updates, saving, initialisation. */
const NOT_RESULTS = /^(NoOp|TensorArrayCloseV3|Assign.*|Save.*|Restore.*|MergeV2Checkpoints|VarIsInitializedOp|Apply.*|ResourceApply.*|ShardedFilename|ShardedFilespec|StringJoin|Const|Placeholder.*|VarHandleOp|VariableV2|Variable|Print.*|Assert|DisableCopyOnRead|StaticRegexFullMatch)$/;

/** Output arg lists of ops with more than one output arg (for `node:arg:idx` refs in function bodies). */
export const OUTPUT_ARGS: Record<string, string[]> = {
  FusedBatchNorm: ['y', 'batch_mean', 'batch_variance', 'reserve_space_1', 'reserve_space_2'],
  FusedBatchNormV2: ['y', 'batch_mean', 'batch_variance', 'reserve_space_1', 'reserve_space_2'],
  FusedBatchNormV3: ['y', 'batch_mean', 'batch_variance', 'reserve_space_1', 'reserve_space_2', 'reserve_space_3'],
  _FusedBatchNormEx: ['y', 'batch_mean', 'batch_variance', 'reserve_space_1', 'reserve_space_2', 'reserve_space_3'],
  TopKV2: ['values', 'indices'],
  Unique: ['y', 'idx'],
};

interface Ref {
  node: string;
  port: number;
}

function parseRef(s: string): Ref {
  const m = /^(.*?):(\d+)$/.exec(s);
  return m ? { node: m[1]!, port: Number(m[2]) } : { node: s, port: 0 };
}

const refKey = (r: Ref) => (r.port === 0 ? r.node : `${r.node}:${r.port}`);

function tfError(message: string, where?: string, hint?: string): MconvError {
  return new MconvError({ kind: 'unsupported', format: 'tf', message, where, hint });
}

/** A scope of names: the top-level graph, or an inlined function body. */
interface Scope {
  /** IR name prefix for nodes converted in this scope. */
  prefix: string;
  /** The IR graph nodes go to: the main graph, or a Loop/If body. Weights always go to the main graph. */
  graph: Graph;
  nodes: Map<string, TfNode>;
  /** Values already known: function arguments, converted nodes' ports. */
  values: Map<string, Value>;
  /** Resolves an input string of a node in this scope. */
  resolve(input: string): Ref;
}

class Importer {
  readonly graph: Graph;
  private readonly tf: TfGraph;
  private readonly opts: TfImportOptions;
  private readonly fns: Map<string, TfFunction>;
  private readonly cuts = new Map<string, string>();

  constructor(tf: TfGraph, opts: TfImportOptions) {
    this.tf = tf;
    this.opts = opts;
    this.graph = new Graph(opts.graphName ?? 'tf');
    this.fns = new Map(tf.functions.map((f) => [f.name, f]));
    (opts.inputs ?? []).forEach((s, i) => this.cuts.set(refKey(parseRef(s)), opts.inputNames?.[i] ?? parseRef(s).node));
  }

  run(): Graph {
    const top: Scope = {
      prefix: '',
      graph: this.graph,
      nodes: new Map(this.tf.nodes.map((n) => [n.name, n])),
      values: new Map(),
      resolve: (s) => parseRef(s),
    };
    for (const c of this.opts.inputs ?? []) {
      if (!top.nodes.has(parseRef(c).node)) throw tfError(`--inputs names ${JSON.stringify(c)}, which is not a node of the graph`, undefined, 'give NODE:PORT names of the graph (mconv inspect lists them)');
    }
    const outRefs = this.opts.outputs?.length ? this.opts.outputs.map(parseRef) : this.sinks();
    for (const r of outRefs) {
      if (!top.nodes.has(r.node)) throw tfError(`the output ${JSON.stringify(refKey(r))} is not a node of the graph`, undefined, 'give NODE:PORT names of the graph (mconv inspect lists them)');
    }
    if (!outRefs.length) throw tfError('the graph has no outputs (no node that computes a result)', undefined, 'name the outputs with --outputs NODE:PORT');
    // Cut points become graph inputs, in the order given (also those no output needs).
    for (const [k, name] of this.cuts) {
      const r = parseRef(k);
      const n = top.nodes.get(r.node)!;
      const v = this.graph.addInput(name, this.outputDType(n, r.port), []);
      v.shape = this.placeholderShape(n, name);
      top.values.set(refKey(r), v);
    }
    const order = this.needed(top, outRefs, true);
    this.checkSupported(order);
    for (const n of order) this.convert(top, n);
    const seen = new Set<Value>();
    this.graph.outputs = outRefs.map((r, i) => {
      let v = this.valueOf(top, r);
      // Outputs carry the names asked for (signature keys), else the TF tensor's name.
      const want = this.opts.outputNames?.[i] ?? refKey(r);
      if (seen.has(v) || v.initializer || this.graph.inputs.includes(v) || (want !== v.name && this.graph.values.has(want))) {
        v = this.graph.addNode('Identity', [v], [this.graph.newValue(want, v.dtype, v.shape?.slice())], {}, `${refKey(r)}/output`).outputs[0]!;
      } else if (want !== v.name) {
        this.rename(v, want);
      }
      seen.add(v);
      return v;
    });
    return this.graph;
  }

  private rename(v: Value, name: string): void {
    this.graph.values.delete(v.name);
    v.name = name;
    this.graph.values.set(name, v);
  }

  /** Nodes whose outputs no other node reads (results), leaving out state updates and save/restore. */
  private sinks(): Ref[] {
    const read = new Set<string>();
    for (const n of this.tf.nodes) for (const i of n.inputs) if (!i.startsWith('^')) read.add(parseRef(i).node);
    return this.tf.nodes.filter((n) => !read.has(n.name) && !NOT_RESULTS.test(n.op) && !/^(save|init|report_uninitialized|Merge\/MergeSummary)/.test(n.name))
      .map((n) => ({ node: n.name, port: 0 }));
  }

  /** The nodes needed for `outs` in topological order (iterative DFS; cycles are an error). */
  private needed(scope: Scope, outs: Ref[], top: boolean): TfNode[] {
    const order: TfNode[] = [];
    const state = new Map<string, 1 | 2>();
    const stack: { n: TfNode; i: number }[] = [];
    const visit = (name: string) => {
      if (state.get(name) === 2 || scope.values.has(name)) return;
      const n = scope.nodes.get(name);
      if (!n) throw tfError(`a node reads ${JSON.stringify(name)}, which is not in the graph`, name);
      stack.push({ n, i: 0 });
      state.set(name, 1);
      while (stack.length) {
        const f = stack[stack.length - 1]!;
        const inputs = this.dataInputs(f.n);
        const isCut = top && (this.cuts.has(f.n.name) || [...this.cuts.keys()].some((k) => parseRef(k).node === f.n.name));
        if (!isCut && f.i < inputs.length) {
          const r = scope.resolve(inputs[f.i++]!);
          if (scope.values.has(r.node) || state.get(r.node) === 2) continue;
          if (state.get(r.node) === 1) {
            const why = tf1ControlFlowProblems(this.tf);
            throw tfError(why.length ? `the graph has a TF1 while loop through ${JSON.stringify(r.node)} that mconv could not rewrite: ${why.join('; ')}`
              : `the graph has a cycle through ${JSON.stringify(r.node)} that is not a TF1 while loop`, r.node, 'cut the graph with --inputs/--outputs around the loop');
          }
          const m = scope.nodes.get(r.node);
          if (!m) throw tfError(`node ${JSON.stringify(f.n.name)} reads ${JSON.stringify(r.node)}, which is not in the graph`, f.n.name);
          state.set(r.node, 1);
          stack.push({ n: m, i: 0 });
          continue;
        }
        stack.pop();
        state.set(f.n.name, 2);
        order.push(f.n);
      }
    };
    for (const o of outs) visit(o.node);
    return order;
  }

  private dataInputs(n: TfNode): string[] {
    return n.inputs.filter((i) => !i.startsWith('^'));
  }

  /** One error listing every op without a converter, with counts (functions called included). */
  private checkSupported(nodes: TfNode[]): void {
    const missing = new Map<string, number>();
    const seenFns = new Set<string>();
    const visit = (list: TfNode[]) => {
      for (const n of list) {
        if (this.isCut(n.name)) continue;
        if (n.op === 'PartitionedCall' || n.op === 'StatefulPartitionedCall') {
          const f = n.attr.f?.func?.name;
          const fn = f ? this.fns.get(f) : undefined;
          if (!fn) missing.set(`${n.op} of a missing function ${f ?? ''}`.trim(), (missing.get(n.op) ?? 0) + 1);
          // A Keras LSTM implementation becomes an ONNX LSTM: its body (CudnnRNN for the GPU one) is not converted.
          else if (!seenFns.has(fn.name) && !isKerasLstmFunction(fn)) {
            seenFns.add(fn.name);
            visit(fn.nodes);
          }
          continue;
        }
        if (this.fns.has(n.op)) {
          const fn = this.fns.get(n.op)!;
          if (!seenFns.has(fn.name)) {
            seenFns.add(fn.name);
            visit(fn.nodes);
          }
          continue;
        }
        if (BUILT_IN.has(n.op) || tfOpConverter(n.op)) {
          // Loop bodies, conditions and branches are converted too.
          for (const a of Object.values(n.attr)) {
            for (const f of [a.func, ...(a.list?.func ?? [])]) {
              const fn = f ? this.fns.get(f.name) : undefined;
              if (f && !fn) missing.set(`${n.op} of a missing function ${f.name}`, 1);
              if (fn && !seenFns.has(fn.name)) {
                seenFns.add(fn.name);
                visit(fn.nodes);
              }
            }
          }
          continue;
        }
        missing.set(n.op, (missing.get(n.op) ?? 0) + 1);
      }
    };
    visit(nodes);
    if (missing.size) {
      const list = [...missing].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).map(([op, c]) => `${op} x${c}`).join(', ');
      const stateful = [...missing.keys()].filter((op) => /^(Assign|ResourceApply|Apply|Scatter(Add|Sub|Update)$|ResourceScatter)/.test(op));
      const why = [...missing.keys()].some((op) => /^(Ref)?(Enter|Exit|Merge|Switch|NextIteration)$|^LoopCond$/.test(op)) ? tf1ControlFlowProblems(this.tf) : [];
      throw tfError(`unsupported TF ops: ${list}${why.length ? ` (TF1 control flow left as it was: ${why.join('; ')})` : ''}`, undefined, stateful.length
        ? `${stateful.join(', ')} change variables: this graph updates state, and mconv converts inference graphs (choose an inference signature, or cut with --outputs NODE:PORT)`
        : 'these ops have no converter; if they are pre- or post-processing, cut them away with --inputs/--outputs NODE:PORT');
    }
  }

  private isCut(name: string): boolean {
    return this.cuts.has(name) || [...this.cuts.keys()].some((k) => parseRef(k).node === name);
  }

  private valueOf(scope: Scope, r: Ref): Value {
    const v = scope.values.get(refKey(r));
    if (!v) throw tfError(`output ${r.port} of ${JSON.stringify(r.node)} was not produced`, r.node);
    return v;
  }

  private input(scope: Scope, s: string): Value {
    const r = scope.resolve(s);
    return this.valueOf(scope, r);
  }

  private set(scope: Scope, n: TfNode, outs: Value[]): void {
    outs.forEach((v, i) => scope.values.set(i === 0 ? n.name : `${n.name}:${i}`, v));
  }

  private convert(scope: Scope, n: TfNode): void {
    const g = scope.graph;
    const root = this.graph;
    const irName = `${scope.prefix}${n.name}`;
    // Cut points are graph inputs already (made in run()).
    if (scope.prefix === '' && this.isCut(n.name)) return;
    switch (n.op) {
      case 'Placeholder': {
        if (scope.prefix !== '') throw tfError('a Placeholder inside a function body', irName);
        const v = g.addInput(n.name, this.dtypeAttr(n, 'dtype'), []);
        v.shape = this.placeholderShape(n, n.name);
        scope.values.set(n.name, v);
        return;
      }
      case 'PlaceholderWithDefault': {
        const shape = n.attr.shape?.shape;
        // A scalar flag (keep_prob, is_training) keeps its default; a data input becomes an input.
        if (scope.prefix === '' && !this.opts.inputs?.length && shape && shape.length > 0) {
          const v = g.addInput(n.name, this.dtypeAttr(n, 'dtype'), []);
          v.shape = this.placeholderShape(n, n.name);
          scope.values.set(n.name, v);
          return;
        }
        scope.values.set(n.name, this.input(scope, this.dataInputs(n)[0]!));
        return;
      }
      case 'Const':
      case 'HostConst': {
        const t = n.attr.value?.tensor;
        if (!t) throw new MconvError({ kind: 'unreadable', format: 'tf', message: 'a Const node without a value', where: irName });
        scope.values.set(n.name, root.addInitializer(root.uniqueValueName(irName), t));
        return;
      }
      case 'VariableV2':
      case 'Variable':
      case 'VarHandleOp': {
        const shared = n.attr.shared_name?.s ? new TextDecoder().decode(n.attr.shared_name.s) : undefined;
        const t = this.opts.variables?.get(n.name) ?? (shared ? this.opts.variables?.get(shared) : undefined);
        if (!t) {
          throw new MconvError({
            kind: 'unsupported', format: 'tf', where: irName,
            message: `variable ${JSON.stringify(n.name)} has no value${this.opts.variables ? ' in the checkpoint' : ''}`,
            hint: 'read the SavedModel folder or the checkpoint with its .meta graph, or a frozen graph',
          });
        }
        scope.values.set(n.name, root.addInitializer(root.uniqueValueName(irName), t));
        return;
      }
      case 'NoOp':
        return;
      case 'IdentityN': {
        this.dataInputs(n).forEach((s, i) => scope.values.set(i === 0 ? n.name : `${n.name}:${i}`, this.input(scope, s)));
        return;
      }
      case 'PartitionedCall':
      case 'StatefulPartitionedCall': {
        const fname = n.attr.f?.func?.name;
        const fn = fname ? this.fns.get(fname) : undefined;
        if (!fn) throw tfError(`calls function ${JSON.stringify(fname)}, which the graph's library lacks`, irName);
        const args = this.dataInputs(n).map((s) => this.input(scope, s));
        // A Keras LSTM layer's implementation function becomes one ONNX LSTM node.
        const lstm = isKerasLstmFunction(fn) ? convertKerasLstm(this.context(n, irName, g), args, fn) : undefined;
        this.set(scope, n, lstm ?? this.inline(fn, args, `${irName}/`, g));
        return;
      }
      case 'While':
      case 'StatelessWhile':
        this.set(scope, n, this.controlFlow(scope, n, irName, convertWhile));
        return;
      case 'If':
      case 'StatelessIf':
        this.set(scope, n, this.controlFlow(scope, n, irName, convertIf));
        return;
      default:
        break;
    }
    if (PASS_THROUGH.has(n.op)) {
      scope.values.set(n.name, this.input(scope, this.dataInputs(n)[0]!));
      return;
    }
    const fn = this.fns.get(n.op);
    if (fn) {
      this.set(scope, n, this.inline(fn, this.dataInputs(n).map((s) => this.input(scope, s)), `${irName}/`, g));
      return;
    }
    const conv = tfOpConverter(n.op);
    if (!conv) throw tfError(`unsupported TF op ${n.op}`, irName);
    const inputs = this.dataInputs(n).map((s) => this.input(scope, s));
    let outs: Value[];
    try {
      outs = conv(this.context(n, irName, g), inputs);
    } catch (e) {
      if (e instanceof MconvError) {
        if (e.where) throw e;
        throw new MconvError({ kind: e.kind, format: 'tf', message: e.message, where: `${irName} (${n.op})`, hint: e.hint, cause: e });
      }
      throw new MconvError({ kind: 'unsupported', format: 'tf', where: `${irName} (${n.op})`, message: `cannot convert: ${(e as Error)?.message ?? String(e)}`, cause: e });
    }
    this.set(scope, n, outs);
  }

  /** Converts a While/If node with the control-flow module, errors named after the node. */
  private controlFlow(scope: Scope, n: TfNode, irName: string,
    convert: (host: ControlFlowHost, graph: Graph, n: TfNode, irName: string, inputs: Value[]) => Value[]): Value[] {
    const host: ControlFlowHost = {
      root: this.graph,
      fn: (name) => this.fns.get(name),
      inline: (fn, args, prefix, graph) => this.inline(fn, args, prefix, graph),
    };
    return convert(host, scope.graph, n, irName, this.dataInputs(n).map((s) => this.input(scope, s)));
  }

  /** Converts a function body on the given argument values into `graph`; returns the values of its outputs in order. */
  private inline(fn: TfFunction, args: Value[], prefix: string, graph: Graph): Value[] {
    const scope: Scope = {
      prefix,
      graph,
      nodes: new Map(fn.nodes.map((n) => [n.name, n])),
      values: new Map(),
      resolve: (s) => {
        const parts = s.split(':');
        if (parts.length === 1) return { node: s, port: 0 };
        if (parts.length === 2) return { node: parts[0]!, port: Number(parts[1]) };
        const [node, arg, idx] = parts as [string, string, string];
        const op = scope.nodes.get(node)?.op;
        const args = op ? OUTPUT_ARGS[op] : undefined;
        const k = args ? args.indexOf(arg) : -1;
        return { node, port: k > 0 ? k + Number(idx) : Number(idx) };
      },
    };
    fn.inputs.forEach((a, i) => {
      const v = args[i];
      if (!v) throw tfError(`function ${fn.name} is called with ${args.length} arguments, it takes ${fn.inputs.length}`, prefix);
      scope.values.set(a.name, v);
    });
    const rets = fn.outputs.map((o) => {
      const r = fn.ret[o.name];
      if (!r) throw tfError(`function ${fn.name} does not return ${o.name}`, prefix);
      return r;
    });
    const order = this.needed(scope, rets.map((r) => scope.resolve(r)), false);
    for (const n of order) this.convert(scope, n);
    return rets.map((r) => this.valueOf(scope, scope.resolve(r)));
  }

  private dtypeAttr(n: TfNode, name: string): DType {
    const t = n.attr[name]?.type;
    const d = irDType(t);
    if (!d) throw tfError(`${n.op} of type ${t === undefined ? '(missing)' : TF_DTYPE_NAMES[t] ?? t} is not supported`, n.name);
    return d;
  }

  /** The dtype of output `port` of a node cut as an input. */
  private outputDType(n: TfNode, port: number): DType {
    for (const k of ['dtype', 'T', 'out_type', 'DstT', 'Tout', 'output_type']) {
      const a = n.attr[k];
      const t = a?.type ?? a?.list?.type?.[port];
      const d = irDType(t);
      if (d) return d;
    }
    if (n.op === 'DecodeJpeg' || n.op === 'DecodePng' || n.op === 'DecodeImage') return 'uint8';
    return 'float32';
  }

  /**
   * A Placeholder's shape: the given `--input-shape`, else its `shape` (or `_output_shapes`)
   * attribute; undefined (unknown rank) when the graph does not say.
   */
  private placeholderShape(n: TfNode, name: string): Shape | undefined {
    const given = this.opts.inputShapes?.[name] ?? this.opts.inputShapes?.[n.name];
    if (given) return given.slice();
    const s = n.attr.shape?.shape ?? n.attr._output_shapes?.list?.shape?.[0];
    if (!s) return undefined;
    return s.map((d, i) => (d >= 0 ? d : i === 0 ? 'batch' : `${name}_d${i}`));
  }

  private context(n: TfNode, irName: string, g: Graph): TfOpContext {
    const root = this.graph;
    let emitted = 0;
    const missing = (name: string) =>
      new MconvError({ kind: 'unreadable', format: 'tf', where: `${irName} (${n.op})`, message: `attribute ${name} is missing` });
    const self = this;
    const ctx: TfOpContext = {
      graph: g,
      node: n,
      irName,
      tfGraph: this.tf,
      fn: (name) => self.fns.get(name),
      attr: (name) => n.attr[name],
      int: (name, def) => n.attr[name]?.i ?? def ?? (() => { throw missing(name); })(),
      float: (name, def) => n.attr[name]?.f ?? def ?? (() => { throw missing(name); })(),
      bool: (name, def) => n.attr[name]?.b ?? def ?? (() => { throw missing(name); })(),
      str: (name, def) => {
        const s = n.attr[name]?.s;
        if (s) return new TextDecoder().decode(s);
        if (def !== undefined) return def;
        throw missing(name);
      },
      ints: (name, def) => n.attr[name]?.list?.i ?? def ?? (() => { throw missing(name); })(),
      dtype: (name, def) => {
        const t = n.attr[name]?.type;
        if (t === undefined) {
          if (def) return def;
          throw missing(name);
        }
        const d = irDType(t);
        if (!d) throw ctx.unsupported(`type ${TF_DTYPE_NAMES[t] ?? t}`);
        return d;
      },
      constant: (v) => constantOf(v),
      requireConstant: (v, what) => {
        const t = constantOf(v);
        if (t) return t;
        throw new MconvError({
          kind: 'unsupported', format: 'tf', where: `${irName} (${n.op})`,
          message: `${what} must be a constant (it is computed in the graph)`,
          hint: 'freeze the graph, or give fixed input shapes with --input-shape so that it folds',
        });
      },
      initializer: (suffix, t) => root.addInitializer(root.uniqueValueName(`${irName}/${suffix}`), t),
      ints64: (suffix, values, shape) => ctx.initializer(suffix, Tensor.fromArray('int64', shape ?? [values.length], values.map((x) => BigInt(x)))),
      floats32: (suffix, values, shape) => ctx.initializer(suffix, Tensor.fromArray('float32', shape ?? [values.length], values)),
      emit: (op: string, inputs: (Value | null)[], attrs: Attrs = {}, outputs = 1, suffix?: string) => {
        const name = suffix === undefined && emitted === 0 ? irName : `${irName}/${suffix ?? op}`;
        emitted++;
        const node = g.addNode(op, inputs, outputs, attrs, name);
        node.meta.tfNode = n.name;
        typeOutputs(node);
        return node.outputs;
      },
      toChannelsFirst: (v, rank) => ctx.emit('Transpose', [v], { perm: attr.ints([0, rank - 1, ...range(1, rank - 1)]) }, 1, 'to_channels_first')[0]!,
      toChannelsLast: (v, rank) => ctx.emit('Transpose', [v], { perm: attr.ints([0, ...range(2, rank), 1]) }, 1, 'to_channels_last')[0]!,
      unsupported: (what) => new MconvError({ kind: 'unsupported', format: 'tf', where: `${irName} (${n.op})`, message: `${n.op}: ${what} is not supported` }),
    };
    return ctx;
  }
}

function range(from: number, to: number): number[] {
  return Array.from({ length: Math.max(0, to - from) }, (_, i) => from + i);
}

/** Fills a new node's output dtypes and shapes from its inputs (best effort). */
function typeOutputs(node: Node): void {
  try {
    const types = inferNode(node);
    node.outputs.forEach((o, i) => {
      const t = types[i];
      if (!t) return;
      if (t.dtype && !o.dtype) o.dtype = t.dtype;
      if (t.shape && !o.shape) o.shape = t.shape.slice();
    });
  } catch {
    // Left untyped: the full inference after import reports real problems.
  }
}

/** The constant a value holds: an initializer, or the static shape a Shape node reads. */
function constantOf(v: Value): Tensor | undefined {
  if (v.initializer) return v.initializer;
  const p = v.producer;
  if (!p) return undefined;
  if (p.op === 'Identity' && p.inputs[0]) return constantOf(p.inputs[0]);
  if (p.op === 'Shape' && p.inputs[0]?.shape && p.inputs[0].shape.every((d) => typeof d === 'number') && !p.attrs['start'] && !p.attrs['end']) {
    const s = p.inputs[0].shape as number[];
    return Tensor.fromArray('int64', [s.length], s.map((d) => BigInt(d)));
  }
  if (p.op === 'Cast' && p.inputs[0]) {
    const c = constantOf(p.inputs[0]);
    const to = v.dtype;
    if (c && to && (to === 'int32' || to === 'int64') && (c.dtype === 'int32' || c.dtype === 'int64') && c.size <= 64) {
      const vals = Array.from(c.toArray() as ArrayLike<number | bigint>, Number);
      return Tensor.fromArray(to, c.shape.slice(), to === 'int64' ? vals.map((x) => BigInt(x)) : vals);
    }
  }
  return undefined;
}

/** TF graph -> IR graph (ONNX semantics, TF layouts kept between ops; run the passes after). */
export function importTfGraph(tf: TfGraph, options: TfImportOptions = {}): Graph {
  const graph = new Importer(hasTf1ControlFlow(tf) ? functionalizeTf1ControlFlow(tf) : tf, options).run();
  // Nodes were typed one by one as they were made; values after a sequence (TensorList) or a
  // Loop/If need the whole-graph pass, which follows sequence types through subgraphs.
  const hasSubgraphs = graph.nodes.some((n) => n.op === 'Loop' || n.op === 'If' || n.op.startsWith('Sequence') || n.op.endsWith('Sequence'));
  // Recorded shapes of node outputs are dropped: inside loops they hold stand-in symbols where
  // the whole-graph pass finds the real dims (the batch of a loop's initial state).
  if (hasSubgraphs) inferShapes(graph, { reset: true });
  return graph;
}

export type { TfAttr };
