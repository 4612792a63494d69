/**
 * Sequence ops (opset 11): SequenceEmpty, SequenceConstruct, SequenceInsert, SequenceErase,
 * SequenceAt, SequenceLength, ConcatFromSequence, SplitToSequence.
 *
 * A Value holds tensor types only, so a sequence-valued output keeps `dtype` and `shape`
 * undefined; its rule returns a `sequence` type instead (the element type, and the elements one
 * by one while the length is known statically: SequenceConstruct, inserts and erases at constant
 * positions, splits of known dims). Tensors read back from a sequence get exact types when the
 * element is known, else the shared element type with fresh symbols for dims that vary.
 */
import type { DType, Dim, Shape } from '../tensor.js';
import { dtypeFromOnnxCode, normAxis } from './helpers.js';
import { VARYING_DIM, a, defineOps, type InferContext, type SequenceType, type ValueType } from './schema.js';

/** The sequence type of input i; an input with no sequence type gives an unknown one. */
function seqInput(ctx: InferContext, i: number): SequenceType {
  const t = ctx.type(i);
  if (t.sequence) return t.sequence;
  if (t.dtype !== undefined || t.shape !== undefined) ctx.fail(`input ${i} must be a sequence, it is a tensor`);
  return { elem: {} };
}

function checkDType(ctx: InferContext, seq: DType | undefined, t: DType | undefined, what: string): void {
  if (seq !== undefined && t !== undefined && seq !== t) ctx.fail(`${what} is ${t}, the sequence holds ${seq} tensors`);
}

/** The type shared by tensors: dtype of the first known, shape merged dim by dim. */
function commonType(ctx: InferContext, types: ValueType[], dtype?: DType): ValueType {
  let dt = dtype;
  for (const t of types) {
    if (t.dtype === undefined) continue;
    checkDType(ctx, dt, t.dtype, 'an element');
    dt = t.dtype;
  }
  return { dtype: dt, shape: commonShape(types.map((t) => t.shape)) };
}

/** Dims equal in every shape stay; others become VARYING_DIM. Unknown or unequal ranks: unknown. */
function commonShape(shapes: (Shape | undefined)[]): Shape | undefined {
  if (shapes.length === 0 || shapes.some((s) => s === undefined)) return undefined;
  const ss = shapes as Shape[];
  const rank = ss[0]!.length;
  if (ss.some((s) => s.length !== rank)) return undefined;
  return ss[0]!.map((d, i) => (ss.every((s) => s[i] === d) ? d : VARYING_DIM));
}

function sequenceOf(ctx: InferContext, items: ValueType[] | undefined, elem: ValueType): ValueType {
  const s: SequenceType = items ? { elem: commonType(ctx, items, elem.dtype), items } : { elem };
  return { sequence: s };
}

/** An element type as a tensor type: dims that vary between elements become fresh symbols. */
function readElement(ctx: InferContext, elem: ValueType, out = 0): ValueType {
  return { dtype: elem.dtype, shape: elem.shape?.map((d, i) => (d === VARYING_DIM ? ctx.sym(out, i) : d)) };
}

function copy(t: ValueType): ValueType {
  return { dtype: t.dtype, shape: t.shape?.slice(), value: t.value?.slice() };
}

/** A constant scalar position checked against [-n, n-1] (or [-n, n] for inserts); in [0, n]. */
function position(ctx: InferContext, i: number, n: number, allowEnd: boolean): number | undefined {
  const p = ctx.ints(i);
  if (!p) return undefined;
  if (p.length !== 1) ctx.fail(`position must be a scalar, it has ${p.length} values`);
  const pos = p[0]!;
  const hi = allowEnd ? n : n - 1;
  if (pos < -n || pos > hi) ctx.fail(`position ${pos} is out of range [${-n}, ${hi}] for a sequence of ${n} tensors`);
  return pos < 0 ? pos + n : pos;
}

function checkPositionType(ctx: InferContext, i: number): void {
  const d = ctx.dtype(i);
  if (d !== undefined && d !== 'int32' && d !== 'int64') ctx.fail(`position must be int32 or int64, it is ${d}`);
  // A scalar; a one-element 1-D tensor is accepted too (the ONNX backend data uses one).
  const shape = ctx.shape(i);
  if (shape && (shape.length > 1 || (shape.length === 1 && typeof shape[0] === 'number' && shape[0] !== 1))) {
    ctx.fail(`position must be a scalar, it has shape [${shape.join(', ')}]`);
  }
}

function sequenceEmptyRule(ctx: InferContext): ValueType[] {
  const code = ctx.attrInt('dtype');
  const dtype = code === undefined ? 'float32' : dtypeFromOnnxCode(code) ?? ctx.fail(`unknown data type code ${code}`);
  return [{ sequence: { elem: { dtype }, items: [] } }];
}

