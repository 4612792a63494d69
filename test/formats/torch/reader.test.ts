/**
 * The PyTorch reader against files torch wrote: the shared model fixtures (compared with what torch
 * itself loads from them, through Debian's python3-torch) and our own fixtures (dtypes, views, tied
 * weights, legacy, big-endian, checkpoints, odd keys), compared byte for byte with the arrays torch
 * exported when it wrote them (fixtures/torch/make.py).
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readTorchArchive } from '../../../src/formats/torch/container.js';
import { readStateDict, stateDictFromArchive } from '../../../src/formats/torch/state-dict.js';
import { graphHooks, registerTorchGraphBuilder, torchHandler } from '../../../src/formats/torch/index.js';
import { detectFormat, loadModel } from '../../../src/formats/registry.js';
import { memorySourceFiles, openSource } from '../../../src/io/files.js';
import type { ModelSourceFiles } from '../../../src/formats/types.js';
import { PyObject } from '../../../src/io/pickle/values.js';
import { OWN, SHARED_TORCH, expectedTensors, hasTorch, sha256, torchView } from './helpers.js';

const sharedModels = existsSync(SHARED_TORCH)
  ? readdirSync(SHARED_TORCH, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name)
  : [];
const torchOk = hasTorch();
if (!sharedModels.length) console.log(`skipping shared torch fixtures: ${SHARED_TORCH} is absent`);
if (!torchOk) console.log('skipping comparisons with torch: /usr/bin/python3 with torch is absent');

describe.skipIf(!sharedModels.length || !torchOk)('shared fixtures: the same tensors as torch loads', () => {
  const files = sharedModels.flatMap((m) => ['state_dict.pth', 'state_dict_legacy.pth', 'scripted.pt'].map((f) => join(SHARED_TORCH, m, f)));
  const view = torchOk && sharedModels.length ? torchView(files) : {};
  for (const f of files) {
    it(f.slice(SHARED_TORCH.length + 1), () => {
      const sd = readStateDict(openSource(f));
      const want = view[f]!;
      expect([...sd.tensors.keys()]).toEqual(want.map((w) => w.name));
      for (const w of want) {
        const t = sd.tensors.get(w.name)!;
        expect(t.dtype, w.name).toBe(w.dtype);
        expect(t.shape, w.name).toEqual(w.shape);
        expect(sha256(t.bytes), w.name).toBe(w.sha256);
      }
      expect(sd.layout).toBe(f.endsWith('.pt') ? 'torchscript' : 'state_dict');
      const wantBuffers = want.map((w) => w.name).filter((n) => /\.(running_mean|running_var|num_batches_tracked)$/.test(n));
      expect([...sd.buffers]).toEqual(wantBuffers);
    });
  }

  it('zip and legacy files of one model hold identical tensors; TorchScript archives expose code and constants', () => {
    for (const m of sharedModels) {
      const a = readStateDict(openSource(join(SHARED_TORCH, m, 'state_dict.pth')));
      const ts = readTorchArchive(openSource(join(SHARED_TORCH, m, 'scripted.pt')));
      expect(ts.isTorchScript).toBe(true);
      expect(ts.root).toBeInstanceOf(PyObject);
      expect(ts.entries()).toContain('code/__torch__.py');
      expect(new TextDecoder().decode(ts.entry('code/__torch__.py'))).toMatch(/def forward\(/);
      expect(ts.unpickleEntry('constants.pkl')).toEqual([]);
      const fromScript = stateDictFromArchive(ts);
      for (const [k, t] of a.tensors) expect(sha256(fromScript.tensors.get(k)!.bytes), `${m} ${k}`).toBe(sha256(t.bytes));
    }
  });
});

const manifest = JSON.parse(readFileSync(join(OWN, 'expected.json'), 'utf8'));

describe('own fixtures: byte-exact against the arrays torch exported', () => {
  for (const name of Object.keys(manifest)) {
    it(name, () => {
      const sd = readStateDict(openSource(join(OWN, `${name}.pth`)));
      const want = expectedTensors(OWN, name, manifest);
      expect([...sd.tensors.keys()]).toEqual(want.map((w) => w.name));
      for (const w of want) {
        const t = sd.tensors.get(w.name)!;
        expect(t.dtype, w.name).toBe(w.dtype);
        expect(t.shape, w.name).toEqual(w.shape);
        expect(Buffer.from(t.bytes).equals(Buffer.from(w.bytes)), `${name}: bytes of ${w.name}`).toBe(true);
      }
    });
  }
});

/** A source in memory that counts positional reads. */
function countingSource(path: string): { source: ModelSourceFiles; bytes: Uint8Array; reads: { offset: number; length: number }[] } {
  const bytes = new Uint8Array(readFileSync(path));
  const inner = memorySourceFiles(bytes, path);
  const reads: { offset: number; length: number }[] = [];
  const source: ModelSourceFiles = { ...inner, readRange: (offset, length) => { reads.push({ offset, length }); return inner.readRange(offset, length); } };
  return { source, bytes, reads };
}

