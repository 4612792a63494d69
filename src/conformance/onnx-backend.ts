/**
 * The ONNX backend test suite (Debian's libonnx-testdata) run through the ONNX reader and the
 * runtime. Every case ends as pass, fail (with its worst error) or unsupported (with the reason).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadModel } from '../formats/registry.js';
import { decodeTensorProto } from '../formats/onnx/tensor-proto.js';
import { Session, unsupportedNodes } from '../runtime/session.js';
import { compareOutputs } from '../runtime/compare.js';
import { Tensor as IRTensor } from '../ir/tensor.js';
type Tensor = IRTensor;
import { subgraphsOf, type Graph } from '../ir/graph.js';
import { MconvError } from '../errors.js';

export const DEFAULT_TESTDATA_ROOT = '/usr/share/libonnx-testdata/data';
export const SUITES = ['node', 'simple'] as const;
export type Suite = (typeof SUITES)[number];

export type CaseStatus = 'pass' | 'fail' | 'unsupported';

export interface CaseResult {
  suite: Suite;
  name: string;
  status: CaseStatus;
  /** Why it failed or is unsupported. */
  reason?: string;
  /** Ops the runtime has no kernel for (unsupported cases). */
  missingOps?: string[];
  maxAbsError?: number;
  maxRelError?: number;
  ms: number;
}

export interface SuiteOptions {
  root?: string;
  suites?: Suite[];
  /** Only cases whose name matches. */
  filter?: RegExp;
  /** Only these case names. */
  only?: Set<string>;
  backend?: string;
  atol?: number;
  rtol?: number;
  onCase?: (r: CaseResult, index: number, total: number) => void;
}

/** Tolerances of the suite: float32 kernels against float32/float64 references. */
export const CONFORMANCE_ATOL = 1e-5;
export const CONFORMANCE_RTOL = 1e-3;

export function listCases(root: string, suite: Suite): string[] {
  const dir = join(root, suite);
  if (!existsSync(dir)) return [];
  return readdirSync(dir).filter((d) => existsSync(join(dir, d, 'model.onnx'))).sort();
}

function allOps(g: Graph, acc = new Set<string>()): Set<string> {
  for (const n of g.nodes) {
    acc.add(n.domain ? `${n.domain}.${n.op}` : n.op);
    for (const sg of subgraphsOf(n)) allOps(sg, acc);
  }
  return acc;
}

/**
 * onnx 1.12 stores bfloat16 test tensors as uint16 bit patterns; reinterpret them as the
 * bfloat16 the graph declares (same bytes).
 */
function asDeclared(t: Tensor, declared: string | undefined): Tensor {
  if (declared === 'bfloat16' && t.dtype === 'uint16') return IRTensor.fromBytes('bfloat16', t.shape, t.bytes, t.name);
  return t;
}

function readPbs(dir: string, prefix: string): Tensor[] {
  const files = readdirSync(dir).filter((f) => f.startsWith(prefix) && f.endsWith('.pb'));
  files.sort((a, b) => Number(a.slice(prefix.length, -3)) - Number(b.slice(prefix.length, -3)));
  return files.map((f) => decodeTensorProto(readFileSync(join(dir, f))));
}

