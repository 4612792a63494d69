/**
 * A reader for LevelDB-style sorted string tables (the `.index` files of TensorFlow checkpoints,
 * TensorFlow's own copy of LevelDB's table format).
 *
 * Layout: data blocks, a metaindex block, an index block, then a 48-byte footer holding the
 * BlockHandles (varint offset + varint size) of the metaindex and index blocks, zero padding, and
 * the 8-byte magic 0xdb4775248b80fb57 (little-endian) at the very end. Each block is followed by a
 * 5-byte trailer: the compression type (0 none, 1 snappy) and the masked CRC-32C of the block's
 * bytes plus that type byte. Inside a block, entries share key prefixes with the previous entry
 * (shared length, unshared length, value length as varints, then the unshared key bytes and the
 * value); the block ends with restart offsets (uint32 each) and their count (uint32). The index
 * block maps a key at or after the last key of each data block to that block's handle.
 *
 * Everything is bounds-checked: a corrupt table raises an MconvError ('unreadable') naming the
 * file, the byte offset and what is wrong.
 */
import { uncompress as snappyUncompress } from 'snappyjs';
import { MconvError } from '../errors.js';
import { crc32c, unmaskCrc } from './crc32c.js';

/** Where a table's bytes come from. */
export interface TableSource {
  /** File name for messages. */
  name: string;
  size: number;
  readRange(offset: number, length: number): Uint8Array;
  /** Format id for messages (e.g. 'tf-checkpoint'). */
  format?: string;
}

export interface BlockHandle {
  offset: number;
  size: number;
}

export interface TableEntry {
  key: Uint8Array;
  value: Uint8Array;
}

export const TABLE_MAGIC_LO = 0x8b80fb57;
export const TABLE_MAGIC_HI = 0xdb477524;
export const FOOTER_LENGTH = 48;
export const BLOCK_TRAILER_LENGTH = 5;
export const COMPRESSION_NONE = 0;
export const COMPRESSION_SNAPPY = 1;

function corrupt(src: TableSource, offset: number, what: string): MconvError {
  return new MconvError({
    kind: 'unreadable',
    file: src.name,
    format: src.format,
    message: `corrupt table: ${what}`,
    where: `byte ${offset}`,
    hint: 'the file is truncated or damaged; copy it again from where it was written',
  });
}

/** A varint (up to 2^53) at `pos` of `b`, not past `end`; undefined when truncated or too long. */
function readVarint(b: Uint8Array, pos: number, end: number): [value: number, next: number] | undefined {
  let v = 0;
  let mul = 1;
  for (let i = 0; i < 10 && pos < end; i++) {
    const x = b[pos++]!;
    v += (x & 0x7f) * mul;
    if ((x & 0x80) === 0) return v <= Number.MAX_SAFE_INTEGER ? [v, pos] : undefined;
    mul *= 128;
  }
  return undefined;
}

function u32le(b: Uint8Array, pos: number): number {
  return (b[pos]! | (b[pos + 1]! << 8) | (b[pos + 2]! << 16) | (b[pos + 3]! << 24)) >>> 0;
}

export class SortedTable {
  readonly metaindex: BlockHandle;
  readonly index: BlockHandle;

  constructor(readonly src: TableSource) {
    if (src.size < FOOTER_LENGTH) {
      throw corrupt(src, 0, `the file is ${src.size} bytes, shorter than the ${FOOTER_LENGTH}-byte footer (truncated?)`);
    }
    const footerAt = src.size - FOOTER_LENGTH;
    const footer = src.readRange(footerAt, FOOTER_LENGTH);
    if (footer.length < FOOTER_LENGTH) throw corrupt(src, footerAt, 'cannot read the footer');
    if (u32le(footer, 40) !== TABLE_MAGIC_LO || u32le(footer, 44) !== TABLE_MAGIC_HI) {
      throw corrupt(src, src.size - 8, 'bad magic number in the footer (not a table file, or truncated)');
    }
    let pos = 0;
    const handle = (what: string): BlockHandle => {
      const o = readVarint(footer, pos, 40);
      const s = o && readVarint(footer, o[1], 40);
      if (!o || !s) throw corrupt(src, footerAt + pos, `unreadable ${what} block handle in the footer`);
      pos = s[1];
      return { offset: o[0], size: s[0] };
    };
    this.metaindex = handle('metaindex');
    this.index = handle('index');
  }

