/**
 * Edge cases of the math kernels checked against numpy / torch (Debian python3): integer
 * semantics (truncating Div, Mod signs, wraparound), broadcasting, 1-D MatMul, Einsum forms,
 * empty reductions, ties in ArgMax, TopK and Hardmax, Cast corners, losses with ignore_index.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { attr } from '../../../../src/ir/graph.js';
import type { Tensor } from '../../../../src/ir/tensor.js';
import { mathKernels } from '../../../../src/runtime/kernels/math/index.js';
import { compareTensors, useBackend } from './onnx-cases.js';
import { HAVE_NUMPY, Spec, numpyExpected, rand, runSpec, vals } from './numpy-oracle.js';

const f32 = 'float32' as const;
const i32 = 'int32' as const;
const i64 = 'int64' as const;

const SPECS: Spec[] = [
  // Integer arithmetic.
  { name: 'Div int32 truncates', op: 'Div', inputs: [vals(i32, [6], [-7, 7, -7, 7, 0, -1]), vals(i32, [6], [2, 2, -2, -2, 3, 5])], py: 'np.trunc(x0 / x1)', out: [i32] },
  { name: 'Div int8 broadcast', op: 'Div', inputs: [rand([2, 3], 1, -128, 127, 'int8'), vals('int8', [3], [3, -4, 7])], py: 'np.trunc(x0.astype(np.float64) / x1)', out: ['int8'] },
  { name: 'Mod int32 floor', op: 'Mod', inputs: [vals(i32, [6], [-7, 7, -7, 7, 0, 9]), vals(i32, [6], [3, 3, -3, -3, 5, -4])], py: 'np.mod(x0, x1)', out: [i32] },
  { name: 'Mod int32 fmod', op: 'Mod', attrs: { fmod: attr.int(1) }, inputs: [vals(i32, [6], [-7, 7, -7, 7, 0, 9]), vals(i32, [6], [3, 3, -3, -3, 5, -4])], py: 'np.fmod(x0, x1)', out: [i32] },
  { name: 'Mod float fmod', op: 'Mod', attrs: { fmod: attr.int(1) }, inputs: [rand([3, 4], 2, -10, 10), rand([4], 3, 0.5, 3)], py: 'np.fmod(x0, x1)', out: [f32] },
  { name: 'Add uint8 wraps', op: 'Add', inputs: [vals('uint8', [4], [250, 100, 255, 0]), vals('uint8', [4], [10, 200, 255, 0])], py: 'x0 + x1', out: ['uint8'] },
  { name: 'Sub int8 wraps', op: 'Sub', inputs: [vals('int8', [3], [-100, 100, 0]), vals('int8', [3], [100, -100, -128])], py: 'x0 - x1', out: ['int8'] },
  { name: 'Mul int16 wraps', op: 'Mul', inputs: [vals('int16', [3], [300, -300, 181]), vals('int16', [3], [300, 300, 181])], py: 'x0 * x1', out: ['int16'] },
  { name: 'Neg int8 min', op: 'Neg', inputs: [vals('int8', [3], [-128, 5, 0])], py: '-x0', out: ['int8'] },
  { name: 'Pow negative base', op: 'Pow', inputs: [vals(f32, [4], [-2, -1.5, 3, 0]), vals(f32, [4], [2, 3, 0.5, 0])], py: 'np.power(x0, x1)', out: [f32] },
  { name: 'Pow int base float exponent', op: 'Pow', inputs: [vals(i32, [4], [2, 3, -2, 7]), vals(f32, [4], [10, 0.5, 3, 2])], py: 'np.power(x0.astype(np.float64), x1.astype(np.float64)).astype(np.int32)', out: [i32] },
  { name: 'Round half to even', op: 'Round', inputs: [vals(f32, [8], [0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 2.4999, 1e7 + 0.5])], py: 'np.round(x0)', out: [f32] },
  { name: 'Clip int8 inputs', op: 'Clip', inputs: [rand([10], 4, -128, 127, 'int8'), vals('int8', [], [-20]), vals('int8', [], [30])], py: 'np.clip(x0, x1, x2)', out: ['int8'] },
  { name: 'Clip max only', op: 'Clip', inputs: [rand([3, 3], 5, -2, 2), null, vals(f32, [], [0.25])], py: 'np.minimum(x0, x2)', out: [f32] },
  { name: 'Sum of three broadcast', op: 'Sum', inputs: [rand([2, 1, 3], 6), rand([4, 1], 7), rand([3], 8)], py: 'x0 + x1 + x2', out: [f32] },
  { name: 'Max of three broadcast', op: 'Max', inputs: [rand([2, 1, 3], 9), rand([4, 1], 10), rand([3], 11)], py: 'np.maximum(np.maximum(x0, x1), x2)', out: [f32] },
  { name: 'Mean of two', op: 'Mean', inputs: [rand([2, 3], 12), rand([3], 13)], py: '(x0 + x1) / 2', out: [f32] },
  { name: 'Min int32 one input', op: 'Min', inputs: [rand([5], 14, -9, 9, i32)], py: 'x0', out: [i32] },
  { name: 'PRelu channel slope', op: 'PRelu', inputs: [rand([2, 3, 4, 4], 15), rand([3, 1, 1], 16, 0, 1)], py: 'np.where(x0 < 0, x0 * x1, x0)', out: [f32] },
  { name: 'Where 3-way broadcast int', op: 'Where', inputs: [rand([3, 1], 17, 0, 1, 'bool'), rand([1, 4], 18, -50, 50, i32), rand([3, 4], 19, -50, 50, i32)], py: 'np.where(x0, x1, x2)', out: [i32] },
  { name: 'Where strings', op: 'Where', inputs: [vals('bool', [3], [true, false, true]), vals('string', [3], ['a', 'b', 'c']), vals('string', [1], ['z'])], py: 'np.where(x0, x1, x2)', out: ['string'] },
  { name: 'Equal strings', op: 'Equal', inputs: [vals('string', [2, 2], ['a', 'b', 'c', 'd']), vals('string', [2], ['a', 'd'])], py: 'x0 == x1', out: ['bool'] },
  { name: 'Greater int broadcast', op: 'Greater', inputs: [rand([3, 4], 20, -5, 5, i32), rand([4], 21, -5, 5, i32)], py: 'x0 > x1', out: ['bool'] },
  { name: 'Add zero-size', op: 'Add', inputs: [rand([0, 3], 22), rand([3], 23)], py: 'x0 + x1', out: [f32] },
  { name: 'Add scalars', op: 'Add', inputs: [vals(f32, [], [1.5]), vals(f32, [], [2.25])], py: 'x0 + x1', out: [f32] },
  { name: 'Xor broadcast', op: 'Xor', inputs: [rand([2, 3], 24, 0, 1, 'bool'), rand([3], 25, 0, 1, 'bool')], py: 'np.logical_xor(x0, x1)', out: ['bool'] },
  { name: 'IsInf negative only', op: 'IsInf', attrs: { detect_positive: attr.int(0) }, inputs: [vals(f32, [4], [Infinity, -Infinity, 0, NaN])], py: 'np.isneginf(x0)', out: ['bool'] },
  // MatMul family.
  { name: 'MatMul 1-D x 1-D', op: 'MatMul', inputs: [rand([5], 30), rand([5], 31)], py: 'np.matmul(x0, x1)', out: [f32] },
  { name: 'MatMul 1-D x 3-D', op: 'MatMul', inputs: [rand([4], 32), rand([2, 4, 3], 33)], py: 'np.matmul(x0, x1)', out: [f32] },
  { name: 'MatMul 3-D x 1-D', op: 'MatMul', inputs: [rand([2, 3, 4], 34), rand([4], 35)], py: 'np.matmul(x0, x1)', out: [f32] },
  { name: 'MatMul batch broadcast', op: 'MatMul', inputs: [rand([2, 1, 3, 4], 36), rand([5, 4, 2], 37)], py: 'np.matmul(x0, x1)', out: [f32] },
  { name: 'MatMul int32', op: 'MatMul', inputs: [rand([3, 4], 38, -100, 100, i32), rand([4, 2], 39, -100, 100, i32)], py: 'np.matmul(x0, x1)', out: [i32] },
  { name: 'MatMul empty K', op: 'MatMul', inputs: [rand([2, 0], 40), rand([0, 3], 41)], py: 'np.matmul(x0, x1)', out: [f32] },
  { name: 'Gemm transposes alpha beta', op: 'Gemm', attrs: { transA: attr.int(1), transB: attr.int(1), alpha: attr.float(0.5), beta: attr.float(-2) }, inputs: [rand([4, 3], 42), rand([5, 4], 43), rand([5], 44)], py: '0.5 * (x0.T @ x1.T) - 2 * x2', out: [f32] },
  { name: 'Gemm without C', op: 'Gemm', inputs: [rand([2, 3], 45), rand([3, 4], 46)], py: 'x0 @ x1', out: [f32] },
  { name: 'MatMulInteger row zero point', op: 'MatMulInteger', inputs: [rand([3, 4], 47, 0, 255, 'uint8'), rand([4, 2], 48, 0, 255, 'uint8'), vals('uint8', [3], [1, 128, 255]), vals('uint8', [], [12])], py: '(x0.astype(np.int32) - x2.astype(np.int32)[:, None]) @ (x1.astype(np.int32) - np.int32(x3))', out: [i32] },
  { name: 'Det batch', op: 'Det', inputs: [rand([3, 4, 4], 49)], py: 'np.linalg.det(x0.astype(np.float64))', out: [f32] },
  { name: 'Det singular and 1x1', op: 'Det', inputs: [vals(f32, [2, 2, 2], [1, 2, 2, 4, 0, 1, 1, 0])], py: 'np.linalg.det(x0.astype(np.float64))', out: [f32] },
  // Reductions.
  { name: 'ReduceSum int8 wraps', op: 'ReduceSum', attrs: { keepdims: attr.int(0) }, inputs: [rand([3, 4, 5], 50, -128, 127, 'int8'), vals(i64, [2], [0, 2])], py: 'np.sum(x0.astype(np.int64), axis=(0, 2)).astype(np.int8)', out: ['int8'] },
  { name: 'ReduceSum empty axes = all', op: 'ReduceSum', inputs: [rand([2, 3], 51), vals(i64, [0], [])], py: 'np.sum(x0, keepdims=True)', out: [f32] },
  { name: 'ReduceSum noop', op: 'ReduceSum', attrs: { noop_with_empty_axes: attr.int(1) }, inputs: [rand([2, 3], 52), vals(i64, [0], [])], py: 'x0', out: [f32] },
  { name: 'ReduceProd empty axis', op: 'ReduceProd', attrs: { axes: attr.ints([1]) }, inputs: [rand([2, 0, 3], 53)], py: 'np.prod(x0, axis=1, keepdims=True)', out: [f32] },
  { name: 'ReduceMax empty axis', op: 'ReduceMax', attrs: { axes: attr.ints([0]), keepdims: attr.int(0) }, inputs: [rand([0, 3], 54)], py: 'np.full((3,), -np.inf)', out: [f32] },
  { name: 'ReduceMean int32 truncates', op: 'ReduceMean', attrs: { axes: attr.ints([1]) }, inputs: [rand([3, 4], 55, -50, 50, i32)], py: 'np.trunc(np.mean(x0, axis=1, keepdims=True))', out: [i32] },
  { name: 'ReduceLogSumExp large', op: 'ReduceLogSumExp', attrs: { axes: attr.ints([-1]), keepdims: attr.int(0) }, inputs: [rand([3, 4], 56, 500, 600)], py: 'np.log(np.sum(np.exp(x0.astype(np.float64) - 550), axis=-1)) + 550', out: [f32] },
  { name: 'ReduceL2 of a scalar', op: 'ReduceL2', inputs: [vals(f32, [], [-3])], py: 'np.abs(x0)', out: [f32] },
  { name: 'ReduceMin negative axes', op: 'ReduceMin', attrs: { axes: attr.ints([-1, -3]) }, inputs: [rand([2, 3, 4], 57)], py: 'np.min(x0, axis=(0, 2), keepdims=True)', out: [f32] },
  // Arg, TopK, CumSum.
  { name: 'ArgMax ties first', op: 'ArgMax', attrs: { axis: attr.int(1) }, inputs: [vals(f32, [2, 4], [1, 3, 3, 2, 5, 5, 5, 5])], py: 'np.argmax(x0, axis=1)[:, None]', out: [i64] },
  { name: 'ArgMax ties last', op: 'ArgMax', attrs: { axis: attr.int(1), select_last_index: attr.int(1), keepdims: attr.int(0) }, inputs: [vals(f32, [2, 4], [1, 3, 3, 2, 5, 5, 5, 5])], py: '3 - np.argmax(x0[:, ::-1], axis=1)', out: [i64] },
  { name: 'ArgMin int last axis', op: 'ArgMin', attrs: { axis: attr.int(-1), keepdims: attr.int(0) }, inputs: [rand([3, 5], 60, -3, 3, i32)], py: 'np.argmin(x0, axis=-1)', out: [i64] },
  { name: 'TopK smallest ties axis 0', op: 'TopK', attrs: { axis: attr.int(0), largest: attr.int(0) }, inputs: [rand([6, 3], 61, 0, 3, i32), vals(i64, [1], [4])], py: '(np.take_along_axis(x0, np.argsort(x0, axis=0, kind="stable")[:4], 0), np.argsort(x0, axis=0, kind="stable")[:4])', out: [i32, i64] },
  { name: 'TopK largest ties', op: 'TopK', inputs: [vals(f32, [2, 7], [1, 3, 3, 0, 3, 2, 2, 5, 5, 1, 1, 5, 0, 0]), vals(i64, [1], [3])], py: '(np.take_along_axis(x0, np.argsort(-x0, axis=1, kind="stable")[:, :3], 1), np.argsort(-x0, axis=1, kind="stable")[:, :3])', out: [f32, i64] },
  { name: 'TopK small k, many ties, largest', op: 'TopK', attrs: { axis: attr.int(1) }, inputs: [rand([3, 40], 65, 0, 5, i32), vals(i64, [1], [3])], py: '(np.take_along_axis(x0, np.argsort(-x0, axis=1, kind="stable")[:, :3], 1), np.argsort(-x0, axis=1, kind="stable")[:, :3])', out: [i32, i64] },
  { name: 'TopK small k, many ties, smallest, NaN', op: 'TopK', attrs: { axis: attr.int(0), largest: attr.int(0) }, inputs: [vals(f32, [20, 1], [3, NaN, 1, 1, 2, 0, 0, 5, NaN, 0, 4, 4, 1, 0, 7, 8, 9, 0, 1, 2]), vals(i64, [1], [4])], py: '(np.take_along_axis(x0, np.argsort(x0, axis=0, kind="stable")[:4], 0), np.argsort(x0, axis=0, kind="stable")[:4])', out: [f32, i64] },
  { name: 'CumSum int exclusive reverse', op: 'CumSum', attrs: { exclusive: attr.int(1), reverse: attr.int(1) }, inputs: [rand([3, 4], 63, -9, 9, i32), vals(i64, [], [1])], py: 'np.flip(np.cumsum(np.flip(x0, 1), axis=1) - np.flip(x0, 1), 1)', out: [i32] },
  { name: 'CumSum negative axis', op: 'CumSum', inputs: [rand([2, 3, 4], 64), vals(i32, [], [-3])], py: 'np.cumsum(x0, axis=0)', out: [f32] },
  // Softmax family.
  { name: 'Softmax axis 0', op: 'Softmax', attrs: { axis: attr.int(0) }, inputs: [rand([3, 2, 4], 70, -5, 5)], py: 'np.exp(x0 - x0.max(0)) / np.exp(x0 - x0.max(0)).sum(0)', out: [f32] },
  { name: 'LogSoftmax with -inf', op: 'LogSoftmax', attrs: { axis: attr.int(1) }, inputs: [vals(f32, [2, 3], [1, -Infinity, 2, 0, 0, 0])], py: '(x0 - x0.max(1, keepdims=True)) - np.log(np.exp(x0 - x0.max(1, keepdims=True)).sum(1, keepdims=True))', out: [f32] },
  { name: 'Hardmax ties first, axis 1', op: 'Hardmax', attrs: { axis: attr.int(1) }, inputs: [vals(f32, [2, 3, 2], [1, 5, 3, 5, 3, 0, 2, 2, 2, 2, 1, 2])], py: '(np.arange(3)[None, :, None] == np.argmax(x0, axis=1)[:, None, :]).astype(np.float32)', out: [f32] },
  // Cast.
  { name: 'Cast float to int8 truncates and wraps', op: 'Cast', attrs: { to: attr.int(3) }, inputs: [vals(f32, [6], [300.7, -300.2, 127.9, -128.9, -0.5, 2.5])], py: 'np.trunc(x0).astype(np.int64).astype(np.int8)', out: ['int8'] },
  { name: 'Cast float to bool', op: 'Cast', attrs: { to: attr.int(9) }, inputs: [vals(f32, [5], [NaN, 0, -0, 0.1, -3])], py: 'x0.astype(bool)', out: ['bool'] },
  { name: 'Cast int32 to float16', op: 'Cast', attrs: { to: attr.int(10) }, inputs: [vals(i32, [4], [2049, 65504, 70000, -3])], py: 'x0.astype(np.float16)', out: ['float16'] },
  { name: 'Cast float to float16', op: 'Cast', attrs: { to: attr.int(10) }, inputs: [rand([20], 71, -1000, 1000)], py: 'x0.astype(np.float16)', out: ['float16'], atol: 0, rtol: 0 },
  { name: 'Cast int32 to int16 wraps', op: 'Cast', attrs: { to: attr.int(5) }, inputs: [vals(i32, [3], [40000, -40000, 5])], py: 'x0.astype(np.int16)', out: ['int16'] },
  { name: 'Cast int32 to uint8 wraps', op: 'Cast', attrs: { to: attr.int(2) }, inputs: [vals(i32, [3], [-1, 256, 511])], py: 'x0.astype(np.uint8)', out: ['uint8'] },
  { name: 'Cast float to string', op: 'Cast', attrs: { to: attr.int(8) }, inputs: [vals(f32, [10], [1, 0.0001, 1e-5, 1.5e20, 123456789, -2.5, NaN, Infinity, 0.1, 1e16])], py: 'np.array([str(v) for v in x0])', out: ['string'] },
  { name: 'Cast string to int32', op: 'Cast', attrs: { to: attr.int(6) }, inputs: [vals('string', [3], ['12', '-7', ' 3 '])], py: 'np.array([int(s) for s in x0])', out: [i32] },
  { name: 'Cast bool to float', op: 'Cast', attrs: { to: attr.int(1) }, inputs: [vals('bool', [3], [true, false, true])], py: 'x0.astype(np.float32)', out: [f32] },
  { name: 'CastLike int to bool', op: 'CastLike', inputs: [vals(i32, [4], [0, 2, -1, 0]), vals('bool', [1], [true])], py: 'x0.astype(bool)', out: ['bool'] },
  // Losses (torch as the oracle).
  { name: 'NLL weights ignore_index mean', op: 'NegativeLogLikelihoodLoss', attrs: { ignore_index: attr.int(1) }, inputs: [rand([3, 5, 2], 80, -3, 0), vals(i64, [3, 2], [0, 1, 4, 2, 1, 3]), rand([5], 81, 0.1, 1)], py: 'torch.nn.functional.nll_loss(torch.from_numpy(x0), torch.from_numpy(x1), weight=torch.from_numpy(x2), ignore_index=1).numpy()', out: [f32] },
  { name: 'NLL none', op: 'NegativeLogLikelihoodLoss', attrs: { reduction: attr.string('none') }, inputs: [rand([2, 3], 82, -3, 0), vals(i64, [2], [2, 0])], py: 'torch.nn.functional.nll_loss(torch.from_numpy(x0), torch.from_numpy(x1), reduction="none").numpy()', out: [f32] },
  { name: 'SCE sum with log_prob', op: 'SoftmaxCrossEntropyLoss', attrs: { reduction: attr.string('sum') }, inputs: [rand([2, 4], 83, -3, 3), vals(i64, [2], [3, 0]), rand([4], 84, 0.1, 1)], py: '(torch.nn.functional.cross_entropy(torch.from_numpy(x0), torch.from_numpy(x1), weight=torch.from_numpy(x2), reduction="sum").numpy(), torch.log_softmax(torch.from_numpy(x0), 1).numpy())', out: [f32, f32] },
  { name: 'SCE none 4-D ignore', op: 'SoftmaxCrossEntropyLoss', attrs: { reduction: attr.string('none'), ignore_index: attr.int(-1) }, inputs: [rand([2, 3, 2, 2], 85, -3, 3), vals(i64, [2, 2, 2], [0, 1, -1, 2, 2, -1, 0, 1])], py: 'torch.nn.functional.cross_entropy(torch.from_numpy(x0), torch.from_numpy(x1), ignore_index=-1, reduction="none").numpy()', out: [f32] },
  // Quantization.
  { name: 'QuantizeLinear int8 per axis, ties to even', op: 'QuantizeLinear', attrs: { axis: attr.int(1) }, inputs: [vals(f32, [1, 3, 2], [0.5, 1.5, -2.5, 300, -301, 7]), vals(f32, [3], [1, 1, 2]), vals('int8', [3], [0, 1, -3])], py: 'np.clip(np.round(x0 / x1[None, :, None]) + x2[None, :, None], -128, 127)', out: ['int8'] },
  { name: 'DequantizeLinear per axis 0', op: 'DequantizeLinear', attrs: { axis: attr.int(0) }, inputs: [rand([2, 3], 86, 0, 255, 'uint8'), vals(f32, [2], [0.5, 0.25]), vals('uint8', [2], [128, 3])], py: '(x0.astype(np.float32) - x2[:, None]) * x1[:, None]', out: [f32] },
  { name: 'DynamicQuantizeLinear', op: 'DynamicQuantizeLinear', inputs: [rand([3, 4], 87, -2, 5)], py: '(lambda s, z: (np.clip(np.round(x0 / s) + z, 0, 255), s, z))(np.float32((max(0, x0.max()) - min(0, x0.min())) / 255), np.clip(np.round(np.float32(0) - np.float32(min(0, x0.min())) / np.float32((max(0, x0.max()) - min(0, x0.min())) / 255)), 0, 255))', out: ['uint8', f32, 'uint8'] },
  // Trilu and windows.
  { name: 'Trilu upper k=-1 batched int', op: 'Trilu', inputs: [rand([2, 3, 4], 90, -9, 9, i32), vals(i64, [], [-1])], py: 'np.triu(x0, -1)', out: [i32] },
  { name: 'Trilu lower k=2', op: 'Trilu', attrs: { upper: attr.int(0) }, inputs: [rand([4, 3], 91), vals(i64, [], [2])], py: 'np.tril(x0, 2)', out: [f32] },
  { name: 'HannWindow symmetric float64', op: 'HannWindow', attrs: { periodic: attr.int(0), output_datatype: attr.int(11) }, inputs: [vals(i64, [], [7])], py: 'np.hanning(7)', out: ['float64'] },
  { name: 'BlackmanWindow periodic', op: 'BlackmanWindow', inputs: [vals(i32, [], [8])], py: 'np.blackman(9)[:-1]', out: [f32] },
  // Signal ops (numpy.fft as the oracle).
  { name: 'DFT real padded onesided', op: 'DFT', attrs: { onesided: attr.int(1) }, inputs: [rand([2, 6, 1], 92), vals(i64, [], [8])], py: '(lambda f: np.stack([f.real, f.imag], -1))(np.fft.rfft(x0[..., 0].astype(np.float64), n=8, axis=1))', out: [f32] },
  { name: 'DFT complex inverse axis 2', op: 'DFT', attrs: { axis: attr.int(2), inverse: attr.int(1) }, inputs: [rand([1, 5, 3, 2], 93)], py: '(lambda f: np.stack([f.real, f.imag], -1))(np.fft.ifft(x0[..., 0] + 1j * x0[..., 1], axis=2))', out: [f32] },
  { name: 'DFT truncated length 4 (radix 2)', op: 'DFT', inputs: [rand([1, 6, 2, 1], 94), vals(i64, [], [4])], py: '(lambda f: np.stack([f.real, f.imag], -1))(np.fft.fft(x0[..., 0].astype(np.float64), n=4, axis=1))', out: [f32] },
  { name: 'DFT long non-power-of-two (Bluestein)', op: 'DFT', attrs: { onesided: attr.int(1) }, inputs: [rand([2, 400, 1], 97, -1, 1)], py: '(lambda f: np.stack([f.real, f.imag], -1))(np.fft.rfft(x0[..., 0].astype(np.float64), axis=1))', out: [f32] },
  { name: 'DFT long inverse complex', op: 'DFT', attrs: { inverse: attr.int(1) }, inputs: [rand([1, 97, 2], 98, -1, 1)], py: '(lambda f: np.stack([f.real, f.imag], -1))(np.fft.ifft(x0[..., 0] + 1j * x0[..., 1], axis=1))', out: [f32] },
  { name: 'DFT power of two 64', op: 'DFT', inputs: [rand([1, 64, 2], 99, -1, 1)], py: '(lambda f: np.stack([f.real, f.imag], -1))(np.fft.fft(x0[..., 0] + 1j * x0[..., 1], axis=1))', out: [f32] },
  { name: 'STFT windowed', op: 'STFT', inputs: [rand([1, 30, 1], 95), vals(i64, [], [3]), rand([8], 96, 0, 1), null], py: '(lambda f: np.stack([f.real, f.imag], -1))(np.stack([np.fft.rfft(x0[0, i * 3:i * 3 + 8, 0].astype(np.float64) * x2) for i in range(8)])[None])', out: [f32] },
  // Einsum.
  ...einsumSpecs(),
];

function einsumSpecs(): Spec[] {
  const cases: [string, number[][]][] = [
    ['ij,jk->ik', [[3, 4], [4, 5]]],
    ['bij,bjk->bik', [[2, 3, 4], [2, 4, 5]]],
    ['...ij,...jk->...ik', [[2, 1, 3, 4], [5, 4, 2]]],
    ['ii->i', [[4, 4]]],
    ['ii', [[4, 4]]],
    ['ij->', [[3, 4]]],
    ['i,j->ij', [[3], [4]]],
    ['ij,ij->ij', [[3, 4], [3, 4]]],
    ['abc,cd,de->abe', [[2, 3, 4], [4, 5], [5, 2]]],
    ['ijk->kji', [[2, 3, 4]]],
    ['ij,jk', [[3, 4], [4, 2]]],
    ['bn,anm,bm->ba', [[2, 3], [4, 3, 5], [2, 5]]],
    ['...ii->...i', [[2, 3, 3]]],
    ['Ab,bC->AC', [[2, 3], [3, 4]]],
    ['i,i', [[5], [5]]],
    ['bhid,bhjd->bhij', [[2, 2, 3, 4], [2, 2, 5, 4]]],
    ['ijj->ji', [[2, 3, 3]]],
  ];
  return cases.map(([eq, shapes], k) => ({
    name: `Einsum ${eq}`,
    op: 'Einsum',
    attrs: { equation: attr.string(eq) },
    inputs: shapes.map((s, i) => rand(s, 100 + 10 * k + i)),
    py: `np.einsum(${JSON.stringify(eq)}, ${shapes.map((_, i) => `x${i}`).join(', ')})`,
    out: [f32],
  }));
}

describe.skipIf(!HAVE_NUMPY)('math kernel edge cases (numpy/torch oracle)', () => {
  let expected: Tensor[][] = [];
  beforeAll(() => {
    expected = numpyExpected(SPECS);
  });
  for (const backend of ['wasm', 'cpu']) {
    it.each(SPECS.map((s, i) => [s.name, i] as const))(`%s on ${backend}`, async (_name, i) => {
      await useBackend(backend);
      const s = SPECS[i]!;
      const outs = await runSpec(mathKernels, s, backend);
      const problems = expected[i]!.map((e, k) => {
        const p = compareTensors(outs[k]!, e, s.atol ?? 1e-5, s.rtol ?? 1e-4);
        return p ? `output ${k}: ${p}` : undefined;
      }).filter(Boolean);
      expect(problems).toEqual([]);
    });
  }
});
