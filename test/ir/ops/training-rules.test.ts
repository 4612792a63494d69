/**
 * Adagrad, Adam and Momentum (ai.onnx.preview.training) inference against ONNX's own shape
 * inference (Debian python3-onnx) over list lengths, shapes (symbolic dims included) and dtypes.
 * Gradient, which onnx does not infer, is checked on the backend cases in coverage.test.ts.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { Graph, attr, type Attrs } from '../../../src/ir/graph.js';
import { inferShapes } from '../../../src/ir/infer.js';
import { ONNX_DTYPE_CODES } from '../../../src/ir/ops/helpers.js';
import { TRAINING_DOMAIN } from '../../../src/ir/ops/training.js';
import type { DType, Dim, Shape } from '../../../src/ir/tensor.js';

const PY = '/usr/bin/python3';

interface Case {
  name: string;
  op: string;
  inputs: { name: string; dtype: DType; shape: Shape }[];
  outputs: string[];
  attrs: Record<string, number | string>;
}

const OPTIMIZERS: Record<string, { lists: string[]; outs: string[]; attrs: Record<string, number | string> }> = {
  Adagrad: { lists: ['X', 'G', 'H'], outs: ['X', 'H'], attrs: { decay_factor: 0.1, epsilon: 1e-5, norm_coefficient: 0.001 } },
  Adam: { lists: ['X', 'G', 'V', 'H'], outs: ['X', 'V', 'H'], attrs: { alpha: 0.9, beta: 0.99 } },
  Momentum: { lists: ['X', 'G', 'V'], outs: ['X', 'V'], attrs: { alpha: 0.9, beta: 0.1, mode: 'nesterov', norm_coefficient: 0.01 } },
};

const SHAPES: Shape[] = [[3, 4], [5], [], ['n', 7], [2, 'm', 2]];

function cases(): Case[] {
  const out: Case[] = [];
  for (const [op, spec] of Object.entries(OPTIMIZERS)) {
    for (let n = 1; n <= 3; n++) {
      for (const dtype of ['float32', 'float64'] as DType[]) {
        for (const rotate of [0, 2]) {
          const shapes = Array.from({ length: n }, (_, i) => SHAPES[(i + rotate) % SHAPES.length]!);
          const inputs: Case['inputs'] = [{ name: 'R', dtype: 'float32', shape: [] }, { name: 'T', dtype: 'int64', shape: [] }];
          for (const l of spec.lists) shapes.forEach((shape, i) => inputs.push({ name: `${l}${i}`, dtype, shape }));
          const allOuts = spec.outs.flatMap((l) => shapes.map((_, i) => `${l}${i}_new`));
          out.push({ name: `${op} n=${n} ${dtype} rot ${rotate}`, op, inputs, outputs: allOuts, attrs: spec.attrs });
        }
      }
    }
  }
  return out;
}

function ours(c: Case): { types: Record<string, { dtype?: DType; shape?: Shape }>; errors: string[] } {
  const g = new Graph('g');
  for (const i of c.inputs) g.addInput(i.name, i.dtype, i.shape.slice());
  const attrs: Attrs = {};
  for (const [k, v] of Object.entries(c.attrs)) attrs[k] = typeof v === 'string' ? attr.string(v) : attr.float(v);
  const node = g.addNode(c.op, c.inputs.map((i) => g.value(i.name)!), c.outputs, attrs, c.op, TRAINING_DOMAIN);
  const r = inferShapes(g, { write: false });
  const types: Record<string, { dtype?: DType; shape?: Shape }> = {};
  for (const o of node.outputs) types[o.name] = r.types.get(o) ?? {};
  return { types, errors: r.issues.map((i) => i.message) };
}

function reference(all: Case[]): Record<string, Record<string, { elem: number; dims: Dim[] | null }>> | undefined {
  if (!existsSync(PY)) return undefined;
  const payload = all.map((c) => ({
    name: c.name, op: c.op, domain: TRAINING_DOMAIN, opsets: { '': 17, [TRAINING_DOMAIN]: 1 },
    inputs: c.inputs.map((i) => ({ name: i.name, elem: ONNX_DTYPE_CODES[i.dtype], dims: i.shape })),
    outputs: c.outputs, attrs: c.attrs,
  }));
  try {
    const script = fileURLToPath(new URL('./onnx-node-infer.py', import.meta.url));
    return JSON.parse(execFileSync(PY, [script], { input: JSON.stringify(payload), encoding: 'utf8', maxBuffer: 1 << 26 }));
  } catch {
    return undefined;
  }
}

const all = cases();
const ref = reference(all);
if (!ref) console.warn('skipping the optimizer inference comparison: /usr/bin/python3 with onnx is not available');

describe.skipIf(!ref)('optimizer inference matches onnx.shape_inference', () => {
  it(`${all.length} nodes`, () => {
    const problems: string[] = [];
    let compared = 0;
    for (const c of all) {
      const r = ref![c.name]!;
      expect(r['error'], c.name).toBeUndefined();
      const { types, errors } = ours(c);
      if (errors.length) problems.push(`${c.name}: ${errors.join('; ')}`);
      for (const o of c.outputs) {
        const want = r[o];
        const got = types[o]!;
        if (!want) {
          problems.push(`${c.name} ${o}: onnx infers nothing`);
          continue;
        }
        compared++;
        const dtypeOk = got.dtype !== undefined && ONNX_DTYPE_CODES[got.dtype] === want.elem;
        if (!dtypeOk || JSON.stringify(got.shape) !== JSON.stringify(want.dims)) {
          problems.push(`${c.name} ${o}: ours ${got.dtype}[${got.shape}], onnx ${want.elem}[${want.dims}]`);
        }
      }
    }
    expect(problems).toEqual([]);
    expect(compared).toBeGreaterThan(100);
  });

  it('with only the new X list as outputs (onnx wants them all; the runtime accepts fewer)', () => {
    for (const c of all) {
      const n = (c.inputs.length - 2) / OPTIMIZERS[c.op]!.lists.length;
      const { types, errors } = ours({ ...c, outputs: c.outputs.slice(0, n) });
      expect(errors).toEqual([]);
      for (const o of c.outputs.slice(0, n)) {
        const want = ref![c.name]![o]!;
        expect(ONNX_DTYPE_CODES[types[o]!.dtype!], `${c.name} ${o}`).toBe(want.elem);
        expect(types[o]!.shape, `${c.name} ${o}`).toEqual(want.dims);
      }
    }
  });
});

describe('optimizer and Gradient rules refuse malformed nodes', () => {
  it('lists of unequal length, too many outputs, integer tensors', () => {
    const base = cases().find((c) => c.op === 'Adam' && c.inputs.length === 6)!;
    expect(ours({ ...base, inputs: base.inputs.slice(0, 5) }).errors.join()).toMatch(/needs R, T and 4 lists of equal length, got 5 inputs/);
    expect(ours({ ...base, outputs: ['a', 'b', 'c', 'd'] }).errors.join()).toMatch(/has 4 outputs, at most 3 expected/);
    const ints = { ...base, inputs: base.inputs.map((i, k) => (k === 2 ? { ...i, dtype: 'int32' as DType } : i)) };
    expect(ours(ints).errors.join()).toMatch(/input 2 is int32; optimizers update float tensors/);
  });
  it('Gradient: outputs shaped like xs, inputs counted against xs and zs', () => {
    const g = new Graph('g');
    const a = g.addInput('a', 'float32', [2, 'n']);
    const b = g.addInput('b', 'float64', [3]);
    const z = g.addInput('z', 'float32', [4]);
    const node = g.addNode('Gradient', [a, b, z], ['da', 'db'], {
      xs: attr.strings(['a', 'b']), zs: attr.strings(['z']), y: attr.string('c'),
    }, 'grad', TRAINING_DOMAIN);
    const r = inferShapes(g, { write: false });
    expect(r.issues).toEqual([]);
    expect(node.outputs.map((o) => r.types.get(o))).toMatchObject([{ dtype: 'float32', shape: [2, 'n'] }, { dtype: 'float64', shape: [3] }]);
    const bad = new Graph('g');
    const x = bad.addInput('x', 'float32', [2]);
    bad.addNode('Gradient', [x], ['dx', 'dy'], { xs: attr.strings(['x']), y: attr.string('c') }, 'grad', TRAINING_DOMAIN);
    expect(inferShapes(bad, { write: false }).issues.map((i) => i.message).join()).toMatch(/has 2 outputs, xs names 1/);
  });
});
