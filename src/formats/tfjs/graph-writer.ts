/**
 * `--to tfjs`: any IR graph written as a TensorFlow.js graph-model: `model.json` (the graph as a
 * GraphDef of TF ops in JSON, a signature, a weights manifest) and `group1-shard<i>of<n>.bin`
 * (4 MB shards), loadable by `tf.loadGraphModel`. IR values are channels-first where ONNX is;
 * the TF ops that need NHWC (Conv2D, pooling) get Transposes around them. Weights may be
 * quantized like tensorflowjs_converter does (`float16`, or `uint8` with per-tensor min/scale).
 * Every op without a mapping is listed at once, before anything is written.
 */
import { MconvError } from '../../errors.js';
import type { Graph, Model, Node, Value } from '../../ir/graph.js';
import { topologicalOrder } from '../../ir/walk.js';
import { inferShapes } from '../../ir/infer.js';
import { Tensor, float32ToFloat16, type DType } from '../../ir/tensor.js';
import { transposeTensor } from '../../ir/passes/tensor-ops.js';
import { tfGraphToJson } from '../tf/graph-json.js';
import type { TfAttr, TfGraph, TfNode } from '../tf/tf-graph.js';
import type { WrittenFiles } from '../types.js';

export const TFJS_GRAPH_SHARD_BYTES = 4 * 1024 * 1024;

export interface TfjsGraphWriteOptions {
  quantize?: 'float16' | 'uint8';
  shardBytes?: number;
}

const TF_TYPE: Partial<Record<DType, number>> = { float32: 1, int32: 3, bool: 10, int64: 3, uint8: 4, float64: 1 };

const a = {
  type: (d: DType): TfAttr => ({ type: TF_TYPE[d] ?? 1 }),
  ints: (v: number[]): TfAttr => ({ list: { i: v } }),
  str: (v: string): TfAttr => ({ s: new TextEncoder().encode(v) }),
  bool: (v: boolean): TfAttr => ({ b: v }),
  float: (v: number): TfAttr => ({ f: v }),
  int: (v: number): TfAttr => ({ i: v }),
  shape: (s: number[] | null): TfAttr => ({ shape: s }),
};

/** The TF-side dtype of an IR dtype (tfjs has no int64 or float64: narrowed, as tfjs would load them). */
function tfjsDType(d: DType | undefined): 'float32' | 'int32' | 'bool' {
  if (d === 'bool') return 'bool';
  if (d === 'int32' || d === 'int64' || d === 'int8' || d === 'int16' || d === 'uint8' || d === 'uint16') return 'int32';
  return 'float32';
}

class GraphBuilder {
  readonly nodes: TfNode[] = [];
  readonly weights: { name: string; tensor: Tensor }[] = [];
  private readonly used = new Set<string>();
  /** TF tensor name of each IR value. */
  readonly names = new Map<Value, string>();

  unique(base: string): string {
    const clean = base.replace(/[^A-Za-z0-9_.\-/]/g, '_').replace(/^[^A-Za-z0-9.]/, 'n');
    let n = clean;
    let i = 1;
    while (this.used.has(n)) n = `${clean}_${i++}`;
    this.used.add(n);
    return n;
  }

  node(op: string, name: string, inputs: string[], attr: Record<string, TfAttr> = {}): string {
    const n = this.unique(name);
    this.nodes.push({ name: n, op, inputs, attr });
    return n;
  }

  const(name: string, t: Tensor): string {
    const d = tfjsDType(t.dtype);
    let value = t;
    if (t.dtype !== d) {
      const vals = Array.from(t.toArray() as ArrayLike<number | bigint | boolean>, (x) => Number(x));
      value = Tensor.fromArray(d, t.shape.slice(), d === 'int32' ? Int32Array.from(vals) : Float32Array.from(vals));
    }
    const n = this.node('Const', name, [], { dtype: a.type(d) });
    this.weights.push({ name: n, tensor: value });
    return n;
  }

