/**
 * Test harness for the Keras layer converters: a LayerContext over a fresh Graph, a small model
 * assembler for Sequential and functional (Keras 2 `inbound_nodes`) configs, and helpers that
 * run a tfjs-layers model (the oracle, on the cpu backend) and our converted graph (wasm) on the
 * same seeded inputs and compare them.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import { expect } from 'vitest';
import { Graph, type Value } from '../../../../src/ir/graph.js';
import { Tensor, type Shape } from '../../../../src/ir/tensor.js';
import { optimize } from '../../../../src/ir/passes/index.js';
import { inferShapes } from '../../../../src/ir/infer.js';
import { Session } from '../../../../src/runtime/session.js';
import { useBackend } from '../../../../src/runtime/backends.js';
import { compareTensors } from '../../../../src/runtime/compare.js';
import { prng } from '../../../../src/runtime/random-inputs.js';
import { kerasLayerConverter, type KerasLayerConfig, type LayerContext } from '../../../../src/formats/keras/layer-api.js';
import { Model } from '../../../../src/ir/graph.js';
import { writeOnnx } from '../../../../src/formats/onnx/writer.js';
import { loadOnnxRuntime, runWithOnnxRuntime } from '../../../../src/runtime/onnxruntime.js';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import '../../../../src/formats/keras/layers/index.js';

export { tf, tfl };

export interface LayerWeights {
  tensors: Tensor[];
  names: string[];
}

/** A LayerContext over `graph`, the way a reader would build one. */
export function makeContext(graph: Graph, layer: KerasLayerConfig, name: string, w: LayerWeights, kerasVersion?: string, added = new Map<number, Value>()): LayerContext {
  return {
    graph, layer, name, weights: w.tensors, weightNames: w.names, kerasVersion,
    weight(i) {
      let v = added.get(i);
      if (!v) {
        // Keras 3 files name weights without their layer ('kernel'): keep names unique.
        const n = w.names[i]!.includes('/') ? w.names[i]! : `${name}/${w.names[i]!}`;
        v = graph.addInitializer(graph.uniqueValueName(n), w.tensors[i]!);
        added.set(i, v);
      }
      return v;
    },
    constant(n, t) {
      return graph.addInitializer(graph.uniqueValueName(`${name}/${n}`), t);
    },
    node(op, inputs, attrs = {}, outputs = 1, suffix) {
      const node = graph.addNode(op, inputs, outputs, attrs, `${name}/${suffix ?? op}`);
      node.meta.kerasLayer = name;
      return node.outputs;
    },
  };
}

type Json = Record<string, unknown>;

function inputShapeOf(cfg: Json): (number | null)[] | undefined {
  const s = (cfg.batch_input_shape ?? cfg.batch_shape) as (number | null)[] | undefined;
  return s;
}

function symbolicShape(s: (number | null)[], name: string): Shape {
  return s.map((d, i) => (d === null ? (i === 0 ? 'N' : `${name}_d${i}`) : d));
}

export interface BuildOptions {
  kerasVersion?: string;
  /** Input dtypes by input index (default float32). */
  inputDTypes?: Tensor['dtype'][];
}

/**
 * Builds our graph from a Keras model config (Sequential or functional) and the layers' weights
 * (by layer name).
 */
