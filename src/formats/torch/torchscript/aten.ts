/**
 * The `torch.*` (aten) and `ops.prim.*` functions TorchScript code calls, with their aten
 * signatures (argument names and defaults), evaluated on interpreter values: Python scalars and
 * lists are computed at once; tensors become IR nodes through TorchOps.
 */
import type { Value } from '../../../ir/graph.js';
import { Tensor, isFloatDType, type Dim, type DType } from '../../../ir/tensor.js';
import { TorchOpError, type IntArg, type TorchOps } from './torch-ops.js';
import { SymIntVal, TensorVal, describeVal, pyEquals, truthy, type PyVal } from './values.js';

export interface AtenContext {
  ops: TorchOps;
  /** A node name for an op called in the current module (its path), e.g. `features.0`. */
  name(op: string): string;
  /** Gives a graph input whose shape is still unknown the shape and dtype its first reader implies. */
  refineInput(x: Value, shape: Dim[] | undefined, dtype?: DType): void;
}

/** `ops.prim.RaiseException` (or `raise`) reached: the model's own check failed. */
export class ScriptRaise extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ScriptRaise';
  }
}

type Args = Record<string, PyVal>;
type Handler = (c: AtenContext, a: Args) => PyVal;

interface Param {
  name: string;
  default?: PyVal;
}

interface AtenDef {
  name: string;
  params: Param[];
  run: Handler;
}

// ------------------------------------------------------------------------------------------------
// Signatures as text: `linear(input, weight, bias=None)`

function parseDefault(text: string): PyVal {
  const t = text.trim();
  if (t === 'None') return null;
  if (t === 'True') return true;
  if (t === 'False') return false;
  if (/^'.*'$/.test(t)) return t.slice(1, -1);
  if (t.startsWith('[')) {
    const inner = t.slice(1, -1).trim();
    return inner ? inner.split(',').map((x) => parseDefault(x)) : [];
  }
  const n = Number(t);
  if (Number.isNaN(n)) throw new Error(`bad default ${t}`);
  return n;
}

function splitTop(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of s) {
    if (ch === '[') depth++;
    if (ch === ']') depth--;
    if (ch === ',' && depth === 0) {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  if (cur.trim()) out.push(cur);
  return out;
}

function sig(text: string): { names: string[]; params: Param[] } {
  const m = /^([\w|]+)\((.*)\)$/.exec(text)!;
  const params = splitTop(m[2]!).map((p) => {
    const eq = p.indexOf('=');
    return eq < 0 ? { name: p.trim() } : { name: p.slice(0, eq).trim(), default: parseDefault(p.slice(eq + 1)) };
  });
  return { names: m[1]!.split('|'), params };
}

const DEFS = new Map<string, AtenDef>();

function def(signature: string, run: Handler): void {
  const { names, params } = sig(signature);
  for (const name of names) DEFS.set(name, { name, params, run });
}

// ------------------------------------------------------------------------------------------------
// Argument converters

function isTensor(v: PyVal): v is TensorVal {
  return v instanceof TensorVal;
}

function T(v: PyVal, what: string): Value {
  if (v instanceof TensorVal) return v.value;
  throw new TorchOpError(`${what} must be a tensor, found ${describeVal(v)}`);
}

function optT(v: PyVal, what: string): Value | null {
  return v === null ? null : T(v, what);
}

function I(v: PyVal, what: string): number {
  if (typeof v === 'number' && Number.isInteger(v)) return v;
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (v instanceof SymIntVal) throw new TorchOpError(`${what} depends on the input's shape (${v.label}); only fixed values are supported here`, 'unsupported');
  throw new TorchOpError(`${what} must be an int, found ${describeVal(v)}`);
}

function F(v: PyVal, what: string): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'boolean') return v ? 1 : 0;
  throw new TorchOpError(`${what} must be a number, found ${describeVal(v)}`);
}

function B(v: PyVal, what: string): boolean {
  const t = truthy(v);
  if (t === undefined) throw new TorchOpError(`${what} must be a bool, found ${describeVal(v)}`);
  return t;
}

