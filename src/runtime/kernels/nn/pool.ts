/**
 * Pooling: AveragePool, MaxPool (with the Indices output), LpPool, the Global* pools,
 * MaxUnpool, MaxRoiPool and RoiAlign.
 */
import type * as tfc from '@tensorflow/tfjs-core';
import type { Node } from '../../../ir/graph.js';
import type { KernelContext, KernelDef, RT, TF } from '../types.js';
import { effectiveKernel, resolveWindow, type Window } from './spatial.js';
import {
  fromValues, invalidInput, isIntCarried, need, readNumbers, rt, shapeSize, stridesOf,
  toChannelsFirstPerm, toChannelsLastPerm, wantsOutput, type T,
} from './util.js';

interface PoolGeometry extends Window {
  outSizes: number[];
  /** Padding added after padsEnd so that ceil_mode windows fit. */
  extraEnd: number[];
}

function poolGeometry(node: Node, inSizes: number[]): PoolGeometry {
  const kernel = node.attrInts('kernel_shape');
  if (!kernel || kernel.length !== inSizes.length) {
    throw invalidInput(node, `kernel_shape ${kernel ? `[${kernel}]` : 'is missing'}; the input has ${inSizes.length} spatial axes`);
  }
  const win = resolveWindow(node, inSizes, kernel);
  const ceil = node.attrInt('ceil_mode', 0) === 1;
  const autoPad = node.attrString('auto_pad', 'NOTSET');
  const outSizes: number[] = [];
  const extraEnd: number[] = [];
  for (let i = 0; i < inSizes.length; i++) {
    const keff = effectiveKernel(win.kernel[i]!, win.dilations[i]!);
    const span = inSizes[i]! + win.padsBegin[i]! + win.padsEnd[i]! - keff;
    let out: number;
    if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') out = Math.ceil(inSizes[i]! / win.strides[i]!);
    else if (autoPad === 'VALID') out = Math.floor((inSizes[i]! - keff) / win.strides[i]!) + 1;
    else if (ceil) {
      out = Math.ceil(span / win.strides[i]!) + 1;
      // The last window must start inside the input or the begin padding.
      if ((out - 1) * win.strides[i]! >= inSizes[i]! + win.padsBegin[i]!) out--;
    } else out = Math.floor(span / win.strides[i]!) + 1;
    if (out <= 0) throw invalidInput(node, `the pooling window does not fit spatial axis ${i} (size ${inSizes[i]})`);
    outSizes.push(out);
    extraEnd.push(Math.max(0, (out - 1) * win.strides[i]! + keff - (inSizes[i]! + win.padsBegin[i]! + win.padsEnd[i]!)));
  }
  return { ...win, outSizes, extraEnd };
}

function checkPool(node: Node): string | undefined {
  const k = node.attrInts('kernel_shape');
  if (!k) return 'kernel_shape attribute is required';
  if (k.length < 1 || k.length > 3) return `${k.length}-D pooling is not supported (1-D, 2-D and 3-D are)`;
  return undefined;
}

/** Pads channels-first `x` on its spatial axes (begin, end + extra) with `value`. */
function padSpatial(tf: TF, x: T, g: PoolGeometry, value: number): T {
  const any = g.padsBegin.some((p) => p) || g.padsEnd.some((p) => p) || g.extraEnd.some((p) => p);
  if (!any) return x;
  const pads: [number, number][] = [[0, 0], [0, 0], ...g.padsBegin.map((b, i) => [b, g.padsEnd[i]! + g.extraEnd[i]!] as [number, number])];
  return tf.pad(x, pads, value);
}

/**
 * Window reduction over a padded channels-first tensor: native tfjs pools for 1-3 spatial axes
 * without dilation, strided slices otherwise. 'avg' divides by the full kernel size.
 */
