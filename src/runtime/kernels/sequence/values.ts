/**
 * Runtime values of ONNX sequence type.
 *
 * A sequence is an RT whose `seq` holds the elements and whose `t` is an empty placeholder
 * tensor. Every element handle belongs to exactly one sequence: tensors that move into or out
 * of a sequence are `tf.clone`d (a clone shares the data and is reference counted by tfjs), so
 * disposing one sequence, or a tensor taken out of it, never frees data another value uses.
 */
import type { Node } from '../../../ir/graph.js';
import type { DType } from '../../../ir/tensor.js';
import type { RT, TF } from '../types.js';
import { nodeError, scalarOf } from '../math/util.js';

/** A new sequence value owning `elements` (which the caller hands over, already cloned). */
export function makeSequence(tf: TF, elements: RT[], dtype: DType): RT {
  return { t: tf.zeros([0], 'float32'), dtype, seq: elements };
}

/** A handle of its own on the same data (cheap: tfjs shares and reference-counts the data). */
export function cloneElement(tf: TF, r: RT): RT {
  if (r.seq) throw new Error('a sequence cannot be an element of a sequence here');
  return { t: tf.clone(r.t), dtype: r.dtype };
}

/**
 * A copy of any runtime value that the caller owns: a tensor clone, or a new sequence holding
 * clones of the elements (for kernels that pass values through, like Identity, If and Loop).
 */
export function cloneValue(tf: TF, r: RT): RT {
  if (r.seq) return makeSequence(tf, r.seq.map((e) => cloneValue(tf, e)), r.dtype);
  return { t: tf.clone(r.t), dtype: r.dtype };
}

/** The elements of input `i`, which must be a sequence. */
export function sequenceInput(node: Node, inputs: (RT | undefined)[], i: number): { value: RT; elements: RT[] } {
  const r = inputs[i];
  if (!r) throw nodeError(node, `required sequence input ${i} is missing`);
  if (!r.seq) throw nodeError(node, `input ${i} must be a sequence, it is a ${r.dtype} tensor of shape [${r.t.shape.join(', ')}]`);
  return { value: r, elements: r.seq };
}

/** Input `i`, which must be a tensor (not a sequence). */
export function tensorInput(node: Node, inputs: (RT | undefined)[], i: number): RT {
  const r = inputs[i];
  if (!r) throw nodeError(node, `required tensor input ${i} is missing`);
  if (r.seq) throw nodeError(node, `input ${i} must be a tensor, it is a sequence`);
  return r;
}

/**
 * A position input (int32/int64 scalar) checked against [-n, n-1], or [-n, n] when
 * `allowEnd` (insertion); negative positions count from the back. Returns it in [0, n].
 */
export function positionOf(node: Node, r: RT, n: number, allowEnd: boolean): number {
  if (r.dtype !== 'int32' && r.dtype !== 'int64') throw nodeError(node, `position must be int32 or int64, it is ${r.dtype}`);
  const p = scalarOf(r, node, 'position');
  const hi = allowEnd ? n : n - 1;
  if (p < -n || p > hi) throw nodeError(node, `position ${p} is out of range [${-n}, ${hi}] for a sequence of ${n} tensors`);
  return p < 0 ? p + n : p;
}