function sequenceConstructRule(ctx: InferContext): ValueType[] {
  const items: ValueType[] = [];
  for (let i = 0; i < ctx.inputCount; i++) {
    if (!ctx.has(i)) ctx.fail(`input ${i} is missing`);
    if (ctx.type(i).sequence) ctx.fail(`input ${i} is a sequence; elements must be tensors`);
    items.push(copy(ctx.type(i)));
  }
  return [sequenceOf(ctx, items, {})];
}

function sequenceInsertRule(ctx: InferContext): ValueType[] {
  const seq = seqInput(ctx, 0);
  const t = ctx.type(1);
  if (t.sequence) ctx.fail('the inserted value is a sequence; elements must be tensors');
  checkDType(ctx, seq.elem.dtype, t.dtype, 'the inserted tensor');
  if (ctx.has(2)) checkPositionType(ctx, 2);
  if (seq.items) {
    const n = seq.items.length;
    // Into an empty sequence the only valid position is 0, whatever the input holds.
    const pos = !ctx.has(2) ? n : position(ctx, 2, n, true) ?? (n === 0 ? 0 : undefined);
    if (pos !== undefined) {
      const items = seq.items.map(copy);
      items.splice(pos, 0, copy(t));
      return [sequenceOf(ctx, items, seq.elem)];
    }
  }
  // Unknown length or position: the new element joins the shared type.
  const known = seq.items ?? [seq.elem];
  return [{ sequence: { elem: commonType(ctx, [...known, t], seq.elem.dtype) } }];
}

function sequenceEraseRule(ctx: InferContext): ValueType[] {
  const seq = seqInput(ctx, 0);
  if (ctx.has(1)) checkPositionType(ctx, 1);
  if (seq.items) {
    const n = seq.items.length;
    if (n === 0) ctx.fail('cannot erase from an empty sequence');
    const pos = ctx.has(1) ? position(ctx, 1, n, false) : n - 1;
    if (pos !== undefined) {
      const items = seq.items.filter((_, i) => i !== pos).map(copy);
      // An emptied sequence keeps the element dtype; its element shape is unknown.
      return [items.length ? sequenceOf(ctx, items, seq.elem) : { sequence: { elem: { dtype: seq.elem.dtype }, items } }];
    }
  }
  return [{ sequence: { elem: copy(seq.elem) } }];
}

function sequenceAtRule(ctx: InferContext): ValueType[] {
  const seq = seqInput(ctx, 0);
  checkPositionType(ctx, 1);
  if (seq.items) {
    if (seq.items.length === 0) ctx.fail('cannot read from an empty sequence');
    const pos = position(ctx, 1, seq.items.length, false);
    if (pos !== undefined) return [copy(seq.items[pos]!)];
  }
  return [readElement(ctx, seq.elem)];
}

function sequenceLengthRule(ctx: InferContext): ValueType[] {
  const seq = seqInput(ctx, 0);
  return [{ dtype: 'int64', shape: [], value: seq.items ? [seq.items.length] : undefined }];
}

function concatFromSequenceRule(ctx: InferContext): ValueType[] {
  const seq = seqInput(ctx, 0);
  const axisAttr = ctx.attrInt('axis') ?? ctx.fail('attribute axis is required');
  const newAxis = (ctx.attrInt('new_axis') ?? 0) !== 0;
  const dtype = seq.elem.dtype;
  const items = seq.items;
  if (items && items.length === 0) ctx.fail('cannot concatenate an empty sequence');
  const shapes = items ? items.map((t) => t.shape) : undefined;
  // Exact: every element is known.
  if (shapes && shapes.every((s) => s !== undefined)) {
    const ss = shapes as Shape[];
    const rank = ss[0]!.length;
    if (ss.some((s) => s.length !== rank)) ctx.fail(`elements have ranks ${ss.map((s) => s.length).join(', ')}`);
    if (newAxis) {
      const axis = normAxis(ctx, axisAttr, rank + 1);
      const shape = mergeEqual(ctx, ss, -1);
      shape.splice(axis, 0, ss.length);
      return [{ dtype, shape }];
    }
    if (rank === 0) ctx.fail('cannot concatenate scalars without new_axis');
    const axis = normAxis(ctx, axisAttr, rank);
    const shape = mergeEqual(ctx, ss, axis);
    shape[axis] = sumDims(ss.map((s) => s[axis]!)) ?? ctx.sym(0, axis);
    return [{ dtype, shape }];
  }
  // From the shared element type.
  const elem = readElement(ctx, seq.elem);
  if (!elem.shape) return [{ dtype }];
  const rank = elem.shape.length;
  if (newAxis) {
    const axis = normAxis(ctx, axisAttr, rank + 1);
    const shape = elem.shape.slice();
    shape.splice(axis, 0, items ? items.length : ctx.sym(0, axis));
    return [{ dtype, shape }];
  }
  if (rank === 0) ctx.fail('cannot concatenate scalars without new_axis');
  const axis = normAxis(ctx, axisAttr, rank);
  const shape = elem.shape.slice();
  shape[axis] = ctx.sym(0, axis);
  return [{ dtype, shape }];
}

