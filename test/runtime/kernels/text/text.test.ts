/**
 * StringNormalizer and TfIdfVectorizer: the ONNX backend cases against their recorded outputs,
 * and configurations the backend data lacks (IDF/TFIDF weights, string pools, trigrams with
 * skips, 2-D batches, case-insensitive stop words with LOWER) against onnxruntime-node.
 */
import { describe, expect, it } from 'vitest';
import { Graph, attr, type Attrs } from '../../../../src/ir/graph.js';
import { Tensor, type DType } from '../../../../src/ir/tensor.js';
import { HAVE_DATA, HAVE_ORT, checkBackendCase, mismatch, runBoth } from '../sequence/oracle.js';

const BACKEND_CASES = [
  'test_strnorm_model_monday_casesensintive_lower',
  'test_strnorm_model_monday_empty_output',
  'test_strnorm_model_monday_insensintive_upper_twodim',
  'test_strnorm_model_nostopwords_nochangecase',
];
const NODE_CASES = [
  'test_tfidfvectorizer_tf_batch_uniandbigrams_skip5',
  'test_tfidfvectorizer_tf_onlybigrams_levelempty',
  'test_tfidfvectorizer_tf_onlybigrams_skip5',
  'test_strnormalizer_export_monday_casesensintive_upper',
];

describe.skipIf(!HAVE_DATA)('ONNX backend string cases', () => {
  for (const name of BACKEND_CASES) it(`simple/${name}`, async () => expect(await checkBackendCase('simple', name)).toBeUndefined());
  for (const name of NODE_CASES) it(`node/${name}`, async () => expect(await checkBackendCase('node', name)).toBeUndefined());
});

function oneNode(op: string, x: Tensor, attrs: Attrs, outDtype: DType): { g: Graph; feeds: Map<string, Tensor> } {
  const g = new Graph(op);
  const xv = g.addInput('x', x.dtype, x.shape.slice());
  const n = g.addNode(op, [xv], ['y'], attrs);
  n.outputs[0]!.dtype = outDtype;
  g.outputs.push(n.outputs[0]!);
  return { g, feeds: new Map([['x', x]]) };
}

const words = (shape: number[], v: string[]) => Tensor.fromStrings(shape, v);

// onnxruntime builds a C++ std::locale from the `locale` attribute (default en_US), which fails
// where no locales are installed; the cases use ASCII text and the always-present "C" locale.
describe.skipIf(!HAVE_ORT)('StringNormalizer against onnxruntime-node', () => {
  const C = { locale: attr.string('C') };
  const cases: [string, Tensor, Attrs][] = [
    ['case-insensitive stop words, LOWER', words([6], ['The', 'quick', 'BROWN', 'fox', 'the', 'Quick']), {
      ...C, case_change_action: attr.string('LOWER'), is_case_sensitive: attr.int(0), stopwords: attr.strings(['the', 'QUICK']),
    }],
    ['case-sensitive stop words, NONE', words([1, 4], ['a', 'A', 'b', 'B']), {
      ...C, case_change_action: attr.string('NONE'), is_case_sensitive: attr.int(1), stopwords: attr.strings(['A', 'b']),
    }],
    ['everything dropped from a [1, C] input', words([1, 2], ['x', 'X']), {
      ...C, case_change_action: attr.string('UPPER'), stopwords: attr.strings(['x']),
    }],
    ['everything dropped from a [C] input, UPPER', words([3], ['On', 'on', 'ON']), {
      ...C, case_change_action: attr.string('UPPER'), is_case_sensitive: attr.int(0), stopwords: attr.strings(['oN']),
    }],
  ];
  for (const [name, x, attrs] of cases) {
    it(name, async () => {
      const { g, feeds } = oneNode('StringNormalizer', x, attrs, 'string');
      const { ours, ort } = await runBoth(g, feeds);
      expect(mismatch(ours[0]!, ort[0]!)).toBeUndefined();
    });
  }
});

describe.skipIf(!HAVE_ORT)('TfIdfVectorizer against onnxruntime-node', () => {
  const intPool = {
    ngram_counts: attr.ints([0, 3, 7]),
    // 1-grams 3, 5, 8; 2-grams (3,5) (5,8); 3-grams (3,5,8) (8,8,3)
    pool_int64s: attr.ints([3, 5, 8, 3, 5, 5, 8, 3, 5, 8, 8, 8, 3]),
    ngram_indexes: attr.ints([6, 0, 2, 1, 5, 3, 4]),
  };
  const tokens = Tensor.fromArray('int32', [2, 9], [3, 5, 8, 8, 3, 9, 5, 3, 8, 8, 8, 3, 5, 5, 8, 1, 3, 5]);
  const cases: [string, Tensor, Attrs][] = [
    ['TF, trigrams with skips, 2-D batch', tokens, {
      ...intPool, mode: attr.string('TF'), min_gram_length: attr.int(1), max_gram_length: attr.int(3), max_skip_count: attr.int(2),
    }],
    ['IDF with weights', Tensor.fromArray('int64', [9], [3, 5, 8, 8, 3, 9, 5, 3, 8]), {
      ...intPool, mode: attr.string('IDF'), min_gram_length: attr.int(1), max_gram_length: attr.int(2), max_skip_count: attr.int(1),
      weights: attr.floats([0.5, 2, 1.5, 0.25, 3, 4, 0.1]),
    }],
    ['TFIDF with weights, bigrams and trigrams only', tokens, {
      ...intPool, mode: attr.string('TFIDF'), min_gram_length: attr.int(2), max_gram_length: attr.int(3), max_skip_count: attr.int(3),
      weights: attr.floats([0.5, 2, 1.5, 0.25, 3, 4, 0.1]),
    }],
    ['string pool', Tensor.fromStrings([2, 5], ['a', 'b', 'a', 'b', 'c', 'c', 'a', 'b', 'b', 'a']), {
      mode: attr.string('TF'), min_gram_length: attr.int(1), max_gram_length: attr.int(2), max_skip_count: attr.int(1),
      ngram_counts: attr.ints([0, 2]), pool_strings: attr.strings(['a', 'c', 'a', 'b', 'b', 'a']), ngram_indexes: attr.ints([0, 1, 2, 3]),
    }],
  ];
  for (const [name, x, attrs] of cases) {
    it(name, async () => {
      const { g, feeds } = oneNode('TfIdfVectorizer', x, attrs, 'float32');
      const { ours, ort } = await runBoth(g, feeds);
      expect(ours[0]!.shape).toEqual(ort[0]!.shape);
      expect(mismatch(ours[0]!, ort[0]!, 1e-6, 1e-6)).toBeUndefined();
    });
  }
});
