/**
 * Writing a PyTorch state_dict the way `torch.save(model.state_dict(), path)` does (the zip format of
 * PyTorch >= 1.6), so `torch.load(path)` gives an OrderedDict of tensors under exactly the given names.
 *
 * Archive layout (every entry stored uncompressed, under one top folder `<name>/`, the output file's
 * stem as torch names it):
 *   `<name>/data.pkl`   the OrderedDict, pickled with protocol 2: each value is
 *                       `torch._utils._rebuild_tensor_v2(storage, 0, size, stride, False, OrderedDict())`
 *                       where `storage` is the persistent id `('storage', torch.<T>Storage, '<key>', 'cpu', numel)`
 *   `<name>/byteorder`  `little`
 *   `<name>/data/<key>` the raw little-endian bytes of storage `<key>` (keys '0', '1', ...; one storage per
 *                       tensor, contiguous row-major, so each tensor is the whole of its storage)
 *   `<name>/version`    `3`
 *
 * Alignment: every entry's data starts at a multiple of 64 bytes (the local header's extra field is
 * padded with an 'FB' record, as torch's own writer does). torch.load would also read an unaligned
 * archive (it copies each record out of the zip), but `torch.load(mmap=True)` maps storages in place
 * and relies on the alignment, so we write the zip ourselves rather than with fflate's zipSync (which
 * cannot pad). Zip64 records are added when the archive needs them (over 65,534 entries or 4 GiB).
 */
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { MconvError } from '../../errors.js';
import { formatShape, isStaticShape, type DType, type Tensor } from '../../ir/tensor.js';
import { PyOrderedDict, makeTuple } from '../../io/pickle/values.js';
import { PyGlobalRef, PyPersistentId, PyReduce, pickle } from '../../io/pickle/writer.js';
import { STORAGE_DTYPES } from './globals.js';

/** Data offsets of zip entries are multiples of this (torch's own writer uses 64). */
export const TORCH_ZIP_ALIGNMENT = 64;
/** The `version` record torch.save writes (torch >= 1.10 write 3). */
export const TORCH_ARCHIVE_VERSION = '3';

/** torch.<T>Storage class of each dtype a state_dict written here may hold. */
const STORAGE_OF: Partial<Record<DType, string>> = Object.fromEntries(
  Object.entries(STORAGE_DTYPES).map(([storage, dtype]) => [dtype, storage]),
);

export interface TorchWriteOptions {
  /** The output path, for messages (and the archive's top folder when `archiveName` is absent). */
  file?: string;
  /** The top folder of the zip; default: the output file's stem, as torch.save names it, else `archive`. */
  archiveName?: string;
}

/** The zip's top folder for an output path: its stem with characters outside [A-Za-z0-9_-] replaced. */
export function torchArchiveName(outPath?: string): string {
  const stem = outPath ? path.basename(outPath).replace(/\.[^.]*$/, '') : '';
  const clean = stem.replace(/[^A-Za-z0-9_-]/g, '_');
  return clean || 'archive';
}

/** Contiguous (row-major) strides as torch computes them: a size-0 dim counts as 1. */
export function contiguousStrides(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= Math.max(shape[i]!, 1);
  }
  return s;
}

function refuse(file: string | undefined, name: string, message: string, hint?: string): MconvError {
  return new MconvError({ kind: 'unsupported', file, format: 'torch', where: name, message, hint });
}

interface StorageRecord {
  key: string;
  tensor: Tensor;
}

/** Checks a tensor can be written and returns its storage class name. */
function storageClass(name: string, t: Tensor, file?: string): string {
  const cls = STORAGE_OF[t.dtype];
  if (!cls) {
    const why = t.dtype === 'string'
      ? 'PyTorch has no string tensors'
      : t.dtype.startsWith('complex')
        ? 'mconv does not write complex tensors to PyTorch files'
        : `mconv writes PyTorch tensors of ${Object.keys(STORAGE_OF).join(', ')} only`;
    throw refuse(file, name, `cannot write the ${t.dtype} tensor ${JSON.stringify(name)} to a PyTorch state_dict: ${why}`,
      t.dtype === 'string' ? 'drop the string tensor, or write ONNX, which holds strings' : 'convert the tensor to a supported dtype first, or write safetensors or ONNX');
  }
  if (!isStaticShape(t.shape)) throw refuse(file, name, `tensor ${JSON.stringify(name)} has shape ${formatShape(t.shape)}, which is not concrete`);
  return cls;
}

