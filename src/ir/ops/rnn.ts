/** Recurrent ops: RNN, GRU, LSTM (ONNX layouts 0 and 1). */
import type { Dim } from '../tensor.js';
import { a, defineOps, type InferContext, type ValueType } from './schema.js';

const common = {
  activation_alpha: a.floats(), activation_beta: a.floats(), clip: a.float(), direction: a.string('forward'),
  hidden_size: a.int(), layout: a.int(0),
};

function rnnRule(gates: number, stateOutputs: number) {
  return (ctx: InferContext): ValueType[] => {
    const dtype = ctx.dtype(0);
    const xs = ctx.shape(0);
    const ws = ctx.shape(1);
    const layout = ctx.attrInt('layout') ?? 0;
    const direction = ctx.attrString('direction') ?? 'forward';
    if (!['forward', 'reverse', 'bidirectional'].includes(direction)) ctx.fail(`unknown direction '${direction}'`);
    const numDir: Dim = direction === 'bidirectional' ? 2 : 1;
    if (ws && typeof ws[0] === 'number' && ws[0] !== numDir) ctx.fail(`W has ${ws[0]} directions, direction is ${direction}`);
    if (xs && xs.length !== 3) ctx.fail(`X must have rank 3, got rank ${xs.length}`);
    let hidden: Dim | undefined = ctx.attrInt('hidden_size');
    if (hidden === undefined && ws && typeof ws[1] === 'number') hidden = ws[1] / gates;
    const h: Dim = hidden ?? ctx.sym(0, 3, 'hidden');
    const seq: Dim = xs?.[layout === 0 ? 0 : 1] ?? ctx.sym(0, layout === 0 ? 0 : 1, 'seq');
    const batch: Dim = xs?.[layout === 0 ? 1 : 0] ?? ctx.sym(0, layout === 0 ? 1 : 0, 'batch');
    const y = layout === 0 ? [seq, numDir, batch, h] : [batch, seq, numDir, h];
    const state = layout === 0 ? [numDir, batch, h] : [batch, numDir, h];
    const out: ValueType[] = [{ dtype, shape: y }];
    for (let i = 0; i < stateOutputs; i++) out.push({ dtype, shape: state.slice() });
    return out;
  };
}

export const rnnSchemas = defineOps('rnn', [
  {
    op: 'RNN', since: 14, inputs: ['X', 'W', 'R', 'B?', 'sequence_lens?', 'initial_h?'], outputs: ['Y?', 'Y_h?'],
    attrs: { ...common, activations: a.strings(['Tanh', 'Tanh']) }, infer: rnnRule(1, 1),
  },
  {
    op: 'GRU', since: 14, inputs: ['X', 'W', 'R', 'B?', 'sequence_lens?', 'initial_h?'], outputs: ['Y?', 'Y_h?'],
    attrs: { ...common, activations: a.strings(), linear_before_reset: a.int(0) }, infer: rnnRule(3, 1),
  },
  {
    op: 'LSTM', since: 14, inputs: ['X', 'W', 'R', 'B?', 'sequence_lens?', 'initial_h?', 'initial_c?', 'P?'],
    outputs: ['Y?', 'Y_h?', 'Y_c?'], attrs: { ...common, activations: a.strings(), input_forget: a.int(0) }, infer: rnnRule(4, 2),
  },
]);
