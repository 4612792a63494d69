/** Miscellaneous ops: Constant, Cast, CastLike, Einsum, Det, window functions. */
import { isFloatDType, isIntDType, type Dim, type Shape } from '../tensor.js';
import { broadcastDim, dtypeFromOnnxCode, sameAsInput } from './helpers.js';
import { a, defineOps, type InferContext, type ValueType } from './schema.js';

const MAX_PROPAGATED = 64;

function constantRule(ctx: InferContext): ValueType[] {
  const t = ctx.attrTensor('value');
  if (t) {
    let value: Dim[] | undefined;
    if ((t.dtype === 'int64' || t.dtype === 'int32') && t.rank <= 1 && t.size <= MAX_PROPAGATED) {
      value = Array.from(t.toFloat64());
    }
    return [{ dtype: t.dtype, shape: t.shape.slice(), value }];
  }
  if (ctx.hasAttr('value_float')) return [{ dtype: 'float32', shape: [] }];
  if (ctx.hasAttr('value_floats')) return [{ dtype: 'float32', shape: [ctx.attrFloats('value_floats')!.length] }];
  if (ctx.hasAttr('value_int')) return [{ dtype: 'int64', shape: [], value: [ctx.attrInt('value_int')!] }];
  if (ctx.hasAttr('value_ints')) {
    const v = ctx.attrInts('value_ints')!;
    return [{ dtype: 'int64', shape: [v.length], value: v.length <= MAX_PROPAGATED ? v.slice() : undefined }];
  }
  if (ctx.hasAttr('value_string')) return [{ dtype: 'string', shape: [] }];
  if (ctx.hasAttr('value_strings')) return [{ dtype: 'string', shape: [ctx.attrStrings('value_strings')!.length] }];
  ctx.fail('has no value attribute');
}

function castRule(ctx: InferContext): ValueType[] {
  const code = ctx.attrInt('to') ?? ctx.fail('attribute to is required');
  const dtype = dtypeFromOnnxCode(code) ?? ctx.fail(`unknown data type code ${code}`);
  const v = ctx.dims(0);
  // Shape arithmetic sometimes goes through floats (Shape -> Cast(float) -> Mul(scale) -> Cast(int64)).
  let value: Dim[] | undefined;
  const src = ctx.dtype(0);
  if (v && src !== 'bool' && src !== 'string') {
    if (isIntDType(dtype)) value = v.map((d) => (typeof d === 'number' ? Math.trunc(d) : d));
    else if (isFloatDType(dtype)) value = v;
  }
  return [{ dtype, shape: ctx.shape(0)?.slice(), value }];
}

/** Splits an Einsum term into labels: single letters and '...'. */
function einsumLabels(term: string, ctx: InferContext): string[] {
  const out: string[] = [];
  for (let i = 0; i < term.length; ) {
    if (term.startsWith('...', i)) {
      out.push('...');
      i += 3;
    } else {
      const c = term[i]!;
      if (!/[A-Za-z]/.test(c)) ctx.fail(`invalid character '${c}' in equation`);
      out.push(c);
      i++;
    }
  }
  return out;
}

