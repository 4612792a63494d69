/** Elementwise ops: unary maths and activations, broadcasting binary ops, variadic reductions, Where. */
import { isFloatDType, type Dim } from '../tensor.js';
import { broadcastShapes, dimArith, sameAsInput } from './helpers.js';
import { a, defineOps, type InferContext, type InferRule, type OpDef, type ValueType } from './schema.js';

const same: InferRule = (ctx) => [sameAsInput(ctx)];
const toBool: InferRule = (ctx) => [{ dtype: 'bool', shape: ctx.shape(0)?.slice() }];

/** Broadcast of all inputs; dtype of input 0 (or the given dtype). */
function broadcastRule(dtype?: 'bool'): InferRule {
  return (ctx) => {
    const shapes = [];
    for (let i = 0; i < ctx.inputCount; i++) if (ctx.has(i)) shapes.push(ctx.shape(i));
    return [{ dtype: dtype ?? ctx.dtype(0), shape: broadcastShapes(ctx, shapes) }];
  };
}

/** Broadcast plus propagation of small integer contents (shape arithmetic such as `Shape(x)[0] * 2`). */
function arithRule(op: 'Add' | 'Sub' | 'Mul' | 'Div'): InferRule {
  const base = broadcastRule();
  return (ctx) => {
    const [t] = base(ctx) as [ValueType];
    const isFloat = t.dtype !== undefined && isFloatDType(t.dtype);
    const small = (v: number[] | undefined) => (v && v.length <= 64 ? v : undefined);
    const x = ctx.dims(0) ?? (isFloat ? small(ctx.floats(0)) : undefined);
    const y = ctx.dims(1) ?? (isFloat ? small(ctx.floats(1)) : undefined);
    if (x && y && t.shape && t.shape.length <= 1 && (x.length === y.length || x.length === 1 || y.length === 1)) {
      const n = Math.max(x.length, y.length);
      const v: Dim[] = [];
      for (let i = 0; i < n; i++) {
        const xi = x[x.length === 1 ? 0 : i]!;
        const yi = y[y.length === 1 ? 0 : i]!;
        const r = isFloat && op === 'Div' && typeof xi === 'number' && typeof yi === 'number' ? xi / yi : dimArith(op, xi, yi);
        if (r === undefined) return [t];
        v.push(r);
      }
      t.value = v;
    }
    return [t];
  };
}

function unary(op: string, since: number, names: [string, string] = ['X', 'Y'], attrs?: OpDef['attrs']): OpDef {
  return { op, since, inputs: [names[0]], outputs: [names[1]], attrs, infer: same };
}
const io: [string, string] = ['input', 'output'];

function binary(op: string, since: number, rule: InferRule, attrs?: OpDef['attrs']): OpDef {
  return { op, since, inputs: ['A', 'B'], outputs: ['C'], attrs, infer: rule };
}

function variadic(op: string, out: string): OpDef {
  return { op, since: 13, inputs: ['data_0...'], outputs: [out], infer: broadcastRule() };
}

/** Identity passes propagated contents through. */
function passValue(ctx: InferContext): Dim[] | undefined {
  const v = ctx.dims(0);
  return v && ctx.dtype(0) !== 'bool' ? v : undefined;
}

export const elementwiseSchemas = defineOps('elementwise', [
  unary('Abs', 13),
  unary('Acos', 7, io),
  unary('Acosh', 9, io),
  unary('Asin', 7, io),
  unary('Asinh', 9, io),
  unary('Atan', 7, io),
  unary('Atanh', 9, io),
  unary('Ceil', 13),
  unary('Cos', 7, io),
  unary('Cosh', 9, io),
  unary('Erf', 13, io),
  unary('Exp', 13, io),
  unary('Floor', 13),
  unary('Log', 13, io),
  unary('Neg', 13),
  unary('Reciprocal', 13),
  unary('Round', 11),
  unary('Sign', 13, io),
  unary('Sin', 7, io),
  unary('Sinh', 9, io),
  unary('Sqrt', 13),
  unary('Tan', 7, io),
  unary('Tanh', 13, io),
  unary('Sigmoid', 13),
  unary('Softplus', 1),
  unary('Softsign', 1, io),
  unary('Relu', 14),
  unary('Mish', 18),
  unary('HardSwish', 14),
  unary('Not', 1),
  unary('Elu', 6, ['X', 'Y'], { alpha: a.float(1.0) }),
  unary('Celu', 12, ['X', 'Y'], { alpha: a.float(1.0) }),
  unary('LeakyRelu', 16, ['X', 'Y'], { alpha: a.float(0.01) }),
  unary('HardSigmoid', 6, ['X', 'Y'], { alpha: a.float(0.2), beta: a.float(0.5) }),
  unary('Selu', 6, ['X', 'Y'], { alpha: a.float(1.67326319217681884765625), gamma: a.float(1.05070102214813232421875) }),
  unary('ThresholdedRelu', 10, ['X', 'Y'], { alpha: a.float(1.0) }),
  unary('Shrink', 9, io, { bias: a.float(0.0), lambd: a.float(0.5) }),
  { op: 'IsNaN', since: 13, inputs: ['X'], outputs: ['Y'], infer: toBool },
  {
    op: 'IsInf', since: 10, inputs: ['X'], outputs: ['Y'],
    attrs: { detect_negative: a.int(1), detect_positive: a.int(1) }, infer: toBool,
  },
  { op: 'Clip', since: 13, inputs: ['input', 'min?', 'max?'], outputs: ['output'], infer: same, legacyAttrs: ['min', 'max'] },
  {
    op: 'PRelu', since: 16, inputs: ['X', 'slope'], outputs: ['Y'],
    infer: (ctx) => [{ dtype: ctx.dtype(0), shape: broadcastShapes(ctx, [ctx.shape(0), ctx.shape(1)]) }],
  },
  binary('Add', 14, arithRule('Add')),
  binary('Sub', 14, arithRule('Sub')),
  binary('Mul', 14, arithRule('Mul')),
  binary('Div', 14, arithRule('Div')),
  binary('Mod', 13, broadcastRule(), { fmod: a.int(0) }),
  { op: 'Pow', since: 15, inputs: ['X', 'Y'], outputs: ['Z'], infer: broadcastRule() },
  { op: 'BitShift', since: 11, inputs: ['X', 'Y'], outputs: ['Z'], attrs: { direction: a.req.string() }, infer: broadcastRule() },
  binary('And', 7, broadcastRule('bool')),
  binary('Or', 7, broadcastRule('bool')),
  binary('Xor', 7, broadcastRule('bool')),
  binary('Equal', 13, broadcastRule('bool')),
  binary('Greater', 13, broadcastRule('bool')),
  binary('GreaterOrEqual', 16, broadcastRule('bool')),
  binary('Less', 13, broadcastRule('bool')),
  binary('LessOrEqual', 16, broadcastRule('bool')),
  variadic('Max', 'max'),
  variadic('Min', 'min'),
  variadic('Mean', 'mean'),
  variadic('Sum', 'sum'),
  {
    op: 'Where', since: 16, inputs: ['condition', 'X', 'Y'], outputs: ['output'],
    infer: (ctx) => [{ dtype: ctx.dtype(1) ?? ctx.dtype(2), shape: broadcastShapes(ctx, [ctx.shape(0), ctx.shape(1), ctx.shape(2)]) }],
  },
  {
    op: 'Identity', since: 16, inputs: ['input'], outputs: ['output'],
    infer: (ctx) => [{ ...sameAsInput(ctx), value: passValue(ctx) }],
  },
]);
