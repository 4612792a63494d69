/**
 * TensorFlow V2 checkpoints (TensorBundle): `<prefix>.index`, a sorted table mapping each tensor's
 * key to a BundleEntryProto (dtype, shape, shard, offset, size, crc32c) with a BundleHeaderProto
 * under the empty key, and `<prefix>.data-NNNNN-of-NNNNN` shards holding the raw bytes. Tensors
 * are lazy: a shard range is read (and its CRC-32C checked) only when the bytes are used.
 *
 * TF2 object-based checkpoints also hold `_CHECKPOINTABLE_OBJECT_GRAPH`, a string tensor with a
 * TrackableObjectGraph: it gives each variable's object path (`model/layer_with_weights-0/kernel`)
 * and its original name (`dense/kernel`).
 */
import { MconvError } from '../../errors.js';
import { DTYPE_BYTES, Tensor, shapeSize, type DType } from '../../ir/tensor.js';
import { crc32c, unmaskCrc } from '../../io/crc32c.js';
import { readSortedTable } from '../../io/sorted-table.js';
import type { ModelSourceFiles } from '../types.js';
import {
  TfProtoError, decodeBundleEntry, decodeBundleHeader, decodeTrackableObjectGraph, dtypeName, tensorDType,
  type TfBundleEntry, type TfBundleHeader, type TfTrackableObject,
} from './proto.js';

export const OBJECT_GRAPH_KEY = '_CHECKPOINTABLE_OBJECT_GRAPH';
/** The checkpoint key suffix of a TF2 variable's value. */
export const VARIABLE_VALUE_SUFFIX = '/.ATTRIBUTES/VARIABLE_VALUE';

export interface TfCheckpointTensor {
  /** The key in the index (a TF1 variable name, or a TF2 object path with `/.ATTRIBUTES/VARIABLE_VALUE`). */
  key: string;
  entry: TfBundleEntry;
  /** TF data type number and name. */
  tfDType: number;
  dtypeName: string;
  /** The IR dtype, or undefined for types the IR has no counterpart for (variant, resource, float8). */
  dtype?: DType;
  shape: number[];
  /** TF2: the object path from the root (`model/layer_with_weights-0/kernel`). */
  objectPath?: string;
  /** TF2: the variable's TF name (`dense/kernel`) as the object graph records it. */
  fullName?: string;
  /** Set when the value cannot be read (partitioned variable, unsupported dtype). */
  note?: string;
}

export interface TfCheckpoint {
  /** The index file, relative to the source's folder. */
  indexPath: string;
  /** `<prefix>` of `<prefix>.index` and `<prefix>.data-*`, relative to the source's folder. */
  prefix: string;
  header: TfBundleHeader;
  /** Every entry except the header, in key order. */
  tensors: TfCheckpointTensor[];
  byKey: Map<string, TfCheckpointTensor>;
  /** TF2 checkpoints: the decoded object graph. */
  objectGraph?: TfTrackableObject[];
  /** The value of a key as an IR tensor (lazy for numbers; strings are read at once). */
  tensor(key: string): Tensor;
}

/** The name of data shard `i` of `n` for a prefix. */
export function shardName(prefix: string, i: number, n: number): string {
  const pad = (x: number): string => String(x).padStart(5, '0');
  return `${prefix}.data-${pad(i)}-of-${pad(n)}`;
}

const INDEX_FORMAT = 'tf-checkpoint';

function bad(file: string, message: string, where?: string, hint?: string): MconvError {
  return new MconvError({ kind: 'unreadable', file, format: INDEX_FORMAT, message, where, hint });
}

/** Reads a varint at `pos`; undefined when truncated. */
function varint(b: Uint8Array, pos: number): [number, number] | undefined {
  let v = 0;
  let mul = 1;
  for (let i = 0; i < 10 && pos < b.length; i++) {
    const x = b[pos++]!;
    v += (x & 0x7f) * mul;
    if ((x & 0x80) === 0) return [v, pos];
    mul *= 128;
  }
  return undefined;
}

/**
 * Decodes a string tensor's bytes as the bundle writes them: one varint length per element, a
 * 4-byte masked CRC-32C of the lengths, then the strings back to back.
 */
