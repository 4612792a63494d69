/**
 * PyTorch op semantics as IR nodes in ONNX semantics: `linear`, `conv2d`, `batch_norm`, pooling
 * with PyTorch's padding and ceil_mode rules, `flatten`, `view`, activations, arithmetic.
 * Shared by the `--arch` builder (modules lower to these) and the TorchScript interpreter (aten
 * calls lower to these). Every node gets its output dtype/shape from the op schemas at once, so
 * later ops can check their inputs (a Linear's feature count, a Conv's channels) and the graph
 * shows the shape of every tensor between layers.
 *
 * Errors are `TorchOpError`s: the caller adds where it happened (module path, code location).
 */
import { Graph, Value, attr, type Attrs } from '../../../ir/graph.js';
import { Tensor, formatShape, isFloatDType, type DType, type Dim } from '../../../ir/tensor.js';
import { inferNode } from '../../../ir/infer.js';
import { ONNX_DTYPE_CODES } from '../../../ir/ops/helpers.js';

/** A problem with one op's inputs or arguments (wrapped by the caller into an MconvError). */
export class TorchOpError extends Error {
  constructor(message: string, readonly kind: 'mismatch' | 'unsupported' = 'mismatch', readonly hint?: string) {
    super(message);
    this.name = 'TorchOpError';
  }
}

/** An int argument that may be known only at run time (e.g. `x.size(0)` of a symbolic batch). */
export type IntArg = number | Value;

export interface ConvOptions {
  stride?: number | number[];
  /** Ints, or PyTorch's string modes 'same' / 'valid'. */
  padding?: number | number[] | 'same' | 'valid';
  dilation?: number | number[];
  groups?: number;
  /** 'zeros' (default), 'reflect', 'replicate'; 'circular' is refused. */
  paddingMode?: string;
}

export interface ConvTransposeOptions {
  stride?: number | number[];
  padding?: number | number[];
  outputPadding?: number | number[];
  dilation?: number | number[];
  groups?: number;
}

export interface MaxPoolOptions {
  kernel: number | number[];
  /** Default (undefined or []): the kernel size, as in PyTorch. */
  stride?: number | number[];
  padding?: number | number[];
  dilation?: number | number[];
  ceilMode?: boolean;
}

export interface AvgPoolOptions {
  kernel: number | number[];
  stride?: number | number[];
  padding?: number | number[];
  ceilMode?: boolean;
  countIncludePad?: boolean;
  divisorOverride?: number | null;
}

/** `n` values from an int or a list (a one-element list repeats, as PyTorch's `_ntuple` does). */
export function nTuple(v: number | number[] | undefined, n: number, dflt: number, what: string): number[] {
  if (v === undefined) return Array(n).fill(dflt);
  if (typeof v === 'number') return Array(n).fill(v);
  if (v.length === 1) return Array(n).fill(v[0]);
  if (v.length !== n) throw new TorchOpError(`${what} has ${v.length} values, expected ${n}`);
  return v.slice();
}

function dimText(d: Dim | undefined): string {
  return d === undefined ? '?' : String(d);
}

export class TorchOps {
  /** Initializers created for tensors, by identity: a tensor used twice becomes one initializer. */
  private readonly weightValues = new Map<Tensor, Value>();
  /** Run-time ints that are a known symbolic dim (`x.size(0)` of a [batch, ...] tensor). */
  private readonly symbolicDims = new Map<Value, string>();

  constructor(readonly graph: Graph) {}

  // ---------------------------------------------------------------------------------------------
  // Building blocks

  /** Adds a node with one output, infers the output's dtype and shape, returns the output. */
  node(op: string, inputs: (Value | null)[], attrs: Attrs, name: string): Value {
    const n = this.graph.addNode(op, inputs, 1, attrs, name);
    try {
      const [t] = inferNode(n);
      const out = n.outputs[0]!;
      if (t?.dtype) out.dtype = t.dtype;
      if (t?.shape) out.shape = t.shape.slice();
    } catch (e) {
      this.graph.removeNode(n);
      const shapes = inputs.map((v) => (v ? `${v.dtype ?? '?'}${formatShape(v.shape)}` : 'none')).join(', ');
      throw new TorchOpError(`${op} cannot take inputs ${shapes}: ${(e as Error).message}`);
    }
    return n.outputs[0]!;
  }

