/**
 * Indexing ops: Gather, GatherElements, GatherND, ScatterElements (and the old Scatter),
 * ScatterND, OneHot, NonZero, Compress, Unique, ReverseSequence.
 * Gathers run on tfjs kernels; scatters and data-dependent shapes are computed in JS.
 */
import type * as tfc from '@tensorflow/tfjs-core';
import type { Node } from '../../../ir/graph.js';
import type { KernelContext, KernelDef, RT, TF } from '../types.js';
import {
  fromValues, invalidInput, jsValues, need, normAxis, readNumbers, readScalar, rt, shapeSize, stridesOf,
  unsupportedNode, type T,
} from './util.js';

/** Indices as int32 with negative values wrapped by `dim` (a number or a broadcastable tensor). */
function wrapIndices(tf: TF, idx: T, dim: number | T): T {
  return tf.tidy(() => {
    const i = idx.dtype === 'int32' ? idx : tf.cast(idx, 'int32');
    const d = typeof dim === 'number' ? tf.scalar(dim, 'int32') : dim;
    return tf.where(tf.less(i, 0), tf.add(i, d), i);
  });
}

function checkRange(node: Node, idx: ArrayLike<number>, dim: number): void {
  for (let i = 0; i < idx.length; i++) {
    const v = idx[i]!;
    if (v < -dim || v >= dim) throw invalidInput(node, `index ${v} is out of range for an axis of size ${dim}`);
  }
}

/** Gathers string values along an axis in JS (tfjs gathers only numbers). */
function gatherStrings(tf: TF, x: RT, idx: number[], idxShape: number[], axis: number): RT {
  const vals = jsValues(x) as string[];
  const shape = x.t.shape;
  const outer = shapeSize(shape.slice(0, axis));
  const inner = shapeSize(shape.slice(axis + 1));
  const d = shape[axis]!;
  const out: string[] = [];
  for (let o = 0; o < outer; o++) {
    for (const k0 of idx) {
      const k = k0 < 0 ? k0 + d : k0;
      for (let i = 0; i < inner; i++) out.push(vals[(o * d + k) * inner + i]!);
    }
  }
  return { t: tf.tensor(out, [...shape.slice(0, axis), ...idxShape, ...shape.slice(axis + 1)], 'string'), dtype: 'string' };
}

const gather: KernelDef = {
  run({ tf, node, inputs }: KernelContext): RT[] {
    const x = need(node, inputs, 0, 'data');
    const ind = need(node, inputs, 1, 'indices');
    const axis = normAxis(node, node.attrInt('axis', 0), x.t.rank);
    const d = x.t.shape[axis]!;
    if (ind.t.size > 0 && ind.t.size <= 4096) checkRange(node, ind.t.dataSync() as ArrayLike<number>, d);
    if (x.t.dtype === 'string') return [gatherStrings(tf, x, readNumbers(ind)!, ind.t.shape, axis)];
    const outShape = [...x.t.shape.slice(0, axis), ...ind.t.shape, ...x.t.shape.slice(axis + 1)];
    if (shapeSize(outShape) === 0) return [{ t: tf.zeros(outShape, x.t.dtype as tfc.DataType), dtype: x.dtype }];
    const y = tf.tidy(() => {
      const i = wrapIndices(tf, ind.t, d);
      const g = tf.gather(x.t, i, axis);
      return g.shape.length === outShape.length && g.shape.every((v, k) => v === outShape[k]) ? g : tf.reshape(g, outShape);
    });
    return [{ t: y, dtype: x.dtype }];
  },
};

const gatherElements: KernelDef = {
  run({ tf, node, inputs }: KernelContext): RT[] {
    const x = need(node, inputs, 0, 'data');
    const ind = need(node, inputs, 1, 'indices');
    const r = x.t.rank;
    if (ind.t.rank !== r) throw invalidInput(node, `indices rank ${ind.t.rank} differs from data rank ${r}`);
    const axis = normAxis(node, node.attrInt('axis', 0), r);
    const s = ind.t.shape;
    if (ind.t.size === 0) return [{ t: tf.zeros(s, x.t.dtype as tfc.DataType), dtype: x.dtype }];
    const dStr = stridesOf(x.t.shape);
    const iStr = stridesOf(s);
    const n = ind.t.size;
    const base = new Int32Array(n);
    for (let p = 0; p < n; p++) {
      let off = 0;
      for (let d = 0; d < r; d++) if (d !== axis) off += (Math.floor(p / iStr[d]!) % s[d]!) * dStr[d]!;
      base[p] = off;
    }
    const y = tf.tidy(() => {
      const i = wrapIndices(tf, ind.t, x.t.shape[axis]!);
      const flatIdx = tf.add(tf.tensor(base, s, 'int32'), tf.mul(i, tf.scalar(dStr[axis]!, 'int32')));
      return tf.reshape(tf.gather(tf.reshape(x.t, [-1]), tf.reshape(flatIdx, [-1])), s);
    });
    return [{ t: y, dtype: x.dtype }];
  },
};

