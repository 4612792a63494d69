/**
 * Building TF graphs for `--to tfjs`: a scope is the main graph or one library function
 * (a While body or condition, an If branch). It names nodes uniquely, holds the TF tensor name
 * of each IR value it has written, writes constants as Const nodes with weights in the manifest
 * (inside a function under `<function>/<node>`, where tfjs-converter looks them up), and, in a
 * function, turns every value read from an enclosing graph into an extra argument (TF functions
 * cannot read the graph around them): the caller passes the captured values in.
 */
import { MconvError } from '../../errors.js';
import type { Graph, Node, Value } from '../../ir/graph.js';
import { Tensor, type DType } from '../../ir/tensor.js';
import { onnxTypeOf } from '../onnx/value-types.js';
import { dtypeFromOnnx } from '../onnx/tensor-proto.js';
import type { TfArgDef, TfAttr, TfFunction, TfNode } from '../tf/tf-graph.js';

/** TF DataType numbers of the types tfjs holds, and DT_VARIANT (TensorList handles). */
export const DT_FLOAT = 1;
export const DT_INT32 = 3;
export const DT_BOOL = 10;
export const DT_VARIANT = 21;

const TF_TYPE: Record<'float32' | 'int32' | 'bool', number> = { float32: DT_FLOAT, int32: DT_INT32, bool: DT_BOOL };

/** The TF-side dtype of an IR dtype (tfjs has no int64 or float64: narrowed, as tfjs would load them). */
export function tfjsDType(d: DType | undefined): 'float32' | 'int32' | 'bool' {
  if (d === 'bool') return 'bool';
  if (d === 'int32' || d === 'int64' || d === 'int8' || d === 'int16' || d === 'uint8' || d === 'uint16' || d === 'uint32') return 'int32';
  return 'float32';
}

export const a = {
  type: (d: DType | undefined): TfAttr => ({ type: TF_TYPE[tfjsDType(d)] }),
  dt: (t: number): TfAttr => ({ type: t }),
  types: (t: number[]): TfAttr => ({ list: { type: t } }),
  ints: (v: number[]): TfAttr => ({ list: { i: v } }),
  str: (v: string): TfAttr => ({ s: new TextEncoder().encode(v) }),
  bool: (v: boolean): TfAttr => ({ b: v }),
  float: (v: number): TfAttr => ({ f: v }),
  int: (v: number): TfAttr => ({ i: v }),
  shape: (s: number[] | null): TfAttr => ({ shape: s }),
  shapes: (s: (number[] | null)[]): TfAttr => ({ list: { shape: s } }),
  func: (name: string): TfAttr => ({ func: { name, attr: {} } }),
};

export function fail(node: Node, what: string, hint?: string): MconvError {
  return new MconvError({ kind: 'unsupported', format: 'tfjs', where: `${node.name} (${node.op})`, message: `cannot write ${node.op} as TF ops: ${what}`, hint });
}

/** The constant value of `v` (an initializer, a Constant node's output), if it has one. */
export function constOf(g: Graph | undefined, v: Value | null | undefined): Tensor | undefined {
  if (!v) return undefined;
  if (v.producer?.op === 'Constant') return v.producer.attrTensor('value');
  if (v.initializer) return v.initializer;
  if (v.producer) return undefined;
  return g?.resolve(v.name)?.initializer;
}

const SEQUENCE_OPS = new Set(['SequenceEmpty', 'SequenceConstruct', 'SequenceInsert', 'SequenceErase', 'SplitToSequence']);

/** True when `v` is an ONNX sequence (a TensorList handle on the TF side). */
export function isSequence(v: Value): boolean {
  if (onnxTypeOf(v)?.sequenceType) return true;
  return !v.dtype && !!v.producer && SEQUENCE_OPS.has(v.producer.op);
}

/** The element dtype of a sequence value, from its recorded type or the op that made it. */
export function sequenceElemType(v: Value, depth = 0): DType | undefined {
  const code = onnxTypeOf(v)?.sequenceType?.elemType?.tensorType?.elemType;
  if (code) return dtypeFromOnnx(code, `sequence ${v.name}`);
  const p = v.producer;
  if (!p || depth > 32) return undefined;
  if (p.op === 'SequenceEmpty') return dtypeFromOnnx(p.attrInt('dtype', 1), p.name);
  if (p.op === 'SplitToSequence' || p.op === 'SequenceConstruct') return p.inputs[0]?.dtype;
  if ((p.op === 'SequenceInsert' || p.op === 'SequenceErase') && p.inputs[0]) return sequenceElemType(p.inputs[0], depth + 1) ?? p.inputs[1]?.dtype;
  return undefined;
}

