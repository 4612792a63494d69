/**
 * TensorFlow SavedModels: a folder with `saved_model.pb` (a SavedModel message holding one or more
 * MetaGraphDefs) and usually `variables/variables.index` + data shards (a checkpoint). Reading
 * picks a MetaGraph (tag `serve` first), a signature (`--signature`, else `serving_default`, else
 * the only one), binds the graph's variables to checkpoint values, and returns what the graph
 * importer needs: the TfGraph (main graph + function library), the variable values, and the
 * signature's inputs and outputs as `node:port` names with their signature keys.
 *
 * TF Serving's layout (a folder of numbered version folders) is accepted: the highest version is
 * read. Keras' `keras_metadata.pb` is read when present, for layer names and classes.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { MconvError } from '../../errors.js';
import type { Tensor } from '../../ir/tensor.js';
import type { ModelSourceFiles, ReadOptions } from '../types.js';
import { readCheckpoint, type TfCheckpoint } from './checkpoint.js';
import { bindVariables, type VariableBinding } from './ckpt-variables.js';
import { parseTextMessage } from './proto-text.js';
import {
  TfProtoError, decodeKerasMetadata, decodeSavedModel, savedModelFromProto, type TfKerasObject, type TfMetaGraph, type TfSavedModel, type TfSignature,
} from './proto.js';
import type { TfGraph } from './tf-graph.js';

export const SAVED_MODEL_FORMAT = 'tf-savedmodel';
export const SAVED_MODEL_PB = 'saved_model.pb';
/** The text-format variant TF can write (`tf.saved_model` with as_text). */
export const SAVED_MODEL_PBTXT = 'saved_model.pbtxt';

function hasSavedModelFile(dir: string): boolean {
  return fs.existsSync(path.join(dir, SAVED_MODEL_PB)) || fs.existsSync(path.join(dir, SAVED_MODEL_PBTXT));
}
export const VARIABLES_INDEX = 'variables/variables.index';
/** The signature key TF uses for the init op of TF2 SavedModels (not a model signature). */
export const INIT_OP_SIGNATURE = '__saved_model_init_op';
export const DEFAULT_SIGNATURE = 'serving_default';

/** What the graph importer gets (see import-graph.ts's TfImportOptions). */
export interface TfImportRequest {
  graph: TfGraph;
  variables: Map<string, Tensor>;
  inputs?: string[];
  outputs?: string[];
  inputNames?: string[];
  outputNames?: string[];
  graphName: string;
}

export interface SavedModelContents {
  /** The folder holding saved_model.pb, relative to the source's folder ('' when it is that folder). */
  dir: string;
  savedModel: TfSavedModel;
  metaGraph: TfMetaGraph;
  signature?: TfSignature;
  /**
   * Why no signature was chosen, when none was asked for and the choice is ambiguous (several
   * signatures, none `serving_default`): the model then inspects, and convert/run say this.
   */
  signatureError?: MconvError;
  /** Model signatures (the init op left out). */
  signatureKeys: string[];
  checkpoint?: TfCheckpoint;
  binding: VariableBinding;
  kerasObjects?: TfKerasObject[];
  request: TfImportRequest;
}

function join(dir: string, rel: string): string {
  return dir ? `${dir}/${rel}` : rel;
}

/**
 * Where saved_model.pb is, relative to the source's folder: '' for a SavedModel folder (or the
 * saved_model.pb file itself), `<version>` for a TF Serving model folder; undefined when none.
 */
export function savedModelDir(sourcePath: string, isDirectory: boolean): string | undefined {
  if (!isDirectory) return [SAVED_MODEL_PB, SAVED_MODEL_PBTXT].includes(path.basename(sourcePath)) ? '' : undefined;
  if (hasSavedModelFile(sourcePath)) return '';
  let versions: string[] = [];
  try {
    versions = fs.readdirSync(sourcePath).filter((d) => /^\d+$/.test(d) && hasSavedModelFile(path.join(sourcePath, d)));
  } catch {
    return undefined;
  }
  if (!versions.length) return undefined;
  versions.sort((a, b) => Number(b) - Number(a));
  return versions[0];
}

