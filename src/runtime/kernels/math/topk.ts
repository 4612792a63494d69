/**
 * TopK on the JS side: k from the second input, along `axis`, largest or smallest,
 * ties broken by the lower index; values keep the input dtype, indices are int64.
 * Small k keeps a sorted buffer of the best k (one pass over the row); large k sorts the row.
 */
import { shapeSize } from '../../../ir/tensor.js';
import type { KernelTable } from '../types.js';
import { fromData, kernel, nodeError, normAxis, numbersOf, req, scalarOf } from './util.js';

/** NaN ranks above every number (numpy's sort order), so it leads when largest=1. */
const key = (v: number) => (Number.isNaN(v) ? Infinity : v);

/** Writes the indices of the k best of row[0..n) (value order, then lower index) into `out`. */
function selectRow(row: Float64Array, n: number, k: number, largest: boolean, out: Int32Array): void {
  if (k === 0) return;
  if (k <= 64 && k < n / 4) {
    const bestV = new Float64Array(k);
    let count = 0;
    for (let j = 0; j < n; j++) {
      const v = row[j]!;
      // A later index never beats an equal value already kept.
      if (count === k && (largest ? v <= bestV[k - 1]! : v >= bestV[k - 1]!)) continue;
      let p = count < k ? count++ : k - 1;
      while (p > 0 && (largest ? v > bestV[p - 1]! : v < bestV[p - 1]!)) {
        bestV[p] = bestV[p - 1]!;
        out[p] = out[p - 1]!;
        p--;
      }
      bestV[p] = v;
      out[p] = j;
    }
    return;
  }
  const order = Array.from({ length: n }, (_, j) => j);
  order.sort((a, b) => {
    const va = row[a]!;
    const vb = row[b]!;
    if (va !== vb) return largest ? (va < vb ? 1 : -1) : va < vb ? -1 : 1;
    return a - b;
  });
  for (let j = 0; j < k; j++) out[j] = order[j]!;
}

export const topkKernels: KernelTable = {
  TopK: kernel((ctx) => {
    const { tf, node } = ctx;
    const x = req(ctx, 0);
    const shape = x.t.shape;
    const axis = normAxis(node.attrInt('axis', -1), shape.length, node);
    const k = scalarOf(req(ctx, 1), node, 'k');
    const largest = node.attrInt('largest', 1) !== 0;
    const n = shape[axis]!;
    if (k < 0 || k > n) throw nodeError(node, `k=${k} is outside [0, ${n}] for axis ${axis} of [${shape.join(', ')}]`);
    const outer = shapeSize(shape.slice(0, axis));
    const inner = shapeSize(shape.slice(axis + 1));
    const data = numbersOf(x);
    const outShape = shape.slice();
    outShape[axis] = k;
    const vals = new Float64Array(outer * k * inner);
    const idxs = new Int32Array(outer * k * inner);
    const row = new Float64Array(n);
    const best = new Int32Array(k);
    for (let o = 0; o < outer; o++) {
      for (let i = 0; i < inner; i++) {
        const base = o * n * inner + i;
        for (let j = 0; j < n; j++) row[j] = key(data[base + j * inner]!);
        selectRow(row, n, k, largest, best);
        for (let j = 0; j < k; j++) {
          const dst = o * k * inner + j * inner + i;
          idxs[dst] = best[j]!;
          vals[dst] = data[base + best[j]! * inner]!;
        }
      }
    }
    return [fromData(tf, vals, outShape, x.dtype), fromData(tf, idxs, outShape, 'int64')];
  }),
};
