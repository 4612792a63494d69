/** Unary, activation, binary and logical kernels against the ONNX backend test data. */
import { mathKernels } from '../../../../src/runtime/kernels/math/index.js';
import { caseNames, defineCaseSuite } from './onnx-cases.js';

const UNARY = /^test_(abs|acos|acosh|asin|asinh|atan|atanh|ceil|cos|cosh|erf|exp|floor|isinf|isnan|log|neg|not|reciprocal|round|sigmoid|sign|sin|sinh|softplus|softsign|sqrt|tan|tanh)(_|$)/;
const ACT = /^test_(relu|leakyrelu|elu|selu|celu|hardsigmoid|hardswish|thresholdedrelu|shrink|mish|prelu|clip)(_|$)/;
const BINARY = /^test_(add|sub|mul|div|pow|mod|max|min|mean|sum|bitshift)(_|$)/;
const LOGICAL = /^test_(and|or|xor|equal|greater|greater_equal|less|less_equal|where)(\d|_|$)/;

defineCaseSuite('unary kernels', mathKernels, caseNames(UNARY));
defineCaseSuite('activation kernels', mathKernels, caseNames(ACT));
defineCaseSuite('binary kernels', mathKernels, caseNames(BINARY));
defineCaseSuite('logical kernels', mathKernels, caseNames(LOGICAL));