export function decodeBundleStrings(b: Uint8Array, count: number, file: string, key: string): Uint8Array[] {
  const lengths: number[] = [];
  let pos = 0;
  for (let i = 0; i < count; i++) {
    const r = varint(b, pos);
    if (!r) throw bad(file, `string tensor ${key}: truncated length list`, `element ${i}`);
    lengths.push(r[0]);
    pos = r[1];
  }
  pos += 4; // checksum of the lengths
  const out: Uint8Array[] = [];
  for (const n of lengths) {
    if (pos + n > b.length) throw bad(file, `string tensor ${key}: strings run past the entry's ${b.length} bytes`);
    out.push(b.subarray(pos, pos + n));
    pos += n;
  }
  return out;
}

/** The object path of every node of a TrackableObjectGraph (breadth-first from node 0, first path wins). */
export function objectPaths(nodes: { children: { nodeId: number; localName: string }[] }[]): Map<number, string> {
  const paths = new Map<number, string>([[0, '']]);
  const queue = [0];
  while (queue.length) {
    const id = queue.shift()!;
    const base = paths.get(id)!;
    for (const c of nodes[id]?.children ?? []) {
      if (paths.has(c.nodeId)) continue;
      paths.set(c.nodeId, base ? `${base}/${c.localName}` : c.localName);
      queue.push(c.nodeId);
    }
  }
  return paths;
}

/**
 * Opens a checkpoint through a ModelSourceFiles: `indexPath` is the `.index` file relative to the
 * source's folder. Corrupt files raise MconvError 'unreadable' naming the file and offset.
 */
