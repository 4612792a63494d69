/**
 * The zip reader: archives written by Python's zipfile (stored, deflated, zip64) and by fflate;
 * stored entries read in place; corrupt archives refused clearly.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { zipSync } from 'fflate';
import { afterAll, describe, expect, it } from 'vitest';
import { MconvError } from '../../src/errors.js';
import { memorySourceFiles } from '../../src/io/files.js';
import { ZipArchive, firstEntryName, looksLikeZip } from '../../src/io/zip.js';

const PY = '/usr/bin/python3';
const tmp = mkdtempSync(join(tmpdir(), 'mconv-zip-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const open = (b: Uint8Array) => ZipArchive.open(memorySourceFiles(b, 'a.zip'), 'a.zip');

describe('zip archives', () => {
  it('fflate archive: stored entries are views of the archive bytes, deflated ones inflate', () => {
    const big = new Uint8Array(5000).map((_, i) => i % 7);
    const bytes = zipSync({ 'p/stored.bin': [new Uint8Array([1, 2, 3, 4, 5]), { level: 0 }], 'p/deflated.bin': [big, { level: 9 }] });
    expect(looksLikeZip(bytes)).toBe(true);
    expect(firstEntryName(bytes)).toBe('p/stored.bin');
    const z = open(bytes);
    expect(z.names()).toEqual(['p/stored.bin', 'p/deflated.bin']);
    const s = z.read('p/stored.bin');
    expect([...s]).toEqual([1, 2, 3, 4, 5]);
    expect(s.buffer).toBe(bytes.buffer);
    expect([...z.readRange('p/stored.bin', 1, 2)]).toEqual([2, 3]);
    expect(z.isStored('p/deflated.bin')).toBe(false);
    expect(Buffer.from(z.read('p/deflated.bin')).equals(Buffer.from(big))).toBe(true);
    expect(() => z.readRange('p/stored.bin', 3, 5)).toThrow(/outside entry/);
  });

  it.skipIf(!existsSync(PY))('zip64 archives written by Python', () => {
    const path = join(tmp, 'z64.zip');
    execFileSync(PY, ['-c', String.raw`
import sys, zipfile
with zipfile.ZipFile(sys.argv[1], 'w') as z:
    for i in range(3):
        with z.open(f'd/{i}', 'w', force_zip64=True) as f:
            f.write(bytes([i]) * (100 + i))
`, path]);
    const z = open(new Uint8Array(readFileSync(path)));
    expect(z.names()).toEqual(['d/0', 'd/1', 'd/2']);
    expect(z.read('d/2')).toEqual(new Uint8Array(102).fill(2));
  });

  it('corrupt archives are refused with clear messages', () => {
    const bytes = zipSync({ 'a/x': [new Uint8Array(64), { level: 0 }] });
    const cut = bytes.subarray(0, bytes.length - 10);
    expect(() => open(cut)).toThrow(/no end-of-central-directory/);
    const bad = bytes.slice();
    // point the central directory past the end
    const eocd = bad.length - 22;
    new DataView(bad.buffer).setUint32(eocd + 16, bad.length, true);
    expect(() => open(bad)).toThrow(MconvError);
    expect(() => open(new Uint8Array(10))).toThrow(/shorter than/);
  });
});
