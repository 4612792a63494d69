/**
 * Shape and layout ops: Reshape, Flatten, Transpose, Squeeze, Unsqueeze, Concat, Split, Slice,
 * Expand, Tile, Pad, Shape, Size, Identity, Dropout, DepthToSpace, SpaceToDepth, CenterCropPad.
 * Inputs that ONNX moved from attributes to inputs (axes, split, pads, starts/ends) are also
 * accepted as attributes, for graphs that skipped the opset upgrade.
 */
import type * as tfc from '@tensorflow/tfjs-core';
import type { Node } from '../../../ir/graph.js';
import type { KernelContext, KernelDef, RT, TF } from '../types.js';
import { cropOrPad } from './spatial.js';
import {
  fromValues, invalidInput, need, normAxis, ownedCopy, readNumbers, readScalar, rt, shapeSize, unsupportedNode,
  wantsOutput, type T,
} from './util.js';

/** Ints from input `i`, else from attribute `attr`. */
function intsFrom(node: Node, inputs: (RT | undefined)[], i: number, attr: string): number[] | undefined {
  const v = inputs[i];
  if (v) return readNumbers(v);
  return node.attrInts(attr);
}

/** An empty tensor of a shape for an ONNX dtype. */
function emptyOf(tf: TF, shape: number[], like: RT): T {
  if (like.t.dtype === 'string') return tf.tensor([], shape, 'string');
  return tf.zeros(shape, like.t.dtype as tfc.DataType);
}

const reshape: KernelDef = {
  run({ tf, node, inputs }: KernelContext): RT[] {
    const x = need(node, inputs, 0, 'data');
    const target = intsFrom(node, inputs, 1, 'shape');
    if (!target) throw invalidInput(node, 'the shape input is missing');
    const allowZero = node.attrInt('allowzero', 0) === 1;
    const out = target.map((d, i) => {
      if (d === 0 && !allowZero) {
        if (i >= x.t.rank) throw invalidInput(node, `shape[${i}] = 0 copies a dimension the input (rank ${x.t.rank}) does not have`);
        return x.t.shape[i]!;
      }
      return d;
    });
    const neg = out.filter((d) => d === -1).length;
    if (neg > 1) throw invalidInput(node, `shape [${target}] has more than one -1`);
    if (neg === 1) {
      const known = out.filter((d) => d !== -1).reduce((a, b) => a * b, 1);
      const inferred = known === 0 ? 0 : x.t.size / known;
      if (!Number.isInteger(inferred)) throw invalidInput(node, `cannot reshape ${x.t.size} elements to [${target}]`);
      out[out.indexOf(-1)] = inferred;
    }
    if (shapeSize(out) !== x.t.size) throw invalidInput(node, `cannot reshape [${x.t.shape}] (${x.t.size} elements) to [${out}]`);
    return [{ t: tf.reshape(x.t, out), dtype: x.dtype }];
  },
};

const flatten: KernelDef = {
  run({ tf, node, inputs }: KernelContext): RT[] {
    const x = need(node, inputs, 0, 'input');
    const r = x.t.rank;
    let axis = node.attrInt('axis', 1);
    if (axis < 0) axis += r;
    if (axis < 0 || axis > r) throw invalidInput(node, `axis ${node.attrInt('axis', 1)} is out of range for rank ${r}`);
    const outer = shapeSize(x.t.shape.slice(0, axis));
    const inner = shapeSize(x.t.shape.slice(axis));
    return [{ t: tf.reshape(x.t, [outer, inner]), dtype: x.dtype }];
  },
};

const transpose: KernelDef = {
  run({ tf, node, inputs }: KernelContext): RT[] {
    const x = need(node, inputs, 0, 'data');
    const r = x.t.rank;
    const perm = node.attrInts('perm') ?? Array.from({ length: r }, (_, i) => r - 1 - i);
    if (perm.length !== r) throw invalidInput(node, `perm [${perm}] does not match rank ${r}`);
    if (x.t.dtype === 'string') return [transposeStrings(tf, x, perm)];
    return [{ t: tf.transpose(x.t, perm), dtype: x.dtype }];
  },
};

