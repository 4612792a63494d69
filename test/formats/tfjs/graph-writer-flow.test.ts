/**
 * `--to tfjs` of control flow and sequences: ONNX Loop / If / sequence ops / LSTM written as
 * StatelessWhile / StatelessIf / TensorList ops with library functions, loaded by tfjs-converter.
 * - The tfjs LSTM benchmark (four TF loops over TensorLists, read into Loop + sequences) written
 *   back gives what tfjs-converter computes on the original model.json.
 * - The Keras LSTM SavedModel gives what mconv's run of the SavedModel gives. mconv reads both
 *   written models back and computes the same.
 * - Small ONNX graphs (the plain ops such loops need; a Loop with trip count, scan output, outer reads; an If reading outer
 *   values, nested in a Loop; a Loop carrying a sequence; LSTMs) agree with onnxruntime-node.
 * - Graphs tfjs TensorLists cannot express (a list read after an in-place change) are refused.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { run, save } from '../../../src/api.js';
import { MconvError } from '../../../src/errors.js';
import { loadModel } from '../../../src/formats/registry.js';
import { writeOnnx } from '../../../src/formats/onnx/writer.js';
import { markSequence } from '../../../src/formats/tf/sequence-values.js';
import { attr, Graph, Model, type Value } from '../../../src/ir/graph.js';
import { Tensor, type DType } from '../../../src/ir/tensor.js';
import { compareTensors } from '../../../src/runtime/compare.js';
import { loadOnnxRuntime, runWithOnnxRuntime } from '../../../src/runtime/onnxruntime.js';
import { prng, randomTensor } from '../../../src/runtime/random-inputs.js';
import { SHARED, mconv } from '../../helpers/cli.js';
import { runTfjsModelFile } from '../../helpers/tf-oracle.js';

const REAL = join(SHARED, 'real');
if (!existsSync(REAL)) console.log(`skipped: ${REAL} is absent`);
const HAVE_ORT = (await loadOnnxRuntime()) !== undefined;
if (!HAVE_ORT) console.log('skipped: onnxruntime-node is not installed (the ONNX control-flow oracle)');

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'mconv-tfjs-flow-'));
  dirs.push(d);
  return d;
}

interface ModelJson {
  modelTopology: { node: { op: string }[]; library?: { function: { signature: { name: string }; nodeDef?: { op: string; name: string }[] }[] } };
  signature: { inputs: Record<string, unknown>; outputs: Record<string, unknown> };
  weightsManifest: { paths: string[]; weights: { name: string }[] }[];
}

const tfjsRun = runTfjsModelFile;

function expectClose(actual: Tensor, expected: Tensor, label: string, atol: number): void {
  const r = compareTensors(label, actual, expected, { atol, rtol: 0 });
  expect(r.problem, `${label}: ${r.problem}`).toBeUndefined();
  expect(r.mismatches, `${label}: max abs error ${r.maxAbsError} at ${r.worstIndex}`).toBe(0);
}

function ops(json: ModelJson): { top: string[]; fns: string[] } {
  return {
    top: json.modelTopology.node.map((n) => n.op),
    fns: (json.modelTopology.library?.function ?? []).flatMap((f) => (f.nodeDef ?? []).map((n) => n.op)),
  };
}

describe.skipIf(!existsSync(REAL))('--to tfjs of TF loops over TensorLists (real models)', () => {
  it('tfjs-lstm-benchmark-model: the written model gives what tfjs-converter computes on the original', async () => {
    const src = join(REAL, 'tfjs-lstm-benchmark-model', 'model.json');
    const out = join(tmp(), 'model.json');
    const r = await mconv(['convert', src, '--to', 'tfjs', '-o', out]);
    expect(r.code, r.stderr).toBe(0);
    const json = JSON.parse(readFileSync(out, 'utf8')) as ModelJson;
    const o = ops(json);
    expect(o.top.filter((op) => op === 'StatelessWhile')).toHaveLength(4);
    expect(o.fns).toContain('TensorListSetItem');
    expect(o.fns).toContain('TensorListGetItem');
    expect(o.top).toContain('TensorListStack');
    // Function Consts carry their weights as `<function>/<node>`.
    const weights = new Set(json.weightsManifest.flatMap((g) => g.weights.map((w) => w.name)));
    for (const f of json.modelTopology.library!.function) {
      for (const n of f.nodeDef ?? []) if (n.op === 'Const') expect(weights.has(n.name) && n.name.startsWith(`${f.signature.name}/`), n.name).toBe(true);
    }
    const x = randomTensor('float32', [1, 1, 51], prng(1234));
    const names = ['Identity:0', 'Identity_1:0'];
    const want = await tfjsRun(src, { 'input_2:0': x }, names);
    const got = await tfjsRun(out, { [Object.keys(json.signature.inputs)[0]!]: x }, names);
    expect(want.map((t) => t.shape)).toEqual([[1, 1, 10], [1, 1, 1]]);
    got.forEach((t, i) => expectClose(t, want[i]!, names[i]!, 1e-5));
    // mconv reads the written functions back (StatelessWhile -> Loop) and computes the same.
    const back = await loadModel(out);
    const mine = await run(back, new Map([[back.graph.inputs.find((v) => !v.initializer)!.name, x]]));
    names.forEach((n, i) => expectClose(mine.outputs.get(n.replace(/:0$/, ''))!, want[i]!, `${n} read back`, 1e-5));
  });

  it('tfnet-keras-savedmodel-lstm_from_sequential: the written model gives what mconv run gives (batch 2)', async () => {
    const src = join(REAL, 'tfnet-keras-savedmodel-lstm_from_sequential');
    const out = join(tmp(), 'model.json');
    const r = await mconv(['convert', src, '--to', 'tfjs', '-o', out]);
    expect(r.code, r.stderr).toBe(0);
    const json = JSON.parse(readFileSync(out, 'utf8')) as ModelJson;
    expect(ops(json).top).toContain('StatelessWhile');
    const x = randomTensor('float32', [2, 5, 3], prng(99));
    const m = await loadModel(src);
    const inName = m.graph.inputs.find((v) => !v.initializer)!.name;
    const ours = await run(m, new Map([[inName, x]]));
    const want = ours.outputs.get(m.graph.outputs[0]!.name)!;
    const [got] = await tfjsRun(out, { [Object.keys(json.signature.inputs)[0]!]: x });
    expect(got!.shape).toEqual([2, 1]);
    expectClose(got!, want, 'dense', 1e-4);
    const back = await loadModel(out);
    const mine = await run(back, new Map([[back.graph.inputs.find((v) => !v.initializer)!.name, x]]));
    expectClose(mine.outputs.get(back.graph.outputs[0]!.name)!, want, 'dense read back', 1e-4);
  });
});

/* ------------------------------------------------------------------------------------------ */
/* Small ONNX graphs against onnxruntime-node. */