function windowReduce(tf: TF, xp: T, g: PoolGeometry, kind: 'max' | 'avg'): T {
  const r = xp.rank - 2;
  const native = r >= 1 && r <= 3 && g.dilations.every((d) => d === 1);
  return tf.tidy(() => {
    if (native) {
      let xl = tf.transpose(xp, toChannelsLastPerm(xp.rank));
      let k = g.kernel;
      let s = g.strides;
      if (r === 1) {
        xl = tf.expandDims(xl, 1);
        k = [1, k[0]!];
        s = [1, s[0]!];
      }
      let y: T;
      if (r <= 2) {
        const k2 = k as [number, number];
        const s2 = s as [number, number];
        y = kind === 'max' ? tf.maxPool(xl as tfc.Tensor4D, k2, s2, 'valid') : tf.avgPool(xl as tfc.Tensor4D, k2, s2, 'valid');
      } else {
        const k3 = k as [number, number, number];
        const s3 = s as [number, number, number];
        y = kind === 'max' ? maxPool3dSeparable(tf, xl, k3, s3) : tf.avgPool3d(xl as tfc.Tensor5D, k3, s3, 'valid');
      }
      if (r === 1) y = tf.squeeze(y, [1]);
      // A valid pool may produce more windows than wanted when extra padding was added for ceil mode.
      const want = [y.shape[0]!, ...g.outSizes, y.shape[y.rank - 1]!];
      if (want.some((d, i) => d !== y.shape[i])) y = tf.slice(y, new Array<number>(y.rank).fill(0), want);
      return tf.transpose(y, toChannelsFirstPerm(y.rank));
    }
    // Generic: one strided slice per kernel offset.
    const offsets = enumerate(g.kernel);
    let acc: T | undefined;
    for (const off of offsets) {
      const begin = [0, 0, ...off.map((o, i) => o * g.dilations[i]!)];
      const end = [xp.shape[0]!, xp.shape[1]!, ...off.map((o, i) => o * g.dilations[i]! + (g.outSizes[i]! - 1) * g.strides[i]! + 1)];
      const sl = tf.stridedSlice(xp, begin, end, [1, 1, ...g.strides]);
      acc = acc === undefined ? sl : kind === 'max' ? tf.maximum(acc, sl) : tf.add(acc, sl);
    }
    return kind === 'avg' ? tf.div(acc!, shapeSize(g.kernel)) : acc!;
  });
}

/**
 * 3-D max pooling as two 2-D pools (H/W, then D): the wasm MaxPool3D kernel starts its
 * running maximum at the smallest positive float, so all-negative windows come out wrong.
 */
function maxPool3dSeparable(tf: TF, x: T, k: [number, number, number], s: [number, number, number]): T {
  const [n, d, h, w, c] = x.shape as [number, number, number, number, number];
  const hw = tf.maxPool(tf.reshape(x, [n * d, h, w, c]) as tfc.Tensor4D, [k[1], k[2]], [s[1], s[2]], 'valid');
  const [, oh, ow] = hw.shape as [number, number, number, number];
  const dd = tf.maxPool(tf.reshape(hw, [n, d, oh * ow, c]) as tfc.Tensor4D, [k[0], 1], [s[0], 1], 'valid');
  return tf.reshape(dd, [n, dd.shape[1]!, oh, ow, c]);
}

function enumerate(kernel: number[]): number[][] {
  let out: number[][] = [[]];
  for (const k of kernel) {
    const next: number[][] = [];
    for (const o of out) for (let i = 0; i < k; i++) next.push([...o, i]);
    out = next;
  }
  return out;
}

const averagePool: KernelDef = {
  check: checkPool,
  run({ tf, node, inputs }: KernelContext): RT[] {
    const x = need(node, inputs, 0, 'X');
    const g = poolGeometry(node, x.t.shape.slice(2));
    const includePad = node.attrInt('count_include_pad', 0) === 1;
    const y = tf.tidy(() => {
      const xf = x.t.dtype === 'float32' ? x.t : tf.cast(x.t, 'float32');
      const xp = padSpatial(tf, xf, g, 0);
      const avg = windowReduce(tf, xp, g, 'avg');
      const hasPads = g.padsBegin.some((p) => p) || g.padsEnd.some((p) => p);
      const hasExtra = g.extraEnd.some((p) => p);
      if (!hasExtra && (includePad || !hasPads)) return avg;
      // Divide window sums by the number of counted cells: pool a mask of ones.
      const ones = tf.ones([1, 1, ...x.t.shape.slice(2)]);
      const mask = includePad
        ? tf.pad(tf.pad(ones, [[0, 0], [0, 0], ...g.padsBegin.map((b, i) => [b, g.padsEnd[i]!] as [number, number])], 1),
          [[0, 0], [0, 0], ...g.extraEnd.map((e) => [0, e] as [number, number])])
        : padSpatial(tf, ones, g, 0);
      const frac = windowReduce(tf, mask, g, 'avg');
      return tf.div(avg, frac);
    });
    return [rt(tf, y, x.dtype)];
  },
};