function transposeStrings(tf: TF, x: RT, perm: number[]): RT {
  const vals = x.t.dataSync() as unknown as string[];
  const shape = x.t.shape;
  const outShape = perm.map((p) => shape[p]!);
  const inStr = strides(shape);
  const n = x.t.size;
  const out = new Array<string>(n);
  const outStr = strides(outShape);
  for (let i = 0; i < n; i++) {
    let src = 0;
    for (let d = 0; d < outShape.length; d++) src += (Math.floor(i / outStr[d]!) % outShape[d]!) * inStr[perm[d]!]!;
    out[i] = vals[src]!;
  }
  return { t: tf.tensor(out, outShape, 'string'), dtype: 'string' };
}

function strides(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) { s[i] = acc; acc *= shape[i]!; }
  return s;
}

const squeeze: KernelDef = {
  run({ tf, node, inputs }: KernelContext): RT[] {
    const x = need(node, inputs, 0, 'data');
    const r = x.t.rank;
    const axesIn = intsFrom(node, inputs, 1, 'axes');
    const axes = axesIn && axesIn.length
      ? axesIn.map((a) => normAxis(node, a, r))
      : x.t.shape.map((d, i) => (d === 1 ? i : -1)).filter((i) => i >= 0);
    for (const a of axes) {
      if (x.t.shape[a] !== 1) throw invalidInput(node, `cannot squeeze axis ${a} of size ${x.t.shape[a]}`);
    }
    const out = x.t.shape.filter((_, i) => !axes.includes(i));
    return [{ t: tf.reshape(x.t, out), dtype: x.dtype }];
  },
};

const unsqueeze: KernelDef = {
  run({ tf, node, inputs }: KernelContext): RT[] {
    const x = need(node, inputs, 0, 'data');
    const axesIn = intsFrom(node, inputs, 1, 'axes');
    if (!axesIn) throw invalidInput(node, 'the axes input is missing');
    const outRank = x.t.rank + axesIn.length;
    const axes = axesIn.map((a) => normAxis(node, a, outRank));
    if (new Set(axes).size !== axes.length) throw invalidInput(node, `axes [${axesIn}] repeat an axis`);
    const out: number[] = [];
    let k = 0;
    for (let i = 0; i < outRank; i++) out.push(axes.includes(i) ? 1 : x.t.shape[k++]!);
    return [{ t: tf.reshape(x.t, out), dtype: x.dtype }];
  },
};

const concat: KernelDef = {
  run({ tf, node, inputs }: KernelContext): RT[] {
    const xs = inputs.filter((v): v is RT => !!v);
    if (!xs.length) throw invalidInput(node, 'no inputs');
    const r = xs[0]!.t.rank;
    const axis = normAxis(node, node.attrInt('axis', 0), r);
    for (const v of xs) {
      if (v.t.rank !== r || v.t.shape.some((d, i) => i !== axis && d !== xs[0]!.t.shape[i])) {
        throw invalidInput(node, `inputs [${xs.map((q) => `[${q.t.shape}]`).join(', ')}] cannot be joined on axis ${axis}`);
      }
    }
    const parts = xs.filter((v) => v.t.size > 0);
    const outShape = xs[0]!.t.shape.slice();
    outShape[axis] = xs.reduce((a, v) => a + v.t.shape[axis]!, 0);
    if (!parts.length) return [{ t: emptyOf(tf, outShape, xs[0]!), dtype: xs[0]!.dtype }];
    if (parts.length === 1) return [{ t: tf.clone(parts[0]!.t), dtype: xs[0]!.dtype }];
    if (xs[0]!.t.dtype === 'string') {
      const vals = parts.map((p) => transposeStrings(tf, p, moveFirst(r, axis)));
      const flat = vals.flatMap((v) => { const a = v.t.dataSync() as unknown as string[]; v.t.dispose(); return a; });
      const tShape = moveFirst(r, axis).map((p) => outShape[p]!);
      const joined: RT = { t: tf.tensor(flat, tShape, 'string'), dtype: 'string' };
      const back = transposeStrings(tf, joined, inversePerm(moveFirst(r, axis)));
      joined.t.dispose();
      return [back];
    }
    return [{ t: tf.concat(parts.map((p) => p.t), axis), dtype: xs[0]!.dtype }];
  },
};

