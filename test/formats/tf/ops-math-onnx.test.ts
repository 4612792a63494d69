/**
 * The composite TF converters (several ONNX ops per TF op) written as ONNX: onnx.checker
 * (full_check) accepts the file and onnxruntime computes what the mconv runtime computes.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Tensor } from '../../../src/ir/tensor.js';
import { saveModel } from '../../../src/formats/registry.js';
import { loadOnnxRuntime, runWithOnnxRuntime } from '../../../src/runtime/onnxruntime.js';
import { hasPython, onnxCheck } from '../../helpers/cli.js';
import { expectClose, rand, runOurs, type OpCase } from './op-harness.js';

const ort = await loadOnnxRuntime();
if (!ort) console.warn('onnxruntime-node not found: ONNX runs of TF converters skipped');
const checker = hasPython('onnx');
if (!checker) console.warn('python onnx not found: onnx.checker skipped');

const dir = mkdtempSync(join(tmpdir(), 'mconv-tf-ops-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const bin = (op: string, a: Tensor, b: Tensor, attrs?: OpCase['attrs']): OpCase => ({ op, inputs: [{ name: 'a', value: a }, { name: 'b', value: b }], attrs });
const un = (op: string, x: Tensor, attrs?: OpCase['attrs']): OpCase => ({ op, inputs: [{ name: 'x', value: x }], attrs });
const divisor = Tensor.fromArray('float32', [5], [1.5, -2, 0.75, -0.5, 3]);
const intDivisor = Tensor.fromArray('int32', [5], [3, -4, 7, -2, 5]);
const axes = (v: number[]) => ({ name: 'axes', value: Tensor.fromArray('int32', [v.length], v), constant: true });

const CASES: [string, OpCase][] = [
  ['FloorMod float', bin('FloorMod', rand('float32', [3, 5], 1, -9, 9), divisor)],
  ['FloorDiv int32', bin('FloorDiv', rand('int32', [3, 5], 2, -30, 30), intDivisor)],
  ['FloorMod int32', bin('FloorMod', rand('int32', [3, 5], 3, -30, 30), intDivisor)],
  ['Div int32', bin('Div', rand('int32', [3, 5], 4, -30, 30), intDivisor)],
  ['TruncateDiv float', bin('TruncateDiv', rand('float32', [3, 5], 5, -9, 9), divisor)],
  ['DivNoNan', bin('DivNoNan', rand('float32', [5], 6), Tensor.fromArray('float32', [5], [0, 1, 0, -2, 3]))],
  ['Atan2', bin('Atan2', rand('float32', [4, 5], 7), rand('float32', [4, 5], 8))],
  ['Expm1', un('Expm1', Tensor.fromArray('float32', [5], [1e-6, -0.3, 0, 5, -20]))],
  ['Log1p', un('Log1p', Tensor.fromArray('float32', [5], [1e-6, -0.3, 0, 5, 20]))],
  ['IsFinite', un('IsFinite', Tensor.fromArray('float32', [4], [1, NaN, Infinity, -2]))],
  ['Relu6 int32', un('Relu6', rand('int32', [8], 9, -10, 10))],
  ['Mean int32', { op: 'Mean', inputs: [{ name: 'x', value: rand('int32', [3, 4], 10, -20, 20) }, axes([1])], attrs: { keep_dims: false } }],
  ['All', { op: 'All', inputs: [{ name: 'x', value: rand('bool', [3, 4], 11) }, axes([0])], attrs: { keep_dims: true } }],
  ['ArgMax int32', { op: 'ArgMax', inputs: [{ name: 'x', value: rand('float32', [3, 4], 12) }, { name: 'd', value: Tensor.fromArray('int32', [], [1]), constant: true }], attrs: { output_type: 'int32' } }],
  ['MatrixBandPart', { op: 'MatrixBandPart', inputs: [{ name: 'x', value: rand('float32', [3, 4], 13) }, { name: 'l', value: Tensor.fromArray('int64', [], [1]), constant: true }, { name: 'u', value: Tensor.fromArray('int64', [], [0]), constant: true }] }],
  ['Bucketize', { op: 'Bucketize', inputs: [{ name: 'x', value: rand('float32', [6], 14, -3, 3) }], attrs: { boundaries: { list: { f: [-1, 0, 1] } } } }],
  ['L2Loss', un('L2Loss', rand('float32', [3, 4], 15))],
  ['ClipByValue tensor bounds', { op: 'ClipByValue', inputs: [{ name: 'x', value: rand('float32', [4], 16, -3, 3) }, { name: 'lo', value: rand('float32', [4], 17, -2, 0) }, { name: 'hi', value: rand('float32', [4], 18, 0, 2) }] }],
];

describe('TF converters written as ONNX', () => {
  CASES.forEach(([label, c], i) => {
    it(label, async () => {
      const { model, outputs } = await runOurs(c);
      const path = join(dir, `case${i}.onnx`);
      await saveModel(model, path);
      if (checker) expect(onnxCheck(path), 'onnx.checker').toBe('');
      if (!ort) return;
      const feeds = new Map(c.inputs.filter((x) => !x.constant).map((x) => [x.name, x.value]));
      const res = await runWithOnnxRuntime(path, feeds);
      const got = res.get(model.graph.outputs[0]!.name) ?? [...res.values()][0]!;
      expectClose(outputs[0]!, got, `${label}: mconv vs onnxruntime`, 1e-6, 1e-6);
    });
  });
});
