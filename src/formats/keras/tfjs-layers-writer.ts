/**
 * Writes a Keras model as a TensorFlow.js layers-model: `model.json` with `format: 'layers-model'`,
 * `modelTopology` (the Keras config in the Keras 2 spelling tfjs-layers reads) and a
 * `weightsManifest` whose weights lie in 4 MB shards `group1-shard<i>of<n>.bin` beside it.
 *
 * Keras 3 configs are rewritten the way tfjs-layers expects them: `batch_shape` ->
 * `batch_input_shape`, dtype policies -> dtype names, `inbound_nodes` as `[[layer, node, tensor,
 * {}], ...]` lists, `Functional` -> `Model`, LeakyReLU's `negative_slope` -> `alpha`; `module`,
 * `registered_name` and `build_config` are dropped. Weights are named as tfjs-layers names its
 * variables: `<layer>/<weight>` (`dense/kernel`), `<bidirectional>/forward_<inner>/<weight>` and
 * `backward_...` for Bidirectional; a nested model's layers under their own names.
 */
import { MconvError, usageError } from '../../errors.js';
import type { Model } from '../../ir/graph.js';
import { Tensor, type DType } from '../../ir/tensor.js';
import type { WrittenFiles } from '../types.js';
import type { KerasLayer, KerasModel, TensorRef } from './config.js';
import { kerasSourceOf } from './source.js';
import type { LayerWeights } from './weights.js';

type Json = Record<string, unknown>;

/** Shard size of the weight files (tfjs's converter default). */
export const TFJS_SHARD_BYTES = 4 * 1024 * 1024;

const DROPPED_KEYS = new Set(['module', 'registered_name', 'build_config', 'shared_object_id', 'compile_config']);
const POLICY_CLASSES = new Set(['DTypePolicy', 'Policy', 'FloatDTypePolicy', 'QuantizedDTypePolicy', 'QuantizedFloat8DTypePolicy']);

