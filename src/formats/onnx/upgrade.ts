/**
 * Opset upgrade on import: rewrites nodes of an older (or newer) default-domain opset into the
 * canonical opset (CANONICAL_OPSET, 17), so the runtime and the writers only ever see one set of
 * operator semantics. Each rule names the versions it applies to; a construct that opset 17 cannot
 * express raises an 'unsupported' MconvError naming the node and op.
 *
 * Rules (source opset -> canonical):
 * - Softmax/LogSoftmax/Hardmax < 13: the input was coerced to 2-D at `axis`; unless `axis` is the
 *   last axis, rewrite as Flatten(axis) -> op(axis=-1) -> Reshape(Shape(x)).
 * - Split/Squeeze/Unsqueeze/ReduceSum < 13: `split`/`axes` attributes become int64 inputs.
 * - Pad < 11 (`pads`/`paddings`, `value` attributes), Clip < 11 (`min`/`max`), Slice < 10
 *   (`starts`/`ends`/`axes`), TopK < 10 (`k`), Reshape < 5 (`shape`): attributes become inputs.
 * - Dropout < 12: `ratio` becomes an input, `is_test` dropped.
 * - BatchNormalization < 9: `spatial` (only 1 is expressible), `is_test`, `consumed_inputs` dropped,
 *   training-only outputs dropped when unused. `consumed_inputs` (< 6) dropped from every op.
 * - Upsample (7..9) and Resize 10/11 -> Resize-13 (coordinate_transformation_mode made explicit).
 * - Legacy `broadcast`/`axis` attributes of Gemm and the binary ops (< 7): dropped, reshaping the
 *   second operand where `axis` aligned it to the middle of the first.
 * - Cast < 6: string `to` becomes the data type number. Concat < 4: default axis 1 made explicit.
 * - Scatter (9, 10) -> ScatterElements. ImageScaler (experimental) -> Mul + Add.
 * - From opset 18 and later: Reduce* `axes` inputs become attributes again, Split `num_outputs`
 *   becomes split sizes, Pad `axes` is folded into `pads`, and GridSample-20 mode names map back.
 */
import { Attrs, CANONICAL_OPSET, Graph, Model, Node, Value, attr } from '../../ir/graph.js';
import { DType, Tensor } from '../../ir/tensor.js';
import { unsupported } from '../../errors.js';
import {
  addConst,
  allGraphs,
  constFloats,
  constInts,
  constTensor,
  dropIfUnused,
  dropUnusedOutputs,
  insertBefore,
  int64Tensor,
  nextNode,
  rankOf,
  replaceOutput,
  scalarTensor,
  setInputs,
} from './graph-edit.js';

interface Ctx {
  g: Graph;
  from: number;
  file?: string;
}

function fail(ctx: Ctx, node: Node, what: string, hint?: string): never {
  throw unsupported(ctx.file, 'onnx', `${node.op} from opset ${ctx.from}: ${what}`, hint ?? 'this old-opset construct has no opset-17 equivalent', `node ${node.name}`);
}

const CAST_NAMES: Record<string, number> = {
  FLOAT: 1, UINT8: 2, INT8: 3, UINT16: 4, INT16: 5, INT32: 6, INT64: 7, STRING: 8, BOOL: 9,
  FLOAT16: 10, DOUBLE: 11, UINT32: 12, UINT64: 13, COMPLEX64: 14, COMPLEX128: 15, BFLOAT16: 16,
};

const BINARY_BROADCAST_OPS = new Set(['Add', 'Sub', 'Mul', 'Div', 'Pow', 'And', 'Or', 'Xor', 'Equal', 'Greater', 'Less']);
const REDUCE_OPS = new Set([
  'ReduceL1', 'ReduceL2', 'ReduceLogSum', 'ReduceLogSumExp', 'ReduceMax', 'ReduceMean', 'ReduceMin', 'ReduceProd', 'ReduceSumSquare',
]);

function removeAttrs(node: Node, ...names: string[]): void {
  for (const n of names) delete node.attrs[n];
}

