/**
 * TF functional control flow (StatelessWhile, StatelessIf) and TensorList ops, on small graphs
 * built here: mconv's import run on its runtime must give what tfjs-converter computes from the
 * same TF graph, and the ONNX written from it must pass onnx.checker and give the same in
 * onnxruntime. The loops cover the patterns Keras RNNs compile to: items appended in order,
 * the same item overwritten every step (return_sequences=False), a list read item by item.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { run, save } from '../../../src/api.js';
import { importTfGraph } from '../../../src/formats/tf/import-graph.js';
import type { TfArgDef, TfFunction, TfGraph, TfNode } from '../../../src/formats/tf/tf-graph.js';
import { Model } from '../../../src/ir/graph.js';
import { Tensor, type DType } from '../../../src/ir/tensor.js';
import { MconvError } from '../../../src/errors.js';
import { PY, hasPython } from '../../helpers/cli.js';
import { constNode, placeholder, runTfjsGraphOracle, tfAttr, tfGraph, tfNode } from '../../helpers/tf-oracle.js';
import { expectClose, rand } from './op-harness.js';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

const DT_VARIANT = 21;
const i32 = (v: number) => Tensor.fromArray('int32', [], [v]);
const i32s = (v: number[]) => Tensor.fromArray('int32', [v.length], v);

/** A function argument: a dtype, or 'variant' for a TensorList handle. */
type ArgType = DType | 'variant';
function arg(name: string, t: ArgType): TfArgDef {
  return t === 'variant' ? { name, type: DT_VARIANT } : { name, type: tfAttr.type(t).type };
}
function fn(name: string, inputs: [string, ArgType][], outputs: [string, ArgType, string][], nodes: TfNode[]): TfFunction {
  return {
    name, nodes, attr: {},
    inputs: inputs.map(([n, t]) => arg(n, t)),
    outputs: outputs.map(([n, t]) => arg(n, t)),
    ret: Object.fromEntries(outputs.map(([n, , r]) => [n, r])),
  };
}
const typeList = (ts: ArgType[]) => ({ list: { type: ts.map((t) => (t === 'variant' ? DT_VARIANT : tfAttr.type(t).type!)) } });

/**
 * Ours (import + mconv runtime, then ONNX in onnxruntime) against tfjs-converter on the same TfGraph,
 * or against values given.
 */
async function expectSame(graph: TfGraph, feeds: Record<string, Tensor>, outputs: string[], given?: Tensor[]): Promise<Model> {
  const want = given ?? await runTfjsGraphOracle(graph, new Map(), feeds, outputs);
  const model = new Model(importTfGraph(graph, { outputs }), { format: 'tf' });
  const ours = await run(model, new Map(Object.entries(feeds)));
  model.graph.outputs.forEach((o, i) => expectClose(ours.outputs.get(o.name)!, want[i]!, `${outputs[i]} (mconv runtime)`));
  const dir = mkdtempSync(join(tmpdir(), 'mconv-tf-control-'));
  dirs.push(dir);
  const file = join(dir, 'model.onnx');
  await save(model, file);
  if (hasPython('onnx')) execFileSync(PY, ['-c', 'import onnx,sys; onnx.checker.check_model(onnx.load(sys.argv[1]), full_check=True)', file], { stdio: 'pipe' });
  const ort = await import('onnxruntime-node');
  const session = await ort.InferenceSession.create(file);
  const inputs: Record<string, import('onnxruntime-node').Tensor> = {};
  for (const [k, t] of Object.entries(feeds)) inputs[k] = new ort.Tensor(t.dtype as 'float32', t.toArray() as Float32Array, t.shape);
  const out = await session.run(inputs);
  model.graph.outputs.forEach((o, i) => {
    const t = out[o.name]!;
    expectClose(Tensor.fromArray(want[i]!.dtype, t.dims.slice() as number[], t.data as Float32Array), want[i]!, `${outputs[i]} (onnxruntime)`);
  });
  return model;
}