  ints(name: string, v: number[], shape = [v.length]): string {
    return this.const(name, Tensor.fromArray('int32', shape, v));
  }
}

function fail(node: Node, what: string): MconvError {
  return new MconvError({ kind: 'unsupported', format: 'tfjs', where: `${node.name} (${node.op})`, message: `cannot write ${node.op} as TF ops: ${what}` });
}

type OpWriter = (b: GraphBuilder, node: Node, ins: string[], g: Graph) => string[];

const NCHW_TO_NHWC = [0, 2, 3, 1];
const NHWC_TO_NCHW = [0, 3, 1, 2];

function transpose(b: GraphBuilder, name: string, x: string, perm: number[]): string {
  return b.node('Transpose', name, [x, b.ints(`${name}/perm`, perm)], { T: a.type('float32'), Tperm: a.type('int32') });
}

function constOf(g: Graph, v: Value | null | undefined): Tensor | undefined {
  if (!v) return undefined;
  if (v.producer?.op === 'Constant') return v.producer.attrTensor('value');
  return v.initializer ?? g.resolve(v.name)?.initializer;
}

/** NHWC padding attributes for an ONNX Conv/Pool node. */
function padding(node: Node, rank: number): Record<string, TfAttr> {
  const auto = node.attrString('auto_pad', 'NOTSET');
  if (auto === 'SAME_UPPER') return { padding: a.str('SAME') };
  if (auto === 'VALID') return { padding: a.str('VALID') };
  if (auto === 'SAME_LOWER') throw fail(node, 'auto_pad SAME_LOWER has no TF counterpart');
  const pads = node.attrInts('pads') ?? new Array<number>(2 * (rank - 2)).fill(0);
  if (pads.every((p) => p === 0)) return { padding: a.str('VALID') };
  const n = rank - 2;
  const explicit = [0, 0];
  for (let i = 0; i < n; i++) explicit.push(pads[i]!, pads[i + n]!);
  explicit.push(0, 0);
  return { padding: a.str('EXPLICIT'), explicit_paddings: a.ints(explicit) };
}

function elementwise(op: string): OpWriter {
  return (b, node, ins) => [b.node(op, node.name, ins, { T: a.type(tfjsDType(node.outputs[0]!.dtype ?? node.inputs[0]?.dtype)) })];
}

