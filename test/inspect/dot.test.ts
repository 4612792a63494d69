import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { join } from 'node:path';
import { Graph, Model, attr } from '../../src/ir/graph.js';
import { Tensor } from '../../src/ir/tensor.js';
import { modelToDot, nodePath } from '../../src/inspect/dot.js';
import { load } from '../../src/api.js';
import { prepareModel } from '../../src/ir/passes/index.js';
import { inferShapes } from '../../src/ir/infer.js';
import { ROOT } from '../helpers/cli.js';
import { dotEdges, graphEdges, haveTorchvision, makeTorchvision, parseDot, removeScratch, weightHandlers } from './dot-helpers.js';

afterAll(removeScratch);

function filled(shape: number[], v = 0.5): Tensor {
  return Tensor.fromArray('float32', shape, new Array(shape.reduce((a, b) => a * b, 1)).fill(v));
}

/** x -> /block/conv/Conv (W through an Identity) -> /block/Relu -> /head/Clip (Constant bounds) -> y, plus x -> Add */
function smallModel(): Model {
  const g = new Graph('g');
  const x = g.addInput('x', 'float32', ['N', 3, 8, 8]);
  const w = g.addInitializer('conv.weight', filled([4, 3, 3, 3]));
  const wid = g.addNode('Identity', [w], ['onnx::Conv_7'], {}, 'Identity_0').outputs[0]!;
  const b = g.addInitializer('conv.bias', filled([4]));
  const conv = g.addNode('Conv', [x, wid, b], ['c'], { pads: attr.ints([1, 1, 1, 1]) }, '/block/conv/Conv').outputs[0]!;
  const relu = g.addNode('Relu', [conv], ['r'], {}, '/block/Relu').outputs[0]!;
  const lo = g.addNode('Constant', [], ['lo'], { value: attr.tensor(Tensor.fromArray('float32', [], [0])) }, 'Constant_1').outputs[0]!;
  const hi = g.addNode('Constant', [], ['hi'], { value: attr.tensor(Tensor.fromArray('float32', [], [6])) }, 'Constant_2').outputs[0]!;
  const clip = g.addNode('Clip', [relu, lo, hi], ['y'], {}, '/head/Clip').outputs[0]!;
  const sum = g.addNode('Add', [clip, clip], ['z'], {}, 'odd "name" <&>').outputs[0]!;
  g.outputs = [clip, sum];
  inferShapes(g);
  return new Model(g, { format: 'onnx' });
}

describe('modelToDot on a small graph', () => {
  const m = smallModel();
  const r = modelToDot(m);
  const p = parseDot(r.dot);

  it('folds weight handlers into their readers and draws every other node once', () => {
    expect(r.folded.map((n) => n.name).sort()).toEqual(['Constant_1', 'Constant_2', 'Identity_0']);
    const tooltips = [...p.nodes.entries()].filter(([id]) => /^n\d+$/.test(id)).map(([, n]) => n.tooltip).sort();
    expect(tooltips).toEqual(['/block/Relu', '/block/conv/Conv', '/head/Clip', 'odd "name" <&>']);
    expect(r.boxes).toBe(4);
    expect(r.totalNodes).toBe(4);
  });

  it('lists weights with their shapes inside the node, scalars with their values', () => {
    const conv = [...p.nodes.values()].find((n) => n.tooltip === '/block/conv/Conv')!;
    expect(conv.lines).toEqual(['Conv', 'conv', 'W 4×3×3×3  B 4', '→ N×4×8×8']);
    const clip = [...p.nodes.values()].find((n) => n.tooltip === '/head/Clip')!;
    expect(clip.lines).toContain('min = 0  max = 6');
  });

  it('draws inputs and outputs as ellipses (outputs with a double border)', () => {
    expect(p.nodes.get('in0')!.raw).toMatch(/shape=ellipse/);
    expect(p.nodes.get('in0')!.lines).toEqual(['x', 'N×3×8×8 float32']);
    expect(p.nodes.get('out0')!.raw).toMatch(/shape=ellipse peripheries=2/);
    expect(p.nodes.get('out1')!.lines[0]).toBe('z');
  });

  it('has exactly the edges of the graph', () => {
    expect(dotEdges(p)).toEqual(graphEdges(m));
    expect(dotEdges(p)).toEqual(
      new Set(['input:x -> /block/conv/Conv', '/block/conv/Conv -> /block/Relu', '/block/Relu -> /head/Clip', '/head/Clip -> odd "name" <&>', '/head/Clip -> output:y', 'odd "name" <&> -> output:z']),
    );
  });

  it('groups by path only where a level holds two nodes; a single-node level names the node', () => {
    expect([...p.clusters.values()].map((c) => c.label)).toEqual(['block']);
    const relu = [...p.nodes.entries()].find(([, n]) => n.tooltip === '/block/Relu')!;
    expect(relu[1].cluster).toBe([...p.clusters.keys()][0]);
    const clip = [...p.nodes.values()].find((n) => n.tooltip === '/head/Clip')!;
    expect(clip.cluster).toBeUndefined();
    expect(clip.lines[1]).toBe('head');
  });

  it('escapes names in labels and tooltips', () => {
    expect(r.dot).toContain('tooltip="odd \\"name\\" <&>"');
    expect(r.dot).not.toContain('<B>odd');
  });

  it('can be drawn without clusters and left to right', () => {
    const flat = modelToDot(m, { clusters: false, rankdir: 'LR' });
    expect(flat.clusters).toEqual([]);
    expect(flat.dot).toMatch(/rankdir=LR/);
    expect(dotEdges(parseDot(flat.dot))).toEqual(graphEdges(m));
  });
});

