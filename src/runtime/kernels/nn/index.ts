/**
 * Neural-network, tensor-manipulation and control-flow kernels, keyed by ONNX op type.
 */
import type { KernelTable } from '../types.js';
import { constantKernels } from './constant.js';
import { controlKernels } from './control.js';
import { convKernels } from './conv.js';
import { indexingKernels } from './indexing.js';
import { nmsKernels } from './nms.js';
import { normKernels } from './norm.js';
import { poolKernels } from './pool.js';
import { resizeKernels } from './resize.js';
import { rnnKernels } from './rnn.js';
import { shapeKernels } from './shape.js';

export const nnKernels: KernelTable = {
  ...convKernels,
  ...poolKernels,
  ...normKernels,
  ...rnnKernels,
  ...shapeKernels,
  ...indexingKernels,
  ...constantKernels,
  ...resizeKernels,
  ...nmsKernels,
  ...controlKernels,
};
