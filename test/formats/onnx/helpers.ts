/** Shared helpers of the ONNX format tests: Debian's python3 with onnx/numpy as an oracle. */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { hasPython } from '../../helpers/cli.js';

export const PYTHON = '/usr/bin/python3';

const probe = (): boolean => hasPython('onnx', 'numpy');

/** True when /usr/bin/python3 with onnx and numpy is available. */
export const HAVE_PYTHON_ONNX = probe();
if (!HAVE_PYTHON_ONNX) console.warn('skipping python-checked ONNX tests: /usr/bin/python3 with onnx and numpy not found');

/** Runs a python program and returns its stdout. */
export function python(code: string, args: string[] = []): string {
  return execFileSync(PYTHON, ['-c', code, ...args], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, cwd: process.cwd() });
}

/** Runs a python program that prints JSON. */
export function pythonJson<T = unknown>(code: string, args: string[] = []): T {
  return JSON.parse(python(code, args)) as T;
}

export function hex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
}

/** The repository root. */
export const REPO = fileURLToPath(new URL('../../../', import.meta.url));
/** Shared torch fixtures (beside the repository). */
export const TORCH_FIXTURES = fileURLToPath(new URL('../../../../shared/fixtures/torch', import.meta.url));
export const ONNX_FIXTURES = fileURLToPath(new URL('../../../fixtures/onnx', import.meta.url));
export const ONNX_TESTDATA = '/usr/share/libonnx-testdata/data';
