/**
 * The PyTorch state_dict writer against torch itself (Debian's python3-torch): torch.load (and
 * torch.load(weights_only=True)) reads what we write as an OrderedDict whose tensors have exactly our
 * names, dtypes, shapes, contiguous strides and bytes (bfloat16 compared as int16), each in a storage
 * of its own; Python's zipfile finds every CRC right; every entry's data is 64-byte aligned; our own
 * reader reads the bytes back. Through the CLI, every shared fixture survives
 * .pth -> safetensors -> .pth, and our own fixtures (all dtypes, odd keys, strided views, tied
 * weights) survive .pth -> .pth, each compared by torch with what torch loads from the source.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { load, save } from '../../../src/api.js';
import { MconvError } from '../../../src/errors.js';
import { readStateDict } from '../../../src/formats/torch/state-dict.js';
import { contiguousStrides, torchArchiveName, writeTorchStateDict } from '../../../src/formats/torch/writer.js';
import { memorySourceFiles, openSource } from '../../../src/io/files.js';
import { ZipArchive } from '../../../src/io/zip.js';
import { Tensor, type DType } from '../../../src/ir/tensor.js';
import { mconv } from '../../helpers/cli.js';
import { OWN, PY, SHARED_TORCH, expectedTensors, hasTorch, sha256 } from './helpers.js';

const torchOk = hasTorch();
if (!torchOk) console.log('skipping torch.load checks of the writer: /usr/bin/python3 with torch is absent');
const tmp = mkdtempSync(join(tmpdir(), 'mconv-torch-w-'));
for (const d of ['api', 'own', 'shared']) mkdirSync(join(tmp, d));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** What torch.load gives for a file (both ways of loading), tensor by tensor. */
const LOAD = String.raw`
import hashlib, json, sys, zipfile, torch
names = {torch.float32: 'float32', torch.float64: 'float64', torch.float16: 'float16', torch.bfloat16: 'bfloat16',
         torch.int8: 'int8', torch.int16: 'int16', torch.int32: 'int32', torch.int64: 'int64', torch.uint8: 'uint8', torch.bool: 'bool'}
path = sys.argv[1]
bad_crc, entries = None, 0
if zipfile.is_zipfile(path):
    with zipfile.ZipFile(path) as z:
        bad_crc = z.testzip()
        entries = len(z.infolist())
sd = torch.load(path)
safe = torch.load(path, weights_only=True)
rows = []
ptrs = set()
for k, t in sd.items():
    t = t.detach()
    raw = t.view(torch.int16).numpy().tobytes() if t.dtype == torch.bfloat16 else t.numpy().tobytes()
    s = t.storage()
    if t.numel():
        ptrs.add(s.data_ptr())
    u = safe[k]
    same = u.dtype == t.dtype and u.shape == t.shape and (u.view(torch.int16) if u.dtype == torch.bfloat16 else u).numpy().tobytes() == raw
    rows.append({'name': k, 'dtype': names[t.dtype], 'shape': list(t.shape), 'stride': list(t.stride()), 'offset': t.storage_offset(),
                 'contiguous': t.is_contiguous(), 'requires_grad': t.requires_grad, 'storage_numel': s.size(), 'sha256': hashlib.sha256(raw).hexdigest(),
                 'weights_only_same': same})
print(json.dumps({'type': type(sd).__module__ + '.' + type(sd).__name__, 'bad_crc': bad_crc, 'entries': entries,
                  'distinct_storages': len(ptrs), 'nonempty': sum(1 for t in sd.values() if t.numel()), 'rows': rows}))
`;

interface TorchLoad {
  type: string;
  bad_crc: string | null;
  entries: number;
  distinct_storages: number;
  nonempty: number;
  rows: { name: string; dtype: string; shape: number[]; stride: number[]; offset: number; contiguous: boolean; requires_grad: boolean; storage_numel: number; sha256: string; weights_only_same: boolean }[];
}