/**
 * acc <- acc * 0.5 + x * i for i in 0..n-1, writing acc into a TensorList at `index` (the step,
 * or a constant 0: the list of one item overwritten every step). Returns the stacked list and acc.
 */
function accumulateGraph(index: 'step' | 'zero', steps: number): TfGraph {
  const cond = fn('acc_cond', [['i', 'int32'], ['list', 'variant'], ['acc', 'float32'], ['n', 'int32'], ['x', 'float32']], [['done', 'bool', 'less:z:0']], [
    tfNode('less', 'Less', ['i', 'n'], { T: 'int32' }),
  ]);
  const body = fn('acc_body', [['i', 'int32'], ['list', 'variant'], ['acc', 'float32'], ['n', 'int32'], ['x', 'float32']], [
    ['i_next', 'int32', 'i_next:z:0'], ['list_next', 'variant', 'set:output_handle:0'], ['acc_next', 'float32', 'acc_next:z:0'], ['n_out', 'int32', 'n'], ['x_out', 'float32', 'x'],
  ], [
    constNode('half', Tensor.fromArray('float32', [], [0.5])),
    constNode('one', i32(1)),
    constNode('zero', i32(0)),
    tfNode('i_f', 'Cast', ['i'], { SrcT: 'int32', DstT: 'float32' }),
    tfNode('scaled', 'Mul', ['acc', 'half:output:0'], { T: 'float32' }),
    tfNode('xi', 'Mul', ['x', 'i_f:y:0'], { T: 'float32' }),
    tfNode('acc_next', 'AddV2', ['scaled:z:0', 'xi:z:0'], { T: 'float32' }),
    tfNode('set', 'TensorListSetItem', ['list', index === 'step' ? 'i' : 'zero:output:0', 'acc_next:z:0'], { element_dtype: 'float32' }),
    tfNode('i_next', 'AddV2', ['i', 'one:output:0'], { T: 'int32' }),
  ]);
  const types: ArgType[] = ['int32', 'variant', 'float32', 'int32', 'float32'];
  return {
    ...tfGraph([
      placeholder('x', 'float32', [2, 3]),
      constNode('n', i32(steps)),
      constNode('i0', i32(0)),
      constNode('elem_shape', i32s([-1, 3])),
      constNode('reserve_n', i32(index === 'step' ? steps : 1)),
      tfNode('list0', 'TensorListReserve', ['elem_shape', 'reserve_n'], { element_dtype: 'float32', shape_type: 'int32' }),
      tfNode('while', 'StatelessWhile', ['i0', 'list0', 'x', 'n', 'x'], {
        T: typeList(types), cond: { func: { name: 'acc_cond', attr: {} } }, body: { func: { name: 'acc_body', attr: {} } },
        output_shapes: { list: { shape: [[], [], [-1, 3], [], [2, 3]] } }, parallel_iterations: 10,
      }),
      tfNode('stack', 'TensorListStack', ['while:1', 'elem_shape'], { element_dtype: 'float32', num_elements: index === 'step' ? steps : 1 }),
    ]),
    functions: [cond, body],
  };
}

