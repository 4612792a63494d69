/**
 * Structural and numerical comparison of two models, whatever their formats: inputs and outputs,
 * nodes (matched by name, then by position and op), weights (matched by name, then through matched
 * nodes, then by order and shape) with the largest absolute difference of their values.
 *
 * Weights that went through a layout change in a conversion still match: a tensor whose axes were
 * permuted (a Conv kernel HWIO -> OIHW, a Dense kernel transposed for Gemm) is compared through the
 * permutation and reported as `transposed`; a 2-D kernel whose rows were reordered (a Dense after a
 * channels-last Flatten, whose rows follow the NCHW order once the layout Transpose is folded into
 * it) is compared row for row after sorting the rows of both sides and reported as `rows-permuted`.
 * Only exact layout changes count: every element must agree within `atol`.
 */
import { Graph, Model, Node, Value, subgraphsOf, type Attr } from '../ir/graph.js';
import { Tensor, formatShape, type DType, type Dim } from '../ir/tensor.js';
import { topologicalOrder } from '../ir/walk.js';
import { getSchema } from '../ir/ops/registry.js';

export const DEFAULT_DIFF_ATOL = 1e-6;

export interface DiffOptions {
  /** Largest absolute difference for weights (and tensor attributes) to count as equal. Default 1e-6. */
  atol?: number;
  /** Called once per weight compared (the slow part on big models). */
  onWeight?: (done: number, total: number, name: string) => void;
  /** Most cells of the node alignment table before a greedy alignment is used instead. */
  maxAlignCells?: number;
  /** Decide equivalence on the weights alone (a state_dict against a full model). */
  weightsOnly?: boolean;
}

export interface SideValue {
  name: string;
  dtype: DType | null;
  shape: Dim[] | null;
}

export type IoStatus = 'same' | 'changed' | 'only-a' | 'only-b';

export interface IoDiff {
  kind: 'input' | 'output';
  status: IoStatus;
  a?: SideValue;
  b?: SideValue;
  /** What differs: `name`, `dtype`, `shape`. */
  changes: string[];
}

export interface SideNode {
  name: string;
  op: string;
  outputShapes: (Dim[] | null)[];
}

export type NodeStatus = 'same' | 'changed' | 'only-a' | 'only-b';

export interface NodeDiff {
  status: NodeStatus;
  a?: SideNode;
  b?: SideNode;
  matchedBy?: 'name' | 'position';
  /** Human-readable differences (op, attributes, output shapes, inputs). */
  changes: string[];
}

export interface SideWeight {
  name: string;
  dtype: DType;
  shape: number[];
}

export type WeightStatus = 'matched' | 'differs' | 'only-a' | 'only-b';
/** How B's tensor is laid out relative to A's: same, axes permuted, or rows reordered. */
export type WeightLayout = 'same' | 'transposed' | 'rows-permuted';

export interface WeightDiff {
  status: WeightStatus;
  a?: SideWeight;
  b?: SideWeight;
  matchedBy?: 'name' | 'node' | 'shape';
  layout?: WeightLayout;
  /** For `transposed`: B = transpose(A, perm). */
  perm?: number[];
  /** Largest |a - b| over the elements (through the layout); null when not comparable. */
  maxAbsDiff: number | null;
  note?: string;
}

export interface ModelDiff {
  a: { file?: string; format: string };
  b: { file?: string; format: string };
  atol: number;
  /** Same inputs, outputs, node structure and weights (the weights alone with `weightsOnly`). */
  equivalent: boolean;
  weightsOnly: boolean;
  io: { equivalent: boolean; inputs: IoDiff[]; outputs: IoDiff[] };
  nodes: { equivalent: boolean; counts: Record<NodeStatus, number>; list: NodeDiff[] };
  weights: {
    equivalent: boolean;
    counts: Record<WeightStatus, number> & { transposed: number; rowsPermuted: number };
    maxAbsDiff: number;
    list: WeightDiff[];
  };
}

