/** Shape and data-movement ops: Reshape, Shape, Slice, Gather, Concat, Pad, Tile, Split, ... */
import type { DType, Dim, Shape } from '../tensor.js';
import {
  asShape, broadcastShapes, dtypeFromOnnxCode, mergeDims, normAxis, SLICE_END_MAX, sameAsInput,
  sliceLength, sliceList, symbolicProduct,
} from './helpers.js';
import { a, defineOps, type InferContext, type ValueType } from './schema.js';

const MAX_PROPAGATED = 64;

/** Integer list from input i, or from a legacy attribute of the same meaning (older opsets). */
function intsFrom(ctx: InferContext, input: number, legacyAttr?: string): number[] | undefined {
  if (ctx.has(input)) return ctx.ints(input);
  if (legacyAttr && ctx.hasAttr(legacyAttr)) return ctx.attrInts(legacyAttr);
  return undefined;
}

/** True when input i (or the legacy attribute) is given at all, known or not. */
function given(ctx: InferContext, input: number, legacyAttr?: string): boolean {
  return ctx.has(input) || (!!legacyAttr && ctx.hasAttr(legacyAttr));
}

function reshapeRule(ctx: InferContext): ValueType[] {
  const dtype = ctx.dtype(0);
  const target = ctx.dims(1);
  const inShape = ctx.shape(0);
  if (!target) {
    const s1 = ctx.shape(1);
    if (s1 && s1.length === 1 && typeof s1[0] === 'number') return [{ dtype, shape: ctx.symShape(0, s1[0]) }];
    return [{ dtype }];
  }
  const allowZero = (ctx.attrInt('allowzero') ?? 0) !== 0;
  const out: Dim[] = target.map((d, i) => {
    if (d === 0 && !allowZero) {
      if (!inShape) return ctx.sym(0, i);
      if (i >= inShape.length) ctx.fail(`shape has 0 at position ${i} but the input has rank ${inShape.length}`);
      return inShape[i]!;
    }
    return d;
  });
  const negs = out.filter((d) => d === -1).length;
  if (negs > 1) ctx.fail('shape has more than one -1');
  const neg = out.indexOf(-1);
  if (neg >= 0) {
    out[neg] = inShape ? inferMinusOne(ctx, inShape, out.filter((_, i) => i !== neg), neg) : ctx.sym(0, neg);
  }
  for (let i = 0; i < out.length; i++) {
    const d = out[i]!;
    if (typeof d === 'number' && d < 0) ctx.fail(`invalid dim ${d} in the target shape`);
  }
  if (inShape && out.every((d) => typeof d === 'number') && inShape.every((d) => typeof d === 'number')) {
    const pin = (inShape as number[]).reduce((x, y) => x * y, 1);
    const pout = (out as number[]).reduce((x, y) => x * y, 1);
    if (pin !== pout) ctx.fail(`cannot reshape [${inShape.join(', ')}] (${pin} elements) to [${out.join(', ')}]`);
  }
  const value = ctx.dims(0);
  return [{ dtype, shape: out, value: value && out.length <= 1 ? value : undefined }];
}

/** The size of the -1 dim: cancels equal symbols on both sides, then divides the numbers. */
function inferMinusOne(ctx: InferContext, inShape: Shape, others: Dim[], pos: number): Dim {
  const inSyms: string[] = [];
  let inNum = 1;
  for (const d of inShape) {
    if (typeof d === 'number') inNum *= d;
    else inSyms.push(d);
  }
  let outNum = 1;
  const outSyms: string[] = [];
  for (const d of others) {
    if (typeof d === 'number') outNum *= d;
    else {
      const j = inSyms.indexOf(d);
      if (j >= 0) inSyms.splice(j, 1);
      else outSyms.push(d);
    }
  }
  if (outSyms.length === 0 && outNum !== 0) {
    if (inSyms.length === 0) {
      if (inNum % outNum !== 0) ctx.fail(`cannot infer -1: ${inNum} elements do not divide by ${outNum}`);
      return inNum / outNum;
    }
    if (inSyms.length === 1 && inNum === outNum) return inSyms[0]!;
  }
  return ctx.sym(0, pos);
}

