/**
 * ONNX TensorProto <-> IR Tensor.
 *
 * Data may sit in `raw_data` (little-endian bytes: kept as a view or a lazy file range, never
 * copied), in the typed fields (`float_data`, `int32_data` which also carries the bits of
 * int8/int16/uint8/uint16/bool/float16/bfloat16, `int64_data`, `double_data`, `uint64_data`,
 * `string_data`), or in an external file (`data_location` EXTERNAL with `location`, `offset`,
 * `length`), read with `readSiblingRange` only when the bytes are first used.
 */
import { DType, DTYPE_BYTES, Tensor, formatShape, shapeSize } from '../../ir/tensor.js';
import { MconvError, unreadable, unsupported } from '../../errors.js';
import type { ModelSourceFiles } from '../types.js';
import { ByteRef, MemCursor, ProtoFormatError } from '../../io/protobuf-scan.js';
import { NumericParts, TensorP, decodeTensor } from './proto.js';
import { ProtoMessage } from './proto-writer.js';

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

function partsEmpty(parts: NumericParts): boolean {
  return parts.every((p) => (Array.isArray(p) ? p.length === 0 : p.length === 0));
}

/** Concatenates fixed-width packed parts (float_data, double_data) into bytes. */
function fixedWidthBytes(parts: NumericParts, width: number): Uint8Array {
  let total = 0;
  for (const p of parts) total += Array.isArray(p) ? p.length * width : p.length;
  const out = new Uint8Array(total);
  const dv = new DataView(out.buffer);
  let off = 0;
  for (const p of parts) {
    if (Array.isArray(p)) {
      for (const v of p as number[]) {
        if (width === 4) dv.setFloat32(off, v, true);
        else dv.setFloat64(off, v, true);
        off += width;
      }
    } else {
      if (p.length % width !== 0) throw new ProtoFormatError(`packed field of ${p.length} bytes is not a multiple of ${width}`, p.offset);
      out.set(p.read(), off);
      off += p.length;
    }
  }
  return out;
}

/** Decodes varint parts (int32_data, int64_data, uint64_data) as bigints or int32 numbers. */
function varintValues(parts: NumericParts, kind: 'int32' | 'int64' | 'uint64'): (number | bigint)[] {
  const out: (number | bigint)[] = [];
  for (const p of parts) {
    if (Array.isArray(p)) {
      for (const v of p) out.push(v);
    } else {
      const bytes = p.read();
      const c = new MemCursor(bytes, 0, bytes.byteLength, p.offset);
      while (!c.atEnd()) out.push(kind === 'int32' ? c.int32() : kind === 'int64' ? c.int64Big() : c.uint64Big());
    }
  }
  return out;
}

function typedFieldBytes(p: TensorP, dtype: DType, n: number, ctx: TensorContext): Uint8Array {
  const check = (count: number, per = 1): void => {
    if (count !== n * per) {
      throw bad(ctx, p, `tensor holds ${count / per} values but its shape ${formatShape(p.dims)} needs ${n}`);
    }
  };
  switch (dtype) {
    case 'float32':
    case 'complex64': {
      const b = fixedWidthBytes(p.floatData, 4);
      check(b.byteLength / 4, dtype === 'complex64' ? 2 : 1);
      return b;
    }
    case 'float64':
    case 'complex128': {
      const b = fixedWidthBytes(p.doubleData, 8);
      check(b.byteLength / 8, dtype === 'complex128' ? 2 : 1);
      return b;
    }
    case 'int64': {
      const v = varintValues(p.int64Data, 'int64');
      check(v.length);
      const out = new BigInt64Array(n);
      v.forEach((x, i) => (out[i] = BigInt(x)));
      return new Uint8Array(out.buffer);
    }
    case 'uint64':
    case 'uint32': {
      const v = varintValues(p.uint64Data, 'uint64');
      check(v.length);
      if (dtype === 'uint64') {
        const out = new BigUint64Array(n);
        v.forEach((x, i) => (out[i] = BigInt(x)));
        return new Uint8Array(out.buffer);
      }
      const out = new Uint32Array(n);
      v.forEach((x, i) => (out[i] = Number(BigInt.asUintN(32, BigInt(x)))));
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
      const v = varintValues(p.int32Data, 'int32') as number[];
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
  if (p.segment) throw unsupported(ctx.file, 'onnx', 'segmented tensors are not supported', undefined, `tensor ${name ?? '?'}`);
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
    if (p.stringData.length !== n) throw bad(ctx, p, `string tensor holds ${p.stringData.length} values but its shape ${formatShape(shape)} needs ${n}`);
    return Tensor.fromStrings(shape, p.stringData, name);
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

  const fields = [p.floatData, p.int32Data, p.int64Data, p.doubleData, p.uint64Data];
  if (fields.every(partsEmpty)) {
    if (n === 0) return Tensor.fromBytes(dtype, shape, new Uint8Array(0), name);
    throw bad(ctx, p, `tensor ${dtype}${formatShape(shape)} has no data`);
  }
  const onDisk = fields.some((f) => f.some((x) => !Array.isArray(x) && !x.inMemory));
  const decode = (): Uint8Array => {
    try {
      return typedFieldBytes(p, dtype, n, ctx);
    } catch (e) {
      if (e instanceof ProtoFormatError) throw bad(ctx, p, `corrupt tensor data: ${e.message}`);
      throw e;
    }
  };
  if (onDisk) return Tensor.lazy(dtype, shape, decode, name);
  return Tensor.fromBytes(dtype, shape, decode(), name);
}

export interface DecodeTensorOptions extends TensorContext {}

/** Decodes a serialized TensorProto (e.g. an ONNX test-data `input_0.pb`). */
export function decodeTensorProto(bytes: Uint8Array, opts: DecodeTensorOptions = {}): Tensor {
  let p: TensorP;
  try {
    p = decodeTensor(new MemCursor(bytes));
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

/** A TensorProto message; bytes go in `raw_data` (fetched only when the message is written). */
export function tensorMessage(t: Tensor, opts: TensorEncodeOptions = {}): ProtoMessage {
  const m = new ProtoMessage();
  if (t.shape.length) m.packedVarints(1, t.shape);
  m.varint(2, onnxFromDtype(t.dtype));
  const name = opts.name ?? t.name;
  if (name) m.string(8, name);
  if (opts.docString) m.string(12, opts.docString);
  if (t.dtype === 'string') {
    for (const s of t.strings) m.bytes(6, s);
    return m;
  }
  if (opts.external) {
    const e = opts.external;
    const entry = (k: string, v: string): ProtoMessage => new ProtoMessage().string(1, k).string(2, v);
    m.message(13, entry('location', e.location));
    m.message(13, entry('offset', String(e.offset)));
    m.message(13, entry('length', String(e.length)));
    m.varint(14, 1);
    return m;
  }
  if (t.byteLength > 0) m.lazyBytes(9, t.byteLength, () => t.bytes);
  else m.bytes(9, new Uint8Array(0));
  return m;
}

/** Serializes a tensor as a TensorProto. */
export function encodeTensorProto(t: Tensor, opts: TensorEncodeOptions = {}): Uint8Array {
  return tensorMessage(t, opts).finish();
}

