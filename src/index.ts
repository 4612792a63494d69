/** mconv: read model files into one IR, inspect, convert, run and verify them. */
export { load, save, convert, run, verify } from './api.js';
export type { Feeds, SaveOptions, RunOptions, VerifyOptions } from './api.js';
export * from './ir/index.js';
export { Session, runModel, unsupportedNodes } from './runtime/session.js';
export type { SessionOptions } from './runtime/session.js';
export { compareOutputs, compareTensors, formatReport } from './runtime/compare.js';
export type { CompareReport, OutputReport, CompareOptions } from './runtime/compare.js';
export { BACKENDS, useBackend, availableBackends } from './runtime/backends.js';
export type { BackendName } from './runtime/backends.js';
export { randomInputs } from './runtime/random-inputs.js';
export { summarizeModel } from './inspect/summary.js';
export type { ModelSummary } from './inspect/summary.js';
export { FORMATS, loadModel, saveModel } from './formats/registry.js';
export type { FormatHandler, ReadOptions, WriteOptions } from './formats/types.js';
export { readNpy, writeNpy, readNpz, writeNpz } from './formats/npy/npy.js';
export { MconvError, EXIT_CODES } from './errors.js';
export { registerKerasLayer, registeredKerasLayers } from './formats/keras/layer-api.js';
export type { LayerContext, LayerConverter, KerasLayerConfig } from './formats/keras/layer-api.js';
