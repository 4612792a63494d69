/**
 * isclose-style comparison of outputs: an element agrees when |actual - expected| <= atol + rtol*|expected|.
 * NaN agrees only with NaN at the same place; +Inf/-Inf only with the same infinity.
 */
import { Tensor, formatShape } from '../ir/tensor.js';

export interface CompareOptions {
  atol?: number;
  rtol?: number;
  /** Treat NaN == NaN at the same position as agreement (default true). */
  nanEqual?: boolean;
}

export interface OutputReport {
  name: string;
  ok: boolean;
  dtype: string;
  shape: number[];
  expectedShape: number[];
  /** Set when the outputs cannot be compared element by element (shape or dtype disagree). */
  problem?: string;
  elements: number;
  /** Elements beyond atol + rtol*|expected| (NaN/Inf disagreements included). */
  mismatches: number;
  maxAbsError: number;
  maxRelError: number;
  meanAbsError: number;
  /** Flat index of the worst element (largest excess over the tolerance), -1 when none. */
  worstIndex: number;
  worstActual?: number | string;
  worstExpected?: number | string;
  /** NaN where the other side is not NaN (both directions). */
  nanMismatches: number;
  /** Infinity where the other side differs. */
  infMismatches: number;
}

export interface CompareReport {
  ok: boolean;
  atol: number;
  rtol: number;
  outputs: OutputReport[];
}

export const DEFAULT_ATOL = 1e-5;
export const DEFAULT_RTOL = 1e-4;

function values(t: Tensor): Float64Array | string[] {
  if (t.dtype === 'string') return t.stringValues();
  return t.toFloat64();
}

export function compareTensors(name: string, actual: Tensor, expected: Tensor, opts: CompareOptions = {}): OutputReport {
  const atol = opts.atol ?? DEFAULT_ATOL;
  const rtol = opts.rtol ?? DEFAULT_RTOL;
  const nanEqual = opts.nanEqual ?? true;
  const base: OutputReport = {
    name,
    ok: false,
    dtype: actual.dtype,
    shape: actual.shape,
    expectedShape: expected.shape,
    elements: expected.size,
    mismatches: 0,
    maxAbsError: 0,
    maxRelError: 0,
    meanAbsError: 0,
    worstIndex: -1,
    nanMismatches: 0,
    infMismatches: 0,
  };
  const sameShape = actual.shape.length === expected.shape.length && actual.shape.every((d, i) => d === expected.shape[i]);
  if (!sameShape) {
    return { ...base, mismatches: expected.size, problem: `shape ${formatShape(actual.shape)} differs from expected ${formatShape(expected.shape)}` };
  }
  if ((actual.dtype === 'string') !== (expected.dtype === 'string')) {
    return { ...base, mismatches: expected.size, problem: `dtype ${actual.dtype} cannot be compared with ${expected.dtype}` };
  }
  const a = values(actual);
  const e = values(expected);
  if (typeof a[0] === 'string' || typeof e[0] === 'string') {
    let mism = 0;
    let worst = -1;
    for (let i = 0; i < e.length; i++) if (a[i] !== e[i]) { mism++; if (worst < 0) worst = i; }
    return { ...base, ok: mism === 0, mismatches: mism, worstIndex: worst, worstActual: worst >= 0 ? (a[worst] as string) : undefined, worstExpected: worst >= 0 ? (e[worst] as string) : undefined };
  }
  const av = a as Float64Array;
  const ev = e as Float64Array;
  let mism = 0, nanM = 0, infM = 0, maxAbs = 0, maxRel = 0, sumAbs = 0, finiteCount = 0;
  let worst = -1, worstExcess = -Infinity;
  for (let i = 0; i < ev.length; i++) {
    const x = av[i]!, y = ev[i]!;
    const xn = Number.isNaN(x), yn = Number.isNaN(y);
    if (xn || yn) {
      if (xn && yn && nanEqual) continue;
      nanM++; mism++;
      if (worstExcess < Infinity) { worstExcess = Infinity; worst = i; }
      continue;
    }
    if (!Number.isFinite(x) || !Number.isFinite(y)) {
      if (x === y) continue;
      infM++; mism++;
      if (worstExcess < Infinity) { worstExcess = Infinity; worst = i; }
      continue;
    }
    const abs = Math.abs(x - y);
    const rel = y !== 0 ? abs / Math.abs(y) : abs === 0 ? 0 : Infinity;
    sumAbs += abs; finiteCount++;
    if (abs > maxAbs) maxAbs = abs;
    if (rel > maxRel) maxRel = rel;
    const tol = atol + rtol * Math.abs(y);
    const excess = abs - tol;
    if (excess > 0) mism++;
    if (excess > worstExcess) { worstExcess = excess; worst = i; }
  }
  return {
    ...base,
    ok: mism === 0,
    mismatches: mism,
    nanMismatches: nanM,
    infMismatches: infM,
    maxAbsError: maxAbs,
    maxRelError: maxRel,
    meanAbsError: finiteCount ? sumAbs / finiteCount : 0,
    worstIndex: worst,
    worstActual: worst >= 0 ? av[worst] : undefined,
    worstExpected: worst >= 0 ? ev[worst] : undefined,
  };
}

