/**
 * The TensorFlow oracle for tests: runs a TfGraph in tfjs-converter (Google's executor of
 * TensorFlow graph models, on the tfjs cpu backend) and returns the requested outputs.
 *
 *   runTfjsGraphOracle(tfGraph, weights, feeds, outputs)
 *
 * - weights: Const node values by node name (`<function>/<node>` inside function bodies, the tfjs
 *   convention). Const nodes whose value is inline in the TfGraph are added automatically.
 * - feeds: by Placeholder name (`x` or `x:0`).
 * - outputs: `node` or `node:port`.
 *
 * tfjs holds float32/int32/bool/string only: float64 inputs and constants are given as float32,
 * 64/16/8-bit integers as int32 (what tfjs-converter does with such graphs). Outputs come back as
 * float32, int32 or bool IR tensors.
 *
 * Also here: builders for tiny TfGraphs (`tfNode`, `tfAttr`, `placeholder`, `constNode`) and a
 * reader for tfjs weights manifests.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfconv from '@tensorflow/tfjs-converter';
import { Tensor, type DType } from '../../src/ir/tensor.js';
import { useBackend } from '../../src/runtime/backends.js';
import { tfConstValues, tfGraphToJson, TF_TYPE_OF } from '../../src/formats/tf/graph-json.js';
import type { TfAttr, TfGraph, TfNode } from '../../src/formats/tf/tf-graph.js';

export { tf, tfconv };

type TfjsDType = 'float32' | 'int32' | 'bool' | 'string';

function tfjsDType(d: DType): TfjsDType {
  if (d === 'string') return 'string';
  if (d === 'bool') return 'bool';
  if (d.startsWith('int') || d.startsWith('uint')) return 'int32';
  return 'float32';
}

/** An IR tensor as a tfjs tensor (dtype narrowed to what tfjs holds). */
export function toTfjs(t: Tensor): tf.Tensor {
  const d = tfjsDType(t.dtype);
  if (d === 'string') return tf.tensor(t.stringValues(), t.shape, 'string');
  if (d === 'bool') return tf.tensor(Uint8Array.from(t.toFloat64()), t.shape, 'bool');
  if (d === 'int32') return tf.tensor(Int32Array.from(t.toFloat64()), t.shape, 'int32');
  return tf.tensor(Float32Array.from(t.toFloat64()), t.shape, 'float32');
}

/** A tfjs tensor as an IR tensor (float32, int32, bool or string). */
export function fromTfjs(x: tf.Tensor): Tensor {
  if (x.dtype === 'string') return Tensor.fromStrings(x.shape, x.dataSync() as unknown as Uint8Array[]);
  const d: DType = x.dtype === 'bool' ? 'bool' : x.dtype === 'int32' ? 'int32' : 'float32';
  return Tensor.fromArray(d, x.shape, x.dataSync() as ArrayLike<number>);
}

/** The bytes of a tensor in the dtype tfjs's weight loader reads. */
function weightBytes(t: Tensor): { dtype: TfjsDType; bytes: Uint8Array } {
  const d = tfjsDType(t.dtype);
  if (d === 'string') {
    // tfjs string weights: per string a uint32 byte length then the bytes.
    const parts: Uint8Array[] = [];
    for (const s of t.strings) {
      const len = new Uint8Array(4);
      new DataView(len.buffer).setUint32(0, s.byteLength, true);
      parts.push(len, s);
    }
    return { dtype: d, bytes: concat(parts) };
  }
  const vals = t.toFloat64();
  const arr = d === 'float32' ? Float32Array.from(vals) : d === 'int32' ? Int32Array.from(vals) : Uint8Array.from(vals);
  return { dtype: d, bytes: new Uint8Array(arr.buffer) };
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((a, p) => a + p.byteLength, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.byteLength;
  }
  return out;
}

