/** Gather/scatter, OneHot, NonZero, Compress, Unique and ReverseSequence against the ONNX backend test data. */
import { caseNames, defineCaseSuite } from './backend-cases.js';

defineCaseSuite('indexing kernels', caseNames(/^test_(gather|gather_elements|gathernd|scatter|scatter_elements|scatternd|onehot|nonzero|compress|unique|reversesequence)(_|$)/));
