/**
 * Kernels of the ai.onnx.preview.training domain, keyed `<domain>.<op>`
 * (e.g. `ai.onnx.preview.training.Gradient`).
 */
import type { KernelTable } from '../types.js';
import { gradientKernels } from './gradient.js';
import { optimizerKernels } from './optimizers.js';

export const trainingKernels: KernelTable = { ...gradientKernels, ...optimizerKernels };
export { TRAINING_DOMAIN } from './gradient.js';
