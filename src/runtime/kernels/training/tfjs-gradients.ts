/**
 * Gradient functions for the tfjs kernels the ONNX kernels are built from.
 *
 * The Node build of tfjs-core (`tf-core.node.js`) registers no gradients, so `tf.grads` fails on
 * every op ("gradient function not found"). `registerGradients` adds ours, once, for kernels that
 * have none yet. Each function maps dy (the gradient of the kernel's output) to the gradient of
 * each input, summing over broadcast axes so it has the input's shape, as the tfjs tape requires.
 * Derivatives are the textbook ones; integer and bool inputs never reach them (the tape only
 * backpropagates into float values on the path from xs to y).
 */
import type * as tfc from '@tensorflow/tfjs-core';
import type { TF } from '../types.js';

type T = tfc.Tensor;
type Attrs = tfc.NamedAttrMap;
type Grads = Record<string, () => T>;
type GradFn = (tf: TF, dy: T, saved: T[], attrs: Attrs) => Grads;

interface Spec {
  /** Inputs saved for the backward pass, by tfjs input name (`all` saves every input of an array-input kernel). */
  save?: string[] | 'all';
  /** Save the (single) output. */
  saveOutput?: boolean;
  grad: GradFn;
}

/** Sums `dy` over the axes along which an input of `shape` was broadcast, then gives it that shape. */
function unbroadcast(tf: TF, dy: T, shape: number[]): T {
  const off = dy.rank - shape.length;
  const axes: number[] = [];
  for (let i = 0; i < dy.rank; i++) if (i < off || (shape[i - off] === 1 && dy.shape[i] !== 1)) axes.push(i);
  const s = axes.length ? tf.sum(dy, axes) : dy;
  return tf.reshape(s, shape);
}

const f32 = (tf: TF, x: T): T => (x.dtype === 'float32' ? x : tf.cast(x, 'float32'));

/** Same-shape passthrough: dy reshaped to the input (Identity, Cast, Reshape, ExpandDims, Squeeze). */
const passthrough: Spec = { save: ['x'], grad: (tf, dy, [x]) => ({ x: () => tf.reshape(f32(tf, dy), x!.shape) }) };

/** Elementwise unary op with derivative `d(x, y)` (y is the saved output when saveOutput). */
function unary(d: (tf: TF, x: T, y: T | undefined) => T, saveOutput = false): Spec {
  return {
    save: ['x'],
    saveOutput,
    grad: (tf, dy, [x, y]) => ({ x: () => tf.mul(dy, d(tf, f32(tf, x!), y)) }),
  };
}

/** Broadcasting binary op with partial derivatives da(a, b) and db(a, b). */
function binary(da: (tf: TF, dy: T, a: T, b: T) => T, db: (tf: TF, dy: T, a: T, b: T) => T): Spec {
  return {
    save: ['a', 'b'],
    grad: (tf, dy, [a, b]) => ({
      a: () => unbroadcast(tf, da(tf, dy, f32(tf, a!), f32(tf, b!)), a!.shape),
      b: () => unbroadcast(tf, db(tf, dy, f32(tf, a!), f32(tf, b!)), b!.shape),
    }),
  };
}

/** Normalised reduction axes of a Sum/Mean attribute (null: all). */
function reductionAxes(axis: unknown, rank: number): number[] {
  if (axis === null || axis === undefined) return Array.from({ length: rank }, (_, i) => i);
  const list = Array.isArray(axis) ? (axis as number[]) : [axis as number];
  return list.map((a) => (a < 0 ? a + rank : a));
}

/** dy of a reduction, spread back over the reduced axes of x. */
function spread(tf: TF, dy: T, x: T, axes: number[]): T {
  const kept = x.shape.map((d, i) => (axes.includes(i) ? 1 : d));
  return tf.broadcastTo(tf.reshape(dy, kept), x.shape);
}

