/** Cast/CastLike, losses, quantization, Trilu, windows and signal ops against ONNX test data. */
import { mathKernels } from '../../../../src/runtime/kernels/math/index.js';
import { caseNames, defineCaseSuite } from './onnx-cases.js';

defineCaseSuite('cast kernels', mathKernels, caseNames(/^test_(cast|castlike)_/));
defineCaseSuite('loss kernels', mathKernels, caseNames(/^test_(sce|nllloss)_/));
defineCaseSuite('quantize kernels', mathKernels, caseNames(/^test_(quantizelinear|dequantizelinear|dynamicquantizelinear|qlinearmatmul)/));
defineCaseSuite('trilu kernels', mathKernels, caseNames(/^test_(tril|triu)/));
// onnx 1.12 generated the window outputs with pi = 3.1415 (numpy, float32), while the op and its
// function body use the true pi: elements differ by up to ~9e-5, hence atol 2e-4 here.
defineCaseSuite('window kernels', mathKernels, caseNames(/^test_(hannwindow|hammingwindow|blackmanwindow)/), {
  tol: () => ({ atol: 2e-4, rtol: 1e-4 }),
});
defineCaseSuite('signal kernels', mathKernels, caseNames(/^test_(dft|stft|melweightmatrix)/));
