/** Reductions: Reduce*, ArgMax/ArgMin, CumSum. */
import type { DType, Shape } from '../tensor.js';
import { normAxis, sameAsInput } from './helpers.js';
import { a, defineOps, type InferContext, type OpDef, type ValueType } from './schema.js';

function reduceShape(ctx: InferContext, s: Shape, axes: number[] | undefined, keep: boolean, noop: boolean): Shape {
  const r = s.length;
  if (!axes || axes.length === 0) {
    if (noop) return s.slice();
    return keep ? s.map(() => 1) : [];
  }
  const set = new Set(axes.map((x) => normAxis(ctx, x, r)));
  const out: Shape = [];
  s.forEach((d, i) => {
    if (!set.has(i)) out.push(d);
    else if (keep) out.push(1);
  });
  return out;
}

/**
 * Opset 17 Reduce ops take `axes` as an attribute, except ReduceSum (an input since 13).
 * Both forms are accepted for every Reduce op, so nodes of opset 18 read as well.
 */
function reduceRule(ctx: InferContext): ValueType[] {
  const s = ctx.shape(0);
  const dtype = ctx.dtype(0);
  const keep = (ctx.attrInt('keepdims') ?? 1) !== 0;
  const noop = (ctx.attrInt('noop_with_empty_axes') ?? 0) !== 0;
  if (!s) return [{ dtype }];
  let axes: number[] | undefined;
  if (ctx.has(1)) {
    axes = ctx.ints(1);
    if (!axes) {
      const k = ctx.shape(1)?.[0];
      if (keep) return [{ dtype, shape: ctx.symShape(0, s.length) }];
      return [{ dtype, shape: typeof k === 'number' && k > 0 ? ctx.symShape(0, s.length - k) : undefined }];
    }
  } else axes = ctx.attrInts('axes');
  return [{ dtype, shape: reduceShape(ctx, s, axes, keep, noop) }];
}

function reduce(op: string): OpDef {
  if (op === 'ReduceSum') {
    return {
      op, since: 13, inputs: ['data', 'axes?'], outputs: ['reduced'],
      attrs: { keepdims: a.int(1), noop_with_empty_axes: a.int(0) }, infer: reduceRule, legacyAttrs: ['axes'],
    };
  }
  return {
    op, since: 13, inputs: ['data'], outputs: ['reduced'], attrs: { axes: a.ints(), keepdims: a.int(1) },
    infer: reduceRule, extraInputs: 1, legacyAttrs: ['noop_with_empty_axes'],
  };
}

function argRule(ctx: InferContext): ValueType[] {
  const s = ctx.shape(0);
  const dtype: DType = 'int64';
  if (!s) return [{ dtype }];
  const keep = (ctx.attrInt('keepdims') ?? 1) !== 0;
  const axis = normAxis(ctx, ctx.attrInt('axis') ?? 0, s.length);
  return [{ dtype, shape: reduceShape(ctx, s, [axis], keep, false) }];
}

const argAttrs = { axis: a.int(0), keepdims: a.int(1), select_last_index: a.int(0) };

export const reduceSchemas = defineOps('reduce', [
  ...[
    'ReduceL1', 'ReduceL2', 'ReduceLogSum', 'ReduceLogSumExp', 'ReduceMax', 'ReduceMean', 'ReduceMin', 'ReduceProd',
    'ReduceSum', 'ReduceSumSquare',
  ].map(reduce),
  { op: 'ArgMax', since: 13, inputs: ['data'], outputs: ['reduced'], attrs: argAttrs, infer: argRule },
  { op: 'ArgMin', since: 13, inputs: ['data'], outputs: ['reduced'], attrs: argAttrs, infer: argRule },
  {
    op: 'CumSum', since: 14, inputs: ['x', 'axis'], outputs: ['y'], attrs: { exclusive: a.int(0), reverse: a.int(0) },
    infer: (ctx) => [sameAsInput(ctx)],
  },
]);