/** A TF Serving SessionBundle (the format before SavedModel): `export.meta` + `export-*` files. */
export function sessionBundleDir(sourcePath: string): string | undefined {
  for (const dir of ['', ...safeList(sourcePath).filter((d) => /^\d+$/.test(d))]) {
    if (fs.existsSync(path.join(sourcePath, dir, 'export.meta'))) return dir;
  }
  return undefined;
}

function safeList(dir: string): string[] {
  try {
    return fs.readdirSync(dir);
  } catch {
    return [];
  }
}

function fail(file: string, kind: 'unreadable' | 'unsupported' | 'usage', message: string, hint?: string, where?: string): MconvError {
  return new MconvError({ kind, file, format: SAVED_MODEL_FORMAT, message, hint, where });
}

/** Picks the MetaGraph: the one tagged `serve`, else the first. */
export function chooseMetaGraph(sm: TfSavedModel, file: string): TfMetaGraph {
  if (!sm.metaGraphs.length) throw fail(file, 'unreadable', 'the SavedModel holds no MetaGraph');
  return sm.metaGraphs.find((m) => m.tags.includes('serve')) ?? sm.metaGraphs[0]!;
}

/** The model signatures of a MetaGraph (the TF2 init op left out). */
export function signatureKeys(meta: TfMetaGraph): string[] {
  return Object.keys(meta.signatures).filter((k) => k !== INIT_OP_SIGNATURE);
}

/**
 * Picks the signature: the one asked for, else `serving_default`, else the only one; undefined
 * when the MetaGraph has none. An unknown or ambiguous choice is a usage error listing them.
 */
export function chooseSignature(meta: TfMetaGraph, wanted: string | undefined, file: string): TfSignature | undefined {
  const keys = signatureKeys(meta);
  const list = keys.length ? keys.join(', ') : '(none)';
  if (wanted !== undefined) {
    const s = meta.signatures[wanted];
    if (!s) throw fail(file, 'usage', `the SavedModel has no signature ${JSON.stringify(wanted)}`, `available signatures: ${list}`);
    return s;
  }
  if (meta.signatures[DEFAULT_SIGNATURE]) return meta.signatures[DEFAULT_SIGNATURE];
  if (keys.length === 1) return meta.signatures[keys[0]!];
  if (keys.length === 0) return undefined;
  throw fail(file, 'usage', `the SavedModel has ${keys.length} signatures and none is ${DEFAULT_SIGNATURE}`, `choose one with --signature: ${list}`);
}

/** The signature's inputs/outputs as importer cut points, in key order (or the --inputs/--outputs given). */
export function signatureRequest(signature: TfSignature | undefined, options: ReadOptions): Pick<TfImportRequest, 'inputs' | 'outputs' | 'inputNames' | 'outputNames'> {
  const out: Pick<TfImportRequest, 'inputs' | 'outputs' | 'inputNames' | 'outputNames'> = {};
  if (options.inputs?.length) out.inputs = options.inputs;
  else if (signature) {
    const keys = Object.keys(signature.inputs).filter((k) => signature.inputs[k]!.name);
    out.inputs = keys.map((k) => withPort(signature.inputs[k]!.name!));
    out.inputNames = keys;
  }
  if (options.outputs?.length) out.outputs = options.outputs;
  else if (signature) {
    const keys = Object.keys(signature.outputs).filter((k) => signature.outputs[k]!.name);
    out.outputs = keys.map((k) => withPort(signature.outputs[k]!.name!));
    out.outputNames = keys;
  }
  return out;
}

function withPort(name: string): string {
  return /:\d+$/.test(name) ? name : `${name}:0`;
}

