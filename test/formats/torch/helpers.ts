/** Shared helpers of the torch reader tests: fixture paths, torch's own view of a file, byte digests. */
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readNpz } from '../../../src/formats/npy/npy.js';
import type { Tensor } from '../../../src/ir/tensor.js';
import { hasPython } from '../../helpers/cli.js';

export const ROOT = join(import.meta.dirname, '..', '..', '..');
export const OWN = join(ROOT, 'fixtures', 'torch');
export const HOSTILE = join(OWN, 'hostile');
export const SHARED_TORCH = join(ROOT, '..', 'shared', 'fixtures', 'torch');
export const PY = '/usr/bin/python3';

export const hasTorch = (): boolean => hasPython('torch', 'numpy');

export interface TorchTensorInfo {
  name: string;
  dtype: string;
  shape: number[];
  sha256: string;
}

const DUMP = String.raw`
import hashlib, json, sys, torch
names = {torch.float32: 'float32', torch.float64: 'float64', torch.float16: 'float16', torch.bfloat16: 'bfloat16',
         torch.int8: 'int8', torch.int16: 'int16', torch.int32: 'int32', torch.int64: 'int64', torch.uint8: 'uint8', torch.bool: 'bool'}
out = {}
for path in sys.argv[1:]:
    if path.endswith('.pt'):
        sd = torch.jit.load(path).state_dict()
    else:
        sd = torch.load(path)
    rows = []
    for k, t in sd.items():
        t = t.detach().contiguous()
        raw = t.view(torch.int16).numpy().tobytes() if t.dtype == torch.bfloat16 else t.numpy().tobytes()
        rows.append({'name': k, 'dtype': names[t.dtype], 'shape': list(t.shape), 'sha256': hashlib.sha256(raw).hexdigest()})
    out[path] = rows
print(json.dumps(out))
`;

/** What torch itself reads from each file: names in order, dtypes, shapes, digests of the bytes. */
export function torchView(paths: string[]): Record<string, TorchTensorInfo[]> {
  return JSON.parse(execFileSync(PY, ['-c', DUMP, ...paths], { encoding: 'utf8', maxBuffer: 64 << 20 }));
}

export function sha256(b: Uint8Array): string {
  return createHash('sha256').update(b).digest('hex');
}

export interface ExpectedTensor {
  name: string;
  dtype: string;
  shape: number[];
  /** The bytes torch holds (contiguous, little-endian). */
  bytes: Uint8Array;
}

/** The expected tensors of one of our fixtures (from <name>.expected.npz and the manifest). */
export function expectedTensors(dir: string, name: string, manifest?: Record<string, { name: string; dtype: string; shape: number[]; key: string }[]>): ExpectedTensor[] {
  const m = manifest ?? JSON.parse(readFileSync(join(dir, 'expected.json'), 'utf8'));
  const npz = readNpz(readFileSync(join(dir, `${name}.expected.npz`)));
  return m[name].map((e: { name: string; dtype: string; shape: number[]; key: string }) => {
    const t: Tensor | undefined = npz.get(e.key);
    if (!t) throw new Error(`no ${e.key} in ${name}.expected.npz`);
    return { name: e.name, dtype: e.dtype, shape: e.shape, bytes: t.bytes };
  });
}
