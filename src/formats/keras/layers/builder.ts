/**
 * A small helper around a LayerContext that the layer converters share: emits nodes (and
 * infers their output types so later layers can read ranks), makes typed constants, reads
 * config values in both Keras 2 and Keras 3 spellings, and raises `unsupported` errors that
 * name the layer, its class and the config value.
 */
import { attr, type Attrs, type Value } from '../../../ir/graph.js';
import { inferNode } from '../../../ir/infer.js';
import { Tensor, type DType, type Dim, type Shape } from '../../../ir/tensor.js';
import { MconvError } from '../../../errors.js';
import type { KerasLayerConfig, LayerContext } from '../layer-api.js';

export type Config = Record<string, unknown>;

/** An error for a layer config value the converters cannot handle. */
export function layerUnsupported(ctx: LayerContext, what: string, hint?: string): MconvError {
  return new MconvError({
    kind: 'unsupported',
    format: 'keras',
    where: ctx.name,
    message: `Keras layer '${ctx.name}' (${ctx.layer.class_name}): ${what}`,
    hint: hint ?? 'this layer configuration has no converter; register your own with registerKerasLayer()',
  });
}

export class LayerBuilder {
  readonly ctx: LayerContext;
  readonly cfg: Config;

  constructor(ctx: LayerContext) {
    this.ctx = ctx;
    this.cfg = (ctx.layer.config ?? {}) as Config;
  }

  get name(): string {
    return this.ctx.name;
  }
  get className(): string {
    return this.ctx.layer.class_name;
  }

  /** Keras major version (2 unless the file says 3.x). */
  get kerasMajor(): number {
    const v = this.ctx.kerasVersion ?? '';
    const m = /^(\d+)\./.exec(v);
    return m ? Number(m[1]) : 2;
  }

  fail(what: string, hint?: string): MconvError {
    return layerUnsupported(this.ctx, what, hint);
  }

  // ---- config readers -------------------------------------------------------------------

  has(key: string): boolean {
    return this.cfg[key] !== undefined && this.cfg[key] !== null;
  }

  raw(key: string): unknown {
    return this.cfg[key];
  }

  str(key: string, dflt: string): string {
    const v = this.cfg[key];
    if (v === undefined || v === null) return dflt;
    if (typeof v !== 'string') throw this.fail(`config ${key} = ${JSON.stringify(v)} is not a string`);
    return v;
  }

  num(key: string, dflt: number): number {
    const v = this.cfg[key];
    if (v === undefined || v === null) return dflt;
    if (typeof v !== 'number') throw this.fail(`config ${key} = ${JSON.stringify(v)} is not a number`);
    return v;
  }

  bool(key: string, dflt: boolean): boolean {
    const v = this.cfg[key];
    if (v === undefined || v === null) return dflt;
    return !!v;
  }

  /** An int or a tuple of `n` ints (Keras `kernel_size=3` or `[3, 3]`). */
  tuple(key: string, n: number, dflt: number | number[]): number[] {
    let v = this.cfg[key];
    if (v === undefined || v === null) v = dflt;
    if (typeof v === 'number') return Array.from({ length: n }, () => v as number);
    if (Array.isArray(v) && v.length === n && v.every((x) => typeof x === 'number')) return v as number[];
    if (Array.isArray(v) && v.length === 1 && typeof v[0] === 'number') return Array.from({ length: n }, () => v[0] as number);
    throw this.fail(`config ${key} = ${JSON.stringify(v)} is not an int or a tuple of ${n} ints`);
  }

  /** channels_last (default) or channels_first; anything else is refused. */
  dataFormat(): 'channels_last' | 'channels_first' {
    const f = this.str('data_format', 'channels_last');
    if (f !== 'channels_last' && f !== 'channels_first') throw this.fail(`data_format '${f}' is not supported`);
    return f;
  }

  // ---- weights ------------------------------------------------------------------------------

