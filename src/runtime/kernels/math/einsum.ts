/**
 * Einsum on tfjs primitives (the wasm backend has no Einsum kernel): diagonals are gathered,
 * labels no one else needs are summed away, and operands are contracted pairwise with a
 * batched matMul after transposing to [batch, free, contracted] order.
 */
import type { Node } from '../../../ir/graph.js';
import { shapeSize } from '../../../ir/tensor.js';
import type { TF } from '../types.js';
import { TfTensor, nodeError, stridesOf } from './util.js';

interface Operand {
  t: TfTensor;
  labels: string[];
}

/** Labels for ellipsis dims: private-use characters, one per broadcast position (aligned right). */
const ellipsisLabel = (k: number) => String.fromCharCode(0xe000 + k);

export interface ParsedEinsum {
  inputs: string[][];
  output: string[];
}

/** Parses an equation for operands of the given ranks, expanding `...` to per-position labels. */
export function parseEinsum(equation: string, ranks: number[], node: Node): ParsedEinsum {
  const eq = equation.replace(/\s+/g, '');
  const arrow = eq.indexOf('->');
  const lhs = arrow >= 0 ? eq.slice(0, arrow) : eq;
  const terms = lhs.split(',');
  if (terms.length !== ranks.length) throw nodeError(node, `equation '${equation}' names ${terms.length} operands, the node has ${ranks.length}`);
  const check = (term: string) => {
    if (!/^([a-zA-Z]|\.\.\.)*$/.test(term)) throw nodeError(node, `einsum term '${term}' is not letters with at most one '...'`);
    if (term.split('...').length > 2) throw nodeError(node, `einsum term '${term}' has more than one '...'`);
  };
  let ellipsisRank = 0;
  const inputs = terms.map((term, i) => {
    check(term);
    const [before, after] = term.includes('...') ? term.split('...') as [string, string] : [term, undefined];
    const letters = before.length + (after?.length ?? 0);
    if (after === undefined) {
      if (letters !== ranks[i]) throw nodeError(node, `einsum term '${term}' has ${letters} labels for an operand of rank ${ranks[i]}`);
      return before.split('');
    }
    const e = ranks[i]! - letters;
    if (e < 0) throw nodeError(node, `einsum term '${term}' has more labels than the operand's rank ${ranks[i]}`);
    ellipsisRank = Math.max(ellipsisRank, e);
    return [...before.split(''), ...Array.from({ length: e }, (_, k) => `...${e - k}`), ...after.split('')];
  });
  // Ellipsis dims align from the right: position from the end becomes a shared label.
  const ell = (tag: string) => ellipsisLabel(Number(tag.slice(3)));
  const fixed = inputs.map((ls) => ls.map((l) => (l.startsWith('...') ? ell(l) : l)));
  const ellLabels = Array.from({ length: ellipsisRank }, (_, k) => ellipsisLabel(ellipsisRank - k));
  let output: string[];
  if (arrow >= 0) {
    const rhs = eq.slice(arrow + 2);
    check(rhs);
    output = [];
    const parts = rhs.split('...');
    output.push(...parts[0]!.split(''));
    if (parts.length === 2) output.push(...ellLabels, ...parts[1]!.split(''));
    const known = new Set(fixed.flat());
    for (const l of output) if (!known.has(l)) throw nodeError(node, `einsum output label '${l}' appears in no input`);
  } else {
    const count = new Map<string, number>();
    for (const ls of fixed) for (const l of ls) count.set(l, (count.get(l) ?? 0) + 1);
    const once = [...count.entries()].filter(([l, c]) => c === 1 && l.length === 1 && l.charCodeAt(0) < 0xe000).map(([l]) => l).sort();
    output = [...ellLabels, ...once];
  }
  return { inputs: fixed, output };
}

/** Takes the diagonal over repeated labels of one operand. */
function diagonal(tf: TF, op: Operand): Operand {
  const unique = [...new Set(op.labels)];
  if (unique.length === op.labels.length) return op;
  const shape = op.t.shape;
  const sizes = unique.map((l) => {
    const dims = op.labels.flatMap((x, i) => (x === l ? [shape[i]!] : []));
    return Math.min(...dims);
  });
  const st = stridesOf(shape);
  // Stride of each unique label in the source: the sum over its positions.
  const ust = unique.map((l) => op.labels.reduce((s, x, i) => (x === l ? s + st[i]! : s), 0));
  const n = shapeSize(sizes);
  const idx = new Int32Array(n);
  const counter = new Array<number>(sizes.length).fill(0);
  let cur = 0;
  for (let k = 0; k < n; k++) {
    idx[k] = cur;
    for (let d = sizes.length - 1; d >= 0; d--) {
      counter[d]!++;
      cur += ust[d]!;
      if (counter[d]! < sizes[d]!) break;
      cur -= ust[d]! * counter[d]!;
      counter[d] = 0;
    }
  }
  const flat = tf.reshape(op.t, [-1]);
  const g = tf.gather(flat, tf.tensor1d(idx, 'int32'));
  return { t: tf.reshape(g, sizes), labels: unique };
}

