/** Control flow: If, Loop, Scan. Their rules infer the subgraphs (bodies see outer values). */
import type { Dim, Shape } from '../tensor.js';
import { normAxis } from './helpers.js';
import { a, defineOps, type InferContext, type ValueType } from './schema.js';

/** The common type of two values that may take either form (If branches, loop-carried values). */
function mergeTypes(ctx: InferContext, x: ValueType | undefined, y: ValueType | undefined, out: number): ValueType {
  if (x?.sequence || y?.sequence) {
    // Sequences (loop-carried lists, branch results): the element type both sides agree on.
    return { sequence: { elem: mergeTypes(ctx, x?.sequence?.elem, y?.sequence?.elem, out) } };
  }
  if (!x) return { dtype: y?.dtype, shape: y?.shape?.slice() };
  if (!y) return { dtype: x.dtype, shape: x.shape?.slice() };
  const dtype = x.dtype ?? y.dtype;
  if (!x.shape || !y.shape || x.shape.length !== y.shape.length) return { dtype };
  const ys = y.shape;
  return { dtype, shape: x.shape.map((d, i) => (d === ys[i] ? d : ctx.sym(out, i))) };
}

function ifRule(ctx: InferContext): ValueType[] {
  const thenG = ctx.attrGraph('then_branch') ?? ctx.fail('then_branch is required');
  const elseG = ctx.attrGraph('else_branch') ?? ctx.fail('else_branch is required');
  const t = ctx.subgraph(thenG, []);
  const e = ctx.subgraph(elseG, []);
  if (t.length !== e.length) ctx.fail(`branches have ${t.length} and ${e.length} outputs`);
  return Array.from({ length: ctx.outputCount }, (_, i) => mergeTypes(ctx, t[i], e[i], i));
}

function loopRule(ctx: InferContext): ValueType[] {
  const body = ctx.attrGraph('body') ?? ctx.fail('body is required');
  const n = ctx.inputCount - 2;
  const carried: ValueType[] = [];
  for (let i = 0; i < n; i++) carried.push(ctx.type(i + 2));
  const bodyOut = ctx.subgraph(body, [{ dtype: 'int64', shape: [] }, { dtype: 'bool', shape: [] }, ...carried]);
  const out: ValueType[] = [];
  for (let i = 0; i < n; i++) out.push(mergeTypes(ctx, carried[i], bodyOut[i + 1], i));
  const tripCount = ctx.has(1) ? undefined : ctx.ints(0)?.[0];
  const k = ctx.outputCount - n;
  const trip: Dim = tripCount ?? ctx.sym(n, 0, 'trip');
  for (let j = 0; j < k; j++) {
    const b = bodyOut[1 + n + j];
    out.push({ dtype: b?.dtype, shape: b?.shape ? [trip, ...b.shape] : undefined });
  }
  return out;
}

function scanRule(ctx: InferContext): ValueType[] {
  const body = ctx.attrGraph('body') ?? ctx.fail('body is required');
  const m = ctx.attrInt('num_scan_inputs') ?? ctx.fail('num_scan_inputs is required');
  const n = ctx.inputCount - m;
  if (n < 0) ctx.fail(`num_scan_inputs ${m} is more than the ${ctx.inputCount} inputs`);
  const inAxes = ctx.attrInts('scan_input_axes') ?? [];
  const outAxes = ctx.attrInts('scan_output_axes') ?? [];
  const bodyIn: ValueType[] = [];
  for (let i = 0; i < n; i++) bodyIn.push(ctx.type(i));
  let seq: Dim | undefined;
  for (let j = 0; j < m; j++) {
    const t = ctx.type(n + j);
    if (!t.shape) {
      bodyIn.push({ dtype: t.dtype });
      continue;
    }
    const axis = normAxis(ctx, inAxes[j] ?? 0, t.shape.length, 'scan_input_axes');
    if (seq === undefined || typeof seq === 'string') seq = t.shape[axis];
    bodyIn.push({ dtype: t.dtype, shape: t.shape.filter((_, i) => i !== axis) });
  }
  const bodyOut = ctx.subgraph(body, bodyIn);
  const out: ValueType[] = [];
  for (let i = 0; i < n; i++) out.push(mergeTypes(ctx, bodyIn[i], bodyOut[i], i));
  const k = ctx.outputCount - n;
  for (let j = 0; j < k; j++) {
    const b = bodyOut[n + j];
    if (!b?.shape) {
      out.push({ dtype: b?.dtype });
      continue;
    }
    const axis = normAxis(ctx, outAxes[j] ?? 0, b.shape.length + 1, 'scan_output_axes');
    const shape: Shape = b.shape.slice();
    shape.splice(axis, 0, seq ?? ctx.sym(n + j, axis, 'seq'));
    out.push({ dtype: b.dtype, shape });
  }
  return out;
}

export const controlSchemas = defineOps('control', [
  {
    op: 'If', since: 16, inputs: ['cond'], outputs: ['outputs...'],
    attrs: { else_branch: a.req.graph(), then_branch: a.req.graph() }, infer: ifRule,
  },
  {
    op: 'Loop', since: 16, inputs: ['M?', 'cond?', 'v_initial?...'], outputs: ['v_final_and_scan_outputs?...'],
    attrs: { body: a.req.graph() }, infer: loopRule,
  },
  {
    op: 'Scan', since: 16, inputs: ['initial_state_and_scan_inputs...'], outputs: ['final_state_and_scan_outputs...'],
    attrs: {
      body: a.req.graph(), num_scan_inputs: a.req.int(), scan_input_axes: a.ints(), scan_input_directions: a.ints(),
      scan_output_axes: a.ints(), scan_output_directions: a.ints(),
    },
    infer: scanRule,
  },
]);
