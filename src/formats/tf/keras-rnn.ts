/**
 * Keras LSTM layers in TF2 graphs as one ONNX LSTM node.
 *
 * TF2 Keras saves a CuDNN-compatible LSTM layer (tanh activation, sigmoid recurrent activation, no
 * recurrent dropout) as a call of a library function marked `api_implements: "lstm_<uuid>"`
 * (`standard_lstm`, or `gpu_lstm_with_fallback`, same signature): arguments (inputs, init_h,
 * init_c, kernel, recurrent_kernel, bias), results (last_output, outputs, h, c, runtime). Its body
 * is a While loop over TensorLists; the same computation is one ONNX `LSTM` node, which is what
 * a converted model should hold. Keras gates are (i, f, c, o) in the kernel's columns, ONNX's
 * (i, o, f, c) in W's rows; Keras has one bias, ONNX an input and a recurrent one (zeros here).
 *
 * Calls this does not cover (a mask argument, go_backwards) are inlined as usual.
 */
import { attr, type Value } from '../../ir/graph.js';
import { Tensor } from '../../ir/tensor.js';
import type { TfOpContext } from './op-api.js';
import type { TfFunction } from './tf-graph.js';

const dec = new TextDecoder();

/** True for a Keras LSTM implementation function this module converts whole. */
export function isKerasLstmFunction(fn: TfFunction): boolean {
  const impl = fn.attr.api_implements?.s;
  if (!impl || !dec.decode(impl).startsWith('lstm_')) return false;
  if (fn.inputs.length !== 6 || fn.outputs.length !== 5) return false;
  return !fn.attr.go_backwards?.b;
}

/**
 * Whether the function returns every step's output (return_sequences) or the last one as
 * [B, 1, U]: from the shape TF recorded for the `outputs` result (`_output_shapes`), else from the
 * output list of its loop (one item when only the last step is kept); undefined when neither says.
 */
function returnsSequences(fn: TfFunction, timeMajor: boolean, steps: number | undefined): boolean | undefined {
  const byName = new Map(fn.nodes.map((n) => [n.name, n]));
  const ret = fn.ret[fn.outputs[1]!.name] ?? '';
  const shape = byName.get(ret.split(':')[0]!)?.attr._output_shapes?.list?.shape?.[0];
  const d = shape && shape.length === 3 ? shape[timeMajor ? 0 : 1] : undefined;
  if (d !== undefined) {
    if (d === 1 && steps !== 1) return false;
    if (d === -1 || d === steps) return true;
  }
  const stack = fn.nodes.find((n) => n.op === 'TensorListStack');
  if (stack) return stack.attr.num_elements?.i !== 1;
  return undefined;
}

/** The `runtime` result (a float constant Keras uses to report the implementation). */
function runtimeValue(fn: TfFunction): Tensor {
  const ret = fn.ret[fn.outputs[4]!.name] ?? '';
  const byName = new Map(fn.nodes.map((n) => [n.name, n]));
  let node = byName.get(ret.split(':')[0]!);
  for (let i = 0; i < 4 && node && node.op === 'Identity'; i++) node = byName.get((node.inputs[0] ?? '').split(':')[0]!);
  return node?.op === 'Const' && node.attr.value?.tensor ? node.attr.value.tensor : Tensor.fromArray('float32', [], [0]);
}

/**
 * Emits the LSTM for a call of `fn` on `args`; returns the call's five results, or undefined when
 * a weight's shape is not known (the caller then inlines the function).
 */
export function convertKerasLstm(ctx: TfOpContext, args: Value[], fn: TfFunction): Value[] | undefined {
  const [x, h0, c0, kernel, recurrent, bias] = args as [Value, Value, Value, Value, Value, Value];
  const rs = recurrent.shape;
  const ks = kernel.shape;
  if (!rs || rs.length !== 2 || typeof rs[0] !== 'number' || !ks || ks.length !== 2 || x.shape?.length !== 3) return undefined;
  const units = rs[0];
  if (rs[1] !== 4 * units || (typeof ks[1] === 'number' && ks[1] !== 4 * units)) return undefined;
  const timeMajor = !!fn.attr.time_major?.b;
  const t = x.shape[timeMajor ? 0 : 1];
  const sequences = returnsSequences(fn, timeMajor, typeof t === 'number' ? t : undefined);
  if (sequences === undefined) return undefined;

  /** Keras (i, f, c, o) columns -> ONNX (i, o, f, c) rows: [4U, n] with a leading 1. */
  const gates = (w: Value, name: string): Value => {
    const parts = ctx.emit('Split', [w, ctx.ints64(`${name}_split`, [units, units, units, units])], { axis: attr.int(-1) }, 4, `${name}_gates`);
    const [i, f, c, o] = parts as [Value, Value, Value, Value];
    const ordered = ctx.emit('Concat', [i, o, f, c], { axis: attr.int(-1) }, 1, `${name}_iofc`)[0]!;
    const rows = w.shape?.length === 2 ? ctx.emit('Transpose', [ordered], { perm: attr.ints([1, 0]) }, 1, `${name}_rows`)[0]! : ordered;
    return ctx.emit('Unsqueeze', [rows, ctx.ints64(`${name}_axis`, [0])], {}, 1, `${name}_onnx`)[0]!;
  };
  const W = gates(kernel, 'W');
  const R = gates(recurrent, 'R');
  const wb = gates(bias, 'Wb');
  const rb = ctx.initializer('Rb', Tensor.fromArray('float32', [1, 4 * units], new Float32Array(4 * units)));
  const B = ctx.emit('Concat', [wb, rb], { axis: attr.int(1) }, 1, 'B')[0]!;

  const xt = timeMajor ? x : ctx.emit('Transpose', [x], { perm: attr.ints([1, 0, 2]) }, 1, 'time_major')[0]!;
  const axis0 = ctx.ints64('direction_axis', [0]);
  const h = ctx.emit('Unsqueeze', [h0, axis0], {}, 1, 'initial_h')[0]!;
  const c = ctx.emit('Unsqueeze', [c0, axis0], {}, 1, 'initial_c')[0]!;
  const [Y, Yh, Yc] = ctx.emit('LSTM', [xt, W, R, B, null, h, c], { hidden_size: attr.int(units) }, 3, 'lstm') as [Value, Value, Value];
  const last = ctx.emit('Squeeze', [Yh, axis0], {}, 1, 'h')[0]!;
  const cell = ctx.emit('Squeeze', [Yc, axis0], {}, 1, 'c')[0]!;
  let outputs: Value;
  if (sequences) {
    const seq = ctx.emit('Squeeze', [Y, ctx.ints64('y_direction_axis', [1])], {}, 1, 'steps')[0]!;
    outputs = timeMajor ? seq : ctx.emit('Transpose', [seq], { perm: attr.ints([1, 0, 2]) }, 1, 'outputs')[0]!;
  } else {
    outputs = ctx.emit('Unsqueeze', [last, ctx.ints64('step_axis', [timeMajor ? 0 : 1])], {}, 1, 'outputs')[0]!;
  }
  const runtime = ctx.initializer('runtime', runtimeValue(fn));
  return [last, outputs, last, cell, runtime];
}
