/**
 * The torch fixtures' ONNX exports: our runtime (wasm and cpu) against torch's recorded output,
 * and our ONNX writer's output against the ONNX checker and onnxruntime-node.
 */
import { describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mconv, hasPython, onnxCheck, TORCH_FIXTURES, ROOT } from '../helpers/cli.js';
import { readNpy } from '../../src/formats/npy/npy.js';
import { compareTensors } from '../../src/runtime/compare.js';
import { runWithOnnxRuntime } from '../../src/runtime/onnxruntime.js';

const dirs: string[] = [join(ROOT, 'fixtures', 'onnx', 'tiny_cnn')];
if (existsSync(TORCH_FIXTURES)) {
  for (const d of readdirSync(TORCH_FIXTURES)) if (existsSync(join(TORCH_FIXTURES, d, 'model.onnx'))) dirs.push(join(TORCH_FIXTURES, d));
} else {
  console.warn(`skipping the shared torch fixtures: ${TORCH_FIXTURES} is absent`);
}
const checker = hasPython('onnx');
if (!checker) console.warn('python3-onnx not installed: skipping onnx.checker checks');

describe.each(dirs)('%s', (dir) => {
  const model = join(dir, 'model.onnx');
  const want = readNpy(readFileSync(join(dir, 'output.npy')));
  for (const backend of ['wasm', 'cpu']) {
    it(`mconv run on ${backend} matches torch's output.npy (atol 1e-4, rtol 1e-3)`, async () => {
      const out = mkdtempSync(join(tmpdir(), 'mconv-run-'));
      const r = (await mconv(['run', model, '--input', join(dir, 'input.npy'), '--output-dir', out, '--backend', backend, '--json']));
      expect(r.code, r.stderr).toBe(0);
      const file = JSON.parse(r.stdout).outputs[0].file;
      const rep = compareTensors('out', readNpy(readFileSync(file)), want, { atol: 1e-4, rtol: 1e-3 });
      expect(rep.ok, JSON.stringify(rep)).toBe(true);
    });
  }
  it('convert --to onnx passes the checker and onnxruntime-node reproduces output.npy within 1e-5', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'mconv-conv-')), 'converted.onnx');
    const r = (await mconv(['convert', model, '--to', 'onnx', '-o', out]));
    expect(r.code, r.stderr).toBe(0);
    if (checker) expect(onnxCheck(out)).toBe('');
    const input = readNpy(readFileSync(join(dir, 'input.npy')));
    const outs = await runWithOnnxRuntime(out, new Map([[await firstInputName(out), input]]));
    const got = [...outs.values()][0]!;
    const rep = compareTensors('out', got, want, { atol: 1e-5, rtol: 1e-5 });
    expect(rep.ok, JSON.stringify(rep)).toBe(true);
  });
});

async function firstInputName(path: string): Promise<string> {
  const ort = await import('onnxruntime-node');
  const s = await ort.InferenceSession.create(path);
  const n = s.inputNames[0]!;
  await s.release();
  return n;
}
