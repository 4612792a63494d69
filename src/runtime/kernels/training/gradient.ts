/**
 * Gradient (domain ai.onnx.preview.training): dy/dx for each name in `xs`, where `y` is a value
 * of the graph holding the node. Its inputs are the values of `xs` then `zs`.
 *
 * The part of the graph that computes `y` from `xs`, `zs` and constants is found by walking back
 * from `y`, then re-executed synchronously inside `tf.grads` with the same kernels the session
 * uses, so tfjs autodiff records it. A kernel on that path that computes outside tfjs ops (on
 * JS arrays), has no tfjs gradient, or needs to run asynchronously is reported as an error.
 */
import type * as tfc from '@tensorflow/tfjs-core';
import { subgraphsOf, type Graph, type Node, type Value } from '../../../ir/graph.js';
import { isFloatDType } from '../../../ir/tensor.js';
import { rt, toRT } from '../../tensor-bridge.js';
import type { KernelContext, KernelDef, KernelTable, RT } from '../types.js';
import { nodeError } from '../math/util.js';
import { registerGradients } from './tfjs-gradients.js';

type Lookup = (op: string, domain?: string) => KernelDef | undefined;

interface Path {
  /** Nodes computing y, in execution order. */
  nodes: Node[];
  /** Fed names (xs/zs) that y depends on. */
  used: Set<string>;
}

function describe(n: Node): string {
  return `${n.name} (${n.domain ? n.domain + '.' : ''}${n.op})`;
}

/** The nodes that compute `y` from the fed names and constants, in execution order. */
function pathTo(node: Node, g: Graph, y: string, fed: Set<string>, lookup: Lookup): Path {
  const nodes: Node[] = [];
  const used = new Set<string>();
  const done = new Set<Node>();
  const onStack = new Set<Node>();
  const visitValue = (name: string, reader: string) => {
    if (fed.has(name)) {
      used.add(name);
      return;
    }
    const v: Value | undefined = g.value(name) ?? g.resolve(name);
    if (v?.initializer) return;
    const p = v?.producer;
    if (!p || p.graph !== g) {
      throw nodeError(node, `'${y}' depends on '${name}' (read by ${reader}), which is neither in xs/zs nor a constant of this graph`, 'list every independent input of y in the xs or zs attribute');
    }
    visitNode(p);
  };
  const visitNode = (n: Node) => {
    if (done.has(n)) return;
    if (n === node || onStack.has(n)) throw nodeError(node, `'${y}' depends on the Gradient node itself (a cycle through ${describe(n)})`);
    if (subgraphsOf(n).length) throw nodeError(node, `${describe(n)} on the path to '${y}' runs a subgraph, which Gradient cannot differentiate`);
    if (!lookup(n.op, n.domain)) throw nodeError(node, `${describe(n)} on the path to '${y}' has no kernel`);
    onStack.add(n);
    for (const i of n.inputs) if (i) visitValue(i.name, describe(n));
    onStack.delete(n);
    done.add(n);
    nodes.push(n);
  };
  visitValue(y, 'the Gradient node');
  return { nodes, used };
}

function isThenable(x: unknown): x is PromiseLike<unknown> {
  return !!x && typeof (x as { then?: unknown }).then === 'function';
}

/** Runs the path synchronously with `values` fed, returning y. Tensors created here belong to the caller's scope. */
function forward(ctx: KernelContext, path: Path, values: Map<string, RT>, y: string, lookup: Lookup): RT {
  const { tf, node } = ctx;
  const env = new Map(values);
  const read = (name: string): RT => {
    const r = env.get(name);
    if (r) return r;
    const c = node.graph?.resolve(name)?.initializer;
    if (!c) throw nodeError(node, `value '${name}' is not available while re-running the path to '${y}'`);
    const k = toRT(tf, c);
    env.set(name, k);
    return k;
  };
  for (const n of path.nodes) {
    const kernel = lookup(n.op, n.domain)!;
    const inputs = n.inputs.map((v) => (v ? read(v.name) : undefined));
    if (inputs.some((r) => r?.seq)) throw nodeError(node, `${describe(n)} on the path to '${y}' reads a sequence, which Gradient cannot differentiate`);
    const outs = kernel.run({
      tf,
      node: n,
      inputs,
      backend: ctx.backend,
      runSubgraph: () => Promise.reject(nodeError(node, `${describe(n)} runs a subgraph, which Gradient cannot differentiate`)),
    });
    if (isThenable(outs)) {
      // Swallow the rejection or value of the orphaned promise; the run is refused.
      Promise.resolve(outs).catch(() => undefined);
      throw nodeError(node, `the kernel of ${describe(n)} on the path to '${y}' runs asynchronously; Gradient needs synchronous kernels`);
    }
    n.outputs.forEach((o, k) => {
      const r = outs[k];
      if (r && o.name) env.set(o.name, r);
    });
  }
  return read(y);
}