function out(g: Graph, node: ReturnType<Graph['addNode']>, dtypes: DType[]): Value[] {
  node.outputs.forEach((o, i) => (o.dtype = dtypes[i]));
  void g;
  return node.outputs;
}

/** Loop with a trip count, a condition the body computes, an outer read, a carried value and a scan output. */
function loopGraph(): Graph {
  const g = new Graph('loop');
  const m = g.addInput('M', 'int64', []);
  const a0 = g.addInput('a0', 'float32', [3]);
  const x = g.addInput('x', 'float32', [3]);
  const scale = g.addInitializer('scale', Tensor.fromArray('float32', [3], [0.5, -1, 2]));
  const body = new Graph('body', g);
  const it = body.addInput('i', 'int64', []);
  body.addInput('c_in', 'bool', []);
  const a = body.addInput('a', 'float32', [3]);
  const [ax] = out(body, body.addNode('Add', [a, x], ['ax']), ['float32']);
  const [aOut] = out(body, body.addNode('Mul', [ax!, scale], ['a_out']), ['float32']);
  const [itf] = out(body, body.addNode('Cast', [it], ['i_f'], { to: attr.int(1) }), ['float32']);
  const [scan] = out(body, body.addNode('Mul', [aOut!, itf!], ['scan']), ['float32']);
  const [sum] = out(body, body.addNode('ReduceSum', [aOut!], ['s'], { keepdims: attr.int(0) }), ['float32']);
  const lim = body.addInitializer('lim', Tensor.fromArray('float32', [], [50]));
  const [cOut] = out(body, body.addNode('Less', [sum!, lim], ['c_out']), ['bool']);
  body.outputs.push(cOut!, aOut!, scan!);
  const cond = g.addInitializer('cond', Tensor.fromArray('bool', [], [1]));
  const loop = g.addNode('Loop', [m, cond, a0], ['a_final', 'scans'], { body: attr.graph(body) });
  out(g, loop, ['float32', 'float32']);
  g.outputs.push(...loop.outputs);
  return g;
}

