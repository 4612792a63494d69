/**
 * HannWindow, HammingWindow, BlackmanWindow: `size` from the input, periodic (default) or
 * symmetric, output dtype from `output_datatype` (default float).
 */
import type { Node } from '../../../ir/graph.js';
import type { KernelContext, KernelTable } from '../types.js';
import { dtypeFromAttr, fromData, kernel, nodeError, req, scalarOf } from './util.js';

type Win = (n: number, d: number) => number;

const HANN: Win = (n, d) => 0.5 - 0.5 * Math.cos((2 * Math.PI * n) / d);
// ONNX's Hamming window uses alpha = 25/46, beta = 1 - alpha.
const HAMMING: Win = (n, d) => 25 / 46 - (21 / 46) * Math.cos((2 * Math.PI * n) / d);
const BLACKMAN: Win = (n, d) => 0.42 - 0.5 * Math.cos((2 * Math.PI * n) / d) + 0.08 * Math.cos((4 * Math.PI * n) / d);

function windowKernel(f: Win) {
  return kernel((ctx: KernelContext) => {
    const { tf, node } = ctx;
    const size = scalarOf(req(ctx, 0), node, 'size');
    if (!Number.isInteger(size) || size < 0) throw nodeError(node as Node, `size must be a non-negative integer, got ${size}`);
    const periodic = node.attrInt('periodic', 1) !== 0;
    const dtype = dtypeFromAttr(node, 'output_datatype', 1);
    const d = periodic ? size : size - 1;
    const out = new Float64Array(size);
    for (let i = 0; i < size; i++) out[i] = d === 0 ? 1 : f(i, d);
    return [fromData(tf, out, [size], dtype)];
  });
}

export const windowKernels: KernelTable = {
  HannWindow: windowKernel(HANN),
  HammingWindow: windowKernel(HAMMING),
  BlackmanWindow: windowKernel(BLACKMAN),
};
