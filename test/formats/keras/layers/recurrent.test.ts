/**
 * Recurrent layers against tfjs-layers (SimpleRNN, LSTM, GRU without reset_after, the RNN
 * wrapper with cells, Bidirectional, TimeDistributed, masks) and against torch.nn.GRU /
 * keras_ref.py for GRU(reset_after=True) and Keras 3 defaults.
 */
import { describe, expect, it } from 'vitest';
import { checkModel, countOps, oneLayer, randomizeWeights, seeded, tfl } from './harness.js';
import { checkAgainstPython, hasTorch } from './pyref.js';

type RnnMaker = (args: Record<string, unknown>) => tfl.layers.Layer;
const MAKERS: [string, RnnMaker][] = [
  ['SimpleRNN', (a) => tfl.layers.simpleRNN(a as never)],
  ['LSTM', (a) => tfl.layers.lstm(a as never)],
  ['GRU', (a) => tfl.layers.gru(a as never)],
];
// tfjs-layers' Orthogonal initializer needs chained ops this build does not register.
const base = { units: 4, recurrentInitializer: 'glorotUniform' };

describe('Keras recurrent layers vs tfjs-layers', () => {
  for (const [name, make] of MAKERS) {
    it(`${name}: last output, return_sequences, return_state, go_backwards`, async () => {
      for (const args of [
        {},
        { returnSequences: true },
        { returnState: true },
        { returnSequences: true, returnState: true, goBackwards: true },
        { goBackwards: true },
        { useBias: false, returnSequences: true },
      ]) {
        const x = tfl.input({ shape: [5, 3] });
        const y = make({ ...base, ...args }).apply(x) as tfl.SymbolicTensor | tfl.SymbolicTensor[];
        const m = tfl.model({ inputs: x, outputs: y });
        randomizeWeights(m);
        const r = await checkModel(m);
        expect(countOps(r.graph, 'Scan')).toBe(0);
      }
    });
  }

  it('activation choices: relu/hard_sigmoid/linear map to ONNX activations, selu/swish go through Scan', async () => {
    for (const [args, scan] of [
      [{ activation: 'relu', recurrentActivation: 'hardSigmoid' }, false],
      [{ activation: 'linear', recurrentActivation: 'sigmoid' }, false],
      [{ activation: 'elu', recurrentActivation: 'softsign' }, false],
      [{ activation: 'selu', recurrentActivation: 'swish' }, true],
    ] as [Record<string, unknown>, boolean][]) {
      for (const [, make] of MAKERS) {
        const m = oneLayer([6, 3], make({ ...base, returnSequences: true, ...args }));
        randomizeWeights(m);
        const r = await checkModel(m);
        expect(countOps(r.graph, 'Scan') > 0).toBe(scan);
      }
    }
  });

  it('stacked LSTM -> GRU -> Dense', async () => {
    const m = tfl.sequential();
    m.add(tfl.layers.lstm({ ...base, inputShape: [7, 3], returnSequences: true } as never));
    m.add(tfl.layers.gru({ ...base, units: 5 } as never));
    m.add(tfl.layers.dense({ units: 2 }));
    randomizeWeights(m);
    const r = await checkModel(m);
    // The ops run time-major: the Transposes between the two layers cancel, one stays at the input.
    expect(countOps(r.graph, 'Transpose')).toBe(1);
  });

  it('Bidirectional LSTM/GRU/SimpleRNN with every merge mode, sequences and last outputs', async () => {
    for (const [, make] of MAKERS) {
      for (const mergeMode of ['concat', 'sum', 'mul', 'ave'] as const) {
        for (const returnSequences of [true, false]) {
          const m = oneLayer([5, 3], tfl.layers.bidirectional({ layer: make({ ...base, returnSequences }) as never, mergeMode }));
          randomizeWeights(m);
          await checkModel(m);
        }
      }
    }
  });

  it('Bidirectional with merge_mode None returns both directions', async () => {
    const x = tfl.input({ shape: [5, 3] });
    const outs = tfl.layers.bidirectional({ layer: tfl.layers.lstm({ ...base, returnSequences: true } as never) as never, mergeMode: null as never }).apply(x) as tfl.SymbolicTensor[];
    const m = tfl.model({ inputs: x, outputs: outs });
    randomizeWeights(m);
    const r = await checkModel(m);
    expect(r.graph.outputs.length).toBe(2);
  });

  it('LSTM with initial states from other inputs, and return_state feeding a Dense', async () => {
    const x = tfl.input({ shape: [5, 3], name: 'x' });
    const h0 = tfl.input({ shape: [4], name: 'h0' });
    const c0 = tfl.input({ shape: [4], name: 'c0' });
    const [y, h, c] = tfl.layers.lstm({ ...base, returnState: true, name: 'lstm' } as never).apply([x, h0, c0] as never) as tfl.SymbolicTensor[];
    const z = tfl.layers.concatenate().apply([y!, h!, c!]) as tfl.SymbolicTensor;
    const m = tfl.model({ inputs: [x, h0, c0], outputs: tfl.layers.dense({ units: 3 }).apply(z) as tfl.SymbolicTensor });
    randomizeWeights(m);
    await checkModel(m);
  });

  it('RNN wrapper with an LSTMCell, and with StackedRNNCells of GRU and SimpleRNN cells', async () => {
    const m1 = oneLayer([5, 3], tfl.layers.rnn({ cell: tfl.layers.lstmCell({ ...base } as never), returnSequences: true }));
    randomizeWeights(m1);
    await checkModel(m1);
    const cells = [tfl.layers.gruCell({ ...base } as never), tfl.layers.simpleRNNCell({ units: 3, recurrentInitializer: 'glorotUniform' } as never)];
    const m2 = oneLayer([5, 3], tfl.layers.rnn({ cell: cells, returnSequences: true }));
    randomizeWeights(m2);
    await checkModel(m2);
    const m3 = oneLayer([5, 3], tfl.layers.rnn({ cell: [tfl.layers.lstmCell({ ...base } as never), tfl.layers.lstmCell({ ...base, units: 2 } as never)] }));
    randomizeWeights(m3);
    await checkModel(m3);
  });

  it('TimeDistributed(Dense) and TimeDistributed(Conv2D) with a pooling layer', async () => {
    const m1 = oneLayer([4, 3], tfl.layers.timeDistributed({ layer: tfl.layers.dense({ units: 5, activation: 'relu' }) }));
    randomizeWeights(m1);
    await checkModel(m1);
    const m2 = tfl.sequential();
    m2.add(tfl.layers.timeDistributed({ inputShape: [3, 6, 6, 2], layer: tfl.layers.conv2d({ filters: 3, kernelSize: 3, padding: 'same' }) }));
    m2.add(tfl.layers.timeDistributed({ layer: tfl.layers.maxPooling2d({ poolSize: 2 }) }));
    m2.add(tfl.layers.timeDistributed({ layer: tfl.layers.flatten() }));
    m2.add(tfl.layers.lstm({ ...base }));
    randomizeWeights(m2);
    await checkModel(m2);
  });

  describe('masks', () => {
    // Sample 0 is padded at the end, sample 1 at the start and in the middle.
    const tokens = Float32Array.from([3, 1, 4, 0, 0, 0, 0, 5, 0, 2, 6, 7]);

    for (const [name, make] of MAKERS) {
      it(`Embedding(mask_zero) -> ${name} (sequences and last output, go_backwards)`, async () => {
        for (const args of [{}, { returnSequences: true }, { goBackwards: true, returnSequences: true }, { goBackwards: true }]) {
          const m = tfl.sequential();
          m.add(tfl.layers.embedding({ inputDim: 8, outputDim: 3, maskZero: true, inputLength: 6 }));
          m.add(make({ ...base, ...args }));
          randomizeWeights(m);
          const r = await checkModel(m, { inputValues: [tokens] });
          expect(countOps(r.graph, 'Scan')).toBeGreaterThan(0);
        }
      });
    }

    it('Masking -> LSTM(return_sequences) -> GRU, and Masking -> Bidirectional(GRU) returning the last output', async () => {
      const x = seeded(2 * 6 * 3, 4);
      for (const s of [12, 13, 14, 15, 16, 17, 18, 19, 20]) x[s] = 0;
      const m = tfl.sequential();
      m.add(tfl.layers.masking({ maskValue: 0, inputShape: [6, 3] }));
      m.add(tfl.layers.lstm({ ...base, returnSequences: true } as never));
      m.add(tfl.layers.gru({ ...base, units: 3 } as never));
      randomizeWeights(m);
      await checkModel(m, { inputValues: [x] });
      // With return_sequences Keras zeroes masked outputs inside Bidirectional and tfjs-layers does
      // not: that case is checked against keras_ref.py below.
      const b = tfl.sequential();
      b.add(tfl.layers.masking({ maskValue: 0, inputShape: [6, 3] }));
      b.add(tfl.layers.bidirectional({ layer: tfl.layers.gru({ ...base } as never) as never, mergeMode: 'concat' }));
      randomizeWeights(b);
      await checkModel(b, { inputValues: [x] });
    });

    it('Embedding(mask_zero) -> TimeDistributed(Dense) -> LSTM keeps the mask', async () => {
      const m = tfl.sequential();
      m.add(tfl.layers.embedding({ inputDim: 8, outputDim: 3, maskZero: true, inputLength: 6 }));
      m.add(tfl.layers.timeDistributed({ layer: tfl.layers.dense({ units: 4 }) }));
      m.add(tfl.layers.dropout({ rate: 0.5 }));
      m.add(tfl.layers.lstm({ ...base }));
      randomizeWeights(m);
      await checkModel(m, { inputValues: [tokens] });
    });

  });

  it('stateful layers are refused with a clear reason', async () => {
    const m = tfl.sequential();
    m.add(tfl.layers.lstm({ ...base, batchInputShape: [2, 5, 3], stateful: true } as never));
    await expect(checkModel(m)).rejects.toThrow(/stateful=True is not supported/);
  });
});