function shapeRule(ctx: InferContext): ValueType[] {
  const s = ctx.shape(0);
  if (!s) return [{ dtype: 'int64', shape: [ctx.sym(0, 0)] }];
  const r = s.length;
  const clamp = (x: number) => Math.min(Math.max(x < 0 ? x + r : x, 0), r);
  const start = clamp(ctx.attrInt('start') ?? 0);
  const end = clamp(ctx.attrInt('end') ?? r);
  const value = s.slice(start, Math.max(start, end));
  return [{ dtype: 'int64', shape: [value.length], value }];
}

function flattenRule(ctx: InferContext): ValueType[] {
  const s = ctx.shape(0);
  const dtype = ctx.dtype(0);
  if (!s) return [{ dtype, shape: ctx.symShape(0, 2) }];
  let axis = ctx.attrInt('axis') ?? 1;
  if (axis < 0) axis += s.length;
  if (axis < 0 || axis > s.length) ctx.fail(`axis ${ctx.attrInt('axis')} is out of range for rank ${s.length}`);
  const d0 = symbolicProduct(s.slice(0, axis)) ?? ctx.sym(0, 0);
  const d1 = symbolicProduct(s.slice(axis)) ?? ctx.sym(0, 1);
  return [{ dtype, shape: [d0, d1] }];
}

function squeezeRule(ctx: InferContext): ValueType[] {
  const s = ctx.shape(0);
  const dtype = ctx.dtype(0);
  const value = ctx.dims(0);
  const hasAxes = given(ctx, 1, 'axes');
  const axes = intsFrom(ctx, 1, 'axes');
  if (!s) return [{ dtype, value }];
  if (hasAxes && !axes) {
    const k = ctx.shape(1)?.[0];
    return [{ dtype, shape: typeof k === 'number' ? ctx.symShape(0, s.length - k) : undefined }];
  }
  if (!axes || axes.length === 0) {
    if (s.some((d) => typeof d !== 'number')) return [{ dtype }];
    return [{ dtype, shape: s.filter((d) => d !== 1), value }];
  }
  const drop = new Set(axes.map((x) => normAxis(ctx, x, s.length)));
  for (const i of drop) {
    if (typeof s[i] === 'number' && s[i] !== 1) ctx.fail(`cannot squeeze axis ${i} of size ${s[i]}`);
  }
  return [{ dtype, shape: s.filter((_, i) => !drop.has(i)), value }];
}

function unsqueezeRule(ctx: InferContext): ValueType[] {
  const s = ctx.shape(0);
  const dtype = ctx.dtype(0);
  const axes = intsFrom(ctx, 1, 'axes');
  const value = ctx.dims(0);
  if (!s) return [{ dtype, value }];
  if (!axes) {
    const k = ctx.shape(1)?.[0];
    return [{ dtype, shape: typeof k === 'number' ? ctx.symShape(0, s.length + k) : undefined, value }];
  }
  const r = s.length + axes.length;
  const ins = new Set(axes.map((x) => normAxis(ctx, x, r)));
  if (ins.size !== axes.length) ctx.fail('duplicate axes');
  const out: Shape = [];
  let j = 0;
  for (let i = 0; i < r; i++) out.push(ins.has(i) ? 1 : s[j++]!);
  return [{ dtype, shape: out, value }];
}

function transposeRule(ctx: InferContext): ValueType[] {
  const s = ctx.shape(0);
  const dtype = ctx.dtype(0);
  if (!s) return [{ dtype }];
  const perm = ctx.attrInts('perm') ?? s.map((_, i) => s.length - 1 - i);
  if (perm.length !== s.length) ctx.fail(`perm has ${perm.length} entries for rank ${s.length}`);
  const seen = new Set(perm);
  if (seen.size !== perm.length || perm.some((p) => p < 0 || p >= s.length)) ctx.fail(`perm [${perm.join(', ')}] is not a permutation`);
  return [{ dtype, shape: perm.map((p) => s[p]!) }];
}

