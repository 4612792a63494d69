import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { readNpy, readNpz, writeNpy, writeNpz } from '../../../src/formats/npy/npy.js';
import { Tensor } from '../../../src/ir/tensor.js';
import { MconvError } from '../../../src/errors.js';
import { HAVE_PYTHON_ONNX, hex, python, pythonJson } from '../onnx/helpers.js';

const tmp = (): string => mkdtempSync(join(tmpdir(), 'mconv-npy-'));

/** Arrays numpy writes: name -> python expression. */
const ARRAYS: Record<string, string> = {
  f4: "np.array([[1.5, -2.0, np.inf], [np.nan, -0.0, 3.4e38]], dtype='<f4')",
  f8: "np.array([0.1, -1e300, 5e-324], dtype='<f8')",
  f2: "np.array([1.0, 65504, 6e-8, -np.inf], dtype='<f2')",
  i1: "np.array([-128, 0, 127], dtype='i1')",
  i2: "np.array([[-32768], [32767]], dtype='<i2')",
  i4: "np.arange(-6, 6, dtype='<i4').reshape(2, 3, 2)",
  i8: "np.array([-9223372036854775808, 9223372036854775807, 9007199254740993], dtype='<i8')",
  u1: "np.array([0, 255], dtype='u1')",
  u2: "np.array([65535, 1], dtype='<u2')",
  u4: "np.array([4294967295], dtype='<u4')",
  u8: "np.array([18446744073709551615, 0], dtype='<u8')",
  b1: "np.array([[True, False], [False, True]])",
  c8: "np.array([1+2j, -3.5j], dtype='<c8')",
  big_f4: "np.array([[1.25, -7.5, 3.0]], dtype='>f4')",
  big_i8: "np.array([-2, 1 << 40], dtype='>i8')",
  big_c16: "np.array([1-2j], dtype='>c16')",
  fortran: "np.asfortranarray(np.arange(24, dtype='<f4').reshape(2, 3, 4))",
  fortran_big: "np.asfortranarray(np.arange(6, dtype='>i2').reshape(2, 3))",
  scalar: "np.array(3.25, dtype='<f8')",
  empty: "np.zeros((0, 3), dtype='<f4')",
  strings: "np.array(['a', 'héllo', ''])",
  bytes_s: "np.array([b'ab', b'c'])",
};

describe.skipIf(!HAVE_PYTHON_ONNX)('reading .npy files written by numpy', () => {
  it('reads every dtype, byte order, Fortran order, 0-d and empty arrays, and v2/v3 headers', () => {
    const d = tmp();
    const names = Object.keys(ARRAYS);
    const expected = pythonJson<Record<string, { shape: number[]; hex?: string; strings?: string[] }>>(`
import json, sys, numpy as np
from numpy.lib import format as fmt
d = sys.argv[1]
arrays = {${names.map((n) => `${JSON.stringify(n)}: ${ARRAYS[n]}`).join(', ')}}
out = {}
for name, a in arrays.items():
    np.save(f'{d}/{name}.npy', a)
    c = np.ascontiguousarray(a)
    e = {'shape': list(a.shape)}
    if a.dtype.kind in 'US': e['strings'] = [x.decode('latin1') if isinstance(x, bytes) else str(x) for x in c.flatten()]
    else: e['hex'] = c.astype(c.dtype.newbyteorder('<')).tobytes().hex()
    out[name] = e
for v in [(2, 0), (3, 0)]:
    a = arrays['i4']
    with open(f'{d}/v{v[0]}.npy', 'wb') as f:
        fmt.write_array(f, a, version=v)
    out[f'v{v[0]}'] = {'shape': list(a.shape), 'hex': a.tobytes().hex()}
print(json.dumps(out))
`, [d]);
    for (const [name, e] of Object.entries(expected)) {
      const t = readNpy(new Uint8Array(readFileSync(join(d, `${name}.npy`))), name);
      expect(t.shape, name).toEqual(e.shape);
      if (e.strings) expect(t.stringValues(), name).toEqual(e.strings);
      else expect(hex(t.bytes), name).toBe(e.hex);
    }
    expect(readNpy(new Uint8Array(readFileSync(join(d, 'f2.npy')))).dtype).toBe('float16');
    expect(readNpy(new Uint8Array(readFileSync(join(d, 'b1.npy')))).dtype).toBe('bool');
    expect(readNpy(new Uint8Array(readFileSync(join(d, 'big_i8.npy')))).toArray()).toEqual([-2n, 1n << 40n]);
  });

  it('reads .npz archives, stored and compressed', () => {
    const d = tmp();
    python(`
import sys, numpy as np
d = sys.argv[1]
np.savez(f'{d}/a.npz', x=np.arange(5, dtype=np.float32), y=np.array([[1, 2]], dtype=np.int64))
np.savez_compressed(f'{d}/b.npz', z=np.linspace(0, 1, 1000).astype(np.float64), flag=np.array(True))
`, [d]);
    const a = readNpz(new Uint8Array(readFileSync(join(d, 'a.npz'))));
    expect([...a.keys()].sort()).toEqual(['x', 'y']);
    expect(Array.from(a.get('x')!.toFloat64())).toEqual([0, 1, 2, 3, 4]);
    expect(a.get('y')!.toArray()).toEqual([1n, 2n]);
    const b = readNpz(new Uint8Array(readFileSync(join(d, 'b.npz'))));
    const z = b.get('z')!.toFloat64();
    expect(z.length).toBe(1000);
    expect(z[999]).toBe(1);
    expect(z[500]).toBeCloseTo(500 / 999, 15);
    expect(b.get('flag')!.shape).toEqual([]);
    expect(b.get('flag')!.toArray()).toEqual([1]);
  });

  it('writes .npy and .npz files numpy reads back exactly', () => {
    const d = tmp();
    const tensors: Record<string, Tensor> = {
      f32: Tensor.fromArray('float32', [2, 2], [1.5, -2, 0, 1e-30]),
      i64: Tensor.fromArray('int64', [3], [-1n, 9007199254740993n, 0n]),
      f16: Tensor.fromArray('float16', [2], [0.5, -65504]),
      bf16: Tensor.fromArray('bfloat16', [2], [3.140625, -1]),
      u8: Tensor.fromArray('uint8', [1, 1, 3], [0, 128, 255]),
      b: Tensor.fromArray('bool', [2], [true, false]),
      scalar: Tensor.fromArray('float64', [], [2.5]),
      s: Tensor.fromStrings([2], ['ab', 'héllo']),
    };
    for (const [n, t] of Object.entries(tensors)) writeFileSync(join(d, `${n}.npy`), writeNpy(t));
    writeFileSync(join(d, 'all.npz'), writeNpz(tensors));
    const got = pythonJson<Record<string, [string, number[], unknown[]]>>(`
import json, sys, numpy as np
d = sys.argv[1]
out = {}
names = ${JSON.stringify(Object.keys(tensors))}
z = np.load(f'{d}/all.npz')
for n in names:
    a = np.load(f'{d}/{n}.npy')
    assert np.array_equal(a, z[n]) and a.dtype == z[n].dtype, n
    out[n] = [a.dtype.str, list(a.shape), [str(x) if a.dtype.kind == 'U' else (int(x) if a.dtype.kind in 'iub' else float(x)) for x in a.flatten()]]
print(json.dumps(out))
`, [d]);
    expect(got).toEqual({
      f32: ['<f4', [2, 2], [1.5, -2, 0, Math.fround(1e-30)]],
      i64: ['<i8', [3], [-1, 9007199254740993, 0]],
      f16: ['<f2', [2], [0.5, -65504]],
      bf16: ['<f4', [2], [3.140625, -1]],
      u8: ['|u1', [1, 1, 3], [0, 128, 255]],
      b: ['|b1', [2], [1, 0]],
      scalar: ['<f8', [], [2.5]],
      s: ['<U5', [2], ['ab', 'héllo']],
    });
  });
});