/** An int or a list of ints. */
function Is(v: PyVal, what: string): number[] | number {
  if (Array.isArray(v)) return v.map((x, i) => I(x, `${what}[${i}]`));
  return I(v, what);
}

function IsList(v: PyVal, what: string): number[] {
  const r = Is(v, what);
  return typeof r === 'number' ? [r] : r;
}

/** Ints that may be run-time values (view/reshape sizes). */
function intArgs(v: PyVal, what: string): IntArg[] {
  const items = Array.isArray(v) ? v : [v];
  return items.map((x, i) => (x instanceof SymIntVal ? x.value() : I(x, `${what}[${i}]`)));
}

function tensors(v: PyVal, what: string): Value[] {
  if (!Array.isArray(v)) throw new TorchOpError(`${what} must be a list of tensors, found ${describeVal(v)}`);
  return v.map((x, i) => T(x, `${what}[${i}]`));
}

const tv = (v: Value): TensorVal => new TensorVal(v);

// ------------------------------------------------------------------------------------------------
// Scalars and run-time ints

type Arith = 'Add' | 'Sub' | 'Mul' | 'Div' | 'FloorDiv' | 'Mod' | 'Pow';

function concreteArith(op: Arith, a: number, b: number): number {
  switch (op) {
    case 'Add': return a + b;
    case 'Sub': return a - b;
    case 'Mul': return a * b;
    case 'Div': return a / b;
    case 'FloorDiv': return Math.floor(a / b);
    case 'Mod': return a - Math.floor(a / b) * b;
    case 'Pow': return a ** b;
  }
}

function symArith(c: AtenContext, op: Arith, a: PyVal, b: PyVal): SymIntVal {
  if (op === 'Div' || op === 'Pow' || op === 'Mod') throw new TorchOpError(`${op} on a shape-dependent int is not supported`, 'unsupported');
  const onnxOp = op === 'FloorDiv' ? 'Div' : op;
  const la = a instanceof SymIntVal ? a.label : String(a);
  const lb = b instanceof SymIntVal ? b.label : String(b);
  const name = c.name('int_' + op.toLowerCase());
  return new SymIntVal(() => {
    const av = a instanceof SymIntVal ? a.value() : c.ops.constant(`${name}/a`, Tensor.fromArray('int64', [], [I(a, 'operand')]));
    const bv = b instanceof SymIntVal ? b.value() : c.ops.constant(`${name}/b`, Tensor.fromArray('int64', [], [I(b, 'operand')]));
    return c.ops.node(onnxOp, [av, bv], {}, name);
  }, `(${la} ${op} ${lb})`);
}

/** `torch.add(a, b)` and friends on any mix of tensors, run-time ints, numbers, lists and strings. */
function arith(c: AtenContext, op: Arith, a: PyVal, b: PyVal, alpha: PyVal = 1): PyVal {
  if (isTensor(a) || isTensor(b)) {
    if (op === 'FloorDiv' || op === 'Mod') throw new TorchOpError(`${op} of tensors is not supported`, 'unsupported');
    const other = typeof b === 'number' || typeof b === 'boolean' ? F(b, 'other') : T(b, 'other');
    const self = typeof a === 'number' || typeof a === 'boolean' ? F(a, 'self') : T(a, 'self');
    const al = F(alpha, 'alpha');
    const scaled = al === 1 ? other : typeof other === 'number' ? other * al : c.ops.binary('Mul', other, al, c.name('alpha'));
    return tv(c.ops.binary(op, self, scaled, c.name(op.toLowerCase())));
  }
  if (a instanceof SymIntVal || b instanceof SymIntVal) return symArith(c, op, a, b);
  if (op === 'Add' && Array.isArray(a) && Array.isArray(b)) return [...a, ...b];
  if (op === 'Add' && typeof a === 'string' && typeof b === 'string') return a + b;
  if (op === 'Mul' && Array.isArray(a) && typeof b === 'number') return Array.from({ length: Math.max(0, b) }, () => a).flat();
  return concreteArith(op, F(a, 'self'), F(b, 'other') * F(alpha, 'alpha'));
}