/** Sums away the labels of `op` that are not in `keep`. */
function sumAway(tf: TF, op: Operand, keep: Set<string>): Operand {
  const axes = op.labels.flatMap((l, i) => (keep.has(l) ? [] : [i]));
  if (!axes.length) return op;
  return { t: tf.sum(op.t, axes), labels: op.labels.filter((l) => keep.has(l)) };
}

function permuteTo(tf: TF, op: Operand, order: string[]): TfTensor {
  const perm = order.map((l) => op.labels.indexOf(l));
  return perm.every((p, i) => p === i) ? op.t : tf.transpose(op.t, perm);
}

/** Contracts two operands, keeping the labels in `keep`. */
function contract(tf: TF, x: Operand, y: Operand, keep: Set<string>, size: Map<string, number>): Operand {
  const inY = new Set(y.labels);
  const inX = new Set(x.labels);
  const batch = x.labels.filter((l) => inY.has(l) && keep.has(l));
  const summed = x.labels.filter((l) => inY.has(l) && !keep.has(l));
  const xFree = x.labels.filter((l) => !inY.has(l));
  const yFree = y.labels.filter((l) => !inX.has(l));
  const full = (ls: string[]) => ls.map((l) => size.get(l)!);
  let xt = permuteTo(tf, x, [...batch, ...xFree, ...summed]);
  let yt = permuteTo(tf, y, [...batch, ...summed, ...yFree]);
  const xShape = full([...batch, ...xFree, ...summed]);
  const yShape = full([...batch, ...summed, ...yFree]);
  if (xt.shape.join(',') !== xShape.join(',')) xt = tf.broadcastTo(xt, xShape);
  if (yt.shape.join(',') !== yShape.join(',')) yt = tf.broadcastTo(yt, yShape);
  const b = shapeSize(full(batch));
  const m = shapeSize(full(xFree));
  const k = shapeSize(full(summed));
  const n = shapeSize(full(yFree));
  let r: TfTensor;
  if (b * m * n === 0) r = tf.zeros([b, m, n]);
  else if (k === 0) r = tf.zeros([b, m, n]);
  else r = tf.matMul(tf.reshape(xt, [b, m, k]), tf.reshape(yt, [b, k, n]));
  return { t: tf.reshape(r, full([...batch, ...xFree, ...yFree])), labels: [...batch, ...xFree, ...yFree] };
}

/** Evaluates an einsum on float32 tensors. */
export function einsum(tf: TF, equation: string, tensors: TfTensor[], node: Node): TfTensor {
  const p = parseEinsum(equation, tensors.map((t) => t.rank), node);
  const size = new Map<string, number>();
  p.inputs.forEach((ls, i) => ls.forEach((l, d) => {
    const s = tensors[i]!.shape[d]!;
    const prev = size.get(l);
    if (prev === undefined || prev === 1) size.set(l, s);
    else if (s !== prev && s !== 1) throw nodeError(node, `einsum label sizes differ: ${prev} and ${s}`);
  }));
  let ops: Operand[] = tensors.map((t, i) => diagonal(tf, { t, labels: p.inputs[i]! }));
  const out = new Set(p.output);
  const neededBy = (skip: number) => {
    const s = new Set(out);
    ops.forEach((o, i) => {
      if (i !== skip) for (const l of o.labels) s.add(l);
    });
    return s;
  };
  ops = ops.map((o, i) => sumAway(tf, o, neededBy(i)));
  let acc = ops[0]!;
  for (let i = 1; i < ops.length; i++) {
    const keep = new Set(out);
    for (let j = i + 1; j < ops.length; j++) for (const l of ops[j]!.labels) keep.add(l);
    // Labels only the accumulator or only the next operand has, and no one needs later, go first.
    const xKeep = new Set([...keep, ...ops[i]!.labels]);
    const yKeep = new Set([...keep, ...acc.labels]);
    acc = contract(tf, sumAway(tf, acc, xKeep), sumAway(tf, ops[i]!, yKeep), keep, size);
  }
  acc = sumAway(tf, acc, out);
  let r = permuteTo(tf, acc, p.output);
  const want = p.output.map((l) => size.get(l)!);
  if (r.shape.join(',') !== want.join(',')) r = tf.broadcastTo(r, want);
  return r;
}