// ---------------------------------------------------------------------------------------------
// Inputs and outputs

function sideValue(v: Value): SideValue {
  return { name: v.name, dtype: v.dtype ?? null, shape: v.shape ? v.shape.slice() : null };
}

/** Dims agree when equal, or when both are symbolic (names differ between exporters). */
function sameDims(a: Dim[] | null, b: Dim[] | null): boolean {
  if (!a || !b) return a === b;
  return a.length === b.length && a.every((d, i) => d === b[i] || (typeof d === 'string' && typeof b[i] === 'string'));
}

function shapeText(s: Dim[] | null): string {
  return s ? formatShape(s) : '?';
}

function diffValues(kind: 'input' | 'output', as: Value[], bs: Value[]): IoDiff[] {
  const out: IoDiff[] = [];
  const usedB = new Set<number>();
  const pairs: [number, number][] = [];
  as.forEach((v, i) => {
    const j = bs.findIndex((w, k) => !usedB.has(k) && w.name === v.name);
    if (j >= 0) {
      usedB.add(j);
      pairs.push([i, j]);
    }
  });
  // Names that differ: pair the rest by position.
  const freeB = bs.map((_, k) => k).filter((k) => !usedB.has(k));
  as.forEach((_, i) => {
    if (pairs.some((p) => p[0] === i)) return;
    const j = freeB.shift();
    if (j !== undefined) {
      usedB.add(j);
      pairs.push([i, j]);
    } else out.push({ kind, status: 'only-a', a: sideValue(as[i]!), changes: [] });
  });
  for (const [i, j] of pairs) {
    const a = sideValue(as[i]!);
    const b = sideValue(bs[j]!);
    const changes: string[] = [];
    if (a.name !== b.name) changes.push(`name ${a.name} -> ${b.name}`);
    if (a.dtype !== b.dtype) changes.push(`dtype ${a.dtype ?? '?'} -> ${b.dtype ?? '?'}`);
    if (!sameDims(a.shape, b.shape)) changes.push(`shape ${shapeText(a.shape)} -> ${shapeText(b.shape)}`);
    if (i !== j) changes.push(`position ${i} -> ${j}`);
    out.push({ kind, status: changes.length ? 'changed' : 'same', a, b, changes });
  }
  for (const k of freeB) if (!usedB.has(k)) out.push({ kind, status: 'only-b', b: sideValue(bs[k]!), changes: [] });
  return out;
}

// ---------------------------------------------------------------------------------------------
// Nodes

function opKey(n: Node): string {
  return n.domain ? `${n.domain}.${n.op}` : n.op;
}

function orderOf(g: Graph): Node[] {
  try {
    return topologicalOrder(g);
  } catch {
    return g.nodes.slice();
  }
}

/** Longest common subsequence of two op sequences: index pairs in increasing order. */
function alignByOp(as: Node[], bs: Node[], maxCells: number): [number, number][] {
  const n = as.length;
  const m = bs.length;
  if (!n || !m) return [];
  const ka = as.map(opKey);
  const kb = bs.map(opKey);
  if (n * m > maxCells || n >= 65535 || m >= 65535) {
    // Greedy: each A node takes the next B node with its op within a window.
    const pairs: [number, number][] = [];
    let j = 0;
    for (let i = 0; i < n && j < m; i++) {
      for (let k = j; k < Math.min(m, j + 64); k++) {
        if (kb[k] === ka[i]) {
          pairs.push([i, k]);
          j = k + 1;
          break;
        }
      }
    }
    return pairs;
  }
  // table[i][j] = LCS length of as[i..] and bs[j..]
  const w = m + 1;
  const table = new Uint16Array((n + 1) * w);
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      table[i * w + j] = ka[i] === kb[j] ? table[(i + 1) * w + j + 1]! + 1 : Math.max(table[(i + 1) * w + j]!, table[i * w + j + 1]!);
    }
  }
  const pairs: [number, number][] = [];
  let i = 0;
  let j = 0;
  while (i < n && j < m) {
    if (ka[i] === kb[j]) {
      pairs.push([i, j]);
      i++;
      j++;
    } else if (table[(i + 1) * w + j]! >= table[i * w + j + 1]!) i++;
    else j++;
  }
  return pairs;
}

