/**
 * The TF SavedModels of ../shared/fixtures/real that convert, against tfjs-converter running the
 * SavedModel's own graph (its calls inlined and its variables set to the checkpoint's values by a
 * test helper, tf-frozen-savedmodel.ts): mconv's outputs on the same random inputs agree within
 * 1e-4. The Keras LSTM SavedModel runs its While loop in tfjs-converter and its ONNX LSTM node in
 * mconv. Each is also written as ONNX, which passes onnx.checker's full check and gives the same
 * in onnxruntime, and with `--to tfjs`, which tfjs-converter loads and runs to the same values.
 * TF1 checkpoints with their `.meta` graph are checked against the oracle too.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { run, save } from '../../src/api.js';
import { loadOnnxRuntime, runWithOnnxRuntime } from '../../src/runtime/onnxruntime.js';
import { loadModel } from '../../src/formats/registry.js';
import { readSavedModel } from '../../src/formats/tf/saved-model.js';
import { readCheckpoint } from '../../src/formats/tf/checkpoint.js';
import { bindVariables } from '../../src/formats/tf/ckpt-variables.js';
import { decodeMetaGraph } from '../../src/formats/tf/proto.js';
import { openSource } from '../../src/io/files.js';
import { compareTensors } from '../../src/runtime/compare.js';
import { randomInputs } from '../../src/runtime/random-inputs.js';
import type { Tensor } from '../../src/ir/tensor.js';
import { freezeSavedModelGraph } from '../helpers/tf-frozen-savedmodel.js';
import { importTfGraph } from '../../src/formats/tf/import-graph.js';
import type { TfGraph, TfNode } from '../../src/formats/tf/tf-graph.js';
import { Model } from '../../src/ir/graph.js';
import { runTfjsGraphOracle, runTfjsModelFile } from '../helpers/tf-oracle.js';
import { PY, SHARED, hasPython } from '../helpers/cli.js';

const REAL = join(SHARED, 'real');
if (!existsSync(REAL)) console.log(`skipped: ${REAL} is absent`);
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

const CASES: { dir: string; shapes?: Record<string, (number | string)[]>; lstm?: boolean; signature?: string }[] = [
  { dir: 'tf2onnx-regression/saved_model', shapes: { X: [3] } },
  { dir: 'tfserving-half-plus-two-tf1-savedmodel' },
  { dir: 'tfserving-half-plus-two-tf2-savedmodel' },
  { dir: 'tfserving-matrix-half-plus-two-savedmodel' },
  // Its checkpoint sets every weight to 0.1, so the softmax is 0.1 whatever the input: this case
  // checks loading and wiring, not arithmetic.
  { dir: 'mlnet-mnist-lr-savedmodel' },
  { dir: 'mlnet-mnist-conv-savedmodel' },
  { dir: 'kotlindl-mnist-dense-h5-and-savedmodel/saved_model' },
  { dir: 'tfnet-keras-savedmodel-simple_model_from_auto_compile' },
  { dir: 'tfnet-keras-savedmodel-python_func_model' },
  { dir: 'tf2onnx-saved-model-redundant-inputs' },
  { dir: 'tfnet-keras-savedmodel-lstm_from_sequential', lstm: true },
  ...['times_three_float', 'times_two_int', 'uint8_multiply', 'int64_multiply', 'model_multi_output', 'model_single_input_multi_output', 'module_with_multiple_signatures']
    .map((d) => ({ dir: `tfjs-node-savedmodels/${d}` })),
  { dir: 'tfjs-node-savedmodels/module_with_multiple_signatures', signature: 'timestwo' },
];

function expectClose(actual: Tensor, expected: Tensor, label: string): void {
  const r = compareTensors(label, actual, expected, { atol: 1e-4, rtol: 1e-4 });
  expect(r.problem, `${label}: ${r.problem}`).toBeUndefined();
  expect(r.mismatches, `${label}: max abs error ${r.maxAbsError}`).toBe(0);
}

/**
 * The model written as ONNX passes onnx.checker's full check and gives `want` in onnxruntime;
 * written with --to tfjs, tfjs-converter loads it and gives `want` too.
 */
async function expectOnnxAndTfjs(m: Model, feeds: Map<string, Tensor>, want: Tensor[], label: string): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'mconv-sm-oracle-'));
  dirs.push(dir);
  const file = join(dir, 'model.onnx');
  await save(m, file);
  if (hasPython('onnx')) execFileSync(PY, ['-c', 'import onnx,sys; onnx.checker.check_model(onnx.load(sys.argv[1]), full_check=True)', file], { stdio: 'pipe' });
  if (await loadOnnxRuntime()) {
    const got = await runWithOnnxRuntime(file, feeds);
    m.graph.outputs.forEach((o, i) => expectClose(got.get(o.name)!, want[i]!, `${label} ${o.name} in onnxruntime`));
  }
  const jsonFile = join(dir, 'model.json');
  await save(m, jsonFile, { format: 'tfjs' });
  const inputKeys = Object.keys(JSON.parse(readFileSync(jsonFile, 'utf8')).signature.inputs);
  const viaTfjs = await runTfjsModelFile(jsonFile, Object.fromEntries(inputKeys.map((k, i) => [k, feeds.get(m.graph.inputs[i]!.name)!])));
  viaTfjs.forEach((y, i) => expectClose(y, want[i]!, `${label} output ${i} via --to tfjs`));
}

