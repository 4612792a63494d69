/**
 * The TensorFlow formats: frozen GraphDefs (`.pb`, or `.pbtxt` text format), SavedModel folders, and checkpoints (a
 * `.index` file, the `checkpoint` state file, a folder holding one, or a TF1 `.meta` graph with
 * its checkpoint beside it). Graphs go through the TF graph importer (import-graph.ts) with the
 * variable values and the signature's inputs/outputs; a checkpoint alone is a weights-only Model.
 * When the importer cannot convert a graph (an op without a converter), the Model keeps the
 * weights, no outputs, and the reason in `tf.graph_error`.
 */
import { importTfGraph, type TfImportOptions } from './import-graph.js';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { MconvError } from '../../errors.js';
import { Graph, Model, type SourceLayer } from '../../ir/graph.js';
import { shapeSize, type Tensor } from '../../ir/tensor.js';
import type { FormatHandler, ModelSourceFiles, ReadOptions } from '../types.js';
import { OBJECT_GRAPH_KEY, VARIABLE_VALUE_SUFFIX, readCheckpoint, shardName, type TfCheckpoint } from './checkpoint.js';
import { bindVariables, type VariableBinding } from './ckpt-variables.js';
import { TfProtoError, decodeGraphDef, decodeMetaGraph, type TfMetaGraph, type TfObjectGraph } from './proto.js';
import { readSavedModel, sessionBundleDir, sessionBundleError, savedModelDir, signatureRequest, chooseSignature, type SavedModelContents, type TfImportRequest } from './saved-model.js';
import { graphDefInFolder, sniffCheckpoint, sniffGraphDef, sniffSavedModel } from './sniff.js';
import { decodeGraphDefText, looksLikeGraphDefText } from './proto-text.js';
import type { TfGraph } from './tf-graph.js';

/** Metadata keys the TF readers set on a Model. */
export const TF_META = {
  /** 'graphdef', 'savedmodel', 'checkpoint', 'metagraph'. */
  container: 'tf.container',
  /** GraphDef versions.producer. */
  graphProducer: 'tf.graph_producer',
  version: 'tf.tensorflow_version',
  gitVersion: 'tf.tensorflow_git_version',
  tags: 'tf.tags',
  signature: 'tf.signature',
  /** JSON: signature key -> { method, inputs: {key: node:port}, outputs: {...} }. */
  signatures: 'tf.signatures',
  /** JSON: variable node -> checkpoint key. */
  variableKeys: 'tf.variable_keys',
  unresolved: 'tf.unresolved_variables',
  checkpointShards: 'tf.checkpoint_shards',
  checkpointPrefix: 'tf.checkpoint_prefix',
  /** JSON: checkpoint key -> object path / TF name (TF2 object-based checkpoints). */
  objectPaths: 'tf.object_paths',
  skipped: 'tf.skipped_tensors',
  weightsOnly: 'tf.weights_only',
  graphError: 'tf.graph_error',
  note: 'tf.note',
  kerasClass: 'tf.keras_class',
} as const;

// ---- the graph importer (import-graph.ts) ----

export type { TfImportOptions };

/** The importer (kept behind a function so the read path stays as it was written). */
function loadImporter(): Promise<typeof importTfGraph> {
  return Promise.resolve(importTfGraph);
}

interface Built {
  model: Model;
  error?: string;
}

/**
 * Imports a TfGraph into a Model. An 'unsupported' failure of the importer (an op without a
 * converter) gives a Model with the weights as initializers and no outputs, the reason in
 * metadata; other failures (bad --inputs, corrupt graphs) propagate.
 */