function compare(c: AtenContext, op: 'eq' | 'ne' | 'lt' | 'gt' | 'le' | 'ge', a: PyVal, b: PyVal): PyVal {
  if (isTensor(a) || isTensor(b)) {
    const x = T(a, 'self');
    const y = isTensor(b) ? b.value : c.ops.scalar(c.name(`${op}/other`), F(b, 'other'), x.dtype ?? 'float32');
    const onnx = { eq: 'Equal', ne: 'Equal', lt: 'Less', gt: 'Greater', le: 'LessOrEqual', ge: 'GreaterOrEqual' }[op];
    const r = c.ops.node(onnx, [x, y], {}, c.name(op));
    return tv(op === 'ne' ? c.ops.node('Not', [r], {}, c.name('ne')) : r);
  }
  if (a instanceof SymIntVal || b instanceof SymIntVal) {
    throw new TorchOpError(`comparing the shape-dependent ${describeVal(a instanceof SymIntVal ? a : b)} decides control flow at run time; only fixed shapes are supported`, 'unsupported', 'give the input a fixed shape');
  }
  if (op === 'eq') return pyEquals(a, b) ?? false;
  if (op === 'ne') return !(pyEquals(a, b) ?? false);
  const x = typeof a === 'string' ? a : F(a, 'self');
  const y = typeof b === 'string' ? b : F(b, 'other');
  switch (op) {
    case 'lt': return x < y;
    case 'gt': return x > y;
    case 'le': return x <= y;
    default: return x >= y;
  }
}

function formatString(fmt: string, args: PyVal[]): string {
  let i = 0;
  return fmt.replace(/\{\}/g, () => (i < args.length ? plain(args[i++]!) : '{}'));
}

function plain(v: PyVal): string {
  return typeof v === 'string' ? v : describeVal(v);
}

// ------------------------------------------------------------------------------------------------
// Shapes

function sizeOf(c: AtenContext, x: Value, dim: number): PyVal {
  const r = c.ops.axis(x, dim);
  const d = x.shape?.[r];
  if (typeof d === 'number') return d;
  return new SymIntVal(() => c.ops.size(x, r, c.name('size')) as Value, `${x.name}.size(${r})`);
}

function rankOf(x: Value, what: string): number {
  const r = x.shape?.length;
  if (r === undefined) throw new TorchOpError(`${what} needs the rank of ${x.name}, which is unknown here`, 'unsupported', 'give the input a shape (its rank at least)');
  return r;
}

// ------------------------------------------------------------------------------------------------
// The table

const unary = (op: 'Relu' | 'Sigmoid' | 'Tanh' | 'Exp' | 'Log' | 'Sqrt' | 'Neg' | 'Abs' | 'Erf') => (c: AtenContext, a: Args) =>
  tv(c.ops.unary(op, T(a['self']!, 'self'), c.name(op.toLowerCase())));

