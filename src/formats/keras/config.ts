/**
 * Keras model configs (`model_config` of an HDF5 file, `config.json` of a `.keras` zip,
 * `model.to_json()`, the `modelTopology` of a tfjs layers-model) parsed into one shape:
 * a model with its layers, each layer with its calls (the tensors it is applied to), nested
 * models parsed the same way.
 *
 * Both spellings are read:
 * - Keras 2: `inbound_nodes: [[[layer, node, tensor, kwargs], ...], ...]` (one list per call),
 *   `input_layers: [[name, 0, 0]]`, `batch_input_shape`, a Sequential whose first layer carries the
 *   input shape (or, before 2.2.3, a `config` that is the list of layers).
 * - Keras 3: `inbound_nodes: [{args: [...], kwargs: {...}}]` with `__keras_tensor__` entries
 *   (`keras_history: [layer, node, tensor]`), `input_layers` as one triple or a list, `batch_shape`,
 *   dtype policies (`{class_name: 'DTypePolicy', config: {name}}`), `module`/`registered_name`.
 */
import { MconvError } from '../../errors.js';
import type { DType } from '../../ir/tensor.js';
import type { KerasLayerConfig } from './layer-api.js';

type Json = Record<string, unknown>;

/** One tensor of the model: output `tensor` of call `node` of `layer`. */
export interface TensorRef {
  layer: string;
  node: number;
  tensor: number;
}

export interface KerasCall {
  /** Positional inputs, then `initial_state` tensors (the order converters expect). */
  inputs: TensorRef[];
  /** Set when the call uses something the converters cannot take (a tensor `mask` argument, a constant input). */
  problem?: string;
}

export interface KerasInputSpec {
  /** Shape with the batch; null for unknown sizes. */
  shape: (number | null)[];
  dtype: DType;
}

export interface KerasLayer {
  name: string;
  className: string;
  /** The layer's entry as read (`class_name`, `config`, Keras 3 `module`, ...), handed to converters. */
  entry: KerasLayerConfig;
  calls: KerasCall[];
  trainable: boolean;
  /** Set for an InputLayer (and for the input a Sequential model implies). */
  input?: KerasInputSpec;
  /** A model used as a layer. */
  model?: KerasModel;
  /** Set on the input layer mconv adds to a Sequential whose config has none. */
  implicit?: boolean;
  /**
   * For a nested model: the node index of its first call. Keras counts a model built on its own
   * Input as having a node already (Keras 2 models, Keras 3 Functional), so calls are nodes 1, 2, ...
   */
  nodeOffset?: number;
}

export interface KerasModel {
  name: string;
  /** `Sequential`, `Functional`, `Model` (Keras 2 functional), ... */
  className: string;
  sequential: boolean;
  layers: KerasLayer[];
  inputs: TensorRef[];
  outputs: TensorRef[];
  /** The model entry as read. */
  entry: Json;
}

/** What a config file holds besides the model. */
export interface ParsedModelJson {
  /** The model entry (`{class_name, config}`). */
  model: Json;
  kerasVersion?: string;
  backend?: string;
  trainingConfig?: Json;
}

function configError(message: string, where?: string, hint?: string): MconvError {
  return new MconvError({ kind: 'unreadable', format: 'keras', message, where, hint: hint ?? 'the model config is not one Keras writes' });
}

