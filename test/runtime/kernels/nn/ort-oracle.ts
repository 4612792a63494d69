/**
 * onnxruntime-node as the oracle for node configurations the ONNX backend data does not cover:
 * a one-node graph is written with the project's ONNX writer, run by onnxruntime-node, and the
 * same node is run by calling the nn kernel directly.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeOnnx } from '../../../../src/formats/onnx/writer.js';
import { Graph, Model, type Attrs } from '../../../../src/ir/graph.js';
import { Tensor, type DType } from '../../../../src/ir/tensor.js';
import { tf } from '../../../../src/runtime/backends.js';
import { compareTensors, type OutputReport } from '../../../../src/runtime/compare.js';
import { nnKernels } from '../../../../src/runtime/kernels/nn/index.js';
import type { RT } from '../../../../src/runtime/kernels/types.js';
import { loadOnnxRuntime, runWithOnnxRuntime } from '../../../../src/runtime/onnxruntime.js';
import { runModel } from '../../../../src/runtime/session.js';
import { fromRTSync, toRT } from '../../../../src/runtime/tensor-bridge.js';

export const HAVE_ORT = (await loadOnnxRuntime()) !== undefined;
if (!HAVE_ORT) console.warn('skipping onnxruntime-node oracle tests: onnxruntime-node is not installed');

/** Deterministic uniform values in [lo, hi). */
export function rand(shape: number[], seed: number, lo = -1, hi = 1, dtype: DType = 'float32'): Tensor {
  let s = (seed * 2654435761) >>> 0 || 1;
  const n = shape.reduce((a, b) => a * b, 1);
  const vals: number[] = [];
  for (let i = 0; i < n; i++) {
    s ^= s << 13; s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5; s >>>= 0;
    const u = s / 4294967296;
    const v = lo + u * (hi - lo);
    vals.push(dtype === 'float32' || dtype === 'float64' ? v : dtype === 'bool' ? (u < 0.5 ? 0 : 1) : Math.floor(v));
  }
  return Tensor.fromArray(dtype, shape, vals);
}

export function vals(dtype: DType, shape: number[], v: (number | bigint | boolean)[]): Tensor {
  return Tensor.fromArray(dtype, shape, v);
}

export interface Spec {
  name: string;
  op: string;
  attrs?: Attrs;
  /** Inputs by position; null for an omitted optional input. */
  inputs: (Tensor | null)[];
  /** Output dtypes (one per output). */
  outs: DType[];
  atol?: number;
  rtol?: number;
}

function tempModel(g: Graph): { path: string; done: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'mconv-nn-'));
  const path = join(dir, 'model.onnx');
  const files = writeOnnx(new Model(g, { format: 'onnx' }), path);
  writeFileSync(path, files.main);
  return { path, done: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A one-node graph for the spec (inputs are graph inputs x0, x1, ...). */
export function specGraph(spec: Spec): Graph {
  const g = new Graph(spec.name);
  const ins = spec.inputs.map((t, i) => (t ? g.addInput(`x${i}`, t.dtype, t.shape.slice()) : null));
  const node = g.addNode(spec.op, ins, spec.outs.map((_, i) => `y${i}`), spec.attrs ?? {});
  node.outputs.forEach((o, i) => { o.dtype = spec.outs[i]; });
  g.outputs.push(...node.outputs);
  return g;
}

export function feedsOf(spec: Spec): Map<string, Tensor> {
  const feeds = new Map<string, Tensor>();
  spec.inputs.forEach((t, i) => { if (t) feeds.set(`x${i}`, t); });
  return feeds;
}

export async function expectedFromOrt(g: Graph, feeds: Map<string, Tensor>): Promise<Tensor[]> {
  const m = tempModel(g);
  try {
    const res = await runWithOnnxRuntime(m.path, feeds);
    return g.outputs.map((o) => {
      const t = res.get(o.name);
      if (!t) throw new Error(`onnxruntime gave no output ${o.name}`);
      return t;
    });
  } finally {
    m.done();
  }
}

/** Runs the spec's node through the nn kernel directly. */
export async function runKernel(spec: Spec, backend: string): Promise<Tensor[]> {
  const g = specGraph(spec);
  const node = g.nodes[0]!;
  const kernel = nnKernels[spec.op];
  if (!kernel) throw new Error(`no nn kernel for ${spec.op}`);
  const reason = kernel.check?.(node);
  if (reason) throw new Error(`kernel refuses ${spec.name}: ${reason}`);
  const inputs: (RT | undefined)[] = spec.inputs.map((t) => (t ? toRT(tf, t) : undefined));
  const keep = inputs.filter((r): r is RT => !!r);
  const outs = await kernel.run({
    tf, node, inputs, backend,
    runSubgraph: () => { throw new Error('no subgraphs here'); },
  });
  try {
    return outs.slice(0, spec.outs.length).map((o, i) => fromRTSync(o, `y${i}`));
  } finally {
    for (const o of outs) if (!o.t.isDisposed) o.t.dispose();
    for (const r of keep) r.t.dispose();
  }
}

/** Runs a whole graph through the Session (for subgraph ops). */
export async function runSession(g: Graph, feeds: Map<string, Tensor>, backend: string): Promise<Tensor[]> {
  const res = await runModel(g, feeds, { backend });
  return g.outputs.map((o) => res.get(o.name)!);
}

export function compareAll(got: Tensor[], expected: Tensor[], atol = 1e-5, rtol = 1e-4): OutputReport[] {
  if (got.length !== expected.length) throw new Error(`got ${got.length} outputs, expected ${expected.length}`);
  return got.map((t, i) => compareTensors(`output ${i}`, t, expected[i]!, { atol, rtol }));
}

export function describeReport(r: OutputReport): string {
  return r.problem ?? `${r.mismatches}/${r.elements} beyond tolerance, max abs ${r.maxAbsError}, worst got ${r.worstActual} expected ${r.worstExpected} at ${r.worstIndex}`;
}