  /**
   * The index of a weight by its base name (`kernel`, `gamma`, ...) or, when the file's names
   * do not say (Keras 3 `.keras` stores `vars/0`), by its position in Keras order.
   */
  weightIndex(base: string, position: number): number {
    const names = this.ctx.weightNames.map(baseWeightName);
    const byName = names.indexOf(base);
    if (byName >= 0) return byName;
    if (position < this.ctx.weights.length) return position;
    throw this.fail(`weight '${base}' is missing (the file gives ${this.ctx.weights.length} weights: ${this.ctx.weightNames.join(', ') || 'none'})`, 'the weights file does not match the layer config');
  }

  /** Like weightIndex, but undefined when the weight is absent. */
  weightIndexSafe(base: string, position: number): number | undefined {
    const byName = this.ctx.weightNames.map(baseWeightName).indexOf(base);
    if (byName >= 0) return byName;
    return position < this.ctx.weights.length ? position : undefined;
  }

  weightTensor(base: string, position: number): Tensor {
    return this.ctx.weights[this.weightIndex(base, position)]!;
  }

  weight(base: string, position: number): Value {
    return this.ctx.weight(this.weightIndex(base, position));
  }

  /**
   * A name for a constant derived from weight `i`: the weight's name below the layer plus a
   * suffix (`conv2d/kernel:0` -> `kernel_oihw`; the context puts it under the layer's name).
   */
  derivedName(i: number, suffix: string): string {
    const n = this.ctx.weightNames[i];
    let base = n ? stripWeightName(n) : `w${i}`;
    const prefix = `${this.ctx.name}/`;
    while (base.startsWith(prefix)) base = base.slice(prefix.length);
    return `${base}_${suffix}`;
  }

  expectWeights(n: number): void {
    if (this.ctx.weights.length < n) {
      throw this.fail(`expected ${n} weights, the file gives ${this.ctx.weights.length}`, 'the weights file does not match the layer config');
    }
  }

  // ---- nodes and constants --------------------------------------------------------------

  /** Emits one node and returns its outputs (with dtype/shape inferred where possible). */
  nodes(op: string, inputs: (Value | null)[], attrs: Attrs = {}, outputs = 1, suffix?: string): Value[] {
    const outs = this.ctx.node(op, inputs, attrs, outputs, suffix);
    fillTypes(outs);
    return outs;
  }

  op(op: string, inputs: (Value | null)[], attrs: Attrs = {}, suffix?: string): Value {
    return this.nodes(op, inputs, attrs, 1, suffix)[0]!;
  }

  /** A constant of int64 values (shape [n], or a scalar when `scalar`). */
  ints(name: string, values: number[], scalar = false): Value {
    return this.ctx.constant(name, Tensor.fromArray('int64', scalar ? [] : [values.length], values));
  }

  /** A float constant of the given dtype (default float32). */
  floats(name: string, values: ArrayLike<number>, shape: number[] = [values.length], dtype: DType = 'float32'): Value {
    return this.ctx.constant(name, Tensor.fromArray(floatDType(dtype), shape, values));
  }

  scalar(name: string, value: number, like?: Value): Value {
    return this.floats(name, [value], [], floatDType(like?.dtype));
  }

  transpose(x: Value, perm: number[], suffix?: string): Value {
    if (perm.every((p, i) => p === i)) return x;
    return this.op('Transpose', [x], { perm: attr.ints(perm) }, suffix);
  }

  reshape(x: Value, shape: number[], suffix?: string): Value {
    return this.op('Reshape', [x, this.ints(`${suffix ?? 'reshape'}_shape`, shape)], {}, suffix);
  }

  unsqueeze(x: Value, axes: number[], suffix?: string): Value {
    return this.op('Unsqueeze', [x, this.ints(`${suffix ?? 'unsqueeze'}_axes`, axes)], {}, suffix);
  }

  squeeze(x: Value, axes: number[], suffix?: string): Value {
    return this.op('Squeeze', [x, this.ints(`${suffix ?? 'squeeze'}_axes`, axes)], {}, suffix);
  }

  slice(x: Value, starts: number[], ends: number[], axes: number[], steps?: number[], suffix?: string): Value {
    const ins = [x, this.ints(`${suffix ?? 'slice'}_starts`, starts), this.ints(`${suffix ?? 'slice'}_ends`, ends), this.ints(`${suffix ?? 'slice'}_axes`, axes)];
    if (steps) ins.push(this.ints(`${suffix ?? 'slice'}_steps`, steps));
    return this.op('Slice', ins, {}, suffix);
  }

