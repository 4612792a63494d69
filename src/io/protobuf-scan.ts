/**
 * A small protobuf wire-format scanner that works on a byte range of a file without loading it.
 *
 * A `ProtoCursor` walks the fields of one message between absolute positions `pos` and `end`.
 * Two kinds exist: `MemCursor` over bytes already in memory, and `FileCursor` over a
 * `RangeSource` (positional reads through a small window). Length-delimited fields can be taken
 * as a `ByteRef` (offset + length, read only when needed) so large payloads such as tensor
 * `raw_data` never enter memory during a scan. Every length is checked against the enclosing
 * message, so a truncated or corrupt file raises `ProtoFormatError` (with the byte offset)
 * instead of reading garbage.
 *
 * `splitFields` walks a message and sorts its fields: some are read positionally by the caller
 * (large payloads, embedded messages that hold them), the others are gathered whole (keys
 * included) into `FieldSet`s: valid messages of their own, handed to a schema decoder (such as
 * onnx-proto's) only when needed.
 */

export const WIRE_VARINT = 0;
export const WIRE_I64 = 1;
export const WIRE_LEN = 2;
export const WIRE_SGROUP = 3;
export const WIRE_EGROUP = 4;
export const WIRE_I32 = 5;

/** Malformed or truncated protobuf data, at an absolute byte offset. */
export class ProtoFormatError extends Error {
  readonly offset: number;
  constructor(message: string, offset: number) {
    super(`${message} (at byte ${offset})`);
    this.name = 'ProtoFormatError';
    this.offset = offset;
  }
}

/** Anything that can return a byte range (a file opened for positional reads, or memory). */
export interface RangeSource {
  readonly size: number;
  readRange(offset: number, length: number): Uint8Array;
}

/** Bytes in memory as a RangeSource (views, no copies). */
export function memorySource(bytes: Uint8Array): RangeSource {
  return {
    size: bytes.byteLength,
    readRange: (offset, length) => bytes.subarray(offset, offset + length),
  };
}

/** A length-delimited payload: where it is, and how to get it. */
export interface ByteRef {
  /** Absolute offset in the source (the file). */
  readonly offset: number;
  readonly length: number;
  /** The bytes (a view when they are in memory, a positional read otherwise). */
  read(): Uint8Array;
  /** True when reading costs no I/O. */
  readonly inMemory: boolean;
}

const TWO32 = 4294967296;

export interface ProtoCursor {
  /** Absolute position of the next byte. */
  readonly pos: number;
  /** Absolute end of this message. */
  readonly end: number;
  atEnd(): boolean;
  /** Reads a field key; returns field number and wire type. */
  tag(): { field: number; wire: number };
  /** An unsigned varint as a number (exact up to 2^53). */
  uvarint(): number;
  /** A signed int64 varint as a number (two's complement; exact up to 2^53 in magnitude). */
  int64(): number;
  /** A varint as an unsigned 64-bit bigint. */
  uint64Big(): bigint;
  /** A varint as a signed 64-bit bigint. */
  int64Big(): bigint;
  float(): number;
  double(): number;
  /** A length-delimited field's bytes, in memory (for small fields). */
  bytes(): Uint8Array;
  string(): string;
  /** A length-delimited field as a reference, without reading it (from a file) or as a view. */
  bytesRef(): ByteRef;
  /** A cursor over an embedded message. `keepOnDisk` keeps a file cursor even for small messages. */
  message(keepOnDisk?: boolean): ProtoCursor;
  /** Skips a field of the given wire type. */
  skip(wire: number): void;
  /** A raw slice [pos, pos+length) as bytes. */
  rawRange(offset: number, length: number): Uint8Array;
}

const utf8 = new TextDecoder('utf-8');

abstract class CursorBase implements ProtoCursor {
  abstract readonly pos: number;
  abstract readonly end: number;
  protected abstract byte(): number;
  protected abstract advance(n: number): void;
  protected abstract window(n: number): { buf: Uint8Array; at: number };
  abstract bytesRef(): ByteRef;
  abstract message(keepOnDisk?: boolean): ProtoCursor;
  abstract rawRange(offset: number, length: number): Uint8Array;

  atEnd(): boolean {
    return this.pos >= this.end;
  }

  protected need(n: number, what: string): void {
    if (n < 0 || this.pos + n > this.end) {
      throw new ProtoFormatError(`truncated data: ${what} needs ${n} bytes, ${this.end - this.pos} left`, this.pos);
    }
  }