const WRITERS: Record<string, OpWriter> = {
  Identity: (b, node, [x]) => [b.node('Identity', node.name, [x!], { T: a.type('float32') })],
  Relu: elementwise('Relu'),
  Sigmoid: elementwise('Sigmoid'),
  Tanh: elementwise('Tanh'),
  Exp: elementwise('Exp'),
  Log: elementwise('Log'),
  Sqrt: elementwise('Sqrt'),
  Neg: elementwise('Neg'),
  Abs: elementwise('Abs'),
  Elu: elementwise('Elu'),
  Add: elementwise('AddV2'),
  Sub: elementwise('Sub'),
  Mul: elementwise('Mul'),
  Div: elementwise('RealDiv'),
  Pow: elementwise('Pow'),
  Max: elementwise('Maximum'),
  Min: elementwise('Minimum'),
  LeakyRelu: (b, node, [x]) => [b.node('LeakyRelu', node.name, [x!], { T: a.type('float32'), alpha: a.float(node.attrFloat('alpha', 0.01)!) })],
  Clip: (b, node, [x], g) => {
    const l = constOf(g, node.inputs[1]);
    const h = constOf(g, node.inputs[2]);
    const lv = l ? Number(l.toArray()[0]) : -3.4e38;
    const hv = h ? Number(h.toArray()[0]) : 3.4e38;
    if ((node.inputs[1] && !l) || (node.inputs[2] && !h)) throw fail(node, 'min/max computed in the graph');
    if (lv === 0 && hv === 6) return [b.node('Relu6', node.name, [x!], { T: a.type('float32') })];
    return [b.node('ClipByValue', node.name, [x!, b.const(`${node.name}/min`, Tensor.fromArray('float32', [], [lv])), b.const(`${node.name}/max`, Tensor.fromArray('float32', [], [hv]))], { T: a.type('float32') })];
  },
  Softmax: (b, node, [x]) => {
    const rank = node.inputs[0]?.shape?.length;
    const axis = node.attrInt('axis', -1)!;
    if (rank !== undefined && axis !== -1 && axis !== rank - 1) throw fail(node, `softmax over axis ${axis} (TF takes the last axis)`);
    return [b.node('Softmax', node.name, [x!], { T: a.type('float32') })];
  },
  Conv: (b, node, [x, , bias], g) => {
    const wt = constOf(g, node.inputs[1]);
    if (!wt || wt.rank !== 4) throw fail(node, 'only 2-D convolutions with constant weights');
    const [cout, cinPerGroup] = wt.shape as [number, number, number, number];
    const group = node.attrInt('group', 1)!;
    const strides = node.attrInts('strides') ?? [1, 1];
    const dil = node.attrInts('dilations') ?? [1, 1];
    const xt = transpose(b, `${node.name}/to_nhwc`, x!, NCHW_TO_NHWC);
    let y: string;
    const common = { T: a.type('float32'), strides: a.ints([1, strides[0]!, strides[1]!, 1]), dilations: a.ints([1, dil[0]!, dil[1]!, 1]), data_format: a.str('NHWC'), ...padding(node, 4) };
    if (group === 1) {
      const hwio = transposeTensor(wt, [2, 3, 1, 0]);
      y = b.node('Conv2D', `${node.name}/conv`, [xt, b.const(`${node.name}/filter`, hwio)], common);
    } else if (cinPerGroup === 1 && cout % group === 0) {
      // Depthwise: ONNX [cin * mult, 1, kh, kw] -> TF [kh, kw, cin, mult].
      const mult = cout / group;
      const hw = transposeTensor(wt, [2, 3, 1, 0]).reshape([wt.shape[2]!, wt.shape[3]!, group, mult]);
      y = b.node('DepthwiseConv2dNative', `${node.name}/conv`, [xt, b.const(`${node.name}/filter`, hw)], common);
    } else {
      throw fail(node, `grouped convolution (group ${group})`);
    }
    if (bias) y = b.node('BiasAdd', `${node.name}/bias`, [y, bias], { T: a.type('float32'), data_format: a.str('NHWC') });
    return [transpose(b, node.name, y, NHWC_TO_NCHW)];
  },
  MaxPool: pool('MaxPool'),
  AveragePool: pool('AvgPool'),
  GlobalAveragePool: (b, node, [x]) => [b.node('Mean', node.name, [x!, b.ints(`${node.name}/axes`, [2, 3])], { T: a.type('float32'), Tidx: a.type('int32'), keep_dims: a.bool(true) })],
  GlobalMaxPool: (b, node, [x]) => [b.node('Max', node.name, [x!, b.ints(`${node.name}/axes`, [2, 3])], { T: a.type('float32'), Tidx: a.type('int32'), keep_dims: a.bool(true) })],
  Flatten: (b, node, [x]) => {
    const s = node.inputs[0]?.shape;
    const axis = node.attrInt('axis', 1)!;
    if (!s || s.slice(axis).some((d) => typeof d !== 'number')) throw fail(node, 'flattening dims of unknown size');
    const rows = (s.slice(axis) as number[]).reduce((p, d) => p * d, 1);
    return [b.node('Reshape', node.name, [x!, b.ints(`${node.name}/shape`, [-1, rows])], { T: a.type('float32'), Tshape: a.type('int32') })];
  },
  Reshape: (b, node, [x], g) => {
    const s = constOf(g, node.inputs[1]);
    if (!s) throw fail(node, 'a computed target shape');
    const dims = Array.from(s.toArray() as ArrayLike<number | bigint>, Number);
    const src = node.inputs[0]?.shape;
    // ONNX 0 copies the input's size; TF has no such code.
    const fixed = dims.map((d, i) => (d === 0 ? (typeof src?.[i] === 'number' ? (src[i] as number) : -1) : d));
    return [b.node('Reshape', node.name, [x!, b.ints(`${node.name}/shape`, fixed)], { T: a.type(tfjsDType(node.inputs[0]?.dtype)), Tshape: a.type('int32') })];
  },
  Transpose: (b, node, [x]) => {
    const r = node.inputs[0]?.shape?.length ?? 0;
    const perm = node.attrInts('perm') ?? Array.from({ length: r }, (_, i) => r - 1 - i);
    return [b.node('Transpose', node.name, [x!, b.ints(`${node.name}/perm`, perm)], { T: a.type(tfjsDType(node.inputs[0]?.dtype)), Tperm: a.type('int32') })];
  },
  Concat: (b, node, ins) => [b.node('ConcatV2', node.name, [...ins, b.ints(`${node.name}/axis`, [node.attrInt('axis', 0)!], [])], { T: a.type(tfjsDType(node.outputs[0]!.dtype)), N: a.int(ins.length), Tidx: a.type('int32') })],
  Gemm: (b, node, [x, w, c]) => {
    const ta = node.attrInt('transA', 0) === 1;
    const tb = node.attrInt('transB', 0) === 1;
    const alpha = node.attrFloat('alpha', 1)!;
    const beta = node.attrFloat('beta', 1)!;
    let y = b.node('MatMul', c || alpha !== 1 ? `${node.name}/matmul` : node.name, [x!, w!], { T: a.type('float32'), transpose_a: a.bool(ta), transpose_b: a.bool(tb) });
    if (alpha !== 1) y = b.node('Mul', `${node.name}/alpha`, [y, b.const(`${node.name}/alpha_value`, Tensor.fromArray('float32', [], [alpha]))], { T: a.type('float32') });
    if (c) {
      let cc = c;
      if (beta !== 1) cc = b.node('Mul', `${node.name}/beta`, [c, b.const(`${node.name}/beta_value`, Tensor.fromArray('float32', [], [beta]))], { T: a.type('float32') });
      y = b.node('AddV2', node.name, [y, cc], { T: a.type('float32') });
    }
    return [y];
  },
  MatMul: (b, node, [x, y]) => {
    const r = Math.max(node.inputs[0]?.shape?.length ?? 2, node.inputs[1]?.shape?.length ?? 2);
    return [b.node(r > 2 ? 'BatchMatMulV2' : 'MatMul', node.name, [x!, y!], { T: a.type('float32') })];
  },
  BatchNormalization: (b, node, [x], g) => {
    const [scale, bias, mean, variance] = [1, 2, 3, 4].map((i) => constOf(g, node.inputs[i]));
    if (!scale || !bias || !mean || !variance) throw fail(node, 'statistics computed in the graph');
    const eps = node.attrFloat('epsilon', 1e-5)!;
    const rank = node.inputs[0]?.shape?.length ?? 4;
    const c = scale.size;
    const [s, bb, m, v] = [scale, bias, mean, variance].map((t) => Array.from(t.toArray() as ArrayLike<number>, Number));
    const mul = s!.map((sv, i) => sv / Math.sqrt(v![i]! + eps));
    const add = bb!.map((bv, i) => bv - m![i]! * mul[i]!);
    const shape = [1, c, ...new Array<number>(Math.max(0, rank - 2)).fill(1)];
    const y = b.node('Mul', `${node.name}/scale`, [x!, b.const(`${node.name}/multiplier`, Tensor.fromArray('float32', shape, mul))], { T: a.type('float32') });
    return [b.node('AddV2', node.name, [y, b.const(`${node.name}/offset`, Tensor.fromArray('float32', shape, add))], { T: a.type('float32') })];
  },
  ReduceMean: reduce('Mean'),
  ReduceSum: reduce('Sum'),
  ReduceMax: reduce('Max'),
  ReduceMin: reduce('Min'),
  Squeeze: (b, node, [x], g) => {
    const axes = node.inputs[1] ? constOf(g, node.inputs[1]) : undefined;
    if (node.inputs[1] && !axes) throw fail(node, 'computed axes');
    return [b.node('Squeeze', node.name, [x!], { T: a.type(tfjsDType(node.inputs[0]?.dtype)), squeeze_dims: a.ints(axes ? Array.from(axes.toArray() as ArrayLike<number | bigint>, Number) : []) })];
  },
  Unsqueeze: (b, node, [x], g) => {
    const axes = constOf(g, node.inputs[1]);
    if (!axes) throw fail(node, 'computed axes');
    const outRank = node.outputs[0]!.shape?.length;
    let y = x!;
    const list = Array.from(axes.toArray() as ArrayLike<number | bigint>, Number).map((d) => (d < 0 && outRank !== undefined ? d + outRank : d)).sort((p, q) => p - q);
    list.forEach((ax, i) => {
      y = b.node('ExpandDims', i === list.length - 1 ? node.name : `${node.name}/${i}`, [y, b.ints(`${node.name}/axis_${i}`, [ax], [])], { T: a.type(tfjsDType(node.inputs[0]?.dtype)), Tdim: a.type('int32') });
    });
    return [y];
  },
  Cast: (b, node, [x]) => [b.node('Cast', node.name, [x!], { SrcT: a.type(tfjsDType(node.inputs[0]?.dtype)), DstT: a.type(tfjsDType(node.outputs[0]!.dtype)) })],
  Gather: (b, node, [x, i]) => [b.node('GatherV2', node.name, [x!, i!, b.ints(`${node.name}/axis`, [node.attrInt('axis', 0)!], [])], { Tparams: a.type(tfjsDType(node.inputs[0]?.dtype)), Tindices: a.type('int32'), Taxis: a.type('int32') })],
};