function matchNodes(as: Node[], bs: Node[], maxCells: number): { pairs: Map<Node, Node>; by: Map<Node, 'name' | 'position'> } {
  const pairs = new Map<Node, Node>();
  const by = new Map<Node, 'name' | 'position'>();
  const count = (ns: Node[]) => {
    const c = new Map<string, number>();
    for (const n of ns) c.set(n.name, (c.get(n.name) ?? 0) + 1);
    return c;
  };
  const ca = count(as);
  const cb = count(bs);
  const bByName = new Map(bs.map((n) => [n.name, n]));
  for (const n of as) {
    if (!n.name || ca.get(n.name) !== 1 || cb.get(n.name) !== 1) continue;
    pairs.set(n, bByName.get(n.name)!);
    by.set(n, 'name');
  }
  const takenB = new Set(pairs.values());
  const restA = as.filter((n) => !pairs.has(n));
  const restB = bs.filter((n) => !takenB.has(n));
  for (const [i, j] of alignByOp(restA, restB, maxCells)) {
    pairs.set(restA[i]!, restB[j]!);
    by.set(restA[i]!, 'position');
  }
  return { pairs, by };
}

function sideNode(n: Node): SideNode {
  return { name: n.name, op: opKey(n), outputShapes: n.outputs.map((o) => (o.shape ? o.shape.slice() : null)) };
}

function attrWithDefaults(n: Node): Map<string, Attr> {
  const m = new Map<string, Attr>(Object.entries(n.attrs));
  const schema = getSchema(n.op, n.domain);
  for (const spec of schema?.attrs ?? []) {
    if (m.has(spec.name) || spec.default === undefined) continue;
    const d = spec.default;
    if (spec.kind === 'int' && typeof d === 'number') m.set(spec.name, { kind: 'int', value: d });
    else if (spec.kind === 'float' && typeof d === 'number') m.set(spec.name, { kind: 'float', value: d });
    else if (spec.kind === 'string' && typeof d === 'string') m.set(spec.name, { kind: 'string', value: d });
    else if (spec.kind === 'ints' && Array.isArray(d)) m.set(spec.name, { kind: 'ints', value: d as number[] });
    else if (spec.kind === 'floats' && Array.isArray(d)) m.set(spec.name, { kind: 'floats', value: d as number[] });
    else if (spec.kind === 'strings' && Array.isArray(d)) m.set(spec.name, { kind: 'strings', value: d as string[] });
  }
  return m;
}

function numClose(x: number, y: number): boolean {
  return x === y || Math.abs(x - y) <= 1e-6 * Math.max(1, Math.abs(x), Math.abs(y)) || (Number.isNaN(x) && Number.isNaN(y));
}

function graphSignature(g: Graph): string {
  return g.nodes.map(opKey).join(',');
}

function attrText(a: Attr): string {
  switch (a.kind) {
    case 'tensor': return `tensor ${a.value.dtype}${formatShape(a.value.shape)}`;
    case 'tensors': return `${a.value.length} tensors`;
    case 'graph': return `graph of ${a.value.nodes.length} nodes`;
    case 'graphs': return `${a.value.length} graphs`;
    case 'string': return JSON.stringify(a.value);
    case 'ints': case 'floats': return `[${a.value.join(', ')}]`;
    case 'strings': return JSON.stringify(a.value);
    default: return String(a.value);
  }
}