  /** The initializer holding `t` (created on first use, named `name`). */
  weight(name: string, t: Tensor): Value {
    let v = this.weightValues.get(t);
    if (!v) {
      const existing = this.graph.initializers.get(name);
      const free = existing ? this.graph.uniqueValueName(name) : name;
      v = this.graph.addInitializer(free, t);
      this.weightValues.set(t, v);
    }
    return v;
  }

  /** A new constant initializer (shape vectors, scalars), with a name derived from `base`. */
  constant(base: string, t: Tensor): Value {
    return this.graph.addInitializer(this.graph.uniqueValueName(base), t);
  }

  int64s(base: string, values: number[]): Value {
    return this.constant(base, Tensor.fromArray('int64', [values.length], values));
  }

  /** A scalar constant of `dtype` (a float type unless the tensor it combines with is integer). */
  scalar(base: string, value: number, dtype: DType): Value {
    if (!isFloatDType(dtype) && !Number.isInteger(value)) {
      throw new TorchOpError(`cannot combine the ${dtype} tensor with the non-integer scalar ${value}`, 'unsupported');
    }
    return this.constant(base, Tensor.fromArray(dtype, [], [value]));
  }

  rank(x: Value): number | undefined {
    return x.shape?.length;
  }

  /** Normalises a possibly negative dim against the rank (which must be known for negative dims). */
  axis(x: Value, dim: number, what = 'dim', extra = 0): number {
    const r = this.rank(x);
    if (dim >= 0) {
      if (r !== undefined && dim >= r + extra) throw new TorchOpError(`${what} ${dim} is out of range for a rank-${r} tensor`);
      return dim;
    }
    if (r === undefined) throw new TorchOpError(`${what} ${dim} needs the input's rank, which is unknown here`, 'unsupported', 'give the input a shape');
    const a = dim + r + extra;
    if (a < 0) throw new TorchOpError(`${what} ${dim} is out of range for a rank-${r} tensor`);
    return a;
  }

  private dtypeOf(x: Value): DType {
    return x.dtype ?? 'float32';
  }

  // ---------------------------------------------------------------------------------------------
  // Layers

  /** `y = x W^T + b`: Gemm for 2-D input, MatMul with the transposed weight (+ Add) otherwise. */
  linear(x: Value, w: Value, b: Value | null, name: string): Value {
    if (w.shape?.length !== 2) throw new TorchOpError(`linear weight must be 2-D, found ${formatShape(w.shape)}`);
    const inF = w.shape[1]!;
    const last = x.shape?.[x.shape.length - 1];
    if (typeof last === 'number' && typeof inF === 'number' && last !== inF) {
      throw new TorchOpError(`the input has ${last} features (shape ${formatShape(x.shape)}) but the weight ${formatShape(w.shape)} takes ${inF}`);
    }
    if (b && b.shape && (b.shape.length !== 1 || b.shape[0] !== w.shape[0])) {
      throw new TorchOpError(`linear bias ${formatShape(b.shape)} does not match the weight ${formatShape(w.shape)}`);
    }
    if (this.rank(x) === 2) return this.node('Gemm', b ? [x, w, b] : [x, w], { transB: attr.int(1) }, name);
    const wt = this.node('Transpose', [w], { perm: attr.ints([1, 0]) }, `${name}/weight_t`);
    const y = this.node('MatMul', [x, wt], {}, b ? `${name}/matmul` : name);
    return b ? this.node('Add', [y, b], {}, name) : y;
  }