function concatRule(ctx: InferContext): ValueType[] {
  const shapes: (Shape | undefined)[] = [];
  let dtype: DType | undefined;
  for (let i = 0; i < ctx.inputCount; i++) {
    if (!ctx.has(i)) continue;
    shapes.push(ctx.shape(i));
    dtype ??= ctx.dtype(i);
  }
  const known = shapes.filter((s): s is Shape => s !== undefined);
  if (known.length === 0) return [{ dtype }];
  const rank = known[0]!.length;
  if (known.some((s) => s.length !== rank)) ctx.fail(`inputs have different ranks: ${known.map((s) => s.length).join(', ')}`);
  const axis = normAxis(ctx, ctx.attrInt('axis') ?? 0, rank);
  const out: Shape = [];
  for (let d = 0; d < rank; d++) {
    if (d === axis) {
      if (known.length < shapes.length) out.push(ctx.sym(0, d));
      else if (known.every((s) => typeof s[d] === 'number')) out.push(known.reduce((acc, s) => acc + (s[d] as number), 0));
      else {
        const nonZero = known.map((s) => s[d]!).filter((x) => x !== 0);
        out.push(nonZero.length === 1 ? nonZero[0]! : ctx.sym(0, d));
      }
    } else {
      const m = mergeDims(known.map((s) => s[d]!));
      if (m === undefined) ctx.fail(`inputs disagree on dimension ${d}: ${known.map((s) => s[d]).join(' vs ')}`);
      out.push(m);
    }
  }
  let value: Dim[] | undefined;
  if (rank === 1) {
    value = [];
    for (let i = 0; i < ctx.inputCount && value; i++) {
      if (!ctx.has(i)) continue;
      const v = ctx.dims(i);
      if (v) value.push(...v);
      else value = undefined;
    }
  }
  return [{ dtype, shape: out, value: value && value.length <= MAX_PROPAGATED ? value : undefined }];
}

function splitRule(ctx: InferContext): ValueType[] {
  const s = ctx.shape(0);
  const dtype = ctx.dtype(0);
  const n = ctx.outputCount;
  if (!s) return Array.from({ length: n }, () => ({ dtype }));
  const axis = normAxis(ctx, ctx.attrInt('axis') ?? 0, s.length);
  const split = intsFrom(ctx, 1, 'split');
  const dim = s[axis]!;
  const sizes: Dim[] = [];
  if (split) {
    if (split.length !== n) ctx.fail(`split has ${split.length} entries for ${n} outputs`);
    if (typeof dim === 'number' && split.reduce((x, y) => x + y, 0) !== dim) {
      ctx.fail(`split sizes [${split.join(', ')}] do not add up to dimension ${dim}`);
    }
    sizes.push(...split);
  } else if (given(ctx, 1, 'split')) {
    for (let i = 0; i < n; i++) sizes.push(ctx.sym(i, axis));
  } else if (typeof dim === 'number') {
    const chunk = Math.ceil(dim / n);
    for (let i = 0; i < n; i++) sizes.push(Math.max(0, Math.min(chunk, dim - chunk * i)));
  } else {
    const sym = ctx.sym(0, axis, 'split');
    for (let i = 0; i < n; i++) sizes.push(n === 1 ? dim : sym);
  }
  return sizes.map((d) => ({ dtype, shape: s.map((x, i) => (i === axis ? d : x)) }));
}

