import { describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Progress, progressEnabled } from '../../src/cli/progress.js';
import { ROOT } from '../helpers/cli.js';
import { mconvEnv } from '../helpers/cli-env.js';

const TINY = join(ROOT, 'fixtures', 'onnx', 'tiny_cnn', 'model.onnx');
const KERAS = join(ROOT, 'fixtures', 'keras', 'mnist_cnn.h5');
const SCRIPT = '/usr/bin/script';
if (!existsSync(SCRIPT)) console.warn('test/cli/progress.test.ts: util-linux script absent, the pseudo-terminal test is skipped');

function fakeTty(isTTY = true) {
  const s = { isTTY, columns: 80, text: '', write(t: string) { s.text += t; return true; } };
  return s;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('Progress', () => {
  it('is off on a pipe, with --json, and on a TTY only when not asked otherwise', () => {
    expect(progressEnabled({ stream: fakeTty(false) as unknown as NodeJS.WriteStream, env: {} })).toBe(false);
    expect(progressEnabled({ stream: fakeTty(true) as unknown as NodeJS.WriteStream, env: {} })).toBe(true);
    expect(progressEnabled({ stream: fakeTty(true) as unknown as NodeJS.WriteStream, env: {}, json: true })).toBe(false);
    expect(progressEnabled({ stream: fakeTty(false) as unknown as NodeJS.WriteStream, env: { MCONV_FORCE_PROGRESS: '1' } })).toBe(true);
    expect(progressEnabled({ stream: fakeTty(false) as unknown as NodeJS.WriteStream, env: { MCONV_FORCE_PROGRESS: '1' }, json: true })).toBe(false);
  });

  it('waits for the delay, shows a spinner then a bar with the stage, and clears its line at the end', async () => {
    const tty = fakeTty();
    const p = new Progress({ stream: tty as unknown as NodeJS.WriteStream, delayMs: 150, env: {} });
    p.onProgress({ stage: 'read', detail: 'model.h5' });
    expect(tty.text).toBe('');
    await sleep(300);
    expect(tty.text).toContain('reading model.h5');
    p.onProgress({ stage: 'run', done: 3, total: 12, detail: 'conv1' });
    expect(tty.text).toMatch(/running \[[^\]]*\] 3\/12 conv1/);
    const before = tty.text.length;
    p.stop();
    expect(tty.text.slice(before)).toContain('\x1b[2K');
    const after = tty.text.length;
    p.onProgress({ stage: 'compare' });
    await sleep(150);
    expect(tty.text.length).toBe(after); // nothing once stopped
  });

  it('never writes when the work ends before the delay', async () => {
    const tty = fakeTty();
    const p = new Progress({ stream: tty as unknown as NodeJS.WriteStream, delayMs: 200, env: {} });
    p.onProgress({ stage: 'read' });
    p.onProgress({ stage: 'run', done: 1, total: 2 });
    p.stop();
    await sleep(300);
    expect(tty.text).toBe('');
  });
});

describe('progress in the CLI', () => {
  it('forced on (test hook): run and convert report their stages on stderr and clear the line', async () => {
    const r = await mconvEnv(['run', KERAS], { MCONV_FORCE_PROGRESS: '1', MCONV_PROGRESS_DELAY_MS: '0' });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('reading');
    expect(r.stderr).toMatch(/running \[[^\]]*\] \d+\/\d+/);
    expect(r.stderr.endsWith('\x1b[2K')).toBe(true);
    // stdout carries the results only.
    expect(r.stdout).not.toContain('\x1b');
    expect(r.stdout).toMatch(/^dense_1: float32/m);
    const out = join(mkdtempSync(join(tmpdir(), 'mconv-progress-')), 'm.onnx');
    const c = await mconvEnv(['convert', KERAS, '--to', 'onnx', '-o', out], { MCONV_FORCE_PROGRESS: '1', MCONV_PROGRESS_DELAY_MS: '0' });
    expect(c.code, c.stderr).toBe(0);
    expect(c.stderr).toContain('reading');
    expect(c.stderr).toContain(`writing ${out}`.slice(0, 40));
    expect(c.stdout).toBe(`wrote ${out}\n`);
  });

  it('a pipe, --json, or work shorter than the delay: stderr stays empty', async () => {
    const piped = await mconvEnv(['run', TINY], {});
    expect(piped.code).toBe(0);
    expect(piped.stderr).toBe('');
    const json = await mconvEnv(['run', TINY, '--json'], { MCONV_FORCE_PROGRESS: '1', MCONV_PROGRESS_DELAY_MS: '0' });
    expect(json.code).toBe(0);
    expect(json.stderr).toBe('');
    JSON.parse(json.stdout);
    const quick = await mconvEnv(['verify', TINY, TINY], { MCONV_FORCE_PROGRESS: '1', MCONV_PROGRESS_DELAY_MS: '600000' });
    expect(quick.code).toBe(0);
    expect(quick.stderr).toBe('');
  });

  it.skipIf(!existsSync(SCRIPT))('on a real pseudo-terminal (script -qfc): the stages show, then the results on a clean line', async () => {
    const cmd = `${process.execPath} --import tsx src/cli/main.ts verify ${TINY} ${TINY}`;
    const out = await new Promise<string>((resolve, reject) => {
      execFile(SCRIPT, ['-qfc', cmd, '/dev/null'], { cwd: ROOT, env: { ...process.env, NO_COLOR: '1', MCONV_PROGRESS_DELAY_MS: '0', MCONV_FORCE_PROGRESS: '' }, timeout: 120_000 }, (err, stdout) => (err ? reject(err) : resolve(stdout)));
    });
    expect(out).toContain('reading');
    expect(out).toMatch(/running \[/);
    // The progress line is cleared before the report is printed.
    const lastClear = out.lastIndexOf('\x1b[2K');
    expect(lastClear).toBeGreaterThan(0);
    const rest = out.slice(lastClear);
    expect(rest).toMatch(/all outputs agree/);
    expect(rest).not.toMatch(/running|reading|comparing/);
  });
});
