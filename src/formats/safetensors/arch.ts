/**
 * `--arch` for safetensors: a safetensors file of PyTorch weights (a state_dict converted with
 * `safetensors.torch.save_file`, or by `mconv convert x.pth --to safetensors`) plus a PyTorch
 * architecture file builds the same runnable graph the torch reader builds from a .pth: the tensors
 * are handed, by name, to the torch `--arch` builder (formats/torch/arch), which checks every weight
 * against the modules before building anything.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { MconvError } from '../../errors.js';
import { Model } from '../../ir/graph.js';
import type { Tensor } from '../../ir/tensor.js';
import { buildFromArch } from '../torch/arch/build.js';

/** Metadata keys set on a model built from safetensors weights and an arch file. */
export const SAFETENSORS_ARCH_META = {
  graphSource: 'safetensors.graph_source',
  archFile: 'safetensors.arch_file',
} as const;

function readArchFile(file: string): string {
  try {
    return readFileSync(path.resolve(file), 'utf8');
  } catch (e) {
    throw new MconvError({
      kind: 'usage', file, format: 'torch --arch',
      message: `cannot read the architecture file: ${(e as Error).message}`,
      hint: 'give the path of an --arch JSON file (see src/formats/torch/arch/README.md)',
    });
  }
}

/**
 * The model with a graph built from `archFile` and the weights-only `weights` model's tensors
 * (`tensors`, by safetensors name). Every weight must belong to a module of the arch file.
 */
export function buildSafetensorsArchModel(weights: Model, tensors: Map<string, Tensor>, archFile: string): Model {
  const graph = buildFromArch(readArchFile(archFile), tensors, { archFile, weightsFile: weights.source.path });
  graph.name = weights.graph.name;
  const model = new Model(graph, { ...weights.source });
  model.producer = weights.producer;
  model.metadata = { ...weights.metadata };
  model.metadata['safetensors.weights_only'] = 'false';
  model.metadata[SAFETENSORS_ARCH_META.graphSource] = 'arch';
  model.metadata[SAFETENSORS_ARCH_META.archFile] = archFile;
  return model;
}
