/**
 * If, Loop and Scan graphs (outer-scope reads, loop-carried values, scan outputs, reverse
 * directions, non-zero scan axes, early exit) run through the Session and compared with
 * onnxruntime-node. Also checks that no tensor outlives a run.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { setOnnxType } from '../../../../src/formats/onnx/value-types.js';
import { Graph, attr, type Value } from '../../../../src/ir/graph.js';
import type { Tensor } from '../../../../src/ir/tensor.js';
import { tf, useBackend } from '../../../../src/runtime/backends.js';
import { HAVE_ORT, compareAll, describeReport, expectedFromOrt, rand, runSession, vals } from './ort-oracle.js';

interface ControlCase {
  name: string;
  graph: () => Graph;
  feeds: () => Map<string, Tensor>;
}

/** If whose branches read outer values; the else branch returns an outer value unchanged. */
function ifGraph(): Graph {
  const g = new Graph('if_outer');
  const c = g.addInput('c', 'bool', []);
  const x = g.addInput('x', 'float32', [2, 3]);
  const y = g.addInput('y', 'float32', [2, 3]);
  const thenG = new Graph('then', g);
  const t = thenG.addNode('Add', [x, y], ['t_sum']);
  t.outputs[0]!.dtype = 'float32';
  thenG.outputs.push(t.outputs[0]!);
  const elseG = new Graph('else', g);
  const e = elseG.addNode('Mul', [x, x], ['e_sq']);
  e.outputs[0]!.dtype = 'float32';
  elseG.outputs.push(e.outputs[0]!);
  const n = g.addNode('If', [c], ['out'], { then_branch: attr.graph(thenG), else_branch: attr.graph(elseG) });
  n.outputs[0]!.dtype = 'float32';
  const after = g.addNode('Sub', [n.outputs[0]!, y], ['z']);
  after.outputs[0]!.dtype = 'float32';
  g.outputs.push(n.outputs[0]!, after.outputs[0]!);
  return g;
}

/**
 * Loop with a trip count and a condition computed by the body: carries `a`, adds the outer `x`
 * each step, emits a * iteration as a scan output, and stops when sum(a) exceeds a bound.
 */
function loopGraph(bound: number): Graph {
  const g = new Graph('loop');
  const m = g.addInput('M', 'int64', []);
  const cond = g.addInput('cond', 'bool', []);
  const a0 = g.addInput('a0', 'float32', [3]);
  const x = g.addInput('x', 'float32', [3]);
  const body = new Graph('body', g);
  const it = body.addInput('i', 'int64', []);
  body.addInput('c_in', 'bool', []);
  const a = body.addInput('a', 'float32', [3]);
  const aOut = body.addNode('Add', [a, x], ['a_out']).outputs[0]!;
  aOut.dtype = 'float32';
  const itf = body.addNode('Cast', [it], ['i_f'], { to: attr.int(1) }).outputs[0]!;
  const scan = body.addNode('Mul', [aOut, itf], ['scan']).outputs[0]!;
  scan.dtype = 'float32';
  const sum = body.addNode('ReduceSum', [aOut], ['s'], { keepdims: attr.int(0) }).outputs[0]!;
  const lim = body.addInitializer('lim', vals('float32', [], [bound]));
  const cOut = body.addNode('Less', [sum, lim], ['c_out']).outputs[0]!;
  cOut.dtype = 'bool';
  body.outputs.push(cOut, aOut, scan);
  const n = g.addNode('Loop', [m, cond, a0], ['a_final', 'scans'], { body: attr.graph(body) });
  n.outputs[0]!.dtype = 'float32';
  n.outputs[1]!.dtype = 'float32';
  g.outputs.push(...n.outputs);
  return g;
}

/** Loop whose body passes its carried value through untouched and emits a constant. */
function loopPassThroughGraph(): Graph {
  const g = new Graph('loop_pass');
  const m = g.addInput('M', 'int64', []);
  const a0 = g.addInput('a0', 'float32', [2]);
  const body = new Graph('body', g);
  body.addInput('i', 'int64', []);
  const cIn = body.addInput('c_in', 'bool', []);
  const a = body.addInput('a', 'float32', [2]);
  const k = body.addInitializer('k', vals('float32', [2], [1.5, -2]));
  body.outputs.push(cIn, a, k);
  const n = g.addNode('Loop', [m, null, a0], ['a_final', 'ks'], { body: attr.graph(body) });
  n.outputs[0]!.dtype = 'float32';
  n.outputs[1]!.dtype = 'float32';
  g.outputs.push(...n.outputs);
  return g;
}

