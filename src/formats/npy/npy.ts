/**
 * NumPy `.npy` and `.npz` files <-> IR tensors.
 *
 * `.npy`: the magic `\x93NUMPY`, a version (1.0, 2.0, 3.0), a header length (2 bytes in v1,
 * 4 bytes in v2/v3), an ASCII (v3: UTF-8) Python dict literal with `descr`, `fortran_order` and
 * `shape`, then the raw data. Big-endian data is byte-swapped and Fortran-ordered data reordered,
 * so every tensor comes back little-endian and row-major. Fixed-width unicode (`<U`) and byte
 * strings (`|S`) become string tensors.
 * `.npz`: a zip of `.npy` members (stored or deflated), read and written with fflate.
 */
import { unzipSync, zipSync } from 'fflate';
import { DType, DTYPE_BYTES, Tensor, bfloat16ToFloat32, shapeSize } from '../../ir/tensor.js';
import { MconvError, unreadable, unsupported } from '../../errors.js';

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

const KIND_TO_DTYPE: Record<string, DType> = {
  f2: 'float16', f4: 'float32', f8: 'float64',
  i1: 'int8', i2: 'int16', i4: 'int32', i8: 'int64',
  u1: 'uint8', u2: 'uint16', u4: 'uint32', u8: 'uint64',
  b1: 'bool', c8: 'complex64', c16: 'complex128',
};

const DTYPE_TO_DESCR: Partial<Record<DType, string>> = {
  float16: '<f2', float32: '<f4', float64: '<f8',
  int8: '|i1', int16: '<i2', int32: '<i4', int64: '<i8',
  uint8: '|u1', uint16: '<u2', uint32: '<u4', uint64: '<u8',
  bool: '|b1', complex64: '<c8', complex128: '<c16',
};

export function isNpy(bytes: Uint8Array): boolean {
  return bytes.byteLength >= 10 && MAGIC.every((b, i) => bytes[i] === b);
}

// ---- header ----------------------------------------------------------------------------------

type PyValue = string | boolean | number | null | PyValue[] | { [k: string]: PyValue };

/** Parses the Python literal of an npy header (dicts, tuples, lists, strings, ints, booleans). */
function parsePyLiteral(s: string): PyValue {
  let i = 0;
  const ws = (): void => {
    while (i < s.length && /\s/.test(s[i]!)) i++;
  };
  const value = (): PyValue => {
    ws();
    const c = s[i];
    if (c === '{') {
      i++;
      const obj: Record<string, PyValue> = {};
      for (;;) {
        ws();
        if (s[i] === '}') { i++; return obj; }
        const k = value();
        ws();
        if (s[i] !== ':') throw new Error(`expected ':' at ${i}`);
        i++;
        obj[String(k)] = value();
        ws();
        if (s[i] === ',') i++;
      }
    }
    if (c === '(' || c === '[') {
      const close = c === '(' ? ')' : ']';
      i++;
      const arr: PyValue[] = [];
      for (;;) {
        ws();
        if (s[i] === close) { i++; return arr; }
        arr.push(value());
        ws();
        if (s[i] === ',') i++;
      }
    }
    if (c === "'" || c === '"') {
      const q = c;
      i++;
      let out = '';
      while (i < s.length && s[i] !== q) {
        if (s[i] === '\\') i++;
        out += s[i++];
      }
      if (i >= s.length) throw new Error('unterminated string');
      i++;
      return out;
    }
    const m = /^(True|False|None|-?\d+L?)/.exec(s.slice(i));
    if (!m) throw new Error(`unexpected ${JSON.stringify(s.slice(i, i + 10))}`);
    i += m[0].length;
    if (m[0] === 'True') return true;
    if (m[0] === 'False') return false;
    if (m[0] === 'None') return null;
    return Number(m[0].replace('L', ''));
  };
  const v = value();
  return v;
}

interface NpyHeader {
  descr: string;
  fortran: boolean;
  shape: number[];
  dataOffset: number;
}

