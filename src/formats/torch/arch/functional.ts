/**
 * The functional steps of an `--arch` forward pass (`sigmoid`, `softmax(dim=1)`, `add(a, b)`,
 * `cat([a, b], dim=1)`, `reshape(-1, 490)`, ...), with torch.* argument names and defaults.
 */
import type { Value } from '../../../ir/graph.js';
import { nTuple, type TorchOps } from '../torchscript/torch-ops.js';
import { showArg, type ArgValue } from './syntax.js';

export type FnKind =
  | 'tensor' | 'tensorOrNumber' | 'tensors'
  | 'int' | 'intOrNone' | 'ints' | 'intsOrNone' | 'float' | 'bool' | 'string' | 'ignored';

export interface FnParam {
  name: string;
  kind: FnKind;
  default?: ArgValue;
  /** Takes the remaining positional arguments (`reshape(x, 2, -1)`), or one list. */
  varargs?: boolean;
}

export type FnArgs = Record<string, Value | Value[] | number | number[] | string | boolean | null>;

export interface FnDef {
  name: string;
  params: FnParam[];
  lower(ops: TorchOps, a: FnArgs, name: string): Value;
}

const T = (name = 'input'): FnParam => ({ name, kind: 'tensor' });
const ignored = (name: string, dflt: ArgValue = null): FnParam => ({ name, kind: 'ignored', default: dflt });
const v = (a: FnArgs, k: string) => a[k] as Value;
const n = (a: FnArgs, k: string) => a[k] as number;
/** A 2-D window argument: an int or a one-element list repeats. */
const two = (a: FnArgs, k: string, dflt: number) => nTuple(a[k] as number | number[], 2, dflt, k);

function unaryFn(name: string, op: 'Relu' | 'Sigmoid' | 'Tanh'): FnDef {
  return { name, params: [T(), ignored('inplace', false)], lower: (o, a, nm) => o.unary(op, v(a, 'input'), nm) };
}

function binaryFn(name: string, op: 'Add' | 'Sub' | 'Mul' | 'Div', withAlpha: boolean): FnDef {
  const params: FnParam[] = [T(), { name: 'other', kind: 'tensorOrNumber' }];
  if (withAlpha) params.push({ name: 'alpha', kind: 'float', default: 1 });
  return {
    name,
    params,
    lower: (o, a, nm) => {
      let other = a['other'] as Value | number;
      const alpha = (a['alpha'] as number | undefined) ?? 1;
      if (alpha !== 1) other = typeof other === 'number' ? other * alpha : o.binary('Mul', other, alpha, `${nm}/alpha`);
      return o.binary(op, v(a, 'input'), other, nm);
    },
  };
}

const identity = (name: string, extra: FnParam[] = []): FnDef => ({ name, params: [T(), ...extra], lower: (_o, a) => v(a, 'input') });

const catFn = (name: string): FnDef => ({
  name,
  params: [{ name: 'tensors', kind: 'tensors' }, { name: 'dim', kind: 'int', default: 0 }],
  lower: (o, a, nm) => o.concat(a['tensors'] as Value[], n(a, 'dim'), nm),
});

const reshapeFn = (name: string): FnDef => ({
  name,
  params: [T(), { name: 'shape', kind: 'ints', varargs: true }],
  lower: (o, a, nm) => o.reshape(v(a, 'input'), a['shape'] as number[], nm),
});

