/**
 * Trust in the TF oracle (test/helpers/tf-oracle.ts): a MatMul graph built with the helpers
 * agrees with numpy, int/bool dtypes pass through, multi-output ports are addressed by `node:i`,
 * and the real tfjs graph model gives the outputs its upstream test expects.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PY, SHARED, hasPython } from '../../helpers/cli.js';
import { constNode, placeholder, readTfjsWeights, runTfjsGraphOracle, tfAttr, tfGraph, tfNode } from '../../helpers/tf-oracle.js';
import { tfGraphFromJson } from '../../../src/formats/tf/graph-json.js';
import { Tensor } from '../../../src/ir/tensor.js';
import { prng } from '../../../src/runtime/random-inputs.js';

function rand(shape: number[], seed: number): Tensor {
  const r = prng(seed);
  const n = shape.reduce((a, d) => a * d, 1);
  return Tensor.fromArray('float32', shape, Float32Array.from({ length: n }, () => r() * 2 - 1));
}

describe.skipIf(!hasPython('numpy'))('tf oracle vs numpy', () => {
  it('MatMul (transpose_b) with a Const operand', async () => {
    const a = rand([3, 4], 1);
    const b = rand([5, 4], 2);
    const g = tfGraph([
      placeholder('a', 'float32', [3, 4]),
      constNode('b', b),
      tfNode('mm', 'MatMul', ['a', 'b'], { T: 'float32', transpose_a: false, transpose_b: true }),
    ]);
    const [y] = await runTfjsGraphOracle(g, new Map(), { a }, ['mm']);
    const script = 'import sys,json,numpy as np; d=json.load(sys.stdin); a=np.array(d["a"],np.float32).reshape(3,4); b=np.array(d["b"],np.float32).reshape(5,4); print(json.dumps((a@b.T).ravel().tolist()))';
    const want = JSON.parse(execFileSync(PY, ['-c', script], { input: JSON.stringify({ a: Array.from(a.toFloat64()), b: Array.from(b.toFloat64()) }) }).toString());
    expect(y!.shape).toEqual([3, 5]);
    const got = Array.from(y!.toFloat64());
    got.forEach((v, i) => expect(Math.abs(v - want[i])).toBeLessThan(1e-5));
  });
});

describe('tf oracle basics', () => {
  it('int32 and bool dtypes, weights given by name, output ports', async () => {
    const x = Tensor.fromArray('int32', [4], [7, -7, 9, 0]);
    const g = tfGraph([
      placeholder('x', 'int32', [4]),
      tfNode('k', 'Const', [], { dtype: 'int32', value: tfAttr.tensor(Tensor.fromArray('int32', [], [0])) }),
      tfNode('d', 'FloorDiv', ['x', 'k'], { T: 'int32' }),
      tfNode('gt', 'Greater', ['x', 'k'], { T: 'int32' }),
      tfNode('u', 'Unique', ['x'], { T: 'int32', out_idx: 'int32' }),
    ]);
    // The Const's inline value (0) is replaced by the given weight (2).
    const [d, gt, idx] = await runTfjsGraphOracle(g, new Map([['k', Tensor.fromArray('int32', [], [2])]]), { 'x:0': x }, ['d', 'gt', 'u:1']);
    expect(d!.dtype).toBe('int32');
    expect(Array.from(d!.toFloat64())).toEqual([3, -4, 4, 0]);
    expect(gt!.dtype).toBe('bool');
    expect(Array.from(gt!.toFloat64())).toEqual([1, 0, 1, 0]);
    expect(Array.from(idx!.toFloat64())).toEqual([0, 1, 2, 3]);
  });
});

describe('tf oracle with function bodies', () => {
  it('a StatelessIf whose branch holds a Const (renamed as tfjs-converter expects)', async () => {
    const k = Tensor.fromArray('float32', [3], [2, -1, 0.5]);
    const g = tfGraph([
      placeholder('c', 'bool', []),
      placeholder('x', 'float32', [2, 3]),
      tfNode('call', 'StatelessIf', ['c', 'x'], {
        Tcond: 'bool', Tin: tfAttr.types(['float32']), Tout: tfAttr.types(['float32']),
        then_branch: { func: { name: 'add_k', attr: {} } }, else_branch: { func: { name: 'neg', attr: {} } },
      }),
    ]);
    g.functions.push({
      name: 'neg',
      inputs: [{ name: 'a', type: 1 }],
      outputs: [{ name: 'out', type: 1 }],
      ret: { out: 'n:y:0' },
      nodes: [tfNode('n', 'Neg', ['a'], { T: 'float32' })],
      attr: {},
    });
    g.functions.push({
      name: 'add_k',
      inputs: [{ name: 'a', type: 1 }],
      outputs: [{ name: 'out', type: 1 }],
      ret: { out: 'sum:z:0' },
      nodes: [constNode('k', k), tfNode('sum', 'AddV2', ['a', 'k:output:0'], { T: 'float32' })],
      attr: {},
    });
    const x = Tensor.fromArray('float32', [2, 3], [1, 2, 3, 4, 5, 6]);
    const [y] = await runTfjsGraphOracle(g, new Map(), { x, c: Tensor.fromArray('bool', [], [true]) }, ['call']);
    const kv = k.toFloat64();
    expect(Array.from(y!.toFloat64())).toEqual(Array.from(x.toFloat64(), (v, i) => v + kv[i % 3]!));
    const [n] = await runTfjsGraphOracle(g, new Map(), { x, c: Tensor.fromArray('bool', [], [false]) }, ['call']);
    expect(Array.from(n!.toFloat64())).toEqual(Array.from(x.toFloat64(), (v) => -v));
  });
});

const SMALL = join(SHARED, 'real', 'tfjs-graph-model-small');
describe.skipIf(!existsSync(SMALL))('tf oracle on a real tfjs graph model', () => {
  it('tfjs-graph-model-small gives the expected output of its upstream test', async () => {
    const json = JSON.parse(readFileSync(join(SMALL, 'model.json'), 'utf8'));
    const weights = readTfjsWeights(SMALL, json);
    const g = tfGraphFromJson(json, { weights });
    const [y] = await runTfjsGraphOracle(g, new Map(), { Placeholder: Tensor.fromArray('float32', [2, 2], [1, 1, 1, 1]) }, ['MatMul']);
    const want = [0.7567615509033203, -0.18349379301071167, 0.7567615509033203, -0.18349379301071167];
    Array.from(y!.toFloat64()).forEach((v, i) => expect(v).toBeCloseTo(want[i]!, 6));
  });
});
if (!existsSync(SMALL)) console.warn(`tf-oracle: ${SMALL} missing; the real-model case is skipped`);
