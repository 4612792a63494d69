/**
 * Checks inference rules against what a runtime we did not write produces: a small graph is
 * built, written with the project's ONNX writer, run by onnxruntime-node, and the shapes and
 * dtypes of its outputs are compared with what `inferShapes` says about the same graph.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeOnnx } from '../../../src/formats/onnx/writer.js';
import { Graph, Model, type Attrs } from '../../../src/ir/graph.js';
import { inferShapes } from '../../../src/ir/infer.js';
import type { ValueType } from '../../../src/ir/ops/schema.js';
import type { DType, Shape, Tensor } from '../../../src/ir/tensor.js';
import { loadOnnxRuntime, runWithOnnxRuntime } from '../../../src/runtime/onnxruntime.js';
import { compareDims } from '../reference-helpers.js';

export const HAVE_ORT = (await loadOnnxRuntime()) !== undefined;
if (!HAVE_ORT) console.warn('skipping the onnxruntime-node checks of inference rules: onnxruntime-node is not installed');

export interface OracleCase {
  name: string;
  /** Graph inputs (fed to onnxruntime) and constants (initializers). */
  inputs: Record<string, Tensor>;
  /** Names in `inputs` that are initializers (their content is known to inference). */
  constants?: string[];
  nodes: { op: string; inputs: (string | null)[]; outputs: string[]; attrs?: Attrs; domain?: string }[];
  /** Graph outputs and their dtypes (a graph output must declare its type). */
  outputs: Record<string, DType>;
  opsets?: Record<string, number>;
}

/**
 * The case's graph. With `hideConstants`, the constants become graph inputs (typed, content
 * unknown to inference) so the rules must fall back on symbols.
 */
export function buildGraph(c: OracleCase, hideConstants = false): Graph {
  const g = new Graph(c.name.replace(/\W+/g, '_'));
  const consts = new Set(c.constants ?? []);
  for (const [name, t] of Object.entries(c.inputs)) {
    if (consts.has(name) && !hideConstants) g.addInitializer(name, t);
    else g.addInput(name, t.dtype, t.shape.slice());
  }
  c.nodes.forEach((n, i) => {
    const ins = n.inputs.map((x) => (x === null || x === '' ? null : g.getOrCreateValue(x)));
    g.addNode(n.op, ins, n.outputs, n.attrs ?? {}, `n${i}_${n.op}`, n.domain ?? '');
  });
  for (const [name, dtype] of Object.entries(c.outputs)) {
    const v = g.value(name)!;
    v.dtype = dtype;
    g.outputs.push(v);
  }
  return g;
}

/** What onnxruntime-node produces for the case: output name -> dtype and shape. */
export async function ortOutputs(c: OracleCase): Promise<Map<string, { dtype: DType; shape: number[] }>> {
  const g = buildGraph(c);
  const dir = mkdtempSync(join(tmpdir(), 'mconv-rules-'));
  try {
    const path = join(dir, 'model.onnx');
    const model = new Model(g, { format: 'onnx' });
    if (c.opsets) model.opsets = { ...model.opsets, ...c.opsets };
    writeFileSync(path, writeOnnx(model, path).main);
    const consts = new Set(c.constants ?? []);
    const feeds = new Map<string, Tensor>();
    for (const [name, t] of Object.entries(c.inputs)) if (!consts.has(name)) feeds.set(name, t);
    const res = await runWithOnnxRuntime(path, feeds);
    const out = new Map<string, { dtype: DType; shape: number[] }>();
    for (const name of Object.keys(c.outputs)) {
      const t = res.get(name);
      if (!t) throw new Error(`${c.name}: onnxruntime gave no output ${name}`);
      out.set(name, { dtype: t.dtype, shape: t.shape.slice() });
    }
    return out;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Inferred types of the case's outputs (graph outputs' declared dtypes are not used: reset). */
export function inferredOutputs(c: OracleCase, hideConstants = false): { types: Map<string, ValueType>; errors: string[] } {
  const g = buildGraph(c, hideConstants);
  const r = inferShapes(g, { write: false, reset: true });
  const types = new Map<string, ValueType>();
  for (const name of Object.keys(c.outputs)) {
    const v = g.value(name)!;
    types.set(name, r.types.get(v) ?? {});
  }
  return { types, errors: r.issues.map((i) => i.message) };
}

function fmt(dtype: DType | undefined, shape: Shape | undefined): string {
  return `${dtype ?? '?'}[${shape ? shape.join(', ') : '?'}]`;
}

/**
 * Problems of a case: every output must have onnxruntime's dtype and shape exactly (constants
 * known), and no contradicting number when the constants are hidden.
 */
export async function checkCase(c: OracleCase): Promise<string[]> {
  const problems: string[] = [];
  const ort = await ortOutputs(c);
  const modes: [boolean, string][] = [[false, 'constants known']];
  if (c.constants?.length) modes.push([true, 'constants hidden']);
  for (const [hide, label] of modes) {
    const { types, errors } = inferredOutputs(c, hide);
    for (const e of errors) problems.push(`${c.name} (${label}): ${e}`);
    for (const [name, want] of ort) {
      const t = types.get(name)!;
      const where = `${c.name} (${label}) ${name}: inferred ${fmt(t.dtype, t.shape)}, onnxruntime ${fmt(want.dtype, want.shape)}`;
      if (t.dtype !== want.dtype) problems.push(where);
      else if (!hide && JSON.stringify(t.shape) !== JSON.stringify(want.shape)) problems.push(where);
      else if (hide && compareDims(t.shape, want.shape) === 'wrong') problems.push(where);
    }
  }
  return problems;
}
