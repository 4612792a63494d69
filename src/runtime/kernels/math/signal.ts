/**
 * Signal ops (opset 17) on the JS side, in doubles: DFT, STFT and MelWeightMatrix.
 * Complex values use ONNX's layout: a trailing dim of 2 (real, imaginary); real inputs may
 * have a trailing dim of 1. FFTs (radix 2, Bluestein for other long lengths) or a direct sum for short signals.
 */
import type { Node } from '../../../ir/graph.js';
import { shapeSize } from '../../../ir/tensor.js';
import type { KernelContext, KernelTable } from '../types.js';
import { dtypeFromAttr, fromData, kernel, nodeError, normAxis, numbersOf, opt, req, scalarOf } from './util.js';

/** A radix-2 FFT of length m (a power of two) with precomputed twiddles and bit reversal. */
class Pow2Fft {
  private readonly rev: Uint32Array;
  private readonly cos: Float64Array;
  private readonly sin: Float64Array;
  constructor(readonly m: number) {
    this.rev = new Uint32Array(m);
    for (let i = 1, j = 0; i < m; i++) {
      let bit = m >> 1;
      for (; j & bit; bit >>= 1) j ^= bit;
      j ^= bit;
      this.rev[i] = j;
    }
    this.cos = new Float64Array(m >> 1);
    this.sin = new Float64Array(m >> 1);
    for (let k = 0; k < m >> 1; k++) {
      this.cos[k] = Math.cos((2 * Math.PI * k) / m);
      this.sin[k] = Math.sin((2 * Math.PI * k) / m);
    }
  }

  /** In place; sign -1 forward, +1 inverse (unscaled). */
  run(re: Float64Array, im: Float64Array, sign: number): void {
    const m = this.m;
    for (let i = 1; i < m; i++) {
      const j = this.rev[i]!;
      if (i < j) {
        const tr = re[i]!;
        re[i] = re[j]!;
        re[j] = tr;
        const ti = im[i]!;
        im[i] = im[j]!;
        im[j] = ti;
      }
    }
    for (let len = 2; len <= m; len <<= 1) {
      const half = len >> 1;
      const step = m / len;
      for (let k = 0; k < half; k++) {
        const wr = this.cos[k * step]!;
        const wi = sign * this.sin[k * step]!;
        for (let a = k; a < m; a += len) {
          const b = a + half;
          const xr = re[b]! * wr - im[b]! * wi;
          const xi = re[b]! * wi + im[b]! * wr;
          re[b] = re[a]! - xr;
          im[b] = im[a]! - xi;
          re[a] = re[a]! + xr;
          im[a] = im[a]! + xi;
        }
      }
    }
  }
}

/**
 * A DFT of length n: returns a function transforming (re, im) in place (arrays of at least n
 * values), where only the first `count` outputs are needed. `sign` -1 is the forward transform,
 * +1 the inverse (without the 1/n factor). Power-of-two lengths use a radix-2 FFT, short other
 * lengths a direct sum, long ones Bluestein's chirp-z algorithm on a power-of-two FFT.
 */
export function dftPlan(n: number, sign: number, count = n): (re: Float64Array, im: Float64Array) => void {
  if (n <= 1) return () => {};
  if ((n & (n - 1)) === 0) {
    const fft = new Pow2Fft(n);
    return (re, im) => fft.run(re, im, sign);
  }
  return n <= 64 ? directPlan(n, sign, count) : bluesteinPlan(n, sign, count);
}

function directPlan(n: number, sign: number, count: number): (re: Float64Array, im: Float64Array) => void {
  const cos = new Float64Array(n);
  const sin = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    cos[k] = Math.cos((2 * Math.PI * k) / n);
    sin[k] = sign * Math.sin((2 * Math.PI * k) / n);
  }
  const outRe = new Float64Array(count);
  const outIm = new Float64Array(count);
  return (re, im) => {
    for (let k = 0; k < count; k++) {
      let sr = 0;
      let si = 0;
      let idx = 0;
      for (let j = 0; j < n; j++) {
        // e^{sign*2*pi*i*j*k/n} = cos + i*sin, with the angle index j*k mod n.
        const c = cos[idx]!;
        const s = sin[idx]!;
        sr += re[j]! * c - im[j]! * s;
        si += re[j]! * s + im[j]! * c;
        idx += k;
        if (idx >= n) idx -= n;
      }
      outRe[k] = sr;
      outIm[k] = si;
    }
    re.set(outRe);
    im.set(outIm);
  };
}