function pool(op: 'MaxPool' | 'AvgPool'): OpWriter {
  return (b, node, [x]) => {
    const k = node.attrInts('kernel_shape')!;
    if (k.length !== 2) throw fail(node, 'only 2-D pooling');
    const s = node.attrInts('strides') ?? [1, 1];
    const pad = padding(node, 4);
    if (pad.padding?.s && new TextDecoder().decode(pad.padding.s) === 'EXPLICIT') throw fail(node, 'explicit pads on pooling (TF pools with SAME or VALID only)');
    if ((node.attrInts('dilations') ?? [1, 1]).some((d) => d !== 1)) throw fail(node, 'dilated pooling');
    if (node.attrInt('ceil_mode', 0) === 1) throw fail(node, 'ceil_mode');
    const xt = transpose(b, `${node.name}/to_nhwc`, x!, NCHW_TO_NHWC);
    const y = b.node(op, `${node.name}/pool`, [xt], { T: a.type('float32'), ksize: a.ints([1, k[0]!, k[1]!, 1]), strides: a.ints([1, s[0]!, s[1]!, 1]), data_format: a.str('NHWC'), ...pad });
    return [transpose(b, node.name, y, NHWC_TO_NCHW)];
  };
}

function reduce(op: string): OpWriter {
  return (b, node, [x], g) => {
    const av = node.inputs[1] ? constOf(g, node.inputs[1]) : undefined;
    const axes = av ? Array.from(av.toArray() as ArrayLike<number | bigint>, Number) : node.attrInts('axes') ?? Array.from({ length: node.inputs[0]?.shape?.length ?? 0 }, (_, i) => i);
    return [b.node(op, node.name, [x!, b.ints(`${node.name}/axes`, axes)], { T: a.type('float32'), Tidx: a.type('int32'), keep_dims: a.bool(node.attrInt('keepdims', 1) === 1) })];
  };
}