/** Scan over axis 1 in reverse with a running sum, outputs stacked on axis 1 in reverse. */
function scanGraph(): Graph {
  const g = new Graph('scan');
  const s0 = g.addInput('s0', 'float32', [2]);
  const xs = g.addInput('xs', 'float32', [2, 5]);
  const ys = g.addInput('ys', 'float32', [5, 2]);
  const body = new Graph('body', g);
  const s = body.addInput('s', 'float32', [2]);
  const xt = body.addInput('xt', 'float32', [2]);
  const yt = body.addInput('yt', 'float32', [2]);
  const sOut = body.addNode('Add', [s, xt], ['s_out']).outputs[0]!;
  sOut.dtype = 'float32';
  const prod = body.addNode('Mul', [sOut, yt], ['p']).outputs[0]!;
  prod.dtype = 'float32';
  const neg = body.addNode('Neg', [sOut], ['n']).outputs[0]!;
  neg.dtype = 'float32';
  body.outputs.push(sOut, prod, neg);
  // xs scans axis 1 (5 steps, reversed); ys scans axis 0 (5 rows, forward).
  const n = g.addNode('Scan', [s0, xs, ys], ['s_final', 'p_all', 'n_all'], {
    body: attr.graph(body),
    num_scan_inputs: attr.int(2),
    scan_input_axes: attr.ints([1, 0]),
    scan_input_directions: attr.ints([1, 0]),
    scan_output_axes: attr.ints([1, 0]),
    scan_output_directions: attr.ints([1, 0]),
  });
  for (const o of n.outputs) o.dtype = 'float32';
  g.outputs.push(...n.outputs);
  return g;
}

/** Marks a value as an ONNX sequence of float tensors for the writer. */
function floatSequence(v: Value): Value {
  v.dtype = undefined;
  setOnnxType(v, { kind: 'sequence', elem: { kind: 'tensor', elemType: 1 } });
  return v;
}

/**
 * Loop carrying a sequence: each step inserts [iteration, iteration * x] into it; after the loop
 * the sequence is concatenated into a tensor (onnxruntime-node returns tensors only).
 */
function loopSequenceGraph(): Graph {
  const g = new Graph('loop_seq');
  const m = g.addInput('M', 'int64', []);
  const x = g.addInput('x', 'float32', [1]);
  const empty = g.addNode('SequenceEmpty', [], ['seq0'], { dtype: attr.int(1) }).outputs[0]!;
  const body = new Graph('body', g);
  const it = body.addInput('i', 'int64', []);
  const cIn = body.addInput('c_in', 'bool', []);
  const seq = floatSequence(body.addInput('seq', 'float32', []));
  const itf = body.addNode('Cast', [it], ['i_f'], { to: attr.int(1) }).outputs[0]!;
  const axes = body.addInitializer('axes', vals('int64', [1], [0]));
  const item = body.addNode('Unsqueeze', [itf, axes], ['item']).outputs[0]!;
  const scaled = body.addNode('Mul', [item, x], ['scaled']).outputs[0]!;
  const pair = body.addNode('Concat', [item, scaled], ['pair'], { axis: attr.int(0) }).outputs[0]!;
  const seqOut = body.addNode('SequenceInsert', [seq, pair], ['seq_out']).outputs[0]!;
  const cOut = body.addNode('Identity', [cIn], ['c_out']).outputs[0]!;
  cOut.dtype = 'bool';
  body.outputs.push(cOut, floatSequence(seqOut));
  const loop = g.addNode('Loop', [m, null, empty], ['seq_res'], { body: attr.graph(body) });
  const flat = g.addNode('ConcatFromSequence', [loop.outputs[0]!], ['flat'], { axis: attr.int(0) }).outputs[0]!;
  flat.dtype = 'float32';
  g.outputs.push(flat);
  return g;
}

