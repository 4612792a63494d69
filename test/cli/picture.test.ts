import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { inflateSync } from 'node:zlib';
import { load, save } from '../../src/api.js';
import { Graph, Model } from '../../src/ir/graph.js';
import { prepareModel } from '../../src/ir/passes/index.js';
import { inferShapes } from '../../src/ir/infer.js';
import { renderPicture } from '../../src/cli/render-picture.js';
import { mconv, PY, ROOT, hasPython } from '../helpers/cli.js';
import { removeScratch, scratch, dotEdges, graphEdges, haveTorchvision, makeTorchvision, parseDot, weightHandlers } from '../inspect/dot-helpers.js';

afterAll(removeScratch);

const MNIST = join(ROOT, 'fixtures', 'keras', 'mnist_cnn.h5');
const havePython = hasPython('xml.etree.ElementTree');
const havePil = hasPython('PIL');
if (!havePython) console.warn('test/cli/picture.test.ts: SVG parsing skipped (no /usr/bin/python3)');
if (!havePil) console.warn('test/cli/picture.test.ts: PNG pixel checks skipped (python3-pil not installed)');

/** Parses an SVG with Python's XML parser: the Graphviz node groups (title = DOT id, texts) and the size. */
function parseSvg(file: string): { width: string; height: string; nodes: Record<string, string[]>; clusters: string[] } {
  const script = `
import json, sys, xml.etree.ElementTree as ET
ns = {'s': 'http://www.w3.org/2000/svg'}
root = ET.parse(sys.argv[1]).getroot()
nodes, clusters = {}, []
for g in root.iter('{http://www.w3.org/2000/svg}g'):
    cls = g.get('class')
    title = g.find('s:title', ns)
    if cls == 'node':
        nodes[title.text] = [''.join(t.itertext()) for t in g.iter('{http://www.w3.org/2000/svg}text')]
    elif cls == 'cluster':
        clusters.append(title.text)
print(json.dumps({'width': root.get('width'), 'height': root.get('height'), 'nodes': nodes, 'clusters': clusters}))
`;
  const parsed = JSON.parse(execFileSync(PY, ['-c', script, file], { encoding: 'utf8' }));
  // Graphviz writes the second of two spaces as a no-break space.
  for (const k of Object.keys(parsed.nodes)) parsed.nodes[k] = parsed.nodes[k].map((t: string) => t.replace(/\u00a0/g, ' '));
  return parsed;
}

