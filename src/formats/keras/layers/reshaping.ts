/**
 * ZeroPadding1D/2D/3D (Pad), Cropping1D/2D/3D (Slice) and UpSampling1D/2D/3D (Resize). On
 * channels-last data they work in channels-first layout between Transposes, like the
 * convolutions around them, so the transpose-cancelling pass removes every Transpose between
 * such layers (a Pad or Resize on NHWC data would leave a Transpose on each side).
 */
import { attr, type Value } from '../../../ir/graph.js';
import type { LayerContext } from '../layer-api.js';
import { LayerBuilder } from './builder.js';

const INT_MAX = 2147483647;

function single(b: LayerBuilder, inputs: Value[]): Value {
  if (inputs.length !== 1) throw b.fail(`expects one input, got ${inputs.length}`);
  return inputs[0]!;
}

/** (begin, end) per spatial axis from an int, n ints, or n pairs (one pair when n = 1). */
function pairs(b: LayerBuilder, key: string, n: number, dflt: number): [number, number][] {
  const v = b.raw(key) ?? dflt;
  const isInt = (x: unknown): x is number => typeof x === 'number';
  if (isInt(v)) return Array.from({ length: n }, () => [v, v]);
  if (Array.isArray(v)) {
    if (n === 1 && v.length === 2 && v.every(isInt)) return [[v[0], v[1]]];
    if (n === 1 && v.length === 1 && Array.isArray(v[0]) && v[0].length === 2) return [[v[0][0], v[0][1]]];
    if (v.length === n && v.every(isInt)) return (v as number[]).map((x) => [x, x]);
    if (v.length === n && v.every((p) => Array.isArray(p) && p.length === 2 && p.every(isInt))) return v as [number, number][];
  }
  throw b.fail(`config ${key} = ${JSON.stringify(v)} is not an int, ${n} ints or ${n} pairs`);
}

const range = (from: number, to: number): number[] => Array.from({ length: to - from }, (_, i) => from + i);

/**
 * Applies `body` to `x` in channels-first layout: directly for channels_first data, else between
 * a Transpose to channels-first and one back. `body` gets the spatial axes (2 .. n+1).
 */
function inChannelsFirst(b: LayerBuilder, x: Value, n: number, body: (x: Value, axes: number[]) => Value): Value {
  const r = n + 2;
  const axes = range(2, r);
  if (n > 1 && b.dataFormat() === 'channels_first') return body(x, axes);
  const cf = b.transpose(x, [0, r - 1, ...range(1, r - 1)], 'to_channels_first');
  return b.transpose(body(cf, axes), [0, ...axes, 1], 'to_channels_last');
}

function zeroPaddingN(n: number) {
  return (ctx: LayerContext, inputs: Value[]): Value[] => {
    const b = new LayerBuilder(ctx);
    const x = single(b, inputs);
    const p = pairs(b, 'padding', n, 1);
    const r = n + 2;
    return [inChannelsFirst(b, x, n, (y, axes) => {
      const begin = new Array<number>(r).fill(0);
      const end = new Array<number>(r).fill(0);
      axes.forEach((a, i) => {
        begin[a] = p[i]![0];
        end[a] = p[i]![1];
      });
      return b.op('Pad', [y, b.ints('pads', [...begin, ...end])], { mode: attr.string('constant') });
    })];
  };
}

export const convertZeroPadding1D = zeroPaddingN(1);
export const convertZeroPadding2D = zeroPaddingN(2);
export const convertZeroPadding3D = zeroPaddingN(3);

function croppingN(n: number) {
  return (ctx: LayerContext, inputs: Value[]): Value[] => {
    const b = new LayerBuilder(ctx);
    const x = single(b, inputs);
    const c = pairs(b, 'cropping', n, n === 1 ? 1 : 0);
    return [inChannelsFirst(b, x, n, (y, axes) =>
      b.slice(y, c.map((p) => p[0]), c.map((p) => (p[1] === 0 ? INT_MAX : -p[1])), axes, undefined, 'Slice'))];
  };
}

export const convertCropping1D = croppingN(1);
export const convertCropping2D = croppingN(2);
export const convertCropping3D = croppingN(3);

/**
 * Nearest upsampling repeats each element `size` times (Resize nearest, asymmetric, floor).
 * Bilinear follows tf.image.resize (half-pixel centres) for Keras >= 2.3 and tf.keras; standalone
 * Keras 2.0-2.2 and tfjs-layers used the legacy resize_bilinear (asymmetric coordinates).
 */
function upSamplingN(n: number) {
  return (ctx: LayerContext, inputs: Value[]): Value[] => {
    const b = new LayerBuilder(ctx);
    const x = single(b, inputs);
    const size = n === 1 ? [b.num('size', 2)] : b.tuple('size', n, 2);
    const r = n + 2;
    const interp = n === 2 ? b.str('interpolation', 'nearest') : 'nearest';
    if (interp !== 'nearest' && interp !== 'bilinear') throw b.fail(`interpolation '${interp}' is not supported (nearest and bilinear are)`);
    return [inChannelsFirst(b, x, n, (y, axes) => {
      const scales = new Array<number>(r).fill(1);
      axes.forEach((a, i) => (scales[a] = size[i]!));
      const sc = b.floats('scales', scales);
      if (interp === 'nearest') {
        return b.op('Resize', [y, null, sc], {
          mode: attr.string('nearest'), coordinate_transformation_mode: attr.string('asymmetric'), nearest_mode: attr.string('floor'),
        });
      }
      return b.op('Resize', [y, null, sc], {
        mode: attr.string('linear'), coordinate_transformation_mode: attr.string(legacyBilinear(ctx.kerasVersion) ? 'asymmetric' : 'half_pixel'),
      });
    })];
  };
}

/** True for writers whose bilinear resize had no half-pixel centres. */
export function legacyBilinear(version: string | undefined): boolean {
  if (!version) return false;
  if (version.startsWith('tfjs')) return true;
  const m = /^2\.(\d+)\.\d+(.*)$/.exec(version);
  if (!m) return false;
  return Number(m[1]) <= 2 && !m[2]!.includes('tf');
}

export const convertUpSampling1D = upSamplingN(1);
export const convertUpSampling2D = upSamplingN(2);
export const convertUpSampling3D = upSamplingN(3);
