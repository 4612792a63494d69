/**
 * Recurrent layers: SimpleRNN, LSTM, GRU (reset_after both ways), the generic RNN with one of
 * their cells (or a stack of them), Bidirectional (merge_mode concat/sum/mul/ave/None) and
 * TimeDistributed.
 *
 * Two lowerings give the same Keras semantics:
 *  - the ONNX RNN/LSTM/GRU ops (batch-major `layout=1`), with the weights reordered in JS
 *    (Keras gates i,f,c,o -> ONNX i,o,f,c; GRU z,r,h is the same order; kernels transposed);
 *  - a Scan over the time axis whose body is the Keras cell written with plain ops, used when
 *    the input carries a mask (Masking, Embedding(mask_zero)) or an activation has no ONNX RNN
 *    counterpart. Masked steps keep the previous state and output, like Keras.
 * go_backwards keeps Keras's output order (the reversed sequence), and Bidirectional reverses
 * the backward outputs back before merging, as Keras does. Stateful layers are refused.
 */
import { Graph, attr, type Attrs, type Value } from '../../../ir/graph.js';
import { Tensor, type Dim, type Shape } from '../../../ir/tensor.js';
import { kerasLayerConverter, type KerasLayerConfig, type LayerContext } from '../layer-api.js';
import { activationName, applyActivation, hardSigmoidParams } from './activations.js';
import { LayerBuilder, baseWeightName, deriveContext, nestedLayer, type Config } from './builder.js';
import { maskOf, setMask } from './mask.js';
import { concatTensors, permuteTensor, reorderBlocks, sliceAxis, zerosTensor } from './weights.js';

type Kind = 'SimpleRNN' | 'LSTM' | 'GRU';

const GATES: Record<Kind, number> = { SimpleRNN: 1, LSTM: 4, GRU: 3 };
const STATES: Record<Kind, number> = { SimpleRNN: 1, LSTM: 2, GRU: 1 };
const CELL_KIND: Record<string, Kind> = {
  SimpleRNN: 'SimpleRNN', LSTM: 'LSTM', GRU: 'GRU', SimpleRNNCell: 'SimpleRNN', LSTMCell: 'LSTM', GRUCell: 'GRU',
};
/** Keras LSTM gate blocks i,f,c,o in ONNX order i,o,f,c. */
const LSTM_ORDER = [0, 3, 1, 2];
const INT_MAX = 2147483647;

interface Cell {
  kind: Kind;
  units: number;
  activation: unknown;
  recurrentActivation: unknown;
  useBias: boolean;
  resetAfter: boolean;
  kernel: number;
  recurrent: number;
  bias?: number;
}

interface RnnOptions {
  returnSequences: boolean;
  returnState: boolean;
  goBackwards: boolean;
  timeMajor: boolean;
  zeroOutputForMask: boolean;
}

interface Recurrence {
  /** Outputs of every step in processing order ([N, T, u], or [T, N, u] time-major). */
  seq?: Value;
  /** Output of the last step [N, u]. */
  last: Value;
  /** Final states: [h] or [h, c]. */
  states: Value[];
}

// ---- config ----------------------------------------------------------------------------------

function rnnOptions(b: LayerBuilder, cfg: Config): RnnOptions {
  if (cfg.stateful) {
    throw b.fail('stateful=True is not supported: a converted graph keeps no state between calls', 'save the model with stateful=False (same weights) to convert it');
  }
  return {
    returnSequences: !!cfg.return_sequences,
    returnState: !!cfg.return_state,
    goBackwards: !!cfg.go_backwards,
    timeMajor: !!cfg.time_major,
    zeroOutputForMask: !!cfg.zero_output_for_mask,
  };
}

