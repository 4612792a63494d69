/**
 * Caches layout conversions of constant weights (e.g. ONNX [M, C, kh, kw] -> tfjs [kh, kw, C, M])
 * across runs, so a session that runs a model many times transposes each filter once.
 *
 * Only values that are graph constants (initializers, which the session uploads once and keeps)
 * are cached, keyed by their runtime tensor. A cached tensor is freed with its source: the
 * source's `dispose` is wrapped, stale entries (sources disposed some other way) are swept on
 * every lookup, and a FinalizationRegistry catches sources that are dropped without disposal.
 */
import type * as tfc from '@tensorflow/tfjs-core';
import type { Value } from '../../../ir/graph.js';

type T = tfc.Tensor;

interface Entry {
  source: WeakRef<T>;
  derived: Map<string, T>;
}

const bySource = new WeakMap<T, Entry>();
const live = new Set<Entry>();
const registry = new FinalizationRegistry<Entry>((e) => release(e));

function release(e: Entry): void {
  for (const t of e.derived.values()) if (!t.isDisposed) t.dispose();
  e.derived.clear();
  live.delete(e);
}

function sweep(): void {
  for (const e of live) {
    const s = e.source.deref();
    if (!s || s.isDisposed) release(e);
  }
}

/** Whether a node input is a graph constant whose runtime tensor outlives one run. */
export function isConstantInput(v: Value | null | undefined): boolean {
  return !!v?.initializer;
}

/**
 * `make(source)` for a constant source, computed once and kept while the source lives; the
 * result must not be disposed by the caller. For non-constant sources, returns undefined.
 */
export function cachedDerived(source: T, constant: boolean, key: string, make: () => T): T | undefined {
  if (!constant) return undefined;
  sweep();
  let e = bySource.get(source);
  if (!e) {
    const entry: Entry = { source: new WeakRef(source), derived: new Map() };
    e = entry;
    bySource.set(source, entry);
    live.add(entry);
    registry.register(source, entry);
    const original = source.dispose;
    // Free the derived tensors together with their source.
    source.dispose = function disposeWithDerived(this: T): void {
      release(entry);
      bySource.delete(source);
      source.dispose = original;
      original.call(this);
    };
  }
  let d = e.derived.get(key);
  if (!d || d.isDisposed) {
    d = make();
    e.derived.set(key, d);
  }
  return d;
}
