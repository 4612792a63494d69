/** Shared helpers of the pass tests: running a graph with onnxruntime-node, counting ops, comparing. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { writeOnnx } from '../../../src/formats/onnx/writer.js';
import { Graph, Model, subgraphsOf } from '../../../src/ir/graph.js';
import { inferShapes } from '../../../src/ir/infer.js';
import type { Tensor } from '../../../src/ir/tensor.js';
import { loadOnnxRuntime, runWithOnnxRuntime } from '../../../src/runtime/onnxruntime.js';

export const ort = await loadOnnxRuntime();

/** Writes the graph as an ONNX file and runs it with onnxruntime-node. */
export async function runOrt(graph: Graph, feeds: Record<string, Tensor>): Promise<Map<string, Tensor>> {
  inferShapes(graph);
  const dir = mkdtempSync(path.join(tmpdir(), 'mconv-ir-'));
  const file = path.join(dir, 'model.onnx');
  try {
    const written = writeOnnx(new Model(graph, { format: 'onnx' }), file);
    writeFileSync(file, written.main);
    return await runWithOnnxRuntime(file, new Map(Object.entries(feeds)));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function countOps(g: Graph, op: string): number {
  let n = 0;
  for (const node of g.nodes) {
    if (node.op === op) n++;
    for (const s of subgraphsOf(node)) n += countOps(s, op);
  }
  return n;
}

/** Largest |a - b| over two tensors of the same shape (Infinity when shapes differ). */
export function maxAbsDiff(a: Tensor, b: Tensor): number {
  if (a.shape.join() !== b.shape.join()) return Infinity;
  const x = a.toFloat64();
  const y = b.toFloat64();
  let m = 0;
  for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs(x[i]! - y[i]!));
  return m;
}
