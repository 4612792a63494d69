/**
 * Shared pieces of the TF op converter tests: a one-op TfGraph from named inputs (Placeholders,
 * or Consts for inputs that must be constant), converted to the IR and run on the mconv runtime,
 * compared against the tfjs-converter oracle or numpy.
 */
import { execFileSync } from 'node:child_process';
import { expect } from 'vitest';
import { Graph, Model, type Value } from '../../../src/ir/graph.js';
import { Tensor, type DType } from '../../../src/ir/tensor.js';
import { MconvError } from '../../../src/errors.js';
import { Session } from '../../../src/runtime/session.js';
import { compareTensors } from '../../../src/runtime/compare.js';
import { prng } from '../../../src/runtime/random-inputs.js';
import { validateGraph, validationErrors } from '../../../src/ir/validate.js';
import { inferShapes } from '../../../src/ir/infer.js';
import { tfOpConverter, type TfOpContext } from '../../../src/formats/tf/op-api.js';
import { irDType, type TfAttr, type TfGraph, type TfNode } from '../../../src/formats/tf/tf-graph.js';
import '../../../src/formats/tf/ops/math.js';
import '../../../src/formats/tf/ops/reduce.js';
import '../../../src/formats/tf/ops/activation.js';
import '../../../src/formats/tf/ops/misc.js';
import { constNode, placeholder, runTfjsGraphOracle, tfGraph, tfNode } from '../../helpers/tf-oracle.js';
import { PY } from '../../helpers/cli.js';

export interface OpInput {
  name: string;
  value: Tensor;
  /** Given as a Const node (axes, bounds) instead of a Placeholder. */
  constant?: boolean;
}

export interface OpCase {
  op: string;
  inputs: OpInput[];
  attrs?: Record<string, TfAttr | number | boolean | DType>;
  /** Output ports to compare (default [0]). */
  ports?: number[];
  /** Sets T to the first input's dtype unless attrs give it (default true). */
  typeAttr?: boolean;
}

/** Seeded uniform values in [lo, hi) of a dtype (integers rounded). */
export function rand(dtype: DType, shape: number[], seed: number, lo = -2, hi = 2): Tensor {
  const r = prng(seed);
  const n = shape.reduce((a, d) => a * d, 1);
  const vals = Array.from({ length: n }, () => lo + (hi - lo) * r());
  if (dtype === 'bool') return Tensor.fromArray('bool', shape, vals.map((v) => v > (lo + hi) / 2));
  if (dtype.startsWith('int') || dtype.startsWith('uint')) return Tensor.fromArray(dtype, shape, vals.map(Math.floor));
  return Tensor.fromArray(dtype, shape, vals);
}

export function caseGraph(c: OpCase): TfGraph {
  const nodes: TfNode[] = c.inputs.map((i) => (i.constant ? constNode(i.name, i.value) : placeholder(i.name, i.value.dtype, i.value.shape)));
  const attrs = { ...(c.typeAttr === false || c.attrs?.T || !c.inputs.length ? {} : { T: c.inputs[0]!.value.dtype }), ...c.attrs };
  nodes.push(tfNode('y', c.op, c.inputs.map((i) => i.name), attrs));
  return tfGraph(nodes);
}

function feedsOf(c: OpCase): Record<string, Tensor> {
  return Object.fromEntries(c.inputs.filter((i) => !i.constant).map((i) => [i.name, i.value]));
}

const outNames = (c: OpCase) => (c.ports ?? [0]).map((p) => (p === 0 ? 'y' : `y:${p}`));

/* ------------------------------------------------------------------------------------------ */
/* A minimal importer for one-op graphs: Placeholders become graph inputs, Consts initializers. */

function attrError(node: TfNode, name: string): MconvError {
  return new MconvError({ kind: 'unreadable', format: 'tf', message: `attribute ${name} is missing`, where: `${node.name} (${node.op})` });
}

