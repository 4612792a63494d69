/**
 * Opset downgrade on export: turns an IR node (opset-17 semantics) into the node(s) an older target
 * opset expects, without changing the IR. Supported targets: MIN_WRITE_OPSET..CANONICAL_OPSET.
 *
 * - Squeeze/Unsqueeze/Split/ReduceSum below 13: constant `axes`/`split` inputs become attributes.
 * - Softmax/LogSoftmax/Hardmax below 13: on the last axis as is; on another axis (known rank) the
 *   axis is moved last with Transpose on both sides.
 * - Resize below 13: `roi` and `scales` become required inputs (empty constants when absent).
 * - Dropout below 12: a constant `ratio` input becomes the attribute; Constant below 12:
 *   value_float(s)/value_int(s) become a `value` tensor.
 * - LayerNormalization below 17: decomposed into ReduceMean/Sub/Mul/Add/Sqrt/Div.
 * - Shape with start/end below 15: Shape followed by Slice.
 * - Attributes added after the target (Reshape allowzero, RNN layout, ScatterElements/ScatterND
 *   reduction, BatchNormalization training_mode, ArgMax select_last_index, GatherND batch_dims,
 *   RoiAlign coordinate_transformation_mode, QuantizeLinear/DequantizeLinear axis): dropped when
 *   they hold their old implicit value, refused otherwise.
 * - An op that does not exist at the target opset is refused with a usage error.
 */
import { Attr, Attrs, CANONICAL_OPSET, Node, Value, attr } from '../../ir/graph.js';
import { DType, Tensor } from '../../ir/tensor.js';
import { MconvError } from '../../errors.js';
import { constInts, constTensor, int64Tensor, rankOf, scalarTensor } from './graph-edit.js';
import { OP_VERSIONS } from './op-history.js';

export const MIN_WRITE_OPSET = 11;
export const MAX_WRITE_OPSET = CANONICAL_OPSET;

/** A node as written: names instead of values. */
export interface EmitNode {
  op: string;
  domain: string;
  name: string;
  inputs: string[];
  outputs: string[];
  attrs: Attrs;
  docString?: string;
}

export interface EmitContext {
  target: number;
  file?: string;
  /** Constants the emitted nodes need (name -> tensor), written as initializers of the graph. */
  extraInitializers: Map<string, Tensor>;
  /** Initializers that lost a reader by becoming an attribute (dropped if nobody else reads them). */
  maybeUnused: Set<string>;
  /** Fresh-name generator over every name in the model. */
  fresh: (base: string) => string;
}

export function checkTargetOpset(opset: number): void {
  if (!Number.isInteger(opset) || opset < MIN_WRITE_OPSET || opset > MAX_WRITE_OPSET) {
    throw new MconvError({
      kind: 'usage',
      message: `cannot write ONNX opset ${opset}`,
      hint: `mconv writes opsets ${MIN_WRITE_OPSET} to ${MAX_WRITE_OPSET} (default ${CANONICAL_OPSET})`,
    });
  }
}

function refuse(ctx: EmitContext, node: Node, what: string): never {
  throw new MconvError({
    kind: 'usage',
    file: ctx.file,
    format: 'onnx',
    message: `cannot write ${node.op} at opset ${ctx.target}: ${what}`,
    where: `node ${node.name}`,
    hint: `choose a higher --opset (up to ${MAX_WRITE_OPSET})`,
  });
}

/** The first opset in which an op of the default domain exists (undefined: unknown op). */
export function opIntroduced(op: string): number | undefined {
  return OP_VERSIONS[op]?.[0];
}

const names = (vs: readonly (Value | null)[]): string[] => vs.map((v) => v?.name ?? '');

function base(node: Node): EmitNode {
  return {
    op: node.op,
    domain: node.domain,
    name: node.name,
    inputs: names(node.inputs),
    outputs: node.outputs.map((o) => o.name),
    attrs: { ...node.attrs },
    docString: node.docString,
  };
}

function trimInputs(inputs: string[]): string[] {
  const out = inputs.slice();
  while (out.length && out[out.length - 1] === '') out.pop();
  return out;
}

function addInit(ctx: EmitContext, baseName: string, t: Tensor): string {
  const name = ctx.fresh(baseName);
  t.name = name;
  ctx.extraInitializers.set(name, t);
  return name;
}

/** Moves constant input `index` into ints attribute `attrName`. */
function inputToIntsAttr(ctx: EmitContext, node: Node, e: EmitNode, index: number, attrName: string): void {
  const v = node.inputs[index];
  if (!v) return;
  const values = constInts(v);
  if (!values) refuse(ctx, node, `its ${attrName} must be a constant to become an attribute`);
  e.attrs[attrName] = attr.ints(values);
  e.inputs[index] = '';
  e.inputs = trimInputs(e.inputs);
  if (v.initializer) ctx.maybeUnused.add(v.name);
}

