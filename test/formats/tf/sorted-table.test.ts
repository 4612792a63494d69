/**
 * The sorted-table reader (LevelDB-style tables: TF checkpoint `.index` files) and CRC-32C:
 * - CRC-32C against the published iSCSI test vectors (RFC 3720, B.4) and the masking round trip;
 * - tables built by a writer in this test (prefix-compressed keys, restart points, several data
 *   blocks, a snappy-compressed block made with snappyjs) read back entry for entry;
 * - corrupt tables (bad magic, a checksum mismatch, a block past the end, truncation, unknown
 *   compression) give MconvError 'unreadable' naming the file and the byte offset;
 * - the real checkpoint indexes of ../shared/fixtures/real read with the same keys as an
 *   independent table walker in Python (Debian's python3, with its own snappy decoder: TF 2.14
 *   writes snappy-compressed index blocks).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { compress } from 'snappyjs';
import { describe, expect, it } from 'vitest';
import { MconvError } from '../../../src/errors.js';
import { crc32c, crc32cUpdate, maskCrc, unmaskCrc } from '../../../src/io/crc32c.js';
import { SortedTable, readSortedTable, type TableSource } from '../../../src/io/sorted-table.js';
import { PY, SHARED, hasPython } from '../../helpers/cli.js';
import { PY_TABLE } from './checkpoint-oracle.js';

const enc = new TextEncoder();
const dec = new TextDecoder();

function varint(n: number): number[] {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n % 0x80) | 0x80);
    n = Math.floor(n / 0x80);
  }
  out.push(n);
  return out;
}

function u32(n: number): number[] {
  return [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff];
}

/** One block's contents: prefix-compressed entries, a restart every `interval` entries. */
function buildBlock(entries: [Uint8Array, Uint8Array][], interval = 2): Uint8Array {
  const bytes: number[] = [];
  const restarts: number[] = [];
  let prev = new Uint8Array(0);
  entries.forEach(([k, v], i) => {
    let shared = 0;
    if (i % interval === 0) restarts.push(bytes.length);
    else while (shared < prev.length && shared < k.length && prev[shared] === k[shared]) shared++;
    bytes.push(...varint(shared), ...varint(k.length - shared), ...varint(v.length), ...k.subarray(shared), ...v);
    prev = k;
  });
  if (!restarts.length) restarts.push(0);
  for (const r of restarts) bytes.push(...u32(r));
  bytes.push(...u32(restarts.length));
  return new Uint8Array(bytes);
}

/** A table file: data blocks of `perBlock` entries (`snappyBlocks` of them compressed), metaindex, index, footer. */
function buildTable(entries: [string, Uint8Array][], perBlock = 3, snappyBlocks = new Set<number>()): Uint8Array {
  const out: number[] = [];
  const put = (contents: Uint8Array, type: number): [number, number] => {
    const stored = type === 1 ? compress(contents) : contents;
    const offset = out.length;
    out.push(...stored, type);
    const crc = crc32cUpdate(crc32c(stored), new Uint8Array([type]));
    out.push(...u32(maskCrc(crc)));
    return [offset, stored.length];
  };
  const index: [Uint8Array, Uint8Array][] = [];
  for (let b = 0; b * perBlock < entries.length; b++) {
    const chunk = entries.slice(b * perBlock, (b + 1) * perBlock).map(([k, v]) => [enc.encode(k), v] as [Uint8Array, Uint8Array]);
    const [off, size] = put(buildBlock(chunk), snappyBlocks.has(b) ? 1 : 0);
    index.push([chunk[chunk.length - 1]![0], new Uint8Array([...varint(off), ...varint(size)])]);
  }
  const meta = put(buildBlock([]), 0);
  const idx = put(buildBlock(index, 1), 0);
  const footer = [...varint(meta[0]), ...varint(meta[1]), ...varint(idx[0]), ...varint(idx[1])];
  while (footer.length < 40) footer.push(0);
  footer.push(...u32(0x8b80fb57), ...u32(0xdb477524));
  out.push(...footer);
  return new Uint8Array(out);
}

