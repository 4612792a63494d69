/**
 * Reading safetensors: an 8-byte little-endian header length N, N bytes of JSON (`name -> {dtype,
 * shape, data_offsets: [begin, end]}` plus an optional `__metadata__` string map), then the data
 * buffer. Offsets are relative to the data buffer. Tensors are lazy positional reads of their byte
 * range (views, for sources in memory): nothing is read until used.
 *
 * Validation follows the format's rules: offsets inside the buffer, each range exactly the tensor's
 * byte size, no overlaps and no holes (the buffer is entirely indexed), header within the file.
 */
import { MconvError } from '../../errors.js';
import { DTYPE_BYTES, Tensor, type DType } from '../../ir/tensor.js';
import type { RangeSource } from '../../io/zip.js';
import { SAFETENSORS_TO_DTYPE, UNSUPPORTED_SAFETENSORS } from './dtypes.js';

/** Largest header accepted (the reference implementation's own limit). */
export const MAX_HEADER_BYTES = 100_000_000;

export interface SafetensorsEntry {
  name: string;
  dtype: DType;
  shape: number[];
  /** Offsets in the data buffer. */
  begin: number;
  end: number;
}

export interface SafetensorsContent {
  /** Tensors in data-buffer order (the order the file stores them). */
  tensors: Map<string, Tensor>;
  entries: SafetensorsEntry[];
  /** `__metadata__`, when present (a Map: keys are never object properties). */
  metadata?: Map<string, string>;
  headerLength: number;
  /** Absolute offset of the data buffer (8 + header length). */
  dataStart: number;
}

function bad(file: string | undefined, message: string, where?: string): MconvError {
  return new MconvError({ kind: 'unreadable', file, format: 'safetensors', message, where, hint: 'the file is truncated or corrupt, or not a safetensors file' });
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function own(o: Record<string, unknown>, k: string): unknown {
  return Object.prototype.hasOwnProperty.call(o, k) ? o[k] : undefined;
}

/** Parses and validates the header; `fileSize` bounds the data buffer. */
export function parseSafetensorsHeader(head: Uint8Array, fileSize: number, file?: string): Omit<SafetensorsContent, 'tensors'> {
  if (fileSize < 8 || head.length < 8) throw bad(file, 'the file is shorter than the 8-byte header length');
  const dv = new DataView(head.buffer, head.byteOffset, 8);
  const n64 = dv.getBigUint64(0, true);
  if (n64 > BigInt(MAX_HEADER_BYTES)) throw bad(file, `header length ${n64} is larger than ${MAX_HEADER_BYTES} bytes`);
  const n = Number(n64);
  if (8 + n > fileSize) throw bad(file, `header length ${n} runs past the end of the file (${fileSize} bytes)`);
  if (head.length < 8 + n) throw bad(file, 'header not fully read');
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(head.subarray(8, 8 + n));
  } catch {
    throw bad(file, 'the header is not UTF-8 text');
  }
  if (!text.startsWith('{')) throw bad(file, 'the header is not a JSON object');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw bad(file, `the header is not valid JSON: ${(e as Error).message}`);
  }
  if (!isPlainObject(json)) throw bad(file, 'the header is not a JSON object');
  const dataStart = 8 + n;
  const dataLength = fileSize - dataStart;
  let metadata: Map<string, string> | undefined;
  const entries: SafetensorsEntry[] = [];
  for (const name of Object.keys(json)) {
    const info = own(json, name);
    if (name === '__metadata__') {
      if (!isPlainObject(info)) throw bad(file, '__metadata__ is not a JSON object');
      metadata = new Map();
      for (const k of Object.keys(info)) {
        const v = own(info, k);
        if (typeof v !== 'string') throw bad(file, `__metadata__ value for ${JSON.stringify(k)} is not a string`);
        metadata.set(k, v);
      }
      continue;
    }
    if (!isPlainObject(info)) throw bad(file, 'tensor entry is not a JSON object', name);
    const dt = own(info, 'dtype');
    if (typeof dt !== 'string') throw bad(file, 'tensor has no dtype', name);
    const dtype = SAFETENSORS_TO_DTYPE[dt];
    if (!dtype || !Object.prototype.hasOwnProperty.call(SAFETENSORS_TO_DTYPE, dt)) {
      throw new MconvError({
        kind: 'unsupported', file, format: 'safetensors', where: name,
        message: UNSUPPORTED_SAFETENSORS.has(dt) ? `tensor dtype ${dt} is not supported by mconv` : `unknown tensor dtype ${JSON.stringify(dt)}`,
      });
    }
    const shape = own(info, 'shape');
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) throw bad(file, 'tensor shape is not a list of non-negative integers', name);
    const offs = own(info, 'data_offsets');
    if (!Array.isArray(offs) || offs.length !== 2 || !offs.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      throw bad(file, 'data_offsets is not a pair of non-negative integers', name);
    }
    const [begin, end] = offs as [number, number];
    if (end < begin) throw bad(file, `data_offsets [${begin}, ${end}] end before they begin`, name);
    if (end > dataLength) throw bad(file, `data_offsets [${begin}, ${end}] run past the end of the data (${dataLength} bytes)`, name);
    let numel = 1;
    for (const d of shape as number[]) numel *= d;
    const need = numel * DTYPE_BYTES[dtype];
    if (!Number.isSafeInteger(need) || need !== end - begin) {
      throw bad(file, `tensor of ${dt}[${(shape as number[]).join(', ')}] needs ${need} bytes but data_offsets give ${end - begin}`, name);
    }
    entries.push({ name, dtype, shape: (shape as number[]).slice(), begin, end });
  }
  // Data order; zero-size tensors keep header order among themselves.
  const order = entries.map((e, i) => ({ e, i })).sort((a, b) => a.e.begin - b.e.begin || a.e.end - b.e.end || a.i - b.i).map((x) => x.e);
  let at = 0;
  let prev: SafetensorsEntry | undefined;
  for (const e of order) {
    if (e.begin < at) throw bad(file, `tensors ${JSON.stringify(prev?.name)} and ${JSON.stringify(e.name)} overlap in the data buffer`, e.name);
    if (e.begin > at) throw bad(file, `data bytes ${at}..${e.begin} belong to no tensor (the buffer must be fully indexed)`, e.name);
    at = e.end;
    prev = e;
  }
  if (at !== dataLength) throw bad(file, `the data buffer holds ${dataLength} bytes but the tensors use ${at}`);
  return { entries: order, metadata, headerLength: n, dataStart };
}

