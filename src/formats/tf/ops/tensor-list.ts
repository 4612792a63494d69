/**
 * TensorList ops (what tf.TensorArray and Keras RNN loops compile to in TF2) as ONNX sequence
 * ops. A list is the sequence of its items written so far: TensorListReserve(n) starts empty and
 * the loop's TensorListSetItem(i) appends item i; setting an index that exists replaces that item.
 * Reading an item never written (TF gives zeros for a reserved, unset item) is a run-time error
 * of SequenceAt, not a silent value.
 */
import { attr, Graph, type Value } from '../../../ir/graph.js';
import type { DType, Shape } from '../../../ir/tensor.js';
import { onnxFromDtype } from '../../onnx/tensor-proto.js';
import { registerTfOp, type TfOpContext } from '../op-api.js';
import { markSequence, sequenceElem } from '../sequence-values.js';

function elementDType(ctx: TfOpContext): DType {
  return ctx.dtype('element_dtype');
}

/** A new empty list of `element_dtype` items (the reserved size and element shape are not needed). */
function emptyList(ctx: TfOpContext): Value[] {
  const d = elementDType(ctx);
  const [out] = ctx.emit('SequenceEmpty', [], { dtype: attr.int(onnxFromDtype(d)) });
  return [markSequence(out!, d)];
}

export function listElem(ctx: TfOpContext, list: Value): DType {
  const d = sequenceElem(list);
  if (d) return d;
  throw ctx.unsupported('a list that is not made by TensorListReserve/FromTensor/EmptyTensorList in this graph');
}

/** TensorListFromTensor(t): the items of t along axis 0. */
function fromTensor(ctx: TfOpContext, [t]: Value[]): Value[] {
  const d = t!.dtype ?? elementDType(ctx);
  const [out] = ctx.emit('SplitToSequence', [t!], { axis: attr.int(0), keepdims: attr.int(0) });
  return [markSequence(out!, d)];
}

/**
 * The item shape an `element_shape` input states (-1 dims as fresh symbols), or undefined when it
 * is not constant or is unknown rank (a scalar -1).
 */
export function elementShape(ctx: TfOpContext, v: Value | undefined, base: string): Shape | undefined {
  const t = v ? ctx.constant(v) : undefined;
  if (!t || t.shape.length !== 1) return undefined;
  return Array.from(t.toFloat64(), (d, i) => (d >= 0 ? d : `${base}_d${i}`));
}

/** Gives `v` the shape the TF op states, where inference did not find one. */
export function withShape(v: Value, shape: Shape | undefined): Value {
  if (shape && (!v.shape || v.shape.length !== shape.length)) v.shape = shape;
  return v;
}

/** TensorListGetItem(list, i, element_shape): item i. */
function getItem(ctx: TfOpContext, [list, index, shape]: Value[]): Value[] {
  listElem(ctx, list!);
  const [out] = ctx.emit('SequenceAt', [list!, index!]);
  return [withShape(out!, elementShape(ctx, shape, out!.name))];
}

function asInt64(ctx: TfOpContext, v: Value, suffix: string): Value {
  if (v.dtype === 'int64') return v;
  return ctx.emit('Cast', [v], { to: attr.int(7) }, 1, suffix)[0]!;
}

/**
 * TensorListSetItem(list, i, item): appends when i is the list's length, replaces item i when it
 * exists (an ONNX If on i < length); an index past the end is an error of SequenceInsert.
 */
function setItem(ctx: TfOpContext, [list, index, item]: Value[]): Value[] {
  return [writeItem(ctx, list!, index!, item!)];
}

/** The list with item `index` set (appended at the end, replaced before it); shared with TensorArrayWriteV3. */
export function writeItem(ctx: TfOpContext, list: Value, index: Value, item: Value): Value {
  const d = listElem(ctx, list);
  const i = asInt64(ctx, index, 'index');
  const len = ctx.emit('SequenceLength', [list], {}, 1, 'length')[0]!;
  const exists = ctx.emit('Less', [i, len], {}, 1, 'exists')[0]!;
  const branch = (which: string, replace: boolean): Graph => {
    const g = new Graph(`${ctx.irName}.${which}`, ctx.graph);
    let seq = list;
    if (replace) seq = markSequence(g.addNode('SequenceErase', [seq, i], 1, {}, `${ctx.irName}.${which}/erase`).outputs[0]!, d);
    const out = markSequence(g.addNode('SequenceInsert', [seq, item, i], 1, {}, `${ctx.irName}.${which}/insert`).outputs[0]!, d);
    g.outputs = [out];
    return g;
  };
  const [out] = ctx.emit('If', [exists], { then_branch: attr.graph(branch('replace', true)), else_branch: attr.graph(branch('append', false)) });
  return markSequence(out!, d);
}

