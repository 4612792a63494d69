/**
 * TF elementwise math: binary arithmetic with broadcasting (TF and ONNX broadcast alike), unary
 * functions, comparisons and logical ops, in opset 17 ops.
 *
 * Integer semantics follow TensorFlow's kernels, not Python operators: `Div`/`RealDiv`/
 * `TruncateDiv` on integers truncate toward zero (ONNX Div), `FloorDiv` rounds down, `FloorMod`
 * takes the divisor's sign (ONNX Mod fmod=0), `Mod`/`TruncateMod` the dividend's (C fmod,
 * ONNX Mod fmod=1). Float FloorMod and TruncateDiv are composed, since ONNX Mod on floats is
 * C fmod only and opset 17 has no Trunc.
 *
 * Also the small helpers the other converter files of this family share (dtype of an input,
 * scalar constants, casts).
 */
import { attr, type Value } from '../../../ir/graph.js';
import { ONNX_DTYPE_CODES } from '../../../ir/ops/helpers.js';
import { Tensor, isFloatDType, isIntDType, type DType } from '../../../ir/tensor.js';
import { registerTfOp, type TfOpContext, type TfOpConverter } from '../op-api.js';

/* ------------------------------------------------------------------------------------------ */
/* Shared helpers. */

/** The dtype of an input: its Value's dtype, else the node's `T` attribute. */
export function dtypeOf(ctx: TfOpContext, v: Value, typeAttr = 'T'): DType {
  if (v.dtype) return v.dtype;
  if (ctx.attr(typeAttr)) return ctx.dtype(typeAttr);
  throw ctx.unsupported(`an input of unknown dtype (no ${typeAttr} attribute)`);
}

/** A scalar constant of a dtype, as an initializer under the node's name. */
export function scalarOf(ctx: TfOpContext, suffix: string, value: number, dtype: DType): Value {
  return ctx.initializer(suffix, Tensor.fromArray(dtype, [], [dtype === 'int64' || dtype === 'uint64' ? BigInt(value) : value]));
}

export function castTo(ctx: TfOpContext, v: Value, to: DType, suffix?: string): Value {
  return ctx.emit('Cast', [v], { to: attr.int(ONNX_DTYPE_CODES[to]) }, 1, suffix)[0]!;
}

function isSigned(d: DType): boolean {
  return d === 'int8' || d === 'int16' || d === 'int32' || d === 'int64';
}

/** Fails for dtypes an op does not take (strings, complex, bool where numbers are needed). */
export function requireNumeric(ctx: TfOpContext, d: DType, what: string): void {
  if (d === 'string' || d === 'complex64' || d === 'complex128' || d === 'bool') {
    throw ctx.unsupported(`${what} of ${d} tensors`);
  }
}

/** A converter emitting one ONNX op over the inputs unchanged. */
function direct(op: string, arity = 2, attrs?: Parameters<TfOpContext['emit']>[2]): TfOpConverter {
  return (ctx, ins) => {
    if (ins.length < arity) throw ctx.unsupported(`${ins.length} inputs (expected ${arity})`);
    return ctx.emit(op, ins.slice(0, arity), attrs);
  };
}

/** A unary float function (ONNX takes floats only; TF too for these). */
function floatUnary(op: string): TfOpConverter {
  return (ctx, [x]) => {
    const d = dtypeOf(ctx, x!);
    if (!isFloatDType(d)) throw ctx.unsupported(`${ctx.node.op} of ${d} tensors`);
    return ctx.emit(op, [x!]);
  };
}

/* ------------------------------------------------------------------------------------------ */
/* Binary arithmetic. */

function add(ctx: TfOpContext, ins: Value[]): Value[] {
  const d = dtypeOf(ctx, ins[0]!);
  if (d === 'string') throw ctx.unsupported('string concatenation (Add of strings)');
  return ctx.emit('Add', [ins[0]!, ins[1]!]);
}

function addN(ctx: TfOpContext, ins: Value[]): Value[] {
  if (ins.length === 0) throw ctx.unsupported('AddN without inputs');
  if (ins.length === 1) return ctx.emit('Identity', [ins[0]!]);
  const d = dtypeOf(ctx, ins[0]!);
  requireNumeric(ctx, d, 'AddN');
  // ONNX Sum takes floats only: integers are added pairwise.
  if (isFloatDType(d)) return ctx.emit('Sum', ins);
  let acc = ins[0]!;
  for (let i = 1; i < ins.length; i++) {
    acc = ctx.emit('Add', [acc, ins[i]!], {}, 1, i === ins.length - 1 ? undefined : `add_${i}`)[0]!;
  }
  return [acc];
}

