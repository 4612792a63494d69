/**
 * The TF SavedModels of ../shared/fixtures/real that convert, against tfjs-converter running the
 * SavedModel's own graph (its calls inlined and its variables set to the checkpoint's values by a
 * test helper, tf-frozen-savedmodel.ts): mconv's outputs on the same random inputs agree within
 * 1e-4. The Keras LSTM SavedModel runs its While loop in tfjs-converter and its ONNX LSTM node in
 * mconv. TF1 checkpoints with their `.meta` graph are checked the same way.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { run } from '../../src/api.js';
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
import { runTfjsGraphOracle } from '../helpers/tf-oracle.js';
import { SHARED } from '../helpers/cli.js';

const REAL = join(SHARED, 'real');
if (!existsSync(REAL)) console.log(`skipped: ${REAL} is absent`);

const CASES: { dir: string; shapes?: Record<string, (number | string)[]>; lstm?: boolean; signature?: string }[] = [
  { dir: 'tf2onnx-regression/saved_model', shapes: { X: [3] } },
  { dir: 'tfserving-half-plus-two-tf1-savedmodel' },
  { dir: 'tfserving-half-plus-two-tf2-savedmodel' },
  { dir: 'tfserving-matrix-half-plus-two-savedmodel' },
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
    });
  }
});
