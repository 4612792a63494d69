/** Runs the mconv CLI from source with a chosen environment (colour and progress tests). */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { ROOT, type CliResult } from './cli.js';

/**
 * Like `mconv` in ./cli.ts, but the child's environment is the parent's without NO_COLOR,
 * FORCE_COLOR and the progress hooks, plus `env`.
 */
export function mconvEnv(args: string[], env: Record<string, string>, opts: { timeout?: number } = {}): Promise<CliResult> {
  const base: Record<string, string | undefined> = { ...process.env };
  for (const k of ['NO_COLOR', 'FORCE_COLOR', 'MCONV_FORCE_PROGRESS', 'MCONV_PROGRESS_DELAY_MS']) delete base[k];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src', 'cli', 'main.ts'), ...args], { cwd: ROOT, env: { ...base, ...env } });
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

/** True when text holds an ANSI escape sequence. */
export function hasEscapes(text: string): boolean {
  return text.includes('\x1b[');
}