function moveFirst(r: number, axis: number): number[] {
  return [axis, ...Array.from({ length: r }, (_, i) => i).filter((i) => i !== axis)];
}
function inversePerm(p: number[]): number[] {
  const inv = new Array<number>(p.length);
  p.forEach((v, i) => { inv[v] = i; });
  return inv;
}

const split: KernelDef = {
  run({ tf, node, inputs }: KernelContext): RT[] {
    const x = need(node, inputs, 0, 'input');
    const axis = normAxis(node, node.attrInt('axis', 0), x.t.rank);
    const dim = x.t.shape[axis]!;
    let sizes = intsFrom(node, inputs, 1, 'split');
    if (!sizes || !sizes.length) {
      const n = node.attrInt('num_outputs') ?? node.outputs.length;
      const chunk = Math.ceil(dim / n);
      sizes = Array.from({ length: n }, (_, i) => Math.max(0, Math.min(chunk, dim - i * chunk)));
    }
    if (sizes.reduce((a, b) => a + b, 0) !== dim) throw invalidInput(node, `split sizes [${sizes}] do not add up to ${dim}`);
    const out: RT[] = [];
    let at = 0;
    for (const s of sizes) {
      const begin = x.t.shape.map((_, i) => (i === axis ? at : 0));
      const size = x.t.shape.map((d, i) => (i === axis ? s : d));
      out.push({ t: s === 0 ? emptyOf(tf, size, x) : tf.slice(x.t, begin, size), dtype: x.dtype });
      at += s;
    }
    return out;
  },
};

/** Normalised slice parameters for one axis. */
interface AxisSlice { start: number; step: number; count: number }

function sliceParams(node: Node, shape: number[], starts: number[], ends: number[], axesIn: number[] | undefined, stepsIn: number[] | undefined): AxisSlice[] {
  const r = shape.length;
  const res: AxisSlice[] = shape.map((d) => ({ start: 0, step: 1, count: d }));
  const axes = axesIn && axesIn.length ? axesIn : starts.map((_, i) => i);
  if (starts.length !== axes.length || ends.length !== axes.length) {
    throw invalidInput(node, `starts (${starts.length}), ends (${ends.length}) and axes (${axes.length}) differ in length`);
  }
  axes.forEach((a0, i) => {
    const a = normAxis(node, a0, r);
    const d = shape[a]!;
    const step = stepsIn && stepsIn.length ? stepsIn[i]! : 1;
    if (step === 0) throw invalidInput(node, 'a slice step is 0');
    let s = starts[i]!;
    let e = ends[i]!;
    if (s < 0) s += d;
    if (e < 0) e += d;
    let count: number;
    if (step > 0) {
      s = Math.min(Math.max(s, 0), d);
      e = Math.min(Math.max(e, 0), d);
      count = Math.max(0, Math.ceil((e - s) / step));
    } else {
      s = Math.min(Math.max(s, -1), d - 1);
      e = Math.min(Math.max(e, -1), d - 1);
      count = Math.max(0, Math.ceil((s - e) / -step));
    }
    res[a] = { start: s, step, count };
  });
  return res;
}

/** Applies per-axis slices with one stridedSlice and a reverse for the negative steps. */
export function applySlices(tf: TF, x: T, sl: AxisSlice[]): T {
  const outShape = sl.map((s) => s.count);
  if (outShape.some((d) => d === 0)) {
    return x.dtype === 'string' ? tf.tensor([], outShape, 'string') : tf.zeros(outShape, x.dtype as tfc.DataType);
  }
  const identity = sl.every((s, i) => s.step === 1 && s.start === 0 && s.count === x.shape[i]);
  if (identity) return tf.clone(x);
  const begin = sl.map((s) => (s.step > 0 ? s.start : s.start + (s.count - 1) * s.step));
  const strideAbs = sl.map((s) => Math.abs(s.step));
  const reversed = sl.map((s, i) => (s.step < 0 ? i : -1)).filter((i) => i >= 0);
  return tf.tidy(() => {
    let y: T;
    if (strideAbs.every((s) => s === 1)) y = tf.slice(x, begin, outShape);
    else {
      const end = begin.map((b, i) => b + (outShape[i]! - 1) * strideAbs[i]! + 1);
      y = tf.stridedSlice(x, begin, end, strideAbs);
    }
    if (reversed.length) y = tf.reverse(y, reversed);
    return y;
  });
}

