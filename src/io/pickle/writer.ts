/**
 * A minimal pickle writer (protocol 2, the protocol `torch.save` uses): enough to write a PyTorch
 * state_dict that `torch.load` (and our own unpickler) reads back. It takes the same JS shapes the
 * unpickler produces (see `values.ts`), plus three records that only a writer needs:
 *
 *   null -> None                 boolean -> NEWTRUE / NEWFALSE
 *   integral number, bigint -> int (BININT1 / BININT2 / BININT / LONG1)
 *   other number, PyFloat -> float (BINFLOAT)        string -> str (BINUNICODE, UTF-8 'surrogatepass')
 *   PyTuple (makeTuple) -> tuple   other arrays -> list   Map -> dict
 *   PyOrderedDict -> collections.OrderedDict() by REDUCE, its items by SETITEMS, its attributes by BUILD
 *   PyGlobalRef -> the global itself (GLOBAL)
 *   PyReduce -> callable(*args) (GLOBAL, the args tuple, REDUCE)
 *   PyPersistentId -> a persistent id (the id value, then BINPERSID)
 *
 * Strings, globals and every container are memoized (BINPUT, later references BINGET), as Python's
 * pickler does; dicts and lists are memoized before their items, so a list holding itself works.
 * Anything else (sets, bytes, functions, class instances) is refused: the caller builds exactly the
 * values it means to write.
 */
import { MconvError } from '../../errors.js';
import { PyOrderedDict, isTuple, pyTypeName } from './values.js';

/** A global (`module.name`) as a value: written with the GLOBAL opcode. */
export class PyGlobalRef {
  constructor(readonly module: string, readonly name: string) {}
  get qualifiedName(): string {
    return `${this.module}.${this.name}`;
  }
}

/** `callable(*args)`: the object Python rebuilds by calling a global on loading (REDUCE). */
export class PyReduce {
  constructor(readonly callable: PyGlobalRef, readonly args: readonly unknown[]) {}
}

/** A persistent id: the unpickler hands `id` to its `persistent_load` (torch: a storage). */
export class PyPersistentId {
  constructor(readonly id: unknown) {}
}

/** A Python float, for values JS would otherwise write as ints (`new PyFloat(1)` is `1.0`). */
export class PyFloat {
  constructor(readonly value: number) {}
}

export interface PickleWriteOptions {
  /** Deepest nesting written (default 1000, as the unpickler's own limit). */
  maxDepth?: number;
  /** For messages. */
  file?: string;
  format?: string;
}

const OP = {
  PROTO: 0x80, STOP: 0x2e, MARK: 0x28,
  NONE: 0x4e, NEWTRUE: 0x88, NEWFALSE: 0x89,
  BININT: 0x4a, BININT1: 0x4b, BININT2: 0x4d, LONG1: 0x8a, BINFLOAT: 0x47,
  BINUNICODE: 0x58,
  EMPTY_TUPLE: 0x29, TUPLE: 0x74, TUPLE1: 0x85, TUPLE2: 0x86, TUPLE3: 0x87,
  EMPTY_LIST: 0x5d, APPENDS: 0x65, EMPTY_DICT: 0x7d, SETITEMS: 0x75,
  GLOBAL: 0x63, REDUCE: 0x52, BUILD: 0x62, BINPERSID: 0x51,
  BINPUT: 0x71, LONG_BINPUT: 0x72, BINGET: 0x68, LONG_BINGET: 0x6a,
} as const;

/** Items per MARK ... SETITEMS / APPENDS batch (Python's own batch size). */
const BATCH = 1000;
const DEFAULT_MAX_DEPTH = 1000;

/** A growable byte buffer. */
class Bytes {
  private buf = new Uint8Array(1024);
  length = 0;
  private reserve(n: number): void {
    if (this.length + n <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.length + n) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
  }
  byte(b: number): void {
    this.reserve(1);
    this.buf[this.length++] = b;
  }
  u16(v: number): void {
    this.byte(v & 0xff);
    this.byte((v >>> 8) & 0xff);
  }
  u32(v: number): void {
    this.reserve(4);
    new DataView(this.buf.buffer).setUint32(this.length, v >>> 0, true);
    this.length += 4;
  }
  f64be(v: number): void {
    this.reserve(8);
    new DataView(this.buf.buffer).setFloat64(this.length, v, false);
    this.length += 8;
  }
  bytes(b: Uint8Array): void {
    this.reserve(b.length);
    this.buf.set(b, this.length);
    this.length += b.length;
  }
  ascii(s: string): void {
    for (let i = 0; i < s.length; i++) this.byte(s.charCodeAt(i));
  }
  result(): Uint8Array {
    return this.buf.slice(0, this.length);
  }
}

