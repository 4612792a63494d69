/**
 * Convolutions: Conv (1D/2D/3D, groups, dilations, pads, auto_pad), ConvTranspose,
 * ConvInteger and QLinearConv. ONNX is channels-first; tfjs convolutions are
 * channels-last, so inputs are transposed in and results transposed back.
 */
import type * as tfc from '@tensorflow/tfjs-core';
import type { Node } from '../../../ir/graph.js';
import type { KernelContext, KernelDef, RT, TF } from '../types.js';
import { effectiveKernel, resolveWindow, stretchAxes, cropOrPad, type Window } from './spatial.js';
import { cachedDerived, isConstantInput } from './weight-cache.js';
import {
  intRange, invalidInput, need, rt, toChannelsFirstPerm, toChannelsLastPerm, unsupportedNode, type T,
} from './util.js';

function checkRank(node: Node): string | undefined {
  const k = node.attrInts('kernel_shape');
  const wShape = node.inputs[node.op === 'QLinearConv' ? 3 : 1]?.shape;
  const r = k && k.length ? k.length : wShape ? wShape.length - 2 : undefined;
  if (r !== undefined && (r < 1 || r > 3)) return `${r}-D ${node.op} is not supported (1-D, 2-D and 3-D are)`;
  return undefined;
}

/**
 * ONNX weights [M, C/g, k...] -> tfjs channels-last filter [k..., C/g, M]. The same permutation
 * turns ConvTranspose weights [C, M/g, k...] into [k..., M/g, C].
 */
export function filterChannelsLast(tf: TF, w: T): T {
  const r = w.rank - 2;
  const perm: number[] = [];
  for (let i = 0; i < r; i++) perm.push(i + 2);
  perm.push(1, 0);
  return tf.transpose(w, perm);
}

/**
 * Forward convolution on a channels-last input `x` (rank r+2) with a channels-last filter
 * [k..., C/g, M] for r in 1..3. Padding is explicit (begin/end per spatial axis).
 * Returns a channels-last result (without bias unless `bias` is given for the fused path).
 */
function convChannelsLast(
  tf: TF, node: Node, x: T, filter: T, group: number, win: Window, bias: T | undefined,
): T {
  const r = x.rank - 2;
  if (r === 1) {
    // 1-D as 2-D with a unit height.
    const x4 = tf.expandDims(x, 1);
    const f4 = tf.expandDims(filter, 0);
    const w2: Window = {
      kernel: [1, win.kernel[0]!], strides: [1, win.strides[0]!], dilations: [1, win.dilations[0]!],
      padsBegin: [0, win.padsBegin[0]!], padsEnd: [0, win.padsEnd[0]!],
    };
    const y4 = convChannelsLast(tf, node, x4, f4, group, w2, bias);
    x4.dispose(); f4.dispose();
    const y = tf.squeeze(y4, [1]);
    y4.dispose();
    return y;
  }
  // tfjs refuses strides > 1 together with dilations > 1: dilate the filter itself then.
  let f = filter;
  let dil = win.dilations;
  if (win.dilations.some((d) => d > 1) && win.strides.some((s) => s > 1)) {
    f = stretchAxes(tf, filter, win.dilations.map((_, i) => i), win.dilations);
    dil = dil.map(() => 1);
  }
  const cin = x.shape[r + 1]!;
  const m = f.shape[r + 1]!;
  const cpg = f.shape[r]!;
  if (cin !== cpg * group) {
    throw invalidInput(node, `input has ${cin} channels but weights expect ${cpg} x group ${group}`);
  }
  let y: T;
  if (r === 2) {
    const pad: tfc.backend_util.ExplicitPadding | 'valid' = win.padsBegin.some((p) => p) || win.padsEnd.some((p) => p)
      ? [[0, 0], [win.padsBegin[0]!, win.padsEnd[0]!], [win.padsBegin[1]!, win.padsEnd[1]!], [0, 0]]
      : 'valid';
    const strides = win.strides as [number, number];
    const dilations = dil as [number, number];
    if (group === 1) {
      y = tf.fused.conv2d({ x: x as tfc.Tensor4D, filter: f as tfc.Tensor4D, strides, pad, dilations, bias });
    } else if (cpg === 1 && m % group === 0) {
      // Depthwise: output channel c*mult+q reads input channel c.
      const mult = m / group;
      const dwf = tf.tidy(() =>
        tf.reshape(f, [f.shape[0]!, f.shape[1]!, group, mult]) as tfc.Tensor4D);
      const all = [...win.padsBegin, ...win.padsEnd];
      if (all.every((p) => p === all[0])) {
        // The fused kernel takes only uniform padding.
        y = tf.fused.depthwiseConv2d({ x: x as tfc.Tensor4D, filter: dwf, strides, pad: all[0] ? all[0] : 'valid', dilations, bias });
      } else {
        y = tf.depthwiseConv2d(x as tfc.Tensor4D, dwf, strides, pad, 'NHWC', dilations);
        if (bias) {
          const yb = tf.add(y, bias);
          y.dispose();
          y = yb;
        }
      }
      dwf.dispose();
    } else {
      y = groupedConv(tf, x, f, group, (xg, fg) =>
        tf.conv2d(xg as tfc.Tensor4D, fg as tfc.Tensor4D, strides, pad, 'NHWC', dilations));
      if (bias) {
        const yb = tf.add(y, bias);
        y.dispose();
        y = yb;
      }
    }
  } else if (r === 3) {
    const needPad = win.padsBegin.some((p) => p) || win.padsEnd.some((p) => p);
    const xp = needPad
      ? tf.pad(x, [[0, 0], ...win.padsBegin.map((b, i) => [b, win.padsEnd[i]!] as [number, number]), [0, 0]])
      : x;
    const strides = win.strides as [number, number, number];
    const dilations = dil as [number, number, number];
    y = groupedConv(tf, xp, f, group, (xg, fg) =>
      tf.conv3d(xg as tfc.Tensor5D, fg as tfc.Tensor5D, strides, 'valid', 'NDHWC', dilations));
    if (xp !== x) xp.dispose();
    if (bias) {
      const yb = tf.add(y, bias);
      y.dispose();
      y = yb;
    }
  } else {
    throw unsupportedNode(node, `${r}-D convolution is not supported`);
  }
  if (f !== filter) f.dispose();
  return y;
}