function sameAttr(a: Attr, b: Attr, atol: number): boolean {
  const numeric = (x: Attr) => x.kind === 'int' || x.kind === 'float';
  const list = (x: Attr) => x.kind === 'ints' || x.kind === 'floats';
  if (numeric(a) && numeric(b)) return numClose(a.value as number, b.value as number);
  if (list(a) && list(b)) {
    const x = a.value as number[];
    const y = b.value as number[];
    return x.length === y.length && x.every((v, i) => numClose(v, y[i]!));
  }
  if (a.kind !== b.kind) return false;
  switch (a.kind) {
    case 'string': return a.value === (b.value as string);
    case 'strings': return JSON.stringify(a.value) === JSON.stringify(b.value);
    case 'tensor': {
      const r = compareWeightValues(a.value, b.value as Tensor, atol);
      return r.layout === 'same' && r.maxAbsDiff !== null && r.maxAbsDiff <= atol;
    }
    case 'tensors': {
      const y = b.value as Tensor[];
      return a.value.length === y.length && a.value.every((t, i) => {
        const r = compareWeightValues(t, y[i]!, atol);
        return r.layout === 'same' && r.maxAbsDiff !== null && r.maxAbsDiff <= atol;
      });
    }
    case 'graph': return graphSignature(a.value) === graphSignature(b.value as Graph);
    case 'graphs': {
      const y = b.value as Graph[];
      return a.value.length === y.length && a.value.every((g, i) => graphSignature(g) === graphSignature(y[i]!));
    }
    default: return false;
  }
}

function nodeChanges(a: Node, b: Node, pairs: Map<Node, Node>, matchedB: Set<Node>, atol: number): string[] {
  const changes: string[] = [];
  if (opKey(a) !== opKey(b)) {
    changes.push(`op ${opKey(a)} -> ${opKey(b)}`);
    return changes;
  }
  const aa = attrWithDefaults(a);
  const ba = attrWithDefaults(b);
  for (const k of [...new Set([...aa.keys(), ...ba.keys()])].sort()) {
    const x = aa.get(k);
    const y = ba.get(k);
    if (x && !y) changes.push(`attribute ${k}=${attrText(x)} only in A`);
    else if (!x && y) changes.push(`attribute ${k}=${attrText(y)} only in B`);
    else if (x && y && !sameAttr(x, y, atol)) changes.push(`attribute ${k} ${attrText(x)} -> ${attrText(y)}`);
  }
  if (a.outputs.length !== b.outputs.length) changes.push(`outputs ${a.outputs.length} -> ${b.outputs.length}`);
  else {
    a.outputs.forEach((o, i) => {
      const p = b.outputs[i]!;
      if (o.shape && p.shape && !sameDims(o.shape, p.shape)) changes.push(`output ${i} shape ${formatShape(o.shape)} -> ${formatShape(p.shape)}`);
    });
  }
  const present = (n: Node) => n.inputs.filter((v) => v && v.name).length;
  if (present(a) !== present(b)) changes.push(`inputs ${present(a)} -> ${present(b)}`);
  // Rewiring: an input produced by a matched node on A's side must come from its partner on B's.
  a.inputs.forEach((v, i) => {
    const w = b.inputs[i];
    const pa = v?.producer;
    const pb = w?.producer;
    if (!pa || !pb) return;
    const partner = pairs.get(pa);
    if (partner && partner !== pb && matchedB.has(pb)) changes.push(`input ${i} from ${pa.name} -> ${pb.name}`);
  });
  return changes;
}

// ---------------------------------------------------------------------------------------------
// Weights

interface WeightRef {
  value: Value;
  tensor: Tensor;
  /** Where it is read: (node, input index). */
  uses: [Node, number][];
}

function collectWeights(g: Graph, out: WeightRef[] = []): WeightRef[] {
  const byValue = new Map<Value, WeightRef>();
  for (const v of g.initializers.values()) {
    const r: WeightRef = { value: v, tensor: v.initializer!, uses: [] };
    byValue.set(v, r);
    out.push(r);
  }
  for (const n of g.nodes) {
    n.inputs.forEach((v, i) => {
      if (!v) return;
      const r = byValue.get(v) ?? (g.initializers.get(v.name) ? byValue.get(g.initializers.get(v.name)!) : undefined);
      r?.uses.push([n, i]);
    });
    for (const sg of subgraphsOf(n)) collectWeights(sg, out);
  }
  return out;
}