async function importGraph(req: TfImportRequest, options: ReadOptions, source: ModelSourceFiles, format: string, fallbackWeights: () => Map<string, Tensor>): Promise<Built> {
  const importTfGraph = await loadImporter();
  let error: string | undefined;
  let hint: string | undefined;
  if (importTfGraph) {
    try {
      const graph = importTfGraph(req.graph, {
        variables: req.variables,
        inputs: req.inputs,
        outputs: req.outputs,
        inputNames: req.inputNames,
        outputNames: req.outputNames,
        inputShapes: options.inputShapes,
        graphName: req.graphName,
      });
      const model = new Model(graph, { format, path: source.path, fileSize: source.size });
      model.pendingPasses = true;
      return { model };
    } catch (e) {
      if (!(e instanceof MconvError) || e.kind !== 'unsupported') throw e;
      error = e.where ? `${e.message} [at ${e.where}]` : e.message;
      hint = e.hint;
    }
  } else {
    error = 'the TensorFlow graph importer is not available in this build';
  }
  return weightsOnly(req.graphName, fallbackWeights(), source, format, error, hint && `${hint}; the model holds its weights only`);
}

/** A model of the weights alone, saying why there is no graph (for convert/run to repeat). */
function weightsOnly(name: string, weights: Map<string, Tensor>, source: ModelSourceFiles, format: string, error: string,
  note = 'the graph could not be converted; the model holds its weights only'): Built {
  const graph = new Graph(name);
  for (const [k, t] of weights) graph.addInitializer(graph.uniqueValueName(k), t);
  const model = new Model(graph, { format, path: source.path, fileSize: source.size });
  model.metadata[TF_META.graphError] = error;
  model.metadata[TF_META.note] = note;
  return { model, error };
}

/** Const tensors of a graph (the weights of a frozen graph), by node name. */
function constWeights(graph: TfGraph): Map<string, Tensor> {
  const out = new Map<string, Tensor>();
  for (const n of graph.nodes) {
    const t = n.op === 'Const' ? n.attr.value?.tensor : undefined;
    if (t && t.dtype !== 'string') out.set(n.name, t);
  }
  return out;
}

function setProducer(model: Model, meta: TfMetaGraph | undefined, graph: TfGraph): void {
  model.producer = { name: 'tensorflow', ...(meta?.tensorflowVersion ? { version: meta.tensorflowVersion } : {}) };
  const m = model.metadata;
  if (graph.producer !== undefined) m[TF_META.graphProducer] = String(graph.producer);
  if (meta?.tensorflowVersion) m[TF_META.version] = meta.tensorflowVersion;
  if (meta?.tensorflowGitVersion) m[TF_META.gitVersion] = meta.tensorflowGitVersion;
  if (meta?.tags.length) m[TF_META.tags] = meta.tags.join(',');
  if (meta && Object.keys(meta.signatures).length) {
    const sigs: Record<string, unknown> = {};
    for (const [k, s] of Object.entries(meta.signatures)) {
      const names = (r: Record<string, { name?: string }>): Record<string, string> =>
        Object.fromEntries(Object.entries(r).map(([key, i]) => [key, i.name ?? '']));
      sigs[k] = { method: s.methodName, inputs: names(s.inputs), outputs: names(s.outputs) };
    }
    m[TF_META.signatures] = JSON.stringify(sigs);
  }
}

function setBinding(model: Model, binding: VariableBinding, ckpt: TfCheckpoint | undefined): void {
  const m = model.metadata;
  if (binding.keys.size) m[TF_META.variableKeys] = JSON.stringify(Object.fromEntries(binding.keys));
  if (binding.unresolved.length) m[TF_META.unresolved] = JSON.stringify(binding.unresolved);
  if (ckpt) {
    m[TF_META.checkpointPrefix] = ckpt.prefix;
    m[TF_META.checkpointShards] = String(ckpt.header.numShards);
  }
}

function protoError(file: string, format: string, e: unknown): never {
  if (e instanceof TfProtoError) {
    throw new MconvError({ kind: 'unreadable', file, format, message: `${e.message}`, hint: 'the file may be truncated or corrupt' });
  }
  throw e;
}

// ---- frozen GraphDef ----