/** If whose branches read outer values, inside a Loop body (the branch captures pass through the body). */
function loopIfGraph(): Graph {
  const g = new Graph('loop_if');
  const m = g.addInput('M', 'int64', []);
  const a0 = g.addInput('a0', 'float32', [2, 2]);
  const y = g.addInput('y', 'float32', [2, 2]);
  const body = new Graph('body', g);
  const it = body.addInput('i', 'int64', []);
  const cIn = body.addInput('c_in', 'bool', []);
  const a = body.addInput('a', 'float32', [2, 2]);
  const two = body.addInitializer('two', Tensor.fromArray('int64', [], [2n]));
  const [rem] = out(body, body.addNode('Mod', [it, two], ['rem']), ['int64']);
  const zero = body.addInitializer('zero', Tensor.fromArray('int64', [], [0n]));
  const [even] = out(body, body.addNode('Equal', [rem!, zero], ['even']), ['bool']);
  const thenG = new Graph('then', body);
  const [t] = out(thenG, thenG.addNode('Add', [a, y], ['t']), ['float32']);
  thenG.outputs.push(t!);
  const elseG = new Graph('else', body);
  const [e] = out(elseG, elseG.addNode('Mul', [a, y], ['e']), ['float32']);
  elseG.outputs.push(e!);
  const [picked] = out(body, body.addNode('If', [even!], ['picked'], { then_branch: attr.graph(thenG), else_branch: attr.graph(elseG) }), ['float32']);
  body.outputs.push(cIn, picked!);
  const loop = g.addNode('Loop', [m, null, a0], ['a_final'], { body: attr.graph(body) });
  out(g, loop, ['float32']);
  g.outputs.push(...loop.outputs);
  return g;
}

/** Loop carrying a sequence: appends x * iteration each step; then its length, item 1 and all items stacked. */
function loopSequenceGraph(): Graph {
  const g = new Graph('loop_seq');
  const m = g.addInput('M', 'int64', []);
  const x = g.addInput('x', 'float32', [2]);
  const seq0 = markSequence(g.addNode('SequenceEmpty', [], ['seq0'], { dtype: attr.int(1) }).outputs[0]!, 'float32');
  const body = new Graph('body', g);
  const it = body.addInput('i', 'int64', []);
  const cIn = body.addInput('c_in', 'bool', []);
  const seq = markSequence(body.addInput('seq', 'float32', []), 'float32');
  const [itf] = out(body, body.addNode('Cast', [it], ['i_f'], { to: attr.int(1) }), ['float32']);
  const [item] = out(body, body.addNode('Mul', [x, itf!], ['item']), ['float32']);
  const seqOut = markSequence(body.addNode('SequenceInsert', [seq, item!], ['seq_out']).outputs[0]!, 'float32');
  body.outputs.push(cIn, seqOut);
  const loop = g.addNode('Loop', [m, null, seq0], ['seq_final'], { body: attr.graph(body) });
  markSequence(loop.outputs[0]!, 'float32');
  const seqFinal = loop.outputs[0]!;
  const [len] = out(g, g.addNode('SequenceLength', [seqFinal], ['len']), ['int64']);
  const one = g.addInitializer('one', Tensor.fromArray('int64', [], [1n]));
  const [second] = out(g, g.addNode('SequenceAt', [seqFinal, one], ['second']), ['float32']);
  const [stacked] = out(g, g.addNode('ConcatFromSequence', [seqFinal], ['stacked'], { axis: attr.int(0), new_axis: attr.int(1) }), ['float32']);
  g.outputs.push(len!, second!, stacked!);
  return g;
}