function sliceRule(ctx: InferContext): ValueType[] {
  const s = ctx.shape(0);
  const dtype = ctx.dtype(0);
  if (!s) return [{ dtype }];
  const r = s.length;
  const starts = intsFrom(ctx, 1, 'starts');
  const ends = intsFrom(ctx, 2, 'ends');
  const axesGiven = given(ctx, 3, 'axes');
  const axesRaw = axesGiven ? intsFrom(ctx, 3, 'axes') : undefined;
  const steps = ctx.has(4) ? ctx.ints(4) : undefined;
  const stepsKnown = !ctx.has(4) || steps !== undefined;
  if (axesGiven && !axesRaw) return [{ dtype, shape: ctx.symShape(0, r) }];
  const count = starts?.length ?? ends?.length ?? (typeof ctx.shape(1)?.[0] === 'number' ? (ctx.shape(1)![0] as number) : undefined);
  const axes = axesRaw ?? (count !== undefined ? Array.from({ length: count }, (_, i) => i) : undefined);
  if (!axes) return [{ dtype, shape: ctx.symShape(0, r) }];
  const norm = axes.map((x) => normAxis(ctx, x, r));
  const out: Shape = s.slice();
  norm.forEach((ax, k) => {
    const d = s[ax]!;
    const st = starts?.[k];
    const en = ends?.[k];
    const sp = stepsKnown ? (steps?.[k] ?? 1) : undefined;
    if (sp === 0) ctx.fail('slice step is 0');
    if (st === undefined || en === undefined || sp === undefined) out[ax] = ctx.sym(0, ax);
    else if (typeof d === 'number') out[ax] = sliceLength(d, st, en, sp);
    else if (st === 0 && en >= SLICE_END_MAX && sp === 1) out[ax] = d;
    else out[ax] = ctx.sym(0, ax);
  });
  let value: Dim[] | undefined;
  const v = ctx.dims(0);
  if (v && r === 1 && starts && ends && stepsKnown && norm.length === 1) {
    value = sliceList(v, starts[0]!, ends[0]!, steps?.[0] ?? 1);
  }
  return [{ dtype, shape: out, value }];
}

function gatherRule(ctx: InferContext): ValueType[] {
  const s = ctx.shape(0);
  const is = ctx.shape(1);
  const dtype = ctx.dtype(0);
  if (!s || !is) return [{ dtype }];
  const axis = normAxis(ctx, ctx.attrInt('axis') ?? 0, s.length);
  const shape = [...s.slice(0, axis), ...is, ...s.slice(axis + 1)];
  let value: Dim[] | undefined;
  const v = ctx.dims(0);
  const idx = ctx.ints(1);
  if (v && s.length === 1 && idx && is.length <= 1) {
    value = idx.map((i) => {
      const j = i < 0 ? i + v.length : i;
      if (j < 0 || j >= v.length) ctx.fail(`index ${i} is out of range for size ${v.length}`);
      return v[j]!;
    });
  }
  return [{ dtype, shape, value }];
}

function gatherNDRule(ctx: InferContext): ValueType[] {
  const s = ctx.shape(0);
  const is = ctx.shape(1);
  const dtype = ctx.dtype(0);
  if (!s || !is || is.length === 0) return [{ dtype }];
  const b = ctx.attrInt('batch_dims') ?? 0;
  const last = is[is.length - 1]!;
  if (typeof last !== 'number') return [{ dtype }];
  if (b + last > s.length) ctx.fail(`indices address ${last} dims after ${b} batch dims of a rank-${s.length} input`);
  return [{ dtype, shape: [...is.slice(0, -1), ...s.slice(b + last)] }];
}

function expandRule(ctx: InferContext): ValueType[] {
  const dtype = ctx.dtype(0);
  const s = ctx.shape(0);
  let target: Shape | undefined = ctx.dims(1);
  if (!target) {
    const k = ctx.shape(1)?.[0];
    if (typeof k !== 'number') return [{ dtype }];
    target = Array.from({ length: k }, (_, i) => ctx.sym(0, Math.max(k, s?.length ?? 0) - k + i));
  }
  return [{ dtype, shape: broadcastShapes(ctx, [s, target]) }];
}

function tileRule(ctx: InferContext): ValueType[] {
  const s = ctx.shape(0);
  const dtype = ctx.dtype(0);
  if (!s) return [{ dtype }];
  const reps = ctx.ints(1);
  if (!reps) return [{ dtype, shape: ctx.symShape(0, s.length) }];
  if (reps.length !== s.length) ctx.fail(`repeats has ${reps.length} entries for rank ${s.length}`);
  return [{ dtype, shape: s.map((d, i) => (typeof d === 'number' ? d * reps[i]! : reps[i] === 1 ? d : ctx.sym(0, i))) }];
}

