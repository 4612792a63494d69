/**
 * inferShapes / inferNode on graphs built in code: symbolic dims, data propagation through
 * shape arithmetic, binding dims, checking recorded types, subgraphs, unknown ops.
 * (Concrete shapes are checked against the ONNX backend data in infer-reference.test.ts.)
 */
import { describe, expect, it } from 'vitest';
import { Graph, attr } from '../../src/ir/graph.js';
import { inferNode, inferShapes } from '../../src/ir/infer.js';
import { Tensor } from '../../src/ir/tensor.js';
import { floats, int64s, op } from './build.js';

function shapeChain(batch: string | number) {
  const g = new Graph('t');
  g.addInput('x', 'float32', [batch, 3, 32, 32]);
  op(g, 'Shape', ['x'], 's');
  g.addInitializer('i0', int64s([0], []));
  op(g, 'Gather', ['s', 'i0'], 'b');
  g.addInitializer('ax', int64s([0]));
  op(g, 'Unsqueeze', ['b', 'ax'], 'bu');
  g.addInitializer('m1', int64s([-1]));
  op(g, 'Concat', ['bu', 'm1'], 'target', { axis: attr.int(0) });
  op(g, 'Reshape', ['x', 'target'], 'flat');
  g.outputs.push(g.value('flat')!);
  return g;
}

describe('broadcasting with symbolic dims', () => {
  it('merges a symbol with 1 and with the same name, takes numbers over symbols', () => {
    const g = new Graph('t');
    g.addInput('a', 'float32', ['batch', 1, 4]);
    g.addInput('b', 'float32', [3, 1]);
    g.addInput('c', 'float32', ['batch', 'seq', 1]);
    g.addInput('d', 'float32', [1, 5, 4]);
    op(g, 'Add', ['a', 'b'], 'ab');
    op(g, 'Mul', ['a', 'c'], 'ac');
    op(g, 'Sub', ['c', 'd'], 'cd');
    const r = inferShapes(g);
    expect(r.issues).toEqual([]);
    expect(g.value('ab')!.shape).toEqual(['batch', 3, 4]);
    expect(g.value('ac')!.shape).toEqual(['batch', 'seq', 4]);
    expect(g.value('cd')!.shape).toEqual(['batch', 5, 4]); // seq must be 5 (or 1)
    expect(g.value('ab')!.dtype).toBe('float32');
  });
  it('gives a fresh symbol for two different names and reports incompatible numbers', () => {
    const g = new Graph('t');
    g.addInput('a', 'float32', ['N']);
    g.addInput('b', 'float32', ['M']);
    g.addInput('c', 'float32', [2, 3]);
    g.addInput('d', 'float32', [4, 3]);
    g.addNode('Add', [g.value('a')!, g.value('b')!], ['s'], {}, 'Add_7');
    g.addNode('Add', [g.value('c')!, g.value('d')!], ['bad'], {}, 'Add_8');
    const r = inferShapes(g);
    expect(g.value('s')!.shape).toEqual(['Add_7_dim0']);
    const err = r.issues.find((i) => i.kind === 'error');
    expect(err?.node).toBe('Add_8');
    expect(err?.message).toMatch(/cannot broadcast/);
    expect(g.value('bad')!.shape).toBeUndefined();
  });
  it('comparison ops give bool, Where takes the branch dtype', () => {
    const g = new Graph('t');
    g.addInput('a', 'float32', ['N', 4]);
    g.addInput('b', 'float32', [4]);
    op(g, 'Less', ['a', 'b'], 'lt');
    g.addInput('y', 'float32', [1]);
    op(g, 'Where', ['lt', 'a', 'y'], 'w');
    inferShapes(g);
    expect(g.value('lt')!.dtype).toBe('bool');
    expect(g.value('w')!.dtype).toBe('float32');
    expect(g.value('w')!.shape).toEqual(['N', 4]);
  });
});