describe('StatelessWhile + TensorList vs tfjs-converter and onnxruntime', () => {
  it('items appended in order (a Keras RNN with return_sequences=True)', async () => {
    const m = await expectSame(accumulateGraph('step', 4), { x: rand('float32', [2, 3], 1) }, ['stack', 'while:2']);
    expect(m.graph.findNodesByOp('Loop')).toHaveLength(1);
    // n and x are loop invariants: read from the enclosing graph, not carried.
    const loop = m.graph.findNodesByOp('Loop')[0]!;
    expect(loop.inputs.length).toBe(2 + 3);
  });

  it('one item overwritten every step (return_sequences=False)', async () => {
    await expectSame(accumulateGraph('zero', 5), { x: rand('float32', [2, 3], 2) }, ['stack', 'while:2']);
  });

  it('a loop that does not run (n = 0) returns its initial values', async () => {
    const g = accumulateGraph('step', 0);
    const want = await runTfjsGraphOracle(g, new Map(), { x: rand('float32', [2, 3], 3) }, ['while:2', 'while']);
    const model = new Model(importTfGraph(g, { outputs: ['while:2', 'while'] }), { format: 'tf' });
    const ours = await run(model, new Map([['x', rand('float32', [2, 3], 3)]]));
    model.graph.outputs.forEach((o, i) => expectClose(ours.outputs.get(o.name)!, want[i]!, o.name));
  });

  it('a list read item by item (TensorListFromTensor + GetItem), results pushed back, length in the condition', async () => {
    const args: [string, ArgType][] = [['i', 'int32'], ['h', 'float32'], ['outs', 'variant'], ['items', 'variant']];
    const cond = fn('rnn_cond', args, [['go', 'bool', 'less:z:0']], [
      tfNode('len', 'TensorListLength', ['items']),
      tfNode('less', 'Less', ['i', 'len:length:0'], { T: 'int32' }),
    ]);
    const body = fn('rnn_body', args, [
      ['i_next', 'int32', 'i_next:z:0'], ['h_next', 'float32', 'h_next:y:0'], ['outs_next', 'variant', 'push:output_handle:0'], ['items_out', 'variant', 'items'],
    ], [
      constNode('one', i32(1)),
      constNode('item_shape', i32s([2, 3])),
      tfNode('item', 'TensorListGetItem', ['items', 'i', 'item_shape:output:0'], { element_dtype: 'float32' }),
      tfNode('sum', 'AddV2', ['h', 'item:item:0'], { T: 'float32' }),
      tfNode('h_next', 'Tanh', ['sum:z:0'], { T: 'float32' }),
      tfNode('push', 'TensorListPushBack', ['outs', 'h_next:y:0'], { element_dtype: 'float32' }),
      tfNode('i_next', 'AddV2', ['i', 'one:output:0'], { T: 'int32' }),
    ]);
    const graph: TfGraph = {
      ...tfGraph([
        placeholder('seq', 'float32', [4, 2, 3]),
        placeholder('h0', 'float32', [2, 3]),
        constNode('i0', i32(0)),
        constNode('item_shape', i32s([2, 3])),
        constNode('max', i32(-1)),
        tfNode('items', 'TensorListFromTensor', ['seq', 'item_shape'], { element_dtype: 'float32', shape_type: 'int32' }),
        tfNode('outs0', 'EmptyTensorList', ['item_shape', 'max'], { element_dtype: 'float32', shape_type: 'int32' }),
        tfNode('while', 'StatelessWhile', ['i0', 'h0', 'outs0', 'items'], {
          T: typeList(args.map((a) => a[1])), cond: { func: { name: 'rnn_cond', attr: {} } }, body: { func: { name: 'rnn_body', attr: {} } },
        }),
        tfNode('stack', 'TensorListStack', ['while:2', 'item_shape'], { element_dtype: 'float32', num_elements: -1 }),
      ]),
      functions: [cond, body],
    };
    await expectSame(graph, { seq: rand('float32', [4, 2, 3], 4), h0: rand('float32', [2, 3], 5) }, ['stack', 'while:1']);
  });
});

describe('TensorList ops outside loops vs tfjs-converter and onnxruntime', () => {
  it('PopBack gives the last item and a list one shorter; SetItem replaces an existing item', async () => {
    const graph = tfGraph([
      placeholder('seq', 'float32', [3, 2]),
      placeholder('item', 'float32', [2]),
      constNode('item_shape', i32s([2])),
      constNode('one', i32(1)),
      tfNode('items', 'TensorListFromTensor', ['seq', 'item_shape'], { element_dtype: 'float32', shape_type: 'int32' }),
      tfNode('pop', 'TensorListPopBack', ['items', 'item_shape'], { element_dtype: 'float32' }),
      tfNode('count', 'TensorListLength', ['pop']),
      tfNode('set', 'TensorListSetItem', ['pop', 'one', 'item'], { element_dtype: 'float32' }),
      tfNode('stack', 'TensorListStack', ['set', 'item_shape'], { element_dtype: 'float32', num_elements: -1 }),
    ]);
    // tfjs-converter's PopBack returns the item alone (port 0) and changes the list in place, where
    // TF returns (list, item): the expected values are TF's, written out from the inputs.
    const seq = Tensor.fromArray('float32', [3, 2], [1, 2, 3, 4, 5, 6]);
    const item = Tensor.fromArray('float32', [2], [-7, 8]);
    await expectSame(graph, { seq, item }, ['pop:1', 'count', 'stack'], [
      Tensor.fromArray('float32', [2], [5, 6]), Tensor.fromArray('int32', [], [2]), Tensor.fromArray('float32', [2, 2], [1, 2, -7, 8]),
    ]);
  });
});