/** x / y: floats divide, integers truncate toward zero (TF's Div, RealDiv and TruncateDiv kernels). */
function div(ctx: TfOpContext, [x, y]: Value[]): Value[] {
  const d = dtypeOf(ctx, x!);
  requireNumeric(ctx, d, ctx.node.op);
  return ctx.emit('Div', [x!, y!]);
}

/** trunc(x / y) for floats: Ceil below zero, Floor above (no Trunc op in opset 17). */
function truncateDiv(ctx: TfOpContext, [x, y]: Value[]): Value[] {
  const d = dtypeOf(ctx, x!);
  requireNumeric(ctx, d, 'TruncateDiv');
  if (!isFloatDType(d)) return ctx.emit('Div', [x!, y!]);
  const q = ctx.emit('Div', [x!, y!], {}, 1, 'div')[0]!;
  return [trunc(ctx, q, d)];
}

/** trunc(q) for floats. */
export function trunc(ctx: TfOpContext, q: Value, d: DType, suffix?: string): Value {
  const neg = ctx.emit('Less', [q, scalarOf(ctx, 'zero', 0, d)], {}, 1, 'negative')[0]!;
  const c = ctx.emit('Ceil', [q], {}, 1, 'ceil')[0]!;
  const f = ctx.emit('Floor', [q], {}, 1, 'floor')[0]!;
  return ctx.emit('Where', [neg, c, f], {}, 1, suffix)[0]!;
}

/** floor(x / y). Signed integers: (x - floormod(x, y)) / y, exact since the difference divides. */
function floorDiv(ctx: TfOpContext, [x, y]: Value[]): Value[] {
  const d = dtypeOf(ctx, x!);
  requireNumeric(ctx, d, 'FloorDiv');
  if (isFloatDType(d)) {
    const q = ctx.emit('Div', [x!, y!], {}, 1, 'div')[0]!;
    return ctx.emit('Floor', [q]);
  }
  if (!isSigned(d)) return ctx.emit('Div', [x!, y!]);
  const m = ctx.emit('Mod', [x!, y!], { fmod: attr.int(0) }, 1, 'mod')[0]!;
  const s = ctx.emit('Sub', [x!, m], {}, 1, 'sub')[0]!;
  return ctx.emit('Div', [s, y!]);
}

/**
 * Remainder with the divisor's sign. Floats as TF computes them: r = fmod(x, y), plus y where
 * r is non-zero and its sign differs from y's.
 */
function floorMod(ctx: TfOpContext, [x, y]: Value[]): Value[] {
  const d = dtypeOf(ctx, x!);
  requireNumeric(ctx, d, 'FloorMod');
  if (!isFloatDType(d)) return ctx.emit('Mod', [x!, y!], { fmod: attr.int(isSigned(d) ? 0 : 1) });
  const r = ctx.emit('Mod', [x!, y!], { fmod: attr.int(1) }, 1, 'fmod')[0]!;
  const zero = scalarOf(ctx, 'zero', 0, d);
  const nonZero = ctx.emit('Not', [ctx.emit('Equal', [r, zero], {}, 1, 'is_zero')[0]!], {}, 1, 'non_zero')[0]!;
  const rNeg = ctx.emit('Less', [r, zero], {}, 1, 'r_negative')[0]!;
  const yNeg = ctx.emit('Less', [y!, zero], {}, 1, 'y_negative')[0]!;
  const differ = ctx.emit('Xor', [rNeg, yNeg], {}, 1, 'signs_differ')[0]!;
  const fix = ctx.emit('And', [nonZero, differ], {}, 1, 'adjust')[0]!;
  const shifted = ctx.emit('Add', [r, y!], {}, 1, 'shifted')[0]!;
  return ctx.emit('Where', [fix, shifted, r]);
}

/** C remainder (sign of the dividend): TF's Mod and TruncateMod. */
function truncMod(ctx: TfOpContext, [x, y]: Value[]): Value[] {
  const d = dtypeOf(ctx, x!);
  requireNumeric(ctx, d, ctx.node.op);
  return ctx.emit('Mod', [x!, y!], { fmod: attr.int(1) });
}

/** x / y, or 0 where y == 0 (TF's DivNoNan, floats). */
function divNoNan(ctx: TfOpContext, [x, y]: Value[]): Value[] {
  const d = dtypeOf(ctx, x!);
  if (!isFloatDType(d)) throw ctx.unsupported(`DivNoNan of ${d} tensors`);
  const zero = scalarOf(ctx, 'zero', 0, d);
  const isZero = ctx.emit('Equal', [y!, zero], {}, 1, 'y_is_zero')[0]!;
  const q = ctx.emit('Div', [x!, y!], {}, 1, 'div')[0]!;
  return ctx.emit('Where', [isZero, zero, q]);
}

