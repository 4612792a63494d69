/**
 * Text ops: StringNormalizer (opset 10) and TfIdfVectorizer (opset 9).
 * StringNormalizer's output length depends on the strings (stop words are dropped): exact when
 * the input is constant, a fresh symbol otherwise.
 */
import type { Dim } from '../tensor.js';
import { a, defineOps, type InferContext, type ValueType } from './schema.js';

const CASE_ACTIONS = ['LOWER', 'UPPER', 'NONE'];

/** An ONNX locale (`en_US`, `tr_TR.UTF-8`) as a BCP 47 tag JS accepts, or undefined. */
function localeTag(locale: string | undefined): string | undefined {
  if (!locale) return undefined;
  try {
    return Intl.getCanonicalLocales(locale.split('.')[0]!.replace(/_/g, '-'))[0];
  } catch {
    return undefined;
  }
}

/** How many strings survive the stop-word filter (at least 1: an emptied input gives ['']). */
function keptCount(ctx: InferContext, strings: string[]): number {
  const tag = localeTag(ctx.attrString('locale'));
  const caseSensitive = (ctx.attrInt('is_case_sensitive') ?? 0) !== 0;
  const fold = (s: string) => (caseSensitive ? s : tag ? s.toLocaleLowerCase(tag) : s.toLowerCase());
  const stop = new Set((ctx.attrStrings('stopwords') ?? []).map(fold));
  return Math.max(1, strings.filter((s) => !stop.has(fold(s))).length);
}

function stringNormalizerRule(ctx: InferContext): ValueType[] {
  const dt = ctx.dtype(0);
  if (dt !== undefined && dt !== 'string') ctx.fail(`input must be a string tensor, it is ${dt}`);
  const action = ctx.attrString('case_change_action') ?? 'NONE';
  if (!CASE_ACTIONS.includes(action)) ctx.fail(`case_change_action must be LOWER, UPPER or NONE, got '${action}'`);
  const shape = ctx.shape(0);
  if (!shape) return [{ dtype: 'string' }];
  if (shape.length !== 1 && shape.length !== 2) ctx.fail(`input must have shape [C] or [1, C], it has rank ${shape.length}`);
  if (shape.length === 2 && typeof shape[0] === 'number' && shape[0] !== 1) {
    ctx.fail(`input must have shape [C] or [1, C], its first dim is ${shape[0]}`);
  }
  const t = ctx.tensor(0);
  const len: Dim = t && t.dtype === 'string' ? keptCount(ctx, t.stringValues()) : ctx.sym(0, shape.length - 1);
  return [{ dtype: 'string', shape: shape.length === 2 ? [1, len] : [len] }];
}

function tfIdfRule(ctx: InferContext): ValueType[] {
  const mode = ctx.attrString('mode') ?? ctx.fail('attribute mode is required');
  if (!['TF', 'IDF', 'TFIDF'].includes(mode)) ctx.fail(`mode must be TF, IDF or TFIDF, got '${mode}'`);
  const hasInts = ctx.hasAttr('pool_int64s');
  const hasStrings = ctx.hasAttr('pool_strings');
  if (hasInts === hasStrings) ctx.fail('exactly one of pool_int64s and pool_strings must be set');
  const dt = ctx.dtype(0);
  if (dt !== undefined) {
    const ok = hasStrings ? dt === 'string' : dt === 'int32' || dt === 'int64';
    if (!ok) ctx.fail(`input is ${dt}, the pool is of ${hasStrings ? 'strings' : 'integers'}`);
  }
  const indexes = ctx.attrInts('ngram_indexes') ?? ctx.fail('attribute ngram_indexes is required');
  if (indexes.some((i) => i < 0)) ctx.fail('ngram_indexes must be >= 0');
  const width = indexes.length ? Math.max(...indexes) + 1 : 0;
  const shape = ctx.shape(0);
  if (!shape) return [{ dtype: 'float32' }];
  if (shape.length === 1) return [{ dtype: 'float32', shape: [width] }];
  if (shape.length === 2) return [{ dtype: 'float32', shape: [shape[0]!, width] }];
  ctx.fail(`input must be [C] or [N, C], it has rank ${shape.length}`);
}

export const textSchemas = defineOps('text', [
  {
    op: 'StringNormalizer', since: 10, inputs: ['X'], outputs: ['Y'],
    attrs: { case_change_action: a.string('NONE'), is_case_sensitive: a.int(0), locale: a.string(), stopwords: a.strings() },
    infer: stringNormalizerRule,
  },
  {
    op: 'TfIdfVectorizer', since: 9, inputs: ['X'], outputs: ['Y'],
    attrs: {
      max_gram_length: a.req.int(), max_skip_count: a.req.int(), min_gram_length: a.req.int(), mode: a.req.string(),
      ngram_counts: a.req.ints(), ngram_indexes: a.req.ints(), pool_int64s: a.ints(), pool_strings: a.strings(),
      weights: a.floats(),
    },
    infer: tfIdfRule,
  },
]);