describe('tensor layout', () => {
  it('contiguous tensors of stored entries stay lazy views of the file (no copy)', () => {
    const { source, bytes } = countingSource(join(OWN, 'dtypes.pth'));
    const sd = readStateDict(source);
    for (const t of sd.tensors.values()) if (t.size > 0) expect(t.isMaterialised).toBe(false);
    const f32 = sd.tensors.get('f32')!;
    const b = f32.bytes;
    expect(b.buffer).toBe(bytes.buffer);
  });

  it('tied weights share one storage: read once, the same bytes', () => {
    const { source, reads } = countingSource(join(OWN, 'tied.pth'));
    const sd = readStateDict(source);
    const before = reads.length;
    const a = sd.tensors.get('embed.weight')!.bytes;
    const b = sd.tensors.get('head.weight')!.bytes;
    const tail = sd.tensors.get('head_tail')!.bytes;
    // one read of the storage's 96 bytes (plus the entry's 30-byte local header, read once)
    const dataReads = reads.slice(before).filter((r) => r.length > 30);
    expect(dataReads).toEqual([{ offset: expect.any(Number), length: 6 * 4 * 4 }]);
    expect(b).toBe(a);
    expect(tail.buffer).toBe(a.buffer);
    expect(tail.byteOffset - a.byteOffset).toBe(2 * 4 * 4);
  });

  it('views keep torch semantics (transposed, strided, expanded, permuted)', () => {
    const sd = readStateDict(openSource(join(OWN, 'views.pth')));
    const t = sd.tensors.get('transposed')!;
    expect(t.shape).toEqual([12, 5]);
    // base = arange(60).reshape(5, 12); base.t()[i][j] = base[j][i] = 12j + i
    const v = t.toFloat64();
    expect(v[1 * 5 + 2]).toBe(12 * 2 + 1);
    expect([...sd.tensors.get('column')!.toFloat64()]).toEqual([17, 29, 41, 53]);
    expect([...sd.tensors.get('sliced')!.toFloat64()].slice(0, 3)).toEqual([24, 25, 26]);
  });

  it('big-endian archives come back little-endian', () => {
    const archive = readTorchArchive(openSource(join(OWN, 'bigendian.pth')));
    expect(archive.byteOrder).toBe('big');
    const sd = stateDictFromArchive(archive);
    expect([...sd.tensors.get('i')!.toArray()]).toEqual([1n, -2n, 300n]);
  });

  it('big-endian legacy streams come back little-endian', () => {
    const archive = readTorchArchive(openSource(join(OWN, 'bigendian_legacy.pth')));
    expect(archive.kind).toBe('legacy');
    expect(archive.byteOrder).toBe('big');
    expect([...stateDictFromArchive(archive).tensors.get('i')!.toArray()]).toEqual([5, -6]);
  });

  it('legacy files: several pickles then raw storages, views of one storage', () => {
    const archive = readTorchArchive(openSource(join(OWN, 'legacy.pth')));
    expect(archive.kind).toBe('legacy');
    const sd = stateDictFromArchive(archive);
    const a = sd.tensors.get('a')!.toFloat64();
    const at = sd.tensors.get('a_t')!.toFloat64();
    expect(at[1 * 4 + 2]).toBe(a[2 * 3 + 1]);
  });

  it('nn.Parameter tensors are recognised', () => {
    const archive = readTorchArchive(openSource(join(OWN, 'parameters.pth')));
    const sd = stateDictFromArchive(archive);
    expect(archive.parameters.has(sd.tensors.get('p')!)).toBe(true);
    expect(archive.parameters.has(sd.tensors.get('q')!)).toBe(true);
  });
});

