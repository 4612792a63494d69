/**
 * Expected values from numpy (Debian's python3) for kernel edge cases the ONNX backend data
 * does not reach: each spec gives the node, its inputs and a numpy expression over x0, x1, ...
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import { Attr, Graph } from '../../../../src/ir/graph.js';
import { DType, Tensor } from '../../../../src/ir/tensor.js';
import type { KernelTable, RT } from '../../../../src/runtime/kernels/types.js';
import { fromRTSync, toRT } from '../../../../src/runtime/tensor-bridge.js';
import { PYTHON } from './onnx-cases.js';
import { prng } from '../../../../src/runtime/random-inputs.js';

function pythonHasNumpy(): boolean {
  if (!existsSync(PYTHON)) return false;
  try {
    execFileSync(PYTHON, ['-c', 'import numpy'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
export const HAVE_NUMPY = pythonHasNumpy();
if (!HAVE_NUMPY) console.warn(`skipping numpy oracle tests: need ${PYTHON} with numpy`);

export interface In {
  dtype: DType;
  shape: number[];
  values: (number | string | boolean)[];
}

export interface Spec {
  name: string;
  op: string;
  attrs?: Record<string, Attr>;
  inputs: (In | null)[];
  /** numpy expression over np, x0, x1, ... (and torch when named); a tuple for several outputs. */
  py: string;
  /** Output dtypes (numpy results are cast to them). */
  out: DType[];
  atol?: number;
  rtol?: number;
}

/** A seeded generator of test data (the runtime's mulberry32). */
export const rng = prng;

export function rand(shape: number[], seed: number, lo = -1, hi = 1, dtype: DType = 'float32'): In {
  const r = rng(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  const isInt = dtype.startsWith('int') || dtype.startsWith('uint');
  const values = Array.from({ length: n }, () => {
    const v = lo + (hi - lo) * r();
    if (dtype === 'bool') return r() < 0.5;
    if (isInt) return Math.floor(v);
    return dtype === 'float32' ? Math.fround(v) : v;
  });
  return { dtype, shape, values };
}

export function vals(dtype: DType, shape: number[], values: (number | string | boolean)[]): In {
  return { dtype, shape, values };
}

const SCRIPT = String.raw`
import sys, json, base64
import numpy as np
NP = {'float32': np.float32, 'float64': np.float64, 'float16': np.float16, 'int8': np.int8, 'int16': np.int16,
      'int32': np.int32, 'int64': np.int64, 'uint8': np.uint8, 'uint16': np.uint16, 'uint32': np.uint32,
      'uint64': np.uint64, 'bool': np.bool_}
def arr(j):
    if j is None: return None
    if j['dtype'] == 'string': return np.array(j['values'], dtype=object).reshape(j['shape'])
    return np.array(j['values'], dtype=NP[j['dtype']]).reshape(j['shape'])
def enc(a, dt):
    a = np.asarray(a)
    if dt == 'string':
        return {'dtype': dt, 'shape': list(a.shape), 'strings': [str(x) for x in a.ravel()]}
    a = a.astype(NP[dt]).astype(np.dtype(NP[dt]).newbyteorder('<'))
    return {'dtype': dt, 'shape': list(a.shape), 'b64': base64.b64encode(np.ascontiguousarray(a).tobytes()).decode()}
specs = json.load(sys.stdin)
res = []
for s in specs:
    env = {'np': np}
    if 'torch' in s['py']:
        import torch
        env['torch'] = torch
    for i, x in enumerate(s['inputs']): env['x%d' % i] = arr(x)
    with np.errstate(all='ignore'):
        r = eval(s['py'], env)
    if not isinstance(r, tuple): r = (r,)
    res.append([enc(a, dt) for a, dt in zip(r, s['out'])])
print(json.dumps(res))
`;

interface JT { dtype: DType; shape: number[]; b64?: string; strings?: string[] }

/** Evaluates every spec's numpy expression (one python call). */
export function numpyExpected(specs: Spec[]): Tensor[][] {
  // JSON has no NaN/Infinity: send them as strings numpy parses.
  const nonFinite = (_k: string, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? String(v).replace('Infinity', 'inf') : v);
  const input = JSON.stringify(specs.map((s) => ({ py: s.py, inputs: s.inputs, out: s.out })), nonFinite);
  const json = execFileSync(PYTHON, ['-c', SCRIPT], { input, maxBuffer: 1 << 28 }).toString();
  return (JSON.parse(json) as JT[][]).map((outs) =>
    outs.map((j) => (j.dtype === 'string' ? Tensor.fromStrings(j.shape, j.strings!) : Tensor.fromBytes(j.dtype, j.shape, new Uint8Array(Buffer.from(j.b64!, 'base64'))))),
  );
}

function inTensor(i: In): Tensor {
  if (i.dtype === 'string') return Tensor.fromStrings(i.shape, i.values as string[]);
  return Tensor.fromArray(i.dtype, i.shape, i.values.map((v) => (typeof v === 'boolean' ? (v ? 1 : 0) : Number(v))));
}

/** Runs the spec's node through `kernels` on the active backend. */
export async function runSpec(kernels: KernelTable, s: Spec, backend: string): Promise<Tensor[]> {
  const g = new Graph(s.name);
  const ins = s.inputs.map((x, i) => (x ? g.addInput(`x${i}`, x.dtype, x.shape) : null));
  const node = g.addNode(s.op, ins, s.out.map((_, i) => `y${i}`), s.attrs ?? {});
  s.out.forEach((d, i) => (node.outputs[i]!.dtype = d));
  const k = kernels[s.op];
  if (!k) throw new Error(`no kernel for ${s.op}`);
  const reason = k.check?.(node);
  if (reason) throw new Error(`check refused: ${reason}`);
  const rts: (RT | undefined)[] = s.inputs.map((x) => (x ? toRT(tf, inTensor(x)) : undefined));
  const before = tf.memory().numTensors;
  const outs = await k.run({ tf, node, inputs: rts, backend, runSubgraph: async () => { throw new Error('no subgraphs'); } });
  const result = outs.slice(0, s.out.length).map((r) => fromRTSync(r));
  for (const r of outs) r.t.dispose();
  const leaked = tf.memory().numTensors - before;
  for (const r of rts) r?.t.dispose();
  if (leaked > 0) throw new Error(`${s.name}: kernel leaked ${leaked} tensor(s)`);
  return result;
}