function inputDtype(node: Node, i = 0): DType | undefined {
  const v = node.inputs[i];
  return v?.dtype ?? v?.initializer?.dtype;
}

/** Moves an ints attribute to input `index` as an int64 constant (absent attribute -> absent input). */
function intsAttrToInput(ctx: Ctx, node: Node, attrName: string, index: number): void {
  const values = node.attrInts(attrName);
  delete node.attrs[attrName];
  if (values === undefined) return;
  const inputs = node.inputs.slice();
  while (inputs.length < index) inputs.push(null);
  if (inputs[index]) return; // an input already given wins (Split-1 allowed both)
  inputs[index] = addConst(ctx.g, `${node.name}_${attrName}`, int64Tensor(values));
  setInputs(node, inputs);
}

// ---- Softmax family --------------------------------------------------------------------------

function upgradeSoftmax(ctx: Ctx, node: Node): void {
  const axis = node.attrInt('axis', 1);
  const x = node.inputs[0];
  const rank = rankOf(x);
  if (axis === -1) return; // the last axis: coercing to 2-D changes nothing
  if (rank !== undefined) {
    const a = axis < 0 ? axis + rank : axis;
    if (a === rank - 1) {
      node.attrs.axis = attr.int(-1);
      return;
    }
  }
  if (!x) fail(ctx, node, 'missing input');
  const g = ctx.g;
  const y = node.outputs[0]!;
  const flat = g.newValue(`${node.name}_flat`, x.dtype);
  insertBefore(g, node, 'Flatten', [x], [flat], { axis: attr.int(axis) }, `${node.name}_flatten`);
  const shape = g.newValue(`${node.name}_shape`, 'int64', rank !== undefined ? [rank] : undefined);
  insertBefore(g, node, 'Shape', [x], [shape], {}, `${node.name}_shape`);
  node.setInput(0, flat);
  const inner = g.newValue(`${node.name}_2d`, y.dtype);
  replaceOutput(node, 0, inner);
  node.attrs.axis = attr.int(-1);
  insertBefore(g, nextNode(g, node), 'Reshape', [inner, shape], [y], {}, `${node.name}_reshape`);
}

// ---- Resize / Upsample -----------------------------------------------------------------------

/** Nearest rounding of Upsample and Resize-10: floor when upsampling, ceil when downsampling. */
function legacyNearestMode(ctx: Ctx, node: Node, scales: number[] | undefined): string {
  if (!scales) return 'floor';
  const up = scales.every((s) => s >= 1);
  const down = scales.every((s) => s <= 1);
  if (up) return 'floor';
  if (down) return 'ceil';
  fail(ctx, node, 'nearest resizing that enlarges some axes and shrinks others', 'export the model with opset 11 or later');
}

function upgradeUpsample(ctx: Ctx, node: Node): void {
  let mode = node.attrString('mode', 'nearest');
  if (mode === 'bilinear') mode = 'linear';
  let scalesValue = node.inputs[1] ?? null;
  let scales: number[] | undefined;
  if (ctx.from < 9 || node.op === 'Upsample' && node.attrs.scales) {
    scales = node.attrFloats('scales');
    if (!scales) {
      // Upsample-1: width_scale/height_scale on a 4-D input
      const hs = node.attrFloat('height_scale');
      const ws = node.attrFloat('width_scale');
      if (hs === undefined || ws === undefined) fail(ctx, node, 'no scales given');
      scales = [1, 1, hs, ws];
    }
    scalesValue = addConst(ctx.g, `${node.name}_scales`, Tensor.fromArray('float32', [scales.length], scales));
  } else {
    scales = constFloats(scalesValue);
  }
  const attrs: Attrs = {
    mode: attr.string(mode),
    coordinate_transformation_mode: attr.string('asymmetric'),
  };
  if (mode === 'nearest') attrs.nearest_mode = attr.string(legacyNearestMode(ctx, node, scales));
  node.op = 'Resize';
  node.attrs = attrs;
  setInputs(node, [node.inputs[0] ?? null, null, scalesValue]);
}

