/**
 * The module tree built from dotted state_dict names, against torch's own module objects: for every
 * submodule of the shared fixture models, the parameter and buffer element counts that
 * `module.parameters()` / `module.buffers()` report.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatModuleTree, moduleTree, type ModuleNode } from '../../../src/formats/torch/module-tree.js';
import { readStateDict } from '../../../src/formats/torch/state-dict.js';
import { openSource } from '../../../src/io/files.js';
import { Tensor } from '../../../src/ir/tensor.js';
import { OWN, PY, SHARED_TORCH, hasTorch } from './helpers.js';

const makePy = join(SHARED_TORCH, 'make.py');
const ok = existsSync(makePy) && hasTorch();
if (!ok) console.log(`skipping module tree vs torch: needs ${makePy} and python3 with torch`);

function flatten(root: ModuleNode): Map<string, ModuleNode> {
  const out = new Map<string, ModuleNode>();
  const stack = [root];
  while (stack.length) {
    const n = stack.pop()!;
    out.set(n.path, n);
    stack.push(...n.children);
  }
  return out;
}

describe.skipIf(!ok)('module tree vs torch modules', () => {
  const script = String.raw`
import json, sys
sys.path.insert(0, sys.argv[1])
from make import MODELS
out = {}
for name, (cls, _shape) in MODELS.items():
    m = cls()
    out[name] = {path: [sum(p.numel() for p in mod.parameters()), sum(b.numel() for b in mod.buffers())]
                 for path, mod in m.named_modules()}
print(json.dumps(out))
`;
  const counts = ok ? JSON.parse(execFileSync(PY, ['-c', script, SHARED_TORCH], { encoding: 'utf8' })) as Record<string, Record<string, [number, number]>> : {};
  for (const [name, torchCounts] of Object.entries(counts)) {
    it(name, () => {
      const sd = readStateDict(openSource(join(SHARED_TORCH, name, 'state_dict.pth')));
      const ours = flatten(moduleTree(sd.tensors, sd.buffers));
      for (const [path, [params, buffers]] of Object.entries(torchCounts)) {
        if (params === 0 && buffers === 0) {
          expect(ours.has(path), `${path} holds nothing`).toBe(false);
          continue;
        }
        const n = ours.get(path);
        expect(n, path).toBeDefined();
        expect([n!.totalParameters, n!.totalBuffers], path || '(root)').toEqual([params, buffers]);
      }
      for (const p of ours.keys()) expect(torchCounts[p], p).toBeDefined();
    });
  }

  it('TorchScript archives name each module class', () => {
    const sd = readStateDict(openSource(join(SHARED_TORCH, 'conv_bn_net', 'scripted.pt')));
    const tree = moduleTree(sd.tensors, sd.buffers, sd.moduleClasses);
    const text = formatModuleTree(tree);
    expect(text).toMatch(/^\(root\) ConvBNNet: /);
    expect(text).toMatch(/\n {4}1 BatchNorm2d: 16 parameters, 17 in buffers\n/);
    expect(text).toMatch(/running_var float32\[8\] \(buffer\)/);
  });
});

describe('module tree edge cases', () => {
  it('names that are JavaScript object internals are ordinary modules', () => {
    const t = (n: number) => Tensor.fromArray('float32', [n], new Array(n).fill(0));
    const tensors = new Map([['__proto__.weight', t(2)], ['constructor.toString.bias', t(3)], ['hasOwnProperty', t(1)]]);
    const tree = moduleTree(tensors, new Set());
    expect(tree.children.map((c) => c.name)).toEqual(['__proto__', 'constructor']);
    expect(tree.totalParameters).toBe(6);
    expect(tree.tensors.map((x) => x.name)).toEqual(['hasOwnProperty']);
    expect(tree.children[1]!.children[0]!.path).toBe('constructor.toString');
  });

  it('a 10,000-deep name does not overflow the stack', () => {
    const deep = Array.from({ length: 10_000 }, (_, i) => `m${i}`).join('.') + '.w';
    const tree = moduleTree(new Map([[deep, Tensor.fromArray('float32', [1], [1])]]), new Set());
    expect(tree.totalParameters).toBe(1);
    expect(formatModuleTree(tree).split('\n').length).toBe(10_002);
  });

  it('checkpoint buffers are counted apart from parameters', () => {
    const sd = readStateDict(openSource(join(OWN, 'checkpoint.pth')));
    const tree = moduleTree(sd.tensors, sd.buffers);
    const bn = tree.children.find((c) => c.name === 'bn')!;
    expect(bn.totalParameters).toBe(6);
    expect(bn.totalBuffers).toBe(7);
  });
});