const slice: KernelDef = {
  run({ tf, node, inputs }: KernelContext): RT[] {
    const x = need(node, inputs, 0, 'data');
    const starts = intsFrom(node, inputs, 1, 'starts');
    const ends = intsFrom(node, inputs, 2, 'ends');
    if (!starts || !ends) throw invalidInput(node, 'starts and ends are required');
    const axes = intsFrom(node, inputs, 3, 'axes');
    const steps = readNumbers(inputs[4]);
    const sl = sliceParams(node, x.t.shape, starts, ends, axes, steps);
    return [{ t: applySlices(tf, x.t, sl), dtype: x.dtype }];
  },
};

/** Numpy-style broadcast of two shapes. */
export function broadcastShapes(node: Node, a: number[], b: number[]): number[] {
  const r = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < r; i++) {
    const da = a[a.length - r + i] ?? 1;
    const db = b[b.length - r + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) throw invalidInput(node, `shapes [${a}] and [${b}] do not broadcast`);
    out.push(da === 1 ? db : da);
  }
  return out;
}

const expand: KernelDef = {
  run({ tf, node, inputs }: KernelContext): RT[] {
    const x = need(node, inputs, 0, 'input');
    const shape = readNumbers(need(node, inputs, 1, 'shape'))!;
    const out = broadcastShapes(node, x.t.shape, shape);
    if (shapeSize(out) === 0) return [{ t: emptyOf(tf, out, x), dtype: x.dtype }];
    const xr = x.t.rank < out.length ? tf.reshape(x.t, [...new Array<number>(out.length - x.t.rank).fill(1), ...x.t.shape]) : x.t;
    const y = tf.broadcastTo(xr, out);
    if (xr !== x.t) xr.dispose();
    return [{ t: y, dtype: x.dtype }];
  },
};

const tile: KernelDef = {
  run({ tf, node, inputs }: KernelContext): RT[] {
    const x = need(node, inputs, 0, 'input');
    const reps = readNumbers(need(node, inputs, 1, 'repeats'))!;
    if (reps.length !== x.t.rank) throw invalidInput(node, `repeats [${reps}] do not match rank ${x.t.rank}`);
    const out = x.t.shape.map((d, i) => d * reps[i]!);
    if (shapeSize(out) === 0) return [{ t: emptyOf(tf, out, x), dtype: x.dtype }];
    return [{ t: tf.tile(x.t, reps), dtype: x.dtype }];
  },
};

/** Source index along an axis for a padded position, per pad mode. */
function padSource(mode: string, i: number, d: number): number {
  if (mode === 'edge') return Math.min(Math.max(i, 0), d - 1);
  if (mode === 'wrap') return ((i % d) + d) % d;
  // reflect
  if (d === 1) return 0;
  const period = 2 * (d - 1);
  let j = ((i % period) + period) % period;
  if (j >= d) j = period - j;
  return j;
}

