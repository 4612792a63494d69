/**
 * Statistics of a model's weights for `mconv inspect --weights`: per initializer its dtype, shape,
 * min, max, mean, standard deviation (population, as numpy's default), share of zeros, NaN/Inf
 * counts and a 10-bin histogram of the finite values (bins as numpy.histogram draws them), plus
 * warnings for tensors that are all zeros, hold NaN/Inf, or explode (max |x| > 1e4).
 * Also one tensor's values, printed the way numpy elides large arrays (`--tensor NAME`).
 */
import type { Model, Value } from '../ir/graph.js';
import { Tensor, bfloat16ToFloat32, float16ToFloat32, isFloatDType, type DType } from '../ir/tensor.js';
import { constantNodeTensor } from '../ir/infer.js';
import { usageError } from '../errors.js';

export const EXPLODING_ABS = 1e4;
const BINS = 10;

export interface Histogram {
  /** BINS + 1 edges, from the smallest to the largest finite value. */
  edges: number[];
  counts: number[];
}

export interface TensorStats {
  name: string;
  dtype: DType;
  shape: number[];
  elements: number;
  /** Over the finite values; null when there are none (or the dtype is not numeric). */
  min: number | null;
  max: number | null;
  mean: number | null;
  std: number | null;
  /** Share of elements equal to zero (0..1). */
  zeros: number;
  nan: number;
  inf: number;
  histogram: Histogram | null;
}

export type WeightWarningKind = 'all-zero' | 'nan' | 'inf' | 'exploding';

export interface WeightWarning {
  name: string;
  kind: WeightWarningKind;
  message: string;
}

export interface WeightStats {
  tensors: TensorStats[];
  warnings: WeightWarning[];
  /** Weights whose statistics could not be computed (strings, complex numbers, unreadable data). */
  skipped: { name: string; reason: string }[];
}

/** Element reader over a tensor's bytes, without a float64 copy of the whole tensor. */
function reader(t: Tensor): (i: number) => number {
  const v = t.view();
  if (t.dtype === 'float16') return (i) => float16ToFloat32((v as Uint16Array)[i]!);
  if (t.dtype === 'bfloat16') return (i) => bfloat16ToFloat32((v as Uint16Array)[i]!);
  if (t.dtype === 'int64' || t.dtype === 'uint64') return (i) => Number((v as BigInt64Array)[i]!);
  return (i) => (v as Float32Array)[i]!;
}

/**
 * numpy.histogram(x, bins=10) over the finite values: equal-width bins between min and max
 * (min-0.5 .. max+0.5 when they are equal); the last bin includes its right edge.
 */
function histogram(get: (i: number) => number, n: number, lo: number, hi: number): Histogram {
  if (lo === hi) {
    lo -= 0.5;
    hi += 0.5;
  }
  const edges = Array.from({ length: BINS + 1 }, (_, i) => lo + ((hi - lo) * i) / BINS);
  edges[BINS] = hi;
  const counts = new Array<number>(BINS).fill(0);
  const norm = BINS / (hi - lo);
  for (let i = 0; i < n; i++) {
    const x = get(i);
    if (!Number.isFinite(x)) continue;
    let b = Math.floor((x - lo) * norm);
    if (b >= BINS) b = BINS - 1;
    if (b < 0) b = 0;
    // The scaled index can land one off at an edge by rounding: compare with the edges themselves.
    if (x < edges[b]!) b--;
    else if (b < BINS - 1 && x >= edges[b + 1]!) b++;
    counts[Math.max(0, Math.min(BINS - 1, b))]!++;
  }
  return { edges, counts };
}

/** Statistics of one tensor (throws for strings and complex numbers). */
export function tensorStats(t: Tensor, name = t.name ?? ''): TensorStats {
  if (t.dtype === 'string' || t.dtype === 'complex64' || t.dtype === 'complex128') {
    throw usageError(`tensor '${name}' is ${t.dtype}: no numeric statistics`);
  }
  const n = t.size;
  const get = reader(t);
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  let finite = 0;
  let zeros = 0;
  let nan = 0;
  let inf = 0;
  for (let i = 0; i < n; i++) {
    const x = get(i);
    if (x === 0) zeros++;
    if (Number.isNaN(x)) nan++;
    else if (!Number.isFinite(x)) inf++;
    else {
      finite++;
      sum += x;
      if (x < min) min = x;
      if (x > max) max = x;
    }
  }
  let mean: number | null = null;
  let std: number | null = null;
  let hist: Histogram | null = null;
  if (finite > 0) {
    mean = sum / finite;
    let sq = 0;
    for (let i = 0; i < n; i++) {
      const x = get(i);
      if (Number.isFinite(x)) sq += (x - mean) * (x - mean);
    }
    std = Math.sqrt(sq / finite);
    hist = histogram(get, n, min, max);
  }
  return {
    name,
    dtype: t.dtype,
    shape: t.shape.slice(),
    elements: n,
    min: finite ? min : null,
    max: finite ? max : null,
    mean,
    std,
    zeros: n ? zeros / n : 0,
    nan,
    inf,
    histogram: hist,
  };
}

