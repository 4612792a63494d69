/** Resize, Upsample (upgraded to Resize), GridSample and NonMaxSuppression against the ONNX backend test data. */
import { caseNames, defineCaseSuite } from './backend-cases.js';

defineCaseSuite('resize kernels', caseNames(/^test_(resize|upsample|gridsample)(_|$)/), {
  // The GridSample expected outputs are written out with four decimals.
  tol: (name) => (name.startsWith('test_gridsample') ? { atol: 1e-4, rtol: 1e-4 } : { atol: 1e-5, rtol: 1e-4 }),
  known: {
    test_resize_downsample_sizes_nearest_tf_half_pixel_for_nn: 'the opset-11 coordinate mode is refused by the ONNX upgrader',
  },
});
defineCaseSuite('nms kernel', caseNames(/^test_nonmaxsuppression(_|$)/));
