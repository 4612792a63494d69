/**
 * Op schemas: the inputs, outputs and attributes of an op (in ONNX opset 17 semantics for the
 * default domain) and its shape/dtype inference rule.
 *
 * Schemas are written with a compact notation (`defineOp`): inputs and outputs are names with a
 * suffix, `X` (required), `B?` (optional), `inputs...` (variadic, at least one), `v?...`
 * (variadic, possibly none); attributes are built with `a.int(1)`, `a.floats()`,
 * `a.req.string()` (required), ...
 */
import type { Attr, Graph, Node } from '../graph.js';
import type { DType, Dim, Shape, Tensor } from '../tensor.js';

export type AttrKind = Attr['kind'];

export type OpFamily =
  | 'elementwise' | 'nn' | 'shape' | 'reduce' | 'rnn' | 'control' | 'misc' | 'sequence' | 'text' | 'signal' | 'training';

export interface ParamSpec {
  name: string;
  optional: boolean;
  variadic: boolean;
  /** Minimum count of a variadic parameter (0 or 1). */
  minArity: number;
}

export type AttrDefault = number | string | number[] | string[];

export interface AttrSpec {
  name: string;
  kind: AttrKind;
  required: boolean;
  /** The value used when the attribute is absent (undefined: no default, the attribute is optional). */
  default?: AttrDefault;
}

/** What inference knows about a value. Any field may be unknown. */
export interface ValueType {
  dtype?: DType;
  /** Undefined: unknown rank. Dims are numbers or symbolic names. */
  shape?: Shape;
  /**
   * For small integer tensors of rank 0 or 1 (shape computations): the known content, flattened.
   * Numbers are exact values, strings are symbolic dims (`Shape(x)` of a symbolic shape).
   */
  value?: Dim[];
  /**
   * Set when the value is an ONNX sequence (seq(tensor)) rather than a tensor: then `dtype` and
   * `shape` stay undefined (a Value holds tensor types only) and this describes the elements.
   */
  sequence?: SequenceType;
}

/** What inference knows about a sequence value. */
export interface SequenceType {
  /**
   * The type all elements share: their dtype, and their shape where known (a dim that differs
   * between elements is the symbol `VARYING_DIM`; an undefined shape means unknown rank).
   */
  elem: ValueType;
  /** Every element in order, when the length and order are known statically. */
  items?: ValueType[];
}

/** Marks a dim of `SequenceType.elem` that is not the same for every element of the sequence. */
export const VARYING_DIM = '?';

/** Thrown by inference rules when a node's inputs contradict the op (bad broadcast, bad rank). */
export class InferError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InferError';
  }
}

/** What an inference rule sees: the node, its input types and constant inputs, attributes with defaults. */
export interface InferContext {
  readonly node: Node;
  readonly schema: OpSchema;
  /** Number of input slots the node has (absent optional inputs included). */
  readonly inputCount: number;
  /** Number of outputs the node has. */
  readonly outputCount: number;
  /** True when input i is present (not omitted). */
  has(i: number): boolean;
  /** True when output i is present (wired to a value with a non-empty name). */
  hasOutput(i: number): boolean;
  type(i: number): ValueType;
  dtype(i: number): DType | undefined;
  shape(i: number): Shape | undefined;
  rank(i: number): number | undefined;
  /** The constant content of input i: an initializer, a Constant node's value, or a provided input value. */
  tensor(i: number): Tensor | undefined;
  /** Input i's content as integers, when constant or propagated with no symbolic element. */
  ints(i: number): number[] | undefined;
  /** Input i's content as floats, when constant. */
  floats(i: number): number[] | undefined;
  /** Input i's content as dims (numbers and symbolic names), when known. */
  dims(i: number): Dim[] | undefined;
  hasAttr(name: string): boolean;
  attrInt(name: string): number | undefined;
  attrFloat(name: string): number | undefined;
  attrString(name: string): string | undefined;
  attrInts(name: string): number[] | undefined;
  attrFloats(name: string): number[] | undefined;
  attrStrings(name: string): string[] | undefined;
  attrTensor(name: string): Tensor | undefined;
  attrGraph(name: string): Graph | undefined;
  /** A fresh symbolic dim for dimension `dim` of output `out` (`<node>_dim0`, `<node>_out1_dim0`). */
  sym(out: number, dim: number, tag?: string): string;
  /** A shape of the given rank made only of fresh symbols. */
  symShape(out: number, rank: number): Shape;
  /** Aborts the rule with a message (the engine records it and leaves the outputs unknown). */
  fail(message: string): never;
  /** Infers a subgraph given the types of its formal inputs; returns its output types. */
  subgraph(graph: Graph, inputTypes: (ValueType | undefined)[]): ValueType[];
}