const lpPool: KernelDef = {
  check: checkPool,
  run({ tf, node, inputs }: KernelContext): RT[] {
    const x = need(node, inputs, 0, 'X');
    const g = poolGeometry(node, x.t.shape.slice(2));
    const p = node.attrInt('p', 2);
    const y = tf.tidy(() => {
      const xf = tf.cast(x.t, 'float32');
      const powered = tf.pow(tf.abs(xf), p);
      const xp = padSpatial(tf, powered, g, 0);
      const sum = tf.mul(windowReduce(tf, xp, g, 'avg'), shapeSize(g.kernel));
      return tf.pow(sum, 1 / p);
    });
    return [rt(tf, y, x.dtype)];
  },
};

/** MaxPool in plain JS with the flat argmax indices (the Indices output). */
function maxPoolWithIndices(node: Node, data: ArrayLike<number>, shape: number[], g: PoolGeometry): { values: Float64Array; indices: Int32Array; outShape: number[] } {
  const [n, c] = [shape[0]!, shape[1]!];
  const sp = shape.slice(2);
  const r = sp.length;
  const outShape = [n, c, ...g.outSizes];
  const outPlane = shapeSize(g.outSizes);
  const inPlane = shapeSize(sp);
  const values = new Float64Array(n * c * outPlane);
  const indices = new Int32Array(n * c * outPlane);
  const colMajor = node.attrInt('storage_order', 0) === 1;
  const inStrides = stridesOf(sp);
  const outStrides = stridesOf(g.outSizes);
  const offsets = enumerate(g.kernel);
  const pos = new Array<number>(r);
  for (let plane = 0; plane < n * c; plane++) {
    const base = plane * inPlane;
    for (let o = 0; o < outPlane; o++) {
      let best = -Infinity;
      let bestIdx = -1;
      for (const off of offsets) {
        let inside = true;
        let flat = 0;
        for (let i = 0; i < r; i++) {
          const oi = Math.floor(o / outStrides[i]!) % g.outSizes[i]!;
          const p = oi * g.strides[i]! - g.padsBegin[i]! + off[i]! * g.dilations[i]!;
          if (p < 0 || p >= sp[i]!) { inside = false; break; }
          pos[i] = p;
          flat += p * inStrides[i]!;
        }
        if (!inside) continue;
        const v = data[base + flat]!;
        if (v > best || bestIdx < 0) {
          best = v;
          if (colMajor) {
            let cm = 0;
            let mul = 1;
            for (let i = 0; i < r; i++) { cm += pos[i]! * mul; mul *= sp[i]!; }
            bestIdx = base + cm;
          } else bestIdx = base + flat;
        }
      }
      values[plane * outPlane + o] = best;
      indices[plane * outPlane + o] = bestIdx;
    }
  }
  return { values, indices, outShape };
}

const maxPool: KernelDef = {
  check: checkPool,
  run({ tf, node, inputs }: KernelContext): RT[] {
    const x = need(node, inputs, 0, 'X');
    const g = poolGeometry(node, x.t.shape.slice(2));
    if (wantsOutput(node, 1)) {
      const res = maxPoolWithIndices(node, x.t.dataSync() as ArrayLike<number>, x.t.shape, g);
      return [fromValues(tf, res.values, res.outShape, x.dtype), fromValues(tf, res.indices, res.outShape, 'int64')];
    }
    const y = tf.tidy(() => {
      const xf = x.t.dtype === 'float32' ? x.t : tf.cast(x.t, 'float32');
      const xp = padSpatial(tf, xf, g, -Infinity);
      const m = windowReduce(tf, xp, g, 'max');
      return isIntCarried(x.dtype) ? tf.cast(m, 'int32') : m;
    });
    return [rt(tf, y, x.dtype)];
  },
};

function globalPool(kind: 'avg' | 'max' | 'lp'): KernelDef {
  return {
    run({ tf, node, inputs }: KernelContext): RT[] {
      const x = need(node, inputs, 0, 'X');
      const axes = Array.from({ length: x.t.rank - 2 }, (_, i) => i + 2);
      const y = tf.tidy(() => {
        const xf = tf.cast(x.t, 'float32');
        if (kind === 'avg') return tf.mean(xf, axes, true);
        if (kind === 'max') return tf.max(xf, axes, true);
        const p = node.attrInt('p', 2);
        return tf.pow(tf.sum(tf.pow(tf.abs(xf), p), axes, true), 1 / p);
      });
      return [rt(tf, y, x.dtype)];
    },
  };
}