function readHeader(bytes: Uint8Array, file?: string): NpyHeader {
  if (!isNpy(bytes)) throw unreadable(file, 'npy', 'not a .npy file (no \\x93NUMPY magic)', 'save arrays with numpy.save');
  const major = bytes[6]!;
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let headerLen: number;
  let start: number;
  if (major === 1) {
    headerLen = dv.getUint16(8, true);
    start = 10;
  } else if (major === 2 || major === 3) {
    if (bytes.byteLength < 12) throw unreadable(file, 'npy', 'truncated .npy header');
    headerLen = dv.getUint32(8, true);
    start = 12;
  } else {
    throw unsupported(file, 'npy', `.npy format version ${major}.${bytes[7]} is not supported`, 'versions 1.0, 2.0 and 3.0 are');
  }
  if (start + headerLen > bytes.byteLength) throw unreadable(file, 'npy', 'truncated .npy header');
  const text = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(bytes.subarray(start, start + headerLen));
  let dict: PyValue;
  try {
    dict = parsePyLiteral(text);
  } catch (e) {
    throw unreadable(file, 'npy', `bad .npy header: ${(e as Error).message}`);
  }
  if (!dict || typeof dict !== 'object' || Array.isArray(dict)) throw unreadable(file, 'npy', 'bad .npy header: not a dict');
  const d = dict as Record<string, PyValue>;
  if (typeof d.descr !== 'string') {
    throw unsupported(file, 'npy', 'structured (record) arrays are not supported', 'save plain numeric arrays');
  }
  const shape = d.shape;
  if (!Array.isArray(shape) || !shape.every((x) => typeof x === 'number' && Number.isSafeInteger(x) && x >= 0)) {
    throw unreadable(file, 'npy', 'bad .npy header: shape');
  }
  return { descr: d.descr, fortran: d.fortran_order === true, shape: shape as number[], dataOffset: start + headerLen };
}

// ---- reading ---------------------------------------------------------------------------------

function byteSwap(data: Uint8Array, width: number): Uint8Array {
  const out = new Uint8Array(data.byteLength);
  for (let i = 0; i < data.byteLength; i += width) {
    for (let k = 0; k < width; k++) out[i + k] = data[i + width - 1 - k]!;
  }
  return out;
}

/** Reorders column-major data of `shape` into row-major order (elements of `width` bytes). */
function fortranToC(data: Uint8Array, shape: number[], width: number): Uint8Array {
  const n = shapeSize(shape);
  const r = shape.length;
  if (r < 2 || n === 0) return data;
  const out = new Uint8Array(data.byteLength);
  // Fortran strides (in elements)
  const fstride = new Array<number>(r);
  let s = 1;
  for (let k = 0; k < r; k++) {
    fstride[k] = s;
    s *= shape[k]!;
  }
  const idx = new Array<number>(r).fill(0);
  for (let c = 0; c < n; c++) {
    let f = 0;
    for (let k = 0; k < r; k++) f += idx[k]! * fstride[k]!;
    out.set(data.subarray(f * width, (f + 1) * width), c * width);
    for (let k = r - 1; k >= 0; k--) {
      if (++idx[k]! < shape[k]!) break;
      idx[k] = 0;
    }
  }
  return out;
}

function stringsFromFixed(data: Uint8Array, n: number, charWidth: number, chars: number, bigEndian: boolean): string[] {
  const out: string[] = [];
  const item = charWidth * chars;
  const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
  for (let i = 0; i < n; i++) {
    if (charWidth === 1) {
      let end = i * item + chars;
      while (end > i * item && data[end - 1] === 0) end--;
      out.push(new TextDecoder('latin1').decode(data.subarray(i * item, end)));
    } else {
      let s = '';
      for (let k = 0; k < chars; k++) {
        const cp = dv.getUint32(i * item + k * 4, !bigEndian);
        if (cp === 0) break;
        s += String.fromCodePoint(cp);
      }
      out.push(s);
    }
  }
  return out;
}

/** Reads a .npy file into a tensor (little-endian, row-major). */
export function readNpy(bytes: Uint8Array, file?: string): Tensor {
  const h = readHeader(bytes, file);
  if (/^[<>|=]?O/.test(h.descr)) {
    throw unsupported(file, 'npy', 'object arrays (dtype=object) are not supported', 'save a numeric array (np.asarray(x, dtype=np.float32))');
  }
  const m = /^([<>|=])([a-zA-Z])(\d+)$/.exec(h.descr);
  if (!m) throw unsupported(file, 'npy', `numpy dtype ${h.descr} is not supported`, 'use numeric, bool or string arrays');
  const [, order, kind, sizeStr] = m;
  const size = Number(sizeStr);
  const bigEndian = order === '>';
  const n = shapeSize(h.shape);
  if (kind === 'U' || kind === 'S') {
    const width = kind === 'U' ? 4 : 1;
    const need = n * size * width;
    if (h.dataOffset + need > bytes.byteLength) throw unreadable(file, 'npy', `truncated data: ${need} bytes needed`);
    let data = bytes.subarray(h.dataOffset, h.dataOffset + need);
    if (h.fortran) data = fortranToC(data, h.shape, size * width);
    return Tensor.fromStrings(h.shape, stringsFromFixed(data, n, width, size, bigEndian));
  }
  const dtype = KIND_TO_DTYPE[`${kind}${size}`];
  if (!dtype) throw unsupported(file, 'npy', `numpy dtype ${h.descr} is not supported`, 'supported: float16/32/64, (u)int8/16/32/64, bool, complex64/128, strings');
  const width = DTYPE_BYTES[dtype];
  const need = n * width;
  if (h.dataOffset + need > bytes.byteLength) {
    throw unreadable(file, 'npy', `truncated data: the header announces ${need} bytes, ${bytes.byteLength - h.dataOffset} present`);
  }
  let data = bytes.subarray(h.dataOffset, h.dataOffset + need);
  if (bigEndian && width > 1) {
    const part = dtype === 'complex64' ? 4 : dtype === 'complex128' ? 8 : width;
    data = byteSwap(data, part);
  }
  if (h.fortran) data = fortranToC(data, h.shape, width);
  // Own, aligned copy when the view is misaligned for its element width.
  if (data.byteOffset % Math.min(width, 8) !== 0) data = data.slice();
  return Tensor.fromBytes(dtype, h.shape, data);
}

