/**
 * Control flow: If, Loop and Scan, built on `ctx.runSubgraph`.
 *
 * Ownership: a subgraph may return values it did not create (its own inputs, outer-scope
 * values, constants). Tensors created during the subgraph run have ids above a marker taken
 * before it; anything older is cloned, so the kernel only ever disposes tensors it owns.
 */
import type * as tfc from '@tensorflow/tfjs-core';
import type { Graph, Node } from '../../../ir/graph.js';
import { isStaticShape } from '../../../ir/tensor.js';
import { disposeRT, type KernelContext, type KernelDef, type RT, type TF } from '../types.js';
import { fromValues, invalidInput, need, normAxis, ownedCopy, readScalar, unsupportedNode, type T } from './util.js';

/** Runs a subgraph and returns outputs this caller owns (fresh values, or copies of older ones). */
async function runOwned(ctx: KernelContext, g: Graph, feeds: Map<string, RT>): Promise<RT[]> {
  const marker = ctx.tf.scalar(0);
  const markId = marker.id;
  marker.dispose();
  const outs = await ctx.runSubgraph(g, feeds);
  const seen = new Set<tfc.Tensor>();
  const bodyNodes = new Set(g.nodes);
  return outs.map((o, i) => {
    // Only values computed by the subgraph's own nodes during this run can be fresh; graph
    // inputs, initializers (cached by the session) and outer values never are.
    const producer = g.outputs[i]?.producer;
    const computed = !!producer && bodyNodes.has(producer) && !g.outputs[i]!.initializer;
    const fresh = computed && o.t.id > markId && !seen.has(o.t);
    seen.add(o.t);
    return fresh ? o : ownedCopy(ctx.tf, o);
  });
}

function graphAttr(node: Node, name: string): Graph {
  const g = node.attrGraph(name);
  if (!g) throw unsupportedNode(node, `attribute ${name} (a graph) is missing`);
  return g;
}

const ifOp: KernelDef = {
  check(node) {
    if (!node.attrGraph('then_branch') || !node.attrGraph('else_branch')) return 'then_branch and else_branch are required';
    return undefined;
  },
  async run(ctx: KernelContext): Promise<RT[]> {
    const { node, inputs } = ctx;
    const cond = readScalar(need(node, inputs, 0, 'cond'));
    const branch = graphAttr(node, cond ? 'then_branch' : 'else_branch');
    const outs = await runOwned(ctx, branch, new Map());
    if (outs.length !== node.outputs.length) {
      for (const o of outs) disposeRT(o);
      throw invalidInput(node, `the ${cond ? 'then' : 'else'} branch returns ${outs.length} values, the node has ${node.outputs.length} outputs`);
    }
    return outs;
  },
};

/** An empty stacked scan output for a loop that ran zero times. */
function emptyScan(tf: TF, body: Graph, outIdx: number): RT {
  const v = body.outputs[outIdx];
  const dtype = v?.dtype ?? 'float32';
  const shape = v?.shape && isStaticShape(v.shape) ? [0, ...v.shape] : [0];
  return fromValues(tf, [], shape, dtype);
}

function disposeRTs(rs: (RT | undefined)[]): void {
  for (const r of rs) if (r) disposeRT(r);
}

const loop: KernelDef = {
  check(node) {
    return node.attrGraph('body') ? undefined : 'body graph is required';
  },
  async run(ctx: KernelContext): Promise<RT[]> {
    const { tf, node, inputs } = ctx;
    const body = graphAttr(node, 'body');
    const maxTrip = inputs[0] ? readScalar(inputs[0]) : undefined;
    let cond = inputs[1] ? readScalar(inputs[1])! !== 0 : true;
    const nCarried = node.inputs.length - 2;
    if (body.inputs.length !== nCarried + 2) {
      throw invalidInput(node, `the body takes ${body.inputs.length} inputs, expected ${nCarried + 2} (iteration, condition, ${nCarried} carried)`);
    }
    const nScan = body.outputs.length - 1 - nCarried;
    if (nScan < 0) throw invalidInput(node, `the body returns ${body.outputs.length} values, fewer than 1 + ${nCarried} carried`);
    let carried: RT[] = [];
    for (let k = 0; k < nCarried; k++) carried.push(need(node, inputs, k + 2, `v_initial[${k}]`));
    let owned = false;
    const scans: RT[][] = Array.from({ length: nScan }, () => []);
    try {
      for (let i = 0; (maxTrip === undefined || i < maxTrip) && cond; i++) {
        const iter = fromValues(tf, [i], [], 'int64');
        const condIn = fromValues(tf, [1], [], 'bool');
        const feeds = new Map<string, RT>();
        feeds.set(body.inputs[0]!.name, iter);
        feeds.set(body.inputs[1]!.name, condIn);
        carried.forEach((c, k) => feeds.set(body.inputs[k + 2]!.name, c));
        let outs: RT[];
        try {
          outs = await runOwned(ctx, body, feeds);
        } finally {
          iter.t.dispose();
          condIn.t.dispose();
        }
        cond = readScalar(outs[0]!)! !== 0;
        disposeRT(outs[0]!);
        const next = outs.slice(1, 1 + nCarried);
        if (owned) disposeRTs(carried.filter((c) => !next.some((n) => n.t === c.t)));
        carried = next;
        owned = true;
        outs.slice(1 + nCarried).forEach((s, k) => scans[k]!.push(s));
      }
      const finals = owned ? carried : carried.map((c) => ownedCopy(tf, c));
      const stacked = scans.map((list, k) => {
        if (!list.length) return emptyScan(tf, body, 1 + nCarried + k);
        if (list.some((s) => s.seq)) throw invalidInput(node, `scan output ${k} must be a tensor, the body returns a sequence`);
        return { t: tf.stack(list.map((s) => s.t), 0), dtype: list[0]!.dtype };
      });
      for (const list of scans) disposeRTs(list);
      return [...finals, ...stacked];
    } catch (e) {
      if (owned) disposeRTs(carried);
      for (const list of scans) disposeRTs(list);
      throw e;
    }
  },
};