def('relu|relu_(self)', unary('Relu'));
def('sigmoid|sigmoid_(self)', unary('Sigmoid'));
def('tanh|tanh_(self)', unary('Tanh'));
def('exp(self)', unary('Exp'));
def('log(self)', unary('Log'));
def('sqrt(self)', unary('Sqrt'));
def('erf(self)', unary('Erf'));
def('abs(self)', (c, a) => (isTensor(a['self']!) ? unary('Abs')(c, a) : Math.abs(F(a['self']!, 'self'))));
def('neg(self)', (c, a) => (isTensor(a['self']!) ? unary('Neg')(c, a) : arith(c, 'Sub', 0, a['self']!)));
def('relu6(self)', (c, a) => tv(c.ops.clip(T(a['self']!, 'self'), 0, 6, c.name('relu6'))));
def('hardtanh|hardtanh_(self, min_val=-1, max_val=1)', (c, a) => tv(c.ops.clip(T(a['self']!, 'self'), F(a['min_val']!, 'min_val'), F(a['max_val']!, 'max_val'), c.name('hardtanh'))));
def('clamp|clamp_|clip(self, min=None, max=None)', (c, a) => {
  const lo = a['min'] === null ? null : F(a['min']!, 'min');
  const hi = a['max'] === null ? null : F(a['max']!, 'max');
  return tv(c.ops.clip(T(a['self']!, 'self'), lo, hi, c.name('clamp')));
});
def('leaky_relu|leaky_relu_(self, negative_slope=0.01)', (c, a) => tv(c.ops.leakyRelu(T(a['self']!, 'self'), F(a['negative_slope']!, 'negative_slope'), c.name('leaky_relu'))));
def('elu|elu_(self, alpha=1, scale=1, input_scale=1)', (c, a) => {
  if (F(a['scale']!, 'scale') !== 1 || F(a['input_scale']!, 'input_scale') !== 1) throw new TorchOpError('elu with scale or input_scale other than 1 is not supported', 'unsupported');
  return tv(c.ops.elu(T(a['self']!, 'self'), F(a['alpha']!, 'alpha'), c.name('elu')));
});
def("gelu(self, approximate='none')", (c, a) => tv(c.ops.gelu(T(a['self']!, 'self'), a['approximate'] as string, c.name('gelu'))));
def('silu|silu_(self)', (c, a) => {
  const x = T(a['self']!, 'self');
  const name = c.name('silu');
  return tv(c.ops.binary('Mul', x, c.ops.unary('Sigmoid', x, `${name}/sigmoid`), name));
});
def('softmax(self, dim, dtype=None)', (c, a) => tv(c.ops.softmax(T(a['self']!, 'self'), I(a['dim']!, 'dim'), c.name('softmax'))));
def('log_softmax(self, dim, dtype=None)', (c, a) => tv(c.ops.softmax(T(a['self']!, 'self'), I(a['dim']!, 'dim'), c.name('log_softmax'), true)));

def('linear(input, weight, bias=None)', (c, a) => {
  const x = T(a['input']!, 'input');
  const w = T(a['weight']!, 'weight');
  // An input read first by a Linear is taken as [batch, in_features], the common case.
  c.refineInput(x, ['batch', w.shape?.[1] ?? 'features'], floatDtype(w));
  return tv(c.ops.linear(x, w, optT(a['bias']!, 'bias'), c.name('linear')));
});

/** The weight's float dtype (an input read first by this op takes it), else undefined. */
function floatDtype(w: Value): DType | undefined {
  return w.dtype && isFloatDType(w.dtype) ? w.dtype : undefined;
}

function convInput(c: AtenContext, x: Value, w: Value, groups: number): void {
  const n = (w.shape?.length ?? 2) - 2;
  const spatial = n === 1 ? ['length'] : n === 2 ? ['height', 'width'] : Array.from({ length: n }, (_, i) => `spatial_${i}`);
  const cin = w.shape?.[1];
  c.refineInput(x, ['batch', typeof cin === 'number' ? cin * groups : 'channels', ...spatial], floatDtype(w));
}

