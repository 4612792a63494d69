/**
 * ONNX types the IR's Value (dtype + shape) cannot hold: sequences, maps, optionals and sparse
 * tensors. The reader records them here so the writer can write them back unchanged.
 */
import type { Value } from '../../ir/graph.js';
import type { TypeP } from './proto.js';

const nonTensorTypes = new WeakMap<Value, TypeP>();

export function setOnnxType(v: Value, t: TypeP): void {
  nonTensorTypes.set(v, t);
}

/** The recorded non-tensor ONNX type of a value, if any. */
export function onnxTypeOf(v: Value): TypeP | undefined {
  return nonTensorTypes.get(v);
}