/** Runs `conv` per channel group (channels-last) and concatenates the results. */
function groupedConv(tf: TF, x: T, f: T, group: number, conv: (x: T, f: T) => T): T {
  if (group === 1) return conv(x, f);
  const last = x.rank - 1;
  const xs = tf.split(x, group, last);
  const fs = tf.split(f, group, f.rank - 1);
  const ys = xs.map((xg, i) => conv(xg, fs[i]!));
  const y = tf.concat(ys, last);
  for (const t of [...xs, ...fs, ...ys]) t.dispose();
  return y;
}

/**
 * Channels-first convolution: x [N, C, s...], w [M, C/g, k...] (both float carriers),
 * optional bias [M]. Returns [N, M, o...].
 */
export function convNCHW(tf: TF, node: Node, x: T, w: T, b: T | undefined, filterCL?: T): T {
  const r = x.rank - 2;
  if (r < 1 || r > 3) throw unsupportedNode(node, `${r}-D convolution is not supported (1-D, 2-D and 3-D are)`);
  if (w.rank !== x.rank) throw invalidInput(node, `weights have rank ${w.rank}, input has rank ${x.rank}`);
  const kernelAttr = node.attrInts('kernel_shape');
  const kernel = kernelAttr && kernelAttr.length ? kernelAttr : w.shape.slice(2);
  const group = node.attrInt('group', 1);
  const win = resolveWindow(node, x.shape.slice(2), kernel);
  if ([...win.padsBegin, ...win.padsEnd].some((p) => p < 0)) throw unsupportedNode(node, 'negative pads are not supported');
  const xl = tf.transpose(x, toChannelsLastPerm(x.rank));
  const fl = filterCL ?? filterChannelsLast(tf, w);
  const yl = convChannelsLast(tf, node, xl, fl, group, win, b);
  xl.dispose();
  if (fl !== filterCL) fl.dispose();
  const y = tf.transpose(yl, toChannelsFirstPerm(yl.rank));
  yl.dispose();
  return y;
}

/** Output geometry of ConvTranspose for one input. */
interface TransposeGeometry {
  kernel: number[]; strides: number[]; dilations: number[]; padsBegin: number[]; outSizes: number[];
}

