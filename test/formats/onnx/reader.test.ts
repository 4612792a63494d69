import { describe, expect, it } from 'vitest';
import { existsSync, readdirSync, mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { execFileSync } from 'node:child_process';
import { loadModel } from '../../../src/formats/registry.js';
import { Graph, Model, subgraphsOf } from '../../../src/ir/graph.js';
import { HAVE_PYTHON_ONNX, ONNX_TESTDATA, REPO, TORCH_FIXTURES, hex, python, pythonJson } from './helpers.js';

interface PyGraphInfo {
  nodes: number;
  ops: string[];
  inputs: { name: string; dims: (number | string | null)[] }[];
  outputs: { name: string; dims: (number | string | null)[] }[];
  initializers: Record<string, { dims: number[]; type: number; hex: string }>;
  producer: string;
  producer_version: string;
  opset: number;
}

const DESCRIBE_PY = `
import json, sys, onnx, onnx.numpy_helper
m = onnx.load(sys.argv[1])
g = m.graph
inits = {t.name for t in g.initializer}
def dims(vi):
    out = []
    for d in vi.type.tensor_type.shape.dim:
        out.append(d.dim_value if d.HasField('dim_value') else (d.dim_param if d.HasField('dim_param') else None))
    return out
print(json.dumps({
  'nodes': len(g.node), 'ops': [n.op_type for n in g.node],
  'inputs': [{'name': i.name, 'dims': dims(i)} for i in g.input if i.name not in inits],
  'outputs': [{'name': o.name, 'dims': dims(o)} for o in g.output],
  'initializers': {t.name: {'dims': list(t.dims), 'type': t.data_type, 'hex': onnx.numpy_helper.to_array(t).tobytes().hex()} for t in g.initializer},
  'producer': m.producer_name, 'producer_version': m.producer_version,
  'opset': [o.version for o in m.opset_import if o.domain in ('', 'ai.onnx')][0],
}))
`;

const torchModels = existsSync(TORCH_FIXTURES)
  ? readdirSync(TORCH_FIXTURES).filter((d) => existsSync(join(TORCH_FIXTURES, d, 'model.onnx')))
  : [];
if (!torchModels.length) console.warn(`skipping torch fixture tests: ${TORCH_FIXTURES} not found`);

describe.skipIf(!torchModels.length || !HAVE_PYTHON_ONNX)('reading the torch fixtures', () => {
  for (const name of torchModels) {
    it(`${name}: nodes, inputs, outputs and weights match what onnx reports`, async () => {
      const file = join(TORCH_FIXTURES, name, 'model.onnx');
      const py = pythonJson<PyGraphInfo>(DESCRIBE_PY, [file]);
      const m = await loadModel(file);
      expect(m.source.format).toBe('onnx');
      expect(m.producer).toEqual({ name: py.producer, version: py.producer_version || undefined });
      expect(m.sourceOpsets['']).toBe(py.opset);
      expect(m.opsets['']).toBe(17);
      // opset 13 exports need no rewriting: same node count and ops
      expect(m.graph.nodes.length).toBe(py.nodes);
      expect(m.graph.nodes.map((n) => n.op)).toEqual(py.ops);
      expect(m.graph.inputs.map((v) => v.name)).toEqual(py.inputs.map((i) => i.name));
      expect(m.graph.inputs.map((v) => v.shape)).toEqual(py.inputs.map((i) => i.dims));
      expect(m.graph.outputs.map((v) => v.name)).toEqual(py.outputs.map((o) => o.name));
      expect(m.graph.outputs.map((v) => v.shape)).toEqual(py.outputs.map((o) => o.dims));
      expect([...m.graph.initializers.keys()].sort()).toEqual(Object.keys(py.initializers).sort());
      for (const [n, v] of m.graph.initializers) {
        const t = v.initializer!;
        expect(t.isMaterialised, `${n} read eagerly`).toBe(false);
        expect(t.shape).toEqual(py.initializers[n]!.dims);
        expect(hex(t.bytes), n).toBe(py.initializers[n]!.hex);
        expect(t.isMaterialised).toBe(true);
      }
      // every node input is a known value: an input, an initializer or another node's output
      for (const node of m.graph.nodes) {
        for (const i of node.inputs) {
          if (!i) continue;
          expect(i.producer || i.initializer || m.graph.inputs.includes(i), `${node.name} reads ${i.name}`).toBeTruthy();
        }
      }
    });
  }
});

describe.skipIf(!existsSync(`${ONNX_TESTDATA}/node`))('reading ONNX backend test models', () => {
  it('keeps omitted inputs as null (Clip with no min)', async () => {
    const m = await loadModel(`${ONNX_TESTDATA}/node/test_clip_default_max/model.onnx`);
    const clip = m.graph.nodes.find((n) => n.op === 'Clip')!;
    expect(clip.inputs.map((v) => v?.name ?? null)).toEqual(['x', null, 'max']);
    expect(clip.input(1)).toBeUndefined();
  });

  it('builds subgraphs with their parent and resolves outer values by name', async () => {
    const m = await loadModel(`${ONNX_TESTDATA}/node/test_range_float_type_positive_delta_expanded/model.onnx`);
    const loop = m.graph.nodes.find((n) => n.op === 'Loop')!;
    const body = loop.attrGraph('body')!;
    expect(body).toBeInstanceOf(Graph);
    expect(body.parent).toBe(m.graph);
    // the body reads 'delta' from the outer graph: the very same Value object
    const outerRefs = body.nodes.flatMap((n) => n.inputs).filter((v) => v && v.graph === m.graph);
    expect(outerRefs.length).toBeGreaterThan(0);
    for (const v of outerRefs) expect(m.graph.resolve(v!.name)).toBe(v);
    expect(outerRefs.map((v) => v!.name)).toEqual(['delta']);
    // iteration number, condition, one loop-carried value
    expect(body.inputs.map((v) => v.name.replace(/^.*_function_/, ''))).toEqual(['i', 'cond', 'prev']);
    expect(body.outputs.map((v) => v.name.replace(/^.*_function_/, ''))).toEqual(['cond_out', 'current', 'range']);
  });

  it('does not list initializers that are also graph inputs as inputs (old exporters)', async () => {
    const dir = `${ONNX_TESTDATA}/pytorch-converted/test_Conv2d`;
    if (!existsSync(dir)) return;
    const m = await loadModel(`${dir}/model.onnx`);
    expect(m.graph.inputs.map((v) => v.name)).toEqual(['0']);
    expect(m.graph.initializers.size).toBeGreaterThan(0);
    for (const v of m.graph.initializers.values()) expect(m.graph.inputs).not.toContain(v);
  });
});

describe.skipIf(!HAVE_PYTHON_ONNX)('reading models built with onnx.helper', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mconv-reader-'));

  it('reads every attribute kind, unknown dims, metadata and doc strings', async () => {
    const file = join(dir, 'attrs.onnx');
    python(`
import sys, numpy as np, onnx
from onnx import helper, TensorProto, numpy_helper
then = helper.make_graph([helper.make_node('Identity', ['x'], ['y1'], name='inner_id')], 'then_g', [], [helper.make_tensor_value_info('y1', TensorProto.FLOAT, None)])
other = helper.make_graph([helper.make_node('Neg', ['x'], ['y2'])], 'else_g', [], [helper.make_tensor_value_info('y2', TensorProto.FLOAT, None)])
t = numpy_helper.from_array(np.arange(6, dtype=np.int32).reshape(2, 3), 'attr_t')
node = helper.make_node('Custom', ['x', '', 'x'], ['z', ''], domain='my.domain', name='all_attrs', doc_string='node doc',
    f=0.5, i=-7, s='héllo', t=t, g=then, floats=[1.5, -2.0], ints=[1, -2, 9223372036854775807], strings=['a', 'b'],
    tensors=[t, numpy_helper.from_array(np.array([1.0], dtype=np.float64), 'd')], graphs=[then, other])
g = helper.make_graph([node], 'main', [helper.make_tensor_value_info('x', TensorProto.FLOAT, ['batch', None, 3])],
    [helper.make_tensor_value_info('z', TensorProto.FLOAT, None)], doc_string='graph doc')
m = helper.make_model(g, opset_imports=[helper.make_opsetid('', 17), helper.make_opsetid('my.domain', 2)], producer_name='tester', producer_version='9', doc_string='model doc')
helper.set_model_props(m, {'author': 'me', 'k': 'v'})
onnx.save(m, sys.argv[1])
`, [file]);
    const m = await loadModel(file);
    expect(m.producer).toEqual({ name: 'tester', version: '9' });
    expect(m.metadata).toMatchObject({ author: 'me', k: 'v' });
    expect(m.docString).toBe('model doc');
    expect(m.graph.docString).toBe('graph doc');
    expect(m.opsets).toEqual({ '': 17, 'my.domain': 2 });
    const x = m.graph.inputs[0]!;
    expect(x.dtype).toBe('float32');
    expect(x.shape![0]).toBe('batch');
    expect(x.shape![1]).toMatch(/^unk__\d+$/);
    expect(x.shape![2]).toBe(3);
    const n = m.graph.nodes[0]!;
    expect(n.domain).toBe('my.domain');
    expect(n.docString).toBe('node doc');
    expect(n.inputs.map((v) => v?.name ?? null)).toEqual(['x', null, 'x']);
    expect(n.outputs.map((v) => v.name)).toEqual(['z', '']);
    expect(n.attrFloat('f')).toBe(0.5);
    expect(n.attrInt('i')).toBe(-7);
    expect(n.attrString('s')).toBe('héllo');
    expect(n.attrFloats('floats')).toEqual([1.5, -2]);
    expect(n.attrInts('ints')).toEqual([1, -2, 9223372036854775807]);
    expect(n.attrStrings('strings')).toEqual(['a', 'b']);
    const t = n.attrTensor('t')!;
    expect(t.dtype).toBe('int32');
    expect(t.shape).toEqual([2, 3]);
    expect(Array.from(t.toFloat64())).toEqual([0, 1, 2, 3, 4, 5]);
    const ts = n.attrs.tensors;
    expect(ts?.kind === 'tensors' && ts.value.map((v) => v.dtype)).toEqual(['int32', 'float64']);
    const g = n.attrGraph('g')!;
    expect(g.parent).toBe(m.graph);
    expect(g.nodes[0]!.inputs[0]).toBe(x); // outer value resolved by name
    const gs = n.attrs.graphs;
    expect(gs?.kind === 'graphs' && gs.value.map((s) => s.name)).toEqual(['then_g', 'else_g']);
    expect(subgraphsOf(n).length).toBe(3);
  });

  it('inlines model-local functions', async () => {
    const file = join(dir, 'func.onnx');
    python(`
import sys, onnx
from onnx import helper, TensorProto
f = helper.make_function('local', 'AddTwice', ['a', 'b'], ['c'], [
    helper.make_node('Add', ['a', 'b'], ['t']), helper.make_node('Add', ['t', 'b'], ['c'])], [helper.make_opsetid('', 17)])
g = helper.make_graph([helper.make_node('AddTwice', ['x', 'y'], ['z'], domain='local', name='call')], 'g',
    [helper.make_tensor_value_info(n, TensorProto.FLOAT, [2]) for n in 'xy'], [helper.make_tensor_value_info('z', TensorProto.FLOAT, [2])])
m = helper.make_model(g, opset_imports=[helper.make_opsetid('', 17), helper.make_opsetid('local', 1)], functions=[f])
onnx.checker.check_model(m)
onnx.save(m, sys.argv[1])
`, [file]);
    const m = await loadModel(file);
    expect(m.graph.nodes.map((n) => n.op)).toEqual(['Add', 'Add']);
    const [a, b] = m.graph.nodes;
    expect(a!.inputs.map((v) => v!.name)).toEqual(['x', 'y']);
    expect(b!.inputs[0]).toBe(a!.outputs[0]);
    expect(b!.outputs[0]!.name).toBe('z');
    expect(m.graph.outputs[0]).toBe(b!.outputs[0]);
  });
});

