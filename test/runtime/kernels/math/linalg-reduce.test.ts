/** MatMul/Gemm/Einsum/Det, reductions, Arg*, TopK, CumSum and Softmax family against ONNX test data. */
import { mathKernels } from '../../../../src/runtime/kernels/math/index.js';
import { caseNames, defineCaseSuite } from './onnx-cases.js';

defineCaseSuite('matmul kernels', mathKernels, caseNames(/^test_(matmul|gemm|matmulinteger|einsum|det)_?/));
defineCaseSuite('reduce kernels', mathKernels, caseNames(/^test_reduce_/));
defineCaseSuite('arg/topk/cumsum kernels', mathKernels, caseNames(/^test_(argmax|argmin|top_k|cumsum)/));
defineCaseSuite('softmax kernels', mathKernels, caseNames(/^test_(softmax|logsoftmax|hardmax)_/));