function torchLoad(path: string): TorchLoad {
  return JSON.parse(execFileSync(PY, ['-c', LOAD, path], { encoding: 'utf8', maxBuffer: 256 << 20 }));
}

/** Deterministic bytes (a xorshift stream), with bool bytes kept to 0/1. */
function bytesFor(dtype: DType, count: number, seed: number): Uint8Array {
  const width = { float32: 4, float64: 8, float16: 2, bfloat16: 2, int8: 1, int16: 2, int32: 4, int64: 8, uint8: 1, bool: 1 }[dtype as 'float32']!;
  const b = new Uint8Array(count * width);
  let x = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < b.length; i++) {
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    b[i] = dtype === 'bool' ? x & 1 : x & 0xff;
  }
  return b;
}

function tensor(dtype: DType, shape: number[], seed: number): Tensor {
  return Tensor.fromBytes(dtype, shape, bytesFor(dtype, shape.reduce((a, d) => a * d, 1), seed));
}

const CASES: [string, Tensor][] = [
  ['f32', tensor('float32', [3, 4], 1)],
  ['f64', tensor('float64', [5], 2)],
  ['f16', tensor('float16', [2, 3], 3)],
  ['bf16', tensor('bfloat16', [4, 2], 4)],
  ['i8', tensor('int8', [6], 5)],
  ['u8', tensor('uint8', [2, 5], 6)],
  ['i16', tensor('int16', [3], 7)],
  ['i32', tensor('int32', [4], 8)],
  ['i64', tensor('int64', [4, 1, 2], 9)],
  ['bool', tensor('bool', [7], 10)],
  ['scalar', tensor('float32', [], 11)],
  ['scalar_i64', tensor('int64', [], 12)],
  ['empty', tensor('float32', [0, 3], 13)],
  ['empty_i64', tensor('int64', [2, 0, 3], 14)],
  ['empty_bool', tensor('bool', [0], 15)],
  ['__proto__', tensor('float32', [2], 16)],
  ['constructor', tensor('float32', [3], 17)],
  ['toString', tensor('float32', [1, 2], 18)],
  ['hasOwnProperty', tensor('int32', [1], 19)],
  ['layer.0.weight', tensor('float16', [2, 2, 1, 1], 20)],
  ['ünïcödé.😀', tensor('float32', [1], 21)],
  ['', tensor('uint8', [1], 22)],
];

