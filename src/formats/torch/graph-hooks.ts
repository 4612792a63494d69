/**
 * The registration point for building a runnable graph from PyTorch weights.
 *
 * The torch reader (index.ts) always reads the weights into a weights-only Model. When an
 * architecture is given (`ReadOptions.arch`, the CLI's `--arch`) or the file is a TorchScript archive,
 * it then asks the registered builder for a graph. The builder lives in `arch/` / `torchscript/` and
 * registers itself when its module is imported (`registerTorchGraphBuilder(fn)`); the module that
 * wires formats imports it once.
 *
 * Contract: return a Model (usually `request.model` with nodes, inputs and outputs added, or a new
 * one reusing `request.stateDict.tensors`), or undefined to keep the weights-only model (e.g. a
 * TorchScript archive whose code the builder cannot translate when no `arch` was asked for). Throw
 * an MconvError for a user-visible failure.
 */
import type { Model } from '../../ir/graph.js';
import type { ModelSourceFiles, ReadOptions } from '../types.js';
import type { TorchArchive } from './container.js';
import type { StateDict } from './state-dict.js';

export interface TorchGraphRequest {
  source: ModelSourceFiles;
  options: ReadOptions;
  /** The architecture file path (`options.arch`, or `options.config` as a fallback); undefined for TorchScript without one. */
  arch?: string;
  archive: TorchArchive;
  stateDict: StateDict;
  /** The weights-only model already built: initializers named by the dotted keys, metadata filled. */
  model: Model;
}

export type TorchGraphBuilder = (request: TorchGraphRequest) => Model | undefined | Promise<Model | undefined>;

/** The hook the torch reader calls; set by `registerTorchGraphBuilder`. */
export const graphHooks: { buildTorchGraph?: TorchGraphBuilder } = {};

export function registerTorchGraphBuilder(builder: TorchGraphBuilder): void {
  graphHooks.buildTorchGraph = builder;
}