function einsumRule(ctx: InferContext): ValueType[] {
  const dtype = ctx.dtype(0);
  const eq = (ctx.attrString('equation') ?? ctx.fail('equation is required')).replace(/\s+/g, '');
  const arrow = eq.indexOf('->');
  const lhs = arrow >= 0 ? eq.slice(0, arrow) : eq;
  const terms = lhs.split(',').map((t) => einsumLabels(t, ctx));
  if (terms.length !== ctx.inputCount) ctx.fail(`equation has ${terms.length} operands, node has ${ctx.inputCount} inputs`);
  const letterDims = new Map<string, Dim[]>();
  const ellipses: Shape[] = [];
  let anyEllipsis = false;
  let shapesKnown = true;
  terms.forEach((labels, i) => {
    const s = ctx.shape(i);
    if (labels.includes('...')) anyEllipsis = true;
    if (!s) {
      shapesKnown = false;
      return;
    }
    const letters = labels.filter((l) => l !== '...').length;
    const ellRank = s.length - letters;
    if (ellRank < 0 || (ellRank > 0 && !labels.includes('...'))) {
      ctx.fail(`operand ${i} has rank ${s.length}, term '${labels.join('')}' expects ${letters}`);
    }
    let k = 0;
    for (const l of labels) {
      if (l === '...') {
        ellipses.push(s.slice(k, k + ellRank));
        k += ellRank;
      } else {
        const list = letterDims.get(l) ?? [];
        list.push(s[k++]!);
        letterDims.set(l, list);
      }
    }
  });
  let outLabels: string[];
  if (arrow >= 0) outLabels = einsumLabels(eq.slice(arrow + 2), ctx);
  else {
    const counts = new Map<string, number>();
    for (const t of terms) for (const l of t) if (l !== '...') counts.set(l, (counts.get(l) ?? 0) + 1);
    outLabels = [...(anyEllipsis ? ['...'] : []), ...[...counts].filter(([, c]) => c === 1).map(([l]) => l).sort()];
  }
  if (!shapesKnown) return [{ dtype }];
  const ellRank = Math.max(0, ...ellipses.map((e) => e.length));
  const ell: Shape = [];
  for (let i = 0; i < ellRank; i++) {
    const dims = ellipses.map((e) => e[i - (ellRank - e.length)] ?? 1);
    ell.push(broadcastDim(dims, () => ctx.sym(0, i)) ?? ctx.fail(`ellipsis dims ${dims.join(', ')} do not broadcast`));
  }
  const out: Shape = [];
  for (const l of outLabels) {
    if (l === '...') out.push(...ell);
    else {
      const dims = letterDims.get(l);
      if (!dims) ctx.fail(`output label '${l}' does not appear in the inputs`);
      out.push(broadcastDim(dims, () => ctx.sym(0, out.length)) ?? ctx.fail(`label '${l}' has sizes ${dims.join(', ')}`));
    }
  }
  return [{ dtype, shape: out }];
}

function windowRule(ctx: InferContext): ValueType[] {
  const dtype = dtypeFromOnnxCode(ctx.attrInt('output_datatype') ?? 1) ?? ctx.fail('unknown output_datatype');
  const n = ctx.ints(0)?.[0];
  return [{ dtype, shape: [n ?? ctx.sym(0, 0)] }];
}

const windowAttrs = { output_datatype: a.int(1), periodic: a.int(1) };

export const miscSchemas = defineOps('misc', [
  {
    op: 'Constant', since: 13, inputs: [], outputs: ['output'],
    attrs: {
      value: a.tensor(), value_float: a.float(), value_floats: a.floats(), value_int: a.int(), value_ints: a.ints(),
      value_string: a.string(), value_strings: a.strings(),
    },
    infer: constantRule, legacyAttrs: ['sparse_value'],
  },
  { op: 'Cast', since: 13, inputs: ['input'], outputs: ['output'], attrs: { to: a.req.int() }, infer: castRule, legacyAttrs: ['saturate'] },
  {
    op: 'CastLike', since: 15, inputs: ['input', 'target_type'], outputs: ['output'],
    infer: (ctx) => [{ dtype: ctx.dtype(1), shape: ctx.shape(0)?.slice() }],
  },
  { op: 'Einsum', since: 12, inputs: ['Inputs...'], outputs: ['Output'], attrs: { equation: a.req.string() }, infer: einsumRule },
  {
    op: 'Det', since: 11, inputs: ['X'], outputs: ['Y'],
    infer: (ctx) => {
      const s = ctx.shape(0);
      if (!s) return [{ dtype: ctx.dtype(0) }];
      if (s.length < 2) ctx.fail(`expects rank >= 2, got rank ${s.length}`);
      const [m, n] = s.slice(-2);
      if (typeof m === 'number' && typeof n === 'number' && m !== n) ctx.fail(`matrices are ${m}x${n}, not square`);
      return [{ ...sameAsInput(ctx), shape: s.slice(0, -2) }];
    },
  },
  { op: 'BlackmanWindow', since: 17, inputs: ['size'], outputs: ['output'], attrs: windowAttrs, infer: windowRule },
  { op: 'HammingWindow', since: 17, inputs: ['size'], outputs: ['output'], attrs: windowAttrs, infer: windowRule },
  { op: 'HannWindow', since: 17, inputs: ['size'], outputs: ['output'], attrs: windowAttrs, infer: windowRule },
]);