/** Begin and size of a Slice kernel, normalised to arrays over the rank (-1 size: to the end). */
function sliceBounds(x: T, begin: unknown, size: unknown): { begin: number[]; size: number[] } {
  const b = x.shape.map((_, i) => (Array.isArray(begin) ? ((begin as number[])[i] ?? 0) : i === 0 ? (begin as number) : 0));
  const s = x.shape.map((d, i) => {
    const v = Array.isArray(size) ? ((size as number[])[i] ?? -1) : i === 0 ? (size as number) : -1;
    return v === -1 ? d - b[i]! : v;
  });
  return { begin: b, size: s };
}

function batchMatMulGrads(tf: TF, dy: T, a: T, b: T, ta: boolean, tb: boolean): Grads {
  let da: () => T;
  let db: () => T;
  if (!ta && !tb) {
    da = () => tf.matMul(dy, b, false, true);
    db = () => tf.matMul(a, dy, true, false);
  } else if (!ta && tb) {
    da = () => tf.matMul(dy, b, false, false);
    db = () => tf.matMul(dy, a, true, false);
  } else if (ta && !tb) {
    da = () => tf.matMul(b, dy, false, true);
    db = () => tf.matMul(a, dy, false, false);
  } else {
    da = () => tf.matMul(b, dy, true, true);
    db = () => tf.matMul(dy, a, true, true);
  }
  return { a: () => unbroadcast(tf, da(), a.shape), b: () => unbroadcast(tf, db(), b.shape) };
}

/** Reduce Max/Min: dy flows to the elements equal to the extreme (to each of them on ties). */
const extreme: Spec = {
  save: ['x'],
  saveOutput: true,
  grad: (tf, dy, [x, y], attrs) => ({
    x: () => {
      const axes = reductionAxes(attrs.reductionIndices ?? attrs.axis, x!.rank);
      const mask = f32(tf, tf.equal(x!, spread(tf, y!, x!, axes)));
      return tf.mul(spread(tf, dy, x!, axes), mask);
    },
  }),
};

/** Gather along one axis (batchDims 0): dy rows are summed back into the rows they came from. */
function gatherGrad(tf: TF, dy: T, x: T, indices: T, attrs: Attrs): T {
  if (((attrs.batchDims as number) ?? 0) !== 0) throw new Error('Gradient through a batched gather is not supported');
  let axis = attrs.axis as number;
  if (axis < 0) axis += x.rank;
  const n = x.shape[axis]!;
  const pre = x.shape.slice(0, axis).reduce((a, b) => a * b, 1);
  const post = x.shape.slice(axis + 1).reduce((a, b) => a * b, 1);
  const flat = tf.reshape(tf.cast(indices, 'int32'), [-1]);
  const idx = tf.mod(tf.add(flat, tf.scalar(n, 'int32')), tf.scalar(n, 'int32'));
  // [I, P*Q] rows of dy, summed into their source rows by a one-hot product (the wasm backend
  // has no UnsortedSegmentSum kernel).
  const rows = tf.reshape(tf.transpose(tf.reshape(dy, [pre, flat.size, post]), [1, 0, 2]), [flat.size, pre * post]);
  // (oneHot is built as int32 and cast: the wasm OneHot kernel returns zeros when asked for float32.)
  const summed = tf.matMul(tf.cast(tf.oneHot(idx as tfc.Tensor1D, n), 'float32'), rows, true, false);
  return tf.reshape(tf.transpose(tf.reshape(summed, [n, pre, post]), [1, 0, 2]), x.shape);
}

/** Piecewise-constant ops (comparisons, rounding, sign): their gradient is zero almost everywhere. */
const flatBinary: Spec = {
  save: ['a', 'b'],
  grad: (tf, dy, [a, b]) => ({ a: () => tf.zeros(a!.shape, 'float32'), b: () => tf.zeros(b!.shape, 'float32') }),
};
const flatUnary: Spec = { save: ['x'], grad: (tf, dy, [x]) => ({ x: () => tf.zeros(x!.shape, 'float32') }) };

