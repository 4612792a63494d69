import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser, Page } from 'puppeteer-core';
import { load } from '../../src/api.js';
import { inferShapes } from '../../src/ir/infer.js';
import { prepareModel } from '../../src/ir/passes/index.js';
import { mconv, ROOT } from '../helpers/cli.js';
import { haveTorchvision, makeTorchvision, removeScratch, scratch, weightHandlers } from '../inspect/dot-helpers.js';

afterAll(removeScratch);

const CHROMIUM = '/usr/bin/chromium';
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium) console.warn(`test/cli/html.test.ts: skipped: no headless browser at ${CHROMIUM} (Debian package chromium)`);

const MNIST = join(ROOT, 'fixtures', 'keras', 'mnist_cnn.h5');

interface Opened {
  page: Page;
  /** Console errors and warnings, page errors, failed requests. */
  problems: string[];
  /** Every URL the page asked for. */
  requests: string[];
}

describe.skipIf(!haveChromium)('mconv inspect --format html in headless Chromium', () => {
  let browser: Browser;
  let dir: string;
  beforeAll(async () => {
    const puppeteer = (await import('puppeteer-core')).default;
    browser = await puppeteer.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--headless=new'] });
    dir = scratch('mconv-html-');
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
  });

  async function open(file: string, js = true): Promise<Opened> {
    const page = await browser.newPage();
    await page.setViewport({ width: 1200, height: 900 });
    await page.setJavaScriptEnabled(js);
    const problems: string[] = [];
    const requests: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warn') problems.push(`console ${m.type()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`page error: ${(e as Error).message}`));
    page.on('requestfailed', (r) => problems.push(`failed request: ${r.url()}`));
    page.on('request', (r) => requests.push(r.url()));
    await page.goto(pathToFileURL(file).href, { waitUntil: 'networkidle0' });
    return { page, problems, requests };
  }

  it('MNIST CNN: one offline page with the picture, the header, the layer and node tables', async () => {
    // Without -o the page goes to stdout.
    const r = await mconv(['inspect', MNIST, '--format', 'html']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.startsWith('<!DOCTYPE html>')).toBe(true);
    // Self-contained: no URL of any kind, nothing loaded from elsewhere.
    expect(r.stdout).not.toMatch(/https?:\/\/|\bsrc=|\bhref=|@import|url\(/);
    const file = join(dir, 'mnist.html');
    writeFileSync(file, r.stdout);
    const model = await load(MNIST);
    prepareModel(model);

    const { page, problems, requests } = await open(file);
    expect(problems).toEqual([]);
    expect(requests).toEqual([pathToFileURL(file).href]);
    expect(await page.$eval('h1', (e) => e.textContent)).toContain('mnist_cnn.h5');
    const facts = await page.$$eval('header dt', (dts) => dts.map((dt) => `${dt.textContent}: ${dt.nextElementSibling?.textContent}`));
    // 3x3 convolutions 1->32->64->64 and dense 576->64->10, with biases: 320 + 18,496 + 36,928 + 36,928 + 650.
    expect(facts).toContain('Parameters: 93,322 (364.5 KB)');
    expect(facts.some((f) => f.startsWith('Format: keras'))).toBe(true);
    // The picture: one Graphviz node per IR node plus the input and the output, with readable labels.
    const nodes = await page.$$eval('#graph svg g.node', (gs) => gs.length);
    expect(nodes).toBe(model.graph.nodes.length + 2);
    const texts = await page.$$eval('#graph svg text', (ts) => ts.map((t) => t.textContent?.replace(/\u00a0/g, ' ')));
    expect(texts).toContain('W 32×1×3×3  B 32');
    expect(texts).toContain('conv2d (Conv2D)');
    const box = await page.$eval('#graph svg', (s) => s.getBoundingClientRect().toJSON() as { width: number; height: number });
    expect(box.width).toBeGreaterThan(100);
    expect(box.height).toBeGreaterThan(100);
    // The tables.
    expect(await page.$$eval('#io table tbody tr', (trs) => trs.map((tr) => tr.textContent))).toEqual(['conv2d_inputfloat32(batch, 28, 28, 1)', 'dense_1float32(batch, 10)']);
    expect(await page.$$eval('#nodes tbody tr', (trs) => trs.length)).toBe(model.graph.nodes.length);
    const layerRows = await page.$$eval('#layers tbody tr', (trs) => trs.map((tr) => tr.querySelector('td')!.textContent));
    expect(layerRows).toEqual(model.layers!.map((l) => `${l.name} (${l.className})`));
    // MACs (the page computes costs): 26*26*32*9 + 11*11*64*288 + 3*3*64*576 + 576*64 + 64*10.
    expect(facts).toContain(`MACs: ${(26 * 26 * 32 * 9 + 11 * 11 * 64 * 288 + 3 * 3 * 64 * 576 + 576 * 64 + 64 * 10).toLocaleString('en-US')} (0.003 G) at batch 1; FLOPs 5.68 M`);
    // The little script zooms.
    expect(await page.$eval('#graph-controls', (e) => (e as HTMLElement).hidden)).toBe(false);
    const w0 = await page.$eval('#graph svg', (s) => Number(s.getAttribute('width')?.replace('pt', '')) || s.getBoundingClientRect().width);
    await page.click('#zoom-reset');
    const w1 = await page.$eval('#graph svg', (s) => s.getBoundingClientRect().width);
    await page.click('#zoom-in');
    const w2 = await page.$eval('#graph svg', (s) => s.getBoundingClientRect().width);
    expect(w2 / w1).toBeCloseTo(1.25, 2);
    expect(w0).toBeGreaterThan(0);
    expect(problems).toEqual([]);
    await page.close();
  });

  it('reads without JavaScript: the picture and the tables are there, the zoom controls hidden', async () => {
    const file = join(dir, 'mnist.html');
    const { page, problems } = await open(file, false);
    expect(problems).toEqual([]);
    expect(await page.$$eval('#graph svg g.node', (gs) => gs.length)).toBeGreaterThan(10);
    expect(await page.$eval('#graph-controls', (e) => (e as HTMLElement).hidden)).toBe(true);
    expect(await page.$$eval('#nodes tbody tr', (trs) => trs.length)).toBe(16);
    await page.close();
  });

  it.skipIf(!haveTorchvision)('resnet18 (-o FILE): the picture, the node table with MACs, the costs', async () => {
    const tv = makeTorchvision(['resnet18'], 'mconv-html-r18-');
    const file = join(dir, 'resnet18.html');
    const r = await mconv(['inspect', join(tv, 'resnet18.onnx'), '--format', 'html', '-o', file]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('');
    expect(readFileSync(file, 'utf8')).not.toMatch(/https?:\/\//);
    const model = await load(join(tv, 'resnet18.onnx'));
    inferShapes(model.graph);
    const { page, problems, requests } = await open(file);
    expect(problems).toEqual([]);
    expect(requests.length).toBe(1);
    expect(await page.$$eval('#graph svg g.node', (gs) => gs.length)).toBe(model.graph.nodes.length - weightHandlers(model).size + 2);
    expect(await page.$$eval('#graph svg g.cluster', (gs) => gs.length)).toBe(15);
    const head = await page.$$eval('#nodes thead th', (ths) => ths.map((t) => t.textContent));
    expect(head).toEqual(['Name', 'Op', 'Output shape', 'Param #', 'MACs', 'Activations']);
    const conv1 = await page.$$eval('#nodes tbody tr', (trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent)).find((r) => r[0] === '/conv1/Conv'));
    // conv1: 64 x 112 x 112 outputs, each 3 x 7 x 7 multiply-adds.
    expect(conv1).toEqual(['/conv1/Conv', 'Conv', '(batch, 64, 112, 112)', '9,408', (64 * 112 * 112 * 147).toLocaleString('en-US'), '3.06 MB']);
    const costs = await page.$$eval('#costs dt', (dts) => dts.map((dt) => `${dt.textContent}: ${dt.nextElementSibling?.textContent}`));
    // torchvision publishes 1.81 GFLOPS (multiply-adds) for resnet18.
    expect(costs.find((c) => c.startsWith('MACs:'))).toMatch(/\(1\.81\d GMACs\)/);
    await page.close();
  }, 300_000);
});