/** Drops an attribute added after the target when it holds the old implicit value. */
function newAttr(ctx: EmitContext, node: Node, e: EmitNode, name: string, since: number, oldValue: string | number): void {
  if (ctx.target >= since || !(name in e.attrs)) return;
  const a = e.attrs[name]!;
  const v = a.kind === 'int' || a.kind === 'float' || a.kind === 'string' ? a.value : undefined;
  if (v !== oldValue) refuse(ctx, node, `attribute ${name}=${JSON.stringify(v)} needs opset ${since}`);
  delete e.attrs[name];
}

function softmaxDown(ctx: EmitContext, node: Node, e: EmitNode): EmitNode[] {
  const axis = node.attrInt('axis', -1);
  const r = rankOf(node.inputs[0]);
  if (axis === -1 || (r !== undefined && axis === r - 1)) {
    e.attrs.axis = attr.int(-1);
    return [e];
  }
  if (r === undefined) refuse(ctx, node, `softmax over axis ${axis} of an input of unknown rank`);
  const a = axis < 0 ? axis + r : axis;
  const perm = Array.from({ length: r }, (_, i) => i);
  perm[a] = r - 1;
  perm[r - 1] = a;
  const tIn = ctx.fresh(`${node.name}_moved`);
  const tOut = ctx.fresh(`${node.name}_out_moved`);
  const y = e.outputs[0]!;
  return [
    { op: 'Transpose', domain: '', name: ctx.fresh(`${node.name}_to_last`), inputs: [e.inputs[0]!], outputs: [tIn], attrs: { perm: attr.ints(perm) } },
    { ...e, inputs: [tIn], outputs: [tOut], attrs: { ...e.attrs, axis: attr.int(-1) } },
    { op: 'Transpose', domain: '', name: ctx.fresh(`${node.name}_from_last`), inputs: [tOut], outputs: [y], attrs: { perm: attr.ints(perm) } },
  ];
}

function layerNormDown(ctx: EmitContext, node: Node, e: EmitNode): EmitNode[] {
  if (node.outputs.slice(1).some((o) => o.name !== '' && (o.consumers.size > 0 || node.graph?.outputs.includes(o)))) {
    refuse(ctx, node, 'its Mean/InvStdDev outputs are used');
  }
  const axis = node.attrInt('axis', -1);
  const eps = node.attrFloat('epsilon', 1e-5);
  const r = rankOf(node.inputs[0]);
  let axes: number[];
  if (axis < 0) axes = Array.from({ length: -axis }, (_, i) => axis + i);
  else {
    if (r === undefined) refuse(ctx, node, 'decomposing it needs the input rank');
    axes = Array.from({ length: r - axis }, (_, i) => axis + i);
  }
  const dtype: DType = node.inputs[0]?.dtype ?? 'float32';
  const [x, scale, bias] = [e.inputs[0]!, e.inputs[1]!, e.inputs[2] ?? ''];
  const n = (s: string): string => ctx.fresh(`${node.name}_${s}`);
  const mean = n('mean');
  const d = n('centered');
  const sq = n('squared');
  const variance = n('var');
  const epsName = addInit(ctx, `${node.name}_epsilon`, scalarTensor(dtype, eps));
  const ve = n('var_eps');
  const std = n('std');
  const normed = n('normalized');
  const y = e.outputs[0]!;
  const scaled = bias ? n('scaled') : y;
  const mk = (op: string, inputs: string[], outputs: string[], attrs: Attrs = {}): EmitNode => ({
    op, domain: '', name: ctx.fresh(`${node.name}/${op}`), inputs, outputs, attrs,
  });
  const out = [
    mk('ReduceMean', [x], [mean], { axes: attr.ints(axes), keepdims: attr.int(1) }),
    mk('Sub', [x, mean], [d]),
    mk('Mul', [d, d], [sq]),
    mk('ReduceMean', [sq], [variance], { axes: attr.ints(axes), keepdims: attr.int(1) }),
    mk('Add', [variance, epsName], [ve]),
    mk('Sqrt', [ve], [std]),
    mk('Div', [d, std], [normed]),
    mk('Mul', [normed, scale], [scaled]),
  ];
  if (bias) out.push(mk('Add', [scaled, bias], [y]));
  return out;
}

