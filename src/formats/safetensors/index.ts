/**
 * The safetensors format: a Model whose graph holds the tensors as initializers (no nodes).
 * `__metadata__` entries are kept in `model.metadata` as `safetensors.meta.<key>` and written back;
 * a model from PyTorch without such entries is written with `format: pt`, as PyTorch tools expect.
 * With `--arch` (ReadOptions.arch) the tensors are PyTorch weights and the graph is built by the torch
 * architecture builder (arch.ts).
 */
import * as path from 'node:path';
import { Graph, Model } from '../../ir/graph.js';
import type { FormatHandler } from '../types.js';
import { buildSafetensorsArchModel } from './arch.js';
import { looksLikeSafetensors, readSafetensors } from './reader.js';
import { writeSafetensors } from './writer.js';

export const SAFETENSORS_META_PREFIX = 'safetensors.meta.';

export const safetensorsHandler: FormatHandler = {
  id: 'safetensors',
  title: 'safetensors',
  extensions: ['.safetensors'],
  sniff: (head) => looksLikeSafetensors(head),
  async read(source, options = {}) {
    const content = readSafetensors(source);
    const graph = new Graph(path.basename(source.path).replace(/\.safetensors$/i, '') || 'main');
    for (const [name, t] of content.tensors) graph.addInitializer(name, t);
    const model = new Model(graph, { format: 'safetensors', path: source.path, fileSize: source.size });
    if (content.metadata) for (const [k, v] of content.metadata) model.metadata[SAFETENSORS_META_PREFIX + k] = v;
    model.metadata['safetensors.weights_only'] = 'true';
    // PyTorch weights plus an architecture file (--arch): the torch arch builder makes the graph.
    if (options.arch !== undefined) return buildSafetensorsArchModel(model, content.tensors, options.arch);
    return model;
  },
  async write(model, outPath) {
    const meta = new Map<string, string>();
    for (const [k, v] of Object.entries(model.metadata)) {
      if (k.startsWith(SAFETENSORS_META_PREFIX)) meta.set(k.slice(SAFETENSORS_META_PREFIX.length), v);
    }
    if (meta.size === 0 && model.source.format === 'torch') meta.set('format', 'pt');
    const tensors: [string, import('../../ir/tensor.js').Tensor][] = [];
    for (const [name, v] of model.graph.initializers) if (v.initializer) tensors.push([name, v.initializer]);
    return { main: writeSafetensors(tensors, meta, outPath), extra: new Map() };
  },
};

export { readSafetensors, parseSafetensorsHeader, looksLikeSafetensors, type SafetensorsContent, type SafetensorsEntry } from './reader.js';
export { writeSafetensors } from './writer.js';
export { SAFETENSORS_TO_DTYPE, DTYPE_TO_SAFETENSORS } from './dtypes.js';