const torchOk = hasTorch();
if (!torchOk) console.warn('keras layer tests: /usr/bin/python3 with torch and numpy not found; skipping the python-reference cases');

describe.skipIf(!torchOk)('GRU reset_after and Keras 3 defaults vs torch / numpy', () => {
  const gru = (config: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
    class_name: 'GRU', config: { units: 4, ...config }, inputs: [[2, 5, 3]],
    weights: [['kernel', [3, 12]], ['recurrent_kernel', [4, 12]], ['bias', [2, 12]]] as [string, number[]][], ...extra,
  });

  it('GRU(reset_after=True) against torch.nn.GRU: last, sequences, state, go_backwards', async () => {
    const results = await checkAgainstPython([
      gru({ reset_after: true }, { useTorch: true }),
      gru({ reset_after: true, return_sequences: true }, { useTorch: true }),
      gru({ reset_after: true, return_state: true }, { useTorch: true }),
      gru({ reset_after: true, return_sequences: true, go_backwards: true }, { useTorch: true }),
    ], { onnx: true });
    for (const r of results) expect(countOps(r.graph, 'GRU')).toBe(1);
  });

  it('masked Bidirectional with return_sequences zeroes masked steps (Keras forces zero_output_for_mask)', async () => {
    const mask = [1, 1, 1, 0, 0, 0, 1, 0, 1, 1];
    const lstmW = (p: string): [string, number[]][] => [[`${p}/kernel`, [3, 16]], [`${p}/recurrent_kernel`, [4, 16]], [`${p}/bias`, [16]]];
    const checks = ['concat', 'sum', 'mul', 'ave', null].map((merge_mode) => ({
      class_name: 'Bidirectional',
      config: { merge_mode, layer: { class_name: 'LSTM', config: { units: 4, return_sequences: true } } },
      inputs: [[2, 5, 3]], mask, weights: [...lstmW('forward_lstm'), ...lstmW('backward_lstm')],
    }));
    checks.push({
      class_name: 'Bidirectional',
      config: { merge_mode: 'concat', layer: { class_name: 'GRU', config: { units: 4, return_sequences: false, return_state: true, reset_after: true } } } as never,
      inputs: [[2, 5, 3]], mask,
      weights: [['forward_gru/kernel', [3, 12]], ['forward_gru/recurrent_kernel', [4, 12]], ['forward_gru/bias', [2, 12]],
        ['backward_gru/kernel', [3, 12]], ['backward_gru/recurrent_kernel', [4, 12]], ['backward_gru/bias', [2, 12]]],
    });
    await checkAgainstPython(checks);
  });

  it('Embedding(mask_zero)-style mask -> GlobalAveragePooling1D averages unmasked steps only (tfjs-layers ignores the mask)', async () => {
    await checkAgainstPython({ class_name: 'GlobalAveragePooling1D', config: {}, inputs: [[2, 5, 3]], mask: [1, 1, 1, 0, 0, 0, 1, 0, 1, 1] });
  });

  it('GRU(reset_after=True) with a mask and with hard_sigmoid under Keras 3 (relu6(x+3)/6)', async () => {
    await checkAgainstPython([
      gru({ reset_after: true, return_sequences: true }, { mask: [1, 1, 1, 0, 0, 0, 1, 0, 1, 1] }),
      gru({ reset_after: true, recurrent_activation: 'hard_sigmoid' }, { kerasVersion: '3.3.3' }),
      gru({ reset_after: true, recurrent_activation: 'hard_sigmoid', activation: 'gelu', return_sequences: true }, { kerasVersion: '3.3.3' }),
      { class_name: 'LSTM', config: { units: 4, recurrent_activation: 'hard_sigmoid', return_sequences: true }, inputs: [[2, 5, 3]], kerasVersion: '3.3.3',
        weights: [['kernel', [3, 16]], ['recurrent_kernel', [4, 16]], ['bias', [16]]] },
    ]);
  });
});

