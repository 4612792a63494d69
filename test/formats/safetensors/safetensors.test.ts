/**
 * safetensors: files laid out by Python (fixtures/torch/make.py writes them with struct + json, as
 * the reference implementation does) read back with torch's values; read -> write reproduces the
 * file byte for byte; torch state_dicts converted through saveModel keep every tensor's bytes, and
 * Python reads our output back with the same values; malformed headers are refused clearly.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MconvError } from '../../../src/errors.js';
import { loadModel, saveModel } from '../../../src/formats/registry.js';
import { readSafetensors, safetensorsHandler, writeSafetensors } from '../../../src/formats/safetensors/index.js';
import { readStateDict } from '../../../src/formats/torch/state-dict.js';
import { memorySourceFiles, openSource } from '../../../src/io/files.js';
import { Tensor } from '../../../src/ir/tensor.js';
import { OWN, PY, SHARED_TORCH, expectedTensors, hasTorch } from '../torch/helpers.js';

const ST = join(OWN, 'st');
const stManifest = JSON.parse(readFileSync(join(ST, 'expected.json'), 'utf8')) as Record<string, { tensors: { name: string; dtype: string; shape: number[]; key: string }[]; metadata: Record<string, string> | null }>;
const tmp = mkdtempSync(join(tmpdir(), 'mconv-st-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** A safetensors file from a header object and data bytes (for malformed cases). */
function craft(header: unknown, data: Uint8Array, rawHeader?: string): Uint8Array {
  const h = new TextEncoder().encode(rawHeader ?? JSON.stringify(header));
  const out = new Uint8Array(8 + h.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(h.length), true);
  out.set(h, 8);
  out.set(data, 8 + h.length);
  return out;
}

function refusal(bytes: Uint8Array): MconvError {
  try {
    readSafetensors(memorySourceFiles(bytes, 'bad.safetensors'));
  } catch (e) {
    expect(e).toBeInstanceOf(MconvError);
    return e as MconvError;
  }
  throw new Error('accepted');
}

describe('reading files laid out by Python', () => {
  for (const [name, info] of Object.entries(stManifest)) {
    it(`${name}.safetensors: names, dtypes, shapes, bytes, metadata`, async () => {
      const model = await loadModel(join(ST, `${name}.safetensors`));
      expect(model.source.format).toBe('safetensors');
      const want = expectedTensors(ST, name, Object.fromEntries(Object.entries(stManifest).map(([k, v]) => [k, v.tensors])));
      expect([...model.graph.initializers.keys()]).toEqual(want.map((w) => w.name));
      for (const w of want) {
        const t = model.graph.initializers.get(w.name)!.initializer!;
        expect(t.dtype, w.name).toBe(w.dtype);
        expect(t.shape, w.name).toEqual(w.shape);
        expect(Buffer.from(t.bytes).equals(Buffer.from(w.bytes)), w.name).toBe(true);
      }
      const meta = Object.fromEntries(Object.entries(model.metadata).filter(([k]) => k.startsWith('safetensors.meta.')).map(([k, v]) => [k.slice('safetensors.meta.'.length), v]));
      expect(meta).toEqual(info.metadata ?? {});
    });

    it(`${name}.safetensors: read then written again is byte for byte the same`, async () => {
      const original = readFileSync(join(ST, `${name}.safetensors`));
      const model = await loadModel(join(ST, `${name}.safetensors`));
      const out = join(tmp, `${name}.safetensors`);
      await saveModel(model, out);
      expect(Buffer.compare(readFileSync(out), original)).toBe(0);
    });
  }

  it('tensors are lazy zero-copy views of the bytes', () => {
    const bytes = new Uint8Array(readFileSync(join(ST, 'mixed.safetensors')));
    const c = readSafetensors(memorySourceFiles(bytes, 'mixed.safetensors'));
    const w = c.tensors.get('weight')!;
    expect(w.isMaterialised).toBe(false);
    expect(w.bytes.buffer).toBe(bytes.buffer);
    expect(w.bytes.byteOffset).toBe(c.dataStart + c.entries.find((e) => e.name === 'weight')!.begin);
  });

  it('sniffs by content', () => {
    const head = new Uint8Array(readFileSync(join(ST, 'mixed.safetensors'))).subarray(0, 4096);
    expect(safetensorsHandler.sniff(head, 'anything.bin')).toBe(true);
    expect(safetensorsHandler.sniff(new Uint8Array(readFileSync(join(OWN, 'dtypes.pth'))).subarray(0, 4096), 'x.pth')).toBe(false);
  });
});

