/**
 * The allow-list of Python globals a PyTorch pickle may name. Each allowed global is implemented here
 * in TypeScript as data (a storage type, a dtype) or as a `PyCallable` that rebuilds a tensor or a
 * container; every other global is refused by name before anything uses it.
 *
 * Allowed: collections.OrderedDict; torch._utils._rebuild_tensor, _rebuild_tensor_v2,
 * _rebuild_parameter, _rebuild_parameter_with_state; torch._tensor._rebuild_from_type_v2 (only around
 * an allowed rebuild, for torch.Tensor / torch.nn.Parameter); torch.<T>Storage and torch.cuda.<T>Storage
 * type names; torch.UntypedStorage; torch.Size; torch dtypes (torch.float32, ...); torch.device;
 * _codecs.encode (protocol-2 bytes). In TorchScript archives only: `__torch__.*` classes (kept as inert
 * PyObject records) and the torch.jit._pickle list builders.
 */
import { MconvError } from '../../errors.js';
import { Tensor, type DType } from '../../ir/tensor.js';
import {
  PyObject, PyOrderedDict, asInt, isCallable, isTuple, makeTuple, pyCallable, pyTypeName,
  type PyTuple,
} from '../../io/pickle/values.js';
import { TorchStorage, tensorFromView } from './storage.js';

/** A storage class named in a pickle (torch.FloatStorage ...): its element dtype. */
export class TorchStorageType {
  constructor(readonly qualifiedName: string, readonly dtype: DType) {}
}

/** A torch dtype object (torch.float32 ...). `dtype` is undefined for dtypes the IR lacks. */
export class TorchDtype {
  constructor(readonly name: string, readonly dtype: DType | undefined) {}
}

/** A type named only as a marker (torch.Tensor, torch.nn.Parameter in _rebuild_from_type_v2). */
export class TorchTypeMarker {
  constructor(readonly qualifiedName: string) {}
}

/** torch.device('cpu') and friends, kept as data. */
export class TorchDevice {
  constructor(readonly type: string, readonly index: number | null) {}
}

export const STORAGE_DTYPES: Record<string, DType> = {
  FloatStorage: 'float32',
  DoubleStorage: 'float64',
  HalfStorage: 'float16',
  BFloat16Storage: 'bfloat16',
  LongStorage: 'int64',
  IntStorage: 'int32',
  ShortStorage: 'int16',
  CharStorage: 'int8',
  ByteStorage: 'uint8',
  BoolStorage: 'bool',
};

const UNSUPPORTED_STORAGES: Record<string, string> = {
  ComplexFloatStorage: 'complex64',
  ComplexDoubleStorage: 'complex128',
  ComplexHalfStorage: 'complex32',
  QInt8Storage: 'quantized qint8',
  QUInt8Storage: 'quantized quint8',
  QInt32Storage: 'quantized qint32',
  QUInt4x2Storage: 'quantized quint4x2',
  QUInt2x4Storage: 'quantized quint2x4',
};

const TORCH_DTYPES: Record<string, DType | undefined> = {
  float32: 'float32', float: 'float32', float64: 'float64', double: 'float64',
  float16: 'float16', half: 'float16', bfloat16: 'bfloat16',
  int8: 'int8', int16: 'int16', short: 'int16', int32: 'int32', int: 'int32', int64: 'int64', long: 'int64',
  uint8: 'uint8', bool: 'bool',
  complex64: undefined, cfloat: undefined, complex128: undefined, cdouble: undefined, complex32: undefined,
  qint8: undefined, quint8: undefined, qint32: undefined, quint4x2: undefined,
  float8_e4m3fn: undefined, float8_e5m2: undefined, uint16: 'uint16', uint32: 'uint32', uint64: 'uint64',
};

