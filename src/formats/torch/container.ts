/**
 * PyTorch containers: the zip archive written by `torch.save` since 1.6 (and by TorchScript's
 * `save`), and the legacy stream of pickles followed by raw storages.
 *
 * Zip layout: `<prefix>/data.pkl` (the object, storages as persistent ids), `<prefix>/data/<key>`
 * (raw storage bytes, stored uncompressed), `<prefix>/version`, `<prefix>/byteorder` (`little` or
 * `big`; absent = little). TorchScript adds `<prefix>/code/**.py`, `<prefix>/constants.pkl` (its
 * tensors in `<prefix>/constants/<key>`).
 *
 * Legacy layout: pickle(magic 0x1950a86a20f9469cfc6c), pickle(protocol 1001), pickle(sys_info),
 * pickle(object), pickle(sorted storage keys), then for each key: an int64 element count and the
 * storage's raw bytes.
 *
 * The root object comes back with tensors rebuilt as IR `Tensor`s (lazy positional reads where the
 * layout allows), every global checked against the allow-list in `globals.ts`.
 */
import { MconvError } from '../../errors.js';
import type { Tensor } from '../../ir/tensor.js';
import { unpickle, unpickleAt, type UnpickleOptions } from '../../io/pickle/unpickler.js';
import { asInt, isTuple, pyTypeName } from '../../io/pickle/values.js';
import { ZipArchive } from '../../io/zip.js';
import type { ModelSourceFiles } from '../types.js';
import { torchFindClass, TorchStorageType, type TorchPickleContext } from './globals.js';
import { TorchStorage } from './storage.js';

export interface TorchArchive {
  /** 'zip' (torch.save >= 1.6 and TorchScript) or 'legacy' (the pickle stream). */
  readonly kind: 'zip' | 'legacy';
  /** True for TorchScript archives (a `code/` folder or `constants.pkl`). */
  readonly isTorchScript: boolean;
  /** The zip's top folder with its slash (`state_dict/`); '' for legacy files. */
  readonly prefix: string;
  /** Byte order of the stored tensors (tensors come back little-endian whatever it is). */
  readonly byteOrder: 'little' | 'big';
  /** Content of the `version` entry (zip) or the legacy protocol version. */
  readonly version?: string;
  /** The unpickled `data.pkl` (or the legacy object), tensors rebuilt as IR Tensors. */
  readonly root: unknown;
  /** Tensors that were saved as nn.Parameter. */
  readonly parameters: WeakSet<Tensor>;
  /** Entry names relative to the prefix (`data.pkl`, `code/__torch__.py`, `constants.pkl`, ...). */
  entries(): string[];
  /** An entry's bytes by name relative to the prefix (or by full name); undefined when absent. */
  entry(name: string): Uint8Array | undefined;
  /**
   * Unpickles an entry with the same allow-list (`__torch__` classes become PyObject records in
   * TorchScript archives). `constants.pkl` reads its storages from `constants/`, others from `data/`.
   */
  unpickleEntry(name: string): unknown;
}

/** Legacy magic number, as the first pickle holds it. */
export const LEGACY_MAGIC = 0x1950a86a20f9469cfc6cn;
export const LEGACY_PROTOCOL = 1001;

function fail(file: string, message: string, hint?: string): MconvError {
  return new MconvError({ kind: 'unreadable', file, format: 'torch', message, hint: hint ?? 'the file is truncated or corrupt' });
}

/** Reads a torch.save / TorchScript file (zip or legacy) and rebuilds its tensors. */
export function readTorchArchive(source: ModelSourceFiles): TorchArchive {
  const head = source.readRange(0, Math.min(4, source.size));
  if (head.length >= 2 && head[0] === 0x50 && head[1] === 0x4b) return readZipArchive(source);
  if (head.length >= 1 && (head[0] === 0x80 || head[0] === 0x4c)) return readLegacyArchive(source);
  throw new MconvError({
    kind: 'unsupported', file: source.path, format: 'torch',
    message: 'not a PyTorch file mconv reads (neither a torch.save zip archive nor a legacy torch.save stream)',
    hint: 'very old tar-format torch files are not supported; load and save them again with a recent PyTorch',
  });
}

// ------------------------------------------------------------------------------------------------
// zip