  conv(x: Value, w: Value, b: Value | null, o: ConvOptions, name: string): Value {
    const wr = w.shape?.length ?? 0;
    if (wr < 3) throw new TorchOpError(`conv weight must have rank 3 or more, found ${formatShape(w.shape)}`);
    const n = wr - 2;
    const kernel = w.shape!.slice(2) as number[];
    const strides = nTuple(o.stride, n, 1, 'stride');
    const dilations = nTuple(o.dilation, n, 1, 'dilation');
    const groups = o.groups ?? 1;
    const xr = this.rank(x);
    if (xr !== undefined && xr !== n + 2) {
      throw new TorchOpError(`the input has rank ${xr} (shape ${formatShape(x.shape)}); a ${n}-D convolution takes [batch, channels, ${n} spatial dims]`, 'unsupported');
    }
    const cin = x.shape?.[1];
    const wantCin = (w.shape![1] as number) * groups;
    if (typeof cin === 'number' && cin !== wantCin) {
      throw new TorchOpError(`the input has ${cin} channels (shape ${formatShape(x.shape)}) but the weight ${formatShape(w.shape)} with groups=${groups} takes ${wantCin}`);
    }
    if (b && b.shape && (b.shape.length !== 1 || b.shape[0] !== w.shape![0])) {
      throw new TorchOpError(`conv bias ${formatShape(b.shape)} does not match the weight ${formatShape(w.shape)}`);
    }
    let begin: number[];
    let end: number[];
    if (o.padding === 'valid') {
      begin = Array(n).fill(0);
      end = Array(n).fill(0);
    } else if (o.padding === 'same') {
      if (strides.some((s) => s !== 1)) throw new TorchOpError("padding='same' needs stride 1 (PyTorch refuses it too)");
      const total = kernel.map((k, i) => dilations[i]! * (k - 1));
      begin = total.map((t) => Math.floor(t / 2));
      end = total.map((t, i) => t - begin[i]!);
    } else {
      begin = nTuple(o.padding as number | number[] | undefined, n, 0, 'padding');
      end = begin.slice();
    }
    let input = x;
    const mode = o.paddingMode ?? 'zeros';
    if (mode !== 'zeros' && (begin.some((p) => p) || end.some((p) => p))) {
      const onnxMode = mode === 'reflect' ? 'reflect' : mode === 'replicate' ? 'edge' : undefined;
      if (!onnxMode) throw new TorchOpError(`padding_mode='${mode}' has no ONNX opset 17 counterpart`, 'unsupported');
      const pads = this.int64s(`${name}/pads`, [0, 0, ...begin, 0, 0, ...end]);
      input = this.node('Pad', [x, pads], { mode: attr.string(onnxMode) }, `${name}/pad`);
      begin = Array(n).fill(0);
      end = Array(n).fill(0);
    }
    const attrs: Attrs = {
      kernel_shape: attr.ints(kernel),
      strides: attr.ints(strides),
      pads: attr.ints([...begin, ...end]),
      dilations: attr.ints(dilations),
      group: attr.int(groups),
    };
    return this.node('Conv', b ? [input, w, b] : [input, w], attrs, name);
  }

  convTranspose(x: Value, w: Value, b: Value | null, o: ConvTransposeOptions, name: string): Value {
    const wr = w.shape?.length ?? 0;
    if (wr < 3) throw new TorchOpError(`conv_transpose weight must have rank 3 or more, found ${formatShape(w.shape)}`);
    const n = wr - 2;
    const groups = o.groups ?? 1;
    const cin = x.shape?.[1];
    if (typeof cin === 'number' && cin !== w.shape![0]) {
      throw new TorchOpError(`the input has ${cin} channels (shape ${formatShape(x.shape)}) but the weight ${formatShape(w.shape)} takes ${dimText(w.shape![0])}`);
    }
    const pads = nTuple(o.padding, n, 0, 'padding');
    const attrs: Attrs = {
      kernel_shape: attr.ints(w.shape!.slice(2) as number[]),
      strides: attr.ints(nTuple(o.stride, n, 1, 'stride')),
      pads: attr.ints([...pads, ...pads]),
      dilations: attr.ints(nTuple(o.dilation, n, 1, 'dilation')),
      output_padding: attr.ints(nTuple(o.outputPadding, n, 0, 'output_padding')),
      group: attr.int(groups),
    };
    return this.node('ConvTranspose', b ? [x, w, b] : [x, w], attrs, name);
  }

  /** Inference-mode batch norm with running statistics; absent weight/bias are ones/zeros. */
  batchNorm(x: Value, w: Value | null, b: Value | null, mean: Value, variance: Value, eps: number, name: string): Value {
    const c = mean.shape?.[0];
    if (typeof c !== 'number') throw new TorchOpError(`batch_norm running_mean must be 1-D, found ${formatShape(mean.shape)}`);
    const xc = x.shape?.[1];
    if (typeof xc === 'number' && xc !== c) {
      throw new TorchOpError(`the input has ${xc} channels (shape ${formatShape(x.shape)}) but the running statistics have ${c}`);
    }
    const dt = this.dtypeOf(x);
    const scale = w ?? this.constant(`${name}/ones`, Tensor.fromArray(dt, [c], new Array(c).fill(1)));
    const bias = b ?? this.constant(`${name}/zeros`, Tensor.fromArray(dt, [c], new Array(c).fill(0)));
    return this.node('BatchNormalization', [x, scale, bias, mean, variance], { epsilon: attr.float(eps) }, name);
  }

