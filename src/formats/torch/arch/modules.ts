/**
 * The torch.nn module types an `--arch` file can declare: their constructor arguments (names,
 * order and defaults as in PyTorch), the parameters and buffers they own in a state_dict (with the
 * shapes the arguments imply), and how a call lowers to IR nodes.
 */
import type { Value } from '../../../ir/graph.js';
import type { DType } from '../../../ir/tensor.js';
import { TorchOpError, TorchOps, nTuple } from '../torchscript/torch-ops.js';
import { showArg, type ArgValue } from './syntax.js';

export type ArgKind =
  | 'int' | 'float' | 'bool' | 'string'
  /** An int or a tuple of ints. */
  | 'ints'
  /** An int, a tuple of ints, or 'same' / 'valid'. */
  | 'padding'
  /** An int, or a tuple of ints and Nones (adaptive pooling output size). */
  | 'sizes'
  | 'floatOrNone' | 'intOrNone'
  /** Accepted and ignored (device, dtype, inplace). */
  | 'ignored';

export interface ArgSpec {
  name: string;
  kind: ArgKind;
  /** Undefined: required. */
  default?: ArgValue;
}

/** A parameter or buffer a module owns in the state_dict. */
export interface ParamSpec {
  name: string;
  shape: number[];
  /** Absent from older checkpoints; not an error when missing. */
  optional?: boolean;
  /** Not a float weight (num_batches_tracked is int64). */
  dtype?: DType;
  /** Not read by inference. */
  unused?: boolean;
}

export type Args = Record<string, ArgValue>;

export interface LowerContext {
  ops: TorchOps;
  /** The node name (the module path). */
  name: string;
  /** The module's parameters as graph values, by name (null when absent). */
  param(name: string): Value | null;
}

export interface ModuleDef {
  type: string;
  signature: ArgSpec[];
  /** Checks argument combinations PyTorch refuses (message) or undefined. */
  check?(a: Args): string | undefined;
  params(a: Args): ParamSpec[];
  lower(ctx: LowerContext, x: Value, a: Args): Value;
}

const int = (a: Args, k: string) => a[k] as number;
const bool = (a: Args, k: string) => a[k] as boolean;
const ints = (a: Args, k: string) => a[k] as number | number[];

function linearDef(): ModuleDef {
  return {
    type: 'Linear',
    signature: [
      { name: 'in_features', kind: 'int' },
      { name: 'out_features', kind: 'int' },
      { name: 'bias', kind: 'bool', default: true },
      { name: 'device', kind: 'ignored', default: null },
      { name: 'dtype', kind: 'ignored', default: null },
    ],
    params: (a) => [
      { name: 'weight', shape: [int(a, 'out_features'), int(a, 'in_features')] },
      ...(bool(a, 'bias') ? [{ name: 'bias', shape: [int(a, 'out_features')] }] : []),
    ],
    lower: (c, x) => c.ops.linear(x, c.param('weight')!, c.param('bias'), c.name),
  };
}

function convDef(n: number): ModuleDef {
  return {
    type: `Conv${n}d`,
    signature: [
      { name: 'in_channels', kind: 'int' },
      { name: 'out_channels', kind: 'int' },
      { name: 'kernel_size', kind: 'ints' },
      { name: 'stride', kind: 'ints', default: 1 },
      { name: 'padding', kind: 'padding', default: 0 },
      { name: 'dilation', kind: 'ints', default: 1 },
      { name: 'groups', kind: 'int', default: 1 },
      { name: 'bias', kind: 'bool', default: true },
      { name: 'padding_mode', kind: 'string', default: 'zeros' },
      { name: 'device', kind: 'ignored', default: null },
      { name: 'dtype', kind: 'ignored', default: null },
    ],
    check: (a) => {
      const g = int(a, 'groups');
      if (g < 1 || int(a, 'in_channels') % g || int(a, 'out_channels') % g) return `in_channels and out_channels must be divisible by groups (${g})`;
      if (!['zeros', 'reflect', 'replicate', 'circular'].includes(a['padding_mode'] as string)) return `padding_mode must be 'zeros', 'reflect', 'replicate' or 'circular'`;
      return undefined;
    },
    params: (a) => [
      { name: 'weight', shape: [int(a, 'out_channels'), int(a, 'in_channels') / int(a, 'groups'), ...nTuple(ints(a, 'kernel_size'), n, 1, 'kernel_size')] },
      ...(bool(a, 'bias') ? [{ name: 'bias', shape: [int(a, 'out_channels')] }] : []),
    ],
    lower: (c, x, a) =>
      c.ops.conv(x, c.param('weight')!, c.param('bias'), {
        stride: nTuple(ints(a, 'stride'), n, 1, 'stride'),
        padding: typeof a['padding'] === 'string' ? (a['padding'] as 'same' | 'valid') : nTuple(ints(a, 'padding'), n, 0, 'padding'),
        dilation: nTuple(ints(a, 'dilation'), n, 1, 'dilation'),
        groups: int(a, 'groups'),
        paddingMode: a['padding_mode'] as string,
      }, c.name),
  };
}

