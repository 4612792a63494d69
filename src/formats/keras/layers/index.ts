/**
 * Registers a converter for every built-in Keras layer class (see supported.ts). Importing
 * this module registers them; `registerBuiltinKerasLayers()` does it again (idempotent), e.g.
 * after a user replaced one and wants the built-in back.
 */
import type { Value } from '../../../ir/graph.js';
import { registerKerasLayer, type LayerConverter } from '../layer-api.js';
import * as act from './activations.js';
import * as conv from './conv.js';
import * as core from './core.js';
import { MASK_PASSTHROUGH, maskOf, setMask } from './mask.js';
import * as merge from './merge.js';
import * as norm from './normalization.js';
import * as pool from './pooling.js';
import * as rec from './recurrent.js';
import * as shaping from './reshaping.js';
import { SUPPORTED_LAYERS } from './supported.js';

const CONVERTERS: Record<string, LayerConverter> = {
  InputLayer: core.convertInputLayer,
  Dense: core.convertDense,
  Activation: act.convertActivation,
  Dropout: core.convertIdentity,
  SpatialDropout1D: core.convertIdentity,
  SpatialDropout2D: core.convertIdentity,
  SpatialDropout3D: core.convertIdentity,
  GaussianNoise: core.convertIdentity,
  GaussianDropout: core.convertIdentity,
  AlphaDropout: core.convertIdentity,
  ActivityRegularization: core.convertIdentity,
  Identity: core.convertIdentity,
  Flatten: core.convertFlatten,
  Reshape: core.convertReshape,
  Permute: core.convertPermute,
  RepeatVector: core.convertRepeatVector,
  Masking: core.convertMasking,
  Embedding: core.convertEmbedding,
  Rescaling: core.convertRescaling,
  Normalization: core.convertNormalization,
  UnitNormalization: core.convertUnitNormalization,

  ReLU: act.convertReLU,
  LeakyReLU: act.convertLeakyReLU,
  PReLU: act.convertPReLU,
  ELU: act.convertELU,
  ThresholdedReLU: act.convertThresholdedReLU,
  Softmax: act.convertSoftmax,

  Conv1D: conv.convertConv1D,
  Conv2D: conv.convertConv2D,
  Conv3D: conv.convertConv3D,
  DepthwiseConv1D: conv.convertDepthwiseConv1D,
  DepthwiseConv2D: conv.convertDepthwiseConv2D,
  SeparableConv1D: conv.convertSeparableConv1D,
  SeparableConv2D: conv.convertSeparableConv2D,
  Conv1DTranspose: conv.convertConv1DTranspose,
  Conv2DTranspose: conv.convertConv2DTranspose,
  Conv3DTranspose: conv.convertConv3DTranspose,

  MaxPooling1D: pool.convertMaxPooling1D,
  MaxPooling2D: pool.convertMaxPooling2D,
  MaxPooling3D: pool.convertMaxPooling3D,
  AveragePooling1D: pool.convertAveragePooling1D,
  AveragePooling2D: pool.convertAveragePooling2D,
  AveragePooling3D: pool.convertAveragePooling3D,
  GlobalAveragePooling1D: pool.convertGlobalAveragePooling1D,
  GlobalAveragePooling2D: pool.convertGlobalAveragePooling2D,
  GlobalAveragePooling3D: pool.convertGlobalAveragePooling3D,
  GlobalMaxPooling1D: pool.convertGlobalMaxPooling1D,
  GlobalMaxPooling2D: pool.convertGlobalMaxPooling2D,
  GlobalMaxPooling3D: pool.convertGlobalMaxPooling3D,

  BatchNormalization: norm.convertBatchNormalization,
  LayerNormalization: norm.convertLayerNormalization,

  Add: merge.convertAdd,
  Subtract: merge.convertSubtract,
  Multiply: merge.convertMultiply,
  Average: merge.convertAverage,
  Maximum: merge.convertMaximum,
  Minimum: merge.convertMinimum,
  Concatenate: merge.convertConcatenate,
  Dot: merge.convertDot,

  ZeroPadding1D: shaping.convertZeroPadding1D,
  ZeroPadding2D: shaping.convertZeroPadding2D,
  ZeroPadding3D: shaping.convertZeroPadding3D,
  Cropping1D: shaping.convertCropping1D,
  Cropping2D: shaping.convertCropping2D,
  Cropping3D: shaping.convertCropping3D,
  UpSampling1D: shaping.convertUpSampling1D,
  UpSampling2D: shaping.convertUpSampling2D,
  UpSampling3D: shaping.convertUpSampling3D,

  SimpleRNN: rec.convertSimpleRNN,
  LSTM: rec.convertLSTM,
  GRU: rec.convertGRU,
  RNN: rec.convertRNN,
  Bidirectional: rec.convertBidirectional,
  TimeDistributed: rec.convertTimeDistributed,
};

/** Wraps a converter so the input's mask reaches the output (layers Keras lets masks through). */
function passMask(c: LayerConverter): LayerConverter {
  return (ctx, inputs) => {
    const outs = c(ctx, inputs);
    const m = maskOf(inputs[0]);
    if (m) outs.forEach((o: Value) => { if (!maskOf(o)) setMask(o, m); });
    return outs;
  };
}

/** The built-in converter of each class (aliases included), mask handling applied. */
export function builtinKerasConverters(): Map<string, LayerConverter> {
  const out = new Map<string, LayerConverter>();
  for (const entry of SUPPORTED_LAYERS) {
    const c = CONVERTERS[entry.className];
    if (!c) throw new Error(`supported.ts lists ${entry.className} but index.ts has no converter for it`);
    const wrapped = MASK_PASSTHROUGH.has(entry.className) ? passMask(c) : c;
    for (const name of [entry.className, ...(entry.aliases ?? [])]) out.set(name, wrapped);
  }
  return out;
}

export function registerBuiltinKerasLayers(): void {
  for (const [name, c] of builtinKerasConverters()) registerKerasLayer(name, c);
}

registerBuiltinKerasLayers();

export { SUPPORTED_LAYERS, supportTable, supportedClassNames } from './supported.js';
export { maskOf } from './mask.js';
