/**
 * Writing safetensors: `__metadata__` first (when any), then every tensor in the order given, the
 * header as compact JSON (`{"dtype":..,"shape":[..],"data_offsets":[b,e]}`) padded with spaces to a
 * multiple of 8 bytes, then the tensors' bytes back to back. This is the layout the reference
 * implementation writes, so a file read and written again comes out byte for byte the same.
 */
import { MconvError } from '../../errors.js';
import { formatShape, isStaticShape, type Tensor } from '../../ir/tensor.js';
import { DTYPE_TO_SAFETENSORS } from './dtypes.js';

export function writeSafetensors(
  tensors: Iterable<readonly [string, Tensor]>,
  metadata?: Map<string, string> | Record<string, string>,
  file?: string,
): Uint8Array {
  const parts: string[] = [];
  const meta = metadata instanceof Map ? [...metadata] : metadata ? Object.entries(metadata) : [];
  if (meta.length) {
    parts.push(`"__metadata__":{${meta.map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`).join(',')}}`);
  }
  const list: { name: string; t: Tensor }[] = [];
  const seen = new Set<string>();
  let offset = 0;
  for (const [name, t] of tensors) {
    if (name === '__metadata__') {
      throw new MconvError({ kind: 'unsupported', file, format: 'safetensors', where: name, message: 'a tensor named __metadata__ cannot be stored in safetensors (the name is reserved)' });
    }
    if (seen.has(name)) throw new MconvError({ kind: 'unsupported', file, format: 'safetensors', where: name, message: `two tensors are named ${JSON.stringify(name)}` });
    seen.add(name);
    const code = DTYPE_TO_SAFETENSORS[t.dtype];
    if (!code) {
      throw new MconvError({
        kind: 'unsupported', file, format: 'safetensors', where: name,
        message: `safetensors cannot hold ${t.dtype} tensors (tensor ${JSON.stringify(name)})`,
        hint: 'safetensors stores numeric and bool tensors only; write another format, or drop or convert this tensor',
      });
    }
    if (!isStaticShape(t.shape)) throw new MconvError({ kind: 'unsupported', file, format: 'safetensors', where: name, message: `tensor shape ${formatShape(t.shape)} is not concrete` });
    const len = t.byteLength;
    parts.push(`${JSON.stringify(name)}:{"dtype":"${code}","shape":[${t.shape.join(',')}],"data_offsets":[${offset},${offset + len}]}`);
    list.push({ name, t });
    offset += len;
  }
  const enc = new TextEncoder();
  let header = enc.encode(`{${parts.join(',')}}`);
  const pad = (8 - (header.length % 8)) % 8;
  if (pad) {
    const padded = new Uint8Array(header.length + pad).fill(0x20);
    padded.set(header);
    header = padded;
  }
  const out = new Uint8Array(8 + header.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(header.length), true);
  out.set(header, 8);
  let at = 8 + header.length;
  for (const { name, t } of list) {
    const b = t.readBytes();
    if (b.byteLength !== t.byteLength) {
      throw new MconvError({ kind: 'internal', file, format: 'safetensors', where: name, message: `tensor gave ${b.byteLength} bytes, expected ${t.byteLength}` });
    }
    out.set(b, at);
    at += b.byteLength;
  }
  return out;
}
