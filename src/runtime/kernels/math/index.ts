/** The math kernels (elementwise, matmul, reductions, casts, losses, quantization...), by ONNX op type. */
import type { KernelTable } from '../types.js';
import { activationKernels } from './activation.js';
import { argKernels } from './arg.js';
import { castKernels } from './cast.js';
import { cumsumKernels } from './cumsum.js';
import { binaryKernels } from './elementwise-binary.js';
import { unaryKernels } from './elementwise-unary.js';
import { logicalKernels } from './logical.js';
import { lossKernels } from './loss.js';
import { matmulKernels } from './matmul.js';
import { quantizeKernels } from './quantize.js';
import { reduceKernels } from './reduce.js';
import { signalKernels } from './signal.js';
import { softmaxKernels } from './softmax.js';
import { topkKernels } from './topk.js';
import { triluKernels } from './trilu.js';
import { windowKernels } from './window.js';

export const mathKernels: KernelTable = {
  ...unaryKernels,
  ...activationKernels,
  ...binaryKernels,
  ...logicalKernels,
  ...matmulKernels,
  ...reduceKernels,
  ...softmaxKernels,
  ...argKernels,
  ...topkKernels,
  ...cumsumKernels,
  ...castKernels,
  ...lossKernels,
  ...quantizeKernels,
  ...triluKernels,
  ...windowKernels,
  ...signalKernels,
};