const FNS: FnDef[] = [
  unaryFn('relu', 'Relu'),
  unaryFn('sigmoid', 'Sigmoid'),
  unaryFn('tanh', 'Tanh'),
  { name: 'relu6', params: [T(), ignored('inplace', false)], lower: (o, a, nm) => o.clip(v(a, 'input'), 0, 6, nm) },
  {
    name: 'hardtanh',
    params: [T(), { name: 'min_val', kind: 'float', default: -1 }, { name: 'max_val', kind: 'float', default: 1 }, ignored('inplace', false)],
    lower: (o, a, nm) => o.clip(v(a, 'input'), n(a, 'min_val'), n(a, 'max_val'), nm),
  },
  {
    name: 'leaky_relu',
    params: [T(), { name: 'negative_slope', kind: 'float', default: 0.01 }, ignored('inplace', false)],
    lower: (o, a, nm) => o.leakyRelu(v(a, 'input'), n(a, 'negative_slope'), nm),
  },
  { name: 'elu', params: [T(), { name: 'alpha', kind: 'float', default: 1 }, ignored('inplace', false)], lower: (o, a, nm) => o.elu(v(a, 'input'), n(a, 'alpha'), nm) },
  { name: 'gelu', params: [T(), { name: 'approximate', kind: 'string', default: 'none' }], lower: (o, a, nm) => o.gelu(v(a, 'input'), a['approximate'] as string, nm) },
  { name: 'softmax', params: [T(), { name: 'dim', kind: 'int' }, ignored('dtype')], lower: (o, a, nm) => o.softmax(v(a, 'input'), n(a, 'dim'), nm) },
  { name: 'log_softmax', params: [T(), { name: 'dim', kind: 'int' }, ignored('dtype')], lower: (o, a, nm) => o.softmax(v(a, 'input'), n(a, 'dim'), nm, true) },
  {
    name: 'flatten',
    params: [T(), { name: 'start_dim', kind: 'int', default: 0 }, { name: 'end_dim', kind: 'int', default: -1 }],
    lower: (o, a, nm) => o.flatten(v(a, 'input'), n(a, 'start_dim'), n(a, 'end_dim'), nm),
  },
  reshapeFn('reshape'),
  reshapeFn('view'),
  binaryFn('add', 'Add', true),
  binaryFn('sub', 'Sub', true),
  binaryFn('mul', 'Mul', false),
  binaryFn('div', 'Div', false),
  { name: 'matmul', params: [T(), T('other')], lower: (o, a, nm) => o.matmul(v(a, 'input'), v(a, 'other'), nm) },
  catFn('cat'),
  catFn('concat'),
  {
    name: 'transpose',
    params: [T(), { name: 'dim0', kind: 'int' }, { name: 'dim1', kind: 'int' }],
    lower: (o, a, nm) => o.transpose(v(a, 'input'), n(a, 'dim0'), n(a, 'dim1'), nm),
  },
  { name: 'permute', params: [T(), { name: 'dims', kind: 'ints', varargs: true }], lower: (o, a, nm) => o.permute(v(a, 'input'), a['dims'] as number[], nm) },
  {
    name: 'mean',
    params: [T(), { name: 'dim', kind: 'intsOrNone', default: null }, { name: 'keepdim', kind: 'bool', default: false }],
    lower: (o, a, nm) => {
      const d = a['dim'] as number | number[] | null;
      return o.mean(v(a, 'input'), d === null ? null : typeof d === 'number' ? [d] : d, a['keepdim'] as boolean, nm);
    },
  },
  { name: 'unsqueeze', params: [T(), { name: 'dim', kind: 'int' }], lower: (o, a, nm) => o.unsqueeze(v(a, 'input'), n(a, 'dim'), nm) },
  { name: 'squeeze', params: [T(), { name: 'dim', kind: 'intOrNone', default: null }], lower: (o, a, nm) => o.squeeze(v(a, 'input'), (a['dim'] as number | null) ?? undefined, nm) },
  {
    name: 'max_pool2d',
    params: [T(), { name: 'kernel_size', kind: 'ints' }, { name: 'stride', kind: 'intsOrNone', default: null }, { name: 'padding', kind: 'ints', default: 0 },
      { name: 'dilation', kind: 'ints', default: 1 }, { name: 'ceil_mode', kind: 'bool', default: false }],
    lower: (o, a, nm) => o.maxPool(v(a, 'input'), {
      kernel: two(a, 'kernel_size', 1), stride: a['stride'] === null ? undefined : two(a, 'stride', 1),
      padding: two(a, 'padding', 0), dilation: two(a, 'dilation', 1), ceilMode: a['ceil_mode'] as boolean,
    }, nm),
  },
  {
    name: 'avg_pool2d',
    params: [T(), { name: 'kernel_size', kind: 'ints' }, { name: 'stride', kind: 'intsOrNone', default: null }, { name: 'padding', kind: 'ints', default: 0 },
      { name: 'ceil_mode', kind: 'bool', default: false }, { name: 'count_include_pad', kind: 'bool', default: true }],
    lower: (o, a, nm) => o.avgPool(v(a, 'input'), {
      kernel: two(a, 'kernel_size', 1), stride: a['stride'] === null ? undefined : two(a, 'stride', 1),
      padding: two(a, 'padding', 0), ceilMode: a['ceil_mode'] as boolean, countIncludePad: a['count_include_pad'] as boolean,
    }, nm),
  },
  {
    name: 'adaptive_avg_pool2d',
    params: [T(), { name: 'output_size', kind: 'ints' }],
    lower: (o, a, nm) => {
      const s = a['output_size'] as number[];
      return o.adaptiveAvgPool(v(a, 'input'), s.length === 1 ? [s[0]!, s[0]!] : s, nm);
    },
  },
  identity('dropout', [ignored('p', 0.5), ignored('training', false), ignored('inplace', false)]),
  identity('contiguous'),
  identity('identity'),
];