function upgradeResize(ctx: Ctx, node: Node): void {
  if (ctx.from < 11) {
    upgradeUpsample(ctx, node);
    return;
  }
  if (ctx.from < 13) {
    if (node.attrString('coordinate_transformation_mode', 'half_pixel') === 'tf_half_pixel_for_nn') {
      fail(ctx, node, "coordinate_transformation_mode 'tf_half_pixel_for_nn' was removed in opset 13");
    }
    // roi and scales were required inputs; an empty constant means "not given".
    const inputs = node.inputs.slice();
    for (const i of [1, 2]) {
      const t = constTensor(inputs[i]);
      if (t && t.size === 0) inputs[i] = null;
    }
    setInputs(node, inputs);
  }
  if (ctx.from >= 18) {
    if (node.attrInt('antialias', 0) !== 0) fail(ctx, node, 'antialias=1 has no opset-17 equivalent');
    if (node.attrString('keep_aspect_ratio_policy', 'stretch') !== 'stretch') fail(ctx, node, 'keep_aspect_ratio_policy other than stretch');
    if (node.attrs.axes) fail(ctx, node, 'the axes attribute has no opset-17 equivalent');
    if (node.attrString('coordinate_transformation_mode', 'half_pixel') === 'half_pixel_symmetric') {
      fail(ctx, node, "coordinate_transformation_mode 'half_pixel_symmetric' is not in opset 17");
    }
    removeAttrs(node, 'antialias', 'keep_aspect_ratio_policy');
  }
}

// ---- legacy broadcasting ---------------------------------------------------------------------

function upgradeLegacyBroadcast(ctx: Ctx, node: Node): void {
  const broadcast = node.attrInt('broadcast', 0);
  const axis = node.attrInt('axis');
  removeAttrs(node, 'broadcast', 'axis');
  if (node.op === 'Gemm' || !broadcast || axis === undefined) return;
  const a = node.inputs[0];
  const b = node.inputs[1];
  const ra = rankOf(a);
  const rb = rankOf(b);
  if (ra === undefined || rb === undefined) fail(ctx, node, 'legacy broadcast with axis needs known input ranks');
  const ax = axis < 0 ? axis + ra : axis;
  const trailing = ra - ax - rb;
  if (trailing < 0) fail(ctx, node, `broadcast axis ${axis} does not fit ranks ${ra} and ${rb}`);
  if (trailing === 0) return;
  const axes = Array.from({ length: trailing }, (_, i) => rb + i);
  const bt = b?.initializer;
  if (bt) {
    const t = bt.reshape([...bt.shape, ...new Array<number>(trailing).fill(1)]);
    node.setInput(1, addConst(ctx.g, `${b!.name}_aligned`, t));
    dropIfUnused(b);
    return;
  }
  const out = ctx.g.newValue(`${b!.name}_aligned`, b!.dtype);
  const axesV = addConst(ctx.g, `${node.name}_axes`, int64Tensor(axes));
  insertBefore(ctx.g, node, 'Unsqueeze', [b!, axesV], [out], {}, `${node.name}_align`);
  node.setInput(1, out);
}

// ---- opset 18+ back to 17 --------------------------------------------------------------------

function axesInputToAttr(ctx: Ctx, node: Node, index: number): void {
  const v = node.inputs[index];
  if (!v) return;
  const axes = constInts(v);
  if (!axes) fail(ctx, node, 'axes given by a computed tensor, which opset 17 only accepts as a constant attribute');
  const inputs = node.inputs.slice();
  inputs[index] = null;
  setInputs(node, inputs);
  if (axes.length) node.attrs.axes = attr.ints(axes);
  else if (node.attrInt('noop_with_empty_axes', 0)) {
    // reduce nothing: an Identity (ReduceX with noop and empty axes returns the input)
    node.op = 'Identity';
    node.attrs = {};
  }
  delete node.attrs.noop_with_empty_axes;
}

