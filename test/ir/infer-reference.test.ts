/**
 * Shape inference against data we did not write:
 *  - the ONNX backend test cases (libonnx-testdata): every case whose ops we cover is loaded, its
 *    recorded output shapes are ignored, inference runs from the inputs and weights, and the
 *    result is compared with the dims of output_N.pb;
 *  - ONNX's own shape inference (python3-onnx) on the torch fixtures and the pytorch suites, for
 *    every intermediate value.
 * Data-dependent outputs (NonZero, Unique, NonMaxSuppression, Loop trip counts, shapes read from
 * graph inputs) cannot be exact without input data: they must come out symbolic, never wrong.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeTensorProto } from '../../src/formats/onnx/tensor-proto.js';
import { loadModel } from '../../src/formats/registry.js';
import { inferShapes } from '../../src/ir/infer.js';
import { getSchema } from '../../src/ir/ops/registry.js';
import type { Tensor } from '../../src/ir/tensor.js';
import { ONNX_DATA, TORCH_FIXTURES, caseDirs, compareDims, elemDType, onnxInferShapes, opsOf } from './reference-helpers.js';

interface SuiteResult {
  cases: number;
  exact: number;
  wrong: string[];
  unknownOps: number;
  /** Cases whose data are sequences or optionals rather than tensors. */
  nonTensor: number;
}

function readTensor(file: string): Tensor | undefined {
  try {
    return decodeTensorProto(readFileSync(file));
  } catch {
    return undefined; // a SequenceProto or OptionalProto
  }
}

async function runSuite(suite: string, withInputValues: boolean): Promise<SuiteResult> {
  const res: SuiteResult = { cases: 0, exact: 0, wrong: [], unknownOps: 0, nonTensor: 0 };
  for (const dir of caseDirs(suite)) {
    const name = path.basename(dir);
    let model;
    try {
      model = await loadModel(path.join(dir, 'model.onnx'));
    } catch {
      continue; // the reader's own tests cover what it refuses (opsets it cannot upgrade)
    }
    const g = model.graph;
    if ([...opsOf(g)].some((op) => !getSchema(op))) {
      res.unknownOps++;
      continue;
    }
    const ds = path.join(dir, 'test_data_set_0');
    const expected = g.outputs.map((_, i) => path.join(ds, `output_${i}.pb`)).map((f) => (existsSync(f) ? readTensor(f) : undefined));
    const inputs = g.inputs.map((_, i) => path.join(ds, `input_${i}.pb`)).map((f) => (existsSync(f) ? readTensor(f) : undefined));
    if (expected.some((t) => !t) || inputs.some((t) => !t)) {
      res.nonTensor++;
      continue;
    }
    res.cases++;
    const inputValues = new Map<string, Tensor>();
    if (withInputValues) g.inputs.forEach((v, i) => inputValues.set(v.name, inputs[i]!));
    inferShapes(g, { reset: true, inputValues });
    let exact = true;
    g.outputs.forEach((v, i) => {
      const want = expected[i]!;
      // numpy has no bfloat16: the test data stores bfloat16 results as uint16 tensors.
      const dtypeOk = v.dtype === want.dtype || (v.dtype === 'bfloat16' && want.dtype === 'uint16');
      const c = compareDims(v.shape, want.shape);
      if (!dtypeOk || c === 'wrong') {
        res.wrong.push(`${name} output ${i}: inferred ${v.dtype}[${v.shape}], expected ${want.dtype}[${want.shape}]`);
      }
      if (!dtypeOk || c !== 'exact') exact = false;
    });
    if (exact) res.exact++;
  }
  return res;
}

const haveData = existsSync(path.join(ONNX_DATA, 'node'));
if (!haveData) console.warn(`skipping ONNX backend shape tests: ${ONNX_DATA} is absent (Debian package libonnx-testdata)`);

