/**
 * Signal ops (opset 17): DFT, STFT, MelWeightMatrix. Complex tensors use a trailing dim of 2
 * (real, imaginary); real inputs may end in 1. Lengths read from constant inputs give exact
 * shapes, other inputs fresh symbols.
 */
import { isFloatDType, isIntDType, type DType, type Dim, type Shape } from '../tensor.js';
import { dtypeFromOnnxCode } from './helpers.js';
import { a, defineOps, type InferContext, type ValueType } from './schema.js';

/** A constant scalar (or one-element) integer input. */
function scalarInput(ctx: InferContext, i: number, what: string): number | undefined {
  if (!ctx.has(i)) return undefined;
  const r = ctx.rank(i);
  if (r !== undefined && r > 1) ctx.fail(`${what} must be a scalar, it has rank ${r}`);
  const v = ctx.ints(i);
  if (!v) return undefined;
  if (v.length !== 1) ctx.fail(`${what} must be a scalar, it has ${v.length} values`);
  return v[0];
}

function checkIntInput(ctx: InferContext, i: number, what: string): void {
  const d = ctx.dtype(i);
  if (ctx.has(i) && d !== undefined && d !== 'int32' && d !== 'int64') ctx.fail(`${what} must be int32 or int64, it is ${d}`);
}

function checkFloat(ctx: InferContext, d: DType | undefined, what: string): void {
  if (d !== undefined && !isFloatDType(d)) ctx.fail(`${what} must be a float tensor, it is ${d}`);
}

/** The trailing complex dim must be 1 (real) or 2 (complex). */
function checkComplexDim(ctx: InferContext, shape: Shape, what: string): void {
  const last = shape[shape.length - 1];
  if (typeof last === 'number' && last !== 1 && last !== 2) {
    ctx.fail(`${what}'s last dimension must be 1 (real) or 2 (complex), it is ${last}`);
  }
}

function positive(ctx: InferContext, v: number | undefined, what: string): number | undefined {
  if (v !== undefined && !(v >= 1)) ctx.fail(`${what} must be a positive integer, got ${v}`);
  return v;
}

function dftRule(ctx: InferContext): ValueType[] {
  const dtype = ctx.dtype(0);
  checkFloat(ctx, dtype, 'input');
  checkIntInput(ctx, 1, 'dft_length');
  const shape = ctx.shape(0);
  if (!shape) return [{ dtype }];
  const rank = shape.length;
  if (rank < 3) ctx.fail(`input must be [batch, signal dims..., 1 or 2], it has rank ${rank}`);
  checkComplexDim(ctx, shape, 'input');
  const axisAttr = ctx.attrInt('axis') ?? 1;
  const axis = axisAttr < 0 ? axisAttr + rank : axisAttr;
  if (axis <= 0 || axis >= rank - 1) ctx.fail(`axis ${axisAttr} must be a signal dimension (not the batch or the complex dim) of a rank ${rank} input`);
  const onesided = (ctx.attrInt('onesided') ?? 0) !== 0;
  const n: Dim | undefined = ctx.has(1) ? positive(ctx, scalarInput(ctx, 1, 'dft_length'), 'dft_length') : shape[axis];
  let len: Dim;
  if (typeof n === 'number') len = onesided ? Math.floor(n / 2) + 1 : n;
  else if (typeof n === 'string' && !onesided) len = n;
  else len = ctx.sym(0, axis);
  const out = shape.slice(0, rank - 1);
  out[axis] = len;
  out.push(2);
  return [{ dtype, shape: out }];
}

