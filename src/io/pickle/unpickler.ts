/**
 * A safe Python unpickler: the pickle virtual machine of protocols 0 to 5, run as a flat loop over the
 * opcodes (no recursion, whatever the nesting), with every global resolved through the caller's
 * `findClass` allow-list before it is used, and with limits on nesting depth, stack and memo size.
 *
 * A pickle is a program; this machine never imports or runs anything: a global is only ever what
 * `findClass` returns (a data value or a `PyCallable` implemented in TypeScript), and anything else is
 * refused by name by `findClass` itself. See `values.ts` for how Python values map to JS.
 */
import { MconvError } from '../../errors.js';
import {
  isCallable, isStateful, isTuple, makeTuple, pyTypeName,
  type PyCallable, type PyTuple,
} from './values.js';

export interface UnpickleLimits {
  /** Deepest nesting of containers (and of MARKs) allowed. Default 1000. */
  maxDepth?: number;
  /** Most values on the stack at once. Default 4,000,000. */
  maxStack?: number;
  /** Most memo entries. Default 4,000,000. */
  maxMemo?: number;
}

export interface UnpickleOptions extends UnpickleLimits {
  /**
   * Resolves a GLOBAL / STACK_GLOBAL / INST. Returns the value the name stands for (a `PyCallable`
   * for anything called or constructed) or throws an MconvError naming the refused global.
   */
  findClass(module: string, name: string): unknown;
  /** Resolves a persistent id (PERSID / BINPERSID). Absent: persistent ids are refused. */
  persistentLoad?(pid: unknown): unknown;
  /** File name and format for error messages. */
  file?: string;
  format?: string;
  /** How protocol-0/1/2 byte strings (STRING, BINSTRING) decode: 'utf-8' (default, as torch.load) or 'latin1'. */
  encoding?: 'utf-8' | 'latin1';
}

export interface UnpickleResult {
  value: unknown;
  /** Offset just past the STOP opcode. */
  end: number;
}

const DEFAULT_MAX_DEPTH = 1000;
const DEFAULT_MAX_STACK = 4_000_000;
const DEFAULT_MAX_MEMO = 4_000_000;
/** Longest decimal integer accepted (Python's own default limit for int(str)). */
const MAX_INT_DIGITS = 4300;
/** Longest LONG4 accepted, in bytes. */
const MAX_LONG_BYTES = 1 << 16;

/** Unpickles one pickle from the start of `bytes`. */
export function unpickle(bytes: Uint8Array, opts: UnpickleOptions): unknown {
  return unpickleAt(bytes, 0, opts).value;
}

/** Unpickles one pickle starting at `offset` (legacy torch files hold several in a row). */
export function unpickleAt(bytes: Uint8Array, offset: number, opts: UnpickleOptions): UnpickleResult {
  return new Machine(bytes, offset, opts).run();
}

const utf8 = new TextDecoder('utf-8');

function decodeLatin1(b: Uint8Array): string {
  // TextDecoder('latin1') is windows-1252 per the WHATWG spec; map bytes directly instead.
  let s = '';
  for (let i = 0; i < b.length; i += 8192) s += String.fromCharCode(...b.subarray(i, i + 8192));
  return s;
}

class Machine {
  private pos: number;
  private stack: unknown[] = [];
  private readonly metastack: unknown[][] = [];
  private readonly memo = new Map<number, unknown>();
  /** Nesting depth of containers built here (absent: depth 1 for containers, 0 for scalars). */
  private readonly depths = new WeakMap<object, number>();
  private readonly maxDepth: number;
  private readonly maxStack: number;
  private readonly maxMemo: number;
  private opStart = 0;

  constructor(
    private readonly b: Uint8Array,
    start: number,
    private readonly o: UnpickleOptions,
  ) {
    this.pos = start;
    this.maxDepth = o.maxDepth ?? DEFAULT_MAX_DEPTH;
    this.maxStack = o.maxStack ?? DEFAULT_MAX_STACK;
    this.maxMemo = o.maxMemo ?? DEFAULT_MAX_MEMO;
  }