  layerNorm(x: Value, normalized: number[], w: Value | null, b: Value | null, eps: number, name: string): Value {
    const r = this.rank(x);
    if (r !== undefined) {
      const tail = x.shape!.slice(r - normalized.length);
      const ok = r >= normalized.length && tail.every((d, i) => typeof d !== 'number' || d === normalized[i]);
      if (!ok) throw new TorchOpError(`the input shape ${formatShape(x.shape)} does not end with normalized_shape ${formatShape(normalized)}`);
    }
    const dt = this.dtypeOf(x);
    const size = normalized.reduce((a, d) => a * d, 1);
    const scale = w ?? this.constant(`${name}/ones`, Tensor.fromArray(dt, normalized, new Array(size).fill(1)));
    const inputs = b ? [x, scale, b] : [x, scale];
    return this.node('LayerNormalization', inputs, { axis: attr.int(-normalized.length), epsilon: attr.float(eps) }, name);
  }

  embedding(w: Value, indices: Value, name: string): Value {
    if (indices.dtype && isFloatDType(indices.dtype)) throw new TorchOpError(`embedding indices must be integers, found ${indices.dtype}`);
    return this.node('Gather', [w, indices], { axis: attr.int(0) }, name);
  }

  // ---------------------------------------------------------------------------------------------
  // Activations

  unary(op: 'Relu' | 'Sigmoid' | 'Tanh' | 'Erf' | 'Exp' | 'Log' | 'Sqrt' | 'Neg' | 'Abs' | 'Identity', x: Value, name: string): Value {
    return this.node(op, [x], {}, name);
  }

  leakyRelu(x: Value, slope: number, name: string): Value {
    return this.node('LeakyRelu', [x], { alpha: attr.float(slope) }, name);
  }

  elu(x: Value, alpha: number, name: string): Value {
    return this.node('Elu', [x], { alpha: attr.float(alpha) }, name);
  }

  /** hardtanh / relu6 / clamp. */
  clip(x: Value, min: number | null, max: number | null, name: string): Value {
    const dt = this.dtypeOf(x);
    const lo = min === null ? null : this.scalar(`${name}/min`, min, dt);
    const hi = max === null ? null : this.scalar(`${name}/max`, max, dt);
    return this.node('Clip', hi ? [x, lo, hi] : lo ? [x, lo] : [x], {}, name);
  }

  /** GELU, exact (erf) or the tanh approximation; opset 17 has no Gelu op, so it is spelled out. */
  gelu(x: Value, approximate: string, name: string): Value {
    const dt = this.dtypeOf(x);
    let inner: Value;
    if (approximate === 'none') {
      const scaled = this.node('Mul', [x, this.scalar(`${name}/rsqrt2`, Math.SQRT1_2, dt)], {}, `${name}/scale`);
      inner = this.node('Erf', [scaled], {}, `${name}/erf`);
    } else if (approximate === 'tanh') {
      const x3 = this.node('Mul', [this.node('Mul', [x, x], {}, `${name}/sq`), x], {}, `${name}/cube`);
      const t = this.node('Add', [x, this.node('Mul', [x3, this.scalar(`${name}/c`, 0.044715, dt)], {}, `${name}/cube_c`)], {}, `${name}/poly`);
      const s = this.node('Mul', [t, this.scalar(`${name}/k`, Math.sqrt(2 / Math.PI), dt)], {}, `${name}/poly_k`);
      inner = this.node('Tanh', [s], {}, `${name}/tanh`);
    } else {
      throw new TorchOpError(`GELU approximate='${approximate}' is not one of 'none', 'tanh'`);
    }
    const onePlus = this.node('Add', [inner, this.scalar(`${name}/one`, 1, dt)], {}, `${name}/one_plus`);
    const xy = this.node('Mul', [x, onePlus], {}, `${name}/x_mul`);
    return this.node('Mul', [xy, this.scalar(`${name}/half`, 0.5, dt)], {}, name);
  }

  softmax(x: Value, dim: number, name: string, log = false): Value {
    return this.node(log ? 'LogSoftmax' : 'Softmax', [x], { axis: attr.int(dim) }, name);
  }

  // ---------------------------------------------------------------------------------------------
  // Pooling

