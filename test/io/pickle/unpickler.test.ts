/**
 * The safe unpickler against pickles written by CPython's own `pickle` (protocols 0 to 5, in
 * fixtures/torch/pickles, made by fixtures/torch/make.py), compared in a canonical JSON form that the
 * Python script computed from the original values; plus hand-made malformed and hostile streams.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MconvError } from '../../../src/errors.js';
import { unpickle, unpickleAt, type UnpickleOptions } from '../../../src/io/pickle/unpickler.js';
import {
  PyOrderedDict, isTuple, makeTuple, pyCallable, type PyTuple,
} from '../../../src/io/pickle/values.js';

const DIR = join(import.meta.dirname, '..', '..', '..', 'fixtures', 'torch', 'pickles');
const EXPECTED = JSON.parse(readFileSync(join(DIR, 'expected.json'), 'utf8')) as { value: unknown; sets: unknown };

/** Python's repr() of a float, as the fixture script recorded it. */
function pyFloatRepr(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (x === Infinity) return 'inf';
  if (x === -Infinity) return '-inf';
  if (Object.is(x, -0)) return '-0.0';
  if (Number.isInteger(x) && Math.abs(x) < 1e16) return `${x}.0`;
  const s = String(x);
  // JS writes 1e+308, Python 1e+308; JS -2.25e-300, Python -2.25e-300
  return s;
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/** The same canonical form as `canon` in make.py. Floats are told from ints by the `floats` context. */
function canon(v: unknown, floatCtx = false): unknown {
  if (v === null) return null;
  if (typeof v === 'boolean') return v;
  if (typeof v === 'bigint') return { int: v.toString() };
  if (typeof v === 'number') return floatCtx ? { float: pyFloatRepr(v) } : { int: String(v) };
  if (typeof v === 'string') return { str: v };
  if (v instanceof Uint8Array) return { bytes: hex(v) };
  if (isTuple(v)) return { tuple: v.map((x) => canon(x, floatCtx)) };
  if (Array.isArray(v)) return { list: v.map((x) => canon(x, floatCtx)) };
  if (v instanceof Map) return { dict: [...v].map(([k, x]) => [canon(k), canon(x, k === 'floats')]) };
  if (v instanceof Set) return { set: [...v].map((x) => canon(x)) };
  throw new Error(`unexpected value ${String(v)}`);
}

/** Test allow-list: the builtins CPython uses to pickle bytes, bytearray and sets at low protocols. */
const findClass: UnpickleOptions['findClass'] = (module, name) => {
  const q = `${module}.${name}`;
  const latin1 = (s: string) => Uint8Array.from([...s].map((c) => c.charCodeAt(0)));
  switch (q) {
    case '_codecs.encode':
      return pyCallable(q, { call: (a) => latin1(a[0] as string) });
    case 'builtins.bytearray':
    case '__builtin__.bytearray':
      return pyCallable(q, {
        call: (a: PyTuple) => (a.length === 0 ? new Uint8Array(0) : typeof a[0] === 'string' ? latin1(a[0]) : (a[0] as Uint8Array).slice()),
      });
    case 'builtins.set':
    case '__builtin__.set':
    case 'builtins.frozenset':
    case '__builtin__.frozenset':
      return pyCallable(q, { call: (a: PyTuple) => new Set((a[0] as unknown[] | undefined) ?? []) });
    case 'builtins.bytes':
    case '__builtin__.bytes':
      return pyCallable(q, { call: (a: PyTuple) => (a.length === 0 ? new Uint8Array(0) : Uint8Array.from(a[0] as number[])) });
    case 'collections.OrderedDict':
      return pyCallable(q, { call: () => new PyOrderedDict() });
  }
  throw new MconvError({ kind: 'unsupported', message: `refusing to load global ${q}` });
};

function refused(bytes: Uint8Array | number[], opts: Partial<UnpickleOptions> = {}): MconvError {
  try {
    unpickle(Uint8Array.from(bytes), { findClass, ...opts });
  } catch (e) {
    expect(e).toBeInstanceOf(MconvError);
    return e as MconvError;
  }
  throw new Error('the pickle was accepted');
}

const b = (s: string) => Uint8Array.from([...s].map((c) => c.charCodeAt(0)));

describe('unpickler: CPython pickles of every protocol', () => {
  for (let p = 0; p <= 5; p++) {
    it(`protocol ${p}: values equal what Python pickled`, () => {
      const v = unpickle(readFileSync(join(DIR, `p${p}.pkl`)), { findClass });
      expect(canon(v)).toEqual(EXPECTED.value);
    });
    it(`protocol ${p}: sets, frozensets and bytearrays`, () => {
      const v = unpickle(readFileSync(join(DIR, `sets${p}.pkl`)), { findClass });
      expect(canon(v)).toEqual(EXPECTED.sets);
    });
  }

  it('dict keys such as __proto__ stay Map keys and never touch Object.prototype', () => {
    const v = unpickle(readFileSync(join(DIR, 'p2.pkl')), { findClass }) as Map<unknown, unknown>;
    expect(v).toBeInstanceOf(Map);
    expect((v.get('__proto__') as Map<string, unknown>).get('polluted')).toBe(true);
    expect(v.get('constructor')).toBe('c');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.getPrototypeOf(v)).toBe(Map.prototype);
  });

  it('shared references come back as one object (memo)', () => {
    const v = unpickle(readFileSync(join(DIR, 'p4.pkl')), { findClass }) as Map<string, unknown[]>;
    const shared = v.get('shared')!;
    expect(shared[0]).toBe(shared[1]);
  });

  it('tuples are frozen arrays marked as tuples; lists are mutable arrays', () => {
    const v = unpickle(readFileSync(join(DIR, 'p3.pkl')), { findClass }) as Map<string, unknown[]>;
    const tuples = v.get('tuples')!;
    expect(Array.isArray(tuples)).toBe(true);
    expect(isTuple(tuples)).toBe(false);
    expect(isTuple(tuples[2])).toBe(true);
    expect(Object.isFrozen(tuples[2])).toBe(true);
    expect(tuples[2]).toEqual([1, 2]);
  });

  it('ints outside the safe integer range are bigints, others numbers', () => {
    const v = unpickle(readFileSync(join(DIR, 'p2.pkl')), { findClass }) as Map<string, unknown[]>;
    const ints = v.get('ints')!;
    expect(ints).toContain(2n ** 53n);
    expect(ints).toContain(2 ** 31);
    expect(ints).toContain(2n ** 53n + 1n);
    expect(ints).toContain(-(2n ** 100n));
    expect(ints).toContain(-(2 ** 31));
  });

  it('unpickleAt reads pickles in a row and reports where each ends', () => {
    const one = b('\x80\x02K\x07.');
    const two = b('\x80\x02X\x02\x00\x00\x00hi.');
    const both = new Uint8Array([...one, ...two]);
    const r1 = unpickleAt(both, 0, { findClass });
    expect(r1).toEqual({ value: 7, end: one.length });
    expect(unpickleAt(both, r1.end, { findClass }).value).toBe('hi');
  });

  it('BUILD sets OrderedDict attributes; NEWOBJ needs a construct implementation', () => {
    const v = unpickle(b('\x80\x02ccollections\nOrderedDict\n)R}X\x09\x00\x00\x00_metadataK\x05sb.'), { findClass });
    expect(v).toBeInstanceOf(PyOrderedDict);
    expect((v as PyOrderedDict).attributes.get('_metadata')).toBe(5);
    const e = refused(b('\x80\x02c_codecs\nencode\n)\x81.'));
    expect(e.message).toMatch(/constructs _codecs\.encode with __new__/);
  });

  it('persistent ids go to persistentLoad, and are refused without one', () => {
    const got: unknown[] = [];
    const v = unpickle(b('\x80\x02X\x01\x00\x00\x00aK\x01\x86Q.'), {
      findClass, persistentLoad: (pid) => { got.push(pid); return 'loaded'; },
    });
    expect(v).toBe('loaded');
    expect(got[0]).toEqual(makeTuple(['a', 1]));
    expect(refused(b('\x80\x02K\x01Q.')).message).toMatch(/persistent/);
    expect(unpickle(b('Pabc\n.'), { findClass, persistentLoad: (pid) => pid })).toBe('abc');
  });
});