// ---- writing ---------------------------------------------------------------------------------

function header(descr: string, shape: number[]): Uint8Array {
  const shapeStr = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  const dict = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shapeStr}, }`;
  const enc = new TextEncoder().encode(dict);
  let version = 1;
  let pre = 10;
  if (enc.byteLength + 1 + pre > 65535) {
    version = 2;
    pre = 12;
  }
  const total = Math.ceil((pre + enc.byteLength + 1) / 64) * 64;
  const out = new Uint8Array(total);
  out.set(MAGIC, 0);
  out[6] = version;
  out[7] = 0;
  const dv = new DataView(out.buffer);
  const hl = total - pre;
  if (version === 1) dv.setUint16(8, hl, true);
  else dv.setUint32(8, hl, true);
  out.set(enc, pre);
  out.fill(0x20, pre + enc.byteLength, total - 1);
  out[total - 1] = 0x0a;
  return out;
}

/**
 * Writes a tensor as a .npy file (version 1.0 unless the header needs 2.0). bfloat16 has no numpy
 * dtype: it is written as float32 (exactly, every bfloat16 value is a float32 value). String
 * tensors are written as fixed-width unicode (`<U<n>`).
 */
export function writeNpy(t: Tensor): Uint8Array {
  let descr: string;
  let data: Uint8Array;
  if (t.dtype === 'string') {
    const values = t.stringValues().map((s) => Array.from(s));
    const chars = Math.max(1, ...values.map((v) => v.length));
    descr = `<U${chars}`;
    data = new Uint8Array(values.length * chars * 4);
    const dv = new DataView(data.buffer);
    values.forEach((cps, i) => cps.forEach((ch, k) => dv.setUint32((i * chars + k) * 4, ch.codePointAt(0)!, true)));
  } else if (t.dtype === 'bfloat16') {
    descr = '<f4';
    const v = t.view() as Uint16Array;
    const f = new Float32Array(v.length);
    for (let i = 0; i < v.length; i++) f[i] = bfloat16ToFloat32(v[i]!);
    data = new Uint8Array(f.buffer);
  } else {
    const d = DTYPE_TO_DESCR[t.dtype];
    if (!d) throw new MconvError({ kind: 'unsupported', format: 'npy', message: `cannot write ${t.dtype} as .npy` });
    descr = d;
    data = t.bytes;
  }
  const h = header(descr, t.shape);
  const out = new Uint8Array(h.byteLength + data.byteLength);
  out.set(h, 0);
  out.set(data, h.byteLength);
  return out;
}

/** Reads a .npz archive: member name (without `.npy`) -> tensor. */
export function readNpz(bytes: Uint8Array, file?: string): Map<string, Tensor> {
  let files: Record<string, Uint8Array>;
  try {
    files = unzipSync(bytes);
  } catch (e) {
    throw unreadable(file, 'npz', `not a readable .npz (zip) archive: ${(e as Error).message}`, 'save arrays with numpy.savez');
  }
  const out = new Map<string, Tensor>();
  for (const [name, data] of Object.entries(files)) {
    if (name.endsWith('/')) continue;
    const key = name.replace(/\.npy$/, '');
    try {
      out.set(key, readNpy(data, file ? `${file}:${name}` : name));
    } catch (e) {
      if (e instanceof MconvError) throw e;
      throw unreadable(file, 'npz', `member ${name}: ${(e as Error).message}`);
    }
  }
  return out;
}

/** Writes tensors as a .npz archive (members stored uncompressed, as numpy.savez does). */
export function writeNpz(tensors: Map<string, Tensor> | Record<string, Tensor>): Uint8Array {
  const entries = tensors instanceof Map ? [...tensors.entries()] : Object.entries(tensors);
  const files: Record<string, Uint8Array> = {};
  for (const [name, t] of entries) files[`${name}.npy`] = writeNpy(t);
  return zipSync(files, { level: 0 });
}