/** UTF-8 with Python's 'surrogatepass': a lone surrogate is encoded as its own 3-byte sequence. */
export function encodeUtf8SurrogatePass(s: string): Uint8Array {
  const out: number[] = [];
  for (let i = 0; i < s.length; i++) {
    let c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
        i++;
      }
    }
    if (c < 0x80) out.push(c);
    else if (c < 0x800) out.push(0xc0 | (c >> 6), 0x80 | (c & 0x3f));
    else if (c < 0x10000) out.push(0xe0 | (c >> 12), 0x80 | ((c >> 6) & 0x3f), 0x80 | (c & 0x3f));
    else out.push(0xf0 | (c >> 18), 0x80 | ((c >> 12) & 0x3f), 0x80 | ((c >> 6) & 0x3f), 0x80 | (c & 0x3f));
  }
  return Uint8Array.from(out);
}

/** Python's two's-complement little-endian encoding of an int for LONG1 (0 is no bytes). */
function encodeLong(v: bigint): Uint8Array {
  if (v === 0n) return new Uint8Array(0);
  const out: number[] = [];
  let x = v;
  for (;;) {
    out.push(Number(x & 0xffn));
    x >>= 8n; // arithmetic shift: -1 stays -1
    const last = out[out.length - 1]!;
    if ((x === 0n && (last & 0x80) === 0) || (x === -1n && (last & 0x80) !== 0)) break;
  }
  return Uint8Array.from(out);
}

class Pickler {
  private readonly out = new Bytes();
  private readonly memo = new Map<unknown, number>();
  private readonly strings = new Map<string, number>();
  private readonly globals = new Map<string, number>();
  private readonly active = new Set<unknown>();
  private readonly maxDepth: number;
  private memoCount = 0;

  constructor(private readonly o: PickleWriteOptions) {
    this.maxDepth = o.maxDepth ?? DEFAULT_MAX_DEPTH;
  }

  private fail(message: string): MconvError {
    return new MconvError({ kind: 'internal', file: this.o.file, format: this.o.format, message: `cannot pickle: ${message}` });
  }

  run(value: unknown): Uint8Array {
    this.out.byte(OP.PROTO);
    this.out.byte(2);
    this.save(value, 0);
    this.out.byte(OP.STOP);
    return this.out.result();
  }

  private put(): number {
    const idx = this.memoCount++;
    if (idx < 256) {
      this.out.byte(OP.BINPUT);
      this.out.byte(idx);
    } else {
      this.out.byte(OP.LONG_BINPUT);
      this.out.u32(idx);
    }
    return idx;
  }

  private get(idx: number): void {
    if (idx < 256) {
      this.out.byte(OP.BINGET);
      this.out.byte(idx);
    } else {
      this.out.byte(OP.LONG_BINGET);
      this.out.u32(idx);
    }
  }

  private save(v: unknown, depth: number): void {
    if (depth > this.maxDepth) throw this.fail(`the value is nested more than ${this.maxDepth} levels deep`);
    if (v === null) return this.out.byte(OP.NONE);
    if (typeof v === 'boolean') return this.out.byte(v ? OP.NEWTRUE : OP.NEWFALSE);
    if (typeof v === 'bigint') return this.saveInt(v);
    if (typeof v === 'number') return Number.isSafeInteger(v) && !Object.is(v, -0) ? this.saveInt(BigInt(v)) : this.saveFloat(v);
    if (v instanceof PyFloat) return this.saveFloat(v.value);
    if (typeof v === 'string') return this.saveString(v);
    if (v instanceof PyGlobalRef) return this.saveGlobal(v);
    if (v instanceof PyPersistentId) {
      this.save(v.id, depth + 1);
      return this.out.byte(OP.BINPERSID);
    }
    if (typeof v !== 'object') throw this.fail(`${pyTypeName(v)} values are not supported`);
    const seen = this.memo.get(v);
    if (seen !== undefined) return this.get(seen);
    if (this.active.has(v)) throw this.fail(`a ${pyTypeName(v)} contains itself through a tuple or a call`);
    this.active.add(v);
    try {
      if (isTuple(v)) this.saveTuple(v, depth);
      else if (Array.isArray(v)) this.saveList(v, depth);
      else if (v instanceof PyOrderedDict) this.saveOrderedDict(v, depth);
      else if (v instanceof Map) this.saveDict(v, depth);
      else if (v instanceof PyReduce) this.saveReduce(v, depth);
      else throw this.fail(`${pyTypeName(v)} values are not supported`);
    } finally {
      this.active.delete(v);
    }
  }