describe.skipIf(!HAVE_PYTHON_ONNX)('memory: reading does not load weights', () => {
  it('inspecting a 100 MB model stays far below its size in peak RSS and materialises nothing', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mconv-big-'));
    const file = join(dir, 'big.onnx');
    python(`
import sys, numpy as np, onnx
from onnx import helper, numpy_helper, TensorProto
inits, nodes, prev = [], [], 'x'
for i in range(25):
    inits.append(numpy_helper.from_array(np.full((1000, 1000), i, dtype=np.float32), f'w{i}'))
    nodes.append(helper.make_node('MatMul', [prev, f'w{i}'], [f'h{i}'])); prev = f'h{i}'
g = helper.make_graph(nodes, 'big', [helper.make_tensor_value_info('x', TensorProto.FLOAT, ['N', 1000])],
    [helper.make_tensor_value_info(prev, TensorProto.FLOAT, ['N', 1000])], initializer=inits)
onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid('', 17)]), sys.argv[1])
`, [file]);
    const script = `
import { loadModel } from ${JSON.stringify(join(REPO, 'src/formats/registry.ts'))};
const m = await loadModel(process.argv[1]);
const t = m.graph.initializers.get('w7').initializer;
const lazy = [...m.graph.initializers.values()].every((v) => !v.initializer.isMaterialised);
const first = t.view()[0];
console.log(JSON.stringify({ rss: process.resourceUsage().maxRSS * 1024, nodes: m.graph.nodes.length, lazy, first, materialised: [...m.graph.initializers.values()].filter((v) => v.initializer.isMaterialised).length }));
`;
    const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script, file], { encoding: 'utf8', cwd: REPO });
    const r = JSON.parse(out.trim().split('\n').pop()!) as { rss: number; nodes: number; lazy: boolean; first: number; materialised: number };
    expect(r.nodes).toBe(25);
    expect(r.lazy).toBe(true);
    expect(r.first).toBe(7);
    expect(r.materialised).toBe(1);
    expect(r.rss).toBeLessThan(150 * 1024 * 1024);
  });
});