/**
 * Bluestein: with jk = (j^2 + k^2 - (k-j)^2) / 2, the DFT is a convolution of x_j w_j with
 * conj(w_t), w_t = e^{sign*pi*i*t^2/n}, followed by a product with w_k; the convolution runs
 * as FFTs of a power-of-two length m >= 2n - 1.
 */
function bluesteinPlan(n: number, sign: number, count: number): (re: Float64Array, im: Float64Array) => void {
  let m = 1;
  while (m < 2 * n - 1) m <<= 1;
  const fft = new Pow2Fft(m);
  const wr = new Float64Array(n);
  const wi = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    const t = (k * k) % (2 * n); // keeps the angle small and exact
    wr[k] = Math.cos((sign * Math.PI * t) / n);
    wi[k] = Math.sin((sign * Math.PI * t) / n);
  }
  const br = new Float64Array(m);
  const bi = new Float64Array(m);
  br[0] = wr[0]!;
  bi[0] = -wi[0]!;
  for (let j = 1; j < n; j++) {
    br[j] = br[m - j] = wr[j]!;
    bi[j] = bi[m - j] = -wi[j]!;
  }
  fft.run(br, bi, -1);
  const ar = new Float64Array(m);
  const ai = new Float64Array(m);
  return (re, im) => {
    ar.fill(0);
    ai.fill(0);
    for (let j = 0; j < n; j++) {
      ar[j] = re[j]! * wr[j]! - im[j]! * wi[j]!;
      ai[j] = re[j]! * wi[j]! + im[j]! * wr[j]!;
    }
    fft.run(ar, ai, -1);
    for (let j = 0; j < m; j++) {
      const xr = ar[j]! * br[j]! - ai[j]! * bi[j]!;
      ai[j] = ar[j]! * bi[j]! + ai[j]! * br[j]!;
      ar[j] = xr;
    }
    fft.run(ar, ai, 1);
    for (let k = 0; k < count; k++) {
      const cr = ar[k]! / m;
      const ci = ai[k]! / m;
      re[k] = cr * wr[k]! - ci * wi[k]!;
      im[k] = cr * wi[k]! + ci * wr[k]!;
    }
  };
}

function complexInput(node: Node, shape: number[]): boolean {
  const last = shape[shape.length - 1];
  if (last !== 1 && last !== 2) throw nodeError(node, `the last dimension must be 1 (real) or 2 (complex), got [${shape.join(', ')}]`);
  return last === 2;
}

function dft(ctx: KernelContext) {
  const { tf, node } = ctx;
  const x = req(ctx, 0);
  const lenIn = opt(ctx, 1);
  const shape = x.t.shape;
  const isComplex = complexInput(node, shape);
  const rank = shape.length;
  const axis = normAxis(node.attrInt('axis', 1), rank, node);
  if (axis === 0 || axis === rank - 1) throw nodeError(node, `axis ${axis} must be a signal dimension (not the batch or the complex dim)`);
  const inverse = node.attrInt('inverse', 0) !== 0;
  const onesided = node.attrInt('onesided', 0) !== 0;
  const inLen = shape[axis]!;
  const n = lenIn ? scalarOf(lenIn, node, 'dft_length') : inLen;
  if (!Number.isInteger(n) || n < 1) throw nodeError(node, `dft_length must be a positive integer, got ${n}`);
  const outLen = onesided ? Math.floor(n / 2) + 1 : n;
  const outer = shapeSize(shape.slice(0, axis));
  const inner = shapeSize(shape.slice(axis + 1, rank - 1));
  const c = isComplex ? 2 : 1;
  const data = numbersOf(x);
  const outShape = [...shape.slice(0, axis), outLen, ...shape.slice(axis + 1, rank - 1), 2];
  const out = new Float64Array(shapeSize(outShape));
  const re = new Float64Array(n);
  const im = new Float64Array(n);
  const scale = inverse ? 1 / n : 1;
  const transform = dftPlan(n, inverse ? 1 : -1, outLen);
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      re.fill(0);
      im.fill(0);
      for (let j = 0; j < Math.min(n, inLen); j++) {
        const src = ((o * inLen + j) * inner + i) * c;
        re[j] = data[src]!;
        if (isComplex) im[j] = data[src + 1]!;
      }
      transform(re, im);
      for (let k = 0; k < outLen; k++) {
        const dst = ((o * outLen + k) * inner + i) * 2;
        out[dst] = re[k]! * scale;
        out[dst + 1] = im[k]! * scale;
      }
    }
  }
  return [fromData(tf, out, outShape, x.dtype)];
}