  /** Rank of a value, or a clear error when it is unknown. */
  rank(x: Value, why = 'this layer'): number {
    const r = x.shape?.length;
    if (r === undefined) throw this.fail(`the rank of input '${x.name}' is unknown and ${why} needs it`, 'give the model input a shape (batch_input_shape)');
    return r;
  }

  /** A static dim of x, or undefined when unknown/symbolic. */
  dim(x: Value, axis: number): number | undefined {
    const s = x.shape;
    if (!s) return undefined;
    const d = s[axis < 0 ? s.length + axis : axis];
    return typeof d === 'number' ? d : undefined;
  }

  staticDim(x: Value, axis: number, why: string): number {
    const d = this.dim(x, axis);
    if (d === undefined) throw this.fail(`dimension ${axis} of input '${x.name}' is not static and ${why} needs it`, 'give the model input a fully defined shape (except the batch)');
    return d;
  }
}

function floatDType(d: DType | undefined): DType {
  return d === 'float16' || d === 'float64' || d === 'bfloat16' ? d : 'float32';
}

/** Fills dtype/shape of freshly emitted outputs from the op's inference rule (best effort). */
export function fillTypes(outs: Value[]): void {
  const node = outs[0]?.producer;
  if (!node || outs.every((o) => o.shape && o.dtype)) return;
  try {
    const types = inferNode(node);
    outs.forEach((o, i) => {
      const t = types[i];
      if (!t) return;
      if (!o.dtype && t.dtype) o.dtype = t.dtype;
      if (!o.shape && t.shape) o.shape = t.shape.slice();
    });
  } catch {
    // Unknown input types: later layers fall back to what they can do without shapes.
  }
}

/** `dense_1/kernel:0` -> `kernel`; `layers/dense/vars/0` -> `0`. */
export function baseWeightName(n: string): string {
  const s = stripWeightName(n);
  const i = s.lastIndexOf('/');
  return i >= 0 ? s.slice(i + 1) : s;
}

/** Drops the `:0` suffix TF adds to variable names. */
export function stripWeightName(n: string): string {
  return n.replace(/:\d+$/, '');
}

/** Normalises a (possibly negative) axis against a rank. */
export function normAxis(axis: number, rank: number): number {
  return axis < 0 ? axis + rank : axis;
}

/** A Keras shape tuple (null for unknown) from a config value. */
export function configShape(v: unknown): (number | null)[] | undefined {
  if (!Array.isArray(v)) return undefined;
  return v.map((d) => (typeof d === 'number' ? d : null));
}

export function sameShape(a: Shape | undefined, b: Dim[]): boolean {
  return !!a && a.length === b.length && a.every((d, i) => d === b[i]);
}

/** The class name of a nested layer config (`{class_name, config}`), as given. */
export function nestedLayer(v: unknown): KerasLayerConfig | undefined {
  if (!v || typeof v !== 'object') return undefined;
  const o = v as Record<string, unknown>;
  if (typeof o.class_name !== 'string' || !o.config || typeof o.config !== 'object') return undefined;
  return o as unknown as KerasLayerConfig;
}

/**
 * A copy of a LayerContext with some members replaced. Built member by member (not spread)
 * because a reader's context may be a class instance whose methods live on its prototype.
 */
export function deriveContext(ctx: LayerContext, over: Partial<LayerContext>): LayerContext {
  return {
    graph: over.graph ?? ctx.graph,
    layer: over.layer ?? ctx.layer,
    name: over.name ?? ctx.name,
    weights: over.weights ?? ctx.weights,
    weightNames: over.weightNames ?? ctx.weightNames,
    kerasVersion: over.kerasVersion ?? ctx.kerasVersion,
    weight: over.weight ?? ((i) => ctx.weight(i)),
    constant: over.constant ?? ((n, t) => ctx.constant(n, t)),
    node: over.node ?? ((op, inputs, attrs, outputs, suffix) => ctx.node(op, inputs, attrs, outputs, suffix)),
  };
}
