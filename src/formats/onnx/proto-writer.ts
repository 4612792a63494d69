/**
 * Assembling a protobuf message whose big payloads are written late.
 *
 * A `FramedMessage` is a sequence of parts: fields already encoded (by onnx-proto), embedded
 * messages (framed: key and length, then the nested parts), and bytes fields whose length is known
 * now but whose content is fetched only while the output is filled, one at a time. Protobuf lets a
 * message's fields come in any order and as concatenated pieces, so a TensorProto is its header
 * fields encoded by onnx-proto followed by a `raw_data` field framed here. Every size is known
 * before anything is written, so the whole file is filled into one buffer of its exact size and
 * no weight is held twice.
 */

const WIRE_LEN = 2;

interface LazyBytes {
  length: number;
  get: () => Uint8Array;
}

type Part = Uint8Array | FramedMessage | LazyBytes;

/** Appends a varint (a field key or a length, up to 2^53) to `out`. */
function varint(out: number[], v: number): void {
  while (v >= 0x80) {
    out.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  out.push(v);
}

/** The key and length prefix of a length-delimited field. */
function lengthPrefix(field: number, length: number): Uint8Array {
  const out: number[] = [];
  varint(out, field * 8 + WIRE_LEN);
  varint(out, length);
  return Uint8Array.from(out);
}

export class FramedMessage {
  private readonly parts: Part[] = [];
  private total = 0;

  /** Encoded length so far. */
  get length(): number {
    return this.total;
  }

  /** Fields already encoded (e.g. `onnx.NodeProto.encode({...}).finish()`). */
  fields(encoded: Uint8Array): this {
    if (encoded.byteLength) {
      this.parts.push(encoded);
      this.total += encoded.byteLength;
    }
    return this;
  }

  /** An embedded message: complete bytes, or a framed message that must not change afterwards. */
  message(field: number, m: FramedMessage | Uint8Array): this {
    const length = m instanceof FramedMessage ? m.length : m.byteLength;
    this.fields(lengthPrefix(field, length));
    this.parts.push(m);
    this.total += length;
    return this;
  }

  /** A bytes field whose content is fetched only when the message is written. */
  lazyBytes(field: number, length: number, get: () => Uint8Array): this {
    this.fields(lengthPrefix(field, length));
    this.parts.push({ length, get });
    this.total += length;
    return this;
  }

  /** Writes the message into `buf` at `off`; returns the end offset. */
  writeTo(buf: Uint8Array, off: number): number {
    for (const p of this.parts) {
      if (p instanceof Uint8Array) {
        buf.set(p, off);
        off += p.byteLength;
      } else if (p instanceof FramedMessage) {
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
    const buf = new Uint8Array(this.total);
    const end = this.writeTo(buf, 0);
    if (end !== buf.byteLength) throw new Error(`encoded ${end} bytes, expected ${buf.byteLength}`);
    return buf;
  }
}
