/**
 * The TF SavedModels of ../shared/fixtures/real that convert: written as ONNX they pass
 * onnx.checker's full check and onnxruntime computes what mconv's runtime computes; written with
 * --to tfjs they load in tfjs-converter with the same outputs. (Their values against the sources'
 * stated ones are in test/formats/tf/handler-run.test.ts.)
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { run, save } from '../../src/api.js';
import { loadModel } from '../../src/formats/registry.js';
import { compareTensors } from '../../src/runtime/compare.js';
import { randomInputs } from '../../src/runtime/random-inputs.js';
import { Tensor } from '../../src/ir/tensor.js';
import { fromTfjs, tf, tfconv, toTfjs } from '../helpers/tf-oracle.js';
import { PY, SHARED, hasPython } from '../helpers/cli.js';

const REAL = join(SHARED, 'real');
if (!existsSync(REAL)) console.log(`skipped: ${REAL} is absent`);
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'mconv-savedmodel-'));
  dirs.push(d);
  return d;
}

function expectClose(actual: Tensor, expected: Tensor, label: string): void {
  const r = compareTensors(label, actual, expected, { atol: 1e-4, rtol: 1e-4 });
  expect(r.problem, `${label}: ${r.problem}`).toBeUndefined();
  expect(r.mismatches, `${label}: max abs error ${r.maxAbsError}`).toBe(0);
}

const CASES = [
  'tf2onnx-regression/saved_model',
  'tfserving-half-plus-two-tf1-savedmodel',
  'tfserving-matrix-half-plus-two-savedmodel',
  'mlnet-mnist-lr-savedmodel',
  'kotlindl-mnist-dense-h5-and-savedmodel/saved_model',
  'tfnet-keras-savedmodel-simple_model_from_auto_compile',
  'tfnet-keras-savedmodel-python_func_model',
];

describe.skipIf(!existsSync(REAL))('TF SavedModels through ONNX and tfjs', () => {
  for (const rel of CASES) {
    it(rel, async () => {
      const m = await loadModel(join(REAL, rel), rel.startsWith('tf2onnx-regression') ? { inputShapes: { X: [3] } } : {});
      expect(m.metadata['tf.graph_error']).toBeUndefined();
      const feeds = randomInputs(m.graph.inputs, { seed: 5, dims: { batch: 2 } });
      const ours = await run(m, feeds);
      const want = m.graph.outputs.map((o) => ours.outputs.get(o.name)!);
      const dir = tmp();
      // ONNX: checker + onnxruntime.
      const onnxFile = join(dir, 'model.onnx');
      await save(m, onnxFile);
      if (hasPython('onnx')) execFileSync(PY, ['-c', 'import onnx,sys; onnx.checker.check_model(onnx.load(sys.argv[1]), full_check=True)', onnxFile], { stdio: 'pipe' });
      let ort: typeof import('onnxruntime-node') | undefined;
      try {
        ort = await import('onnxruntime-node');
      } catch {
        ort = undefined;
      }
      if (ort) {
        const session = await ort.InferenceSession.create(onnxFile);
        const inputs: Record<string, import('onnxruntime-node').Tensor> = {};
        for (const [k, t] of feeds) inputs[k] = new ort.Tensor('float32', Float32Array.from(t.toArray() as ArrayLike<number>), t.shape);
        const out = await session.run(inputs);
        m.graph.outputs.forEach((o, i) => {
          const t = out[o.name]!;
          expectClose(Tensor.fromArray('float32', t.dims.slice() as number[], t.data as Float32Array), want[i]!, `${rel} ${o.name} in onnxruntime`);
        });
      }
      // tfjs graph-model: tfjs-converter runs what --to tfjs wrote.
      const jsonFile = join(dir, 'model.json');
      await save(m, jsonFile, { format: 'tfjs' });
      const json = JSON.parse(readFileSync(jsonFile, 'utf8'));
      const data = Buffer.concat(json.weightsManifest.flatMap((g: { paths: string[] }) => g.paths.map((p) => readFileSync(join(dir, p)))));
      const model = await tfconv.loadGraphModel(tf.io.fromMemory({
        modelTopology: json.modelTopology, weightSpecs: json.weightsManifest.flatMap((g: { weights: unknown[] }) => g.weights), format: 'graph-model',
        weightData: data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength),
      } as never));
      const inputKeys = Object.keys(json.signature.inputs);
      const outputKeys = Object.keys(json.signature.outputs);
      const ys = model.execute(Object.fromEntries(inputKeys.map((k, i) => [k, toTfjs(feeds.get(m.graph.inputs[i]!.name)!)])), outputKeys);
      (Array.isArray(ys) ? ys : [ys]).forEach((y, i) => expectClose(fromTfjs(y), want[i]!, `${rel} output ${i} via --to tfjs in tfjs-converter`));
    });
  }
});