describe('control flow', () => {
  it('an If reads outer values through its branches: drawn as edges into the If, branches summarised', () => {
    const g = new Graph('g');
    const x = g.addInput('x', 'float32', [2]);
    const cond = g.addInput('cond', 'bool', []);
    const y = g.addNode('Relu', [x], ['y'], {}, 'relu').outputs[0]!;
    const thenG = new Graph('then', g);
    thenG.outputs = [thenG.addNode('Identity', [y], ['t'], {}, 'then_id').outputs[0]!];
    const elseG = new Graph('else', g);
    const e1 = elseG.addNode('Neg', [y], ['e1'], {}, 'else_neg').outputs[0]!;
    elseG.outputs = [elseG.addNode('Abs', [e1], ['e2'], {}, 'else_abs').outputs[0]!];
    const z = g.addNode('If', [cond], ['z'], { then_branch: attr.graph(thenG), else_branch: attr.graph(elseG) }, 'choose').outputs[0]!;
    g.outputs = [z];
    const p = parseDot(modelToDot(new Model(g, { format: 'onnx' })).dot);
    expect(dotEdges(p)).toEqual(new Set(['input:x -> relu', 'input:cond -> choose', 'relu -> choose', 'choose -> output:z']));
    const ifBox = [...p.nodes.values()].find((n) => n.tooltip === 'choose')!;
    expect(ifBox.lines).toContain('2 subgraphs: 1 nodes, 2 nodes');
  });
});

describe('clusters', () => {
  it('a level that only wraps one deeper level names it instead of drawing a frame of its own', () => {
    const g = new Graph('g');
    let x = g.addInput('x', 'float32', [1, 4]);
    for (const name of ['/m/wrap/x1/Relu', '/m/wrap/x1/Neg', '/m/wrap/x2/Relu', '/m/wrap/x2/Neg', '/tail/Relu']) x = g.addNode(name.split('/').pop()!, [x], 1, {}, name).outputs[0]!;
    g.outputs = [x];
    const r = modelToDot(new Model(g, { format: 'onnx' }));
    const byId = new Map(r.clusters.map((c) => [c.id, c]));
    expect(r.clusters.map((c) => [c.label, c.parent ? byId.get(c.parent)!.label : null, c.members.length])).toEqual([
      ['m/wrap', null, 0],
      ['x1', 'm/wrap', 2],
      ['x2', 'm/wrap', 2],
    ]);
  });
});

describe('node paths', () => {
  const node = (name: string, meta: Record<string, unknown> = {}) => {
    const g = new Graph('g');
    const n = g.addNode('Relu', [g.addInput('x', 'float32', [1])], 1, {}, name);
    n.meta = meta;
    return n;
  };
  it('reads torch.onnx scopes, TorchScript module paths and Keras layer paths', () => {
    expect(nodePath(node('/layer1/layer1.0/conv1/Conv'))).toEqual({ path: ['layer1', 'layer1.0', 'conv1'], own: 'Conv', sep: '/' });
    expect(nodePath(node('features.0'))).toEqual({ path: ['features'], own: '0', sep: '.' });
    expect(nodePath(node('inner/inner_dense/MatMul', { kerasLayer: 'inner/inner_dense' }))).toEqual({ path: ['inner', 'inner_dense'], own: 'MatMul', sep: '/' });
    expect(nodePath(node('Conv_12'))).toEqual({ path: [], own: 'Conv_12', sep: '/' });
  });
});

