import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync, readdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { decodeTensorProto, encodeTensorProto } from '../../../src/formats/onnx/tensor-proto.js';
import { openSource } from '../../../src/io/files.js';
import { scanOnnxModel } from '../../../src/formats/onnx/reader.js';
import { tensorFromProto } from '../../../src/formats/onnx/tensor-proto.js';
import { Tensor } from '../../../src/ir/tensor.js';
import { MconvError } from '../../../src/errors.js';
import { HAVE_PYTHON_ONNX, ONNX_FIXTURES, ONNX_TESTDATA, hex, pythonJson } from './helpers.js';

interface Expected {
  dtype: string;
  shape: number[];
  hex?: string;
  strings?: string[];
}

/** What numpy says each fixture tensor holds (from the values make_dtypes.py built them from). */
function expectedDtypes(): Record<string, Expected> {
  return pythonJson(`
import json, sys
sys.path.insert(0, ${JSON.stringify(ONNX_FIXTURES)})
import make_dtypes as md
from onnx import TensorProto
out = {}
names = {1:'float32',2:'uint8',3:'int8',4:'uint16',5:'int16',6:'int32',7:'int64',8:'string',9:'bool',10:'float16',11:'float64',12:'uint32',13:'uint64',14:'complex64',15:'complex128'}
for dt, arr in md.VALUES.items():
    key = 't_' + TensorProto.DataType.Name(dt).lower()
    e = {'dtype': names[dt], 'shape': list(arr.shape)}
    if dt == TensorProto.STRING: e['strings'] = [str(s) for s in arr.flatten()]
    else: e['hex'] = arr.astype(arr.dtype.newbyteorder('<')).tobytes().hex()
    out[key] = e
out['t_bfloat16'] = {'dtype': 'bfloat16', 'shape': list(md.BF16_BITS.shape), 'hex': md.BF16_BITS.astype('<u2').tobytes().hex()}
print(json.dumps(out))
`);
}

describe.skipIf(!HAVE_PYTHON_ONNX)('TensorProto decoding of every dtype', () => {
  const expected = HAVE_PYTHON_ONNX ? expectedDtypes() : {};
  for (const variant of ['raw', 'typed']) {
    it(`decodes the ${variant} fixture tensors to the bytes numpy gives`, () => {
      const src = openSource(join(ONNX_FIXTURES, `dtypes_${variant}.onnx`));
      const mp = scanOnnxModel(src);
      const inits = mp.graph!.initializers;
      expect(inits.map((t) => t.name).sort()).toEqual(Object.keys(expected).sort());
      for (const p of inits) {
        const e = expected[p.name]!;
        const t = tensorFromProto(p, { source: src });
        expect(t.dtype, p.name).toBe(e.dtype);
        expect(t.shape, p.name).toEqual(e.shape);
        if (e.strings) expect(t.stringValues()).toEqual(e.strings);
        else expect(hex(t.bytes), p.name).toBe(e.hex);
      }
    });
  }

  it('encodes every dtype so that onnx reads the same values back', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mconv-tp-'));
    const src = openSource(join(ONNX_FIXTURES, 'dtypes_raw.onnx'));
    const names: string[] = [];
    for (const p of scanOnnxModel(src).graph!.initializers) {
      const t = tensorFromProto(p, { source: src });
      writeFileSync(join(dir, `${p.name}.pb`), encodeTensorProto(t));
      names.push(p.name);
    }
    const got = pythonJson<Record<string, { dims: number[]; type: number; hex?: string; strings?: string[] }>>(`
import json, os, sys
from onnx import TensorProto
d = sys.argv[1]; out = {}
for f in sorted(os.listdir(d)):
    t = TensorProto(); t.ParseFromString(open(os.path.join(d, f), 'rb').read())
    e = {'dims': list(t.dims), 'type': t.data_type}
    if t.data_type == 8: e['strings'] = [s.decode() for s in t.string_data]
    else: e['hex'] = t.raw_data.hex()
    out[t.name] = e
print(json.dumps(out))
`, [dir]);
    const exp = expectedDtypes();
    for (const n of names) {
      expect(got[n]!.dims).toEqual(exp[n]!.shape);
      if (exp[n]!.strings) expect(got[n]!.strings).toEqual(exp[n]!.strings);
      else expect(got[n]!.hex, n).toBe(exp[n]!.hex);
    }
  });
});

