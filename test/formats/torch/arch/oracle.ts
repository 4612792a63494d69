/**
 * Shared checks for graphs built from PyTorch files: run with our Session, write as ONNX and run
 * with onnxruntime-node, validate with the ONNX checker; and the extra torch models that
 * make_models.py writes with Debian's python3-torch.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Model } from '../../../../src/ir/graph.js';
import type { Tensor } from '../../../../src/ir/tensor.js';
import { saveModel } from '../../../../src/formats/registry.js';
import { readNpy } from '../../../../src/formats/npy/npy.js';
import { Session } from '../../../../src/runtime/session.js';
import { runWithOnnxRuntime } from '../../../../src/runtime/onnxruntime.js';
import { compareTensors, type OutputReport } from '../../../../src/runtime/compare.js';
import { PY, ROOT, TORCH_FIXTURES, hasPython, onnxCheck } from '../../../helpers/cli.js';

export { TORCH_FIXTURES, ROOT };
export const ARCH_FIXTURES = join(ROOT, 'fixtures', 'torch', 'arch');
export const SHARED_MODELS = ['mnist_v0', 'mnist_v1', 'mnist_v2_cnn', 'mlp_64_16', 'conv_bn_net'];
export const EXTRA_MODELS = ['pool_net', 'seq_net', 'resnet_like'];

export const HAS_ONNX_CHECKER = hasPython('onnx');
if (!HAS_ONNX_CHECKER) console.warn('python3-onnx is not installed: skipping onnx.checker checks');

export interface Case {
  input: Tensor;
  output: Tensor;
}

export function readCase(dir: string): Case {
  return { input: readNpy(readFileSync(join(dir, 'input.npy'))), output: readNpy(readFileSync(join(dir, 'output.npy'))) };
}

/** Runs the model's graph with our runtime on the case input; compares with atol (rtol 0). */
export async function sessionReport(model: Model, c: Case, atol: number): Promise<OutputReport> {
  const s = await Session.create(model);
  try {
    const out = await s.run(new Map([[model.graph.inputs[0]!.name, c.input]]));
    return compareTensors('output', [...out.values()][0]!, c.output, { atol, rtol: 0 });
  } finally {
    s.dispose();
  }
}

/** Writes the model as ONNX, runs it in onnxruntime-node, checks it with onnx.checker (when installed). */
export async function onnxReport(model: Model, c: Case, atol: number): Promise<{ report: OutputReport; checker: string; file: string }> {
  const file = join(mkdtempSync(join(tmpdir(), 'mconv-torch-graph-')), 'model.onnx');
  await saveModel(model, file, { format: 'onnx' });
  const outs = await runWithOnnxRuntime(file, new Map([[model.graph.inputs[0]!.name, c.input]]));
  const report = compareTensors('output', [...outs.values()][0]!, c.output, { atol, rtol: 0 });
  return { report, checker: HAS_ONNX_CHECKER ? onnxCheck(file) : '', file };
}

let extraDir: string | null | undefined;

/** Writes the extra models with python3-torch once per test file; undefined when torch is missing. */
export function extraModels(): string | undefined {
  if (extraDir === undefined) {
    if (!hasPython('torch', 'numpy')) {
      console.warn('python3-torch is not installed: skipping the extra torch models');
      extraDir = null;
    } else {
      const dir = mkdtempSync(join(tmpdir(), 'mconv-torch-extra-'));
      execFileSync(PY, [join(ROOT, 'test', 'formats', 'torch', 'arch', 'make_models.py'), dir], { stdio: 'pipe' });
      extraDir = dir;
    }
  }
  return extraDir ?? undefined;
}

export const hasSharedFixtures = existsSync(TORCH_FIXTURES);
if (!hasSharedFixtures) console.warn(`skipping the shared torch fixtures: ${TORCH_FIXTURES} is absent`);
