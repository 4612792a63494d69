/**
 * The ONNX protobuf schema as onnx-proto compiles it (protobufjs static code), and what sits
 * around it: 64-bit integers (protobufjs gives `Long` objects when the `long` package is present,
 * plain numbers otherwise) and decoding errors reported at positions in the file.
 */
import onnxProto from 'onnx-proto';
import type { onnx as OnnxSchema } from 'onnx-proto';
import { FieldSet, ProtoFormatError } from '../../io/protobuf-scan.js';

export type { OnnxSchema };
export const onnx = onnxProto.onnx;

/** An int64/uint64 field value as protobufjs returns it. */
export type Int64Value = number | { low: number; high: number };

/** An int64 (or, with `unsigned`, uint64) field value as an exact bigint. */
export function int64Big(v: Int64Value | null | undefined, unsigned = false): bigint {
  if (v == null) return 0n;
  // Without `long`, protobufjs has already turned the value into a number.
  if (typeof v === 'number') return BigInt(v);
  const bits = (BigInt(v.high >>> 0) << 32n) | BigInt(v.low >>> 0);
  return unsigned ? bits : BigInt.asIntN(64, bits);
}

/** An int64 field value as a number (exact up to 2^53, correctly rounded beyond). */
export function int64Num(v: Int64Value | null | undefined): number {
  if (v == null) return 0;
  return typeof v === 'number' ? v : Number(int64Big(v));
}

const INT64_MAX = 9223372036854775807n;
const INT64_MIN = -9223372036854775808n;

/**
 * A value for an int64 field of a message to encode. Safe integers go as they are; beyond 2^53
 * the value is clamped to int64 and given as `{ low, high }` bits (what protobufjs writes from a
 * Long), so 2^63 from a double is written as INT64_MAX instead of wrapping round.
 */
export function int64Field(v: number | bigint): number {
  let b: bigint;
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new Error(`cannot encode ${v} as an integer`);
    const t = Math.trunc(v);
    if (Number.isSafeInteger(t)) return t;
    b = BigInt(t);
  } else {
    b = v;
  }
  if (b > INT64_MAX) b = INT64_MAX;
  if (b < INT64_MIN) b = INT64_MIN;
  const u = BigInt.asUintN(64, b);
  const bits = { low: Number(u & 0xffffffffn) | 0, high: Number(u >> 32n) | 0 };
  return bits as unknown as number;
}

/** True when a decoded message has the field (proto2 presence: set by the decoder). */
export function has(message: object, field: string): boolean {
  return Object.prototype.hasOwnProperty.call(message, field);
}

/**
 * Decodes the fields of `fields` with an onnx-proto decoder. A decoder exception becomes a
 * `ProtoFormatError` at the absolute file offset where decoding stopped.
 */
export function decodeFields<T>(what: string, fields: FieldSet, decode: (bytes: Uint8Array) => T): T {
  const bytes = fields.read();
  try {
    return decode(bytes);
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    const m = /index out of range: (\d+)|at offset (\d+)/.exec(message);
    const at = m ? Number(m[1] ?? m[2]) : 0;
    throw new ProtoFormatError(`invalid ${what}: ${message}`, fields.offsetOf(Math.min(at, bytes.byteLength)));
  }
}