/** Runs a TfGraph in tfjs-converter and returns the named outputs. */
export async function runTfjsGraphOracle(
  graph: TfGraph,
  weights: Map<string, Tensor>,
  feeds: Record<string, Tensor>,
  outputs: string[],
): Promise<Tensor[]> {
  await useBackend('cpu');
  graph = prefixFunctionConsts(graph);
  const all = new Map([...tfConstValues(graph), ...weights]);
  const specs: { name: string; shape: number[]; dtype: TfjsDType }[] = [];
  const chunks: Uint8Array[] = [];
  for (const [name, t] of all) {
    const { dtype, bytes } = weightBytes(t);
    specs.push({ name, shape: t.shape, dtype });
    chunks.push(bytes);
  }
  const data = concat(chunks);
  const modelTopology = tfGraphToJson(graph, { constValues: 'omit' });
  const model = await tfconv.loadGraphModel(
    tf.io.fromMemory({ modelTopology, weightSpecs: specs, weightData: data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength) as ArrayBuffer, format: 'graph-model' }),
  );
  return executeAndDispose(model, feeds, outputs);
}

/** Runs a loaded graph model with executeAsync (control flow included), then frees everything. */
async function executeAndDispose(model: tfconv.GraphModel, feeds: Record<string, Tensor>, outputs: string[]): Promise<Tensor[]> {
  const inputs: Record<string, tf.Tensor> = {};
  for (const [k, t] of Object.entries(feeds)) inputs[k] = toTfjs(t);
  const warn = console.warn;
  // tfjs-converter advises execute() for graphs without control flow on every run; not useful here.
  console.warn = (...args: unknown[]) => {
    if (!String(args[0]).includes('model.execute()')) warn(...args);
  };
  try {
    const ys = await model.executeAsync(inputs, outputs);
    const list = Array.isArray(ys) ? ys : [ys];
    const out = list.map(fromTfjs);
    tf.dispose(list);
    return out;
  } finally {
    console.warn = warn;
    tf.dispose(Object.values(inputs));
    model.dispose();
  }
}

/**
 * tfjs-converter's own load of a graph-model `model.json` and its shards from disk, run on `feeds`
 * (by signature input key or `node:0` tensor name); outputs default to the signature's.
 */
export async function runTfjsModelFile(modelJson: string, feeds: Record<string, Tensor>, outputs?: string[]): Promise<Tensor[]> {
  await useBackend('cpu');
  const json = JSON.parse(readFileSync(modelJson, 'utf8')) as {
    modelTopology: unknown; signature?: { outputs: Record<string, unknown> }; userDefinedMetadata?: { signature?: { outputs: Record<string, unknown> } };
    weightsManifest: { paths: string[]; weights: unknown[] }[];
  };
  const dir = join(modelJson, '..');
  const data = Buffer.concat(json.weightsManifest.flatMap((g) => g.paths.map((p) => readFileSync(join(dir, p)))));
  const signature = json.signature ?? json.userDefinedMetadata?.signature;
  const model = await tfconv.loadGraphModel(tf.io.fromMemory({
    modelTopology: json.modelTopology, weightSpecs: json.weightsManifest.flatMap((g) => g.weights),
    weightData: data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength), format: 'graph-model', signature,
  } as never));
  return executeAndDispose(model, feeds, outputs ?? Object.keys(signature?.outputs ?? {}));
}

/**
 * tfjs-converter finds the values of Const nodes inside function bodies under
 * `<function>/<node>` (its Python converter renames them so): renames them and the references
 * to them the same way (a copy; names already prefixed stay).
 */
export function prefixFunctionConsts(graph: TfGraph): TfGraph {
  return {
    ...graph,
    functions: graph.functions.map((f) => {
      const renamed = new Map<string, string>();
      for (const n of f.nodes) if (n.op === 'Const' && !n.name.startsWith(`${f.name}/`)) renamed.set(n.name, `${f.name}/${n.name}`);
      if (!renamed.size) return f;
      const ref = (r: string): string => {
        const ctl = r.startsWith('^');
        const body = ctl ? r.slice(1) : r;
        const i = body.indexOf(':');
        const base = i < 0 ? body : body.slice(0, i);
        const to = renamed.get(base);
        return to ? `${ctl ? '^' : ''}${to}${i < 0 ? '' : body.slice(i)}` : r;
      };
      return {
        ...f,
        nodes: f.nodes.map((n) => ({ ...n, name: renamed.get(n.name) ?? n.name, inputs: n.inputs.map(ref) })),
        ret: Object.fromEntries(Object.entries(f.ret).map(([k, v]) => [k, ref(v)])),
      };
    }),
  };
}

