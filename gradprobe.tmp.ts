import { Graph, attr } from '/work/main/src/ir/graph.js';
import { Tensor } from '/work/main/src/ir/tensor.js';
import { runModel } from '/work/main/src/runtime/session.js';
const ops: [string, number, Record<string, any>][] = [
  ['Add',2,{}],['Sub',2,{}],['Mul',2,{}],['Div',2,{}],['Pow',2,{}],['Max',2,{}],['Min',2,{}],['Sum',2,{}],['Mean',2,{}],
  ['Neg',1,{}],['Abs',1,{}],['Exp',1,{}],['Log',1,{}],['Sqrt',1,{}],['Reciprocal',1,{}],['Sin',1,{}],['Cos',1,{}],['Tanh',1,{}],['Sigmoid',1,{}],['Relu',1,{}],['Softplus',1,{}],['Erf',1,{}],
  ['Identity',1,{}],['Transpose',1,{}],['Softmax',1,{}],['LogSoftmax',1,{}],['LeakyRelu',1,{}],['Elu',1,{}],['Selu',1,{}],['HardSigmoid',1,{}],
  ['ReduceSum',1,{}],['ReduceMean',1,{ axes: attr.ints([1]) }],['ReduceMax',1,{}],['ReduceSumSquare',1,{}],['ReduceL2',1,{}],
  ['MatMul',2,{}],['Gemm',2,{transB: attr.int(1)}],['Concat',2,{axis: attr.int(1)}],['Flatten',1,{}],['Squeeze',1,{}],['Unsqueeze',1,{}],['Tile',1,{}],['Slice',1,{}],['Expand',1,{}],['Reshape',1,{}],['Cast',1,{to: attr.int(1)}],['Clip',1,{}],['Where',1,{}],['Gather',1,{}],['Split',1,{}],['Pad',1,{}],
];
for (const [op, n, attrs] of ops) {
  const g = new Graph('p');
  const a = g.addInput('a', 'float32', [3, 3]);
  const b = g.addInput('b', 'float32', [3, 3]);
  let ins: any[] = n === 2 ? [a, b] : [a];
  if (op === 'ReduceSum') ins = [a, g.addInitializer('ax', Tensor.fromArray('int64', [1], [0]))];
  if (op === 'Squeeze' || op === 'Unsqueeze') ins = [a, g.addInitializer('ax', Tensor.fromArray('int64', [1], [op === 'Squeeze' ? 0 : 0]))];
  if (op === 'Squeeze') { ins = [g.addNode('Unsqueeze', [a, g.addInitializer('ax0', Tensor.fromArray('int64', [1], [0]))], ['u']).outputs[0], g.addInitializer('ax', Tensor.fromArray('int64', [1], [0]))]; }
  if (op === 'Tile') ins = [a, g.addInitializer('r', Tensor.fromArray('int64', [2], [2, 1]))];
  if (op === 'Slice') ins = [a, g.addInitializer('s', Tensor.fromArray('int64', [1], [1])), g.addInitializer('e', Tensor.fromArray('int64', [1], [3]))];
  if (op === 'Expand') ins = [a, g.addInitializer('sh', Tensor.fromArray('int64', [3], [2, 3, 3]))];
  if (op === 'Reshape') ins = [a, g.addInitializer('sh', Tensor.fromArray('int64', [1], [9]))];
  if (op === 'Clip') ins = [a, g.addInitializer('lo', Tensor.fromArray('float32', [], [-0.5])), g.addInitializer('hi', Tensor.fromArray('float32', [], [0.5]))];
  if (op === 'Where') ins = [g.addInitializer('c', Tensor.fromArray('bool', [3], [1, 0, 1])), a, b];
  if (op === 'Gather') ins = [a, g.addInitializer('i', Tensor.fromArray('int64', [2], [2, 0]))];
  if (op === 'Pad') ins = [a, g.addInitializer('p', Tensor.fromArray('int64', [4], [1, 0, 0, 2]))];
  const node = g.addNode(op, ins, op === 'Split' ? ['y', 'y2'] : ['y'], attrs);
  const gr = g.addNode('Gradient', [a, b], ['da', 'db'], { xs: attr.strings(['a', 'b']), y: attr.string('y') }, 'grad', 'ai.onnx.preview.training');
  for (const o of gr.outputs) { o.dtype = 'float32'; g.outputs.push(o); }
  const feeds = { a: Tensor.fromArray('float32', [3, 3], [0.1, 0.7, -0.3, 0.9, -1.2, 0.4, 0.25, 0.6, -0.8]), b: Tensor.fromArray('float32', [3, 3], [0.5, -0.2, 0.3, 0.1, 0.8, -0.6, 0.35, 0.2, 0.15]) };
  try {
    const r = await runModel(g, feeds, { backend: 'cpu' });
    console.log('OK  ', op, Array.from(r.get('da')!.view() as Float32Array).map((x) => x.toFixed(3)).join(' '));
  } catch (e) { console.log('FAIL', op, (e as Error).message.slice(0, 200)); }
}