  private spatialInput(x: Value, n: number, what: string): void {
    const r = this.rank(x);
    if (r !== undefined && r !== n + 2) {
      throw new TorchOpError(`${what} takes [batch, channels, ${n} spatial dims]; the input has shape ${formatShape(x.shape)}`, 'unsupported');
    }
  }

  /**
   * PyTorch's output size for a pooling window, and whether ceil_mode can be expressed as extra end
   * padding. Returns undefined when the spatial size is not a number.
   */
  private poolSizes(inSize: Dim | undefined, k: number, s: number, p: number, d: number, ceil: boolean): { floorOut: number; out: number; overhang: number } | undefined {
    if (typeof inSize !== 'number') return undefined;
    const span = inSize + 2 * p - d * (k - 1) - 1;
    const floorOut = Math.floor(span / s) + 1;
    let out = ceil ? Math.ceil(span / s) + 1 : floorOut;
    // PyTorch: the last window must start inside the input or the left padding.
    if (ceil && (out - 1) * s >= inSize + p) out--;
    // How far the last window reaches past the end padding.
    const overhang = Math.max(0, (out - 1) * s + d * (k - 1) + 1 - (inSize + 2 * p));
    return { floorOut, out, overhang };
  }

  /**
   * ceil_mode as extra end padding where that is exact and onnxruntime accepts it (pads smaller
   * than the kernel); otherwise ceil_mode=1 is kept. `exactPad(i)` says whether padding is exact.
   */
  private ceilPads(x: Value, k: number[], s: number[], p: number[], d: number[], exactPad: (i: number) => boolean): { ends: number[]; ceilAttr: boolean } {
    const ends = p.slice();
    for (let i = 0; i < k.length; i++) {
      const sz = this.poolSizes(x.shape?.[i + 2], k[i]!, s[i]!, p[i]!, d[i]!, true);
      if (!sz) return { ends: p.slice(), ceilAttr: true };
      if (sz.out === sz.floorOut) continue;
      if (!exactPad(i) || p[i]! + sz.overhang >= k[i]!) return { ends: p.slice(), ceilAttr: true };
      ends[i] = p[i]! + sz.overhang;
    }
    return { ends, ceilAttr: false };
  }

  private poolCommon(x: Value, kernel: number | number[], stride: number | number[] | undefined, padding: number | number[] | undefined, dilation: number | number[] | undefined, what: string) {
    const n = typeof kernel === 'number' ? (this.rank(x) ?? 4) - 2 : kernel.length;
    if (n < 1) throw new TorchOpError(`${what} needs spatial dims; the input has shape ${formatShape(x.shape)}`);
    const k = nTuple(kernel, n, 1, 'kernel_size');
    const noStride = stride === undefined || (Array.isArray(stride) && stride.length === 0);
    const s = noStride ? k.slice() : nTuple(stride, n, 1, 'stride');
    const p = nTuple(padding, n, 0, 'padding');
    const d = nTuple(dilation, n, 1, 'dilation');
    p.forEach((pi, i) => {
      if (pi * 2 > k[i]!) throw new TorchOpError(`padding ${pi} should be at most half of kernel size ${k[i]} (PyTorch refuses it too)`);
    });
    this.spatialInput(x, n, what);
    return { n, k, s, p, d };
  }

  maxPool(x: Value, o: MaxPoolOptions, name: string): Value {
    const { k, s, p, d } = this.poolCommon(x, o.kernel, o.stride, o.padding, o.dilation, 'max_pool');
    // Padded max ignores pad cells, so extra end padding reproduces ceil_mode exactly.
    const { ends, ceilAttr } = o.ceilMode ? this.ceilPads(x, k, s, p, d, () => true) : { ends: p, ceilAttr: false };
    const attrs: Attrs = {
      kernel_shape: attr.ints(k),
      strides: attr.ints(s),
      pads: attr.ints([...p, ...ends]),
      dilations: attr.ints(d),
    };
    if (ceilAttr) attrs['ceil_mode'] = attr.int(1);
    return this.node('MaxPool', [x], attrs, name);
  }

