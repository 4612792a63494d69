/**
 * StringNormalizer: drops stop words from a [C] or [1, C] string tensor, then lower- or
 * upper-cases what is left. When every element is dropped the result is one empty string,
 * shaped [1] (1-D input) or [1, 1] (2-D input).
 */
import type { Node } from '../../../ir/graph.js';
import type { KernelDef, KernelTable } from '../types.js';
import { nodeError, stringsOf } from '../math/util.js';

type CaseAction = 'LOWER' | 'UPPER' | 'NONE';

/** The ONNX locale (`en_US`) as a BCP 47 tag (`en-US`); undefined when JS does not accept it. */
function localeTag(locale: string | undefined): string | undefined {
  if (!locale) return undefined;
  const tag = locale.split('.')[0]!.replace(/_/g, '-');
  try {
    return Intl.getCanonicalLocales(tag)[0];
  } catch {
    return undefined;
  }
}

function caseAction(node: Node): CaseAction {
  const a = node.attrString('case_change_action', 'NONE');
  if (a !== 'LOWER' && a !== 'UPPER' && a !== 'NONE') throw nodeError(node, `case_change_action must be LOWER, UPPER or NONE, got '${a}'`);
  return a;
}

export const stringNormalizer: KernelDef = {
  check(node) {
    const x = node.inputs[0];
    if (x?.dtype && x.dtype !== 'string') return `input must be a string tensor, it is ${x.dtype}`;
    try {
      caseAction(node);
    } catch (e) {
      return (e as Error).message;
    }
    return undefined;
  },
  run({ tf, node, inputs }) {
    const x = inputs[0];
    if (!x) throw nodeError(node, 'required input X is missing');
    if (x.dtype !== 'string' || x.seq) throw nodeError(node, `input must be a string tensor, it is ${x.seq ? 'a sequence' : x.dtype}`);
    const shape = x.t.shape;
    const twoDim = shape.length === 2;
    if (!(shape.length === 1 || (twoDim && shape[0] === 1))) {
      throw nodeError(node, `input must have shape [C] or [1, C], it has [${shape.join(', ')}]`);
    }
    const tag = localeTag(node.attrString('locale'));
    const lower = (s: string) => (tag ? s.toLocaleLowerCase(tag) : s.toLowerCase());
    const upper = (s: string) => (tag ? s.toLocaleUpperCase(tag) : s.toUpperCase());
    const caseSensitive = node.attrInt('is_case_sensitive', 0) !== 0;
    const stop = node.attrStrings('stopwords') ?? [];
    const key = (s: string) => (caseSensitive ? s : lower(s));
    const stopSet = new Set(stop.map(key));
    const action = caseAction(node);
    let kept = stringsOf(x).filter((s) => !stopSet.has(key(s)));
    if (action === 'LOWER') kept = kept.map(lower);
    else if (action === 'UPPER') kept = kept.map(upper);
    if (!kept.length) kept = [''];
    const outShape = twoDim ? [1, kept.length] : [kept.length];
    return [{ t: tf.tensor(kept, outShape, 'string'), dtype: 'string' }];
  },
};

export const stringNormalizerKernels: KernelTable = { StringNormalizer: stringNormalizer };
