/**
 * ONNX TensorProto <-> IR Tensor.
 *
 * Data may sit in `raw_data` (little-endian bytes: kept as a view or a lazy file range, never
 * copied), in the typed fields (`float_data`, `int32_data` which also carries the bits of
 * int8/int16/uint8/uint16/bool/float16/bfloat16, `int64_data`, `double_data`, `uint64_data`,
 * `string_data`: decoded by onnx-proto, from the file only when the bytes are first used; 64-bit
 * values stay exact), or in an external file (`data_location` EXTERNAL with `location`, `offset`,
 * `length`), read with `readSiblingRange` only when the bytes are first used.
 */
import { DType, DTYPE_BYTES, Tensor, formatShape, shapeSize } from '../../ir/tensor.js';
import { MconvError, unreadable, unsupported } from '../../errors.js';
import type { ModelSourceFiles } from '../types.js';
import { ByteRef, MemCursor, ProtoFormatError } from '../../io/protobuf-scan.js';
import { TensorP, scanTensor } from './proto.js';
import { FramedMessage } from './proto-writer.js';
import { OnnxSchema, decodeFields, int64Big, onnx } from './schema.js';

/** TensorProto.DataType -> IR dtype. */
export const ONNX_TO_DTYPE: Record<number, DType> = {
  1: 'float32',
  2: 'uint8',
  3: 'int8',
  4: 'uint16',
  5: 'int16',
  6: 'int32',
  7: 'int64',
  8: 'string',
  9: 'bool',
  10: 'float16',
  11: 'float64',
  12: 'uint32',
  13: 'uint64',
  14: 'complex64',
  15: 'complex128',
  16: 'bfloat16',
};

export const DTYPE_TO_ONNX: Record<DType, number> = Object.fromEntries(
  Object.entries(ONNX_TO_DTYPE).map(([k, v]) => [v, Number(k)]),
) as Record<DType, number>;

/** Names of the TensorProto.DataType values the IR has no dtype for. */
const UNSUPPORTED_TYPE_NAMES: Record<number, string> = {
  0: 'UNDEFINED',
  17: 'FLOAT8E4M3FN',
  18: 'FLOAT8E4M3FNUZ',
  19: 'FLOAT8E5M2',
  20: 'FLOAT8E5M2FNUZ',
  21: 'UINT4',
  22: 'INT4',
  23: 'FLOAT4E2M1',
};

/** The IR dtype of an ONNX elem_type, or an 'unsupported' error naming `what`. */
export function dtypeFromOnnx(code: number, what: string, file?: string): DType {
  const d = ONNX_TO_DTYPE[code];
  if (d) return d;
  const name = UNSUPPORTED_TYPE_NAMES[code] ?? `data type ${code}`;
  throw unsupported(file, 'onnx', `${what} has element type ${name}, which mconv does not support`,
    'supported types: float16/32/64, bfloat16, (u)int8/16/32/64, bool, string, complex64/128');
}

export function onnxFromDtype(d: DType): number {
  return DTYPE_TO_ONNX[d];
}

export interface TensorContext {
  /** The model's files, for external data. */
  source?: ModelSourceFiles;
  /** File name for error messages. */
  file?: string;
  /** Name to use when the proto has none (attribute tensors). */
  name?: string;
}

function bad(ctx: TensorContext, p: TensorP, message: string, hint?: string): MconvError {
  return unreadable(ctx.file ?? ctx.source?.path, 'onnx', message, hint, `tensor ${p.name || ctx.name || '?'} at byte ${p.offset}`);
}

// ---- typed fields ---------------------------------------------------------------------------

type DecodedTensor = OnnxSchema.TensorProto;