  /** Reads a varint into low and high 32-bit halves. */
  protected varint64(): [number, number] {
    let lo = 0;
    let hi = 0;
    const start = this.pos;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new ProtoFormatError('truncated varint', start);
      const b = this.byte();
      if (i < 4) lo |= (b & 0x7f) << (7 * i);
      else if (i === 4) {
        lo |= (b & 0x0f) << 28;
        hi |= (b & 0x7f) >> 4;
      } else hi |= (b & 0x7f) << (7 * i - 32);
      if ((b & 0x80) === 0) return [lo >>> 0, hi >>> 0];
    }
    throw new ProtoFormatError('varint longer than 10 bytes', start);
  }

  tag(): { field: number; wire: number } {
    const at = this.pos;
    const [lo, hi] = this.varint64();
    const key = hi * TWO32 + lo;
    const field = Math.floor(key / 8);
    const wire = lo & 7;
    if (field === 0 || field > 536870911) throw new ProtoFormatError(`invalid field number ${field}`, at);
    if (wire > 5) throw new ProtoFormatError(`invalid wire type ${wire}`, at);
    return { field, wire };
  }

  uvarint(): number {
    const [lo, hi] = this.varint64();
    return hi * TWO32 + lo;
  }

  int64(): number {
    const [lo, hi] = this.varint64();
    if (hi & 0x80000000) return Number(BigInt.asIntN(64, (BigInt(hi) << 32n) | BigInt(lo)));
    return hi * TWO32 + lo;
  }

  uint64Big(): bigint {
    const [lo, hi] = this.varint64();
    return (BigInt(hi) << 32n) | BigInt(lo);
  }

  int64Big(): bigint {
    return BigInt.asIntN(64, this.uint64Big());
  }

  float(): number {
    this.need(4, 'float');
    const { buf, at } = this.window(4);
    const v = new DataView(buf.buffer, buf.byteOffset + at, 4).getFloat32(0, true);
    this.advance(4);
    return v;
  }

  double(): number {
    this.need(8, 'double');
    const { buf, at } = this.window(8);
    const v = new DataView(buf.buffer, buf.byteOffset + at, 8).getFloat64(0, true);
    this.advance(8);
    return v;
  }

  /** Reads a length prefix and checks it against what is left. */
  protected length(what: string): number {
    const at = this.pos;
    const n = this.uvarint();
    if (n > this.end - this.pos) {
      throw new ProtoFormatError(`truncated data: ${what} of ${n} bytes, only ${this.end - this.pos} left`, at);
    }
    return n;
  }

  bytes(): Uint8Array {
    return this.bytesRef().read();
  }

  string(): string {
    return utf8.decode(this.bytes());
  }

  skip(wire: number): void {
    switch (wire) {
      case WIRE_VARINT:
        this.varint64();
        return;
      case WIRE_I64:
        this.need(8, 'fixed64');
        this.advance(8);
        return;
      case WIRE_I32:
        this.need(4, 'fixed32');
        this.advance(4);
        return;
      case WIRE_LEN: {
        const n = this.length('field');
        this.advance(n);
        return;
      }
      case WIRE_SGROUP: {
        // Groups are deprecated; skip fields up to the matching end-group.
        for (;;) {
          if (this.atEnd()) throw new ProtoFormatError('unterminated group', this.pos);
          const t = this.tag();
          if (t.wire === WIRE_EGROUP) return;
          this.skip(t.wire);
        }
      }
      default:
        throw new ProtoFormatError(`unexpected wire type ${wire}`, this.pos);
    }
  }
}

/** A cursor over bytes in memory; `base` is the absolute offset of `buf[0]` (for messages). */
export class MemCursor extends CursorBase {
  private p: number;
  private readonly e: number;
  private readonly buf: Uint8Array;
  private readonly base: number;

  constructor(buf: Uint8Array, start = 0, end = buf.byteLength, base = 0) {
    super();
    this.buf = buf;
    this.p = start;
    this.e = end;
    this.base = base;
  }

  get pos(): number {
    return this.base + this.p;
  }
  get end(): number {
    return this.base + this.e;
  }
  protected byte(): number {
    return this.buf[this.p++]!;
  }
  protected advance(n: number): void {
    this.p += n;
  }
  protected window(): { buf: Uint8Array; at: number } {
    return { buf: this.buf, at: this.p };
  }

  bytesRef(): ByteRef {
    const n = this.length('bytes field');
    const view = this.buf.subarray(this.p, this.p + n);
    const offset = this.base + this.p;
    this.p += n;
    return { offset, length: n, inMemory: true, read: () => view };
  }

  message(): ProtoCursor {
    const n = this.length('embedded message');
    const c = new MemCursor(this.buf, this.p, this.p + n, this.base);
    this.p += n;
    return c;
  }

  rawRange(offset: number, length: number): Uint8Array {
    return this.buf.subarray(offset - this.base, offset - this.base + length);
  }
}

/** Embedded messages up to this size are read into memory at once when scanning a file. */
export const IN_MEMORY_MESSAGE_LIMIT = 64 * 1024;
const WINDOW = 64 * 1024;

