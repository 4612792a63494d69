/**
 * Resize (nearest/linear/cubic with every ONNX coordinate transformation) and GridSample.
 * Resize is separable: each resized axis becomes a few gathers along that axis, each
 * weighted by a per-output-position coefficient, so the work stays on tfjs kernels.
 */
import type { Node } from '../../../ir/graph.js';
import type { KernelContext, KernelDef, RT, TF } from '../types.js';
import {
  fromValues, intRange, invalidInput, isIntCarried, need, normAxis, readNumbers, rt, type T,
} from './util.js';

const MODES = ['nearest', 'linear', 'cubic'];
const COORD_MODES = ['half_pixel', 'pytorch_half_pixel', 'align_corners', 'asymmetric', 'tf_half_pixel_for_nn', 'tf_crop_and_resize', 'half_pixel_symmetric'];
const NEAREST_MODES = ['round_prefer_floor', 'round_prefer_ceil', 'floor', 'ceil'];

function checkResize(node: Node): string | undefined {
  const mode = node.attrString('mode', 'nearest');
  if (!MODES.includes(mode)) return `mode '${mode}' is not one of ${MODES.join(', ')}`;
  const ct = node.attrString('coordinate_transformation_mode', 'half_pixel');
  if (!COORD_MODES.includes(ct)) return `coordinate_transformation_mode '${ct}' is not supported`;
  const nm = node.attrString('nearest_mode', 'round_prefer_floor');
  if (!NEAREST_MODES.includes(nm)) return `nearest_mode '${nm}' is not supported`;
  if (node.attrInt('antialias', 0) !== 0) return 'antialias=1 is not supported';
  const kp = node.attrString('keep_aspect_ratio_policy', 'stretch');
  if (!['stretch', 'not_larger', 'not_smaller'].includes(kp)) return `keep_aspect_ratio_policy '${kp}' is unknown`;
  return undefined;
}

/** Taps of a 1-D resampling: for each tap, source indices and weights per output position. */
interface AxisPlan {
  idx: Int32Array[];
  w: Float32Array[] | undefined;
  /** 1 where the output position is inside the source, 0 where extrapolation_value goes. */
  inside: Float32Array | undefined;
}

function cubicWeight(t: number, a: number): number {
  const x = Math.abs(t);
  if (x <= 1) return ((a + 2) * x - (a + 3)) * x * x + 1;
  if (x < 2) return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a;
  return 0;
}

function roundNearest(x: number, mode: string): number {
  switch (mode) {
    case 'floor': return Math.floor(x);
    case 'ceil': return Math.ceil(x);
    case 'round_prefer_ceil': return Math.floor(x + 0.5);
    default: return x - Math.floor(x) === 0.5 ? Math.floor(x) : Math.round(x);
  }
}