  // ---- errors -------------------------------------------------------------------------------
  private bad(message: string, hint?: string): MconvError {
    return new MconvError({
      kind: 'unreadable', file: this.o.file, format: this.o.format,
      message: `invalid pickle: ${message}`,
      where: `pickle byte ${this.opStart}`,
      hint: hint ?? 'the file is corrupt or not a pickle mconv can read',
    });
  }
  private refuse(message: string, hint?: string): MconvError {
    return new MconvError({
      kind: 'unsupported', file: this.o.file, format: this.o.format, message,
      where: `pickle byte ${this.opStart}`, hint,
    });
  }

  // ---- reading bytes ------------------------------------------------------------------------
  private need(n: number, what: string): void {
    if (n < 0 || !Number.isSafeInteger(n) || this.pos + n > this.b.length) {
      throw this.bad(`${what} needs ${n} bytes but only ${Math.max(0, this.b.length - this.pos)} remain (truncated)`,
        'the file is truncated or corrupt');
    }
  }
  private u8(): number {
    this.need(1, 'opcode argument');
    return this.b[this.pos++]!;
  }
  private u16(): number {
    this.need(2, 'opcode argument');
    const v = this.b[this.pos]! | (this.b[this.pos + 1]! << 8);
    this.pos += 2;
    return v;
  }
  private u32(): number {
    this.need(4, 'opcode argument');
    const b = this.b, p = this.pos;
    const v = (b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16)) + b[p + 3]! * 0x1000000;
    this.pos += 4;
    return v;
  }
  private i32(): number {
    const v = this.u32();
    return v >= 0x80000000 ? v - 0x100000000 : v;
  }
  private u64(what: string): number {
    const lo = this.u32();
    const hi = this.u32();
    const v = hi * 0x100000000 + lo;
    if (!Number.isSafeInteger(v)) throw this.bad(`${what} length ${hi}:${lo} is impossibly large`);
    return v;
  }
  private take(n: number, what: string): Uint8Array {
    this.need(n, what);
    const s = this.b.subarray(this.pos, this.pos + n);
    this.pos += n;
    return s;
  }
  private line(what: string): string {
    const start = this.pos;
    const nl = this.b.indexOf(0x0a, start);
    if (nl < 0) throw this.bad(`${what}: missing end of line (truncated)`);
    this.pos = nl + 1;
    return decodeLatin1(this.b.subarray(start, nl));
  }

  // ---- stack --------------------------------------------------------------------------------
  private push(v: unknown): void {
    if (this.stack.length >= this.maxStack) throw this.bad(`more than ${this.maxStack} values on the stack`);
    this.stack.push(v);
  }
  private pop(what: string): unknown {
    if (this.stack.length === 0) throw this.bad(`stack underflow: ${what} found no value to take`);
    return this.stack.pop();
  }
  private top(what: string): unknown {
    if (this.stack.length === 0) throw this.bad(`stack underflow: ${what} found no value`);
    return this.stack[this.stack.length - 1];
  }
  private popMark(what: string): unknown[] {
    const items = this.stack;
    const prev = this.metastack.pop();
    if (!prev) throw this.bad(`${what} without a MARK before it`);
    this.stack = prev;
    return items;
  }

  private depthOf(v: unknown): number {
    if (typeof v !== 'object' || v === null) return 0;
    return this.depths.get(v) ?? 1;
  }
  private setDepth(container: object, d: number): void {
    if (d > this.maxDepth) {
      throw this.bad(`values nested more than ${this.maxDepth} deep`, 'mconv refuses such deep nesting; a model file does not need it');
    }
    if (d > 1) this.depths.set(container, d);
  }
  private newContainer<T extends object>(c: T, items: Iterable<unknown>): T {
    let d = 0;
    for (const it of items) d = Math.max(d, this.depthOf(it));
    this.setDepth(c, d + 1);
    return c;
  }
  private grow(container: object, item: unknown): void {
    const d = this.depthOf(item) + 1;
    if (d > this.depthOf(container)) this.setDepth(container, d);
  }
  private tuple(items: unknown[]): PyTuple {
    return this.newContainer(makeTuple(items), items);
  }

  // ---- globals and calls --------------------------------------------------------------------
  private global(module: string, name: string): unknown {
    if (!module || !name) throw this.bad('GLOBAL with an empty module or name');
    return this.o.findClass(module, name);
  }
  private callable(v: unknown, how: string): PyCallable {
    if (!isCallable(v)) {
      throw this.refuse(`the pickle ${how} a ${pyTypeName(v)} value, which mconv does not allow`,
        'mconv loads only tensors and containers from pickles');
    }
    return v;
  }
  private reduce(f: unknown, args: unknown): unknown {
    const c = this.callable(f, 'calls');
    if (!c.call) throw this.refuse(`the pickle calls ${c.qualifiedName}, which mconv does not allow to be called`);
    if (!isTuple(args)) throw this.bad(`arguments of ${c.qualifiedName} are a ${pyTypeName(args)}, not a tuple`);
    return this.guarded(c.qualifiedName, () => c.call!(args), args);
  }
  /** Runs an allow-listed implementation; its plain errors become 'invalid pickle' errors here. */
  private guarded(name: string, f: () => unknown, args?: unknown): unknown {
    let result: unknown;
    try {
      result = f();
    } catch (e) {
      if (e instanceof MconvError) throw e;
      throw this.bad(`${name}: ${(e as Error)?.message ?? String(e)}`);
    }
    // An object built from its arguments nests them: keep the depth limit true through calls.
    if (typeof result === 'object' && result !== null && args !== undefined) this.grow(result, args);
    return result;
  }
  private construct(cls: unknown, args: unknown, kwargs: Map<unknown, unknown>): unknown {
    const c = this.callable(cls, 'constructs');
    if (!c.construct) throw this.refuse(`the pickle constructs ${c.qualifiedName} with __new__, which mconv does not allow`);
    if (!isTuple(args)) throw this.bad(`arguments of ${c.qualifiedName}.__new__ are a ${pyTypeName(args)}, not a tuple`);
    return this.guarded(c.qualifiedName, () => c.construct!(args, kwargs), args);
  }
  private persistent(pid: unknown): unknown {
    if (!this.o.persistentLoad) throw this.refuse('the pickle refers to persistent objects, which this file kind may not hold');
    return this.o.persistentLoad(pid);
  }

  private memoPut(key: number, v: unknown): void {
    if (key < 0 || !Number.isSafeInteger(key)) throw this.bad(`memo key ${key} is invalid`);
    if (!this.memo.has(key) && this.memo.size >= this.maxMemo) throw this.bad(`more than ${this.maxMemo} memo entries`);
    this.memo.set(key, v);
  }
  private memoGet(key: number): unknown {
    if (!this.memo.has(key)) throw this.bad(`memo key ${key} was never stored`);
    return this.memo.get(key);
  }

  private setItems(d: unknown, items: unknown[], what: string): void {
    if (!(d instanceof Map)) throw this.bad(`${what} on a ${pyTypeName(d)}, not a dict`);
    if (items.length % 2) throw this.bad(`${what} with an odd number of items`);
    for (let i = 0; i < items.length; i += 2) {
      const k = items[i];
      if (typeof k === 'object' && k !== null && !isTuple(k)) throw this.bad(`${what}: unhashable ${pyTypeName(k)} used as a dict key`);
      d.set(k, items[i + 1]);
      this.grow(d, items[i + 1]);
    }
  }
  private appendItems(l: unknown, items: unknown[], what: string): void {
    if (!Array.isArray(l) || isTuple(l)) throw this.bad(`${what} on a ${pyTypeName(l)}, not a list`);
    for (const it of items) {
      l.push(it);
      this.grow(l, it);
    }
  }

  // ---- text arguments of protocol 0 ---------------------------------------------------------
  private decimalInt(s: string, what: string): number | bigint {
    const t = s.trim();
    if (!/^[+-]?\d+$/.test(t)) throw this.bad(`${what} ${JSON.stringify(t.slice(0, 40))} is not an integer`);
    if (t.length > MAX_INT_DIGITS) throw this.bad(`${what} has more than ${MAX_INT_DIGITS} digits`);
    const big = BigInt(t);
    return big >= BigInt(Number.MIN_SAFE_INTEGER) && big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : big;
  }
  private quotedString(s: string): Uint8Array {
    const t = s.replace(/\r$/, '');
    if (t.length < 2 || (t[0] !== "'" && t[0] !== '"') || t[t.length - 1] !== t[0]) {
      throw this.bad('STRING argument is not a quoted string');
    }
    return unescapePython(t.slice(1, -1), (m) => this.bad(m));
  }
  private decodeBytesString(b: Uint8Array): string {
    return this.o.encoding === 'latin1' ? decodeLatin1(b) : utf8.decode(b);
  }
  private long(bytes: Uint8Array): number | bigint {
    if (bytes.length === 0) return 0;
    let v = 0n;
    for (let i = bytes.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(bytes[i]!);
    if (bytes[bytes.length - 1]! & 0x80) v -= 1n << BigInt(bytes.length * 8);
    return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
  }

  // ---- the loop -----------------------------------------------------------------------------
  run(): UnpickleResult {
    const b = this.b;
    for (;;) {
      this.opStart = this.pos;
      if (this.pos >= b.length) throw this.bad('the pickle ends before its STOP opcode (truncated)', 'the file is truncated or corrupt');
      const op = b[this.pos++]!;
      switch (op) {
        // -- framing and protocol
        case 0x80: { // PROTO
          const p = this.u8();
          if (p > 5) throw this.refuse(`pickle protocol ${p} is newer than protocol 5`);
          break;
        }
        case 0x95: { // FRAME: a size hint; check it against the bytes present
          const n = this.u64('FRAME');
          this.need(n, 'FRAME');
          break;
        }
        case 0x2e: { // STOP
          const v = this.pop('STOP');
          return { value: v, end: this.pos };
        }

        // -- marks and stack
        case 0x28: // MARK
          if (this.metastack.length >= this.maxDepth) {
            throw this.bad(`MARKs nested more than ${this.maxDepth} deep`, 'mconv refuses such deep nesting; a model file does not need it');
          }
          this.metastack.push(this.stack);
          this.stack = [];
          break;
        case 0x30: this.pop('POP'); break; // POP
        case 0x31: this.popMark('POP_MARK'); break; // POP_MARK
        case 0x32: this.push(this.top('DUP')); break; // DUP

        // -- scalars
        case 0x4e: this.push(null); break; // NONE
        case 0x88: this.push(true); break; // NEWTRUE
        case 0x89: this.push(false); break; // NEWFALSE
        case 0x49: { // INT (text); "00"/"01" are False/True in protocol 0
          const s = this.line('INT');
          if (s === '00') this.push(false);
          else if (s === '01') this.push(true);
          else this.push(this.decimalInt(s, 'INT'));
          break;
        }
        case 0x4a: this.push(this.i32()); break; // BININT
        case 0x4b: this.push(this.u8()); break; // BININT1
        case 0x4d: this.push(this.u16()); break; // BININT2
        case 0x4c: { // LONG (text, trailing L)
          const s = this.line('LONG').replace(/L$/, '');
          this.push(this.decimalInt(s, 'LONG'));
          break;
        }
        case 0x8a: { // LONG1
          const n = this.u8();
          this.push(this.long(this.take(n, 'LONG1')));
          break;
        }
        case 0x8b: { // LONG4
          const n = this.i32();
          if (n < 0) throw this.bad('LONG4 with a negative length');
          if (n > MAX_LONG_BYTES) throw this.bad(`LONG4 integer of ${n} bytes is larger than mconv accepts`);
          this.push(this.long(this.take(n, 'LONG4')));
          break;
        }
        case 0x46: { // FLOAT (text)
          const s = this.line('FLOAT').trim();
          const v = parsePyFloat(s);
          if (v === undefined) throw this.bad(`FLOAT ${JSON.stringify(s.slice(0, 40))} is not a number`);
          this.push(v);
          break;
        }
        case 0x47: { // BINFLOAT (big-endian double)
          const s = this.take(8, 'BINFLOAT');
          this.push(new DataView(s.buffer, s.byteOffset, 8).getFloat64(0, false));
          break;
        }

        // -- strings and bytes
        case 0x53: { // STRING (quoted text)
          const raw = this.quotedString(this.line('STRING'));
          this.push(this.decodeBytesString(raw));
          break;
        }
        case 0x54: { // BINSTRING
          const n = this.i32();
          if (n < 0) throw this.bad('BINSTRING with a negative length');
          this.push(this.decodeBytesString(this.take(n, 'BINSTRING')));
          break;
        }
        case 0x55: this.push(this.decodeBytesString(this.take(this.u8(), 'SHORT_BINSTRING'))); break; // SHORT_BINSTRING
        case 0x56: this.push(rawUnicodeEscape(this.line('UNICODE'), (m) => this.bad(m))); break; // UNICODE
        case 0x58: this.push(utf8.decode(this.take(this.u32(), 'BINUNICODE'))); break; // BINUNICODE
        case 0x8c: this.push(utf8.decode(this.take(this.u8(), 'SHORT_BINUNICODE'))); break; // SHORT_BINUNICODE
        case 0x8d: this.push(utf8.decode(this.take(this.u64('BINUNICODE8'), 'BINUNICODE8'))); break; // BINUNICODE8
        case 0x42: this.push(this.take(this.u32(), 'BINBYTES').slice()); break; // BINBYTES
        case 0x43: this.push(this.take(this.u8(), 'SHORT_BINBYTES').slice()); break; // SHORT_BINBYTES
        case 0x8e: this.push(this.take(this.u64('BINBYTES8'), 'BINBYTES8').slice()); break; // BINBYTES8
        case 0x96: this.push(this.take(this.u64('BYTEARRAY8'), 'BYTEARRAY8').slice()); break; // BYTEARRAY8
        case 0x97: // NEXT_BUFFER
        case 0x98: // READONLY_BUFFER
          throw this.refuse('the pickle uses out-of-band buffers (protocol 5 NEXT_BUFFER/READONLY_BUFFER), which a saved file cannot supply');

        // -- containers
        case 0x29: this.push(this.tuple([])); break; // EMPTY_TUPLE
        case 0x74: this.push(this.tuple(this.popMark('TUPLE'))); break; // TUPLE
        case 0x85: { // TUPLE1
          const a = this.pop('TUPLE1');
          this.push(this.tuple([a]));
          break;
        }
        case 0x86: { // TUPLE2
          const b2 = this.pop('TUPLE2');
          const a = this.pop('TUPLE2');
          this.push(this.tuple([a, b2]));
          break;
        }
        case 0x87: { // TUPLE3
          const c = this.pop('TUPLE3');
          const b2 = this.pop('TUPLE3');
          const a = this.pop('TUPLE3');
          this.push(this.tuple([a, b2, c]));
          break;
        }
        case 0x5d: this.push([]); break; // EMPTY_LIST
        case 0x6c: { // LIST
          const items = this.popMark('LIST');
          this.push(this.newContainer(items, items));
          break;
        }
        case 0x61: { // APPEND
          const v = this.pop('APPEND');
          this.appendItems(this.top('APPEND'), [v], 'APPEND');
          break;
        }
        case 0x65: { // APPENDS
          const items = this.popMark('APPENDS');
          this.appendItems(this.top('APPENDS'), items, 'APPENDS');
          break;
        }
        case 0x7d: this.push(new Map()); break; // EMPTY_DICT
        case 0x64: { // DICT
          const items = this.popMark('DICT');
          const d = new Map<unknown, unknown>();
          this.setItems(d, items, 'DICT');
          this.push(d);
          break;
        }
        case 0x73: { // SETITEM
          const v = this.pop('SETITEM');
          const k = this.pop('SETITEM');
          this.setItems(this.top('SETITEM'), [k, v], 'SETITEM');
          break;
        }
        case 0x75: { // SETITEMS
          const items = this.popMark('SETITEMS');
          this.setItems(this.top('SETITEMS'), items, 'SETITEMS');
          break;
        }
        case 0x8f: this.push(new Set()); break; // EMPTY_SET
        case 0x90: { // ADDITEMS
          const items = this.popMark('ADDITEMS');
          const s = this.top('ADDITEMS');
          if (!(s instanceof Set)) throw this.bad(`ADDITEMS on a ${pyTypeName(s)}, not a set`);
          for (const it of items) {
            s.add(it);
            this.grow(s, it);
          }
          break;
        }
        case 0x91: { // FROZENSET
          const items = this.popMark('FROZENSET');
          this.push(this.newContainer(new Set(items), items));
          break;
        }

        // -- memo
        case 0x67: this.push(this.memoGet(Number(this.decimalInt(this.line('GET'), 'GET')))); break; // GET
        case 0x68: this.push(this.memoGet(this.u8())); break; // BINGET
        case 0x6a: this.push(this.memoGet(this.u32())); break; // LONG_BINGET
        case 0x70: this.memoPut(Number(this.decimalInt(this.line('PUT'), 'PUT')), this.top('PUT')); break; // PUT
        case 0x71: this.memoPut(this.u8(), this.top('BINPUT')); break; // BINPUT
        case 0x72: this.memoPut(this.u32(), this.top('LONG_BINPUT')); break; // LONG_BINPUT
        case 0x94: this.memoPut(this.memo.size, this.top('MEMOIZE')); break; // MEMOIZE

        // -- globals, calls, objects
        case 0x63: { // GLOBAL
          const module = this.line('GLOBAL module').trim();
          const name = this.line('GLOBAL name').trim();
          this.push(this.global(module, name));
          break;
        }
        case 0x93: { // STACK_GLOBAL
          const name = this.pop('STACK_GLOBAL');
          const module = this.pop('STACK_GLOBAL');
          if (typeof module !== 'string' || typeof name !== 'string') throw this.bad('STACK_GLOBAL needs two strings');
          this.push(this.global(module, name));
          break;
        }
        case 0x82: // EXT1
        case 0x83: // EXT2
        case 0x84: { // EXT4
          const code = op === 0x82 ? this.u8() : op === 0x83 ? this.u16() : this.i32();
          throw this.refuse(`the pickle uses the extension registry (EXT code ${code}), which mconv does not support`,
            'a pickle of tensors and containers never needs it');
        }
        case 0x52: { // REDUCE
          const args = this.pop('REDUCE');
          const f = this.pop('REDUCE');
          this.push(this.reduce(f, args));
          break;
        }
        case 0x81: { // NEWOBJ
          const args = this.pop('NEWOBJ');
          const cls = this.pop('NEWOBJ');
          this.push(this.construct(cls, args, new Map()));
          break;
        }
        case 0x92: { // NEWOBJ_EX
          const kwargs = this.pop('NEWOBJ_EX');
          const args = this.pop('NEWOBJ_EX');
          const cls = this.pop('NEWOBJ_EX');
          if (!(kwargs instanceof Map)) throw this.bad('NEWOBJ_EX keyword arguments are not a dict');
          this.push(this.construct(cls, args, kwargs));
          break;
        }
        case 0x69: { // INST: module and name as text lines, arguments from the mark
          const module = this.line('INST module').trim();
          const name = this.line('INST name').trim();
          const cls = this.global(module, name);
          const args = this.popMark('INST');
          this.push(this.reduce(cls, this.tuple(args)));
          break;
        }
        case 0x6f: { // OBJ: class then arguments, from the mark
          const items = this.popMark('OBJ');
          if (items.length === 0) throw this.bad('OBJ without a class');
          const cls = items[0];
          this.push(this.reduce(cls, this.tuple(items.slice(1))));
          break;
        }
        case 0x62: { // BUILD
          const state = this.pop('BUILD');
          const obj = this.top('BUILD');
          if (!isStateful(obj)) {
            throw this.refuse(`the pickle sets the state of a ${pyTypeName(obj)} value, which mconv does not allow`,
              'mconv loads only tensors and containers from pickles');
          }
          try {
            obj.setState(state);
          } catch (e) {
            if (e instanceof MconvError) throw e;
            throw this.bad(`BUILD of ${pyTypeName(obj)}: ${(e as Error).message}`);
          }
          if (typeof obj === 'object' && obj !== null) this.grow(obj, state);
          break;
        }

        // -- persistent ids
        case 0x50: this.push(this.persistent(this.line('PERSID'))); break; // PERSID
        case 0x51: this.push(this.persistent(this.pop('BINPERSID'))); break; // BINPERSID

        default:
          throw this.bad(`unknown opcode 0x${op.toString(16).padStart(2, '0')}`);
      }
    }
  }
}

