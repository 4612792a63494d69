/**
 * The Keras model a Model was read from (its parsed config and each layer's weights), kept beside
 * the IR so writers to Keras-shaped formats (tfjs layers-model) can write the original layers
 * rather than rebuild them from ONNX ops.
 */
import type { Model } from '../../ir/graph.js';
import type { KerasLayer, KerasModel } from './config.js';
import type { LayerWeights } from './weights.js';

export interface KerasSource {
  model: KerasModel;
  weights: Map<KerasLayer, LayerWeights>;
  kerasVersion?: string;
  backend?: string;
  trainingConfig?: Record<string, unknown>;
}

const sources = new WeakMap<Model, KerasSource>();

export function setKerasSource(model: Model, source: KerasSource): void {
  sources.set(model, source);
}

/** The Keras model behind a Model, when it was read from a Keras (or tfjs layers) file. */
export function kerasSourceOf(model: Model): KerasSource | undefined {
  return sources.get(model);
}