function planAxis(node: Node, inLen: number, outLen: number, scale: number, roiStart: number, roiEnd: number): AxisPlan {
  const mode = node.attrString('mode', 'nearest');
  const ct = node.attrString('coordinate_transformation_mode', 'half_pixel');
  const nearestMode = node.attrString('nearest_mode', 'round_prefer_floor');
  const a = node.attrFloat('cubic_coeff_a', -0.75);
  const exclude = node.attrInt('exclude_outside', 0) === 1;
  const taps = mode === 'nearest' ? 1 : mode === 'linear' ? 2 : 4;
  const idx = Array.from({ length: taps }, () => new Int32Array(outLen));
  const w = mode === 'nearest' ? undefined : Array.from({ length: taps }, () => new Float32Array(outLen));
  let inside: Float32Array | undefined;
  // The reference resizes to a real-valued length (scale * input) in the corner-aligned formulas.
  const resizedLen = scale * inLen;
  const clamp = (i: number) => Math.min(Math.max(i, 0), inLen - 1);
  for (let j = 0; j < outLen; j++) {
    let x: number;
    switch (ct) {
      case 'half_pixel': x = (j + 0.5) / scale - 0.5; break;
      case 'half_pixel_symmetric': {
        const adj = outLen / (scale * inLen);
        const center = inLen / 2;
        const off = center * (1 - adj);
        x = off + (j + 0.5) / scale - 0.5;
        break;
      }
      case 'pytorch_half_pixel': x = resizedLen === 1 ? -0.5 : (j + 0.5) / scale - 0.5; break;
      case 'align_corners': x = resizedLen === 1 ? 0 : (j * (inLen - 1)) / (resizedLen - 1); break;
      case 'asymmetric': x = j / scale; break;
      case 'tf_half_pixel_for_nn': x = (j + 0.5) / scale; break;
      case 'tf_crop_and_resize':
        x = resizedLen !== 1
          ? roiStart * (inLen - 1) + (j * (roiEnd - roiStart) * (inLen - 1)) / (resizedLen - 1)
          : 0.5 * (roiStart + roiEnd) * (inLen - 1);
        if (x < 0 || x > inLen - 1) {
          inside ??= new Float32Array(outLen).fill(1);
          inside[j] = 0;
        }
        break;
      default: throw invalidInput(node, `coordinate_transformation_mode '${ct}' is unknown`);
    }
    if (mode === 'nearest') {
      idx[0]![j] = clamp(roundNearest(x, nearestMode));
      continue;
    }
    const x0 = Math.floor(x);
    const f = x - x0;
    if (mode === 'linear') {
      idx[0]![j] = clamp(x0);
      idx[1]![j] = clamp(x0 + 1);
      w![0]![j] = 1 - f;
      w![1]![j] = f;
      continue;
    }
    const ws = [cubicWeight(f + 1, a), cubicWeight(f, a), cubicWeight(1 - f, a), cubicWeight(2 - f, a)];
    const is = [x0 - 1, x0, x0 + 1, x0 + 2];
    if (exclude) {
      let sum = 0;
      for (let t = 0; t < 4; t++) {
        if (is[t]! < 0 || is[t]! >= inLen) ws[t] = 0;
        sum += ws[t]!;
      }
      if (sum !== 0) for (let t = 0; t < 4; t++) ws[t] = ws[t]! / sum;
    }
    for (let t = 0; t < 4; t++) {
      idx[t]![j] = clamp(is[t]!);
      w![t]![j] = ws[t]!;
    }
  }
  return { idx, w, inside };
}

/** Applies one axis plan to `x` (float32) along `axis`. */
function applyPlan(tf: TF, x: T, axis: number, plan: AxisPlan, extrapolation: number): T {
  return tf.tidy(() => {
    const bshape = x.shape.map((_, i) => (i === axis ? plan.idx[0]!.length : 1));
    let acc: T | undefined;
    plan.idx.forEach((ix, t) => {
      let g = tf.gather(x, tf.tensor1d(ix, 'int32'), axis);
      if (plan.w) g = tf.mul(g, tf.reshape(tf.tensor1d(plan.w[t]!, 'float32'), bshape));
      acc = acc ? tf.add(acc, g) : g;
    });
    let y = acc!;
    if (plan.inside) {
      const m = tf.reshape(tf.tensor1d(plan.inside, 'float32'), bshape);
      y = tf.add(tf.mul(y, m), tf.mul(tf.sub(1, m), extrapolation));
    }
    return y;
  });
}