  /** The contents of a block (trailer checked: CRC, compression), uncompressed. */
  readBlock(h: BlockHandle, what = 'data'): Uint8Array {
    const { src } = this;
    const end = h.offset + h.size + BLOCK_TRAILER_LENGTH;
    if (end > src.size) {
      throw corrupt(src, h.offset, `the ${what} block (${h.size} bytes at ${h.offset}) runs past the end of the file (${src.size} bytes)`);
    }
    const raw = src.readRange(h.offset, h.size + BLOCK_TRAILER_LENGTH);
    if (raw.length !== h.size + BLOCK_TRAILER_LENGTH) throw corrupt(src, h.offset, `short read of the ${what} block`);
    const type = raw[h.size]!;
    const stored = unmaskCrc(u32le(raw, h.size + 1));
    const actual = crc32c(raw.subarray(0, h.size + 1));
    if (stored !== actual) {
      throw corrupt(src, h.offset, `checksum mismatch in the ${what} block (stored crc32c ${hex(stored)}, computed ${hex(actual)})`);
    }
    const contents = raw.subarray(0, h.size);
    if (type === COMPRESSION_NONE) return contents;
    if (type === COMPRESSION_SNAPPY) {
      try {
        return snappyUncompress(contents);
      } catch (e) {
        throw corrupt(src, h.offset, `the snappy-compressed ${what} block does not decompress (${(e as Error).message})`);
      }
    }
    throw corrupt(src, h.offset + h.size, `unknown compression type ${type} of the ${what} block`);
  }

  /** The entries of one block, in order. */
  blockEntries(h: BlockHandle, what = 'data'): TableEntry[] {
    const b = this.readBlock(h, what);
    const src = this.src;
    if (b.length < 4) throw corrupt(src, h.offset, `the ${what} block is ${b.length} bytes, too short for its restart count`);
    const restarts = u32le(b, b.length - 4);
    const restartsAt = b.length - 4 - 4 * restarts;
    if (restarts < 1 || restartsAt < 0) throw corrupt(src, h.offset, `the ${what} block has a bad restart count (${restarts})`);
    const out: TableEntry[] = [];
    let prev = new Uint8Array(0);
    let pos = 0;
    while (pos < restartsAt) {
      const at = pos;
      const shared = readVarint(b, pos, restartsAt);
      const unshared = shared && readVarint(b, shared[1], restartsAt);
      const vlen = unshared && readVarint(b, unshared[1], restartsAt);
      if (!shared || !unshared || !vlen) throw corrupt(src, h.offset, `truncated entry header at offset ${at} of the ${what} block`);
      pos = vlen[1];
      if (shared[0] > prev.length) {
        throw corrupt(src, h.offset, `entry at offset ${at} of the ${what} block shares ${shared[0]} key bytes but the previous key has ${prev.length}`);
      }
      if (pos + unshared[0] + vlen[0] > restartsAt) {
        throw corrupt(src, h.offset, `entry at offset ${at} of the ${what} block runs past the block's end`);
      }
      const key = new Uint8Array(shared[0] + unshared[0]);
      key.set(prev.subarray(0, shared[0]));
      key.set(b.subarray(pos, pos + unshared[0]), shared[0]);
      pos += unshared[0];
      const value = b.subarray(pos, pos + vlen[0]);
      pos += vlen[0];
      out.push({ key, value });
      prev = key;
    }
    return out;
  }

  /** The handle a BlockHandle-valued entry holds. */
  private decodeHandle(v: Uint8Array, where: number): BlockHandle {
    const o = readVarint(v, 0, v.length);
    const s = o && readVarint(v, o[1], v.length);
    if (!o || !s) throw corrupt(this.src, where, 'an index entry holds no valid block handle');
    return { offset: o[0], size: s[0] };
  }

  /** Every entry of the table, in key order. */
  entries(): TableEntry[] {
    const out: TableEntry[] = [];
    for (const ie of this.blockEntries(this.index, 'index')) {
      for (const e of this.blockEntries(this.decodeHandle(ie.value, this.index.offset))) out.push(e);
    }
    return out;
  }
}

function hex(n: number): string {
  return '0x' + n.toString(16).padStart(8, '0');
}

/** Reads every entry of a table. */
export function readSortedTable(src: TableSource): TableEntry[] {
  return new SortedTable(src).entries();
}
