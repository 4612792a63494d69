/**
 * Geometry shared by convolution and pooling: kernel/stride/dilation attributes,
 * auto_pad resolution, output sizes, and the tensor tricks that stretch a tensor
 * along its spatial axes (dilating kernels, inserting zeros between elements).
 */
import type { Node } from '../../../ir/graph.js';
import type { TF } from '../types.js';
import { invalidInput, unsupportedNode, type T } from './util.js';

export interface Window {
  kernel: number[];
  strides: number[];
  dilations: number[];
  padsBegin: number[];
  padsEnd: number[];
}

/** Effective kernel extent with dilation. */
export function effectiveKernel(k: number, d: number): number {
  return (k - 1) * d + 1;
}

function listAttr(node: Node, name: string, n: number, dflt: number): number[] {
  const v = node.attrInts(name);
  if (!v || v.length === 0) return new Array<number>(n).fill(dflt);
  if (v.length !== n) throw invalidInput(node, `attribute ${name} has ${v.length} values for ${n} spatial axes`);
  return v.slice();
}

/**
 * Resolves kernel/strides/dilations/pads of a conv or pool node for the given spatial input sizes.
 * `kernel` comes from kernel_shape or the weight shape. SAME_* pads target ceil(in/stride) outputs.
 */
export function resolveWindow(node: Node, inSizes: number[], kernel: number[]): Window {
  const r = inSizes.length;
  if (kernel.length !== r) throw invalidInput(node, `kernel has ${kernel.length} axes but the input has ${r} spatial axes`);
  const strides = listAttr(node, 'strides', r, 1);
  const dilations = listAttr(node, 'dilations', r, 1);
  const autoPad = node.attrString('auto_pad', 'NOTSET');
  const padsBegin = new Array<number>(r).fill(0);
  const padsEnd = new Array<number>(r).fill(0);
  if (autoPad === 'NOTSET') {
    const pads = node.attrInts('pads');
    if (pads && pads.length) {
      if (pads.length !== 2 * r) throw invalidInput(node, `pads has ${pads.length} values, expected ${2 * r}`);
      for (let i = 0; i < r; i++) {
        padsBegin[i] = pads[i]!;
        padsEnd[i] = pads[i + r]!;
      }
    }
  } else if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
    for (let i = 0; i < r; i++) {
      const out = Math.ceil(inSizes[i]! / strides[i]!);
      const total = Math.max(0, (out - 1) * strides[i]! + effectiveKernel(kernel[i]!, dilations[i]!) - inSizes[i]!);
      const small = Math.floor(total / 2);
      padsBegin[i] = autoPad === 'SAME_UPPER' ? small : total - small;
      padsEnd[i] = total - padsBegin[i]!;
    }
  } else if (autoPad !== 'VALID') {
    throw unsupportedNode(node, `auto_pad '${autoPad}' is not an ONNX value`);
  }
  return { kernel: kernel.slice(), strides, dilations, padsBegin, padsEnd };
}

/**
 * Stretches `t` along `axis` by `factor`: element i moves to i*factor and zeros fill the gaps;
 * the result has (n-1)*factor+1 entries on that axis. Used to dilate kernels and to
 * zero-insert inputs for transposed convolution.
 */
export function stretchAxis(tf: TF, t: T, axis: number, factor: number): T {
  if (factor === 1 || t.shape[axis]! <= 1) return tf.clone(t);
  const n = t.shape[axis]!;
  return tf.tidy(() => {
    const e = tf.expandDims(t, axis + 1);
    const pads = e.shape.map((_, i) => (i === axis + 1 ? [0, factor - 1] : [0, 0])) as [number, number][];
    const p = tf.pad(e, pads);
    const shape = t.shape.slice();
    shape[axis] = n * factor;
    const flat = tf.reshape(p, shape);
    const size = shape.map((d, i) => (i === axis ? (n - 1) * factor + 1 : d));
    return tf.slice(flat, new Array<number>(shape.length).fill(0), size);
  });
}

/** Applies stretchAxis on several axes (factors aligned with axes); returns a new tensor. */
export function stretchAxes(tf: TF, t: T, axes: number[], factors: number[]): T {
  let cur = t;
  for (let i = 0; i < axes.length; i++) {
    if (factors[i] === 1) continue;
    const next = stretchAxis(tf, cur, axes[i]!, factors[i]!);
    if (cur !== t) cur.dispose();
    cur = next;
  }
  return cur === t ? tf.clone(t) : cur;
}

/**
 * Takes the window [begin, begin+size) of each listed axis, filling positions outside the
 * tensor with zeros (a crop where begin >= 0 and the window fits, zero padding elsewhere).
 */
export function cropOrPad(tf: TF, t: T, axes: number[], begins: number[], sizes: number[]): T {
  const rank = t.rank;
  const sb = new Array<number>(rank).fill(0);
  const ss = t.shape.slice();
  const pads: [number, number][] = t.shape.map(() => [0, 0]);
  let needSlice = false;
  let needPad = false;
  for (let i = 0; i < axes.length; i++) {
    const a = axes[i]!;
    const n = t.shape[a]!;
    const b = begins[i]!;
    const e = b + sizes[i]!;
    const lo = Math.min(Math.max(b, 0), n);
    const hi = Math.max(Math.min(e, n), lo);
    sb[a] = lo;
    ss[a] = hi - lo;
    if (lo !== 0 || hi !== n) needSlice = true;
    const before = Math.min(Math.max(0, -b), sizes[i]!);
    const after = sizes[i]! - before - (hi - lo);
    pads[a] = [before, after];
    if (before || after) needPad = true;
  }
  return tf.tidy(() => {
    let r = needSlice ? tf.slice(t, sb, ss) : tf.clone(t);
    if (needPad) r = tf.pad(r, pads);
    return r;
  });
}