describe('StatelessIf vs tfjs-converter and onnxruntime', () => {
  const graph = (): TfGraph => {
    const thenF = fn('double', [['x', 'float32']], [['y', 'float32', 'y:z:0']], [
      constNode('two', Tensor.fromArray('float32', [], [2])),
      tfNode('y', 'Mul', ['x', 'two:output:0'], { T: 'float32' }),
    ]);
    const elseF = fn('minus_one', [['x', 'float32']], [['y', 'float32', 'y:z:0']], [
      constNode('one', Tensor.fromArray('float32', [], [1])),
      tfNode('y', 'Sub', ['x', 'one:output:0'], { T: 'float32' }),
    ]);
    return {
      ...tfGraph([
        placeholder('x', 'float32', [3]),
        constNode('axis', i32s([0])),
        constNode('zero', Tensor.fromArray('float32', [], [0])),
        tfNode('sum', 'Sum', ['x', 'axis'], { T: 'float32', Tidx: 'int32', keep_dims: false }),
        tfNode('positive', 'Greater', ['sum', 'zero'], { T: 'float32' }),
        tfNode('if', 'StatelessIf', ['positive', 'x'], {
          Tcond: 'bool', Tin: tfAttr.types(['float32']), Tout: tfAttr.types(['float32']),
          then_branch: { func: { name: 'double', attr: {} } }, else_branch: { func: { name: 'minus_one', attr: {} } },
        }),
      ]),
      functions: [thenF, elseF],
    };
  };
  it('takes the then branch for a true condition and the else branch for a false one', async () => {
    const pos = await expectSame(graph(), { x: Tensor.fromArray('float32', [3], [1, 2, -0.5]) }, ['if']);
    expect(pos.graph.findNodesByOp('If')).toHaveLength(1);
    await expectSame(graph(), { x: Tensor.fromArray('float32', [3], [-1, 0.25, -0.5]) }, ['if']);
  });
});

/**
 * A TF1 dynamic_rnn-style loop, as TF 1.x graphs hold it: Enter/Merge/Switch/Exit/NextIteration/
 * LoopCond, the input unstacked into a TensorArray (ScatterV3 of range(0, T)), each step read
 * with TensorArrayReadV3, h = tanh(h + x_t) written with TensorArrayWriteV3, gathered after.
 */