/** The cell's hyperparameters and the positions of its weights, starting at `offset`. */
function parseCell(b: LayerBuilder, kind: Kind, cfg: Config, offset: number): { cell: Cell; count: number } {
  const units = cfg.units;
  if (typeof units !== 'number') throw b.fail(`units ${JSON.stringify(units)} is not a number`);
  const useBias = cfg.use_bias === undefined ? true : !!cfg.use_bias;
  const count = useBias ? 3 : 2;
  const names = b.ctx.weightNames.slice(offset, offset + count).map(baseWeightName);
  const expected = ['kernel', 'recurrent_kernel', 'bias'].slice(0, count);
  if (b.ctx.weights.length < offset + count) {
    throw b.fail(`expected ${offset + count} weights, the file gives ${b.ctx.weights.length}`, 'the weights file does not match the layer config');
  }
  names.forEach((n, i) => {
    if (!/^\d+$/.test(n) && n !== expected[i]) {
      throw b.fail(`weight ${offset + i} is '${b.ctx.weightNames[offset + i]}', expected ${expected[i]}`, 'the weights file does not match the layer config');
    }
  });
  const bias = useBias ? offset + 2 : undefined;
  let resetAfter = false;
  if (kind === 'GRU') {
    const biasT = bias !== undefined ? b.ctx.weights[bias] : undefined;
    // The bias shape says it best: [2, 3u] with reset_after, [3u] without.
    resetAfter = biasT ? biasT.rank === 2 : cfg.reset_after === undefined ? b.kerasMajor >= 3 : !!cfg.reset_after;
  }
  const kernel = b.ctx.weights[offset]!;
  const g = GATES[kind];
  if (kernel.rank !== 2 || kernel.shape[1] !== g * units) {
    throw b.fail(`kernel has shape [${kernel.shape.join(', ')}], expected [input_dim, ${g * units}]`);
  }
  return {
    cell: {
      kind, units, useBias, resetAfter,
      activation: cfg.activation === undefined ? 'tanh' : cfg.activation,
      recurrentActivation: cfg.recurrent_activation === undefined ? 'sigmoid' : cfg.recurrent_activation,
      kernel: offset, recurrent: offset + 1, bias,
    },
    count,
  };
}

// ---- ONNX op lowering ----------------------------------------------------------------------

interface OnnxAct { name: string; alpha?: number; beta?: number }

/** The ONNX RNN activation for a Keras activation, or undefined when there is none. */
function onnxActivation(b: LayerBuilder, spec: unknown): OnnxAct | undefined {
  const n = activationName(spec);
  if (typeof n !== 'string') return undefined;
  switch (n.toLowerCase().replace(/_/g, '')) {
    case 'tanh': return { name: 'Tanh' };
    case 'sigmoid': return { name: 'Sigmoid' };
    case 'relu': return { name: 'Relu' };
    case 'linear': return { name: 'Affine', alpha: 1, beta: 0 };
    case 'hardsigmoid': {
      const [alpha, beta] = hardSigmoidParams(b);
      return { name: 'HardSigmoid', alpha, beta };
    }
    case 'elu': return { name: 'Elu', alpha: 1 };
    case 'softsign': return { name: 'Softsign' };
    case 'softplus': return { name: 'Softplus' };
    default: return undefined;
  }
}

function cellActivations(b: LayerBuilder, cell: Cell): OnnxAct[] | undefined {
  const f = onnxActivation(b, cell.recurrentActivation);
  const g = onnxActivation(b, cell.activation);
  if (!g || (cell.kind !== 'SimpleRNN' && !f)) return undefined;
  if (cell.kind === 'SimpleRNN') return [g];
  if (cell.kind === 'GRU') return [f!, g];
  return [f!, g, g];
}

/** Keras kernel [in, g*u] -> ONNX [1, g*u, in] with the gate blocks in ONNX order. */
function onnxMatrix(b: LayerBuilder, cell: Cell, index: number, suffix: string): Value {
  const t = b.ctx.weights[index]!;
  const ordered = cell.kind === 'LSTM' ? reorderBlocks(t, 1, LSTM_ORDER) : t;
  const m = permuteTensor(ordered, [1, 0]);
  return b.ctx.constant(b.derivedName(index, suffix), m.reshape([1, ...m.shape]));
}