/** MulNoNan: x * y, or 0 where y == 0. */
function mulNoNan(ctx: TfOpContext, [x, y]: Value[]): Value[] {
  const d = dtypeOf(ctx, x!);
  if (!isFloatDType(d)) throw ctx.unsupported(`MulNoNan of ${d} tensors`);
  const zero = scalarOf(ctx, 'zero', 0, d);
  const isZero = ctx.emit('Equal', [y!, zero], {}, 1, 'y_is_zero')[0]!;
  const p = ctx.emit('Mul', [x!, y!], {}, 1, 'mul')[0]!;
  return ctx.emit('Where', [isZero, zero, p]);
}

function squaredDifference(ctx: TfOpContext, [x, y]: Value[]): Value[] {
  const d = ctx.emit('Sub', [x!, y!], {}, 1, 'sub')[0]!;
  return ctx.emit('Mul', [d, d]);
}

function maxMin(op: 'Max' | 'Min'): TfOpConverter {
  return (ctx, [x, y]) => {
    const d = dtypeOf(ctx, x!);
    requireNumeric(ctx, d, ctx.node.op);
    return ctx.emit(op, [x!, y!]);
  };
}

/**
 * atan2(y, x) (TF's Atan2(y, x)): atan(y / x) moved to the right quadrant; on the y axis
 * ±pi/2 by y's sign, 0 at the origin.
 */
function atan2(ctx: TfOpContext, [y, x]: Value[]): Value[] {
  const d = dtypeOf(ctx, y!);
  if (!isFloatDType(d)) throw ctx.unsupported(`Atan2 of ${d} tensors`);
  const zero = scalarOf(ctx, 'zero', 0, d);
  const pi = scalarOf(ctx, 'pi', Math.PI, d);
  const minusPi = scalarOf(ctx, 'minus_pi', -Math.PI, d);
  const halfPi = scalarOf(ctx, 'half_pi', Math.PI / 2, d);
  const base = ctx.emit('Atan', [ctx.emit('Div', [y!, x!], {}, 1, 'ratio')[0]!], {}, 1, 'atan')[0]!;
  const yNeg = ctx.emit('Less', [y!, zero], {}, 1, 'y_negative')[0]!;
  const xNeg = ctx.emit('Less', [x!, zero], {}, 1, 'x_negative')[0]!;
  const shift = ctx.emit('Where', [xNeg, ctx.emit('Where', [yNeg, minusPi, pi], {}, 1, 'half_turn')[0]!, zero], {}, 1, 'shift')[0]!;
  const general = ctx.emit('Add', [base, shift], {}, 1, 'general')[0]!;
  const onAxis = ctx.emit('Mul', [ctx.emit('Sign', [y!], {}, 1, 'y_sign')[0]!, halfPi], {}, 1, 'on_y_axis')[0]!;
  const xZero = ctx.emit('Equal', [x!, zero], {}, 1, 'x_is_zero')[0]!;
  return ctx.emit('Where', [xZero, onAxis, general]);
}

/** Xdivy (x / y, 0 where x == 0), Xlogy (x * log(y), 0 where x == 0), Xlog1py (x * log1p(y)). */
function xOp(kind: 'div' | 'log' | 'log1p'): TfOpConverter {
  return (ctx, [x, y]) => {
    const d = dtypeOf(ctx, x!);
    if (!isFloatDType(d)) throw ctx.unsupported(`${ctx.node.op} of ${d} tensors`);
    const zero = scalarOf(ctx, 'zero', 0, d);
    let v: Value;
    if (kind === 'div') v = ctx.emit('Div', [x!, y!], {}, 1, 'div')[0]!;
    else {
      const arg = kind === 'log' ? y! : ctx.emit('Add', [y!, scalarOf(ctx, 'one', 1, d)], {}, 1, 'one_plus_y')[0]!;
      v = ctx.emit('Mul', [x!, ctx.emit('Log', [arg], {}, 1, 'log')[0]!], {}, 1, 'mul')[0]!;
    }
    const xZero = ctx.emit('Equal', [x!, zero], {}, 1, 'x_is_zero')[0]!;
    return ctx.emit('Where', [xZero, zero, v]);
  };
}