function sideWeight(r: WeightRef): SideWeight {
  return { name: r.value.name, dtype: r.tensor.dtype, shape: r.tensor.shape.slice() };
}

/** A name with framework decorations removed: `dense/kernel:0` and `dense.kernel` agree. */
function looseName(name: string): string {
  return name.replace(/:0$/, '').replace(/[/.:]+/g, '.').toLowerCase();
}

function sortedShape(s: number[]): string {
  return s.slice().sort((x, y) => x - y).join('x');
}

const COMPARABLE = (t: Tensor) => t.dtype !== 'complex64' && t.dtype !== 'complex128';

/** Permutations p of A's axes with A.shape[p[i]] == B.shape[i] (identity first). */
function axisPermutations(sa: number[], sb: number[]): number[][] {
  const r = sa.length;
  if (r !== sb.length || r > 6) return r === sb.length && sa.every((d, i) => d === sb[i]) ? [sa.map((_, i) => i)] : [];
  const out: number[][] = [];
  const used = new Array<boolean>(r).fill(false);
  const cur: number[] = [];
  const rec = () => {
    if (cur.length === r) {
      out.push(cur.slice());
      return;
    }
    const i = cur.length;
    for (let k = 0; k < r; k++) {
      if (used[k] || sa[k] !== sb[i]) continue;
      used[k] = true;
      cur.push(k);
      rec();
      cur.pop();
      used[k] = false;
    }
  };
  rec();
  return out;
}

function isIdentity(p: number[]): boolean {
  return p.every((x, i) => x === i);
}

/** out = transpose(x of shape s, perm): out.shape[i] = s[perm[i]]. */
function transposeFlat(x: Float64Array, s: number[], perm: number[]): Float64Array {
  if (isIdentity(perm)) return x;
  const r = s.length;
  const inStrides = new Array<number>(r);
  let acc = 1;
  for (let i = r - 1; i >= 0; i--) {
    inStrides[i] = acc;
    acc *= s[i]!;
  }
  const outShape = perm.map((p) => s[p]!);
  const stride = perm.map((p) => inStrides[p]!);
  const out = new Float64Array(x.length);
  const idx = new Array<number>(r).fill(0);
  let src = 0;
  for (let k = 0; k < x.length; k++) {
    out[k] = x[src]!;
    for (let a = r - 1; a >= 0; a--) {
      idx[a]!++;
      src += stride[a]!;
      if (idx[a]! < outShape[a]!) break;
      src -= stride[a]! * outShape[a]!;
      idx[a] = 0;
    }
  }
  return out;
}

function maxAbs(x: Float64Array, y: Float64Array, xOff = 0, yOff = 0, n = x.length): number {
  let m = 0;
  for (let i = 0; i < n; i++) {
    const p = x[xOff + i]!;
    const q = y[yOff + i]!;
    if (p === q) continue;
    const d = Math.abs(p - q);
    if (Number.isNaN(d)) {
      if (Number.isNaN(p) && Number.isNaN(q)) continue;
      return Infinity;
    }
    if (d > m) m = d;
  }
  return m;
}

/** Row indices of a rows x cols matrix in lexicographic order of the rows. */
function sortedRows(x: Float64Array, rows: number, cols: number): Uint32Array {
  const idx = new Uint32Array(rows);
  for (let i = 0; i < rows; i++) idx[i] = i;
  return idx.sort((p, q) => {
    for (let c = 0; c < cols; c++) {
      const d = x[p * cols + c]! - x[q * cols + c]!;
      if (d !== 0 && !Number.isNaN(d)) return d;
    }
    return 0;
  });
}