function onnxBias(b: LayerBuilder, cell: Cell): Value | null {
  if (cell.bias === undefined) return null;
  const t = b.ctx.weights[cell.bias]!;
  const gu = GATES[cell.kind] * cell.units;
  if (cell.kind === 'GRU' && cell.resetAfter) {
    if (t.rank !== 2 || t.shape[0] !== 2 || t.shape[1] !== gu) throw b.fail(`bias has shape [${t.shape.join(', ')}], expected [2, ${gu}]`);
    // Input bias then recurrent bias: exactly ONNX's [Wb, Rb].
    return b.ctx.constant(b.derivedName(cell.bias, 'onnx'), t.reshape([1, 2 * gu]));
  }
  if (t.size !== gu) throw b.fail(`bias has ${t.size} values, expected ${gu}`);
  const ordered = cell.kind === 'LSTM' ? reorderBlocks(t, 0, LSTM_ORDER) : t;
  const full = concatTensors([ordered, zerosTensor(t.dtype, [gu])], 0);
  return b.ctx.constant(b.derivedName(cell.bias, 'onnx'), full.reshape([1, 2 * gu]));
}

/**
 * One direction through the ONNX op. The op runs time-major (layout 0: onnxruntime has no
 * batch-major recurrent kernels), so batch-major Keras inputs are transposed in and out; between
 * two recurrent layers those Transposes cancel.
 */
function onnxRecurrence(b: LayerBuilder, cell: Cell, acts: OnnxAct[], x: Value, init: Value[], opts: RnnOptions, needSeq: boolean, tag: string): Recurrence {
  const w = onnxMatrix(b, cell, cell.kernel, 'W');
  const r = onnxMatrix(b, cell, cell.recurrent, 'R');
  const bias = onnxBias(b, cell);
  const initial = init.map((s, i) => b.unsqueeze(s, [0], `${tag}initial_state_${i}`));
  const attrs: Attrs = {
    hidden_size: attr.int(cell.units),
    direction: attr.string(opts.goBackwards ? 'reverse' : 'forward'),
    activations: attr.strings(acts.map((a) => a.name)),
  };
  const alphas = acts.filter((a) => a.alpha !== undefined).map((a) => a.alpha!);
  const betas = acts.filter((a) => a.beta !== undefined).map((a) => a.beta!);
  if (alphas.length) attrs.activation_alpha = attr.floats(alphas);
  if (betas.length) attrs.activation_beta = attr.floats(betas);
  if (cell.kind === 'GRU') attrs.linear_before_reset = attr.int(cell.resetAfter ? 1 : 0);
  const op = cell.kind === 'SimpleRNN' ? 'RNN' : cell.kind;
  const xt = opts.timeMajor ? x : b.transpose(x, [1, 0, 2], `${tag}to_time_major`);
  const inputs: (Value | null)[] = [xt, w, r, bias, null, initial[0] ?? null];
  if (cell.kind === 'LSTM') inputs.push(initial[1] ?? null);
  const outs = b.nodes(op, inputs, attrs, cell.kind === 'LSTM' ? 3 : 2, `${tag}${op}`);
  // Y [T, 1, N, H]; Y_h, Y_c [1, N, H].
  const last = b.squeeze(outs[1]!, [0], `${tag}last_h`);
  const states = [last];
  if (cell.kind === 'LSTM') states.push(b.squeeze(outs[2]!, [0], `${tag}last_c`));
  let seq: Value | undefined;
  if (needSeq) {
    seq = b.squeeze(outs[0]!, [1], `${tag}sequence`);
    if (!opts.timeMajor) seq = b.transpose(seq, [1, 0, 2], `${tag}to_batch_major`);
    // ONNX aligns reverse outputs with the input steps; Keras lists them in processing order.
    if (opts.goBackwards) seq = reverseTime(b, seq, opts.timeMajor, `${tag}reverse_sequence`);
  }
  return { seq, last, states };
}

function reverseTime(b: LayerBuilder, x: Value, timeMajor: boolean, suffix: string): Value {
  return b.slice(x, [-1], [-INT_MAX], [timeMajor ? 0 : 1], [-1], suffix);
}

// ---- Scan lowering ---------------------------------------------------------------------------