const scan: KernelDef = {
  check(node) {
    if (!node.attrGraph('body')) return 'body graph is required';
    if (node.attrInt('num_scan_inputs') === undefined) return 'num_scan_inputs is required';
    return undefined;
  },
  async run(ctx: KernelContext): Promise<RT[]> {
    const { tf, node, inputs } = ctx;
    const body = graphAttr(node, 'body');
    const m = node.attrInt('num_scan_inputs')!;
    const nState = inputs.length - m;
    const nScanOut = body.outputs.length - nState;
    if (nState < 0 || nScanOut < 0) throw invalidInput(node, 'the body signature does not match the inputs');
    const inAxes = node.attrInts('scan_input_axes', new Array<number>(m).fill(0));
    const inDirs = node.attrInts('scan_input_directions', new Array<number>(m).fill(0));
    const outAxes = node.attrInts('scan_output_axes', new Array<number>(nScanOut).fill(0));
    const outDirs = node.attrInts('scan_output_directions', new Array<number>(nScanOut).fill(0));
    const scanIns = Array.from({ length: m }, (_, j) => need(node, inputs, nState + j, `scan input ${j}`));
    const axes = scanIns.map((s, j) => normAxis(node, inAxes[j]!, s.t.rank));
    const len = scanIns.length ? scanIns[0]!.t.shape[axes[0]!]! : 0;
    scanIns.forEach((s, j) => {
      if (s.t.shape[axes[j]!] !== len) throw invalidInput(node, `scan inputs have different lengths along their scan axes`);
    });
    const slices: T[][] = scanIns.map((s, j) => tf.unstack(s.t, axes[j]!));
    let state: RT[] = Array.from({ length: nState }, (_, k) => need(node, inputs, k, `initial state ${k}`));
    let owned = false;
    const outs: RT[][] = Array.from({ length: nScanOut }, () => []);
    try {
      for (let t = 0; t < len; t++) {
        const feeds = new Map<string, RT>();
        state.forEach((s, k) => feeds.set(body.inputs[k]!.name, s));
        scanIns.forEach((s, j) => {
          const idx = inDirs[j] === 1 ? len - 1 - t : t;
          feeds.set(body.inputs[nState + j]!.name, { t: slices[j]![idx]!, dtype: s.dtype });
        });
        const res = await runOwned(ctx, body, feeds);
        const next = res.slice(0, nState);
        if (owned) disposeRTs(state.filter((c) => !next.some((n) => n.t === c.t)));
        state = next;
        owned = true;
        res.slice(nState).forEach((r, k) => outs[k]!.push(r));
      }
      const finals = owned ? state : state.map((c) => ownedCopy(tf, c));
      const stacked = outs.map((list, k) => {
        if (!list.length) return emptyScan(tf, body, nState + k);
        const ordered = outDirs[k] === 1 ? list.slice().reverse() : list;
        const axis = normAxis(node, outAxes[k]!, list[0]!.t.rank + 1);
        return { t: tf.stack(ordered.map((s) => s.t), axis), dtype: list[0]!.dtype };
      });
      for (const list of outs) disposeRTs(list);
      return [...finals, ...stacked];
    } catch (e) {
      if (owned) disposeRTs(state);
      for (const list of outs) disposeRTs(list);
      throw e;
    } finally {
      for (const list of slices) for (const s of list) s.dispose();
    }
  },
};

export const controlKernels = {
  If: ifOp,
  Loop: loop,
  Scan: scan,
};
