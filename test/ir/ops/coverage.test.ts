/**
 * Every op the runtime can run has an IR schema (default and other domains), and the schemas
 * added for the sequence, text, signal and training ops match ONNX's definitions (python3-onnx)
 * and infer the dtypes and shapes of the ONNX backend cases' outputs (libonnx-testdata).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs/minimal.js';
import { describe, expect, it } from 'vitest';
import { onnxTypeOf } from '../../../src/formats/onnx/value-types.js';
import { decodeTensorProto } from '../../../src/formats/onnx/tensor-proto.js';
import { loadModel } from '../../../src/formats/registry.js';
import type { Graph, Value } from '../../../src/ir/graph.js';
import { inferShapes } from '../../../src/ir/infer.js';
import { validateGraph } from '../../../src/ir/validate.js';
import { getSchema } from '../../../src/ir/ops/registry.js';
import { VARYING_DIM, type OpSchema, type ValueType } from '../../../src/ir/ops/schema.js';
import type { Tensor } from '../../../src/ir/tensor.js';
import { DOMAIN_KERNELS, KERNELS } from '../../../src/runtime/kernels/index.js';
import { ONNX_DATA, compareDims, opsOf } from '../reference-helpers.js';

const PY = '/usr/bin/python3';
const TRAINING = 'ai.onnx.preview.training';

/** Every kernel as [domain, op]. DOMAIN_KERNELS keys are `<domain>.<op>`. */
function kernelOps(): [string, string][] {
  const out: [string, string][] = Object.keys(KERNELS).map((op) => ['', op]);
  for (const key of Object.keys(DOMAIN_KERNELS)) {
    const dot = key.lastIndexOf('.');
    out.push([key.slice(0, dot), key.slice(dot + 1)]);
  }
  return out;
}

/** The ops whose schemas this change adds (with the version python-onnx defines them at). */
const NEW_OPS: [string, string, number][] = [
  ...['SequenceEmpty', 'SequenceConstruct', 'SequenceInsert', 'SequenceErase', 'SequenceAt', 'SequenceLength',
    'ConcatFromSequence', 'SplitToSequence', 'StringNormalizer', 'TfIdfVectorizer', 'DFT', 'STFT', 'MelWeightMatrix',
  ].map((op): [string, string, number] => ['', op, 17]),
  ...['Gradient', 'Adagrad', 'Adam', 'Momentum'].map((op): [string, string, number] => [TRAINING, op, 1]),
];

describe('every runtime kernel has an IR op schema', () => {
  const ops = kernelOps();
  it(`${ops.length} kernels, default and other domains`, () => {
    expect(Object.keys(KERNELS).length).toBeGreaterThan(150);
    expect(Object.keys(DOMAIN_KERNELS).length).toBeGreaterThanOrEqual(4);
    const missing = ops.filter(([d, op]) => !getSchema(op, d)).map(([d, op]) => (d ? `${d}.${op}` : op));
    expect(missing).toEqual([]);
  });
  it('schemas are registered under their own domain only', () => {
    for (const [d, op] of ops) expect(getSchema(op, d)!.domain, `${d}.${op}`).toBe(d);
    expect(getSchema('Gradient')).toBeUndefined();
    expect(getSchema('Adam', TRAINING)!.family).toBe('training');
    for (const [d, op] of NEW_OPS) expect(getSchema(op, d), `${d}.${op}`).toBeDefined();
  });
});

// ---- schemas against python-onnx --------------------------------------------------------------

interface PyParam { name: string; optional: boolean; variadic: boolean }
interface PyAttr { kind: string; required: boolean; default: unknown }
interface PyDef { since: number; inputs: PyParam[]; outputs: PyParam[]; attrs: Record<string, PyAttr> }

function pythonDefs(): Record<string, PyDef> | undefined {
  if (!existsSync(PY)) return undefined;
  try {
    const script = fileURLToPath(new URL('./onnx-op-defs.py', import.meta.url));
    const args = NEW_OPS.map(([d, op, v]) => `${d}:${op}:${v}`);
    const defs = JSON.parse(execFileSync(PY, [script, ...args], { encoding: 'utf8' })) as Record<string, PyDef>;
    return Object.keys(defs).length ? defs : undefined;
  } catch {
    return undefined;
  }
}

const defs = pythonDefs();
if (!defs) console.warn('skipping the comparison of the new schemas with ONNX: /usr/bin/python3 with onnx is not available');

const paramText = (p: { name: string; optional: boolean; variadic: boolean }) =>
  `${p.name}${p.optional ? '?' : ''}${p.variadic ? '...' : ''}`;

