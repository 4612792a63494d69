/** Op schemas: the registry and the types and helpers to define more. */
export { getSchema, allSchemas, registerSchema } from './registry.js';
export {
  a as attrSpec, arity, defineOps, param, InferError,
  type AttrKind, type AttrSpec, type AttrDefault, type InferContext, type InferRule, type OpDef, type OpFamily,
  type OpSchema, type ParamSpec, type ValueType, type SequenceType, VARYING_DIM,
} from './schema.js';
export { TRAINING_DOMAIN } from './training.js';
export { ONNX_DTYPE_CODES, dtypeFromOnnxCode, broadcastShapes } from './helpers.js';
