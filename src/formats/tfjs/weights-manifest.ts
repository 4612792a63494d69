/**
 * TensorFlow.js weights manifests (`weightsManifest` of a model.json): groups of binary shards
 * holding the weights back to back, in manifest order; quantized weights (uint8/uint16 with
 * scale and min, float16) are dequantized to float32 as tfjs does.
 */
import { unreadable, unsupported } from '../../errors.js';
import { Tensor, float16ToFloat32 } from '../../ir/tensor.js';
import type { ModelSourceFiles } from '../types.js';

type Json = Record<string, unknown>;

export interface ManifestWeight {
  name: string;
  shape: number[];
  dtype: string;
  quantization?: { dtype: string; scale?: number; min?: number };
}


const BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 1, uint8: 1, uint16: 2, float16: 2 };

export function decodeWeight(w: ManifestWeight, bytes: Uint8Array, file: string, format = 'tfjs'): Tensor {
  const n = w.shape.reduce((a, d) => a * d, 1);
  const q = w.quantization;
  if (q) {
    const out = new Float32Array(n);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (let i = 0; i < n; i++) {
      if (q.dtype === 'float16') out[i] = float16ToFloat32(view.getUint16(i * 2, true));
      else {
        const v = q.dtype === 'uint8' ? view.getUint8(i) : view.getUint16(i * 2, true);
        out[i] = v * (q.scale ?? 1) + (q.min ?? 0);
      }
    }
    return Tensor.fromArray(w.dtype === 'int32' ? 'int32' : 'float32', w.shape, w.dtype === 'int32' ? Array.from(out, Math.round) : out, w.name);
  }
  if (w.dtype === 'float32' || w.dtype === 'int32' || w.dtype === 'bool') return Tensor.fromBytes(w.dtype, w.shape, bytes.slice(), w.name);
  throw unsupported(file, format, `weight ${w.name} has dtype ${w.dtype}, which mconv does not read from tfjs manifests`);
}

/** Reads every weight of the manifest, in manifest order. */
export function readManifest(json: Json, source: ModelSourceFiles, format: string): { name: string; tensor: Tensor }[] {
  const groups = (json.weightsManifest ?? []) as { paths: string[]; weights: ManifestWeight[] }[];
  if (!Array.isArray(groups)) throw unreadable(source.path, format, 'weightsManifest is not a list');
  const out: { name: string; tensor: Tensor }[] = [];
  for (const g of groups) {
    const parts = g.paths.map((p) => {
      if (!source.siblingExists(p)) throw unreadable(source.path, format, `the weights shard ${p} is missing`, 'keep the .bin files beside model.json');
      return source.readSibling(p);
    });
    const total = parts.reduce((a, p) => a + p.byteLength, 0);
    const all = new Uint8Array(total);
    let o = 0;
    for (const p of parts) {
      all.set(p, o);
      o += p.byteLength;
    }
    let off = 0;
    for (const w of g.weights) {
      const size = w.shape.reduce((a, d) => a * d, 1) * (BYTES[w.quantization?.dtype ?? w.dtype] ?? 0);
      if (!size && w.shape.reduce((a, d) => a * d, 1) > 0) throw unsupported(source.path, format, `weight ${w.name} has dtype ${w.dtype}, which mconv does not read`);
      if (off + size > total) throw unreadable(source.path, format, `the shards hold ${total} bytes, fewer than the manifest lists`, 'a shard is truncated', w.name);
      out.push({ name: w.name, tensor: decodeWeight(w, all.subarray(off, off + size), source.path, format) });
      off += size;
    }
  }
  return out;
}