  avgPool(x: Value, o: AvgPoolOptions, name: string): Value {
    const { n, k, s, p } = this.poolCommon(x, o.kernel, o.stride, o.padding, undefined, 'avg_pool');
    if (o.divisorOverride !== undefined && o.divisorOverride !== null) {
      throw new TorchOpError('avg_pool with divisor_override has no ONNX counterpart', 'unsupported');
    }
    const include = o.countIncludePad ?? true;
    // Extra padding is exact only when pads are not counted in the divisor: PyTorch never counts the
    // ceil overhang, and counts user padding only with count_include_pad.
    const { ends, ceilAttr } = o.ceilMode
      ? this.ceilPads(x, k, s, p, Array(n).fill(1), (i) => !include || p[i] === 0)
      : { ends: p, ceilAttr: false };
    const attrs: Attrs = {
      kernel_shape: attr.ints(k),
      strides: attr.ints(s),
      pads: attr.ints([...p, ...ends]),
      count_include_pad: attr.int(include && p.some((pi) => pi > 0) ? 1 : 0),
    };
    if (ceilAttr) attrs['ceil_mode'] = attr.int(1);
    return this.node('AveragePool', [x], attrs, name);
  }

  /** Adaptive average pooling: global when every output size is 1, else an exact AveragePool. */
  adaptiveAvgPool(x: Value, outSize: (number | null)[], name: string): Value {
    const n = outSize.length;
    this.spatialInput(x, n, 'adaptive_avg_pool');
    if (outSize.every((o) => o === 1)) return this.node('GlobalAveragePool', [x], {}, name);
    const k: number[] = [];
    for (let i = 0; i < n; i++) {
      const inSize = x.shape?.[i + 2];
      const o = outSize[i];
      if (o === null || o === undefined) {
        k.push(1);
        continue;
      }
      if (typeof inSize !== 'number') {
        throw new TorchOpError(`adaptive_avg_pool to ${o} needs a known input size on spatial axis ${i} (shape ${formatShape(x.shape)})`, 'unsupported',
          'give the input a static spatial size, or use output size 1');
      }
      if (inSize % o !== 0) {
        throw new TorchOpError(`adaptive_avg_pool from ${inSize} to ${o} on spatial axis ${i}: the sizes do not divide, so the windows overlap unevenly`, 'unsupported');
      }
      k.push(inSize / o);
    }
    return this.node('AveragePool', [x], { kernel_shape: attr.ints(k), strides: attr.ints(k) }, name);
  }

  // ---------------------------------------------------------------------------------------------
  // Shapes

  flatten(x: Value, start: number, end: number, name: string): Value {
    const r = this.rank(x);
    if (start === 1 && (end === -1 || (r !== undefined && end === r - 1))) {
      if (r !== undefined && r < 2) throw new TorchOpError(`flatten(start_dim=1) of a rank-${r} tensor`);
      return this.node('Flatten', [x], { axis: attr.int(1) }, name);
    }
    if (start === 0 && end === -1) return this.reshape(x, [-1], name);
    if (r === undefined) throw new TorchOpError(`flatten(${start}, ${end}) needs the input's rank, which is unknown here`, 'unsupported');
    const s = this.axis(x, start, 'start_dim');
    const e = this.axis(x, end, 'end_dim');
    if (s > e) throw new TorchOpError(`flatten: start_dim ${start} comes after end_dim ${end}`);
    if (s === e) return x;
    const shape = [...Array(s).fill(0), -1, ...Array(r - 1 - e).fill(0)];
    return this.node('Reshape', [x, this.int64s(`${name}/shape`, shape)], {}, name);
  }

  /**
   * torch's F.pad: `pad` lists (begin, end) pairs from the last dim backwards; negative values crop.
   * Modes: 'constant' (with `value`), 'reflect', 'replicate'.
   */
  pad(x: Value, pad: number[], mode: string, value: number, name: string): Value {
    if (pad.length % 2) throw new TorchOpError(`pad needs (begin, end) pairs, found ${pad.length} values`);
    const r = this.rank(x);
    if (r === undefined) throw new TorchOpError('pad needs the input rank, which is unknown here', 'unsupported', 'give the input a shape');
    const k = pad.length / 2;
    if (k > r) throw new TorchOpError(`pad of ${k} dims for a rank-${r} tensor`);
    const begins = Array(r).fill(0);
    const ends = Array(r).fill(0);
    for (let i = 0; i < k; i++) {
      begins[r - 1 - i] = pad[2 * i]!;
      ends[r - 1 - i] = pad[2 * i + 1]!;
    }
    const onnxMode = mode === 'constant' ? 'constant' : mode === 'reflect' ? 'reflect' : mode === 'replicate' ? 'edge' : undefined;
    if (!onnxMode) throw new TorchOpError(`pad mode '${mode}' has no ONNX opset 17 counterpart`, 'unsupported');
    const inputs: (Value | null)[] = [x, this.int64s(`${name}/pads`, [...begins, ...ends])];
    if (onnxMode === 'constant' && value !== 0) inputs.push(this.scalar(`${name}/value`, value, this.dtypeOf(x)));
    return this.node('Pad', inputs, { mode: attr.string(onnxMode) }, name);
  }