/** Modules whose globals can run code or touch the system; named in refusals. */
const DANGEROUS_MODULES = /^(os|posix|nt|subprocess|sys|builtins|__builtin__|shutil|socket|pty|importlib|runpy|code|codeop|pickle|_pickle|cPickle|marshal|ctypes|webbrowser|types|functools|operator|io|pathlib|tempfile|multiprocessing|threading|asyncio|signal|platform|pdb|timeit|trace|inspect|numpy\.testing|torch\.hub|torch\.jit|torch\.package|torch\.serialization|torch\.storage)(\.|$)/;

export interface TorchPickleContext {
  /** The file, for messages. */
  file?: string;
  format?: string;
  /** Reading a TorchScript archive: `__torch__.*` classes become PyObject records instead of being refused. */
  torchScript: boolean;
  /** Tensors rebuilt as nn.Parameter. */
  parameters: WeakSet<Tensor>;
}

function refuseGlobal(ctx: TorchPickleContext, module: string, name: string): MconvError {
  const q = `${module}.${name}`;
  const looksLikeModel = module === '__main__' || module.startsWith('__torch__') ||
    /^torch\.nn\.modules(\.|$)/.test(module) ||
    (!DANGEROUS_MODULES.test(module) && /^[A-Z]/.test(name) && !module.startsWith('torch._') && !module.startsWith('numpy'));
  if (looksLikeModel) {
    return new MconvError({
      kind: 'unsupported', file: ctx.file, format: ctx.format,
      message: `refusing to load global ${q} from the pickle: the file holds a whole pickled Python object ` +
        `(saved with torch.save(model)), and unpickling it would run that class's code`,
      hint: 'save model.state_dict() with torch.save and read that instead, or give the architecture with --arch',
    });
  }
  if (/^torch\._utils\._rebuild_(qtensor|sparse|nested|meta|wrapper|device|xla|mps)/.test(q)) {
    return new MconvError({
      kind: 'unsupported', file: ctx.file, format: ctx.format,
      message: `refusing to load global ${q} from the pickle: mconv reads dense CPU tensors only (not quantized, sparse, nested or device-specific tensors)`,
      hint: 'convert the tensors to dense ones (tensor.dequantize(), .to_dense(), .cpu()) and save the state_dict again',
    });
  }
  if (module.startsWith('numpy')) {
    return new MconvError({
      kind: 'unsupported', file: ctx.file, format: ctx.format,
      message: `refusing to load global ${q} from the pickle: numpy objects in a checkpoint are not supported (a pickle can run code; mconv loads only tensors and containers)`,
      hint: 'store plain Python numbers or tensors instead of numpy values, or save only model.state_dict()',
    });
  }
  return new MconvError({
    kind: 'unsupported', file: ctx.file, format: ctx.format,
    message: `refusing to load global ${q} from the pickle: a pickle can run code; mconv loads only tensors and containers`,
    hint: 'if this is a checkpoint of your own, save only model.state_dict() with torch.save',
  });
}

function badArgs(ctx: TorchPickleContext, what: string, detail: string): MconvError {
  return new MconvError({ kind: 'unreadable', file: ctx.file, format: ctx.format, message: `${what}: ${detail}`, hint: 'the file is corrupt or was not written by torch.save' });
}

function intTuple(ctx: TorchPickleContext, what: string, v: unknown, allowNegative = false): number[] {
  if (!isTuple(v) && !Array.isArray(v)) throw badArgs(ctx, what, `expected a tuple of ints, got ${pyTypeName(v)}`);
  return v.map((x) => {
    const n = asInt(x);
    if (n === undefined || (!allowNegative && n < 0)) throw badArgs(ctx, what, `expected non-negative ints, got ${String(x)}`);
    return n;
  });
}

