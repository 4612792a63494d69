/** Conv, ConvTranspose, ConvInteger, QLinearConv and the pools against the ONNX backend test data. */
import { caseNames, defineCaseSuite } from './backend-cases.js';

defineCaseSuite('conv kernels', caseNames(/^test_(conv|basic_conv|convtranspose|convinteger|basic_convinteger|qlinearconv)(_|$)/));
defineCaseSuite('pool kernels', caseNames(/^test_(averagepool|maxpool|maxunpool|globalaveragepool|globalmaxpool|lppool|globallppool|roialign|maxroipool)(_|$)/), {
  // The RoiAlign expected outputs are written out with four decimals.
  tol: (name) => (name.startsWith('test_roialign') ? { atol: 1e-4, rtol: 1e-4 } : { atol: 1e-5, rtol: 1e-4 }),
});