def('conv1d|conv2d|conv3d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1)', (c, a) => {
  const x = T(a['input']!, 'input');
  const w = T(a['weight']!, 'weight');
  const groups = I(a['groups']!, 'groups');
  convInput(c, x, w, groups);
  const p = a['padding']!;
  return tv(c.ops.conv(x, w, optT(a['bias']!, 'bias'), {
    stride: Is(a['stride']!, 'stride'),
    padding: p === 'same' || p === 'valid' ? (p as 'same' | 'valid') : Is(p, 'padding'),
    dilation: Is(a['dilation']!, 'dilation'),
    groups,
  }, c.name('conv')));
});
def('conv_transpose1d|conv_transpose2d|conv_transpose3d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1)', (c, a) => {
  const x = T(a['input']!, 'input');
  const w = T(a['weight']!, 'weight');
  return tv(c.ops.convTranspose(x, w, optT(a['bias']!, 'bias'), {
    stride: Is(a['stride']!, 'stride'), padding: Is(a['padding']!, 'padding'), outputPadding: Is(a['output_padding']!, 'output_padding'),
    groups: I(a['groups']!, 'groups'), dilation: Is(a['dilation']!, 'dilation'),
  }, c.name('conv_transpose')));
});
def('_convolution(input, weight, bias, stride, padding, dilation, transposed, output_padding, groups, benchmark=False, deterministic=False, cudnn_enabled=True, allow_tf32=True)', (c, a) => {
  const x = T(a['input']!, 'input');
  const w = T(a['weight']!, 'weight');
  const groups = I(a['groups']!, 'groups');
  const common = { stride: Is(a['stride']!, 'stride'), padding: Is(a['padding']!, 'padding'), dilation: Is(a['dilation']!, 'dilation'), groups };
  if (B(a['transposed']!, 'transposed')) {
    return tv(c.ops.convTranspose(x, w, optT(a['bias']!, 'bias'), { ...common, outputPadding: Is(a['output_padding']!, 'output_padding') }, c.name('conv_transpose')));
  }
  convInput(c, x, w, groups);
  return tv(c.ops.conv(x, w, optT(a['bias']!, 'bias'), common, c.name('conv')));
});
def('batch_norm(input, weight, bias, running_mean, running_var, training, momentum, eps, cudnn_enabled=True)', (c, a) => {
  if (B(a['training']!, 'training')) throw new TorchOpError('batch_norm in training mode normalises with batch statistics', 'unsupported', 'the model is converted in eval mode; this call asks for training explicitly');
  const mean = optT(a['running_mean']!, 'running_mean');
  const variance = optT(a['running_var']!, 'running_var');
  if (!mean || !variance) throw new TorchOpError('batch_norm without running statistics (track_running_stats=False) normalises with batch statistics', 'unsupported');
  return tv(c.ops.batchNorm(T(a['input']!, 'input'), optT(a['weight']!, 'weight'), optT(a['bias']!, 'bias'), mean, variance, F(a['eps']!, 'eps'), c.name('batch_norm')));
});
def('layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-05, cudnn_enable=True)', (c, a) =>
  tv(c.ops.layerNorm(T(a['input']!, 'input'), IsList(a['normalized_shape']!, 'normalized_shape'), optT(a['weight']!, 'weight'), optT(a['bias']!, 'bias'), F(a['eps']!, 'eps'), c.name('layer_norm'))));
def('embedding(weight, indices, padding_idx=-1, scale_grad_by_freq=False, sparse=False)', (c, a) => {
  const idx = T(a['indices']!, 'indices');
  c.refineInput(idx, ['batch', 'sequence'], 'int64');
  return tv(c.ops.embedding(T(a['weight']!, 'weight'), idx, c.name('embedding')));
});

def('max_pool1d|max_pool2d|max_pool3d(self, kernel_size, stride=[], padding=0, dilation=1, ceil_mode=False)', (c, a) => {
  const k = IsList(a['kernel_size']!, 'kernel_size');
  return tv(c.ops.maxPool(T(a['self']!, 'self'), {
    kernel: k, stride: IsList(a['stride']!, 'stride'), padding: Is(a['padding']!, 'padding'), dilation: Is(a['dilation']!, 'dilation'), ceilMode: B(a['ceil_mode']!, 'ceil_mode'),
  }, c.name('max_pool')));
});
def('avg_pool1d|avg_pool2d|avg_pool3d(self, kernel_size, stride=[], padding=0, ceil_mode=False, count_include_pad=True, divisor_override=None)', (c, a) =>
  tv(c.ops.avgPool(T(a['self']!, 'self'), {
    kernel: IsList(a['kernel_size']!, 'kernel_size'), stride: IsList(a['stride']!, 'stride'), padding: Is(a['padding']!, 'padding'),
    ceilMode: B(a['ceil_mode']!, 'ceil_mode'), countIncludePad: B(a['count_include_pad']!, 'count_include_pad'),
    divisorOverride: a['divisor_override'] === null ? null : I(a['divisor_override']!, 'divisor_override'),
  }, c.name('avg_pool'))));
for (const n of [1, 2, 3]) {
  def(`adaptive_avg_pool${n}d(self, output_size)`, (c, a) => {
    const o = a['output_size']!;
    const sizes = Array.isArray(o) ? o.map((x, i) => (x === null ? null : I(x, `output_size[${i}]`))) : [I(o, 'output_size')];
    return tv(c.ops.adaptiveAvgPool(T(a['self']!, 'self'), sizes.length === 1 ? Array(n).fill(sizes[0]) : sizes, c.name('adaptive_avg_pool')));
  });
}

