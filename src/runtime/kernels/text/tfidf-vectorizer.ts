/**
 * TfIdfVectorizer: counts the n-grams of a pool (of integers or strings) in each row of a
 * [C] or [N, C] input, with up to `max_skip_count` tokens skipped between the members of an
 * n-gram, and writes TF counts, IDF indicators or TF-IDF products at `ngram_indexes`.
 *
 * The pool holds all 1-grams, then all 2-grams, ...; `ngram_counts[k]` is the pool offset
 * (in tokens) where the (k+1)-grams start. N-grams are numbered in pool order; `weights` and
 * `ngram_indexes` are indexed by that number.
 */
import type { Node } from '../../../ir/graph.js';
import type { KernelDef, KernelTable } from '../types.js';
import { fromData, nodeError, stringsOf } from '../math/util.js';

type Mode = 'TF' | 'IDF' | 'TFIDF';

interface Config {
  mode: Mode;
  minN: number;
  maxN: number;
  maxSkip: number;
  /** For each n (index n), n-gram key -> n-gram number. */
  lookup: Map<string, number>[];
  indexes: number[];
  weights: number[] | undefined;
  outSize: number;
  strings: boolean;
}

const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;
/** Separator for n-gram keys (cannot occur in the decimal form of an integer). */
const SEP = '\u0000';

function config(node: Node): Config {
  const mode = node.attrString('mode');
  if (mode !== 'TF' && mode !== 'IDF' && mode !== 'TFIDF') throw nodeError(node, `mode must be TF, IDF or TFIDF, got '${mode ?? ''}'`);
  const minN = node.attrInt('min_gram_length');
  const maxN = node.attrInt('max_gram_length');
  const maxSkip = node.attrInt('max_skip_count');
  if (minN === undefined || maxN === undefined || maxSkip === undefined) {
    throw nodeError(node, 'attributes min_gram_length, max_gram_length and max_skip_count are required');
  }
  if (minN < 1 || maxN < minN) throw nodeError(node, `gram lengths must satisfy 1 <= min (${minN}) <= max (${maxN})`);
  if (maxSkip < 0) throw nodeError(node, `max_skip_count must be >= 0, got ${maxSkip}`);
  const counts = node.attrInts('ngram_counts');
  const indexes = node.attrInts('ngram_indexes');
  if (!counts || !indexes) throw nodeError(node, 'attributes ngram_counts and ngram_indexes are required');
  const ints = node.attrs.pool_int64s ? node.attrInts('pool_int64s') : undefined;
  const strs = node.attrStrings('pool_strings');
  if ((ints === undefined) === (strs === undefined)) throw nodeError(node, 'exactly one of pool_int64s and pool_strings must be set');
  const pool: string[] = strs ?? ints!.map((v) => String(Math.min(INT32_MAX, Math.max(INT32_MIN, v))));
  const lookup: Map<string, number>[] = [];
  let ordinal = 0;
  for (let k = 0; k < counts.length; k++) {
    const n = k + 1;
    const start = counts[k]!;
    const end = k + 1 < counts.length ? counts[k + 1]! : pool.length;
    if (start < 0 || end < start || end > pool.length || (end - start) % n !== 0) {
      throw nodeError(node, `ngram_counts [${counts.join(', ')}] does not split a pool of ${pool.length} tokens into whole ${n}-grams`);
    }
    const m = new Map<string, number>();
    for (let at = start; at < end; at += n) m.set(pool.slice(at, at + n).join(SEP), ordinal++);
    lookup[n] = m;
  }
  if (indexes.length !== ordinal) throw nodeError(node, `ngram_indexes has ${indexes.length} entries, the pool holds ${ordinal} n-grams`);
  const weights = node.attrFloats('weights');
  if (weights && weights.length !== ordinal) throw nodeError(node, `weights has ${weights.length} entries, the pool holds ${ordinal} n-grams`);
  if (indexes.some((i) => i < 0)) throw nodeError(node, 'ngram_indexes must be >= 0');
  const outSize = indexes.length ? Math.max(...indexes) + 1 : 0;
  return { mode, minN, maxN, maxSkip, lookup, indexes, weights, outSize, strings: strs !== undefined };
}

/** Counts the pool n-grams of one row into `counts` (by n-gram number). */
function countRow(cfg: Config, row: string[], counts: Float64Array): void {
  const c = row.length;
  for (let n = cfg.minN; n <= cfg.maxN; n++) {
    const table = cfg.lookup[n];
    if (!table || !table.size) continue;
    // A 1-gram is the same whatever the skip: count it once.
    const skips = n === 1 ? 0 : cfg.maxSkip;
    for (let s = 0; s <= skips; s++) {
      const step = s + 1;
      const span = (n - 1) * step;
      for (let i = 0; i + span < c; i++) {
        let key = row[i]!;
        for (let j = 1; j < n; j++) key += SEP + row[i + j * step]!;
        const ord = table.get(key);
        if (ord !== undefined) counts[ord]!++;
      }
    }
  }
}

export const tfIdfVectorizer: KernelDef = {
  check(node) {
    try {
      const cfg = config(node);
      const x = node.inputs[0];
      if (x?.dtype) {
        const ok = cfg.strings ? x.dtype === 'string' : x.dtype === 'int32' || x.dtype === 'int64';
        if (!ok) return `input is ${x.dtype}, the pool is of ${cfg.strings ? 'strings' : 'integers'}`;
      }
    } catch (e) {
      return (e as Error).message;
    }
    return undefined;
  },
  run({ tf, node, inputs }) {
    const cfg = config(node);
    const x = inputs[0];
    if (!x || x.seq) throw nodeError(node, 'input X must be a tensor');
    const shape = x.t.shape;
    if (shape.length !== 1 && shape.length !== 2) throw nodeError(node, `input must be [C] or [N, C], it has shape [${shape.join(', ')}]`);
    if (cfg.strings !== (x.dtype === 'string')) throw nodeError(node, `input is ${x.dtype}, the pool is of ${cfg.strings ? 'strings' : 'integers'}`);
    const rows = shape.length === 2 ? shape[0]! : 1;
    const cols = shape[shape.length - 1]!;
    const tokens = cfg.strings ? stringsOf(x) : Array.from(x.t.dataSync() as ArrayLike<number>, (v) => String(v));
    const out = new Float32Array(rows * cfg.outSize);
    const counts = new Float64Array(cfg.indexes.length);
    for (let r = 0; r < rows; r++) {
      counts.fill(0);
      countRow(cfg, tokens.slice(r * cols, (r + 1) * cols), counts);
      for (let k = 0; k < counts.length; k++) {
        const cnt = counts[k]!;
        if (!cnt) continue;
        const w = cfg.weights ? cfg.weights[k]! : 1;
        const v = cfg.mode === 'TF' ? cnt : cfg.mode === 'IDF' ? w : cnt * w;
        out[r * cfg.outSize + cfg.indexes[k]!] = v;
      }
    }
    const outShape = shape.length === 2 ? [rows, cfg.outSize] : [cfg.outSize];
    return [fromData(tf, out, outShape, 'float32')];
  },
};

export const tfIdfKernels: KernelTable = { TfIdfVectorizer: tfIdfVectorizer };