/** A LayerContext whose nodes go into a subgraph (constants and weights stay outside). */
function bodyContext(ctx: LayerContext, body: Graph, prefix: string): LayerContext {
  return deriveContext(ctx, {
    graph: body,
    node(op, inputs, attrs = {}, outputs = 1, suffix) {
      const n = body.addNode(op, inputs, outputs, attrs, `${ctx.name}/${prefix}/${suffix ?? op}`);
      n.meta.kerasLayer = ctx.name;
      return n.outputs;
    },
  });
}

function scanRecurrence(b: LayerBuilder, cell: Cell, x: Value, init: Value[], mask: Value | undefined, opts: RnnOptions, tag: string): Recurrence {
  const ctx = b.ctx;
  const u = cell.units;
  const g = GATES[cell.kind];
  const tAxis = opts.timeMajor ? 0 : 1;
  const bAxis = opts.timeMajor ? 1 : 0;
  const dtype = x.dtype ?? 'float32';
  const batch: Dim = x.shape?.[bAxis] ?? 'batch';

  // Input projection for every step at once, with the input bias.
  let xw = b.op('MatMul', [x, ctx.weight(cell.kernel)], {}, `${tag}input_projection`);
  const biasT = cell.bias !== undefined ? ctx.weights[cell.bias]! : undefined;
  let recBias: Value | undefined;
  if (biasT) {
    if (cell.kind === 'GRU' && cell.resetAfter) {
      const inB = ctx.constant(b.derivedName(cell.bias!, 'input'), sliceAxis(biasT, 0, 0, 1).reshape([g * u]));
      recBias = ctx.constant(b.derivedName(cell.bias!, 'recurrent'), sliceAxis(biasT, 0, 1, 1).reshape([g * u]));
      xw = b.op('Add', [xw, inB], {}, `${tag}input_bias`);
    } else {
      xw = b.op('Add', [xw, ctx.weight(cell.bias!)], {}, `${tag}input_bias`);
    }
  }

  // Initial states: given, or zeros [N, u].
  const nStates = STATES[cell.kind];
  let zeros: Value | undefined;
  const zero = (): Value => {
    if (!zeros) {
      const shape = b.op('Shape', [x], {}, `${tag}input_shape`);
      const n = b.op('Gather', [shape, b.ints(`${tag}batch_axis`, [bAxis])], { axis: attr.int(0) }, `${tag}batch_size`);
      const dims = b.op('Concat', [n, b.ints(`${tag}units`, [u])], { axis: attr.int(0) }, `${tag}state_shape`);
      zeros = b.op('ConstantOfShape', [dims], { value: attr.tensor(Tensor.fromArray(dtype, [1], [0])) }, `${tag}zero_state`);
      zeros.shape = [batch, u];
      zeros.dtype = dtype;
    }
    return zeros;
  };
  const initial = Array.from({ length: nStates }, (_, i) => init[i] ?? zero());
  const carryOutput = !!mask && !opts.zeroOutputForMask;
  if (carryOutput) initial.push(zero());

  const body = new Graph(`${ctx.name}/${tag}cell`, ctx.graph);
  const prefix = `${tag}cell`;
  const stateShape: Shape = [batch, u];
  const stateIns = initial.map((_, i) => body.addInput(`${ctx.name}/${prefix}/state_${i}_in`, dtype, stateShape.slice()));
  const xIn = body.addInput(`${ctx.name}/${prefix}/x_t`, dtype, [batch, g * u]);
  const mIn = mask ? body.addInput(`${ctx.name}/${prefix}/mask_t`, 'bool', [batch]) : undefined;
  const cb = new LayerBuilder(bodyContext(ctx, body, prefix));
  const act = (v: Value, spec: unknown, s: string) => applyActivation(cb, v, spec, s);
  const h = stateIns[0]!;
  const rec = ctx.weight(cell.recurrent);
  let hNew: Value;
  let cNew: Value | undefined;
  if (cell.kind === 'SimpleRNN') {
    const pre = cb.op('Add', [xIn, cb.op('MatMul', [h, rec], {}, 'recurrent')], {}, 'pre_activation');
    hNew = act(pre, cell.activation, 'activation');
  } else if (cell.kind === 'LSTM') {
    const z = cb.op('Add', [xIn, cb.op('MatMul', [h, rec], {}, 'recurrent')], {}, 'gates');
    const [i, f, c, o] = cb.nodes('Split', [z], { axis: attr.int(1) }, 4, 'split_gates') as [Value, Value, Value, Value];
    const ig = act(i, cell.recurrentActivation, 'input_gate');
    const fg = act(f, cell.recurrentActivation, 'forget_gate');
    const og = act(o, cell.recurrentActivation, 'output_gate');
    const cand = act(c, cell.activation, 'candidate');
    cNew = cb.op('Add', [cb.op('Mul', [fg, stateIns[1]!], {}, 'keep'), cb.op('Mul', [ig, cand], {}, 'write')], {}, 'cell_state');
    hNew = cb.op('Mul', [og, act(cNew, cell.activation, 'cell_activation')], {}, 'hidden_state');
  } else {
    const [xz, xr, xh] = cb.nodes('Split', [xIn], { axis: attr.int(1) }, 3, 'split_input') as [Value, Value, Value];
    let hz: Value;
    let hr: Value;
    let hh: Value;
    if (cell.resetAfter) {
      let hp = cb.op('MatMul', [h, rec], {}, 'recurrent');
      if (recBias) hp = cb.op('Add', [hp, recBias], {}, 'recurrent_bias');
      [hz, hr, hh] = cb.nodes('Split', [hp], { axis: attr.int(1) }, 3, 'split_recurrent') as [Value, Value, Value];
      const zg = act(cb.op('Add', [xz, hz], {}, 'z_pre'), cell.recurrentActivation, 'update_gate');
      const rg = act(cb.op('Add', [xr, hr], {}, 'r_pre'), cell.recurrentActivation, 'reset_gate');
      const cand = act(cb.op('Add', [xh, cb.op('Mul', [rg, hh], {}, 'reset')], {}, 'h_pre'), cell.activation, 'candidate');
      hNew = gruUpdate(cb, zg, h, cand);
    } else {
      const recT = ctx.weights[cell.recurrent]!;
      const rzr = ctx.constant(b.derivedName(cell.recurrent, 'zr'), sliceAxis(recT, 1, 0, 2 * u));
      const rh = ctx.constant(b.derivedName(cell.recurrent, 'h'), sliceAxis(recT, 1, 2 * u, u));
      [hz, hr] = cb.nodes('Split', [cb.op('MatMul', [h, rzr], {}, 'recurrent_zr')], { axis: attr.int(1) }, 2, 'split_recurrent') as [Value, Value];
      const zg = act(cb.op('Add', [xz, hz], {}, 'z_pre'), cell.recurrentActivation, 'update_gate');
      const rg = act(cb.op('Add', [xr, hr], {}, 'r_pre'), cell.recurrentActivation, 'reset_gate');
      const rh2 = cb.op('MatMul', [cb.op('Mul', [rg, h], {}, 'reset'), rh], {}, 'recurrent_h');
      const cand = act(cb.op('Add', [xh, rh2], {}, 'h_pre'), cell.activation, 'candidate');
      hNew = gruUpdate(cb, zg, h, cand);
    }
  }
  let newStates = cNew ? [hNew, cNew] : [hNew];
  let out = hNew;
  if (mIn) {
    const m = cb.unsqueeze(mIn, [1], 'mask_expand');
    newStates = newStates.map((s, i) => cb.op('Where', [m, s, stateIns[i]!], {}, `masked_state_${i}`));
    if (carryOutput) {
      out = cb.op('Where', [m, hNew, stateIns[nStates]!], {}, 'masked_output');
      newStates.push(out);
    } else {
      const z = cb.scalar('zero_output', 0, hNew);
      out = cb.op('Where', [m, hNew, z], {}, 'masked_output');
    }
  }
  const outCopy = cb.op('Identity', [out], {}, 'output');
  body.outputs = [...newStates.map((s, i) => cb.op('Identity', [s], {}, `state_${i}_out`)), outCopy];
  for (const o of body.outputs) {
    o.dtype = dtype;
    o.shape = stateShape.slice();
  }

  const rev = opts.goBackwards ? 1 : 0;
  const scanInputs = mask ? [xw, mask] : [xw];
  const outs = b.nodes('Scan', [...initial, ...scanInputs], {
    body: attr.graph(body),
    num_scan_inputs: attr.int(scanInputs.length),
    scan_input_axes: attr.ints(mask ? [tAxis, 1] : [tAxis]),
    scan_input_directions: attr.ints(mask ? [rev, rev] : [rev]),
    scan_output_axes: attr.ints([tAxis]),
  }, initial.length + 1, `${tag}Scan`);
  const nOut = initial.length;
  outs.slice(0, nOut).forEach((o) => { o.dtype = dtype; o.shape = stateShape.slice(); });
  const seq = outs[nOut]!;
  seq.dtype = dtype;
  const T = x.shape?.[tAxis] ?? 'time';
  seq.shape = opts.timeMajor ? [T, batch, u] : [batch, T, u];
  const states = outs.slice(0, nStates);
  return { seq, last: carryOutput ? outs[nStates]! : states[0]!, states };
}