def("pad(self, pad, mode='constant', value=None)", (c, a) =>
  tv(c.ops.pad(T(a['self']!, 'self'), IsList(a['pad']!, 'pad'), a['mode'] as string, a['value'] === null ? 0 : F(a['value']!, 'value'), c.name('pad'))));
def('constant_pad_nd(self, pad, value=0)', (c, a) => tv(c.ops.pad(T(a['self']!, 'self'), IsList(a['pad']!, 'pad'), 'constant', F(a['value']!, 'value'), c.name('pad'))));
def('flatten(self, start_dim=0, end_dim=-1)', (c, a) => tv(c.ops.flatten(T(a['self']!, 'self'), I(a['start_dim']!, 'start_dim'), I(a['end_dim']!, 'end_dim'), c.name('flatten'))));
def('view|reshape(self, size)', (c, a) => tv(c.ops.reshape(T(a['self']!, 'self'), intArgs(a['size']!, 'size'), c.name('reshape'))));
def('contiguous(self, memory_format=0)', (_c, a) => a['self']!);
def('detach|clone(self, memory_format=None)', (_c, a) => a['self']!);
def('dropout|dropout_|feature_dropout|feature_dropout_|alpha_dropout|alpha_dropout_(input, p=0.5, train=False)', (_c, a) => a['input']!);
def('transpose(self, dim0, dim1)', (c, a) => tv(c.ops.transpose(T(a['self']!, 'self'), I(a['dim0']!, 'dim0'), I(a['dim1']!, 'dim1'), c.name('transpose'))));
def('t(self)', (c, a) => {
  const x = T(a['self']!, 'self');
  return rankOf(x, 't') < 2 ? a['self']! : tv(c.ops.transpose(x, 0, 1, c.name('t')));
});
def('permute(self, dims)', (c, a) => tv(c.ops.permute(T(a['self']!, 'self'), IsList(a['dims']!, 'dims'), c.name('permute'))));
def('unsqueeze(self, dim)', (c, a) => tv(c.ops.unsqueeze(T(a['self']!, 'self'), I(a['dim']!, 'dim'), c.name('unsqueeze'))));
def('squeeze(self, dim=None)', (c, a) => tv(c.ops.squeeze(T(a['self']!, 'self'), a['dim'] === null ? undefined : I(a['dim']!, 'dim'), c.name('squeeze'))));
def('mean(self, dim=None, keepdim=False, dtype=None)', (c, a) =>
  tv(c.ops.mean(T(a['self']!, 'self'), a['dim'] === null ? null : IsList(a['dim']!, 'dim'), B(a['keepdim']!, 'keepdim'), c.name('mean'))));
def('cat|concat(tensors, dim=0)', (c, a) => tv(c.ops.concat(tensors(a['tensors']!, 'tensors'), I(a['dim']!, 'dim'), c.name('cat'))));
def('stack(tensors, dim=0)', (c, a) => {
  const xs = tensors(a['tensors']!, 'tensors');
  const dim = I(a['dim']!, 'dim');
  const name = c.name('stack');
  return tv(c.ops.concat(xs.map((x, i) => c.ops.unsqueeze(x, dim, `${name}/unsqueeze_${i}`)), dim, name));
});
def('matmul|mm|bmm(self, other)', (c, a) => tv(c.ops.matmul(T(a['self']!, 'self'), T(a['other']!, 'other'), c.name('matmul'))));
def('addmm(self, mat1, mat2, beta=1, alpha=1)', (c, a) =>
  tv(c.ops.addmm(T(a['self']!, 'self'), T(a['mat1']!, 'mat1'), T(a['mat2']!, 'mat2'), F(a['beta']!, 'beta'), F(a['alpha']!, 'alpha'), c.name('addmm'))));