function maxAbsRowsPermuted(x: Float64Array, y: Float64Array, rows: number, cols: number): number {
  const rx = sortedRows(x, rows, cols);
  const ry = sortedRows(y, rows, cols);
  let m = 0;
  for (let i = 0; i < rows; i++) {
    const d = maxAbs(x, y, rx[i]! * cols, ry[i]! * cols, cols);
    if (d > m) m = d;
    if (m === Infinity) break;
  }
  return m;
}

export interface ValueComparison {
  layout: WeightLayout;
  perm?: number[];
  maxAbsDiff: number | null;
  note?: string;
}

/**
 * Compares B's tensor with A's: directly when the shapes agree, else (and when that fails) through
 * each axis permutation that maps A's shape to B's, then (2-D) with the rows reordered.
 * Returns the first layout within `atol`, or the closest one.
 */
export function compareWeightValues(a: Tensor, b: Tensor, atol: number): ValueComparison {
  if (a.dtype === 'string' || b.dtype === 'string') {
    if (a.dtype !== b.dtype) return { layout: 'same', maxAbsDiff: null, note: `dtype ${a.dtype} vs ${b.dtype}` };
    const same = a.shape.join() === b.shape.join() && a.stringValues().every((s, i) => s === b.stringValues()[i]);
    return { layout: 'same', maxAbsDiff: same ? 0 : null, note: same ? undefined : 'string values differ' };
  }
  if (!COMPARABLE(a) || !COMPARABLE(b)) {
    const same = a.dtype === b.dtype && a.shape.join() === b.shape.join() && Buffer.from(a.bytes).equals(Buffer.from(b.bytes));
    return { layout: 'same', maxAbsDiff: same ? 0 : null, note: same ? undefined : 'complex values differ (compared bytewise)' };
  }
  if (a.size !== b.size) return { layout: 'same', maxAbsDiff: null, note: `${a.size} vs ${b.size} elements` };
  const perms = axisPermutations(a.shape, b.shape);
  const note = a.dtype !== b.dtype ? `dtype ${a.dtype} -> ${b.dtype}` : undefined;
  if (!perms.length) return { layout: 'same', maxAbsDiff: null, note: `shape ${formatShape(a.shape)} vs ${formatShape(b.shape)}` };
  const x = a.toFloat64();
  const y = b.toFloat64();
  let best: ValueComparison | undefined;
  const consider = (c: ValueComparison): boolean => {
    if (!best || (c.maxAbsDiff ?? Infinity) < (best.maxAbsDiff ?? Infinity)) best = c;
    return (c.maxAbsDiff ?? Infinity) <= atol;
  };
  for (const p of perms) {
    const d = maxAbs(transposeFlat(x, a.shape, p), y);
    const c: ValueComparison = isIdentity(p) ? { layout: 'same', maxAbsDiff: d, note } : { layout: 'transposed', perm: p, maxAbsDiff: d, note };
    if (consider(c)) return c;
  }
  if (b.rank === 2 && b.shape[0]! > 1) {
    for (const p of perms) {
      const d = maxAbsRowsPermuted(transposeFlat(x, a.shape, p), y, b.shape[0]!, b.shape[1]!);
      if (d > atol) continue;
      const c: ValueComparison = { layout: 'rows-permuted', maxAbsDiff: d, note: [isIdentity(p) ? '' : `transposed ${p.join(',')}`, note].filter(Boolean).join('; ') || undefined };
      if (!isIdentity(p)) c.perm = p;
      return c;
    }
  }
  // Report the plain difference when the shapes agree (the closest layout otherwise).
  const identity = perms.find(isIdentity);
  if (identity) return { layout: 'same', maxAbsDiff: maxAbs(x, y), note };
  return best!;
}

/** Gemm and MatMul hold the same kind of weight (a converter may turn one into the other). */
function readerKinds(r: WeightRef): Set<string> {
  return new Set(r.uses.map(([n]) => (n.op === 'Gemm' || n.op === 'MatMul' ? 'MatMul' : opKey(n))));
}

function sameReaders(x: WeightRef, y: WeightRef): boolean {
  const kx = readerKinds(x);
  const ky = readerKinds(y);
  if (!kx.size || !ky.size) return true;
  return [...kx].some((k) => ky.has(k));
}