describe.skipIf(!torchOk)('recurrent options tfjs-layers lacks vs numpy', () => {
  const w = (g: number, inDim = 3, units = 4): [string, number[]][] => [['kernel', [inDim, g * units]], ['recurrent_kernel', [units, g * units]], ['bias', [g * units]]];

  it('time_major inputs ([time, batch, features]) for SimpleRNN, LSTM and GRU (ONNX op and Scan lowerings)', async () => {
    await checkAgainstPython([
      { class_name: 'LSTM', config: { units: 4, time_major: true, return_sequences: true }, inputs: [[5, 2, 3]], weights: w(4) },
      { class_name: 'GRU', config: { units: 4, time_major: true, reset_after: false }, inputs: [[5, 2, 3]], weights: w(3) },
      { class_name: 'SimpleRNN', config: { units: 4, time_major: true, return_sequences: true, go_backwards: true }, inputs: [[5, 2, 3]], weights: w(1) },
      { class_name: 'SimpleRNN', config: { units: 4, time_major: true, return_sequences: true, activation: 'selu' }, inputs: [[5, 2, 3]], weights: w(1) },
    ], { onnx: true });
  });

  it('initial states for SimpleRNN and GRU (ONNX op and Scan lowerings)', async () => {
    await checkAgainstPython([
      { class_name: 'SimpleRNN', config: { units: 4, return_sequences: true }, inputs: [[2, 5, 3], [2, 4]], weights: w(1) },
      { class_name: 'GRU', config: { units: 4, reset_after: false, return_state: true }, inputs: [[2, 5, 3], [2, 4]], weights: w(3) },
      { class_name: 'GRU', config: { units: 4, reset_after: false, activation: 'gelu', return_sequences: true }, inputs: [[2, 5, 3], [2, 4]], weights: w(3) },
      { class_name: 'LSTM', config: { units: 4, activation: 'swish', return_state: true }, inputs: [[2, 5, 3], [2, 4], [2, 4]], weights: w(4) },
    ], { onnx: true });
  });

  it('Keras 3 LeakyReLU(negative_slope) and a layer object as a Dense activation', async () => {
    await checkAgainstPython([
      { class_name: 'LeakyReLU', config: { negative_slope: 0.05 }, inputs: [[2, 6]], kerasVersion: '3.3.3' },
      { class_name: 'Dense', config: { units: 3, activation: { class_name: 'LeakyReLU', config: { alpha: 0.1 } } }, inputs: [[2, 6]], weights: [['kernel', [6, 3]], ['bias', [3]]] },
    ]);
  });
});