function stft(ctx: KernelContext) {
  const { tf, node } = ctx;
  const x = req(ctx, 0);
  const step = scalarOf(req(ctx, 1), node, 'frame_step');
  const windowIn = opt(ctx, 2);
  const lengthIn = opt(ctx, 3);
  const shape = x.t.shape;
  if (shape.length !== 3) throw nodeError(node, `signal must be [batch, length, 1 or 2], got [${shape.join(', ')}]`);
  const isComplex = complexInput(node, shape);
  const onesided = node.attrInt('onesided', 1) !== 0;
  const window = windowIn ? numbersOf(windowIn) : undefined;
  const frameLen = lengthIn ? scalarOf(lengthIn, node, 'frame_length') : window?.length;
  if (frameLen === undefined) throw nodeError(node, 'STFT needs a window or a frame_length');
  if (window && window.length !== frameLen) throw nodeError(node, `window has ${window.length} values, frame_length is ${frameLen}`);
  if (!(step > 0)) throw nodeError(node, `frame_step must be positive, got ${step}`);
  const [batch, sigLen] = shape as [number, number];
  if (frameLen > sigLen) throw nodeError(node, `frame_length ${frameLen} exceeds the signal length ${sigLen}`);
  const frames = Math.floor((sigLen - frameLen) / step) + 1;
  const bins = onesided ? Math.floor(frameLen / 2) + 1 : frameLen;
  const c = isComplex ? 2 : 1;
  const data = numbersOf(x);
  const outShape = [batch, frames, bins, 2];
  const out = new Float64Array(shapeSize(outShape));
  const re = new Float64Array(frameLen);
  const im = new Float64Array(frameLen);
  const transform = dftPlan(frameLen, -1, bins);
  for (let b = 0; b < batch; b++) {
    for (let f = 0; f < frames; f++) {
      for (let j = 0; j < frameLen; j++) {
        const src = (b * sigLen + f * step + j) * c;
        const w = window ? window[j]! : 1;
        re[j] = data[src]! * w;
        im[j] = isComplex ? data[src + 1]! * w : 0;
      }
      transform(re, im);
      for (let k = 0; k < bins; k++) {
        const dst = ((b * frames + f) * bins + k) * 2;
        out[dst] = re[k]!;
        out[dst + 1] = im[k]!;
      }
    }
  }
  return [fromData(tf, out, outShape, x.dtype)];
}

function melWeightMatrix(ctx: KernelContext) {
  const { tf, node } = ctx;
  const numMel = scalarOf(req(ctx, 0), node, 'num_mel_bins');
  const dftLen = scalarOf(req(ctx, 1), node, 'dft_length');
  const rate = scalarOf(req(ctx, 2), node, 'sample_rate');
  const lowHz = scalarOf(req(ctx, 3), node, 'lower_edge_hertz');
  const highHz = scalarOf(req(ctx, 4), node, 'upper_edge_hertz');
  const dtype = dtypeFromAttr(node, 'output_datatype', 1);
  const specBins = Math.floor(dftLen / 2) + 1;
  const toMel = (hz: number) => 2595 * Math.log10(1 + hz / 700);
  const lowMel = toMel(lowHz);
  // ONNX's definition (its reference and test data) divides the mel range by the number of
  // band edges, numMel + 2, so the last edge stays below upper_edge_hertz.
  const melStep = (toMel(highHz) - lowMel) / (numMel + 2);
  // numMel + 2 band edges, evenly spaced in mel, mapped to spectrogram bin indices.
  const edges = Array.from({ length: numMel + 2 }, (_, i) => {
    const hz = 700 * (Math.pow(10, (lowMel + i * melStep) / 2595) - 1);
    return Math.floor(((dftLen + 1) * hz) / rate);
  });
  const out = new Float64Array(specBins * numMel);
  const set = (bin: number, mel: number, v: number) => {
    if (bin >= 0 && bin < specBins) out[bin * numMel + mel] = v;
  };
  for (let m = 0; m < numMel; m++) {
    const [lo, mid, hi] = [edges[m]!, edges[m + 1]!, edges[m + 2]!];
    if (mid === lo) set(mid, m, 1);
    else for (let j = lo; j <= mid; j++) set(j, m, (j - lo) / (mid - lo));
    if (hi > mid) for (let j = mid; j < hi; j++) set(j, m, (hi - j) / (hi - mid));
  }
  return [fromData(tf, out, [specBins, numMel], dtype)];
}

export const signalKernels: KernelTable = {
  DFT: kernel(dft),
  STFT: kernel(stft),
  MelWeightMatrix: kernel(melWeightMatrix),
};
