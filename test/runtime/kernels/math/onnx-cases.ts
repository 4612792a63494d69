/**
 * Loads ONNX backend test cases (Debian libonnx-testdata) for kernel tests.
 * Decoding uses Debian's python3 `onnx`/`numpy`, which we did not write, so the expected
 * values and the node definitions come from outside this project.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { Attr, Graph } from '../../../../src/ir/graph.js';
import { DType, Tensor } from '../../../../src/ir/tensor.js';
import type { KernelTable, RT } from '../../../../src/runtime/kernels/types.js';
import { fromRTSync, toRT } from '../../../../src/runtime/tensor-bridge.js';
import { hasPython } from '../../../helpers/cli.js';

export const NODE_DIR = '/usr/share/libonnx-testdata/data/node';
export const PYTHON = '/usr/bin/python3';

const pythonHasOnnx = (): boolean => hasPython('onnx', 'numpy');

export const HAVE_CASES = existsSync(NODE_DIR) && pythonHasOnnx();
if (!HAVE_CASES) console.warn(`skipping ONNX backend case tests: need ${NODE_DIR} and ${PYTHON} with onnx+numpy`);

interface JTensor { dtype: DType; shape: number[]; b64?: string; strings?: string[] }
interface JAttr { kind: Attr['kind']; value: unknown }
interface JNode { op: string; domain: string; inputs: string[]; outputs: string[]; attrs: Record<string, JAttr> }
interface JCase { name: string; nodes: JNode[]; graphInputs: string[]; graphOutputs: string[]; inputs: JTensor[]; outputs: JTensor[] }

const SCRIPT = String.raw`
import sys, json, base64, os
import numpy as np
import onnx
from onnx import numpy_helper, helper, TensorProto
DT = {1:'float32',2:'uint8',3:'int8',4:'uint16',5:'int16',6:'int32',7:'int64',8:'string',9:'bool',10:'float16',11:'float64',12:'uint32',13:'uint64',16:'bfloat16'}
def jt(t):
    d = DT[t.data_type]
    a = numpy_helper.to_array(t)
    shape = [int(x) for x in t.dims]
    if d == 'string':
        return {'dtype': d, 'shape': shape, 'strings': [x.decode('utf-8') if isinstance(x, bytes) else str(x) for x in a.ravel()]}
    if d == 'bfloat16':
        a = (np.asarray(a, dtype=np.float32).view(np.uint32) >> 16).astype('<u2')
    elif d == 'float16':
        a = np.asarray(a, dtype=np.float16)
    else:
        a = np.asarray(a).astype(a.dtype.newbyteorder('<'))
    return {'dtype': d, 'shape': shape, 'b64': base64.b64encode(np.ascontiguousarray(a).tobytes()).decode()}
def ja(a):
    v = helper.get_attribute_value(a)
    T = onnx.AttributeProto
    if a.type == T.FLOAT: return {'kind': 'float', 'value': float(v)}
    if a.type == T.INT: return {'kind': 'int', 'value': int(v)}
    if a.type == T.STRING: return {'kind': 'string', 'value': v.decode()}
    if a.type == T.FLOATS: return {'kind': 'floats', 'value': [float(x) for x in v]}
    if a.type == T.INTS: return {'kind': 'ints', 'value': [int(x) for x in v]}
    if a.type == T.STRINGS: return {'kind': 'strings', 'value': [x.decode() for x in v]}
    if a.type == T.TENSOR: return {'kind': 'tensor', 'value': jt(v)}
    raise Exception('attribute kind ' + str(a.type))
out = []
for d in sys.argv[1:]:
    m = onnx.load(os.path.join(d, 'model.onnx'))
    g = m.graph
    inits = set(i.name for i in g.initializer)
    gi = [i.name for i in g.input if i.name not in inits]
    ds = os.path.join(d, 'test_data_set_0')
    def load(kind, declared):
        ts = []
        for i, v in enumerate(declared):
            t = TensorProto()
            with open(os.path.join(ds, '%s_%d.pb' % (kind, i)), 'rb') as f: t.ParseFromString(f.read())
            j = jt(t)
            # onnx 1.12 stores bfloat16 test data as uint16 bit patterns; the model declares bfloat16.
            if v.type.tensor_type.elem_type == 16 and t.data_type == 4: j['dtype'] = 'bfloat16'
            ts.append(j)
        return ts
    ins = [i for i in g.input if i.name not in inits]
    out.append({'name': os.path.basename(d),
        'nodes': [{'op': n.op_type, 'domain': n.domain, 'inputs': list(n.input), 'outputs': list(n.output), 'attrs': {a.name: ja(a) for a in n.attribute}} for n in g.node],
        'graphInputs': gi, 'graphOutputs': [o.name for o in g.output],
        'inputs': load('input', ins), 'outputs': load('output', list(g.output))})
print(json.dumps(out))
`;

function toTensor(j: JTensor): Tensor {
  if (j.dtype === 'string') return Tensor.fromStrings(j.shape, j.strings!);
  return Tensor.fromBytes(j.dtype, j.shape, new Uint8Array(Buffer.from(j.b64!, 'base64')));
}

function toAttr(j: JAttr): Attr {
  if (j.kind === 'tensor') return { kind: 'tensor', value: toTensor(j.value as JTensor) };
  return { kind: j.kind, value: j.value } as Attr;
}

export interface LoadedCase {
  name: string;
  graph: Graph;
  inputs: Tensor[];
  expected: Tensor[];
}

/** Loads the named cases (one python call for all of them). */
export function loadCases(names: string[]): Map<string, LoadedCase> {
  const out = new Map<string, LoadedCase>();
  if (!HAVE_CASES) return out;
  const dirs = names.map((n) => `${NODE_DIR}/${n}`).filter((d) => existsSync(d));
  const json = execFileSync(PYTHON, ['-c', SCRIPT, ...dirs], { maxBuffer: 1 << 28 }).toString();
  for (const c of JSON.parse(json) as JCase[]) {
    const g = new Graph(c.name);
    c.inputs.forEach((t, i) => g.addInput(c.graphInputs[i]!, t.dtype, t.shape));
    for (const n of c.nodes) {
      const ins = n.inputs.map((name) => (name ? g.getOrCreateValue(name) : null));
      const attrs: Record<string, Attr> = {};
      for (const [k, a] of Object.entries(n.attrs)) attrs[k] = toAttr(a);
      g.addNode(n.op, ins, n.outputs, attrs, undefined, n.domain);
    }
    g.outputs = c.graphOutputs.map((n) => g.getOrCreateValue(n));
    out.set(c.name, { name: c.name, graph: g, inputs: c.inputs.map(toTensor), expected: c.outputs.map(toTensor) });
  }
  return out;
}