function stftRule(ctx: InferContext): ValueType[] {
  const dtype = ctx.dtype(0);
  checkFloat(ctx, dtype, 'signal');
  checkIntInput(ctx, 1, 'frame_step');
  checkIntInput(ctx, 3, 'frame_length');
  const shape = ctx.shape(0);
  if (shape && shape.length !== 3) ctx.fail(`signal must be [batch, length, 1 or 2], it has rank ${shape.length}`);
  if (shape) checkComplexDim(ctx, shape, 'signal');
  const step = positive(ctx, scalarInput(ctx, 1, 'frame_step'), 'frame_step');
  const ws = ctx.has(2) ? ctx.shape(2) : undefined;
  if (ws && ws.length !== 1) ctx.fail(`window must be 1-D, it has rank ${ws.length}`);
  if (ctx.has(2)) checkFloat(ctx, ctx.dtype(2), 'window');
  let frameLen: Dim | undefined = positive(ctx, scalarInput(ctx, 3, 'frame_length'), 'frame_length');
  const windowLen = ws?.[0];
  if (typeof frameLen === 'number' && typeof windowLen === 'number' && frameLen !== windowLen) {
    ctx.fail(`window has ${windowLen} values, frame_length is ${frameLen}`);
  }
  if (!ctx.has(2) && !ctx.has(3)) ctx.fail('needs a window or a frame_length');
  // The window's length is the frame length when frame_length is absent or not constant.
  if (frameLen === undefined) frameLen = windowLen;
  const onesided = (ctx.attrInt('onesided') ?? 1) !== 0;
  const batch: Dim = shape?.[0] ?? ctx.sym(0, 0);
  const sigLen = shape?.[1];
  let frames: Dim;
  if (typeof sigLen === 'number' && typeof frameLen === 'number' && step !== undefined) {
    if (frameLen > sigLen) ctx.fail(`frame_length ${frameLen} exceeds the signal length ${sigLen}`);
    frames = Math.floor((sigLen - frameLen) / step) + 1;
  } else frames = ctx.sym(0, 1);
  let bins: Dim;
  if (typeof frameLen === 'number') bins = onesided ? Math.floor(frameLen / 2) + 1 : frameLen;
  else if (typeof frameLen === 'string' && !onesided) bins = frameLen;
  else bins = ctx.sym(0, 2);
  return [{ dtype, shape: [batch, frames, bins, 2] }];
}

function melWeightMatrixRule(ctx: InferContext): ValueType[] {
  const code = ctx.attrInt('output_datatype') ?? 1;
  const dtype = dtypeFromOnnxCode(code) ?? ctx.fail(`unknown data type code ${code}`);
  if (!isFloatDType(dtype) && !isIntDType(dtype)) ctx.fail(`output_datatype ${dtype} is not numeric`);
  for (const [i, what] of [[0, 'num_mel_bins'], [1, 'dft_length'], [2, 'sample_rate']] as const) checkIntInput(ctx, i, what);
  checkFloat(ctx, ctx.dtype(3), 'lower_edge_hertz');
  checkFloat(ctx, ctx.dtype(4), 'upper_edge_hertz');
  const mel = positive(ctx, scalarInput(ctx, 0, 'num_mel_bins'), 'num_mel_bins');
  const dftLen = positive(ctx, scalarInput(ctx, 1, 'dft_length'), 'dft_length');
  const bins: Dim = dftLen !== undefined ? Math.floor(dftLen / 2) + 1 : ctx.sym(0, 0);
  return [{ dtype, shape: [bins, mel ?? ctx.sym(0, 1)] }];
}

export const signalSchemas = defineOps('signal', [
  {
    op: 'DFT', since: 17, inputs: ['input', 'dft_length?'], outputs: ['output'],
    attrs: { axis: a.int(1), inverse: a.int(0), onesided: a.int(0) }, infer: dftRule,
  },
  {
    op: 'STFT', since: 17, inputs: ['signal', 'frame_step', 'window?', 'frame_length?'], outputs: ['output'],
    attrs: { onesided: a.int(1) }, infer: stftRule,
  },
  {
    op: 'MelWeightMatrix', since: 17,
    inputs: ['num_mel_bins', 'dft_length', 'sample_rate', 'lower_edge_hertz', 'upper_edge_hertz'], outputs: ['output'],
    attrs: { output_datatype: a.int(1) }, infer: melWeightMatrixRule,
  },
]);