describe('graphs too big to lay out', () => {
  /** 40 blocks of 5 Relus under /stageS/blockB/. */
  function chain(blocks: number, named = true): Model {
    const g = new Graph('g');
    let x = g.addInput('x', 'float32', [1, 4]);
    for (let i = 0; i < blocks * 5; i++) {
      const b = Math.floor(i / 5);
      x = g.addNode('Relu', [x], 1, {}, named ? `/stage${Math.floor(b / 10)}/block${b}/relu${i}` : `Relu_${i}`).outputs[0]!;
    }
    g.outputs = [x];
    return new Model(g, { format: 'onnx' });
  }

  it('collapses modules at the deepest level that fits and says so', () => {
    const m = chain(40);
    const r = modelToDot(m, { maxNodes: 50 });
    expect(r.totalNodes).toBe(200);
    expect(r.boxes).toBe(40); // one per block
    expect(r.notes[0]).toMatch(/200 nodes, more than 50 .* 2 levels deep \(such as stage0\/block0\) is drawn as one box/);
    const p = parseDot(r.dot);
    expect(p.nodes.get('m0')!.lines).toEqual(['block0', '5 nodes: Relu ×5']);
    // The chain of blocks stays a chain.
    expect(p.edges.length).toBe(41);
    // Blocks stay inside their stage's cluster.
    expect(r.clusters.map((c) => [c.label, c.members.length])).toEqual([['stage0', 10], ['stage1', 10], ['stage2', 10], ['stage3', 10]]);
    const r2 = modelToDot(m, { maxNodes: 10 });
    expect(r2.boxes).toBe(4); // one per stage
    expect(r2.clusters).toEqual([]); // a lone box needs no frame
  });

  it('truncation leaves no frame for modules whose nodes were cut', () => {
    const g = new Graph('g');
    let x = g.addInput('x', 'float32', [1, 4]);
    for (let i = 0; i < 40; i++) x = g.addNode('Relu', [x], 1, {}, i < 35 ? `Relu_${i}` : `/tail/relu${i}`).outputs[0]!;
    g.outputs = [x];
    const r = modelToDot(new Model(g, { format: 'onnx' }), { maxNodes: 20 });
    expect(r.notes[0]).toMatch(/only the first 20/);
    expect(r.clusters).toEqual([]);
    expect(r.dot).not.toMatch(/subgraph/);
  });

  it('without module paths, draws the first nodes and a box for the rest', () => {
    const r = modelToDot(chain(40, false), { maxNodes: 30 });
    expect(r.boxes).toBe(31);
    expect(r.notes[0]).toMatch(/only the first 30/);
    const p = parseDot(r.dot);
    expect(p.nodes.get('truncated')!.lines).toEqual(['… 170 more nodes not drawn']);
    expect(p.edges).toContainEqual(['n29', 'truncated']);
    expect(p.edges).toContainEqual(['truncated', 'out0']);
  });
});

describe('Keras models (fixtures/keras)', () => {
  it('MNIST CNN: every node, the graph edges, one cluster per multi-node layer with its class', async () => {
    const m = await load(join(ROOT, 'fixtures', 'keras', 'mnist_cnn.h5'));
    prepareModel(m);
    inferShapes(m.graph);
    const r = modelToDot(m);
    const p = parseDot(r.dot);
    const boxes = [...p.nodes.entries()].filter(([id]) => /^n\d+$/.test(id)).map(([, n]) => n.tooltip.replace(/ \([^)]*\)$/, ''));
    expect(boxes.sort()).toEqual(m.graph.nodes.map((n) => n.name).sort());
    expect(m.graph.nodes.length).toBe(16);
    expect(dotEdges(p)).toEqual(graphEdges(m));
    expect([...p.clusters.values()].map((c) => c.label)).toEqual(['conv2d (Conv2D)', 'conv2d_1 (Conv2D)', 'conv2d_2 (Conv2D)', 'dense (Dense)', 'dense_1 (Dense)']);
    // Weights as Keras stored them (HWIO kernels), in ONNX layout inside the Conv box.
    const convs = [...p.nodes.values()].filter((n) => n.lines[0] === 'Conv').map((n) => n.lines[1]);
    expect(convs).toEqual(['W 32×1×3×3  B 32', 'W 64×32×3×3  B 64', 'W 64×64×3×3  B 64']);
    // Pooling shows its window and stride; the layout Transpose its permutation.
    expect([...p.nodes.values()].filter((n) => n.lines[0] === 'MaxPool').map((n) => n.lines[2])).toEqual(['2×2  stride 2', '2×2  stride 2']);
    expect([...p.nodes.values()].find((n) => n.lines[0] === 'Transpose')!.lines[2]).toBe('perm 0,3,1,2');
    expect([...p.nodes.values()].filter((n) => n.lines[0] === 'Conv').map((n) => n.lines.at(-1))).toEqual(['→ batch×32×26×26', '→ batch×64×11×11', '→ batch×64×3×3']);
    expect(p.nodes.get('in0')!.lines).toEqual(['conv2d_input', 'batch×28×28×1 float32']);
  });

  it('nested model: the inner Sequential is a cluster holding its layers', async () => {
    const m = await load(join(ROOT, 'fixtures', 'keras', 'nested_shared.h5'));
    prepareModel(m);
    inferShapes(m.graph);
    const p = parseDot(modelToDot(m).dot);
    const byLabel = new Map([...p.clusters.entries()].map(([id, c]) => [c.label, { id, ...c }]));
    const inner = byLabel.get('inner (Sequential)')!;
    expect(inner).toBeDefined();
    expect(byLabel.get('inner_dense (Dense)')!.parent).toBe(inner.id);
    const bn = [...p.nodes.values()].find((n) => n.lines[0] === 'BatchNormalization')!;
    expect(bn.cluster).toBe(inner.id);
    expect(bn.lines).toContain('scale, B, mean, var 4');
    expect(dotEdges(p)).toEqual(graphEdges(m));
    // The shared layer's two calls sit in one cluster.
    const shared = byLabel.get('shared_dense (Dense)')!;
    expect([...p.nodes.values()].filter((n) => n.cluster === shared.id && n.lines[0] === 'MatMul').length).toBe(2);
  });
});