function upgradeSplit18(ctx: Ctx, node: Node): void {
  const num = node.attrInt('num_outputs');
  delete node.attrs.num_outputs;
  if (num === undefined || node.inputs[1]) return;
  const x = node.inputs[0];
  const axis = node.attrInt('axis', 0);
  const shape = x?.shape ?? x?.initializer?.shape;
  const r = shape?.length;
  const dim = r !== undefined ? shape![axis < 0 ? axis + r : axis] : undefined;
  if (typeof dim === 'number' && dim % num !== 0) {
    const chunk = Math.ceil(dim / num);
    const sizes = Array.from({ length: num }, (_, i) => Math.max(0, Math.min(chunk, dim - i * chunk)));
    setInputs(node, [x ?? null, addConst(ctx.g, `${node.name}_split`, int64Tensor(sizes))]);
  }
  // Otherwise the chunks are equal, which opset 17 computes from the output count.
}

function upgradePad18(ctx: Ctx, node: Node): void {
  const axesV = node.inputs[3];
  if (!axesV) return;
  const axes = constInts(axesV);
  const pads = constInts(node.inputs[1]);
  const r = rankOf(node.inputs[0]);
  if (!axes || !pads || r === undefined) fail(ctx, node, 'pads with an axes input need constant pads/axes and a known rank');
  const full = new Array<number>(2 * r).fill(0);
  axes.forEach((a, i) => {
    const ax = a < 0 ? a + r : a;
    full[ax] = pads[i]!;
    full[ax + r] = pads[i + axes.length]!;
  });
  setInputs(node, [node.inputs[0] ?? null, addConst(ctx.g, `${node.name}_pads`, int64Tensor(full)), node.inputs[2] ?? null]);
}

// ---- the per-op rules ------------------------------------------------------------------------

type Rule = (ctx: Ctx, node: Node) => void;