function transposeGeometry(node: Node, inSizes: number[], wKernel: number[]): TransposeGeometry {
  const r = inSizes.length;
  const kAttr = node.attrInts('kernel_shape');
  const kernel = kAttr && kAttr.length ? kAttr.slice() : wKernel;
  const list = (name: string, d: number): number[] => {
    const v = node.attrInts(name);
    if (!v || !v.length) return new Array<number>(r).fill(d);
    if (v.length !== r) throw invalidInput(node, `attribute ${name} has ${v.length} values for ${r} spatial axes`);
    return v.slice();
  };
  const strides = list('strides', 1);
  const dilations = list('dilations', 1);
  const outPad = list('output_padding', 0);
  const autoPad = node.attrString('auto_pad', 'NOTSET');
  let outShape = node.attrInts('output_shape');
  if (outShape && outShape.length === r + 2) outShape = outShape.slice(2);
  const padsBegin = new Array<number>(r).fill(0);
  const outSizes = new Array<number>(r).fill(0);
  for (let i = 0; i < r; i++) {
    const full = strides[i]! * (inSizes[i]! - 1) + outPad[i]! + effectiveKernel(kernel[i]!, dilations[i]!);
    if ((outShape && outShape.length) || autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
      const out = outShape && outShape.length ? outShape[i]! : inSizes[i]! * strides[i]!;
      const total = full - out;
      const half = Math.floor(total / 2); // floor division, as the ONNX reference computes it
      padsBegin[i] = autoPad === 'SAME_UPPER' ? half : total - half;
      outSizes[i] = out;
    } else {
      const pads = autoPad === 'VALID' ? [] : node.attrInts('pads', []);
      const pb = pads.length ? pads[i]! : 0;
      const pe = pads.length ? pads[i + r]! : 0;
      padsBegin[i] = pb;
      outSizes[i] = full - pb - pe;
    }
    if (outSizes[i]! <= 0) throw invalidInput(node, `computed output size ${outSizes[i]} on spatial axis ${i} is not positive`);
  }
  return { kernel, strides, dilations, padsBegin, outSizes };
}

/** Channels-first transposed convolution: x [N, C, s...], w [C, M/g, k...], bias [M]. */
export function convTransposeNCHW(tf: TF, node: Node, x: T, w: T, b: T | undefined, filterCL?: T): T {
  const r = x.rank - 2;
  if (r < 1 || r > 3) throw unsupportedNode(node, `${r}-D transposed convolution is not supported (1-D, 2-D and 3-D are)`);
  const group = node.attrInt('group', 1);
  const geo = transposeGeometry(node, x.shape.slice(2), w.shape.slice(2));
  const c = x.shape[1]!;
  if (w.shape[0] !== c) throw invalidInput(node, `weights have ${w.shape[0]} input channels, input has ${c}`);
  const spatialAxes = Array.from({ length: r }, (_, i) => i + 1);
  const full = tf.tidy(() => {
    let xl = tf.transpose(x, toChannelsLastPerm(x.rank));
    // Filter in channels-last forward layout [k..., M/g (forward in), C (forward out)].
    let f = filterCL ?? filterChannelsLast(tf, w);
    if (geo.dilations.some((d) => d > 1)) f = stretchAxes(tf, f, spatialAxes.map((a) => a - 1), geo.dilations);
    const keff = f.shape.slice(0, r);
    if (r === 1) xl = tf.expandDims(xl, 1);
    const conv = (xg: T, fg: T): T => {
      const n = xg.shape[0]!;
      const outC = fg.shape[fg.rank - 2]!;
      if (r <= 2) {
        const f4 = (r === 1 ? tf.expandDims(fg, 0) : fg) as tfc.Tensor4D;
        const h = xg.shape[1]!;
        const wd = xg.shape[2]!;
        const s = r === 1 ? [1, geo.strides[0]!] : geo.strides;
        const outShape: [number, number, number, number] = [
          n, (h - 1) * s[0]! + f4.shape[0], (wd - 1) * s[1]! + f4.shape[1], outC,
        ];
        return tf.conv2dTranspose(xg as tfc.Tensor4D, f4, outShape, s as [number, number], 'valid');
      }
      // 3-D: zero-insert the input by the strides, pad by k-1 and correlate with the flipped filter.
      const up = stretchAxes(tf, xg, spatialAxes, geo.strides);
      const padded = tf.pad(up, [[0, 0], ...keff.map((k) => [k - 1, k - 1] as [number, number]), [0, 0]]);
      const flipped = tf.reverse(fg, [0, 1, 2]);
      const fwd = tf.transpose(flipped, [0, 1, 2, 4, 3]);
      return tf.conv3d(padded as tfc.Tensor5D, fwd as tfc.Tensor5D, 1, 'valid', 'NDHWC');
    };
    let y: T;
    if (group === 1) y = conv(xl, f);
    else {
      const last = xl.rank - 1;
      const xs = tf.split(xl, group, last);
      const fs = tf.split(f, group, f.rank - 1);
      y = tf.concat(xs.map((xg, i) => conv(xg, fs[i]!)), last);
    }
    if (r === 1) y = tf.squeeze(y, [1]);
    return y;
  });
  const cropped = cropOrPad(tf, full, spatialAxes, geo.padsBegin, geo.outSizes);
  full.dispose();
  let yl = cropped;
  if (b) {
    yl = tf.add(cropped, b);
    cropped.dispose();
  }
  const y = tf.transpose(yl, toChannelsFirstPerm(yl.rank));
  yl.dispose();
  return y;
}

