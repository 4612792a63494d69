/**
 * Recurrent layers: LSTM, GRU and RNN with forward/reverse/bidirectional directions,
 * activation attributes, clip, sequence_lens, initial states, peepholes and layout 0/1.
 * The input projection is one matmul over all time steps; each step then does the
 * recurrent matmul and gate math on tfjs kernels.
 */
import type { Node } from '../../../ir/graph.js';
import type { KernelContext, KernelDef, RT, TF } from '../types.js';
import { invalidInput, need, readNumbers, rt, unsupportedNode, wantsOutput, type T } from './util.js';

type Kind = 'LSTM' | 'GRU' | 'RNN';
type Act = (tf: TF, x: T) => T;

const GATES: Record<Kind, number> = { LSTM: 4, GRU: 3, RNN: 1 };
const DEFAULT_ACTS: Record<Kind, string[]> = {
  LSTM: ['Sigmoid', 'Tanh', 'Tanh'],
  GRU: ['Sigmoid', 'Tanh'],
  RNN: ['Tanh'],
};

/** Activation name -> [uses alpha, uses beta, default alpha, default beta]. */
const ACT_PARAMS: Record<string, [boolean, boolean, number, number]> = {
  relu: [false, false, 0, 0], tanh: [false, false, 0, 0], sigmoid: [false, false, 0, 0],
  affine: [true, true, 1, 0], leakyrelu: [true, false, 0.01, 0], thresholdedrelu: [true, false, 1, 0],
  scaledtanh: [true, true, 1, 1], hardsigmoid: [true, true, 0.2, 0.5], elu: [true, false, 1, 0],
  softsign: [false, false, 0, 0], softplus: [false, false, 0, 0],
};

function makeAct(name: string, alpha: number, beta: number): Act {
  switch (name.toLowerCase()) {
    case 'relu': return (tf, x) => tf.relu(x);
    case 'tanh': return (tf, x) => tf.tanh(x);
    case 'sigmoid': return (tf, x) => tf.sigmoid(x);
    case 'affine': return (tf, x) => tf.add(tf.mul(x, alpha), beta);
    case 'leakyrelu': return (tf, x) => tf.where(tf.less(x, 0), tf.mul(x, alpha), x);
    case 'thresholdedrelu': return (tf, x) => tf.where(tf.greater(x, alpha), x, tf.zerosLike(x));
    case 'scaledtanh': return (tf, x) => tf.mul(tf.tanh(tf.mul(x, beta)), alpha);
    case 'hardsigmoid': return (tf, x) => tf.clipByValue(tf.add(tf.mul(x, alpha), beta), 0, 1);
    case 'elu': return (tf, x) => tf.where(tf.less(x, 0), tf.mul(tf.sub(tf.exp(x), 1), alpha), x);
    case 'softsign': return (tf, x) => tf.div(x, tf.add(tf.abs(x), 1));
    case 'softplus': return (tf, x) => tf.softplus(x);
    default: throw new Error(`activation ${name} is not supported`);
  }
}

function directions(node: Node): number {
  const d = node.attrString('direction', 'forward');
  return d === 'bidirectional' ? 2 : 1;
}

function checkRnn(kind: Kind) {
  return (node: Node): string | undefined => {
    const d = node.attrString('direction', 'forward');
    if (!['forward', 'reverse', 'bidirectional'].includes(d)) return `direction '${d}' is unknown`;
    const acts = node.attrStrings('activations');
    if (acts) {
      const want = (kind === 'LSTM' ? 3 : kind === 'GRU' ? 2 : 1) * directions(node);
      if (acts.length !== want) return `activations lists ${acts.length} functions, expected ${want}`;
      const bad = acts.filter((a) => !ACT_PARAMS[a.toLowerCase()]);
      if (bad.length) return `activation ${bad.join(', ')} is not supported`;
    }
    return undefined;
  };
}

/** Activation functions per direction, consuming activation_alpha/beta in order. */
function activations(node: Node, kind: Kind, dirs: number): Act[][] {
  const per = DEFAULT_ACTS[kind].length;
  const names = node.attrStrings('activations') ?? Array.from({ length: dirs }, () => DEFAULT_ACTS[kind]).flat();
  const alphas = node.attrFloats('activation_alpha', []);
  const betas = node.attrFloats('activation_beta', []);
  let ai = 0;
  let bi = 0;
  const fns = names.map((n) => {
    const p = ACT_PARAMS[n.toLowerCase()];
    if (!p) throw unsupportedNode(node, `activation ${n} is not supported`);
    const alpha = p[0] ? (alphas[ai++] ?? p[2]) : p[2];
    const beta = p[1] ? (betas[bi++] ?? p[3]) : p[3];
    return makeAct(n, alpha, beta);
  });
  return Array.from({ length: dirs }, (_, d) => fns.slice(d * per, d * per + per));
}