function contextFor(graph: Graph, tf: TfGraph, node: TfNode): TfOpContext {
  let emitted = 0;
  const ctx: TfOpContext = {
    graph, node, tfGraph: tf, irName: node.name,
    fn: (name) => tf.functions.find((f) => f.name === name),
    attr: (name) => node.attr[name],
    int: (name, def) => node.attr[name]?.i ?? def ?? (() => { throw attrError(node, name); })(),
    float: (name, def) => node.attr[name]?.f ?? def ?? (() => { throw attrError(node, name); })(),
    bool: (name, def) => node.attr[name]?.b ?? def ?? (() => { throw attrError(node, name); })(),
    str: (name, def) => {
      const s = node.attr[name]?.s;
      if (s) return new TextDecoder().decode(s);
      if (def !== undefined) return def;
      throw attrError(node, name);
    },
    ints: (name, def) => node.attr[name]?.list?.i ?? def ?? (() => { throw attrError(node, name); })(),
    dtype: (name, def) => {
      const t = node.attr[name]?.type;
      if (t === undefined) {
        if (def) return def;
        throw attrError(node, name);
      }
      return irDType(t) ?? (() => { throw ctx.unsupported(`dtype ${t}`); })();
    },
    constant: (v) => v.initializer,
    requireConstant: (v, what) => {
      if (v.initializer) return v.initializer;
      throw new MconvError({ kind: 'unsupported', format: 'tf', message: `${what} must be constant`, where: node.name });
    },
    initializer: (suffix, t) => graph.addInitializer(graph.uniqueValueName(`${node.name}/${suffix}`), t),
    ints64: (suffix, values, shape) => ctx.initializer(suffix, Tensor.fromArray('int64', shape ?? [values.length], values)),
    floats32: (suffix, values, shape) => ctx.initializer(suffix, Tensor.fromArray('float32', shape ?? [values.length], values)),
    emit: (op, inputs, attrs = {}, outputs = 1, suffix) => {
      const name = suffix === undefined && emitted === 0 ? node.name : `${node.name}/${suffix ?? op}`;
      emitted++;
      const n = graph.addNode(op, inputs, outputs, attrs, name);
      n.meta.tfNode = node.name;
      return n.outputs;
    },
    toChannelsFirst: () => { throw new Error('not in this harness'); },
    toChannelsLast: () => { throw new Error('not in this harness'); },
    unsupported: (what) => new MconvError({ kind: 'unsupported', format: 'tf', message: `${node.op}: ${what} is not supported`, where: node.name }),
  };
  return ctx;
}

type Importer = (tf: TfGraph, options?: { outputs?: string[] }) => Graph;
/** The project's TF graph importer (src/formats/tf/import-graph.ts) once it exists. */
const IMPORTER = '../../../src/formats/tf/import-graph.js';
let importer: Importer | undefined;
try {
  importer = ((await import(/* @vite-ignore */ IMPORTER)) as { importTfGraph?: Importer }).importTfGraph;
} catch {
  importer = undefined;
}
if (!importer) console.warn('op-harness: src/formats/tf/import-graph.ts not available; converting with the minimal one-op importer');
export const usingRealImporter = !!importer;

/** Converts a TfGraph into an IR model: with importTfGraph when present, else the minimal importer. */
export function convertOneOp(tf: TfGraph, outputs: string[]): Model {
  if (importer) return new Model(importer(tf, { outputs }), { format: 'tf' });
  return convertMinimal(tf, outputs);
}

/** The minimal importer: Placeholders, Consts, then op nodes. */
function convertMinimal(tf: TfGraph, outputs: string[]): Model {
  const graph = new Graph('tf');
  const values = new Map<string, Value[]>();
  for (const n of tf.nodes) {
    if (n.op === 'Placeholder') {
      values.set(n.name, [graph.addInput(n.name, irDType(n.attr.dtype!.type)!, n.attr.shape!.shape!)]);
    } else if (n.op === 'Const') {
      values.set(n.name, [graph.addInitializer(n.name, n.attr.value!.tensor!)]);
    } else {
      const conv = tfOpConverter(n.op);
      if (!conv) throw new Error(`no converter for ${n.op}`);
      const ins = n.inputs.filter((i) => !i.startsWith('^')).map((i) => {
        const [base, port] = i.split(':');
        return values.get(base!)![Number(port ?? 0)]!;
      });
      values.set(n.name, conv(contextFor(graph, tf, n), ins));
    }
  }
  for (const o of outputs) {
    const [base, port] = o.split(':');
    graph.outputs.push(values.get(base!)![Number(port ?? 0)]!);
  }
  return new Model(graph, { format: 'tf' });
}

/** Runs the case through the converter and the mconv runtime. */
export async function runOurs(c: OpCase, backend?: string): Promise<{ model: Model; outputs: Tensor[] }> {
  const model = convertOneOp(caseGraph(c), outNames(c));
  // The converted graph is valid IR, and inference agrees with what the runtime computes.
  const problems = validationErrors(validateGraph(model.graph)).map((i) => `${i.node ?? ''}: ${i.message}`);
  expect(problems, `${c.op}: IR validation`).toEqual([]);
  inferShapes(model.graph);
  const session = await Session.create(model, { backend });
  try {
    const given = feedsOf(c);
    const feeds = new Map(model.graph.inputs.map((v) => [v.name, given[v.name] ?? given[v.name.replace(/:0$/, '')]!]));
    const out = await session.run(feeds);
    const outputs = model.graph.outputs.map((o) => out.get(o.name)!);
    model.graph.outputs.forEach((o, i) => {
      expect(o.dtype, `${c.op}: inferred dtype of output ${i}`).toBe(outputs[i]!.dtype);
      if (o.shape?.every((d) => typeof d === 'number')) expect(o.shape, `${c.op}: inferred shape of output ${i}`).toEqual(outputs[i]!.shape);
    });
    return { model, outputs };
  } finally {
    session.dispose();
  }
}

