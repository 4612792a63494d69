/**
 * Cast and CastLike between every dtype the runtime carries: float->int truncates (and
 * saturates into the int32 carrier), narrow integer targets wrap around, float16/bfloat16
 * targets are rounded to their precision, anything->bool is `!= 0` (NaN is true), and
 * strings are parsed / printed like numpy does (`'INF'`, `'NaN'`, shortest round-trip digits).
 */
import type { Node } from '../../../ir/graph.js';
import { DType, bfloat16ToFloat32, float16ToFloat32, float32ToBfloat16, float32ToFloat16 } from '../../../ir/tensor.js';
import type { KernelContext, KernelTable, RT, TF } from '../types.js';
import { TfTensor, dtypeFromAttr, finish, fromData, isComplex, isFloat, isIntType, nodeError, numbersOf, req, stringsOf } from './util.js';

const INT32_MAX_F32 = 2147483520; // the largest float32 below 2^31

/** Rounds float32 values to the precision of float16/bfloat16 (kept in float32). */
function roundToHalf(values: ArrayLike<number>, to: 'float16' | 'bfloat16'): Float32Array {
  const out = new Float32Array(values.length);
  if (to === 'float16') for (let i = 0; i < out.length; i++) out[i] = float16ToFloat32(float32ToFloat16(values[i]!));
  else for (let i = 0; i < out.length; i++) out[i] = truncateToBfloat16(values[i]!);
  return out;
}

const f32buf = new Float32Array(1);
const u32buf = new Uint32Array(f32buf.buffer);

/**
 * float32 -> bfloat16 by dropping the low 16 bits: the rule of Cast before opset 19 (the ONNX
 * backend data for opset 13 expects it; opset 19 moved to round-to-nearest-even).
 */
function truncateToBfloat16(v: number): number {
  f32buf[0] = v;
  u32buf[0] = Number.isNaN(v) ? 0x7fc00000 : u32buf[0]! & 0xffff0000;
  return f32buf[0]!;
}

/** Parses a string the way ONNX Cast does (numpy float parsing plus INF/NaN spellings). */
export function parseNumber(s: string): number {
  const t = s.trim().toLowerCase();
  if (t === 'nan' || t === '+nan' || t === '-nan') return NaN;
  if (t === 'inf' || t === '+inf' || t === 'infinity' || t === '+infinity') return Infinity;
  if (t === '-inf' || t === '-infinity') return -Infinity;
  if (t === 'true') return 1;
  if (t === 'false') return 0;
  if (t === '') return NaN;
  return Number(t);
}

const f32 = (x: number) => Math.fround(x);
const f16 = (x: number) => float16ToFloat32(float32ToFloat16(x));
const bf16 = (x: number) => bfloat16ToFloat32(float32ToBfloat16(x));

/** The shortest decimal that reads back to `v` in the given precision, formatted like numpy's str(). */
export function formatFloat(v: number, dtype: DType): string {
  if (Number.isNaN(v)) return 'nan';
  if (v === Infinity) return 'inf';
  if (v === -Infinity) return '-inf';
  if (v === 0) return Object.is(v, -0) ? '-0.0' : '0.0';
  const round = dtype === 'float16' ? f16 : dtype === 'bfloat16' ? bf16 : dtype === 'float64' ? (x: number) => x : f32;
  let exp = '';
  for (let p = 1; p <= 17; p++) {
    exp = v.toExponential(p - 1);
    if (round(Number(exp)) === v) break;
  }
  const m = /^(-?)(\d)(?:\.(\d+))?e([+-]\d+)$/.exec(exp)!;
  const sign = m[1]!;
  const digits = (m[2]! + (m[3] ?? '')).replace(/0+$/, '') || '0';
  const e = Number(m[4]);
  const a = Math.abs(v);
  if (a >= 1e16 || a < 1e-4) {
    const frac = digits.length > 1 ? '.' + digits.slice(1) : '';
    const ee = Math.abs(e) < 10 ? '0' + Math.abs(e) : String(Math.abs(e));
    return `${sign}${digits[0]}${frac}e${e < 0 ? '-' : '+'}${ee}`;
  }
  if (e >= 0) {
    const intPart = digits.length > e + 1 ? digits.slice(0, e + 1) : digits.padEnd(e + 1, '0');
    const fracPart = digits.length > e + 1 ? digits.slice(e + 1) : '0';
    return `${sign}${intPart}.${fracPart}`;
  }
  return `${sign}0.${'0'.repeat(-e - 1)}${digits}`;
}

