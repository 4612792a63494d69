/**
 * The contract between the session and the op kernels.
 *
 * Runtime values carry a tfjs tensor plus the ONNX dtype it stands for: tfjs computes
 * in float32/int32/bool/string, so float64/float16 travel as float32 and every integer
 * type as int32 (int64 values are saturated to the int32 range when they enter).
 * A kernel returns values with the dtype ONNX says its outputs have.
 */
import type * as tfc from '@tensorflow/tfjs-core';
import type { Node } from '../../ir/graph.js';
import type { DType } from '../../ir/tensor.js';

export type TF = typeof tfc;

export interface RT {
  t: tfc.Tensor;
  dtype: DType;
  /**
   * Set on values of ONNX sequence type: the elements, each owning its own tensor handle
   * (a `tf.clone`, so no two sequences share a handle). `t` is then an empty placeholder
   * owned by the sequence value and `dtype` is the element type.
   */
  seq?: RT[];
}

/** Disposes a runtime value: its tensor and, for a sequence, every element it owns. */
export function disposeRT(r: RT): void {
  if (r.seq) for (const e of r.seq) disposeRT(e);
  if (!r.t.isDisposed) r.t.dispose();
}

export interface KernelContext {
  /** The tfjs namespace (tfjs-core with the active backend). */
  tf: TF;
  node: Node;
  /** Inputs by position; undefined for an omitted optional input. */
  inputs: (RT | undefined)[];
  /** Name of the active backend ('wasm', 'cpu', 'webgpu', 'tensorflow'). */
  backend: string;
  /** Runs a subgraph (If/Loop/Scan bodies) with the given named inputs; outer values are visible. */
  runSubgraph(graph: import('../../ir/graph.js').Graph, inputs: Map<string, RT>): Promise<RT[]>;
}

export interface KernelDef {
  /** Returns a reason when this node cannot run (checked for every node before any work). */
  check?(node: Node): string | undefined;
  run(ctx: KernelContext): RT[] | Promise<RT[]>;
}

export type KernelTable = Record<string, KernelDef>;
