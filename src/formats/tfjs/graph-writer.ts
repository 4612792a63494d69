/**
 * `--to tfjs`: any IR graph written as a TensorFlow.js graph-model: `model.json` (the graph as a
 * GraphDef of TF ops in JSON, a signature, a weights manifest) and `group1-shard<i>of<n>.bin`
 * (4 MB shards), loadable by `tf.loadGraphModel`. IR values are channels-first where ONNX is;
 * the TF ops that need NHWC (Conv2D, pooling) get Transposes around them. Weights may be
 * quantized like tensorflowjs_converter does (`float16`, or `uint8` with per-tensor min/scale).
 * Control flow (Loop, If), sequences and LSTM become StatelessWhile / StatelessIf with library
 * functions and TensorList ops (`graph-writer-flow.ts`; scopes and functions in
 * `graph-writer-scope.ts`). Only nodes whose results reach the outputs are written.
 * Every op without a mapping is listed at once, before anything is written.
 */
import { MconvError } from '../../errors.js';
import { subgraphsOf, type Graph, type Model, type Node, type Value } from '../../ir/graph.js';
import { topologicalOrder } from '../../ir/walk.js';
import { inferShapes } from '../../ir/infer.js';
import { Tensor, float32ToFloat16 } from '../../ir/tensor.js';
import { transposeTensor } from '../../ir/passes/tensor-ops.js';
import { tfGraphToJson } from '../tf/graph-json.js';
import type { TfAttr, TfGraph } from '../tf/tf-graph.js';
import type { WrittenFiles } from '../types.js';
import { a, constOf, DT_INT32, fail, tfjsDType, TfScope, type TfRoot } from './graph-writer-scope.js';
import { FLOW_WRITERS, liveNodes, SELF_INPUT_OPS, setItemPattern, setLive } from './graph-writer-flow.js';

export const TFJS_GRAPH_SHARD_BYTES = 4 * 1024 * 1024;

export interface TfjsGraphWriteOptions {
  quantize?: 'float16' | 'uint8';
  shardBytes?: number;
}

type OpWriter = (b: TfScope, node: Node, ins: string[], g: Graph) => string[];

const NCHW_TO_NHWC = [0, 2, 3, 1];
const NHWC_TO_NCHW = [0, 3, 1, 2];