describe('data propagation of shape arithmetic', () => {
  it('resolves Reshape(x, Concat(Unsqueeze(Shape(x)[0]), [-1])) with a symbolic batch', () => {
    const g = shapeChain('batch');
    const r = inferShapes(g);
    expect(r.issues).toEqual([]);
    expect(g.value('flat')!.shape).toEqual(['batch', 3072]);
    expect(r.types.get(g.value('target')!)!.value).toEqual(['batch', -1]);
  });
  it('binds symbolic dims to numbers', () => {
    const g = shapeChain('batch');
    inferShapes(g);
    inferShapes(g, { dims: { batch: 2 } });
    expect(g.value('x')!.shape).toEqual([2, 3, 32, 32]);
    expect(g.value('flat')!.shape).toEqual([2, 3072]);
    expect(g.value('s')!.shape).toEqual([4]);
  });
  it('uses Constant nodes and initializers as constant inputs', () => {
    const g = new Graph('t');
    g.addInput('x', 'float32', [2, 3, 4]);
    g.addNode('Constant', [], ['shape'], { value: attr.tensor(int64s([4, 0, -1])) });
    op(g, 'Reshape', ['x', 'shape'], 'y');
    g.addNode('Constant', [], ['k'], { value_int: attr.int(2) });
    g.addNode('TopK', [g.value('x')!, g.value('k')!], ['vals', 'idx'], { axis: attr.int(1) });
    inferShapes(g);
    expect(g.value('y')!.shape).toEqual([4, 3, 2]);
    expect(g.value('vals')!.shape).toEqual([2, 2, 4]);
    expect(g.value('idx')!.dtype).toBe('int64');
  });
  it('leaves Reshape dims unknown (fresh symbols named after the node) when the shape is not known', () => {
    const g = new Graph('t');
    g.addInput('x', 'float32', [2, 3, 4]);
    g.addInput('shape', 'int64', [2]);
    g.addNode('Reshape', [g.value('x')!, g.value('shape')!], ['y'], {}, 'Reshape_1');
    inferShapes(g);
    expect(g.value('y')!.shape).toEqual(['Reshape_1_dim0', 'Reshape_1_dim1']);
    // Known when the input's content is supplied.
    inferShapes(g, { reset: true, inputValues: { shape: int64s([6, 4]) } });
    expect(g.value('y')!.shape).toEqual([6, 4]);
  });
  it('infers -1 by cancelling symbols', () => {
    const g = new Graph('t');
    g.addInput('x', 'float32', ['N', 'T', 8]);
    g.addInitializer('s', int64s([-1, 8]));
    op(g, 'Reshape', ['x', 's'], 'y');
    g.addInput('z', 'float32', ['N', 4, 6]);
    g.addInitializer('s2', int64s([0, -1]));
    op(g, 'Reshape', ['z', 's2'], 'w');
    inferShapes(g);
    expect(g.value('y')!.shape).toEqual(['y_dim0', 8]); // N*T is no single symbol: a fresh one, named after the node
    expect(g.value('w')!.shape).toEqual(['N', 24]);
  });
});