const maxUnpool: KernelDef = {
  check: (node) => (node.attrInts('kernel_shape') ? undefined : 'kernel_shape attribute is required'),
  run({ tf, node, inputs }: KernelContext): RT[] {
    const x = need(node, inputs, 0, 'X');
    const ind = need(node, inputs, 1, 'I');
    const outShapeIn = readNumbers(inputs[2]);
    const sp = x.t.shape.slice(2);
    const r = sp.length;
    const kernel = node.attrInts('kernel_shape')!;
    const strides = node.attrInts('strides', new Array<number>(r).fill(1));
    const pads = node.attrInts('pads', new Array<number>(2 * r).fill(0));
    // Indices are flat positions in the default unpooled shape; an explicit output_shape
    // keeps each element's coordinates (the extra rows/columns stay zero).
    const dflt = [x.t.shape[0]!, x.t.shape[1]!, ...sp.map((s, i) => (s - 1) * strides[i]! + kernel[i]! - pads[i]! - pads[i + r]!)];
    const outShape = outShapeIn && outShapeIn.length ? outShapeIn : dflt;
    if (outShape.length !== dflt.length) throw invalidInput(node, `output_shape [${outShape}] must have rank ${dflt.length}`);
    const dStr = stridesOf(dflt);
    const oStr = stridesOf(outShape);
    const dTotal = shapeSize(dflt);
    const total = shapeSize(outShape);
    const out = new Float64Array(total);
    const xv = x.t.dataSync() as ArrayLike<number>;
    const iv = ind.t.dataSync() as ArrayLike<number>;
    for (let i = 0; i < xv.length; i++) {
      const k = iv[i]!;
      if (k < 0 || k >= dTotal) throw invalidInput(node, `index ${k} is outside the unpooled tensor of ${dTotal} elements`);
      let o = 0;
      for (let d = 0; d < dflt.length; d++) {
        const c = Math.floor(k / dStr[d]!) % dflt[d]!;
        if (c >= outShape[d]!) throw invalidInput(node, `index ${k} falls outside output_shape [${outShape}]`);
        o += c * oStr[d]!;
      }
      out[o] = xv[i]!;
    }
    return [fromValues(tf, out, outShape, x.dtype)];
  },
};

const maxRoiPool: KernelDef = {
  run({ tf, node, inputs }: KernelContext): RT[] {
    const x = need(node, inputs, 0, 'X');
    const rois = need(node, inputs, 1, 'rois');
    const pooled = node.attrInts('pooled_shape');
    if (!pooled || pooled.length !== 2) throw invalidInput(node, 'pooled_shape must hold 2 values');
    const scale = node.attrFloat('spatial_scale', 1);
    const [, c, h, w] = x.t.shape as number[];
    const [ph, pw] = pooled as [number, number];
    const xv = x.t.dataSync() as ArrayLike<number>;
    const rv = rois.t.dataSync() as ArrayLike<number>;
    const nr = rois.t.shape[0]!;
    const out = new Float64Array(nr * c! * ph * pw);
    for (let n = 0; n < nr; n++) {
      const b = rv[n * 5]!;
      const x1 = Math.round(rv[n * 5 + 1]! * scale);
      const y1 = Math.round(rv[n * 5 + 2]! * scale);
      const x2 = Math.round(rv[n * 5 + 3]! * scale);
      const y2 = Math.round(rv[n * 5 + 4]! * scale);
      const rh = Math.max(y2 - y1 + 1, 1);
      const rw = Math.max(x2 - x1 + 1, 1);
      for (let ch = 0; ch < c!; ch++) {
        const base = (b * c! + ch) * h! * w!;
        for (let i = 0; i < ph; i++) {
          const hs = Math.min(Math.max(Math.floor((i * rh) / ph) + y1, 0), h!);
          const he = Math.min(Math.max(Math.ceil(((i + 1) * rh) / ph) + y1, 0), h!);
          for (let j = 0; j < pw; j++) {
            const ws = Math.min(Math.max(Math.floor((j * rw) / pw) + x1, 0), w!);
            const we = Math.min(Math.max(Math.ceil(((j + 1) * rw) / pw) + x1, 0), w!);
            let m = -Infinity;
            for (let yy = hs; yy < he; yy++) for (let xx = ws; xx < we; xx++) m = Math.max(m, xv[base + yy * w! + xx]!);
            out[((n * c! + ch) * ph + i) * pw + j] = he <= hs || we <= ws ? 0 : m;
          }
        }
      }
    }
    return [fromValues(tf, out, [nr, c!, ph, pw], x.dtype)];
  },
};