/** The values of the typed data fields (decoded by onnx-proto) as little-endian bytes. */
function typedFieldBytes(d: DecodedTensor, p: TensorP, dtype: DType, n: number, ctx: TensorContext): Uint8Array {
  const check = (count: number, per = 1): void => {
    if (count !== n * per) {
      throw bad(ctx, p, `tensor holds ${count / per} values but its shape ${formatShape(p.dims)} needs ${n}`);
    }
  };
  switch (dtype) {
    case 'float32':
    case 'complex64':
      check(d.floatData.length, dtype === 'complex64' ? 2 : 1);
      return new Uint8Array(Float32Array.from(d.floatData).buffer);
    case 'float64':
    case 'complex128':
      check(d.doubleData.length, dtype === 'complex128' ? 2 : 1);
      return new Uint8Array(Float64Array.from(d.doubleData).buffer);
    case 'int64': {
      check(d.int64Data.length);
      const out = new BigInt64Array(n);
      d.int64Data.forEach((x, i) => (out[i] = int64Big(x)));
      return new Uint8Array(out.buffer);
    }
    case 'uint64': {
      check(d.uint64Data.length);
      const out = new BigUint64Array(n);
      d.uint64Data.forEach((x, i) => (out[i] = int64Big(x, true)));
      return new Uint8Array(out.buffer);
    }
    case 'uint32': {
      check(d.uint64Data.length);
      const out = new Uint32Array(n);
      d.uint64Data.forEach((x, i) => (out[i] = Number(BigInt.asUintN(32, int64Big(x, true)))));
      return new Uint8Array(out.buffer);
    }
    case 'int32':
    case 'int16':
    case 'int8':
    case 'uint16':
    case 'uint8':
    case 'bool':
    case 'float16':
    case 'bfloat16': {
      const v = d.int32Data;
      check(v.length);
      const bytes = new Uint8Array(n * DTYPE_BYTES[dtype]);
      const buf = bytes.buffer;
      const target =
        dtype === 'int32' ? new Int32Array(buf)
        : dtype === 'int16' ? new Int16Array(buf)
        : dtype === 'int8' ? new Int8Array(buf)
        : dtype === 'uint8' ? new Uint8Array(buf)
        : dtype === 'bool' ? new Uint8Array(buf)
        : new Uint16Array(buf);
      if (dtype === 'bool') v.forEach((x, i) => (target[i] = x ? 1 : 0));
      else v.forEach((x, i) => (target[i] = x));
      return bytes;
    }
    default:
      throw bad(ctx, p, `no typed field carries ${dtype}`);
  }
}

/** Decodes the typed data fields with onnx-proto; a decoding failure names the tensor. */
function decodeData(p: TensorP, ctx: TensorContext): DecodedTensor {
  try {
    return decodeFields('TensorProto data', p.data, (b) => onnx.TensorProto.decode(b));
  } catch (e) {
    if (e instanceof ProtoFormatError) throw bad(ctx, p, `corrupt tensor data: ${e.message}`);
    throw e;
  }
}

// ---- external data --------------------------------------------------------------------------

interface ExternalInfo {
  location: string;
  offset: number;
  length?: number;
}

function externalInfo(p: TensorP, ctx: TensorContext): ExternalInfo {
  const kv = new Map(p.externalData.map((e) => [e.key, e.value]));
  const location = kv.get('location');
  if (!location) throw bad(ctx, p, 'external data without a location');
  const parts = location.split(/[\\/]/);
  if (location.startsWith('/') || /^[A-Za-z]:/.test(location) || parts.includes('..')) {
    throw bad(ctx, p, `external data location ${JSON.stringify(location)} points outside the model's folder`,
      'external data files must sit in the model folder or below it');
  }
  const num = (key: string): number | undefined => {
    const s = kv.get(key);
    if (s === undefined) return undefined;
    const v = Number(s);
    if (!Number.isSafeInteger(v) || v < 0) throw bad(ctx, p, `external data ${key} ${JSON.stringify(s)} is not a byte count`);
    return v;
  };
  return { location, offset: num('offset') ?? 0, length: num('length') };
}

// ---- TensorProto -> Tensor ------------------------------------------------------------------