describe('recorded types', () => {
  it('reports a recorded shape that contradicts inference and keeps the recorded one', () => {
    const g = new Graph('t');
    g.addInput('x', 'float32', [1, 3, 8, 8]);
    g.addInitializer('w', floats(new Array(4 * 3 * 9).fill(0), [4, 3, 3, 3]));
    const n = g.addNode('Conv', [g.value('x')!, g.value('w')!], ['y'], { pads: attr.ints([1, 1, 1, 1]) }, 'conv1');
    n.outputs[0]!.shape = [1, 4, 6, 6];
    n.outputs[0]!.dtype = 'float32';
    const r = inferShapes(g);
    expect(r.issues).toHaveLength(1);
    expect(r.issues[0]).toMatchObject({ kind: 'mismatch', node: 'conv1', value: 'y' });
    expect(r.issues[0]!.message).toMatch(/dim 2 is 6 recorded, 8 inferred/);
    expect(n.outputs[0]!.shape).toEqual([1, 4, 6, 6]);
  });
  it('refines recorded symbols with inferred numbers, and write:false changes nothing', () => {
    const g = new Graph('t');
    g.addInput('x', 'float32', [2, 3]);
    const y = op(g, 'Relu', ['x'], 'y');
    y.shape = ['batch', 3];
    const r = inferShapes(g, { write: false });
    expect(y.shape).toEqual(['batch', 3]);
    expect(y.dtype).toBeUndefined();
    expect(r.types.get(y)).toMatchObject({ dtype: 'float32', shape: [2, 3] });
    inferShapes(g);
    expect(y.shape).toEqual([2, 3]);
  });
  it('reports unknown ops and keeps their recorded outputs', () => {
    const g = new Graph('t');
    g.addInput('x', 'float32', [2, 3]);
    const n = g.addNode('FancyOp', [g.value('x')!], ['y'], {}, 'fancy', 'com.example');
    n.outputs[0]!.shape = [7];
    op(g, 'Relu', ['y'], 'z');
    const r = inferShapes(g);
    expect(r.issues.map((i) => i.kind)).toEqual(['unknown-op']);
    expect(g.value('z')!.shape).toEqual([7]);
  });
});