describe('writeTorchStateDict', () => {
  const bytes = writeTorchStateDict(CASES, { file: join(tmp, 'cases.pth') });
  const file = join(tmp, 'cases.pth');
  writeFileSync(file, bytes);

  it.skipIf(!torchOk)('torch.load reads an OrderedDict with every name, dtype, shape, stride and byte', async () => {
    const got = torchLoad(file);
    expect(got.type).toBe('collections.OrderedDict');
    expect(got.bad_crc).toBeNull();
    expect(got.rows.map((r) => r.name)).toEqual(CASES.map(([n]) => n));
    for (const [name, t] of CASES) {
      const r = got.rows.find((x) => x.name === name)!;
      expect(r.dtype, name).toBe(t.dtype);
      expect(r.shape, name).toEqual(t.shape);
      expect(r.stride, name).toEqual(contiguousStrides(t.shape as number[]));
      expect(r.offset, name).toBe(0);
      expect(r.contiguous, name).toBe(true);
      expect(r.requires_grad, name).toBe(false);
      expect(r.storage_numel, name).toBe(t.size);
      expect(r.sha256, name).toBe(sha256(t.bytes));
      expect(r.weights_only_same, `${name} with weights_only=True`).toBe(true);
    }
    // one storage per tensor
    expect(got.distinct_storages).toBe(got.nonempty);
  });

  it('our reader reads every tensor back byte for byte', async () => {
    const sd = readStateDict(memorySourceFiles(bytes, 'cases.pth'));
    expect([...sd.tensors.keys()]).toEqual(CASES.map(([n]) => n));
    for (const [name, t] of CASES) {
      const back = sd.tensors.get(name)!;
      expect(back.dtype, name).toBe(t.dtype);
      expect(back.shape, name).toEqual(t.shape);
      expect(Buffer.from(back.bytes).equals(Buffer.from(t.bytes)), name).toBe(true);
    }
    expect(sd.archive.byteOrder).toBe('little');
    expect(sd.archive.version).toBe('3');
    expect(sd.archive.prefix).toBe('cases/');
  });

  it('lays the zip out as torch.save does: stored entries, data 64-byte aligned', async () => {
    const src = memorySourceFiles(bytes, 'cases.pth');
    const zip = ZipArchive.open(src);
    const names = zip.names();
    expect(names[0]).toBe('cases/data.pkl');
    expect(names).toContain('cases/version');
    expect(names).toContain('cases/byteorder');
    expect(names.filter((n) => n.startsWith('cases/data/'))).toHaveLength(CASES.length);
    for (const n of names) {
      expect(zip.isStored(n), n).toBe(true);
      expect(zip.dataOffset(n) % 64, n).toBe(0);
    }
    expect(new TextDecoder().decode(zip.read('cases/byteorder'))).toBe('little');
    // the same input gives the same bytes (no timestamps)
    expect(Buffer.from(writeTorchStateDict(CASES, { file: join(tmp, 'cases.pth') })).equals(Buffer.from(bytes))).toBe(true);
  });

  it('names the top folder after the output file, as torch.save does', async () => {
    expect(torchArchiveName('/a/b/model.pth')).toBe('model');
    expect(torchArchiveName('my model.v2.pt')).toBe('my_model_v2');
    expect(torchArchiveName('.pth')).toBe('archive');
    expect(torchArchiveName(undefined)).toBe('archive');
    expect(contiguousStrides([2, 0, 3])).toEqual([3, 3, 1]);
    expect(contiguousStrides([])).toEqual([]);
  });

  it.skipIf(!torchOk)('writes zip64 records when there are more than 65,534 entries, and torch and our reader read them', async () => {
    const many: [string, Tensor][] = Array.from({ length: 65600 }, (_, i) => [`t${i}`, Tensor.fromBytes('int32', [], new Uint8Array(new Int32Array([i * 3 - 7]).buffer))]);
    const f = join(tmp, 'many.pth');
    writeFileSync(f, writeTorchStateDict(many, { file: f }));
    const script = String.raw`
import json, sys, zipfile, torch
with zipfile.ZipFile(sys.argv[1]) as z:
    entries = len(z.infolist())
sd = torch.load(sys.argv[1])
print(json.dumps({'entries': entries, 'keys': len(sd), 'first': list(sd)[:2], 'values': [sd['t%d' % i].item() for i in (0, 1, 65535, 65599)]}))`;
    const got = JSON.parse(execFileSync(PY, ['-c', script, f], { encoding: 'utf8' }));
    expect(got).toEqual({ entries: 65603, keys: 65600, first: ['t0', 't1'], values: [0, 1, 65535, 65599].map((i) => i * 3 - 7) });
    const sd = readStateDict(openSource(f));
    expect(sd.tensors.size).toBe(65600);
    expect(new Int32Array(sd.tensors.get('t65599')!.bytes.slice().buffer)[0]).toBe(65599 * 3 - 7);
  });

  const refusal = (tensors: [string, Tensor][]): MconvError => {
    try {
      writeTorchStateDict(tensors, { file: 'out.pth' });
    } catch (e) {
      expect(e).toBeInstanceOf(MconvError);
      return e as MconvError;
    }
    throw new Error('expected a refusal');
  };

  it('refuses string, complex and uint16 tensors, duplicate names and an empty state_dict, clearly', async () => {
    const s = refusal([['ok', tensor('float32', [1], 1)], ['labels', Tensor.fromStrings([2], ['a', 'b'])]]);
    expect(s.kind).toBe('unsupported');
    expect(s.where).toBe('labels');
    expect(s.message).toMatch(/string tensor "labels".*PyTorch has no string tensors/);
    const c = refusal([['z', Tensor.fromBytes('complex64', [2], new Uint8Array(16))]]);
    expect(c.message).toMatch(/complex64 tensor "z".*complex/);
    const u = refusal([['u', Tensor.fromBytes('uint16', [2], new Uint8Array(4))]]);
    expect(u.message).toMatch(/uint16 tensor "u"/);
    expect(u.hint).toMatch(/convert the tensor/);
    const d = refusal([['a', tensor('float32', [1], 1)], ['a', tensor('float32', [1], 2)]]);
    expect(d.message).toMatch(/two tensors are named "a"/);
    expect(refusal([]).message).toMatch(/no weights to write/);
  });
});