/** Reads a safetensors file: lazy tensors over `source`. */
export function readSafetensors(source: RangeSource & { path?: string }): SafetensorsContent {
  const file = source.path;
  if (source.size < 8) throw bad(file, 'the file is shorter than the 8-byte header length');
  const lenBytes = source.readRange(0, 8);
  const n = new DataView(lenBytes.buffer, lenBytes.byteOffset, 8).getBigUint64(0, true);
  if (n > BigInt(Math.min(MAX_HEADER_BYTES, source.size - 8))) {
    throw bad(file, n > BigInt(MAX_HEADER_BYTES) ? `header length ${n} is larger than ${MAX_HEADER_BYTES} bytes` : `header length ${n} runs past the end of the file (${source.size} bytes)`);
  }
  const head = source.readRange(0, 8 + Number(n));
  const parsed = parseSafetensorsHeader(head, source.size, file);
  const tensors = new Map<string, Tensor>();
  for (const e of parsed.entries) {
    const start = parsed.dataStart + e.begin;
    const length = e.end - e.begin;
    tensors.set(e.name, length === 0
      ? Tensor.fromBytes(e.dtype, e.shape, new Uint8Array(0), e.name)
      : Tensor.lazy(e.dtype, e.shape, () => source.readRange(start, length), e.name));
  }
  return { ...parsed, tensors };
}

/** True when a file head looks like safetensors: a plausible header length, then a JSON object with tensor entries. */
export function looksLikeSafetensors(head: Uint8Array): boolean {
  if (head.length < 10) return false;
  const n = new DataView(head.buffer, head.byteOffset, 8).getBigUint64(0, true);
  if (n < 2n || n > BigInt(MAX_HEADER_BYTES) || head[8] !== 0x7b) return false;
  const len = Number(n);
  const visible = new TextDecoder('utf-8', { fatal: false }).decode(head.subarray(8, Math.min(head.length, 8 + len)));
  if (8 + len <= head.length) {
    try {
      const j = JSON.parse(visible);
      return isPlainObject(j);
    } catch {
      return false;
    }
  }
  return /"(dtype|data_offsets|__metadata__)"\s*:/.test(visible);
}
