/**
 * TF1 TensorArrays (TensorArrayV3 and its Read/Write/Scatter/Gather/Size ops, what `dynamic_rnn`
 * and `tf.while_loop` with TensorArrays build) as ONNX sequences, like TensorLists
 * (`tensor-list.ts`). A TensorArray has a handle and a "flow" scalar that orders its reads and
 * writes; here the flow value *is* the sequence, and the handle is a placeholder no kept op reads.
 */
import { attr, type Value } from '../../../ir/graph.js';
import { Tensor } from '../../../ir/tensor.js';
import { onnxFromDtype } from '../../onnx/tensor-proto.js';
import { registerTfOp, type TfOpContext } from '../op-api.js';
import { markSequence } from '../sequence-values.js';
import { itemLengths, listElem, withShape, writeItem } from './tensor-list.js';

/** TensorArrayV3(size): (handle, flow = an empty sequence of `dtype`). */
function tensorArray(ctx: TfOpContext): Value[] {
  const d = ctx.dtype('dtype');
  const handle = ctx.initializer('handle', Tensor.fromArray('int32', [], [0]));
  const [flow] = ctx.emit('SequenceEmpty', [], { dtype: attr.int(onnxFromDtype(d)) }, 1, 'flow');
  return [handle, markSequence(flow!, d)];
}

/** TensorArrayWriteV3(handle, index, value, flow_in): the new flow. */
function write(ctx: TfOpContext, [, index, value, flow]: Value[]): Value[] {
  return [writeItem(ctx, flow!, index!, value!)];
}

/** TensorArrayReadV3(handle, index, flow_in): item index. */
function read(ctx: TfOpContext, [, index, flow]: Value[]): Value[] {
  listElem(ctx, flow!);
  return ctx.emit('SequenceAt', [flow!, index!]);
}

/** The constant a value folds to, through the Range/Cast the graph builds indices with. */
function isFullRange(ctx: TfOpContext, indices: Value): boolean {
  const p = indices.producer;
  if (!p || p.op !== 'Range') return false;
  const start = p.inputs[0] ? ctx.constant(p.inputs[0]) : undefined;
  const delta = p.inputs[2] ? ctx.constant(p.inputs[2]) : undefined;
  return !!start && !!delta && Number(start.toFloat64()[0]) === 0 && Number(delta.toFloat64()[0]) === 1;
}

/**
 * TensorArrayScatterV3(handle, indices, value, flow_in): the rows of value as items. Converted
 * where it fills a new array in order (indices = range(0, n), what TensorArray.unstack builds).
 */
function scatter(ctx: TfOpContext, [, indices, value, flow]: Value[]): Value[] {
  const d = listElem(ctx, flow!);
  const fresh = flow!.producer?.op === 'SequenceEmpty';
  if (!fresh || !isFullRange(ctx, indices!)) throw ctx.unsupported('a scatter other than range(0, n) into a new TensorArray');
  const [out] = ctx.emit('SplitToSequence', [value!], { axis: attr.int(0), keepdims: attr.int(0) });
  return [markSequence(out!, d)];
}

/** TensorArrayGatherV3(handle, indices, flow_in): the items at indices, stacked. */
function gather(ctx: TfOpContext, [, indices, flow]: Value[]): Value[] {
  listElem(ctx, flow!);
  const [all] = ctx.emit('ConcatFromSequence', [flow!], { axis: attr.int(0), new_axis: attr.int(1) }, 1, 'stack');
  const item = ctx.attr('element_shape')?.shape;
  const [out] = ctx.emit('Gather', [all!, indices!], { axis: attr.int(0) });
  const shape = item ? [indices!.shape?.[0] ?? `${out!.name}_d0`, ...item.map((d2, i) => (d2 >= 0 ? d2 : `${out!.name}_d${i + 1}`))] : undefined;
  return [withShape(out!, shape)];
}

/** TensorArraySizeV3(handle, flow_in): int32 scalar. */
function size(ctx: TfOpContext, [, flow]: Value[]): Value[] {
  const n = ctx.emit('SequenceLength', [flow!], {}, 1, 'length')[0]!;
  return ctx.emit('Cast', [n], { to: attr.int(6) });
}

registerTfOp('TensorArrayV3', tensorArray);
registerTfOp('TensorArrayWriteV3', write);
registerTfOp('TensorArrayReadV3', read);
registerTfOp('TensorArrayScatterV3', scatter);
registerTfOp('TensorArrayGatherV3', gather);
registerTfOp('TensorArraySizeV3', size);

/* ------------------------------------------------------------------------------------------ */
/* Concat and Split (TensorArray.concat / TensorArray.split). */

/** TensorArrayConcatV3(handle, flow_in): (the items concatenated on axis 0, each one's length as int64). */
function concatV3(ctx: TfOpContext, [, flow]: Value[]): Value[] {
  listElem(ctx, flow!);
  const [out] = ctx.emit('ConcatFromSequence', [flow!], { axis: attr.int(0), new_axis: attr.int(0) });
  return [out!, itemLengths(ctx, flow!)];
}

/**
 * TensorArraySplitV3(handle, value, lengths, flow_in): the pieces of value along axis 0 as the
 * items, converted where it fills a new TensorArray (what TensorArray.split builds).
 */
function splitV3(ctx: TfOpContext, [, value, lengths, flow]: Value[]): Value[] {
  const d = listElem(ctx, flow!);
  if (flow!.producer?.op !== 'SequenceEmpty') throw ctx.unsupported('a split into a TensorArray already written to');
  const l = lengths!.dtype === 'int64' ? lengths! : ctx.emit('Cast', [lengths!], { to: attr.int(7) }, 1, 'lengths')[0]!;
  const [out] = ctx.emit('SplitToSequence', [value!, l], { axis: attr.int(0), keepdims: attr.int(1) });
  return [markSequence(out!, d)];
}

registerTfOp('TensorArrayConcatV3', concatV3);
registerTfOp('TensorArraySplitV3', splitV3);