/** Bilinear sample of one plane at (y, x) with RoiAlign's edge rules. */
function bilinear(plane: ArrayLike<number>, base: number, h: number, w: number, y: number, x: number): number {
  if (y < -1 || y > h || x < -1 || x > w) return 0;
  if (y <= 0) y = 0;
  if (x <= 0) x = 0;
  let y0 = Math.floor(y);
  let x0 = Math.floor(x);
  let y1: number;
  let x1: number;
  if (y0 >= h - 1) { y0 = y1 = h - 1; y = y0; } else y1 = y0 + 1;
  if (x0 >= w - 1) { x0 = x1 = w - 1; x = x0; } else x1 = x0 + 1;
  const ly = y - y0, lx = x - x0, hy = 1 - ly, hx = 1 - lx;
  return hy * hx * plane[base + y0 * w + x0]! + hy * lx * plane[base + y0 * w + x1]! +
    ly * hx * plane[base + y1 * w + x0]! + ly * lx * plane[base + y1 * w + x1]!;
}

/**
 * RoiAlign. Mode 'max' takes the largest bilinearly interpolated sample of each bin
 * (implementations disagree here: onnxruntime warns its own max mode is wrong).
 */
const roiAlign: KernelDef = {
  check(node) {
    const mode = node.attrString('mode', 'avg');
    if (mode !== 'avg' && mode !== 'max') return `mode '${mode}' is not avg or max`;
    const ct = node.attrString('coordinate_transformation_mode', 'half_pixel');
    if (ct !== 'half_pixel' && ct !== 'output_half_pixel') return `coordinate_transformation_mode '${ct}' is unknown`;
    return undefined;
  },
  run({ tf, node, inputs }: KernelContext): RT[] {
    const x = need(node, inputs, 0, 'X');
    const rois = need(node, inputs, 1, 'rois');
    const bi = need(node, inputs, 2, 'batch_indices');
    const mode = node.attrString('mode', 'avg');
    const oh = node.attrInt('output_height', 1);
    const ow = node.attrInt('output_width', 1);
    const sr = node.attrInt('sampling_ratio', 0);
    const scale = node.attrFloat('spatial_scale', 1);
    const offset = node.attrString('coordinate_transformation_mode', 'half_pixel') === 'half_pixel' ? 0.5 : 0;
    const [, c, h, w] = x.t.shape as number[];
    const xv = x.t.dataSync() as ArrayLike<number>;
    const rv = rois.t.dataSync() as ArrayLike<number>;
    const bv = bi.t.dataSync() as ArrayLike<number>;
    const nr = rois.t.shape[0]!;
    const out = new Float64Array(nr * c! * oh * ow);
    for (let n = 0; n < nr; n++) {
      const b = bv[n]!;
      const sx = rv[n * 4]! * scale - offset;
      const sy = rv[n * 4 + 1]! * scale - offset;
      const ex = rv[n * 4 + 2]! * scale - offset;
      const ey = rv[n * 4 + 3]! * scale - offset;
      let rw = ex - sx;
      let rh = ey - sy;
      if (offset === 0) { rw = Math.max(rw, 1); rh = Math.max(rh, 1); }
      const binH = rh / oh;
      const binW = rw / ow;
      const gh = sr > 0 ? sr : Math.ceil(rh / oh);
      const gw = sr > 0 ? sr : Math.ceil(rw / ow);
      const count = Math.max(gh * gw, 1);
      for (let ch = 0; ch < c!; ch++) {
        const base = (b * c! + ch) * h! * w!;
        for (let i = 0; i < oh; i++) {
          for (let j = 0; j < ow; j++) {
            let acc = mode === 'avg' ? 0 : -Infinity;
            for (let iy = 0; iy < gh; iy++) {
              const yy = sy + i * binH + ((iy + 0.5) * binH) / gh;
              for (let ix = 0; ix < gw; ix++) {
                const xx = sx + j * binW + ((ix + 0.5) * binW) / gw;
                const v = bilinear(xv, base, h!, w!, yy, xx);
                if (mode === 'avg') acc += v;
                else acc = Math.max(acc, v);
              }
            }
            out[((n * c! + ch) * oh + i) * ow + j] = mode === 'avg' ? acc / count : acc;
          }
        }
      }
    }
    return [fromValues(tf, out, [nr, c!, oh, ow], x.dtype)];
  },
};

export const poolKernels = {
  AveragePool: averagePool,
  MaxPool: maxPool,
  LpPool: lpPool,
  GlobalAveragePool: globalPool('avg'),
  GlobalMaxPool: globalPool('max'),
  GlobalLpPool: globalPool('lp'),
  MaxUnpool: maxUnpool,
  MaxRoiPool: maxRoiPool,
  RoiAlign: roiAlign,
};