describe('op rules', () => {
  it('Conv keeps the batch name and gives symbolic spatial dims fresh names', () => {
    const g = new Graph('t');
    g.addInput('x', 'float32', ['N', 3, 'H', 32]);
    g.addInitializer('w', floats(new Array(8 * 3 * 9).fill(0), [8, 3, 3, 3]));
    g.addNode('Conv', [g.value('x')!, g.value('w')!], ['y'], { strides: attr.ints([2, 2]) }, 'c');
    inferShapes(g);
    expect(g.value('y')!.shape).toEqual(['N', 8, 'c_dim2', 15]);
  });
  it('SAME auto_pad pools, global pools, Flatten with a symbolic batch', () => {
    const g = new Graph('t');
    g.addInput('x', 'float32', ['N', 3, 9, 10]);
    op(g, 'MaxPool', ['x'], 'p', { kernel_shape: attr.ints([3, 3]), strides: attr.ints([2, 2]), auto_pad: attr.string('SAME_UPPER') });
    op(g, 'GlobalAveragePool', ['p'], 'gap');
    op(g, 'Flatten', ['gap'], 'f');
    inferShapes(g);
    expect(g.value('p')!.shape).toEqual(['N', 3, 5, 5]);
    expect(g.value('gap')!.shape).toEqual(['N', 3, 1, 1]);
    expect(g.value('f')!.shape).toEqual(['N', 3]);
  });
  it('MatMul broadcasts batch dims and handles 1-D operands; Gemm transposes', () => {
    const g = new Graph('t');
    g.addInput('a', 'float32', ['B', 1, 5, 6]);
    g.addInput('b', 'float32', [4, 6, 7]);
    g.addInput('v', 'float32', [6]);
    op(g, 'MatMul', ['a', 'b'], 'ab');
    op(g, 'MatMul', ['a', 'v'], 'av');
    op(g, 'MatMul', ['v', 'b'], 'vb');
    g.addInput('m', 'float32', [6, 'K']);
    g.addInput('n', 'float32', [3, 6]);
    op(g, 'Gemm', ['m', 'n'], 'gm', { transA: attr.int(1), transB: attr.int(1) });
    inferShapes(g);
    expect(g.value('ab')!.shape).toEqual(['B', 4, 5, 7]);
    expect(g.value('av')!.shape).toEqual(['B', 1, 5]);
    expect(g.value('vb')!.shape).toEqual([4, 7]);
    expect(g.value('gm')!.shape).toEqual(['K', 3]);
  });
  it('data-dependent outputs get symbolic dims', () => {
    const g = new Graph('t');
    g.addInput('x', 'float32', [3, 4]);
    g.addNode('NonZero', [g.value('x')!], ['nz'], {}, 'nonzero');
    g.addNode('Unique', [g.value('x')!], ['u', 'ui', 'uinv', 'uc'], {}, 'uniq');
    inferShapes(g);
    expect(g.value('nz')!.shape).toEqual([2, 'nonzero_nonzero']);
    expect(g.value('nz')!.dtype).toBe('int64');
    expect(g.value('u')!.shape).toEqual(['uniq_unique']);
    expect(g.value('uc')!.shape).toEqual(['uniq_unique']);
    expect(g.value('uinv')!.shape).toEqual([12]);
  });
  it('Split, Slice with symbolic dims, Einsum, LSTM', () => {
    const g = new Graph('t');
    g.addInput('x', 'float32', ['N', 6, 'T']);
    g.addNode('Split', [g.value('x')!], ['s0', 's1', 's2'], { axis: attr.int(1) });
    g.addInitializer('st', int64s([0, 1]));
    g.addInitializer('en', Tensor.fromArray('int64', [2], [9223372036854775807n, -1n]));
    g.addInitializer('ax', int64s([2, 1]));
    op(g, 'Slice', ['x', 'st', 'en', 'ax'], 'sl');
    g.addInput('p', 'float32', ['N', 6, 5]);
    op(g, 'Einsum', ['x', 'p'], 'e', { equation: attr.string('nct,nck->ntk') });
    g.addInput('seq', 'float32', [7, 'B', 10]);
    g.addInitializer('W', floats(new Array(2 * 4 * 16 * 10).fill(0), [2, 64, 10]));
    g.addInitializer('R', floats(new Array(2 * 64 * 16).fill(0), [2, 64, 16]));
    g.addNode('LSTM', [g.value('seq')!, g.value('W')!, g.value('R')!], ['Y', 'Yh', 'Yc'], {
      hidden_size: attr.int(16), direction: attr.string('bidirectional'),
    });
    inferShapes(g);
    expect(g.value('s2')!.shape).toEqual(['N', 2, 'T']);
    expect(g.value('sl')!.shape).toEqual(['N', 4, 'T']);
    expect(g.value('e')!.shape).toEqual(['N', 'T', 5]);
    expect(g.value('Y')!.shape).toEqual([7, 2, 'B', 16]);
    expect(g.value('Yc')!.shape).toEqual([2, 'B', 16]);
  });
  it('inferNode computes one node without writing', () => {
    const g = new Graph('t');
    g.addInput('x', 'float32', [2, 3, 4]);
    const n = g.addNode('Transpose', [g.value('x')!], ['y'], { perm: attr.ints([2, 0, 1]) });
    expect(inferNode(n)).toEqual([{ dtype: 'float32', shape: [4, 2, 3], value: undefined }]);
    expect(n.outputs[0]!.shape).toBeUndefined();
    const bad = g.addNode('Transpose', [g.value('x')!], ['z'], { perm: attr.ints([0, 0, 1]) });
    expect(() => inferNode(bad)).toThrow(/not a permutation/);
  });
});