/** Checks a PNG by its own structure: signature, IHDR, and IDAT inflating to height rows of 1 + width*channels bytes. */
function readPng(file: string): { width: number; height: number } {
  const b = readFileSync(file);
  expect([...b.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  expect(b.toString('latin1', 12, 16)).toBe('IHDR');
  const width = b.readUInt32BE(16);
  const height = b.readUInt32BE(20);
  const depth = b[24]!;
  const colour = b[25]!;
  const channels = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 }[colour as 0 | 2 | 3 | 4 | 6];
  expect(depth).toBe(8);
  const idat: Buffer[] = [];
  for (let off = 8; off < b.length; ) {
    const len = b.readUInt32BE(off);
    const type = b.toString('latin1', off + 4, off + 8);
    if (type === 'IDAT') idat.push(b.subarray(off + 8, off + 8 + len));
    off += 12 + len;
  }
  expect(inflateSync(Buffer.concat(idat)).length).toBe(height * (1 + width * channels!));
  return { width, height };
}

/** Share of pixels that are not white, and whether the image has colour (via Pillow). */
function inkShare(file: string): { ink: number; colours: number } {
  const script = `
import json, sys
from PIL import Image
Image.MAX_IMAGE_PIXELS = None
im = Image.open(sys.argv[1]).convert('RGB')
small = im.resize((max(1, im.width // 4), max(1, im.height // 4)))
px = list(small.getdata())
ink = sum(1 for p in px if p != (255, 255, 255)) / len(px)
print(json.dumps({'ink': ink, 'colours': len(set(px))}))
`;
  return JSON.parse(execFileSync(PY, ['-c', script, file], { encoding: 'utf8' }));
}

function noTempFiles(dir: string): void {
  expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
}

describe('mconv inspect --format: options', () => {
  it('--format dot writes DOT to stdout with every node and the graph edges', async () => {
    const r = await mconv(['inspect', MNIST, '--format', 'dot']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.startsWith('digraph model {')).toBe(true);
    expect(r.stdout.trimEnd().endsWith('}')).toBe(true);
    const m = await load(MNIST);
    prepareModel(m);
    const p = parseDot(r.stdout);
    const boxes = [...p.nodes.entries()].filter(([id]) => /^n\d+$/.test(id));
    expect(boxes.length).toBe(m.graph.nodes.length);
    expect(dotEdges(p)).toEqual(graphEdges(m));
  });

  it('--json with --format is a usage error (two different outputs), as --help says', async () => {
    const r = await mconv(['inspect', MNIST, '--format', 'svg', '--json']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--json and --format svg are two different outputs; choose one/);
    expect(JSON.parse(r.stdout).error.kind).toBe('usage');
    const help = await mconv(['inspect', '--help']);
    expect(help.stdout.replace(/\s+/g, ' ')).toMatch(/--format .*not with --json, which is a usage error/);
  });

  it('png needs -o; unknown -o extensions and overwriting the input are refused', async () => {
    const dir = scratch('mconv-pic-');
    const png = await mconv(['inspect', MNIST, '--format', 'png']);
    expect(png.code).toBe(2);
    expect(png.stderr).toMatch(/--format png needs -o FILE\.png/);
    expect(png.stdout).toBe('');
    const txt = await mconv(['inspect', MNIST, '-o', join(dir, 'x.txt')]);
    expect(txt.code).toBe(2);
    expect(txt.stderr).toMatch(/give --format dot\|svg\|png\|html/);
    const self = await mconv(['inspect', MNIST, '--format', 'svg', '-o', MNIST]);
    expect(self.code).toBe(2);
    expect(self.stderr).toMatch(/is the input file/);
    const bad = await mconv(['inspect', MNIST, '--format', 'jpeg']);
    expect(bad.code).toBe(2);
    expect(readdirSync(dir)).toEqual([]);
  });
});

describe('MNIST CNN pictures (fixtures/keras/mnist_cnn.h5)', () => {
  let dir: string;
  let model: Model;
  beforeAll(async () => {
    dir = scratch('mconv-pic-');
    model = await load(MNIST);
    prepareModel(model);
  });

  it.skipIf(!havePython)('--format svg -o: an SVG with one Graphviz node per IR node and input/output, labelled', async () => {
    const out = join(dir, 'mnist.svg');
    const r = await mconv(['inspect', MNIST, '--format', 'svg', '-o', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('');
    noTempFiles(dir);
    const svg = parseSvg(out);
    expect(Object.keys(svg.nodes).length).toBe(model.graph.nodes.length + 2);
    expect(svg.nodes.in0).toEqual(['conv2d_input', 'batch×28×28×1 float32']);
    expect(svg.nodes.out0).toEqual(['dense_1', 'batch×10 float32']);
    const ops = Object.entries(svg.nodes).filter(([k]) => /^n\d+$/.test(k)).map(([, t]) => t[0]).sort();
    expect(ops).toEqual(model.graph.nodes.map((n) => n.op).sort());
    const texts = Object.values(svg.nodes).flat();
    for (const s of ['W 32×1×3×3  B 32', 'W 64×32×3×3  B 64', 'B 576×64', '→ batch×32×26×26', '→ batch×10', 'max_pooling2d']) expect(texts).toContain(s);
    expect(svg.clusters.length).toBe(5);
    expect(svg.width).toMatch(/^\d+pt$/);
    // Fonts fall back to look-alikes in a browser without DejaVu Sans.
    expect(readFileSync(out, 'utf8')).toContain('font-family="DejaVu Sans,Verdana,sans-serif"');
  });

  it('--format png -o: a PNG of sensible size, drawn with ink and colour', async () => {
    const out = join(dir, 'mnist.png');
    const r = await mconv(['inspect', MNIST, '--format', 'png', '-o', out]);
    expect(r.code, r.stderr).toBe(0);
    noTempFiles(dir);
    const { width, height } = readPng(out);
    // A tall chain of 16 boxes, rendered at twice the SVG's size.
    expect(width).toBeGreaterThan(300);
    expect(width).toBeLessThan(2000);
    expect(height).toBeGreaterThan(2 * width);
    expect(height).toBeLessThan(10_000);
    if (havePil) {
      const ink = inkShare(out);
      expect(ink.ink).toBeGreaterThan(0.05);
      expect(ink.colours).toBeGreaterThan(20);
    }
  });

  it('takes the format from the -o extension', async () => {
    const out = join(dir, 'from-ext.dot');
    const r = await mconv(['inspect', MNIST, '-o', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(out, 'utf8')).toMatch(/^digraph model \{/);
  });
});

if (!haveTorchvision) console.warn('test/cli/picture.test.ts: resnet18 skipped (Debian python3-torchvision / python3-onnx not installed)');

describe.skipIf(!haveTorchvision)('resnet18 pictures (torchvision, exported by torch.onnx)', () => {
  let dir: string;
  let model: Model;
  beforeAll(async () => {
    dir = makeTorchvision(['resnet18'], 'mconv-pic-r18-');
    model = await load(join(dir, 'resnet18.onnx'));
    inferShapes(model.graph);
  }, 300_000);

  it.skipIf(!havePython)('--format svg: every layer drawn and labelled, clusters for the modules', async () => {
    const out = join(dir, 'r18.svg');
    const r = await mconv(['inspect', join(dir, 'resnet18.onnx'), '--format', 'svg', '-o', out]);
    expect(r.code, r.stderr).toBe(0);
    const svg = parseSvg(out);
    const drawn = model.graph.nodes.length - weightHandlers(model).size;
    expect(drawn).toBe(69);
    expect(Object.keys(svg.nodes).length).toBe(drawn + 2);
    const ops = Object.entries(svg.nodes).filter(([k]) => /^n\d+$/.test(k)).map(([, t]) => t[0]);
    expect(ops.filter((o) => o === 'Conv').length).toBe(20);
    expect(svg.clusters.length).toBe(15);
    const texts = Object.values(svg.nodes).flat();
    for (const s of ['W 64×3×7×7', '→ batch×64×112×112', 'W 512×256×1×1', 'scale, B, mean, var 512', 'B 1000×512  C 1000', 'downsample.0']) expect(texts).toContain(s);
  });

  it('--format png: a tall picture within the pixel limits; layout and rendering take seconds', async () => {
    const out = join(dir, 'r18.png');
    const r = await mconv(['inspect', join(dir, 'resnet18.onnx'), '--format', 'png', '-o', out]);
    expect(r.code, r.stderr).toBe(0);
    const { width, height } = readPng(out);
    expect(width).toBeGreaterThan(600);
    expect(height).toBeGreaterThan(5 * width);
    expect(height).toBeLessThanOrEqual(30_000);
    if (havePil) expect(inkShare(out).ink).toBeGreaterThan(0.05);
    // In process, without the CLI's start-up: layout and rasterisation of 69 boxes.
    const t0 = performance.now();
    const svg = await renderPicture(model, 'svg');
    const t1 = performance.now();
    const png = await renderPicture(model, 'png');
    const t2 = performance.now();
    expect(svg.bytes.length).toBeGreaterThan(50_000);
    expect(png.bytes.length).toBeGreaterThan(50_000);
    expect(t1 - t0).toBeLessThan(15_000);
    expect(t2 - t1).toBeLessThan(30_000);
  });
});

describe('a graph too big to lay out whole', () => {
  it('says so on stderr and draws the first 3000 nodes', async () => {
    const dir = scratch('mconv-pic-big-');
    const g = new Graph('big');
    let x = g.addInput('x', 'float32', [1, 4]);
    for (let i = 0; i < 3100; i++) x = g.addNode(i % 2 ? 'Relu' : 'Neg', [x], 1, {}, `op_${i}`).outputs[0]!;
    g.outputs = [x];
    const file = join(dir, 'big.onnx');
    await save(new Model(g, { format: 'onnx' }), file);
    const out = join(dir, 'big.svg');
    const t0 = performance.now();
    const r = await mconv(['inspect', file, '--format', 'svg', '-o', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(performance.now() - t0).toBeLessThan(90_000);
    expect(r.stderr).toMatch(/mconv: note: the graph has 3100 nodes, more than 3000 .* only the first 3000/);
    const svg = readFileSync(out, 'utf8');
    // 3000 boxes, the box for the rest, the input and the output.
    expect(svg.match(/<g id="node\d+" class="node">/g)!.length).toBe(3003);
    expect(svg).toContain('… 100 more nodes not drawn');
    const d = await mconv(['inspect', file, '--format', 'dot']);
    const p = parseDot(d.stdout);
    expect([...p.nodes.keys()].filter((k) => /^n\d+$/.test(k)).length).toBe(3000);
    expect(p.nodes.get('truncated')!.lines).toEqual(['… 100 more nodes not drawn']);
  });
});
