import { describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { colourEnabled, coloursFor, paintReport, stripColour } from '../../src/cli/colour.js';
import { renderWeightStats } from '../../src/cli/render-costs.js';
import { weightStats } from '../../src/inspect/weight-stats.js';
import { Graph, Model } from '../../src/ir/graph.js';
import { Tensor } from '../../src/ir/tensor.js';
import { ROOT, SHARED } from '../helpers/cli.js';
import { hasEscapes, mconvEnv } from '../helpers/cli-env.js';

const TINY = join(ROOT, 'fixtures', 'onnx', 'tiny_cnn', 'model.onnx');
const OTHER = join(SHARED, 'torch', 'mnist_v2_cnn', 'model.onnx');

describe('colour decision', () => {
  const tty = { isTTY: true };
  const pipe = { isTTY: false };
  it('follows the TTY, NO_COLOR wins, FORCE_COLOR forces', () => {
    expect(colourEnabled(tty, {})).toBe(true);
    expect(colourEnabled(pipe, {})).toBe(false);
    expect(colourEnabled(tty, { NO_COLOR: '1' })).toBe(false);
    expect(colourEnabled(tty, { NO_COLOR: '' })).toBe(true); // empty NO_COLOR does not count
    expect(colourEnabled(pipe, { FORCE_COLOR: '1' })).toBe(true);
    expect(colourEnabled(tty, { FORCE_COLOR: '0' })).toBe(false);
    expect(colourEnabled(pipe, { FORCE_COLOR: '1', NO_COLOR: 'yes' })).toBe(false);
    expect(colourEnabled(tty, { TERM: 'dumb' })).toBe(false);
  });

  it('weight warnings (--weights) are yellow, the rest of the table plain', () => {
    const g = new Graph();
    g.addInitializer('dead', Tensor.fromArray('float32', [2, 3], [0, 0, 0, 0, 0, 0]));
    g.addInitializer('live', Tensor.fromArray('float32', [2], [1, -2]));
    const stats = weightStats(new Model(g, { format: 'onnx' }));
    expect(stats.warnings.map((w) => w.kind)).toEqual(['all-zero']);
    const on = renderWeightStats(stats, { colour: coloursFor(pipe, { FORCE_COLOR: '1' }) });
    const off = renderWeightStats(stats, { colour: coloursFor(pipe, { NO_COLOR: '1' }) });
    expect(on).toMatch(/\x1b\[33m {2}all-zero: [^\n]*dead[^\n]*\x1b\[39m/);
    expect(on).toContain('\x1b[1mWarnings:\x1b[22m');
    expect(hasEscapes(off)).toBe(false);
    expect(stripColour(on)).toBe(off);
  });

  it('paints FAIL lines of an isclose report red and leaves plain text alone when off', () => {
    const report = 'isclose: |a - b| <= 1e-5 + 0.0001 * |b|\n  PASS y float32[1]: ok\n  FAIL z float32[1]: bad\n1 of 2 outputs disagree';
    const on = paintReport(report, coloursFor(pipe, { FORCE_COLOR: '1' })).split('\n');
    expect(on[0]).toBe('isclose: |a - b| <= 1e-5 + 0.0001 * |b|');
    expect(on[1]).toBe('\x1b[32m  PASS y float32[1]: ok\x1b[39m');
    expect(on[2]).toBe('\x1b[31m  FAIL z float32[1]: bad\x1b[39m');
    expect(on[3]).toBe('\x1b[31m1 of 2 outputs disagree\x1b[39m');
    expect(stripColour(on.join('\n'))).toBe(report);
    expect(paintReport(report, coloursFor(pipe, {}))).toBe(report);
  });
});

describe('colour in the CLI', () => {
  it('through a pipe: no escape codes in output or errors', async () => {
    const r = await mconvEnv(['inspect', TINY], {});
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Model: /m);
    expect(hasEscapes(r.stdout)).toBe(false);
    const e = await mconvEnv(['inspect', join(ROOT, 'no-such-model.onnx')], {});
    expect(e.code).toBe(3);
    expect(hasEscapes(e.stderr)).toBe(false);
    expect(e.stderr).toMatch(/^mconv: error: /);
  });

  it('FORCE_COLOR=1: headings bold, errors red; --json stays plain', async () => {
    const r = await mconvEnv(['inspect', TINY], { FORCE_COLOR: '1' });
    expect(r.stdout).toContain('\x1b[1mModel:\x1b[22m');
    expect(r.stdout).toContain('\x1b[1mInputs:\x1b[22m');
    // Tables are not coloured: their borders line up as before.
    expect(stripColour(r.stdout)).toBe((await mconvEnv(['inspect', TINY], {})).stdout);
    const e = await mconvEnv(['inspect', join(ROOT, 'no-such-model.onnx')], { FORCE_COLOR: '1' });
    expect(e.stderr.startsWith('\x1b[31mmconv: error:\x1b[39m ')).toBe(true);
    const j = await mconvEnv(['inspect', TINY, '--json'], { FORCE_COLOR: '1' });
    expect(hasEscapes(j.stdout)).toBe(false);
    JSON.parse(j.stdout);
    const je = await mconvEnv(['inspect', join(ROOT, 'no-such-model.onnx'), '--json'], { FORCE_COLOR: '1' });
    expect(hasEscapes(je.stdout + je.stderr)).toBe(false);
  });

  it('NO_COLOR wins over FORCE_COLOR', async () => {
    const r = await mconvEnv(['inspect', TINY, '--weights'], { FORCE_COLOR: '1', NO_COLOR: '1' });
    expect(r.code).toBe(0);
    expect(hasEscapes(r.stdout + r.stderr)).toBe(false);
  });

  it.skipIf(!existsSync(OTHER))('verify: the FAIL lines are red with FORCE_COLOR, plain without', async () => {
    const r = await mconvEnv(['verify', TINY, OTHER], { FORCE_COLOR: '1' });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/\x1b\[31m {2}FAIL /);
    const p = await mconvEnv(['verify', TINY, OTHER], {});
    expect(p.code).toBe(1);
    expect(hasEscapes(p.stdout)).toBe(false);
    expect(p.stdout).toMatch(/^ {2}FAIL /m);
  });
});