function transpose(b: TfScope, name: string, x: string, perm: number[]): string {
  return b.node('Transpose', name, [x, b.ints(`${name}/perm`, perm)], { T: a.type('float32'), Tperm: a.type('int32') });
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
  Identity: (b, node, [x]) => [b.node('Identity', node.name, [x!], { T: a.type(node.inputs[0]?.dtype) })],
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
  Less: compare('Less'),
  Greater: compare('Greater'),
  LessOrEqual: compare('LessEqual'),
  GreaterOrEqual: compare('GreaterEqual'),
  Equal: compare('Equal'),
  Mod: (b, node, ins) => {
    if (node.attrInt('fmod', 0) === 1) throw fail(node, 'fmod=1 (the remainder with the sign of the dividend; TF FloorMod takes the divisor\'s)');
    return [b.node('FloorMod', node.name, ins, { T: a.type(node.outputs[0]!.dtype) })];
  },
  Not: (b, node, [x]) => [b.node('LogicalNot', node.name, [x!])],
  And: (b, node, [x, y]) => [b.node('LogicalAnd', node.name, [x!, y!])],
  Or: (b, node, [x, y]) => [b.node('LogicalOr', node.name, [x!, y!])],
  Where: (b, node, [c, x, y]) => [b.node('SelectV2', node.name, [c!, x!, y!], { T: a.type(node.outputs[0]!.dtype ?? node.inputs[1]?.dtype) })],
  Floor: elementwise('Floor'),
  Ceil: elementwise('Ceil'),
  /** ConstantOfShape(shape; value) -> Fill(shape, value). */
  ConstantOfShape: (b, node, [shape]) => {
    const value = node.attrs.value?.kind === 'tensor' ? node.attrs.value.value : undefined;
    const d = value?.dtype ?? 'float32';
    const v = value ? Number(value.toFloat64()[0]) : 0;
    const td = tfjsDType(d);
    const dims = node.inputs[0]?.dtype === 'int32' ? shape! : b.node('Cast', `${node.name}/dims`, [shape!], { SrcT: a.type(node.inputs[0]?.dtype), DstT: a.dt(DT_INT32) });
    return [b.node('Fill', node.name, [dims, b.scalar(`${node.name}/value`, td, v)], { T: a.type(d), index_type: a.dt(DT_INT32) })];
  },
  /** RandomUniformLike(x; low, high) -> low + (high - low) * RandomUniform(Shape(x)). */
  RandomUniformLike: (b, node, [x]) => {
    const shape = b.node('Shape', `${node.name}/shape`, [x!], { T: a.type(node.inputs[0]?.dtype), out_type: a.dt(DT_INT32) });
    const u = b.node('RandomUniform', `${node.name}/unit`, [shape], { dtype: a.type('float32'), T: a.dt(DT_INT32), seed: a.int(0), seed2: a.int(0) });
    const low = node.attrFloat('low', 0);
    const high = node.attrFloat('high', 1);
    const scaled = b.node('Mul', `${node.name}/scaled`, [u, b.scalar(`${node.name}/range`, 'float32', high - low)], { T: a.type('float32') });
    return [b.node('AddV2', node.name, [scaled, b.scalar(`${node.name}/low`, 'float32', low)], { T: a.type('float32') })];
  },
  Shape: (b, node, [x]) => {
    const y = b.node('Shape', node.attrs.start || node.attrs.end ? `${node.name}/all` : node.name, [x!], { T: a.type(node.inputs[0]?.dtype), out_type: a.dt(DT_INT32) });
    if (!node.attrs.start && !node.attrs.end) return [y];
    const rank = node.inputs[0]?.shape?.length;
    if (rank === undefined) throw fail(node, 'start/end on an input of unknown rank');
    const clamp = (d: number) => Math.max(0, Math.min(rank, d < 0 ? d + rank : d));
    const [s0, e0] = [clamp(node.attrInt('start', 0)), clamp(node.attrInt('end', rank))];
    return [b.node('StridedSlice', node.name, [y, b.ints(`${node.name}/begin`, [s0]), b.ints(`${node.name}/end`, [Math.max(s0, e0)]), b.ints(`${node.name}/strides`, [1])], stridedAttrs('int32', 0, 0))];
  },
  Slice: (b, node, ins, g) => {
    const x = ins[0]!;
    const rank = node.inputs[0]?.shape?.length;
    if (rank === undefined) throw fail(node, 'slicing an input of unknown rank');
    const [starts, ends, axesT, stepsT] = [1, 2, 3, 4].map((i) => constOf(g, node.inputs[i]));
    if ((node.input(3) && !axesT) || (node.input(4) && !stepsT)) throw fail(node, 'slice axes or steps computed in the graph');
    const list = (t: Tensor) => Array.from(t.toArray() as ArrayLike<number | bigint>, Number);
    const count = starts?.size ?? ends?.size ?? node.inputs[1]?.shape?.[0];
    if (typeof count !== 'number') throw fail(node, 'slice bounds of unknown length');
    const axes = axesT ? list(axesT).map((d) => (d < 0 ? d + rank : d)) : Array.from({ length: count }, (_, i) => i);
    const steps = stepsT ? list(stepsT) : axes.map(() => 1);
    if (steps.some((st) => st === 0)) throw fail(node, 'a step of 0');
    const clamp = (v: number) => Math.max(-2147483648, Math.min(2147483647, v));
    const strides = new Array<number>(rank).fill(1);
    let mask = (1 << rank) - 1;
    axes.forEach((ax, i) => {
      strides[ax] = steps[i]!;
      mask &= ~(1 << ax);
    });
    /** The full-rank begin (or end) vector: constant, or gathered from the computed bounds. */
    const bound = (t: Tensor | undefined, input: string, which: string): string => {
      if (t) {
        const v = list(t);
        const full = new Array<number>(rank).fill(0);
        axes.forEach((ax, i) => (full[ax] = clamp(v[i]!)));
        return b.ints(`${node.name}/${which}`, full);
      }
      const pieces = Array.from({ length: rank }, (_, d) => {
        const j = axes.indexOf(d);
        if (j < 0) return b.ints(`${node.name}/${which}_${d}`, [0]);
        return b.node('GatherV2', `${node.name}/${which}_${d}`, [input, b.ints(`${node.name}/${which}_${d}_index`, [j]), b.scalar(`${node.name}/${which}_${d}_axis`, 'int32', 0)], { Tparams: a.dt(DT_INT32), Tindices: a.dt(DT_INT32), Taxis: a.dt(DT_INT32) });
      });
      if (pieces.length === 1) return pieces[0]!;
      return b.node('ConcatV2', `${node.name}/${which}`, [...pieces, b.scalar(`${node.name}/${which}_axis`, 'int32', 0)], { T: a.dt(DT_INT32), N: a.int(pieces.length), Tidx: a.dt(DT_INT32) });
    };
    const begin = bound(starts, ins[1]!, 'begin');
    const end = bound(ends, ins[2]!, 'end');
    return [b.node('StridedSlice', node.name, [x, begin, end, b.ints(`${node.name}/strides`, strides)], stridedAttrs(node.inputs[0]?.dtype, mask, mask))];
  },
  Expand: (b, node, [x, shape]) => {
    // ONNX broadcasts both ways (a target dim 1 keeps the input's size): x + zeros(shape) does the same.
    const d = node.inputs[0]?.dtype;
    const fillValue = b.const(`${node.name}/fill_value`, Tensor.fromArray(tfjsDType(d), [], tfjsDType(d) === 'float32' ? [0] : tfjsDType(d) === 'int32' ? Int32Array.from([0]) : Uint8Array.from([0])));
    const dims = b.node('Cast', `${node.name}/dims`, [shape!], { SrcT: a.type(node.inputs[1]?.dtype), DstT: a.dt(DT_INT32) });
    const filled = b.node('Fill', `${node.name}/zeros`, [dims, fillValue], { T: a.type(d), index_type: a.dt(DT_INT32) });
    return [b.node(tfjsDType(d) === 'bool' ? 'LogicalOr' : 'AddV2', node.name, tfjsDType(d) === 'bool' ? [x!, filled] : [x!, filled], tfjsDType(d) === 'bool' ? {} : { T: a.type(d) })];
  },
  Split: (b, node, [x], g) => {
    const axis = node.attrInt('axis', 0);
    const n = node.outputs.length;
    const sizes = node.input(1) ? constOf(g, node.inputs[1]) : undefined;
    if (node.input(1) && !sizes) throw fail(node, 'split sizes computed in the graph');
    const T = a.type(node.inputs[0]?.dtype);
    const y = sizes
      ? b.node('SplitV', node.name, [x!, b.ints(`${node.name}/sizes`, Array.from(sizes.toArray() as ArrayLike<number | bigint>, Number)), b.scalar(`${node.name}/axis`, 'int32', axis)], { T, Tlen: a.dt(DT_INT32), num_split: a.int(n) })
      : b.node('Split', node.name, [b.scalar(`${node.name}/axis`, 'int32', axis), x!], { T, num_split: a.int(n) });
    return node.outputs.map((_, i) => `${y}:${i}`);
  },
};