const gatherND: KernelDef = {
  run({ tf, node, inputs }: KernelContext): RT[] {
    const x = need(node, inputs, 0, 'data');
    const ind = need(node, inputs, 1, 'indices');
    const b = node.attrInt('batch_dims', 0);
    const k = ind.t.shape[ind.t.rank - 1]!;
    const ds = x.t.shape;
    if (b + k > ds.length) throw invalidInput(node, `indices address ${k} axes after ${b} batch axes of a rank-${ds.length} input`);
    const outShape = [...ind.t.shape.slice(0, -1), ...ds.slice(b + k)];
    if (shapeSize(outShape) === 0) return [{ t: tf.zeros(outShape, x.t.dtype as tfc.DataType), dtype: x.dtype }];
    const y = tf.tidy(() => {
      const dims = tf.tensor1d(ds.slice(b, b + k), 'int32');
      const i = wrapIndices(tf, ind.t, dims);
      if (b === 0) return tf.reshape(tf.gatherND(x.t, i), outShape);
      const bs = shapeSize(ds.slice(0, b));
      const data2 = tf.reshape(x.t, [bs, ...ds.slice(b)]);
      const m = shapeSize(ind.t.shape.slice(b, -1));
      const idx2 = tf.reshape(i, [bs, m, k]);
      const batch = tf.broadcastTo(tf.reshape(tf.range(0, bs, 1, 'int32'), [bs, 1, 1]), [bs, m, 1]);
      const full = tf.concat([batch, idx2], 2);
      return tf.reshape(tf.gatherND(data2, full), outShape);
    });
    return [{ t: y, dtype: x.dtype }];
  },
};

type Reduce = (a: number, b: number) => number;
function reducer(node: Node): Reduce | undefined {
  const red = node.attrString('reduction', 'none');
  switch (red) {
    case 'none': return undefined;
    case 'add': return (a, b) => a + b;
    case 'mul': return (a, b) => a * b;
    case 'max': return (a, b) => Math.max(a, b);
    case 'min': return (a, b) => Math.min(a, b);
    default: throw unsupportedNode(node, `reduction '${red}' is unknown`);
  }
}

function checkReduction(node: Node): string | undefined {
  const red = node.attrString('reduction', 'none');
  return ['none', 'add', 'mul', 'max', 'min'].includes(red) ? undefined : `reduction '${red}' is unknown`;
}

const scatterElements: KernelDef = {
  check: checkReduction,
  run({ tf, node, inputs }: KernelContext): RT[] {
    const x = need(node, inputs, 0, 'data');
    const ind = need(node, inputs, 1, 'indices');
    const upd = need(node, inputs, 2, 'updates');
    const r = x.t.rank;
    const axis = normAxis(node, node.attrInt('axis', 0), r);
    const red = reducer(node);
    const out = jsValues(x);
    const iv = ind.t.dataSync() as ArrayLike<number>;
    const uv = jsValues(upd);
    const s = ind.t.shape;
    const dStr = stridesOf(x.t.shape);
    const iStr = stridesOf(s);
    const dim = x.t.shape[axis]!;
    for (let p = 0; p < iv.length; p++) {
      let k = iv[p]!;
      if (k < -dim || k >= dim) throw invalidInput(node, `index ${k} is out of range for axis ${axis} of size ${dim}`);
      if (k < 0) k += dim;
      let off = 0;
      for (let d = 0; d < r; d++) off += (d === axis ? k : Math.floor(p / iStr[d]!) % s[d]!) * dStr[d]!;
      out[off] = red ? red(out[off] as number, uv[p] as number) : uv[p]!;
    }
    return [fromValues(tf, out, x.t.shape, x.dtype)];
  },
};

