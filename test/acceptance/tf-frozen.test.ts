/**
 * Frozen TF GraphDefs of ../shared/fixtures/real through the CLI's path (loadModel -> passes ->
 * run, and --to onnx): the outputs agree with tfjs-converter executing the same GraphDef op by op
 * (the oracle), and with onnxruntime on the ONNX mconv writes (which passes onnx.checker's full
 * check); the NHWC CNN keeps no Transpose between its layers.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { run, save } from '../../src/api.js';
import { loadModel } from '../../src/formats/registry.js';
import { decodeGraphDef } from '../../src/formats/tf/proto.js';
import { compareTensors } from '../../src/runtime/compare.js';
import { prng } from '../../src/runtime/random-inputs.js';
import { Tensor } from '../../src/ir/tensor.js';
import type { Model } from '../../src/ir/graph.js';
import { fromTfjs, runTfjsGraphOracle, tf, tfconv, toTfjs } from '../helpers/tf-oracle.js';
import { PY, SHARED, hasPython } from '../helpers/cli.js';

const REAL = join(SHARED, 'real');
if (!existsSync(REAL)) console.log(`skipped: ${REAL} is absent`);
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function seeded(shape: number[], seed: number, lo = -1, hi = 1): Tensor {
  const r = prng(seed);
  const n = shape.reduce((a, d) => a * d, 1);
  return Tensor.fromArray('float32', shape, Float32Array.from({ length: n }, () => lo + (hi - lo) * r()));
}

function expectClose(actual: Tensor, expected: Tensor, label: string, atol = 1e-4, rtol = 1e-4): void {
  const r = compareTensors(label, actual, expected, { atol, rtol });
  expect(r.problem, `${label}: ${r.problem}`).toBeUndefined();
  expect(r.mismatches, `${label}: max abs error ${r.maxAbsError} at ${r.worstIndex} (got ${r.worstActual}, want ${r.worstExpected})`).toBe(0);
}

async function onnxRuntime(model: Model, feeds: Map<string, Tensor>): Promise<Tensor[] | undefined> {
  let ort: typeof import('onnxruntime-node');
  try {
    ort = await import('onnxruntime-node');
  } catch {
    return undefined;
  }
  const dir = mkdtempSync(join(tmpdir(), 'mconv-tf-onnx-'));
  dirs.push(dir);
  const file = join(dir, 'model.onnx');
  await save(model, file);
  if (hasPython('onnx')) {
    execFileSync(PY, ['-c', 'import onnx,sys; onnx.checker.check_model(onnx.load(sys.argv[1]), full_check=True)', file], { stdio: 'pipe' });
  }
  const session = await ort.InferenceSession.create(file);
  const inputs: Record<string, import('onnxruntime-node').Tensor> = {};
  for (const [k, t] of feeds) inputs[k] = new ort.Tensor('float32', t.toArray() as Float32Array, t.shape);
  const out = await session.run(inputs);
  return model.graph.outputs.map((o) => {
    const t = out[o.name]!;
    return Tensor.fromArray('float32', t.dims.slice() as number[], t.data as Float32Array);
  });
}

interface Case {
  dir: string;
  file: string;
  /** Input values by TF node name; keep_prob and the like get fixed values. */
  feeds: Record<string, Tensor>;
  outputs: string[];
  inputShapes?: Record<string, number[]>;
  cnn?: boolean;
  /** Also written with --to tfjs and run in tfjs-converter. */
  tfjs?: boolean;
}

/** tfjs-converter running a written graph-model (model.json + shards in `dir`). */
async function runTfjsGraphJson(json: { modelTopology: object; weightsManifest: { paths: string[]; weights: object[] }[] }, dir: string, feeds: Record<string, Tensor>, inputKeys: string[], outputKeys: string[]): Promise<Tensor[]> {
  const data = Buffer.concat(json.weightsManifest.flatMap((g) => g.paths.map((p) => readFileSync(join(dir, p)))));
  const model = await tfconv.loadGraphModel(tf.io.fromMemory({
    modelTopology: json.modelTopology, weightSpecs: json.weightsManifest.flatMap((g) => g.weights), format: 'graph-model',
    weightData: data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength),
  } as never));
  const values = Object.values(feeds);
  const ys = model.execute(Object.fromEntries(inputKeys.map((k, i) => [k, toTfjs(values[i]!)])), outputKeys);
  return (Array.isArray(ys) ? ys : [ys]).map((y) => fromTfjs(y));
}