function compare(op: string): OpWriter {
  return (b, node, ins) => [b.node(op, node.name, ins, { T: a.type(node.inputs[0]?.dtype) })];
}

function stridedAttrs(d: Tensor['dtype'] | undefined, beginMask: number, endMask: number): Record<string, TfAttr> {
  return { T: a.type(d), Index: a.dt(DT_INT32), begin_mask: a.int(beginMask), end_mask: a.int(endMask), ellipsis_mask: a.int(0), new_axis_mask: a.int(0), shrink_axis_mask: a.int(0) };
}

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
export const TFJS_WRITABLE_OPS = [...Object.keys(WRITERS), ...Object.keys(FLOW_WRITERS), 'Constant'].sort();

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

/** Counts the ops of `g` (and of its subgraphs) that have no TF mapping. */
function countMissing(g: Graph, missing: Map<string, number>): void {
  for (const n of g.nodes) {
    if (n.domain !== '' || (!WRITERS[n.op] && !FLOW_WRITERS[n.op] && n.op !== 'Constant')) missing.set(n.op, (missing.get(n.op) ?? 0) + 1);
    // The importer's set-item If is one TensorListSetItem: its branches are not written.
    if (setItemPattern(n)) continue;
    for (const sg of subgraphsOf(n)) countMissing(sg, missing);
  }
}