/** The IR ops `--to tfjs` writes. */
export const TFJS_WRITABLE_OPS = [...Object.keys(WRITERS), 'Constant'].sort();

function shards(bytes: Uint8Array, size: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let o = 0; o < bytes.byteLength || out.length === 0; o += size) out.push(bytes.subarray(o, Math.min(o + size, bytes.byteLength)));
  return out;
}

function encodeWeight(t: Tensor, quantize: TfjsGraphWriteOptions['quantize']): { bytes: Uint8Array; spec: Record<string, unknown> } {
  const dtype = tfjsDType(t.dtype);
  const spec: Record<string, unknown> = { name: t.name, shape: t.shape.slice(), dtype };
  if (dtype !== 'float32' || !quantize) {
    const data = dtype === 'float32' ? Float32Array.from(t.toArray() as ArrayLike<number>) : dtype === 'int32' ? Int32Array.from(Array.from(t.toArray() as ArrayLike<number | bigint>, Number)) : Uint8Array.from(Array.from(t.toArray() as ArrayLike<boolean | number>, (x) => (x ? 1 : 0)));
    return { bytes: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), spec };
  }
  const vals = Float32Array.from(t.toArray() as ArrayLike<number>);
  if (quantize === 'float16') {
    const out = new Uint16Array(vals.length);
    vals.forEach((v, i) => (out[i] = float32ToFloat16(v)));
    return { bytes: new Uint8Array(out.buffer), spec: { ...spec, quantization: { dtype: 'float16' } } };
  }
  let min = Infinity;
  let max = -Infinity;
  for (const v of vals) {
    if (v < min) min = v;
    if (v > max) max = v;
  }
  if (!Number.isFinite(min)) min = max = 0;
  const scale = max > min ? (max - min) / 255 : 1;
  const out = new Uint8Array(vals.length);
  vals.forEach((v, i) => (out[i] = Math.max(0, Math.min(255, Math.round((v - min) / scale)))));
  return { bytes: out, spec: { ...spec, quantization: { dtype: 'uint8', min, scale } } };
}