export type InferRule = (ctx: InferContext) => (ValueType | undefined)[];

export interface OpSchema {
  op: string;
  domain: string;
  /** The opset version that introduced this definition of the op. */
  since: number;
  family: OpFamily;
  inputs: ParamSpec[];
  outputs: ParamSpec[];
  attrs: AttrSpec[];
  infer: InferRule;
  /** Accepted for older opsets (attribute forms of inputs) and tolerated by validation. */
  legacyAttrs?: string[];
  /** Extra trailing inputs accepted for newer opsets (tolerated by validation). */
  extraInputs?: number;
}

/** Parses `X`, `B?`, `inputs...`, `v?...` into a parameter spec. */
export function param(text: string): ParamSpec {
  let name = text;
  let variadic = false;
  let optional = false;
  if (name.endsWith('...')) {
    variadic = true;
    name = name.slice(0, -3);
  }
  if (name.endsWith('?')) {
    optional = true;
    name = name.slice(0, -1);
  }
  return { name, optional: optional && !variadic, variadic, minArity: variadic ? (optional ? 0 : 1) : optional ? 0 : 1 };
}

type AttrMaker = (dflt?: AttrDefault) => Omit<AttrSpec, 'name'>;
function maker(kind: AttrKind, required: boolean): AttrMaker {
  return (dflt) => ({ kind, required, default: dflt });
}

/** Attribute spec builders: `a.int(1)`, `a.req.ints()`. */
export const a = {
  int: maker('int', false) as (d?: number) => Omit<AttrSpec, 'name'>,
  float: maker('float', false) as (d?: number) => Omit<AttrSpec, 'name'>,
  string: maker('string', false) as (d?: string) => Omit<AttrSpec, 'name'>,
  ints: maker('ints', false) as (d?: number[]) => Omit<AttrSpec, 'name'>,
  floats: maker('floats', false) as (d?: number[]) => Omit<AttrSpec, 'name'>,
  strings: maker('strings', false) as (d?: string[]) => Omit<AttrSpec, 'name'>,
  tensor: maker('tensor', false) as () => Omit<AttrSpec, 'name'>,
  graph: maker('graph', false) as () => Omit<AttrSpec, 'name'>,
  req: {
    int: maker('int', true) as () => Omit<AttrSpec, 'name'>,
    float: maker('float', true) as () => Omit<AttrSpec, 'name'>,
    string: maker('string', true) as () => Omit<AttrSpec, 'name'>,
    ints: maker('ints', true) as () => Omit<AttrSpec, 'name'>,
    graph: maker('graph', true) as () => Omit<AttrSpec, 'name'>,
  },
};

export interface OpDef {
  op: string;
  since: number;
  domain?: string;
  inputs: string[];
  outputs: string[];
  attrs?: Record<string, Omit<AttrSpec, 'name'>>;
  infer: InferRule;
  legacyAttrs?: string[];
  extraInputs?: number;
}

/** Builds schemas of one family from compact definitions. */
export function defineOps(family: OpFamily, defs: OpDef[]): OpSchema[] {
  return defs.map((d) => ({
    op: d.op,
    domain: d.domain ?? '',
    since: d.since,
    family,
    inputs: d.inputs.map(param),
    outputs: d.outputs.map(param),
    attrs: Object.entries(d.attrs ?? {}).map(([name, s]) => ({ name, ...s })),
    infer: d.infer,
    legacyAttrs: d.legacyAttrs,
    extraInputs: d.extraInputs,
  }));
}

/** The smallest and largest number of inputs (or outputs) a schema accepts (Infinity for variadic). */
export function arity(params: ParamSpec[]): { min: number; max: number } {
  let min = 0;
  let max = 0;
  params.forEach((p, i) => {
    if (p.variadic) {
      max = Infinity;
      min = i + p.minArity;
    } else {
      max++;
      if (!p.optional) min = i + 1;
    }
  });
  return { min, max };
}