function runRecurrent(kind: Kind, { tf, node, inputs }: KernelContext): RT[] {
  const x = need(node, inputs, 0, 'X');
  const wIn = need(node, inputs, 1, 'W');
  const rIn = need(node, inputs, 2, 'R');
  const bIn = inputs[3];
  const lensIn = readNumbers(inputs[4]);
  const layout = node.attrInt('layout', 0);
  const dirs = directions(node);
  const reverseOnly = node.attrString('direction', 'forward') === 'reverse';
  const g = GATES[kind];
  const hidden = node.attrInt('hidden_size') ?? rIn.t.shape[2]!;
  const clip = node.attrFloat('clip');
  const lbr = node.attrInt('linear_before_reset', 0) === 1;
  const inputForget = node.attrInt('input_forget', 0) === 1;
  const acts = activations(node, kind, dirs);
  if (wIn.t.shape[0] !== dirs || wIn.t.shape[1] !== g * hidden) {
    throw invalidInput(node, `W has shape [${wIn.t.shape}], expected [${dirs}, ${g * hidden}, input_size]`);
  }

  const xs = tf.tidy(() => {
    const xf = tf.cast(x.t, 'float32');
    return layout === 1 ? tf.transpose(xf, [1, 0, 2]) : tf.clone(xf);
  });
  const [seq, batch, inSize] = xs.shape as [number, number, number];
  const lens = lensIn && lensIn.length ? lensIn : undefined;
  const fullLens = !lens || lens.every((l) => l >= seq);
  /** Per-step validity masks [batch, 1] (only when some sequences are short). */
  const masks: T[] = fullLens ? [] : Array.from({ length: seq }, (_, t) =>
    tf.tensor2d(lens!.map((l) => (t < l ? 1 : 0)), [batch, 1], 'float32'));

  const initial = (idx: number): T | undefined => {
    const v = inputs[idx];
    if (!v) return undefined;
    return tf.tidy(() => {
      const f = tf.cast(v.t, 'float32');
      return layout === 1 ? tf.transpose(f, [1, 0, 2]) : tf.clone(f);
    });
  };
  const h0All = initial(5);
  const c0All = kind === 'LSTM' ? initial(6) : undefined;
  const pAll = kind === 'LSTM' && inputs[7] ? tf.cast(inputs[7].t, 'float32') : undefined;

  const yPerDir: T[][] = [];
  const hLast: T[] = [];
  const cLast: T[] = [];
  const clipT = (v: T): T => (clip !== undefined ? tf.clipByValue(v, -clip, clip) : v);

  for (let d = 0; d < dirs; d++) {
    const reverse = dirs === 2 ? d === 1 : reverseOnly;
    const [f, gAct, hAct] = acts[d]! as [Act, Act, Act];
    // Input projection for all steps: [seq*batch, g*H] + Wb (+ Rb where foldable).
    const { xw, rt_, rbh, peep } = tf.tidy(() => {
      const w = tf.squeeze(tf.slice(tf.cast(wIn.t, 'float32'), [d, 0, 0], [1, g * hidden, inSize]), [0]);
      const r = tf.squeeze(tf.slice(tf.cast(rIn.t, 'float32'), [d, 0, 0], [1, g * hidden, hidden]), [0]);
      let wb: T = tf.zeros([g * hidden]);
      let rb: T = tf.zeros([g * hidden]);
      if (bIn) {
        const b = tf.cast(bIn.t, 'float32');
        wb = tf.reshape(tf.slice(b, [d, 0], [1, g * hidden]), [g * hidden]);
        rb = tf.reshape(tf.slice(b, [d, g * hidden], [1, g * hidden]), [g * hidden]);
      }
      let bias = tf.add(wb, rb);
      let rbhOut: T | undefined;
      if (kind === 'GRU') {
        // The recurrent bias of the h gate is applied inside the gate.
        const keep = tf.concat([tf.ones([2 * hidden]), tf.zeros([hidden])]);
        bias = tf.add(wb, tf.mul(rb, keep));
        rbhOut = tf.slice(rb, [2 * hidden], [hidden]);
      }
      const proj = tf.add(tf.matMul(tf.reshape(xs, [seq * batch, inSize]), w, false, true), bias);
      const p = pAll ? tf.reshape(tf.slice(pAll, [d, 0], [1, 3 * hidden]), [3 * hidden]) : undefined;
      return {
        xw: tf.reshape(proj, [seq, batch, g * hidden]),
        rt_: tf.transpose(r),
        rbh: rbhOut,
        peep: p,
      };
    });
    const stateOf = (all: T | undefined): T => tf.tidy(() =>
      (all ? tf.squeeze(tf.slice(all, [d, 0, 0], [1, batch, hidden]), [0]) : tf.zeros([batch, hidden])));
    let h: T = stateOf(h0All);
    let c: T | undefined = kind === 'LSTM' ? stateOf(c0All) : undefined;
    const ys: T[] = new Array<T>(seq);
    for (let s = 0; s < seq; s++) {
      const t = reverse ? seq - 1 - s : s;
      const hPrev = h;
      const cPrev = c;
      const out = tf.tidy(() => {
        const xt = tf.squeeze(tf.slice(xw, [t, 0, 0], [1, batch, g * hidden]), [0]);
        let hNew: T;
        let cNew: T | undefined;
        if (kind === 'RNN') {
          hNew = f(tf, clipT(tf.add(xt, tf.matMul(hPrev, rt_))));
        } else if (kind === 'LSTM') {
          const gates = tf.add(xt, tf.matMul(hPrev, rt_));
          const [gi, go, gf, gc] = tf.split(gates, 4, 1) as [T, T, T, T];
          let pi: T | undefined, po: T | undefined, pf: T | undefined;
          if (peep) [pi, po, pf] = tf.split(peep, 3, 0) as [T, T, T];
          const i = f(tf, clipT(pi ? tf.add(gi, tf.mul(pi, cPrev!)) : gi));
          const fg = inputForget ? tf.sub(1, i) : f(tf, clipT(pf ? tf.add(gf, tf.mul(pf, cPrev!)) : gf));
          const cc = gAct(tf, clipT(gc));
          cNew = tf.add(tf.mul(fg, cPrev!), tf.mul(i, cc));
          const o = f(tf, clipT(po ? tf.add(go, tf.mul(po, cNew)) : go));
          hNew = tf.mul(o, hAct(tf, cNew));
        } else {
          const [xz, xr, xh] = tf.split(xt, 3, 1) as [T, T, T];
          const [rz, rr, rh] = tf.split(rt_, 3, 1) as [T, T, T];
          const z = f(tf, clipT(tf.add(xz, tf.matMul(hPrev, rz))));
          const r = f(tf, clipT(tf.add(xr, tf.matMul(hPrev, rr))));
          const hh = lbr
            ? gAct(tf, clipT(tf.add(xh, tf.mul(r, tf.add(tf.matMul(hPrev, rh), rbh!)))))
            : gAct(tf, clipT(tf.add(xh, tf.add(tf.matMul(tf.mul(r, hPrev), rh), rbh!))));
          hNew = tf.add(tf.mul(tf.sub(1, z), hh), tf.mul(z, hPrev));
        }
        let y = hNew;
        if (masks.length) {
          const m = masks[t]!;
          const keep = tf.sub(1, m);
          y = tf.mul(hNew, m);
          hNew = tf.add(y, tf.mul(hPrev, keep));
          if (cNew) cNew = tf.add(tf.mul(cNew, m), tf.mul(cPrev!, keep));
        }
        return cNew ? { y, hNew, cNew } : { y, hNew };
      });
      ys[t] = out.y;
      h = out.hNew;
      c = out.cNew ?? c;
      // The previous state is still referenced by ys[t-1] only if it is the same tensor.
      if (hPrev !== out.y && !ys.includes(hPrev)) hPrev.dispose();
      if (cPrev && cPrev !== c) cPrev.dispose();
    }
    yPerDir.push(ys);
    hLast.push(h);
    if (c) cLast.push(c);
    xw.dispose(); rt_.dispose(); rbh?.dispose(); peep?.dispose();
  }
  for (const m of masks) m.dispose();
  xs.dispose(); h0All?.dispose(); c0All?.dispose(); pAll?.dispose();

  const results: RT[] = [];
  const dtype = x.dtype;
  if (wantsOutput(node, 0)) {
    const y = tf.tidy(() => {
      // [seq, dirs, batch, H]
      const steps = Array.from({ length: seq }, (_, t) => tf.stack(yPerDir.map((ys) => ys[t]!), 0));
      const yy = seq ? tf.stack(steps, 0) : tf.zeros([0, dirs, batch, hidden]);
      return layout === 1 ? tf.transpose(yy, [2, 0, 1, 3]) : yy;
    });
    results.push(rt(tf, y, dtype));
  } else results.push(rt(tf, tf.zeros([0]), dtype));
  for (const ys of yPerDir) for (const y of ys) if (!hLast.includes(y)) y.dispose();
  const stackState = (ts: T[]): T => tf.tidy(() => {
    const s = tf.stack(ts, 0);
    return layout === 1 ? tf.transpose(s, [1, 0, 2]) : s;
  });
  results.push(rt(tf, stackState(hLast), dtype));
  if (kind === 'LSTM') results.push(rt(tf, stackState(cLast), dtype));
  for (const t of [...hLast, ...cLast]) t.dispose();
  return results;
}

export const rnnKernels = {
  LSTM: { check: checkRnn('LSTM'), run: (ctx: KernelContext) => runRecurrent('LSTM', ctx) } as KernelDef,
  GRU: { check: checkRnn('GRU'), run: (ctx: KernelContext) => runRecurrent('GRU', ctx) } as KernelDef,
  RNN: { check: checkRnn('RNN'), run: (ctx: KernelContext) => runRecurrent('RNN', ctx) } as KernelDef,
};
