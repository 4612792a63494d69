/** Kernels for ONNX sequence values (see values.ts for how a sequence is represented). */
import type { KernelTable } from '../types.js';
import { sequenceOpKernels } from './ops.js';

export const sequenceKernels: KernelTable = { ...sequenceOpKernels };
export { makeSequence, cloneElement, cloneValue } from './values.js';