export async function useBackend(name: string): Promise<void> {
  if (tf.getBackend() !== name) await tf.setBackend(name);
  await tf.ready();
}

/** Runs a single-node case through `kernels` directly and returns the outputs as IR tensors. */
export async function runSingleNode(kernels: KernelTable, c: LoadedCase, backend: string): Promise<Tensor[]> {
  if (c.graph.nodes.length !== 1) throw new Error(`${c.name} has ${c.graph.nodes.length} nodes`);
  const node = c.graph.nodes[0]!;
  const kernel = kernels[node.op];
  if (!kernel) throw new Error(`no kernel for ${node.op}`);
  const reason = kernel.check?.(node);
  if (reason) throw new Error(`check refused: ${reason}`);
  const byName = new Map<string, RT>();
  c.graph.inputs.forEach((v, i) => byName.set(v.name, toRT(tf, c.inputs[i]!)));
  const inputs = node.inputs.map((v) => (v ? byName.get(v.name) : undefined));
  const before = tf.memory().numTensors;
  const outs = await kernel.run({ tf, node, inputs, backend, runSubgraph: async () => { throw new Error('no subgraphs here'); } });
  const result = c.graph.outputs.map((o) => {
    const k = node.outputs.indexOf(o);
    return fromRTSync(outs[k]!);
  });
  for (const r of outs) r.t.dispose();
  for (const r of byName.values()) r.t.dispose();
  const leaked = tf.memory().numTensors - (before - byName.size);
  if (leaked > 0) throw new Error(`${c.name}: kernel leaked ${leaked} tensor(s)`);
  return result;
}