/** The nodes to write for `node` at `ctx.target`. */
export function emitNode(node: Node, ctx: EmitContext): EmitNode[] {
  const e = base(node);
  if (node.domain !== '') return [e];
  const t = ctx.target;
  if (t === CANONICAL_OPSET) return [e];
  switch (node.op) {
    case 'LayerNormalization':
      return layerNormDown(ctx, node, e);
    case 'Squeeze':
    case 'Unsqueeze':
    case 'ReduceSum':
      if (t < 13) {
        if (node.op === 'ReduceSum' && node.attrInt('noop_with_empty_axes', 0) && !node.inputs[1]) {
          return [{ ...e, op: 'Identity', inputs: [e.inputs[0]!], attrs: {} }];
        }
        delete e.attrs.noop_with_empty_axes;
        inputToIntsAttr(ctx, node, e, 1, 'axes');
      }
      break;
    case 'Split':
      if (t < 13) inputToIntsAttr(ctx, node, e, 1, 'split');
      break;
    case 'Softmax':
    case 'LogSoftmax':
    case 'Hardmax':
      if (t < 13) return softmaxDown(ctx, node, e);
      break;
    case 'Resize':
      if (t < 13) {
        const inputs = e.inputs.slice();
        while (inputs.length < 3) inputs.push('');
        if (!inputs[1]) inputs[1] = addInit(ctx, `${node.name}_roi`, Tensor.fromArray('float32', [0], []));
        if (!inputs[2]) inputs[2] = addInit(ctx, `${node.name}_scales`, Tensor.fromArray('float32', [0], []));
        e.inputs = inputs;
      }
      break;
    case 'Dropout':
      if (t < 12) {
        const ratio = node.inputs[1];
        if (ratio) {
          const tr = constTensor(ratio);
          if (!tr) refuse(ctx, node, 'its ratio must be a constant to become an attribute');
          e.attrs.ratio = attr.float(tr.toFloat64()[0]!);
          if (ratio.initializer) ctx.maybeUnused.add(ratio.name);
        }
        const training = node.inputs[2];
        if (training) {
          const tt = constTensor(training);
          if (!tt || tt.toFloat64()[0]) refuse(ctx, node, 'training mode needs opset 12');
          if (training.initializer) ctx.maybeUnused.add(training.name);
        }
        e.inputs = [e.inputs[0]!];
      }
      break;
    case 'Constant':
      if (t < 12) {
        const a = node.attrs;
        const v: Attr | undefined = a.value_float ?? a.value_floats ?? a.value_int ?? a.value_ints ?? a.value_string ?? a.value_strings;
        if (v) {
          let tensor: Tensor;
          if (v.kind === 'float') tensor = Tensor.fromArray('float32', [], [v.value]);
          else if (v.kind === 'floats') tensor = Tensor.fromArray('float32', [v.value.length], v.value);
          else if (v.kind === 'int') tensor = int64Tensor([v.value], []);
          else if (v.kind === 'ints') tensor = int64Tensor(v.value);
          else if (v.kind === 'string') tensor = Tensor.fromStrings([], [v.value]);
          else if (v.kind === 'strings') tensor = Tensor.fromStrings([v.value.length], v.value);
          else refuse(ctx, node, 'unexpected constant attribute');
          e.attrs = { value: attr.tensor(tensor) };
        }
        if (a.sparse_value) refuse(ctx, node, 'sparse constants');
      }
      break;
    case 'Shape':
      if (t < 15 && (node.attrs.start || node.attrs.end)) {
        const start = node.attrInt('start', 0);
        const end = node.attrInt('end');
        const full = ctx.fresh(`${node.name}_full`);
        const starts = addInit(ctx, `${node.name}_start`, int64Tensor([start]));
        const ends = addInit(ctx, `${node.name}_end`, int64Tensor([end ?? Number.MAX_SAFE_INTEGER]));
        return [
          { ...e, outputs: [full], attrs: {} },
          { op: 'Slice', domain: '', name: ctx.fresh(`${node.name}_slice`), inputs: [full, starts, ends], outputs: e.outputs, attrs: {} },
        ];
      }
      break;
    case 'Reshape':
      newAttr(ctx, node, e, 'allowzero', 14, 0);
      break;
    case 'RNN':
    case 'GRU':
    case 'LSTM':
      newAttr(ctx, node, e, 'layout', 14, 0);
      break;
    case 'BatchNormalization':
      newAttr(ctx, node, e, 'training_mode', 14, 0);
      break;
    case 'ScatterElements':
    case 'ScatterND':
      newAttr(ctx, node, e, 'reduction', 16, 'none');
      break;
    case 'RoiAlign':
      if (t < 16) {
        if (node.attrString('coordinate_transformation_mode', 'half_pixel') !== 'output_half_pixel') {
          refuse(ctx, node, "coordinate_transformation_mode must be 'output_half_pixel' before opset 16");
        }
        delete e.attrs.coordinate_transformation_mode;
      }
      break;
    case 'ArgMax':
    case 'ArgMin':
      newAttr(ctx, node, e, 'select_last_index', 12, 0);
      break;
    case 'GatherND':
      newAttr(ctx, node, e, 'batch_dims', 12, 0);
      break;
    case 'QuantizeLinear':
    case 'DequantizeLinear':
      if (t < 13) {
        const scale = node.inputs[1];
        const r = rankOf(scale);
        if (r !== undefined && r > 0 && (scale?.shape?.[0] ?? scale?.initializer?.shape[0]) !== 1) {
          refuse(ctx, node, 'per-axis quantization needs opset 13');
        }
        delete e.attrs.axis;
      }
      break;
    default:
      break;
  }
  const since = opIntroduced(e.op);
  if (since !== undefined && since > t) refuse(ctx, node, `${e.op} was introduced in opset ${since}`);
  return [e];
}
