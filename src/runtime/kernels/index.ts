/** Every op kernel, by ONNX op type (default domain). */
import type { KernelTable } from './types.js';
import { mathKernels } from './math/index.js';
import { nnKernels } from './nn/index.js';

export const KERNELS: KernelTable = { ...mathKernels, ...nnKernels };

export function kernelFor(op: string, domain = '') {
  if (domain !== '' && domain !== 'ai.onnx') return undefined;
  return Object.prototype.hasOwnProperty.call(KERNELS, op) ? KERNELS[op] : undefined;
}
export type { KernelDef, KernelContext, RT } from './types.js';
