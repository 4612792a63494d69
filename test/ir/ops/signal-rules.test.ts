/**
 * DFT, STFT and MelWeightMatrix inference against onnxruntime-node over a sweep of
 * configurations: exact when the lengths are constants, never contradicting when they are not.
 */
import { describe, expect, it } from 'vitest';
import { attr } from '../../../src/ir/graph.js';
import { Tensor, type DType } from '../../../src/ir/tensor.js';
import { HAVE_ORT, checkCase, inferredOutputs, type OracleCase } from './rule-oracle.js';

function signal(shape: number[], dtype: DType = 'float32'): Tensor {
  const n = shape.reduce((x, y) => x * y, 1);
  return Tensor.fromArray(dtype, shape, Array.from({ length: n }, (_, i) => Math.sin(i * 0.37) + 0.1 * (i % 5)));
}
const i64 = (v: number) => Tensor.fromArray('int64', [], [v]);
const f32 = (v: number) => Tensor.fromArray('float32', [], [v]);

function dftCases(): OracleCase[] {
  const out: OracleCase[] = [];
  const shapes = [[2, 8, 1], [1, 9, 2], [3, 5, 4, 1], [2, 6, 7, 2]];
  for (const shape of shapes) {
    const rank = shape.length;
    const axes = rank === 3 ? [1, -2] : [1, 2, -2];
    for (const axis of axes) {
      const complexIn = shape[rank - 1] === 2;
      for (const onesided of complexIn ? [0] : [0, 1]) {
        for (const inverse of onesided ? [0] : [0, 1]) {
          for (const len of [undefined, 4, 11]) {
            const inputs: Record<string, Tensor> = { x: signal(shape, rank === 4 && axis === 2 ? 'float64' : 'float32') };
            if (len !== undefined) inputs['n'] = i64(len);
            out.push({
              name: `DFT x[${shape}] axis ${axis} onesided ${onesided} inverse ${inverse} length ${len ?? '-'}`,
              inputs, constants: len !== undefined ? ['n'] : [],
              nodes: [{
                op: 'DFT', inputs: len !== undefined ? ['x', 'n'] : ['x'], outputs: ['y'],
                attrs: { axis: attr.int(axis), onesided: attr.int(onesided), inverse: attr.int(inverse) },
              }],
              outputs: { y: inputs['x']!.dtype },
            });
          }
        }
      }
    }
  }
  return out;
}

function stftCases(): OracleCase[] {
  const out: OracleCase[] = [];
  for (const [batch, len, c] of [[1, 32, 1], [2, 25, 1], [1, 20, 2]] as const) {
    for (const frame of [4, 7, 16]) {
      for (const step of [1, 3, 8]) {
        for (const form of ['window', 'length', 'both'] as const) {
          for (const onesided of c === 2 ? [0] : [0, 1]) {
            const inputs: Record<string, Tensor> = { x: signal([batch, len, c]), step: i64(step) };
            const ins: (string | null)[] = ['x', 'step', null, null];
            if (form !== 'length') {
              inputs['w'] = Tensor.fromArray('float32', [frame], Array.from({ length: frame }, (_, i) => 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / frame)));
              ins[2] = 'w';
            }
            if (form !== 'window') {
              inputs['fl'] = i64(frame);
              ins[3] = 'fl';
            }
            out.push({
              name: `STFT x[${batch}, ${len}, ${c}] frame ${frame} step ${step} ${form} onesided ${onesided}`,
              inputs, constants: ['step', 'w', 'fl'].filter((k) => inputs[k]),
              nodes: [{ op: 'STFT', inputs: ins.slice(0, ins[3] ? 4 : 3), outputs: ['y'], attrs: { onesided: attr.int(onesided) } }],
              outputs: { y: 'float32' },
            });
          }
        }
      }
    }
  }
  return out;
}

function melCases(): OracleCase[] {
  const out: OracleCase[] = [];
  for (const [mel, dft, rate, lo, hi, dtype] of [
    [8, 64, 8000, 0, 4000, 1], [10, 33, 16000, 50, 7000, 1], [3, 16, 1000, 20, 400, 11], [20, 512, 22050, 0, 11025, 1],
  ] as const) {
    const dt: DType = dtype === 11 ? 'float64' : 'float32';
    out.push({
      name: `MelWeightMatrix mel ${mel} dft ${dft} rate ${rate} out ${dt}`,
      inputs: { mel: i64(mel), dft: i64(dft), rate: i64(rate), lo: f32(lo), hi: f32(hi) },
      constants: ['mel', 'dft', 'rate', 'lo', 'hi'],
      nodes: [{ op: 'MelWeightMatrix', inputs: ['mel', 'dft', 'rate', 'lo', 'hi'], outputs: ['y'], attrs: { output_datatype: attr.int(dtype) } }],
      outputs: { y: dt },
    });
  }
  return out;
}

describe.skipIf(!HAVE_ORT)('signal op inference against onnxruntime-node', () => {
  const groups: [string, OracleCase[]][] = [['DFT', dftCases()], ['STFT', stftCases()], ['MelWeightMatrix', melCases()]];
  for (const [op, cases] of groups) {
    it(`${op}: ${cases.length} configurations`, async () => {
      const problems: string[] = [];
      for (const c of cases) problems.push(...(await checkCase(c)));
      expect(problems).toEqual([]);
    });
  }
});

describe('signal op rules refuse what the op refuses', () => {
  const base = (shape: number[], attrs = {}): OracleCase => ({
    name: 'bad', inputs: { x: signal(shape) }, nodes: [{ op: 'DFT', inputs: ['x'], outputs: ['y'], attrs }], outputs: { y: 'float32' },
  });
  it('DFT with a last dim other than 1 or 2, or on the batch axis', () => {
    expect(inferredOutputs(base([2, 8, 3])).errors.join()).toMatch(/last dimension must be 1 \(real\) or 2/);
    expect(inferredOutputs(base([2, 8, 1], { axis: attr.int(0) })).errors.join()).toMatch(/must be a signal dimension/);
  });
  it('STFT with a frame longer than the signal', () => {
    const c: OracleCase = {
      name: 'bad', inputs: { x: signal([1, 8, 1]), s: i64(2), fl: i64(9) }, constants: ['s', 'fl'],
      nodes: [{ op: 'STFT', inputs: ['x', 's', null, 'fl'], outputs: ['y'] }], outputs: { y: 'float32' },
    };
    expect(inferredOutputs(c).errors.join()).toMatch(/frame_length 9 exceeds the signal length 8/);
  });
});