// Arithmetic and comparisons (tensors, run-time ints, Python scalars and lists alike).
def('add|add_(self, other, alpha=1)', (c, a) => arith(c, 'Add', a['self']!, a['other']!, a['alpha']!));
def('sub|sub_(self, other, alpha=1)', (c, a) => arith(c, 'Sub', a['self']!, a['other']!, a['alpha']!));
def('rsub(self, other, alpha=1)', (c, a) => arith(c, 'Sub', a['other']!, F(a['alpha']!, 'alpha') === 1 ? a['self']! : arith(c, 'Mul', a['self']!, a['alpha']!)));
def('mul|mul_(self, other)', (c, a) => arith(c, 'Mul', a['self']!, a['other']!));
def('div|div_(self, other, rounding_mode=None)', (c, a) => {
  const mode = a['rounding_mode'];
  if (mode === null) return arith(c, 'Div', a['self']!, a['other']!);
  if (mode === 'floor' && !isTensor(a['self']!) && !isTensor(a['other']!)) return arith(c, 'FloorDiv', a['self']!, a['other']!);
  throw new TorchOpError(`div with rounding_mode='${String(mode)}' is not supported on tensors`, 'unsupported');
});
def('floordiv(self, other)', (c, a) => arith(c, 'FloorDiv', a['self']!, a['other']!));
def('remainder(self, other)', (c, a) => arith(c, 'Mod', a['self']!, a['other']!));
def('pow(self, exponent)', (c, a) => arith(c, 'Pow', a['self']!, a['exponent']!));
for (const op of ['eq', 'ne', 'lt', 'gt', 'le', 'ge'] as const) def(`${op}(self, other)`, (c, a) => compare(c, op, a['self']!, a['other']!));

// Python builtins as TorchScript prints them (torch.len, torch.__is__, torch.format, ...).
def('__is__(self, obj)', (_c, a) => a['self'] === a['obj'] || (a['self'] === null && a['obj'] === null));
def('__isnot__(self, obj)', (_c, a) => !(a['self'] === a['obj'] || (a['self'] === null && a['obj'] === null)));
def('__not__(self)', (_c, a) => !B(a['self']!, 'self'));
def('__and__(self, other)', (_c, a) => B(a['self']!, 'self') && B(a['other']!, 'other'));
def('__or__(self, other)', (_c, a) => B(a['self']!, 'self') || B(a['other']!, 'other'));
def('len(self)', (c, a) => {
  const s = a['self']!;
  if (Array.isArray(s)) return s.length;
  if (typeof s === 'string') return s.length;
  if (s instanceof Map) return s.size;
  if (isTensor(s)) return sizeOf(c, s.value, 0);
  throw new TorchOpError(`len() of ${describeVal(s)}`);
});
def('size(self, dim=None)', (c, a) => {
  const x = T(a['self']!, 'self');
  if (a['dim'] !== null) return sizeOf(c, x, I(a['dim']!, 'dim'));
  return Array.from({ length: rankOf(x, 'size()') }, (_, i) => sizeOf(c, x, i));
});
def('dim(self)', (_c, a) => rankOf(T(a['self']!, 'self'), 'dim()'));
def('numel(self)', (_c, a) => {
  const x = T(a['self']!, 'self');
  if (!x.shape || !x.shape.every((d) => typeof d === 'number')) throw new TorchOpError(`numel() of ${x.name} needs its full shape`, 'unsupported');
  return (x.shape as number[]).reduce((p, d) => p * d, 1);
});
def('list(self)', (_c, a) => (Array.isArray(a['self']) ? [...a['self']] : a['self']!));
def('append(self, el)', (_c, a) => {
  if (!Array.isArray(a['self'])) throw new TorchOpError(`append to ${describeVal(a['self']!)}`);
  a['self'].push(a['el']!);
  return a['self'];
});
def('__range_length(lo, hi, step)', (_c, a) => {
  const lo = I(a['lo']!, 'lo');
  const hi = I(a['hi']!, 'hi');
  const st = I(a['step']!, 'step');
  return st > 0 ? Math.max(0, Math.ceil((hi - lo) / st)) : Math.max(0, Math.ceil((lo - hi) / -st));
});
def('__derive_index(index, start, step)', (_c, a) => I(a['start']!, 'start') + I(a['index']!, 'index') * I(a['step']!, 'step'));
def('warn(message, stacklevel=2)', () => null);
def('_unwrap_optional(x)', (_c, a) => a['x']!);
def('floor(self)', (c, a) => (isTensor(a['self']!) ? tv(c.ops.node('Floor', [T(a['self']!, 'self')], {}, c.name('floor'))) : Math.floor(F(a['self']!, 'self'))));
def('ceil(self)', (c, a) => (isTensor(a['self']!) ? tv(c.ops.node('Ceil', [T(a['self']!, 'self')], {}, c.name('ceil'))) : Math.ceil(F(a['self']!, 'self'))));