function attrNames(node: Node, name: string): string[] {
  return node.attrStrings(name) ?? [];
}

export const gradient: KernelDef = {
  check(node) {
    const xs = attrNames(node, 'xs');
    const zs = attrNames(node, 'zs');
    if (!xs.length) return 'attribute xs (the names to differentiate with respect to) is required';
    if (!node.attrString('y')) return 'attribute y (the name of the differentiated value) is required';
    if (node.inputs.length !== xs.length + zs.length) return `has ${node.inputs.length} inputs, xs and zs name ${xs.length + zs.length}`;
    if (node.outputs.length > xs.length) return `has ${node.outputs.length} outputs, xs names ${xs.length}`;
    return undefined;
  },
  async run(ctx) {
    // Imported here: the kernel registry imports this module.
    const { kernelFor } = await import('../index.js');
    return differentiate(ctx, kernelFor);
  },
};

/** The Gradient computation with an explicit kernel lookup (synchronous). */
export function differentiate(ctx: KernelContext, lookup: Lookup): RT[] {
  const { tf, node, inputs } = ctx;
  const g = node.graph;
  if (!g) throw nodeError(node, 'is not attached to a graph');
  const xs = attrNames(node, 'xs');
  const zs = attrNames(node, 'zs');
  const y = node.attrString('y')!;
  const fedValues = new Map<string, RT>();
  [...xs, ...zs].forEach((name, i) => {
    const r = inputs[i];
    if (!r) throw nodeError(node, `no value is given for '${name}' (input ${i})`);
    if (r.seq) throw nodeError(node, `'${name}' is a sequence; Gradient differentiates tensors`);
    fedValues.set(name, r);
  });
  const path = pathTo(node, g, y, new Set(fedValues.keys()), lookup);
  const wanted = xs.map((name, i) => !!node.outputs[i]?.name);
  const active = xs.filter((name, i) => wanted[i] && path.used.has(name));
  for (const name of active) {
    const d = fedValues.get(name)!.dtype;
    if (!isFloatDType(d)) throw nodeError(node, `cannot differentiate with respect to '${name}', a ${d} tensor`);
  }
  const grads = new Map<string, tfc.Tensor>();
  if (active.length) {
    registerGradients(tf);
    const f = (...xts: tfc.Tensor[]): tfc.Tensor => {
      const values = new Map(fedValues);
      active.forEach((name, k) => values.set(name, { t: xts[k]!, dtype: fedValues.get(name)!.dtype }));
      const out = forward(ctx, path, values, y, lookup);
      if (!isFloatDType(out.dtype) || out.seq) throw nodeError(node, `'${y}' is ${out.seq ? 'a sequence' : `a ${out.dtype} tensor`}; Gradient needs a float tensor`);
      return out.t;
    };
    // Fresh handles: two xs fed the same tensor must still be independent variables.
    const xHandles = active.map((name) => tf.clone(fedValues.get(name)!.t));
    let gs: tfc.Tensor[];
    try {
      gs = tf.grads(f)(xHandles);
    } catch (e) {
      const msg = (e as Error).message ?? String(e);
      if (/gradient function not found/i.test(msg) || /Cannot compute gradient/i.test(msg)) {
        throw nodeError(
          node,
          `tfjs cannot differentiate the path to '${y}' (${path.nodes.map(describe).join(', ')}): ${msg}`,
          'a kernel on that path computes outside tfjs ops or uses an op without a tfjs gradient',
        );
      }
      throw e;
    } finally {
      for (const h of xHandles) h.dispose();
    }
    active.forEach((name, k) => grads.set(name, gs[k]!));
  }
  return node.outputs.map((o, i) => {
    const x = fedValues.get(xs[i]!)!;
    const gt = grads.get(xs[i]!);
    // An output given the empty name is not stored by the session: hand back the input itself
    // (which the session owns) rather than a new tensor nobody would free.
    if (!wanted[i]) return x;
    // y does not depend on this x: its gradient is zero.
    return rt(tf, gt ?? tf.zerosLike(x.t), x.dtype);
  });
}

export const TRAINING_DOMAIN = 'ai.onnx.preview.training';

export const gradientKernels: KernelTable = { [`${TRAINING_DOMAIN}.Gradient`]: gradient };