function convTransposeDef(n: number): ModuleDef {
  return {
    type: `ConvTranspose${n}d`,
    signature: [
      { name: 'in_channels', kind: 'int' },
      { name: 'out_channels', kind: 'int' },
      { name: 'kernel_size', kind: 'ints' },
      { name: 'stride', kind: 'ints', default: 1 },
      { name: 'padding', kind: 'ints', default: 0 },
      { name: 'output_padding', kind: 'ints', default: 0 },
      { name: 'groups', kind: 'int', default: 1 },
      { name: 'bias', kind: 'bool', default: true },
      { name: 'dilation', kind: 'ints', default: 1 },
      { name: 'padding_mode', kind: 'string', default: 'zeros' },
      { name: 'device', kind: 'ignored', default: null },
      { name: 'dtype', kind: 'ignored', default: null },
    ],
    check: (a) => {
      const g = int(a, 'groups');
      if (g < 1 || int(a, 'in_channels') % g || int(a, 'out_channels') % g) return `in_channels and out_channels must be divisible by groups (${g})`;
      if (a['padding_mode'] !== 'zeros') return `only padding_mode='zeros' is supported for ConvTranspose (as in PyTorch)`;
      return undefined;
    },
    params: (a) => [
      { name: 'weight', shape: [int(a, 'in_channels'), int(a, 'out_channels') / int(a, 'groups'), ...nTuple(ints(a, 'kernel_size'), n, 1, 'kernel_size')] },
      ...(bool(a, 'bias') ? [{ name: 'bias', shape: [int(a, 'out_channels')] }] : []),
    ],
    lower: (c, x, a) =>
      c.ops.convTranspose(x, c.param('weight')!, c.param('bias'), {
        stride: ints(a, 'stride'),
        padding: ints(a, 'padding'),
        outputPadding: ints(a, 'output_padding'),
        dilation: ints(a, 'dilation'),
        groups: int(a, 'groups'),
      }, c.name),
  };
}

function batchNormDef(n: number): ModuleDef {
  const ranks = n === 1 ? [2, 3] : [n + 2];
  return {
    type: `BatchNorm${n}d`,
    signature: [
      { name: 'num_features', kind: 'int' },
      { name: 'eps', kind: 'float', default: 1e-5 },
      { name: 'momentum', kind: 'floatOrNone', default: 0.1 },
      { name: 'affine', kind: 'bool', default: true },
      { name: 'track_running_stats', kind: 'bool', default: true },
      { name: 'device', kind: 'ignored', default: null },
      { name: 'dtype', kind: 'ignored', default: null },
    ],
    check: (a) =>
      bool(a, 'track_running_stats') ? undefined : 'track_running_stats=False normalises with batch statistics even in eval mode; only running statistics are supported',
    params: (a) => {
      const c = int(a, 'num_features');
      return [
        ...(bool(a, 'affine') ? [{ name: 'weight', shape: [c] }, { name: 'bias', shape: [c] }] : []),
        { name: 'running_mean', shape: [c] },
        { name: 'running_var', shape: [c] },
        { name: 'num_batches_tracked', shape: [], optional: true, dtype: 'int64' as DType, unused: true },
      ];
    },
    lower: (c, x, a) => {
      const r = x.shape?.length;
      if (r !== undefined && !ranks.includes(r)) throw new TorchOpError(`expected ${ranks.map((k) => `${k}D`).join(' or ')} input (got ${r}D input)`);
      return c.ops.batchNorm(x, c.param('weight'), c.param('bias'), c.param('running_mean')!, c.param('running_var')!, a['eps'] as number, c.name);
    },
  };
}

