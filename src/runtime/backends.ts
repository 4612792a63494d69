/**
 * tfjs backends: wasm (default), cpu, webgpu (Dawn via the `webgpu` package) and
 * tensorflow (tfjs-node, an optional dependency used when it is installed).
 */
import * as tf from '@tensorflow/tfjs-core';
import { MconvError } from '../errors.js';

import { BACKENDS, BackendName, DEFAULT_BACKEND } from './backend-names.js';

export { BACKENDS, DEFAULT_BACKEND };
export type { BackendName };

const loaded = new Set<string>();

async function importOptional(spec: string): Promise<Record<string, unknown> | undefined> {
  try {
    return (await import(spec)) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

async function register(name: BackendName): Promise<void> {
  if (loaded.has(name)) return;
  switch (name) {
    case 'cpu':
      await import('@tensorflow/tfjs-backend-cpu');
      break;
    case 'wasm':
      await import('@tensorflow/tfjs-backend-cpu');
      await import('@tensorflow/tfjs-backend-wasm');
      break;
    case 'webgpu': {
      const gpuPkg = await importOptional('webgpu');
      if (!gpuPkg) {
        throw new MconvError({ kind: 'usage', message: "backend 'webgpu' needs the optional package `webgpu` (Dawn bindings)", hint: 'install it with `npm install webgpu`, or use --backend wasm' });
      }
      const g = globalThis as unknown as { navigator?: { gpu?: unknown } };
      if (!g.navigator?.gpu) {
        Object.assign(globalThis, gpuPkg.globals as object);
        const create = gpuPkg.create as (flags: string[]) => unknown;
        const nav = { gpu: create([]) };
        try {
          Object.defineProperty(globalThis, 'navigator', { value: nav, configurable: true, writable: true });
        } catch {
          (g as { navigator: unknown }).navigator = nav;
        }
      }
      // Ask for an adapter before tfjs does, so a machine without a usable GPU gets one clear line.
      const gpu = (globalThis as unknown as { navigator: { gpu: { requestAdapter(): Promise<unknown> } } }).navigator.gpu;
      const adapter = await gpu.requestAdapter().catch(() => null);
      if (!adapter) {
        throw new MconvError({ kind: 'usage', message: "backend 'webgpu' found no GPU adapter on this machine", hint: 'WebGPU needs a GPU with Vulkan drivers; use --backend wasm or cpu' });
      }
      await import('@tensorflow/tfjs-backend-cpu');
      await import('@tensorflow/tfjs-backend-webgpu');
      break;
    }
    case 'tensorflow': {
      const node = await importOptional('@tensorflow/tfjs-node');
      if (!node) {
        throw new MconvError({ kind: 'usage', message: "backend 'tensorflow' needs the optional package @tensorflow/tfjs-node, which is not installed (its install downloads libtensorflow)", hint: 'install @tensorflow/tfjs-node where the internet is reachable, or use --backend wasm' });
      }
      break;
    }
  }
  loaded.add(name);
}

/** Makes `name` the active tfjs backend (loading it on first use). */
export async function useBackend(name: string = DEFAULT_BACKEND): Promise<BackendName> {
  if (!(BACKENDS as readonly string[]).includes(name)) {
    throw new MconvError({ kind: 'usage', message: `unknown backend '${name}'`, hint: `choose one of: ${BACKENDS.join(', ')}` });
  }
  const b = name as BackendName;
  await register(b);
  if (tf.getBackend() !== b || !tf.engine().backendNames().includes(b)) {
    let ok = false;
    try {
      ok = await tf.setBackend(b);
    } catch {
      ok = false;
    }
    if (!ok) {
      throw new MconvError({
        kind: 'usage',
        message: `backend '${b}' failed to initialise on this machine`,
        hint: b === 'webgpu' ? 'WebGPU needs a GPU with Vulkan drivers; use --backend wasm or cpu' : 'use --backend wasm or cpu',
      });
    }
  }
  await tf.ready();
  return b;
}

/** Which backends can be loaded here (without switching to them). */
export async function availableBackends(): Promise<BackendName[]> {
  const out: BackendName[] = ['wasm', 'cpu'];
  if (await importOptional('webgpu')) out.push('webgpu');
  if (await importOptional('@tensorflow/tfjs-node')) out.push('tensorflow');
  return out;
}

export { tf };