/** Writes the live nodes of `g` into scope `b` (g's inputs already named there). */
function writeGraph(b: TfScope, g: Graph): void {
  const order = topologicalOrder(g);
  const live = liveNodes(g, order);
  setLive(b, live);
  for (const n of order) {
    if (!live.has(n)) continue;
    if (n.op === 'Constant') {
      const t = n.attrTensor('value');
      if (!t) throw fail(n, 'a Constant without a tensor value');
      b.names.set(n.outputs[0]!, b.const(n.outputs[0]!.name, t));
      continue;
    }
    const writer = WRITERS[n.op] ?? FLOW_WRITERS[n.op]!;
    let ins: string[] = [];
    if (!SELF_INPUT_OPS.has(n.op)) {
      ins = n.inputs.map((v) => (v && v.name ? b.ref(v) : ''));
      // Writers that take optional inputs by position get '' as undefined; the others get the present ones.
      ins = BY_POSITION.has(n.op) ? (ins.map((x) => x || undefined) as string[]) : ins.filter((x, i) => x || i === 0);
    }
    const outs = writer(b, n, ins, g);
    n.outputs.forEach((o, i) => outs[i] && b.names.set(o, outs[i]!));
  }
}

/** Ops whose writers take their inputs by position (absent optional inputs as undefined). */
const BY_POSITION = new Set(['Clip', 'Conv', 'Gemm', 'LSTM', 'Slice', 'SequenceInsert', 'SequenceAt', 'SplitToSequence']);

/** Builds the TF graph for an IR graph (throws one error naming every op it cannot write). */
export function tfGraphOf(graph: Graph): { tf: TfGraph; weights: { name: string; tensor: Tensor }[]; inputs: { name: string; value: Value }[]; outputs: { name: string; value: Value }[] } {
  try {
    inferShapes(graph);
  } catch {
    // Shapes stay as recorded; ops that need one say so.
  }
  const missing = new Map<string, number>();
  countMissing(graph, missing);
  if (missing.size) {
    throw new MconvError({
      kind: 'unsupported', format: 'tfjs',
      message: `cannot write as a tfjs graph-model: no TF mapping for ${[...missing].map(([op, c]) => `${op} x${c}`).join(', ')}`,
      hint: `--to tfjs writes: ${TFJS_WRITABLE_OPS.join(', ')}`,
    });
  }
  const root: TfRoot = { weights: [], weightNames: new Set(), functions: [], functionNames: new Set(), writeGraph };
  const b = new TfScope(root, graph);
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
  writeGraph(b, graph);
  const outputs = graph.outputs.map((v) => {
    let name = b.ref(v);
    // A graph output named like the IR value (an Identity when the producing op has another name).
    if (name !== v.name && !b.nodes.some((n) => n.name === v.name)) name = b.node('Identity', v.name, [name], { T: a.type(tfjsDType(v.dtype)) });
    return { name, value: v };
  });
  return { tf: { nodes: b.nodes, functions: root.functions, producer: 1 }, weights: root.weights, inputs, outputs };
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
