/**
 * The contract between the Keras model reader (which parses the file, walks the model's
 * connectivity and owns the graph) and the layer converters (one per Keras class).
 *
 * Values passed between layers keep Keras's layout and shapes (batch first, channels last
 * for `channels_last` layers). A converter that needs ONNX's channels-first layout wraps its
 * nodes in Transposes; the transpose-cancelling pass removes the pairs between layers.
 */
import type { Attrs, Graph, Value } from '../../ir/graph.js';
import type { Tensor } from '../../ir/tensor.js';

/** One layer entry of a Keras `model_config` (`{class_name, config}`), Keras 2 or 3. */
export interface KerasLayerConfig {
  class_name: string;
  config: Record<string, unknown>;
  /** Keras 3 puts `module`/`registered_name` here; kept as read. */
  module?: string;
  registered_name?: string;
  name?: string;
}

export interface LayerContext {
  graph: Graph;
  layer: KerasLayerConfig;
  /** The layer's name (node names are prefixed with it). */
  name: string;
  /** The layer's weights in Keras order (e.g. kernel, bias; for BatchNormalization gamma, beta, moving_mean, moving_variance as present). */
  weights: Tensor[];
  /** The weights' names as stored in the file, same order (e.g. `dense/kernel:0`). */
  weightNames: string[];
  /** Weight i as an initializer of the graph (added once, named after the file's weight name). */
  weight(i: number): Value;
  /** A constant initializer (name made unique under the layer's name). */
  constant(name: string, t: Tensor): Value;
  /** Adds a node named `<layer>/<op or suffix>`, recording the Keras layer in `node.meta.kerasLayer`. Returns its outputs. */
  node(op: string, inputs: (Value | null)[], attrs?: Attrs, outputs?: number, suffix?: string): Value[];
  /** Keras version that wrote the file ('2.4.0', '3.1.0', ...). */
  kerasVersion?: string;
}

/** Converts one call of a layer: inputs are the values it is called on, returns its outputs. */
export type LayerConverter = (ctx: LayerContext, inputs: Value[]) => Value[];

const converters = new Map<string, LayerConverter>();

/**
 * Registers (or replaces) the converter for a Keras class name. This is also how a user maps a
 * known custom layer from the API before loading a file.
 */
export function registerKerasLayer(className: string, converter: LayerConverter): void {
  converters.set(className, converter);
}

export function kerasLayerConverter(className: string): LayerConverter | undefined {
  return converters.get(className);
}

export function registeredKerasLayers(): string[] {
  return [...converters.keys()].sort();
}