function padRule(ctx: InferContext): ValueType[] {
  const s = ctx.shape(0);
  const dtype = ctx.dtype(0);
  if (!s) return [{ dtype }];
  const r = s.length;
  const pads = intsFrom(ctx, 1, 'pads');
  if (!pads) return [{ dtype, shape: ctx.symShape(0, r) }];
  let axes: number[] = s.map((_, i) => i);
  if (ctx.has(3)) {
    const ax = ctx.ints(3);
    if (!ax) return [{ dtype, shape: ctx.symShape(0, r) }];
    axes = ax.map((x) => normAxis(ctx, x, r));
  }
  if (pads.length !== axes.length * 2) ctx.fail(`pads has ${pads.length} entries, expected ${axes.length * 2}`);
  const out = s.slice();
  axes.forEach((ax, k) => {
    const d = s[ax]!;
    const add = pads[k]! + pads[k + axes.length]!;
    out[ax] = typeof d === 'number' ? d + add : add === 0 ? d : ctx.sym(0, ax);
  });
  return [{ dtype, shape: out }];
}

function constantOfShapeRule(ctx: InferContext): ValueType[] {
  const dtype = ctx.attrTensor('value')?.dtype ?? 'float32';
  const dims = ctx.dims(0);
  if (dims) {
    if (dims.some((d) => typeof d === 'number' && d < 0)) ctx.fail('negative dim in the requested shape');
    // Small integer fills are shape arithmetic too (e.g. a suffix of ones for a reduced shape).
    let value: Dim[] | undefined;
    const t = ctx.attrTensor('value');
    const n = dims.length <= 1 ? (dims.length === 0 ? 1 : dims[0]) : undefined;
    if (typeof n === 'number' && n <= MAX_PROPAGATED && (dtype === 'int64' || dtype === 'int32')) {
      const fill = t ? Number(t.toFloat64()[0] ?? 0) : 0;
      value = new Array<Dim>(n).fill(fill);
    }
    return [{ dtype, shape: dims.slice(), value }];
  }
  const k = ctx.shape(0)?.[0];
  return [{ dtype, shape: typeof k === 'number' ? ctx.symShape(0, k) : undefined }];
}

function rangeRule(ctx: InferContext): ValueType[] {
  const dtype = ctx.dtype(0);
  const st = ctx.floats(0)?.[0];
  const li = ctx.floats(1)?.[0];
  const de = ctx.floats(2)?.[0];
  if (st === undefined || li === undefined || de === undefined) return [{ dtype, shape: [ctx.sym(0, 0)] }];
  if (de === 0) ctx.fail('delta is 0');
  const n = Math.max(0, Math.ceil((li - st) / de));
  let value: Dim[] | undefined;
  if (n <= MAX_PROPAGATED && dtype !== undefined && dtype.includes('int')) {
    value = Array.from({ length: n }, (_, i) => st + i * de);
  }
  return [{ dtype, shape: [n], value }];
}

function oneHotRule(ctx: InferContext): ValueType[] {
  const dtype = ctx.dtype(2);
  const s = ctx.shape(0);
  if (!s) return [{ dtype }];
  const r = s.length + 1;
  const axis = normAxis(ctx, ctx.attrInt('axis') ?? -1, r);
  const depth = ctx.floats(1)?.[0];
  const out: Shape = s.slice();
  out.splice(axis, 0, depth !== undefined ? Math.trunc(depth) : ctx.sym(0, axis));
  return [{ dtype, shape: out }];
}

function topKRule(ctx: InferContext): ValueType[] {
  const s = ctx.shape(0);
  const dtype = ctx.dtype(0);
  if (!s) return [{ dtype }, { dtype: 'int64' }];
  const axis = normAxis(ctx, ctx.attrInt('axis') ?? -1, s.length);
  const k = ctx.ints(1)?.[0];
  const d = s[axis]!;
  if (k !== undefined && typeof d === 'number' && k > d) ctx.fail(`k=${k} is larger than dimension ${d}`);
  const kd: Dim = k ?? ctx.sym(0, axis, 'k');
  const shape = s.map((x, i) => (i === axis ? kd : x));
  return [{ dtype, shape }, { dtype: 'int64', shape: shape.slice() }];
}

