/**
 * Shared helpers for the sequence/text/training kernel tests: ONNX backend cases read from
 * Debian's libonnx-testdata, and onnxruntime-node as an oracle for graphs we build (written
 * with the project's ONNX writer, run by onnxruntime-node and by our Session).
 */
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeTensorProto } from '../../../../src/formats/onnx/tensor-proto.js';
import { writeOnnx } from '../../../../src/formats/onnx/writer.js';
import { loadModel } from '../../../../src/formats/registry.js';
import { Graph, Model } from '../../../../src/ir/graph.js';
import { Tensor } from '../../../../src/ir/tensor.js';
import { compareTensors } from '../../../../src/runtime/compare.js';
import { loadOnnxRuntime, runWithOnnxRuntime } from '../../../../src/runtime/onnxruntime.js';
import { runModel } from '../../../../src/runtime/session.js';

export const DATA_ROOT = '/usr/share/libonnx-testdata/data';
export const HAVE_DATA = existsSync(join(DATA_ROOT, 'simple')) && existsSync(join(DATA_ROOT, 'node'));
if (!HAVE_DATA) console.warn(`skipping ONNX backend case tests: ${DATA_ROOT} (Debian libonnx-testdata) is absent`);

export const HAVE_ORT = (await loadOnnxRuntime()) !== undefined;
if (!HAVE_ORT) console.warn('skipping onnxruntime-node oracle tests: onnxruntime-node is not installed');

export const BACKEND = 'cpu';

function readPbs(dir: string, prefix: string): Tensor[] {
  const files = readdirSync(dir).filter((f) => f.startsWith(prefix) && f.endsWith('.pb'));
  files.sort((a, b) => Number(a.slice(prefix.length, -3)) - Number(b.slice(prefix.length, -3)));
  return files.map((f) => decodeTensorProto(readFileSync(join(dir, f))));
}

/**
 * Runs backend case `suite/name` (data set 0) through the Session; returns the worst comparison
 * problem, or undefined when every output matches.
 */
export async function checkBackendCase(suite: 'node' | 'simple', name: string, atol = 1e-5, rtol = 1e-4): Promise<string | undefined> {
  const dir = join(DATA_ROOT, suite, name);
  const model = await loadModel(join(dir, 'model.onnx'));
  const inputs = readPbs(join(dir, 'test_data_set_0'), 'input_');
  const expected = readPbs(join(dir, 'test_data_set_0'), 'output_');
  const feeds = new Map<string, Tensor>();
  model.graph.inputs.forEach((v, i) => {
    if (inputs[i]) feeds.set(v.name, inputs[i]!);
  });
  const got = await runModel(model, feeds, { backend: BACKEND });
  if (expected.length !== model.graph.outputs.length) return `expected ${expected.length} outputs, the graph has ${model.graph.outputs.length}`;
  for (let i = 0; i < expected.length; i++) {
    const name = model.graph.outputs[i]!.name;
    const r = compareTensors(name, got.get(name)!, expected[i]!, { atol, rtol });
    if (!r.ok) return `${name}: ${r.problem ?? `max abs ${r.maxAbsError}, got ${r.worstActual} expected ${r.worstExpected}`}`;
  }
  return undefined;
}

/** Runs `g` with onnxruntime-node and with our Session; returns both output lists in graph order. */
export async function runBoth(g: Graph, feeds: Map<string, Tensor>): Promise<{ ours: Tensor[]; ort: Tensor[] }> {
  const dir = mkdtempSync(join(tmpdir(), 'mconv-seq-'));
  try {
    const path = join(dir, 'model.onnx');
    writeFileSync(path, writeOnnx(new Model(g, { format: 'onnx' }), path).main);
    const ortOut = await runWithOnnxRuntime(path, feeds);
    const ours = await runModel(g, feeds, { backend: BACKEND });
    return {
      ours: g.outputs.map((o) => ours.get(o.name)!),
      ort: g.outputs.map((o) => {
        const t = ortOut.get(o.name);
        if (!t) throw new Error(`onnxruntime gave no output ${o.name}`);
        return t;
      }),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Asserts-friendly comparison: undefined when equal within tolerance, else a description. */
export function mismatch(got: Tensor, expected: Tensor, atol = 1e-5, rtol = 1e-4): string | undefined {
  if (got.dtype === 'string' || expected.dtype === 'string') {
    const a = JSON.stringify({ shape: got.shape, v: got.stringValues() });
    const b = JSON.stringify({ shape: expected.shape, v: expected.stringValues() });
    return a === b ? undefined : `got ${a}, expected ${b}`;
  }
  const r = compareTensors('out', got, expected, { atol, rtol });
  if (r.ok && got.dtype !== expected.dtype) return `dtype ${got.dtype}, expected ${expected.dtype}`;
  return r.ok ? undefined : r.problem ?? `max abs ${r.maxAbsError}, got ${r.worstActual} expected ${r.worstExpected} at ${r.worstIndex}`;
}

/** Deterministic values in [lo, hi). */
export function seeded(dtype: 'float32' | 'float64' | 'int64' | 'int32', shape: number[], seed: number, lo = -1, hi = 1): Tensor {
  let s = (seed * 2654435761) >>> 0 || 1;
  const n = shape.reduce((a, b) => a * b, 1);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    s ^= s << 13; s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5; s >>>= 0;
    const v = lo + (s / 4294967296) * (hi - lo);
    out.push(dtype.startsWith('int') ? Math.floor(v) : v);
  }
  return Tensor.fromArray(dtype, shape, out);
}
