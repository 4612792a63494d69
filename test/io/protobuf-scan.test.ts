import { describe, expect, it } from 'vitest';
import { FileCursor, MemCursor, ProtoFormatError, memorySource } from '../../src/io/protobuf-scan.js';
import { ProtoMessage } from '../../src/formats/onnx/proto-writer.js';

describe('protobuf wire scanner', () => {
  const msg = (): Uint8Array => {
    const inner = new ProtoMessage().string(1, 'inner').varint(2, -5);
    return new ProtoMessage()
      .varint(1, 300)
      .varint(2, 2 ** 40 + 3)
      .varint(3, -1)
      .float(4, 1.5)
      .double(5, -2.25)
      .message(6, inner)
      .bytes(7, new Uint8Array(100_000).fill(7))
      .packedVarints(8, [1, 2 ** 35, -3])
      .finish();
  };

  for (const kind of ['memory', 'file'] as const) {
    it(`reads every wire type (${kind} cursor)`, () => {
      const bytes = msg();
      const c = kind === 'memory' ? new MemCursor(bytes) : new FileCursor(memorySource(bytes));
      const seen: Record<number, unknown> = {};
      while (!c.atEnd()) {
        const { field, wire } = c.tag();
        switch (field) {
          case 1: seen[1] = c.uvarint(); break;
          case 2: seen[2] = c.int64(); break;
          case 3: seen[3] = [c.int64Big()]; break;
          case 4: seen[4] = c.float(); break;
          case 5: seen[5] = c.double(); break;
          case 6: {
            const s = c.message();
            const out: unknown[] = [];
            while (!s.atEnd()) {
              const t = s.tag();
              out.push(t.field === 1 ? s.string() : s.int64());
            }
            seen[6] = out;
            break;
          }
          case 7: {
            const r = c.bytesRef();
            seen[7] = [r.length, r.inMemory, r.read()[99_999]];
            break;
          }
          case 8: {
            const s = c.message();
            const out: bigint[] = [];
            while (!s.atEnd()) out.push(s.int64Big());
            seen[8] = out;
            break;
          }
          default: c.skip(wire);
        }
      }
      expect(seen).toEqual({
        1: 300, 2: 2 ** 40 + 3, 3: [-1n], 4: 1.5, 5: -2.25, 6: ['inner', -5],
        7: [100_000, kind === 'memory', 7], 8: [1n, 2n ** 35n, -3n],
      });
    });
  }

  it('detects lengths that run past the message, with the byte offset', () => {
    const bytes = msg();
    for (const cut of [2, 12, 30, 1000, bytes.byteLength - 1]) {
      const c = new FileCursor(memorySource(bytes.subarray(0, cut)));
      expect(() => {
        while (!c.atEnd()) c.skip(c.tag().wire);
      }, `cut ${cut}`).toThrow(ProtoFormatError);
    }
  });

  it('refuses invalid keys and overlong varints', () => {
    expect(() => new MemCursor(Uint8Array.from([0x07])).tag()).toThrow(/invalid field number 0|invalid wire type/);
    expect(() => new MemCursor(Uint8Array.from(new Array(11).fill(0xff))).uvarint()).toThrow(/varint/);
  });
});
