/**
 * TensorFlow.js layers-models (`model.json` with `format: 'layers-model'`): written from
 * Keras-sourced models (`--to tfjs-layers`), and read back through the Keras reader (the topology
 * is a Keras config; the weights come from the manifest's shards), so a written model can be
 * loaded, run and compared like any other.
 */
import { unreadable, unsupported } from '../../errors.js';
import type { Model } from '../../ir/graph.js';
import type { Tensor } from '../../ir/tensor.js';
import { readManifest } from './weights-manifest.js';
import type { FormatHandler, ModelSourceFiles, WrittenFiles } from '../types.js';
import { unwrapModelJson, type KerasLayer, type KerasModel } from '../keras/config.js';
import { buildKerasModel } from '../keras/index.js';
import { writeTfjsLayersModel } from '../keras/tfjs-layers-writer.js';
import type { Assignment, LayerWeights } from '../keras/weights.js';

type Json = Record<string, unknown>;

/** A JSON object whose head looks like a tfjs layers-model (not a graph-model). */
export function looksLikeTfjsLayersModel(head: Uint8Array): boolean {
  const text = new TextDecoder().decode(head.subarray(0, 4096));
  if (!/^\s*\{/.test(text)) return false;
  if (text.includes('"graph-model"')) return false;
  return text.includes('"layers-model"') || (text.includes('"modelTopology"') && /"(class_name|model_config)"/.test(text));
}
/** Keras order of a layer's weights by their short names. */
const RANK: Record<string, number> = {
  kernel: 0, depthwise_kernel: 0, embeddings: 0, alpha: 0, gamma: 0, mean: 0,
  pointwise_kernel: 1, recurrent_kernel: 1, beta: 1, variance: 1,
  bias: 2, moving_mean: 2, count: 2, moving_variance: 3,
};

/** Gives each leaf layer its weights: the owner is the first component of a name that is a layer. */
function assignByName(model: KerasModel, entries: { name: string; tensor: Tensor }[]): Assignment {
  const leaves = new Map<string, KerasLayer>();
  const walk = (m: KerasModel) => m.layers.forEach((l) => (l.model ? walk(l.model) : leaves.set(l.name, l)));
  walk(model);
  const byLayer = new Map<KerasLayer, LayerWeights>();
  const problems: string[] = [];
  const lists = new Map<KerasLayer, { name: string; tensor: Tensor }[]>();
  for (const e of entries) {
    const owner = e.name.split('/').map((p) => leaves.get(p)).find((l) => l !== undefined);
    if (!owner) {
      problems.push(`weight ${e.name} names no layer of the model`);
      continue;
    }
    const list = lists.get(owner) ?? [];
    list.push(e);
    lists.set(owner, list);
  }
  for (const [layer, list] of lists) {
    const key = (n: string): [number, number] => {
      const parts = n.split('/');
      const base = parts[parts.length - 1]!.replace(/:\d+$/, '');
      const dir = parts.some((p) => p.startsWith('backward_')) ? 1 : 0;
      return [dir, RANK[base] ?? 9];
    };
    const sorted = list.map((e, i) => ({ e, i, k: key(e.name) }))
      .sort((a, b) => a.k[0] - b.k[0] || a.k[1] - b.k[1] || a.i - b.i).map((x) => x.e);
    byLayer.set(layer, { names: sorted.map((e) => e.name), tensors: sorted.map((e) => e.tensor) });
  }
  return { byLayer, matched: 'by name', problems };
}

export async function readTfjsLayersModel(source: ModelSourceFiles): Promise<Model> {
  let json: Json;
  try {
    json = JSON.parse(new TextDecoder().decode(source.readAll())) as Json;
  } catch (e) {
    throw unreadable(source.path, 'tfjs-layers', `not valid JSON: ${(e as Error).message}`);
  }
  if (json.format !== undefined && json.format !== 'layers-model') {
    throw unsupported(source.path, 'tfjs-layers', `a tfjs ${String(json.format)}, not a layers-model`);
  }
  const parsed = unwrapModelJson(json, 'modelTopology');
  const entries = readManifest(json, source, 'tfjs-layers');
  return buildKerasModel({
    parsed,
    assign: (m) => assignByName(m, entries),
    source: { path: source.path, fileSize: source.size, format: 'tfjs-layers' },
    kerasVersion: parsed.kerasVersion,
    container: 'tfjs-layers-model',
  });
}

export const tfjsLayersHandler: FormatHandler = {
  id: 'tfjs-layers',
  title: 'TensorFlow.js layers-model',
  extensions: ['.json'],
  sniff: (head) => looksLikeTfjsLayersModel(head),
  read: (source) => readTfjsLayersModel(source),
  write: async (model: Model): Promise<WrittenFiles> => writeTfjsLayersModel(model),
};
