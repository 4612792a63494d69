/** The README's programmatic example must run as written (imports pointed at the source). */
import { describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { ROOT } from './helpers/cli.js';

describe('README', () => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');

  it('the API example is ten lines or so and runs', () => {
    const m = /## The API in ten lines\s+```ts\n([\s\S]*?)```/.exec(readme);
    expect(m, 'README has the API section').toBeTruthy();
    const code = m![1]!;
    expect(code.trim().split('\n').length).toBeLessThanOrEqual(12);
    const file = join(mkdtempSync(join(tmpdir(), 'mconv-readme-')), 'demo.mts');
    writeFileSync(file, code.replace(/from 'mconv'/g, `from ${JSON.stringify(join(ROOT, 'src', 'index.ts'))}`));
    const r = spawnSync(process.execPath, ['--import', 'tsx', file], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/Conv Conv \[ \[ 2, 8, 28, 28 \] \]/);
    expect(r.stdout).toMatch(/Softmax Softmax/);
  });

  it('gives the two set-up commands', () => {
    expect(readme).toMatch(/npm ci && npx mconv inspect fixtures\/onnx\/tiny_cnn\/model\.onnx/);
    expect(readme).toMatch(/^npm test$/m);
  });
});