function layerNormDef(): ModuleDef {
  const shape = (a: Args) => (typeof a['normalized_shape'] === 'number' ? [a['normalized_shape']] : (a['normalized_shape'] as number[]));
  return {
    type: 'LayerNorm',
    signature: [
      { name: 'normalized_shape', kind: 'ints' },
      { name: 'eps', kind: 'float', default: 1e-5 },
      { name: 'elementwise_affine', kind: 'bool', default: true },
      { name: 'bias', kind: 'bool', default: true },
      { name: 'device', kind: 'ignored', default: null },
      { name: 'dtype', kind: 'ignored', default: null },
    ],
    params: (a) =>
      bool(a, 'elementwise_affine')
        ? [{ name: 'weight', shape: shape(a) }, ...(bool(a, 'bias') ? [{ name: 'bias', shape: shape(a) }] : [])]
        : [],
    lower: (c, x, a) => c.ops.layerNorm(x, shape(a), c.param('weight'), c.param('bias'), a['eps'] as number, c.name),
  };
}

function embeddingDef(): ModuleDef {
  return {
    type: 'Embedding',
    signature: [
      { name: 'num_embeddings', kind: 'int' },
      { name: 'embedding_dim', kind: 'int' },
      { name: 'padding_idx', kind: 'intOrNone', default: null },
      { name: 'max_norm', kind: 'floatOrNone', default: null },
      { name: 'norm_type', kind: 'float', default: 2 },
      { name: 'scale_grad_by_freq', kind: 'bool', default: false },
      { name: 'sparse', kind: 'bool', default: false },
      { name: 'device', kind: 'ignored', default: null },
      { name: 'dtype', kind: 'ignored', default: null },
    ],
    check: (a) => (a['max_norm'] !== null ? 'max_norm renormalises the weights during the forward pass; it is not supported' : undefined),
    params: (a) => [{ name: 'weight', shape: [int(a, 'num_embeddings'), int(a, 'embedding_dim')] }],
    lower: (c, x) => c.ops.embedding(c.param('weight')!, x, c.name),
  };
}

function simple(type: string, signature: ArgSpec[], lower: (c: LowerContext, x: Value, a: Args) => Value): ModuleDef {
  return { type, signature, params: () => [], lower };
}

const inplace: ArgSpec = { name: 'inplace', kind: 'ignored', default: false };

/** PyTorch's implicit softmax dim (deprecated `dim=None`). */
function softmaxDim(x: Value, dim: ArgValue): number {
  if (typeof dim === 'number') return dim;
  const r = x.shape?.length;
  if (r === undefined) throw new TorchOpError('Softmax without dim needs the input rank, which is unknown here', 'unsupported', 'give dim explicitly');
  return r === 0 || r === 1 || r === 3 ? 0 : 1;
}

