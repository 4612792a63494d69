/**
 * The arch file's call syntax and module tree: `print(model)` text as torch wrote it (arch.txt of
 * the shared fixtures) reads into the same modules the JSON forms give, and builds the same graph.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseCall } from '../../../../src/formats/torch/arch/syntax.js';
import { allModules, modulesFromRepr, readArchSpec } from '../../../../src/formats/torch/arch/spec.js';
import { buildFromArch } from '../../../../src/formats/torch/arch/build.js';
import { readStateDict } from '../../../../src/formats/torch/state-dict.js';
import { openSource } from '../../../../src/io/files.js';
import { Model } from '../../../../src/ir/graph.js';
import { ARCH_FIXTURES, SHARED_MODELS, TORCH_FIXTURES, hasSharedFixtures, readCase, sessionReport } from './oracle.js';

describe('call syntax', () => {
  it('reads assignments, dotted numeric paths, keyword arguments, tuples and literals', () => {
    const c = parseCall("h = block.0.1(x, 2, -3.5e-1, (1, 2), [a, b], k=True, s='same', n=None)");
    expect(c.target).toBe('h');
    expect(c.callee).toBe('block.0.1');
    expect(c.args).toEqual([{ ref: 'x' }, 2, -0.35, [1, 2], [{ ref: 'a' }, { ref: 'b' }]]);
    expect([...c.kwargs]).toEqual([['k', true], ['s', 'same'], ['n', null]]);
    expect(parseCall('layer_stack.10').callee).toBe('layer_stack.10');
    expect(parseCall('sigmoid').hasParens).toBe(false);
    expect(parseCall('f(1.)').args).toEqual([1]);
  });

  it('reports where the text goes wrong', () => {
    expect(() => parseCall('fc1(x,, y)')).toThrow("expected a value, found ', y)'");
    expect(() => parseCall('fc1(k=1, x)')).toThrow(/a positional argument after keyword arguments/);
    expect(() => parseCall('fc1(x) extra')).toThrow(/unexpected text after the call/);
  });
});

describe.skipIf(!hasSharedFixtures)('print(model) text from torch (arch.txt)', () => {
  it('mnist_v2_cnn: nested Sequentials with numeric children and their arguments', () => {
    const root = modulesFromRepr(readFileSync(join(TORCH_FIXTURES, 'mnist_v2_cnn', 'arch.txt'), 'utf8'), 'arch.txt');
    expect(root.type).toBe('MNISTModelV2');
    const leaves = allModules(root).filter((m) => m.def).map((m) => `${m.path}=${m.display}`);
    expect(leaves).toEqual([
      'block_1.0=Conv2d(in_channels=1, out_channels=10, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))',
      'block_1.1=ReLU()',
      'block_1.2=Conv2d(in_channels=10, out_channels=10, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))',
      'block_1.3=ReLU()',
      'block_1.4=MaxPool2d(kernel_size=2, stride=2)',
      'block_2.0=Conv2d(in_channels=10, out_channels=10, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))',
      'block_2.1=ReLU()',
      'block_2.2=Conv2d(in_channels=10, out_channels=10, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))',
      'block_2.3=ReLU()',
      'block_2.4=MaxPool2d(kernel_size=2, stride=2)',
      'classifier.0=Flatten()',
      'classifier.1=Linear(in_features=490, out_features=10)',
    ]);
  });

  for (const name of SHARED_MODELS) {
    it(`${name}: arch.txt as "modules" builds a graph that reproduces output.npy`, async () => {
      const dir = join(TORCH_FIXTURES, name);
      const arch = JSON.parse(readFileSync(join(ARCH_FIXTURES, `${name}.arch.json`), 'utf8'));
      arch.modules = readFileSync(join(dir, 'arch.txt'), 'utf8');
      const spec = readArchSpec(arch);
      expect(spec.root.children.size).toBeGreaterThan(0);
      const graph = buildFromArch(arch, readStateDict(openSource(join(dir, 'state_dict.pth'))).tensors);
      const rep = await sessionReport(new Model(graph, { format: 'torch' }), readCase(dir), 1e-4);
      expect(rep.ok, JSON.stringify(rep)).toBe(true);
    });
  }

  it('expands "(0-2): 3 x Linear(...)" repeats of newer torch versions', () => {
    const root = modulesFromRepr(['Net(', '  (layers): ModuleList(', '    (0-2): 3 x Linear(in_features=8, out_features=8, bias=True)', '  )', ')'].join('\n'), 'm');
    expect(allModules(root).filter((m) => m.def).map((m) => m.path)).toEqual(['layers.0', 'layers.1', 'layers.2']);
    expect(() => modulesFromRepr('Net(\n  (a): Linear(1, 2)\n', 'm')).toThrow(/1 module\(s\) are not closed/);
  });
});
