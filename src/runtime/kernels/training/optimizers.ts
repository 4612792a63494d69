/**
 * One optimizer step (domain ai.onnx.preview.training): Adagrad, Adam and Momentum (standard and
 * Nesterov). Inputs are R (learning rate), T (update count), then the n tensors X, then their
 * gradients G, then each state list; outputs are the new X list followed by the new state lists.
 * The scalar learning-rate factors are computed in doubles, the tensor updates with tfjs.
 */
import type * as tfc from '@tensorflow/tfjs-core';
import type { Node } from '../../../ir/graph.js';
import { isFloatDType } from '../../../ir/tensor.js';
import { rt } from '../../tensor-bridge.js';
import type { KernelContext, KernelDef, KernelTable, RT, TF } from '../types.js';
import { nodeError, scalarOf } from '../math/util.js';

const DOMAIN = 'ai.onnx.preview.training';

/** Groups the tensor inputs after R and T into `lists` lists of n tensors (X, G, states...). */
function groups(ctx: KernelContext, lists: number): RT[][] {
  const { node, inputs } = ctx;
  const rest = inputs.slice(2);
  if (rest.length === 0 || rest.length % lists !== 0) {
    throw nodeError(node, `needs R, T and ${lists} lists of equal length, got ${inputs.length} inputs`);
  }
  const n = rest.length / lists;
  return Array.from({ length: lists }, (_, k) =>
    rest.slice(k * n, (k + 1) * n).map((r, i) => {
      if (!r || r.seq) throw nodeError(node, `input ${2 + k * n + i} must be a tensor`);
      if (!isFloatDType(r.dtype)) throw nodeError(node, `input ${2 + k * n + i} is ${r.dtype}; optimizers update float tensors`);
      return r;
    }),
  );
}

function rateAndCount(ctx: KernelContext): { R: number; T: number } {
  const { node, inputs } = ctx;
  const r = inputs[0];
  const t = inputs[1];
  if (!r || !t) throw nodeError(node, 'inputs R (learning rate) and T (update count) are required');
  return { R: scalarOf(r, node, 'R'), T: scalarOf(t, node, 'T') };
}

function checkLists(lists: number, outLists: number) {
  return (node: Node): string | undefined => {
    const rest = node.inputs.length - 2;
    if (rest <= 0 || rest % lists !== 0) return `needs R, T and ${lists} lists of equal length, got ${node.inputs.length} inputs`;
    if (node.outputs.length > (rest / lists) * outLists) return `has ${node.outputs.length} outputs, at most ${(rest / lists) * outLists} expected`;
    return undefined;
  };
}

/** Wraps tfjs results as the dtypes of the tensors they replace. */
function finishAll(tf: TF, outs: tfc.Tensor[], like: RT[]): RT[] {
  return outs.map((t, i) => rt(tf, t, like[i]!.dtype));
}

const adagrad: KernelDef = {
  check: checkLists(3, 2),
  run(ctx) {
    const { tf, node } = ctx;
    const { R, T } = rateAndCount(ctx);
    const [X, G, H] = groups(ctx, 3) as [RT[], RT[], RT[]];
    const decay = node.attrFloat('decay_factor', 0);
    const eps = node.attrFloat('epsilon', 1e-6);
    const norm = node.attrFloat('norm_coefficient', 0);
    const r = R / (1 + T * decay);
    const xNew: tfc.Tensor[] = [];
    const hNew: tfc.Tensor[] = [];
    X.forEach((x, i) => {
      const [xn, hn] = tf.tidy(() => {
        const g = tf.add(tf.mul(x.t, norm), G[i]!.t);
        const h = tf.add(H[i]!.t, tf.mul(g, g));
        const step = tf.div(tf.mul(g, r), tf.add(tf.sqrt(h), eps));
        return [tf.sub(x.t, step), h];
      });
      xNew.push(xn!);
      hNew.push(hn!);
    });
    return [...finishAll(tf, xNew, X), ...finishAll(tf, hNew, H)];
  },
};

const adam: KernelDef = {
  check: checkLists(4, 3),
  run(ctx) {
    const { tf, node } = ctx;
    const { R, T } = rateAndCount(ctx);
    const [X, G, V, H] = groups(ctx, 4) as [RT[], RT[], RT[], RT[]];
    const alpha = node.attrFloat('alpha', 0.9);
    const beta = node.attrFloat('beta', 0.999);
    const eps = node.attrFloat('epsilon', 1e-6);
    const norm = node.attrFloat('norm_coefficient', 0);
    const post = node.attrFloat('norm_coefficient_post', 0);
    const rAdj = T > 0 ? (R * Math.sqrt(1 - beta ** T)) / (1 - alpha ** T) : R;
    const xNew: tfc.Tensor[] = [];
    const vNew: tfc.Tensor[] = [];
    const hNew: tfc.Tensor[] = [];
    X.forEach((x, i) => {
      const [xn, vn, hn] = tf.tidy(() => {
        const g = tf.add(tf.mul(x.t, norm), G[i]!.t);
        const v = tf.add(tf.mul(V[i]!.t, alpha), tf.mul(g, 1 - alpha));
        const h = tf.add(tf.mul(H[i]!.t, beta), tf.mul(tf.mul(g, g), 1 - beta));
        const moved = tf.sub(x.t, tf.div(tf.mul(v, rAdj), tf.add(tf.sqrt(h), eps)));
        return [tf.mul(moved, 1 - post), v, h];
      });
      xNew.push(xn!);
      vNew.push(vn!);
      hNew.push(hn!);
    });
    return [...finishAll(tf, xNew, X), ...finishAll(tf, vNew, V), ...finishAll(tf, hNew, H)];
  },
};

const momentum: KernelDef = {
  check(node) {
    for (const a of ['alpha', 'beta', 'mode', 'norm_coefficient']) if (!node.attrs[a]) return `attribute ${a} is required`;
    const mode = node.attrString('mode');
    if (mode !== 'standard' && mode !== 'nesterov') return `mode must be 'standard' or 'nesterov', got '${mode}'`;
    return checkLists(3, 2)(node);
  },
  run(ctx) {
    const { tf, node } = ctx;
    const { R, T } = rateAndCount(ctx);
    const [X, G, V] = groups(ctx, 3) as [RT[], RT[], RT[]];
    const alpha = node.attrFloat('alpha', 0);
    const beta = T > 0 ? node.attrFloat('beta', 0) : 1;
    const norm = node.attrFloat('norm_coefficient', 0);
    const nesterov = node.attrString('mode') === 'nesterov';
    const xNew: tfc.Tensor[] = [];
    const vNew: tfc.Tensor[] = [];
    X.forEach((x, i) => {
      const [xn, vn] = tf.tidy(() => {
        const g = tf.add(tf.mul(x.t, norm), G[i]!.t);
        const v = tf.add(tf.mul(V[i]!.t, alpha), tf.mul(g, beta));
        const dir = nesterov ? tf.add(g, tf.mul(v, alpha)) : v;
        return [tf.sub(x.t, tf.mul(dir, R)), v];
      });
      xNew.push(xn!);
      vNew.push(vn!);
    });
    return [...finishAll(tf, xNew, X), ...finishAll(tf, vNew, V)];
  },
};

export const optimizerKernels: KernelTable = {
  [`${DOMAIN}.Adagrad`]: adagrad,
  [`${DOMAIN}.Adam`]: adam,
  [`${DOMAIN}.Momentum`]: momentum,
};