describe.skipIf(!existsSync(`${ONNX_TESTDATA}/node`) || !HAVE_PYTHON_ONNX)('ONNX backend test data tensors', () => {
  it('decodes input/output .pb files as onnx.numpy_helper does', () => {
    const cases = ['test_cast_FLOAT_to_FLOAT16', 'test_argmax_default_axis_example', 'test_and2d', 'test_cast_DOUBLE_to_FLOAT',
      'test_strnormalizer_export_monday_casesensintive_lower', 'test_gather_0', 'test_range_int32_type_negative_delta', 'test_cast_FLOAT_to_STRING'];
    const files: string[] = [];
    for (const c of cases) {
      const d = `${ONNX_TESTDATA}/node/${c}/test_data_set_0`;
      if (!existsSync(d)) continue;
      for (const f of readdirSync(d)) files.push(join(d, f));
    }
    expect(files.length).toBeGreaterThan(10);
    const exp = pythonJson<Record<string, { shape: number[]; hex?: string; strings?: string[] }>>(`
import json, sys
from onnx import TensorProto, numpy_helper
out = {}
for f in sys.argv[1:]:
    t = TensorProto(); t.ParseFromString(open(f, 'rb').read())
    a = numpy_helper.to_array(t)
    e = {'shape': list(a.shape)}
    if t.data_type == 8: e['strings'] = [s.decode() if isinstance(s, bytes) else str(s) for s in a.flatten()]
    else: e['hex'] = a.astype(a.dtype.newbyteorder('<')).tobytes().hex()
    out[f] = e
print(json.dumps(out))
`, files);
    for (const f of files) {
      const t = decodeTensorProto(new Uint8Array(readFileSync(f)));
      expect(t.shape, f).toEqual(exp[f]!.shape);
      if (t.dtype === 'string') expect(t.stringValues(), f).toEqual(exp[f]!.strings);
      else expect(hex(t.bytes), f).toBe(exp[f]!.hex);
    }
  });
});

describe('TensorProto edge cases', () => {
  it('keeps raw_data as a view of the input bytes (no copy)', () => {
    const t = Tensor.fromArray('float32', [2, 3], [1, 2, 3, 4, 5, 6], 'w');
    const bytes = encodeTensorProto(t);
    const back = decodeTensorProto(bytes);
    expect(back.name).toBe('w');
    expect(Array.from(back.toFloat64())).toEqual([1, 2, 3, 4, 5, 6]);
    expect(back.bytes.buffer).toBe(bytes.buffer);
  });

  it('refuses a raw_data length that does not match the shape', () => {
    const t = Tensor.fromArray('float32', [4], [1, 2, 3, 4]);
    const bytes = encodeTensorProto(t);
    // dims field: key 0x0a, length 1, value 4 -> patch the dim to 5
    const i = bytes.indexOf(0x0a);
    expect(bytes[i + 2]).toBe(4);
    const bad = bytes.slice();
    bad[i + 2] = 5;
    expect(() => decodeTensorProto(bad)).toThrow(/raw_data holds 16 bytes but float32\[5\] needs 20/);
  });

  it('reports truncated bytes as an unreadable MconvError', () => {
    const bytes = encodeTensorProto(Tensor.fromArray('float32', [4], [1, 2, 3, 4]));
    try {
      decodeTensorProto(bytes.subarray(0, bytes.byteLength - 3));
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(MconvError);
      expect((e as MconvError).kind).toBe('unreadable');
      expect((e as MconvError).message).toMatch(/truncated/);
    }
  });

  it('refuses float8 tensors as unsupported, naming the type', () => {
    // dims [1], data_type 17 (FLOAT8E4M3FN), raw_data 1 byte
    const bytes = Uint8Array.from([0x0a, 0x01, 0x01, 0x10, 17, 0x4a, 0x01, 0x38]);
    expect(() => decodeTensorProto(bytes)).toThrow(/FLOAT8E4M3FN/);
  });

  it('decodes non-packed repeated fields too', () => {
    // dims 2 (unpacked varint), data_type 7 (int64), int64_data -1 and 5 unpacked
    const minusOne = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01];
    const bytes = Uint8Array.from([0x08, 0x02, 0x10, 0x07, 0x38, ...minusOne, 0x38, 0x05]);
    const t = decodeTensorProto(bytes);
    expect(t.dtype).toBe('int64');
    expect(t.toArray()).toEqual([-1n, 5n]);
  });
});
