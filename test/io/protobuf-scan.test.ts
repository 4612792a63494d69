import { describe, expect, it } from 'vitest';
import { FieldSet, FileCursor, MemCursor, ProtoFormatError, memorySource, splitFields } from '../../src/io/protobuf-scan.js';
import protobuf from 'protobufjs';

describe('protobuf wire scanner', () => {
  // built with protobufjs's writer: key = field * 8 + wire type
  const msg = (): Uint8Array =>
    protobuf.Writer.create()
      .uint32(1 * 8 + 0).uint64(300)
      .uint32(2 * 8 + 0).int64(2 ** 40 + 3)
      .uint32(3 * 8 + 0).int64(-1)
      .uint32(4 * 8 + 5).float(1.5)
      .uint32(5 * 8 + 1).double(-2.25)
      .uint32(6 * 8 + 2).fork().uint32(1 * 8 + 2).string('inner').uint32(2 * 8 + 0).int64(-5).ldelim()
      .uint32(7 * 8 + 2).bytes(new Uint8Array(100_000).fill(7))
      .uint32(8 * 8 + 2).fork().int64(1).int64(2 ** 35).int64(-3).ldelim()
      .finish();

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

  for (const kind of ['memory', 'file'] as const) {
    it(`splits a message into field sets that protobufjs decodes as messages of their own (${kind} cursor)`, () => {
      // fields 1, 2, 3, 2, 4 (varint, string, bytes, string, varint)
      const bytes = protobuf.Writer.create()
        .uint32(1 * 8 + 0).uint64(5)
        .uint32(2 * 8 + 2).string('ab')
        .uint32(3 * 8 + 2).bytes(new Uint8Array(70_000).fill(3))
        .uint32(2 * 8 + 2).string('cd')
        .uint32(4 * 8 + 0).uint64(2 ** 33)
        .finish();
      const c = kind === 'memory' ? new MemCursor(bytes) : new FileCursor(memorySource(bytes));
      const rest = new FieldSet(c);
      let payload: { offset: number; length: number } | undefined;
      splitFields(c, (field) => {
        if (field !== 3) return rest;
        payload = c.bytesRef();
        return undefined;
      });
      expect(payload?.length).toBe(70_000);
      expect(rest.inMemory).toBe(kind === 'memory');
      // two runs: [1, 2] before the payload and [2, 4] after it
      const got = rest.read();
      expect(rest.byteLength).toBe(bytes.byteLength - 70_000 - 4);
      const r = protobuf.Reader.create(got);
      const seen: unknown[] = [];
      while (r.pos < r.len) {
        const key = r.uint32();
        seen.push(key >>> 3, key & 7 ? r.string() : Number(r.uint64()));
      }
      expect(seen).toEqual([1, 5, 2, 'ab', 2, 'cd', 4, 2 ** 33]);
      // positions in the gathered bytes map back to the message
      expect(rest.offset).toBe(0);
      expect(rest.offsetOf(2)).toBe(2);
      const secondRun = got.indexOf(2 * 8 + 2, 4);
      expect(rest.offsetOf(secondRun)).toBe(payload!.offset + 70_000);
    });
  }
});