/** h' = z * h + (1 - z) * candidate, written as candidate + z * (h - candidate). */
function gruUpdate(cb: LayerBuilder, z: Value, h: Value, cand: Value): Value {
  return cb.op('Add', [cand, cb.op('Mul', [z, cb.op('Sub', [h, cand], {}, 'h_minus_candidate')], {}, 'keep')], {}, 'hidden_state');
}

// ---- one recurrent direction -----------------------------------------------------------------

function recurrence(b: LayerBuilder, cell: Cell, x: Value, init: Value[], mask: Value | undefined, opts: RnnOptions, needSeq: boolean, tag = ''): Recurrence {
  const r = x.shape?.length;
  if (r !== undefined && r !== 3) throw b.fail(`expects a rank-3 input [batch, time, features], got rank ${r}`);
  const nStates = STATES[cell.kind];
  if (init.length && init.length !== nStates) throw b.fail(`got ${init.length} initial states, a ${cell.kind} has ${nStates}`);
  const acts = cellActivations(b, cell);
  if (!mask && acts) return onnxRecurrence(b, cell, acts, x, init, opts, needSeq, tag);
  return scanRecurrence(b, cell, x, init, mask, opts, tag);
}

function outputsOf(res: Recurrence, opts: RnnOptions): Value[] {
  const y = opts.returnSequences ? res.seq! : res.last;
  return opts.returnState ? [y, ...res.states] : [y];
}