const pad: KernelDef = {
  check(node) {
    const mode = node.attrString('mode', 'constant');
    return ['constant', 'reflect', 'edge', 'wrap'].includes(mode) ? undefined : `mode '${mode}' is unknown`;
  },
  run({ tf, node, inputs }: KernelContext): RT[] {
    const x = need(node, inputs, 0, 'data');
    const r = x.t.rank;
    const padsIn = intsFrom(node, inputs, 1, 'pads');
    if (!padsIn) throw invalidInput(node, 'pads are required');
    const mode = node.attrString('mode', 'constant');
    const axesIn = readNumbers(inputs[3]);
    const axes = axesIn && axesIn.length ? axesIn.map((a) => normAxis(node, a, r)) : Array.from({ length: r }, (_, i) => i);
    if (padsIn.length !== 2 * axes.length) throw invalidInput(node, `pads has ${padsIn.length} values for ${axes.length} axes`);
    const begin = new Array<number>(r).fill(0);
    const end = new Array<number>(r).fill(0);
    axes.forEach((a, i) => {
      begin[a] = padsIn[i]!;
      end[a] = padsIn[i + axes.length]!;
    });
    const cvIn = inputs[2] ? readScalar(inputs[2]) : node.attrFloat('value');
    const value = cvIn ?? 0;
    // Negative pads crop.
    const sl = x.t.shape.map((d, i) => ({ start: Math.max(0, -begin[i]!), step: 1, count: d - Math.max(0, -begin[i]!) - Math.max(0, -end[i]!) }));
    if (sl.some((s) => s.count < 0)) throw invalidInput(node, `pads [${padsIn}] remove more than the input holds`);
    const cropped = applySlices(tf, x.t, sl);
    const pb = begin.map((b) => Math.max(0, b));
    const pe = end.map((e) => Math.max(0, e));
    if (pb.every((p) => !p) && pe.every((p) => !p)) return [{ t: cropped, dtype: x.dtype }];
    const outShape = cropped.shape.map((d, i) => d + pb[i]! + pe[i]!);
    if (mode === 'constant' || shapeSize(outShape) === 0) {
      let y: T;
      if (cropped.size === 0) {
        y = x.t.dtype === 'string' ? tf.fill(outShape, String(value) as unknown as number, 'string') : tf.fill(outShape, value, x.t.dtype as tfc.DataType);
      } else if (x.t.dtype === 'bool') {
        const c = tf.cast(cropped, 'int32');
        const p = tf.pad(c, pb.map((b, i) => [b, pe[i]!] as [number, number]), value ? 1 : 0);
        y = tf.cast(p, 'bool');
        c.dispose(); p.dispose();
      } else {
        y = tf.pad(cropped, pb.map((b, i) => [b, pe[i]!] as [number, number]), value);
      }
      cropped.dispose();
      return [{ t: y, dtype: x.dtype }];
    }
    let cur = cropped;
    for (let a = 0; a < r; a++) {
      if (!pb[a] && !pe[a]) continue;
      const d = cur.shape[a]!;
      if (d === 0) throw invalidInput(node, `cannot ${mode}-pad an empty axis ${a}`);
      if (mode === 'reflect' && (pb[a]! >= d || pe[a]! >= d)) {
        throw invalidInput(node, `reflect pads on axis ${a} must be smaller than its size ${d}`);
      }
      const idx = Int32Array.from({ length: d + pb[a]! + pe[a]! }, (_, i) => padSource(mode, i - pb[a]!, d));
      const it = tf.tensor1d(idx, 'int32');
      const next = tf.gather(cur, it, a);
      it.dispose();
      cur.dispose();
      cur = next;
    }
    return [{ t: cur, dtype: x.dtype }];
  },
};

const shapeOp: KernelDef = {
  run({ tf, node, inputs }: KernelContext): RT[] {
    const x = need(node, inputs, 0, 'data');
    const r = x.t.rank;
    let s = node.attrInt('start', 0);
    let e = node.attrInt('end', r);
    if (s < 0) s += r;
    if (e < 0) e += r;
    s = Math.min(Math.max(s, 0), r);
    e = Math.min(Math.max(e, 0), r);
    const dims = x.t.shape.slice(s, Math.max(s, e));
    return [fromValues(tf, dims, [dims.length], 'int64')];
  },
};

const size: KernelDef = {
  run({ tf, node, inputs }: KernelContext): RT[] {
    const x = need(node, inputs, 0, 'data');
    return [fromValues(tf, [x.t.size], [], 'int64')];
  },
};

const identity: KernelDef = {
  run({ tf, node, inputs }: KernelContext): RT[] {
    const x = need(node, inputs, 0, 'input');
    return [ownedCopy(tf, x)];
  },
};

const dropout: KernelDef = {
  run({ tf, node, inputs }: KernelContext): RT[] {
    const x = need(node, inputs, 0, 'data');
    const ratio = inputs[1] ? readScalar(inputs[1])! : node.attrFloat('ratio', 0.5);
    const training = inputs[2] ? readScalar(inputs[2])! !== 0 : false;
    const wantMask = wantsOutput(node, 1);
    if (!training || ratio === 0) {
      const out: RT[] = [{ t: tf.clone(x.t), dtype: x.dtype }];
      if (wantMask) out.push({ t: tf.fill(x.t.shape, 1, 'bool'), dtype: 'bool' });
      return out;
    }
    const seed = node.attrInt('seed');
    const [y, mask] = tf.tidy(() => {
      const keep = tf.greaterEqual(tf.randomUniform(x.t.shape, 0, 1, 'float32', seed), ratio);
      const yy = tf.div(tf.mul(tf.cast(x.t, 'float32'), tf.cast(keep, 'float32')), 1 - ratio);
      return [yy, keep];
    });
    const out: RT[] = [rt(tf, y!, x.dtype)];
    if (wantMask) out.push({ t: mask!, dtype: 'bool' });
    else mask!.dispose();
    return out;
  },
};