function matchWeights(wa: WeightRef[], wb: WeightRef[], nodePairs: Map<Node, Node>): { pairs: [WeightRef, WeightRef, 'name' | 'node' | 'shape'][]; onlyA: WeightRef[]; onlyB: WeightRef[] } {
  const pairs: [WeightRef, WeightRef, 'name' | 'node' | 'shape'][] = [];
  const usedA = new Set<WeightRef>();
  const usedB = new Set<WeightRef>();
  const take = (x: WeightRef, y: WeightRef, by: 'name' | 'node' | 'shape') => {
    pairs.push([x, y, by]);
    usedA.add(x);
    usedB.add(y);
  };
  const byName = new Map<string, WeightRef>();
  for (const r of wb) if (!byName.has(r.value.name)) byName.set(r.value.name, r);
  for (const r of wa) {
    const m = byName.get(r.value.name);
    if (m && !usedB.has(m)) take(r, m, 'name');
  }
  const byLoose = new Map<string, WeightRef[]>();
  for (const r of wb) if (!usedB.has(r)) byLoose.set(looseName(r.value.name), [...(byLoose.get(looseName(r.value.name)) ?? []), r]);
  for (const r of wa) {
    if (usedA.has(r)) continue;
    const c = byLoose.get(looseName(r.value.name))?.find((m) => !usedB.has(m));
    if (c) take(r, c, 'name');
  }
  // Through matched nodes: the weight read at the same input of the partner node.
  const bByUse = new Map<Node, WeightRef[]>();
  for (const r of wb) {
    for (const [n, i] of r.uses) {
      const slots = bByUse.get(n) ?? [];
      slots[i] = r;
      bByUse.set(n, slots);
    }
  }
  for (const r of wa) {
    if (usedA.has(r)) continue;
    for (const [n, i] of r.uses) {
      const partner = nodePairs.get(n);
      if (!partner) continue;
      const c = bByUse.get(partner)?.[i];
      if (c && !usedB.has(c) && c.tensor.size === r.tensor.size) {
        take(r, c, 'node');
        break;
      }
    }
  }
  // By order and shape: the same shape first, then the same dims in another order; only between
  // weights read by the same kind of op (or not read at all), so unrelated biases stay apart.
  for (const exact of [true, false]) {
    for (const r of wa) {
      if (usedA.has(r)) continue;
      const key = exact ? r.tensor.shape.join('x') : sortedShape(r.tensor.shape);
      const c = wb.find((m) => !usedB.has(m) && (exact ? m.tensor.shape.join('x') : sortedShape(m.tensor.shape)) === key && sameReaders(r, m));
      if (c) take(r, c, 'shape');
    }
  }
  return { pairs, onlyA: wa.filter((r) => !usedA.has(r)), onlyB: wb.filter((r) => !usedB.has(r)) };
}

// ---------------------------------------------------------------------------------------------

