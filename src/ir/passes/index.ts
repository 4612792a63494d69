/**
 * Graph optimisation passes and the pipeline that runs them to a fixed point.
 * Every pass changes the graph in place and returns it.
 */
import { Graph, Model, subgraphsOf } from '../graph.js';
import { constantFolding } from './constant-folding.js';
import { deadCodeElimination } from './dead-code.js';
import { removeIdentities } from './identity.js';
import { transposeOptimizer } from './transpose.js';
import { foldTransposeIntoFlattenMatMul } from './fold-flatten.js';
import { foldConstantIfs } from './if-folding.js';

export { constantFolding, FOLDABLE_OPS, type ConstantFoldingOptions } from './constant-folding.js';
export { deadCodeElimination } from './dead-code.js';
export { removeIdentities } from './identity.js';
export { transposeOptimizer, type TransposeOptions } from './transpose.js';
export { foldTransposeIntoFlattenMatMul } from './fold-flatten.js';
export { foldConstantIfs } from './if-folding.js';

export type Pass = (graph: Graph) => Graph;

/** The passes by name. */
export const PASSES: Record<string, Pass> = {
  'identity': removeIdentities,
  'constant-folding': (g) => constantFolding(g),
  'if-folding': foldConstantIfs,
  'transpose': (g) => transposeOptimizer(g),
  'dead-code': deadCodeElimination,
  'fold-flatten-transpose': (g) => { foldTransposeIntoFlattenMatMul(g); return g; },
};

/** The default pipeline, in order. */
export const DEFAULT_PASSES = ['identity', 'constant-folding', 'if-folding', 'transpose', 'fold-flatten-transpose', 'dead-code'];

export interface OptimizeOptions {
  /** Pass names (from PASSES) or pass functions; default DEFAULT_PASSES. */
  passes?: (string | Pass)[];
  /** Most rounds of the whole pipeline (default 10). */
  maxRounds?: number;
}

export interface OptimizeReport {
  rounds: number;
  nodesBefore: number;
  nodesAfter: number;
  initializersBefore: number;
  initializersAfter: number;
}

/** A cheap description of the graph's structure, to detect a fixed point. */
export function graphFingerprint(graph: Graph): string {
  const parts: string[] = [];
  const walk = (g: Graph) => {
    parts.push(`G${g.name}:${g.inputs.map((v) => v.name).join(',')}>${g.outputs.map((v) => v.name).join(',')}`);
    parts.push(`I${[...g.initializers.keys()].join(',')}`);
    for (const n of g.nodes) {
      parts.push(`${n.op}(${n.inputs.map((v) => v?.name ?? '').join(',')})>${n.outputs.map((v) => v.name).join(',')}`
        + JSON.stringify(Object.entries(n.attrs).map(([k, a]) => [k, a.kind === 'graph' || a.kind === 'graphs' || a.kind === 'tensor' || a.kind === 'tensors' ? a.kind : a.value])));
      for (const sg of subgraphsOf(n)) walk(sg);
    }
  };
  walk(graph);
  return parts.join('\n');
}

function countNodes(g: Graph): number {
  let n = 0;
  for (const node of g.nodes) {
    n++;
    for (const sg of subgraphsOf(node)) n += countNodes(sg);
  }
  return n;
}

/** Runs the pipeline until the graph stops changing (or maxRounds). Returns the same graph. */
export function optimize(graph: Graph, opts: OptimizeOptions = {}): Graph {
  optimizeWithReport(graph, opts);
  return graph;
}

export function optimizeWithReport(graph: Graph, opts: OptimizeOptions = {}): OptimizeReport {
  const passes = (opts.passes ?? DEFAULT_PASSES).map((p) => {
    if (typeof p === 'function') return p;
    const f = PASSES[p];
    if (!f) throw new Error(`unknown pass '${p}' (known: ${Object.keys(PASSES).join(', ')})`);
    return f;
  });
  const max = opts.maxRounds ?? 10;
  const nodesBefore = countNodes(graph);
  const initializersBefore = graph.initializers.size;
  let prev = graphFingerprint(graph);
  let rounds = 0;
  while (rounds < max) {
    rounds++;
    for (const p of passes) p(graph);
    const now = graphFingerprint(graph);
    if (now === prev) break;
    prev = now;
  }
  return { rounds, nodesBefore, nodesAfter: countNodes(graph), initializersBefore, initializersAfter: graph.initializers.size };
}

/**
 * Runs the default pipeline once on a model whose reader left work for it (`model.pendingPasses`:
 * layout Transposes around channels-first ops, from Keras and TF files). Readers do not run it
 * themselves, so `inspect` reads no weights; `run`, `save` and `convert` call this first.
 */
export function prepareModel(model: Model): Model {
  if (!model.pendingPasses) return model;
  optimize(model.graph);
  model.pendingPasses = false;
  return model;
}
