/**
 * A zip reader over positional reads: only the central directory is read up front; an entry's bytes
 * are read when asked. Stored (uncompressed) entries are read in place: `readRange` of an entry is a
 * positional read at the entry's data offset (a view, for sources in memory), never a copy of the
 * archive. Deflated entries are inflated with fflate on demand. Zip64 archives are supported.
 */
import { inflateSync } from 'fflate';
import { MconvError } from '../errors.js';

/** The part of a ModelSourceFiles a zip reader needs. */
export interface RangeSource {
  size: number;
  readRange(offset: number, length: number): Uint8Array;
}

export interface ZipEntry {
  name: string;
  /** 0 stored, 8 deflated. */
  method: number;
  compressedSize: number;
  size: number;
  crc32: number;
  localHeaderOffset: number;
  flags: number;
}

const SIG_EOCD = 0x06054b50;
const SIG_EOCD64 = 0x06064b50;
const SIG_EOCD64_LOCATOR = 0x07064b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_LOCAL = 0x04034b50;
/** Largest central directory mconv reads (a torch archive of 100k tensors needs ~10 MB). */
const MAX_CENTRAL_DIRECTORY = 256 << 20;
/** Deflate cannot expand more than ~1032:1; claims beyond this are corrupt (or a zip bomb). */
const MAX_DEFLATE_RATIO = 1100;

const utf8 = new TextDecoder('utf-8');

function le16(b: Uint8Array, o: number): number {
  return b[o]! | (b[o + 1]! << 8);
}
function le32(b: Uint8Array, o: number): number {
  return (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16)) + b[o + 3]! * 0x1000000;
}
function le64(b: Uint8Array, o: number): number {
  return le32(b, o) + le32(b, o + 4) * 0x100000000;
}

/** True when the bytes start like a zip archive (a local file header or an empty archive). */
export function looksLikeZip(head: Uint8Array): boolean {
  return head.length >= 4 && head[0] === 0x50 && head[1] === 0x4b &&
    ((head[2] === 3 && head[3] === 4) || (head[2] === 5 && head[3] === 6));
}

/** The name of the first entry, read from its local header (for sniffing from a file's head). */
export function firstEntryName(head: Uint8Array): string | undefined {
  if (head.length < 30 || le32(head, 0) !== SIG_LOCAL) return undefined;
  const n = le16(head, 26);
  if (30 + n > head.length) return undefined;
  return utf8.decode(head.subarray(30, 30 + n));
}

export class ZipArchive {
  /** Entries by name, in central-directory order. */
  readonly entries = new Map<string, ZipEntry>();
  private readonly dataOffsets = new Map<string, number>();

  private constructor(
    private readonly src: RangeSource,
    private readonly file?: string,
    private readonly format?: string,
  ) {}

  private bad(message: string, where?: string): MconvError {
    return new MconvError({
      kind: 'unreadable', file: this.file, format: this.format, message: `invalid zip archive: ${message}`, where,
      hint: 'the file is truncated or corrupt',
    });
  }

  /** Opens an archive: reads the end-of-central-directory record and the central directory. */
  static open(src: RangeSource, file?: string, format?: string): ZipArchive {
    const z = new ZipArchive(src, file, format);
    z.readDirectory();
    return z;
  }

  names(): string[] {
    return [...this.entries.keys()];
  }

  has(name: string): boolean {
    return this.entries.has(name);
  }

