/**
 * TopK on the JS side: k from the second input, along `axis`, largest or smallest,
 * ties broken by the lower index; values keep the input dtype, indices are int64.
 */
import { shapeSize } from '../../../ir/tensor.js';
import type { KernelTable } from '../types.js';
import { fromData, kernel, nodeError, normAxis, numbersOf, req, scalarOf } from './util.js';

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
    const order = new Array<number>(n);
    // NaN sorts as the largest value (numpy's rule), so it leads when largest=1.
    const key = (v: number) => (Number.isNaN(v) ? Infinity : v);
    for (let o = 0; o < outer; o++) {
      for (let i = 0; i < inner; i++) {
        const base = o * n * inner + i;
        for (let j = 0; j < n; j++) order[j] = j;
        order.sort((a, b) => {
          const va = key(data[base + a * inner]!);
          const vb = key(data[base + b * inner]!);
          if (va !== vb) return largest ? (va < vb ? 1 : -1) : va < vb ? -1 : 1;
          return a - b;
        });
        for (let j = 0; j < k; j++) {
          const dst = o * k * inner + j * inner + i;
          idxs[dst] = order[j]!;
          vals[dst] = data[base + order[j]! * inner]!;
        }
      }
    }
    return [fromData(tf, vals, outShape, x.dtype), fromData(tf, idxs, outShape, 'int64')];
  }),
};
