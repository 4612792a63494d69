/**
 * Layers checked against keras_ref.py (torch/numpy implementations of the Keras definitions)
 * where tfjs-layers lacks the layer or the option: the converter runs on a one-layer graph,
 * python computes the expected outputs from the same config, weights and inputs.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Graph } from '../../../../src/ir/graph.js';
import { Tensor, type DType } from '../../../../src/ir/tensor.js';
import { kerasLayerConverter, type KerasLayerConfig } from '../../../../src/formats/keras/layer-api.js';
import { makeContext, runAndCompare, seeded, type CheckOptions, type CheckResult } from './harness.js';
import { setMask } from '../../../../src/formats/keras/layers/mask.js';
import { hasPython } from '../../../helpers/cli.js';

export const PY = '/usr/bin/python3';
const SCRIPT = join(import.meta.dirname, 'keras_ref.py');

export const hasTorch = (): boolean => hasPython('torch', 'numpy');

export interface PyCase {
  class_name: string;
  config: Record<string, unknown>;
  keras_version?: string;
  weights?: [number[], number[]][];
  inputs: [number[], number[]][];
  mask?: [number[], number[]];
  use_torch?: boolean;
}

/** Runs keras_ref.py on the cases; returns each case's outputs. */
export function pythonReference(cases: PyCase[]): Tensor[][] {
  const out = execFileSync(PY, [SCRIPT], { input: JSON.stringify({ cases }), maxBuffer: 1 << 28 });
  const res = JSON.parse(out.toString()) as { outputs: [number[], number[]][][] };
  return res.outputs.map((os) => os.map(([shape, data]) => Tensor.fromArray('float32', shape, data)));
}

export interface LayerCheck {
  class_name: string;
  config: Record<string, unknown>;
  /** Input shapes including the batch. */
  inputs: number[][];
  /** Weight shapes in Keras order, with their base names. */
  weights?: [string, number[]][];
  kerasVersion?: string;
  /** Per-weight value ranges (default [-0.5, 0.5]). */
  weightRange?: [number, number][];
  inputRange?: [number, number];
  inputValues?: Float32Array[];
  /** A boolean [batch, time] mask attached to input 0 (as 0/1). */
  mask?: number[];
  useTorch?: boolean;
  seed?: number;
  /** Symbolic dims in the graph input shapes (by input index: true = all but the channel/last). */
  symbolic?: boolean;
  inputDType?: DType;
}

interface Prepared {
  c: LayerCheck;
  weightVals: Float32Array[];
  inputVals: Float32Array[];
  pyCase: PyCase;
}

function prepare(c: LayerCheck): Prepared {
  const seed = c.seed ?? 11;
  const weightVals = (c.weights ?? []).map(([, shape], i) => {
    const [lo, hi] = c.weightRange?.[i] ?? [-0.5, 0.5];
    return seeded(shape.reduce((a, d) => a * d, 1), seed + 100 + i, lo, hi);
  });
  const [lo, hi] = c.inputRange ?? [-2, 2];
  const inputVals = c.inputs.map((s, i) => c.inputValues?.[i] ?? seeded(s.reduce((a, d) => a * d, 1), seed + i, lo, hi));
  const pyCase: PyCase = {
    class_name: c.class_name,
    config: c.config,
    keras_version: c.kerasVersion,
    weights: (c.weights ?? []).map(([, shape], i) => [shape, Array.from(weightVals[i]!)]),
    inputs: c.inputs.map((s, i) => [s, Array.from(inputVals[i]!)]),
    mask: c.mask ? [[c.inputs[0]![0]!, c.inputs[0]![1]!], c.mask] : undefined,
    use_torch: c.useTorch,
  };
  return { c, weightVals, inputVals, pyCase };
}

/** Builds the one-layer graph of a check with the registered converter. */
export function buildOneLayer(c: LayerCheck, weightVals: Float32Array[]): Graph {
  const graph = new Graph('keras');
  const ins = c.inputs.map((s, i) => graph.addInput(`input_${i}`, c.inputDType ?? 'float32', c.symbolic ? ['N', ...s.slice(1, -1).map((_, k) => `d${k}`), s[s.length - 1]!] : ['N', ...s.slice(1)]));
  if (c.mask) {
    const m = graph.addInitializer('mask', Tensor.fromArray('bool', [c.inputs[0]![0]!, c.inputs[0]![1]!], c.mask.map((v) => v !== 0)));
    setMask(ins[0]!, m);
  }
  const name = (c.config.name as string | undefined) ?? c.class_name.toLowerCase();
  const w = { tensors: (c.weights ?? []).map(([, shape], i) => Tensor.fromArray('float32', shape, weightVals[i]!)), names: (c.weights ?? []).map(([n]) => `${name}/${n}:0`) };
  const layer: KerasLayerConfig = { class_name: c.class_name, config: { name, ...c.config } };
  const conv = kerasLayerConverter(c.class_name);
  if (!conv) throw new Error(`no converter for ${c.class_name}`);
  graph.outputs = conv(makeContext(graph, layer, name, w, c.kerasVersion), ins);
  return graph;
}

/**
 * Builds a one-layer graph per check with the converter, runs it, and compares with
 * keras_ref.py (one python process for all the checks).
 */
export async function checkAgainstPython(checks: LayerCheck | LayerCheck[], opts: CheckOptions = {}): Promise<CheckResult[]> {
  const list = (Array.isArray(checks) ? checks : [checks]).map(prepare);
  const expected = pythonReference(list.map((p) => p.pyCase));
  const results: CheckResult[] = [];
  for (let k = 0; k < list.length; k++) {
    const { c, weightVals, inputVals } = list[k]!;
    const graph = buildOneLayer(c, weightVals);
    const exp = expected[k]!;
    if (graph.outputs.length !== exp.length) throw new Error(`${c.class_name}: converter gave ${graph.outputs.length} outputs, reference ${exp.length}`);
    try {
      results.push(await runAndCompare(graph, inputVals, c.inputs, exp, opts));
    } catch (e) {
      throw new Error(`${c.class_name} ${JSON.stringify(c.config)}: ${(e as Error).message}`, { cause: e });
    }
  }
  return results;
}