/** One LSTM node: X [T, B, I] with W, R and optionally B and initial states as inputs. */
function lstmGraph(withBiasAndState: boolean): Graph {
  const g = new Graph('lstm');
  const [T, B, I, H] = [4, 3, 5, 6];
  const x = g.addInput('X', 'float32', [T, B, I]);
  const w = g.addInitializer('W', randomTensor('float32', [1, 4 * H, I], prng(1)));
  const r = g.addInitializer('R', randomTensor('float32', [1, 4 * H, H], prng(2)));
  const ins: (Value | null)[] = [x, w, r];
  if (withBiasAndState) {
    ins.push(g.addInitializer('B', randomTensor('float32', [1, 8 * H], prng(3))), null, g.addInput('h0', 'float32', [1, B, H]), g.addInput('c0', 'float32', [1, B, H]));
  }
  const n = g.addNode('LSTM', ins, ['Y', 'Y_h', 'Y_c'], { hidden_size: attr.int(H) });
  out(g, n, ['float32', 'float32', 'float32']);
  g.outputs.push(...n.outputs);
  return g;
}

/** The plain ops TF-imported loops need: Shape, Slice (computed and constant bounds, negative step), Expand, Split, Where, comparisons. */
function plainOpsGraph(): Graph {
  const g = new Graph('plain');
  const x = g.addInput('x', 'float32', [2, 3, 4]);
  const k = g.addInput('k', 'int64', [1]);
  const i64 = (name: string, v: number[]) => g.addInitializer(name, Tensor.fromArray('int64', [v.length], v.map(BigInt)));
  const [sh] = out(g, g.addNode('Shape', [x], ['sh']), ['int64']);
  const [dims] = out(g, g.addNode('Slice', [sh!, i64('one', [1]), i64('three', [3])], ['dims']), ['int64']);
  const [kk] = out(g, g.addNode('Concat', [k, k], ['kk'], { axis: attr.int(0) }), ['int64']);
  const [sub] = out(g, g.addNode('Slice', [x, kk!, dims!, i64('axes12', [1, 2])], ['sub']), ['float32']);
  const [rev] = out(g, g.addNode('Slice', [x, i64('last', [-1]), i64('far', [-1000000]), i64('axis2', [2]), i64('back', [-1])], ['rev']), ['float32']);
  const [batch] = out(g, g.addNode('Slice', [sh!, i64('zero', [0]), i64('one_b', [1])], ['batch']), ['int64']);
  const [target] = out(g, g.addNode('Concat', [batch!, i64('ones', [1, 1])], ['target'], { axis: attr.int(0) }), ['int64']);
  const c = g.addInitializer('c', Tensor.fromArray('float32', [1, 1, 4], [1.5, -1, 0.25, 2]));
  const [big] = out(g, g.addNode('Expand', [c, target!], ['big']), ['float32']);
  const [p0, p1] = out(g, g.addNode('Split', [x, i64('sizes', [1, 3])], ['p0', 'p1'], { axis: attr.int(-1) }), ['float32', 'float32']);
  const zero = g.addInitializer('fzero', Tensor.fromArray('float32', [], [0]));
  const [pos] = out(g, g.addNode('Greater', [x, zero], ['pos']), ['bool']);
  const [neg] = out(g, g.addNode('Neg', [x], ['neg']), ['float32']);
  const [abs] = out(g, g.addNode('Where', [pos!, x, neg!], ['abs']), ['float32']);
  g.outputs.push(dims!, sub!, rev!, big!, p0!, p1!, abs!);
  return g;
}