const resize: KernelDef = {
  check: checkResize,
  run({ tf, node, inputs }: KernelContext): RT[] {
    const x = need(node, inputs, 0, 'X');
    const r = x.t.rank;
    const axesAttr = node.attrInts('axes');
    const axes = axesAttr && axesAttr.length ? axesAttr.map((a) => normAxis(node, a, r)) : Array.from({ length: r }, (_, i) => i);
    const roiIn = readNumbers(inputs[1]);
    const scalesIn = readNumbers(inputs[2]);
    const sizesIn = readNumbers(inputs[3]);
    const inShape = x.t.shape;
    const outShape = inShape.slice();
    const scales = inShape.map(() => 1);
    const ct = node.attrString('coordinate_transformation_mode', 'half_pixel');
    const roiStart = inShape.map(() => 0);
    const roiEnd = inShape.map(() => 1);
    if (ct === 'tf_crop_and_resize' && roiIn && roiIn.length) {
      if (roiIn.length !== 2 * axes.length) throw invalidInput(node, `roi has ${roiIn.length} values for ${axes.length} axes`);
      axes.forEach((a, i) => { roiStart[a] = roiIn[i]!; roiEnd[a] = roiIn[i + axes.length]!; });
    }
    if (sizesIn && sizesIn.length) {
      if (sizesIn.length !== axes.length) throw invalidInput(node, `sizes has ${sizesIn.length} values for ${axes.length} axes`);
      const policy = node.attrString('keep_aspect_ratio_policy', 'stretch');
      if (policy === 'stretch') {
        axes.forEach((a, i) => { outShape[a] = sizesIn[i]!; scales[a] = sizesIn[i]! / inShape[a]!; });
      } else {
        const ratios = axes.map((a, i) => sizesIn[i]! / inShape[a]!);
        const s = policy === 'not_larger' ? Math.min(...ratios) : Math.max(...ratios);
        axes.forEach((a) => { scales[a] = s; outShape[a] = Math.round(s * inShape[a]!); });
      }
    } else if (scalesIn && scalesIn.length) {
      if (scalesIn.length !== axes.length) throw invalidInput(node, `scales has ${scalesIn.length} values for ${axes.length} axes`);
      axes.forEach((a, i) => {
        const s = scalesIn[i]!;
        if (!(s > 0)) throw invalidInput(node, `scale ${s} must be positive`);
        scales[a] = s;
        outShape[a] = Math.floor(inShape[a]! * (roiEnd[a]! - roiStart[a]!) * s);
      });
    } else {
      throw invalidInput(node, 'neither scales nor sizes is given');
    }
    const extrapolation = node.attrFloat('extrapolation_value', 0);
    let cur = x.t.dtype === 'float32' ? x.t : tf.cast(x.t, 'float32');
    for (let a = 0; a < r; a++) {
      const same = outShape[a] === inShape[a] && scales[a] === 1 && ct !== 'tf_crop_and_resize';
      if (same) continue;
      if (outShape[a] === 0 || inShape[a] === 0) {
        const z = tf.zeros(outShape.map((d, i) => (i <= a ? d : cur.shape[i]!)));
        if (cur !== x.t) cur.dispose();
        cur = z;
        continue;
      }
      const plan = planAxis(node, inShape[a]!, outShape[a]!, scales[a]!, roiStart[a]!, roiEnd[a]!);
      const next = applyPlan(tf, cur, a, plan, extrapolation);
      if (cur !== x.t) cur.dispose();
      cur = next;
    }
    if (cur === x.t) cur = tf.clone(x.t);
    if (isIntCarried(x.dtype)) {
      const [lo, hi] = intRange(x.dtype);
      const c = cur;
      cur = tf.tidy(() => tf.cast(tf.clipByValue(tf.round(c), lo, hi), 'int32'));
      c.dispose();
    }
    return [rt(tf, cur, x.dtype)];
  },
};

/** PyTorch/ONNX reflection of a coordinate into [low/2, high/2]. */
function reflect(x: number, twiceLow: number, twiceHigh: number): number {
  if (twiceLow === twiceHigh) return 0;
  const min = twiceLow / 2;
  const span = (twiceHigh - twiceLow) / 2;
  x = Math.abs(x - min);
  const extra = x % span;
  const flips = Math.floor(x / span);
  return flips % 2 === 0 ? extra + min : span - extra + min;
}