const SPECS: Record<string, Spec> = {
  Add: binary((tf, dy) => dy, (tf, dy) => dy),
  Sub: binary((tf, dy) => dy, (tf, dy) => tf.neg(dy)),
  Multiply: binary((tf, dy, a, b) => tf.mul(dy, b), (tf, dy, a) => tf.mul(dy, a)),
  RealDiv: binary((tf, dy, a, b) => tf.div(dy, b), (tf, dy, a, b) => tf.neg(tf.div(tf.mul(dy, a), tf.square(b)))),
  Maximum: binary((tf, dy, a, b) => tf.mul(dy, f32(tf, tf.greaterEqual(a, b))), (tf, dy, a, b) => tf.mul(dy, f32(tf, tf.less(a, b)))),
  Minimum: binary((tf, dy, a, b) => tf.mul(dy, f32(tf, tf.lessEqual(a, b))), (tf, dy, a, b) => tf.mul(dy, f32(tf, tf.greater(a, b)))),
  Pow: binary(
    (tf, dy, a, b) => tf.mul(dy, tf.mul(b, tf.pow(a, tf.sub(b, 1)))),
    // d/db a^b = a^b ln a, taken as 0 where a <= 0 (ln undefined).
    (tf, dy, a, b) => {
      const pos = tf.greater(a, 0);
      const lnA = tf.where(pos, tf.log(tf.where(pos, a, tf.onesLike(a))), tf.zerosLike(a));
      return tf.mul(dy, tf.mul(tf.pow(a, b), lnA));
    },
  ),
  Neg: unary((tf, x) => tf.fill(x.shape, -1)),
  Square: unary((tf, x) => tf.mul(x, 2)),
  Sqrt: unary((tf, x) => tf.div(0.5, tf.sqrt(x))),
  Rsqrt: unary((tf, x) => tf.mul(-0.5, tf.pow(x, -1.5))),
  Reciprocal: unary((tf, x) => tf.neg(tf.reciprocal(tf.square(x)))),
  Exp: unary((tf, x, y) => y!, true),
  Log: unary((tf, x) => tf.reciprocal(x)),
  Sin: unary((tf, x) => tf.cos(x)),
  Cos: unary((tf, x) => tf.neg(tf.sin(x))),
  Tanh: unary((tf, x, y) => tf.sub(1, tf.square(y!)), true),
  Sigmoid: unary((tf, x, y) => tf.mul(y!, tf.sub(1, y!)), true),
  Relu: unary((tf, x) => f32(tf, tf.greater(x, 0))),
  Abs: unary((tf, x) => tf.sign(x)),
  Softplus: unary((tf, x) => tf.sigmoid(x)),
  Erf: unary((tf, x) => tf.mul(2 / Math.sqrt(Math.PI), tf.exp(tf.neg(tf.square(x))))),
  ClipByValue: {
    save: ['x'],
    grad: (tf, dy, [x], attrs) => ({
      x: () => tf.mul(dy, f32(tf, tf.logicalAnd(tf.greaterEqual(x!, attrs.clipValueMin as number), tf.lessEqual(x!, attrs.clipValueMax as number)))),
    }),
  },
  Softmax: {
    saveOutput: true,
    grad: (tf, dy, [y], attrs) => {
      const dim = (attrs.dim as number) ?? -1;
      return { logits: () => tf.mul(y!, tf.sub(dy, tf.sum(tf.mul(dy, y!), dim, true))) };
    },
  },
  Max: extreme,
  Min: extreme,
  Select: {
    save: ['condition'],
    grad: (tf, dy, [c]) => ({
      condition: () => tf.zeros(c!.shape, 'float32'),
      t: () => tf.where(c!, dy, tf.zerosLike(dy)),
      e: () => tf.where(c!, tf.zerosLike(dy), dy),
    }),
  },
  GatherV2: {
    save: ['x', 'indices'],
    grad: (tf, dy, [x, indices], attrs) => ({
      x: () => gatherGrad(tf, dy, x!, indices!, attrs),
      indices: () => tf.zeros(indices!.shape, 'float32'),
    }),
  },
  PadV2: {
    save: ['x'],
    grad: (tf, dy, [x], attrs) => ({
      x: () => tf.slice(dy, (attrs.paddings as [number, number][]).map((p) => p[0]), x!.shape),
    }),
  },
  Greater: flatBinary,
  GreaterEqual: flatBinary,
  Less: flatBinary,
  LessEqual: flatBinary,
  Equal: flatBinary,
  NotEqual: flatBinary,
  Floor: flatUnary,
  Ceil: flatUnary,
  Round: flatUnary,
  Sign: flatUnary,
  Step: flatUnary,
  Identity: passthrough,
  Cast: passthrough,
  Reshape: passthrough,
  ExpandDims: { save: ['input'], grad: (tf, dy, [x]) => ({ input: () => tf.reshape(f32(tf, dy), x!.shape) }) },
  Squeeze: passthrough,
  Transpose: {
    grad: (tf, dy, saved, attrs) => {
      const perm = attrs.perm as number[];
      const inv = new Array<number>(perm.length);
      perm.forEach((p, i) => (inv[p] = i));
      return { x: () => tf.transpose(dy, inv) };
    },
  },
  Sum: {
    save: ['x'],
    grad: (tf, dy, [x], attrs) => ({ x: () => spread(tf, f32(tf, dy), x!, reductionAxes(attrs.axis, x!.rank)) }),
  },
  Mean: {
    save: ['x'],
    grad: (tf, dy, [x], attrs) => ({
      x: () => {
        const axes = reductionAxes(attrs.axis, x!.rank);
        const count = axes.reduce((n, a) => n * x!.shape[a]!, 1);
        return tf.div(spread(tf, dy, x!, axes), count);
      },
    }),
  },
  BatchMatMul: {
    save: ['a', 'b'],
    grad: (tf, dy, [a, b], attrs) => batchMatMulGrads(tf, dy, a!, b!, !!attrs.transposeA, !!attrs.transposeB),
  },
  AddN: {
    save: 'all',
    grad: (tf, dy, saved) => Object.fromEntries(saved.map((_, i) => [String(i), () => tf.clone(dy)])),
  },
  Concat: {
    save: 'all',
    grad: (tf, dy, saved, attrs) => {
      const rank = saved[0]!.rank;
      let axis = Array.isArray(attrs.axis) ? (attrs.axis as number[])[0]! : (attrs.axis as number);
      if (axis < 0) axis += rank;
      const sizes = saved.map((s) => s.shape[axis]!);
      return Object.fromEntries(saved.map((_, i) => [String(i), () => tf.split(dy, sizes, axis)[i]!]));
    },
  },
  Slice: {
    save: ['x'],
    grad: (tf, dy, [x], attrs) => ({
      x: () => {
        const { begin, size } = sliceBounds(x!, attrs.begin, attrs.size);
        return tf.pad(dy, begin.map((b, i) => [b, x!.shape[i]! - b - size[i]!] as [number, number]));
      },
    }),
  },
  Tile: {
    save: ['x'],
    grad: (tf, dy, [x], attrs) => ({
      x: () => {
        // View dy as [r0, d0, r1, d1, ...] and sum the repetition axes.
        const reps = attrs.reps as number[];
        const split = x!.shape.flatMap((d, i) => [reps[i]!, d]);
        return tf.sum(tf.reshape(dy, split), reps.map((_, i) => 2 * i));
      },
    }),
  },
};

let registered = false;

/** Registers our gradient functions for the kernels that have none (once per process). */
export function registerGradients(tf: TF): void {
  if (registered) return;
  for (const [kernelName, spec] of Object.entries(SPECS)) {
    if (tf.getGradient(kernelName)) continue;
    tf.registerGradient({
      kernelName,
      inputsToSave: Array.isArray(spec.save) ? spec.save : undefined,
      saveAllInputs: spec.save === 'all' ? true : undefined,
      outputsToSave: spec.saveOutput ? [true] : undefined,
      gradFunc: (dy, saved, attrs) => spec.grad(tf, Array.isArray(dy) ? dy[0]! : dy, saved, attrs),
    });
  }
  registered = true;
}

/** The tfjs kernel names we provide a gradient for. */
export const GRADIENT_KERNELS = Object.keys(SPECS);