/**
 * The bytes of a torch.save zip archive holding `tensors` as a state_dict (an OrderedDict, in the
 * order given, names exactly as given). Throws an MconvError for a tensor torch cannot hold.
 */
export function writeTorchStateDict(tensors: Iterable<readonly [string, Tensor]>, options: TorchWriteOptions = {}): Uint8Array {
  const file = options.file;
  const archive = options.archiveName ?? torchArchiveName(file);
  if (!/^[A-Za-z0-9_.-]+$/.test(archive) || archive === '.' || archive === '..') {
    throw new MconvError({ kind: 'usage', file, format: 'torch', message: `archive name ${JSON.stringify(archive)} is not a plain folder name` });
  }
  const rebuild = new PyGlobalRef('torch._utils', '_rebuild_tensor_v2');
  const dict = new PyOrderedDict();
  const storages: StorageRecord[] = [];
  for (const [name, t] of tensors) {
    if (typeof name !== 'string') throw new MconvError({ kind: 'internal', file, format: 'torch', message: 'state_dict keys must be strings' });
    if (dict.has(name)) throw refuse(file, name, `two tensors are named ${JSON.stringify(name)}`, 'a state_dict needs unique names');
    const cls = storageClass(name, t, file);
    const shape = t.shape as number[];
    const numel = shape.reduce((a, d) => a * d, 1);
    const key = String(storages.length);
    storages.push({ key, tensor: t });
    const pid = makeTuple(['storage', new PyGlobalRef('torch', cls), key, 'cpu', numel]);
    dict.set(name, new PyReduce(rebuild, makeTuple([
      new PyPersistentId(pid), 0, makeTuple(shape.slice()), makeTuple(contiguousStrides(shape)), false, new PyOrderedDict(),
    ])));
  }
  if (storages.length === 0) {
    throw new MconvError({ kind: 'unsupported', file, format: 'torch', message: 'the model has no weights to write as a PyTorch state_dict', hint: 'a state_dict holds tensors only; write ONNX to keep a graph without weights' });
  }
  const text = new TextEncoder();
  const entries: ZipInput[] = [
    bytesEntry(`${archive}/data.pkl`, pickle(dict, { file, format: 'torch' })),
    bytesEntry(`${archive}/byteorder`, text.encode('little')),
    ...storages.map(({ key, tensor }): ZipInput => ({
      name: `${archive}/data/${key}`,
      size: tensor.byteLength,
      data: () => {
        const b = tensor.readBytes();
        if (b.byteLength !== tensor.byteLength) {
          throw new MconvError({ kind: 'internal', file, format: 'torch', where: key, message: `tensor gave ${b.byteLength} bytes, expected ${tensor.byteLength}` });
        }
        return b;
      },
    })),
    bytesEntry(`${archive}/version`, text.encode(`${TORCH_ARCHIVE_VERSION}\n`)),
  ];
  return writeAlignedZip(entries, TORCH_ZIP_ALIGNMENT, file);
}

// ------------------------------------------------------------------------------------------------
// a stored (uncompressed) zip with aligned entry data

interface ZipInput {
  /** ASCII entry name. */
  name: string;
  size: number;
  /** The entry's bytes (read once, while the archive is filled). */
  data: () => Uint8Array;
}

function bytesEntry(name: string, b: Uint8Array): ZipInput {
  return { name, size: b.byteLength, data: () => b };
}

