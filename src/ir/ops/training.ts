/**
 * Ops of the ai.onnx.preview.training domain (version 1): Gradient, Adagrad, Adam, Momentum.
 * Gradient's outputs are shaped like the tensors named in `xs` (its first inputs); an
 * optimizer's inputs are R, T and then equal-length lists (X, G and the states), its outputs
 * the new X list and the new state lists, each shaped like the list it replaces.
 */
import { isFloatDType } from '../tensor.js';
import { sameAsInput } from './helpers.js';
import { a, defineOps, type AttrSpec, type InferContext, type InferRule, type ValueType } from './schema.js';

export const TRAINING_DOMAIN = 'ai.onnx.preview.training';

const requiredStrings: Omit<AttrSpec, 'name'> = { kind: 'strings', required: true };

function gradientRule(ctx: InferContext): ValueType[] {
  const xs = ctx.attrStrings('xs') ?? ctx.fail('attribute xs is required');
  if (ctx.attrString('y') === undefined) ctx.fail('attribute y is required');
  const zs = ctx.attrStrings('zs') ?? [];
  if (ctx.outputCount > xs.length) ctx.fail(`has ${ctx.outputCount} outputs, xs names ${xs.length}`);
  if (ctx.inputCount !== xs.length + zs.length) {
    ctx.fail(`has ${ctx.inputCount} inputs, xs and zs name ${xs.length + zs.length}`);
  }
  return Array.from({ length: ctx.outputCount }, (_, i) => {
    const t = sameAsInput(ctx, i);
    if (ctx.hasOutput(i) && t.dtype !== undefined && !isFloatDType(t.dtype)) ctx.fail(`cannot differentiate with respect to '${xs[i]}', a ${t.dtype} tensor`);
    return t;
  });
}

/**
 * An optimizer with `lists` input lists after R and T; `stateLists` gives, for each output list
 * after the new X, which input list it updates (Adagrad: H, list 2; Adam: V and H, lists 2, 3).
 */
function optimizerRule(lists: number, stateLists: number[]): InferRule {
  return (ctx) => {
    const rest = ctx.inputCount - 2;
    if (rest <= 0 || rest % lists !== 0) ctx.fail(`needs R, T and ${lists} lists of equal length, got ${ctx.inputCount} inputs`);
    const n = rest / lists;
    const outLists = [0, ...stateLists];
    if (ctx.outputCount > n * outLists.length) ctx.fail(`has ${ctx.outputCount} outputs, at most ${n * outLists.length} expected`);
    const r = ctx.dtype(0);
    if (r !== undefined && r !== 'float32' && r !== 'float64') ctx.fail(`R must be float or double, it is ${r}`);
    const t = ctx.dtype(1);
    if (t !== undefined && t !== 'int64') ctx.fail(`T must be int64, it is ${t}`);
    for (let i = 2; i < ctx.inputCount; i++) {
      const d = ctx.dtype(i);
      if (d !== undefined && d !== 'float32' && d !== 'float64') ctx.fail(`input ${i} is ${d}; optimizers update float tensors`);
    }
    return Array.from({ length: ctx.outputCount }, (_, o) => {
      const list = outLists[Math.floor(o / n)]!;
      const src = 2 + list * n + (o % n);
      // States have their tensor's shape; fall back on X's type when a state is untyped.
      const own = sameAsInput(ctx, src);
      const x = sameAsInput(ctx, 2 + (o % n));
      return { dtype: own.dtype ?? x.dtype, shape: own.shape ?? x.shape };
    });
  };
}

export const trainingSchemas = defineOps('training', [
  {
    op: 'Gradient', since: 1, domain: TRAINING_DOMAIN, inputs: ['Inputs...'], outputs: ['Outputs...'],
    attrs: { xs: requiredStrings, y: a.req.string(), zs: a.strings() }, infer: gradientRule,
  },
  {
    op: 'Adagrad', since: 1, domain: TRAINING_DOMAIN, inputs: ['R', 'T', 'inputs...'], outputs: ['outputs...'],
    attrs: { decay_factor: a.float(0.0), epsilon: a.float(1e-6), norm_coefficient: a.float(0.0) },
    infer: optimizerRule(3, [2]),
  },
  {
    op: 'Adam', since: 1, domain: TRAINING_DOMAIN, inputs: ['R', 'T', 'inputs...'], outputs: ['outputs...'],
    attrs: {
      alpha: a.float(0.9), beta: a.float(0.999), epsilon: a.float(1e-6), norm_coefficient: a.float(0.0),
      norm_coefficient_post: a.float(0.0),
    },
    infer: optimizerRule(4, [2, 3]),
  },
  {
    op: 'Momentum', since: 1, domain: TRAINING_DOMAIN, inputs: ['R', 'T', 'inputs...'], outputs: ['outputs...'],
    attrs: { alpha: a.req.float(), beta: a.req.float(), mode: a.req.string(), norm_coefficient: a.req.float() },
    infer: optimizerRule(3, [2]),
  },
]);
