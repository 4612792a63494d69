/**
 * tfjs graph-models of ../shared/fixtures/real: inspected and run through the CLI; the MatMul model
 * gives the outputs tfjs's own test records; the dense models agree with tfjs-converter loading the
 * same model.json and shards, and so does the LSTM model (four StatelessWhile loops over TensorLists),
 * also as ONNX in onnxruntime after passing onnx.checker. Quantized manifests are dequantized as tfjs does (checked against tfjs-core's
 * own decoder).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { run, save } from '../../../src/api.js';
import { runWithOnnxRuntime } from '../../../src/runtime/onnxruntime.js';
import { loadModel } from '../../../src/formats/registry.js';
import { readNpy, writeNpy } from '../../../src/formats/npy/npy.js';
import { decodeWeight } from '../../../src/formats/tfjs/weights-manifest.js';
import { Tensor, float32ToFloat16 } from '../../../src/ir/tensor.js';
import { compareTensors } from '../../../src/runtime/compare.js';
import { prng } from '../../../src/runtime/random-inputs.js';
import { execFileSync } from 'node:child_process';
import { PY, SHARED, hasPython, mconv } from '../../helpers/cli.js';
import { fromTfjs, runTfjsModelFile, tf } from '../../helpers/tf-oracle.js';
import { useBackend } from '../../../src/runtime/backends.js';

const REAL = join(SHARED, 'real');
if (!existsSync(REAL)) console.log(`skipped: ${REAL} is absent`);
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'mconv-tfjs-graph-'));
  dirs.push(d);
  return d;
}

function expectClose(actual: Tensor, expected: Tensor, label: string, atol = 1e-4): void {
  const r = compareTensors(label, actual, expected, { atol, rtol: 1e-4 });
  expect(r.problem, `${label}: ${r.problem}`).toBeUndefined();
  expect(r.mismatches, `${label}: max abs error ${r.maxAbsError}`).toBe(0);
}

/** tfjs-converter's own load of a model.json with its shards (read from disk). */
const tfjsRun = runTfjsModelFile;