function tf1RnnGraph(): TfGraph {
  const F = 'rnn/while/';
  const enter = (name: string, input: string, t: DType | 20, constant: boolean) =>
    tfNode(name, 'Enter', [input], { T: t === 20 ? { type: 20 } : t, frame_name: tfAttr.s(F), is_constant: constant, parallel_iterations: 32 });
  const ta = (name: string) => tfNode(name, 'TensorArrayV3', ['steps'], {
    dtype: 'float32', element_shape: tfAttr.shape([2, 3]), dynamic_size: false, clear_after_read: true,
    identical_element_shapes: true, tensor_array_name: tfAttr.s(''),
  });
  return tfGraph([
    placeholder('x', 'float32', [4, 2, 3]),
    placeholder('h0', 'float32', [2, 3]),
    constNode('steps', i32(4)),
    constNode('zero', i32(0)),
    constNode('one', i32(1)),
    ta('ta_in'),
    tfNode('range', 'Range', ['zero', 'steps', 'one'], { Tidx: 'int32' }),
    tfNode('scatter', 'TensorArrayScatterV3', ['ta_in', 'range', 'x', 'ta_in:1'], { T: 'float32' }),
    ta('ta_out'),
    enter('e_i', 'zero', 'int32', false),
    enter('e_h', 'h0', 'float32', false),
    enter('e_flow', 'ta_out:1', 'float32', false),
    enter('e_ta_in', 'ta_in', 20, true),
    enter('e_scatter', 'scatter', 'float32', true),
    enter('e_ta_out', 'ta_out', 20, true),
    enter('e_n', 'steps', 'int32', true),
    tfNode('m_i', 'Merge', ['e_i', 'ni_i'], { T: 'int32', N: 2 }),
    tfNode('m_h', 'Merge', ['e_h', 'ni_h'], { T: 'float32', N: 2 }),
    tfNode('m_flow', 'Merge', ['e_flow', 'ni_flow'], { T: 'float32', N: 2 }),
    tfNode('less', 'Less', ['m_i', 'e_n'], { T: 'int32' }),
    tfNode('lc', 'LoopCond', ['less']),
    tfNode('s_i', 'Switch', ['m_i', 'lc'], { T: 'int32' }),
    tfNode('s_h', 'Switch', ['m_h', 'lc'], { T: 'float32' }),
    tfNode('s_flow', 'Switch', ['m_flow', 'lc'], { T: 'float32' }),
    tfNode('id_i', 'Identity', ['s_i:1'], { T: 'int32' }),
    tfNode('id_h', 'Identity', ['s_h:1'], { T: 'float32' }),
    tfNode('id_flow', 'Identity', ['s_flow:1'], { T: 'float32' }),
    tfNode('item', 'TensorArrayReadV3', ['e_ta_in', 'id_i', 'e_scatter'], { dtype: 'float32' }),
    tfNode('sum', 'AddV2', ['id_h', 'item'], { T: 'float32' }),
    tfNode('h_new', 'Tanh', ['sum'], { T: 'float32' }),
    tfNode('write', 'TensorArrayWriteV3', ['e_ta_out', 'id_i', 'h_new', 'id_flow'], { T: 'float32' }),
    { ...constNode('step', i32(1)), inputs: ['^id_i'] },
    tfNode('i_new', 'AddV2', ['id_i', 'step'], { T: 'int32' }),
    tfNode('ni_i', 'NextIteration', ['i_new'], { T: 'int32' }),
    tfNode('ni_h', 'NextIteration', ['h_new'], { T: 'float32' }),
    tfNode('ni_flow', 'NextIteration', ['write'], { T: 'float32' }),
    tfNode('x_i', 'Exit', ['s_i'], { T: 'int32' }),
    tfNode('x_h', 'Exit', ['s_h'], { T: 'float32' }),
    tfNode('x_flow', 'Exit', ['s_flow'], { T: 'float32' }),
    tfNode('size', 'TensorArraySizeV3', ['ta_out', 'x_flow']),
    tfNode('range_out', 'Range', ['zero', 'size', 'one'], { Tidx: 'int32' }),
    tfNode('outputs', 'TensorArrayGatherV3', ['ta_out', 'range_out', 'x_flow'], { dtype: 'float32', element_shape: tfAttr.shape([2, 3]) }),
  ]);
}