const depthToSpace: KernelDef = {
  check(node) {
    const mode = node.attrString('mode', 'DCR');
    return mode === 'DCR' || mode === 'CRD' ? undefined : `mode '${mode}' is not DCR or CRD`;
  },
  run({ tf, node, inputs }: KernelContext): RT[] {
    const x = need(node, inputs, 0, 'input');
    const b = node.attrInt('blocksize', 0);
    if (x.t.rank !== 4) throw invalidInput(node, `input must be 4-D, got rank ${x.t.rank}`);
    const [n, c, h, w] = x.t.shape as [number, number, number, number];
    if (b <= 0 || c % (b * b) !== 0) throw invalidInput(node, `channels ${c} are not divisible by blocksize^2 (${b}^2)`);
    const crd = node.attrString('mode', 'DCR') === 'CRD';
    const y = tf.tidy(() => {
      const r6 = crd ? tf.reshape(x.t, [n, c / (b * b), b, b, h, w]) : tf.reshape(x.t, [n, b, b, c / (b * b), h, w]);
      const t6 = crd ? tf.transpose(r6, [0, 1, 4, 2, 5, 3]) : tf.transpose(r6, [0, 3, 4, 1, 5, 2]);
      return tf.reshape(t6, [n, c / (b * b), h * b, w * b]);
    });
    return [{ t: y, dtype: x.dtype }];
  },
};

const spaceToDepth: KernelDef = {
  run({ tf, node, inputs }: KernelContext): RT[] {
    const x = need(node, inputs, 0, 'input');
    const b = node.attrInt('blocksize', 0);
    if (x.t.rank !== 4) throw invalidInput(node, `input must be 4-D, got rank ${x.t.rank}`);
    const [n, c, h, w] = x.t.shape as [number, number, number, number];
    if (b <= 0 || h % b || w % b) throw invalidInput(node, `spatial size ${h}x${w} is not divisible by blocksize ${b}`);
    const y = tf.tidy(() => {
      const r6 = tf.reshape(x.t, [n, c, h / b, b, w / b, b]);
      const t6 = tf.transpose(r6, [0, 3, 5, 1, 2, 4]);
      return tf.reshape(t6, [n, c * b * b, h / b, w / b]);
    });
    return [{ t: y, dtype: x.dtype }];
  },
};

const centerCropPad: KernelDef = {
  run({ tf, node, inputs }: KernelContext): RT[] {
    const x = need(node, inputs, 0, 'input_data');
    const shape = readNumbers(need(node, inputs, 1, 'shape'))!;
    const r = x.t.rank;
    const axes = node.attrInts('axes', Array.from({ length: r }, (_, i) => i)).map((a) => normAxis(node, a, r));
    if (shape.length !== axes.length) throw invalidInput(node, `shape has ${shape.length} values for ${axes.length} axes`);
    const begins = axes.map((a, i) => {
      const d = x.t.shape[a]!;
      const s = shape[i]!;
      return s <= d ? Math.floor((d - s) / 2) : -Math.floor((s - d) / 2);
    });
    if (x.t.dtype === 'string') throw unsupportedNode(node, 'string tensors are not supported');
    return [{ t: cropOrPad(tf, x.t, axes, begins, shape), dtype: x.dtype }];
  },
};

export const shapeKernels = {
  Reshape: reshape,
  Flatten: flatten,
  Transpose: transpose,
  Squeeze: squeeze,
  Unsqueeze: unsqueeze,
  Concat: concat,
  Split: split,
  Slice: slice,
  Expand: expand,
  Tile: tile,
  Pad: pad,
  Shape: shapeOp,
  Size: size,
  Identity: identity,
  Dropout: dropout,
  DepthToSpace: depthToSpace,
  SpaceToDepth: spaceToDepth,
  CenterCropPad: centerCropPad,
};
