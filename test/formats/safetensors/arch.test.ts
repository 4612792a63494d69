/**
 * `--arch` with safetensors weights: for every shared torch fixture, the state_dict written as
 * safetensors by Python (struct + json from torch.load, independent of our writer) and by
 * `mconv convert --to safetensors`, plus our arch file, converts to ONNX that onnxruntime-node runs to
 * torch's output.npy within 1e-5; `mconv run` matches within 1e-4; without --arch the file stays
 * weights only; an arch that does not fit the weights, or a missing arch file, is a usage error.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadModel } from '../../../src/formats/registry.js';
import { readNpy } from '../../../src/formats/npy/npy.js';
import { compareTensors } from '../../../src/runtime/compare.js';
import { runWithOnnxRuntime } from '../../../src/runtime/onnxruntime.js';
import { mconv } from '../../helpers/cli.js';
import { OWN, PY, SHARED_TORCH, hasTorch } from '../torch/helpers.js';

const torchOk = hasTorch();
const shared = existsSync(SHARED_TORCH)
  ? readdirSync(SHARED_TORCH).filter((d) => existsSync(join(SHARED_TORCH, d, 'state_dict.pth')) && existsSync(join(OWN, 'arch', `${d}.arch.json`)))
  : [];
if (!shared.length) console.log(`skipping safetensors --arch: ${SHARED_TORCH} is absent`);
if (!torchOk) console.log('skipping safetensors --arch: /usr/bin/python3 with torch is absent (it writes the independent safetensors files)');

const tmp = mkdtempSync(join(tmpdir(), 'mconv-st-arch-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** safetensors laid out by Python from what torch.load gives (the format's rules, by hand). */
const WRITE_ST = String.raw`
import json, struct, sys, torch
codes = {torch.float32: 'F32', torch.float64: 'F64', torch.float16: 'F16', torch.bfloat16: 'BF16', torch.int8: 'I8',
         torch.int16: 'I16', torch.int32: 'I32', torch.int64: 'I64', torch.uint8: 'U8', torch.bool: 'BOOL'}
sd = torch.load(sys.argv[1])
header = {'__metadata__': {'format': 'pt'}}
blobs, off = [], 0
for k, t in sd.items():
    t = t.detach().contiguous()
    raw = (t.view(torch.int16) if t.dtype == torch.bfloat16 else t).numpy().tobytes()
    header[k] = {'dtype': codes[t.dtype], 'shape': list(t.shape), 'data_offsets': [off, off + len(raw)]}
    blobs.append(raw)
    off += len(raw)
h = json.dumps(header, separators=(',', ':')).encode()
h += b' ' * ((8 - len(h) % 8) % 8)
with open(sys.argv[2], 'wb') as f:
    f.write(struct.pack('<Q', len(h)) + h + b''.join(blobs))
`;

async function ortMatches(onnxPath: string, dir: string): Promise<void> {
  const input = readNpy(readFileSync(join(dir, 'input.npy')));
  const want = readNpy(readFileSync(join(dir, 'output.npy')));
  const model = await loadModel(onnxPath);
  const outs = await runWithOnnxRuntime(onnxPath, new Map([[model.graph.inputs[0]!.name, input]]));
  const rep = compareTensors('out', [...outs.values()][0]!, want, { atol: 1e-5, rtol: 0 });
  expect(rep.ok, JSON.stringify(rep)).toBe(true);
}

describe.skipIf(!shared.length || !torchOk).each(shared)('safetensors + --arch: %s', (name) => {
  const dir = join(SHARED_TORCH, name);
  const arch = join(OWN, 'arch', `${name}.arch.json`);
  const byPython = join(tmp, `${name}.py.safetensors`);
  const byMconv = join(tmp, `${name}.mconv.safetensors`);

  it('Python-written safetensors + arch -> ONNX that onnxruntime runs to output.npy (1e-5)', async () => {
    execFileSync(PY, ['-c', WRITE_ST, join(dir, 'state_dict.pth'), byPython]);
    const out = join(tmp, `${name}.py.onnx`);
    const r = (await mconv(['convert', byPython, '--arch', arch, '--to', 'onnx', '-o', out]));
    expect(r.code, r.stderr).toBe(0);
    await ortMatches(out, dir);
    const m = await loadModel(byPython, { arch });
    expect(m.source.format).toBe('safetensors');
    expect(m.metadata['safetensors.graph_source']).toBe('arch');
    expect(m.metadata['safetensors.weights_only']).toBe('false');
    expect(m.graph.nodes.length).toBeGreaterThan(0);
  });

  it('mconv convert --to safetensors, then --arch --to onnx: the same result (1e-5)', async () => {
    let r = (await mconv(['convert', join(dir, 'state_dict.pth'), '--to', 'safetensors', '-o', byMconv]));
    expect(r.code, r.stderr).toBe(0);
    const out = join(tmp, `${name}.mconv.onnx`);
    r = (await mconv(['convert', byMconv, '--arch', arch, '--to', 'onnx', '-o', out]));
    expect(r.code, r.stderr).toBe(0);
    await ortMatches(out, dir);
  });
});

describe.skipIf(!shared.includes('mlp_64_16') || !torchOk)('safetensors + --arch through the CLI (mlp_64_16)', () => {
  const dir = join(SHARED_TORCH, 'mlp_64_16');
  const arch = join(OWN, 'arch', 'mlp_64_16.arch.json');
  const st = join(tmp, 'mlp.safetensors');

  it('mconv run matches output.npy within 1e-4', async () => {
    execFileSync(PY, ['-c', WRITE_ST, join(dir, 'state_dict.pth'), st]);
    const outDir = join(tmp, 'run-out');
    const r = (await mconv(['run', st, '--arch', arch, '--input', join(dir, 'input.npy'), '--output-dir', outDir, '--json']));
    expect(r.code, r.stderr).toBe(0);
    const got = readNpy(readFileSync(JSON.parse(r.stdout).outputs[0].file));
    const rep = compareTensors('out', got, readNpy(readFileSync(join(dir, 'output.npy'))), { atol: 1e-4, rtol: 0 });
    expect(rep.ok, JSON.stringify(rep)).toBe(true);
  });

  it('without --arch the weights cannot become ONNX (exit 3, one line, nothing written)', async () => {
    const out = join(tmp, 'no-arch.onnx');
    const r = (await mconv(['convert', st, '--to', 'onnx', '-o', out]));
    expect(r.code).toBe(3);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/weights only/);
    expect(existsSync(out)).toBe(false);
  });

  it('an arch file that does not fit the weights is a usage error naming the weights', async () => {
    const r = (await mconv(['convert', st, '--arch', join(OWN, 'arch', 'mnist_v0.arch.json'), '--to', 'onnx', '-o', join(tmp, 'bad.onnx')]));
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/mlp\.safetensors/);
    expect(r.stderr).toMatch(/fc1\.weight/);
  });

  it('a missing arch file is a usage error', async () => {
    const r = (await mconv(['convert', st, '--arch', join(tmp, 'nope.arch.json'), '--to', 'onnx', '-o', join(tmp, 'x.onnx')]));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/cannot read the architecture file/);
  });
});