const RULES: Record<string, Rule> = {
  Softmax: (ctx, n) => { if (ctx.from < 13) upgradeSoftmax(ctx, n); },
  LogSoftmax: (ctx, n) => { if (ctx.from < 13) upgradeSoftmax(ctx, n); },
  Hardmax: (ctx, n) => { if (ctx.from < 13) upgradeSoftmax(ctx, n); },
  Split: (ctx, n) => {
    if (ctx.from < 13) intsAttrToInput(ctx, n, 'split', 1);
    if (ctx.from >= 18) upgradeSplit18(ctx, n);
  },
  Squeeze: (ctx, n) => { if (ctx.from < 13) intsAttrToInput(ctx, n, 'axes', 1); },
  Unsqueeze: (ctx, n) => { if (ctx.from < 13) intsAttrToInput(ctx, n, 'axes', 1); },
  ReduceSum: (ctx, n) => { if (ctx.from < 13) intsAttrToInput(ctx, n, 'axes', 1); },
  Pad: (ctx, n) => {
    if (ctx.from < 11) {
      const pads = n.attrInts('pads') ?? n.attrInts('paddings');
      if (!pads) fail(ctx, n, 'no pads given');
      const value = n.attrFloat('value', 0);
      removeAttrs(n, 'pads', 'paddings', 'value');
      const inputs: (Value | null)[] = [n.inputs[0] ?? null, addConst(ctx.g, `${n.name}_pads`, int64Tensor(pads))];
      if (value !== 0) inputs.push(addConst(ctx.g, `${n.name}_value`, scalarTensor(inputDtype(n) ?? 'float32', value)));
      setInputs(n, inputs);
    }
    if (ctx.from >= 18) upgradePad18(ctx, n);
  },
  Clip: (ctx, n) => {
    if (ctx.from >= 11) return;
    const min = n.attrFloat('min');
    const max = n.attrFloat('max');
    removeAttrs(n, 'min', 'max', 'consumed_inputs');
    const dt = inputDtype(n) ?? 'float32';
    const inputs: (Value | null)[] = [n.inputs[0] ?? null, null, null];
    if (min !== undefined) inputs[1] = addConst(ctx.g, `${n.name}_min`, scalarTensor(dt, min));
    if (max !== undefined) inputs[2] = addConst(ctx.g, `${n.name}_max`, scalarTensor(dt, max));
    setInputs(n, inputs);
  },
  Slice: (ctx, n) => {
    if (ctx.from >= 10) return;
    const starts = n.attrInts('starts');
    const ends = n.attrInts('ends');
    const axes = n.attrInts('axes');
    if (!starts || !ends) fail(ctx, n, 'starts/ends missing');
    removeAttrs(n, 'starts', 'ends', 'axes');
    const inputs: (Value | null)[] = [
      n.inputs[0] ?? null,
      addConst(ctx.g, `${n.name}_starts`, int64Tensor(starts)),
      addConst(ctx.g, `${n.name}_ends`, int64Tensor(ends)),
    ];
    if (axes) inputs.push(addConst(ctx.g, `${n.name}_axes`, int64Tensor(axes)));
    setInputs(n, inputs);
  },
  TopK: (ctx, n) => {
    if (ctx.from >= 10) return;
    const k = n.attrInt('k');
    if (k === undefined) fail(ctx, n, 'k missing');
    delete n.attrs.k;
    setInputs(n, [n.inputs[0] ?? null, addConst(ctx.g, `${n.name}_k`, int64Tensor([k]))]);
  },
  Reshape: (ctx, n) => {
    if (ctx.from >= 5) return;
    const shape = n.attrInts('shape');
    removeAttrs(n, 'shape', 'consumed_inputs');
    if (!shape) fail(ctx, n, 'shape missing');
    setInputs(n, [n.inputs[0] ?? null, addConst(ctx.g, `${n.name}_shape`, int64Tensor(shape))]);
  },
  Dropout: (ctx, n) => {
    if (ctx.from >= 12) return;
    const ratio = n.attrFloat('ratio');
    removeAttrs(n, 'ratio', 'is_test', 'consumed_inputs');
    if (ratio !== undefined && ratio !== 0.5) {
      setInputs(n, [n.inputs[0] ?? null, addConst(ctx.g, `${n.name}_ratio`, scalarTensor('float32', ratio))]);
    }
  },
  BatchNormalization: (ctx, n) => {
    if (ctx.from >= 9) return;
    if (n.attrInt('spatial', 1) !== 1) fail(ctx, n, 'spatial=0 (per-element statistics)');
    removeAttrs(n, 'spatial', 'is_test', 'consumed_inputs');
    if (n.outputs.length > 1 && !dropUnusedOutputs(n, 1)) fail(ctx, n, 'training outputs (mean, var, saved statistics) are used');
  },
  Upsample: upgradeUpsample,
  Resize: upgradeResize,
  Gemm: (ctx, n) => { if (ctx.from < 7) upgradeLegacyBroadcast(ctx, n); },
  Cast: (ctx, n) => {
    const to = n.attrs.to;
    if (to?.kind === 'string') {
      const code = CAST_NAMES[to.value.toUpperCase()];
      if (code === undefined) fail(ctx, n, `unknown target type ${to.value}`);
      n.attrs.to = attr.int(code);
    }
  },
  Concat: (ctx, n) => { if (ctx.from < 4 && n.attrs.axis === undefined) n.attrs.axis = attr.int(1); },
  Scatter: (_ctx, n) => { n.op = 'ScatterElements'; },
  ImageScaler: (ctx, n) => {
    const scale = n.attrFloat('scale', 1);
    const bias = n.attrFloats('bias', []);
    const x = n.inputs[0];
    const dt = inputDtype(n) ?? 'float32';
    if (!x) fail(ctx, n, 'missing input');
    const scaled = ctx.g.newValue(`${n.name}_scaled`, x.dtype);
    const s = addConst(ctx.g, `${n.name}_scale`, scalarTensor(dt, scale));
    insertBefore(ctx.g, n, 'Mul', [x, s], [scaled], {}, `${n.name}_mul`);
    const b = addConst(ctx.g, `${n.name}_bias`, castTensor(dt, [1, bias.length, 1, 1], bias));
    n.op = 'Add';
    n.attrs = {};
    setInputs(n, [scaled, b]);
  },
  GridSample: (ctx, n) => {
    if (ctx.from < 20) return;
    const mode = n.attrString('mode', 'linear');
    const map: Record<string, string> = { linear: 'bilinear', cubic: 'bicubic', nearest: 'nearest' };
    if (!(mode in map)) fail(ctx, n, `mode ${mode}`);
    n.attrs.mode = attr.string(map[mode]!);
    const r = rankOf(n.inputs[0]);
    if (r !== undefined && r !== 4) fail(ctx, n, 'GridSample on a non-4-D input needs opset 20');
  },
  PRelu: (ctx, n) => {
    if (ctx.from >= 7) return;
    // PRelu-6: a 1-D slope of size C applies per channel (axis 1); since 7 it broadcasts numpy-style.
    const slope = n.inputs[1];
    const r = rankOf(n.inputs[0]);
    const rs = rankOf(slope);
    if (!slope || rs !== 1) return;
    if (r === undefined) fail(ctx, n, 'a per-channel slope needs the input rank');
    if (r <= 2) return;
    const trailing = r - 2;
    if (slope.initializer) {
      const t = slope.initializer;
      n.setInput(1, addConst(ctx.g, `${slope.name}_per_channel`, t.reshape([...t.shape, ...new Array<number>(trailing).fill(1)])));
      dropIfUnused(slope);
      return;
    }
    const out = ctx.g.newValue(`${slope.name}_per_channel`, slope.dtype);
    const axes = addConst(ctx.g, `${n.name}_axes`, int64Tensor(Array.from({ length: trailing }, (_, i) => i + 1)));
    insertBefore(ctx.g, n, 'Unsqueeze', [slope, axes], [out], {}, `${n.name}_per_channel`);
    n.setInput(1, out);
  },
  RNN: (ctx, n) => { if (ctx.from < 7) delete n.attrs.output_sequence; },
  GRU: (ctx, n) => { if (ctx.from < 7) delete n.attrs.output_sequence; },
  LSTM: (ctx, n) => { if (ctx.from < 7) delete n.attrs.output_sequence; },
  Tile: (ctx, n) => { if (ctx.from < 6) fail(ctx, n, 'Tile-1 (tiles, axis inputs)'); },
  Scan: (ctx, n) => { if (ctx.from < 9) fail(ctx, n, 'Scan-8 (batched, with sequence_lens)'); },
};