function poolDefs(n: number): ModuleDef[] {
  const maxPool: ModuleDef = simple(`MaxPool${n}d`, [
    { name: 'kernel_size', kind: 'ints' },
    { name: 'stride', kind: 'ints', default: null },
    { name: 'padding', kind: 'ints', default: 0 },
    { name: 'dilation', kind: 'ints', default: 1 },
    { name: 'return_indices', kind: 'bool', default: false },
    { name: 'ceil_mode', kind: 'bool', default: false },
  ], (c, x, a) => c.ops.maxPool(x, {
    kernel: nTuple(ints(a, 'kernel_size'), n, 1, 'kernel_size'),
    stride: a['stride'] === null ? undefined : nTuple(ints(a, 'stride'), n, 1, 'stride'),
    padding: nTuple(ints(a, 'padding'), n, 0, 'padding'),
    dilation: nTuple(ints(a, 'dilation'), n, 1, 'dilation'),
    ceilMode: bool(a, 'ceil_mode'),
  }, c.name));
  maxPool.check = (a) => (a['return_indices'] ? 'return_indices=True returns a tuple; only the pooled tensor is supported' : undefined);
  const avgSig: ArgSpec[] = [
    { name: 'kernel_size', kind: 'ints' },
    { name: 'stride', kind: 'ints', default: null },
    { name: 'padding', kind: 'ints', default: 0 },
    { name: 'ceil_mode', kind: 'bool', default: false },
    { name: 'count_include_pad', kind: 'bool', default: true },
  ];
  if (n > 1) avgSig.push({ name: 'divisor_override', kind: 'intOrNone', default: null });
  const avgPool = simple(`AvgPool${n}d`, avgSig, (c, x, a) => c.ops.avgPool(x, {
    kernel: nTuple(ints(a, 'kernel_size'), n, 1, 'kernel_size'),
    stride: a['stride'] === null ? undefined : nTuple(ints(a, 'stride'), n, 1, 'stride'),
    padding: nTuple(ints(a, 'padding'), n, 0, 'padding'),
    ceilMode: bool(a, 'ceil_mode'),
    countIncludePad: bool(a, 'count_include_pad'),
    divisorOverride: (a['divisor_override'] as number | null | undefined) ?? null,
  }, c.name));
  const adaptive = simple(`AdaptiveAvgPool${n}d`, [{ name: 'output_size', kind: 'sizes' }], (c, x, a) => {
    const o = a['output_size'];
    const sizes = Array.isArray(o) ? (o.length === 1 ? Array(n).fill(o[0]) : o) : Array(n).fill(o);
    if (sizes.length !== n) throw new TorchOpError(`output_size has ${sizes.length} values, expected ${n}`);
    return c.ops.adaptiveAvgPool(x, sizes as (number | null)[], c.name);
  });
  return [maxPool, avgPool, adaptive];
}

const DEFS: ModuleDef[] = [
  linearDef(),
  convDef(1), convDef(2), convDef(3),
  convTransposeDef(1), convTransposeDef(2),
  batchNormDef(1), batchNormDef(2),
  layerNormDef(),
  embeddingDef(),
  simple('ReLU', [inplace], (c, x) => c.ops.unary('Relu', x, c.name)),
  simple('ReLU6', [inplace], (c, x) => c.ops.clip(x, 0, 6, c.name)),
  simple('Hardtanh', [{ name: 'min_val', kind: 'float', default: -1 }, { name: 'max_val', kind: 'float', default: 1 }, inplace],
    (c, x, a) => c.ops.clip(x, a['min_val'] as number, a['max_val'] as number, c.name)),
  simple('LeakyReLU', [{ name: 'negative_slope', kind: 'float', default: 0.01 }, inplace], (c, x, a) => c.ops.leakyRelu(x, a['negative_slope'] as number, c.name)),
  simple('ELU', [{ name: 'alpha', kind: 'float', default: 1 }, inplace], (c, x, a) => c.ops.elu(x, a['alpha'] as number, c.name)),
  simple('GELU', [{ name: 'approximate', kind: 'string', default: 'none' }], (c, x, a) => c.ops.gelu(x, a['approximate'] as string, c.name)),
  simple('Sigmoid', [], (c, x) => c.ops.unary('Sigmoid', x, c.name)),
  simple('Tanh', [], (c, x) => c.ops.unary('Tanh', x, c.name)),
  simple('Softmax', [{ name: 'dim', kind: 'intOrNone', default: null }], (c, x, a) => c.ops.softmax(x, softmaxDim(x, a['dim']!), c.name)),
  simple('LogSoftmax', [{ name: 'dim', kind: 'intOrNone', default: null }], (c, x, a) => c.ops.softmax(x, softmaxDim(x, a['dim']!), c.name, true)),
  ...poolDefs(1), ...poolDefs(2),
  simple('Flatten', [{ name: 'start_dim', kind: 'int', default: 1 }, { name: 'end_dim', kind: 'int', default: -1 }],
    (c, x, a) => c.ops.flatten(x, int(a, 'start_dim'), int(a, 'end_dim'), c.name)),
  ...['Dropout', 'Dropout1d', 'Dropout2d', 'AlphaDropout'].map((t) =>
    simple(t, [{ name: 'p', kind: 'float', default: 0.5 }, inplace], (_c, x) => x)),
  simple('Identity', [], (_c, x) => x),
];

