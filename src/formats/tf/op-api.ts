/**
 * The contract between the TF graph importer (`import-graph.ts`, which walks the TfGraph, owns
 * the IR graph and resolves inputs) and the op converters (`ops/<family>.ts`, one function per
 * TF op name, registered with `registerTfOp`).
 *
 * Values passed between converters keep TF's layout and shapes (NHWC where the TF op had
 * `data_format: NHWC`). A converter that maps to a channels-first ONNX op wraps it in Transposes
 * (`ctx.toChannelsFirst` / `ctx.toChannelsLast`); the transpose-cancelling pass removes the pairs
 * between layers.
 */
import type { Attrs, Graph, Value } from '../../ir/graph.js';
import type { DType, Tensor } from '../../ir/tensor.js';
import type { TfAttr, TfGraph, TfNode, TfFunction } from './tf-graph.js';

export interface TfOpContext {
  graph: Graph;
  /** The TF node being converted. */
  node: TfNode;
  /** The IR name of the node `emit` makes first (other names derive from it). */
  irName: string;
  /** The whole TF graph (for function libraries: StatelessWhile/If bodies). */
  tfGraph: TfGraph;
  /** A function of the library by name, or undefined. */
  fn(name: string): TfFunction | undefined;

  /** Attribute access; `def` is returned when absent, otherwise a missing attr is an error naming node and attr. */
  attr(name: string): TfAttr | undefined;
  int(name: string, def?: number): number;
  float(name: string, def?: number): number;
  bool(name: string, def?: boolean): boolean;
  /** A string attribute (bytes decoded as UTF-8), e.g. `padding`, `data_format`. */
  str(name: string, def?: string): string;
  ints(name: string, def?: number[]): number[];
  /** A `type` attribute as an IR dtype (error if TF's type has no IR counterpart). */
  dtype(name: string, def?: DType): DType;

  /** The constant value feeding a Value, if it is an initializer or folds to one (Const, Identity of Const, Shape of a static shape). */
  constant(v: Value): Tensor | undefined;
  /** Like `constant` but an error naming the node and input index when the input is not constant. */
  requireConstant(v: Value, what: string): Tensor;
  /** A new initializer under the node's name (e.g. `<node>/axes`). */
  initializer(suffix: string, t: Tensor): Value;
  /** Shorthands for small constant initializers. */
  ints64(suffix: string, values: number[], shape?: number[]): Value;
  floats32(suffix: string, values: number[], shape?: number[]): Value;

  /**
   * Adds an IR node named `<tf node name>` (first call) or `<tf node name>/<suffix>`; the node
   * records the TF node in `meta.tfNode`. Returns its outputs (`outputs` of them, default 1).
   */
  emit(op: string, inputs: (Value | null)[], attrs?: Attrs, outputs?: number, suffix?: string): Value[];

  /** Transposes an NHWC-style value (rank 3..5) to channels-first, and back. */
  toChannelsFirst(v: Value, rank: number): Value;
  toChannelsLast(v: Value, rank: number): Value;

  /** An error (MconvError, kind unsupported) naming the node, its op and what is not supported. */
  unsupported(what: string): Error;
}

/**
 * Converts one TF node: `inputs` are its data inputs (control inputs dropped) in order.
 * Returns one Value per TF output port (port i = index i), for the ports that exist.
 */
export type TfOpConverter = (ctx: TfOpContext, inputs: Value[]) => Value[];

const converters = new Map<string, TfOpConverter>();

/** Registers (or replaces) the converter for a TF op name. Also public API for user-supplied ops. */
export function registerTfOp(op: string, converter: TfOpConverter): void {
  converters.set(op, converter);
}

export function tfOpConverter(op: string): TfOpConverter | undefined {
  return converters.get(op);
}

export function registeredTfOps(): string[] {
  return [...converters.keys()].sort();
}
