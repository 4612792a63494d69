import { describe, expect, it, beforeAll } from 'vitest';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync, existsSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { mconv, ROOT, PY, hasPython } from '../helpers/cli.js';
import { fileSafeNames } from '../../src/cli/common.js';
import { readNpy } from '../../src/formats/npy/npy.js';
import { compareTensors } from '../../src/runtime/compare.js';

const TINY = join(ROOT, 'fixtures', 'onnx', 'tiny_cnn');

describe('CLI contract', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'mconv-cli-'));
  });

  it('inspect --json has the keys outside checks rely on', async () => {
    const r = (await mconv(['inspect', join(TINY, 'model.onnx'), '--json']));
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    for (const k of ['format', 'inputs', 'outputs', 'nodes', 'weights', 'parameters']) expect(j).toHaveProperty(k);
    expect(j.format).toBe('onnx');
    expect(j.inputs[0]).toMatchObject({ name: 'image', dtype: 'float32', shape: ['batch', 1, 28, 28] });
    // Conv 1->8 3x3 (80) + BN folded or not + Conv 8->16 3x3 (1168) + Linear 16->10 (170)
    const conv = j.nodes.filter((n: { op: string }) => n.op === 'Conv');
    expect(conv.length).toBe(2);
    expect(j.parameters).toBe(j.weights.reduce((a: number, w: { shape: number[] }) => a + w.shape.reduce((x, y) => x * y, 1), 0));
    expect(j.weights.every((w: { name: string; dtype: string; shape: number[] }) => w.name && w.dtype && Array.isArray(w.shape))).toBe(true);
  });

  it('inspect prints a table with totals', async () => {
    const r = (await mconv(['inspect', join(TINY, 'model.onnx')]));
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Format: onnx/);
    expect(r.stdout).toMatch(/image\s+float32 \(batch, 1, 28, 28\)/);
    expect(r.stdout).toMatch(/Total params: [\d,]+/);
  });

  it('run writes one .npy per output matching torch', async () => {
    const out = join(dir, 'run');
    const r = (await mconv(['run', join(TINY, 'model.onnx'), '--input', join(TINY, 'input.npy'), '--output-dir', out]));
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const got = readNpy(readFileSync(join(out, 'probabilities.npy')));
    const want = readNpy(readFileSync(join(TINY, 'output.npy')));
    const rep = compareTensors('probabilities', got, want, { atol: 1e-4, rtol: 1e-3 });
    expect(rep.ok, JSON.stringify(rep)).toBe(true);
  });

  it.skipIf(!hasPython('numpy'))('run takes .npz inputs written by numpy', async () => {
    const npz = join(dir, 'inputs.npz');
    execFileSync(PY, ['-c', 'import numpy as np, sys; np.savez(sys.argv[2], image=np.load(sys.argv[1]))', join(TINY, 'input.npy'), npz]);
    const out = join(dir, 'npz-run');
    const r = (await mconv(['run', join(TINY, 'model.onnx'), '--input', npz, '--output-dir', out]));
    expect(r.code, r.stderr).toBe(0);
    const rep = compareTensors('p', readNpy(readFileSync(join(out, 'probabilities.npy'))), readNpy(readFileSync(join(TINY, 'output.npy'))), { atol: 1e-4, rtol: 1e-3 });
    expect(rep.ok).toBe(true);
  });

  it('output file names are made file-safe and distinct', async () => {
    const m = fileSafeNames(['a/b:0', 'a_b_0', '../x', 'CON']);
    expect([...m.values()]).toEqual(['a_b_0', 'a_b_0_1', '__x', 'CON']);
  });

  it('run without inputs uses seeded random inputs and saves them', async () => {
    const out = join(dir, 'rand');
    const r = (await mconv(['run', join(TINY, 'model.onnx'), '--output-dir', out, '--json']));
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.randomInputs).toBe(true);
    expect(readdirSync(out).sort()).toEqual(['image.input.npy', 'probabilities.npy']);
    const again = (await mconv(['run', join(TINY, 'model.onnx'), '--json']));
    expect(JSON.parse(again.stdout).outputs[0].mean).toBeCloseTo(j.outputs[0].mean, 6);
  });

  it('verify exits 0 for a model against itself and 1 against a different model', async () => {
    const m = join(TINY, 'model.onnx');
    expect((await mconv(['verify', m, m])).code).toBe(0);
    const other = join(ROOT, '..', 'shared', 'fixtures', 'torch', 'mnist_v2_cnn', 'model.onnx');
    if (existsSync(other)) {
      const r = (await mconv(['verify', m, other, '--json']));
      expect(r.code).toBe(1);
      expect(JSON.parse(r.stdout).ok).toBe(false);
    }
  });

  it('convert --verify checks the written file against the source with onnxruntime-node', async () => {
    const out = join(dir, 'verified.onnx');
    const r = (await mconv(['convert', join(TINY, 'model.onnx'), '--to', 'onnx', '-o', out, '--verify', '--json']));
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.verify.checker).toBe('onnxruntime-node');
    expect(j.verify.ok).toBe(true);
    expect(j.verify.outputs[0].elements).toBe(10);
  });

  it('the optional tensorflow backend is a clear usage error when tfjs-node is absent', async () => {
    let present = true;
    try {
      await import('@tensorflow/tfjs-node' as string);
    } catch {
      present = false;
    }
    const r = (await mconv(['run', join(TINY, 'model.onnx'), '--backend', 'tensorflow']));
    if (present) expect(r.code).toBe(0);
    else {
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/tfjs-node/);
      expect(r.stderr.trim().split('\n').length).toBe(1);
    }
  });

  describe('bad input: one clear line, exit 3 (2 for usage), nothing written', () => {
    const cases: [string, () => string, number, RegExp][] = [
      ['missing file', () => join(dir, 'nope.onnx'), 3, /not found/i],
      ['random bytes', () => { const p = join(dir, 'random.onnx'); writeFileSync(p, Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 2654435761) >>> 24))); return p; }, 3, /onnx/i],
      ['truncated file', () => { const p = join(dir, 'trunc.onnx'); const b = readFileSync(join(TINY, 'model.onnx')); writeFileSync(p, b.subarray(0, Math.floor(b.length * 0.6))); return p; }, 3, /truncat|unexpected end|corrupt|past the end/i],
      ['unknown extension', () => { const p = join(dir, 'model.xyz'); writeFileSync(p, 'hello world, not a model\n'); return p; }, 3, /xyz|unknown|not a model/i],
    ];
    for (const [what, make, code, re] of cases) {
      for (const cmd of ['inspect', 'run', 'convert']) {
        it(`${what}: ${cmd}`, async () => {
          const p = make();
          const outDir = join(dir, `out-${what.replace(/ /g, '_')}-${cmd}`);
          const args = cmd === 'inspect' ? ['inspect', p] : cmd === 'run' ? ['run', p, '--output-dir', outDir] : ['convert', p, '--to', 'onnx', '-o', join(outDir, 'x.onnx')];
          const before = readdirSync(dir).sort();
          const r = (await mconv(args));
          expect(r.code).toBe(code);
          expect(r.stdout).toBe('');
          const lines = r.stderr.trim().split('\n');
          expect(lines.length).toBe(1);
          expect(lines[0]).toMatch(/^mconv: error: /);
          expect(lines[0]).toMatch(re);
          expect(r.stderr).not.toMatch(/\n\s+at /);
          expect(existsSync(outDir)).toBe(false);
          expect(readdirSync(dir).sort()).toEqual(before);
        });
      }
    }
    it('usage errors exit 2', async () => {
      expect((await mconv(['inspect'])).code).toBe(2);
      expect((await mconv(['frobnicate', 'x'])).code).toBe(2);
      expect((await mconv(['run', join(TINY, 'model.onnx'), '--backend', 'nosuch'])).code).toBe(2);
    });
    it('convert never overwrites its input', async () => {
      const p = join(dir, 'same.onnx');
      copyFileSync(join(TINY, 'model.onnx'), p);
      const before = readFileSync(p);
      const r = (await mconv(['convert', p, '--to', 'onnx', '-o', p]));
      expect(r.code).toBe(2);
      expect(readFileSync(p).equals(before)).toBe(true);
    });
  });
});