function rebuildTensor(ctx: TorchPickleContext, what: string, args: PyTuple, minArgs: number): Tensor {
  if (args.length < minArgs) throw badArgs(ctx, what, `expected at least ${minArgs} arguments, got ${args.length}`);
  const storage = args[0];
  if (!(storage instanceof TorchStorage)) throw badArgs(ctx, what, `first argument is a ${pyTypeName(storage)}, not a storage`);
  const offset = asInt(args[1]);
  if (offset === undefined || offset < 0) throw badArgs(ctx, what, `storage offset ${String(args[1])} is invalid`);
  const size = intTuple(ctx, `${what} size`, args[2]);
  const stride = intTuple(ctx, `${what} stride`, args[3]);
  if (args.length > 5) {
    const hooks = args[5];
    if (hooks instanceof Map && hooks.size > 0) {
      throw new MconvError({ kind: 'unsupported', file: ctx.file, format: ctx.format, message: `${what}: the tensor carries backward hooks, which mconv does not load` });
    }
  }
  return tensorFromView({ storage, offset, size, stride }, (m) => badArgs(ctx, what, m));
}

function asTensorArg(ctx: TorchPickleContext, what: string, v: unknown): Tensor {
  if (v instanceof Tensor) return v;
  throw badArgs(ctx, what, `expected a tensor, got ${pyTypeName(v)}`);
}