describe('writing', () => {
  it('the header is padded to 8 bytes with spaces, tensors in order, names kept exactly', () => {
    const tensors: [string, Tensor][] = [
      ['__proto__', Tensor.fromArray('float32', [2], [1, 2])],
      ['a.b', Tensor.fromArray('int64', [1], [7n])],
      ['10', Tensor.fromArray('bool', [3], [true, false, true])],
    ];
    const bytes = writeSafetensors(tensors);
    const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect((8 + n) % 8).toBe(0);
    const header = new TextDecoder().decode(bytes.subarray(8, 8 + n));
    expect(header).toBe('{"__proto__":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"a.b":{"dtype":"I64","shape":[1],"data_offsets":[8,16]},"10":{"dtype":"BOOL","shape":[3],"data_offsets":[16,19]}}'.padEnd(n, ' '));
    const back = readSafetensors(memorySourceFiles(bytes));
    expect([...back.tensors.keys()]).toEqual(['__proto__', 'a.b', '10']);
    expect([...back.tensors.get('10')!.toArray()]).toEqual([1, 0, 1]);
  });

  it('refuses dtypes safetensors cannot hold, naming the tensor', () => {
    const s = Tensor.fromStrings([1], ['x'], 's');
    expect(() => writeSafetensors([['names', s]])).toThrow(/safetensors cannot hold string tensors \(tensor "names"\)/);
    const c = Tensor.fromBytes('complex128', [1], new Uint8Array(16));
    expect(() => writeSafetensors([['z', c]])).toThrow(/complex128/);
  });
});

describe('refusing malformed files', () => {
  const f32 = new Uint8Array(8);
  const cases: [string, Uint8Array, RegExp][] = [
    ['shorter than 8 bytes', new Uint8Array(5), /shorter than the 8-byte/],
    ['header length past the end', (() => { const b = new Uint8Array(16); new DataView(b.buffer).setBigUint64(0, 1000n, true); return b; })(), /runs past the end/],
    ['header not JSON', craft(null, f32, '{"a": nope}'), /not valid JSON/],
    ['header an array', craft(null, f32, '[1,2]   '), /not a JSON object/],
    ['unknown dtype', craft({ a: { dtype: 'Q9', shape: [2], data_offsets: [0, 8] } }, f32), /unknown tensor dtype "Q9"/],
    ['fp8 dtype', craft({ a: { dtype: 'F8_E4M3', shape: [8], data_offsets: [0, 8] } }, f32), /F8_E4M3 is not supported/],
    ['size mismatch', craft({ a: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, f32), /needs 12 bytes but data_offsets give 8/],
    ['offsets past the data', craft({ a: { dtype: 'F32', shape: [4], data_offsets: [0, 16] } }, f32), /run past the end of the data/],
    ['overlap', craft({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }, f32), /overlap/],
    ['hole', craft({ a: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }, f32), /belong to no tensor/],
    ['trailing bytes', craft({ a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }, f32), /tensors use 4/],
    ['negative shape', craft({ a: { dtype: 'F32', shape: [-2], data_offsets: [0, 8] } }, f32), /non-negative integers/],
    ['metadata not strings', craft({ __metadata__: { a: 1 }, t: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } }, f32), /not a string/],
    ['10^12 elements claimed', craft({ a: { dtype: 'F32', shape: [1000000, 1000000], data_offsets: [0, 8] } }, f32), /needs 4000000000000 bytes/],
  ];
  for (const [name, bytes, re] of cases) {
    it(name, () => {
      expect(refusal(bytes).oneLine()).toMatch(re);
    });
  }
});

const sharedModels = existsSync(SHARED_TORCH) ? readdirSync(SHARED_TORCH, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name) : [];
if (!sharedModels.length) console.log(`skipping torch -> safetensors on shared fixtures: ${SHARED_TORCH} is absent`);

describe.skipIf(!sharedModels.length)('torch state_dict -> safetensors through saveModel', () => {
  for (const m of sharedModels) {
    it(`${m}: every tensor's bytes survive`, async () => {
      const src = join(SHARED_TORCH, m, 'state_dict.pth');
      const model = await loadModel(src);
      const out = join(tmp, `${m}.safetensors`);
      await saveModel(model, out, { format: 'safetensors' });
      const sd = readStateDict(openSource(src));
      const back = readSafetensors(openSource(out));
      expect([...back.tensors.keys()]).toEqual([...sd.tensors.keys()]);
      for (const [k, t] of sd.tensors) {
        const b = back.tensors.get(k)!;
        expect(b.dtype).toBe(t.dtype);
        expect(b.shape).toEqual(t.shape);
        expect(Buffer.from(b.bytes).equals(Buffer.from(t.bytes)), k).toBe(true);
      }
      expect(back.metadata?.get('format')).toBe('pt');
    });
  }

  it.skipIf(!hasTorch())('Python reads our safetensors with the values torch saved', async () => {
    const src = join(SHARED_TORCH, sharedModels[0]!, 'state_dict.pth');
    const out = join(tmp, 'check.safetensors');
    await saveModel(await loadModel(src), out);
    const script = String.raw`
import json, struct, sys, numpy as np, torch
path, src = sys.argv[1], sys.argv[2]
b = open(path, 'rb').read()
n = struct.unpack('<Q', b[:8])[0]
h = json.loads(b[8:8 + n])
assert (8 + n) % 8 == 0
sd = torch.load(src)
codes = {'F32': np.float32, 'I64': np.int64}
names = [k for k in h if k != '__metadata__']
assert names == list(sd.keys()), (names, list(sd.keys()))
for k in names:
    e = h[k]
    s, t = e['data_offsets']
    arr = np.frombuffer(b[8 + n + s:8 + n + t], dtype=codes[e['dtype']]).reshape(e['shape'])
    assert np.array_equal(arr, sd[k].numpy()), k
print('ok', len(names))
`;
    expect(execFileSync(PY, ['-c', script, out, src], { encoding: 'utf8' }).trim()).toMatch(/^ok \d+$/);
  });
});