  /** A 1-D int64 tensor from ints, some of which may be run-time scalars. */
  intList(items: IntArg[], name: string): Value {
    if (items.every((i) => typeof i === 'number')) return this.int64s(name, items as number[]);
    const parts: Value[] = [];
    let run: number[] = [];
    const flush = () => {
      if (run.length) parts.push(this.int64s(`${name}/const`, run));
      run = [];
    };
    for (const it of items) {
      if (typeof it === 'number') run.push(it);
      else {
        flush();
        const r = this.rank(it);
        parts.push(r === 0 ? this.node('Unsqueeze', [it, this.int64s(`${name}/axes`, [0])], {}, `${name}/item`) : it);
      }
    }
    flush();
    return parts.length === 1 ? parts[0]! : this.node('Concat', parts, { axis: attr.int(0) }, name);
  }

  /** torch view/reshape: -1 infers one dim; 0 is a real zero (allowzero). */
  reshape(x: Value, shape: IntArg[], name: string): Value {
    if (shape.filter((d) => d === -1).length > 1) throw new TorchOpError(`reshape to ${formatShape(shape.map((d) => (typeof d === 'number' ? d : d.name)))}: only one dim can be -1`);
    const hasZero = shape.some((d) => d === 0);
    const attrs: Attrs = hasZero ? { allowzero: attr.int(1) } : {};
    const y = this.node('Reshape', [x, this.intList(shape, `${name}/shape`)], attrs, name);
    const known = this.reshapeDims(x, shape);
    if (known) y.shape = known;
    return y;
  }

  /**
   * The output dims of a reshape whose size list mixes numbers and run-time sizes of known symbolic
   * dims (`x.view(x.size(0), -1)` gives [batch, 72]); undefined when they cannot be told.
   */
  private reshapeDims(x: Value, shape: IntArg[]): Dim[] | undefined {
    const dims: Dim[] = [];
    for (const d of shape) {
      if (typeof d === 'number') dims.push(d);
      else {
        const k = this.symbolicDims.get(d);
        if (k === undefined) return undefined;
        dims.push(k);
      }
    }
    const free = dims.indexOf(-1);
    if (free < 0) return dims;
    if (!x.shape) return undefined;
    const syms = (ds: Dim[]) => ds.filter((d): d is string => typeof d === 'string').sort().join('\u0000');
    const num = (ds: Dim[]) => ds.reduce<number>((p, d) => (typeof d === 'number' ? p * d : p), 1);
    const rest = dims.filter((_, i) => i !== free);
    if (syms(x.shape) !== syms(rest)) return undefined;
    const inNum = num(x.shape);
    const outNum = num(rest);
    if (outNum === 0 || inNum % outNum !== 0) return undefined;
    dims[free] = inNum / outNum;
    return dims;
  }

  /** `x.size(dim)`: a number when the shape knows it, else a run-time int64 scalar. */
  size(x: Value, dim: number, name: string): IntArg {
    const d = this.axis(x, dim);
    const known = x.shape?.[d];
    if (typeof known === 'number') return known;
    const shape = this.node('Shape', [x], {}, `${name}/shape`);
    const v = this.node('Gather', [shape, this.constant(`${name}/index`, Tensor.fromArray('int64', [], [d]))], { axis: attr.int(0) }, name);
    if (typeof known === 'string') this.symbolicDims.set(v, known);
    return v;
  }

  transpose(x: Value, d0: number, d1: number, name: string): Value {
    const r = this.rank(x);
    if (r === undefined) throw new TorchOpError('transpose needs the input rank, which is unknown here', 'unsupported');
    const a = this.axis(x, d0);
    const b = this.axis(x, d1);
    const perm = Array.from({ length: r }, (_, i) => i);
    perm[a] = b;
    perm[b] = a;
    return this.node('Transpose', [x], { perm: attr.ints(perm) }, name);
  }

