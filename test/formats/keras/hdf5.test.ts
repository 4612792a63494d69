/**
 * src/io/hdf5.ts against files h5py writes: signatures after a user block, string and JSON
 * attributes (Keras's chunked `layer_names0`, `layer_names1`), dataset dtypes and values, lazy
 * reads (nothing read before use, reopening after close), files from bytes, and clear errors for
 * truncated or non-HDF5 files.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MconvError } from '../../../src/errors.js';
import { Hdf5File, hdf5SignatureOffset, looksLikeHdf5 } from '../../../src/io/hdf5.js';
import { hasPython } from '../../helpers/cli.js';

const PY = '/usr/bin/python3';

const hasH5py = (): boolean => hasPython('h5py', 'numpy');

const WRITE = `
import h5py, json, sys, numpy as np
d = sys.argv[1]
with h5py.File(d + '/plain.h5', 'w') as f:
    f.attrs['text'] = 'héllo'
    f.attrs['json'] = json.dumps({'a': [1, 2, {'b': None}]})
    f.attrs['names'] = np.array([b'conv2d', b'dense_1', b'x'])
    f.attrs['vnames'] = ['kernel', 'bias']
    f.attrs['empty'] = np.array([])
    f.attrs['chunk0'] = np.array([b'a', b'b'])
    f.attrs['chunk1'] = np.array([b'c'])
    g = f.create_group('model_weights/dense')
    g.attrs['weight_names'] = np.array([b'dense/kernel:0', b'dense/bias:0'])
    g.create_dataset('dense/kernel:0', data=np.arange(12, dtype=np.float32).reshape(3, 4) / 7)
    g.create_dataset('dense/bias:0', data=np.array([1.5, -2.25, 3, 4], dtype=np.float32))
    t = f.create_group('types')
    t.create_dataset('f16', data=np.array([0.5, -1.25, 65504], dtype=np.float16))
    t.create_dataset('f64', data=np.array([[1e-300, 2.5]], dtype=np.float64))
    t.create_dataset('i64', data=np.array([-(2**40), 7], dtype=np.int64))
    t.create_dataset('u8', data=np.array([0, 255, 3], dtype=np.uint8))
    t.create_dataset('i16', data=np.array([-300, 300], dtype=np.int16))
    t.create_dataset('b', data=np.array([True, False, True]))
    t.create_dataset('scalar', data=np.int64(42))
    t.create_dataset('be', data=np.array([1.5, -2, 3e9], dtype='>f4'))
    t.create_dataset('chunked', data=np.arange(1000, dtype=np.float32), chunks=(100,), compression='gzip')
with h5py.File(d + '/userblock.h5', 'w', userblock_size=512) as f:
    f.attrs['keras_version'] = '2.4.0'
    f.create_dataset('w', data=np.array([1, 2, 3], dtype=np.float32))
`;

const ok = hasH5py();
if (!ok) console.warn('hdf5 tests: /usr/bin/python3 with h5py not found; skipping');

describe.skipIf(!ok)('io/hdf5 over files h5py wrote', () => {
  let dir = '';
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'mconv-hdf5-'));
    execFileSync(PY, ['-c', WRITE, dir]);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('finds the signature at 0 and after a 512-byte user block', () => {
    const plain = readFileSync(join(dir, 'plain.h5'));
    const ub = readFileSync(join(dir, 'userblock.h5'));
    expect(hdf5SignatureOffset(plain.subarray(0, 4096))).toBe(0);
    expect(hdf5SignatureOffset(ub.subarray(0, 4096))).toBe(512);
    expect(looksLikeHdf5(new TextEncoder().encode('{"format": "layers-model"}'))).toBe(false);
  });

  it('opens a file with a user block', async () => {
    const f = await Hdf5File.open(join(dir, 'userblock.h5'));
    expect(f.root.attrString('keras_version')).toBe('2.4.0');
    expect(Array.from(f.root.dataset('w')!.tensor().toFloat64())).toEqual([1, 2, 3]);
    f.close();
  });

  it('reads string, string-list, chunked-list and JSON attributes', async () => {
    const f = await Hdf5File.open(join(dir, 'plain.h5'));
    const r = f.root;
    expect(r.attrString('text')).toBe('héllo');
    expect(r.attrJson('json')).toEqual({ a: [1, 2, { b: null }] });
    expect(r.attrStrings('names')).toEqual(['conv2d', 'dense_1', 'x']);
    expect(r.attrStrings('vnames')).toEqual(['kernel', 'bias']);
    expect(r.attrStrings('empty')).toEqual([]);
    expect(r.attrStrings('chunk')).toEqual(['a', 'b', 'c']);
    expect(r.attrStrings('missing')).toBeUndefined();
    expect(r.attrString('missing')).toBeUndefined();
    f.close();
  });

  it('walks groups and reads datasets named with slashes and colons, lazily', async () => {
    const f = await Hdf5File.open(join(dir, 'plain.h5'));
    const g = f.root.group('model_weights')!.group('dense')!;
    expect(g.attrStrings('weight_names')).toEqual(['dense/kernel:0', 'dense/bias:0']);
    const k = g.dataset('dense/kernel:0')!;
    expect(k.shape).toEqual([3, 4]);
    expect(k.dtype).toBe('float32');
    const t = k.tensor('kernel');
    expect(t.isMaterialised).toBe(false);
    expect(g.dataset('nope')).toBeUndefined();
    expect(g.get('dense/nope:0')).toBeUndefined();
    // Closed in between: the lazy tensor reopens the file.
    f.close();
    expect(f.isOpen).toBe(false);
    expect(Array.from(t.toFloat64())).toEqual(Array.from({ length: 12 }, (_, i) => Math.fround(i / 7)));
    expect(Array.from(g.dataset('dense/bias:0')!.tensor().toFloat64())).toEqual([1.5, -2.25, 3, 4]);
    expect(f.root.datasets().map((d) => d.rel)).toContain('model_weights/dense/dense/kernel:0');
    f.close();
  });

  it('maps dtypes and values of float16, float64, int64, uint8, int16, bool, scalars, big-endian and compressed data', async () => {
    const f = await Hdf5File.open(join(dir, 'plain.h5'));
    const t = f.root.group('types')!;
    const read = (n: string) => t.dataset(n)!.tensor();
    expect(read('f16').dtype).toBe('float16');
    expect(Array.from(read('f16').toFloat64())).toEqual([0.5, -1.25, 65504]);
    expect(read('f64').dtype).toBe('float64');
    expect(read('f64').shape).toEqual([1, 2]);
    expect(Array.from(read('f64').toFloat64())).toEqual([1e-300, 2.5]);
    expect(read('i64').dtype).toBe('int64');
    expect(read('i64').toArray()).toEqual([-(2n ** 40n), 7n]);
    expect(read('u8').dtype).toBe('uint8');
    expect(Array.from(read('u8').toFloat64())).toEqual([0, 255, 3]);
    expect(Array.from(read('i16').toFloat64())).toEqual([-300, 300]);
    expect(read('b').dtype).toBe('bool');
    expect(Array.from(read('b').toFloat64())).toEqual([1, 0, 1]);
    expect(read('scalar').shape).toEqual([]);
    expect(read('scalar').toArray()).toEqual([42n]);
    expect(Array.from(read('be').toFloat64())).toEqual([1.5, -2, 3e9]);
    const c = read('chunked').toFloat64();
    expect(c.length).toBe(1000);
    expect(c[999]).toBe(999);
    f.close();
  });

  it('opens HDF5 bytes held in memory, and reopens them after close', async () => {
    const bytes = new Uint8Array(readFileSync(join(dir, 'plain.h5')));
    const f = await Hdf5File.fromBytes(bytes, { name: 'mem.h5' });
    const t = f.root.group('model_weights/dense')!.dataset('dense/bias:0')!.tensor();
    f.close();
    expect(Array.from(t.toFloat64())).toEqual([1.5, -2.25, 3, 4]);
    f.close();
  });

  it('refuses truncated and non-HDF5 files with one clear line', async () => {
    const bytes = readFileSync(join(dir, 'plain.h5'));
    const cut = join(dir, 'cut.h5');
    writeFileSync(cut, bytes.subarray(0, Math.floor(bytes.length / 2)));
    const e1 = await Hdf5File.open(cut).catch((e: unknown) => e);
    expect(e1).toBeInstanceOf(MconvError);
    expect((e1 as MconvError).kind).toBe('unreadable');
    expect((e1 as MconvError).oneLine()).toMatch(/truncated/);
    const junk = join(dir, 'junk.h5');
    writeFileSync(junk, 'not hdf5 at all');
    const e2 = await Hdf5File.open(junk).catch((e: unknown) => e);
    expect((e2 as MconvError).message).toMatch(/not a readable HDF5 file/);
    const e3 = await Hdf5File.open(join(dir, 'absent.h5')).catch((e: unknown) => e);
    expect((e3 as MconvError).message).toMatch(/not found|not a readable/);
  });
});
