/**
 * The JavaScript shapes of Python values produced by the safe unpickler.
 *
 *   None -> null          bool -> boolean        int -> number (bigint outside the safe range ±(2^53-1))
 *   float -> number       str -> string          bytes / bytearray -> Uint8Array
 *   tuple -> PyTuple: a frozen JS array marked as a tuple (`isTuple(v)`), so `Array.isArray` holds
 *   list -> a plain (mutable) JS array
 *   dict -> Map (never a plain object: keys such as `__proto__` or `constructor` stay ordinary keys);
 *           collections.OrderedDict -> PyOrderedDict (a Map that can also carry attributes set by BUILD)
 *   set / frozenset -> Set
 *   objects made by REDUCE / NEWOBJ / BUILD of an allowed class -> whatever the allow-list returns
 *           (for TorchScript archives: PyObject records { module, name, className, args, state })
 *
 * Pickles may contain reference cycles (a list holding itself); code walking these values must
 * guard against cycles and deep nesting (as the walks in formats/torch/state-dict.ts do).
 */

const TUPLE = Symbol('py.tuple');

/** A Python tuple: a frozen array carrying a tuple marker. */
export type PyTuple = readonly unknown[] & { readonly [TUPLE]: true };

/** Makes a frozen tuple from items (the array is taken over, not copied). */
export function makeTuple(items: unknown[]): PyTuple {
  Object.defineProperty(items, TUPLE, { value: true, enumerable: false });
  return Object.freeze(items) as unknown as PyTuple;
}

export function isTuple(v: unknown): v is PyTuple {
  return Array.isArray(v) && (v as unknown as Record<symbol, unknown>)[TUPLE] === true;
}

/** A Python list (mutable array that is not a tuple). */
export function isList(v: unknown): v is unknown[] {
  return Array.isArray(v) && !isTuple(v);
}

/** An object that accepts BUILD (Python's `__setstate__` / `__dict__.update`). */
export interface PyStateful {
  setState(state: unknown): void;
}

export function isStateful(v: unknown): v is PyStateful {
  return typeof v === 'object' && v !== null && typeof (v as { setState?: unknown }).setState === 'function';
}

/** collections.OrderedDict: a Map, plus instance attributes (torch stores `_metadata` there). */
export class PyOrderedDict extends Map<unknown, unknown> implements PyStateful {
  /** Attributes set by BUILD (e.g. `_metadata` of a state_dict). Null-prototype-free: a Map. */
  readonly attributes = new Map<string, unknown>();
  setState(state: unknown): void {
    // BUILD with (dict_state, slot_state) or a plain dict state: both set attributes.
    const parts = isTuple(state) && state.length === 2 ? [state[0], state[1]] : [state];
    for (const p of parts) {
      if (p === null) continue;
      if (!(p instanceof Map)) throw new TypeError('OrderedDict state must be a dict');
      for (const [k, v] of p) {
        if (typeof k !== 'string') throw new TypeError('OrderedDict attribute names must be strings');
        this.attributes.set(k, v);
      }
    }
  }
}

/**
 * A plain data record for an object of a class we do not run (TorchScript `__torch__.*` modules):
 * its class name, the constructor arguments it was created with and the state BUILD gave it.
 */
export class PyObject implements PyStateful {
  state: unknown = undefined;
  constructor(
    readonly module: string,
    readonly name: string,
    readonly args: readonly unknown[] = [],
  ) {}
  get className(): string {
    return `${this.module}.${this.name}`;
  }
  setState(state: unknown): void {
    if (this.state instanceof Map && state instanceof Map) {
      for (const [k, v] of state) this.state.set(k, v);
    } else {
      this.state = state;
    }
  }
  /** An attribute from a dict state (undefined when absent or the state is not a dict). */
  attr(name: string): unknown {
    return this.state instanceof Map ? this.state.get(name) : undefined;
  }
}

/**
 * What `findClass` returns for a callable global. REDUCE / INST / OBJ call `call(args)`;
 * NEWOBJ / NEWOBJ_EX call `construct(args, kwargs)`. A global without the needed method cannot be used
 * that way (the unpickler refuses it with a clear message).
 */
export interface PyCallable {
  readonly __pyCallable: true;
  /** `module.name`, for messages. */
  readonly qualifiedName: string;
  call?(args: PyTuple): unknown;
  construct?(args: PyTuple, kwargs: Map<unknown, unknown>): unknown;
}

export function isCallable(v: unknown): v is PyCallable {
  return typeof v === 'object' && v !== null && (v as { __pyCallable?: unknown }).__pyCallable === true;
}

export function pyCallable(
  qualifiedName: string,
  impl: { call?(args: PyTuple): unknown; construct?(args: PyTuple, kwargs: Map<unknown, unknown>): unknown },
): PyCallable {
  return { __pyCallable: true, qualifiedName, call: impl.call, construct: impl.construct };
}

/** A short description of a Python value's type, for error messages. */
export function pyTypeName(v: unknown): string {
  if (v === null) return 'None';
  if (v === undefined) return 'nothing';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'number') return Number.isInteger(v) ? 'int' : 'float';
  if (typeof v === 'bigint') return 'int';
  if (typeof v === 'string') return 'str';
  if (v instanceof Uint8Array) return 'bytes';
  if (isTuple(v)) return 'tuple';
  if (Array.isArray(v)) return 'list';
  if (v instanceof PyOrderedDict) return 'OrderedDict';
  if (v instanceof Map) return 'dict';
  if (v instanceof Set) return 'set';
  if (v instanceof PyObject) return v.className;
  if (isCallable(v)) return v.qualifiedName;
  const ctor = (v as { constructor?: { name?: string } }).constructor;
  return typeof ctor?.name === 'string' ? ctor.name : 'object';
}

/** A Python int as a JS number when exactly representable, else undefined. */
export function asInt(v: unknown): number | undefined {
  if (typeof v === 'number' && Number.isSafeInteger(v)) return v;
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'bigint' && v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER)) return Number(v);
  return undefined;
}