  private readDirectory(): void {
    const size = this.src.size;
    if (size < 22) throw this.bad('shorter than an end-of-directory record');
    const tailLen = Math.min(size, 22 + 0xffff);
    const tail = this.src.readRange(size - tailLen, tailLen);
    let eocd = -1;
    for (let i = tail.length - 22; i >= 0; i--) {
      if (le32(tail, i) === SIG_EOCD && i + 22 + le16(tail, i + 20) <= tail.length) {
        eocd = i;
        break;
      }
    }
    if (eocd < 0) throw this.bad('no end-of-central-directory record');
    let count = le16(tail, eocd + 10);
    let cdSize = le32(tail, eocd + 12);
    let cdOffset = le32(tail, eocd + 16);
    const eocdAbs = size - tailLen + eocd;
    // zip64: a locator just before the EOCD points at the zip64 record
    if (eocdAbs >= 20) {
      const loc = this.src.readRange(eocdAbs - 20, 20);
      if (le32(loc, 0) === SIG_EOCD64_LOCATOR) {
        const off = le64(loc, 8);
        if (off + 56 > size) throw this.bad('zip64 end record outside the file');
        const rec = this.src.readRange(off, 56);
        if (le32(rec, 0) !== SIG_EOCD64) throw this.bad('zip64 locator does not point at a zip64 end record');
        count = le64(rec, 32);
        cdSize = le64(rec, 40);
        cdOffset = le64(rec, 48);
      }
    }
    if (cdSize > MAX_CENTRAL_DIRECTORY) throw this.bad(`central directory of ${cdSize} bytes is larger than mconv reads`);
    if (cdOffset + cdSize > size) throw this.bad('central directory extends past the end of the file');
    if (count * 46 > cdSize) throw this.bad(`central directory claims ${count} entries in ${cdSize} bytes`);
    const cd = this.src.readRange(cdOffset, cdSize);
    let p = 0;
    for (let i = 0; i < count; i++) {
      if (p + 46 > cd.length || le32(cd, p) !== SIG_CENTRAL) throw this.bad(`central directory entry ${i} is malformed`);
      const flags = le16(cd, p + 8);
      const method = le16(cd, p + 10);
      const crc32 = le32(cd, p + 16);
      let csize = le32(cd, p + 20);
      let usize = le32(cd, p + 24);
      const nameLen = le16(cd, p + 28);
      const extraLen = le16(cd, p + 30);
      const commentLen = le16(cd, p + 32);
      let lho = le32(cd, p + 42);
      const end = p + 46 + nameLen + extraLen + commentLen;
      if (end > cd.length) throw this.bad(`central directory entry ${i} runs past the directory`);
      const name = utf8.decode(cd.subarray(p + 46, p + 46 + nameLen));
      // zip64 extended information: present fields follow in order usize, csize, offset
      let e = p + 46 + nameLen;
      const extraEnd = e + extraLen;
      while (e + 4 <= extraEnd) {
        const id = le16(cd, e);
        const len = le16(cd, e + 2);
        if (id === 0x0001) {
          let q = e + 4;
          if (usize === 0xffffffff && q + 8 <= e + 4 + len) { usize = le64(cd, q); q += 8; }
          if (csize === 0xffffffff && q + 8 <= e + 4 + len) { csize = le64(cd, q); q += 8; }
          if (lho === 0xffffffff && q + 8 <= e + 4 + len) { lho = le64(cd, q); q += 8; }
        }
        e += 4 + len;
      }
      if (this.entries.has(name)) throw this.bad(`entry ${JSON.stringify(name)} appears twice`);
      if (lho + 30 > size || lho + csize > size) throw this.bad(`entry ${JSON.stringify(name)} lies outside the file`);
      this.entries.set(name, { name, method, compressedSize: csize, size: usize, crc32, localHeaderOffset: lho, flags });
      p = end;
    }
  }

  private entryOrThrow(name: string): ZipEntry {
    const e = this.entries.get(name);
    if (!e) throw this.bad(`no entry named ${JSON.stringify(name)}`);
    return e;
  }

  /** Absolute offset of an entry's data (after its local header). */
  dataOffset(name: string): number {
    const cached = this.dataOffsets.get(name);
    if (cached !== undefined) return cached;
    const e = this.entryOrThrow(name);
    const h = this.src.readRange(e.localHeaderOffset, 30);
    if (h.length < 30 || le32(h, 0) !== SIG_LOCAL) throw this.bad(`entry ${JSON.stringify(name)} has no local header`, `byte ${e.localHeaderOffset}`);
    const off = e.localHeaderOffset + 30 + le16(h, 26) + le16(h, 28);
    if (off + e.compressedSize > this.src.size) {
      throw this.bad(`entry ${JSON.stringify(name)} claims ${e.compressedSize} bytes past the end of the file`);
    }
    this.dataOffsets.set(name, off);
    return off;
  }

  /** True when the entry is stored uncompressed (its bytes can be read in place). */
  isStored(name: string): boolean {
    return this.entryOrThrow(name).method === 0;
  }

  /** The whole (uncompressed) content of an entry. */
  read(name: string): Uint8Array {
    const e = this.entryOrThrow(name);
    if (e.flags & 1) throw new MconvError({ kind: 'unsupported', file: this.file, format: this.format, message: `zip entry ${JSON.stringify(name)} is encrypted` });
    const off = this.dataOffset(name);
    if (e.method === 0) {
      if (e.size !== e.compressedSize) throw this.bad(`stored entry ${JSON.stringify(name)} has different sizes`);
      return this.src.readRange(off, e.size);
    }
    if (e.method === 8) {
      if (e.size > e.compressedSize * MAX_DEFLATE_RATIO + 1024) {
        throw this.bad(`entry ${JSON.stringify(name)} claims to inflate ${e.compressedSize} bytes to ${e.size}`);
      }
      const raw = this.src.readRange(off, e.compressedSize);
      let out: Uint8Array;
      try {
        out = inflateSync(raw, { out: new Uint8Array(e.size) });
      } catch (err) {
        throw this.bad(`entry ${JSON.stringify(name)} does not inflate: ${(err as Error).message}`);
      }
      if (out.length !== e.size) throw this.bad(`entry ${JSON.stringify(name)} inflates to ${out.length} bytes, not ${e.size}`);
      return out;
    }
    throw new MconvError({
      kind: 'unsupported', file: this.file, format: this.format,
      message: `zip entry ${JSON.stringify(name)} uses compression method ${e.method}; mconv reads stored and deflated entries`,
    });
  }

  /** Part of an entry: a positional read for a stored entry, a slice of the inflated bytes otherwise. */
  readRange(name: string, offset: number, length: number): Uint8Array {
    const e = this.entryOrThrow(name);
    if (offset < 0 || length < 0 || offset + length > e.size) {
      throw this.bad(`read of ${length} bytes at ${offset} is outside entry ${JSON.stringify(name)} (${e.size} bytes)`);
    }
    if (e.method === 0 && !(e.flags & 1)) return this.src.readRange(this.dataOffset(name) + offset, length);
    return this.read(name).subarray(offset, offset + length);
  }
}