describe('unpickler: malformed and hostile streams are refused clearly and fast', () => {
  const cases: [string, Uint8Array, RegExp][] = [
    ['global not allowed', b('cos\nsystem\n(S\'ls\'\ntR.'), /refusing to load global os\.system/],
    ['STACK_GLOBAL not allowed', b('\x80\x04\x8c\x02os\x8c\x06system\x93.'), /os\.system/],
    ['INST not allowed', b('(S\'ls\'\nios\nsystem\n.'), /os\.system/],
    ['calling a non-callable', b('\x80\x02K\x01)R.'), /calls a int/],
    ['BUILD on a plain dict', b('\x80\x02}}b.'), /sets the state of a dict/],
    ['stack underflow', b('\x80\x02t.'), /without a MARK/],
    ['stack underflow (REDUCE)', b('\x80\x02)R.'), /stack underflow/],
    ['memo get of nothing', b('\x80\x02h\x03.'), /memo key 3 was never stored/],
    ['text GET of nothing', b('g12\n.'), /memo key 12/],
    ['BINBYTES past the end', b('\x80\x03B\x00\x00\x00\x10ab.'), /BINBYTES needs 268435456 bytes.*truncated/],
    ['BINBYTES8 past the end', b('\x80\x04\x8e\xff\xff\xff\xff\xff\xff\x00\x00.'), /BINBYTES8/],
    ['SHORT_BINUNICODE past the end', b('\x80\x04\x8c\x10ab'), /truncated/],
    ['no STOP', b('\x80\x02K\x01'), /before its STOP/],
    ['EXT2', b('\x80\x02\x83\x01\x00.'), /extension registry/],
    ['READONLY_BUFFER', b('\x80\x05\x98.'), /out-of-band/],
    ['unknown opcode', b('\x80\x02\xfe.'), /unknown opcode 0xfe/],
    ['protocol 6', b('\x80\x06N.'), /protocol 6/],
    ['odd SETITEMS', b('\x80\x02}(K\x01u.'), /odd number/],
    ['APPEND to a tuple', b('\x80\x02)K\x01a.'), /APPEND on a tuple/],
    ['FLOAT garbage', b('Fabc\n.'), /not a number/],
    ['LONG4 negative', b('\x80\x02\x8b\xff\xff\xff\xff.'), /negative/],
  ];
  for (const [name, bytes, re] of cases) {
    it(name, () => {
      expect(refused(bytes).oneLine()).toMatch(re);
    });
  }

  it('100k-deep nesting fails fast without recursion (lists, tuples, marks, dicts)', () => {
    const deep = (prefix: string, open: string, close: string, n: number) =>
      b(prefix + open.repeat(n) + close.repeat(n) + '.');
    for (const bytes of [
      deep('\x80\x02', ']', 'a', 100_000),
      b('\x80\x02)' + '\x85'.repeat(100_000) + '.'),
      deep('\x80\x02', '(', 't', 100_000),
      b('\x80\x02' + '}K\x01'.repeat(100_000) + '}' + 's'.repeat(100_000) + '.'),
    ]) {
      const t0 = performance.now();
      const e = refused(bytes);
      expect(performance.now() - t0).toBeLessThan(500);
      expect(e.message).toMatch(/nested more than 1000 deep/);
    }
  });

  it('nesting through calls counts too: OrderedDict(OrderedDict(...)) 100k deep', () => {
    const n = 100_000;
    const bytes = b('\x80\x02ccollections\nOrderedDict\nq\x00' + 'h\x00'.repeat(n) + ')' + '\x85R'.repeat(n) + '.');
    const t0 = performance.now();
    expect(refused(bytes).message).toMatch(/nested more than 1000 deep/);
    expect(performance.now() - t0).toBeLessThan(500);
  });

  it('a depth limit can be raised or lowered', () => {
    const bytes = b('\x80\x02' + ']'.repeat(50) + 'a'.repeat(49) + '.');
    expect(refused(bytes, { maxDepth: 10 }).message).toMatch(/nested more than 10/);
    expect(Array.isArray(unpickle(bytes, { findClass, maxDepth: 60 }))).toBe(true);
  });

  it('a list holding itself comes back as a cycle, not an endless loop', () => {
    const v = unpickle(b('\x80\x02]q\x00h\x00a.'), { findClass }) as unknown[];
    expect(v[0]).toBe(v);
  });

  it('stack and memo size limits', () => {
    expect(refused(b('\x80\x02' + 'N'.repeat(20) + '.'), { maxStack: 10 }).message).toMatch(/more than 10 values/);
    expect(refused(b('\x80\x04N' + '\x94'.repeat(20) + '.'), { maxMemo: 10 }).message).toMatch(/more than 10 memo/);
  });

  it('errors carry the byte offset of the bad opcode', () => {
    const e = refused(b('\x80\x02K\x01K\x02h\x09.'));
    expect(e.where).toBe('pickle byte 6');
  });
});