describe.skipIf(!defs)('new schemas match the ONNX definitions (opset 17, preview training 1)', () => {
  for (const [domain, op] of NEW_OPS) {
    it(`${domain ? domain + '.' : ''}${op}`, () => {
      const ref = defs![`${domain}:${op}`];
      expect(ref, 'python-onnx knows the op').toBeDefined();
      const s = getSchema(op, domain) as OpSchema;
      expect(s.since).toBe(ref!.since);
      expect(s.inputs.length, 'input count').toBe(ref!.inputs.length);
      expect(s.outputs.length, 'output count').toBe(ref!.outputs.length);
      expect(s.inputs.map(paramText), 'inputs').toEqual(ref!.inputs.map(paramText));
      expect(s.outputs.map(paramText), 'outputs').toEqual(ref!.outputs.map(paramText));
      expect(s.attrs.map((x) => x.name).sort(), 'attribute names').toEqual(Object.keys(ref!.attrs).sort());
      for (const [name, ra] of Object.entries(ref!.attrs)) {
        const at = s.attrs.find((x) => x.name === name)!;
        expect(at.kind, `${name} kind`).toBe(ra.kind);
        expect(at.required, `${name} required`).toBe(ra.required);
        if (ra.default === null) expect(at.default, `${name} has no default`).toBeUndefined();
        else if (at.kind === 'float') expect(Math.fround(at.default as number), `${name} default`).toBe(ra.default);
        else expect(at.default, `${name} default`).toEqual(ra.default);
      }
    });
  }
});

// ---- ONNX backend cases -----------------------------------------------------------------------

const CASE_NAMES =
  /^test_(dft|stft|melweightmatrix|strnorm|tfidfvectorizer|sequence_|split_to_sequence|adagrad|adam|momentum|nesterov_momentum|gradient_of|if_seq|loop13_seq)/;

type Data = { kind: 'tensor'; t: Tensor } | { kind: 'sequence'; elems: Tensor[] };

/** A SequenceProto: field 3 holds the element TensorProtos. */
function decodeSequence(bytes: Uint8Array): Tensor[] {
  const r = protobuf.Reader.create(bytes);
  const elems: Tensor[] = [];
  while (r.pos < r.len) {
    const tag = r.uint32();
    if (tag >>> 3 === 3 && (tag & 7) === 2) elems.push(decodeTensorProto(r.bytes()));
    else r.skipType(tag & 7);
  }
  return elems;
}

function readData(file: string, v: Value): Data | undefined {
  if (!existsSync(file)) return undefined;
  const bytes = readFileSync(file);
  if (onnxTypeOf(v)?.sequenceType) return { kind: 'sequence', elems: decodeSequence(bytes) };
  return { kind: 'tensor', t: decodeTensorProto(bytes) };
}

function caseDirs(): string[] {
  const out: string[] = [];
  for (const suite of ['node', 'simple']) {
    const dir = path.join(ONNX_DATA, suite);
    if (!existsSync(dir)) continue;
    for (const name of readdirSync(dir).sort()) {
      if (CASE_NAMES.test(name) && existsSync(path.join(dir, name, 'model.onnx'))) out.push(path.join(dir, name));
    }
  }
  return out;
}

const fmt = (t: ValueType | undefined) => `${t?.dtype ?? '?'}[${t?.shape ? t.shape.join(', ') : '?'}]`;

/**
 * What is wrong with our type of an output against the data: a tensor must have its dtype and
 * dims (exactly when `exact`, else symbols allowed); a sequence's known elements must match.
 */
function outputProblems(t: ValueType | undefined, data: Data, exact: boolean): string | undefined {
  if (data.kind === 'tensor') {
    const want = data.t;
    const where = `inferred ${fmt(t)}, data ${want.dtype}[${want.shape.join(', ')}]`;
    if (t?.dtype !== want.dtype) return where;
    const c = compareDims(t.shape, want.shape);
    if (c === 'wrong' || (exact && c !== 'exact')) return where;
    return undefined;
  }
  const seq = t?.sequence;
  if (!seq) return t?.dtype || t?.shape ? `a sequence inferred as a tensor ${fmt(t)}` : undefined;
  const elems = data.elems;
  for (const e of elems) {
    if (seq.elem.dtype !== undefined && seq.elem.dtype !== e.dtype) return `element dtype ${seq.elem.dtype}, data ${e.dtype}`;
    const shared = seq.elem.shape?.map((d) => (d === VARYING_DIM ? 'any' : d));
    if (shared && compareDims(shared, e.shape) === 'wrong') return `element shape [${shared}], data [${e.shape}]`;
  }
  if (seq.items) {
    if (seq.items.length !== elems.length) return `${seq.items.length} elements inferred, data has ${elems.length}`;
    for (const [i, it] of seq.items.entries()) {
      const p = outputProblems(it, { kind: 'tensor', t: elems[i]! }, exact);
      if (p) return `element ${i}: ${p}`;
    }
  }
  return undefined;
}

interface CaseReport {
  name: string;
  skipped?: string;
  problems: string[];
  tensorOutputs: number;
  exactOutputs: number;
  sequenceOutputs: number;
  sequenceItemsKnown: number;
}

