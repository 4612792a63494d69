/** String-processing kernels (computed in JS on string tensors). */
import type { KernelTable } from '../types.js';
import { stringNormalizerKernels } from './string-normalizer.js';
import { tfIdfKernels } from './tfidf-vectorizer.js';

export const textKernels: KernelTable = { ...stringNormalizerKernels, ...tfIdfKernels };