export function buildGraph(modelJson: Json, weights: Map<string, LayerWeights>, opts: BuildOptions = {}): Graph {
  const graph = new Graph('keras');
  const top = (modelJson.config ?? modelJson) as Json;
  const layers = top.layers as Json[];
  const cls = modelJson.class_name as string;
  // A layer called several times (shared) reads the same weight initializers.
  const weightValues = new Map<string, Map<number, Value>>();
  const convert = (layerJson: Json, inputs: Value[]): Value[] => {
    const cfg = layerJson.config as Json;
    const name = (cfg.name ?? layerJson.name) as string;
    const conv = kerasLayerConverter(layerJson.class_name as string);
    if (!conv) throw new Error(`no converter for ${layerJson.class_name as string}`);
    if (!weightValues.has(name)) weightValues.set(name, new Map());
    const ctx = makeContext(graph, layerJson as unknown as KerasLayerConfig, name, weights.get(name) ?? { tensors: [], names: [] }, opts.kerasVersion, weightValues.get(name));
    return conv(ctx, inputs);
  };
  let inputIndex = 0;
  const addInput = (name: string, shape: (number | null)[]): Value => {
    const dt = opts.inputDTypes?.[inputIndex++] ?? 'float32';
    return graph.addInput(name, dt, symbolicShape(shape, name));
  };
  if (cls === 'Sequential') {
    let cur: Value[] | undefined;
    for (const l of layers) {
      const cfg = l.config as Json;
      if (!cur) {
        const s = inputShapeOf(cfg);
        if (!s) throw new Error('first layer has no batch_input_shape');
        cur = [addInput(l.class_name === 'InputLayer' ? (cfg.name as string) : 'input', s)];
        if (l.class_name === 'InputLayer') continue;
      }
      cur = convert(l, cur);
    }
    graph.outputs = cur!;
    return graph;
  }
  // Functional: walk layers in order; every inbound node makes one call.
  const produced = new Map<string, Value[]>();
  for (const l of layers) {
    const name = l.name as string;
    if (l.class_name === 'InputLayer') {
      produced.set(`${name}:0`, [addInput(name, inputShapeOf(l.config as Json)!)]);
      continue;
    }
    const nodes = l.inbound_nodes as [string, number, number, Json?][][];
    nodes.forEach((call, k) => {
      const ins = call.map(([src, nodeIdx, tensorIdx]) => {
        const outs = produced.get(`${src}:${nodeIdx}`);
        if (!outs) throw new Error(`layer ${name}: input ${src} not converted yet`);
        return outs[tensorIdx]!;
      });
      produced.set(`${name}:${k}`, convert(l, ins));
    });
  }
  graph.outputs = (top.output_layers as [string, number, number][]).map(([n, i, t]) => produced.get(`${n}:${i}`)![t]!);
  return graph;
}

/** Weights of every layer of a tfjs-layers model, named like a Keras file (`layer/kernel:0`). */
export function modelWeights(model: tfl.LayersModel): Map<string, LayerWeights> {
  const out = new Map<string, LayerWeights>();
  for (const layer of model.layers) {
    const ws = layer.getWeights();
    out.set(layer.name, {
      tensors: ws.map((w, i) => Tensor.fromArray('float32', w.shape, w.dataSync(), layer.weights[i]!.name)),
      names: layer.weights.map((w) => `${w.originalName ?? w.name}:0`),
    });
  }
  return out;
}

/** Seeded uniform values in [lo, hi). */
export function seeded(n: number, seed: number, lo = -1, hi = 1): Float32Array {
  const r = prng(seed);
  return Float32Array.from({ length: n }, () => lo + (hi - lo) * r());
}

/**
 * Gives every weight of the model seeded random values (so biases and BN statistics are not the
 * trivial initial ones). Weights named like variances get positive values.
 */
export function randomizeWeights(model: tfl.LayersModel, seed = 1): void {
  let s = seed;
  for (const layer of model.layers) {
    const ws = layer.weights;
    if (!ws.length) continue;
    const vals = ws.map((w) => {
      const n = w.shape.reduce((a: number, d) => a * (d ?? 1), 1);
      const positive = /variance|moving_var/.test(w.name);
      return tf.tensor(seeded(n, s++, positive ? 0.5 : -0.5, positive ? 1.5 : 0.5), w.shape as number[]);
    });
    layer.setWeights(vals);
    vals.forEach((v) => v.dispose());
  }
}

export interface CheckResult {
  graph: Graph;
  outputs: Map<string, Tensor>;
  expected: Tensor[];
}

export interface CheckOptions extends BuildOptions {
  batch?: number;
  seed?: number;
  atol?: number;
  rtol?: number;
  /** Random input range. */
  range?: [number, number];
  /** Custom input values (flat, by input index). */
  inputValues?: Float32Array[];
  /** Run the optimizer before executing (default true). */
  optimize?: boolean;
  /** Also write the graph as ONNX, check it with onnx.checker and run it with onnxruntime-node. */
  onnx?: boolean;
}

/** Concrete input shapes of a model for a batch size. */
function concreteInputs(model: tfl.LayersModel, batch: number): number[][] {
  return model.inputs.map((i) => i.shape.map((d, k) => (k === 0 ? batch : d ?? 3)) as number[]);
}

/**
 * Runs `model` with tfjs-layers (cpu) and our conversion of its config+weights (wasm), and
 * expects every output to agree (atol 1e-4, rtol 1e-4 by default).
 */
