/**
 * Shared pieces of the Keras reader tests: running a loaded model, comparing with expected
 * tensors, and the ONNX round trip (saveModel -> onnx.checker full_check -> onnxruntime-node).
 */
import { prepareModel } from '../../../src/ir/passes/index.js';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import type { Model } from '../../../src/ir/graph.js';
import { Tensor } from '../../../src/ir/tensor.js';
import { Session } from '../../../src/runtime/session.js';
import { compareTensors } from '../../../src/runtime/compare.js';
import { prng } from '../../../src/runtime/random-inputs.js';
import { saveModel } from '../../../src/formats/registry.js';
import { loadOnnxRuntime, runWithOnnxRuntime } from '../../../src/runtime/onnxruntime.js';

export const PY = '/usr/bin/python3';
export const REPO = join(import.meta.dirname, '..', '..', '..');
export const OWN = join(REPO, 'fixtures', 'keras');
export const REAL = join(REPO, '..', 'shared', 'fixtures', 'real');

export function pythonHas(modules: string): boolean {
  if (!existsSync(PY)) return false;
  try {
    execFileSync(PY, ['-c', `import ${modules}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Seeded uniform inputs for a model's inputs (symbolic dims set to `dims` or 2 for the batch). */
export function seededInputs(model: Model, seed = 11, lo = -1, hi = 1, dims: Record<string, number> = {}): Tensor[] {
  return model.graph.inputs.map((v, i) => {
    const shape = v.shape!.map((d, k) => (typeof d === 'number' ? d : dims[d] ?? (k === 0 ? 2 : 3)));
    const r = prng(seed + i);
    const n = shape.reduce((a, d) => a * d, 1);
    return Tensor.fromArray('float32', shape, Float32Array.from({ length: n }, () => lo + (hi - lo) * r()));
  });
}

/** Runs a model on inputs (in graph input order) with the mconv runtime; outputs in graph output order. */
/** Runs a model as `mconv run` does: the pending passes first (see prepareModel). */
export async function runModel(model: Model, inputs: Tensor[], backend = 'wasm'): Promise<Tensor[]> {
  prepareModel(model);
  const session = await Session.create(model, { backend });
  try {
    const feeds = new Map(model.graph.inputs.map((v, i) => [v.name, inputs[i]!]));
    const out = await session.run(feeds);
    return model.graph.outputs.map((o) => out.get(o.name)!);
  } finally {
    session.dispose();
  }
}

/** Expects every tensor to match (atol + rtol * |expected|). */
export function expectClose(actual: Tensor[], expected: Tensor[], label: string, atol = 1e-4, rtol = 1e-4): void {
  expect(actual.length, `${label}: number of outputs`).toBe(expected.length);
  actual.forEach((a, i) => {
    const r = compareTensors(`${label}#${i}`, a, expected[i]!, { atol, rtol });
    expect(r.problem, `${label} output ${i}: ${r.problem}`).toBeUndefined();
    expect(r.mismatches, `${label} output ${i}: max abs error ${r.maxAbsError} (got ${r.worstActual}, want ${r.worstExpected})`).toBe(0);
  });
}

/**
 * Writes the model as ONNX with saveModel, checks it with onnx.checker (full_check) and runs it in
 * onnxruntime-node; returns onnxruntime's outputs (graph output order), or undefined without ORT.
 */
export async function onnxRoundTrip(model: Model, inputs: Tensor[]): Promise<Tensor[] | undefined> {
  const dir = mkdtempSync(join(tmpdir(), 'mconv-keras-onnx-'));
  try {
    const path = join(dir, 'model.onnx');
    prepareModel(model);
    await saveModel(model, path);
    if (pythonHas('onnx')) {
      let err = '';
      try {
        execFileSync(PY, ['-c', 'import onnx,sys; onnx.checker.check_model(onnx.load(sys.argv[1]), full_check=True)', path], { stdio: 'pipe' });
      } catch (e) {
        err = String((e as { stderr?: Buffer }).stderr ?? e);
      }
      expect(err, 'onnx.checker').toBe('');
    } else {
      console.warn('python onnx not found: onnx.checker skipped');
    }
    if (!(await loadOnnxRuntime())) {
      console.warn('onnxruntime-node not found: ONNX run skipped');
      return undefined;
    }
    const feeds = new Map(model.graph.inputs.map((v, i) => [v.name, inputs[i]!]));
    const out = await runWithOnnxRuntime(path, feeds);
    const byPosition = [...out.values()];
    return model.graph.outputs.map((o, i) => out.get(o.name) ?? byPosition[i]!);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
