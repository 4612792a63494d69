/**
 * Pooling: Max/AveragePooling1D/2D/3D ('valid' and TensorFlow 'same' padding; the average
 * excludes the padding like TensorFlow), GlobalAverage/GlobalMaxPooling1D/2D/3D (keepdims,
 * and the masked mean of GlobalAveragePooling1D).
 */
import { attr, type Attrs, type Value } from '../../../ir/graph.js';
import type { LayerContext } from '../layer-api.js';
import { LayerBuilder } from './builder.js';
import { inChannelsFirst, paddingAttrs, spatialDims, type SpatialSpec } from './conv.js';
import { maskOf } from './mask.js';

function single(b: LayerBuilder, inputs: Value[]): Value {
  if (inputs.length !== 1) throw b.fail(`expects one input, got ${inputs.length}`);
  return inputs[0]!;
}

function poolN(n: number, op: 'MaxPool' | 'AveragePool') {
  return (ctx: LayerContext, inputs: Value[]): Value[] => {
    const b = new LayerBuilder(ctx);
    const x = single(b, inputs);
    const r = x.shape?.length;
    if (r !== undefined && r !== n + 2) throw b.fail(`expects a rank-${n + 2} input, got rank ${r}`);
    const spec: SpatialSpec = { n, channelsFirst: b.dataFormat() === 'channels_first' };
    // Keras 1-D pooling spells it pool_length/stride in very old files; 2 is the default size.
    const size = b.tuple(b.has('pool_size') ? 'pool_size' : 'pool_length', n, 2);
    const stridesKey = b.has('strides') ? 'strides' : 'stride';
    const strides = b.has(stridesKey) ? b.tuple(stridesKey, n, size) : size;
    const padding = b.str('padding', 'valid').toLowerCase();
    if (padding !== 'valid' && padding !== 'same') throw b.fail(`padding '${padding}' is not supported`);
    const ones = new Array<number>(n).fill(1);
    const pads = paddingAttrs(b, padding, size, strides, ones, spatialDims(b, x, spec));
    const extra: Attrs = op === 'AveragePool' ? { count_include_pad: attr.int(0) } : {};
    return [inChannelsFirst(b, x, spec, (xc) =>
      b.op(op, [xc], { kernel_shape: attr.ints(size), strides: attr.ints(strides), ...pads, ...extra }))];
  };
}

export const convertMaxPooling1D = poolN(1, 'MaxPool');
export const convertMaxPooling2D = poolN(2, 'MaxPool');
export const convertMaxPooling3D = poolN(3, 'MaxPool');
export const convertAveragePooling1D = poolN(1, 'AveragePool');
export const convertAveragePooling2D = poolN(2, 'AveragePool');
export const convertAveragePooling3D = poolN(3, 'AveragePool');

function globalN(n: number, op: 'ReduceMean' | 'ReduceMax') {
  return (ctx: LayerContext, inputs: Value[]): Value[] => {
    const b = new LayerBuilder(ctx);
    const x = single(b, inputs);
    const channelsFirst = b.dataFormat() === 'channels_first';
    const axes = Array.from({ length: n }, (_, i) => (channelsFirst ? i + 2 : i + 1));
    const keep = b.bool('keepdims', false) ? 1 : 0;
    const mask = maskOf(x);
    if (mask && n === 1 && op === 'ReduceMean') {
      // Keras: the mean over unmasked steps only.
      const timeAxis = channelsFirst ? 2 : 1;
      const mf = b.op('CastLike', [mask, x], {}, 'mask_f');
      const m = b.unsqueeze(mf, [channelsFirst ? 1 : 2], 'mask_expand');
      const sum = b.op('ReduceSum', [b.op('Mul', [x, m], {}, 'masked'), b.ints('axes', [timeAxis])], { keepdims: attr.int(keep) }, 'sum');
      const count = b.op('ReduceSum', [m, b.ints('count_axes', [timeAxis])], { keepdims: attr.int(keep) }, 'count');
      return [b.op('Div', [sum, count], {}, 'mean')];
    }
    return [b.op(op, [x], { axes: attr.ints(axes), keepdims: attr.int(keep) })];
  };
}

export const convertGlobalAveragePooling1D = globalN(1, 'ReduceMean');
export const convertGlobalAveragePooling2D = globalN(2, 'ReduceMean');
export const convertGlobalAveragePooling3D = globalN(3, 'ReduceMean');
export const convertGlobalMaxPooling1D = globalN(1, 'ReduceMax');
export const convertGlobalMaxPooling2D = globalN(2, 'ReduceMax');
export const convertGlobalMaxPooling3D = globalN(3, 'ReduceMax');
