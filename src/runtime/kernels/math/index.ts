import type { KernelTable } from '../types.js';
export const mathKernels: KernelTable = {};