describe.skipIf(!existsSync(REAL))('tfjs graph-models', () => {
  it('tfjs-graph-model-small (both manifest layouts): mconv run gives the values tfjs records', async () => {
    for (const file of ['model.json', 'model_new.json']) {
      const path = join(REAL, 'tfjs-graph-model-small', file);
      const dir = tmp();
      writeFileSync(join(dir, 'x.npy'), writeNpy(Tensor.fromArray('float32', [2, 2], [1, 1, 1, 1])));
      const r = await mconv(['run', path, '--input', `Placeholder=${join(dir, 'x.npy')}`, '--output-dir', dir]);
      expect(r.code, r.stderr).toBe(0);
      const out = readNpy(readFileSync(join(dir, 'MatMul.npy')));
      expectClose(out, Tensor.fromArray('float32', [2, 2], [0.7567615509033203, -0.18349379301071167, 0.7567615509033203, -0.18349379301071167]), file, 1e-6);
      const i = await mconv(['inspect', path, '--json']);
      expect(i.code, i.stderr).toBe(0);
      const j = JSON.parse(i.stdout);
      expect(j.format).toBe('tfjs-graph');
      expect(j.inputs.map((v: { name: string }) => v.name)).toEqual(['Placeholder']);
      expect(j.parameters).toBe(4);
    }
  });

  for (const [dir, input, output] of [['tfjs-dense-model', 'dense_dense1_input', 'Identity'], ['tfjs-rn-graph-model', 'dense_dense2_input', 'Identity']] as const) {
    it(`${dir}: matches tfjs-converter loading the same files, and as ONNX onnxruntime`, async () => {
      const path = join(REAL, dir, 'model.json');
      const m = await loadModel(path);
      expect(m.graph.inputs.map((v) => v.name)).toEqual([input]);
      const width = m.graph.inputs[0]!.shape![1] as number;
      const r = prng(7);
      const x = Tensor.fromArray('float32', [3, width], Float32Array.from({ length: 3 * width }, () => r() * 2 - 1));
      const ours = await run(m, new Map([[input, x]]));
      const [want] = await tfjsRun(path, { [`${input}:0`]: x }, [`${output}:0`]);
      expectClose(ours.outputs.get(m.graph.outputs[0]!.name)!, want!, dir);
      // As ONNX: the checker's full check, and the same values in onnxruntime.
      const onnxFile = join(tmp(), 'model.onnx');
      await save(m, onnxFile);
      if (hasPython('onnx')) execFileSync(PY, ['-c', 'import onnx,sys; onnx.checker.check_model(onnx.load(sys.argv[1]), full_check=True)', onnxFile], { stdio: 'pipe' });
      const got = await runWithOnnxRuntime(onnxFile, new Map([[input, x]]));
      expectClose(got.get(m.graph.outputs[0]!.name)!, want!, `${dir} in onnxruntime`);
    });
  }

  it('the LSTM benchmark (4 StatelessWhile loops over TensorLists) matches tfjs-converter, and as ONNX onnxruntime', async () => {
    const path = join(REAL, 'tfjs-lstm-benchmark-model', 'model.json');
    const m = await loadModel(path);
    expect(m.graph.inputs.map((v) => `${v.name}${JSON.stringify(v.shape)}`)).toEqual(['input_2[1,1,51]']);
    expect(m.graph.findNodesByOp('Loop')).toHaveLength(4);
    const r = prng(11);
    const x = Tensor.fromArray('float32', [1, 1, 51], Float32Array.from({ length: 51 }, () => r() * 2 - 1));
    const ours = await run(m, new Map([['input_2', x]]));
    const names = m.graph.outputs.map((o) => o.name);
    expect(names.slice().sort()).toEqual(['Identity', 'Identity_1']);
    const want = await tfjsRun(path, { 'input_2:0': x }, names.map((n) => `${n}:0`));
    names.forEach((n, i) => expectClose(ours.outputs.get(n)!, want[i]!, `${n} vs tfjs-converter`, 1e-5));
    // The same values after --to onnx, in onnxruntime; the file passes onnx.checker's full check.
    const dir = tmp();
    const onnxFile = join(dir, 'lstm.onnx');
    const c = await mconv(['convert', path, '--to', 'onnx', '-o', onnxFile]);
    expect(c.code, c.stderr).toBe(0);
    if (hasPython('onnx')) execFileSync(PY, ['-c', 'import onnx,sys; onnx.checker.check_model(onnx.load(sys.argv[1]), full_check=True)', onnxFile], { stdio: 'pipe' });
    const ort = await import('onnxruntime-node');
    const session = await ort.InferenceSession.create(onnxFile);
    const out = await session.run({ input_2: new ort.Tensor('float32', x.toArray() as Float32Array, [1, 1, 51]) });
    names.forEach((n, i) => {
      const t = out[n]!;
      expectClose(Tensor.fromArray('float32', t.dims.slice() as number[], t.data as Float32Array), want[i]!, `${n} in onnxruntime`, 1e-5);
    });
  });
});

describe('weights manifests', () => {
  it('dequantizes uint8 / uint16 (min + q * scale) and float16 as tfjs-core does', async () => {
    await useBackend('cpu');
    const values = Float32Array.from({ length: 37 }, (_, i) => Math.sin(i) * 3);
    const min = Math.min(...values);
    const max = Math.max(...values);
    for (const dtype of ['uint8', 'uint16', 'float16'] as const) {
      const q = dtype === 'float16' ? { dtype } : { dtype, min, scale: (max - min) / (dtype === 'uint8' ? 255 : 65535) };
      const raw = new Uint8Array(37 * (dtype === 'uint8' ? 1 : 2));
      const view = new DataView(raw.buffer);
      for (let i = 0; i < 37; i++) {
        if (dtype === 'float16') view.setUint16(i * 2, float32ToFloat16(values[i]!), true);
        else {
          const level = Math.round((values[i]! - min) / (q as { scale: number }).scale);
          if (dtype === 'uint8') view.setUint8(i, level);
          else view.setUint16(i * 2, level, true);
        }
      }
      // tfjs-core's own decoder of quantized manifests is the reference.
      const theirs = tf.io.decodeWeights(raw.buffer, [{ name: 'w', shape: [37], dtype: 'float32', quantization: q } as never]).w!;
      const ours = decodeWeight({ name: 'w', shape: [37], dtype: 'float32', quantization: q }, raw, 'test');
      expectClose(ours, fromTfjs(theirs), `${dtype} dequantization`, 1e-7);
    }
  });
});
