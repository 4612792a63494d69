/**
 * FakeQuantWithMinMaxArgs / FakeQuantWithMinMaxVars / FakeQuantWithMinMaxVarsPerChannel
 * (quantization-aware training graphs): TF nudges [min, max] so that 0 is a quantization step,
 * clamps to the nudged range and rounds to the step:
 *   y = floor((clamp(x, nmin, nmax) - nmin) / scale + 0.5) * scale + nmin
 * The nudging runs here in float32 as TF does, so min and max must be constants.
 */
import { attr, type Value } from '../../../ir/graph.js';
import { registerTfOp, type TfOpContext } from '../op-api.js';

const f = Math.fround;

interface Nudged {
  min: number;
  max: number;
  scale: number;
}

/** TF's nudging of one [min, max] range for num_bits and narrow_range. */
export function nudge(min: number, max: number, numBits: number, narrow: boolean): Nudged {
  const qmin = narrow ? 1 : 0;
  const qmax = 2 ** numBits - 1;
  const scale = f(f(f(max) - f(min)) / f(qmax - qmin));
  const zpFromMin = f(qmin - f(f(min) / scale));
  const zp = zpFromMin < qmin ? qmin : zpFromMin > qmax ? qmax : Math.round(zpFromMin);
  return { min: f(f(qmin - zp) * scale), max: f(f(qmax - zp) * scale), scale };
}

function fakeQuant(ctx: TfOpContext, x: Value, mins: number[], maxs: number[], perChannel: boolean): Value[] {
  const bits = ctx.int('num_bits', 8);
  if (bits < 2 || bits > 16) throw ctx.unsupported(`num_bits ${bits} (TF allows 2..16)`);
  const narrow = ctx.bool('narrow_range', false);
  if (mins.length !== maxs.length) throw ctx.unsupported(`min of ${mins.length} values and max of ${maxs.length}`);
  mins.forEach((m, i) => {
    if (!(m <= maxs[i]!)) throw ctx.unsupported(`min ${m} above max ${maxs[i]}`);
  });
  const n = mins.map((m, i) => nudge(m, maxs[i]!, bits, narrow));
  const shape = perChannel ? [n.length] : [];
  const nmin = ctx.floats32('nudged_min', n.map((v) => v.min), shape);
  const nmax = ctx.floats32('nudged_max', n.map((v) => v.max), shape);
  const scale = ctx.floats32('scale', n.map((v) => v.scale), shape);
  const inv = ctx.floats32('inverse_scale', n.map((v) => f(1 / v.scale)), shape);
  const clamped = ctx.emit('Max', [ctx.emit('Min', [x, nmax], {}, 1, 'below_max')[0]!, nmin], {}, 1, 'clamped')[0]!;
  const shifted = ctx.emit('Sub', [clamped, nmin], {}, 1, 'shifted')[0]!;
  const steps = ctx.emit('Floor', [ctx.emit('Add', [ctx.emit('Mul', [shifted, inv], {}, 1, 'in_steps')[0]!, ctx.floats32('half', [0.5], [])], {}, 1, 'rounding')[0]!], {}, 1, 'steps')[0]!;
  return ctx.emit('Add', [ctx.emit('Mul', [steps, scale], {}, 1, 'dequantized')[0]!, nmin], {}, 1, 'fake_quant');
}

function constants(ctx: TfOpContext, v: Value, what: string): number[] {
  return Array.from(ctx.requireConstant(v, what).toFloat64());
}

registerTfOp('FakeQuantWithMinMaxArgs', (ctx, [x]) => fakeQuant(ctx, x!, [ctx.float('min', -6)], [ctx.float('max', 6)], false));
registerTfOp('FakeQuantWithMinMaxVars', (ctx, [x, min, max]) => fakeQuant(ctx, x!, constants(ctx, min!, 'min'), constants(ctx, max!, 'max'), false));
registerTfOp('FakeQuantWithMinMaxVarsPerChannel', (ctx, [x, min, max]) => fakeQuant(ctx, x!, constants(ctx, min!, 'min'), constants(ctx, max!, 'max'), true));

export const FAKE_QUANT_OPS = ['FakeQuantWithMinMaxArgs', 'FakeQuantWithMinMaxVars', 'FakeQuantWithMinMaxVarsPerChannel'];