const gridSample: KernelDef = {
  check(node) {
    const mode = node.attrString('mode', 'bilinear');
    if (!['bilinear', 'nearest', 'bicubic', 'linear', 'cubic'].includes(mode)) return `mode '${mode}' is not supported`;
    const pm = node.attrString('padding_mode', 'zeros');
    if (!['zeros', 'border', 'reflection'].includes(pm)) return `padding_mode '${pm}' is not supported`;
    return undefined;
  },
  run({ tf, node, inputs }: KernelContext): RT[] {
    const x = need(node, inputs, 0, 'X');
    const grid = need(node, inputs, 1, 'grid');
    if (x.t.rank !== 4) throw invalidInput(node, `only 4-D inputs are supported, got rank ${x.t.rank}`);
    let mode = node.attrString('mode', 'bilinear');
    if (mode === 'linear') mode = 'bilinear';
    if (mode === 'cubic') mode = 'bicubic';
    const pm = node.attrString('padding_mode', 'zeros');
    const ac = node.attrInt('align_corners', 0) === 1;
    const [n, c, h, w] = x.t.shape as [number, number, number, number];
    const [, oh, ow] = grid.t.shape as [number, number, number, number];
    const xv = x.t.dataSync() as ArrayLike<number>;
    const gv = grid.t.dataSync() as ArrayLike<number>;
    const out = new Float64Array(n * c * oh * ow);
    const unnorm = (g: number, size: number) => (ac ? ((g + 1) / 2) * (size - 1) : ((g + 1) * size - 1) / 2);
    const pad = (v: number, size: number) => {
      if (pm === 'border') return Math.min(Math.max(v, 0), size - 1);
      if (pm === 'reflection') {
        const r = ac ? reflect(v, 0, 2 * (size - 1)) : reflect(v, -1, 2 * size - 1);
        return Math.min(Math.max(r, 0), size - 1);
      }
      return v;
    };
    const read = (base: number, yy: number, xx: number) => (yy < 0 || yy >= h || xx < 0 || xx >= w ? 0 : xv[base + yy * w + xx]!);
    const readPadded = (base: number, yy: number, xx: number) =>
      pm === 'zeros' ? read(base, yy, xx) : read(base, Math.round(pad(yy, h)), Math.round(pad(xx, w)));
    const rint = (v: number) => { const f = Math.floor(v); const d = v - f; return d > 0.5 || (d === 0.5 && f % 2 !== 0) ? f + 1 : f; };
    for (let b = 0; b < n; b++) {
      for (let i = 0; i < oh; i++) {
        for (let j = 0; j < ow; j++) {
          const gi = ((b * oh + i) * ow + j) * 2;
          const gx = unnorm(gv[gi]!, w);
          const gy = unnorm(gv[gi + 1]!, h);
          for (let ch = 0; ch < c; ch++) {
            const base = (b * c + ch) * h * w;
            let v: number;
            if (mode === 'bicubic') {
              const x0 = Math.floor(gx), y0 = Math.floor(gy);
              const tx = gx - x0, ty = gy - y0;
              const wx = [cubicWeight(tx + 1, -0.75), cubicWeight(tx, -0.75), cubicWeight(1 - tx, -0.75), cubicWeight(2 - tx, -0.75)];
              const wy = [cubicWeight(ty + 1, -0.75), cubicWeight(ty, -0.75), cubicWeight(1 - ty, -0.75), cubicWeight(2 - ty, -0.75)];
              v = 0;
              for (let p = 0; p < 4; p++) for (let q = 0; q < 4; q++) v += wy[p]! * wx[q]! * readPadded(base, y0 - 1 + p, x0 - 1 + q);
            } else {
              const px = pad(gx, w), py = pad(gy, h);
              if (mode === 'nearest') v = read(base, rint(py), rint(px));
              else {
                const x0 = Math.floor(px), y0 = Math.floor(py);
                const fx = px - x0, fy = py - y0;
                v = (1 - fy) * ((1 - fx) * read(base, y0, x0) + fx * read(base, y0, x0 + 1)) +
                  fy * ((1 - fx) * read(base, y0 + 1, x0) + fx * read(base, y0 + 1, x0 + 1));
              }
            }
            out[((b * c + ch) * oh + i) * ow + j] = v;
          }
        }
      }
    }
    return [fromValues(tf, out, [n, c, oh, ow], x.dtype)];
  },
};

export const resizeKernels = {
  Resize: resize,
  GridSample: gridSample,
};