/** Python float text: decimal, inf, nan. */
function parsePyFloat(s: string): number | undefined {
  const t = s.toLowerCase();
  if (t === 'inf' || t === '+inf') return Infinity;
  if (t === '-inf') return -Infinity;
  if (t === 'nan' || t === '+nan' || t === '-nan') return NaN;
  if (!/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/.test(t)) return undefined;
  return Number(t);
}

/** Unescapes the body of a Python 2 str literal (protocol 0 STRING) into bytes. */
function unescapePython(s: string, bad: (m: string) => Error): Uint8Array {
  const out: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 0xff) throw bad('STRING holds a non-byte character');
    if (c !== 0x5c) {
      out.push(c);
      continue;
    }
    const n = s[++i];
    switch (n) {
      case undefined: throw bad('STRING ends in a lone backslash');
      case 'n': out.push(10); break;
      case 't': out.push(9); break;
      case 'r': out.push(13); break;
      case 'a': out.push(7); break;
      case 'b': out.push(8); break;
      case 'f': out.push(12); break;
      case 'v': out.push(11); break;
      case '\\': out.push(0x5c); break;
      case "'": out.push(0x27); break;
      case '"': out.push(0x22); break;
      case '\n': break;
      case 'x': {
        const h = s.slice(i + 1, i + 3);
        if (!/^[0-9a-fA-F]{2}$/.test(h)) throw bad('STRING has a bad \\x escape');
        out.push(parseInt(h, 16));
        i += 2;
        break;
      }
      default:
        if (n >= '0' && n <= '7') {
          let j = i;
          while (j < i + 3 && j < s.length && s[j]! >= '0' && s[j]! <= '7') j++;
          out.push(parseInt(s.slice(i, j), 8) & 0xff);
          i = j - 1;
        } else {
          out.push(0x5c, n.charCodeAt(0));
        }
    }
  }
  return Uint8Array.from(out);
}

/** Decodes Python's raw-unicode-escape (protocol 0 UNICODE): latin-1 text with \uXXXX and \UXXXXXXXX. */
function rawUnicodeEscape(s: string, bad: (m: string) => Error): string {
  return s.replace(/\\u([0-9a-fA-F]{4})|\\U([0-9a-fA-F]{8})/g, (_m, u4: string | undefined, u8: string | undefined) => {
    const cp = parseInt((u4 ?? u8)!, 16);
    if (cp > 0x10ffff) throw bad('UNICODE escape beyond U+10FFFF');
    return String.fromCodePoint(cp);
  });
}
