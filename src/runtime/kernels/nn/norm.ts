/**
 * Normalisations: BatchNormalization (inference, and training-mode statistics),
 * InstanceNormalization, LayerNormalization, LpNormalization, LRN, MeanVarianceNormalization.
 */
import type { KernelContext, KernelDef, RT, TF } from '../types.js';
import { invalidInput, need, normAxis, rt, wantsOutput, type T } from './util.js';

/** A per-channel vector [C] reshaped to broadcast over [N, C, spatial...]. */
function channelVector(tf: TF, v: T, rank: number): T {
  return tf.reshape(tf.cast(v, 'float32'), [1, v.size, ...new Array<number>(Math.max(rank - 2, 0)).fill(1)]);
}

const batchNormalization: KernelDef = {
  run({ tf, node, inputs }: KernelContext): RT[] {
    const x = need(node, inputs, 0, 'X');
    const scale = need(node, inputs, 1, 'scale');
    const bias = need(node, inputs, 2, 'B');
    const mean = need(node, inputs, 3, 'input_mean');
    const variance = need(node, inputs, 4, 'input_var');
    const eps = node.attrFloat('epsilon', 1e-5);
    const training = node.attrInt('training_mode', 0) === 1;
    const rank = x.t.rank;
    if (rank < 2) throw invalidInput(node, `input of rank ${rank} has no channel axis`);
    if (!training) {
      const y = tf.tidy(() => {
        const xf = tf.cast(x.t, 'float32');
        // y = x * a + b with a = scale / sqrt(var + eps), b = B - mean * a.
        const a = tf.div(tf.cast(scale.t, 'float32'), tf.sqrt(tf.add(tf.cast(variance.t, 'float32'), eps)));
        const b = tf.sub(tf.cast(bias.t, 'float32'), tf.mul(tf.cast(mean.t, 'float32'), a));
        return tf.add(tf.mul(xf, channelVector(tf, a, rank)), channelVector(tf, b, rank));
      });
      return [rt(tf, y, x.dtype)];
    }
    const momentum = node.attrFloat('momentum', 0.9);
    const axes = [0, ...Array.from({ length: rank - 2 }, (_, i) => i + 2)];
    const [y, rm, rv] = tf.tidy(() => {
      const xf = tf.cast(x.t, 'float32');
      const m = tf.moments(xf, axes, true);
      const norm = tf.div(tf.sub(xf, m.mean), tf.sqrt(tf.add(m.variance, eps)));
      const yy = tf.add(tf.mul(norm, channelVector(tf, scale.t, rank)), channelVector(tf, bias.t, rank));
      const bm = tf.reshape(m.mean, [-1]);
      const bv = tf.reshape(m.variance, [-1]);
      const runMean = tf.add(tf.mul(tf.cast(mean.t, 'float32'), momentum), tf.mul(bm, 1 - momentum));
      const runVar = tf.add(tf.mul(tf.cast(variance.t, 'float32'), momentum), tf.mul(bv, 1 - momentum));
      return [yy, runMean, runVar];
    });
    return [rt(tf, y!, x.dtype), rt(tf, rm!, mean.dtype), rt(tf, rv!, variance.dtype)];
  },
};

const instanceNormalization: KernelDef = {
  run({ tf, node, inputs }: KernelContext): RT[] {
    const x = need(node, inputs, 0, 'input');
    const scale = need(node, inputs, 1, 'scale');
    const bias = need(node, inputs, 2, 'B');
    const eps = node.attrFloat('epsilon', 1e-5);
    const rank = x.t.rank;
    const axes = Array.from({ length: rank - 2 }, (_, i) => i + 2);
    const y = tf.tidy(() => {
      const xf = tf.cast(x.t, 'float32');
      const m = tf.moments(xf, axes, true);
      const norm = tf.mul(tf.sub(xf, m.mean), tf.rsqrt(tf.add(m.variance, eps)));
      return tf.add(tf.mul(norm, channelVector(tf, scale.t, rank)), channelVector(tf, bias.t, rank));
    });
    return [rt(tf, y, x.dtype)];
  },
};

