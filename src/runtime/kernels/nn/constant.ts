/**
 * Ops that make tensors from attributes or scalars: Constant (every attribute form),
 * ConstantOfShape, EyeLike, Range, and the random ones (RandomUniform/Normal and their -Like
 * forms: seeded when the node has a seed, else different on each run, as ONNX leaves it).
 */
import type * as tfc from '@tensorflow/tfjs-core';
import type { Node } from '../../../ir/graph.js';
import { toRT } from '../../tensor-bridge.js';
import { prng } from '../../random-inputs.js';
import type { KernelContext, KernelDef, RT } from '../types.js';
import { dtypeFromCode, fromValues, invalidInput, need, readNumbers, readScalar, tfDTypeFor, unsupportedNode } from './util.js';

const CONSTANT_ATTRS = ['value', 'value_float', 'value_floats', 'value_int', 'value_ints', 'value_string', 'value_strings'];

const constant: KernelDef = {
  check(node: Node) {
    if (node.attrs.sparse_value) return 'sparse_value constants are not supported';
    const present = CONSTANT_ATTRS.filter((a) => node.attrs[a]);
    if (present.length !== 1) return `expected exactly one value attribute, found ${present.length ? present.join(', ') : 'none'}`;
    const v = node.attrs.value;
    if (v && v.kind === 'tensor' && (v.value.dtype === 'complex64' || v.value.dtype === 'complex128')) {
      return `${v.value.dtype} constants are not supported`;
    }
    return undefined;
  },
  run({ tf, node }: KernelContext): RT[] {
    const a = node.attrs;
    if (a.value?.kind === 'tensor') return [toRT(tf, a.value.value)];
    if (a.value_float) return [fromValues(tf, [node.attrFloat('value_float')!], [], 'float32')];
    if (a.value_floats) { const v = node.attrFloats('value_floats')!; return [fromValues(tf, v, [v.length], 'float32')]; }
    if (a.value_int) return [fromValues(tf, [node.attrInt('value_int')!], [], 'int64')];
    if (a.value_ints) { const v = node.attrInts('value_ints')!; return [fromValues(tf, v, [v.length], 'int64')]; }
    if (a.value_string) return [fromValues(tf, [node.attrString('value_string')!], [], 'string')];
    if (a.value_strings) { const v = node.attrStrings('value_strings')!; return [fromValues(tf, v, [v.length], 'string')]; }
    throw unsupportedNode(node, 'no value attribute');
  },
};

const constantOfShape: KernelDef = {
  run({ tf, node, inputs }: KernelContext): RT[] {
    const shape = readNumbers(need(node, inputs, 0, 'input')) ?? [];
    if (shape.some((d) => d < 0)) throw invalidInput(node, `shape [${shape}] has a negative dimension`);
    const v = node.attrTensor('value');
    const dtype = v?.dtype ?? 'float32';
    if (v && v.size !== 1) throw invalidInput(node, `value must hold one element, it holds ${v.size}`);
    const td = tfDTypeFor(dtype);
    if (td === 'complex64') throw unsupportedNode(node, `${dtype} values are not supported`);
    if (td === 'string') {
      const s = v!.stringValues()[0]!;
      return [{ t: tf.fill(shape, s as unknown as number, 'string'), dtype }];
    }
    const val = v ? Number(v.toArray()[0]) : 0;
    return [{ t: tf.fill(shape, val, td as tfc.DataType), dtype }];
  },
};

const eyeLike: KernelDef = {
  run({ tf, node, inputs }: KernelContext): RT[] {
    const x = need(node, inputs, 0, 'input');
    if (x.t.rank !== 2) throw invalidInput(node, `input must be 2-D, got rank ${x.t.rank}`);
    const code = node.attrInt('dtype');
    const dtype = code !== undefined ? dtypeFromCode(node, code) : x.dtype;
    const k = node.attrInt('k', 0);
    const [h, w] = x.t.shape as [number, number];
    const data = new Float64Array(h * w);
    for (let i = 0; i < h; i++) {
      const j = i + k;
      if (j >= 0 && j < w) data[i * w + j] = 1;
    }
    return [fromValues(tf, data, [h, w], dtype)];
  },
};

const range: KernelDef = {
  run({ tf, node, inputs }: KernelContext): RT[] {
    const s = need(node, inputs, 0, 'start');
    const start = readScalar(s)!;
    const limit = readScalar(need(node, inputs, 1, 'limit'))!;
    const delta = readScalar(need(node, inputs, 2, 'delta'))!;
    if (delta === 0) throw invalidInput(node, 'delta is 0');
    const n = Math.max(Math.ceil((limit - start) / delta), 0);
    const vals = new Float64Array(n);
    for (let i = 0; i < n; i++) vals[i] = start + i * delta;
    return [fromValues(tf, vals, [n], s.dtype)];
  },
};

function randomKernel(kind: 'uniform' | 'normal', like: boolean): KernelDef {
  return {
    run({ tf, node, inputs }: KernelContext): RT[] {
      let shape: number[];
      let dtype;
      const code = node.attrInt('dtype');
      if (like) {
        const x = need(node, inputs, 0, 'input');
        shape = x.t.shape.slice();
        dtype = code !== undefined ? dtypeFromCode(node, code) : x.dtype;
      } else {
        shape = node.attrInts('shape') ?? [];
        dtype = dtypeFromCode(node, code ?? 1);
      }
      if (dtype !== 'float32' && dtype !== 'float64' && dtype !== 'float16') throw unsupportedNode(node, `random ${dtype} values`);
      const seed = node.attrFloat('seed');
      const next = seed !== undefined ? prng(Math.floor(seed)) : Math.random;
      const n = shape.reduce((p, d) => p * d, 1);
      const vals = new Float64Array(n);
      if (kind === 'uniform') {
        const lo = node.attrFloat('low', 0)!;
        const hi = node.attrFloat('high', 1)!;
        for (let i = 0; i < n; i++) vals[i] = lo + (hi - lo) * next();
      } else {
        const mean = node.attrFloat('mean', 0)!;
        const scale = node.attrFloat('scale', 1)!;
        for (let i = 0; i < n; i++) vals[i] = mean + scale * Math.sqrt(-2 * Math.log(1 - next())) * Math.cos(2 * Math.PI * next());
      }
      return [fromValues(tf, vals, shape, dtype)];
    },
  };
}

export const constantKernels = {
  RandomUniform: randomKernel('uniform', false),
  RandomUniformLike: randomKernel('uniform', true),
  RandomNormal: randomKernel('normal', false),
  RandomNormalLike: randomKernel('normal', true),
  Constant: constant,
  ConstantOfShape: constantOfShape,
  EyeLike: eyeLike,
  Range: range,
};