/** TensorListStack(list, element_shape): the items stacked on a new axis 0. */
function stack(ctx: TfOpContext, [list, shape]: Value[]): Value[] {
  listElem(ctx, list!);
  const [out] = ctx.emit('ConcatFromSequence', [list!], { axis: attr.int(0), new_axis: attr.int(1) });
  const item = elementShape(ctx, shape, out!.name);
  const n = ctx.int('num_elements', -1);
  return [withShape(out!, item ? [n >= 0 ? n : `${out!.name}_d0`, ...item] : undefined)];
}

/** TensorListLength(list): int32 scalar. */
function length(ctx: TfOpContext, [list]: Value[]): Value[] {
  const n = ctx.emit('SequenceLength', [list!], {}, 1, 'length')[0]!;
  return ctx.emit('Cast', [n], { to: attr.int(6) });
}

/** TensorListPushBack(list, item): item appended. */
function pushBack(ctx: TfOpContext, [list, item]: Value[]): Value[] {
  const d = listElem(ctx, list!);
  const [out] = ctx.emit('SequenceInsert', [list!, item!]);
  return [markSequence(out!, d)];
}

/** TensorListPopBack(list): (the list without its last item, the last item). */
function popBack(ctx: TfOpContext, [list]: Value[]): Value[] {
  const d = listElem(ctx, list!);
  const last = ctx.ints64('last', [-1], []);
  const [rest] = ctx.emit('SequenceErase', [list!, last]);
  const [item] = ctx.emit('SequenceAt', [list!, last], {}, 1, 'item');
  return [markSequence(rest!, d), item!];
}

registerTfOp('TensorListReserve', emptyList);
registerTfOp('EmptyTensorList', emptyList);
registerTfOp('TensorListFromTensor', fromTensor);
registerTfOp('TensorListGetItem', getItem);
registerTfOp('TensorListSetItem', setItem);
registerTfOp('TensorListStack', stack);
registerTfOp('TensorListLength', length);
registerTfOp('TensorListPushBack', pushBack);
registerTfOp('TensorListPopBack', popBack);

/* ------------------------------------------------------------------------------------------ */
/* Gather, Scatter, Concat, Split, Resize (tf.TensorArray.gather/scatter/concat/split, resize). */

/** The int64 values of a constant operand, or undefined. */
function constInts(ctx: TfOpContext, v: Value): number[] | undefined {
  const t = ctx.constant(v);
  return t ? Array.from(t.toFloat64()) : undefined;
}

/** TensorListGather(list, indices, element_shape): the items at indices, stacked on axis 0. */
function gatherItems(ctx: TfOpContext, [list, indices, shape]: Value[]): Value[] {
  listElem(ctx, list!);
  const [all] = ctx.emit('ConcatFromSequence', [list!], { axis: attr.int(0), new_axis: attr.int(1) }, 1, 'stack');
  const [out] = ctx.emit('Gather', [all!, indices!], { axis: attr.int(0) });
  const item = elementShape(ctx, shape, out!.name);
  const n = indices!.shape?.length === 1 ? indices!.shape[0]! : `${out!.name}_d0`;
  return [withShape(out!, item ? [n, ...item] : undefined)];
}

/** The order in which the rows of a scattered tensor become items 0..n-1, or undefined when the indices are not a permutation of 0..n-1. */
export function scatterOrder(ctx: TfOpContext, indices: Value): { rows: number[] | 'in order' } | undefined {
  const c = constInts(ctx, indices);
  if (c) {
    const rows = new Array<number>(c.length).fill(-1);
    for (const [p, i] of c.entries()) {
      if (!Number.isInteger(i) || i < 0 || i >= c.length || rows[i] !== -1) return undefined;
      rows[i] = p;
    }
    return { rows: rows.every((r, i) => r === i) ? 'in order' : rows };
  }
  // range(0, n, 1): what TensorArray.unstack and tf.range-based scatters build.
  const p = indices.producer;
  if (p?.op !== 'Range') return undefined;
  const start = p.inputs[0] ? constInts(ctx, p.inputs[0]) : undefined;
  const delta = p.inputs[2] ? constInts(ctx, p.inputs[2]) : undefined;
  return start?.[0] === 0 && delta?.[0] === 1 ? { rows: 'in order' } : undefined;
}

/** The rows of `t` along axis 0 as items, in the order the scatter indices put them. */
export function scatterRows(ctx: TfOpContext, t: Value, indices: Value, d: DType): Value {
  const order = scatterOrder(ctx, indices);
  if (!order) throw ctx.unsupported('scatter indices other than a permutation of 0..n-1 (a list with unwritten items before written ones)');
  const rows = order.rows === 'in order' ? t : ctx.emit('Gather', [t, ctx.ints64('rows', order.rows)], { axis: attr.int(0) }, 1, 'rows')[0]!;
  const [out] = ctx.emit('SplitToSequence', [rows], { axis: attr.int(0), keepdims: attr.int(0) });
  return markSequence(out!, d);
}

