/** The ONNX format: reading (with opset upgrade to the canonical opset) and writing. */
import type { FormatHandler } from '../types.js';
import { readOnnxModel } from './reader.js';
import { upgradeModel } from './upgrade.js';
import { writeOnnx } from './writer.js';
import { looksLikeOnnx } from './sniff.js';

export const onnxHandler: FormatHandler = {
  id: 'onnx',
  title: 'ONNX',
  extensions: ['.onnx'],
  sniff: (head) => looksLikeOnnx(head),
  async read(source) {
    return upgradeModel(readOnnxModel(source));
  },
  async write(model, outPath, options) {
    return writeOnnx(model, outPath, options);
  },
};

export { readOnnxModel, scanOnnxModel, decodeOnnxBytes, modelFromProto } from './reader.js';
export { decodeTensorProto, encodeTensorProto, tensorFromProto, ONNX_TO_DTYPE, DTYPE_TO_ONNX } from './tensor-proto.js';
export { looksLikeOnnx } from './sniff.js';
export { upgradeModel } from './upgrade.js';
export { writeOnnx, onnxIrVersion } from './writer.js';
