/** Shared helpers of the tests that check IR inference against the ONNX reference data. */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { subgraphsOf, type Graph } from '../../src/ir/graph.js';
import type { DType, Dim } from '../../src/ir/tensor.js';

export const ONNX_DATA = '/usr/share/libonnx-testdata/data';
export const TORCH_FIXTURES = path.resolve(fileURLToPath(new URL('.', import.meta.url)), '../../../shared/fixtures/torch');
export const PYTHON = '/usr/bin/python3';

/** Case folders (with model.onnx and test_data_set_0) of a libonnx-testdata suite. */
export function caseDirs(suite: string): string[] {
  const dir = path.join(ONNX_DATA, suite);
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .sort()
    .map((c) => path.join(dir, c))
    .filter((d) => existsSync(path.join(d, 'model.onnx')) && existsSync(path.join(d, 'test_data_set_0')));
}

export function opsOf(g: Graph, out = new Set<string>()): Set<string> {
  for (const n of g.nodes) {
    out.add(n.domain ? `${n.domain}.${n.op}` : n.op);
    for (const s of subgraphsOf(n)) opsOf(s, out);
  }
  return out;
}

export interface RefValue {
  elem: number;
  dims: (number | string | null)[] | null;
}

/** ONNX's own shape inference (python3-onnx) for each model: value name -> type. */
export function onnxInferShapes(models: string[]): Record<string, Record<string, RefValue>> | undefined {
  if (!existsSync(PYTHON) || models.length === 0) return undefined;
  try {
    const script = fileURLToPath(new URL('./onnx-infer.py', import.meta.url));
    return JSON.parse(execFileSync(PYTHON, [script, ...models], { encoding: 'utf8', maxBuffer: 1 << 28 }));
  } catch {
    return undefined;
  }
}

const ELEM: Record<number, DType> = {
  1: 'float32', 2: 'uint8', 3: 'int8', 4: 'uint16', 5: 'int16', 6: 'int32', 7: 'int64', 8: 'string', 9: 'bool',
  10: 'float16', 11: 'float64', 12: 'uint32', 13: 'uint64', 14: 'complex64', 15: 'complex128', 16: 'bfloat16',
};
export function elemDType(code: number): DType | undefined {
  return ELEM[code];
}

/**
 * How our dims relate to reference dims: 'exact' (same numbers, symbols where the reference has
 * symbols), 'less' (we have a symbol or no shape where the reference knows a number), 'wrong'
 * (a different number or rank).
 */
export function compareDims(ours: Dim[] | undefined, ref: (number | string | null)[] | null): 'exact' | 'less' | 'more' | 'wrong' {
  if (ref === null) return ours ? 'more' : 'exact';
  if (!ours) return 'less';
  if (ours.length !== ref.length) return 'wrong';
  let result: 'exact' | 'less' | 'more' = 'exact';
  for (let i = 0; i < ref.length; i++) {
    const r = ref[i];
    const o = ours[i];
    if (typeof r === 'number') {
      if (typeof o === 'number') {
        if (o !== r) return 'wrong';
      } else result = 'less';
    } else if (typeof o === 'number') {
      if (result === 'exact') result = 'more';
    }
  }
  return result;
}