/** Builds the TF graph for an IR graph (throws one error naming every op it cannot write). */
export function tfGraphOf(graph: Graph): { tf: TfGraph; weights: { name: string; tensor: Tensor }[]; inputs: { name: string; value: Value }[]; outputs: { name: string; value: Value }[] } {
  try {
    inferShapes(graph);
  } catch {
    // Shapes stay as recorded; ops that need one say so.
  }
  const order = topologicalOrder(graph);
  const missing = new Map<string, number>();
  for (const n of order) {
    if (n.domain !== '' || (!WRITERS[n.op] && n.op !== 'Constant')) missing.set(n.op, (missing.get(n.op) ?? 0) + 1);
  }
  if (missing.size) {
    throw new MconvError({
      kind: 'unsupported', format: 'tfjs',
      message: `cannot write as a tfjs graph-model: no TF mapping for ${[...missing].map(([op, c]) => `${op} x${c}`).join(', ')}`,
      hint: `--to tfjs writes: ${TFJS_WRITABLE_OPS.join(', ')}`,
    });
  }
  const b = new GraphBuilder();
  const inputs: { name: string; value: Value }[] = [];
  for (const v of graph.inputs) {
    if (v.initializer) continue;
    const name = b.node('Placeholder', v.name, [], {
      dtype: a.type(tfjsDType(v.dtype)),
      shape: a.shape(v.shape ? v.shape.map((d) => (typeof d === 'number' ? d : -1)) : null),
    });
    b.names.set(v, name);
    inputs.push({ name, value: v });
  }
  const nameOf = (v: Value | null): string => {
    if (!v) return '';
    const known = b.names.get(v);
    if (known) return known;
    const t = constOf(graph, v);
    if (t) {
      const n = b.const(v.name, t);
      b.names.set(v, n);
      return n;
    }
    throw new MconvError({ kind: 'unsupported', format: 'tfjs', message: `value ${v.name} is read before it is computed` });
  };
  for (const n of order) {
    if (n.op === 'Constant') {
      const t = n.attrTensor('value');
      if (!t) throw fail(n, 'a Constant without a tensor value');
      b.names.set(n.outputs[0]!, b.const(n.outputs[0]!.name, t));
      continue;
    }
    const ins = n.inputs.map((v) => (v && v.name ? nameOf(v) : ''));
    const present = ins.filter((s, i) => s || i === 0);
    const outs = WRITERS[n.op]!(b, n, n.op === 'Clip' || n.op === 'Conv' || n.op === 'Gemm' ? ins.map((s) => s || undefined) as string[] : present, graph);
    n.outputs.forEach((o, i) => outs[i] && b.names.set(o, outs[i]!));
  }
  const outputs = graph.outputs.map((v) => {
    let name = nameOf(v);
    // A graph output named like the IR value (an Identity when the producing op has another name).
    if (name !== v.name && !b.nodes.some((n) => n.name === v.name)) name = b.node('Identity', v.name, [name], { T: a.type(tfjsDType(v.dtype)) });
    return { name, value: v };
  });
  return { tf: { nodes: b.nodes, functions: [], producer: 1 }, weights: b.weights, inputs, outputs };
}

