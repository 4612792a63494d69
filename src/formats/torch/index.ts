/**
 * The PyTorch format: `torch.save` files (zip and legacy), checkpoints holding a state_dict, and
 * TorchScript archives. Reading gives a weights-only Model (initializers named by the dotted keys, no
 * nodes); an architecture (`--arch`) or TorchScript code is turned into a graph by the builder
 * registered in graph-hooks.ts, when one is. Writing gives a state_dict of the model's initializers,
 * as torch.save writes it (writer.ts).
 */
import * as path from 'node:path';
import { MconvError } from '../../errors.js';
import { Graph, Model, type SourceLayer } from '../../ir/graph.js';
import { moduleTree, type ModuleNode, type ModuleTensor } from './module-tree.js';
import type { FormatHandler, ModelSourceFiles, ReadOptions } from '../types.js';
import { readTorchArchive } from './container.js';
import { graphHooks } from './graph-hooks.js';
import { looksLikeTorch } from './sniff.js';
import { torchArchiveName, writeTorchStateDict } from './writer.js';
import { stateDictFromArchive, type StateDict } from './state-dict.js';
// Registers the graph builder (--arch files and TorchScript code) with graph-hooks.ts.
import './torchscript/graph-builder.js';

/** Metadata keys the torch reader sets on a Model. */
export const TORCH_META = {
  container: 'torch.container',
  content: 'torch.content',
  weightsOnly: 'torch.weights_only',
  buffers: 'torch.buffers',
  stateDictKey: 'torch.state_dict_key',
  ignored: 'torch.ignored_keys',
  byteOrder: 'torch.byteorder',
  version: 'torch.archive_version',
  note: 'torch.note',
} as const;

/** The weights-only Model of a state_dict: one initializer per tensor, names exactly as in the file. */
export function weightsOnlyModel(sd: StateDict, source: Pick<ModelSourceFiles, 'path' | 'size'>): Model {
  const graph = new Graph(path.basename(source.path).replace(/\.[^.]*$/, '') || 'main');
  for (const [name, t] of sd.tensors) graph.addInitializer(name, t);
  const model = new Model(graph, { format: 'torch', path: source.path, fileSize: source.size });
  model.producer = { name: 'pytorch' };
  const a = sd.archive;
  const m = model.metadata;
  m[TORCH_META.container] = a.kind === 'zip' ? (a.isTorchScript ? 'torchscript' : 'zip') : 'legacy';
  m[TORCH_META.content] = sd.layout;
  m[TORCH_META.weightsOnly] = 'true';
  m[TORCH_META.buffers] = JSON.stringify([...sd.buffers]);
  if (sd.rootPath) m[TORCH_META.stateDictKey] = sd.rootPath;
  if (sd.ignored.length) m[TORCH_META.ignored] = JSON.stringify(sd.ignored);
  m[TORCH_META.byteOrder] = a.byteOrder;
  if (a.version !== undefined) m[TORCH_META.version] = a.version;
  m[TORCH_META.note] = a.isTorchScript
    ? 'weights of a TorchScript archive; no graph was built from its code'
    : 'weights only: a state_dict holds no architecture; give --arch to build a runnable graph';
  return model;
}

/** The module tree as summary rows (like `print(model)` with torchinfo's parameter counts). */
export function moduleLayers(sd: StateDict): SourceLayer[] {
  const tensorRow = (t: ModuleTensor): SourceLayer => ({
    name: t.name,
    className: `${t.buffer ? 'buffer' : 'parameter'} ${t.dtype}`,
    outputShapes: [t.shape],
    parameters: t.buffer ? 0 : t.count,
    buffers: t.buffer ? t.count : 0,
  });
  const toLayer = (n: ModuleNode): SourceLayer => ({
    name: n.path || n.name,
    className: n.className ?? '',
    outputShapes: [],
    parameters: n.totalParameters,
    buffers: n.totalBuffers,
    children: [...n.tensors.map(tensorRow), ...n.children.map(toLayer)],
  });
  const root = moduleTree(sd.tensors, sd.buffers, sd.moduleClasses);
  // Tensors directly on the root module (rare) show as a row of their own.
  const rows = root.children.map(toLayer);
  if (root.tensors.length) rows.unshift(...root.tensors.map(tensorRow));
  return rows;
}

async function readTorch(source: ModelSourceFiles, options: ReadOptions = {}): Promise<Model> {
  const archive = readTorchArchive(source);
  const stateDict = stateDictFromArchive(archive, source.path);
  const model = weightsOnlyModel(stateDict, source);
  model.layers = moduleLayers(stateDict);
  const arch = options.arch ?? options.config;
  if (arch !== undefined || archive.isTorchScript) {
    const build = graphHooks.buildTorchGraph;
    if (build) {
      const built = await build({ source, options, arch, archive, stateDict, model });
      if (built) {
        built.layers ??= model.layers;
        return built;
      }
    } else if (arch !== undefined) {
      throw new MconvError({
        kind: 'unsupported', file: source.path, format: 'torch',
        message: 'building a graph from an architecture file is not available in this build',
        hint: 'inspect the weights without --arch, or export the model to ONNX with torch.onnx.export',
      });
    }
  }
  return model;
}

export const torchHandler: FormatHandler = {
  id: 'torch',
  title: 'PyTorch',
  extensions: ['.pth', '.pt', '.bin', '.ckpt'],
  sniff: (head) => looksLikeTorch(head),
  read: readTorch,
  // Writes the model's weights (its initializers) as a state_dict, the way torch.save does; a graph is not kept.
  async write(model, outPath) {
    const tensors: [string, import('../../ir/tensor.js').Tensor][] = [];
    for (const [name, v] of model.graph.initializers) if (v.initializer) tensors.push([name, v.initializer]);
    return { main: writeTorchStateDict(tensors, { file: outPath, archiveName: torchArchiveName(outPath) }), extra: new Map() };
  },
};

export { readTorchArchive, looksLikeLegacyTorch, LEGACY_MAGIC, type TorchArchive } from './container.js';
export { readStateDict, stateDictFromArchive, BUFFER_NAMES, CHECKPOINT_KEYS, type StateDict, type StateDictLayout } from './state-dict.js';
export { moduleTree, formatModuleTree, type ModuleNode, type ModuleTensor } from './module-tree.js';
export { graphHooks, registerTorchGraphBuilder, type TorchGraphBuilder, type TorchGraphRequest } from './graph-hooks.js';
export { looksLikeTorch } from './sniff.js';
export { writeTorchStateDict, torchArchiveName, contiguousStrides, TORCH_ZIP_ALIGNMENT, type TorchWriteOptions } from './writer.js';
export { TorchStorage } from './storage.js';
export { TorchDtype, TorchDevice, TorchStorageType, TorchTypeMarker, torchFindClass, type TorchPickleContext } from './globals.js';
