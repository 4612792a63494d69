/**
 * The clear errors of `--arch`: weights that do not fit (shape, missing, unexpected, dtype),
 * unknown module types and arguments, bad forward steps, inputs that do not fit a module, and the
 * prefix of DataParallel checkpoints. Weights come from the shared fixtures' state_dicts.
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { load } from '../../../../src/api.js';
import '../../../../src/formats/torch/torchscript/graph-builder.js';
import { MconvError } from '../../../../src/errors.js';
import { buildFromArch } from '../../../../src/formats/torch/arch/build.js';
import { readStateDict } from '../../../../src/formats/torch/state-dict.js';
import { openSource } from '../../../../src/io/files.js';
import { Tensor } from '../../../../src/ir/tensor.js';
import { ARCH_FIXTURES, TORCH_FIXTURES, hasSharedFixtures, readCase, sessionReport } from './oracle.js';

const archOf = (name: string) => JSON.parse(readFileSync(join(ARCH_FIXTURES, `${name}.arch.json`), 'utf8'));
const weightsOf = (name: string) => readStateDict(openSource(join(TORCH_FIXTURES, name, 'state_dict.pth'))).tensors;

function errorOf(f: () => unknown): MconvError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(MconvError);
    return e as MconvError;
  }
  throw new Error('expected an MconvError');
}

describe.skipIf(!hasSharedFixtures)('--arch errors against real state_dicts', () => {
  it('a Linear with the wrong out_features names the key, the module, and both shapes', () => {
    const arch = archOf('mnist_v0');
    arch.modules.layer_stack[1] = 'Linear(in_features=784, out_features=12, bias=True)';
    const e = errorOf(() => buildFromArch(arch, weightsOf('mnist_v0')));
    expect(e.kind).toBe('usage');
    expect(e.message).toContain('layer_stack.1.weight: layer_stack.1 (Linear(in_features=784, out_features=12)) expects shape [12, 784], the weights have [10, 784]');
    expect(e.message).toContain('layer_stack.1.bias: layer_stack.1 (Linear(in_features=784, out_features=12)) expects shape [12], the weights have [10]');
    expect(e.where).toBe('layer_stack.1.weight');
  });

  it('a conv kernel size that does not fit is reported with the module path', () => {
    const arch = archOf('conv_bn_net');
    arch.modules.features[3] = 'Conv2d(8, 8, kernel_size=5, padding=2, groups=8, bias=False)';
    const e = errorOf(() => buildFromArch(arch, weightsOf('conv_bn_net')));
    expect(e.message).toContain('features.3.weight: features.3 (Conv2d(in_channels=8, out_channels=8, kernel_size=5, padding=2, groups=8, bias=False)) expects shape [8, 1, 5, 5], the weights have [8, 1, 3, 3]');
  });

  it('a module the weights lack is a missing key; weights no module owns are unexpected', () => {
    const arch = archOf('mlp_64_16');
    arch.modules.fc4 = 'Linear(10, 10)';
    delete arch.modules.fc3;
    arch.forward = ['fc1', 'sigmoid', 'fc2', 'sigmoid', 'fc4'];
    const e = errorOf(() => buildFromArch(arch, weightsOf('mlp_64_16'), { weightsFile: '/x/state_dict.pth' }));
    expect(e.message).toContain('2 weights are missing from state_dict.pth: fc4.weight (fc4: Linear(in_features=10, out_features=10), shape [10, 10]); fc4.bias');
    expect(e.message).toContain('2 weights in state_dict.pth belong to no module of the arch file: fc3.weight; fc3.bias');
    expect(e.hint).toContain('the state_dict has: fc1.weight, fc1.bias');
  });

  it('a missing BatchNorm buffer is reported; a missing num_batches_tracked is not', () => {
    const w = new Map(weightsOf('conv_bn_net'));
    w.delete('features.1.num_batches_tracked');
    const arch = archOf('conv_bn_net');
    expect(() => buildFromArch(arch, w)).not.toThrow();
    w.delete('features.4.running_var');
    const e = errorOf(() => buildFromArch(arch, w));
    expect(e.message).toContain('1 weight is missing from the weights: features.4.running_var (features.4: BatchNorm2d(num_features=8), shape [8])');
  });

  it('suggests "prefix" for DataParallel keys, and builds with it', async () => {
    const w = new Map([...weightsOf('mlp_64_16')].map(([k, t]) => [`module.${k}`, t]));
    const arch = archOf('mlp_64_16');
    const e = errorOf(() => buildFromArch(arch, w));
    expect(e.hint).toContain('set "prefix": "module."');
    const g = buildFromArch({ ...arch, prefix: 'module.' }, w);
    expect([...g.initializers.keys()]).toContain('module.fc1.weight');
    const { Model } = await import('../../../../src/ir/graph.js');
    const rep = await sessionReport(new Model(g, { format: 'torch' }), readCase(join(TORCH_FIXTURES, 'mlp_64_16')), 1e-4);
    expect(rep.ok, JSON.stringify(rep)).toBe(true);
  });

  it('an input that does not fit the first Linear names the module and both sizes', () => {
    const arch = archOf('mlp_64_16');
    arch.inputs[0].shape = ['batch', 700];
    const e = errorOf(() => buildFromArch(arch, weightsOf('mlp_64_16')));
    expect(e.message).toBe('fc1 (Linear(in_features=784, out_features=64)): the input has 700 features (shape [batch, 700]) but the weight [64, 784] takes 784');
    expect(e.where).toBe("forward[0] 'fc1'");
  });

  it('float16 weights with a float32 input are refused with the fix', () => {
    const w = new Map(weightsOf('mlp_64_16'));
    const t = w.get('fc2.weight')!;
    w.set('fc2.weight', Tensor.fromArray('float16', t.shape, t.toFloat64()));
    const e = errorOf(() => buildFromArch(archOf('mlp_64_16'), w));
    expect(e.message).toContain('fc2.weight: fc2 (Linear(in_features=64, out_features=16)) has float16 weights but the input is float32');
  });

  it('load() with --arch reports the arch file and refuses a file that is not there', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mconv-arch-'));
    const bad = join(dir, 'bad.arch.json');
    const arch = archOf('mnist_v1');
    arch.modules.layer_stack.modules[3] = { type: 'Linear', args: [10, 9] };
    writeFileSync(bad, JSON.stringify(arch));
    const weights = join(TORCH_FIXTURES, 'mnist_v1', 'state_dict.pth');
    const e = await load(weights, { arch: bad }).catch((x) => x);
    expect(e).toBeInstanceOf(MconvError);
    expect(e.file).toBe(bad);
    expect(e.oneLine()).toContain('layer_stack.3.weight: layer_stack.3 (Linear(in_features=10, out_features=9)) expects shape [9, 10], the weights have [10, 10]');
    const missing = await load(weights, { arch: join(dir, 'nope.json') }).catch((x) => x);
    expect(missing).toBeInstanceOf(MconvError);
    expect(missing.message).toContain('cannot read the architecture file');
  });
});

describe('--arch document errors', () => {
  const w = new Map<string, Tensor>();
  const base = { inputs: [{ name: 'x', shape: ['batch', 4] }], modules: { fc: 'Linear(4, 2)' }, forward: ['fc'] };
  w.set('fc.weight', Tensor.fromArray('float32', [2, 4], [1, 2, 3, 4, 5, 6, 7, 8]));
  w.set('fc.bias', Tensor.fromArray('float32', [2], [0, 1]));

  const cases: [string, unknown, string, string?][] = [
    ['not JSON', '{"inputs": [', 'the arch file is not valid JSON'],
    ['an unknown top-level key', { ...base, modles: {} }, 'unexpected key "modles"', 'modles'],
    ['an unknown module type', { ...base, modules: { fc: 'Linaer(4, 2)' } }, "unknown module type 'Linaer'", 'modules.fc'],
    ['a missing required argument', { ...base, modules: { fc: 'Linear(4)' } }, "Linear needs argument 'out_features'", 'modules.fc'],
    ['an unknown keyword argument', { ...base, modules: { fc: 'Linear(4, 2, biass=False)' } }, "Linear has no argument 'biass'", 'modules.fc'],
    ['an argument of the wrong type', { ...base, modules: { fc: 'Linear(4, 2.5)' } }, 'Linear: out_features must be an int, found a float 2.5', 'modules.fc'],
    ['a syntax error in a module', { ...base, modules: { fc: 'Linear(4, 2' } }, "cannot read module 'Linear(4, 2': expected ',' or ')', found the end at column 12", 'modules.fc'],
    ['groups that do not divide the channels', { ...base, modules: { fc: 'Conv2d(4, 6, 3, groups=4)' } }, 'in_channels and out_channels must be divisible by groups (4)', 'modules.fc'],
    ['an unknown step', { ...base, forward: ['fc', 'softmaxx(dim=1)'] }, "'softmaxx' is neither a module of the arch file nor a known function", "forward[1] 'softmaxx(dim=1)'"],
    ['an unknown value', { ...base, forward: ['y = fc(z)'] }, "unknown value 'z'", "forward[0] 'y = fc(z)'"],
    ['a function argument of the wrong type', { ...base, forward: ['fc', 'softmax(dim=1.5)'] }, 'softmax: dim must be an int, found 1.5', "forward[1] 'softmax(dim=1.5)'"],
    ['a bad input shape', { ...base, inputs: [{ name: 'x', shape: ['batch', -4] }] }, '"shape" must be a list of sizes', 'inputs[0].shape'],
    ['an unknown output', { ...base, outputs: ['nope'] }, "unknown value 'nope'"],
    ['a container called as a module', { ...base, modules: { fc: 'Linear(4, 2)', blk: {} }, forward: ['blk'] }, 'blk is a Module container, which has no forward of its own'],
  ];
  for (const [what, doc, message, where] of cases) {
    it(`${what}`, () => {
      const e = errorOf(() => buildFromArch(doc, w, { archFile: 'm.arch.json' }));
      expect(e.message).toContain(message);
      expect(e.file).toBe('m.arch.json');
      if (where) expect(e.where).toBe(where);
    });
  }
});