/** If whose branches build sequences of different lengths, then measured and concatenated. */
function ifSequenceGraph(): Graph {
  const g = new Graph('if_seq');
  const c = g.addInput('c', 'bool', []);
  const x = g.addInput('x', 'float32', [2]);
  const y = g.addInput('y', 'float32', [2]);
  const thenG = new Graph('then', g);
  const ts = thenG.addNode('SequenceConstruct', [x, y, x], ['ts']).outputs[0]!;
  thenG.outputs.push(floatSequence(ts));
  const elseG = new Graph('else', g);
  const es = elseG.addNode('SequenceConstruct', [y], ['es']).outputs[0]!;
  elseG.outputs.push(floatSequence(es));
  const n = g.addNode('If', [c], ['s'], { then_branch: attr.graph(thenG), else_branch: attr.graph(elseG) });
  const len = g.addNode('SequenceLength', [n.outputs[0]!], ['len']).outputs[0]!;
  len.dtype = 'int64';
  const flat = g.addNode('ConcatFromSequence', [n.outputs[0]!], ['flat'], { axis: attr.int(0) }).outputs[0]!;
  flat.dtype = 'float32';
  g.outputs.push(len, flat);
  return g;
}

const CASES: ControlCase[] = [
  { name: 'Loop carrying a sequence', graph: loopSequenceGraph,
    feeds: () => new Map([['M', vals('int64', [], [4])], ['x', rand([1], 11)]]) },
  { name: 'If returning sequences (then)', graph: ifSequenceGraph,
    feeds: () => new Map([['c', vals('bool', [], [true])], ['x', rand([2], 12)], ['y', rand([2], 13)]]) },
  { name: 'If returning sequences (else)', graph: ifSequenceGraph,
    feeds: () => new Map([['c', vals('bool', [], [false])], ['x', rand([2], 14)], ['y', rand([2], 15)]]) },
  { name: 'If then-branch reading outer values', graph: ifGraph,
    feeds: () => new Map([['c', vals('bool', [], [true])], ['x', rand([2, 3], 1)], ['y', rand([2, 3], 2)]]) },
  { name: 'If else-branch', graph: ifGraph,
    feeds: () => new Map([['c', vals('bool', [], [false])], ['x', rand([2, 3], 3)], ['y', rand([2, 3], 4)]]) },
  { name: 'Loop runs its trip count', graph: () => loopGraph(1e9),
    feeds: () => new Map([['M', vals('int64', [], [4])], ['cond', vals('bool', [], [true])], ['a0', rand([3], 5)], ['x', rand([3], 6, 0, 1)]]) },
  { name: 'Loop stops on its condition', graph: () => loopGraph(4),
    feeds: () => new Map([['M', vals('int64', [], [20])], ['cond', vals('bool', [], [true])], ['a0', vals('float32', [3], [0, 0, 0])], ['x', vals('float32', [3], [0.5, 0.25, 0.5])]]) },
  { name: 'Loop passing carried values through and emitting a constant', graph: loopPassThroughGraph,
    feeds: () => new Map([['M', vals('int64', [], [3])], ['a0', rand([2], 7)]]) },
  { name: 'Scan with reverse directions and non-zero axes', graph: scanGraph,
    feeds: () => new Map([['s0', rand([2], 8)], ['xs', rand([2, 5], 9)], ['ys', rand([5, 2], 10)]]) },
];

for (const backend of ['wasm', 'cpu']) {
  describe.skipIf(!HAVE_ORT)(`control-flow kernels vs onnxruntime [${backend}]`, () => {
    beforeAll(async () => { await useBackend(backend); });
    for (const c of CASES) {
      it(c.name, async () => {
        const g = c.graph();
        const feeds = c.feeds();
        const expected = await expectedFromOrt(g, feeds);
        const before = tf.memory().numTensors;
        const got = await runSession(g, feeds, backend);
        expect(tf.memory().numTensors - before, 'tensors left behind by the run').toBe(0);
        for (const r of compareAll(got, expected)) expect(r.ok, `${c.name} ${r.name}: ${describeReport(r)}`).toBe(true);
      });
    }
  });
}