async function readGraphDef(source: ModelSourceFiles, options: ReadOptions = {}): Promise<Model> {
  let graph: TfGraph;
  // A folder holding one frozen .pb (sniffGraphDef checked it) reads as that file.
  const inFolder = source.isDirectory ? graphDefInFolder(source.path) : undefined;
  const bytes = inFolder ? source.readSibling(inFolder) : source.readAll();
  const isText = looksLikeGraphDefText(bytes.subarray(0, 4096));
  try {
    graph = isText ? decodeGraphDefText(new TextDecoder().decode(bytes)) : decodeGraphDef(bytes);
  } catch (e) {
    protoError(source.path, 'tf-graphdef', e);
  }
  const name = path.basename(source.path).replace(/\.[^.]*$/, '') || 'main';
  const req: TfImportRequest = { graph, variables: new Map(), graphName: name, ...signatureRequest(undefined, options) };
  const { model } = await importGraph(req, options, source, 'tf-graphdef', () => constWeights(graph));
  setProducer(model, undefined, graph);
  if (inFolder) model.source.fileSize = bytes.byteLength;
  model.metadata[TF_META.container] = isText ? 'graphdef-text' : 'graphdef';
  return model;
}

// ---- SavedModel ----

/** Summary rows from keras_metadata.pb: one per top-level Keras layer, parameters from its variables. */
function kerasLayers(c: SavedModelContents): SourceLayer[] | undefined {
  const objs = c.kerasObjects;
  const og = c.metaGraph.objectGraph;
  if (!objs?.length || !og) return undefined;
  const layerIds = new Set(objs.filter((o) => /^_tf_keras_(layer|input_layer|rnn_layer|network|model|sequential)$/.test(o.identifier)).map((o) => o.nodeId));
  const rows: SourceLayer[] = [];
  const seen = new Set<number>();
  const top = objs.filter((o) => /^root\.layer(_with_weights)?-\d+$/.test(o.nodePath) && layerIds.has(o.nodeId));
  // Keras saves the layers in model order (their object ids follow it); a weighted layer may be
  // listed as root.layer_with_weights-M only.
  top.sort((a, b) => a.nodeId - b.nodeId);
  for (const o of top) {
    if (seen.has(o.nodeId)) continue;
    seen.add(o.nodeId);
    let meta: { name?: string; class_name?: string } = {};
    try {
      meta = JSON.parse(o.metadata) as typeof meta;
    } catch {
      // names only
    }
    const { total, trainable } = layerParameters(og, o.nodeId, layerIds);
    rows.push({
      name: meta.name ?? o.nodePath,
      className: meta.class_name ?? o.identifier.replace(/^_tf_keras_/, ''),
      outputShapes: [],
      parameters: total,
      trainableParameters: trainable,
    });
  }
  return rows.length ? rows : undefined;
}

/** Elements of the variables under an object (not descending into other layers or keras_api). */
function layerParameters(og: TfObjectGraph, id: number, layerIds: Set<number>): { total: number; trainable: number } {
  const seen = new Set<number>([id]);
  const stack = [id];
  let total = 0;
  let trainable = 0;
  while (stack.length) {
    const node = og.nodes[stack.pop()!];
    if (!node) continue;
    for (const c of node.children) {
      if (seen.has(c.nodeId) || layerIds.has(c.nodeId) || c.localName === 'keras_api' || c.localName.startsWith('_')) continue;
      seen.add(c.nodeId);
      const child = og.nodes[c.nodeId];
      if (child?.variable) {
        const n = shapeSize((child.variable.shape ?? []).map((d) => Math.max(d, 0)));
        total += n;
        if (child.variable.trainable) trainable += n;
      } else {
        stack.push(c.nodeId);
      }
    }
  }
  return { total, trainable };
}