function readVarints(b: Uint8Array): number[] {
  const out: number[] = [];
  let v = 0;
  let mul = 1;
  for (const x of b) {
    v += (x & 0x7f) * mul;
    mul *= 128;
    if (x < 0x80) {
      out.push(v);
      v = 0;
      mul = 1;
    }
  }
  return out;
}

function memTable(bytes: Uint8Array, name = 'test.index'): TableSource {
  return { name, size: bytes.length, readRange: (o, n) => bytes.subarray(o, o + n) };
}

function corruptError(bytes: Uint8Array): MconvError {
  try {
    readSortedTable(memTable(bytes));
  } catch (e) {
    expect(e).toBeInstanceOf(MconvError);
    return e as MconvError;
  }
  throw new Error('expected the table to be refused');
}

describe('crc32c', () => {
  it('matches the iSCSI test vectors of RFC 3720 B.4', () => {
    expect(crc32c(new Uint8Array(32))).toBe(0x8a9136aa);
    expect(crc32c(new Uint8Array(32).fill(0xff))).toBe(0x62a8ab43);
    expect(crc32c(Uint8Array.from({ length: 32 }, (_, i) => i))).toBe(0x46dd794e);
    expect(crc32c(Uint8Array.from({ length: 32 }, (_, i) => 31 - i))).toBe(0x113fdb5c);
    expect(crc32c(enc.encode('123456789'))).toBe(0xe3069283);
  });

  it('extends across chunks like one pass, and masking round-trips', () => {
    const data = Uint8Array.from({ length: 1001 }, (_, i) => (i * 37 + 11) & 0xff);
    for (const cut of [0, 1, 3, 4, 5, 500, 1001]) {
      expect(crc32cUpdate(crc32c(data.subarray(0, cut)), data.subarray(cut))).toBe(crc32c(data));
    }
    for (const c of [0, 1, 0xffffffff, 0x8a9136aa, 0x12345678]) {
      expect(unmaskCrc(maskCrc(c))).toBe(c);
      expect(maskCrc(c)).not.toBe(c);
    }
  });
});

describe('sorted table', () => {
  const entries: [string, Uint8Array][] = [
    ['', enc.encode('header')],
    ['alpha', enc.encode('1')],
    ['alpha/beta', enc.encode('22')],
    ['alpha/beta/gamma', new Uint8Array(300).fill(7)],
    ['alpha/delta', enc.encode('')],
    ['b', enc.encode('x'.repeat(200))],
    ['b/c', Uint8Array.from({ length: 129 }, (_, i) => i)],
    ['zeta', enc.encode('last')],
  ];

  it('reads back every entry, in order, across blocks with shared key prefixes', () => {
    const got = readSortedTable(memTable(buildTable(entries)));
    expect(got.map((e) => dec.decode(e.key))).toEqual(entries.map((e) => e[0]));
    got.forEach((e, i) => expect([...e.value]).toEqual([...entries[i]![1]]));
  });

  it('reads snappy-compressed blocks', () => {
    const bytes = buildTable(entries, 3, new Set([0, 1, 2]));
    // The compressed table is smaller (the repeated values compress).
    expect(bytes.length).toBeLessThan(buildTable(entries).length);
    const got = readSortedTable(memTable(bytes));
    expect(got.map((e) => dec.decode(e.key))).toEqual(entries.map((e) => e[0]));
    expect([...got[3]!.value]).toEqual([...entries[3]![1]]);
  });

  it('reads a table with a single data block and one entry', () => {
    const got = readSortedTable(memTable(buildTable([['only', enc.encode('v')]], 10)));
    expect(got.map((e) => [dec.decode(e.key), dec.decode(e.value)])).toEqual([['only', 'v']]);
  });

  it('refuses a bad magic number, naming file and offset', () => {
    const bytes = buildTable(entries);
    bytes[bytes.length - 1] ^= 0xff;
    const e = corruptError(bytes);
    expect(e.kind).toBe('unreadable');
    expect(e.file).toBe('test.index');
    expect(e.message).toMatch(/bad magic/);
    expect(e.where).toBe(`byte ${bytes.length - 8}`);
  });

  it('refuses a block whose checksum does not match', () => {
    const bytes = buildTable(entries);
    bytes[5] ^= 0x01; // inside the first data block (offset 0)
    const e = corruptError(bytes);
    expect(e.message).toMatch(/checksum mismatch in the data block/);
    expect(e.where).toBe('byte 0');
  });

  it('refuses a truncated file', () => {
    const bytes = buildTable(entries);
    const e = corruptError(bytes.subarray(0, 30));
    expect(e.message).toMatch(/shorter than the 48-byte footer/);
    // Cut in the middle: the footer is gone, so the magic is wrong.
    expect(corruptError(bytes.subarray(0, bytes.length - 20)).message).toMatch(/bad magic/);
  });

  it('refuses a block handle that points past the end of the file', () => {
    const bytes = buildTable(entries);
    const table = new SortedTable(memTable(bytes));
    const e = (() => {
      try {
        table.readBlock({ offset: table.index.offset, size: bytes.length }, 'index');
      } catch (err) {
        return err as MconvError;
      }
      throw new Error('expected a refusal');
    })();
    expect(e.message).toMatch(/runs past the end of the file/);
    expect(e.where).toBe(`byte ${table.index.offset}`);
    // The same through the footer: point the index handle past the end.
    const footerAt = bytes.length - 48;
    const bad = bytes.slice();
    const idxPos = footerAt + varint(table.metaindex.offset).length + varint(table.metaindex.size).length;
    const big = varint(bytes.length * 4);
    bad.set([...varint(table.index.offset), ...big], idxPos);
    expect(corruptError(bad).message).toMatch(/index block .* runs past the end/);
  });

  it('refuses an unknown compression type', () => {
    const bytes = buildTable(entries);
    const table = new SortedTable(memTable(bytes));
    // Rewrite the index block's type byte (and its CRC, so only the type is wrong).
    const at = table.index.offset + table.index.size;
    bytes[at] = 9;
    const crc = crc32c(bytes.subarray(table.index.offset, at + 1));
    bytes.set(u32(maskCrc(crc)), at + 1);
    expect(corruptError(bytes).message).toMatch(/unknown compression type 9/);
  });
});


