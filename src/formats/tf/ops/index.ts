/** Registers every TF op converter (each file calls registerTfOp for its ops). */
import './math.js';
import './reduce.js';
import './activation.js';
import './misc.js';
import './nn.js';
import './array.js';
import './tensor-list.js';
import './tensor-array.js';
import './space-batch.js';
import './creation.js';
import './scatter.js';
import './sorted-search.js';
import './cumulative.js';
import './reverse.js';
import './detection.js';
import './fake-quant.js';
