/**
 * StringNormalizer and TfIdfVectorizer inference against onnxruntime-node: StringNormalizer's
 * output length is exact for constant input (stop words dropped) and a symbol otherwise;
 * TfIdfVectorizer gives float [N?, max(ngram_indexes) + 1].
 */
import { describe, expect, it } from 'vitest';
import { attr } from '../../../src/ir/graph.js';
import { Tensor } from '../../../src/ir/tensor.js';
import { HAVE_ORT, checkCase, inferredOutputs, type OracleCase } from './rule-oracle.js';

const WORDS = ['monday', 'tuesday', 'Monday', 'wednesday', 'MONDAY', 'and', 'The', 'the'];

function normalizerCases(): OracleCase[] {
  const out: OracleCase[] = [];
  const stops: (string[] | undefined)[] = [undefined, ['monday'], ['the', 'and'], ['monday', 'tuesday', 'wednesday', 'and', 'the']];
  for (const twoDim of [false, true]) {
    for (const stop of stops) {
      for (const sensitive of [0, 1]) {
        for (const action of ['NONE', 'LOWER', 'UPPER']) {
          const x = Tensor.fromStrings(twoDim ? [1, WORDS.length] : [WORDS.length], WORDS);
          out.push({
            name: `StringNormalizer ${twoDim ? '[1, C]' : '[C]'} stop ${stop ? stop.join('/') : '-'} sensitive ${sensitive} ${action}`,
            inputs: { x }, constants: ['x'],
            nodes: [{
              op: 'StringNormalizer', inputs: ['x'], outputs: ['y'],
              attrs: {
                // onnxruntime's default locale (en_US.UTF-8) may not be installed; ASCII words fold alike in C.
                case_change_action: attr.string(action), is_case_sensitive: attr.int(sensitive), locale: attr.string('C'),
                ...(stop ? { stopwords: attr.strings(stop) } : {}),
              },
            }],
            outputs: { y: 'string' },
          });
        }
      }
    }
  }
  return out;
}

function tfidfCases(): OracleCase[] {
  const out: OracleCase[] = [];
  const rows = [[1, 1, 3, 3, 3, 7], [8, 6, 7, 5, 6, 8]];
  const pool = [2, 3, 5, 4, 5, 6, 7, 8, 6, 7];
  const configs = [
    { min: 1, max: 1, counts: [0, 4], indexes: [0, 1, 2, 3], skip: 0 },
    { min: 2, max: 2, counts: [0, 4], indexes: [0, 1, 2, 3, 4, 5, 6], skip: 0 },
    { min: 1, max: 2, counts: [0, 4], indexes: [0, 1, 2, 3, 4, 5, 6], skip: 5 },
    { min: 1, max: 2, counts: [0, 4], indexes: [6, 0, 1, 2, 3, 4, 5], skip: 2 },
    { min: 1, max: 2, counts: [0, 4], indexes: [0, 1, 2, 3, 8, 5, 6], skip: 1 },
  ];
  for (const [k, cfg] of configs.entries()) {
    for (const form of ['ints 1-D', 'ints 2-D', 'strings 2-D'] as const) {
      for (const mode of ['TF', 'IDF', 'TFIDF']) {
        const strings = form.startsWith('strings');
        const flat = form.endsWith('1-D') ? rows[0]! : rows.flat();
        const shape = form.endsWith('1-D') ? [6] : [2, 6];
        const x = strings ? Tensor.fromStrings(shape, flat.map(String)) : Tensor.fromArray('int32', shape, flat);
        const uniCount = cfg.counts[1]!;
        const used = uniCount + (cfg.indexes.length - uniCount) * 2;
        const p = pool.slice(0, used);
        out.push({
          name: `TfIdfVectorizer config ${k} ${form} ${mode}`,
          inputs: { x },
          nodes: [{
            op: 'TfIdfVectorizer', inputs: ['x'], outputs: ['y'],
            attrs: {
              min_gram_length: attr.int(cfg.min), max_gram_length: attr.int(cfg.max), max_skip_count: attr.int(cfg.skip),
              mode: attr.string(mode), ngram_counts: attr.ints(cfg.counts), ngram_indexes: attr.ints(cfg.indexes),
              ...(strings ? { pool_strings: attr.strings(p.map(String)) } : { pool_int64s: attr.ints(p) }),
              ...(mode !== 'TF' ? { weights: attr.floats(cfg.indexes.map((_, i) => 1 + i / 10)) } : {}),
            },
          }],
          outputs: { y: 'float32' },
        });
      }
    }
  }
  return out;
}

describe.skipIf(!HAVE_ORT)('text op inference against onnxruntime-node', () => {
  for (const [op, cases] of [['StringNormalizer', normalizerCases()], ['TfIdfVectorizer', tfidfCases()]] as const) {
    it(`${op}: ${cases.length} configurations`, async () => {
      const problems: string[] = [];
      for (const c of cases) problems.push(...(await checkCase(c)));
      expect(problems).toEqual([]);
    });
  }
});

describe('text op rules', () => {
  it('StringNormalizer of a non-constant input has a symbolic length', () => {
    const c: OracleCase = {
      name: 'sym', inputs: { x: Tensor.fromStrings([1, 3], ['a', 'b', 'c']) },
      nodes: [{ op: 'StringNormalizer', inputs: ['x'], outputs: ['y'], attrs: { stopwords: attr.strings(['a']) } }],
      outputs: { y: 'string' },
    };
    const { types, errors } = inferredOutputs(c);
    expect(errors).toEqual([]);
    expect(types.get('y')).toMatchObject({ dtype: 'string', shape: [1, 'n0_StringNormalizer_dim1'] });
  });
  it('refuses a [2, C] input and a pool that does not match the input type', () => {
    const norm: OracleCase = {
      name: 'bad', inputs: { x: Tensor.fromStrings([2, 2], ['a', 'b', 'c', 'd']) },
      nodes: [{ op: 'StringNormalizer', inputs: ['x'], outputs: ['y'] }], outputs: { y: 'string' },
    };
    expect(inferredOutputs(norm).errors.join()).toMatch(/must have shape \[C\] or \[1, C\]/);
    const tfidf: OracleCase = {
      name: 'bad', inputs: { x: Tensor.fromStrings([3], ['a', 'b', 'c']) },
      nodes: [{
        op: 'TfIdfVectorizer', inputs: ['x'], outputs: ['y'],
        attrs: {
          min_gram_length: attr.int(1), max_gram_length: attr.int(1), max_skip_count: attr.int(0), mode: attr.string('TF'),
          ngram_counts: attr.ints([0]), ngram_indexes: attr.ints([0, 1]), pool_int64s: attr.ints([1, 2]),
        },
      }],
      outputs: { y: 'float32' },
    };
    expect(inferredOutputs(tfidf).errors.join()).toMatch(/input is string, the pool is of integers/);
  });
});
