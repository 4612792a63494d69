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