/** model.json + shards for a model. */
export function writeTfjsGraphModel(model: Model, opts: TfjsGraphWriteOptions = {}): WrittenFiles {
  const { tf, weights, inputs, outputs } = tfGraphOf(model.graph);
  const encoded = weights.map((w) => {
    const t = w.tensor;
    const named = Tensor.fromArray(t.dtype === 'float32' || t.dtype === 'int32' || t.dtype === 'bool' ? t.dtype : tfjsDType(t.dtype), t.shape.slice(), t.toArray() as never, w.name);
    return encodeWeight(named, opts.quantize);
  });
  const total = encoded.reduce((s, e) => s + e.bytes.byteLength, 0);
  const all = new Uint8Array(total);
  let off = 0;
  for (const e of encoded) {
    all.set(e.bytes, off);
    off += e.bytes.byteLength;
  }
  const parts = shards(all, opts.shardBytes ?? TFJS_GRAPH_SHARD_BYTES);
  const paths = parts.map((_, i) => `group1-shard${i + 1}of${parts.length}.bin`);
  const tensorInfo = (v: Value) => ({
    dtype: v.dtype === 'bool' ? 'DT_BOOL' : tfjsDType(v.dtype) === 'int32' ? 'DT_INT32' : 'DT_FLOAT',
    tensorShape: v.shape ? { dim: v.shape.map((d) => ({ size: String(typeof d === 'number' ? d : -1) })) } : { unknownRank: true },
  });
  const json = {
    format: 'graph-model',
    generatedBy: `mconv from ${model.source.format}`,
    convertedBy: 'mconv',
    modelTopology: tfGraphToJson(tf, { constValues: 'omit' }),
    signature: {
      inputs: Object.fromEntries(inputs.map((i) => [`${i.name}:0`, { name: `${i.name}:0`, ...tensorInfo(i.value) }])),
      outputs: Object.fromEntries(outputs.map((o) => [`${o.name}:0`, { name: `${o.name}:0`, ...tensorInfo(o.value) }])),
    },
    weightsManifest: [{ paths, weights: encoded.map((e) => e.spec) }],
  };
  return {
    main: new TextEncoder().encode(JSON.stringify(json)),
    extra: new Map(parts.map((p, i) => [paths[i]!, p.slice()])),
  };
}
