/**
 * The Keras format handler: `.h5` (Keras 2 and Keras 3 legacy HDF5, full models and
 * `save_weights` files), `.keras` (Keras 3 zip) and `.weights.h5` (Keras 3 state files).
 * A weights file needs the architecture from `ReadOptions.config` (CLI `--config`): a JSON from
 * `model.to_json()` (or KotlinDL's `modelConfig.json`, a `.keras` `config.json`, a tfjs
 * `model.json`), or a full model file. Without it the file still inspects (its weights by layer).
 */
import * as fs from 'node:fs';
import { MconvError, unreadable, usageError } from '../../errors.js';
import { Graph, Model } from '../../ir/graph.js';
import { Hdf5File, looksLikeHdf5 } from '../../io/hdf5.js';
import { ZipArchive } from '../../io/zip.js';
import { memorySourceFiles } from '../../io/files.js';
import type { FormatHandler, ModelSourceFiles, ReadOptions } from '../types.js';
import { parseModel, unwrapModelJson, type KerasModel, type ParsedModelJson } from './config.js';
import { assembleKerasGraph, describeProblems } from './assemble.js';
import { kerasContentsOfHdf5, openHdf5Source, type KerasContents } from './h5-reader.js';
import { looksLikeKerasZip, openKerasZip } from './keras3-zip.js';
import { summaryRows, weightRows } from './summary.js';
import { setKerasSource } from './source.js';
import { assignKeras3, assignLegacy, keras3Groups, readLegacyGroups, type Assignment, type LayerWeights } from './weights.js';
import type { KerasLayer } from './config.js';
import './layers/index.js';

type Json = Record<string, unknown>;

export { registerKerasLayer, kerasLayerConverter, registeredKerasLayers } from './layer-api.js';
export type { KerasLayerConfig, LayerContext, LayerConverter } from './layer-api.js';
export { kerasSourceOf } from './source.js';

/** `Adam (learning_rate 0.001)` from a Keras 2 `training_config` or a Keras 3 `compile_config`. */
function optimizerText(training: Json): string | undefined {
  const opt = (training.optimizer_config ?? training.optimizer) as unknown;
  if (typeof opt === 'string') return opt;
  if (!opt || typeof opt !== 'object') return undefined;
  const o = opt as Json;
  const name = typeof o.class_name === 'string' ? o.class_name : undefined;
  if (!name) return undefined;
  const cfg = (o.config ?? {}) as Json;
  const lr = cfg.learning_rate ?? cfg.lr;
  return typeof lr === 'number' ? `${name} (learning_rate ${Number(lr.toPrecision(7))})` : name;
}

function lossText(training: Json): string | undefined {
  const loss = training.loss;
  if (typeof loss === 'string') return loss;
  if (loss && typeof loss === 'object') {
    const l = loss as Json;
    if (typeof l.class_name === 'string') return l.class_name;
    const values = Object.values(l).map((v) => (typeof v === 'string' ? v : (v as Json)?.class_name)).filter((v) => typeof v === 'string');
    if (values.length) return values.join(', ');
  }
  return undefined;
}

function setMetadata(model: Model, c: { kerasVersion?: string; backend?: string; trainingConfig?: Json; dateSaved?: string; container: string }): void {
  if (c.kerasVersion) model.metadata.keras_version = c.kerasVersion;
  if (c.backend) model.metadata.backend = c.backend;
  if (c.dateSaved) model.metadata['keras.date_saved'] = c.dateSaved;
  model.metadata['keras.container'] = c.container;
  if (c.trainingConfig) {
    model.metadata['keras.training_config'] = JSON.stringify(c.trainingConfig);
    const opt = optimizerText(c.trainingConfig);
    if (opt) model.metadata['keras.optimizer'] = opt;
    const loss = lossText(c.trainingConfig);
    if (loss) model.metadata['keras.loss'] = loss;
  }
  model.producer = { name: 'keras', version: c.kerasVersion };
}

/** Reads the architecture given with `--config`: JSON text, a full `.h5` model, or a `.keras` archive. */
export async function readArchitecture(p: string): Promise<ParsedModelJson> {
  if (!fs.existsSync(p)) throw usageError(`the --config file ${p} does not exist`, 'give the model config JSON (model.to_json()) or a full model file');
  const bytes = new Uint8Array(fs.readFileSync(p));
  const head = bytes.subarray(0, 4096);
  const wrap = (e: unknown): never => {
    if (e instanceof MconvError) throw new MconvError({ kind: 'usage', file: p, format: 'keras', message: `--config: ${e.message}`, hint: e.hint, cause: e });
    throw e;
  };
  if (looksLikeHdf5(head)) {
    const h5 = await Hdf5File.open(p, { format: 'keras' });
    try {
      const c = kerasContentsOfHdf5(h5);
      if (!c.model) throw usageError(`the --config file ${p} holds weights only, no architecture`, 'give the model config JSON (model.to_json()) or a full model file');
      return { ...c.model, kerasVersion: c.kerasVersion ?? c.model.kerasVersion };
    } catch (e) {
      return wrap(e);
    } finally {
      h5.close();
    }
  }
  if (looksLikeKerasZip(head)) {
    try {
      const zip = ZipArchive.open(memorySourceFiles(bytes, p), p, 'keras');
      const parsed = unwrapModelJson(JSON.parse(new TextDecoder().decode(zip.read('config.json'))), 'config.json');
      if (zip.has('metadata.json')) {
        const meta = JSON.parse(new TextDecoder().decode(zip.read('metadata.json'))) as Json;
        if (typeof meta.keras_version === 'string') parsed.kerasVersion = meta.keras_version;
      }
      return parsed;
    } catch (e) {
      return wrap(e);
    }
  }
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(bytes));
  } catch (e) {
    throw usageError(`the --config file ${p} is not JSON, HDF5 or a .keras archive (${(e as Error).message})`, 'give the model config JSON (model.to_json()) or a full model file');
  }
  try {
    return unwrapModelJson(json, p);
  } catch (e) {
    return wrap(e);
  }
}