/** Reads a SavedModel folder (or its saved_model.pb) into importer input. */
export function readSavedModel(source: ModelSourceFiles, options: ReadOptions = {}): SavedModelContents {
  const dir = savedModelDir(source.path, source.isDirectory);
  if (dir === undefined) {
    if (source.isDirectory && sessionBundleDir(source.path) !== undefined) throw sessionBundleError(source.path);
    throw fail(source.path, 'unreadable', `no ${SAVED_MODEL_PB} in this folder`, 'a SavedModel folder holds saved_model.pb and a variables/ folder');
  }
  const textForm = source.isDirectory
    ? !source.siblingExists(join(dir, SAVED_MODEL_PB)) && source.siblingExists(join(dir, SAVED_MODEL_PBTXT))
    : path.basename(source.path) === SAVED_MODEL_PBTXT;
  const fileName = textForm ? SAVED_MODEL_PBTXT : SAVED_MODEL_PB;
  const pbRel = source.isDirectory ? join(dir, fileName) : undefined;
  const pbLabel = source.isDirectory ? path.join(source.path, pbRel!) : source.path;
  const bytes = pbRel ? source.readSibling(pbRel) : source.readAll();
  let savedModel: TfSavedModel;
  try {
    savedModel = textForm ? savedModelFromProto(parseTextMessage('SavedModel', new TextDecoder().decode(bytes))) : decodeSavedModel(bytes);
  } catch (e) {
    if (e instanceof TfProtoError) {
      throw fail(pbLabel, 'unreadable', `${fileName} is not a valid SavedModel: ${e.detail}`, 'the file may be truncated or corrupt');
    }
    throw e;
  }
  const metaGraph = chooseMetaGraph(savedModel, pbLabel);
  // With --outputs (and no --signature) the cut points are the user's: an ambiguous choice is no error.
  let signature: TfSignature | undefined;
  let signatureError: MconvError | undefined;
  if (options.outputs?.length && options.signature === undefined) {
    signature = metaGraph.signatures[DEFAULT_SIGNATURE] ?? (signatureKeys(metaGraph).length === 1 ? metaGraph.signatures[signatureKeys(metaGraph)[0]!] : undefined);
  } else {
    try {
      signature = chooseSignature(metaGraph, options.signature, pbLabel);
    } catch (e) {
      // A signature asked for and missing is the user's error now; an ambiguous default waits for convert/run.
      if (!(e instanceof MconvError) || options.signature !== undefined) throw e;
      signatureError = e;
    }
  }

  const indexRel = join(dir, VARIABLES_INDEX);
  const checkpoint = source.siblingExists(indexRel) ? readCheckpoint(source, indexRel) : undefined;
  const binding = bindVariables(metaGraph.graph, checkpoint, metaGraph.objectGraph);

  let kerasObjects: TfKerasObject[] | undefined;
  const kerasRel = join(dir, 'keras_metadata.pb');
  if (source.siblingExists(kerasRel)) {
    try {
      kerasObjects = decodeKerasMetadata(source.readSibling(kerasRel));
    } catch (e) {
      // Only names and classes come from it: a damaged file costs the summary rows, not the model.
      if (!(e instanceof TfProtoError)) throw e;
    }
  }
  const name = path.basename(source.isDirectory ? path.resolve(source.path) : path.dirname(path.resolve(source.path)));
  return {
    dir,
    savedModel,
    metaGraph,
    signature,
    signatureError,
    signatureKeys: signatureKeys(metaGraph),
    checkpoint,
    binding,
    kerasObjects,
    request: {
      graph: metaGraph.graph,
      variables: binding.values,
      ...signatureRequest(signature, options),
      graphName: /^\d+$/.test(name) ? path.basename(path.dirname(path.resolve(source.isDirectory ? source.path : path.dirname(source.path)))) : name,
    },
  };
}

export function sessionBundleError(file: string): MconvError {
  return fail(file, 'unsupported',
    'this is a TF Serving SessionBundle (export.meta + export-* files), the format TensorFlow replaced with SavedModel in 2017',
    'load it in TensorFlow 1.x and save it again with tf.saved_model, then convert the SavedModel');
}