/** ApproximateEqual: |x - y| < tolerance. */
function approximateEqual(ctx: TfOpContext, [x, y]: Value[]): Value[] {
  const d = dtypeOf(ctx, x!);
  requireNumeric(ctx, d, 'ApproximateEqual');
  const diff = ctx.emit('Abs', [ctx.emit('Sub', [x!, y!], {}, 1, 'sub')[0]!], {}, 1, 'abs')[0]!;
  return ctx.emit('Less', [diff, scalarOf(ctx, 'tolerance', ctx.float('tolerance', 1e-5), d)]);
}

/* ------------------------------------------------------------------------------------------ */
/* Unary. */

function square(ctx: TfOpContext, [x]: Value[]): Value[] {
  return ctx.emit('Mul', [x!, x!]);
}

function reciprocal(ctx: TfOpContext, [x]: Value[]): Value[] {
  const d = dtypeOf(ctx, x!);
  requireNumeric(ctx, d, ctx.node.op);
  if (isFloatDType(d)) return ctx.emit('Reciprocal', [x!]);
  // Integers: 1 / x truncated, as TF's kernel does.
  return ctx.emit('Div', [scalarOf(ctx, 'one', 1, d), x!]);
}

function rsqrt(ctx: TfOpContext, [x]: Value[]): Value[] {
  const d = dtypeOf(ctx, x!);
  if (!isFloatDType(d)) throw ctx.unsupported(`Rsqrt of ${d} tensors`);
  const s = ctx.emit('Sqrt', [x!], {}, 1, 'sqrt')[0]!;
  return ctx.emit('Reciprocal', [s]);
}

/**
 * exp(x) - 1 without cancellation near 0 (Kahan): u = exp(x); x where u == 1; u (inf) where u
 * is infinite; -1 where u - 1 == -1; else (u - 1) * x / log(u).
 */
function expm1(ctx: TfOpContext, [x]: Value[]): Value[] {
  const d = dtypeOf(ctx, x!);
  if (!isFloatDType(d)) throw ctx.unsupported(`Expm1 of ${d} tensors`);
  const one = scalarOf(ctx, 'one', 1, d);
  const minusOne = scalarOf(ctx, 'minus_one', -1, d);
  const u = ctx.emit('Exp', [x!], {}, 1, 'exp')[0]!;
  const um1 = ctx.emit('Sub', [u, one], {}, 1, 'exp_minus_one')[0]!;
  const ratio = ctx.emit('Div', [ctx.emit('Mul', [um1, x!], {}, 1, 'mul')[0]!, ctx.emit('Log', [u], {}, 1, 'log')[0]!], {}, 1, 'ratio')[0]!;
  const isMinusOne = ctx.emit('Equal', [um1, minusOne], {}, 1, 'is_minus_one')[0]!;
  const small = ctx.emit('Where', [isMinusOne, minusOne, ratio], {}, 1, 'finite')[0]!;
  const inf = ctx.emit('IsInf', [u], {}, 1, 'is_inf')[0]!;
  const big = ctx.emit('Where', [inf, u, small], {}, 1, 'large')[0]!;
  const exact = ctx.emit('Equal', [u, one], {}, 1, 'is_one')[0]!;
  return ctx.emit('Where', [exact, x!, big]);
}

/**
 * log(1 + x) without cancellation near 0 (Kahan): u = 1 + x; x where u == 1; log(u) where u
 * is infinite; else log(u) * x / (u - 1).
 */
function log1p(ctx: TfOpContext, [x]: Value[]): Value[] {
  const d = dtypeOf(ctx, x!);
  if (!isFloatDType(d)) throw ctx.unsupported(`Log1p of ${d} tensors`);
  const one = scalarOf(ctx, 'one', 1, d);
  const u = ctx.emit('Add', [x!, one], {}, 1, 'one_plus_x')[0]!;
  const lg = ctx.emit('Log', [u], {}, 1, 'log')[0]!;
  const um1 = ctx.emit('Sub', [u, one], {}, 1, 'u_minus_one')[0]!;
  const ratio = ctx.emit('Div', [ctx.emit('Mul', [lg, x!], {}, 1, 'mul')[0]!, um1], {}, 1, 'ratio')[0]!;
  const inf = ctx.emit('IsInf', [u], {}, 1, 'is_inf')[0]!;
  const big = ctx.emit('Where', [inf, lg, ratio], {}, 1, 'large')[0]!;
  const exact = ctx.emit('Equal', [u, one], {}, 1, 'is_one')[0]!;
  return ctx.emit('Where', [exact, x!, big]);
}

