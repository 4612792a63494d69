/**
 * The public IR API: graph and tensor types, walking, editing, cloning, validation, shape
 * inference, op schemas and optimisation passes.
 */
export * from './tensor.js';
export * from './graph.js';
export {
  topologicalOrder, producers, consumers, findNodes, matchPattern, extractSubgraph, implicitInputs, soleConsumer,
  type PatternStep,
} from './walk.js';
export { replaceNode, insertAfter, removeNodeAndBypass, renameValue, type NodeSpec, type InsertOptions } from './edit.js';
export { cloneGraph, cloneModel, type CloneOptions } from './clone.js';
export { validateGraph, validationErrors, type Issue, type IssueCode, type Severity, type ValidateOptions } from './validate.js';
export {
  inferShapes, inferNode, constantNodeTensor,
  type InferOptions, type InferResult, type InferIssue, type InferIssueKind,
} from './infer.js';
export * from './ops/index.js';
export * from './passes/index.js';