function isObj(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A config value in the Keras 2 spelling: dtype policies become their names, Keras 3 keys go. */
function clean(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(clean);
  if (!isObj(v)) return v;
  if (typeof v.class_name === 'string' && POLICY_CLASSES.has(v.class_name) && isObj(v.config) && typeof v.config.name === 'string') {
    return v.config.name;
  }
  const out: Json = {};
  for (const [k, x] of Object.entries(v)) if (!DROPPED_KEYS.has(k)) out[k] = clean(x);
  if (out.class_name === 'Functional') out.class_name = 'Model';
  return out;
}

/** A layer's config for tfjs-layers. */
function layerConfig(layer: KerasLayer): Json {
  const cfg = clean(layer.entry.config) as Json;
  cfg.name = layer.name;
  if (layer.className === 'InputLayer') {
    if (cfg.batch_shape !== undefined && cfg.batch_input_shape === undefined) cfg.batch_input_shape = cfg.batch_shape;
    delete cfg.batch_shape;
    if (cfg.batch_input_shape === undefined && layer.input) cfg.batch_input_shape = layer.input.shape;
    delete cfg.optional;
  }
  if (layer.className === 'LeakyReLU' && cfg.alpha === undefined && typeof cfg.negative_slope === 'number') {
    cfg.alpha = cfg.negative_slope;
    delete cfg.negative_slope;
  }
  return cfg;
}

/** tfjs-layers counts a nested model's own first node (as Keras 2 does): shift Keras 3 Sequential references. */
function tfjsNode(m: KerasModel, r: TensorRef): number {
  const l = m.layers.find((x) => x.name === r.layer);
  return l?.model ? r.node - (l.nodeOffset ?? 0) + 1 : r.node;
}

function refEntry(m: KerasModel, r: TensorRef): [string, number, number, Json] {
  return [r.layer, tfjsNode(m, r), r.tensor, {}];
}

/** A model config in the Keras 2 spelling (`{class_name, config}`). */
export function keras2ModelEntry(m: KerasModel): Json {
  const entryOf = (l: KerasLayer): Json => {
    if (l.model) {
      const inner = keras2ModelEntry(l.model);
      (inner.config as Json).name = l.name;
      return { class_name: inner.class_name, config: inner.config, name: l.name };
    }
    return { class_name: l.className, config: layerConfig(l), name: l.name };
  };
  if (m.sequential) {
    const layers: Json[] = [];
    const implicit = m.layers[0]?.implicit ? m.layers[0] : undefined;
    for (const l of m.layers) {
      if (l.implicit) continue;
      const e = entryOf(l);
      delete e.name;
      layers.push(e);
    }
    // A Keras 3 Sequential may carry its input only as build_input_shape: give it to the first layer.
    if (implicit && layers[0]) {
      const cfg = layers[0].config as Json;
      if (cfg.batch_input_shape === undefined && cfg.batch_shape === undefined) cfg.batch_input_shape = implicit.input!.shape;
    }
    return { class_name: 'Sequential', config: { name: m.name, layers } };
  }
  const layers = m.layers.map((l) => ({
    ...entryOf(l),
    inbound_nodes: l.calls.map((c) => c.inputs.map((r) => refEntry(m, r))),
  }));
  return {
    class_name: 'Model',
    config: {
      name: m.name,
      layers,
      input_layers: m.inputs.map((r) => [r.layer, r.node, r.tensor]),
      output_layers: m.outputs.map((r) => [r.layer, tfjsNode(m, r), r.tensor]),
    },
  };
}

/** The `modelTopology` of a model.json. */
export function tfjsTopology(m: KerasModel, kerasVersion?: string, backend?: string): Json {
  return { ...keras2ModelEntry(m), keras_version: kerasVersion ?? 'unknown', backend: backend ?? 'tensorflow' };
}

/** Keras's weight names by class, in the order a layer holds them (for files that number them). */
function classWeightNames(className: string, cfg: Json): string[] | undefined {
  const bias = cfg.use_bias === false ? [] : ['bias'];
  switch (className) {
    case 'Dense': case 'Conv1D': case 'Conv2D': case 'Conv3D': case 'Conv1DTranspose': case 'Conv2DTranspose':
    case 'Conv3DTranspose': case 'Convolution2DTranspose':
      return ['kernel', ...bias];
    case 'DepthwiseConv1D': case 'DepthwiseConv2D':
      return ['depthwise_kernel', ...bias];
    case 'SeparableConv1D': case 'SeparableConv2D':
      return ['depthwise_kernel', 'pointwise_kernel', ...bias];
    case 'BatchNormalization':
      return [...(cfg.scale === false ? [] : ['gamma']), ...(cfg.center === false ? [] : ['beta']), 'moving_mean', 'moving_variance'];
    case 'LayerNormalization':
      return [...(cfg.scale === false ? [] : ['gamma']), ...(cfg.center === false ? [] : ['beta'])];
    case 'Embedding':
      return ['embeddings'];
    case 'PReLU':
      return ['alpha'];
    case 'SimpleRNN': case 'LSTM': case 'GRU':
      return ['kernel', 'recurrent_kernel', ...bias];
    default:
      return undefined;
  }
}

/** The last component of a stored name when it is a word (`lstm/lstm_cell/kernel:0` -> `kernel`), else undefined. */
function storedBase(n: string): string | undefined {
  const s = n.replace(/:\d+$/, '');
  const b = s.slice(s.lastIndexOf('/') + 1);
  return /^\d+$/.test(b) ? undefined : b;
}

function baseNames(className: string, cfg: Json, stored: string[], layerName: string): string[] {
  const fromFile = stored.map(storedBase);
  if (fromFile.every((b) => b !== undefined)) return fromFile as string[];
  const table = classWeightNames(className, cfg);
  if (!table || table.length !== stored.length) {
    throw new MconvError({
      kind: 'unsupported', format: 'tfjs-layers', where: layerName,
      message: `cannot name the ${stored.length} weights of layer '${layerName}' (${className}) for tfjs-layers: the file numbers them and mconv does not know this class's weight names`,
    });
  }
  return table;
}

/** The names tfjs-layers gives a layer's weights. */
export function tfjsWeightNames(layer: KerasLayer, w: LayerWeights): string[] {
  const cfg = layer.entry.config as Json;
  if (layer.className === 'Bidirectional') {
    const inner = (cfg.layer ?? {}) as Json;
    const innerCfg = (inner.config ?? {}) as Json;
    const innerName = typeof innerCfg.name === 'string' ? innerCfg.name : 'rnn';
    const half = w.names.length / 2;
    const fw = baseNames(String(inner.class_name), innerCfg, w.names.slice(0, half), layer.name);
    const bw = baseNames(String(inner.class_name), innerCfg, w.names.slice(half), layer.name);
    return [...fw.map((b) => `${layer.name}/forward_${innerName}/${b}`), ...bw.map((b) => `${layer.name}/backward_${innerName}/${b}`)];
  }
  if (layer.className === 'TimeDistributed') {
    const inner = (cfg.layer ?? {}) as Json;
    return baseNames(String(inner.class_name), (inner.config ?? {}) as Json, w.names, layer.name).map((b) => `${layer.name}/${b}`);
  }
  return baseNames(layer.className, cfg, w.names, layer.name).map((b) => `${layer.name}/${b}`);
}

/** The dtype tfjs stores a weight as: float32, int32 or bool (others are converted). */
function tfjsDType(d: DType): 'float32' | 'int32' | 'bool' {
  if (d === 'bool') return 'bool';
  if (d.startsWith('int') || d.startsWith('uint')) return 'int32';
  return 'float32';
}

function tfjsBytes(t: Tensor, dtype: 'float32' | 'int32' | 'bool'): Uint8Array {
  if (t.dtype === dtype) return t.readBytes();
  if (t.dtype === 'string' || t.dtype === 'complex64' || t.dtype === 'complex128') {
    throw usageError(`weight ${t.name ?? ''} is ${t.dtype}, which a tfjs layers-model cannot hold`);
  }
  const vals = t.toFloat64();
  if (dtype === 'int32') {
    for (const v of vals) {
      if (v > 2147483647 || v < -2147483648) throw usageError(`weight ${t.name ?? ''} has int values outside int32, which tfjs stores`);
    }
    return new Uint8Array(Int32Array.from(vals).buffer);
  }
  if (dtype === 'bool') return Uint8Array.from(vals, (v) => (v ? 1 : 0));
  return new Uint8Array(Float32Array.from(vals).buffer);
}

export interface TfjsWriteOptions {
  shardBytes?: number;
}

/** The model.json and weight shards of a Keras-sourced model. */
export function writeTfjsLayersModel(model: Model, opts: TfjsWriteOptions = {}): WrittenFiles {
  const src = kerasSourceOf(model);
  if (!src) {
    throw usageError(`a tfjs layers-model is written from Keras layers, and this model was read from ${model.source.format}`,
      'convert Keras (.h5, .keras) or tfjs layers-models to tfjs-layers; convert other models to onnx');
  }
  const weights: { name: string; shape: number[]; dtype: 'float32' | 'int32' | 'bool' }[] = [];
  const chunks: Uint8Array[] = [];
  const visit = (m: KerasModel) => {
    for (const l of m.layers) {
      if (l.model) {
        visit(l.model);
        continue;
      }
      const w = src.weights.get(l);
      if (!w || !w.tensors.length) continue;
      const names = tfjsWeightNames(l, w);
      w.tensors.forEach((t, i) => {
        const dtype = tfjsDType(t.dtype);
        weights.push({ name: names[i]!, shape: t.shape.slice(), dtype });
        chunks.push(tfjsBytes(t, dtype));
      });
    }
  };
  visit(src.model);
  const dup = weights.map((w) => w.name).find((n, i, all) => all.indexOf(n) !== i);
  if (dup) throw usageError(`two weights would both be named ${dup} in the tfjs layers-model`, 'layer names must be unique across nested models');
  const total = chunks.reduce((a, c) => a + c.byteLength, 0);
  const all = new Uint8Array(total);
  let off = 0;
  for (const c of chunks) {
    all.set(c, off);
    off += c.byteLength;
  }
  const shard = Math.max(1, opts.shardBytes ?? TFJS_SHARD_BYTES);
  const n = Math.max(1, Math.ceil(total / shard));
  const extra = new Map<string, Uint8Array>();
  const paths: string[] = [];
  for (let i = 0; i < n; i++) {
    const p = `group1-shard${i + 1}of${n}.bin`;
    paths.push(p);
    extra.set(p, all.subarray(i * shard, Math.min(total, (i + 1) * shard)));
  }
  const json = {
    format: 'layers-model',
    generatedBy: src.kerasVersion ? `keras v${src.kerasVersion}` : 'keras',
    convertedBy: 'mconv',
    modelTopology: tfjsTopology(src.model, src.kerasVersion, src.backend),
    weightsManifest: [{ paths, weights }],
  };
  return { main: new TextEncoder().encode(JSON.stringify(json)), extra };
}