const U32_MAX = 0xffffffff;
const U16_MAX = 0xffff;
/** Extra-field id torch's writer pads local headers with ('FB'). */
const PADDING_EXTRA_ID = 0x4246;
/** DOS date 1980-01-01, time 00:00: a fixed stamp keeps the output reproducible. */
const DOS_DATE = (0 << 9) | (1 << 5) | 1;
const DOS_TIME = 0;

let crcTable: Uint32Array | undefined;
/** CRC-32 (zip's): node:zlib's when this Node has it (>= 20.15), else a table. */
function crc32(b: Uint8Array): number {
  const native = (zlib as unknown as { crc32?: (data: Uint8Array) => number }).crc32;
  if (typeof native === 'function') return native(b) >>> 0;
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let c = 0xffffffff;
  for (let i = 0; i < b.length; i++) c = crcTable[(c ^ b[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

class Out {
  readonly dv: DataView;
  constructor(readonly buf: Uint8Array) {
    this.dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }
  u16(o: number, v: number): number {
    this.dv.setUint16(o, v, true);
    return o + 2;
  }
  u32(o: number, v: number): number {
    this.dv.setUint32(o, v >>> 0, true);
    return o + 4;
  }
  u64(o: number, v: number): number {
    this.dv.setBigUint64(o, BigInt(v), true);
    return o + 8;
  }
  bytes(o: number, b: Uint8Array): number {
    this.buf.set(b, o);
    return o + b.length;
  }
}

interface Placed {
  input: ZipInput;
  name: Uint8Array;
  headerOffset: number;
  dataOffset: number;
  /** Local header's zip64 extra (sizes over 4 GiB). */
  zip64Local: boolean;
  padding: number;
  crc: number;
}

/** A zip of stored entries whose data offsets are multiples of `align`. */
function writeAlignedZip(inputs: ZipInput[], align: number, file?: string): Uint8Array {
  const enc = new TextEncoder();
  // Pass 1: where everything goes.
  const placed: Placed[] = [];
  let at = 0;
  for (const input of inputs) {
    const name = enc.encode(input.name);
    const zip64Local = input.size >= U32_MAX;
    const bare = at + 30 + name.length + (zip64Local ? 20 : 0);
    const padding = bare % align === 0 ? 0 : 4 + ((align - ((bare + 4) % align)) % align);
    const dataOffset = bare + padding;
    placed.push({ input, name, headerOffset: at, dataOffset, zip64Local, padding, crc: 0 });
    at = dataOffset + input.size;
  }
  const cdOffset = at;
  const central = placed.map((p) => {
    const fields = [p.input.size >= U32_MAX, p.input.size >= U32_MAX, p.headerOffset >= U32_MAX].filter(Boolean).length;
    return { p, zip64Fields: fields, length: 46 + p.name.length + (fields ? 4 + 8 * fields : 0) };
  });
  const cdSize = central.reduce((a, c) => a + c.length, 0);
  const needZip64End = placed.length >= U16_MAX || cdOffset >= U32_MAX || cdSize >= U32_MAX;
  const total = cdOffset + cdSize + (needZip64End ? 56 + 20 : 0) + 22;
  if (!Number.isSafeInteger(total)) throw new MconvError({ kind: 'unsupported', file, format: 'torch', message: 'the archive would be too large to write' });
  let buf: Uint8Array;
  try {
    buf = new Uint8Array(total);
  } catch {
    throw new MconvError({ kind: 'unsupported', file, format: 'torch', message: `the archive (${total} bytes) is larger than this process can hold in memory` });
  }
  const out = new Out(buf);

  // Pass 2: data first (its CRC goes into the headers), then the local headers.
  for (const p of placed) {
    const data = p.input.data();
    if (data.byteLength !== p.input.size) throw new MconvError({ kind: 'internal', file, format: 'torch', where: p.input.name, message: `entry gave ${data.byteLength} bytes, expected ${p.input.size}` });
    out.bytes(p.dataOffset, data);
    p.crc = crc32(data);
    let o = out.u32(p.headerOffset, 0x04034b50);
    o = out.u16(o, p.zip64Local ? 45 : 20);
    o = out.u16(o, 0); // flags
    o = out.u16(o, 0); // method: stored
    o = out.u16(o, DOS_TIME);
    o = out.u16(o, DOS_DATE);
    o = out.u32(o, p.crc);
    o = out.u32(o, p.zip64Local ? U32_MAX : p.input.size);
    o = out.u32(o, p.zip64Local ? U32_MAX : p.input.size);
    o = out.u16(o, p.name.length);
    o = out.u16(o, (p.zip64Local ? 20 : 0) + p.padding);
    o = out.bytes(o, p.name);
    if (p.zip64Local) {
      o = out.u16(o, 0x0001);
      o = out.u16(o, 16);
      o = out.u64(o, p.input.size);
      o = out.u64(o, p.input.size);
    }
    if (p.padding) {
      o = out.u16(o, PADDING_EXTRA_ID);
      o = out.u16(o, p.padding - 4);
      buf.fill(0x5a, o, o + p.padding - 4); // torch pads with 'Z'
      o += p.padding - 4;
    }
    if (o !== p.dataOffset) throw new MconvError({ kind: 'internal', file, format: 'torch', message: `zip layout error at ${p.input.name}` });
  }

  // Central directory.
  let o = cdOffset;
  for (const { p, zip64Fields } of central) {
    const big = p.input.size >= U32_MAX;
    const farOff = p.headerOffset >= U32_MAX;
    const version = zip64Fields ? 45 : 20;
    o = out.u32(o, 0x02014b50);
    o = out.u16(o, version); // made by (MS-DOS attributes)
    o = out.u16(o, version);
    o = out.u16(o, 0);
    o = out.u16(o, 0);
    o = out.u16(o, DOS_TIME);
    o = out.u16(o, DOS_DATE);
    o = out.u32(o, p.crc);
    o = out.u32(o, big ? U32_MAX : p.input.size);
    o = out.u32(o, big ? U32_MAX : p.input.size);
    o = out.u16(o, p.name.length);
    o = out.u16(o, zip64Fields ? 4 + 8 * zip64Fields : 0);
    o = out.u16(o, 0); // comment
    o = out.u16(o, 0); // disk
    o = out.u16(o, 0); // internal attributes
    o = out.u32(o, 0); // external attributes
    o = out.u32(o, farOff ? U32_MAX : p.headerOffset);
    o = out.bytes(o, p.name);
    if (zip64Fields) {
      o = out.u16(o, 0x0001);
      o = out.u16(o, 8 * zip64Fields);
      if (big) {
        o = out.u64(o, p.input.size);
        o = out.u64(o, p.input.size);
      }
      if (farOff) o = out.u64(o, p.headerOffset);
    }
  }
  if (needZip64End) {
    const rec = o;
    o = out.u32(o, 0x06064b50);
    o = out.u64(o, 44);
    o = out.u16(o, 45);
    o = out.u16(o, 45);
    o = out.u32(o, 0);
    o = out.u32(o, 0);
    o = out.u64(o, placed.length);
    o = out.u64(o, placed.length);
    o = out.u64(o, cdSize);
    o = out.u64(o, cdOffset);
    o = out.u32(o, 0x07064b50);
    o = out.u32(o, 0);
    o = out.u64(o, rec);
    o = out.u32(o, 1);
  }
  o = out.u32(o, 0x06054b50);
  o = out.u16(o, 0);
  o = out.u16(o, 0);
  o = out.u16(o, Math.min(placed.length, U16_MAX));
  o = out.u16(o, Math.min(placed.length, U16_MAX));
  o = out.u32(o, Math.min(cdSize, U32_MAX));
  o = out.u32(o, Math.min(cdOffset, U32_MAX));
  o = out.u16(o, 0);
  if (o !== total) throw new MconvError({ kind: 'internal', file, format: 'torch', message: 'zip layout error at the end record' });
  return buf;
}
