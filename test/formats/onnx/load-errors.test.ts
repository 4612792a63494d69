import { describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { detectFormat, loadModel, saveModel } from '../../../src/formats/registry.js';
import { looksLikeOnnx } from '../../../src/formats/onnx/sniff.js';
import { openSource } from '../../../src/io/files.js';
import { MconvError } from '../../../src/errors.js';
import { ONNX_FIXTURES, ONNX_TESTDATA, TORCH_FIXTURES } from './helpers.js';

const tmp = (): string => mkdtempSync(join(tmpdir(), 'mconv-load-'));

async function loadError(path: string): Promise<MconvError> {
  try {
    await loadModel(path);
  } catch (e) {
    expect(e).toBeInstanceOf(MconvError);
    return e as MconvError;
  }
  throw new Error(`loading ${path} did not fail`);
}

/** Deterministic pseudo-random bytes. */
function randomBytes(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    out[i] = s & 0xff;
  }
  return out;
}

const SAMPLE = join(ONNX_FIXTURES, 'dtypes_raw.onnx');

describe('loading files that are not (complete) models', () => {
  it('a missing file: unreadable, "file not found"', async () => {
    const err = await loadError(join(tmp(), 'nope.onnx'));
    expect(err.kind).toBe('unreadable');
    expect(err.oneLine()).toMatch(/nope\.onnx: file not found/);
  });

  it('an unknown extension with unknown content: unsupported, listing the formats', async () => {
    const f = join(tmp(), 'notes.txt');
    writeFileSync(f, 'hello, this is not a model\n');
    const err = await loadError(f);
    expect(err.kind).toBe('unsupported');
    expect(err.oneLine()).toMatch(/notes\.txt: not a model file mconv can read \(tried: ONNX.*\)\. supported: ONNX \(\.onnx\)/);
  });

  it('random bytes named .onnx: unreadable, saying the content is not ONNX', async () => {
    const f = join(tmp(), 'random.onnx');
    writeFileSync(f, randomBytes(5000, 7));
    const err = await loadError(f);
    expect(err.kind).toBe('unreadable');
    expect(err.oneLine()).toMatch(/random\.onnx \(onnx\): the file has a \.onnx extension but its content is not a valid ONNX file/);
  });

  it('an empty file and a folder', async () => {
    const d = tmp();
    writeFileSync(join(d, 'empty.onnx'), new Uint8Array(0));
    expect((await loadError(join(d, 'empty.onnx'))).oneLine()).toMatch(/the file is empty/);
    mkdirSync(join(d, 'folder'));
    expect((await loadError(join(d, 'folder'))).kind).toBe('unsupported');
  });

  it('a truncated ONNX file at any cut point: unreadable (truncated), never a raw exception', async () => {
    const whole = readFileSync(SAMPLE);
    const d = tmp();
    let truncatedReported = 0;
    const cuts = [...new Set([8, 16, 40, 100, 300, 700, 1000, 1500, whole.length - 40, whole.length - 5, whole.length - 1])];
    for (const cut of cuts) {
      const f = join(d, `cut${cut}.onnx`);
      writeFileSync(f, whole.subarray(0, cut));
      const err = await loadError(f);
      expect(err.kind, `cut at ${cut}`).toBe('unreadable');
      if (/truncated/.test(err.oneLine())) truncatedReported++;
    }
    expect(truncatedReported).toBe(cuts.length);
  });

  it('corrupted bytes inside a model: an MconvError, never a raw exception', async () => {
    const whole = new Uint8Array(readFileSync(SAMPLE));
    const d = tmp();
    for (let k = 0; k < 40; k++) {
      const bad = whole.slice();
      const noise = randomBytes(8, 100 + k);
      const at = 30 + ((k * 47) % (whole.length - 40));
      bad.set(noise, at);
      const f = join(d, `bad${k}.onnx`);
      writeFileSync(f, bad);
      try {
        const m = await loadModel(f);
        // some corruptions still parse (inside a weight): then reading every weight must work or fail cleanly
        for (const v of m.graph.initializers.values()) {
          const t = v.initializer!;
          if (t.dtype !== 'string') void t.bytes;
        }
      } catch (e) {
        expect(e, `corruption ${k} at ${at}`).toBeInstanceOf(MconvError);
      }
    }
  });
});

describe('format detection', () => {
  it('recognises ONNX files by content whatever their name', () => {
    const d = tmp();
    const f = join(d, 'model.bin');
    writeFileSync(f, readFileSync(SAMPLE));
    expect(detectFormat(openSource(f))).toMatchObject({ handler: { id: 'onnx' }, by: 'content' });
  });

  it('refuses random heads (no false positives in 20000 tries)', () => {
    let hits = 0;
    for (let i = 0; i < 20000; i++) if (looksLikeOnnx(randomBytes(256, i + 1))) hits++;
    expect(hits).toBe(0);
  });

  it('refuses heads of other formats', () => {
    const heads = [
      new TextEncoder().encode('{"format": "layers-model", "modelTopology": {}}'),
      Uint8Array.from([0x50, 0x4b, 0x03, 0x04, 0x14, 0, 0, 0, 8, 0]), // zip
      Uint8Array.from([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0]), // hdf5
      Uint8Array.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, 0x76, 0]), // npy
      Uint8Array.from([0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20]), // legacy torch pickle
    ];
    for (const h of heads) expect(looksLikeOnnx(h)).toBe(false);
  });

  it.skipIf(!existsSync(ONNX_TESTDATA))('recognises every backend test model and torch export', () => {
    const files = [join(ONNX_TESTDATA, 'node/test_abs/model.onnx'), join(ONNX_TESTDATA, 'pytorch-converted/test_Conv2d/model.onnx')];
    if (existsSync(TORCH_FIXTURES)) {
      for (const d of readdirSync(TORCH_FIXTURES)) if (existsSync(join(TORCH_FIXTURES, d, 'model.onnx'))) files.push(join(TORCH_FIXTURES, d, 'model.onnx'));
    }
    for (const d of readdirSync(join(ONNX_TESTDATA, 'node'))) files.push(join(ONNX_TESTDATA, 'node', d, 'model.onnx'));
    for (const f of files) expect(detectFormat(openSource(f))?.handler.id, f).toBe('onnx');
  });
});

describe('saving', () => {
  it('refuses an unknown output extension, the input path, and a missing folder, leaving nothing behind', async () => {
    const d = tmp();
    const src = join(d, 'in.onnx');
    writeFileSync(src, readFileSync(SAMPLE));
    const m = await loadModel(src);
    await expect(saveModel(m, join(d, 'out.xyz'))).rejects.toMatchObject({ kind: 'usage', message: expect.stringMatching(/cannot tell the output format/) });
    await expect(saveModel(m, src)).rejects.toMatchObject({ kind: 'usage', message: expect.stringMatching(/is the input file/) });
    await expect(saveModel(m, join(d, 'missing', 'out.onnx'))).rejects.toMatchObject({ kind: 'usage', message: expect.stringMatching(/folder does not exist/) });
    expect(readdirSync(d).sort()).toEqual(['in.onnx']);
    expect(await saveModel(m, join(d, 'out'), { format: 'onnx' })).toEqual([join(d, 'out')]);
  });
});