/** Dims that must agree across shapes (all but `skip`): a number wins over symbols. */
function mergeEqual(ctx: InferContext, shapes: Shape[], skip: number): Shape {
  return shapes[0]!.map((_, i) => {
    if (i === skip) return 0;
    let num: number | undefined;
    for (const s of shapes) {
      const d = s[i]!;
      if (typeof d !== 'number') continue;
      if (num !== undefined && num !== d) ctx.fail(`elements differ in dimension ${i} (${num} and ${d})`);
      num = d;
    }
    if (num !== undefined) return num;
    const first = shapes[0]![i]!;
    return shapes.every((s) => s[i] === first) ? first : ctx.sym(0, i);
  });
}

function sumDims(dims: Dim[]): number | undefined {
  let total = 0;
  for (const d of dims) {
    if (typeof d !== 'number') return undefined;
    total += d;
  }
  return total;
}

function splitToSequenceRule(ctx: InferContext): ValueType[] {
  const t = ctx.type(0);
  if (t.sequence) ctx.fail('input must be a tensor, it is a sequence');
  const dtype = t.dtype;
  const sd = ctx.dtype(1);
  if (ctx.has(1) && sd !== undefined && sd !== 'int32' && sd !== 'int64') ctx.fail(`split must be int32 or int64, it is ${sd}`);
  const shape = t.shape;
  if (!shape) return [{ sequence: { elem: { dtype } } }];
  if (shape.length === 0) ctx.fail('cannot split a scalar');
  const axis = normAxis(ctx, ctx.attrInt('axis') ?? 0, shape.length);
  const dim = shape[axis]!;
  const part = (len: Dim): ValueType => ({ dtype, shape: shape.map((d, i) => (i === axis ? len : d)) });
  if (!ctx.has(1)) {
    const keep = (ctx.attrInt('keepdims') ?? 1) !== 0;
    const one: ValueType = keep ? part(1) : { dtype, shape: shape.filter((_, i) => i !== axis) };
    if (typeof dim !== 'number') return [{ sequence: { elem: one } }];
    return [sequenceOf(ctx, Array.from({ length: dim }, () => copy(one)), one)];
  }
  const split = ctx.ints(1);
  const splitRank = ctx.rank(1);
  if (splitRank !== undefined && splitRank > 1) ctx.fail(`split must be a scalar or 1-D, it has rank ${splitRank}`);
  if (!split || splitRank === undefined) return [{ sequence: { elem: part(VARYING_DIM) } }];
  if (split.some((v) => v < 0)) ctx.fail(`split values must be >= 0, got [${split.join(', ')}]`);
  if (splitRank === 0) {
    const k = split[0]!;
    if (k <= 0) ctx.fail(`a scalar split must be positive, got ${k}`);
    if (typeof dim !== 'number') return [{ sequence: { elem: part(VARYING_DIM) } }];
    const lens: number[] = [];
    for (let at = 0; at < dim; at += k) lens.push(Math.min(k, dim - at));
    return [sequenceOf(ctx, lens.map(part), { dtype })];
  }
  const total = split.reduce((x, y) => x + y, 0);
  if (typeof dim === 'number' && total !== dim) {
    ctx.fail(`split lengths [${split.join(', ')}] sum to ${total}, the axis has ${dim}`);
  }
  return [sequenceOf(ctx, split.map(part), { dtype })];
}

export const sequenceSchemas = defineOps('sequence', [
  { op: 'SequenceEmpty', since: 11, inputs: [], outputs: ['output'], attrs: { dtype: a.int() }, infer: sequenceEmptyRule },
  { op: 'SequenceConstruct', since: 11, inputs: ['inputs...'], outputs: ['output_sequence'], infer: sequenceConstructRule },
  {
    op: 'SequenceInsert', since: 11, inputs: ['input_sequence', 'tensor', 'position?'], outputs: ['output_sequence'],
    infer: sequenceInsertRule,
  },
  { op: 'SequenceErase', since: 11, inputs: ['input_sequence', 'position?'], outputs: ['output_sequence'], infer: sequenceEraseRule },
  { op: 'SequenceAt', since: 11, inputs: ['input_sequence', 'position'], outputs: ['tensor'], infer: sequenceAtRule },
  { op: 'SequenceLength', since: 11, inputs: ['input_sequence'], outputs: ['length'], infer: sequenceLengthRule },
  {
    op: 'ConcatFromSequence', since: 11, inputs: ['input_sequence'], outputs: ['concat_result'],
    attrs: { axis: a.req.int(), new_axis: a.int(0) }, infer: concatFromSequenceRule,
  },
  {
    op: 'SplitToSequence', since: 11, inputs: ['input', 'split?'], outputs: ['output_sequence'],
    attrs: { axis: a.int(0), keepdims: a.int(1) }, infer: splitToSequenceRule,
  },
]);