if (!haveTorchvision) console.warn('test/inspect/dot.test.ts: resnet18 skipped (Debian python3-torchvision / python3-onnx not installed)');

describe.skipIf(!haveTorchvision)('resnet18 exported by torch.onnx', () => {
  let m: Model;
  beforeAll(async () => {
    const dir = makeTorchvision(['resnet18'], 'mconv-dot-');
    m = await load(join(dir, 'resnet18.onnx'));
    inferShapes(m.graph);
  }, 300_000);

  it('draws the 69 layers of resnet18 as boxes, parameter Identities folded, with the graph edges', () => {
    const r = modelToDot(m);
    const p = parseDot(r.dot);
    // torchvision resnet18: 20 Conv, 20 BatchNorm, 17 ReLU, MaxPool, 8 residual Adds, avgpool, flatten, fc.
    const ops: Record<string, number> = {};
    for (const [id, n] of p.nodes) if (/^n\d+$/.test(id)) ops[n.lines[0]!] = (ops[n.lines[0]!] ?? 0) + 1;
    expect(ops).toEqual({ Conv: 20, BatchNormalization: 20, Relu: 17, MaxPool: 1, Add: 8, GlobalAveragePool: 1, Flatten: 1, Gemm: 1 });
    expect(r.folded.length).toBe(weightHandlers(m).size);
    expect(dotEdges(p)).toEqual(graphEdges(m));
    // 69 boxes read by 68 chain edges, 8 skip connections (3 of them through downsample Convs), input and output.
    expect(p.edges.length).toBe(68 + 8 + 2);
  });

  it('lists each Conv weight with the shape of the initializer behind its Identity', () => {
    const p = parseDot(modelToDot(m).dot);
    const g = m.graph;
    for (const n of g.nodes.filter((x) => x.op === 'Conv')) {
      let w = n.inputs[1]!;
      while (!g.initializers.has(w.name)) w = w.producer!.inputs[0]!;
      const box = [...p.nodes.values()].find((b) => b.tooltip === n.name)!;
      expect(box.lines).toContain(`W ${g.initializers.get(w.name)!.shape!.join('×')}`);
    }
    const fc = [...p.nodes.values()].find((b) => b.lines[0] === 'Gemm')!;
    expect(fc.lines).toEqual(['Gemm', 'fc', 'B 1000×512  C 1000', '→ batch×1000']);
    const conv1 = [...p.nodes.values()].find((b) => b.tooltip === '/conv1/Conv')!;
    expect(conv1.lines).toEqual(['Conv', 'conv1', 'stride 2', 'W 64×3×7×7', '→ batch×64×112×112']);
  });

  it('clusters follow the module tree: layerN > layerN.k > downsample', () => {
    const r = modelToDot(m);
    const p = parseDot(r.dot);
    const labels = new Map([...p.clusters.entries()].map(([id, c]) => [id, c]));
    const path = (id: string): string => {
      const c = labels.get(id)!;
      return c.parent ? `${path(c.parent)}/${c.label}` : c.label;
    };
    expect([...p.clusters.keys()].map(path).sort()).toEqual(
      [
        'layer1', 'layer1/layer1.0', 'layer1/layer1.1',
        'layer2', 'layer2/layer2.0', 'layer2/layer2.0/downsample', 'layer2/layer2.1',
        'layer3', 'layer3/layer3.0', 'layer3/layer3.0/downsample', 'layer3/layer3.1',
        'layer4', 'layer4/layer4.0', 'layer4/layer4.0/downsample', 'layer4/layer4.1',
      ].sort(),
    );
    // Every node of a block sits in its block's cluster.
    for (const [, n] of p.nodes) {
      const mm = /^\/(layer\d)\/(layer\d\.\d)\/(?!downsample)/.exec(n.tooltip);
      if (mm) expect(path(n.cluster!)).toBe(`${mm[1]}/${mm[2]}`);
    }
  });
});
