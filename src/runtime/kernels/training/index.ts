/**
 * Kernels of the ai.onnx.preview.training domain, keyed `<domain>.<op>`
 * (e.g. `ai.onnx.preview.training.Gradient`).
 */
import type { KernelTable } from '../types.js';
import { gradientKernels } from './gradient.js';

export const trainingKernels: KernelTable = { ...gradientKernels };
export { TRAINING_DOMAIN } from './gradient.js';
