/**
 * Conv, ConvTranspose, MaxPool and AveragePool output shapes against PyTorch (Debian
 * python3-torch) over a deterministic sweep of kernel, stride, padding, dilation, groups and
 * ceil_mode, in 1-D, 2-D and 3-D.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { Graph, attr, type Attrs } from '../../../src/ir/graph.js';
import { inferShapes } from '../../../src/ir/infer.js';

const PY = '/usr/bin/python3';

interface Config {
  kind: 'conv' | 'convT' | 'maxpool' | 'avgpool';
  x: number[];
  w?: number[];
  kernel: number[];
  stride: number[];
  pad: number[];
  dilation: number[];
  outpad: number[];
  group: number;
  ceil: boolean;
}

function sweep(): Config[] {
  let s = 12345;
  const rnd = (n: number) => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return (s >>> 8) % n;
  };
  const out: Config[] = [];
  const kinds: Config['kind'][] = ['conv', 'convT', 'maxpool', 'avgpool'];
  for (let i = 0; i < 400; i++) {
    const kind = kinds[i % 4]!;
    const d = 1 + rnd(3);
    const group = kind === 'conv' || kind === 'convT' ? 1 + rnd(2) : 1;
    const c = group * (1 + rnd(3));
    const m = group * (1 + rnd(3));
    const spatial = Array.from({ length: d }, () => 3 + rnd(d === 3 ? 6 : 12));
    const kernel = spatial.map((x) => 1 + rnd(Math.min(x, 4)));
    const stride = kernel.map(() => 1 + rnd(3));
    const dilation = kernel.map(() => (kind === 'avgpool' ? 1 : 1 + rnd(2)));
    const pad = kernel.map((k) => rnd(Math.floor(k / 2) + 1));
    const outpad = stride.map((st, j) => (kind === 'convT' ? rnd(Math.min(st, dilation[j]!)) : 0));
    const x = [1 + rnd(2), c, ...spatial];
    const w = kind === 'conv' ? [m, c / group, ...kernel] : kind === 'convT' ? [c, m / group, ...kernel] : undefined;
    out.push({ kind, x, w, kernel, stride, pad, dilation, outpad, group, ceil: rnd(2) === 1 });
  }
  return out;
}

function ours(c: Config): (number | string)[] | undefined {
  const g = new Graph('t');
  const x = g.addInput('x', 'float32', c.x);
  const inputs = [x];
  if (c.w) inputs.push(g.addInput('w', 'float32', c.w));
  const attrs: Attrs = {
    strides: attr.ints(c.stride),
    pads: attr.ints([...c.pad, ...c.pad]),
  };
  if (c.kind !== 'avgpool') attrs['dilations'] = attr.ints(c.dilation);
  if (c.kind === 'conv' || c.kind === 'convT') attrs['group'] = attr.int(c.group);
  else {
    attrs['kernel_shape'] = attr.ints(c.kernel);
    attrs['ceil_mode'] = attr.int(c.ceil ? 1 : 0);
  }
  if (c.kind === 'convT') attrs['output_padding'] = attr.ints(c.outpad);
  const op = { conv: 'Conv', convT: 'ConvTranspose', maxpool: 'MaxPool', avgpool: 'AveragePool' }[c.kind];
  const n = g.addNode(op, inputs, ['y'], attrs);
  g.outputs.push(n.outputs[0]!);
  const r = inferShapes(g);
  if (r.issues.some((i) => i.kind === 'error')) return undefined;
  return n.outputs[0]!.shape;
}

const configs = sweep();
let torchShapes: (number[] | null)[] | undefined;
if (existsSync(PY)) {
  try {
    const script = fileURLToPath(new URL('./torch-shapes.py', import.meta.url));
    torchShapes = JSON.parse(execFileSync(PY, [script], { input: JSON.stringify(configs), encoding: 'utf8', maxBuffer: 1 << 24 }));
  } catch {
    torchShapes = undefined;
  }
}
if (!torchShapes) console.warn('skipping the conv/pool shape sweep: /usr/bin/python3 with torch is unavailable');

describe.skipIf(!torchShapes)('conv and pool output shapes match PyTorch', () => {
  it('over 400 configurations', () => {
    const bad: string[] = [];
    let compared = 0;
    configs.forEach((c, i) => {
      const want = torchShapes![i];
      if (!want) return; // a configuration torch rejects (e.g. output_padding too large)
      compared++;
      const got = ours(c);
      if (JSON.stringify(got) !== JSON.stringify(want)) bad.push(`${JSON.stringify(c)}: ours ${JSON.stringify(got)} torch ${JSON.stringify(want)}`);
    });
    expect(bad).toEqual([]);
    expect(compared).toBeGreaterThan(300);
  });
});