describe('state_dict rules', () => {
  it('a checkpoint dict: the model state_dict is found, the rest listed as ignored', () => {
    const sd = readStateDict(openSource(join(OWN, 'checkpoint.pth')));
    expect(sd.layout).toBe('checkpoint');
    expect(sd.rootPath).toBe('model_state_dict');
    expect(sd.ignored).toEqual(['epoch', 'optimizer_state_dict', 'loss']);
    expect([...sd.buffers]).toEqual(['bn.running_mean', 'bn.running_var', 'bn.num_batches_tracked']);
  });

  it('a nested checkpoint: {model: {state_dict: ...}}', () => {
    const sd = readStateDict(openSource(join(OWN, 'nested_checkpoint.pth')));
    expect(sd.layout).toBe('checkpoint');
    expect(sd.rootPath).toBe('model.state_dict');
  });

  it('a tensor alone and a list of tensors get dotted path names', () => {
    expect([...readStateDict(openSource(join(OWN, 'single_tensor.pth'))).tensors.keys()]).toEqual(['tensor']);
    const sd = readStateDict(openSource(join(OWN, 'tensor_list.pth')));
    expect(sd.layout).toBe('nested');
    expect([...sd.tensors.keys()]).toEqual(['0', '1.x']);
  });

  it('keys __proto__, constructor, toString are names, and Object.prototype is untouched', async () => {
    const protoNames = Object.getOwnPropertyNames(Object.prototype).sort();
    const model = await loadModel(join(OWN, 'proto_keys.pth'));
    expect([...model.graph.initializers.keys()]).toEqual(['__proto__', 'constructor', 'toString']);
    expect(model.graph.initializers.get('__proto__')!.initializer!.shape).toEqual([2]);
    expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(protoNames);
    expect(typeof ({} as { toString: unknown }).toString).toBe('function');
    expect(Object.getPrototypeOf({})).toBe(Object.prototype);
  });
});

describe('the torch format handler', () => {
  it('sniffs zip, legacy and TorchScript files by content, not zips of other kinds', () => {
    for (const f of ['dtypes.pth', 'legacy.pth', 'legacy_protocol4.pth', 'bigendian_legacy.pth', 'protocol4.pth']) {
      expect(detectFormat(openSource(join(OWN, f)))?.handler.id, f).toBe('torch');
    }
    if (sharedModels.length) expect(detectFormat(openSource(join(SHARED_TORCH, sharedModels[0]!, 'scripted.pt')))?.handler.id).toBe('torch');
    expect(torchHandler.sniff(new Uint8Array(readFileSync(join(OWN, 'dtypes.expected.npz'))).subarray(0, 4096), 'x.npz')).toBe(false);
  });

  it('a state_dict reads into a weights-only Model', async () => {
    const model = await loadModel(join(OWN, 'checkpoint.pth'));
    expect(model.source.format).toBe('torch');
    expect(model.graph.nodes).toHaveLength(0);
    expect(model.graph.inputs).toHaveLength(0);
    expect(model.graph.outputs).toHaveLength(0);
    expect(model.metadata['torch.weights_only']).toBe('true');
    expect(JSON.parse(model.metadata['torch.buffers']!)).toEqual(['bn.running_mean', 'bn.running_var', 'bn.num_batches_tracked']);
    expect(model.metadata['torch.state_dict_key']).toBe('model_state_dict');
    expect([...model.graph.initializers.keys()][0]).toBe('conv.weight');
  });

  it('--arch goes to the registered graph builder; without one it is refused clearly', async () => {
    const saved = graphHooks.buildTorchGraph;
    try {
      graphHooks.buildTorchGraph = undefined;
      await expect(loadModel(join(OWN, 'dtypes.pth'), { arch: 'x.json' })).rejects.toThrow(/architecture/);
      const seen: string[] = [];
      registerTorchGraphBuilder((req) => {
        seen.push(`${req.arch} ${req.stateDict.tensors.size} ${req.model.graph.initializers.size}`);
        return undefined;
      });
      const m = await loadModel(join(OWN, 'dtypes.pth'), { arch: 'x.json' });
      expect(seen).toEqual(['x.json 12 12']);
      expect(m.metadata['torch.weights_only']).toBe('true');
    } finally {
      graphHooks.buildTorchGraph = saved;
    }
  });
});
