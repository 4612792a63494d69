/**
 * The TF SavedModels of ../shared/fixtures/real that convert, against tfjs-converter running the
 * SavedModel's own graph (its calls inlined and its variables set to the checkpoint's values by a
 * test helper, tf-frozen-savedmodel.ts): mconv's outputs on the same random inputs agree within
 * 1e-4. The Keras LSTM SavedModel runs its While loop in tfjs-converter and its ONNX LSTM node in
 * mconv.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { run } from '../../src/api.js';
import { loadModel } from '../../src/formats/registry.js';
import { readSavedModel } from '../../src/formats/tf/saved-model.js';
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
