/**
 * The pickle writer against Python's own unpickler: every value kind the writer takes is pickled,
 * loaded by Debian's python3 (`pickle.loads`, after `pickletools.dis` has walked the opcodes) and
 * described back as JSON, which must match what we meant to write; our own unpickler reads the same
 * bytes back. Refusals (sets, undefined, cycles through tuples) are MconvErrors.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MconvError } from '../../../src/errors.js';
import { unpickle } from '../../../src/io/pickle/unpickler.js';
import { PyOrderedDict, isTuple, makeTuple, pyCallable } from '../../../src/io/pickle/values.js';
import { PyFloat, PyGlobalRef, PyPersistentId, PyReduce, encodeUtf8SurrogatePass, pickle } from '../../../src/io/pickle/writer.js';

const PY = '/usr/bin/python3';
const hasPython = existsSync(PY);
if (!hasPython) console.log('skipping pickle writer checks against Python: /usr/bin/python3 is absent');

const tmp = mkdtempSync(join(tmpdir(), 'mconv-pickle-w-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** Python loads the pickle and describes it; persistent ids come back as ['pid', desc]. */
const DESCRIBE = String.raw`
import collections, io, json, pickle, pickletools, struct, sys
data = open(sys.argv[1], 'rb').read()
pickletools.dis(data, out=io.StringIO())
class P(pickle.Unpickler):
    def persistent_load(self, pid):
        return ('__pid__', pid)
    def find_class(self, module, name):
        if (module, name) == ('collections', 'OrderedDict'):
            return collections.OrderedDict
        if (module, name) == ('builtins', 'complex'):
            return complex
        raise pickle.UnpicklingError(module + '.' + name)
def d(v):
    if v is None: return ['None']
    if isinstance(v, bool): return ['bool', v]
    if isinstance(v, int): return ['int', str(v)]
    if isinstance(v, float): return ['float', struct.pack('>d', v).hex()]
    if isinstance(v, complex): return ['complex', struct.pack('>d', v.real).hex(), struct.pack('>d', v.imag).hex()]
    if isinstance(v, str): return ['str', [ord(c) for c in v]]
    if isinstance(v, tuple) and len(v) == 2 and v[0] == '__pid__': return ['pid', d(v[1])]
    if isinstance(v, tuple): return ['tuple', [d(x) for x in v]]
    if isinstance(v, list): return ['list', [d(x) for x in v]]
    if isinstance(v, collections.OrderedDict): return ['odict', [[d(k), d(x)] for k, x in v.items()], {k: d(x) for k, x in vars(v).items()}]
    if isinstance(v, dict): return ['dict', [[d(k), d(x)] for k, x in v.items()]]
    raise TypeError(type(v))
print(json.dumps(d(P(io.BytesIO(data)).load())))
`;

function pyDescribe(bytes: Uint8Array, script = DESCRIBE): unknown {
  const f = join(tmp, `p${Math.random().toString(36).slice(2)}.pkl`);
  writeFileSync(f, bytes);
  return JSON.parse(execFileSync(PY, ['-c', script, f], { encoding: 'utf8', maxBuffer: 64 << 20 }));
}