const REAL = join(SHARED, 'real');
const INDEXES = [
  'tf2onnx-regression/checkpoint/model.index',
  'adlk-vae-cnn-tf-checkpoint-2shards/vae_cnn_mnist.tf.index',
  'mlnet-cifar-frozen-and-ckpt/model.ckpt.index',
  'tfnet-keras-savedmodel-lstm_from_sequential/variables/variables.index',
  'kotlindl-mnist-dense-h5-and-savedmodel/saved_model/variables/variables.index',
  'tfserving-half-plus-two-tf2-savedmodel/00000123/variables/variables.index',
];

describe.skipIf(!existsSync(REAL) || !hasPython())('sorted table: real checkpoint indexes', () => {
  if (!existsSync(REAL)) console.log(`skipped: ${REAL} is absent`);
  for (const rel of INDEXES) {
    it(`${rel}: same keys as an independent walker`, () => {
      const file = join(REAL, rel);
      const bytes = new Uint8Array(readFileSync(file));
      const ours = readSortedTable(memTable(bytes, file)).map((e) => dec.decode(e.key));
      const theirs = execFileSync(PY, ['-c', PY_TABLE, file], { encoding: 'utf8' }).trim().split('\n').map((l) => l.slice(1, -1));
      expect(ours).toEqual(theirs);
      expect(ours[0]).toBe(''); // the bundle header
      expect(ours.length).toBeGreaterThan(1);
    });
  }

  it('TF 2.14 writes snappy-compressed blocks, which read', () => {
    const file = join(REAL, 'tfserving-half-plus-two-tf2-savedmodel/00000123/variables/variables.index');
    const bytes = new Uint8Array(readFileSync(file));
    const table = new SortedTable(memTable(bytes, file));
    const types = table.blockEntries(table.index, 'index').map((e) => {
      const [offset, size] = readVarints(e.value);
      return bytes[offset! + size!];
    });
    expect(types).toContain(1);
    expect(table.entries().map((e) => dec.decode(e.key))).toContain('a/.ATTRIBUTES/VARIABLE_VALUE');
  });
});
