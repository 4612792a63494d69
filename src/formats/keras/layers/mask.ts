/**
 * Keras masks (from `Masking` and `Embedding(mask_zero=True)`) travel beside the values, not
 * in them: a boolean [batch, time] tensor that recurrent layers use to skip padded steps and
 * that layers supporting masks pass on. During conversion the mask of a value is kept here,
 * keyed by the IR value, and becomes real nodes only where a layer reads it.
 */
import type { Value } from '../../../ir/graph.js';

const masks = new WeakMap<Value, Value>();

/** The boolean [batch, time] mask Keras attaches to this value, if any. */
export function maskOf(v: Value | undefined): Value | undefined {
  return v ? masks.get(v) : undefined;
}

export function setMask(v: Value, mask: Value | undefined): void {
  if (mask) masks.set(v, mask);
  else masks.delete(v);
}

/**
 * Keras classes that pass their input's mask on unchanged (`supports_masking` and no
 * `compute_mask` of their own). Merge layers, RNNs, TimeDistributed, Bidirectional and the
 * mask producers handle masks in their converters.
 */
export const MASK_PASSTHROUGH = new Set([
  'Activation', 'Dense', 'Dropout', 'SpatialDropout1D', 'SpatialDropout2D', 'SpatialDropout3D', 'GaussianNoise',
  'GaussianDropout', 'AlphaDropout', 'ActivityRegularization', 'ReLU', 'LeakyReLU', 'PReLU', 'ELU',
  'ThresholdedReLU', 'Softmax', 'BatchNormalization', 'LayerNormalization', 'Rescaling', 'Normalization',
  'UnitNormalization', 'Identity',
]);
