/**
 * The public API in a few verbs: load, save, convert, run, verify.
 * The CLI only composes these.
 */
import { Model } from './ir/graph.js';
import type { Tensor } from './ir/tensor.js';
import { FORMATS, loadModel, saveModel } from './formats/registry.js';
import type { ReadOptions, WriteOptions } from './formats/types.js';
import type { SessionOptions } from './runtime/session.js';
import { randomInputs } from './runtime/random-inputs.js';
import { CompareOptions, CompareReport, compareOutputs } from './runtime/compare.js';
import { MconvError } from './errors.js';
import { prepareModel } from './ir/passes/index.js';

export type Feeds = Map<string, Tensor> | Record<string, Tensor>;

/** A step of long work, for progress displays: the stage, and how far it is when it counts. */
export interface ProgressEvent {
  stage: 'read' | 'optimize' | 'convert' | 'write' | 'run' | 'compare';
  done?: number;
  total?: number;
  /** What is being worked on: a file, a node name. */
  detail?: string;
}

export interface ProgressOptions {
  /** Called at stage boundaries (and every few nodes while running). */
  onProgress?: (event: ProgressEvent) => void;
}

export interface LoadOptions extends ReadOptions, ProgressOptions {}

/** Reads a model file (any supported format) into the IR. */
export function load(path: string, options?: LoadOptions): Promise<Model> {
  options?.onProgress?.({ stage: 'read', detail: path });
  return loadModel(path, options);
}

export interface SaveOptions extends WriteOptions, ProgressOptions {
  /** Target format id ('onnx', ...); default: from the output's extension. */
  format?: string;
}

/** Formats that hold weights alone, so a model without a graph can be written to them. */
const WEIGHTS_ONLY_FORMATS = new Set(['safetensors', 'torch']);

/**
 * Refuses a model that has no computation (a state_dict without an architecture, a TorchScript
 * file whose code could not be mapped) where a graph is needed, saying why and what to do.
 */
export function requireGraph(model: Model, what: string): void {
  if (model.graph.outputs.length > 0) return;
  const m = model.metadata;
  const why = m['torch.graph_error'] ?? m['keras.graph_error'] ?? m['tf.graph_error'];
  throw new MconvError({
    kind: 'unsupported',
    file: model.source.path,
    format: model.source.format,
    message: why ? `cannot ${what}: no graph could be built (${why})` : `cannot ${what}: the file holds weights only, no computation graph`,
    hint: m['torch.note'] ?? m['keras.note'] ?? m['tf.note'] ?? 'give the architecture (--arch FILE or --config FILE), or convert to safetensors to move the weights alone',
  });
}

/** Writes a model atomically; returns the paths written. */
export function save(model: Model, outPath: string, options: SaveOptions = {}): Promise<string[]> {
  const lower = outPath.toLowerCase();
  const format = options.format ?? FORMATS.find((f) => f.extensions.some((e) => lower.endsWith(e)))?.id ?? lower.split('.').pop();
  if (!WEIGHTS_ONLY_FORMATS.has(format ?? '')) requireGraph(model, `write it as ${format ?? 'this format'}`);
  if (model.pendingPasses) options.onProgress?.({ stage: 'optimize' });
  prepareModel(model);
  options.onProgress?.({ stage: 'write', detail: outPath });
  return saveModel(model, outPath, options);
}

/** Reads `inPath` and writes it as `options.format` to `outPath`. */
export async function convert(inPath: string, outPath: string, options: SaveOptions & ReadOptions = {}): Promise<{ model: Model; written: string[] }> {
  options.onProgress?.({ stage: 'convert', detail: `${inPath} -> ${outPath}` });
  const model = await load(inPath, options);
  const written = await save(model, outPath, options);
  return { model, written };
}

export interface RunOptions extends SessionOptions, ProgressOptions {
  /** Seed for random inputs when no feeds are given. */
  seed?: number;
  /** Values for symbolic dims of random inputs (default 1). */
  dims?: Record<string, number>;
}

/** Runs a model; without feeds, seeded random inputs are used. Returns inputs used and outputs. */
export async function run(model: Model, feeds?: Feeds, options: RunOptions = {}): Promise<{ inputs: Map<string, Tensor>; outputs: Map<string, Tensor> }> {
  requireGraph(model, 'run it');
  const progress = options.onProgress;
  if (model.pendingPasses) progress?.({ stage: 'optimize' });
  prepareModel(model);
  const inputs = feeds ? (feeds instanceof Map ? feeds : new Map(Object.entries(feeds))) : randomInputs(model.graph.inputs, options);
  // The runtime (and tfjs) loads only when something runs.
  const { Session } = await import('./runtime/session.js');
  progress?.({ stage: 'run', detail: 'loading the backend' });
  let sessionOptions: SessionOptions = options;
  if (progress) {
    // One event per ~1% of the nodes: cheap next to the kernels.
    const onNode = options.onNode;
    sessionOptions = {
      ...options,
      onNode: (node, i, total) => {
        onNode?.(node, i, total);
        if (i % Math.max(1, Math.floor(total / 100)) === 0) progress({ stage: 'run', done: i, total, detail: node.name });
      },
    };
  }
  const session = await Session.create(model, sessionOptions);
  try {
    const outputs = await session.run(inputs);
    const total = model.graph.nodes.length;
    progress?.({ stage: 'run', done: total, total });
    return { inputs, outputs };
  } finally {
    session.dispose();
  }
}

export interface VerifyOptions extends RunOptions, CompareOptions {}

/**
 * Runs two models on the same inputs (given, or random from `a`'s inputs) and compares the outputs
 * (by name when the names match, else by position).
 */
export async function verify(a: Model, b: Model, feeds?: Feeds, options: VerifyOptions = {}): Promise<{ report: CompareReport; inputs: Map<string, Tensor> }> {
  const aIn = a.graph.inputs.map((v) => v.name);
  const bIn = b.graph.inputs.map((v) => v.name);
  if (aIn.length !== bIn.length) {
    throw new MconvError({ kind: 'mismatch', message: `the models take different numbers of inputs (${aIn.length} vs ${bIn.length})` });
  }
  const ra = await run(a, feeds, options);
  const bFeeds = new Map<string, Tensor>();
  aIn.forEach((name, i) => {
    const t = ra.inputs.get(name)!;
    bFeeds.set(bIn.includes(name) ? name : bIn[i]!, t);
  });
  const rb = await run(b, bFeeds, options);
  options.onProgress?.({ stage: 'compare' });
  const sameNames = [...ra.outputs.keys()].every((k) => rb.outputs.has(k));
  const report = compareOutputs(rb.outputs, ra.outputs, { ...options, byPosition: !sameNames });
  return { report, inputs: ra.inputs };
}