function toStrings(tf: TF, x: RT): RT {
  if (x.dtype === 'string') return { t: tf.clone(x.t), dtype: 'string' };
  const v = numbersOf(x);
  let out: string[];
  if (isFloat(x.dtype)) out = Array.from(v, (n) => formatFloat(n, x.dtype));
  else if (x.dtype === 'bool') out = Array.from(v, (n) => (n ? 'True' : 'False'));
  else out = Array.from(v, (n) => String(n));
  return { t: tf.tensor(out, x.t.shape, 'string'), dtype: 'string' };
}

function fromStrings(tf: TF, x: RT, to: DType, node: Node): RT {
  const s = stringsOf(x);
  const v = s.map(parseNumber);
  if (to === 'bool') return fromData(tf, v.map((n) => (n !== 0 ? 1 : 0)), x.t.shape, 'bool');
  if (isIntType(to)) {
    const bad = s.findIndex((str, i) => !Number.isFinite(v[i]!) && str.trim() !== '');
    if (bad >= 0) throw nodeError(node, `cannot cast the string '${s[bad]}' to ${to}`);
    return finish(tf, fromData(tf, v.map((n) => Math.trunc(n)), x.t.shape, 'int32').t, to);
  }
  const f = Float32Array.from(v);
  return fromData(tf, to === 'float16' || to === 'bfloat16' ? roundToHalf(f, to) : f, x.t.shape, to);
}

/** Casts a runtime value to `to`. */
export function castRT(tf: TF, x: RT, to: DType, node: Node): RT {
  if (isComplex(to) || isComplex(x.dtype)) throw nodeError(node, `cannot cast ${x.dtype} to ${to}: complex tensors are not supported`);
  if (to === 'string') return toStrings(tf, x);
  if (x.dtype === 'string') return fromStrings(tf, x, to, node);
  if (to === 'bool') {
    const t = tf.tidy(() => (x.t.dtype === 'bool' ? tf.clone(x.t) : tf.notEqual(x.t, tf.scalar(0, x.t.dtype))));
    return { t, dtype: 'bool' };
  }
  if (isFloat(to)) {
    if (to === 'float16' || to === 'bfloat16') {
      const needs = x.dtype !== to && !(to === 'float16' && x.dtype === 'bool');
      if (needs) return fromData(tf, roundToHalf(numbersOf(x), to), x.t.shape, to);
    }
    const t = x.t.dtype === 'float32' ? tf.clone(x.t) : tf.cast(x.t, 'float32');
    return { t, dtype: to };
  }
  // Integer targets.
  const t: TfTensor = tf.tidy(() => {
    if (x.t.dtype === 'float32') {
      const nonNaN = tf.where(tf.isNaN(x.t), tf.zerosLike(x.t), x.t);
      const clipped = tf.minimum(tf.maximum(nonNaN, -2147483648), INT32_MAX_F32);
      return tf.cast(clipped, 'int32'); // truncates toward zero
    }
    return x.t.dtype === 'int32' ? tf.clone(x.t) : tf.cast(x.t, 'int32');
  });
  return finish(tf, t, to);
}

function castKernel(target: (ctx: KernelContext) => DType) {
  return {
    check(node: Node): string | undefined {
      for (const v of [...node.inputs, ...node.outputs]) {
        if (v?.dtype && isComplex(v.dtype)) return `${v.dtype} tensors cannot be computed with (value ${v.name})`;
      }
      if (node.op === 'Cast') {
        try {
          const to = dtypeFromAttr(node, 'to');
          if (isComplex(to)) return `casting to ${to} is not supported`;
        } catch (e) {
          return (e as Error).message;
        }
      }
      return undefined;
    },
    run(ctx: KernelContext): RT[] {
      return [castRT(ctx.tf, req(ctx, 0), target(ctx), ctx.node)];
    },
  };
}

export const castKernels: KernelTable = {
  Cast: castKernel((ctx) => dtypeFromAttr(ctx.node, 'to')),
  CastLike: castKernel((ctx) => req(ctx, 1).dtype),
};
