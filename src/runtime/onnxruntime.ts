/**
 * onnxruntime-node as an independent second opinion on ONNX files (`convert --verify`, tests).
 * It is optional: `loadOnnxRuntime()` returns undefined when the package is not installed.
 */
import { Tensor, typedView } from '../ir/tensor.js';

type Ort = typeof import('onnxruntime-node');

let cached: Ort | null | undefined;

export async function loadOnnxRuntime(): Promise<Ort | undefined> {
  if (cached === undefined) {
    try {
      cached = (await import('onnxruntime-node')) as Ort;
    } catch {
      cached = null;
    }
  }
  return cached ?? undefined;
}

const ORT_TYPES: Partial<Record<Tensor['dtype'], string>> = {
  float32: 'float32', float64: 'float64', float16: 'float16', int8: 'int8', int16: 'int16', int32: 'int32', int64: 'int64',
  uint8: 'uint8', uint16: 'uint16', uint32: 'uint32', uint64: 'uint64', bool: 'bool', string: 'string',
};

/** Runs an ONNX file with onnxruntime-node (CPU) and returns its outputs as IR tensors. */
export async function runWithOnnxRuntime(path: string, feeds: Map<string, Tensor>): Promise<Map<string, Tensor>> {
  const ort = await loadOnnxRuntime();
  if (!ort) throw new Error('onnxruntime-node is not installed');
  const session = await ort.InferenceSession.create(path, { graphOptimizationLevel: 'disabled' });
  try {
    const inputs: Record<string, InstanceType<Ort['Tensor']>> = {};
    for (const [name, t] of feeds) {
      const type = ORT_TYPES[t.dtype];
      if (!type) throw new Error(`onnxruntime-node cannot take ${t.dtype} input ${name}`);
      const data = t.dtype === 'string' ? t.stringValues() : t.dtype === 'bool' ? new Uint8Array(t.bytes) : typedView(t.dtype, t.bytes.slice());
      inputs[name] = new ort.Tensor(type as 'float32', data as Float32Array, t.shape);
    }
    const res = await session.run(inputs);
    const out = new Map<string, Tensor>();
    for (const name of session.outputNames) {
      const o = res[name]!;
      const dims = o.dims.map(Number);
      const dtype = (Object.entries(ORT_TYPES).find(([, v]) => v === o.type)?.[0] ?? 'float32') as Tensor['dtype'];
      if (dtype === 'string') out.set(name, Tensor.fromStrings(dims, o.data as string[], name));
      else {
        const src = o.data as unknown as ArrayBufferView;
        out.set(name, Tensor.fromBytes(dtype, dims, new Uint8Array(src.buffer.slice(src.byteOffset, src.byteOffset + src.byteLength)), name));
      }
    }
    return out;
  } finally {
    await session.release();
  }
}
