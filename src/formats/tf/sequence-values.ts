/**
 * TensorFlow TensorLists (DT_VARIANT handles of TensorListReserve, TensorListFromTensor, ...) are
 * ONNX sequences in the IR. A Value holds tensor types only, so a sequence value keeps `dtype`
 * undefined and its ONNX type (seq(tensor(elem))) is recorded beside it, for the ONNX writer
 * (Loop/If bodies must declare the types of their inputs and outputs) and for the importer,
 * which types loop-carried lists from their initial value.
 */
import type { Value } from '../../ir/graph.js';
import type { DType } from '../../ir/tensor.js';
import { onnxTypeOf, setOnnxType } from '../onnx/value-types.js';
import { dtypeFromOnnx, onnxFromDtype } from '../onnx/tensor-proto.js';

/** Records that `v` is a sequence of `elem` tensors; returns `v`. */
export function markSequence(v: Value, elem: DType): Value {
  v.dtype = undefined;
  v.shape = undefined;
  setOnnxType(v, { sequenceType: { elemType: { tensorType: { elemType: onnxFromDtype(elem) } } } });
  return v;
}

/** The element dtype of a sequence value, or undefined when `v` is not a (known) sequence. */
export function sequenceElem(v: Value): DType | undefined {
  const code = onnxTypeOf(v)?.sequenceType?.elemType?.tensorType?.elemType;
  return code ? dtypeFromOnnx(code, `sequence ${v.name}`) : undefined;
}