/** Compares two models (read them with `load`, and run `prepareModel` first to compare them as converted). */
export function diffModels(a: Model, b: Model, opts: DiffOptions = {}): ModelDiff {
  const atol = opts.atol ?? DEFAULT_DIFF_ATOL;
  const inputs = diffValues('input', a.graph.inputs, b.graph.inputs);
  const outputs = diffValues('output', a.graph.outputs, b.graph.outputs);

  const na = orderOf(a.graph);
  const nb = orderOf(b.graph);
  const { pairs, by } = matchNodes(na, nb, opts.maxAlignCells ?? 16_000_000);
  const reverse = new Map([...pairs].map(([x, y]) => [y, x]));
  const matchedB = new Set(reverse.keys());
  const nodeList: NodeDiff[] = [];
  // A's order, with B's unmatched nodes placed after the B node preceding them.
  const onlyBAfter = new Map<Node | null, Node[]>();
  let lastMatchedB: Node | null = null;
  for (const n of nb) {
    const partner = reverse.get(n);
    if (partner) lastMatchedB = n;
    else onlyBAfter.set(lastMatchedB, [...(onlyBAfter.get(lastMatchedB) ?? []), n]);
  }
  const pushOnlyB = (after: Node | null) => {
    for (const n of onlyBAfter.get(after) ?? []) nodeList.push({ status: 'only-b', b: sideNode(n), changes: [] });
  };
  pushOnlyB(null);
  for (const n of na) {
    const p = pairs.get(n);
    if (!p) {
      nodeList.push({ status: 'only-a', a: sideNode(n), changes: [] });
      continue;
    }
    const changes = nodeChanges(n, p, pairs, matchedB, atol);
    nodeList.push({ status: changes.length ? 'changed' : 'same', a: sideNode(n), b: sideNode(p), matchedBy: by.get(n), changes });
    pushOnlyB(p);
  }

  const wa = collectWeights(a.graph);
  const wb = collectWeights(b.graph);
  const wm = matchWeights(wa, wb, pairs);
  const weightList: WeightDiff[] = [];
  const total = wm.pairs.length;
  wm.pairs.forEach(([x, y, how], i) => {
    opts.onWeight?.(i, total, x.value.name);
    let c: ValueComparison;
    try {
      c = compareWeightValues(x.tensor, y.tensor, atol);
    } catch (e) {
      c = { layout: 'same', maxAbsDiff: null, note: `cannot read: ${(e as Error).message}` };
    }
    const ok = c.maxAbsDiff !== null && c.maxAbsDiff <= atol;
    weightList.push({ status: ok ? 'matched' : 'differs', a: sideWeight(x), b: sideWeight(y), matchedBy: how, layout: c.layout, ...(c.perm ? { perm: c.perm } : {}), maxAbsDiff: c.maxAbsDiff, ...(c.note ? { note: c.note } : {}) });
  });
  opts.onWeight?.(total, total, '');
  // A's weights in A's order, then B's extras.
  const orderA = new Map(wa.map((r, i) => [r.value.name, i]));
  weightList.sort((p, q) => (orderA.get(p.a!.name) ?? 0) - (orderA.get(q.a!.name) ?? 0));
  for (const r of wm.onlyA) weightList.push({ status: 'only-a', a: sideWeight(r), maxAbsDiff: null });
  for (const r of wm.onlyB) weightList.push({ status: 'only-b', b: sideWeight(r), maxAbsDiff: null });

  const nodeCounts: Record<NodeStatus, number> = { same: 0, changed: 0, 'only-a': 0, 'only-b': 0 };
  for (const n of nodeList) nodeCounts[n.status]++;
  const wCounts = { matched: 0, differs: 0, 'only-a': 0, 'only-b': 0, transposed: 0, rowsPermuted: 0 };
  let worst = 0;
  for (const w of weightList) {
    wCounts[w.status]++;
    if (w.status === 'matched' && w.layout === 'transposed') wCounts.transposed++;
    if (w.status === 'matched' && w.layout === 'rows-permuted') wCounts.rowsPermuted++;
    if (w.maxAbsDiff !== null && w.maxAbsDiff > worst) worst = w.maxAbsDiff;
  }
  const ioEq = [...inputs, ...outputs].every((x) => x.status === 'same');
  const nodesEq = nodeList.every((n) => n.status === 'same');
  const weightsEq = weightList.every((w) => w.status === 'matched');
  return {
    a: { file: a.source.path, format: a.source.format },
    b: { file: b.source.path, format: b.source.format },
    atol,
    equivalent: opts.weightsOnly ? weightsEq : ioEq && nodesEq && weightsEq,
    weightsOnly: !!opts.weightsOnly,
    io: { equivalent: ioEq, inputs, outputs },
    nodes: { equivalent: nodesEq, counts: nodeCounts, list: nodeList },
    weights: { equivalent: weightsEq, counts: wCounts, maxAbsDiff: worst, list: weightList },
  };
}
