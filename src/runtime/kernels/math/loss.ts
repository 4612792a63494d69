/**
 * NegativeLogLikelihoodLoss and SoftmaxCrossEntropyLoss, computed in doubles on the JS side:
 * input [N, C, d1..dk], target [N, d1..dk], optional class weights [C], ignore_index,
 * reduction none / sum / mean (mean divides by the summed weights of the counted elements).
 */
import type { Node } from '../../../ir/graph.js';
import { shapeSize } from '../../../ir/tensor.js';
import type { KernelContext, KernelTable, RT } from '../types.js';
import { fromData, kernel, nodeError, numbersOf, opt, req } from './util.js';

interface NllResult {
  values: Float64Array;
  shape: number[];
}

/** NLL over log-probabilities laid out [N, C, D] (D = product of the trailing dims). */
function nll(node: Node, logp: ArrayLike<number>, inShape: number[], target: ArrayLike<number>, tShape: number[], weight: ArrayLike<number> | undefined): NllResult {
  if (inShape.length < 2) throw nodeError(node, `input must be [N, C, ...], got [${inShape.join(', ')}]`);
  const [n, c] = inShape as [number, number];
  const rest = inShape.slice(2);
  const want = [n, ...rest];
  if (tShape.join(',') !== want.join(',')) throw nodeError(node, `target shape [${tShape.join(', ')}] should be [${want.join(', ')}]`);
  const d = shapeSize(rest);
  const ignore = node.attrInt('ignore_index');
  const reduction = node.attrString('reduction', 'mean');
  const loss = new Float64Array(n * d);
  let wsum = 0;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) {
      const t = target[i * d + j]!;
      if (ignore !== undefined && t === ignore) continue;
      if (t < 0 || t >= c) throw nodeError(node, `target ${t} is not a class index in [0, ${c})`);
      const w = weight ? weight[t]! : 1;
      loss[i * d + j] = -logp[(i * c + t) * d + j]! * w;
      wsum += w;
    }
  }
  if (reduction === 'none') return { values: loss, shape: want };
  let s = 0;
  for (let i = 0; i < loss.length; i++) s += loss[i]!;
  if (reduction === 'sum') return { values: Float64Array.of(s), shape: [] };
  if (reduction === 'mean') return { values: Float64Array.of(s / wsum), shape: [] };
  throw nodeError(node, `reduction '${reduction}' is not none, sum or mean`);
}

/** log_softmax along axis 1 of [N, C, D]. */
function logSoftmaxAxis1(x: ArrayLike<number>, shape: number[]): Float64Array {
  const [n, c] = shape as [number, number];
  const d = shapeSize(shape.slice(2));
  const out = new Float64Array(x.length);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) {
      let m = -Infinity;
      for (let k = 0; k < c; k++) m = Math.max(m, x[(i * c + k) * d + j]!);
      let s = 0;
      for (let k = 0; k < c; k++) s += Math.exp(x[(i * c + k) * d + j]! - m);
      const ls = Math.log(s) + m;
      for (let k = 0; k < c; k++) out[(i * c + k) * d + j] = x[(i * c + k) * d + j]! - ls;
    }
  }
  return out;
}

function weightsOf(w: RT | undefined): ArrayLike<number> | undefined {
  return w ? numbersOf(w) : undefined;
}

export const lossKernels: KernelTable = {
  NegativeLogLikelihoodLoss: kernel((ctx: KernelContext) => {
    const { tf, node } = ctx;
    const x = req(ctx, 0);
    const t = req(ctx, 1);
    const r = nll(node, numbersOf(x), x.t.shape, numbersOf(t), t.t.shape, weightsOf(opt(ctx, 2)));
    return [fromData(tf, r.values, r.shape, x.dtype)];
  }),
  SoftmaxCrossEntropyLoss: kernel((ctx: KernelContext) => {
    const { tf, node } = ctx;
    const x = req(ctx, 0);
    const t = req(ctx, 1);
    if (x.t.rank < 2) throw nodeError(node, `scores must be [N, C, ...], got [${x.t.shape.join(', ')}]`);
    const logp = logSoftmaxAxis1(numbersOf(x), x.t.shape);
    const r = nll(node, logp, x.t.shape, numbersOf(t), t.t.shape, weightsOf(opt(ctx, 2)));
    const outs: RT[] = [fromData(tf, r.values, r.shape, x.dtype)];
    if (node.outputs.length > 1) outs.push(fromData(tf, logp, x.t.shape, x.dtype));
    return outs;
  }),
};
