/**
 * Merge layers: Add, Subtract, Multiply, Average, Maximum, Minimum, Concatenate, Dot.
 * Masks of the inputs are combined the way Keras does (all of them must be true).
 */
import { attr, type Value } from '../../../ir/graph.js';
import type { LayerContext } from '../layer-api.js';
import { LayerBuilder, normAxis } from './builder.js';
import { l2Normalize } from './core.js';
import { maskOf, setMask } from './mask.js';

function atLeast(b: LayerBuilder, inputs: Value[], n: number): void {
  if (inputs.length < n) throw b.fail(`expects at least ${n} inputs, got ${inputs.length}`);
}

/** And of the inputs' masks (undefined when none has one). */
function mergedMask(b: LayerBuilder, inputs: Value[]): Value | undefined {
  const ms = inputs.map(maskOf).filter((m): m is Value => !!m);
  if (!ms.length) return undefined;
  return ms.slice(1).reduce((acc, m, i) => b.op('And', [acc, m], {}, `mask_and_${i}`), ms[0]!);
}

function chain(op: string) {
  return (ctx: LayerContext, inputs: Value[]): Value[] => {
    const b = new LayerBuilder(ctx);
    atLeast(b, inputs, 1);
    let y = inputs[0]!;
    if (inputs.length === 1) y = b.op('Identity', [y]);
    for (let i = 1; i < inputs.length; i++) y = b.op(op, [y, inputs[i]!]);
    setMask(y, mergedMask(b, inputs));
    return [y];
  };
}

export const convertAdd = chain('Add');
export const convertMultiply = chain('Mul');
export const convertMaximum = chain('Max');
export const convertMinimum = chain('Min');

export function convertSubtract(ctx: LayerContext, inputs: Value[]): Value[] {
  const b = new LayerBuilder(ctx);
  if (inputs.length !== 2) throw b.fail(`expects exactly 2 inputs, got ${inputs.length}`);
  const y = b.op('Sub', [inputs[0]!, inputs[1]!]);
  setMask(y, mergedMask(b, inputs));
  return [y];
}

export function convertAverage(ctx: LayerContext, inputs: Value[]): Value[] {
  const b = new LayerBuilder(ctx);
  atLeast(b, inputs, 1);
  let sum = inputs[0]!;
  for (let i = 1; i < inputs.length; i++) sum = b.op('Add', [sum, inputs[i]!]);
  const y = inputs.length === 1 ? b.op('Identity', [sum]) : b.op('Div', [sum, b.scalar('count', inputs.length, sum)], {}, 'average');
  setMask(y, mergedMask(b, inputs));
  return [y];
}

export function convertConcatenate(ctx: LayerContext, inputs: Value[]): Value[] {
  const b = new LayerBuilder(ctx);
  atLeast(b, inputs, 1);
  const axis = b.num('axis', -1);
  const y = b.op('Concat', inputs, { axis: attr.int(axis) });
  const r = inputs[0]!.shape?.length;
  const a = r !== undefined ? normAxis(axis, r) : axis;
  const masks = inputs.map(maskOf);
  if (masks.some((m) => m)) {
    if (a === -1 || (r !== undefined && a === r - 1)) setMask(y, mergedMask(b, inputs));
    else if (r === 3 && a === 1 && masks.every((m) => m)) setMask(y, b.op('Concat', masks as Value[], { axis: attr.int(1) }, 'mask_concat'));
  }
  return [y];
}

/**
 * Dot(axes, normalize): Keras batch_dot of two inputs of rank 2 or 3. The contracted axis of
 * the first input goes last and that of the second goes to axis 1, then one batched MatMul.
 */
export function convertDot(ctx: LayerContext, inputs: Value[]): Value[] {
  const b = new LayerBuilder(ctx);
  if (inputs.length !== 2) throw b.fail(`expects exactly 2 inputs, got ${inputs.length}`);
  let [x, y] = inputs as [Value, Value];
  const rx = b.rank(x, 'Dot');
  const ry = b.rank(y, 'Dot');
  if (rx < 2 || rx > 3 || ry < 2 || ry > 3) throw b.fail(`inputs of rank ${rx} and ${ry}: only ranks 2 and 3 are supported`);
  const axesCfg = b.raw('axes');
  let axes: [number, number];
  if (typeof axesCfg === 'number') axes = [axesCfg, axesCfg];
  else if (Array.isArray(axesCfg) && axesCfg.length === 2) axes = [axesCfg[0] as number, axesCfg[1] as number];
  else throw b.fail(`axes ${JSON.stringify(axesCfg)} is not an int or a pair of ints`);
  const ax = normAxis(axes[0], rx);
  const ay = normAxis(axes[1], ry);
  if (ax === 0 || ay === 0) throw b.fail(`axes ${JSON.stringify(axesCfg)}: the batch axis cannot be contracted`);
  if (b.bool('normalize', false)) {
    x = l2Normalize(b, x, [ax], 'l2_normalize_0');
    y = l2Normalize(b, y, [ay], 'l2_normalize_1');
  }
  // x -> [N, p, k]
  let xs: Value;
  let squeezeP = false;
  if (rx === 2) {
    xs = b.unsqueeze(x, [1], 'expand_0');
    squeezeP = true;
  } else xs = ax === 2 ? x : b.transpose(x, [0, 2, 1], 'transpose_0');
  // y -> [N, k, q]
  let ys: Value;
  let squeezeQ = false;
  if (ry === 2) {
    ys = b.unsqueeze(y, [2], 'expand_1');
    squeezeQ = true;
  } else ys = ay === 1 ? y : b.transpose(y, [0, 2, 1], 'transpose_1');
  let out = b.op('MatMul', [xs, ys]);
  if (squeezeP && squeezeQ) out = b.squeeze(out, [2], 'squeeze'); // [N, 1]
  else if (squeezeQ) out = b.squeeze(out, [2], 'squeeze');
  else if (squeezeP) out = b.squeeze(out, [1], 'squeeze');
  return [out];
}
