/**
 * The hostile pickle corpus (fixtures/torch/hostile, made by its make.py): every file must be refused
 * with a clear one-line message and exit code 3, fast, without running anything or writing a file.
 * Each file tries `touch /tmp/mconv-pwned`.
 */
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MconvError } from '../../../src/errors.js';
import { loadModel } from '../../../src/formats/registry.js';
import { mconv } from '../../helpers/cli.js';
import { HOSTILE, SHARED_TORCH } from './helpers.js';

const PWNED = '/tmp/mconv-pwned';
const expected = JSON.parse(readFileSync(join(HOSTILE, 'expected.json'), 'utf8')) as Record<string, string>;

beforeAll(() => rmSync(PWNED, { force: true }));
afterAll(() => expect(existsSync(PWNED)).toBe(false));

describe('hostile corpus, in process', () => {
  it('the corpus is all there', async () => {
    const files = readdirSync(HOSTILE).filter((f) => f.endsWith('.pth'));
    expect(files.sort()).toEqual(Object.keys(expected).sort());
    expect(files.length).toBeGreaterThanOrEqual(45);
  });

  for (const [file, text] of Object.entries(expected)) {
    it(`${file} is refused (${text})`, async () => {
      const t0 = performance.now();
      let err: unknown;
      try {
        await loadModel(join(HOSTILE, file));
      } catch (e) {
        err = e;
      }
      const ms = performance.now() - t0;
      expect(err).toBeInstanceOf(MconvError);
      const e = err as MconvError;
      expect(e.exitCode).toBe(3);
      expect(e.oneLine()).toContain(text);
      expect(e.oneLine()).not.toMatch(/\n/);
      expect(e.file).toBe(join(HOSTILE, file));
      expect(ms).toBeLessThan(500);
      expect(existsSync(PWNED)).toBe(false);
    });
  }
});

describe('hostile corpus and whole-model pickles, through the CLI', () => {
  const sample = ['os_system.pth', 'legacy_os_system.pth', 'deep_lists.pth', 'huge_storage.pth', 'zip_bomb.pth', 'truncated_zip.pth'];
  for (const file of sample) {
    it(`inspect ${file}: exit 3, one line, nothing written`, async () => {
      const r = (await mconv(['inspect', join(HOSTILE, file)]));
      expect(r.code).toBe(3);
      expect(r.stdout).toBe('');
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toContain(expected[file]!);
      expect(existsSync(PWNED)).toBe(false);
    });
  }

  it('convert of a hostile file creates no output file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mconv-hostile-'));
    try {
      const r = (await mconv(['convert', join(HOSTILE, 'os_system.pth'), '--to', 'safetensors', '-o', join(dir, 'out.safetensors')]));
      expect(r.code).toBe(3);
      expect(readdirSync(dir)).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  const full = join(SHARED_TORCH, 'mnist_v2_cnn', 'full_model.pth');
  it.skipIf(!existsSync(full))('torch.save(model) is refused with the state_dict advice (exit 3, one line)', async () => {
    const r = (await mconv(['inspect', full]));
    expect(r.code).toBe(3);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('__main__.MNISTModelV2');
    expect(lines[0]).toContain('state_dict()');
    expect(lines[0]).toContain('--arch');
  });
});
