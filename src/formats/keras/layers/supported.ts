/**
 * The Keras layer classes mconv converts, with the variants each handles and what it refuses.
 * `index.ts` registers a converter for every class listed here (a test checks both agree);
 * `supportTable()` renders the list for the README.
 */
import { supportedActivations } from './activations.js';

export interface SupportedLayer {
  className: string;
  family: 'core' | 'activation' | 'conv' | 'pooling' | 'normalization' | 'merge' | 'reshaping' | 'recurrent';
  /** What is covered. */
  notes: string;
  /** Configurations refused with an `unsupported` error. */
  refuses?: string;
  /** Other class names (Keras aliases) converted the same way. */
  aliases?: string[];
}

export const SUPPORTED_LAYERS: SupportedLayer[] = [
  { className: 'InputLayer', family: 'core', notes: 'the model input (shape from batch_input_shape / batch_shape)' },
  { className: 'Dense', family: 'core', notes: 'any input rank, use_bias, inline activation', refuses: 'quantized int8 kernels' },
  { className: 'Activation', family: 'core', notes: 'every activation in the list below' },
  { className: 'Dropout', family: 'core', notes: 'identity at inference' },
  { className: 'SpatialDropout1D', family: 'core', notes: 'identity at inference' },
  { className: 'SpatialDropout2D', family: 'core', notes: 'identity at inference' },
  { className: 'SpatialDropout3D', family: 'core', notes: 'identity at inference' },
  { className: 'GaussianNoise', family: 'core', notes: 'identity at inference' },
  { className: 'GaussianDropout', family: 'core', notes: 'identity at inference' },
  { className: 'AlphaDropout', family: 'core', notes: 'identity at inference' },
  { className: 'ActivityRegularization', family: 'core', notes: 'identity at inference' },
  { className: 'Identity', family: 'core', notes: 'identity' },
  { className: 'Flatten', family: 'core', notes: 'channels_last and channels_first (channels moved last first, like Keras)' },
  { className: 'Reshape', family: 'core', notes: 'target_shape with at most one -1' },
  { className: 'Permute', family: 'core', notes: 'any dims' },
  { className: 'RepeatVector', family: 'core', notes: 'n repeats' },
  { className: 'Masking', family: 'core', notes: 'zeroes masked steps and passes the mask to RNNs (and to layers that carry masks)' },
  { className: 'Embedding', family: 'core', notes: 'float or int indices; mask_zero makes a mask for RNNs', refuses: 'quantized embeddings' },
  { className: 'Rescaling', family: 'core', notes: 'scale and offset, scalars or per channel' },
  { className: 'Normalization', family: 'core', notes: 'adapted weights or mean/variance in the config, any axis, invert' },
  { className: 'UnitNormalization', family: 'core', notes: 'L2 normalisation over axis' },
  { className: 'ReLU', family: 'activation', notes: 'max_value, negative_slope, threshold' },
  { className: 'LeakyReLU', family: 'activation', notes: 'alpha (Keras 2) / negative_slope (Keras 3)' },
  { className: 'PReLU', family: 'activation', notes: 'shared_axes' },
  { className: 'ELU', family: 'activation', notes: 'alpha' },
  { className: 'ThresholdedReLU', family: 'activation', notes: 'theta' },
  { className: 'Softmax', family: 'activation', notes: 'axis (int or list)', refuses: 'a call with an explicit mask argument' },
  { className: 'Conv1D', family: 'conv', notes: 'valid/same/causal, strides, dilation, groups, channels_first' },
  { className: 'Conv2D', family: 'conv', notes: 'valid/same, strides, dilation, groups, channels_first' },
  { className: 'Conv3D', family: 'conv', notes: 'valid/same, strides, dilation, groups, channels_first' },
  { className: 'DepthwiseConv1D', family: 'conv', notes: 'depth_multiplier, valid/same, strides, dilation' },
  { className: 'DepthwiseConv2D', family: 'conv', notes: 'depth_multiplier, valid/same, strides, dilation' },
  { className: 'SeparableConv1D', family: 'conv', notes: 'depth_multiplier, valid/same, strides, dilation' },
  { className: 'SeparableConv2D', family: 'conv', notes: 'depth_multiplier, valid/same, strides, dilation' },
  { className: 'Conv1DTranspose', family: 'conv', notes: 'valid/same, strides, dilation, output_padding' },
  { className: 'Conv2DTranspose', family: 'conv', notes: 'valid/same, strides, dilation, output_padding', aliases: ['Convolution2DTranspose'] },
  { className: 'Conv3DTranspose', family: 'conv', notes: 'valid/same, strides, dilation, output_padding' },
  { className: 'MaxPooling1D', family: 'pooling', notes: 'valid/same (TF padding), strides', aliases: ['MaxPool1D'] },
  { className: 'MaxPooling2D', family: 'pooling', notes: 'valid/same, strides, channels_first', aliases: ['MaxPool2D'] },
  { className: 'MaxPooling3D', family: 'pooling', notes: 'valid/same, strides, channels_first', aliases: ['MaxPool3D'] },
  { className: 'AveragePooling1D', family: 'pooling', notes: "valid/same ('same' averages exclude the padding, like TF)", aliases: ['AvgPool1D'] },
  { className: 'AveragePooling2D', family: 'pooling', notes: "valid/same ('same' averages exclude the padding)", aliases: ['AvgPool2D'] },
  { className: 'AveragePooling3D', family: 'pooling', notes: "valid/same ('same' averages exclude the padding)", aliases: ['AvgPool3D'] },
  { className: 'GlobalAveragePooling1D', family: 'pooling', notes: 'keepdims, channels_first, masked mean', aliases: ['GlobalAvgPool1D'] },
  { className: 'GlobalAveragePooling2D', family: 'pooling', notes: 'keepdims, channels_first', aliases: ['GlobalAvgPool2D'] },
  { className: 'GlobalAveragePooling3D', family: 'pooling', notes: 'keepdims, channels_first', aliases: ['GlobalAvgPool3D'] },
  { className: 'GlobalMaxPooling1D', family: 'pooling', notes: 'keepdims, channels_first', aliases: ['GlobalMaxPool1D'] },
  { className: 'GlobalMaxPooling2D', family: 'pooling', notes: 'keepdims, channels_first', aliases: ['GlobalMaxPool2D'] },
  { className: 'GlobalMaxPooling3D', family: 'pooling', notes: 'keepdims, channels_first', aliases: ['GlobalMaxPool3D'] },
  { className: 'BatchNormalization', family: 'normalization', notes: 'any single axis, center/scale off, epsilon (moving statistics)', refuses: 'several axes' },
  { className: 'LayerNormalization', family: 'normalization', notes: 'axis int or list, epsilon, center/scale off', refuses: 'rms_scaling=True' },
  { className: 'Add', family: 'merge', notes: 'two or more inputs, masks combined' },
  { className: 'Subtract', family: 'merge', notes: 'two inputs' },
  { className: 'Multiply', family: 'merge', notes: 'two or more inputs' },
  { className: 'Average', family: 'merge', notes: 'two or more inputs' },
  { className: 'Maximum', family: 'merge', notes: 'two or more inputs' },
  { className: 'Minimum', family: 'merge', notes: 'two or more inputs' },
  { className: 'Concatenate', family: 'merge', notes: 'any axis' },
  { className: 'Dot', family: 'merge', notes: 'axes, normalize; inputs of rank 2 or 3', refuses: 'inputs of rank above 3' },
  { className: 'ZeroPadding1D', family: 'reshaping', notes: 'symmetric or (begin, end)' },
  { className: 'ZeroPadding2D', family: 'reshaping', notes: 'int, pairs, channels_first' },
  { className: 'ZeroPadding3D', family: 'reshaping', notes: 'int, pairs, channels_first' },
  { className: 'Cropping1D', family: 'reshaping', notes: '(begin, end)' },
  { className: 'Cropping2D', family: 'reshaping', notes: 'int, pairs, channels_first' },
  { className: 'Cropping3D', family: 'reshaping', notes: 'int, pairs, channels_first' },
  { className: 'UpSampling1D', family: 'reshaping', notes: 'size (repeat)' },
  { className: 'UpSampling2D', family: 'reshaping', notes: 'nearest, bilinear (half-pixel; legacy asymmetric for standalone Keras <= 2.2 and tfjs-layers)', refuses: 'bicubic, lanczos, area' },
  { className: 'UpSampling3D', family: 'reshaping', notes: 'size (repeat)' },
  { className: 'SimpleRNN', family: 'recurrent', notes: 'return_sequences, return_state, go_backwards, time_major, any activation, initial states, masks', refuses: 'stateful=True' },
  { className: 'LSTM', family: 'recurrent', notes: 'return_sequences, return_state, go_backwards, time_major, activation/recurrent_activation, initial states, masks', refuses: 'stateful=True' },
  { className: 'GRU', family: 'recurrent', notes: 'reset_after true and false, return_sequences, return_state, go_backwards, activations, initial states, masks', refuses: 'stateful=True' },
  { className: 'RNN', family: 'recurrent', notes: 'a SimpleRNNCell/LSTMCell/GRUCell, or a StackedRNNCells of them', refuses: 'other cells; stacked cells with go_backwards or a mask' },
  { className: 'Bidirectional', family: 'recurrent', notes: 'SimpleRNN/LSTM/GRU, merge_mode concat/sum/mul/ave/None, return_state, masks', refuses: 'a wrapped layer with go_backwards=True' },
  { className: 'TimeDistributed', family: 'recurrent', notes: 'wraps any converted layer (time folded into the batch)' },
];

/** Every class name converted (aliases included). */
export function supportedClassNames(): string[] {
  return SUPPORTED_LAYERS.flatMap((l) => [l.className, ...(l.aliases ?? [])]).sort();
}

/** A Markdown table of the supported layers and the activation list. */
export function supportTable(): string {
  const rows = SUPPORTED_LAYERS.map((l) => `| ${l.className}${l.aliases ? ` (${l.aliases.join(', ')})` : ''} | ${l.family} | ${l.notes} | ${l.refuses ?? ''} |`);
  return [
    '| Keras layer | Family | Covered | Refused |',
    '|---|---|---|---|',
    ...rows,
    '',
    `Activations: ${supportedActivations().join(', ')}.`,
  ].join('\n');
}