export const MODULE_DEFS = new Map(DEFS.map((d) => [d.type, d]));

/** Module types that only hold children. */
export const CONTAINER_TYPES = new Set(['Sequential', 'ModuleList', 'ModuleDict']);

function typeName(v: ArgValue): string {
  if (v === null) return 'None';
  if (Array.isArray(v)) return 'a tuple';
  if (typeof v === 'object') return `the name ${v.ref}`;
  return typeof v === 'number' ? (Number.isInteger(v) ? 'an int' : 'a float') : `a ${typeof v}`;
}

/** Checks one argument against its kind; returns the problem or undefined. */
function checkArg(spec: ArgSpec, v: ArgValue): string | undefined {
  const isInt = (x: ArgValue) => typeof x === 'number' && Number.isInteger(x);
  const isInts = (x: ArgValue) => isInt(x) || (Array.isArray(x) && x.length > 0 && x.every(isInt));
  let ok: boolean;
  let want: string;
  switch (spec.kind) {
    case 'int': ok = isInt(v); want = 'an int'; break;
    case 'float': ok = typeof v === 'number'; want = 'a number'; break;
    case 'bool': ok = typeof v === 'boolean'; want = 'True or False'; break;
    case 'string': ok = typeof v === 'string'; want = 'a string'; break;
    case 'ints': ok = isInts(v) || (v === null && spec.default === null); want = 'an int or a tuple of ints'; break;
    case 'padding': ok = isInts(v) || v === 'same' || v === 'valid'; want = "an int, a tuple of ints, 'same' or 'valid'"; break;
    case 'sizes': ok = isInt(v) || (Array.isArray(v) && v.length > 0 && v.every((x) => isInt(x) || x === null)); want = 'an int or a tuple of ints and Nones'; break;
    case 'floatOrNone': ok = v === null || typeof v === 'number'; want = 'a number or None'; break;
    case 'intOrNone': ok = v === null || isInt(v); want = 'an int or None'; break;
    case 'ignored': return undefined;
  }
  return ok ? undefined : `${spec.name} must be ${want}, found ${typeName(v)} ${showArg(v)}`;
}

/** Binds positional and keyword arguments to a module's signature, with defaults; throws a message. */
export function bindModuleArgs(def: ModuleDef, args: ArgValue[], kwargs: Map<string, ArgValue>): Args {
  const out: Args = {};
  if (args.length > def.signature.length && def.type !== 'Identity') {
    throw new Error(`${def.type} takes at most ${def.signature.length} positional arguments, ${args.length} given`);
  }
  if (def.type !== 'Identity') args.forEach((v, i) => (out[def.signature[i]!.name] = v));
  for (const [k, v] of kwargs) {
    if (def.type === 'Identity') continue;
    if (!def.signature.some((s) => s.name === k)) {
      throw new Error(`${def.type} has no argument '${k}' (its arguments: ${def.signature.filter((s) => s.kind !== 'ignored').map((s) => s.name).join(', ') || 'none'})`);
    }
    if (k in out) throw new Error(`${def.type} got argument '${k}' twice`);
    out[k] = v;
  }
  for (const s of def.signature) {
    if (!(s.name in out)) {
      if (s.default === undefined) throw new Error(`${def.type} needs argument '${s.name}'`);
      out[s.name] = s.default;
    }
    const problem = checkArg(s, out[s.name]!);
    if (problem) throw new Error(`${def.type}: ${problem}`);
  }
  const problem = def.check?.(out);
  if (problem) throw new Error(`${def.type}: ${problem}`);
  return out;
}

/** `Linear(in_features=784, out_features=10)`: the module with its non-default arguments, for messages. */
export function describeModule(def: ModuleDef, a: Args): string {
  const parts = def.signature
    .filter((s) => s.kind !== 'ignored' && (s.default === undefined || showArg(a[s.name]!) !== showArg(s.default)))
    .map((s) => `${s.name}=${showArg(a[s.name]!)}`);
  return `${def.type}(${parts.join(', ')})`;
}
