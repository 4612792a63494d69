/**
 * TensorFlow.js graph-models (`model.json` with `format: 'graph-model'`): the topology is a
 * GraphDef written as JSON (tf/graph-json.ts), the Const values live in the weights manifest
 * (weights-manifest.ts, quantized ones dequantized), and the signature names the inputs and
 * outputs. The graph goes through the TF importer like a frozen GraphDef.
 */
import { MconvError, unreadable } from '../../errors.js';
import { Graph, Model } from '../../ir/graph.js';
import type { FormatHandler, ModelSourceFiles, ReadOptions } from '../types.js';
import { tfGraphFromJson } from '../tf/graph-json.js';
import { importTfGraph } from '../tf/import-graph.js';
import { readManifest } from './weights-manifest.js';
import { writeTfjsGraphModel } from './graph-writer.js';

type Json = Record<string, unknown>;

/** A JSON object whose head says it is a tfjs graph-model. */
export function looksLikeTfjsGraphModel(head: Uint8Array): boolean {
  const text = new TextDecoder().decode(head.subarray(0, 4096));
  return /^\s*\{/.test(text) && /"format"\s*:\s*"graph-model"/.test(text);
}

/** Signature entries (`signature` or `userDefinedMetadata.signature`): key -> tensor name. */
function signatureNames(json: Json, side: 'inputs' | 'outputs'): { key: string; tensor: string }[] {
  const sig = (json.signature ?? (json.userDefinedMetadata as Json | undefined)?.signature) as Json | undefined;
  const entries = sig?.[side] as Record<string, { name?: string }> | undefined;
  if (!entries) return [];
  return Object.entries(entries).map(([key, v]) => ({ key, tensor: v?.name ?? key }));
}

const stripPort = (s: string) => s.replace(/:0$/, '');

export async function readTfjsGraphModel(source: ModelSourceFiles, options: ReadOptions = {}): Promise<Model> {
  let json: Json;
  try {
    json = JSON.parse(new TextDecoder().decode(source.readAll())) as Json;
  } catch (e) {
    throw unreadable(source.path, 'tfjs-graph', `not valid JSON: ${(e as Error).message}`);
  }
  const topology = json.modelTopology as Json | undefined;
  if (!topology || !Array.isArray(topology.node)) throw unreadable(source.path, 'tfjs-graph', 'modelTopology holds no GraphDef (no node list)');
  const tf = tfGraphFromJson(topology as never);
  // Const values come from the manifest, by node name (`<function>/<node>` inside library functions).
  const weights = new Map(readManifest(json, source, 'tfjs-graph').map((e) => [e.name, e.tensor]));
  const consts = new Map(tf.nodes.filter((n) => n.op === 'Const').map((n) => [n.name, n]));
  for (const f of tf.functions) {
    for (const n of f.nodes) {
      if (n.op !== 'Const') continue;
      const key = weights.has(n.name) ? n.name : `${f.name}/${n.name}`;
      if (weights.has(key)) consts.set(key, n);
    }
  }
  for (const [name, t] of weights) {
    const n = consts.get(name);
    if (n) n.attr.value = { tensor: t };
  }
  const missing = [...consts.values()].filter((n) => !n.attr.value?.tensor).map((n) => n.name);
  if (missing.length) {
    throw unreadable(source.path, 'tfjs-graph', `${missing.length} Const node(s) have no value in the weights manifest (${missing.slice(0, 3).join(', ')}${missing.length > 3 ? ', ...' : ''})`);
  }
  const sigIn = signatureNames(json, 'inputs');
  const sigOut = signatureNames(json, 'outputs');
  const inputs = options.inputs ?? (sigIn.length ? sigIn.map((e) => e.tensor) : undefined);
  const outputs = options.outputs ?? (sigOut.length ? sigOut.map((e) => e.tensor) : undefined);
  let graph;
  try {
    graph = importTfGraph(tf, {
      inputs, outputs,
      inputNames: options.inputs ? undefined : sigIn.length ? sigIn.map((e) => stripPort(e.key)) : undefined,
      outputNames: options.outputs ? undefined : sigOut.length ? sigOut.map((e) => stripPort(e.key)) : undefined,
      inputShapes: options.inputShapes,
      graphName: 'tfjs',
    });
  } catch (e) {
    if (!(e instanceof MconvError)) throw e;
    if (e.kind !== 'unsupported') {
      if (e.file) throw e;
      throw new MconvError({ kind: e.kind, file: source.path, format: 'tfjs-graph', message: e.message, where: e.where, hint: e.hint, cause: e });
    }
    // Ops without converters: the model still inspects (its weights), convert and run say why not.
    const weightsOnly = new Graph('tfjs');
    for (const [name, t] of weights) weightsOnly.addInitializer(weightsOnly.uniqueValueName(name), t);
    const model = new Model(weightsOnly, { format: 'tfjs-graph', path: source.path, fileSize: source.size });
    model.metadata['tf.graph_error'] = e.message;
    model.metadata['tf.note'] = e.hint ?? 'the graph could not be converted; the model holds its weights only';
    return model;
  }
  const model = new Model(graph, { format: 'tfjs-graph', path: source.path, fileSize: source.size });
  model.pendingPasses = true;
  if (typeof json.convertedBy === 'string') model.producer = { name: 'tensorflowjs', version: json.convertedBy };
  if (typeof json.generatedBy === 'string') model.metadata['tfjs.generated_by'] = json.generatedBy;
  if (typeof json.convertedBy === 'string') model.metadata['tfjs.converted_by'] = json.convertedBy;
  model.metadata['tfjs.weights'] = String(weights.size);
  return model;
}

export const tfjsGraphHandler: FormatHandler = {
  id: 'tfjs',
  title: 'TensorFlow.js graph-model',
  extensions: ['.json'],
  sniff: (head) => looksLikeTfjsGraphModel(head),
  read: (source, options) => readTfjsGraphModel(source, options),
  write: async (model, _out, options) => writeTfjsGraphModel(model, { quantize: options?.quantize }),
};
