/**
 * A protobuf message builder that knows every size before it writes, so a whole ModelProto is
 * written into one buffer of the exact final size. Large payloads (tensor bytes) are added as
 * lazy parts: their length is known up front and their bytes are fetched one at a time while the
 * output buffer is filled, never all together.
 */

const WIRE_VARINT = 0;
const WIRE_I64 = 1;
const WIRE_LEN = 2;
const WIRE_I32 = 5;

const INT64_MAX = 9223372036854775807n;
const INT64_MIN = -9223372036854775808n;

interface LazyPart {
  length: number;
  get: () => Uint8Array;
}

type Part = Uint8Array | ProtoMessage | LazyPart;

const utf8 = new TextEncoder();

function varintBytes(out: number[], v: number | bigint): void {
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new Error(`cannot encode ${v} as an integer`);
    v = Math.trunc(v);
    if (v >= 0 && v <= Number.MAX_SAFE_INTEGER) {
      while (v >= 0x80) {
        out.push((v % 0x80) | 0x80);
        v = Math.floor(v / 0x80);
      }
      out.push(v);
      return;
    }
    // Outside the safe range: go through bigint, clamped to int64 (so 2^63 from a double reads back as INT64_MAX).
    let b = BigInt(v);
    if (b > INT64_MAX) b = INT64_MAX;
    if (b < INT64_MIN) b = INT64_MIN;
    v = b;
  }
  let u = BigInt.asUintN(64, v);
  while (u >= 0x80n) {
    out.push(Number(u & 0x7fn) | 0x80);
    u >>= 7n;
  }
  out.push(Number(u));
}

export function varintLength(v: number): number {
  let n = 1;
  while (v >= 0x80) {
    v = Math.floor(v / 0x80);
    n++;
  }
  return n;
}

export class ProtoMessage {
  private readonly parts: Part[] = [];
  private scratch: number[] = [];
  private flushedLength = 0;

  /** Total encoded length so far. */
  get length(): number {
    return this.flushedLength + this.scratch.length;
  }

  private flush(): void {
    if (this.scratch.length) {
      const b = Uint8Array.from(this.scratch);
      this.parts.push(b);
      this.flushedLength += b.byteLength;
      this.scratch = [];
    }
  }

  private key(field: number, wire: number): void {
    varintBytes(this.scratch, field * 8 + wire);
  }

  /** An int32/int64/uint64/enum/bool field (negative numbers as 10-byte two's complement). */
  varint(field: number, v: number | bigint | boolean): this {
    this.key(field, WIRE_VARINT);
    varintBytes(this.scratch, typeof v === 'boolean' ? (v ? 1 : 0) : v);
    return this;
  }

  float(field: number, v: number): this {
    this.key(field, WIRE_I32);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, v, true);
    for (const x of b) this.scratch.push(x);
    return this;
  }

  double(field: number, v: number): this {
    this.key(field, WIRE_I64);
    const b = new Uint8Array(8);
    new DataView(b.buffer).setFloat64(0, v, true);
    for (const x of b) this.scratch.push(x);
    return this;
  }

  bytes(field: number, b: Uint8Array): this {
    this.key(field, WIRE_LEN);
    varintBytes(this.scratch, b.byteLength);
    if (b.byteLength <= 64) {
      for (const x of b) this.scratch.push(x);
    } else {
      this.flush();
      this.parts.push(b);
      this.flushedLength += b.byteLength;
    }
    return this;
  }

  string(field: number, s: string): this {
    return this.bytes(field, utf8.encode(s));
  }

  /** A bytes field whose content is fetched only when the message is written. */
  lazyBytes(field: number, length: number, get: () => Uint8Array): this {
    this.key(field, WIRE_LEN);
    varintBytes(this.scratch, length);
    this.flush();
    this.parts.push({ length, get });
    this.flushedLength += length;
    return this;
  }

  /** An embedded message (complete: it must not change afterwards). */
  message(field: number, m: ProtoMessage): this {
    this.key(field, WIRE_LEN);
    varintBytes(this.scratch, m.length);
    this.flush();
    m.flush();
    this.parts.push(m);
    this.flushedLength += m.length;
    return this;
  }

  packedVarints(field: number, values: readonly (number | bigint)[]): this {
    if (!values.length) return this;
    const body: number[] = [];
    for (const v of values) varintBytes(body, v);
    this.key(field, WIRE_LEN);
    varintBytes(this.scratch, body.length);
    for (const x of body) this.scratch.push(x);
    return this;
  }

  packedFloats(field: number, values: readonly number[]): this {
    if (!values.length) return this;
    const b = new Uint8Array(values.length * 4);
    const dv = new DataView(b.buffer);
    values.forEach((v, i) => dv.setFloat32(i * 4, v, true));
    return this.bytes(field, b);
  }

  /** Writes the message into `buf` at `off`; returns the end offset. */
  writeTo(buf: Uint8Array, off: number): number {
    this.flush();
    for (const p of this.parts) {
      if (p instanceof Uint8Array) {
        buf.set(p, off);
        off += p.byteLength;
      } else if (p instanceof ProtoMessage) {
        off = p.writeTo(buf, off);
      } else {
        const b = p.get();
        if (b.byteLength !== p.length) throw new Error(`payload changed size: ${b.byteLength} bytes, expected ${p.length}`);
        buf.set(b, off);
        off += p.length;
      }
    }
    return off;
  }

  finish(): Uint8Array {
    this.flush();
    const buf = new Uint8Array(this.length);
    const end = this.writeTo(buf, 0);
    if (end !== buf.byteLength) throw new Error(`encoded ${end} bytes, expected ${buf.byteLength}`);
    return buf;
  }
}