/**
 * TensorListScatter(tensor, indices, element_shape) and TensorListScatterV2(..., num_elements):
 * a new list whose item indices[i] is row i. A list here holds the items written so far, so the
 * indices must cover 0..n-1 (in any order); a larger num_elements leaves unwritten items at the end.
 */
function scatterList(ctx: TfOpContext, [t, indices]: Value[]): Value[] {
  const d = t!.dtype ?? elementDType(ctx);
  return [scatterRows(ctx, t!, indices!, d)];
}

/**
 * The length of each item's axis 0, as an int64 vector (a Loop over the items: no ONNX op maps
 * over a sequence in this runtime).
 */
export function itemLengths(ctx: TfOpContext, list: Value): Value {
  const body = new Graph(`${ctx.irName}.lengths_body`, ctx.graph);
  const iter = body.addInput(`${ctx.irName}.lengths_body/i`, 'int64', []);
  const cond = body.addInput(`${ctx.irName}.lengths_body/cond`, 'bool', []);
  const n = `${ctx.irName}.lengths_body`;
  const item = body.addNode('SequenceAt', [list, iter], 1, {}, `${n}/item`).outputs[0]!;
  const shape = body.addNode('Shape', [item], 1, {}, `${n}/shape`).outputs[0]!;
  const first = body.addNode('Gather', [shape, ctx.ints64('zero', [0], [])], 1, { axis: attr.int(0) }, `${n}/dim0`).outputs[0]!;
  const condOut = body.addNode('Identity', [cond], 1, {}, `${n}/cond_out`).outputs[0]!;
  body.outputs = [condOut, first];
  const count = ctx.emit('SequenceLength', [list], {}, 1, 'count')[0]!;
  const [lengths] = ctx.emit('Loop', [count, null], { body: attr.graph(body) }, 1, 'lengths');
  lengths!.dtype = 'int64';
  lengths!.shape = [`${lengths!.name}_n`];
  return lengths!;
}

/**
 * TensorListConcatV2(list, element_shape, leading_dims) (and TensorListConcat): the items
 * concatenated on axis 0, and the length of each along it (int64).
 */
function concatItems(ctx: TfOpContext, [list]: Value[]): Value[] {
  listElem(ctx, list!);
  const [out] = ctx.emit('ConcatFromSequence', [list!], { axis: attr.int(0), new_axis: attr.int(0) });
  return [out!, itemLengths(ctx, list!)];
}

/** TensorListSplit(tensor, element_shape, lengths): a list of the pieces of `tensor` along axis 0. */
function splitList(ctx: TfOpContext, [t, , lengths]: Value[]): Value[] {
  const d = t!.dtype ?? elementDType(ctx);
  const l = lengths!.dtype === 'int64' ? lengths! : ctx.emit('Cast', [lengths!], { to: attr.int(7) }, 1, 'lengths')[0]!;
  const [out] = ctx.emit('SplitToSequence', [t!, l], { axis: attr.int(0), keepdims: attr.int(1) });
  return [markSequence(out!, d)];
}

/**
 * TensorListResize(list, size): a list holds the items written so far, so growing it changes
 * nothing (the new items are unwritten), and shrinking keeps the first `size` items: an If that
 * erases the last item (len - size) times through a Loop.
 */
function resizeList(ctx: TfOpContext, [list, size]: Value[]): Value[] {
  const d = listElem(ctx, list!);
  const n = `${ctx.irName}.shrink`;
  const target = asInt64(ctx, size!, 'size');
  const len = ctx.emit('SequenceLength', [list!], {}, 1, 'length')[0]!;
  const excess = ctx.emit('Sub', [len, target], {}, 1, 'excess')[0]!;
  const body = new Graph(`${n}_body`, ctx.graph);
  body.addInput(`${n}_body/i`, 'int64', []);
  const cond = body.addInput(`${n}_body/cond`, 'bool', []);
  const seqIn = markSequence(body.addInput(`${n}_body/seq`, 'float32', []), d);
  const erased = markSequence(body.addNode('SequenceErase', [seqIn], 1, {}, `${n}_body/erase_last`).outputs[0]!, d);
  const condOut = body.addNode('Identity', [cond], 1, {}, `${n}_body/cond_out`).outputs[0]!;
  body.outputs = [condOut, erased];
  const [out] = ctx.emit('Loop', [excess, null, list!], { body: attr.graph(body) }, 1, 'shrink');
  // A non-positive trip count runs no iteration: the list as it is.
  return [markSequence(out!, d)];
}

registerTfOp('TensorListGather', gatherItems);
registerTfOp('TensorListScatter', scatterList);
registerTfOp('TensorListScatterV2', scatterList);
registerTfOp('TensorListConcatV2', concatItems);
registerTfOp('TensorListConcat', concatItems);
registerTfOp('TensorListSplit', splitList);
registerTfOp('TensorListResize', resizeList);