/** The TF type of an IR value: DT_VARIANT for sequences. */
export function tfTypeOf(v: Value): number {
  return isSequence(v) ? DT_VARIANT : TF_TYPE[tfjsDType(v.dtype)];
}

/** What the writer shares between scopes. */
export interface TfRoot {
  weights: { name: string; tensor: Tensor }[];
  weightNames: Set<string>;
  functions: TfFunction[];
  functionNames: Set<string>;
  /** Writes the nodes of `g` into scope `s` (the values of g's inputs already named there). */
  writeGraph(s: TfScope, g: Graph): void;
}

function cleanName(base: string): string {
  return base.replace(/[^A-Za-z0-9_.\-/]/g, '_').replace(/^[^A-Za-z0-9.]/, 'n');
}

const INT32_MAX = 2147483647;
const INT32_MIN = -2147483648;

/** Constants inside a function up to this size are written there; larger ones are passed in. */
const INLINE_CONST_SIZE = 16;

export class TfScope {
  readonly nodes: TfNode[] = [];
  private readonly used = new Set<string>();
  /** TF tensor name of each IR value written in (or passed into) this scope. */
  readonly names = new Map<Value, string>();
  /** The explicit arguments of a function scope, in order. */
  private readonly explicitArgs: TfArgDef[] = [];
  /** Outer values this function reads, with the argument that carries each. */
  readonly captures: { value: Value; arg: string; type: number }[] = [];
  /**
   * Tensors this function put into TensorLists. tfjs-converter disposes every tensor a function
   * computed but does not return when the function ends, including those a list holds: the
   * caller returns these as well (extra loop variables, extra If results).
   */
  readonly keepAlive: { ref: string; type: number }[] = [];

  /** `graph`: the IR graph whose values this scope writes; `fn`: the function name (none for the main graph). */
  constructor(readonly root: TfRoot, readonly graph: Graph | undefined, readonly fn?: string, readonly parent?: TfScope) {}