function recurrentLayer(kind: Kind) {
  return (ctx: LayerContext, inputs: Value[]): Value[] => {
    const b = new LayerBuilder(ctx);
    if (!inputs.length) throw b.fail('called without inputs');
    const opts = rnnOptions(b, b.cfg);
    const { cell } = parseCell(b, kind, b.cfg, 0);
    const [x, ...init] = inputs as [Value, ...Value[]];
    const mask = maskOf(x);
    const res = recurrence(b, cell, x, init, mask, opts, opts.returnSequences);
    const outs = outputsOf(res, opts);
    if (opts.returnSequences && mask) setMask(outs[0]!, mask);
    return outs;
  };
}

export const convertSimpleRNN = recurrentLayer('SimpleRNN');
export const convertLSTM = recurrentLayer('LSTM');
export const convertGRU = recurrentLayer('GRU');

/** RNN(cell=...) with a SimpleRNN/LSTM/GRU cell, or a StackedRNNCells of them. */
export function convertRNN(ctx: LayerContext, inputs: Value[]): Value[] {
  const b = new LayerBuilder(ctx);
  const opts = rnnOptions(b, b.cfg);
  const cellCfg = nestedLayer(b.raw('cell'));
  const list: KerasLayerConfig[] = [];
  if (Array.isArray(b.raw('cell'))) list.push(...(b.raw('cell') as unknown[]).map((c) => nestedLayer(c)!).filter(Boolean));
  else if (cellCfg?.class_name === 'StackedRNNCells') {
    const cells = (cellCfg.config as Config).cells;
    if (Array.isArray(cells)) list.push(...cells.map((c) => nestedLayer(c)!).filter(Boolean));
  } else if (cellCfg) list.push(cellCfg);
  if (!list.length) throw b.fail(`cell ${JSON.stringify(b.raw('cell'))} is not understood`);
  const cells: Cell[] = [];
  let offset = 0;
  for (const c of list) {
    const kind = CELL_KIND[c.class_name];
    if (!kind || c.class_name.endsWith('Cell') === false) throw b.fail(`cell class ${c.class_name} is not supported (SimpleRNNCell, LSTMCell, GRUCell are)`);
    const { cell, count } = parseCell(b, kind, c.config as Config, offset);
    cells.push(cell);
    offset += count;
  }
  const [x, ...init] = inputs as [Value, ...Value[]];
  const mask = maskOf(x);
  if (cells.length === 1) {
    const res = recurrence(b, cells[0]!, x, init, mask, opts, opts.returnSequences);
    const outs = outputsOf(res, opts);
    if (opts.returnSequences && mask) setMask(outs[0]!, mask);
    return outs;
  }
  // Stacked cells: every cell but the last feeds its whole sequence to the next.
  if (opts.goBackwards || mask) throw b.fail('stacked cells with go_backwards or a mask are not supported');
  let cur = x;
  const states: Value[] = [];
  let used = 0;
  let res: Recurrence | undefined;
  cells.forEach((cell, k) => {
    const n = STATES[cell.kind];
    const cellInit = init.slice(used, used + n);
    used += n;
    const lastCell = k === cells.length - 1;
    res = recurrence(b, cell, cur, cellInit, undefined, opts, !lastCell || opts.returnSequences, `cell_${k}/`);
    states.push(...res.states);
    if (!lastCell) cur = res.seq!;
  });
  const y = opts.returnSequences ? res!.seq! : res!.last;
  return opts.returnState ? [y, ...states] : [y];
}