const scatterND: KernelDef = {
  check: checkReduction,
  run({ tf, node, inputs }: KernelContext): RT[] {
    const x = need(node, inputs, 0, 'data');
    const ind = need(node, inputs, 1, 'indices');
    const upd = need(node, inputs, 2, 'updates');
    const red = reducer(node);
    const ds = x.t.shape;
    const k = ind.t.shape[ind.t.rank - 1]!;
    const sliceSize = shapeSize(ds.slice(k));
    const dStr = stridesOf(ds);
    const out = jsValues(x);
    const iv = ind.t.dataSync() as ArrayLike<number>;
    const uv = jsValues(upd);
    const n = k === 0 ? 1 : iv.length / k;
    for (let j = 0; j < n; j++) {
      let off = 0;
      for (let q = 0; q < k; q++) {
        let v = iv[j * k + q]!;
        const dim = ds[q]!;
        if (v < -dim || v >= dim) throw invalidInput(node, `index ${v} is out of range for axis ${q} of size ${dim}`);
        if (v < 0) v += dim;
        off += v * dStr[q]!;
      }
      for (let e = 0; e < sliceSize; e++) {
        const u = uv[j * sliceSize + e]!;
        out[off + e] = red ? red(out[off + e] as number, u as number) : u;
      }
    }
    return [fromValues(tf, out, ds, x.dtype)];
  },
};

const oneHot: KernelDef = {
  run({ tf, node, inputs }: KernelContext): RT[] {
    const ind = need(node, inputs, 0, 'indices');
    const depthV = readScalar(need(node, inputs, 1, 'depth'));
    const vals = need(node, inputs, 2, 'values');
    if (depthV === undefined || depthV < 1) throw invalidInput(node, `depth ${depthV} must be at least 1`);
    const depth = Math.trunc(depthV);
    const outRank = ind.t.rank + 1;
    const axis = normAxis(node, node.attrInt('axis', -1), outRank);
    const y = tf.tidy(() => {
      const i = wrapIndices(tf, tf.cast(tf.floor(tf.cast(ind.t, 'float32')), 'int32'), depth);
      const oh = tf.cast(tf.oneHot(i, depth), 'bool');
      const flatVals = tf.reshape(vals.t, [-1]);
      const off = tf.slice(flatVals, [0], [1]);
      const on = tf.slice(flatVals, [1], [1]);
      let res = tf.where(oh, tf.broadcastTo(on, oh.shape), tf.broadcastTo(off, oh.shape));
      if (axis !== outRank - 1) {
        const perm: number[] = [];
        for (let d = 0; d < outRank - 1; d++) {
          if (d === axis) perm.push(outRank - 1);
          perm.push(d);
        }
        if (perm.length < outRank) perm.push(outRank - 1);
        res = tf.transpose(res, perm);
      }
      return res;
    });
    return [rt(tf, y, vals.dtype)];
  },
};

const nonZero: KernelDef = {
  run({ tf, node, inputs }: KernelContext): RT[] {
    const x = need(node, inputs, 0, 'X');
    const vals = jsValues(x);
    const shape = x.t.shape.length ? x.t.shape : [1];
    const str = stridesOf(shape);
    const hits: number[] = [];
    vals.forEach((v, i) => { if (typeof v === 'string' ? v !== '' : v !== 0) hits.push(i); });
    const r = shape.length;
    const out = new Int32Array(r * hits.length);
    hits.forEach((flat, j) => {
      for (let d = 0; d < r; d++) out[d * hits.length + j] = Math.floor(flat / str[d]!) % shape[d]!;
    });
    return [fromValues(tf, out, [r, hits.length], 'int64')];
  },
};

const compress: KernelDef = {
  run({ tf, node, inputs }: KernelContext): RT[] {
    const x = need(node, inputs, 0, 'input');
    const cond = need(node, inputs, 1, 'condition');
    const axisAttr = node.attrInt('axis');
    const cv = cond.t.dataSync() as ArrayLike<number>;
    const src = axisAttr === undefined ? tf.reshape(x.t, [-1]) : x.t;
    const axis = axisAttr === undefined ? 0 : normAxis(node, axisAttr, x.t.rank);
    const dim = src.shape[axis]!;
    if (cv.length > dim) throw invalidInput(node, `condition has ${cv.length} entries for an axis of size ${dim}`);
    const keep: number[] = [];
    for (let i = 0; i < cv.length; i++) if (cv[i]) keep.push(i);
    let y: T;
    if (x.t.dtype === 'string') {
      const g = gatherStrings(tf, { t: src, dtype: 'string' }, keep, [keep.length], axis);
      y = g.t;
    } else if (!keep.length) {
      y = tf.zeros(src.shape.map((d, i) => (i === axis ? 0 : d)), x.t.dtype as tfc.DataType);
    } else {
      const it = tf.tensor1d(keep, 'int32');
      y = tf.gather(src, it, axis);
      it.dispose();
    }
    if (src !== x.t) src.dispose();
    return [{ t: y, dtype: x.dtype }];
  },
};