const layerNormalization: KernelDef = {
  run({ tf, node, inputs }: KernelContext): RT[] {
    const x = need(node, inputs, 0, 'X');
    const scale = need(node, inputs, 1, 'Scale');
    const bias = inputs[2];
    const rank = x.t.rank;
    const axis = normAxis(node, node.attrInt('axis', -1), rank);
    const eps = node.attrFloat('epsilon', 1e-5);
    const axes = Array.from({ length: rank - axis }, (_, i) => i + axis);
    const [y, mean, inv] = tf.tidy(() => {
      const xf = tf.cast(x.t, 'float32');
      const m = tf.moments(xf, axes, true);
      const invStd = tf.rsqrt(tf.add(m.variance, eps));
      let yy = tf.mul(tf.mul(tf.sub(xf, m.mean), invStd), tf.cast(scale.t, 'float32'));
      if (bias) yy = tf.add(yy, tf.cast(bias.t, 'float32'));
      return [yy, m.mean, invStd];
    });
    const out: RT[] = [rt(tf, y!, x.dtype)];
    if (wantsOutput(node, 1) || wantsOutput(node, 2)) {
      out.push(rt(tf, mean!, 'float32'), rt(tf, inv!, 'float32'));
    } else {
      mean!.dispose();
      inv!.dispose();
    }
    return out;
  },
};

const lpNormalization: KernelDef = {
  check(node) {
    const p = node.attrInt('p', 2);
    return p === 1 || p === 2 ? undefined : `p=${p} is not 1 or 2`;
  },
  run({ tf, node, inputs }: KernelContext): RT[] {
    const x = need(node, inputs, 0, 'input');
    const axis = normAxis(node, node.attrInt('axis', -1), x.t.rank);
    const p = node.attrInt('p', 2);
    const y = tf.tidy(() => {
      const xf = tf.cast(x.t, 'float32');
      const norm = p === 1 ? tf.sum(tf.abs(xf), axis, true) : tf.sqrt(tf.sum(tf.square(xf), axis, true));
      return tf.div(xf, norm);
    });
    return [rt(tf, y, x.dtype)];
  },
};

const lrn: KernelDef = {
  check: (node) => (node.attrInt('size') === undefined ? 'size attribute is required' : undefined),
  run({ tf, node, inputs }: KernelContext): RT[] {
    const x = need(node, inputs, 0, 'X');
    const size = node.attrInt('size')!;
    const alpha = node.attrFloat('alpha', 1e-4);
    const beta = node.attrFloat('beta', 0.75);
    const bias = node.attrFloat('bias', 1);
    const c = x.t.shape[1]!;
    const before = Math.floor((size - 1) / 2);
    const after = Math.ceil((size - 1) / 2);
    const y = tf.tidy(() => {
      const xf = tf.cast(x.t, 'float32');
      const sq = tf.square(xf);
      const pads = sq.shape.map((_, i) => (i === 1 ? [before, after] : [0, 0])) as [number, number][];
      const padded = tf.pad(sq, pads);
      let sum: T | undefined;
      for (let k = 0; k < size; k++) {
        const begin = sq.shape.map((_, i) => (i === 1 ? k : 0));
        const sl = tf.slice(padded, begin, sq.shape.map((d, i) => (i === 1 ? c : d)));
        sum = sum ? tf.add(sum, sl) : sl;
      }
      return tf.div(xf, tf.pow(tf.add(tf.mul(sum!, alpha / size), bias), beta));
    });
    return [rt(tf, y, x.dtype)];
  },
};

const meanVarianceNormalization: KernelDef = {
  run({ tf, node, inputs }: KernelContext): RT[] {
    const x = need(node, inputs, 0, 'X');
    const axes = node.attrInts('axes', [0, 2, 3]).map((a) => normAxis(node, a, x.t.rank));
    const y = tf.tidy(() => {
      const xf = tf.cast(x.t, 'float32');
      const m = tf.moments(xf, axes, true);
      return tf.div(tf.sub(xf, m.mean), tf.add(tf.sqrt(m.variance), 1e-9));
    });
    return [rt(tf, y, x.dtype)];
  },
};

export const normKernels = {
  BatchNormalization: batchNormalization,
  InstanceNormalization: instanceNormalization,
  LayerNormalization: layerNormalization,
  LpNormalization: lpNormalization,
  LRN: lrn,
  MeanVarianceNormalization: meanVarianceNormalization,
};
