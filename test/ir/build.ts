/** Small helpers to build IR graphs in tests. */
import { Graph, attr, type Attrs } from '../../src/ir/graph.js';
import { Tensor, shapeSize, type DType, type Shape } from '../../src/ir/tensor.js';

export { attr };

/** A deterministic pseudo-random float32 tensor (values in [-1, 1)). */
export function randomTensor(shape: number[], seed = 1, dtype: DType = 'float32'): Tensor {
  let s = seed >>> 0 || 1;
  const n = shapeSize(shape);
  const v: number[] = [];
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    v.push((s / 2 ** 32) * 2 - 1);
  }
  return Tensor.fromArray(dtype, shape, v);
}

export function int64s(values: number[], shape: number[] = [values.length]): Tensor {
  return Tensor.fromArray('int64', shape, values);
}

export function floats(values: number[], shape: number[] = [values.length]): Tensor {
  return Tensor.fromArray('float32', shape, values);
}

export function graphWithInput(name: string, dtype: DType, shape: Shape): Graph {
  const g = new Graph('test');
  g.addInput(name, dtype, shape);
  return g;
}

/** Adds a node with one output named `out` and returns that output Value. */
export function op(g: Graph, type: string, inputs: (string | null)[], out: string, attrs: Attrs = {}) {
  const node = g.addNode(type, inputs.map((n) => (n === null ? null : g.value(n)!)), [out], attrs, out);
  return node.outputs[0]!;
}