  /** A function scope with a name not used by another function. */
  static function(root: TfRoot, graph: Graph | undefined, base: string, parent: TfScope): TfScope {
    const clean = cleanName(base).replace(/\//g, '_');
    let n = clean;
    for (let i = 1; root.functionNames.has(n); i++) n = `${clean}_${i}`;
    root.functionNames.add(n);
    return new TfScope(root, graph, n, parent);
  }

  unique(base: string): string {
    const clean = cleanName(base);
    let n = clean;
    let i = 1;
    while (this.used.has(n)) n = `${clean}_${i++}`;
    this.used.add(n);
    return n;
  }

  node(op: string, name: string, inputs: string[], attr: Record<string, TfAttr> = {}): string {
    const n = this.unique(name);
    this.nodes.push({ name: n, op, inputs, attr });
    return n;
  }

  /** A Const node holding `t` (narrowed to a dtype tfjs holds; 64-bit integers clamped to int32). */
  const(name: string, t: Tensor): string {
    const d = tfjsDType(t.dtype);
    let value = t;
    if (t.dtype !== d) {
      const vals = Array.from(t.toArray() as ArrayLike<number | bigint | boolean>, (x) => Number(x));
      value = d === 'int32'
        ? Tensor.fromArray('int32', t.shape.slice(), Int32Array.from(vals, (x) => Math.max(INT32_MIN, Math.min(INT32_MAX, x))))
        : d === 'bool' ? Tensor.fromArray('bool', t.shape.slice(), Uint8Array.from(vals, (x) => (x ? 1 : 0)))
        : Tensor.fromArray('float32', t.shape.slice(), Float32Array.from(vals));
    }
    // Function Consts: `<function>/<node>`, the name tfjs-converter looks their weight up by; weight
    // names are unique over all scopes.
    const base = cleanName(this.fn ? `${this.fn}/${name}` : name);
    let n = base;
    for (let i = 1; this.used.has(n) || this.root.weightNames.has(n); i++) n = `${base}_${i}`;
    this.used.add(n);
    this.nodes.push({ name: n, op: 'Const', inputs: [], attr: { dtype: a.type(d) } });
    this.root.weightNames.add(n);
    this.root.weights.push({ name: n, tensor: value });
    return n;
  }

  ints(name: string, v: number[], shape = [v.length]): string {
    return this.const(name, Tensor.fromArray('int32', shape, v));
  }

  scalar(name: string, dtype: 'float32' | 'int32' | 'bool', v: number): string {
    return this.const(name, Tensor.fromArray(dtype, [], dtype === 'float32' ? [v] : dtype === 'int32' ? Int32Array.from([v]) : Uint8Array.from([v])));
  }

  /** Records that a list now holds tensor `ref` (in a function: see keepAlive). */
  holds(ref: string, type: number): void {
    if (this.fn && !this.keepAlive.some((k) => k.ref === ref)) this.keepAlive.push({ ref, type });
  }

  /** Adds an explicit argument (before the body is written); returns its name. */
  arg(name: string, type: number): string {
    const n = this.unique(name.replace(/\//g, '_'));
    this.explicitArgs.push({ name: n, type });
    return n;
  }

  /** True when `g` computes or holds `v` (an input, an initializer, a node output of g). */
  private owns(v: Value): boolean {
    const g = this.graph;
    if (!g) return false;
    return v.producer?.graph === g || g.initializers.get(v.name) === v || g.inputs.includes(v);
  }

  /** The TF tensor name of `v` in this scope (a constant is written here, an outer value becomes an argument). */
  ref(v: Value): string {
    const hit = this.names.get(v);
    if (hit !== undefined) return hit;
    // A subgraph may hold a same-named stand-in for an outer value.
    if (this.graph && !this.owns(v)) {
      const alt = this.graph.values.get(v.name);
      if (alt && alt !== v && this.owns(alt)) return this.ref(alt);
    }
    const t = constOf(this.graph, v);
    const own = this.owns(v);
    if (t && (!this.fn || own || t.size <= INLINE_CONST_SIZE)) {
      const n = this.const(v.name, t);
      this.names.set(v, n);
      return n;
    }
    if (!this.parent || own) {
      throw new MconvError({ kind: 'unsupported', format: 'tfjs', message: `value ${v.name} is read before it is computed` });
    }
    const type = tfTypeOf(v);
    const arg = this.unique(`captured_${v.name.replace(/\//g, '_')}`);
    this.captures.push({ value: v, arg, type });
    this.names.set(v, arg);
    return arg;
  }

  /** The argument list: explicit ones, then one per value of `order` (captures; unused placeholders for the others). */
  argsFor(order: Value[]): TfArgDef[] {
    const args = this.explicitArgs.slice();
    for (const v of order) {
      const c = this.captures.find((x) => x.value === v);
      args.push(c ? { name: c.arg, type: c.type } : { name: this.unique(`unused_${v.name.replace(/\//g, '_')}`), type: tfTypeOf(v) });
    }
    return args;
  }

  /** Finishes this function scope: its signature and results; adds it to the library. */
  finish(args: TfArgDef[], outs: { ref: string; type: number }[], where: Node): TfFunction {
    if (!this.fn) throw new Error('finish() on the main graph');
    const argNames = new Set(args.map((x) => x.name));
    const ret: Record<string, string> = {};
    // tfjs-converter keeps one output index per node of a function's results: a node returned
    // with two indices goes through an Identity for the second (TensorList handles cannot:
    // tfjs would return the same handle, so that is refused).
    const byNode = new Map<string, string>();
    const outputs = outs.map((o, k) => {
      const name = `output_${k}`;
      let r = o.ref;
      if (!argNames.has(r)) {
        const [node, idx = '0'] = r.split(':');
        const seen = byNode.get(node!);
        if (seen === undefined) byNode.set(node!, idx);
        else if (seen !== idx) {
          if (o.type === DT_VARIANT) throw fail(where, `two TensorList results of ${node} leave one function, which tfjs-converter cannot return`);
          r = this.node('Identity', `${name}_value`, [r], { T: a.dt(o.type) });
        }
      }
      ret[name] = r;
      return { name, type: o.type };
    });
    const fn: TfFunction = { name: this.fn, inputs: args, outputs, ret, nodes: this.nodes, attr: {} };
    this.root.functions.push(fn);
    return fn;
  }
}
