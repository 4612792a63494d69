/**
 * Sequence ops: SequenceEmpty, SequenceConstruct, SequenceInsert, SequenceErase, SequenceAt,
 * SequenceLength, ConcatFromSequence and SplitToSequence.
 * Every kernel returns values it owns: elements are cloned on the way in and on the way out.
 */
import type * as tfc from '@tensorflow/tfjs-core';
import type { Node } from '../../../ir/graph.js';
import type { KernelDef, KernelTable, RT } from '../types.js';
import { dtypeFromAttr, fromData, isComplex, nodeError, normAxis } from '../math/util.js';
import { cloneElement, makeSequence, positionOf, sequenceInput, tensorInput } from './values.js';

/** Refuses complex tensors on the tensor inputs/outputs the reader typed. */
function checkNoComplex(node: Node): string | undefined {
  for (const v of [...node.inputs, ...node.outputs]) {
    if (v?.dtype && isComplex(v.dtype)) return `${v.dtype} tensors cannot be computed with (value ${v.name})`;
  }
  return undefined;
}

function sync(run: KernelDef['run']): KernelDef {
  return { check: checkNoComplex, run };
}

function sameType(node: Node, seqDtype: string, r: RT, what: string): void {
  if (r.dtype !== seqDtype) throw nodeError(node, `${what} is ${r.dtype}, the sequence holds ${seqDtype} tensors`);
}

const sequenceEmpty = sync(({ tf, node }) => [makeSequence(tf, [], dtypeFromAttr(node, 'dtype', 1))]);

const sequenceConstruct = sync(({ tf, node, inputs }) => {
  if (!inputs.length) throw nodeError(node, 'needs at least one input');
  const items = inputs.map((_, i) => tensorInput(node, inputs, i));
  const dtype = items[0]!.dtype;
  items.forEach((r, i) => sameType(node, dtype, r, `input ${i}`));
  return [makeSequence(tf, items.map((r) => cloneElement(tf, r)), dtype)];
});

const sequenceInsert = sync(({ tf, node, inputs }) => {
  const { value, elements } = sequenceInput(node, inputs, 0);
  const item = tensorInput(node, inputs, 1);
  if (elements.length) sameType(node, elements[0]!.dtype, item, 'the inserted tensor');
  else sameType(node, value.dtype, item, 'the inserted tensor');
  const pos = inputs[2] ? positionOf(node, inputs[2], elements.length, true) : elements.length;
  const out = elements.map((e) => cloneElement(tf, e));
  out.splice(pos, 0, cloneElement(tf, item));
  return [makeSequence(tf, out, value.dtype)];
});

const sequenceErase = sync(({ tf, node, inputs }) => {
  const { value, elements } = sequenceInput(node, inputs, 0);
  if (!elements.length) throw nodeError(node, 'cannot erase from an empty sequence');
  const pos = inputs[1] ? positionOf(node, inputs[1], elements.length, false) : elements.length - 1;
  const out = elements.filter((_, i) => i !== pos).map((e) => cloneElement(tf, e));
  return [makeSequence(tf, out, value.dtype)];
});

const sequenceAt = sync(({ tf, node, inputs }) => {
  const { elements } = sequenceInput(node, inputs, 0);
  const p = inputs[1];
  if (!p) throw nodeError(node, 'required input position is missing');
  if (!elements.length) throw nodeError(node, 'cannot read from an empty sequence');
  return [cloneElement(tf, elements[positionOf(node, p, elements.length, false)]!)];
});

const sequenceLength = sync(({ tf, node, inputs }) => {
  const { elements } = sequenceInput(node, inputs, 0);
  return [fromData(tf, [elements.length], [], 'int64')];
});

const concatFromSequence = sync(({ tf, node, inputs }) => {
  const { elements } = sequenceInput(node, inputs, 0);
  if (!elements.length) throw nodeError(node, 'cannot concatenate an empty sequence');
  const axisAttr = node.attrInt('axis');
  if (axisAttr === undefined) throw nodeError(node, 'attribute axis is required');
  const newAxis = node.attrInt('new_axis', 0) !== 0;
  const rank = elements[0]!.t.rank;
  const first = elements[0]!.t.shape;
  elements.forEach((e, i) => {
    const ok = e.t.rank === rank && e.t.shape.every((d, k) => d === first[k] || (!newAxis && k === normAxis(axisAttr, rank, node)));
    if (!ok) throw nodeError(node, `element ${i} has shape [${e.t.shape.join(', ')}], element 0 has [${first.join(', ')}]`);
  });
  const ts = elements.map((e) => e.t);
  const t = newAxis ? tf.stack(ts, normAxis(axisAttr, rank + 1, node)) : tf.concat(ts, normAxis(axisAttr, rank, node));
  return [{ t, dtype: elements[0]!.dtype }];
});

/** The lengths of the parts: from the split input (scalar chunk size or 1-D lengths), or all 1. */
function partLengths(node: Node, dim: number, split: RT | undefined): number[] {
  if (!split) return new Array<number>(dim).fill(1);
  if (split.dtype !== 'int32' && split.dtype !== 'int64') throw nodeError(node, `split must be int32 or int64, it is ${split.dtype}`);
  const vals = Array.from(split.t.dataSync() as ArrayLike<number>, Number);
  if (vals.some((v) => v < 0)) throw nodeError(node, `split values must be >= 0, got [${vals.join(', ')}]`);
  if (split.t.rank === 0) {
    const k = vals[0]!;
    if (k <= 0) throw nodeError(node, `a scalar split must be positive, got ${k}`);
    const out: number[] = [];
    for (let at = 0; at < dim; at += k) out.push(Math.min(k, dim - at));
    return out;
  }
  if (split.t.rank !== 1) throw nodeError(node, `split must be a scalar or 1-D, it has shape [${split.t.shape.join(', ')}]`);
  const sum = vals.reduce((a, b) => a + b, 0);
  if (sum !== dim) throw nodeError(node, `split lengths [${vals.join(', ')}] sum to ${sum}, the axis has ${dim}`);
  return vals;
}

const splitToSequence = sync(({ tf, node, inputs }) => {
  const x = tensorInput(node, inputs, 0);
  const split = inputs[1];
  const axis = normAxis(node.attrInt('axis', 0), x.t.rank, node);
  if (x.t.rank === 0) throw nodeError(node, 'cannot split a scalar');
  const squeeze = !split && node.attrInt('keepdims', 1) === 0;
  const lengths = partLengths(node, x.t.shape[axis]!, split);
  const parts: RT[] = [];
  let at = 0;
  for (const len of lengths) {
    const begin = x.t.shape.map((_, k) => (k === axis ? at : 0));
    const size = x.t.shape.map((d, k) => (k === axis ? len : d));
    let part: tfc.Tensor = tf.slice(x.t, begin, size);
    if (squeeze) {
      const sq = tf.squeeze(part, [axis]);
      part.dispose();
      part = sq;
    }
    parts.push({ t: part, dtype: x.dtype });
    at += len;
  }
  return [makeSequence(tf, parts, x.dtype)];
});

export const sequenceOpKernels: KernelTable = {
  SequenceEmpty: sequenceEmpty,
  SequenceConstruct: sequenceConstruct,
  SequenceInsert: sequenceInsert,
  SequenceErase: sequenceErase,
  SequenceAt: sequenceAt,
  SequenceLength: sequenceLength,
  ConcatFromSequence: concatFromSequence,
  SplitToSequence: splitToSequence,
};