/** isclose comparison; returns a description of the worst mismatch, or undefined when all close. */
export function compareTensors(actual: Tensor, expected: Tensor, atol = 1e-5, rtol = 1e-4): string | undefined {
  if (actual.dtype !== expected.dtype) return `dtype ${actual.dtype}, expected ${expected.dtype}`;
  if (actual.shape.join(',') !== expected.shape.join(',')) return `shape [${actual.shape}], expected [${expected.shape}]`;
  if (expected.dtype === 'string') {
    const a = actual.stringValues();
    const e = expected.stringValues();
    const i = a.findIndex((s, k) => s !== e[k]);
    return i < 0 ? undefined : `string ${i}: '${a[i]}', expected '${e[i]}'`;
  }
  const a = actual.toFloat64();
  const e = expected.toFloat64();
  const exact = !(expected.dtype.startsWith('float') || expected.dtype === 'bfloat16');
  let worst = -1;
  let worstErr = 0;
  for (let i = 0; i < e.length; i++) {
    const x = a[i]!;
    const y = e[i]!;
    if (Number.isNaN(y) || Number.isNaN(x)) {
      if (Number.isNaN(y) !== Number.isNaN(x)) return `element ${i}: ${x}, expected ${y}`;
      continue;
    }
    if (x === y) continue;
    const err = Math.abs(x - y);
    const tol = exact ? 0 : atol + rtol * Math.abs(y);
    if (!(err <= tol) && err - tol >= worstErr) {
      worst = i;
      worstErr = err - tol;
    }
  }
  return worst < 0 ? undefined : `element ${worst}: ${a[worst]}, expected ${e[worst]}`;
}

/** Names of the single-node backend cases matching `re` (the `_expanded` variants excluded). */
export function caseNames(re: RegExp): string[] {
  if (!existsSync(NODE_DIR)) return [];
  return readdirSync(NODE_DIR).filter((n) => re.test(n) && !n.endsWith('_expanded')).sort();
}

export interface SuiteOptions {
  /** Per-case tolerances (default atol 1e-5, rtol 1e-4). */
  tol?: (name: string) => { atol: number; rtol: number } | undefined;
  backends?: string[];
}

/**
 * Defines a vitest suite running every named case through `kernels` on each backend and
 * comparing with the case's recorded outputs.
 */
export function defineCaseSuite(title: string, kernels: KernelTable, names: string[], opts: SuiteOptions = {}): void {
  describe.skipIf(!HAVE_CASES)(title, () => {
    let cases = new Map<string, LoadedCase>();
    beforeAll(() => {
      cases = loadCases(names);
    });
    it('finds its cases', () => {
      expect(names.length).toBeGreaterThan(0);
      expect(cases.size).toBe(names.length);
    });
    for (const backend of opts.backends ?? ['wasm', 'cpu']) {
      it.each(names)(`%s on ${backend}`, async (name) => {
        await useBackend(backend);
        const c = cases.get(name)!;
        const outs = await runSingleNode(kernels, c, backend);
        const tol = opts.tol?.(name) ?? { atol: 1e-5, rtol: 1e-4 };
        const problems = c.expected.map((e, i) => {
          const p = compareTensors(outs[i]!, e, tol.atol, tol.rtol);
          return p ? `output ${i}: ${p}` : undefined;
        }).filter(Boolean);
        expect(problems).toEqual([]);
      });
    }
  });
}