export async function checkModel(model: tfl.LayersModel, opts: CheckOptions = {}): Promise<CheckResult> {
  const batch = opts.batch ?? 2;
  const shapes = concreteInputs(model, batch);
  const [lo, hi] = opts.range ?? [-2, 2];
  const values = shapes.map((s, i) => opts.inputValues?.[i] ?? seeded(s.reduce((a, d) => a * d, 1), (opts.seed ?? 7) + i, lo, hi));
  await useBackend('cpu');
  const xs = shapes.map((s, i) => tf.tensor(values[i]!, s));
  const ys = model.predict(xs.length === 1 ? xs[0]! : xs);
  const yList = Array.isArray(ys) ? ys : [ys];
  const expected = yList.map((y) => Tensor.fromArray('float32', y.shape, y.dataSync()));
  xs.forEach((x) => x.dispose());
  yList.forEach((y) => y.dispose());
  const json = model.toJSON(null, false) as unknown as Json;
  const graph = buildGraph(json, modelWeights(model), opts);
  expect(graph.outputs.length).toBe(expected.length);
  return runAndCompare(graph, values, shapes, expected, opts);
}

/** Runs our graph (optimised unless told not to) on the values and compares with `expected`. */
export async function runAndCompare(graph: Graph, values: Float32Array[], shapes: number[][], expected: Tensor[], opts: CheckOptions = {}): Promise<CheckResult> {
  const issues = inferShapes(graph, { write: false }).issues.filter((i) => i.kind !== 'unknown-op');
  expect(issues.map((i) => i.message)).toEqual([]);
  if (opts.optimize !== false) optimize(graph);
  const session = await Session.create(graph, { backend: 'wasm' });
  const feeds = new Map<string, Tensor>();
  graph.inputs.forEach((inp, i) => {
    const dt = inp.dtype ?? 'float32';
    feeds.set(inp.name, dt === 'float32' ? Tensor.fromArray('float32', shapes[i]!, values[i]!) : Tensor.fromArray(dt, shapes[i]!, Array.from(values[i]!, (v) => (dt === 'int64' ? BigInt(Math.round(v)) : Math.round(v)))));
  });
  const outputs = await session.run(feeds);
  const check = (label: string, outs: Map<string, Tensor>) => graph.outputs.forEach((o, i) => {
    const actual = outs.get(o.name)!;
    const r = compareTensors(o.name, actual, expected[i]!, { atol: opts.atol ?? 1e-4, rtol: opts.rtol ?? 1e-4 });
    expect(r.problem, `${label} ${o.name}: ${r.problem}`).toBeUndefined();
    expect(r.mismatches, `${label} ${o.name}: max abs error ${r.maxAbsError} at ${r.worstIndex} (got ${r.worstActual}, want ${r.worstExpected})`).toBe(0);
  });
  check('mconv', outputs);
  if (opts.onnx) await checkOnnxExport(graph, feeds, (outs) => check('onnxruntime', outs));
  return { graph, outputs, expected };
}

const PY3 = '/usr/bin/python3';

/** Writes the graph as ONNX, validates it with onnx.checker (full_check) and runs it with onnxruntime-node. */
export async function checkOnnxExport(graph: Graph, feeds: Map<string, Tensor>, verify: (outs: Map<string, Tensor>) => void): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'mconv-keras-'));
  try {
    const path = join(dir, 'model.onnx');
    const files = writeOnnx(new Model(graph, { format: 'keras' }), path);
    writeFileSync(path, files.main);
    for (const [n, bytes] of files.extra) writeFileSync(join(dir, n), bytes);
    let checkerError = '';
    try {
      execFileSync(PY3, ['-c', 'import onnx, sys; onnx.checker.check_model(onnx.load(sys.argv[1]), full_check=True)', path], { stdio: 'pipe' });
    } catch (e) {
      const stderr = String((e as { stderr?: Buffer }).stderr ?? e);
      if (!/No module named/.test(stderr)) checkerError = stderr;
    }
    expect(checkerError).toBe('');
    if (await loadOnnxRuntime()) verify(await runWithOnnxRuntime(path, feeds));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A one-layer Sequential model (input shape without batch). */
export function oneLayer(inputShape: (number | null)[], layer: tfl.layers.Layer): tfl.Sequential {
  const m = tfl.sequential();
  m.add(tfl.layers.inputLayer({ inputShape }));
  m.add(layer);
  return m;
}

/** Counts nodes with this op in a graph (subgraphs too). */
export function countOps(graph: Graph, op: string): number {
  return graph.findNodesByOp(op).length;
}