async function readSavedModelHandler(source: ModelSourceFiles, options: ReadOptions = {}): Promise<Model> {
  const c = readSavedModel(source, options);
  const req = c.request;
  const { model } = c.signatureError
    ? weightsOnly(req.graphName, c.binding.values, source, 'tf-savedmodel', c.signatureError.message, c.signatureError.hint)
    : await importGraph(req, options, source, 'tf-savedmodel', () => c.binding.values);
  setProducer(model, c.metaGraph, req.graph);
  setBinding(model, c.binding, c.checkpoint);
  if (source.isDirectory) model.source.fileSize = folderBytes(path.join(source.path, c.dir));
  const m = model.metadata;
  m[TF_META.container] = 'savedmodel';
  if (c.signature) m[TF_META.signature] = c.signature.key;
  if (c.kerasObjects?.length) {
    const root = c.kerasObjects.find((o) => o.nodePath === 'root');
    try {
      const meta = JSON.parse(root?.metadata ?? '{}') as { class_name?: string };
      if (meta.class_name) m[TF_META.kerasClass] = meta.class_name;
    } catch {
      // metadata is informative only
    }
    const rows = kerasLayers(c);
    if (rows) model.layers = rows;
  }
  if (!model.layers && c.checkpoint && m[TF_META.graphError]) model.layers = checkpointRows(c.checkpoint);
  return model;
}

// ---- checkpoints ----

/** The `model_checkpoint_path` of a `checkpoint` state file, relative to its folder. */
export function checkpointStatePrefix(text: string): string | undefined {
  const m = /^\s*model_checkpoint_path\s*:\s*"((?:[^"\\]|\\.)*)"/m.exec(text);
  if (!m) return undefined;
  return m[1]!.replace(/\\(.)/g, '$1');
}

interface CheckpointLocation {
  /** `.index` relative to the source's folder. */
  index?: string;
  /** `.meta` relative to the source's folder, when there is one. */
  meta?: string;
}

function locateCheckpoint(source: ModelSourceFiles): CheckpointLocation {
  const p = source.path;
  const base = source.isDirectory ? '' : path.basename(p);
  const fromPrefix = (prefix: string): CheckpointLocation => ({
    index: source.siblingExists(`${prefix}.index`) ? `${prefix}.index` : undefined,
    meta: source.siblingExists(`${prefix}.meta`) ? `${prefix}.meta` : undefined,
  });
  const fromState = (rel: string): CheckpointLocation | undefined => {
    const prefix = checkpointStatePrefix(new TextDecoder().decode(source.readSibling(rel)));
    if (prefix === undefined) return undefined;
    const dir = path.dirname(rel) === '.' ? '' : `${path.dirname(rel)}/`;
    // TF may write an absolute path (of the machine that saved it): try it relative to here first.
    const local = `${dir}${path.basename(prefix)}`;
    if (source.siblingExists(`${local}.index`)) return fromPrefix(local);
    return fromPrefix(path.isAbsolute(prefix) ? prefix : `${dir}${prefix}`);
  };
  if (source.isDirectory) {
    if (source.siblingExists('checkpoint')) {
      const loc = fromState('checkpoint');
      if (loc?.index) return loc;
    }
    const indexes = fs.readdirSync(p).filter((n) => n.endsWith('.index')).sort();
    if (indexes.length > 1) {
      throw new MconvError({
        kind: 'usage', file: p, format: 'tf-checkpoint',
        message: `the folder holds ${indexes.length} checkpoints and no checkpoint state file names one`,
        hint: `give one of them: ${indexes.join(', ')}`,
      });
    }
    if (indexes.length === 1) return fromPrefix(indexes[0]!.slice(0, -'.index'.length));
    const metas = fs.readdirSync(p).filter((n) => n.endsWith('.meta'));
    return metas.length === 1 ? { meta: metas[0] } : {};
  }
  if (base.endsWith('.index')) return { ...fromPrefix(base.slice(0, -'.index'.length)), index: base };
  if (base.endsWith('.meta')) return { ...fromPrefix(base.slice(0, -'.meta'.length)), meta: base };
  return fromState(base) ?? {};
}

/** Bytes of a checkpoint's files (index and data shards). */
function checkpointBytes(source: ModelSourceFiles, ckpt: TfCheckpoint): number {
  const folder = source.isDirectory ? source.path : path.dirname(source.path);
  const files = [ckpt.indexPath, ...Array.from({ length: Math.max(ckpt.header.numShards, 1) }, (_, i) => shardName(ckpt.prefix, i, Math.max(ckpt.header.numShards, 1)))];
  return files.reduce((a, f) => a + (fs.statSync(path.resolve(folder, f), { throwIfNoEntry: false })?.size ?? 0), 0);
}