// ---- Bidirectional ---------------------------------------------------------------------------

export function convertBidirectional(ctx: LayerContext, inputs: Value[]): Value[] {
  const b = new LayerBuilder(ctx);
  const inner = nestedLayer(b.raw('layer'));
  if (!inner) throw b.fail(`layer ${JSON.stringify(b.raw('layer'))} is not a layer config`);
  const kind = CELL_KIND[inner.class_name];
  if (!kind || inner.class_name.endsWith('Cell')) throw b.fail(`wrapped layer class ${inner.class_name} is not supported (SimpleRNN, LSTM, GRU are)`);
  const fwCfg = inner.config as Config;
  const backCfg = nestedLayer(b.raw('backward_layer'));
  const bwCfg = (backCfg?.config as Config | undefined) ?? { ...fwCfg, go_backwards: !fwCfg.go_backwards };
  const fwOpts = rnnOptions(b, fwCfg);
  const bwOpts = rnnOptions(b, bwCfg);
  if (fwOpts.goBackwards || !bwOpts.goBackwards) throw b.fail('a wrapped layer with go_backwards=True is not supported');
  const mergeRaw = b.raw('merge_mode');
  const merge = mergeRaw === undefined ? 'concat' : mergeRaw === null ? null : String(mergeRaw);
  if (merge !== null && !['concat', 'sum', 'mul', 'ave'].includes(merge)) throw b.fail(`merge_mode '${merge}' is not supported`);
  const bwKind = backCfg ? CELL_KIND[backCfg.class_name] : kind;
  if (!bwKind) throw b.fail(`backward layer class ${backCfg!.class_name} is not supported`);
  const { cell: fw, count } = parseCell(b, kind, fwCfg, 0);
  const { cell: bw } = parseCell(b, bwKind, bwCfg, count);
  const [x, ...init] = inputs as [Value, ...Value[]];
  const nf = STATES[fw.kind];
  const mask = maskOf(x);
  const seqs = fwOpts.returnSequences;
  // Keras forces zero outputs on masked steps inside Bidirectional when it returns sequences.
  const fo = { ...fwOpts, zeroOutputForMask: seqs };
  const bo = { ...bwOpts, zeroOutputForMask: seqs };
  const rf = recurrence(b, fw, x, init.slice(0, nf), mask, fo, seqs, 'forward/');
  const rb = recurrence(b, bw, x, init.slice(nf), mask, bo, seqs, 'backward/');
  let yf = seqs ? rf.seq! : rf.last;
  let yb = seqs ? reverseTime(b, rb.seq!, fwOpts.timeMajor, 'backward/align') : rb.last;
  let outs: Value[];
  switch (merge) {
    case 'concat': outs = [b.op('Concat', [yf, yb], { axis: attr.int(-1) }, 'concat')]; break;
    case 'sum': outs = [b.op('Add', [yf, yb], {}, 'sum')]; break;
    case 'mul': outs = [b.op('Mul', [yf, yb], {}, 'mul')]; break;
    case 'ave': outs = [b.op('Mul', [b.op('Add', [yf, yb], {}, 'sum'), b.scalar('half', 0.5, yf)], {}, 'ave')]; break;
    default:
      yf = b.op('Identity', [yf], {}, 'forward_output');
      yb = b.op('Identity', [yb], {}, 'backward_output');
      outs = [yf, yb];
  }
  if (seqs && mask) for (const o of outs) setMask(o, mask);
  if (fwOpts.returnState) outs.push(...rf.states, ...rb.states);
  return outs;
}