describe('npy round trip and errors', () => {
  it('round-trips every numeric dtype bit for bit', () => {
    const cases: Tensor[] = [
      Tensor.fromArray('float32', [3], [NaN, -0, Infinity]),
      Tensor.fromArray('float64', [1, 2], [Math.PI, -1e-310]),
      Tensor.fromArray('int8', [2], [-128, 127]),
      Tensor.fromArray('int16', [2], [-32768, 32767]),
      Tensor.fromArray('int32', [2], [-(2 ** 31), 2 ** 31 - 1]),
      Tensor.fromArray('uint16', [1], [65535]),
      Tensor.fromArray('uint32', [1], [2 ** 32 - 1]),
      Tensor.fromArray('uint64', [1], [2n ** 64n - 1n]),
      Tensor.fromBytes('complex64', [1], new Uint8Array(new Float32Array([1, -2]).buffer)),
      Tensor.fromArray('float32', [0, 4], []),
    ];
    for (const t of cases) {
      const back = readNpy(writeNpy(t));
      expect(back.dtype).toBe(t.dtype);
      expect(back.shape).toEqual(t.shape);
      expect(hex(back.bytes)).toBe(hex(t.bytes));
    }
    const z = readNpz(writeNpz(new Map([['a/b', cases[0]!], ['c', cases[1]!]])));
    expect([...z.keys()]).toEqual(['a/b', 'c']);
  });

  it('gives clear errors for object arrays, bad magic and truncated data', () => {
    const header = (dict: string): Uint8Array => {
      const body = new TextEncoder().encode(dict.padEnd(117, ' ') + '\n');
      const out = new Uint8Array(10 + body.length + 8);
      out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, body.length & 0xff, body.length >> 8]);
      out.set(body, 10);
      return out;
    };
    const expectErr = (f: () => unknown, kind: string, re: RegExp): void => {
      try {
        f();
        expect.unreachable();
      } catch (e) {
        expect(e).toBeInstanceOf(MconvError);
        expect((e as MconvError).kind).toBe(kind);
        expect((e as MconvError).message).toMatch(re);
      }
    };
    expectErr(() => readNpy(header("{'descr': '|O', 'fortran_order': False, 'shape': (2,), }")), 'unsupported', /object arrays/);
    expectErr(() => readNpy(header("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2,), }")), 'unsupported', /structured/);
    expectErr(() => readNpy(header("{'descr': '<f4', 'fortran_order': False, 'shape': (20,), }")), 'unreadable', /truncated data/);
    expectErr(() => readNpy(header("{'descr': '<M8', 'fortran_order': False, 'shape': (1,), }")), 'unsupported', /numpy dtype <M8/);
    expectErr(() => readNpy(new TextEncoder().encode('not numpy at all')), 'unreadable', /not a \.npy file/);
    expectErr(() => readNpz(new TextEncoder().encode('PK garbage')), 'unreadable', /not a readable \.npz/);
  });
});
