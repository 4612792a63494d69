/** Runs the mconv CLI from source (through tsx) and captures its output and exit code. */
import { spawnSync } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

export const ROOT = join(import.meta.dirname, '..', '..');
export const SHARED = join(ROOT, '..', 'shared', 'fixtures');
export const TORCH_FIXTURES = join(SHARED, 'torch');
export const PY = '/usr/bin/python3';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function mconv(args: string[], opts: { cwd?: string; timeout?: number } = {}): CliResult {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'src', 'cli', 'main.ts'), ...args], {
    cwd: opts.cwd ?? ROOT,
    encoding: 'utf8',
    timeout: opts.timeout ?? 120_000,
    env: { ...process.env, NO_COLOR: '1' },
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** True when Debian's python3 has these modules. */
export function hasPython(...modules: string[]): boolean {
  if (!existsSync(PY)) return false;
  try {
    execFileSync(PY, ['-c', modules.map((m) => `import ${m}`).join('; ')], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** onnx.checker.check_model(full_check=True) on a file; returns '' when it passes, else the error. */
export function onnxCheck(path: string): string {
  try {
    execFileSync(PY, ['-c', `import onnx, sys; onnx.checker.check_model(onnx.load(sys.argv[1]), full_check=True)`, path], { stdio: 'pipe' });
    return '';
  } catch (e) {
    return String((e as { stderr?: Buffer }).stderr ?? e);
  }
}
