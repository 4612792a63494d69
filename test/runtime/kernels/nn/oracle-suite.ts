/** vitest suites over oracle specs (kept apart from ort-oracle.ts so that stays importable from scripts). */
import { beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '../../../../src/runtime/backends.js';
import { HAVE_ORT, compareAll, describeReport, expectedFromOrt, feedsOf, runKernel, specGraph, type Spec } from './ort-oracle.js';

/** One suite per backend: each spec's kernel output against onnxruntime-node's. */
export function defineOracleSuite(title: string, specs: Spec[]): void {
  for (const backend of ['wasm', 'cpu']) {
    describe.skipIf(!HAVE_ORT)(`${title} vs onnxruntime [${backend}]`, () => {
      beforeAll(async () => { await useBackend(backend); });
      for (const spec of specs) {
        it(spec.name, async () => {
          const expected = await expectedFromOrt(specGraph(spec), feedsOf(spec));
          const got = await runKernel(spec, backend);
          for (const r of compareAll(got, expected, spec.atol ?? 1e-5, spec.rtol ?? 1e-4)) {
            expect(r.ok, `${spec.name} ${r.name}: ${describeReport(r)}`).toBe(true);
          }
        });
      }
    });
  }
}