export interface BuildInput {
  parsed: ParsedModelJson;
  /** Matches the weights to the parsed model. */
  assign: (model: KerasModel) => Assignment;
  source: { path?: string; fileSize?: number; format?: string };
  kerasVersion?: string;
  backend?: string;
  trainingConfig?: Json;
  dateSaved?: string;
  container: string;
}

/** Builds the Model (graph, summary rows, metadata) of a parsed Keras model and its weights. */
export function buildKerasModel(input: BuildInput): Model {
  const kmodel = parseModel(input.parsed.model);
  const assignment = input.assign(kmodel);
  const kerasVersion = input.kerasVersion ?? input.parsed.kerasVersion;
  const result = assembleKerasGraph(kmodel, assignment.byLayer, { kerasVersion });
  const model = new Model(result.graph, { format: input.source.format ?? 'keras', path: input.source.path, fileSize: input.source.fileSize });
  model.layers = summaryRows(kmodel, assignment.byLayer, result.reports);
  setMetadata(model, {
    kerasVersion, backend: input.backend ?? input.parsed.backend, trainingConfig: input.trainingConfig ?? input.parsed.trainingConfig,
    dateSaved: input.dateSaved, container: input.container,
  });
  model.metadata['keras.model_class'] = kmodel.className;
  model.metadata['keras.weights_matched'] = assignment.matched;
  const problems = [...assignment.problems, ...(result.problems.length ? [describeProblems(result.problems)] : [])];
  if (!problems.length) model.pendingPasses = true;
  if (problems.length) {
    model.graph.outputs = [];
    model.metadata['keras.graph_error'] = problems.join('; ');
    model.metadata['keras.note'] = result.problems.some((p) => p.noConverter)
      ? 'layers without a converter: register one with registerKerasLayer() (API)'
      : 'some layers do not convert: see keras.graph_error';
  }
  setKerasSource(model, {
    model: kmodel, weights: assignment.byLayer, kerasVersion, backend: input.backend ?? input.parsed.backend,
    trainingConfig: input.trainingConfig ?? input.parsed.trainingConfig,
  });
  return model;
}

/** A weights file read without an architecture: its weights by layer, no graph. */
function weightsOnlyModel(contents: KerasContents, source: ModelSourceFiles): Model {
  const groups = contents.layout === 'legacy' ? readLegacyGroups(contents.weightsRoot) : keras3Groups(contents.weightsRoot);
  const graph = new Graph('weights');
  for (const g of groups) {
    g.weights.tensors.forEach((t, i) => {
      const stored = g.weights.names[i]!;
      const name = stored.startsWith(`${g.name}/`) ? stored : `${g.name}/${stored}`;
      graph.addInitializer(graph.uniqueValueName(name), t);
    });
  }
  const model = new Model(graph, { format: 'keras', path: source.path, fileSize: source.size });
  model.layers = weightRows(groups);
  setMetadata(model, { ...contents });
  model.metadata['keras.graph_error'] = 'the file holds weights only (save_weights), not the architecture';
  return model;
}

export function sniffKeras(head: Uint8Array): boolean {
  return looksLikeHdf5(head) || looksLikeKerasZip(head);
}

export async function readKeras(source: ModelSourceFiles, options: ReadOptions = {}): Promise<Model> {
  if (source.isDirectory) throw unreadable(source.path, 'keras', 'is a folder; a Keras model is one .h5 or .keras file');
  const head = source.readRange(0, Math.min(4096, source.size));
  let contents: KerasContents;
  if (looksLikeKerasZip(head)) contents = await openKerasZip(source);
  else if (looksLikeHdf5(head)) contents = kerasContentsOfHdf5(await openHdf5Source(source));
  else throw unreadable(source.path, 'keras', 'neither an HDF5 file nor a .keras archive', 'Keras models are .h5 (HDF5) or .keras (zip) files');
  try {
    const parsed = options.config ? await readArchitecture(options.config) : contents.model;
    if (!parsed) return weightsOnlyModel(contents, source);
    const root = contents.weightsRoot;
    return buildKerasModel({
      parsed,
      assign: (m) => (contents.layout === 'legacy' ? assignLegacy(m, readLegacyGroups(root)) : assignKeras3(m, root)),
      source: { path: source.path, fileSize: source.size },
      kerasVersion: contents.kerasVersion ?? parsed.kerasVersion,
      backend: contents.backend,
      trainingConfig: contents.trainingConfig,
      dateSaved: contents.dateSaved,
      container: contents.container,
    });
  } finally {
    // Lazy weights reopen the file when they are read.
    contents.h5.close();
  }
}

export const kerasHandler: FormatHandler = {
  id: 'keras',
  title: 'Keras',
  extensions: ['.h5', '.keras', '.hdf5', '.weights.h5'],
  sniff: (head) => sniffKeras(head),
  read: readKeras,
};

export type { LayerWeights, KerasLayer };