describe.skipIf(!torchOk)('through the API and the CLI', () => {
  it('save(model, "x.pth") writes a weights-only model (torch is a weights-only target)', async () => {
    const model = await load(join(OWN, 'proto_keys.pth'));
    const out = join(tmp, 'api', 'proto.pth');
    expect(await save(model, out)).toEqual([out]);
    const got = torchLoad(out);
    const want = torchLoad(join(OWN, 'proto_keys.pth'));
    expect(got.rows.map((r) => [r.name, r.dtype, r.shape, r.sha256])).toEqual(want.rows.map((r) => [r.name, r.dtype, r.shape, r.sha256]));
  });

  // compared with the arrays torch exported when it wrote each fixture (this torch does not byte-swap big-endian files)
  const own = ['dtypes', 'proto_keys', 'views', 'tied', 'parameters', 'legacy', 'bigendian', 'checkpoint'].filter((n) => existsSync(join(OWN, `${n}.pth`)));
  it.each(own)('fixtures/torch/%s.pth -> --to torch: torch loads the tensors torch saved (contiguous)', async (name) => {
    const out = join(tmp, 'own', `${name}.pth`);
    const r = (await mconv(['convert', join(OWN, `${name}.pth`), '--to', 'torch', '-o', out]));
    expect(r.code, r.stderr).toBe(0);
    const got = torchLoad(out);
    const want = expectedTensors(OWN, name);
    expect(got.type).toBe('collections.OrderedDict');
    expect(got.rows.map((x) => [x.name, x.dtype, x.shape, x.sha256])).toEqual(want.map((x) => [x.name, x.dtype, x.shape, sha256(x.bytes)]));
    expect(got.rows.every((x) => x.contiguous && x.weights_only_same)).toBe(true);
  });

  const shared = existsSync(SHARED_TORCH) ? readdirSync(SHARED_TORCH).filter((d) => existsSync(join(SHARED_TORCH, d, 'state_dict.pth'))) : [];
  if (!shared.length) console.log(`skipping the shared round trips: ${SHARED_TORCH} is absent`);
  it.each(shared)('shared %s: state_dict.pth -> --to safetensors -> --to torch; torch.load gives the same tensors', async (name) => {
    const src = join(SHARED_TORCH, name, 'state_dict.pth');
    const st = join(tmp, 'shared', `${name}.safetensors`);
    const back = join(tmp, 'shared', `${name}.pth`);
    let r = (await mconv(['convert', src, '--to', 'safetensors', '-o', st]));
    expect(r.code, r.stderr).toBe(0);
    r = (await mconv(['convert', st, '--to', 'torch', '-o', back]));
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/wrote .*\.pth/);
    const got = torchLoad(back);
    const want = torchLoad(src);
    expect(got.bad_crc).toBeNull();
    expect(got.rows.length).toBeGreaterThan(0);
    expect(got.rows.map((x) => [x.name, x.dtype, x.shape, x.stride, x.sha256])).toEqual(want.rows.map((x) => [x.name, x.dtype, x.shape, x.stride, x.sha256]));
    expect(got.rows.every((x) => x.weights_only_same)).toBe(true);
  });
});
