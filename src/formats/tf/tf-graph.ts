/**
 * TensorFlow graphs as plain data, independent of where they came from: a GraphDef protobuf
 * (`.pb`, SavedModel, `.meta`) decoded with our own `.proto` files, or a TensorFlow.js
 * graph-model `model.json` (the same GraphDef written as JSON). The importer
 * (`import-graph.ts`) turns a TfGraph into an IR Graph in ONNX semantics; op converters
 * (`ops/*.ts`) handle one TF op each.
 */
import type { DType, Tensor } from '../../ir/tensor.js';

/** TF `DataType` enum values (types.proto), by number. `_REF` variants are value + 100. */
export type TfDataType = number;

/** A TensorShapeProto: sizes with -1 for unknown; `null` for unknown rank. */
export type TfShape = number[] | null;

/** One AttrValue, decoded. Exactly the fields the proto/JSON had set. */
export interface TfAttr {
  s?: Uint8Array;
  i?: number;
  f?: number;
  b?: boolean;
  /** A DataType enum value. */
  type?: TfDataType;
  shape?: TfShape;
  /** A TensorProto, already decoded into an IR tensor (lazy where possible). */
  tensor?: Tensor;
  list?: {
    s?: Uint8Array[];
    i?: number[];
    f?: number[];
    b?: boolean[];
    type?: TfDataType[];
    shape?: TfShape[];
    tensor?: Tensor[];
    func?: TfNameAttrList[];
  };
  func?: TfNameAttrList;
  /** A placeholder inside a function body (`$T`). */
  placeholder?: string;
}

export interface TfNameAttrList {
  name: string;
  attr: Record<string, TfAttr>;
}

export interface TfNode {
  name: string;
  op: string;
  /**
   * Inputs as written: `node`, `node:1`, control inputs `^node`; inside function bodies
   * `node:out_arg:idx` or an argument name.
   */
  inputs: string[];
  device?: string;
  attr: Record<string, TfAttr>;
}

export interface TfArgDef {
  name: string;
  /** The fixed type, when not given by `typeAttr`. */
  type?: TfDataType;
  typeAttr?: string;
  numberAttr?: string;
  typeListAttr?: string;
}

export interface TfFunction {
  name: string;
  inputs: TfArgDef[];
  outputs: TfArgDef[];
  /** Output arg name -> `node:out_arg:idx` (or an input arg name). */
  ret: Record<string, string>;
  nodes: TfNode[];
  attr: Record<string, TfAttr>;
}

export interface TfGraph {
  nodes: TfNode[];
  functions: TfFunction[];
  /** GraphDef `versions.producer`, when present. */
  producer?: number;
}

/** Maps TF DataType numbers to IR dtypes (undefined for types the IR has no counterpart for). */
export const TF_DTYPES: Record<number, DType | undefined> = {
  1: 'float32', // DT_FLOAT
  2: 'float64', // DT_DOUBLE
  3: 'int32', // DT_INT32
  4: 'uint8', // DT_UINT8
  5: 'int16', // DT_INT16
  6: 'int8', // DT_INT8
  7: 'string', // DT_STRING
  8: 'complex64', // DT_COMPLEX64
  9: 'int64', // DT_INT64
  10: 'bool', // DT_BOOL
  14: 'bfloat16', // DT_BFLOAT16
  17: 'uint16', // DT_UINT16
  18: 'complex128', // DT_COMPLEX128
  19: 'float16', // DT_HALF
  22: 'uint32', // DT_UINT32
  23: 'uint64', // DT_UINT64
};

/** The names TF gives its DataType values (for messages and tfjs JSON, which spells them out). */
export const TF_DTYPE_NAMES: Record<number, string> = {
  1: 'DT_FLOAT', 2: 'DT_DOUBLE', 3: 'DT_INT32', 4: 'DT_UINT8', 5: 'DT_INT16', 6: 'DT_INT8',
  7: 'DT_STRING', 8: 'DT_COMPLEX64', 9: 'DT_INT64', 10: 'DT_BOOL', 11: 'DT_QINT8', 12: 'DT_QUINT8',
  13: 'DT_QINT32', 14: 'DT_BFLOAT16', 15: 'DT_QINT16', 16: 'DT_QUINT16', 17: 'DT_UINT16',
  18: 'DT_COMPLEX128', 19: 'DT_HALF', 20: 'DT_RESOURCE', 21: 'DT_VARIANT', 22: 'DT_UINT32', 23: 'DT_UINT64',
};

/** The IR dtype for a TF DataType (ref types map like their value type), or undefined. */
export function irDType(t: TfDataType | undefined): DType | undefined {
  if (t === undefined) return undefined;
  return TF_DTYPES[t >= 100 ? t - 100 : t];
}