/** The warnings one tensor's statistics raise. */
export function weightWarnings(s: TensorStats): WeightWarning[] {
  const out: WeightWarning[] = [];
  if (s.nan) out.push({ name: s.name, kind: 'nan', message: `${s.name}: ${s.nan} NaN value${s.nan > 1 ? 's' : ''} of ${s.elements}` });
  if (s.inf) out.push({ name: s.name, kind: 'inf', message: `${s.name}: ${s.inf} infinite value${s.inf > 1 ? 's' : ''} of ${s.elements}` });
  if (isFloatDType(s.dtype) && s.elements > 0 && s.zeros === 1) {
    out.push({ name: s.name, kind: 'all-zero', message: `${s.name}: all ${s.elements} values are zero (untrained, pruned or lost in conversion?)` });
  }
  if (isFloatDType(s.dtype) && s.min !== null && s.max !== null) {
    const absMax = Math.max(Math.abs(s.min), Math.abs(s.max));
    if (absMax > EXPLODING_ABS) out.push({ name: s.name, kind: 'exploding', message: `${s.name}: max |x| = ${absMax.toPrecision(4)} exceeds ${EXPLODING_ABS}` });
  }
  return out;
}

/** Statistics of every initializer of the main graph, in the file's order. */
export function weightStats(model: Model): WeightStats {
  const tensors: TensorStats[] = [];
  const warnings: WeightWarning[] = [];
  const skipped: WeightStats['skipped'] = [];
  for (const v of model.graph.initializers.values()) {
    const t = v.initializer!;
    if (t.dtype === 'string' || t.dtype === 'complex64' || t.dtype === 'complex128') {
      skipped.push({ name: v.name, reason: `${t.dtype} values` });
      continue;
    }
    let s: TensorStats;
    try {
      s = tensorStats(t, v.name);
    } catch (e) {
      skipped.push({ name: v.name, reason: e instanceof Error ? e.message : String(e) });
      continue;
    }
    tensors.push(s);
    warnings.push(...weightWarnings(s));
  }
  return { tensors, warnings, skipped };
}

/** A weight by name: an initializer, else the output of a Constant node. */
export function findWeight(model: Model, name: string): Tensor {
  const g = model.graph;
  const v: Value | undefined = g.initializers.get(name) ?? g.value(name);
  if (v?.initializer) return v.initializer;
  if (v?.producer?.op === 'Constant') {
    const t = constantNodeTensor(v.producer);
    if (t) return t;
  }
  const names = [...g.initializers.keys()];
  const lower = name.toLowerCase();
  const near = names.filter((n) => n.toLowerCase().includes(lower) || lower.includes(n.toLowerCase())).slice(0, 5);
  const shown = near.length ? near : names.slice(0, 5);
  throw usageError(
    `the model has no weight named '${name}'`,
    shown.length ? `${near.length ? 'did you mean' : 'weights include'}: ${shown.join(', ')}${!near.length && names.length > 5 ? ', ...' : ''} (mconv inspect --weights lists them all)` : 'the model has no weights',
  );
}

// ---- numpy-style printing --------------------------------------------------------------------

export interface FormatOptions {
  /** Elide when the tensor has more elements than this (numpy's default 1000). */
  threshold?: number;
  /** Items kept at each end of an elided axis (numpy's default 3). */
  edgeItems?: number;
}

/** Flat indices of the elements shown (all, or the first/last edgeItems of every long axis). */
function shownIndex(shape: number[], elide: boolean, edge: number): number[][] {
  return shape.map((d) => {
    if (!elide || d <= 2 * edge) return Array.from({ length: d }, (_, i) => i);
    return [...Array.from({ length: edge }, (_, i) => i), ...Array.from({ length: edge }, (_, i) => d - edge + i)];
  });
}

