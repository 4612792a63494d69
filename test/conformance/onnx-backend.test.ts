/**
 * The ONNX backend suite (Debian libonnx-testdata) on the default wasm backend: every case on the
 * committed list of passing cases (onnx-passing.txt, refreshed with
 * `npx tsx src/cli/conformance.ts --write-passing test/conformance/onnx-passing.txt`) must still pass.
 */
import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_TESTDATA_ROOT, runCase, listCases, type Suite } from '../../src/conformance/onnx-backend.js';

const LIST = join(import.meta.dirname, 'onnx-passing.txt');
const present = existsSync(join(DEFAULT_TESTDATA_ROOT, 'node'));
if (!present) console.warn(`skipping ONNX conformance: ${DEFAULT_TESTDATA_ROOT} is absent (apt-get install libonnx-testdata)`);

const passing = existsSync(LIST)
  ? readFileSync(LIST, 'utf8').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'))
  : [];

describe.skipIf(!present)('ONNX backend conformance (wasm)', () => {
  it('the committed list covers at least 650 node cases and all simple cases', () => {
    expect(passing.filter((p) => p.startsWith('node/')).length).toBeGreaterThanOrEqual(650);
    const simple = listCases(DEFAULT_TESTDATA_ROOT, 'simple');
    expect(simple.length).toBe(23);
    for (const s of simple) expect(passing).toContain(`simple/${s}`);
  });

  it('every case on the list still passes', async () => {
    const failures: string[] = [];
    for (const entry of passing) {
      const [suite, name] = entry.split('/') as [Suite, string];
      const r = await runCase(DEFAULT_TESTDATA_ROOT, suite, name, { backend: 'wasm' });
      if (r.status !== 'pass') failures.push(`${entry}: ${r.status} ${r.reason ?? ''}`);
    }
    expect(failures, failures.join('\n')).toEqual([]);
  }, 900_000);
});
