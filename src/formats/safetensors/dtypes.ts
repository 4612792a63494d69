/** safetensors dtype names and the IR dtypes they stand for. */
import type { DType } from '../../ir/tensor.js';

export const SAFETENSORS_TO_DTYPE: Record<string, DType> = {
  BOOL: 'bool', U8: 'uint8', I8: 'int8', I16: 'int16', U16: 'uint16', F16: 'float16', BF16: 'bfloat16',
  I32: 'int32', U32: 'uint32', F32: 'float32', F64: 'float64', I64: 'int64', U64: 'uint64', C64: 'complex64',
};

export const DTYPE_TO_SAFETENSORS: Partial<Record<DType, string>> = Object.fromEntries(
  Object.entries(SAFETENSORS_TO_DTYPE).map(([k, v]) => [v, k]),
);

/** safetensors dtypes the IR has no type for. */
export const UNSUPPORTED_SAFETENSORS = new Set(['F8_E4M3', 'F8_E5M2', 'F8_E8M0', 'F4', 'F6_E2M3', 'F6_E3M2', 'C128']);