export function readCheckpoint(source: ModelSourceFiles, indexPath: string): TfCheckpoint {
  if (!indexPath.endsWith('.index')) throw new Error(`not an index file name: ${indexPath}`);
  const prefix = indexPath.slice(0, -'.index'.length);
  const bytes = source.readSibling(indexPath);
  const entries = readSortedTable({
    name: indexFileLabel(source, indexPath),
    format: INDEX_FORMAT,
    size: bytes.length,
    readRange: (o, n) => bytes.subarray(o, o + n),
  });
  const file = indexFileLabel(source, indexPath);
  const dec = new TextDecoder();
  let header: TfBundleHeader | undefined;
  const tensors: TfCheckpointTensor[] = [];
  for (const e of entries) {
    const key = dec.decode(e.key);
    try {
      if (key === '') {
        header = decodeBundleHeader(e.value);
        continue;
      }
      const entry = decodeBundleEntry(e.value);
      const dtype = tensorDType(entry.dtype);
      const t: TfCheckpointTensor = {
        key, entry, tfDType: entry.dtype, dtypeName: dtypeName(entry.dtype), dtype, shape: (entry.shape ?? []).map((d) => Math.max(d, 0)),
      };
      if (entry.slices.length) t.note = 'partitioned variable (stored in slices): not read';
      else if (!dtype) t.note = `${t.dtypeName} values are not read`;
      tensors.push(t);
    } catch (err) {
      if (err instanceof TfProtoError) throw bad(file, `the entry for ${JSON.stringify(key)} is not a valid ${err.messageName}: ${err.detail}`, `key ${JSON.stringify(key)}`);
      throw err;
    }
  }
  if (!header) throw bad(file, 'the index has no header entry (not a TensorFlow V2 checkpoint index)');
  if (header.endianness !== 0) {
    throw new MconvError({ kind: 'unsupported', file, format: INDEX_FORMAT, message: 'big-endian checkpoints are not supported' });
  }
  const numShards = Math.max(header.numShards, 1);
  const byKey = new Map(tensors.map((t) => [t.key, t]));

  const readEntry = (t: TfCheckpointTensor): Uint8Array => {
    const { entry } = t;
    if (entry.shardId < 0 || entry.shardId >= numShards) {
      throw bad(file, `tensor ${t.key} names shard ${entry.shardId} of ${numShards}`, `key ${t.key}`);
    }
    const shard = shardName(prefix, entry.shardId, numShards);
    if (!source.siblingExists(shard)) {
      throw bad(shard, `the data shard of tensor ${t.key} is missing`, undefined, `a checkpoint needs ${prefix}.index and all ${numShards} ${prefix}.data-* files`);
    }
    const data = source.readSiblingRange(shard, entry.offset, entry.size);
    if (data.length !== entry.size) {
      throw bad(shard, `tensor ${t.key} needs ${entry.size} bytes at offset ${entry.offset}, the file ends after ${data.length}`, `byte ${entry.offset}`, 'the data file is truncated');
    }
    if (t.dtype !== 'string') {
      const actual = crc32c(data);
      if (actual !== unmaskCrc(entry.crc32c)) {
        throw bad(shard, `checksum mismatch in tensor ${t.key} (${entry.size} bytes at offset ${entry.offset})`, `byte ${entry.offset}`, 'the data file is damaged');
      }
    }
    return data;
  };

  const cache = new Map<string, Tensor>();
  const tensor = (key: string): Tensor => {
    const hit = cache.get(key);
    if (hit) return hit;
    const t = byKey.get(key);
    if (!t) throw bad(file, `the checkpoint has no tensor ${JSON.stringify(key)}`);
    if (t.note || !t.dtype) {
      throw new MconvError({ kind: 'unsupported', file, format: INDEX_FORMAT, message: `tensor ${key}: ${t.note ?? 'unsupported data type'}`, where: `key ${key}` });
    }
    let out: Tensor;
    if (t.dtype === 'string') {
      out = Tensor.fromStrings(t.shape, decodeBundleStrings(readEntry(t), shapeSize(t.shape), file, key), key);
    } else {
      const expected = shapeSize(t.shape) * DTYPE_BYTES[t.dtype];
      if (expected !== t.entry.size) {
        throw bad(file, `tensor ${key}: ${t.dtypeName}[${t.shape.join(', ')}] needs ${expected} bytes, the entry says ${t.entry.size}`, `key ${key}`);
      }
      out = Tensor.lazy(t.dtype, t.shape, () => {
        const b = readEntry(t);
        // A view of a pooled Node buffer may be misaligned for typed views; tensor.ts copies when needed.
        return b;
      }, key);
    }
    cache.set(key, out);
    return out;
  };

  const ckpt: TfCheckpoint = { indexPath, prefix, header, tensors, byKey, tensor };
  const og = byKey.get(OBJECT_GRAPH_KEY);
  if (og && og.dtype === 'string') {
    const raw = tensor(OBJECT_GRAPH_KEY).strings[0];
    if (raw) {
      try {
        ckpt.objectGraph = decodeTrackableObjectGraph(raw);
      } catch (err) {
        if (err instanceof TfProtoError) throw bad(file, `the checkpoint's object graph is not a valid TrackableObjectGraph: ${err.detail}`, `key ${OBJECT_GRAPH_KEY}`);
        throw err;
      }
      const paths = objectPaths(ckpt.objectGraph);
      // Optimizer slots (Adam's m and v, RMSprop's rms) hang off the optimizer, not the object tree.
      ckpt.objectGraph.forEach((node, optimizerId) => {
        for (const sv of node.slotVariables) {
          const orig = paths.get(sv.originalVariableNodeId);
          const opt = paths.get(optimizerId);
          if (orig !== undefined && opt !== undefined && !paths.has(sv.slotVariableNodeId)) {
            paths.set(sv.slotVariableNodeId, `${orig}/.OPTIMIZER_SLOT/${opt}/${sv.slotName}`);
          }
        }
      });
      ckpt.objectGraph.forEach((node, id) => {
        for (const a of node.attributes) {
          const t = byKey.get(a.checkpointKey);
          if (!t) continue;
          const p = paths.get(id);
          if (p !== undefined) t.objectPath = a.name === 'VARIABLE_VALUE' ? p : `${p}/${a.name}`;
          if (a.fullName) t.fullName = a.fullName;
        }
      });
    }
  }
  return ckpt;
}

function indexFileLabel(source: ModelSourceFiles, indexPath: string): string {
  if (source.isDirectory) return `${source.path.replace(/\/+$/, '')}/${indexPath}`;
  const slash = source.path.lastIndexOf('/');
  return slash >= 0 ? `${source.path.slice(0, slash + 1)}${indexPath}` : indexPath;
}