async function ortRun(g: Graph, feeds: Map<string, Tensor>): Promise<Tensor[]> {
  const dir = tmp();
  const path = join(dir, 'model.onnx');
  writeFileSync(path, writeOnnx(new Model(g, { format: 'onnx' }), path).main);
  const res = await runWithOnnxRuntime(path, feeds);
  return g.outputs.map((o) => res.get(o.name)!);
}

async function writtenRun(g: Graph, feeds: Map<string, Tensor>): Promise<{ got: Tensor[]; json: ModelJson; path: string }> {
  const path = join(tmp(), 'model.json');
  const names = g.outputs.map((o) => o.name);
  await save(new Model(g, { format: 'onnx' }), path, { format: 'tfjs' });
  const json = JSON.parse(readFileSync(path, 'utf8')) as ModelJson;
  const sigIn = Object.keys(json.signature.inputs);
  const f: Record<string, Tensor> = {};
  for (const [k, t] of feeds) f[sigIn.find((s) => s === `${k}:0`) ?? k] = t;
  const sigOut = Object.keys(json.signature.outputs);
  expect(sigOut).toEqual(names.map((n) => `${n}:0`));
  return { got: await tfjsRun(path, f, sigOut), json, path };
}

/** readBack: mconv reads the written model back and runs it too (its TF importer needs constant StridedSlice bounds). */
const CASES: { name: string; graph: () => Graph; feeds: () => Map<string, Tensor>; expectOps: string[]; readBack?: false }[] = [
  {
    name: 'Shape, Slice (computed bounds, negative step), Expand, Split, Where, Greater',
    graph: plainOpsGraph,
    feeds: () => new Map([['x', randomTensor('float32', [2, 3, 4], prng(11))], ['k', Tensor.fromArray('int64', [1], [1n])]]),
    expectOps: ['Shape', 'StridedSlice', 'Fill', 'SplitV', 'SelectV2'],
    readBack: false,
  },
  {
    name: 'Loop: trip count, computed condition (early exit), outer read, carried value, scan output',
    graph: loopGraph,
    feeds: () => new Map([['M', Tensor.fromArray('int64', [], [6n])], ['a0', Tensor.fromArray('float32', [3], [1, 2, 3])], ['x', Tensor.fromArray('float32', [3], [4, 0.5, 2])]]),
    expectOps: ['StatelessWhile', 'TensorListStack'],
  },
  {
    name: 'If reading outer values inside a Loop body',
    graph: loopIfGraph,
    feeds: () => new Map([['M', Tensor.fromArray('int64', [], [5n])], ['a0', randomTensor('float32', [2, 2], prng(5))], ['y', randomTensor('float32', [2, 2], prng(6))]]),
    expectOps: ['StatelessWhile', 'StatelessIf'],
  },
  {
    name: 'Loop carrying a sequence; SequenceLength, SequenceAt, ConcatFromSequence after it',
    graph: loopSequenceGraph,
    feeds: () => new Map([['M', Tensor.fromArray('int64', [], [4n])], ['x', Tensor.fromArray('float32', [2], [1.5, -2])]]),
    expectOps: ['EmptyTensorList', 'TensorListPushBack', 'TensorListLength', 'TensorListGetItem', 'TensorListStack'],
  },
  {
    name: 'LSTM with bias and initial states',
    graph: () => lstmGraph(true),
    feeds: () => new Map([['X', randomTensor('float32', [4, 3, 5], prng(7))], ['h0', randomTensor('float32', [1, 3, 6], prng(8))], ['c0', randomTensor('float32', [1, 3, 6], prng(9))]]),
    expectOps: ['StatelessWhile', 'TensorListFromTensor'],
  },
  {
    name: 'LSTM without bias or initial states',
    graph: () => lstmGraph(false),
    feeds: () => new Map([['X', randomTensor('float32', [4, 3, 5], prng(10))]]),
    expectOps: ['StatelessWhile', 'Fill'],
  },
];