describe('subgraphs', () => {
  it('If merges its branches; outer values are visible inside', () => {
    const g = new Graph('t');
    g.addInput('c', 'bool', []);
    g.addInput('x', 'float32', ['N', 4]);
    const thenG = new Graph('then', g);
    thenG.addNode('Relu', [g.value('x')!], ['t_out']);
    thenG.outputs.push(thenG.value('t_out')!);
    const elseG = new Graph('else', g);
    elseG.addInitializer('two', int64s([2, 2]));
    elseG.addNode('Reshape', [g.value('x')!, elseG.value('two')!], ['e_out']);
    elseG.outputs.push(elseG.value('e_out')!);
    g.addNode('If', [g.value('c')!], ['y'], { then_branch: attr.graph(thenG), else_branch: attr.graph(elseG) }, 'if1');
    const r = inferShapes(g);
    expect(r.issues.filter((i) => i.kind !== 'mismatch')).toEqual([]);
    expect(thenG.value('t_out')!.shape).toEqual(['N', 4]);
    expect(g.value('y')!.shape).toEqual(['if1_dim0', 'if1_dim1']);
    expect(g.value('y')!.dtype).toBe('float32');
  });
  it('Loop carries values and stacks scan outputs along the trip count', () => {
    const g = new Graph('t');
    g.addInitializer('M', int64s([5], []));
    g.addInput('v0', 'float32', [3]);
    const body = new Graph('body', g);
    body.addInput('i', 'int64', []);
    body.addInput('cond', 'bool', []);
    const vin = body.addInput('v', 'float32', [3]);
    body.addNode('Identity', [body.value('cond')!], ['cond_out']);
    body.addNode('Add', [vin, vin], ['v_out']);
    body.addNode('Mul', [vin, vin], ['scan']);
    body.outputs.push(body.value('cond_out')!, body.value('v_out')!, body.value('scan')!);
    g.addNode('Loop', [g.value('M')!, null, g.value('v0')!], ['v_final', 'stacked'], { body: attr.graph(body) });
    inferShapes(g);
    expect(g.value('v_final')!.shape).toEqual([3]);
    expect(g.value('stacked')!.shape).toEqual([5, 3]);
  });
  it('Scan slices its inputs along the scan axis', () => {
    const g = new Graph('t');
    g.addInput('init', 'float32', [2]);
    g.addInput('xs', 'float32', ['T', 2]);
    const body = new Graph('body', g);
    const s = body.addInput('s', 'float32', undefined as never);
    const x = body.addInput('x', 'float32', undefined as never);
    s.shape = undefined;
    x.shape = undefined;
    body.addNode('Add', [s, x], ['s2']);
    body.addNode('Identity', [body.value('s2')!], ['out']);
    body.outputs.push(body.value('s2')!, body.value('out')!);
    g.addNode('Scan', [g.value('init')!, g.value('xs')!], ['final', 'ys'], {
      body: attr.graph(body), num_scan_inputs: attr.int(1),
    });
    inferShapes(g);
    expect(x.shape).toEqual([2]);
    expect(g.value('final')!.shape).toEqual([2]);
    expect(g.value('ys')!.shape).toEqual(['T', 2]);
  });
});

describe('Constant forms', () => {
  it('value_floats, value_ints, tensor', () => {
    const g = new Graph('t');
    g.addNode('Constant', [], ['a'], { value_floats: attr.floats([1, 2, 3]) });
    g.addNode('Constant', [], ['b'], { value: attr.tensor(Tensor.fromArray('int32', [2, 2], [1, 2, 3, 4])) });
    inferShapes(g);
    expect([g.value('a')!.dtype, g.value('a')!.shape]).toEqual(['float32', [3]]);
    expect([g.value('b')!.dtype, g.value('b')!.shape]).toEqual(['int32', [2, 2]]);
  });
});

describe('data propagation through float casts', () => {
  it('resolves Resize sizes computed as Cast(Cast(Shape) * scale)', () => {
    const g = new Graph('t');
    g.addInput('x', 'float32', [1, 3, 5, 7]);
    op(g, 'Shape', ['x'], 's');
    op(g, 'Cast', ['s'], 'sf', { to: attr.int(1) });
    g.addInitializer('scale', floats([1, 1, 2, 1.5]));
    op(g, 'Mul', ['sf', 'scale'], 'scaled');
    op(g, 'Cast', ['scaled'], 'sizes', { to: attr.int(7) });
    g.addNode('Resize', [g.value('x')!, null, null, g.value('sizes')!], ['y'], { mode: attr.string('nearest') });
    inferShapes(g);
    expect(g.value('y')!.shape).toEqual([1, 3, 10, 10]);
  });
});