function floatFormatter(values: number[]): (x: number) => string {
  const finite = values.filter((x) => Number.isFinite(x));
  const abs = finite.map(Math.abs).filter((x) => x !== 0);
  const big = abs.length ? Math.max(...abs) : 0;
  const small = abs.length ? Math.min(...abs) : 0;
  const sci = big >= 1e8 || (small > 0 && small < 1e-4) || (small > 0 && big / small > 1e3);
  const special = (x: number) => (Number.isNaN(x) ? 'nan' : x > 0 ? 'inf' : '-inf');
  if (sci) {
    // Shortest mantissa (at most 8 digits) that represents every shown value, as numpy does.
    let digits = 0;
    for (const x of finite) {
      const m = /^-?\d(?:\.(\d+))?e/.exec(Number(x.toPrecision(8)).toExponential());
      digits = Math.max(digits, m?.[1]?.length ?? 0);
    }
    return (x) => {
      if (!Number.isFinite(x)) return special(x);
      const [mant, exp] = x.toExponential(digits).split('e') as [string, string];
      const e = Number(exp);
      return `${mant}e${e < 0 ? '-' : '+'}${String(Math.abs(e)).padStart(2, '0')}`;
    };
  }
  let decimals = 0;
  for (const x of finite) {
    const s = String(Number(x.toPrecision(8)));
    const dot = s.indexOf('.');
    if (dot >= 0) decimals = Math.max(decimals, Math.min(8, s.length - dot - 1));
  }
  // numpy keeps the columns aligned by writing the trailing zeros as spaces (2.50 -> '2.5 ').
  return (x) => {
    if (!Number.isFinite(x)) return special(x);
    if (!decimals) return x.toFixed(0) + '.';
    const s = x.toFixed(decimals);
    const trimmed = s.replace(/0+$/, '');
    return trimmed + ' '.repeat(s.length - trimmed.length);
  };
}

/** The tensor as numpy prints it: nested brackets, aligned columns, `...` where elided. */
export function formatTensor(t: Tensor, opts: FormatOptions = {}): string {
  const threshold = opts.threshold ?? 1000;
  const edge = opts.edgeItems ?? 3;
  if (t.dtype === 'string') {
    const s = t.stringValues();
    return t.rank === 0 ? JSON.stringify(s[0]) : formatNested(t.shape, (i) => `'${s[i]}'`, t.size > threshold, edge, false);
  }
  if (t.dtype === 'complex64' || t.dtype === 'complex128') throw usageError(`cannot print ${t.dtype} tensor '${t.name ?? ''}'`);
  const get = reader(t);
  const isFloat = isFloatDType(t.dtype);
  const elide = t.size > threshold;
  const idx = shownIndex(t.shape, elide, edge);
  const strides = t.shape.map((_, i) => t.shape.slice(i + 1).reduce((a, b) => a * b, 1));
  // Gather the shown values to choose one format for all of them.
  const shown: number[] = [];
  const walk = (axis: number, base: number) => {
    if (axis === t.rank) {
      shown.push(get(base));
      return;
    }
    for (const i of idx[axis]!) walk(axis + 1, base + i * strides[axis]!);
  };
  if (t.size) walk(0, 0);
  let fmt: (x: number) => string;
  if (t.dtype === 'bool') fmt = (x) => (x ? 'True' : 'False');
  else if (isFloat) fmt = floatFormatter(shown);
  else if (t.dtype === 'int64' || t.dtype === 'uint64') {
    const v = t.view() as BigInt64Array;
    return formatNested(t.shape, (i) => String(v[i]), elide, edge, true);
  } else fmt = (x) => String(x);
  if (t.rank === 0) return fmt(get(0));
  return formatNested(t.shape, (i) => fmt(get(i)), elide, edge, true);
}

function formatNested(shape: number[], item: (flat: number) => string, elide: boolean, edge: number, pad: boolean): string {
  const rank = shape.length;
  if (rank === 0) return item(0);
  const idx = shownIndex(shape, elide, edge);
  const strides = shape.map((_, i) => shape.slice(i + 1).reduce((a, b) => a * b, 1));
  let width = 0;
  if (pad) {
    const measure = (axis: number, base: number) => {
      if (axis === rank) {
        width = Math.max(width, item(base).length);
        return;
      }
      for (const i of idx[axis]!) measure(axis + 1, base + i * strides[axis]!);
    };
    measure(0, 0);
  }
  const render = (axis: number, base: number, indent: string): string => {
    const d = shape[axis]!;
    if (d === 0) return '[]';
    const cut = elide && d > 2 * edge;
    const parts: string[] = [];
    idx[axis]!.forEach((i, k) => {
      if (cut && k === edge) parts.push('...');
      parts.push(axis === rank - 1 ? item(base + i * strides[axis]!).padStart(width) : render(axis + 1, base + i * strides[axis]!, indent + ' '));
    });
    if (axis === rank - 1) return '[' + parts.join(' ') + ']';
    // Between rows: a newline per remaining axis, as numpy separates blocks with blank lines.
    const sep = '\n'.repeat(rank - axis - 1) + indent + ' ';
    return '[' + parts.join(sep) + ']';
  };
  return render(0, 0, '');
}