/* ------------------------------------------------------------------------------------------ */
/* Building tiny TfGraphs. */

const enc = new TextEncoder();

/** Attribute builders (TfAttr values). */
export const tfAttr = {
  type: (d: DType): TfAttr => ({ type: TF_TYPE_OF[d] }),
  i: (i: number): TfAttr => ({ i }),
  f: (f: number): TfAttr => ({ f }),
  b: (b: boolean): TfAttr => ({ b }),
  s: (s: string): TfAttr => ({ s: enc.encode(s) }),
  ints: (i: number[]): TfAttr => ({ list: { i } }),
  floats: (f: number[]): TfAttr => ({ list: { f } }),
  types: (t: DType[]): TfAttr => ({ list: { type: t.map((d) => TF_TYPE_OF[d]) } }),
  shape: (shape: number[] | null): TfAttr => ({ shape }),
  tensor: (t: Tensor): TfAttr => ({ tensor: t }),
};

/** A NodeDef; attribute values may be TfAttr objects or plain values (number -> i, boolean -> b, DType string -> type). */
export function tfNode(name: string, op: string, inputs: string[], attrs: Record<string, TfAttr | number | boolean | DType> = {}): TfNode {
  const attr: Record<string, TfAttr> = {};
  for (const [k, v] of Object.entries(attrs)) {
    if (typeof v === 'number') attr[k] = Number.isInteger(v) ? { i: v } : { f: v };
    else if (typeof v === 'boolean') attr[k] = { b: v };
    else if (typeof v === 'string') attr[k] = tfAttr.type(v);
    else attr[k] = v;
  }
  return { name, op, inputs, attr };
}

export function placeholder(name: string, dtype: DType, shape: number[] | null): TfNode {
  return tfNode(name, 'Placeholder', [], { dtype, shape: tfAttr.shape(shape) });
}

/** A Const node holding `t` inline. */
export function constNode(name: string, t: Tensor): TfNode {
  return tfNode(name, 'Const', [], { dtype: t.dtype, value: tfAttr.tensor(t) });
}

export function tfGraph(nodes: TfNode[]): TfGraph {
  return { nodes, functions: [], producer: 1205 };
}

/* ------------------------------------------------------------------------------------------ */
/* tfjs weights manifests (for the real fixtures). */

interface ManifestEntry {
  name: string;
  shape: number[];
  dtype: string;
  quantization?: unknown;
}

/** The weights of a tfjs model.json (float32/int32/bool, unquantized) from the files beside it. */
export function readTfjsWeights(dir: string, modelJson: { weightsManifest?: { paths: string[]; weights: ManifestEntry[] }[] }): Map<string, Tensor> {
  const out = new Map<string, Tensor>();
  for (const group of modelJson.weightsManifest ?? []) {
    const bytes = concat(group.paths.map((p) => new Uint8Array(readFileSync(join(dir, p)))));
    let off = 0;
    for (const w of group.weights) {
      if (w.quantization) throw new Error(`readTfjsWeights: quantized weight ${w.name} not supported here`);
      const n = w.shape.reduce((a, d) => a * d, 1);
      const dtype: DType = w.dtype === 'int32' ? 'int32' : w.dtype === 'bool' ? 'bool' : 'float32';
      const size = n * (dtype === 'bool' ? 1 : 4);
      out.set(w.name, Tensor.fromBytes(dtype, w.shape, bytes.slice(off, off + size), w.name));
      off += size;
    }
  }
  return out;
}