const unique: KernelDef = {
  run({ tf, node, inputs }: KernelContext): RT[] {
    const x = need(node, inputs, 0, 'X');
    const sorted = node.attrInt('sorted', 1) === 1;
    const axisAttr = node.attrInt('axis');
    const vals = jsValues(x);
    const shape = axisAttr === undefined ? [vals.length] : x.t.shape;
    const axis = axisAttr === undefined ? 0 : normAxis(node, axisAttr, x.t.rank);
    const outer = shapeSize(shape.slice(0, axis));
    const d = shape[axis]!;
    const inner = shapeSize(shape.slice(axis + 1));
    // Slice j along the axis, as a list of values.
    const sliceOf = (j: number): (number | string)[] => {
      const s: (number | string)[] = [];
      for (let o = 0; o < outer; o++) for (let i = 0; i < inner; i++) s.push(vals[(o * d + j) * inner + i]!);
      return s;
    };
    const slices = Array.from({ length: d }, (_, j) => sliceOf(j));
    const keyOf = (s: (number | string)[]) => JSON.stringify(s);
    const firstIndex = new Map<string, number>();
    const order: number[] = [];
    const counts = new Map<string, number>();
    slices.forEach((s, j) => {
      const key = keyOf(s);
      if (!firstIndex.has(key)) { firstIndex.set(key, j); order.push(j); }
      counts.set(key, (counts.get(key) ?? 0) + 1);
    });
    if (sorted) {
      const cmp = (a: (number | string)[], b: (number | string)[]): number => {
        for (let i = 0; i < a.length; i++) {
          if (a[i]! < b[i]!) return -1;
          if (a[i]! > b[i]!) return 1;
        }
        return 0;
      };
      order.sort((a, b) => cmp(slices[a]!, slices[b]!));
    }
    const pos = new Map<string, number>();
    order.forEach((j, k) => pos.set(keyOf(slices[j]!), k));
    const u = order.length;
    const yVals: (number | string)[] = new Array(outer * u * inner);
    order.forEach((j, k) => {
      const s = slices[j]!;
      for (let o = 0; o < outer; o++) for (let i = 0; i < inner; i++) yVals[(o * u + k) * inner + i] = s[o * inner + i]!;
    });
    const yShape = shape.map((v, i) => (i === axis ? u : v));
    const out: RT[] = [fromValues(tf, yVals, yShape, x.dtype)];
    out.push(fromValues(tf, order, [u], 'int64'));
    out.push(fromValues(tf, slices.map((s) => pos.get(keyOf(s))!), [d], 'int64'));
    out.push(fromValues(tf, order.map((j) => counts.get(keyOf(slices[j]!))!), [u], 'int64'));
    return out.slice(0, Math.max(1, node.outputs.length));
  },
};

const reverseSequence: KernelDef = {
  run({ tf, node, inputs }: KernelContext): RT[] {
    const x = need(node, inputs, 0, 'input');
    const lens = readNumbers(need(node, inputs, 1, 'sequence_lens'))!;
    const r = x.t.rank;
    const bAxis = normAxis(node, node.attrInt('batch_axis', 1), r);
    const tAxis = normAxis(node, node.attrInt('time_axis', 0), r);
    const shape = x.t.shape;
    const str = stridesOf(shape);
    const n = x.t.size;
    const idx = new Int32Array(n);
    for (let p = 0; p < n; p++) {
      const b = Math.floor(p / str[bAxis]!) % shape[bAxis]!;
      const t = Math.floor(p / str[tAxis]!) % shape[tAxis]!;
      const len = lens[b]!;
      idx[p] = t < len ? p + (len - 1 - 2 * t) * str[tAxis]! : p;
    }
    if (x.t.dtype === 'string') {
      const v = jsValues(x);
      return [fromValues(tf, Array.from(idx, (i) => v[i]!), shape, 'string')];
    }
    const y = tf.tidy(() => tf.reshape(tf.gather(tf.reshape(x.t, [-1]), tf.tensor1d(idx, 'int32')), shape));
    return [{ t: y, dtype: x.dtype }];
  },
};

export const indexingKernels = {
  Gather: gather,
  GatherElements: gatherElements,
  GatherND: gatherND,
  ScatterElements: scatterElements,
  Scatter: scatterElements,
  ScatterND: scatterND,
  OneHot: oneHot,
  NonZero: nonZero,
  Compress: compress,
  Unique: unique,
  ReverseSequence: reverseSequence,
};
