/** validateGraph finds structural, schema and type problems, with severity and node names. */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadModel } from '../../src/formats/registry.js';
import { Graph, Node, Value, attr } from '../../src/ir/graph.js';
import { validateGraph } from '../../src/ir/validate.js';
import { floats, op } from './build.js';
import { ONNX_DATA, caseDirs } from './reference-helpers.js';

const codes = (g: Graph) => validateGraph(g).map((i) => `${i.severity}:${i.code}${i.node ? '@' + i.node : ''}`);

describe('validateGraph', () => {
  it('accepts a well-formed graph', () => {
    const g = new Graph('g');
    g.addInput('x', 'float32', ['N', 4]);
    g.addInitializer('w', floats([1, 2, 3, 4], [4, 1]));
    op(g, 'MatMul', ['x', 'w'], 'y');
    g.outputs.push(g.value('y')!);
    expect(validateGraph(g)).toEqual([]);
  });
  it('reports dangling inputs and outputs nobody produces', () => {
    const g = new Graph('g');
    g.addInput('x', 'float32', [4]);
    const ghost = new Value('ghost', 'float32', [4]);
    g.addNode('Add', [g.value('x')!, ghost], ['y'], {}, 'add');
    g.outputs.push(new Value('nowhere'));
    const issues = validateGraph(g);
    expect(codes(g)).toContain('error:dangling-input@add');
    expect(issues.find((i) => i.code === 'dangling-input')!.message).toMatch(/'ghost'/);
    expect(codes(g)).toContain('error:output-not-produced');
  });
  it('reports a value defined twice and cycles', () => {
    const g = new Graph('g');
    g.addInput('x', 'float32', [4]);
    const a = g.addNode('Relu', [g.value('x')!], ['a'], {}, 'A');
    const twin = new Node('Neg', 'B', [g.value('x')!], [new Value('a')]);
    g.insertNode(twin);
    g.values.set('a', a.outputs[0]!);
    expect(codes(g)).toContain('error:duplicate-definition');
    const c = new Graph('c');
    c.addInput('x', 'float32', [4]);
    const p = c.addNode('Add', [c.value('x')!], ['p'], {}, 'P');
    const q = c.addNode('Relu', [p.outputs[0]!], ['q'], {}, 'Q');
    p.addInput(q.outputs[0]!);
    const issues = validateGraph(c);
    expect(issues.find((i) => i.code === 'cycle')!.message).toMatch(/P -> Q -> P|Q -> P -> Q/);
  });
  it('reports recorded types that contradict inference', () => {
    const g = new Graph('g');
    g.addInput('x', 'float32', [2, 3]);
    const y = op(g, 'Transpose', ['x'], 't');
    y.shape = [2, 3];
    y.dtype = 'float32';
    const z = op(g, 'Cast', ['t'], 'c', { to: attr.int(7) });
    z.dtype = 'float32';
    const issues = validateGraph(g);
    expect(issues.filter((i) => i.code === 'type-mismatch').map((i) => i.node)).toEqual(['t', 'c']);
    expect(issues[0]!.message).toMatch(/recorded float32\[2, 3\], inferred float32\[3, 2\]/);
    // and leaves the graph untouched
    expect(y.shape).toEqual([2, 3]);
  });
  it('checks attributes, input counts, unknown ops', () => {
    const g = new Graph('g');
    g.addInput('x', 'float32', [1, 3, 8, 8]);
    op(g, 'MaxPool', ['x'], 'nokernel');
    op(g, 'Transpose', ['x'], 'badperm', { perm: attr.string('0,1,2,3') });
    op(g, 'LeakyRelu', ['x'], 'intalpha', { alpha: attr.int(0) });
    op(g, 'Relu', ['x'], 'extra', { fancy: attr.int(1) });
    op(g, 'Add', ['x'], 'oneinput');
    g.addNode('Custom', [g.value('x')!], ['cust'], {}, 'cust', 'com.acme');
    const c = codes(g);
    expect(c).toContain('error:attr-missing@nokernel');
    expect(c).toContain('error:attr-type@badperm');
    expect(c).toContain('warning:attr-type@intalpha');
    expect(c).toContain('warning:attr-unknown@extra');
    expect(c).toContain('error:input-count@oneinput');
    expect(c).toContain('warning:unknown-op@cust');
  });
  it('accepts subgraphs reading outer values and checks inside them', () => {
    const g = new Graph('g');
    g.addInput('c', 'bool', []);
    g.addInput('x', 'float32', [2]);
    const body = new Graph('body', g);
    body.addNode('Relu', [g.value('x')!], ['r']);
    body.addNode('Add', [body.value('r')!, new Value('missing')], ['s'], {}, 'inner_add');
    body.outputs.push(body.value('s')!);
    g.addNode('If', [g.value('c')!], ['y'], { then_branch: attr.graph(body), else_branch: attr.graph(body) });
    g.outputs.push(g.value('y')!);
    const issues = validateGraph(g);
    const dangling = issues.filter((i) => i.code === 'dangling-input');
    expect(dangling.map((i) => [i.graph, i.node])).toEqual([['body', 'inner_add'], ['body', 'inner_add']]);
  });
});

const suites = ['node', 'pytorch-converted', 'pytorch-operator', 'simple'].flatMap((s) => caseDirs(s));
if (!suites.length) console.warn(`skipping validation of the ONNX backend models: ${ONNX_DATA} is absent`);

describe.skipIf(!suites.length)('validateGraph on valid models', () => {
  it('finds no error in any ONNX backend test model (unknown ops are warnings)', async () => {
    let models = 0;
    const errors: string[] = [];
    for (const d of suites) {
      let m;
      try {
        m = await loadModel(path.join(d, 'model.onnx'));
      } catch {
        continue;
      }
      models++;
      for (const i of validateGraph(m.graph)) {
        if (i.severity === 'error') errors.push(`${path.basename(d)}: ${i.message}`);
        else expect(i.code).toBe('unknown-op');
      }
    }
    expect(errors).toEqual([]);
    expect(models).toBeGreaterThan(1000);
  });
});
