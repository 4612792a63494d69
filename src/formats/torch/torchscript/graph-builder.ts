/**
 * The torch graph builder: registered with graph-hooks.ts when this module is imported. With an
 * architecture file (`--arch`) it builds the graph from the state_dict's tensors; for a TorchScript
 * archive without one it interprets the archive's code. A TorchScript archive whose code cannot be
 * mapped keeps its weights-only model (so `inspect` still shows modules and weights), with the
 * reason in the metadata (`torch.graph_error`), so that run/convert can refuse it with that reason.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { MconvError } from '../../../errors.js';
import { Model, type Graph } from '../../../ir/graph.js';
import { buildFromArch } from '../arch/build.js';
import { registerTorchGraphBuilder, type TorchGraphRequest } from '../graph-hooks.js';
import { buildFromTorchScript } from './build.js';

/** Metadata keys this builder sets. */
export const TORCH_GRAPH_META = {
  /** 'arch' or 'torchscript': where the graph came from. */
  graphSource: 'torch.graph_source',
  /** The arch file used. */
  archFile: 'torch.arch_file',
  /** Why no graph could be built from TorchScript code (one line). */
  graphError: 'torch.graph_error',
} as const;

function withGraph(req: TorchGraphRequest, graph: Graph, how: 'arch' | 'torchscript'): Model {
  graph.name = req.model.graph.name;
  const model = new Model(graph, { ...req.model.source });
  model.producer = req.model.producer;
  model.metadata = { ...req.model.metadata };
  model.metadata['torch.weights_only'] = 'false';
  model.metadata[TORCH_GRAPH_META.graphSource] = how;
  model.metadata['torch.note'] = how === 'arch'
    ? `graph built from the architecture file ${path.basename(req.arch ?? '')} and the state_dict`
    : 'graph built from the TorchScript code (converted in eval mode)';
  if (how === 'arch' && req.arch) model.metadata[TORCH_GRAPH_META.archFile] = req.arch;
  return model;
}

function readArchFile(file: string): string {
  try {
    return readFileSync(path.resolve(file), 'utf8');
  } catch (e) {
    throw new MconvError({ kind: 'usage', file, format: 'torch --arch', message: `cannot read the architecture file: ${(e as Error).message}`, hint: 'give the path of an --arch JSON file (see the README)' });
  }
}

export function buildTorchGraph(req: TorchGraphRequest): Model | undefined {
  if (req.arch !== undefined) {
    const graph = buildFromArch(readArchFile(req.arch), req.stateDict.tensors, { archFile: req.arch, weightsFile: req.source.path });
    return withGraph(req, graph, 'arch');
  }
  if (!req.archive.isTorchScript) return undefined;
  try {
    const graph = buildFromTorchScript(req.archive, { file: req.source.path, inputShapes: req.options.inputShapes });
    const model = withGraph(req, graph, 'torchscript');
    const unknown = graph.inputs.filter((v) => !v.shape).map((v) => v.name);
    if (unknown.length) {
      model.metadata['torch.note'] += `; the shape of input ${unknown.join(', ')} is unknown (TorchScript does not record it): give it with inputShapes to get a fully typed graph`;
    }
    return model;
  } catch (e) {
    if (!(e instanceof MconvError) || e.kind === 'usage') throw e;
    req.model.metadata[TORCH_GRAPH_META.graphError] = e.oneLine();
    req.model.metadata['torch.note'] = `weights of a TorchScript archive; no graph: ${e.message}${e.where ? ` [at ${e.where}]` : ''}`;
    return undefined;
  }
}

registerTorchGraphBuilder(buildTorchGraph);
