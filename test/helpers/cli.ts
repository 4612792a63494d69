/** Runs the mconv CLI from source (through tsx) and captures its output and exit code. */
import { spawn, execFileSync } from 'node:child_process';
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

/**
 * Runs the CLI without blocking the test worker's event loop (a long run of synchronous
 * child processes starves vitest's worker RPC and ends in "Timeout calling onTaskUpdate").
 */
export function mconv(args: string[], opts: { cwd?: string; timeout?: number } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src', 'cli', 'main.ts'), ...args], {
      cwd: opts.cwd ?? ROOT,
      env: { ...process.env, NO_COLOR: '1' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeout ?? 120_000);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stdout, stderr });
    });
  });
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
