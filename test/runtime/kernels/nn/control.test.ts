/** If, Loop and Scan (through the Session's runSubgraph) against the ONNX backend test data. */
import { caseNames, defineCaseSuite } from './backend-cases.js';

defineCaseSuite('control-flow kernels', caseNames(/^test_(if|loop\d*|scan\d*)(_|$)/), {
  known: {
    test_if_opt: 'optional values are not runtime tensors',
    test_if_seq: 'sequence values are not runtime tensors',
    test_loop13_seq: 'sequence values are not runtime tensors',
    test_loop16_seq_none: 'sequence values are not runtime tensors',
    test_scan_sum: 'Scan-8 (batched, with sequence_lens) has no opset-17 form',
  },
});
