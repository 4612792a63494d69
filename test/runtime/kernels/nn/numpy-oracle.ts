/**
 * Expected values computed by numpy (Debian's /usr/bin/python3) for nn-kernel cases that neither
 * the ONNX backend data nor onnxruntime (opset 17) cover: each case gives a numpy expression
 * over x0, x1, ... (the inputs), evaluated in one python process for the whole suite.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { Tensor, type DType } from '../../../../src/ir/tensor.js';

const PY = '/usr/bin/python3';
export const HAVE_NUMPY = existsSync(PY) && spawnSync(PY, ['-c', 'import numpy'], { encoding: 'utf8' }).status === 0;
if (!HAVE_NUMPY) console.warn('skipping numpy oracle tests: /usr/bin/python3 with numpy is absent');

export interface NumpyCase {
  inputs: (Tensor | null)[];
  /** A numpy expression over np, x0, x1, ...; a tuple for several outputs. */
  py: string;
  outs: DType[];
}

const SCRIPT = String.raw`
import json, sys
import numpy as np
NP = {'float32': np.float32, 'float64': np.float64, 'int8': np.int8, 'int16': np.int16, 'int32': np.int32,
      'int64': np.int64, 'uint8': np.uint8, 'uint16': np.uint16, 'uint32': np.uint32, 'bool': np.bool_}
res = []
for case in json.load(sys.stdin):
    env = {'np': np}
    for i, x in enumerate(case['inputs']):
        if x is None:
            env['x%d' % i] = None
        elif x['dtype'] == 'string':
            env['x%d' % i] = np.array(x['values'], dtype=object).reshape(x['shape'])
        else:
            env['x%d' % i] = np.array(x['values'], dtype=NP[x['dtype']]).reshape(x['shape'])
    y = eval(case['py'], env)
    ys = list(y) if isinstance(y, tuple) else [y]
    out = []
    for v in ys:
        a = np.asarray(v)
        vals = [str(s) for s in a.ravel()] if a.dtype == object or a.dtype.kind in 'US' else [float(s) for s in a.ravel()]
        out.append({'shape': list(a.shape), 'values': vals})
    res.append(out)
json.dump(res, sys.stdout)
`;

/** Evaluates every case's expression; returns the outputs per case as IR tensors. */
export function numpyExpected(cases: NumpyCase[]): Tensor[][] {
  const payload = cases.map((c) => ({
    py: c.py,
    inputs: c.inputs.map((t) => (t ? { dtype: t.dtype, shape: t.shape, values: t.dtype === 'string' ? t.stringValues() : Array.from(t.toFloat64()) } : null)),
  }));
  const r = spawnSync(PY, ['-c', SCRIPT], { input: JSON.stringify(payload), encoding: 'utf8', maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`numpy oracle failed: ${r.stderr}`);
  const res = JSON.parse(r.stdout) as { shape: number[]; values: (number | string)[] }[][];
  return res.map((outs, i) => outs.map((o, k) => {
    const dtype = cases[i]!.outs[k]!;
    return dtype === 'string' ? Tensor.fromStrings(o.shape, o.values as string[]) : Tensor.fromArray(dtype, o.shape, o.values as number[]);
  }));
}