function floatOf(tf: TF, v: RT): T {
  return v.t.dtype === 'float32' ? v.t : tf.cast(v.t, 'float32');
}

function releaseIfNew(t: T, src: RT | undefined): void {
  if (!src || t !== src.t) t.dispose();
}

/** Conv and ConvTranspose: float inputs, the filter's channels-last layout cached per constant weight. */
function filterKernel(compute: typeof convNCHW): KernelDef {
  return {
    check: checkRank,
    run({ tf, node, inputs }: KernelContext): RT[] {
      const x = need(node, inputs, 0, 'X');
      const w = need(node, inputs, 1, 'W');
      const b = inputs[2];
      const xf = floatOf(tf, x);
      const wf = floatOf(tf, w);
      const bf = b ? floatOf(tf, b) : undefined;
      const cached = wf === w.t ? cachedDerived(w.t, isConstantInput(node.inputs[1]), 'filter-channels-last', () => tf.keep(filterChannelsLast(tf, w.t))) : undefined;
      const y = compute(tf, node, xf, wf, bf, cached);
      releaseIfNew(xf, x); releaseIfNew(wf, w); if (bf) releaseIfNew(bf, b);
      return [rt(tf, y, x.dtype)];
    },
  };
}

const conv = filterKernel(convNCHW);
const convTranspose = filterKernel(convTransposeNCHW);

/**
 * Subtracts a zero point (scalar, or per output channel for weights along axis 0)
 * and returns float32. Exact for 8-bit data.
 */
function centered(tf: TF, v: RT, zp: RT | undefined, perChannelAxis0: boolean): T {
  return tf.tidy(() => {
    const f = tf.cast(v.t, 'float32');
    if (!zp) return f;
    let z = tf.cast(zp.t, 'float32');
    if (perChannelAxis0 && z.size > 1) z = tf.reshape(z, [z.size, ...new Array<number>(v.t.rank - 1).fill(1)]);
    else z = tf.reshape(z, []);
    return tf.sub(f, z);
  });
}

const convInteger: KernelDef = {
  check: checkRank,
  run({ tf, node, inputs }: KernelContext): RT[] {
    const x = need(node, inputs, 0, 'x');
    const w = need(node, inputs, 1, 'w');
    const xc = centered(tf, x, inputs[2], false);
    const wc = centered(tf, w, inputs[3], true);
    const y = convNCHW(tf, node, xc, wc, undefined);
    xc.dispose(); wc.dispose();
    const yi = tf.tidy(() => tf.cast(tf.round(y), 'int32'));
    y.dispose();
    return [rt(tf, yi, 'int32')];
  },
};

const qlinearConv: KernelDef = {
  check: checkRank,
  run({ tf, node, inputs }: KernelContext): RT[] {
    const x = need(node, inputs, 0, 'x');
    const xScale = need(node, inputs, 1, 'x_scale');
    const w = need(node, inputs, 3, 'w');
    const wScale = need(node, inputs, 4, 'w_scale');
    const yScale = need(node, inputs, 6, 'y_scale');
    const yZp = inputs[7];
    const bias = inputs[8];
    const xc = centered(tf, x, inputs[2], false);
    const wc = centered(tf, w, inputs[5], true);
    const bf = bias ? tf.cast(bias.t, 'float32') : undefined;
    const acc = convNCHW(tf, node, xc, wc, bf);
    xc.dispose(); wc.dispose(); bf?.dispose();
    const outDtype = yZp?.dtype ?? x.dtype;
    const [lo, hi] = intRange(outDtype);
    const y = tf.tidy(() => {
      const m = acc.shape[1]!;
      let ws = tf.cast(wScale.t, 'float32');
      ws = ws.size > 1 ? tf.reshape(ws, [1, m, ...new Array<number>(acc.rank - 2).fill(1)]) : tf.reshape(ws, []);
      const scale = tf.div(tf.mul(tf.reshape(tf.cast(xScale.t, 'float32'), []), ws), tf.reshape(tf.cast(yScale.t, 'float32'), []));
      let q = tf.round(tf.mul(acc, scale));
      if (yZp) q = tf.add(q, tf.reshape(tf.cast(yZp.t, 'float32'), []));
      return tf.cast(tf.clipByValue(q, lo, hi), 'int32');
    });
    acc.dispose();
    return [rt(tf, y, outDtype)];
  },
};

export const convKernels = {
  Conv: conv,
  ConvTranspose: convTranspose,
  ConvInteger: convInteger,
  QLinearConv: qlinearConv,
};