function castTensor(dtype: DType, shape: number[], values: number[]): Tensor {
  if (dtype === 'int64' || dtype === 'uint64') return int64Tensor(values, shape);
  return Tensor.fromArray(dtype, shape, values);
}

function upgradeNode(ctx: Ctx, node: Node): void {
  if (node.domain !== '') return;
  if (ctx.from < 6 && node.attrs.consumed_inputs) delete node.attrs.consumed_inputs;
  if (ctx.from < 7 && BINARY_BROADCAST_OPS.has(node.op)) upgradeLegacyBroadcast(ctx, node);
  if (ctx.from >= 18 && REDUCE_OPS.has(node.op)) axesInputToAttr(ctx, node, 1);
  RULES[node.op]?.(ctx, node);
}

/**
 * Rewrites the model's default-domain nodes to the canonical opset. Records the source opsets in
 * `model.sourceOpsets` (already set by the reader) and sets `model.opsets[''] = CANONICAL_OPSET`.
 */
export function upgradeModel(model: Model): Model {
  const from = model.sourceOpsets[''] ?? model.opsets[''] ?? CANONICAL_OPSET;
  if (from !== CANONICAL_OPSET) {
    for (const g of allGraphs(model.graph)) {
      const ctx: Ctx = { g, from, file: model.source.path };
      for (const node of g.nodes.slice()) upgradeNode(ctx, node);
    }
  }
  model.opsets = { ...model.opsets, '': CANONICAL_OPSET };
  return model;
}