/** Builds an IR tensor from a decoded TensorProto. Data not yet in memory stays lazy. */
export function tensorFromProto(p: TensorP, ctx: TensorContext = {}): Tensor {
  const name = p.name || ctx.name;
  const dtype = ONNX_TO_DTYPE[p.dataType];
  if (!dtype) {
    const tname = UNSUPPORTED_TYPE_NAMES[p.dataType] ?? `data type ${p.dataType}`;
    throw unsupported(ctx.file ?? ctx.source?.path, 'onnx', `tensor ${name ?? ''} has element type ${tname}, which mconv does not support`,
      undefined, `tensor ${name ?? '?'}`);
  }
  for (const d of p.dims) {
    if (!Number.isSafeInteger(d) || d < 0) throw bad(ctx, p, `invalid dimension ${d} in ${formatShape(p.dims)}`);
  }
  if (p.segmented) throw unsupported(ctx.file, 'onnx', 'segmented tensors are not supported', undefined, `tensor ${name ?? '?'}`);
  const shape = p.dims.slice();
  const n = shapeSize(shape);

  if (p.dataLocation === 1) {
    if (dtype === 'string') throw bad(ctx, p, 'string tensors cannot use external data');
    const ext = externalInfo(p, ctx);
    const expected = n * DTYPE_BYTES[dtype];
    if (ext.length !== undefined && ext.length !== expected) {
      throw bad(ctx, p, `external data length ${ext.length} does not match ${dtype}${formatShape(shape)} (${expected} bytes)`);
    }
    const src = ctx.source;
    if (!src) throw bad(ctx, p, `external data in ${ext.location} needs the model's folder`, 'load the model from its file');
    if (!src.siblingExists(ext.location)) {
      throw unreadable(src.path, 'onnx', `external data file ${ext.location} not found beside the model`,
        `copy ${ext.location} next to the model file`, `tensor ${name ?? '?'}`);
    }
    return Tensor.lazy(dtype, shape, () => {
      const b = src.readSiblingRange(ext.location, ext.offset, expected);
      if (b.byteLength !== expected) {
        throw unreadable(src.path, 'onnx', `external data file ${ext.location} is too short: tensor needs ${expected} bytes at offset ${ext.offset}`,
          undefined, `tensor ${name ?? '?'}`);
      }
      return b;
    }, name);
  }

  if (dtype === 'string') {
    const strings = p.data.isEmpty ? [] : decodeData(p, ctx).stringData;
    if (strings.length !== n) throw bad(ctx, p, `string tensor holds ${strings.length} values but its shape ${formatShape(shape)} needs ${n}`);
    return Tensor.fromStrings(shape, strings, name);
  }

  const expected = n * DTYPE_BYTES[dtype];
  if (p.raw) {
    const raw: ByteRef = p.raw;
    if (raw.length !== expected) {
      throw bad(ctx, p, `raw_data holds ${raw.length} bytes but ${dtype}${formatShape(shape)} needs ${expected}`);
    }
    if (raw.inMemory) return Tensor.fromBytes(dtype, shape, raw.read(), name);
    return Tensor.lazy(dtype, shape, () => raw.read(), name);
  }

  if (p.data.isEmpty) {
    if (n === 0) return Tensor.fromBytes(dtype, shape, new Uint8Array(0), name);
    throw bad(ctx, p, `tensor ${dtype}${formatShape(shape)} has no data`);
  }
  const decode = (): Uint8Array => typedFieldBytes(decodeData(p, ctx), p, dtype, n, ctx);
  if (!p.data.inMemory) return Tensor.lazy(dtype, shape, decode, name);
  return Tensor.fromBytes(dtype, shape, decode(), name);
}

export interface DecodeTensorOptions extends TensorContext {}

/** Decodes a serialized TensorProto (e.g. an ONNX test-data `input_0.pb`). */
export function decodeTensorProto(bytes: Uint8Array, opts: DecodeTensorOptions = {}): Tensor {
  let p: TensorP;
  try {
    p = scanTensor(new MemCursor(bytes));
  } catch (e) {
    if (e instanceof ProtoFormatError) {
      throw unreadable(opts.file, 'onnx', `not a valid TensorProto: ${e.message}`, undefined, undefined);
    }
    throw e;
  }
  return tensorFromProto(p, opts);
}

// ---- Tensor -> TensorProto ------------------------------------------------------------------

export interface TensorEncodeOptions {
  /** Name written in the proto (defaults to the tensor's name). */
  name?: string;
  /** Write the bytes to an external file instead: its location, offset and length. */
  external?: { location: string; offset: number; length: number };
  docString?: string;
}

const RAW_DATA_FIELD = 9;

/**
 * A TensorProto: the header fields (dims, data_type, name, doc_string, string_data or the
 * external data entries) encoded by onnx-proto, then the bytes as `raw_data`, read from the
 * tensor only when the message is written (`readBytes`: a lazy tensor is not kept in memory).
 */
export function tensorMessage(t: Tensor, opts: TensorEncodeOptions = {}): FramedMessage {
  const header: OnnxSchema.ITensorProto = {
    dims: t.shape,
    dataType: onnxFromDtype(t.dtype),
    name: (opts.name ?? t.name) || undefined,
    docString: opts.docString || undefined,
  };
  if (t.dtype === 'string') header.stringData = t.strings;
  else if (opts.external) {
    const e = opts.external;
    header.externalData = [
      { key: 'location', value: e.location },
      { key: 'offset', value: String(e.offset) },
      { key: 'length', value: String(e.length) },
    ];
    header.dataLocation = onnx.TensorProto.DataLocation.EXTERNAL;
  }
  const m = new FramedMessage().fields(onnx.TensorProto.encode(header).finish());
  if (t.dtype !== 'string' && !opts.external) m.lazyBytes(RAW_DATA_FIELD, t.byteLength, () => t.readBytes());
  return m;
}


/** Serializes a tensor as a TensorProto. */
export function encodeTensorProto(t: Tensor, opts: TensorEncodeOptions = {}): Uint8Array {
  return tensorMessage(t, opts).finish();
}
