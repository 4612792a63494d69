/** Normalisations and recurrent layers against the ONNX backend test data. */
import { caseNames, defineCaseSuite } from './backend-cases.js';

defineCaseSuite('normalisation kernels', caseNames(/^test_(batchnorm|instancenorm|layer_normalization|lrn|mvn)(_|$)/));
defineCaseSuite('recurrent kernels', caseNames(/^test_(lstm|gru|rnn|simple_rnn)(_|$)/));