  permute(x: Value, dims: number[], name: string): Value {
    const r = this.rank(x) ?? dims.length;
    if (dims.length !== r) throw new TorchOpError(`permute with ${dims.length} dims of a rank-${r} tensor`);
    return this.node('Transpose', [x], { perm: attr.ints(dims.map((d) => (d < 0 ? d + r : d))) }, name);
  }

  unsqueeze(x: Value, dim: number, name: string): Value {
    const a = dim < 0 ? this.axis(x, dim, 'dim', 1) : dim;
    return this.node('Unsqueeze', [x, this.int64s(`${name}/axes`, [a])], {}, name);
  }

  squeeze(x: Value, dim: number | undefined, name: string): Value {
    if (dim === undefined) return this.node('Squeeze', [x], {}, name);
    const a = this.axis(x, dim);
    const d = x.shape?.[a];
    // torch.squeeze(x, dim) leaves a dim that is not 1 alone.
    if (typeof d === 'number' && d !== 1) return x;
    return this.node('Squeeze', [x, this.int64s(`${name}/axes`, [a])], {}, name);
  }

  mean(x: Value, dims: number[] | null, keepdim: boolean, name: string): Value {
    const attrs: Attrs = { keepdims: attr.int(keepdim ? 1 : 0) };
    if (dims && dims.length) attrs['axes'] = attr.ints(dims);
    return this.node('ReduceMean', [x], attrs, name);
  }

  concat(xs: Value[], dim: number, name: string): Value {
    if (!xs.length) throw new TorchOpError('cat of an empty list');
    return this.node('Concat', xs, { axis: attr.int(dim) }, name);
  }

  // ---------------------------------------------------------------------------------------------
  // Arithmetic

  /** Elementwise binary op where either side may be a Python number (made a scalar of the other's dtype). */
  binary(op: 'Add' | 'Sub' | 'Mul' | 'Div' | 'Pow', a: Value | number, b: Value | number, name: string): Value {
    if (typeof a === 'number' && typeof b === 'number') throw new TorchOpError(`${op} of two numbers is not a tensor op`);
    let av = typeof a === 'number' ? this.scalar(`${name}/a`, a, this.dtypeOf(b as Value)) : a;
    let bv = typeof b === 'number' ? this.scalar(`${name}/b`, b, this.dtypeOf(a as Value)) : b;
    if (op !== 'Pow') [av, bv] = this.promote(av, bv, name);
    return this.node(op, [av, bv], {}, name);
  }

  /**
   * PyTorch's type promotion for a binary op, as ONNX needs both sides of one type: a 0-d constant
   * (a traced model's `CONSTANTS.c0`) takes the other side's type unless it is a float meeting an
   * integer tensor; otherwise the narrower side is cast (int to float, float32 to float64).
   */
  private promote(a: Value, b: Value, name: string): [Value, Value] {
    const da = this.dtypeOf(a);
    const db = this.dtypeOf(b);
    if (da === db) return [a, b];
    const scalarConst = (v: Value) => v.initializer !== undefined && v.initializer.rank === 0;
    const retype = (v: Value, dt: DType, side: string) => this.constant(`${name}/${side}`, Tensor.fromArray(dt, [], [v.initializer!.toFloat64()[0]!]));
    if (scalarConst(b) && !scalarConst(a) && (isFloatDType(da) || !isFloatDType(db))) return [a, retype(b, da, 'b')];
    if (scalarConst(a) && !scalarConst(b) && (isFloatDType(db) || !isFloatDType(da))) return [retype(a, db, 'a'), b];
    const rank = (d: DType) => (isFloatDType(d) ? 10 : 0) + (d === 'float64' ? 2 : d === 'float32' ? 1 : 0);
    const to = rank(da) >= rank(db) ? da : db;
    const cast = (v: Value, side: string) => this.node('Cast', [v], { to: attr.int(ONNX_DTYPE_CODES[to]) }, `${name}/cast_${side}`);
    return [da === to ? a : cast(a, 'a'), db === to ? b : cast(b, 'b')];
  }

  matmul(a: Value, b: Value, name: string): Value {
    return this.node('MatMul', [a, b], {}, name);
  }

  /** `beta * bias + alpha * (a @ b)` for 2-D a, b. */
  addmm(bias: Value, a: Value, b: Value, beta: number, alpha: number, name: string): Value {
    return this.node('Gemm', [a, b, bias], { alpha: attr.float(alpha), beta: attr.float(beta) }, name);
  }
}