describe.skipIf(!HAVE_ORT)('--to tfjs of ONNX control flow, sequences and LSTM (onnxruntime-node as the oracle)', () => {
  for (const c of CASES) {
    it(c.name, async () => {
      const want = await ortRun(c.graph(), c.feeds());
      const { got, json, path } = await writtenRun(c.graph(), c.feeds());
      const o = ops(json);
      for (const op of c.expectOps) expect([...o.top, ...o.fns], op).toContain(op);
      expect(got).toHaveLength(want.length);
      got.forEach((t, i) => {
        expect(t.shape, `output ${i}`).toEqual(want[i]!.shape);
        // tfjs holds int64 as int32: compare numbers.
        const w = want[i]!.dtype === 'int64' ? Tensor.fromArray('int32', want[i]!.shape.slice(), Int32Array.from(want[i]!.toFloat64())) : want[i]!;
        expectClose(t, w, `${c.name} output ${i}`, 1e-5);
      });
      if (c.readBack === false) return;
      // mconv reads the written graph back (functions -> Loop / If) and computes the same.
      const back = await loadModel(path);
      // The written model takes int32 where the ONNX graph took int64 (tfjs has no int64).
      const feeds32 = new Map([...c.feeds()].map(([k, t]) => [k, t.dtype === 'int64' ? Tensor.fromArray('int32', t.shape.slice(), Int32Array.from(t.toFloat64())) : t] as const));
      const mine = await run(back, feeds32);
      want.forEach((w, i) => {
        const t = mine.outputs.get(back.graph.outputs[i]!.name)!;
        expectClose(t.dtype === 'int64' || t.dtype === 'int32' ? Tensor.fromArray('int32', t.shape.slice(), Int32Array.from(t.toFloat64())) : t,
          w.dtype === 'int64' ? Tensor.fromArray('int32', w.shape.slice(), Int32Array.from(w.toFloat64())) : w, `${c.name} read back, output ${i}`, 1e-5);
      });
    });
  }
});

describe('--to tfjs refusals for sequences', () => {
  it('a list read again after an in-place change is refused with the op named', async () => {
    const g = new Graph('g');
    const x = g.addInput('x', 'float32', [2]);
    const s0 = markSequence(g.addNode('SequenceEmpty', [], ['s0'], { dtype: attr.int(1) }).outputs[0]!, 'float32');
    const s1 = markSequence(g.addNode('SequenceInsert', [s0, x], ['s1'], {}, 'push').outputs[0]!, 'float32');
    const [n0] = out(g, g.addNode('SequenceLength', [s0], ['n0']), ['int64']);
    const [n1] = out(g, g.addNode('SequenceLength', [s1], ['n1']), ['int64']);
    g.outputs = [n0!, n1!];
    const e = await save(new Model(g, { format: 'onnx' }), join(tmp(), 'model.json'), { format: 'tfjs' }).catch((err: unknown) => err);
    expect(e).toBeInstanceOf(MconvError);
    expect((e as MconvError).message).toMatch(/SequenceInsert.*in place|in place/);
    expect(String((e as MconvError).where ?? (e as MconvError).message)).toMatch(/push/);
  });

  it('sequence ops without a TensorList counterpart are listed', async () => {
    const g = new Graph('g');
    const x = g.addInput('x', 'float32', [3, 2]);
    const s = markSequence(g.addNode('SplitToSequence', [x], ['s'], { axis: attr.int(0), keepdims: attr.int(0) }).outputs[0]!, 'float32');
    const zero = g.addInitializer('zero', Tensor.fromArray('int64', [], [0n]));
    const s2 = markSequence(g.addNode('SequenceErase', [s, zero], ['s2']).outputs[0]!, 'float32');
    const [y] = out(g, g.addNode('ConcatFromSequence', [s2], ['y'], { axis: attr.int(0), new_axis: attr.int(1) }), ['float32']);
    g.outputs = [y!];
    const e = await save(new Model(g, { format: 'onnx' }), join(tmp(), 'model.json'), { format: 'tfjs' }).catch((err: unknown) => err);
    expect(e).toBeInstanceOf(MconvError);
    expect((e as MconvError).message).toMatch(/no TF mapping for SequenceErase x1/);
  });
});
