/**
 * Runs ONNX backend test cases (Debian libonnx-testdata) against the nn kernels.
 * Single-node cases call the kernel directly (inputs built with toRT, outputs read back with
 * fromRTSync); cases with several nodes or subgraphs (function expansions, If/Loop/Scan) go
 * through the Session, which calls the same kernels.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadModel } from '../../../../src/formats/registry.js';
import { decodeTensorProto } from '../../../../src/formats/onnx/tensor-proto.js';
import { subgraphsOf, type Graph } from '../../../../src/ir/graph.js';
import type { Tensor } from '../../../../src/ir/tensor.js';
import { useBackend, tf } from '../../../../src/runtime/backends.js';
import { compareTensors } from '../../../../src/runtime/compare.js';
import { nnKernels } from '../../../../src/runtime/kernels/nn/index.js';
import type { RT } from '../../../../src/runtime/kernels/types.js';
import { runModel } from '../../../../src/runtime/session.js';
import { fromRTSync, toRT } from '../../../../src/runtime/tensor-bridge.js';

export const NODE_DIR = '/usr/share/libonnx-testdata/data/node';
export const HAVE_NODE_DATA = existsSync(NODE_DIR);
if (!HAVE_NODE_DATA) console.warn(`skipping ONNX backend cases: ${NODE_DIR} is absent (install Debian libonnx-testdata)`);

export const BACKENDS = ['wasm', 'cpu'] as const;

export function caseNames(re: RegExp): string[] {
  if (!HAVE_NODE_DATA) return [];
  return readdirSync(NODE_DIR).filter((n) => re.test(n) && existsSync(join(NODE_DIR, n, 'model.onnx'))).sort();
}

function readPbs(dir: string, prefix: string): Tensor[] {
  const files = readdirSync(dir).filter((f) => f.startsWith(prefix) && f.endsWith('.pb'));
  files.sort((a, b) => Number(a.slice(prefix.length, -3)) - Number(b.slice(prefix.length, -3)));
  return files.map((f) => decodeTensorProto(readFileSync(join(dir, f))));
}

export interface LoadedCase {
  name: string;
  graph: Graph;
  inputs: Tensor[];
  expected: Tensor[];
}

export async function loadCase(name: string): Promise<LoadedCase> {
  const dir = join(NODE_DIR, name);
  const model = await loadModel(join(dir, 'model.onnx'));
  const data = join(dir, 'test_data_set_0');
  return { name, graph: model.graph, inputs: readPbs(data, 'input_'), expected: readPbs(data, 'output_') };
}

/** Whether the case is one node the nn table runs, with no subgraph. */
export function isSingleKernelCase(g: Graph): boolean {
  return g.nodes.length === 1 && subgraphsOf(g.nodes[0]!).length === 0 && g.nodes[0]!.op in nnKernels;
}

/** Runs a single-node case by calling the kernel directly. */
export async function runDirect(c: LoadedCase, backend: string): Promise<Tensor[]> {
  const g = c.graph;
  const node = g.nodes[0]!;
  const fed = new Map<string, Tensor>();
  g.inputs.forEach((v, i) => { if (c.inputs[i]) fed.set(v.name, c.inputs[i]!); });
  const made: RT[] = [];
  const inputs = node.inputs.map((v) => {
    if (!v || !v.name) return undefined;
    const t = fed.get(v.name) ?? g.value(v.name)?.initializer ?? v.initializer;
    if (!t) throw new Error(`case ${c.name}: no value for ${v.name}`);
    const r = toRT(tf, t);
    made.push(r);
    return r;
  });
  const kernel = nnKernels[node.op]!;
  const reason = kernel.check?.(node);
  if (reason) throw new Error(`kernel refuses ${c.name}: ${reason}`);
  const outs = await kernel.run({
    tf, node, inputs, backend,
    runSubgraph: () => { throw new Error('no subgraphs in single-node cases'); },
  });
  try {
    return g.outputs.map((o) => {
      const k = node.outputs.findIndex((v) => v.name === o.name);
      if (k < 0 || !outs[k]) throw new Error(`case ${c.name}: kernel gave no output ${o.name}`);
      return fromRTSync(outs[k]!, o.name);
    });
  } finally {
    for (const o of outs) if (!o.t.isDisposed) o.t.dispose();
    for (const r of made) r.t.dispose();
  }
}

export async function runViaSession(c: LoadedCase, backend: string): Promise<Tensor[]> {
  const feeds = new Map<string, Tensor>();
  c.graph.inputs.forEach((v, i) => { if (c.inputs[i]) feeds.set(v.name, c.inputs[i]!); });
  const res = await runModel(c.graph, feeds, { backend });
  return c.graph.outputs.map((o) => res.get(o.name)!);
}

export interface CaseSuiteOptions {
  /** Tolerance per case (default atol 1e-5, rtol 1e-4). */
  tol?: (name: string) => { atol: number; rtol: number };
  /** Cases that are listed but cannot pass, with the reason (they are reported as skipped). */
  known?: Record<string, string>;
}

/** Defines one vitest suite per backend that runs every named case and compares every output. */
export function defineCaseSuite(title: string, names: string[], opts: CaseSuiteOptions = {}): void {
  for (const backend of BACKENDS) {
    describe.skipIf(!HAVE_NODE_DATA)(`${title} [${backend}]`, () => {
      beforeAll(async () => { await useBackend(backend); });
      it('finds its cases', () => { expect(names.length).toBeGreaterThan(0); });
      for (const name of names) {
        const known = opts.known?.[name];
        it.skipIf(!!known)(known ? `${name} (skipped: ${known})` : name, async () => {
          const c = await loadCase(name);
          const before = tf.memory().numTensors;
          const got = isSingleKernelCase(c.graph) ? await runDirect(c, backend) : await runViaSession(c, backend);
          expect(tf.memory().numTensors - before, 'tensors leaked by the kernels').toBeLessThanOrEqual(0);
          const tol = opts.tol?.(name) ?? { atol: 1e-5, rtol: 1e-4 };
          expect(got.length).toBe(c.expected.length);
          got.forEach((g, i) => {
            const r = compareTensors(`output ${i}`, g, c.expected[i]!, tol);
            const why = r.problem ?? `${r.mismatches}/${r.elements} beyond tolerance, max abs ${r.maxAbsError}, worst got ${r.worstActual} expected ${r.worstExpected}`;
            expect(r.ok, `${name} output ${i}: ${why}`).toBe(true);
          });
        });
      }
    });
  }
}
