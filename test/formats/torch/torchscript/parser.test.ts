/**
 * The TorchScript code parser on the code files torch.jit.save wrote for the shared fixtures, and
 * on the Python constructs TorchScript prints elsewhere (backtick names, elif, one-line blocks,
 * slices, conditional expressions, chained comparisons), with positions in syntax errors.
 */
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { parseCode } from '../../../../src/formats/torch/torchscript/parser.js';
import { CodeSyntaxError } from '../../../../src/formats/torch/torchscript/lexer.js';
import { readTorchArchive } from '../../../../src/formats/torch/container.js';
import { openSource } from '../../../../src/io/files.js';
import { SHARED_MODELS, TORCH_FIXTURES, hasSharedFixtures } from '../arch/oracle.js';

describe.skipIf(!hasSharedFixtures)('code files of the fixtures', () => {
  for (const name of SHARED_MODELS) {
    it(`${name}: every code file parses`, () => {
      const a = readTorchArchive(openSource(join(TORCH_FIXTURES, name, 'scripted.pt')));
      const files = a.entries().filter((e) => e.startsWith('code/') && e.endsWith('.py'));
      expect(files.length).toBeGreaterThan(1);
      for (const f of files) {
        const mod = parseCode(new TextDecoder().decode(a.entry(f)!), f);
        expect(mod.classes.size + mod.functions.size, f).toBeGreaterThan(0);
      }
    });
  }

  it('conv_bn_net: classes, annotated attributes with Final values, methods and their bodies', () => {
    const a = readTorchArchive(openSource(join(TORCH_FIXTURES, 'conv_bn_net', 'scripted.pt')));
    const text = (f: string) => new TextDecoder().decode(a.entry(f)!);
    const root = parseCode(text('code/__torch__.py'), 'code/__torch__.py').classes.get('ConvBNNet')!;
    expect([...root.attributes.keys()]).toEqual(['training', '_is_full_backward_hook', 'features', 'head']);
    const fwd = root.methods.get('forward')!;
    expect(fwd.params.map((p) => p.name)).toEqual(['self', 'x']);
    expect(fwd.body.map((s) => s.k)).toEqual(['assign', 'assign', 'assign', 'return']);
    const bn = parseCode(text('code/__torch__/torch/nn/modules/batchnorm.py'), 'bn').classes.get('BatchNorm2d')!;
    expect(bn.attributes.get('eps')!.value).toMatchObject({ k: 'const', value: 1.0000000000000001e-05 });
    expect([...bn.methods.keys()]).toEqual(['forward', '_check_input_dim']);
    const fn = parseCode(text('code/__torch__/torch/nn/functional.py'), 'f').functions;
    expect([...fn.keys()]).toEqual(['batch_norm', 'hardtanh', 'relu', 'adaptive_avg_pool2d', '_verify_batch_size']);
    expect(fn.get('_verify_batch_size')!.body.map((s) => s.k)).toEqual(['assign', 'assign', 'assign', 'for', 'if', 'return']);
  });
});

describe('Python constructs', () => {
  const src = [
    'class M(Module):',
    '  w : Tensor',
    '  k : Final[int] = 3',
    '  def forward(self: __torch__.M, x: Tensor, n: int=2) -> Tuple[Tensor, int]:',
    '    a = self.`0`.weight  # backtick name',
    '    if torch.eq(n, 1): b = 1; c = 2',
    '    elif n > 1 and not (n == 3):',
    '      b = [1, 2, 3][-2:]',
    '    else:',
    '      pass',
    '    d = 1 if 0 < n <= 4 else -1.5e-3',
    '    e = ("multi"',
    '         "line", {"k": n})',
    '    return (x, d)',
    'def f(a, *, b=None):',
    '  """doc',
    '  string"""',
    '  return a',
  ].join('\n');

  it('parses them into the right tree', () => {
    const m = parseCode(src, 'code/__torch__.py');
    const fwd = m.classes.get('M')!.methods.get('forward')!;
    expect(fwd.params.map((p) => p.name)).toEqual(['self', 'x', 'n']);
    expect(fwd.body[0]).toMatchObject({ k: 'assign', value: { k: 'attr', attr: 'weight', value: { k: 'attr', attr: '0' } } });
    const ifs = fwd.body[1] as Extract<typeof fwd.body[number], { k: 'if' }>;
    expect(ifs.body.map((s) => s.k)).toEqual(['assign', 'assign']);
    expect(ifs.orelse[0]).toMatchObject({ k: 'if', test: { k: 'bool', op: 'and' } });
    expect(fwd.body[2]).toMatchObject({ value: { k: 'ifexp', test: { k: 'compare', ops: ['<', '<='] }, orelse: { k: 'const', value: -0.0015 } } });
    expect(fwd.body[3]).toMatchObject({ value: { k: 'tuple', items: [{ k: 'const', value: 'multiline' }, { k: 'dict' }] } });
    expect(m.functions.get('f')!.params.map((p) => p.name)).toEqual(['a', 'b']);
    expect(m.classes.get('M')!.attributes.get('k')!.value).toMatchObject({ k: 'const', value: 3 });
  });

  it('reports the line and column of a syntax error', () => {
    let err: unknown;
    try {
      parseCode('def f(x):\n  y = (x +\n  return y\n', 'bad.py');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(CodeSyntaxError);
    expect((err as CodeSyntaxError).line).toBe(3);
    expect(() => parseCode('def f(x):\n    a = 1\n  b = 2\n', 'bad.py')).toThrow(/indentation does not match/);
  });
});
