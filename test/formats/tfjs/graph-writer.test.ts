/**
 * `--to tfjs`: the torch fixtures' ONNX models written as tfjs graph-models load in
 * tfjs-converter (`tf.loadGraphModel` over the written model.json and shards) and give the
 * fixtures' output.npy (recorded by PyTorch) for their input.npy; quantized weights stay within
 * the quantization step; mconv reads the written model back; unknown ops are listed at once.
 */
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadModel } from '../../../src/formats/registry.js';
import { readNpy } from '../../../src/formats/npy/npy.js';
import { Graph, Model } from '../../../src/ir/graph.js';
import { Tensor } from '../../../src/ir/tensor.js';
import { compareTensors } from '../../../src/runtime/compare.js';
import { useBackend } from '../../../src/runtime/backends.js';
import { save, run } from '../../../src/api.js';
import { MconvError } from '../../../src/errors.js';
import { TORCH_FIXTURES, mconv } from '../../helpers/cli.js';
import { fromTfjs, tf, tfconv, toTfjs } from '../../helpers/tf-oracle.js';

if (!existsSync(TORCH_FIXTURES)) console.log(`skipped: ${TORCH_FIXTURES} is absent`);
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'mconv-to-tfjs-'));
  dirs.push(d);
  return d;
}

async function tfjsPredict(modelJson: string, x: Tensor): Promise<Tensor> {
  await useBackend('cpu');
  const json = JSON.parse(readFileSync(modelJson, 'utf8'));
  expect(json.format).toBe('graph-model');
  const dir = join(modelJson, '..');
  const specs = json.weightsManifest.flatMap((g: { weights: unknown[] }) => g.weights);
  const data = Buffer.concat(json.weightsManifest.flatMap((g: { paths: string[] }) => g.paths.map((p) => readFileSync(join(dir, p)))));
  const model = await tfconv.loadGraphModel(tf.io.fromMemory({
    modelTopology: json.modelTopology, weightSpecs: specs, weightData: data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength), format: 'graph-model',
  } as never));
  const inName = Object.keys(json.signature.inputs)[0]!;
  const outName = Object.keys(json.signature.outputs)[0]!;
  const y = model.execute({ [inName]: toTfjs(x) }, outName) as tf.Tensor;
  return fromTfjs(y);
}

function expectClose(actual: Tensor, expected: Tensor, label: string, atol: number): void {
  const r = compareTensors(label, actual, expected, { atol, rtol: 1e-3 });
  expect(r.problem, `${label}: ${r.problem}`).toBeUndefined();
  expect(r.mismatches, `${label}: max abs error ${r.maxAbsError} at ${r.worstIndex}`).toBe(0);
}

const fixtures = existsSync(TORCH_FIXTURES) ? readdirSync(TORCH_FIXTURES).filter((d) => existsSync(join(TORCH_FIXTURES, d, 'model.onnx'))).sort() : [];

describe.skipIf(!fixtures.length)('--to tfjs of the torch fixtures', () => {
  for (const name of fixtures) {
    it(`${name}: tfjs-converter gives output.npy`, async () => {
      const dir = join(TORCH_FIXTURES, name);
      const out = join(tmp(), 'model.json');
      const r = await mconv(['convert', join(dir, 'model.onnx'), '--to', 'tfjs', '-o', out]);
      expect(r.code, r.stderr).toBe(0);
      const x = readNpy(readFileSync(join(dir, 'input.npy')));
      const want = readNpy(readFileSync(join(dir, 'output.npy')));
      expectClose(await tfjsPredict(out, x), want, `${name} in tfjs-converter`, 1e-4);
      // mconv reads what it wrote and computes the same.
      const back = await loadModel(out);
      const ours = await run(back, new Map([[back.graph.inputs[0]!.name, x]]));
      expectClose(ours.outputs.get(back.graph.outputs[0]!.name)!, want, `${name} read back`, 1e-4);
    });
  }

  it('quantized weights (float16, uint8) load in tfjs-converter within the quantization error', async () => {
    const name = fixtures.includes('mnist_v2_cnn') ? 'mnist_v2_cnn' : fixtures[0]!;
    const dir = join(TORCH_FIXTURES, name);
    const m = await loadModel(join(dir, 'model.onnx'));
    const x = readNpy(readFileSync(join(dir, 'input.npy')));
    const want = readNpy(readFileSync(join(dir, 'output.npy')));
    for (const [q, atol] of [['float16', 1e-2], ['uint8', 1.5e-1]] as const) {
      const out = join(tmp(), 'model.json');
      await save(m, out, { format: 'tfjs', quantize: q });
      const json = JSON.parse(readFileSync(out, 'utf8'));
      const w = json.weightsManifest[0].weights.filter((s: { quantization?: unknown }) => s.quantization);
      expect(w.length).toBeGreaterThan(0);
      for (const s of w) {
        expect(s.quantization.dtype).toBe(q);
        if (q === 'uint8') expect(typeof s.quantization.scale === 'number' && typeof s.quantization.min === 'number').toBe(true);
      }
      const got = await tfjsPredict(out, x);
      expectClose(got, want, `${name} ${q}`, atol);
    }
  });
});

describe('--to tfjs refusals', () => {
  it('lists every op without a TF mapping, with counts, and writes nothing', async () => {
    const g = new Graph('g');
    const x = g.addInput('x', 'float32', [2, 3]);
    const a = g.addNode('Erf', [x], 1, {}, 'erf').outputs[0]!;
    const b = g.addNode('Erf', [a], 1, {}, 'erf2').outputs[0]!;
    const c = g.addNode('HardSwish', [b], 1, {}, 'hs').outputs[0]!;
    g.outputs = [g.addNode('Relu', [c], 1, {}, 'relu').outputs[0]!];
    const out = join(tmp(), 'model.json');
    const e = await save(new Model(g, { format: 'onnx' }), out, { format: 'tfjs' }).catch((err: unknown) => err);
    expect(e).toBeInstanceOf(MconvError);
    expect((e as MconvError).message).toMatch(/Erf x2, HardSwish x1/);
    expect(existsSync(out)).toBe(false);
  });
});