export async function runOracle(c: OpCase): Promise<Tensor[]> {
  return runTfjsGraphOracle(caseGraph(c), new Map(), feedsOf(c), outNames(c));
}

export function expectClose(actual: Tensor, expected: Tensor, label: string, atol = 1e-5, rtol = 1e-5): void {
  const r = compareTensors(label, actual, expected, { atol, rtol });
  expect(r.problem, `${label}: ${r.problem}`).toBeUndefined();
  expect(r.mismatches, `${label}: ${r.mismatches} mismatches, max abs error ${r.maxAbsError} at ${r.worstIndex} (got ${r.worstActual}, want ${r.worstExpected})`).toBe(0);
}

/** Our outputs against the tfjs-converter oracle; returns ours. */
export async function expectOracle(c: OpCase, opts: { atol?: number; rtol?: number; dtypes?: DType[] } = {}): Promise<Tensor[]> {
  const [{ outputs }, want] = await Promise.all([runOurs(c), runOracle(c)]);
  expect(outputs.length).toBe(want.length);
  outputs.forEach((o, i) => {
    if (opts.dtypes) expect(o.dtype, `${c.op} output ${i} dtype`).toBe(opts.dtypes[i]);
    expectClose(o, want[i]!, `${c.op}#${i}`, opts.atol, opts.rtol);
  });
  return outputs;
}

const NP_DTYPE: Partial<Record<DType, string>> = {
  float32: 'float32', float64: 'float64', int32: 'int32', int64: 'int64', int16: 'int16', int8: 'int8', uint8: 'uint8',
  uint16: 'uint16', uint32: 'uint32', bool: 'bool_',
};

/**
 * Evaluates numpy code over the case's inputs (bound by name as numpy arrays of their dtype) and
 * returns `out` as a tensor of its numpy dtype. Math functions come from numpy (`np`) and `math`.
 */
export function numpy(code: string, inputs: Record<string, Tensor>): Tensor {
  const payload = Object.fromEntries(Object.entries(inputs).map(([k, t]) => [k, {
    dtype: NP_DTYPE[t.dtype], shape: t.shape, data: t.toArray().map((v) => (typeof v === 'bigint' ? v.toString() : typeof v === 'number' && !Number.isFinite(v) ? String(v) : v)),
  }]));
  const script = [
    'import sys, json, math, numpy as np',
    'np.seterr(all="ignore")',
    'd = json.load(sys.stdin)',
    'g = {"np": np, "math": math}',
    'for k, v in d.items():',
    '    g[k] = np.array([int(x) if v["dtype"].startswith(("int", "uint")) else (float(x) if isinstance(x, str) else x) for x in v["data"]], dtype=getattr(np, v["dtype"])).reshape(v["shape"])',
    `exec(${JSON.stringify(code)}, g)`,
    'out = np.asarray(g["out"])',
    'vals = ["nan" if isinstance(x, float) and x != x else ("inf" if x == float("inf") else ("-inf" if x == float("-inf") else x)) for x in out.ravel().tolist()]',
    'print(json.dumps({"dtype": str(out.dtype), "shape": list(out.shape), "data": [str(x) if out.dtype == np.int64 else x for x in vals]}))',
  ].join('\n');
  const res = JSON.parse(execFileSync(PY, ['-c', script], { input: JSON.stringify(payload) }).toString());
  const dt = (res.dtype === 'bool' ? 'bool' : res.dtype) as DType;
  const data = (res.data as unknown[]).map((x) => (x === 'nan' ? NaN : x === 'inf' ? Infinity : x === '-inf' ? -Infinity : dt === 'int64' ? BigInt(x as string) : x));
  return Tensor.fromArray(dt, res.shape, data as (number | bigint | boolean)[]);
}

/** Our outputs against numpy code over the inputs. */
export async function expectNumpy(c: OpCase, code: string, opts: { atol?: number; rtol?: number; dtype?: DType } = {}): Promise<Tensor> {
  const { outputs } = await runOurs(c);
  const want = numpy(code, Object.fromEntries(c.inputs.map((i) => [i.name, i.value])));
  if (opts.dtype) expect(outputs[0]!.dtype, `${c.op} dtype`).toBe(opts.dtype);
  expectClose(outputs[0]!, want, `${c.op} vs numpy`, opts.atol, opts.rtol);
  return outputs[0]!;
}
