import type { KernelTable } from '../types.js';
export const nnKernels: KernelTable = {};
