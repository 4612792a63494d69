/** Shape, layout and tensor-making kernels against the ONNX backend test data. */
import { caseNames, defineCaseSuite } from './backend-cases.js';

const RANDOM = 'training-mode dropout draws a random mask; the reference used numpy\'s generator';
defineCaseSuite('shape kernels', caseNames(/^test_(reshape|flatten|transpose|squeeze|unsqueeze|concat|split|slice|expand|tile|pad|constant_pad|edge_pad|reflect_pad|shape|size|identity|depthtospace|spacetodepth|center_crop_pad)(_|$)/), {
  known: {
    test_identity_opt: 'optional values are not runtime tensors',
    test_identity_sequence: 'sequence values are not runtime tensors',
  },
});
defineCaseSuite('dropout kernel', caseNames(/^test_(dropout|training_dropout)(_|$)/), {
  known: {
    test_training_dropout: RANDOM,
    test_training_dropout_default: RANDOM,
    test_training_dropout_default_mask: RANDOM,
    test_training_dropout_mask: RANDOM,
  },
});
defineCaseSuite('constant kernels', caseNames(/^test_(constant|constantofshape|eyelike|range)(_|$)/));