describe.skipIf(!existsSync(REAL))('TF SavedModels against tfjs-converter running their own graph', () => {
  for (const c of CASES) {
    it(`${c.dir}${c.signature ? ` --signature ${c.signature}` : ''}`, async () => {
      const path = join(REAL, c.dir);
      const options = { ...(c.shapes ? { inputShapes: c.shapes } : {}), ...(c.signature ? { signature: c.signature } : {}) };
      const m = await loadModel(path, options);
      expect(m.metadata['tf.graph_error']).toBeUndefined();
      if (c.lstm) expect(m.graph.findNodesByOp('LSTM')).toHaveLength(1);
      const feeds = randomInputs(m.graph.inputs, { seed: 7, dims: { batch: 2 } });
      const ours = await run(m, feeds);
      // The oracle: the SavedModel's graph for the same signature.
      const sm = readSavedModel(openSource(path), options);
      const req = sm.request;
      const frozen = freezeSavedModelGraph(req.graph, sm.binding.values, req.outputs!);
      const oracleFeeds: Record<string, Tensor> = {};
      // Inputs the outputs do not need (a redundant signature input) are not in the pruned graph.
      const present = new Set(frozen.graph.nodes.map((n) => n.name));
      req.inputs!.forEach((ref, i) => {
        const t = feeds.get(req.inputNames?.[i] ?? ref);
        if (t && present.has(ref.replace(/:\d+$/, ''))) oracleFeeds[ref] = t;
      });
      const want = await runTfjsGraphOracle(frozen.graph, new Map(), oracleFeeds, frozen.outputs);
      m.graph.outputs.forEach((o, i) => expectClose(ours.outputs.get(o.name)!, want[i]!, `${c.dir} ${o.name}`));
      await expectOnnxAndTfjs(m, feeds, want, c.dir);
    });
  }
});

describe.skipIf(!existsSync(REAL))('TF1 checkpoints with their .meta graph against tfjs-converter running that graph', () => {
  const METAS = [
    { dir: 'mlnet-cifar-frozen-and-ckpt', meta: 'model.ckpt.meta', index: 'model.ckpt.index', inputs: ['Input:0'], outputs: ['Output:0'], shapes: { Input: [2, 32, 32, 3] } },
    { dir: 'tf2onnx-regression/checkpoint', meta: 'model.meta', index: 'model.index', inputs: ['X:0'], outputs: ['pred:0'], shapes: { X: [5] } },
  ];
  for (const c of METAS) {
    it(`${c.dir}/${c.meta} --inputs ${c.inputs.join(',')} --outputs ${c.outputs.join(',')}`, async () => {
      const m = await loadModel(join(REAL, c.dir, c.meta), { inputs: c.inputs, outputs: c.outputs, inputShapes: c.shapes });
      expect(m.metadata['tf.graph_error']).toBeUndefined();
      const feeds = randomInputs(m.graph.inputs, { seed: 9 });
      const ours = await run(m, feeds);
      const graph = decodeMetaGraph(readFileSync(join(REAL, c.dir, c.meta))).graph;
      const binding = bindVariables(graph, readCheckpoint(openSource(join(REAL, c.dir, c.index)), c.index));
      const frozen = freezeSavedModelGraph(graph, binding.values, c.outputs);
      const oracleFeeds = Object.fromEntries(c.inputs.map((ref, i) => [ref, feeds.get(m.graph.inputs[i]!.name)!]));
      const want = await runTfjsGraphOracle(frozen.graph, new Map(), oracleFeeds, frozen.outputs);
      m.graph.outputs.forEach((o, i) => expectClose(ours.outputs.get(o.name)!, want[i]!, `${c.dir} ${o.name}`));
      await expectOnnxAndTfjs(m, feeds, want, c.dir);
    });
  }
});

describe.skipIf(!existsSync(REAL))('a Keras LSTM calling its GPU implementation (CudnnRNN inside) converts the same', () => {
  it('tfnet lstm_from_sequential with every standard_lstm call pointed at gpu_lstm_with_fallback', async () => {
    const path = join(REAL, 'tfnet-keras-savedmodel-lstm_from_sequential');
    const sm = readSavedModel(openSource(path));
    const req = sm.request;
    const gpu = req.graph.functions.find((f) => /^__inference_gpu_lstm_with_fallback_\d+$/.test(f.name))!;
    expect(gpu.nodes.some((n) => n.op === 'CudnnRNN')).toBe(true);
    const retarget = (n: TfNode): TfNode => (/standard_lstm/.test(n.attr.f?.func?.name ?? '') ? { ...n, attr: { ...n.attr, f: { func: { name: gpu.name, attr: {} } } } } : n);
    const graph: TfGraph = { ...req.graph, nodes: req.graph.nodes.map(retarget), functions: req.graph.functions.map((f) => ({ ...f, nodes: f.nodes.map(retarget) })) };
    const ir = importTfGraph(graph, { variables: req.variables, inputs: req.inputs, outputs: req.outputs, inputNames: req.inputNames, outputNames: req.outputNames });
    const m = new Model(ir, { format: 'tf-savedmodel' });
    m.pendingPasses = true;
    expect(m.graph.findNodesByOp('LSTM')).toHaveLength(1);
    const feeds = randomInputs(m.graph.inputs, { seed: 3, dims: { batch: 3 } });
    const ours = await run(m, feeds);
    // The oracle runs the unchanged graph (standard_lstm's While loop).
    const frozen = freezeSavedModelGraph(req.graph, sm.binding.values, req.outputs!);
    const want = await runTfjsGraphOracle(frozen.graph, new Map(), { [req.inputs![0]!]: feeds.get(m.graph.inputs[0]!.name)! }, frozen.outputs);
    expectClose(ours.outputs.get(m.graph.outputs[0]!.name)!, want[0]!, 'via gpu_lstm_with_fallback');
  });
});