function compressRule(ctx: InferContext): ValueType[] {
  const s = ctx.shape(0);
  const dtype = ctx.dtype(0);
  const cond = ctx.ints(1);
  const axisAttr = ctx.attrInt('axis');
  if (axisAttr === undefined) {
    let n: Dim = ctx.sym(0, 0);
    if (cond && s && s.every((d) => typeof d === 'number')) {
      const total = (s as number[]).reduce((x, y) => x * y, 1);
      n = cond.slice(0, total).filter((c) => c !== 0).length;
    }
    return [{ dtype, shape: [n] }];
  }
  if (!s) return [{ dtype }];
  const axis = normAxis(ctx, axisAttr, s.length);
  const d = s[axis]!;
  let n: Dim = ctx.sym(0, axis);
  if (cond) n = cond.slice(0, typeof d === 'number' ? d : cond.length).filter((c) => c !== 0).length;
  return [{ dtype, shape: s.map((x, i) => (i === axis ? n : x)) }];
}

function depthToSpaceRule(toSpace: boolean) {
  return (ctx: InferContext): ValueType[] => {
    const s = ctx.shape(0);
    const dtype = ctx.dtype(0);
    if (!s) return [{ dtype, shape: ctx.symShape(0, 4) }];
    if (s.length !== 4) ctx.fail(`expects a rank-4 input, got rank ${s.length}`);
    const b = ctx.attrInt('blocksize') ?? ctx.fail('blocksize is required');
    const [n, c, h, w] = s as [Dim, Dim, Dim, Dim];
    const num = (d: Dim, f: (x: number) => number, i: number): Dim => (typeof d === 'number' ? f(d) : ctx.sym(0, i));
    if (toSpace) {
      if (typeof c === 'number' && c % (b * b) !== 0) ctx.fail(`channels ${c} do not divide by blocksize^2 = ${b * b}`);
      return [{ dtype, shape: [n, num(c, (x) => x / (b * b), 1), num(h, (x) => x * b, 2), num(w, (x) => x * b, 3)] }];
    }
    for (const [d, nm] of [[h, 'height'], [w, 'width']] as const) {
      if (typeof d === 'number' && d % b !== 0) ctx.fail(`${nm} ${d} does not divide by blocksize ${b}`);
    }
    return [{ dtype, shape: [n, num(c, (x) => x * b * b, 1), num(h, (x) => x / b, 2), num(w, (x) => x / b, 3)] }];
  };
}

function uniqueRule(ctx: InferContext): ValueType[] {
  const s = ctx.shape(0);
  const dtype = ctx.dtype(0);
  const u = ctx.sym(0, 0, 'unique');
  const axisAttr = ctx.attrInt('axis');
  if (axisAttr === undefined) {
    const total = s ? symbolicProduct(s) : undefined;
    return [
      { dtype, shape: [u] },
      { dtype: 'int64', shape: [u] },
      { dtype: 'int64', shape: [total ?? ctx.sym(2, 0)] },
      { dtype: 'int64', shape: [u] },
    ];
  }
  if (!s) return [{ dtype }, { dtype: 'int64', shape: [u] }, { dtype: 'int64', shape: [ctx.sym(2, 0)] }, { dtype: 'int64', shape: [u] }];
  const axis = normAxis(ctx, axisAttr, s.length);
  return [
    { dtype, shape: s.map((d, i) => (i === axis ? u : d)) },
    { dtype: 'int64', shape: [u] },
    { dtype: 'int64', shape: [s[axis]!] },
    { dtype: 'int64', shape: [u] },
  ];
}

function centerCropPadRule(ctx: InferContext): ValueType[] {
  const s = ctx.shape(0);
  const dtype = ctx.dtype(0);
  if (!s) return [{ dtype }];
  const r = s.length;
  const axes = (ctx.attrInts('axes') ?? s.map((_, i) => i)).map((x) => normAxis(ctx, x, r));
  const target = ctx.dims(1);
  const out = s.slice();
  axes.forEach((ax, k) => {
    out[ax] = target?.[k] ?? ctx.sym(0, ax);
  });
  return [{ dtype, shape: asShape(ctx, out) }];
}