export async function runCase(root: string, suite: Suite, name: string, opts: SuiteOptions = {}): Promise<CaseResult> {
  const t0 = performance.now();
  const done = (r: Omit<CaseResult, 'ms' | 'suite' | 'name'>): CaseResult => ({ suite, name, ...r, ms: Math.round(performance.now() - t0) });
  const caseDir = join(root, suite, name);
  let session: Session | undefined;
  try {
    const model = await loadModel(join(caseDir, 'model.onnx'));
    const g = model.graph;
    const nonTensor = [...g.inputs, ...g.outputs].filter((v) => !v.dtype);
    if (nonTensor.length) {
      return done({ status: 'unsupported', reason: `non-tensor graph input/output (sequence/optional/map): ${nonTensor.map((v) => v.name).join(', ')}` });
    }
    const bad = unsupportedNodes(g);
    if (bad.length) {
      const missing = [...new Set(bad.map((b) => b.node.op))];
      return done({ status: 'unsupported', reason: [...new Set(bad.map((b) => `${b.node.op}: ${b.reason}`))].join('; '), missingOps: missing });
    }
    session = await Session.create(model, { backend: opts.backend });
    const dataSets = readdirSync(caseDir).filter((d) => d.startsWith('test_data_set_')).sort();
    let worstAbs = 0;
    let worstRel = 0;
    for (const ds of dataSets) {
      const dsDir = join(caseDir, ds);
      const inputs = readPbs(dsDir, 'input_');
      const expected = readPbs(dsDir, 'output_');
      const feeds = new Map<string, Tensor>();
      g.inputs.forEach((v, i) => {
        if (inputs[i]) feeds.set(v.name, asDeclared(inputs[i]!, v.dtype));
      });
      const outs = await session.run(feeds);
      const expMap = new Map<string, Tensor>();
      g.outputs.forEach((v, i) => {
        if (expected[i]) expMap.set(v.name, asDeclared(expected[i]!, v.dtype));
      });
      const report = compareOutputs(outs, expMap, { atol: opts.atol ?? CONFORMANCE_ATOL, rtol: opts.rtol ?? CONFORMANCE_RTOL });
      for (const o of report.outputs) {
        if (Number.isFinite(o.maxAbsError)) worstAbs = Math.max(worstAbs, o.maxAbsError);
        if (Number.isFinite(o.maxRelError)) worstRel = Math.max(worstRel, o.maxRelError);
      }
      if (!report.ok) {
        const bad = report.outputs.find((o) => !o.ok)!;
        const why = bad.problem ?? `${bad.mismatches}/${bad.elements} elements beyond tolerance, max abs ${bad.maxAbsError.toExponential(2)}, worst got ${bad.worstActual} expected ${bad.worstExpected}`;
        return done({ status: 'fail', reason: `${ds} output ${bad.name}: ${why}`, maxAbsError: worstAbs, maxRelError: worstRel });
      }
    }
    return done({ status: 'pass', maxAbsError: worstAbs, maxRelError: worstRel });
  } catch (e) {
    const msg = e instanceof MconvError ? e.oneLine() : `${(e as Error)?.name ?? 'Error'}: ${(e as Error)?.message ?? String(e)}`;
    const status: CaseStatus = e instanceof MconvError && e.kind === 'unsupported' && !/failed:/.test(e.message) ? 'unsupported' : 'fail';
    return done({ status, reason: msg.slice(0, 500) });
  } finally {
    session?.dispose();
  }
}

export async function runSuites(opts: SuiteOptions = {}): Promise<CaseResult[]> {
  const root = opts.root ?? DEFAULT_TESTDATA_ROOT;
  const work: [Suite, string][] = [];
  for (const s of opts.suites ?? SUITES) {
    for (const c of listCases(root, s)) {
      if (opts.filter && !opts.filter.test(c)) continue;
      if (opts.only && !opts.only.has(c)) continue;
      work.push([s, c]);
    }
  }
  const results: CaseResult[] = [];
  for (let i = 0; i < work.length; i++) {
    const [s, c] = work[i]!;
    const r = await runCase(root, s, c, opts);
    results.push(r);
    opts.onCase?.(r, i, work.length);
  }
  return results;
}

export interface SuiteSummary {
  backend: string;
  suites: Record<string, { total: number; pass: number; fail: number; unsupported: number }>;
  /** Ops without a kernel, with how many cases they block. */
  missingOps: { op: string; cases: number }[];
  cases: CaseResult[];
}

export function summarize(results: CaseResult[], backend: string): SuiteSummary {
  const suites: SuiteSummary['suites'] = {};
  const missing = new Map<string, number>();
  for (const r of results) {
    const s = (suites[r.suite] ??= { total: 0, pass: 0, fail: 0, unsupported: 0 });
    s.total++;
    s[r.status]++;
    for (const op of r.missingOps ?? []) missing.set(op, (missing.get(op) ?? 0) + 1);
  }
  return {
    backend,
    suites,
    missingOps: [...missing.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).map(([op, cases]) => ({ op, cases })),
    cases: results,
  };
}

export function markdownReport(s: SuiteSummary): string {
  const lines = [`# ONNX backend conformance (${s.backend})`, '', '| suite | cases | pass | fail | unsupported |', '|---|---:|---:|---:|---:|'];
  for (const [name, c] of Object.entries(s.suites)) lines.push(`| ${name} | ${c.total} | ${c.pass} | ${c.fail} | ${c.unsupported} |`);
  lines.push('', '## Ops without a kernel', '', '| op | cases blocked |', '|---|---:|');
  for (const m of s.missingOps) lines.push(`| ${m.op} | ${m.cases} |`);
  for (const status of ['fail', 'unsupported'] as const) {
    lines.push('', `## ${status === 'fail' ? 'Failing' : 'Unsupported'} cases`, '');
    for (const r of s.cases.filter((c) => c.status === status)) lines.push(`- \`${r.suite}/${r.name}\`: ${(r.reason ?? '').replace(/\|/g, '\\|')}`);
  }
  lines.push('', '## Passing cases', '');
  for (const r of s.cases.filter((c) => c.status === 'pass')) lines.push(`- \`${r.suite}/${r.name}\` (max abs ${r.maxAbsError?.toExponential(1) ?? '-'})`);
  return lines.join('\n') + '\n';
}