function isObj(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Model classes whose config lists layers (a Functional model or a Sequential). */
export const MODEL_CLASSES = new Set(['Sequential', 'Functional', 'Model']);

/**
 * Unwraps the JSON shapes a model config comes in: a bare `{class_name, config}`, `model.to_json()`
 * (with `keras_version`, `backend`), a tfjs `model.json` (`modelTopology`, possibly holding
 * `model_config` + `training_config`), a `.keras` `config.json` (with `compile_config`).
 */
export function unwrapModelJson(json: unknown, where = 'config'): ParsedModelJson {
  if (!isObj(json)) throw configError(`${where} is not a JSON object`);
  let top: Json = json;
  let trainingConfig: Json | undefined;
  if (isObj(top.modelTopology)) top = top.modelTopology;
  if (isObj(top.model_config)) {
    if (isObj(top.training_config)) trainingConfig = top.training_config;
    top = { ...top.model_config, keras_version: top.keras_version ?? (top.model_config as Json).keras_version, backend: top.backend ?? (top.model_config as Json).backend };
  }
  if (typeof top.class_name !== 'string' || top.config === undefined) {
    throw configError(`${where} has no Keras model (expected {"class_name": ..., "config": ...})`);
  }
  if (!trainingConfig && isObj(top.compile_config)) trainingConfig = top.compile_config;
  return {
    model: top,
    kerasVersion: typeof top.keras_version === 'string' ? top.keras_version : undefined,
    backend: typeof top.backend === 'string' ? top.backend : undefined,
    trainingConfig,
  };
}

const DTYPES: Record<string, DType> = {
  float32: 'float32', float64: 'float64', float16: 'float16', bfloat16: 'bfloat16', half: 'float16', double: 'float64', float: 'float32',
  int8: 'int8', int16: 'int16', int32: 'int32', int64: 'int64', uint8: 'uint8', uint16: 'uint16', uint32: 'uint32', uint64: 'uint64',
  bool: 'bool', string: 'string', mixed_float16: 'float16', mixed_bfloat16: 'bfloat16',
};

/** A Keras dtype (a string, or a Keras 3 dtype policy object) as an IR dtype. */
export function kerasDType(v: unknown, dflt: DType = 'float32'): DType {
  if (typeof v === 'string') return DTYPES[v] ?? dflt;
  if (isObj(v)) {
    const cfg = v.config;
    if (isObj(cfg) && typeof cfg.name === 'string') return kerasDType(cfg.name, dflt);
    if (typeof v.name === 'string') return kerasDType(v.name, dflt);
  }
  return dflt;
}

function shapeOf(v: unknown): (number | null)[] | undefined {
  if (!Array.isArray(v)) return undefined;
  if (!v.every((d) => d === null || typeof d === 'number')) return undefined;
  return v as (number | null)[];
}

/** The input a layer config declares: `batch_input_shape` / `batch_shape`, or `input_shape` plus the batch. */
export function declaredInput(cfg: Json): KerasInputSpec | undefined {
  const batch = shapeOf(cfg.batch_input_shape) ?? shapeOf(cfg.batch_shape);
  const shape = batch ?? (shapeOf(cfg.input_shape) ? [null, ...shapeOf(cfg.input_shape)!] : undefined);
  if (!shape) return undefined;
  return { shape, dtype: kerasDType(cfg.dtype) };
}

function layerName(entry: Json, where: string): string {
  const cfg = isObj(entry.config) ? entry.config : {};
  const name = (typeof entry.name === 'string' ? entry.name : undefined) ?? (typeof cfg.name === 'string' ? cfg.name : undefined);
  if (!name) throw configError(`a layer of class ${String(entry.class_name)} has no name`, where);
  return name;
}

function toLayerConfig(entry: Json, name: string): KerasLayerConfig {
  const out: KerasLayerConfig = {
    class_name: entry.class_name as string,
    config: (isObj(entry.config) ? entry.config : {}) as Record<string, unknown>,
    name,
  };
  if (typeof entry.module === 'string') out.module = entry.module;
  if (typeof entry.registered_name === 'string') out.registered_name = entry.registered_name;
  return out;
}

/** `[name, node, tensor]` (numbers may be missing in hand-written configs). */
function refOf(v: unknown): TensorRef | undefined {
  if (!Array.isArray(v) || typeof v[0] !== 'string') return undefined;
  const node = typeof v[1] === 'number' ? v[1] : 0;
  const tensor = typeof v[2] === 'number' ? v[2] : 0;
  return { layer: v[0], node, tensor };
}

function isKerasTensor(v: unknown): v is Json {
  return isObj(v) && v.class_name === '__keras_tensor__' && isObj(v.config);
}

/** Keras 3 keras tensors found in a value, depth first, in order. */
function keras3Tensors(v: unknown, out: TensorRef[]): TensorRef[] {
  if (isKerasTensor(v)) {
    const ref = refOf((v.config as Json).keras_history);
    if (ref) out.push(ref);
  } else if (Array.isArray(v)) {
    for (const x of v) keras3Tensors(x, out);
  } else if (isObj(v)) {
    for (const x of Object.values(v)) keras3Tensors(x, out);
  }
  return out;
}

/** Keras 2 (TF 2.4+) serializes tensors in call kwargs as `[layer, node, tensor]`. */
function keras2KwargTensors(v: unknown, known: Set<string>, out: TensorRef[]): TensorRef[] {
  if (Array.isArray(v)) {
    const ref = v.length === 3 && typeof v[0] === 'string' && typeof v[1] === 'number' && typeof v[2] === 'number' && known.has(v[0]) ? refOf(v) : undefined;
    if (ref) out.push(ref);
    else for (const x of v) keras2KwargTensors(x, known, out);
  } else if (isObj(v)) {
    for (const x of Object.values(v)) keras2KwargTensors(x, known, out);
  }
  return out;
}

/** Keyword arguments whose tensors become extra inputs of the call, in this order. */
const TENSOR_KWARGS = ['initial_state', 'constants'];

function parseKeras2Call(call: unknown, known: Set<string>, where: string): KerasCall {
  if (!Array.isArray(call)) throw configError('an inbound node is not a list', where);
  // A single entry (not wrapped in a list) appears in some hand-written configs.
  const entries = call.length > 0 && typeof call[0] === 'string' ? [call] : call;
  const inputs: TensorRef[] = [];
  let problem: string | undefined;
  let kwargs: Json | undefined;
  for (const e of entries) {
    if (!Array.isArray(e)) throw configError('an inbound node entry is not a list', where);
    if (e[0] === '_CONSTANT_VALUE') {
      problem = 'is called on a constant value (a TF op layer), which mconv does not convert';
      continue;
    }
    const ref = refOf(e);
    if (!ref) throw configError(`inbound node entry ${JSON.stringify(e)} is not [layer, node, tensor]`, where);
    inputs.push(ref);
    if (isObj(e[3]) && !kwargs) kwargs = e[3];
  }
  if (kwargs) {
    for (const k of TENSOR_KWARGS) inputs.push(...keras2KwargTensors(kwargs[k], known, []));
    const others = Object.entries(kwargs).filter(([k]) => !TENSOR_KWARGS.includes(k));
    for (const [k, v] of others) {
      if (keras2KwargTensors(v, known, []).length) problem ??= `is called with a tensor for its ${k} argument, which mconv does not convert`;
    }
  }
  return problem ? { inputs, problem } : { inputs };
}

function parseKeras3Call(call: Json, where: string): KerasCall {
  const inputs = keras3Tensors(call.args ?? [], []);
  const kwargs = isObj(call.kwargs) ? call.kwargs : {};
  let problem: string | undefined;
  for (const k of TENSOR_KWARGS) inputs.push(...keras3Tensors(kwargs[k], []));
  for (const [k, v] of Object.entries(kwargs)) {
    if (TENSOR_KWARGS.includes(k)) continue;
    if (keras3Tensors(v, []).length) problem ??= `is called with a tensor for its ${k} argument, which mconv does not convert`;
  }
  if (!inputs.length && !problem) throw configError('an inbound node has no input tensor', where);
  return problem ? { inputs, problem } : { inputs };
}

function parseCalls(entry: Json, known: Set<string>, where: string): KerasCall[] {
  const nodes = entry.inbound_nodes;
  if (nodes === undefined || nodes === null) return [];
  if (!Array.isArray(nodes)) throw configError('inbound_nodes is not a list', where);
  return nodes.map((n) => (isObj(n) ? parseKeras3Call(n, where) : parseKeras2Call(n, known, where)));
}

/** `input_layers` / `output_layers`: a list of triples, one triple (Keras 3, one tensor), or a dict. */
function refList(v: unknown, where: string): TensorRef[] {
  if (v === undefined || v === null) return [];
  if (isObj(v)) return Object.values(v).flatMap((x) => refList(x, where));
  if (!Array.isArray(v)) throw configError('input_layers/output_layers is not a list', where);
  if (typeof v[0] === 'string') return [refOf(v)!];
  return v.flatMap((x) => refList(x, where));
}

function isModelEntry(entry: Json): boolean {
  if (MODEL_CLASSES.has(entry.class_name as string)) return true;
  // A subclass of Model saved with its functional config (layers + input/output layers).
  const cfg = entry.config;
  return isObj(cfg) && Array.isArray(cfg.layers) && cfg.input_layers !== undefined && cfg.output_layers !== undefined;
}

/** Parses a model entry (`{class_name, config}`) into a KerasModel. */
export function parseModel(entry: Json, where = 'model'): KerasModel {
  if (typeof entry.class_name !== 'string') throw configError('the model has no class_name', where);
  const className = entry.class_name;
  const rawCfg = entry.config;
  // Keras <= 2.2.2 wrote a Sequential's config as the bare list of layers.
  const cfg: Json = Array.isArray(rawCfg) ? { layers: rawCfg, name: 'sequential' } : isObj(rawCfg) ? rawCfg : {};
  const layersJson = cfg.layers;
  if (!Array.isArray(layersJson)) throw configError(`model ${String(cfg.name ?? className)} has no list of layers`, where);
  const name = typeof cfg.name === 'string' ? cfg.name : typeof entry.name === 'string' ? entry.name : className.toLowerCase();
  const modelTrainable = cfg.trainable !== false;
  const sequential = className === 'Sequential' || (!cfg.input_layers && !layersJson.some((l) => isObj(l) && l.inbound_nodes !== undefined));

  const entries = layersJson.map((l, i) => {
    if (!isObj(l) || typeof l.class_name !== 'string') throw configError(`layer ${i} of model ${name} has no class_name`, where);
    return l;
  });
  const known = new Set(entries.map((l, i) => layerName(l, `${where}/layers[${i}]`)));
  const makeLayer = (l: Json, i: number): KerasLayer => {
    const lname = layerName(l, `${where}/layers[${i}]`);
    const lcfg = isObj(l.config) ? l.config : {};
    const layer: KerasLayer = {
      name: lname,
      className: l.class_name as string,
      entry: toLayerConfig(l, lname),
      calls: sequential ? [] : parseCalls(l, known, `${where}/${lname}`),
      trainable: modelTrainable && lcfg.trainable !== false,
    };
    if (layer.className === 'InputLayer') {
      const spec = declaredInput(lcfg);
      if (!spec) throw configError(`input layer ${lname} has no shape (batch_input_shape / batch_shape)`, `${where}/${lname}`);
      layer.input = spec;
    }
    if (isModelEntry(l)) layer.model = parseModel(l, `${where}/${lname}`);
    return layer;
  };
  const layers = entries.map(makeLayer);

  if (sequential) return sequentialModel(name, className, layers, cfg, entry, where);
  const keras3 = entries.some((l) => typeof l.module === 'string' || (Array.isArray(l.inbound_nodes) && l.inbound_nodes.some(isObj)));
  const inputs = refList(cfg.input_layers, where);
  const outputs = refList(cfg.output_layers, where);
  if (!inputs.length) throw configError(`functional model ${name} lists no input_layers`, where);
  if (!outputs.length) throw configError(`functional model ${name} lists no output_layers`, where);
  for (const r of [...inputs, ...outputs]) {
    if (!known.has(r.layer)) throw configError(`model ${name} names layer ${r.layer} as an input or output, but has no such layer`, where);
  }
  for (const l of layers) {
    for (const c of l.calls) {
      for (const r of c.inputs) {
        if (!known.has(r.layer)) throw configError(`layer ${l.name} is called on layer ${r.layer}, which the model does not have`, `${where}/${l.name}`);
      }
    }
  }
  const refs = [...layers.flatMap((l) => l.calls.flatMap((c) => c.inputs)), ...outputs];
  for (const l of layers) {
    if (!l.model) continue;
    const used = refs.filter((r) => r.layer === l.name).map((r) => r.node);
    // Keras 2 (and tfjs) count a nested model's own first node; Keras 3 only for Functional models.
    let offset = keras3 && l.model.sequential ? 0 : 1;
    if (used.some((n) => n < offset)) offset = 0;
    if (used.some((n) => n >= l.calls.length + offset)) offset = 1;
    if (used.some((n) => n >= l.calls.length + offset)) {
      throw configError(`layer ${l.name} is called ${l.calls.length} times, but a node index ${Math.max(...used)} refers to it`, `${where}/${l.name}`);
    }
    l.nodeOffset = offset;
  }
  return { name, className, sequential: false, layers, inputs, outputs, entry };
}

/** A Sequential: the input comes from an InputLayer, the first layer's declared shape, or `build_input_shape`. */
function sequentialModel(name: string, className: string, layers: KerasLayer[], cfg: Json, entry: Json, where: string): KerasModel {
  let all = layers;
  if (!all.length || all[0]!.className !== 'InputLayer') {
    const first = all[0];
    const declared = first ? declaredInput(first.entry.config as Json) ?? (first.model ? nestedInput(first.model) : undefined) : undefined;
    const build = shapeOf(cfg.build_input_shape);
    const spec = declared ?? (build ? { shape: build, dtype: kerasDType(first?.entry.config.dtype) } : undefined);
    if (!spec) {
      throw configError(`Sequential model ${name} has no input shape`, where,
        'the model was saved before it was built; build it (call it on data or give input_shape) and save again');
    }
    const inputName = `${first ? first.name : name}_input`;
    const input: KerasLayer = {
      name: inputName, className: 'InputLayer', calls: [], trainable: false, input: spec, implicit: true,
      entry: { class_name: 'InputLayer', config: { batch_input_shape: spec.shape, dtype: spec.dtype, name: inputName }, name: inputName },
    };
    all = [input, ...all];
  }
  for (let i = 1; i < all.length; i++) all[i]!.calls = [{ inputs: [{ layer: all[i - 1]!.name, node: 0, tensor: 0 }] }];
  const last = all[all.length - 1]!;
  return {
    name, className, sequential: true, layers: all,
    inputs: [{ layer: all[0]!.name, node: 0, tensor: 0 }],
    outputs: [{ layer: last.name, node: 0, tensor: 0 }],
    entry,
  };
}

/** The first input of a nested model (a Sequential starting with a model). */
function nestedInput(m: KerasModel): KerasInputSpec | undefined {
  const first = m.layers.find((l) => l.name === m.inputs[0]?.layer);
  return first?.input;
}

/** Every layer that holds weights of its own (models are walked into), depth first, in order. */
export function leafLayers(m: KerasModel): KerasLayer[] {
  return m.layers.flatMap((l) => (l.model ? leafLayers(l.model) : [l]));
}

/** Layer classes that never hold weights (for matching weight files to configs by order). */
export const WEIGHTLESS_CLASSES = new Set([
  'InputLayer', 'Dropout', 'SpatialDropout1D', 'SpatialDropout2D', 'SpatialDropout3D', 'GaussianNoise', 'GaussianDropout',
  'AlphaDropout', 'ActivityRegularization', 'Identity', 'Flatten', 'Reshape', 'Permute', 'RepeatVector', 'Masking',
  'Activation', 'ReLU', 'LeakyReLU', 'ELU', 'ThresholdedReLU', 'Softmax', 'Rescaling', 'UnitNormalization',
  'MaxPooling1D', 'MaxPooling2D', 'MaxPooling3D', 'AveragePooling1D', 'AveragePooling2D', 'AveragePooling3D',
  'MaxPool1D', 'MaxPool2D', 'MaxPool3D', 'AvgPool1D', 'AvgPool2D', 'AvgPool3D',
  'GlobalAveragePooling1D', 'GlobalAveragePooling2D', 'GlobalAveragePooling3D', 'GlobalMaxPooling1D', 'GlobalMaxPooling2D',
  'GlobalMaxPooling3D', 'GlobalAvgPool1D', 'GlobalAvgPool2D', 'GlobalAvgPool3D', 'GlobalMaxPool1D', 'GlobalMaxPool2D', 'GlobalMaxPool3D',
  'Add', 'Subtract', 'Multiply', 'Average', 'Maximum', 'Minimum', 'Concatenate', 'Dot',
  'ZeroPadding1D', 'ZeroPadding2D', 'ZeroPadding3D', 'Cropping1D', 'Cropping2D', 'Cropping3D',
  'UpSampling1D', 'UpSampling2D', 'UpSampling3D', 'Lambda', 'TFOpLambda', 'SlicingOpLambda',
]);