describe('TF1 while loops (Enter/Merge/Switch/Exit) with TensorArrays vs tfjs-converter and onnxruntime', () => {
  it('a dynamic_rnn-style loop becomes one ONNX Loop with the same outputs', async () => {
    const m = await expectSame(tf1RnnGraph(), { x: rand('float32', [4, 2, 3], 8), h0: rand('float32', [2, 3], 9) }, ['outputs', 'x_h', 'x_i']);
    expect(m.graph.findNodesByOp('Loop')).toHaveLength(1);
  });

  it('a loop inside a loop is refused, naming the inner loop', () => {
    const g = tf1RnnGraph();
    // Make the body's step constant enter a second frame from inside the first one.
    g.nodes.push(tfNode('inner_enter', 'Enter', ['id_i'], { T: 'int32', frame_name: tfAttr.s('inner/'), is_constant: false }));
    g.nodes = g.nodes.map((n) => (n.name === 'i_new' ? { ...n, inputs: ['inner_enter', 'step'] } : n));
    expect(() => importTfGraph(g, { outputs: ['outputs'] })).toThrow(/TF1 while loop .* could not rewrite: .*(nested|no Merge)/);
  });

  it('a TF1 structure that cannot be rewritten, off the path to the outputs, does not stop the conversion', async () => {
    const g = tf1RnnGraph();
    // A malformed cond (a Merge of three values) that nothing the outputs need reads.
    g.nodes.push(
      tfNode('odd/Switch', 'Switch', ['h0', 'odd_pred'], { T: 'float32' }),
      constNode('odd_pred', Tensor.fromArray('bool', [], [true])),
      tfNode('odd/Merge', 'Merge', ['odd/Switch', 'odd/Switch:1', 'h0'], { T: 'float32', N: 3 }),
    );
    const model = new Model(importTfGraph(g, { outputs: ['x_h'] }), { format: 'tf' });
    expect(model.graph.findNodesByOp('Loop')).toHaveLength(1);
    // Asked for, it is refused with the reason.
    expect(() => importTfGraph(g, { outputs: ['odd/Merge'] })).toThrow(/Merge x1.*TF1 control flow left as it was: the cond Merge odd\/Merge has 3 inputs/);
  });
});

describe('TF1 conds (Switch/Merge) vs tfjs-converter and onnxruntime', () => {
  // y = x * 2 if sum(x) > 0 else x - 1, as tf.cond builds it in TF 1.x: a pivot Switch on the
  // predicate gives the branches' constants their control dependency.
  const graph = (): TfGraph => tfGraph([
    placeholder('x', 'float32', [3]),
    constNode('axis', i32s([0])),
    constNode('zero', Tensor.fromArray('float32', [], [0])),
    tfNode('sum', 'Sum', ['x', 'axis'], { T: 'float32', Tidx: 'int32', keep_dims: false }),
    tfNode('pred', 'Greater', ['sum', 'zero'], { T: 'float32' }),
    tfNode('cond/Switch', 'Switch', ['pred', 'pred'], { T: 'bool' }),
    tfNode('cond/switch_t', 'Identity', ['cond/Switch:1'], { T: 'bool' }),
    tfNode('cond/switch_f', 'Identity', ['cond/Switch'], { T: 'bool' }),
    tfNode('cond/Switch_1', 'Switch', ['x', 'pred'], { T: 'float32' }),
    { ...constNode('cond/two', Tensor.fromArray('float32', [], [2])), inputs: ['^cond/switch_t'] },
    tfNode('cond/mul', 'Mul', ['cond/Switch_1:1', 'cond/two'], { T: 'float32' }),
    { ...constNode('cond/one', Tensor.fromArray('float32', [], [1])), inputs: ['^cond/switch_f'] },
    tfNode('cond/sub', 'Sub', ['cond/Switch_1', 'cond/one'], { T: 'float32' }),
    tfNode('cond/Merge', 'Merge', ['cond/sub', 'cond/mul'], { T: 'float32', N: 2 }),
    tfNode('y', 'Identity', ['cond/Merge'], { T: 'float32' }),
  ]);
  it('becomes an ONNX If taking each branch as TF does', async () => {
    const m = await expectSame(graph(), { x: Tensor.fromArray('float32', [3], [1, 2, -0.5]) }, ['y']);
    expect(m.graph.findNodesByOp('If')).toHaveLength(1);
    await expectSame(graph(), { x: Tensor.fromArray('float32', [3], [-1, 0.25, -0.5]) }, ['y']);
  });
});

describe('control flow that cannot convert', () => {
  it('a While whose body function is missing is a clear error naming the node', () => {
    const g = { ...accumulateGraph('step', 2) };
    g.functions = g.functions.filter((f) => f.name !== 'acc_body');
    let err: unknown;
    try {
      importTfGraph(g, { outputs: ['stack'] });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(MconvError);
    expect((err as MconvError).message).toMatch(/acc_body/);
  });
});