/** Bytes of the files under a folder (a SavedModel's size). */
function folderBytes(dir: string): number {
  let total = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) total += folderBytes(p);
    else if (e.isFile()) total += fs.statSync(p).size;
  }
  return total;
}

/** TF1 optimizer state: scalars the optimizers add, and slots named `<variable>/<slot>`. */
const TF1_OPTIMIZER_STATE = /(^|\/)(beta1_power|beta2_power|global_step)(_\d+)?$/;

/**
 * One summary row per variable (name, dtype, shape, size). Optimizer state (TF2 slots and
 * `optimizer/...`, TF1 `<variable>/Adam`-style slots), Keras metrics and the save counter are
 * counted as buffers, not parameters.
 */
function checkpointRows(ckpt: TfCheckpoint): SourceLayer[] {
  const keys = new Set(ckpt.tensors.map((t) => t.key));
  const isState = (key: string): boolean => {
    if (key.includes('/.OPTIMIZER_SLOT/') || /^(optimizer|save_counter|keras_api)\//.test(key) || key.startsWith('save_counter')) return true;
    if (TF1_OPTIMIZER_STATE.test(key)) return true;
    const slash = key.lastIndexOf('/');
    return slash > 0 && keys.has(key.slice(0, slash)) && !key.endsWith(VARIABLE_VALUE_SUFFIX);
  };
  const rows: SourceLayer[] = [];
  for (const t of ckpt.tensors) {
    if (t.key === OBJECT_GRAPH_KEY) continue;
    const n = shapeSize(t.shape);
    const state = isState(t.key);
    const type = t.dtype ?? t.dtypeName;
    rows.push({
      // TF2: the variable's TF name (conv2d/kernel); its object path is in tf.object_paths.
      name: t.fullName ?? t.objectPath ?? t.key,
      className: type,
      outputShapes: [t.shape],
      parameters: state ? 0 : n,
      buffers: state ? n : 0,
      ...(t.note ? { unsupported: t.note } : {}),
    });
  }
  return rows;
}

/** A Model of a checkpoint's tensors, named by their keys (the object graph itself left out). */
function weightsOnlyCheckpointModel(ckpt: TfCheckpoint, source: ModelSourceFiles): Model {
  const graph = new Graph(path.basename(ckpt.prefix) || 'checkpoint');
  const skipped: string[] = [];
  for (const t of ckpt.tensors) {
    if (t.key === OBJECT_GRAPH_KEY) continue;
    if (t.note || !t.dtype) {
      skipped.push(`${t.key}: ${t.note ?? t.dtypeName}`);
      continue;
    }
    graph.addInitializer(t.key, ckpt.tensor(t.key));
  }
  const model = new Model(graph, { format: 'tf-checkpoint', path: source.path, fileSize: checkpointBytes(source, ckpt) });
  model.producer = { name: 'tensorflow' };
  model.layers = checkpointRows(ckpt);
  const m = model.metadata;
  m[TF_META.container] = 'checkpoint';
  m[TF_META.weightsOnly] = 'true';
  m[TF_META.checkpointPrefix] = ckpt.prefix;
  m[TF_META.checkpointShards] = String(ckpt.header.numShards);
  if (skipped.length) m[TF_META.skipped] = JSON.stringify(skipped);
  const paths: Record<string, string> = {};
  for (const t of ckpt.tensors) if (t.objectPath !== undefined) paths[t.key] = t.fullName ? `${t.objectPath} (${t.fullName})` : t.objectPath;
  if (Object.keys(paths).length) m[TF_META.objectPaths] = JSON.stringify(paths);
  m[TF_META.graphError] = 'a checkpoint holds variable values only, not the computation';
  m[TF_META.note] = 'weights only: give the TF1 .meta graph beside the checkpoint, or convert the SavedModel';
  return model;
}

async function readCheckpointHandler(source: ModelSourceFiles, options: ReadOptions = {}): Promise<Model> {
  if (source.isDirectory && sessionBundleDir(source.path) !== undefined && savedModelDir(source.path, true) === undefined) {
    throw sessionBundleError(source.path);
  }
  const loc = locateCheckpoint(source);
  if (!loc.index && !loc.meta) {
    throw new MconvError({
      kind: 'unreadable', file: source.path, format: 'tf-checkpoint',
      message: 'no checkpoint found (no <prefix>.index file, or the checkpoint state file names one that is missing)',
      hint: 'give the .index file of the checkpoint',
    });
  }
  const ckpt = loc.index ? readCheckpoint(source, loc.index) : undefined;
  if (!loc.meta) return weightsOnlyCheckpointModel(ckpt!, source);

  // A TF1 graph (.meta) with its checkpoint.
  const metaLabel = source.isDirectory ? path.join(source.path, loc.meta) : path.join(path.dirname(source.path), loc.meta);
  if (path.basename(loc.meta) === 'export.meta') throw sessionBundleError(metaLabel);
  let meta: TfMetaGraph;
  try {
    meta = decodeMetaGraph(source.readSibling(loc.meta));
  } catch (e) {
    protoError(metaLabel, 'tf-checkpoint', e);
  }
  const binding = bindVariables(meta.graph, ckpt, meta.objectGraph);
  const signature = Object.keys(meta.signatures).length ? chooseSignature(meta, options.signature, metaLabel) : undefined;
  const name = path.basename(loc.meta).replace(/\.meta$/, '').replace(/\.ckpt$/, '') || 'model';
  const req: TfImportRequest = { graph: meta.graph, variables: binding.values, graphName: name, ...signatureRequest(signature, options) };
  const { model, error } = await importGraph(req, options, source, 'tf-checkpoint', () => binding.values);
  setProducer(model, meta, meta.graph);
  setBinding(model, binding, ckpt);
  model.metadata[TF_META.container] = 'metagraph';
  model.source.fileSize = (ckpt ? checkpointBytes(source, ckpt) : 0) + (fs.statSync(metaLabel, { throwIfNoEntry: false })?.size ?? 0);
  if (error && ckpt) model.layers = checkpointRows(ckpt);
  if (signature) model.metadata[TF_META.signature] = signature.key;
  if (error && !options.outputs?.length && !signature) {
    model.metadata[TF_META.note] = 'a training graph (.meta) holds training ops too: give the outputs to convert with --outputs NODE:0';
  }
  return model;
}

// ---- handlers ----

export const tfSavedModelHandler: FormatHandler = {
  id: 'tf-savedmodel',
  title: 'TensorFlow SavedModel',
  extensions: [],
  sniff: sniffSavedModel,
  read: readSavedModelHandler,
};

export const tfCheckpointHandler: FormatHandler = {
  id: 'tf-checkpoint',
  title: 'TensorFlow checkpoint',
  extensions: ['.index', '.meta'],
  sniff: sniffCheckpoint,
  read: readCheckpointHandler,
};

export const tfGraphDefHandler: FormatHandler = {
  id: 'tf-graphdef',
  title: 'TensorFlow GraphDef',
  extensions: ['.pb', '.pbtxt'],
  sniff: (head, p) => sniffGraphDef(head, p) || looksLikeGraphDefText(head),
  read: readGraphDef,
};

export { readCheckpoint, shardName, OBJECT_GRAPH_KEY, VARIABLE_VALUE_SUFFIX, type TfCheckpoint, type TfCheckpointTensor } from './checkpoint.js';
export { bindVariables, VARIABLE_OPS, type VariableBinding } from './ckpt-variables.js';
export { readSavedModel, type SavedModelContents, type TfImportRequest } from './saved-model.js';
export { decodeGraphDef, decodeMetaGraph, decodeSavedModel, tensorFromProto } from './proto.js';
export { looksLikeGraphDef, looksLikeSavedModelPb } from './sniff.js';
export { decodeGraphDefText, looksLikeGraphDefText, parseTextMessage } from './proto-text.js';