async function runCase(dir: string, withValues: boolean): Promise<CaseReport> {
  const name = `${path.basename(path.dirname(dir))}/${path.basename(dir)}`;
  const report: CaseReport = { name, problems: [], tensorOutputs: 0, exactOutputs: 0, sequenceOutputs: 0, sequenceItemsKnown: 0 };
  const model = await loadModel(path.join(dir, 'model.onnx'));
  const g: Graph = model.graph;
  const unknown = [...opsOf(g)].filter((q) => {
    const dot = q.lastIndexOf('.');
    return dot < 0 ? !getSchema(q) : !getSchema(q.slice(dot + 1), q.slice(0, dot));
  });
  if (unknown.length) {
    report.skipped = `ops without schema: ${unknown.join(', ')}`;
    return report;
  }
  const ds = path.join(dir, 'test_data_set_0');
  const inputValues = new Map<string, Tensor>();
  g.inputs.forEach((v, i) => {
    const d = readData(path.join(ds, `input_${i}.pb`), v);
    if (d?.kind !== 'tensor') return;
    // The graph inputs take the data's types (some models leave them unshaped).
    v.dtype = d.t.dtype;
    v.shape = d.t.shape.slice();
    if (withValues) inputValues.set(v.name, d.t);
  });
  const { types, issues } = inferShapes(g, { reset: true, write: false, inputValues });
  for (const i of issues) if (i.kind !== 'unknown-op') report.problems.push(`${name}: ${i.message}`);
  g.outputs.forEach((v, i) => {
    const d = readData(path.join(ds, `output_${i}.pb`), v);
    if (!d) return;
    const t = types.get(v);
    if (d.kind === 'tensor') {
      report.tensorOutputs++;
      if (!outputProblems(t, d, true)) report.exactOutputs++;
    } else {
      report.sequenceOutputs++;
      if (t?.sequence?.items) report.sequenceItemsKnown++;
    }
    const p = outputProblems(t, d, withValues && d.kind === 'tensor');
    if (p) report.problems.push(`${name} output ${i} '${v.name}': ${p}`);
  });
  return report;
}

const dirs = caseDirs();
if (dirs.length === 0) console.warn(`skipping the backend cases of the new schemas: ${ONNX_DATA} (Debian libonnx-testdata) is absent`);

describe.skipIf(dirs.length === 0)('new schemas infer the ONNX backend cases', () => {
  it('from the input types alone: dtypes exact, dims never contradicted', async () => {
    const reports = await Promise.all(dirs.map((d) => runCase(d, false)));
    const ran = reports.filter((r) => !r.skipped);
    console.log(`backend cases, types only: ${ran.length} run (${reports.length - ran.length} skipped: ${reports.filter((r) => r.skipped).map((r) => `${r.name} (${r.skipped})`).join('; ')}); ` +
      `${ran.reduce((n, r) => n + r.exactOutputs, 0)}/${ran.reduce((n, r) => n + r.tensorOutputs, 0)} tensor outputs exact`);
    expect(reports.flatMap((r) => r.problems)).toEqual([]);
    expect(ran.length).toBeGreaterThanOrEqual(40);
    // The shape-determined ops are exact without input data.
    for (const r of ran.filter((x) => /test_(dft|adagrad|adam|momentum|nesterov|tfidf|gradient_of|sequence_model[4567])/.test(x.name))) {
      expect(r.exactOutputs, r.name).toBe(r.tensorOutputs);
    }
  });

  it('validateGraph finds no error in the case models (their recorded types agree with inference)', async () => {
    const errors: string[] = [];
    for (const d of dirs) {
      const model = await loadModel(path.join(d, 'model.onnx'));
      for (const i of validateGraph(model.graph)) if (i.severity === 'error') errors.push(`${path.basename(d)}: ${i.message}`);
    }
    expect(errors).toEqual([]);
  });

  it('with the input data: every tensor output exact', async () => {
    const reports = (await Promise.all(dirs.map((d) => runCase(d, true)))).filter((r) => !r.skipped);
    const tensors = reports.reduce((n, r) => n + r.tensorOutputs, 0);
    const seqs = reports.reduce((n, r) => n + r.sequenceOutputs, 0);
    console.log(`backend cases with data: ${tensors} tensor outputs, ${seqs} sequence outputs (${reports.reduce((n, r) => n + r.sequenceItemsKnown, 0)} with every element known)`);
    expect(reports.flatMap((r) => r.problems)).toEqual([]);
    expect(tensors).toBeGreaterThanOrEqual(40);
    for (const r of reports) expect(r.exactOutputs, r.name).toBe(r.tensorOutputs);
    // Every family is among the cases that ran.
    for (const re of [/dft/, /stft/, /melweight/, /strnorm/, /tfidf/, /sequence_model/, /adagrad/, /adam/, /momentum/, /gradient_of/, /sequence_insert/]) {
      expect(reports.some((r) => re.test(r.name)), String(re)).toBe(true);
    }
  });
});