  private saveInt(v: bigint): void {
    if (v >= 0n && v < 256n) {
      this.out.byte(OP.BININT1);
      this.out.byte(Number(v));
    } else if (v >= 0n && v < 65536n) {
      this.out.byte(OP.BININT2);
      this.out.u16(Number(v));
    } else if (v >= -0x80000000n && v <= 0x7fffffffn) {
      this.out.byte(OP.BININT);
      this.out.u32(Number(BigInt.asUintN(32, v)));
    } else {
      const b = encodeLong(v);
      if (b.length > 255) throw this.fail('ints longer than 255 bytes are not supported');
      this.out.byte(OP.LONG1);
      this.out.byte(b.length);
      this.out.bytes(b);
    }
  }

  private saveFloat(v: number): void {
    this.out.byte(OP.BINFLOAT);
    this.out.f64be(v);
  }

  private saveString(s: string): void {
    const seen = this.strings.get(s);
    if (seen !== undefined) return this.get(seen);
    const b = encodeUtf8SurrogatePass(s);
    this.out.byte(OP.BINUNICODE);
    this.out.u32(b.length);
    this.out.bytes(b);
    const idx = this.put();
    this.strings.set(s, idx);
  }

  private saveGlobal(g: PyGlobalRef): void {
    const q = `${g.module}\n${g.name}`;
    const seen = this.globals.get(q);
    if (seen !== undefined) return this.get(seen);
    if (/[\n\x00]|[^\x20-\x7e]/.test(g.module + g.name)) throw this.fail(`global name ${JSON.stringify(g.qualifiedName)} is not printable ASCII`);
    this.out.byte(OP.GLOBAL);
    this.out.ascii(`${g.module}\n${g.name}\n`);
    const idx = this.put();
    this.globals.set(q, idx);
  }

  private saveTuple(t: readonly unknown[], depth: number): void {
    if (t.length === 0) {
      this.out.byte(OP.EMPTY_TUPLE);
    } else if (t.length <= 3) {
      for (const x of t) this.save(x, depth + 1);
      this.out.byte([OP.TUPLE1, OP.TUPLE2, OP.TUPLE3][t.length - 1]!);
    } else {
      this.out.byte(OP.MARK);
      for (const x of t) this.save(x, depth + 1);
      this.out.byte(OP.TUPLE);
    }
    this.memo.set(t, this.put());
  }

  private saveList(list: readonly unknown[], depth: number): void {
    this.out.byte(OP.EMPTY_LIST);
    this.memo.set(list, this.put());
    for (let i = 0; i < list.length; i += BATCH) {
      this.out.byte(OP.MARK);
      for (const x of list.slice(i, i + BATCH)) this.save(x, depth + 1);
      this.out.byte(OP.APPENDS);
    }
  }

  private saveItems(items: Iterable<[unknown, unknown]>, depth: number): void {
    let n = 0;
    for (const [k, x] of items) {
      if (n % BATCH === 0) {
        if (n) this.out.byte(OP.SETITEMS);
        this.out.byte(OP.MARK);
      }
      this.save(k, depth + 1);
      this.save(x, depth + 1);
      n++;
    }
    if (n) this.out.byte(OP.SETITEMS);
  }

  private saveDict(d: Map<unknown, unknown>, depth: number): void {
    this.out.byte(OP.EMPTY_DICT);
    this.memo.set(d, this.put());
    this.saveItems(d, depth);
  }

  private saveOrderedDict(d: PyOrderedDict, depth: number): void {
    this.saveGlobal(new PyGlobalRef('collections', 'OrderedDict'));
    this.out.byte(OP.EMPTY_TUPLE);
    this.out.byte(OP.REDUCE);
    this.memo.set(d, this.put());
    this.saveItems(d, depth);
    if (d.attributes.size) {
      this.save(new Map<unknown, unknown>(d.attributes), depth + 1);
      this.out.byte(OP.BUILD);
    }
  }

  private saveReduce(r: PyReduce, depth: number): void {
    this.saveGlobal(r.callable);
    const args = isTuple(r.args) ? r.args : Object.freeze([...r.args]);
    this.saveTupleInline(args, depth + 1);
    this.out.byte(OP.REDUCE);
    this.memo.set(r, this.put());
  }

  /** A tuple that no other value refers to (the args of a REDUCE): no identity to memoize. */
  private saveTupleInline(t: readonly unknown[], depth: number): void {
    if (isTuple(t) && this.memo.has(t)) return this.get(this.memo.get(t)!);
    if (t.length === 0) return this.out.byte(OP.EMPTY_TUPLE);
    if (t.length <= 3) {
      for (const x of t) this.save(x, depth + 1);
      return this.out.byte([OP.TUPLE1, OP.TUPLE2, OP.TUPLE3][t.length - 1]!);
    }
    this.out.byte(OP.MARK);
    for (const x of t) this.save(x, depth + 1);
    this.out.byte(OP.TUPLE);
  }
}

/** Pickles a value (protocol 2). Throws an MconvError (kind 'internal') for values it cannot write. */
export function pickle(value: unknown, options: PickleWriteOptions = {}): Uint8Array {
  return new Pickler(options).run(value);
}