export const shapeSchemas = defineOps('shape', [
  { op: 'Reshape', since: 14, inputs: ['data', 'shape'], outputs: ['reshaped'], attrs: { allowzero: a.int(0) }, infer: reshapeRule },
  { op: 'Shape', since: 15, inputs: ['data'], outputs: ['shape'], attrs: { end: a.int(), start: a.int(0) }, infer: shapeRule },
  {
    op: 'Size', since: 13, inputs: ['data'], outputs: ['size'],
    infer: (ctx) => {
      const s = ctx.shape(0);
      const n = s ? symbolicProduct(s) : undefined;
      return [{ dtype: 'int64', shape: [], value: n !== undefined ? [n] : undefined }];
    },
  },
  { op: 'Flatten', since: 13, inputs: ['input'], outputs: ['output'], attrs: { axis: a.int(1) }, infer: flattenRule },
  { op: 'Squeeze', since: 13, inputs: ['data', 'axes?'], outputs: ['squeezed'], infer: squeezeRule, legacyAttrs: ['axes'] },
  { op: 'Unsqueeze', since: 13, inputs: ['data', 'axes'], outputs: ['expanded'], infer: unsqueezeRule, legacyAttrs: ['axes'] },
  { op: 'Transpose', since: 13, inputs: ['data'], outputs: ['transposed'], attrs: { perm: a.ints() }, infer: transposeRule },
  { op: 'Concat', since: 13, inputs: ['inputs...'], outputs: ['concat_result'], attrs: { axis: a.req.int() }, infer: concatRule },
  { op: 'Split', since: 13, inputs: ['input', 'split?'], outputs: ['outputs...'], attrs: { axis: a.int(0) }, infer: splitRule, legacyAttrs: ['split', 'num_outputs'] },
  {
    op: 'Slice', since: 13, inputs: ['data', 'starts', 'ends', 'axes?', 'steps?'], outputs: ['output'], infer: sliceRule,
    legacyAttrs: ['starts', 'ends', 'axes'],
  },
  { op: 'Gather', since: 13, inputs: ['data', 'indices'], outputs: ['output'], attrs: { axis: a.int(0) }, infer: gatherRule },
  {
    op: 'GatherElements', since: 13, inputs: ['data', 'indices'], outputs: ['output'], attrs: { axis: a.int(0) },
    infer: (ctx) => [{ dtype: ctx.dtype(0), shape: ctx.shape(1)?.slice() }],
  },
  { op: 'GatherND', since: 13, inputs: ['data', 'indices'], outputs: ['output'], attrs: { batch_dims: a.int(0) }, infer: gatherNDRule },
  { op: 'Scatter', since: 11, inputs: ['data', 'indices', 'updates'], outputs: ['output'], attrs: { axis: a.int(0) }, infer: (ctx) => [sameAsInput(ctx)] },
  {
    op: 'ScatterElements', since: 16, inputs: ['data', 'indices', 'updates'], outputs: ['output'],
    attrs: { axis: a.int(0), reduction: a.string('none') }, infer: (ctx) => [sameAsInput(ctx)],
  },
  {
    op: 'ScatterND', since: 16, inputs: ['data', 'indices', 'updates'], outputs: ['output'],
    attrs: { reduction: a.string('none') }, infer: (ctx) => [sameAsInput(ctx)],
  },
  { op: 'Expand', since: 13, inputs: ['input', 'shape'], outputs: ['output'], infer: expandRule },
  { op: 'Tile', since: 13, inputs: ['input', 'repeats'], outputs: ['output'], infer: tileRule },
  {
    op: 'Pad', since: 13, inputs: ['data', 'pads', 'constant_value?'], outputs: ['output'], attrs: { mode: a.string('constant') },
    infer: padRule, legacyAttrs: ['pads', 'value'], extraInputs: 1,
  },
  { op: 'ConstantOfShape', since: 9, inputs: ['input'], outputs: ['output'], attrs: { value: a.tensor() }, infer: constantOfShapeRule },
  {
    op: 'EyeLike', since: 9, inputs: ['input'], outputs: ['output'], attrs: { dtype: a.int(), k: a.int(0) },
    infer: (ctx) => {
      const code = ctx.attrInt('dtype');
      const dtype = code !== undefined ? dtypeFromOnnxCode(code) : ctx.dtype(0);
      const s = ctx.shape(0);
      if (s && s.length !== 2) ctx.fail(`expects a rank-2 input, got rank ${s.length}`);
      return [{ dtype, shape: s?.slice() ?? ctx.symShape(0, 2) }];
    },
  },
  // Random tensors (dropout masks of TF graphs): a fixed shape, or the shape of the input.
  ...(['RandomUniform', 'RandomNormal'] as const).map((op) => ({
    op, since: 1, inputs: [], outputs: ['output'],
    attrs: { dtype: a.int(1), shape: a.req.ints(), seed: a.float(), ...(op === 'RandomUniform' ? { low: a.float(0), high: a.float(1) } : { mean: a.float(0), scale: a.float(1) }) },
    infer: (ctx: InferContext): ValueType[] => [{ dtype: dtypeFromOnnxCode(ctx.attrInt('dtype') ?? 1), shape: ctx.attrInts('shape')?.slice() }],
  })),
  ...(['RandomUniformLike', 'RandomNormalLike'] as const).map((op) => ({
    op, since: 1, inputs: ['input'], outputs: ['output'],
    attrs: { dtype: a.int(), seed: a.float(), ...(op === 'RandomUniformLike' ? { low: a.float(0), high: a.float(1) } : { mean: a.float(0), scale: a.float(1) }) },
    infer: (ctx: InferContext): ValueType[] => {
      const code = ctx.attrInt('dtype');
      return [{ dtype: code !== undefined ? dtypeFromOnnxCode(code) : ctx.dtype(0), shape: ctx.shape(0)?.slice() }];
    },
  })),
  { op: 'Range', since: 11, inputs: ['start', 'limit', 'delta'], outputs: ['output'], infer: rangeRule },
  { op: 'OneHot', since: 11, inputs: ['indices', 'depth', 'values'], outputs: ['output'], attrs: { axis: a.int(-1) }, infer: oneHotRule },
  { op: 'Trilu', since: 14, inputs: ['input', 'k?'], outputs: ['output'], attrs: { upper: a.int(1) }, infer: (ctx) => [sameAsInput(ctx)] },
  {
    op: 'NonZero', since: 13, inputs: ['X'], outputs: ['Y'],
    infer: (ctx) => [{ dtype: 'int64', shape: [ctx.rank(0) ?? ctx.sym(0, 0), ctx.sym(0, 1, 'nonzero')] }],
  },
  {
    op: 'Unique', since: 11, inputs: ['X'], outputs: ['Y', 'indices?', 'inverse_indices?', 'counts?'],
    attrs: { axis: a.int(), sorted: a.int(1) }, infer: uniqueRule,
  },
  {
    op: 'TopK', since: 11, inputs: ['X', 'K'], outputs: ['Values', 'Indices'],
    attrs: { axis: a.int(-1), largest: a.int(1), sorted: a.int(1) }, infer: topKRule,
  },
  { op: 'Compress', since: 11, inputs: ['input', 'condition'], outputs: ['output'], attrs: { axis: a.int() }, infer: compressRule },
  {
    op: 'DepthToSpace', since: 13, inputs: ['input'], outputs: ['output'], attrs: { blocksize: a.req.int(), mode: a.string('DCR') },
    infer: depthToSpaceRule(true),
  },
  { op: 'SpaceToDepth', since: 13, inputs: ['input'], outputs: ['output'], attrs: { blocksize: a.req.int() }, infer: depthToSpaceRule(false) },
  { op: 'CenterCropPad', since: 18, inputs: ['input_data', 'shape'], outputs: ['output_data'], attrs: { axes: a.ints() }, infer: centerCropPadRule },
  {
    op: 'ReverseSequence', since: 10, inputs: ['input', 'sequence_lens'], outputs: ['Y'],
    attrs: { batch_axis: a.int(1), time_axis: a.int(0) }, infer: (ctx) => [sameAsInput(ctx)],
  },
]);
