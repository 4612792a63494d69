import { describe, expect, it } from 'vitest';
import { mkdtempSync, mkdirSync, readdirSync, readFileSync, writeFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { openSource, memorySourceFiles } from '../../src/io/files.js';
import { writeFileAtomic, writeFilesAtomic } from '../../src/io/atomic.js';
import { MconvError } from '../../src/errors.js';

const tmp = (): string => mkdtempSync(join(tmpdir(), 'mconv-io-'));

describe('openSource', () => {
  it('reads ranges of the main file and of siblings without reading the rest', () => {
    const d = tmp();
    const bytes = Uint8Array.from({ length: 1000 }, (_, i) => i % 251);
    writeFileSync(join(d, 'm.bin'), bytes);
    mkdirSync(join(d, 'sub'));
    writeFileSync(join(d, 'sub', 'w.data'), Uint8Array.from([9, 8, 7, 6, 5]));
    const s = openSource(join(d, 'm.bin'));
    expect(s.isDirectory).toBe(false);
    expect(s.size).toBe(1000);
    expect(Array.from(s.readRange(500, 4))).toEqual([500 % 251, 501 % 251, 502 % 251, 503 % 251]);
    expect(s.readRange(998, 10).byteLength).toBe(2); // clipped at the end of the file
    expect(s.readAll()).toEqual(bytes);
    expect(s.siblingExists('sub/w.data')).toBe(true);
    expect(s.siblingExists('nope')).toBe(false);
    expect(Array.from(s.readSiblingRange('sub/w.data', 1, 3))).toEqual([8, 7, 6]);
    expect(Array.from(s.readSibling('sub/w.data'))).toEqual([9, 8, 7, 6, 5]);
    s.close();
    // reading after close reopens the file
    expect(s.readRange(0, 2)).toEqual(Uint8Array.from([0, 1]));
    s.close();
  });

  it('reports a missing file as unreadable "file not found" and a folder as a directory', () => {
    const d = tmp();
    try {
      openSource(join(d, 'missing.onnx'));
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(MconvError);
      expect((e as MconvError).kind).toBe('unreadable');
      expect((e as MconvError).message).toBe('file not found');
    }
    const s = openSource(d);
    expect(s.isDirectory).toBe(true);
    expect(s.size).toBe(0);
    expect(() => s.readSibling('x')).toThrow(/file not found/);
  });

  it('works over memory too', () => {
    const s = memorySourceFiles(Uint8Array.from([1, 2, 3, 4]), 'mem', new Map([['a', Uint8Array.from([5, 6])]]));
    expect(Array.from(s.readRange(1, 2))).toEqual([2, 3]);
    expect(Array.from(s.readSiblingRange('a', 1, 1))).toEqual([6]);
    expect(s.siblingExists('b')).toBe(false);
  });
});

describe('atomic writes', () => {
  it('writes a file and its companions, leaving no temporary file', () => {
    const d = tmp();
    const paths = writeFilesAtomic(join(d, 'out.onnx'), Uint8Array.from([1, 2]), new Map([['out.onnx.data', Uint8Array.from([3])], ['w/x.bin', Uint8Array.from([4])]]));
    expect(paths).toEqual([join(d, 'out.onnx'), join(d, 'out.onnx.data'), join(d, 'w', 'x.bin')]);
    expect(readdirSync(d).sort()).toEqual(['out.onnx', 'out.onnx.data', 'w']);
    expect(Array.from(readFileSync(join(d, 'w', 'x.bin')))).toEqual([4]);
  });

  it('replaces an existing file only when the new one is complete', () => {
    const d = tmp();
    const f = join(d, 'a.bin');
    writeFileSync(f, 'old');
    writeFileAtomic(f, new TextEncoder().encode('new content'));
    expect(readFileSync(f, 'utf8')).toBe('new content');
    expect(readdirSync(d)).toEqual(['a.bin']);
  });

  it('fails with a usage error and leaves the folder as it was when it cannot write', () => {
    const d = tmp();
    writeFileSync(join(d, 'keep.onnx'), 'old');
    expect(() => writeFileAtomic(join(d, 'no', 'such', 'dir', 'x.onnx'), Uint8Array.from([1]))).toThrow(/cannot write: the folder does not exist/);
    // an extra that escapes the folder is refused before anything is written
    expect(() => writeFilesAtomic(join(d, 'keep.onnx'), Uint8Array.from([1]), new Map([['../escape', Uint8Array.from([1])]]))).toThrow(MconvError);
    expect(readdirSync(d)).toEqual(['keep.onnx']);
    expect(readFileSync(join(d, 'keep.onnx'), 'utf8')).toBe('old');
    if (process.getuid?.() !== 0) {
      const ro = join(d, 'ro');
      mkdirSync(ro);
      chmodSync(ro, 0o500);
      expect(() => writeFileAtomic(join(ro, 'x'), Uint8Array.from([1]))).toThrow(/permission denied/);
      expect(readdirSync(ro)).toEqual([]);
    }
  });
});