/** Round half to even (TF's Round and Rint; ONNX Round); integers unchanged. */
function round(ctx: TfOpContext, [x]: Value[]): Value[] {
  const d = dtypeOf(ctx, x!);
  requireNumeric(ctx, d, ctx.node.op);
  return ctx.emit(isIntDType(d) ? 'Identity' : 'Round', [x!]);
}

/** Floor/Ceil: integers (allowed by some TF versions) unchanged. */
function floorCeil(op: 'Floor' | 'Ceil'): TfOpConverter {
  return (ctx, [x]) => {
    const d = dtypeOf(ctx, x!);
    requireNumeric(ctx, d, op);
    return ctx.emit(isIntDType(d) ? 'Identity' : op, [x!]);
  };
}

function isFinite(ctx: TfOpContext, [x]: Value[]): Value[] {
  const nan = ctx.emit('IsNaN', [x!], {}, 1, 'is_nan')[0]!;
  const inf = ctx.emit('IsInf', [x!], {}, 1, 'is_inf')[0]!;
  const bad = ctx.emit('Or', [nan, inf], {}, 1, 'not_finite')[0]!;
  return ctx.emit('Not', [bad]);
}

function notEqual(ctx: TfOpContext, [x, y]: Value[]): Value[] {
  const e = ctx.emit('Equal', [x!, y!], {}, 1, 'equal')[0]!;
  return ctx.emit('Not', [e]);
}

/** Comparisons: numbers (not bool or strings, which ONNX's Less/Greater do not take). */
function compare(op: string): TfOpConverter {
  return (ctx, [x, y]) => {
    const d = dtypeOf(ctx, x!);
    requireNumeric(ctx, d, ctx.node.op);
    return ctx.emit(op, [x!, y!]);
  };
}

function equal(ctx: TfOpContext, [x, y]: Value[]): Value[] {
  return ctx.emit('Equal', [x!, y!]);
}

/* ------------------------------------------------------------------------------------------ */

const BINARY: Record<string, TfOpConverter> = {
  Add: add, AddV2: add, AddN: addN, Sub: direct('Sub'), Mul: direct('Mul'), MulNoNan: mulNoNan,
  Div: div, RealDiv: div, TruncateDiv: truncateDiv, DivNoNan: divNoNan, FloorDiv: floorDiv,
  FloorMod: floorMod, Mod: truncMod, TruncateMod: truncMod, Pow: direct('Pow'),
  Maximum: maxMin('Max'), Minimum: maxMin('Min'), SquaredDifference: squaredDifference,
  Atan2: atan2, Xdivy: xOp('div'), Xlogy: xOp('log'), Xlog1py: xOp('log1p'),
};

const UNARY: Record<string, TfOpConverter> = {
  Abs: direct('Abs', 1), Neg: direct('Neg', 1), Sign: direct('Sign', 1), Square: square,
  Sqrt: floatUnary('Sqrt'), Rsqrt: rsqrt, Reciprocal: reciprocal, Inv: reciprocal,
  Exp: floatUnary('Exp'), Expm1: expm1, Log: floatUnary('Log'), Log1p: log1p,
  Sin: floatUnary('Sin'), Cos: floatUnary('Cos'), Tan: floatUnary('Tan'),
  Asin: floatUnary('Asin'), Acos: floatUnary('Acos'), Atan: floatUnary('Atan'),
  Sinh: floatUnary('Sinh'), Cosh: floatUnary('Cosh'),
  Asinh: floatUnary('Asinh'), Acosh: floatUnary('Acosh'), Atanh: floatUnary('Atanh'),
  Floor: floorCeil('Floor'), Ceil: floorCeil('Ceil'), Round: round, Rint: round, Erf: floatUnary('Erf'),
  IsNan: floatUnary('IsNaN'), IsInf: floatUnary('IsInf'), IsFinite: isFinite, LogicalNot: direct('Not', 1),
};

const LOGICAL: Record<string, TfOpConverter> = {
  Equal: equal, NotEqual: notEqual, Less: compare('Less'), LessEqual: compare('LessOrEqual'),
  Greater: compare('Greater'), GreaterEqual: compare('GreaterOrEqual'),
  LogicalAnd: direct('And'), LogicalOr: direct('Or'), ApproximateEqual: approximateEqual,
};

for (const table of [BINARY, UNARY, LOGICAL]) for (const [op, conv] of Object.entries(table)) registerTfOp(op, conv);

/** The TF ops this file converts. */
export const MATH_OPS = [...Object.keys(BINARY), ...Object.keys(UNARY), ...Object.keys(LOGICAL)];
