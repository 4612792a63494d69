/**
 * What happens when TorchScript code cannot become a graph: the first op without a mapping is
 * named with its code location (convert/run need it), while loading still gives the weights-only
 * model (inspect shows modules and weights) with the reason in its metadata. Code is edited by
 * hand in real archives of the shared fixtures, or written from scratch.
 */
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { load } from '../../../../src/api.js';
import '../../../../src/formats/torch/torchscript/graph-builder.js';
import { MconvError } from '../../../../src/errors.js';
import { readTorchArchive, type TorchArchive } from '../../../../src/formats/torch/container.js';
import { buildFromTorchScript, type TorchScriptArchiveLike } from '../../../../src/formats/torch/torchscript/build.js';
import { openSource } from '../../../../src/io/files.js';
import { PyObject } from '../../../../src/io/pickle/values.js';
import { Tensor } from '../../../../src/ir/tensor.js';
import { PY } from '../../../helpers/cli.js';
import { TORCH_FIXTURES, hasSharedFixtures } from '../arch/oracle.js';

const enc = new TextEncoder();
const dec = new TextDecoder();

function edited(a: TorchArchive, file: string, edit: (code: string) => string): TorchScriptArchiveLike {
  const text = edit(dec.decode(a.entry(file)!));
  return { root: a.root, entries: () => a.entries(), unpickleEntry: (n) => a.unpickleEntry(n), entry: (n) => (n === file ? enc.encode(text) : a.entry(n)) };
}

function lineOf(code: string, needle: string): number {
  return code.split('\n').findIndex((l) => l.includes(needle)) + 1;
}

function errorOf(f: () => unknown): MconvError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(MconvError);
    return e as MconvError;
  }
  throw new Error('expected an MconvError');
}

describe.skipIf(!hasSharedFixtures)('TorchScript code edited by hand', () => {
  const mlp = () => readTorchArchive(openSource(join(TORCH_FIXTURES, 'mlp_64_16', 'scripted.pt')));

  it('names the first op it cannot map, with its file and line', () => {
    const a = mlp();
    let code = '';
    const arch = edited(a, 'code/__torch__.py', (c) => (code = c.replace('x1 = torch.sigmoid(', 'x1 = torch.special_zeta(').replace('torch.softmax(', 'torch.frobnicate(')));
    const e = errorOf(() => buildFromTorchScript(arch, { file: 'mlp.pt' }));
    expect(e.kind).toBe('unsupported');
    expect(e.message).toBe('TorchScript: torch.special_zeta has no mapping to ONNX-semantics IR');
    expect(e.where).toBe(`code/__torch__.py:${lineOf(code, 'torch.special_zeta(')}`);
    expect(e.file).toBe('mlp.pt');
  });

  it('names the module whose code holds the op', () => {
    const a = readTorchArchive(openSource(join(TORCH_FIXTURES, 'conv_bn_net', 'scripted.pt')));
    const file = 'code/__torch__/torch/nn/modules/conv/___torch_mangle_11.py';
    let code = '';
    const arch = edited(a, file, (c) => (code = c.replace('torch.conv2d(', 'torch.conv_tbc(')));
    const e = errorOf(() => buildFromTorchScript(arch, { inputShapes: { x: ['batch', 3, 32, 32] } }));
    expect(e.message).toBe('TorchScript: torch.conv_tbc has no mapping to ONNX-semantics IR');
    expect(e.where).toBe(`${file}:${lineOf(code, 'torch.conv_tbc(')} in module features.3`);
  });

  it('refuses control flow that depends on the run-time batch size', () => {
    const arch = edited(mlp(), 'code/__torch__.py', (c) =>
      c.replace('    fc1 = self.fc1\n', '    fc1 = self.fc1\n    if torch.gt(torch.size(x, 0), 2):\n      x = torch.relu(x)\n'));
    const e = errorOf(() => buildFromTorchScript(arch));
    expect(e.message).toContain('comparing the shape-dependent int x.size(0) decides control flow at run time');
    // With a fixed batch the branch is decided at conversion time.
    const g = buildFromTorchScript(arch, { inputShapes: { x: [4, 784] } });
    expect(g.nodes[0]!.op).toBe('Relu');
  });

  it("reports the model's own checks (BatchNorm2d._check_input_dim) with their message", () => {
    const a = readTorchArchive(openSource(join(TORCH_FIXTURES, 'conv_bn_net', 'scripted.pt')));
    const file = 'code/__torch__/torch/nn/modules/container/___torch_mangle_13.py';
    // Feed BatchNorm a 3-D tensor by skipping the first conv's batch dim: flatten(input0, 0, 1).
    const arch = edited(a, file, (c) => c.replace('input1 = (_1).forward(input0, )', 'input1 = (_1).forward(torch.flatten(input0, 0, 1), )'));
    const e = errorOf(() => buildFromTorchScript(arch, { inputShapes: { x: ['batch', 3, 32, 32] } }));
    expect(e.message).toBe("TorchScript: the model's code raises: expected 4D input (got 3D input)");
    expect(e.where).toMatch(/^code\/__torch__\/torch\/nn\/modules\/batchnorm\.py:\d+ in module features\.1$/);
  });

  it.skipIf(!execOk())('load() keeps the weights-only model and records the reason', async () => {
    const src = join(TORCH_FIXTURES, 'mlp_64_16', 'scripted.pt');
    const out = join(mkdtempSync(join(tmpdir(), 'mconv-ts-')), 'edited.pt');
    // Rewrite one code entry with Python's zipfile (same entries, stored uncompressed).
    execFileSync(PY, ['-c', [
      'import sys, zipfile',
      'src, dst = sys.argv[1], sys.argv[2]',
      'with zipfile.ZipFile(src) as zi, zipfile.ZipFile(dst, "w", zipfile.ZIP_STORED) as zo:',
      '  for info in zi.infolist():',
      '    data = zi.read(info.filename)',
      '    if info.filename.endswith("code/__torch__.py"): data = data.replace(b"torch.softmax(", b"torch.frobnicate(")',
      '    zo.writestr(info.filename, data)',
    ].join('\n'), src, out]);
    const model = await load(out);
    expect(model.graph.nodes).toHaveLength(0);
    expect([...model.graph.initializers.keys()].sort()).toEqual(['fc1.bias', 'fc1.weight', 'fc2.bias', 'fc2.weight', 'fc3.bias', 'fc3.weight']);
    expect(model.metadata['torch.graph_error']).toMatch(/torch\.frobnicate has no mapping to ONNX-semantics IR \[at code\/__torch__\.py:\d+\]/);
    expect(model.metadata['torch.note']).toContain('no graph: TorchScript: torch.frobnicate has no mapping');
  });
});

