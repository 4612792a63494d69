/**
 * Every op kernel. Default-domain ops are keyed by op type; ops of other domains by
 * `<domain>.<op>` (e.g. `ai.onnx.preview.training.Gradient`).
 */
import type { KernelDef, KernelTable } from './types.js';
import { mathKernels } from './math/index.js';
import { nnKernels } from './nn/index.js';
import { sequenceKernels } from './sequence/index.js';
import { textKernels } from './text/index.js';
import { trainingKernels } from './training/index.js';

export const KERNELS: KernelTable = { ...mathKernels, ...nnKernels, ...sequenceKernels, ...textKernels };

/** Kernels of non-default domains, keyed `<domain>.<op>`. */
export const DOMAIN_KERNELS: KernelTable = { ...trainingKernels };

export function kernelFor(op: string, domain = ''): KernelDef | undefined {
  const table = domain === '' || domain === 'ai.onnx' ? KERNELS : DOMAIN_KERNELS;
  const key = table === KERNELS ? op : `${domain}.${op}`;
  return Object.prototype.hasOwnProperty.call(table, key) ? table[key] : undefined;
}
export type { KernelDef, KernelContext, RT } from './types.js';