const CASES: Case[] = [
  { dir: 'tf2onnx-fc-layers', file: 'frozen.pb', feeds: { X: seeded([2, 784], 1, 0, 1) }, outputs: ['model/pred/BiasAdd'], tfjs: true },
  { dir: 'tf2onnx-ae0', file: 'frozen.pb', feeds: { X: seeded([2, 784], 2, 0, 1) }, outputs: ['decode/dense_1/Sigmoid'], tfjs: true },
  {
    dir: 'tf2onnx-lstm', file: 'frozen.pb', feeds: { X: seeded([1, 784], 3, 0, 1), keep_prob: Tensor.fromArray('float32', [], [1]) },
    outputs: ['model/pred'], inputShapes: { X: [1, 784], keep_prob: [] },
  },
  {
    dir: 'tf2onnx-gru', file: 'frozen.pb', feeds: { X: seeded([1, 784], 4, 0, 1), keep_prob: Tensor.fromArray('float32', [], [1]) },
    outputs: ['model/pred'], inputShapes: { X: [1, 784], keep_prob: [] },
  },
  { dir: 'mlnet-cifar-frozen-and-ckpt', file: 'frozen_model.pb', feeds: { Input: seeded([2, 32, 32, 3], 5, 0, 1) }, outputs: ['Output'], cnn: true, tfjs: true },
];

describe.skipIf(!existsSync(REAL))('frozen TF GraphDefs against tfjs-converter and onnxruntime', () => {
  for (const c of CASES) {
    it(`${c.dir}/${c.file}`, async () => {
      const path = join(REAL, c.dir, c.file);
      const model = await loadModel(path, { inputShapes: c.inputShapes, outputs: c.outputs });
      expect(model.metadata['tf.graph_error']).toBeUndefined();
      const feeds = new Map(model.graph.inputs.map((v) => [v.name, c.feeds[v.name]!]));
      expect([...feeds.values()].every((t) => t !== undefined), `feeds for ${model.graph.inputs.map((v) => v.name)}`).toBe(true);
      const ours = await run(model, feeds);
      const tfGraph = decodeGraphDef(readFileSync(path));
      // tfjs-converter reads versions.producer, which these files leave out.
      tfGraph.producer ??= 27;
      const want = await runTfjsGraphOracle(tfGraph, new Map(), Object.fromEntries(feeds), c.outputs);
      const got = model.graph.outputs.map((o) => ours.outputs.get(o.name)!);
      want.forEach((w, i) => expectClose(got[i]!, w, `${c.dir} output ${i} vs tfjs-converter`));
      const ort = await onnxRuntime(model, feeds);
      if (ort) want.forEach((w, i) => expectClose(ort[i]!, w, `${c.dir} output ${i}: onnxruntime vs tfjs-converter`));
      if (c.tfjs) {
        // Written back as a tfjs graph-model, it loads in tfjs-converter with the same outputs.
        const dir = mkdtempSync(join(tmpdir(), 'mconv-tf-tfjs-'));
        dirs.push(dir);
        await save(model, join(dir, 'model.json'), { format: 'tfjs' });
        const back = await loadModel(join(dir, 'model.json'));
        const again = await run(back, new Map(back.graph.inputs.map((v, i) => [v.name, feeds.get(model.graph.inputs[i]!.name)!])));
        want.forEach((w, i) => expectClose(again.outputs.get(back.graph.outputs[i]!.name)!, w, `${c.dir} output ${i} after --to tfjs`));
        const json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
        const written = await runTfjsGraphJson(json, dir, Object.fromEntries(feeds), Object.keys(json.signature.inputs), Object.keys(json.signature.outputs));
        want.forEach((w, i) => expectClose(written[i]!, w, `${c.dir} output ${i}: --to tfjs in tfjs-converter`));
      }
      if (c.cnn) {
        const g = model.graph;
        const ts = g.findNodesByOp('Transpose');
        for (const t of ts) expect(g.inputs.includes(t.inputs[0]!) || g.outputs.includes(t.outputs[0]!), `Transpose ${t.name} between layers`).toBe(true);
        expect(g.findNodesByOp('Conv').length).toBeGreaterThan(0);
      }
    });
  }
});