function execOk(): boolean {
  try {
    execFileSync(PY, ['-c', 'import zipfile']);
    return true;
  } catch {
    return false;
  }
}

describe('TorchScript written from scratch', () => {
  function archive(code: string, state: Map<string, unknown>): TorchScriptArchiveLike {
    const root = new PyObject('__torch__', 'Net');
    root.setState(state);
    return { root, entries: () => ['data.pkl', 'code/__torch__.py'], entry: (n) => (n === 'code/__torch__.py' ? enc.encode(code) : undefined), unpickleEntry: () => [] };
  }
  const w = Tensor.fromArray('float32', [3, 2], [1, -2, 3, -4, 5, -6]);
  const code = [
    'class Net(Module):',
    '  __parameters__ = ["w", ]',
    '  w : Tensor',
    '  scale : Final[float] = 2.',
    '  def forward(self: __torch__.Net, x: Tensor) -> Tensor:',
    '    y = torch.matmul(x, self.w)',
    '    if torch.eq(torch.dim(y), 2):',
    '      z = torch.mul(torch.relu(y), self.scale)',
    '    else:',
    '      ops.prim.RaiseException("AssertionError: rank")',
    '    return z',
  ].join('\n');

  it('interprets attributes, Final constants and branches into nodes', () => {
    const g = buildFromTorchScript(archive(code, new Map<string, unknown>([['w', w], ['training', false]])), { inputShapes: { x: ['batch', 3] } });
    expect(g.nodes.map((n) => n.op)).toEqual(['MatMul', 'Relu', 'Mul']);
    expect([...g.initializers.keys()]).toContain('w');
    expect(g.outputs[0]!.shape).toEqual(['batch', 2]);
  });

  it('names an unknown op with its line', () => {
    const bad = code.replace('torch.relu(y)', 'torch.frobnicate(y)');
    const e = errorOf(() => buildFromTorchScript(archive(bad, new Map<string, unknown>([['w', w]])), { inputShapes: { x: ['batch', 3] } }));
    expect(e.message).toBe('TorchScript: torch.frobnicate has no mapping to ONNX-semantics IR');
    expect(e.where).toBe('code/__torch__.py:8');
  });

  it('reports a syntax error in the code with its line', () => {
    const e = errorOf(() => buildFromTorchScript(archive(code.replace('return z', 'return z +'), new Map()), {}));
    expect(e.kind).toBe('unreadable');
    expect(e.message).toContain('cannot parse the TorchScript code');
    expect(e.where).toBe('code/__torch__.py:11');
  });

  it('reports a missing attribute with the module and class', () => {
    const e = errorOf(() => buildFromTorchScript(archive(code, new Map()), { inputShapes: { x: ['batch', 3] } }));
    expect(e.message).toContain("module (root) (__torch__.Net) has no attribute 'w'");
  });
});
