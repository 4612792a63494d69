/**
 * The torch allow-list on hand-made pickles: the rebuild functions newer torch versions use
 * (_rebuild_from_type_v2, _rebuild_parameter_with_state), data globals (torch.Size, dtypes, devices,
 * _codecs.encode), and refusals that name the global.
 */
import { describe, expect, it } from 'vitest';
import { MconvError } from '../../../src/errors.js';
import { unpickle } from '../../../src/io/pickle/unpickler.js';
import { Tensor } from '../../../src/ir/tensor.js';
import { TorchDevice, TorchDtype, torchFindClass, type TorchPickleContext } from '../../../src/formats/torch/globals.js';
import { TorchStorage } from '../../../src/formats/torch/storage.js';

const enc = (s: string) => Uint8Array.from([...s].map((c) => c.charCodeAt(0)));
const uni = (s: string) => 'X' + String.fromCharCode(s.length, 0, 0, 0) + s;
const g = (m: string, n: string) => `c${m}\n${n}\n`;

function run(body: string, opts: { torchScript?: boolean } = {}) {
  const data = new Float32Array([1, 2, 3, 4]);
  const storage = new TorchStorage('0', 'float32', 4, false, (o, l) => new Uint8Array(data.buffer, o, l));
  const ctx: TorchPickleContext = { torchScript: opts.torchScript ?? false, parameters: new WeakSet() };
  const value = unpickle(enc('\x80\x02' + body + '.'), { findClass: torchFindClass(ctx), persistentLoad: () => storage });
  return { value, ctx };
}

// _rebuild_tensor_v2(storage, 1, (3,), (1,), False, OrderedDict())
const v2Args = `(${uni('s')}QK\x01K\x03\x85K\x01\x85\x89${g('collections', 'OrderedDict')})Rt`;

describe('torch allow-list', () => {
  it('_rebuild_from_type_v2 around _rebuild_tensor_v2 for torch.Tensor and nn.Parameter', () => {
    for (const type of [g('torch', 'Tensor'), g('torch.nn.parameter', 'Parameter')]) {
      const { value, ctx } = run(`${g('torch._tensor', '_rebuild_from_type_v2')}(${g('torch._utils', '_rebuild_tensor_v2')}${type}${v2Args}}tR`);
      expect(value).toBeInstanceOf(Tensor);
      expect([...(value as Tensor).toFloat64()]).toEqual([2, 3, 4]);
      expect(ctx.parameters.has(value as Tensor)).toBe(type.includes('Parameter'));
    }
  });

  it('_rebuild_parameter_with_state marks a parameter', () => {
    const { value, ctx } = run(`${g('torch._utils', '_rebuild_parameter_with_state')}(${g('torch._utils', '_rebuild_tensor_v2')}${v2Args}R\x88${g('collections', 'OrderedDict')})R}tR`);
    expect(ctx.parameters.has(value as Tensor)).toBe(true);
  });

  it('tensor subclasses and foreign rebuild functions are refused by name', () => {
    expect(() => run(`${g('torch._tensor', '_rebuild_from_type_v2')}(${g('torch._utils', '_rebuild_tensor_v2')}${g('mylib', 'MyTensor')}${v2Args}}tR`)).toThrow(/mylib\.MyTensor/);
    expect(() => run(`${g('torch._utils', '_rebuild_qtensor')})R`)).toThrow(/dense CPU tensors only/);
    expect(() => run(`${g('torch', 'ComplexFloatStorage')}`)).toThrow(/complex64 tensors/);
  });

  it('data globals: torch.Size, dtypes, devices, _codecs.encode, bytes()', () => {
    expect(run(`${g('torch', 'Size')}(K\x02K\x03t\x85R`).value).toEqual([2, 3]);
    expect(run(g('torch', 'bfloat16')).value).toEqual(new TorchDtype('bfloat16', 'bfloat16'));
    expect(run(`${g('torch', 'device')}(${uni('cuda')}K\x01tR`).value).toEqual(new TorchDevice('cuda', 1));
    // the str is the UTF-8 bytes of 'ÿ\x01'
    expect([...(run(`${g('_codecs', 'encode')}(${uni('\xc3\xbf\x01')}${uni('latin1')}tR`).value as Uint8Array)]).toEqual([255, 1]);
    expect(run(`${g('__builtin__', 'bytes')})R`).value).toEqual(new Uint8Array(0));
  });

  it('__torch__ classes are inert records only in TorchScript archives', () => {
    const body = `${g('__torch__.my', 'Net')})\x81}${uni('training')}\x89sb`;
    const { value } = run(body, { torchScript: true });
    expect((value as { className: string }).className).toBe('__torch__.my.Net');
    let err: unknown;
    try {
      run(body);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(MconvError);
    expect((err as MconvError).oneLine()).toMatch(/__torch__\.my\.Net.*state_dict\(\)/);
  });
});