function f64hex(v: number): string {
  const dv = new DataView(new ArrayBuffer(8));
  dv.setFloat64(0, v, false);
  return [...new Uint8Array(dv.buffer)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

/** The description Python should give of a JS value (mirrors DESCRIBE). */
function jsDescribe(v: unknown): unknown {
  if (v === null) return ['None'];
  if (typeof v === 'boolean') return ['bool', v];
  if (typeof v === 'bigint') return ['int', v.toString()];
  if (typeof v === 'number') return Number.isSafeInteger(v) && !Object.is(v, -0) ? ['int', String(v)] : ['float', f64hex(v)];
  if (v instanceof PyFloat) return ['float', f64hex(v.value)];
  if (typeof v === 'string') return ['str', Array.from(v, (c) => c.codePointAt(0))];
  if (v instanceof PyPersistentId) return ['pid', jsDescribe(v.id)];
  if (v instanceof PyReduce && v.callable.qualifiedName === 'builtins.complex') return ['complex', f64hex(v.args[0] as number), f64hex(v.args[1] as number)];
  if (isTuple(v)) return ['tuple', v.map(jsDescribe)];
  if (Array.isArray(v)) return ['list', v.map(jsDescribe)];
  if (v instanceof PyOrderedDict) {
    return ['odict', [...v].map(([k, x]) => [jsDescribe(k), jsDescribe(x)]), Object.fromEntries([...v.attributes].map(([k, x]) => [k, jsDescribe(x)]))];
  }
  if (v instanceof Map) return ['dict', [...v].map(([k, x]) => [jsDescribe(k), jsDescribe(x)])];
  throw new Error(`no description for ${String(v)}`);
}

const INTS = [0, 1, 255, 256, 65535, 65536, -1, -128, -129, -256, 2 ** 31 - 1, -(2 ** 31), 2 ** 31, -(2 ** 31) - 1, 2 ** 32, Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER,
  2n ** 63n, -(2n ** 63n), 2n ** 64n - 1n, -(2n ** 64n), 127n, 128n, -(2n ** 200n) + 12345n, 0x7fn, 0x80n, -0x80n, -0x81n];
const FLOATS = [0.5, -0, Infinity, -Infinity, NaN, 1e-310, 3.141592653589793, new PyFloat(1), new PyFloat(-3)];
const STRINGS = ['', 'a', 'fc1.weight', '__proto__', 'constructor', 'toString', 'héllo', '中文', '😀 emoji', 'lone \ud800 high', 'lone \udc00 low', 'nul\u0000byte', 'x'.repeat(70000)];

describe.skipIf(!hasPython)('pickle writer, read back by Python', () => {
  it('ints of every width (BININT1/BININT2/BININT/LONG1 boundaries)', () => {
    expect(pyDescribe(pickle(makeTuple([...INTS])))).toEqual(jsDescribe(makeTuple([...INTS])));
  });

  it('floats bit for bit, forced floats, None and bools', () => {
    const v = makeTuple([...FLOATS, null, true, false]);
    expect(pyDescribe(pickle(v))).toEqual(jsDescribe(v));
  });

  it('strings: unicode, astral characters, lone surrogates (surrogatepass), NUL, long', () => {
    const v = [...STRINGS, ...STRINGS]; // repeated strings come back through the memo
    expect(pyDescribe(pickle(v))).toEqual(jsDescribe(v));
  });

  it('tuples of 0 to 5 items, nested lists, dicts with awkward keys, OrderedDict with attributes', () => {
    const od = new PyOrderedDict([['b', 1], ['a', makeTuple([])], ['__proto__', [1, 2]]]);
    od.attributes.set('_metadata', new PyOrderedDict([['', new Map([['version', 1]])]]));
    const dict = new Map<unknown, unknown>([['constructor', 1], [3, 'three'], [makeTuple([1, 2]), null], ['toString', od]]);
    const v = makeTuple([makeTuple([]), makeTuple([1]), makeTuple([1, 2]), makeTuple([1, 2, 3]), makeTuple([1, 2, 3, 4]), makeTuple([1, 2, 3, 4, 5]),
      [[], [[1]], [makeTuple(['x'])]], dict, od, new Map()]);
    expect(pyDescribe(pickle(v))).toEqual(jsDescribe(v));
  });

  it('containers past one batch (1000) and shared objects (the memo)', () => {
    const big = Array.from({ length: 2500 }, (_, i) => i * 7);
    const bigDict = new Map<unknown, unknown>(Array.from({ length: 2100 }, (_, i) => [`k${i}`, i]));
    const shared = makeTuple(['shared', 1]);
    const v = [big, bigDict, shared, shared, bigDict];
    expect(pyDescribe(pickle(v))).toEqual(jsDescribe(v));
    // identity is kept: the same dict object twice
    const script = `import pickle, sys\nv = pickle.load(open(sys.argv[1], 'rb'))\nprint('true' if v[1] is v[4] and v[2] is v[3] else 'false')`;
    expect(pyDescribe(pickle(v), script)).toBe(true);
  });

  it('globals, REDUCE and persistent ids', () => {
    const v = makeTuple([new PyReduce(new PyGlobalRef('builtins', 'complex'), [1.5, -2]), new PyPersistentId(makeTuple(['storage', 'k', 3])),
      new PyReduce(new PyGlobalRef('builtins', 'complex'), makeTuple([0.25, 4]))]);
    expect(pyDescribe(pickle(v))).toEqual(jsDescribe(v));
  });

  it('a list holding itself comes back holding itself', () => {
    const l: unknown[] = [1];
    l.push(l);
    const m = new Map<unknown, unknown>();
    m.set('me', m);
    const script = `import pickle, sys\nl, m = pickle.load(open(sys.argv[1], 'rb'))\nprint('true' if l[1] is l and m['me'] is m else 'false')`;
    expect(pyDescribe(pickle([l, m]), script)).toBe(true);
  });

  it('deep nesting within the limit loads in Python', () => {
    let v: unknown = 'leaf';
    for (let i = 0; i < 200; i++) v = [v];
    expect(pyDescribe(pickle(v))).toEqual(jsDescribe(v));
  });
});

describe('pickle writer, read back by our unpickler', () => {
  it('gives back the same values', () => {
    const od = new PyOrderedDict([['w', makeTuple([1, 2n ** 70n, -5])], ['__proto__', 'x']]);
    const v = makeTuple([null, true, false, 0.5, 'héllo 😀', [1, [2]], new Map([['constructor', 3]]), od, new PyPersistentId('pid0')]);
    const got = unpickle(pickle(v), {
      findClass: (module, name) => {
        if (module === 'collections' && name === 'OrderedDict') return pyCallable('collections.OrderedDict', { call: () => new PyOrderedDict() });
        throw new Error(`${module}.${name}`);
      },
      persistentLoad: (pid) => ({ pid }),
    }) as unknown[];
    expect(isTuple(got)).toBe(true);
    expect(got.slice(0, 4)).toEqual([null, true, false, 0.5]);
    expect(got[4]).toBe('héllo 😀');
    expect(got[5]).toEqual([1, [2]]);
    expect([...(got[6] as Map<unknown, unknown>)]).toEqual([['constructor', 3]]);
    const back = got[7] as PyOrderedDict;
    expect(back).toBeInstanceOf(PyOrderedDict);
    expect([...back.keys()]).toEqual(['w', '__proto__']);
    expect([...(back.get('w') as unknown[])]).toEqual([1, 2n ** 70n, -5]);
    expect(got[8]).toEqual({ pid: 'pid0' });
  });

  it('encodes lone surrogates as Python surrogatepass does', () => {
    expect([...encodeUtf8SurrogatePass('\ud800')]).toEqual([0xed, 0xa0, 0x80]);
    expect([...encodeUtf8SurrogatePass('😀')]).toEqual([...new TextEncoder().encode('😀')]);
  });
});

describe('pickle writer refusals', () => {
  const refuses = (v: unknown, re: RegExp) => {
    let err: unknown;
    try {
      pickle(v);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(MconvError);
    expect((err as MconvError).message).toMatch(re);
  };
  it('refuses values it has no pickle form for', () => {
    refuses(new Set([1]), /set values are not supported/);
    refuses([undefined], /nothing values are not supported/);
    refuses(new Uint8Array(2), /bytes values are not supported/);
    refuses({ a: 1 }, /Object values are not supported/);
  });
  it('refuses a tuple that contains itself, and nesting past the limit', () => {
    const inner: unknown[] = [];
    const t = makeTuple([inner]);
    inner.push(t);
    refuses(t, /contains itself/);
    let v: unknown = 1;
    for (let i = 0; i < 1100; i++) v = [v];
    refuses(v, /nested more than 1000 levels/);
  });
  it('refuses global names that GLOBAL cannot carry', () => {
    refuses(new PyGlobalRef('a\nb', 'c'), /not printable ASCII/);
  });
});