describe('files over 2 GB', () => {
  it('scans a 2.2 GB model (a sparse file) with positions past 2^31, reading only what it needs', async () => {
    const { openSync, writeSync, closeSync, rmSync } = await import('node:fs');
    const { onnx } = (await import('onnx-proto')).default;
    const N = 2 ** 31 + 4096 + 3;
    const dir = mkdtempSync(join(tmpdir(), 'mconv-2g-'));
    const file = join(dir, 'huge.onnx');
    const key = (field: number, wire: number): number[] => [field * 8 + wire];
    const varint = (v: number): number[] => {
      const out: number[] = [];
      while (v >= 0x80) { out.push((v % 0x80) | 0x80); v = Math.floor(v / 0x80); }
      out.push(v);
      return out;
    };
    // the TensorProto: dims, data_type uint8, name, then raw_data of N zero bytes (left as a hole)
    const tensorHead = onnx.TensorProto.encode({ dims: [N], dataType: 2, name: 'big' }).finish();
    const rawHeader = [...key(9, 2), ...varint(N)];
    const tensorLen = tensorHead.length + rawHeader.length + N;
    // the rest of the GraphProto, after the initializer
    const after = onnx.GraphProto.encode({
      node: [{ input: ['big'], output: ['y'], name: 'after_the_weights', opType: 'Identity' }],
      name: 'huge_graph',
      output: [{ name: 'y', type: { tensorType: { elemType: 2, shape: { dim: [{ dimValue: N }] } } } }],
    }).finish();
    const graphLen = 1 + varint(tensorLen).length + tensorLen + after.length;
    const head = Uint8Array.from([
      ...key(1, 0), 8,
      ...key(8, 2), ...varint(2), ...key(2, 0), 17,
      ...key(7, 2), ...varint(graphLen),
      ...key(5, 2), ...varint(tensorLen), ...tensorHead, ...rawHeader,
    ]);
    expect(varint(graphLen).length).toBe(5);
    const fd = openSync(file, 'w');
    try {
      writeSync(fd, head, 0, head.length, 0);
      writeSync(fd, after, 0, after.length, head.length + N);
    } finally {
      closeSync(fd);
    }
    try {
      const m = await loadModel(file);
      const t = m.graph.initializers.get('big')!.initializer!;
      expect(t.dtype).toBe('uint8');
      expect(t.shape).toEqual([N]);
      expect(t.isMaterialised).toBe(false);
      expect(m.graph.nodes.map((n) => n.name)).toEqual(['after_the_weights']);
      expect(m.graph.nodes[0]!.inputs[0]!.initializer).toBe(t);
      expect(m.graph.outputs[0]!.shape).toEqual([N]);
      expect(m.graph.name).toBe('huge_graph');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

export type { Model };