/** The `findClass` for torch pickles. */
export function torchFindClass(ctx: TorchPickleContext): (module: string, name: string) => unknown {
  const tensorTypes = new Set(['torch.nn.parameter.Parameter', 'torch.Tensor', 'torch._tensor.Tensor']);
  return (module, name) => {
    const q = `${module}.${name}`;
    switch (q) {
      case 'collections.OrderedDict':
        return pyCallable(q, {
          call(args) {
            const d = new PyOrderedDict();
            const init = args[0];
            if (args.length > 1) throw badArgs(ctx, q, 'too many arguments');
            if (init !== undefined && init !== null) {
              if (!Array.isArray(init)) throw badArgs(ctx, q, `cannot build from a ${pyTypeName(init)}`);
              for (const pair of init) {
                if (!Array.isArray(pair) || pair.length !== 2) throw badArgs(ctx, q, 'items must be (key, value) pairs');
                d.set(pair[0], pair[1]);
              }
            }
            return d;
          },
          construct: () => new PyOrderedDict(),
        });
      case 'torch._utils._rebuild_tensor_v2':
        return pyCallable(q, { call: (args) => rebuildTensor(ctx, q, args, 4) });
      case 'torch._utils._rebuild_tensor':
        return pyCallable(q, { call: (args) => rebuildTensor(ctx, q, args, 4) });
      case 'torch._utils._rebuild_parameter':
      case 'torch._utils._rebuild_parameter_with_state':
        return pyCallable(q, {
          call(args) {
            const t = asTensorArg(ctx, q, args[0]);
            const hooks = args[2];
            if (hooks instanceof Map && hooks.size > 0) {
              throw new MconvError({ kind: 'unsupported', file: ctx.file, format: ctx.format, message: `${q}: the parameter carries backward hooks, which mconv does not load` });
            }
            ctx.parameters.add(t);
            return t;
          },
        });
      case 'torch._tensor._rebuild_from_type_v2':
      case 'torch._tensor._rebuild_from_type':
        return pyCallable(q, {
          call(args) {
            const [func, newType, fargs] = args;
            if (!isCallable(func) || !func.call || !/^torch\._utils\._rebuild_(tensor|tensor_v2|parameter|parameter_with_state)$/.test(func.qualifiedName)) {
              throw badArgs(ctx, q, `wraps ${pyTypeName(func)}, which is not a tensor rebuild mconv allows`);
            }
            if (!(newType instanceof TorchTypeMarker) || !tensorTypes.has(newType.qualifiedName)) {
              throw new MconvError({ kind: 'unsupported', file: ctx.file, format: ctx.format, message: `refusing tensor subclass ${pyTypeName(newType)} in the pickle: mconv loads plain tensors and parameters only` });
            }
            if (!isTuple(fargs)) throw badArgs(ctx, q, 'arguments are not a tuple');
            const t = asTensorArg(ctx, q, func.call(fargs));
            if (newType.qualifiedName === 'torch.nn.parameter.Parameter') ctx.parameters.add(t);
            return t;
          },
        });
      case 'torch.Tensor':
      case 'torch._tensor.Tensor':
      case 'torch.nn.parameter.Parameter':
        return new TorchTypeMarker(q);
      case 'torch.Size':
        return pyCallable(q, {
          call(args) {
            const dims = args[0] ?? [];
            return makeTuple(intTuple(ctx, q, dims));
          },
        });
      case 'torch.device':
        return pyCallable(q, {
          call(args) {
            const spec = args[0];
            if (typeof spec !== 'string') throw badArgs(ctx, q, 'expected a device name');
            const idx = args.length > 1 ? asInt(args[1]) ?? null : null;
            return new TorchDevice(spec, idx);
          },
        });
      case '_codecs.encode':
        return pyCallable(q, {
          call(args) {
            const [text, enc] = args;
            if (typeof text !== 'string') throw badArgs(ctx, q, 'expected a str');
            const e = typeof enc === 'string' ? enc.toLowerCase().replace(/_/g, '-') : 'utf-8';
            if (e === 'latin1' || e === 'latin-1' || e === 'iso-8859-1') {
              const out = new Uint8Array(text.length);
              for (let i = 0; i < text.length; i++) {
                const c = text.charCodeAt(i);
                if (c > 0xff) throw badArgs(ctx, q, 'character outside latin-1');
                out[i] = c;
              }
              return out;
            }
            if (e === 'utf-8' || e === 'utf8') return new TextEncoder().encode(text);
            throw new MconvError({ kind: 'unsupported', file: ctx.file, format: ctx.format, message: `_codecs.encode with encoding ${String(enc)} is not supported` });
          },
        });
      case 'builtins.bytes':
      case '__builtin__.bytes':
        // protocol 2 pickles b'' as bytes(); bytes(list of ints) is data too
        return pyCallable(q, {
          call(args) {
            const v = args[0];
            if (v === undefined) return new Uint8Array(0);
            if (v instanceof Uint8Array) return v.slice();
            if (Array.isArray(v) && v.every((x) => Number.isInteger(x) && (x as number) >= 0 && (x as number) < 256)) return Uint8Array.from(v as number[]);
            throw badArgs(ctx, q, `cannot build bytes from a ${pyTypeName(v)}`);
          },
        });
      case 'torch.UntypedStorage':
      case 'torch.storage.UntypedStorage':
        return new TorchStorageType(q, 'uint8');
    }
    if (module === 'torch' || module === 'torch.cuda') {
      const dt = STORAGE_DTYPES[name];
      if (dt) return new TorchStorageType(q, dt);
      const un = UNSUPPORTED_STORAGES[name];
      if (un) {
        throw new MconvError({
          kind: 'unsupported', file: ctx.file, format: ctx.format,
          message: `the file holds ${un} tensors (${q}), which mconv does not support`,
          hint: 'convert them to real floating-point tensors before saving',
        });
      }
      if (module === 'torch' && Object.prototype.hasOwnProperty.call(TORCH_DTYPES, name)) return new TorchDtype(name, TORCH_DTYPES[name]);
    }
    if (ctx.torchScript) {
      if (module === '__torch__' || module.startsWith('__torch__.')) {
        return pyCallable(q, {
          construct: (args) => new PyObject(module, name, args),
          call: (args) => new PyObject(module, name, args),
        });
      }
      if (module === 'torch.jit._pickle') {
        switch (name) {
          case 'build_intlist':
          case 'build_doublelist':
          case 'build_boollist':
          case 'build_tensorlist':
          case 'build_genericlist':
            return pyCallable(q, {
              call(args) {
                const v = args[0];
                if (!Array.isArray(v)) throw badArgs(ctx, q, `expected a list, got ${pyTypeName(v)}`);
                return v;
              },
            });
          case 'restore_type_tag':
            return pyCallable(q, { call: (args) => args[0] });
        }
      }
    }
    throw refuseGlobal(ctx, module, name);
  };
}