/** `ops.prim.*`. */
const PRIMS = new Map<string, (c: AtenContext, args: PyVal[]) => PyVal>([
  ['RaiseException', (_c, args) => {
    throw new ScriptRaise(args.length ? plain(args[0]!) : 'an exception');
  }],
  ['unchecked_unwrap_optional', (_c, args) => args[0] ?? null],
  ['data', (_c, args) => args[0] ?? null],
  ['device', () => 'cpu'],
  ['is_cuda', () => false],
  ['min', (_c, args) => Math.min(...(args.length === 1 && Array.isArray(args[0]) ? args[0] : args).map((x) => F(x, 'min')))],
  ['max', (_c, args) => Math.max(...(args.length === 1 && Array.isArray(args[0]) ? args[0] : args).map((x) => F(x, 'max')))],
  // A Python number as a 0-d tensor: kept as the number (or run-time int), which every op that
  // reads it (int(), view sizes, arithmetic) accepts; traced models wrap sizes this way.
  ['NumToTensor', (_c, args) => {
    const v = args[0] ?? null;
    if (v instanceof SymIntVal || typeof v === 'number' || typeof v === 'boolean') return v;
    throw new TorchOpError(`NumToTensor of ${describeVal(v)}`);
  }],
]);

/** True when `torch.<name>` / `ops.aten.<name>` has a mapping. */
export function hasAten(name: string): boolean {
  return name === 'format' || DEFS.has(name);
}

/** Calls `torch.<name>` with interpreter values. Throws TorchOpError (unknown op, bad arguments). */
export function callAten(c: AtenContext, name: string, args: PyVal[], kwargs: Map<string, PyVal>): PyVal {
  if (name === 'format') {
    const [fmt, ...rest] = args;
    if (typeof fmt !== 'string') throw new TorchOpError('format() needs a format string');
    return formatString(fmt, rest);
  }
  const d = DEFS.get(name);
  if (!d) {
    const anyTensor = [...args, ...kwargs.values()].some((v) => isTensor(v) || (Array.isArray(v) && v.some(isTensor)));
    throw new TorchOpError(`torch.${name} has no mapping to ONNX-semantics IR${anyTensor ? '' : ' (and cannot be evaluated here)'}`, 'unsupported');
  }
  if (args.length > d.params.length) throw new TorchOpError(`torch.${name} takes at most ${d.params.length} arguments, ${args.length} given`);
  const bound: Args = {};
  d.params.forEach((p, i) => {
    if (i < args.length) bound[p.name] = args[i]!;
  });
  for (const [k, v] of kwargs) {
    if (!d.params.some((p) => p.name === k)) throw new TorchOpError(`torch.${name} has no argument '${k}'`);
    if (k in bound) throw new TorchOpError(`torch.${name} got argument '${k}' twice`);
    bound[k] = v;
  }
  for (const p of d.params) {
    if (p.name in bound) continue;
    if (p.default === undefined) throw new TorchOpError(`torch.${name} needs argument '${p.name}'`);
    bound[p.name] = Array.isArray(p.default) ? [...p.default] : p.default;
  }
  return d.run(c, bound);
}

/** Calls `ops.prim.<name>`. */
export function callPrim(c: AtenContext, name: string, args: PyVal[]): PyVal {
  const p = PRIMS.get(name);
  if (!p) throw new TorchOpError(`ops.prim.${name} has no mapping to ONNX-semantics IR`, 'unsupported');
  return p(c, args);
}