export const FUNCTIONS = new Map(FNS.map((f) => [f.name, f]));

/**
 * Binds a step's arguments to a function's parameters. `resolve` turns a value name into a graph
 * value (throwing for unknown names); `prev` is the previous step's output, put first when the
 * function's first parameter is a tensor and the first positional argument is not a value name.
 */
export function bindFunction(
  def: FnDef,
  args: ArgValue[],
  kwargs: Map<string, ArgValue>,
  resolve: (name: string) => Value,
  prev: (() => Value) | undefined,
): FnArgs {
  const first = def.params[0]!;
  const a0 = args[0];
  const pos: (ArgValue | Value)[] = [...args];
  if ((first.kind === 'tensor' || first.kind === 'tensorOrNumber') && !kwargs.has(first.name) && !(a0 && typeof a0 === 'object' && !Array.isArray(a0))) {
    if (!prev) throw new Error(`${def.name} needs its input: name it (${def.name}(x, ...)); there is no previous step`);
    pos.unshift(prev());
  }
  const out: FnArgs = {};
  let i = 0;
  for (const p of def.params) {
    if (i >= pos.length) break;
    if (p.varargs) {
      const rest = pos.slice(i);
      out[p.name] = convert(def, p, rest.length === 1 && Array.isArray(rest[0]) ? (rest[0] as ArgValue) : (rest as ArgValue[]), resolve);
      i = pos.length;
      break;
    }
    const a = pos[i++]!;
    out[p.name] = isValue(a) ? a : convert(def, p, a, resolve);
  }
  if (i < pos.length) throw new Error(`${def.name} takes at most ${def.params.length} positional arguments, ${pos.length} given`);
  for (const [k, a] of kwargs) {
    const p = def.params.find((q) => q.name === k);
    if (!p) throw new Error(`${def.name} has no argument '${k}' (its arguments: ${def.params.filter((q) => q.kind !== 'ignored').map((q) => q.name).join(', ')})`);
    if (k in out) throw new Error(`${def.name} got argument '${k}' twice`);
    out[k] = convert(def, p, a, resolve);
  }
  for (const p of def.params) {
    if (k(out, p.name)) continue;
    if (p.default === undefined) throw new Error(`${def.name} needs argument '${p.name}'`);
    out[p.name] = convert(def, p, p.default, resolve);
  }
  return out;
}

function k(o: FnArgs, name: string): boolean {
  return Object.prototype.hasOwnProperty.call(o, name);
}

function isValue(a: unknown): a is Value {
  return typeof a === 'object' && a !== null && 'consumers' in a;
}

function convert(def: FnDef, p: FnParam, a: ArgValue, resolve: (name: string) => Value): FnArgs[string] {
  const bad = (want: string) => new Error(`${def.name}: ${p.name} must be ${want}, found ${showArg(a)}`);
  const isInt = (x: ArgValue) => typeof x === 'number' && Number.isInteger(x);
  const isRef = (x: ArgValue): x is { ref: string } => typeof x === 'object' && x !== null && !Array.isArray(x);
  switch (p.kind) {
    case 'tensor':
      if (!isRef(a)) throw bad('a value name');
      return resolve(a.ref);
    case 'tensorOrNumber':
      if (typeof a === 'number') return a;
      if (!isRef(a)) throw bad('a value name or a number');
      return resolve(a.ref);
    case 'tensors':
      if (!Array.isArray(a) || !a.length || !a.every(isRef)) throw bad('a list of value names, like [a, b]');
      return a.map((r) => resolve((r as { ref: string }).ref));
    case 'int':
      if (!isInt(a)) throw bad('an int');
      return a as number;
    case 'intOrNone':
      if (a !== null && !isInt(a)) throw bad('an int or None');
      return a as number | null;
    case 'ints':
    case 'intsOrNone':
      if (a === null && p.kind === 'intsOrNone') return null;
      if (isInt(a)) return p.kind === 'intsOrNone' ? (a as number) : [a as number];
      if (!Array.isArray(a) || !a.every(isInt)) throw bad('an int or a list of ints');
      return a as number[];
    case 'float':
      if (typeof a !== 'number') throw bad('a number');
      return a;
    case 'bool':
      if (typeof a !== 'boolean') throw bad('True or False');
      return a;
    case 'string':
      if (typeof a !== 'string') throw bad('a string');
      return a;
    case 'ignored':
      return null;
  }
}