/** Shared read-ahead window of a file scan. */
class Window {
  buf: Uint8Array = new Uint8Array(0);
  start = 0;
  constructor(readonly src: RangeSource) {}

  /** Makes [pos, pos+n) available; returns the index of pos in `buf`. */
  ensure(pos: number, n: number, limit: number): number {
    if (pos >= this.start && pos + n <= this.start + this.buf.byteLength) return pos - this.start;
    const len = Math.min(Math.max(n, WINDOW), limit - pos);
    this.buf = this.src.readRange(pos, len);
    if (this.buf.byteLength < n) throw new ProtoFormatError('file shorter than expected', pos);
    this.start = pos;
    return 0;
  }
}

/** A cursor over a range of a file read with positional reads through a small window. */
export class FileCursor extends CursorBase {
  private p: number;
  private readonly e: number;
  private readonly win: Window;

  constructor(src: RangeSource | Window, start = 0, end?: number) {
    super();
    this.win = src instanceof Window ? src : new Window(src);
    this.p = start;
    this.e = end ?? this.win.src.size;
    if (this.e > this.win.src.size) throw new ProtoFormatError('message extends past the end of the file', this.win.src.size);
  }

  get pos(): number {
    return this.p;
  }
  get end(): number {
    return this.e;
  }
  protected byte(): number {
    const i = this.win.ensure(this.p, 1, this.e);
    this.p++;
    return this.win.buf[i]!;
  }
  protected advance(n: number): void {
    this.p += n;
  }
  protected window(n: number): { buf: Uint8Array; at: number } {
    return { buf: this.win.buf, at: this.win.ensure(this.p, n, this.e) };
  }

  bytesRef(): ByteRef {
    const n = this.length('bytes field');
    const offset = this.p;
    this.p += n;
    const src = this.win.src;
    return { offset, length: n, inMemory: false, read: () => src.readRange(offset, n) };
  }

  message(keepOnDisk = false): ProtoCursor {
    const n = this.length('embedded message');
    const start = this.p;
    this.p += n;
    if (!keepOnDisk && n <= IN_MEMORY_MESSAGE_LIMIT) {
      const i = this.win.ensure(start, n, this.e);
      return new MemCursor(this.win.buf, i, i + n, this.win.start);
    }
    return new FileCursor(this.win, start, start + n);
  }

  rawRange(offset: number, length: number): Uint8Array {
    return this.win.src.readRange(offset, length);
  }
}

/**
 * Whole fields of one message (keys included), by absolute position: together they form a valid
 * message of their own. Adjacent fields merge into one run, so the usual case (all fields but a
 * few) is one or two ranges; `read()` returns a view when the message is in memory and is one run.
 */
export class FieldSet {
  private readonly runs: { offset: number; length: number }[] = [];
  private total = 0;

  constructor(private readonly cursor: ProtoCursor) {}

  /** Adds the field at [offset, offset + length). */
  add(offset: number, length: number): void {
    const last = this.runs[this.runs.length - 1];
    if (last && last.offset + last.length === offset) last.length += length;
    else this.runs.push({ offset, length });
    this.total += length;
  }

  get byteLength(): number {
    return this.total;
  }
  get isEmpty(): boolean {
    return this.total === 0;
  }
  /** True when reading costs no I/O. */
  get inMemory(): boolean {
    return this.cursor instanceof MemCursor;
  }
  /** Absolute offset of the first field (or of nothing, when empty). */
  get offset(): number {
    return this.runs[0]?.offset ?? this.cursor.pos;
  }

  /** The fields as one message. */
  read(): Uint8Array {
    if (this.runs.length === 1) return this.cursor.rawRange(this.runs[0]!.offset, this.total);
    const out = new Uint8Array(this.total);
    let at = 0;
    for (const r of this.runs) {
      out.set(this.cursor.rawRange(r.offset, r.length), at);
      at += r.length;
    }
    return out;
  }

  /** The absolute offset of byte `i` of `read()`. */
  offsetOf(i: number): number {
    let at = 0;
    for (const r of this.runs) {
      if (i < at + r.length) return r.offset + (i - at);
      at += r.length;
    }
    const last = this.runs[this.runs.length - 1];
    return last ? last.offset + last.length : this.cursor.pos;
  }
}

/**
 * Walks the fields of the message under `c`. For each, `visit` either reads the field itself from
 * `c` and returns undefined, or returns the `FieldSet` the whole field is to go to (unread).
 */
export function splitFields(c: ProtoCursor, visit: (field: number, wire: number) => FieldSet | undefined): void {
  while (!c.atEnd()) {
    const start = c.pos;
    const { field, wire } = c.tag();
    const into = visit(field, wire);
    if (into) {
      c.skip(wire);
      into.add(start, c.pos - start);
    }
  }
}