// ---- TimeDistributed -------------------------------------------------------------------------

/**
 * TimeDistributed(layer): folds time into the batch ([N, T, ...] -> [N*T, ...]), runs the
 * wrapped layer's converter, and unfolds the result. Shapes are computed at run time.
 */
export function convertTimeDistributed(ctx: LayerContext, inputs: Value[]): Value[] {
  const b = new LayerBuilder(ctx);
  const inner = nestedLayer(b.raw('layer'));
  if (!inner) throw b.fail(`layer ${JSON.stringify(b.raw('layer'))} is not a layer config`);
  const conv = kerasLayerConverter(inner.class_name);
  if (!conv) throw b.fail(`wrapped layer class ${inner.class_name} has no converter`);
  if (inputs.length !== 1) throw b.fail(`expects one input, got ${inputs.length}`);
  const x = inputs[0]!;
  const r = b.rank(x, 'TimeDistributed');
  if (r < 3) throw b.fail(`expects an input of rank 3 or more, got rank ${r}`);
  const shape = b.op('Shape', [x], {}, 'input_shape');
  const inner_ = b.slice(shape, [2], [INT_MAX], [0], undefined, 'inner_shape');
  const folded = b.op('Reshape', [x, b.op('Concat', [b.ints('minus_one', [-1]), inner_], { axis: attr.int(0) }, 'folded_shape')], {}, 'fold');
  const d0 = x.shape![0]!;
  const d1 = x.shape![1]!;
  folded.dtype = x.dtype;
  folded.shape = [typeof d0 === 'number' && typeof d1 === 'number' ? d0 * d1 : `${d0}*${d1}`, ...x.shape!.slice(2)];
  const sub = deriveContext(ctx, { layer: inner });
  const ys = conv(sub, [folded]);
  const outer = b.slice(shape, [0], [2], [0], undefined, 'outer_shape');
  return ys.map((y, i) => {
    const yShape = b.op('Shape', [y], {}, `output_shape_${i}`);
    const rest = b.slice(yShape, [1], [INT_MAX], [0], undefined, `output_inner_shape_${i}`);
    const target = b.op('Concat', [outer, rest], { axis: attr.int(0) }, `unfolded_shape_${i}`);
    const out = b.op('Reshape', [y, target], {}, `unfold_${i}`);
    out.dtype = y.dtype;
    if (y.shape) out.shape = [d0, d1, ...y.shape.slice(1)];
    if (maskOf(x)) setMask(out, maskOf(x));
    return out;
  });
}