function readZipArchive(source: ModelSourceFiles): TorchArchive {
  const file = source.path;
  const zip = ZipArchive.open(source, file, 'torch');
  const names = zip.names();
  const dataPkl = names.find((n) => /^[^/]*\/?data\.pkl$/.test(n) && (n === 'data.pkl' || n.indexOf('/') === n.length - 9));
  if (!dataPkl) {
    throw new MconvError({
      kind: 'unsupported', file, format: 'torch',
      message: 'the zip archive has no data.pkl, so it is not a torch.save or TorchScript file',
      hint: 'mconv reads PyTorch archives written by torch.save or torch.jit.save',
    });
  }
  const prefix = dataPkl.slice(0, dataPkl.length - 'data.pkl'.length);
  const full = (name: string): string | undefined =>
    zip.has(prefix + name) ? prefix + name : zip.has(name) ? name : undefined;
  const text = (name: string): string | undefined => {
    const f = full(name);
    return f ? new TextDecoder().decode(zip.read(f)).trim() : undefined;
  };
  const bo = text('byteorder') ?? 'little';
  if (bo !== 'little' && bo !== 'big') throw fail(file, `unknown byteorder ${JSON.stringify(bo)} in the archive`);
  const byteOrder = bo;
  const version = text('version') ?? text('.data/version');
  const isTorchScript = names.some((n) => n.startsWith(prefix + 'code/')) || zip.has(prefix + 'constants.pkl');
  const parameters = new WeakSet<Tensor>();
  const storagesByDir = new Map<string, Map<string, TorchStorage>>();

  const persistentLoadFor = (dir: string) => {
    let storages = storagesByDir.get(dir);
    if (!storages) {
      storages = new Map();
      storagesByDir.set(dir, storages);
    }
    const known = storages;
    return (pid: unknown): unknown => {
      if (!isTuple(pid) || pid.length < 5 || pid[0] !== 'storage') {
        throw fail(file, `unexpected persistent id ${pyTypeName(pid)} in the pickle (expected a ('storage', ...) tuple)`);
      }
      const [, type, rawKey, , rawNumel] = pid;
      if (!(type instanceof TorchStorageType)) throw fail(file, `persistent id names ${pyTypeName(type)}, not a storage type`);
      const key = typeof rawKey === 'string' ? rawKey : asInt(rawKey) !== undefined ? String(rawKey) : undefined;
      if (key === undefined || key.includes('/') || key.includes('..')) throw fail(file, `bad storage key ${String(rawKey)}`);
      const numel = asInt(rawNumel);
      if (numel === undefined || numel < 0) throw fail(file, `storage ${key} has an invalid element count`);
      const existing = known.get(key);
      if (existing) {
        if (existing.dtype !== type.dtype) {
          throw new MconvError({ kind: 'unsupported', file, format: 'torch', message: `storage ${key} is viewed both as ${existing.dtype} and ${type.dtype}, which mconv does not support` });
        }
        return existing;
      }
      const entryName = prefix + dir + key;
      const entry = zip.entries.get(entryName);
      if (!entry) throw fail(file, `the pickle refers to storage ${key}, but the archive has no entry ${entryName}`);
      const s = new TorchStorage(key, type.dtype, numel, byteOrder === 'big', (o, l) => zip.readRange(entryName, o, l));
      if (s.byteLength > entry.size) {
        throw fail(file, `storage ${key} claims ${numel} ${type.dtype} elements (${s.byteLength} bytes), but its entry holds ${entry.size} bytes`);
      }
      known.set(key, s);
      return s;
    };
  };

  const unpickleEntry = (name: string): unknown => {
    const f = full(name);
    if (!f) throw fail(file, `the archive has no entry ${name}`);
    const rel = f.startsWith(prefix) ? f.slice(prefix.length) : f;
    const ctx: TorchPickleContext = { file, format: 'torch', torchScript: isTorchScript, parameters };
    const opts: UnpickleOptions = {
      file, format: 'torch', encoding: 'utf-8',
      findClass: torchFindClass(ctx),
      persistentLoad: persistentLoadFor(rel === 'constants.pkl' ? 'constants/' : 'data/'),
    };
    return unpickle(zip.read(f), opts);
  };

  const root = unpickleEntry('data.pkl');
  return {
    kind: 'zip',
    isTorchScript,
    prefix,
    byteOrder,
    version,
    root,
    parameters,
    entries: () => names.filter((n) => n.startsWith(prefix)).map((n) => n.slice(prefix.length)),
    entry: (name) => {
      const f = full(name);
      return f ? zip.read(f) : undefined;
    },
    unpickleEntry,
  };
}