describe.skipIf(!haveData)('inferShapes on the ONNX backend test cases', () => {
  it('node cases: exact from inputs and weights alone, never wrong', async () => {
    const r = await runSuite('node', false);
    console.log(`node suite, no input data: ${r.exact}/${r.cases} cases infer exactly (skipped: ${r.unknownOps} with ops outside the IR, ${r.nonTensor} with sequence/optional data)`);
    expect(r.wrong).toEqual([]);
    expect(r.cases).toBeGreaterThan(850);
    expect(r.exact).toBeGreaterThanOrEqual(756);
  });

  it('node cases: exact for all but data-dependent ops when graph input values are known', async () => {
    const r = await runSuite('node', true);
    console.log(`node suite, with input data: ${r.exact}/${r.cases} cases infer exactly`);
    expect(r.wrong).toEqual([]);
    expect(r.exact).toBeGreaterThanOrEqual(856);
  });

  for (const suite of ['pytorch-converted', 'pytorch-operator', 'simple']) {
    it(`${suite} cases`, async () => {
      const r = await runSuite(suite, suite === 'simple');
      console.log(`${suite}: ${r.exact}/${r.cases} cases infer exactly`);
      expect(r.wrong).toEqual([]);
      expect(r.cases).toBeGreaterThan(0);
      expect(r.exact).toBe(r.cases);
    });
  }
});

const torchModels = existsSync(TORCH_FIXTURES)
  ? readdirSync(TORCH_FIXTURES).map((d) => path.join(TORCH_FIXTURES, d, 'model.onnx')).filter((p) => existsSync(p))
  : [];
const suiteModels = [...caseDirs('pytorch-converted'), ...caseDirs('pytorch-operator'), ...caseDirs('node')].map((d) =>
  path.join(d, 'model.onnx'),
);
const reference = onnxInferShapes([...torchModels, ...suiteModels]);
if (!reference) console.warn('skipping the comparison with onnx.shape_inference: /usr/bin/python3 with onnx is unavailable');

describe.skipIf(!reference || torchModels.length === 0)('inferShapes agrees with onnx.shape_inference', () => {
  /** Compares every value ONNX infers in the main graph; returns counts and disagreements. */
  async function compare(models: string[]) {
    const tally = { exact: 0, more: 0, less: [] as string[], wrong: [] as string[], models: 0 };
    for (const p of models) {
      let model;
      try {
        model = await loadModel(p);
      } catch {
        continue;
      }
      const g = model.graph;
      if ([...opsOf(g)].some((op) => !getSchema(op))) continue;
      tally.models++;
      // Like the python side: forget the main graph's recorded intermediate and output types.
      for (const n of g.nodes) for (const o of n.outputs) { o.shape = undefined; o.dtype = undefined; }
      const { types } = inferShapes(g);
      for (const [name, ref] of Object.entries(reference![p] ?? {})) {
        const v = g.value(name);
        const t = v ? types.get(v) : undefined;
        const where = `${path.basename(path.dirname(p))}: ${name} ours ${t?.dtype}[${t?.shape}] onnx ${elemDType(ref.elem)}[${ref.dims}]`;
        if (!t || (ref.elem !== 0 && t.dtype !== elemDType(ref.elem))) {
          tally.wrong.push(where);
          continue;
        }
        const c = compareDims(t.shape, ref.dims);
        if (c === 'wrong') tally.wrong.push(where);
        else if (c === 'less') tally.less.push(where);
        else if (c === 'more') tally.more++;
        else tally.exact++;
      }
    }
    return tally;
  }

  it('on the torch fixtures (every intermediate value, symbolic batch included)', async () => {
    const t = await compare(torchModels);
    expect(t.models).toBe(torchModels.length);
    expect(t.wrong).toEqual([]);
    expect(t.less).toEqual([]);
    expect(t.exact).toBeGreaterThan(20);
    // The dynamic batch keeps its name through the whole network.
    const m = await loadModel(path.join(TORCH_FIXTURES, 'conv_bn_net', 'model.onnx'));
    for (const n of m.graph.nodes) for (const o of n.outputs) o.shape = undefined;
    inferShapes(m.graph);
    expect(m.graph.outputs[0]!.shape).toEqual(['batch', 5]);
  });

  it('on the ONNX pytorch and node suites', async () => {
    const t = await compare(suiteModels);
    console.log(`vs onnx.shape_inference: ${t.exact} values equal, ${t.more} known better by us, ${t.less.length} less, ${t.wrong.length} wrong, over ${t.models} models`);
    expect(t.wrong).toEqual([]);
    expect(t.less).toEqual([]);
    expect(t.exact).toBeGreaterThan(2000);
  });
});