/** Compares every expected output (matched by name, or by position when `byPosition`). */
export function compareOutputs(
  actual: Map<string, Tensor>,
  expected: Map<string, Tensor>,
  opts: CompareOptions & { byPosition?: boolean } = {},
): CompareReport {
  const atol = opts.atol ?? DEFAULT_ATOL;
  const rtol = opts.rtol ?? DEFAULT_RTOL;
  const outputs: OutputReport[] = [];
  const aNames = [...actual.keys()];
  [...expected.entries()].forEach(([name, exp], i) => {
    const act = opts.byPosition ? actual.get(aNames[i]!) : actual.get(name);
    if (!act) {
      outputs.push({
        name, ok: false, dtype: exp.dtype, shape: [], expectedShape: exp.shape, problem: 'output missing',
        elements: exp.size, mismatches: exp.size, maxAbsError: NaN, maxRelError: NaN, meanAbsError: NaN,
        worstIndex: -1, nanMismatches: 0, infMismatches: 0,
      });
      return;
    }
    outputs.push(compareTensors(name, act, exp, opts));
  });
  return { ok: outputs.every((o) => o.ok), atol, rtol, outputs };
}

function fmt(x: number | string | undefined): string {
  if (x === undefined) return '-';
  if (typeof x === 'string') return JSON.stringify(x);
  if (!Number.isFinite(x)) return String(x);
  return x === 0 ? '0' : Math.abs(x) >= 1e-3 && Math.abs(x) < 1e5 ? x.toPrecision(6) : x.toExponential(3);
}

/** A readable multi-line report. */
export function formatReport(r: CompareReport): string {
  const lines = [`isclose: |a - b| <= ${r.atol} + ${r.rtol} * |b|`];
  for (const o of r.outputs) {
    const status = o.ok ? 'PASS' : 'FAIL';
    if (o.problem) {
      lines.push(`  ${status} ${o.name}: ${o.problem}`);
      continue;
    }
    lines.push(
      `  ${status} ${o.name} ${o.dtype}${formatShape(o.shape)}: max abs ${fmt(o.maxAbsError)}, max rel ${fmt(o.maxRelError)}, mean abs ${fmt(o.meanAbsError)}, ` +
        `${o.mismatches}/${o.elements} beyond tolerance` +
        (o.nanMismatches ? `, ${o.nanMismatches} NaN mismatches` : '') +
        (o.infMismatches ? `, ${o.infMismatches} Inf mismatches` : '') +
        (o.worstIndex >= 0 && !o.ok ? `; worst at flat index ${o.worstIndex}: got ${fmt(o.worstActual)}, expected ${fmt(o.worstExpected)}` : ''),
    );
  }
  lines.push(r.ok ? 'all outputs agree' : `${r.outputs.filter((o) => !o.ok).length} of ${r.outputs.length} outputs disagree`);
  return lines.join('\n');
}