// ------------------------------------------------------------------------------------------------
// legacy

/** Pickles of the legacy header and object are read from a prefix of the file that grows as needed. */
const LEGACY_FIRST_READ = 1 << 20;

function readLegacyArchive(source: ModelSourceFiles): TorchArchive {
  let len = Math.min(source.size, LEGACY_FIRST_READ);
  for (;;) {
    const buf = source.readRange(0, len);
    try {
      return parseLegacy(source, buf);
    } catch (e) {
      // A pickle running past the prefix read so far: read more and start again.
      if (len < source.size && e instanceof MconvError && /truncated/.test(e.message + (e.hint ?? ''))) {
        len = Math.min(source.size, len * 8);
        continue;
      }
      throw e;
    }
  }
}

function parseLegacy(source: ModelSourceFiles, buf: Uint8Array): TorchArchive {
  const file = source.path;
  const plain: UnpickleOptions = {
    file, format: 'torch',
    findClass: (module, name) => {
      throw new MconvError({
        kind: 'unsupported', file, format: 'torch',
        message: `refusing to load global ${module}.${name} from the pickle header: a pickle can run code; mconv loads only tensors and containers`,
      });
    },
  };
  const magic = unpickleAt(buf, 0, plain);
  if (magic.value !== LEGACY_MAGIC) {
    throw new MconvError({
      kind: 'unsupported', file, format: 'torch',
      message: 'the file is a pickle but not a torch.save file (no PyTorch magic number)',
      hint: 'mconv reads pickles written by torch.save only',
    });
  }
  const proto = unpickleAt(buf, magic.end, plain);
  if (proto.value !== LEGACY_PROTOCOL) {
    throw new MconvError({ kind: 'unsupported', file, format: 'torch', message: `legacy torch.save protocol ${String(proto.value)} is not supported (expected ${LEGACY_PROTOCOL})` });
  }
  const info = unpickleAt(buf, proto.end, plain);
  const sys = info.value;
  if (!(sys instanceof Map)) throw fail(file, 'the legacy header has no system information dict');
  const little = sys.get('little_endian');
  const bigEndian = little === false;
  const typeSizes = sys.get('type_sizes');
  if (typeSizes instanceof Map && typeSizes.get('long') !== undefined && typeSizes.get('long') !== 8 && typeSizes.get('long') !== 4) {
    throw fail(file, `unusual C long size ${String(typeSizes.get('long'))} in the legacy header`);
  }

  const parameters = new WeakSet<Tensor>();
  const ctx: TorchPickleContext = { file, format: 'torch', torchScript: false, parameters };
  const roots = new Map<string, TorchStorage>();
  const views: { storage: TorchStorage; baseKey: string; offset: number }[] = [];
  const viewsByKey = new Map<string, TorchStorage>();
  const persistentLoad = (pid: unknown): unknown => {
    if (!isTuple(pid) || pid.length < 5 || pid[0] !== 'storage') {
      throw fail(file, `unexpected persistent id ${pyTypeName(pid)} in the pickle (expected a ('storage', ...) tuple)`);
    }
    const [, type, rawKey, , rawNumel, viewMeta] = pid;
    if (!(type instanceof TorchStorageType)) throw fail(file, `persistent id names ${pyTypeName(type)}, not a storage type`);
    const key = typeof rawKey === 'string' ? rawKey : asInt(rawKey) !== undefined ? String(rawKey) : undefined;
    if (key === undefined) throw fail(file, `bad storage key ${String(rawKey)}`);
    const numel = asInt(rawNumel);
    if (numel === undefined || numel < 0) throw fail(file, `storage ${key} has an invalid element count`);
    let root = roots.get(key);
    if (!root) {
      root = new TorchStorage(key, type.dtype, numel, bigEndian);
      roots.set(key, root);
    } else if (root.dtype !== type.dtype) {
      throw new MconvError({ kind: 'unsupported', file, format: 'torch', message: `storage ${key} is viewed both as ${root.dtype} and ${type.dtype}, which mconv does not support` });
    }
    if (viewMeta === null || viewMeta === undefined) return root;
    if (!isTuple(viewMeta) || viewMeta.length !== 3) throw fail(file, `storage ${key} has malformed view information`);
    const vkey = String(viewMeta[0]);
    const voff = asInt(viewMeta[1]);
    const vsize = asInt(viewMeta[2]);
    if (voff === undefined || vsize === undefined || voff < 0 || vsize < 0 || voff + vsize > root.numel) {
      throw fail(file, `storage view ${vkey} lies outside storage ${key}`);
    }
    let view = viewsByKey.get(vkey);
    if (!view) {
      view = new TorchStorage(`${key}[${voff}:${voff + vsize}]`, root.dtype, vsize, bigEndian);
      viewsByKey.set(vkey, view);
      views.push({ storage: view, baseKey: key, offset: voff });
    }
    return view;
  };
  const objOpts: UnpickleOptions = { file, format: 'torch', encoding: 'utf-8', findClass: torchFindClass(ctx), persistentLoad };
  const obj = unpickleAt(buf, info.end, objOpts);
  const keysPickle = unpickleAt(buf, obj.end, plain);
  const keys = keysPickle.value;
  if (!Array.isArray(keys)) throw fail(file, 'the legacy file has no list of storage keys after the object');

  // Raw storages follow, in the order of the keys: int64 element count, then the bytes.
  let off = keysPickle.end;
  const rawReaders = new Map<string, (o: number, l: number) => Uint8Array>();
  for (const k of keys) {
    const key = String(k);
    const s = roots.get(key);
    if (!s) throw fail(file, `storage ${key} is listed but no tensor uses it, so its element size is unknown`);
    if (off + 8 > source.size) throw fail(file, `storage ${key} starts past the end of the file`);
    const hdr = source.readRange(off, 8);
    const dv = new DataView(hdr.buffer, hdr.byteOffset, 8);
    const count = Number(dv.getBigInt64(0, !bigEndian));
    if (count !== s.numel) throw fail(file, `storage ${key} holds ${count} elements in the file but the pickle claims ${s.numel}`);
    const start = off + 8;
    const bytes = s.byteLength;
    if (start + bytes > source.size) {
      throw fail(file, `storage ${key} needs ${bytes} bytes at byte ${start}, but the file ends at ${source.size}`);
    }
    const reader = (o: number, l: number): Uint8Array => source.readRange(start + o, l);
    s.resolve(reader);
    rawReaders.set(key, reader);
    off = start + bytes;
  }
  for (const [key, s] of roots) if (!s.resolved) throw fail(file, `storage ${key} is used by a tensor but missing from the file`);
  for (const v of views) {
    const base = rawReaders.get(v.baseKey)!;
    const shift = v.offset * v.storage.elementSize;
    v.storage.resolve((o, l) => base(shift + o, l));
  }
  return {
    kind: 'legacy',
    isTorchScript: false,
    prefix: '',
    byteOrder: bigEndian ? 'big' : 'little',
    version: String(LEGACY_PROTOCOL),
    root: obj.value,
    parameters,
    entries: () => [],
    entry: () => undefined,
    unpickleEntry: (name) => {
      throw fail(file, `a legacy torch.save file has no entry ${name}`);
    },
  };
}

/** True when the head of a file is a legacy torch.save stream (the magic-number pickle). */
export function looksLikeLegacyTorch(head: Uint8Array): boolean {
  // protocol 2+: PROTO n, (protocol 4+: a FRAME of 8-byte length), LONG1 10 bytes of the magic, STOP
  if (head.length >= 15 && head[0] === 0x80) {
    const at = head[2] === 0x95 ? 11 : 2;
    if (head[at] !== 0x8a || head[at + 1] !== 0x0a) return false;
    const magic = [0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19];
    return magic.every((b, i) => head[at + 2 + i] === b);
  }
  // protocol 0/1: LONG text
  const text = '\x4c119547037146038801333356L\n';
  return head.length >= text.length && [...text].every((c, i) => head[i] === c.charCodeAt(0));
}
