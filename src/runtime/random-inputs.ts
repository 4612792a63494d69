/**
 * Seeded random inputs of the right dtype and shape for a graph's inputs, so `mconv run` and
 * `mconv verify` work without data and give the same numbers every time.
 */
import type { Value } from '../ir/graph.js';
import { DType, Shape, Tensor, shapeSize } from '../ir/tensor.js';
import { MconvError } from '../errors.js';

/** mulberry32: a small, fast, seedable PRNG with uniform output in [0, 1). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Concrete shape: symbolic dims bound from `dims` (default 1). */
export function bindShape(shape: Shape, dims: Record<string, number> = {}, what = 'input'): number[] {
  return shape.map((d, i) => {
    if (typeof d === 'number' && d >= 0) return d;
    const name = typeof d === 'string' ? d : `dim${i}`;
    const v = dims[name];
    if (v === undefined) return 1;
    if (!Number.isInteger(v) || v < 0) throw new MconvError({ kind: 'usage', message: `dimension ${name} of ${what} must be a non-negative integer, got ${v}` });
    return v;
  });
}

export function randomTensor(dtype: DType, shape: number[], rand: () => number, name?: string): Tensor {
  const n = shapeSize(shape);
  if (dtype === 'string') return Tensor.fromStrings(shape, Array.from({ length: n }, () => `s${Math.floor(rand() * 10)}`), name);
  const vals = new Array<number | bigint | boolean>(n);
  for (let i = 0; i < n; i++) {
    const u = rand();
    switch (dtype) {
      case 'bool': vals[i] = u < 0.5; break;
      case 'int64': case 'uint64': vals[i] = BigInt(Math.floor(u * 10)); break;
      case 'float32': case 'float64': case 'float16': case 'bfloat16': vals[i] = u * 2 - 1; break;
      default: vals[i] = Math.floor(u * 10); break;
    }
  }
  return Tensor.fromArray(dtype, shape, vals, name);
}

/** Random feeds for every graph input (seed 0 unless given). */
export function randomInputs(inputs: Value[], opts: { seed?: number; dims?: Record<string, number> } = {}): Map<string, Tensor> {
  const rand = prng(opts.seed ?? 0);
  const out = new Map<string, Tensor>();
  for (const v of inputs) {
    if (!v.dtype || !v.shape) {
      throw new MconvError({ kind: 'usage', message: `input '${v.name}' has no known ${v.dtype ? 'shape' : 'dtype'}, so random data cannot be made for it`, hint: `give it with --input ${v.name}=FILE.npy` });
    }
    out.set(v.name, randomTensor(v.dtype, bindShape(v.shape, opts.dims, `input '${v.name}'`), rand, v.name));
  }
  return out;
}
