/**
 * Recognising TensorFlow files and folders from their structure, without taking files of other
 * protobuf-based formats (an ONNX ModelProto starts with its ir_version varint, field 1; a GraphDef
 * starts with NodeDef messages, field 1, each with a text name and op; a SavedModel starts with
 * its schema version varint followed by MetaGraphDef messages, field 2).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { TABLE_MAGIC_HI, TABLE_MAGIC_LO } from '../../io/sorted-table.js';
import { savedModelDir, sessionBundleDir } from './saved-model.js';

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

function isPrintable(b: Uint8Array): boolean {
  for (const x of b) if (x < 0x20 || x === 0x7f) return false;
  return true;
}

const OP_NAME = /^[A-Za-z_][A-Za-z0-9_>]*$/;

/**
 * True when the head starts with a NodeDef (field 1 of GraphDef) whose fields are NodeDef fields
 * with the right wire types, with a printable name and an op name.
 */
export function looksLikeGraphDef(head: Uint8Array): boolean {
  if (head.length < 4 || head[0] !== 0x0a) return false;
  const len = varint(head, 1);
  if (!len || len[0] < 4) return false;
  let pos = len[1];
  const end = Math.min(pos + len[0], head.length);
  let name: string | undefined;
  let op: string | undefined;
  const dec = new TextDecoder();
  while (pos < end) {
    const key = varint(head, pos);
    if (!key) break;
    const field = Math.floor(key[0] / 8);
    const wire = key[0] % 8;
    if (wire !== 2 || field < 1 || field > 7) return false;
    const l = varint(head, key[1]);
    if (!l) break;
    const start = l[1];
    const stop = start + l[0];
    if (field <= 4) {
      const bytes = head.subarray(start, Math.min(stop, head.length));
      if (!isPrintable(bytes)) return false;
      if (field === 1) name = dec.decode(bytes);
      if (field === 2) op = dec.decode(bytes);
    }
    if (stop > end) break;
    pos = stop;
  }
  return name !== undefined && name.length > 0 && op !== undefined && OP_NAME.test(op);
}

/** Keys of MetaGraphDef fields 1..7 (all length-delimited). */
const META_GRAPH_KEYS = new Set([0x0a, 0x12, 0x1a, 0x22, 0x2a, 0x32, 0x3a]);

/** True when the head starts like a SavedModel message: schema version, then a MetaGraphDef. */
export function looksLikeSavedModelPb(head: Uint8Array): boolean {
  if (head.length < 6 || head[0] !== 0x08) return false;
  const v = varint(head, 1);
  if (!v || v[0] > 16 || head[v[1]] !== 0x12) return false;
  const len = varint(head, v[1] + 1);
  if (!len || len[0] < 2) return false;
  // A MetaGraphDef's fields 1..7 are all messages (newer TF writes object_graph_def, field 7, first).
  return META_GRAPH_KEYS.has(head[len[1]]!);
}

/** True when the head starts like a MetaGraphDef (a `.meta` file): meta_info_def or graph_def first. */
export function looksLikeMetaGraph(head: Uint8Array): boolean {
  if (head.length < 4 || !META_GRAPH_KEYS.has(head[0]!)) return false;
  const len = varint(head, 1);
  return !!len && len[0] > 0;
}

/** The last 8 bytes of a file are the sorted-table magic number. */
export function hasTableMagic(file: string): boolean {
  let fd: number | undefined;
  try {
    fd = fs.openSync(file, 'r');
    const size = fs.fstatSync(fd).size;
    if (size < 48) return false;
    const b = Buffer.alloc(8);
    fs.readSync(fd, b, 0, 8, size - 8);
    return b.readUInt32LE(0) === TABLE_MAGIC_LO && b.readUInt32LE(4) === TABLE_MAGIC_HI;
  } catch {
    return false;
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/** The `checkpoint` text file TF writes beside checkpoints. */
export function looksLikeCheckpointStateFile(head: Uint8Array, p: string): boolean {
  if (path.basename(p) !== 'checkpoint' || head.length > 1 << 16) return false;
  return /^\s*model_checkpoint_path\s*:\s*"/.test(new TextDecoder().decode(head.subarray(0, 200)));
}

function listDir(dir: string): string[] {
  try {
    return fs.readdirSync(dir);
  } catch {
    return [];
  }
}

export function isSavedModelFolder(p: string): boolean {
  return savedModelDir(p, true) !== undefined || sessionBundleDir(p) !== undefined;
}

/** A folder holding a checkpoint: a `checkpoint` state file or an `.index` file (and no saved_model.pb). */
export function isCheckpointFolder(p: string): boolean {
  const names = listDir(p);
  if (names.includes('saved_model.pb')) return false;
  if (names.includes('checkpoint') && fs.statSync(path.join(p, 'checkpoint'), { throwIfNoEntry: false })?.isFile()) return true;
  return names.some((n) => n.endsWith('.index') && hasTableMagic(path.join(p, n)));
}

export function sniffSavedModel(head: Uint8Array, p: string): boolean {
  if (head.length === 0) return isDirectory(p) && isSavedModelFolder(p);
  if (path.basename(p) === 'saved_model.pbtxt') return /^\s*(#[^\n]*\n\s*)*(saved_model_schema_version|meta_graphs)\s*[:{<]/.test(new TextDecoder().decode(head.subarray(0, 512)));
  return path.basename(p) === 'saved_model.pb' && looksLikeSavedModelPb(head);
}

export function sniffCheckpoint(head: Uint8Array, p: string): boolean {
  if (head.length === 0) return isDirectory(p) && isCheckpointFolder(p);
  const lower = p.toLowerCase();
  if (lower.endsWith('.index')) return hasTableMagic(p);
  if (lower.endsWith('.meta')) return looksLikeMetaGraph(head) && !looksLikeGraphDef(head);
  return looksLikeCheckpointStateFile(head, p);
}

export function sniffGraphDef(head: Uint8Array, p: string): boolean {
  if (head.length === 0) return isDirectory(p) && graphDefInFolder(p) !== undefined;
  return looksLikeGraphDef(head);
}

/**
 * The one frozen GraphDef (`.pb`) of a folder that holds no other model (no SavedModel,
 * checkpoint or model.json), as tf2onnx's test folders keep them; undefined otherwise.
 */
export function graphDefInFolder(p: string): string | undefined {
  const names = listDir(p);
  if (names.some((n) => n === 'saved_model.pb' || n === 'checkpoint' || n === 'model.json' || n.endsWith('.index'))) return undefined;
  const pbs = names.filter((n) => n.toLowerCase().endsWith('.pb'));
  if (pbs.length !== 1) return undefined;
  const file = path.join(p, pbs[0]!);
  let head: Uint8Array;
  try {
    const fd = fs.openSync(file, 'r');
    try {
      const buf = new Uint8Array(4096);
      head = buf.subarray(0, fs.readSync(fd, buf, 0, buf.length, 0));
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return undefined;
  }
  return looksLikeGraphDef(head) ? pbs[0] : undefined;
}

function isDirectory(p: string): boolean {
  return fs.statSync(p, { throwIfNoEntry: false })?.isDirectory() ?? false;
}
